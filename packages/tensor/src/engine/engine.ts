// The compute engine: which implementation runs the float64 kernels (a system BLAS/LAPACK through
// an FFI, or basis' own WebAssembly kernels) and with how many threads. Chosen once, lazily, at
// the first kernel call: `BASIS_BLAS` (unset/auto, `off`, or a library path) and `BASIS_THREADS`
// are read then; `configureEngine` changes the choice at run time.
import { BasisError } from '../errors.js';
import { setAdvisorResolver } from '../memory.js';
import { loadNative, type NativeFlavour, type NativeLib } from './native.js';

/** How the engine was asked to choose: `auto`, `off` (WebAssembly) or a library path. */
export type BlasRequest = 'auto' | 'off' | (string & {});

/** The engine in use; recorded in every result's provenance. */
export interface EngineInfo {
  /** `native` (system BLAS/LAPACK through koffi) or `wasm` (basis' WebAssembly kernels). */
  provider: 'native' | 'wasm';
  /** What was requested (`BASIS_BLAS` or {@link configureEngine}). */
  requested: BlasRequest;
  /** Library file (native only). */
  library?: string;
  /** Separate LAPACK library when it is not the BLAS file (native only). */
  lapackLibrary?: string;
  /** openblas, mkl, blis, accelerate or generic (native only). */
  flavour?: NativeFlavour;
  /** OpenBLAS core type (`openblas_get_corename`), or the library kind (native only). */
  coreType?: string;
  /** 64-bit integer (ILP64) interface (native only). */
  int64?: boolean;
  /**
   * Large buffers (4 MiB and more) are advised to use transparent huge pages through libc's
   * madvise, as numpy does (native on Linux only; set `BASIS_HUGEPAGES=off` to stop it).
   */
  hugePages?: boolean;
  /** Threads the provider computes with (WebAssembly: 1). 0 = the library does not say. */
  threads: number;
  /** Why the native provider is not in use (wasm only). */
  reason?: string;
  /** Libraries tried and why each was refused (wasm under `auto` or a path only). */
  tried?: string[];
}

interface State {
  requested: BlasRequest;
  lib: NativeLib | null;
  reason?: string;
  tried?: string[];
  /** The provider's threads as this thread configured them (WebAssembly: 1). */
  threads: number;
  /** Thread budget: BASIS_THREADS / configureEngine's threads, or every core. */
  budget: number;
}

/** Open {@link limitThreads} holds (their thread counts). */
const holds: number[] = [];

let state: State | undefined;
// Large Matrix buffers ask the engine (lazily, at the first one) for its huge-page advisor.
setAdvisorResolver(() => advisorOf(current()));

function env(name: string): string | undefined {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const v = p?.env?.[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** Cores available to this process (1 in a browser without the information). */
export function availableCores(): number {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    const os = p?.getBuiltinModule?.('os') as { availableParallelism?: () => number; cpus(): unknown[] } | undefined;
    if (os !== undefined) return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  } catch {
    /* fall through */
  }
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return Math.max(1, nav?.hardwareConcurrency ?? 1);
}

/** Parses a thread count (`BASIS_THREADS`, `--threads`): a positive integer or `all`. */
export function parseThreads(value: string | number, source = 'threads'): number {
  if (value === 'all' || value === 'auto') return availableCores();
  const n = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new BasisError('INVALID_ARGUMENT', `${source} must be a positive integer (or 'all'), got '${String(value)}'`);
  }
  return n;
}

function init(requested: BlasRequest, threads: number | undefined): State {
  const budget = threads ?? availableCores();
  if (requested === 'off') return { requested, lib: null, reason: 'BASIS_BLAS=off', threads: 1, budget };
  const r = loadNative(requested);
  if (!r.ok) return { requested, lib: null, reason: r.reason, tried: r.tried, threads: 1, budget };
  r.lib.setThreads(budget);
  const got = r.lib.getThreads();
  return { requested, lib: r.lib, threads: got > 0 ? got : budget, budget };
}

function envThreads(): number | undefined {
  const t = env('BASIS_THREADS');
  return t === undefined ? undefined : parseThreads(t, 'BASIS_THREADS');
}

/** The huge-page advisor of the engine in use (null on WebAssembly or with BASIS_HUGEPAGES=off). */
function advisorOf(s: State): ((buf: Float64Array) => void) | null {
  if (s.lib === null || s.lib.advise === null) return null;
  return env('BASIS_HUGEPAGES') === 'off' ? null : s.lib.advise;
}

function current(): State {
  state ??= init(env('BASIS_BLAS') ?? 'auto', envThreads());
  return state;
}

/** The native library when it is in use (internal: kernels dispatch on it). */
export function nativeLib(): NativeLib | null {
  return current().lib;
}

/**
 * Chooses the engine and/or its threads at run time (the CLI's `--threads`, worker pools, tests).
 * `blas`: `'auto'` (find a system BLAS/LAPACK), `'off'` (WebAssembly) or a library path;
 * `threads`: the provider's thread count, also the budget worker pools share ({@link threadBudget}).
 * A library that cannot be loaded is not an error: the
 * engine falls back to WebAssembly and {@link engineInfo} says why.
 *
 * @example
 * ```ts
 * import { configureEngine, engineInfo } from '@basis/tensor';
 * configureEngine({ threads: 1 });      // one BLAS thread (e.g. inside a worker pool)
 * configureEngine({ blas: 'off' });     // force the WebAssembly kernels
 * engineInfo().provider;                // 'wasm'
 * ```
 */
export function configureEngine(opts: { blas?: BlasRequest; threads?: number | 'all' }): EngineInfo {
  const threads = opts.threads === undefined ? undefined : parseThreads(opts.threads);
  if (opts.blas !== undefined && (state === undefined || opts.blas !== state.requested)) {
    state = init(opts.blas, threads ?? state?.budget ?? envThreads());
    setAdvisorResolver(() => advisorOf(current()));
    if (holds.length > 0) applyHolds();
  } else if (threads !== undefined) {
    const s = current();
    s.budget = threads;
    if (s.lib !== null) {
      s.lib.setThreads(threads);
      const got = s.lib.getThreads();
      s.threads = got > 0 ? got : threads;
      if (holds.length > 0) applyHolds();
    }
  }
  return engineInfo();
}

/**
 * The engine in use: provider (`native` or `wasm`), library, core type, threads; for `wasm`
 * the reason the native provider is not used. Results of basis record this as provenance.
 *
 * @example
 * ```ts
 * import { engineInfo } from '@basis/tensor';
 * const e = engineInfo();
 * console.log(e.provider, e.library, e.coreType, e.threads); // native /usr/lib/.../libopenblas.so.0 Haswell 2
 * ```
 */
export function engineInfo(): EngineInfo {
  const s = current();
  if (s.lib === null) {
    return { provider: 'wasm', requested: s.requested, threads: 1, ...(s.reason !== undefined ? { reason: s.reason } : {}), ...(s.tried && s.tried.length > 0 ? { tried: s.tried } : {}) };
  }
  const l = s.lib;
  // the library's count is process-wide (shared by worker threads): report what it is now
  const live = l.getThreads();
  return {
    provider: 'native',
    requested: s.requested,
    library: l.path,
    ...(l.lapackPath !== l.path ? { lapackLibrary: l.lapackPath } : {}),
    flavour: l.flavour,
    coreType: l.coreType,
    int64: l.int64,
    hugePages: advisorOf(s) !== null,
    threads: live > 0 ? live : s.threads,
  };
}

/**
 * The thread budget: `BASIS_THREADS` (or the CLI's `--threads`, or {@link configureEngine}'s
 * `threads`), by default every core. A single job gives it all to the provider; worker pools size
 * themselves by it and give each worker its share ({@link workerEngine}). Also defined when the
 * provider is WebAssembly (which computes on one thread).
 *
 * @example
 * ```ts
 * import { threadBudget } from '@basis/tensor';
 * const workers = Math.min(threadBudget(), jobs.length);
 * ```
 */
export function threadBudget(): number {
  return current().budget;
}

/** Engine settings for the worker threads of a pool ({@link workerEngine}). */
export interface WorkerEngineSettings {
  /** The provider request of the calling thread, so that workers compute on the same provider. */
  blas: BlasRequest;
  /** Provider threads per worker: `max(1, floor(budget / workers))`. */
  threads: number;
}

/**
 * The engine settings each worker of a pool of `workers` threads applies at start
 * (`configureEngine(settings)`, before any kernel runs): the calling thread's provider and an equal
 * share of the thread budget, so that the workers together never use more threads than the budget
 * (a 1-worker pool gets all of it).
 *
 * @example
 * ```ts
 * import { configureEngine, workerEngine } from '@basis/tensor';
 * const settings = workerEngine(2);      // { blas: 'auto', threads: 1 } on 2 cores
 * // in each worker, first thing: configureEngine(settings);
 * ```
 */
export function workerEngine(workers: number): WorkerEngineSettings {
  if (!Number.isInteger(workers) || workers < 1) throw new BasisError('INVALID_ARGUMENT', `workers must be a positive integer, got ${String(workers)}`);
  const s = current();
  return { blas: s.requested, threads: Math.max(1, Math.floor(s.budget / workers)) };
}

function applyHolds(): void {
  const s = current();
  if (s.lib === null) return;
  s.lib.setThreads(holds.length > 0 ? Math.min(...holds) : s.threads);
}

/**
 * Caps the provider's thread count at `threads` until the returned function is called. The
 * native libraries keep ONE thread count per process, shared by every worker thread (OpenBLAS'
 * `openblas_set_num_threads` from a worker changes it for the main thread too), so a pool holds
 * the count at its per-worker share while its jobs run; when the last hold is released, this
 * thread's configured count is restored. Holds nest (the smallest applies). A no-op on WebAssembly.
 *
 * @example
 * ```ts
 * import { limitThreads, workerEngine } from '@basis/tensor';
 * const release = limitThreads(workerEngine(2).threads);
 * try {
 *   await runJobsOnWorkers();
 * } finally {
 *   release();
 * }
 * ```
 */
export function limitThreads(threads: number): () => void {
  const n = parseThreads(threads);
  holds.push(n);
  applyHolds();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holds.splice(holds.indexOf(n), 1);
    applyHolds();
  };
}

/** A one-line summary of {@link engineInfo} (`native OpenBLAS (Haswell, 2 threads)`, `wasm (BASIS_BLAS=off)`). */
export function engineSummary(e: EngineInfo = engineInfo()): string {
  if (e.provider === 'wasm') return `wasm (${e.reason ?? 'WebAssembly kernels'})`;
  return `native ${e.flavour ?? ''} ${e.library ?? ''} (${e.coreType ?? '?'}, ${e.threads > 0 ? `${e.threads} thread${e.threads === 1 ? '' : 's'}` : 'threads unknown'})`.replace(/\s+/g, ' ');
}
