// What every worker-thread pool of basis shares (zoo's TrainPool, align's parallel audit): the
// worker script in built and source mode, starting the threads, copying arrays into shared memory
// once, watching a thread for a crash or an early exit, and carrying a BasisError across the
// thread boundary with its code and details. The pools keep their own scheduling: training jobs
// one at a time per worker with progress and cooperative abort, audit cells in two phases with
// a broadcast of per-layer work. (piscina and tinypool schedule tasks to anonymous workers; they
// can neither broadcast to every worker nor report each worker's backend at start-up, and their
// abort terminates the thread, which would lose a training run's abort checkpoint.)
import { Worker } from 'node:worker_threads';
import { BasisError, isBasisError, type BasisErrorCode } from './errors.js';

/** Where a worker's code is: the built `.js` file, or in source mode its `-source.mjs` shim (which registers tsx). */
export interface WorkerScript {
  url: URL;
  execArgv: string[] | undefined;
}

/**
 * The worker script `name` beside the module at `moduleUrl` (pass `import.meta.url`): `name.js`
 * when the module runs built, `name-source.mjs` with the `@basis/source` condition when it runs
 * from TypeScript (tests, benchmarks: Node 20 workers ignore `--import`, so the shim registers tsx).
 *
 * @example
 * ```ts
 * const script = workerScript(import.meta.url, 'audit-worker'); // dist/audit-worker.js when built
 * ```
 */
export function workerScript(moduleUrl: string, name: string): WorkerScript {
  if (/\.[cm]?ts$/.test(new URL(moduleUrl).pathname)) {
    return { url: new URL(`./${name}-source.mjs`, moduleUrl), execArgv: ['--conditions=@basis/source'] };
  }
  return { url: new URL(`./${name}.js`, moduleUrl), execArgv: undefined };
}

/**
 * Starts `count` worker threads running `script`.
 *
 * @example
 * ```ts
 * const [w] = startWorkers(workerScript(import.meta.url, 'train-worker'), 1);
 * ```
 */
export function startWorkers(script: WorkerScript, count: number): Worker[] {
  if (!Number.isSafeInteger(count) || count < 1) throw new BasisError('INVALID_ARGUMENT', `a worker pool needs a positive integer number of workers, got ${String(count)}`);
  return Array.from({ length: count }, () => new Worker(script.url, script.execArgv === undefined ? {} : { execArgv: script.execArgv }));
}

/** A typed array of one of the kinds the pools share. */
export type ShareableArray = Float64Array | Float32Array | Int32Array;

/**
 * `a` in shared memory: `a` itself when it already lives in a SharedArrayBuffer, else a copy
 * there, so that every worker reads the same bytes in place.
 *
 * @example
 * ```ts
 * const x = toShared(new Float64Array([1, 2])); // x.buffer instanceof SharedArrayBuffer
 * ```
 */
export function toShared<T extends ShareableArray>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const Ctor = a.constructor as new (b: SharedArrayBuffer) => T;
  const out = new Ctor(new SharedArrayBuffer(a.byteLength));
  out.set(a);
  return out;
}

/** An error as a worker sends it to its parent: the BasisError code and details when it is one. */
export interface WireError {
  code: string | undefined;
  message: string;
  details: Record<string, unknown> | undefined;
}

/**
 * The message fields of error `e` for the parent (see {@link fromWireError}).
 *
 * @example
 * ```ts
 * port.postMessage({ type: 'error', id, ...toWireError(e) });
 * ```
 */
export function toWireError(e: unknown): WireError {
  const basis = isBasisError(e);
  return {
    code: basis ? e.code : undefined,
    message: e instanceof Error ? e.message : String(e),
    details: basis ? (e.details as Record<string, unknown> | undefined) : undefined,
  };
}

/**
 * The error a worker reported, rebuilt on the parent: the same BasisError code, message and
 * details, or a plain `Error('<what> failed: <message>')` when it was not a BasisError.
 *
 * @example
 * ```ts
 * reject(fromWireError(msg, 'audit worker'));
 * ```
 */
export function fromWireError(w: WireError, what: string): Error {
  return w.code === undefined ? new Error(`${what} failed: ${w.message}`) : new BasisError(w.code as BasisErrorCode, w.message, w.details === undefined ? undefined : { details: w.details });
}

/**
 * Calls `fail` with a `BACKEND_UNAVAILABLE` error when thread `w` throws (`<what> thread failed:
 * ...`) or exits while `expected()` is false (`<what> thread exited early (code N)`).
 *
 * @example
 * ```ts
 * watchWorker(w, 'an audit worker', () => settled, stop);
 * ```
 */
export function watchWorker(w: Worker, what: string, expected: () => boolean, fail: (e: BasisError) => void): void {
  w.on('error', (e) => fail(new BasisError('BACKEND_UNAVAILABLE', `${what} thread failed: ${e.message}`, { cause: e })));
  w.on('exit', (code) => {
    if (!expected()) fail(new BasisError('BACKEND_UNAVAILABLE', `${what} thread exited early (code ${code})`));
  });
}
