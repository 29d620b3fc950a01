// Cooperative yielding for long computations on the main thread. Awaiting a promise that is
// already resolved runs as a microtask, so a loop of `await tensor.data()` (tfjs's wasm and cpu
// backends resolve at once) never lets the event loop turn: timers, I/O callbacks and signal
// handlers (SIGINT/SIGTERM listeners run from the event loop) wait until the whole loop ends.
// `createYielder` gives such loops a cheap check that yields a macrotask turn every few
// milliseconds of work.
import { BasisError } from './errors.js';

type Immediate = (cb: () => void) => unknown;

const schedule: Immediate =
  typeof (globalThis as { setImmediate?: Immediate }).setImmediate === 'function'
    ? (globalThis as unknown as { setImmediate: Immediate }).setImmediate
    : (cb) => setTimeout(cb, 0);

/**
 * Resolves after one turn of the event loop (Node's `setImmediate`, `setTimeout(0)` elsewhere), so
 * pending timers, I/O callbacks and signal listeners run first.
 *
 * @example
 * ```ts
 * for (const batch of batches) {
 *   step(batch);
 *   await yieldToEventLoop(); // a Ctrl-C / SIGTERM listener can run here
 * }
 * ```
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    schedule(resolve);
  });
}

/**
 * A yield check for a long loop: the returned function resolves at once (a microtask) unless
 * `everyMs` milliseconds have passed since the last yield, and then yields one event-loop turn
 * ({@link yieldToEventLoop}). Call it once per iteration; the cost of a check is one
 * `performance.now()`.
 *
 * @example
 * ```ts
 * const maybeYield = createYielder(50);
 * for (let step = 0; step < steps; step++) {
 *   trainStep();
 *   await maybeYield(); // at most ~50 ms between event-loop turns
 *   if (signal.aborted) break;
 * }
 * ```
 */
export function createYielder(everyMs = 50): () => Promise<void> {
  if (!(Number.isFinite(everyMs) && everyMs >= 0)) throw new BasisError('INVALID_ARGUMENT', `createYielder: everyMs must be a finite number >= 0, got ${String(everyMs)}`);
  let last = performance.now();
  return async () => {
    const now = performance.now();
    if (now - last < everyMs) return;
    await yieldToEventLoop();
    last = performance.now();
  };
}
