// Cooperative yielding: a loop of already-resolved awaits starves timers (and signal listeners);
// with createYielder they run within the interval.
import { describe, expect, it } from 'vitest';
import { isBasisError } from './errors.js';
import { createYielder, yieldToEventLoop } from './yield.js';

/** Busy-waits `ms` milliseconds (a synchronous piece of work). */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // work
  }
}

/** Runs `steps` steps of 5 ms of synchronous work with `after` awaited between them; returns the step at which a 0 ms timer fired (steps when it never did). */
async function timerStep(steps: number, after: () => Promise<void>): Promise<number> {
  let firedAt = -1;
  let step = 0;
  const t = setTimeout(() => (firedAt = step), 0);
  for (; step < steps; step++) {
    spin(5);
    await after();
  }
  clearTimeout(t);
  return firedAt < 0 ? steps : firedAt;
}

describe('yielding to the event loop', () => {
  it('microtask awaits never let a timer run; createYielder lets it run within its interval', async () => {
    expect(await timerStep(40, () => Promise.resolve())).toBe(40);
    // every 20 ms: the timer runs after ~4 steps of 5 ms, long before the 40 steps end
    expect(await timerStep(40, createYielder(20))).toBeLessThan(12);
    expect(await timerStep(5, yieldToEventLoop)).toBeLessThanOrEqual(1);
  });

  it('does not yield before its interval has passed, and rejects a bad interval', async () => {
    expect(await timerStep(3, createYielder(10_000))).toBe(3);
    for (const bad of [-1, NaN, Infinity]) {
      let code: string | undefined;
      try {
        createYielder(bad);
      } catch (e) {
        code = isBasisError(e) ? e.code : 'other';
      }
      expect(code).toBe('INVALID_ARGUMENT');
    }
  });
});
