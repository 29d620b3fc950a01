// The compute engine: which implementation runs the float64 kernels (a system BLAS/LAPACK through
// an FFI, or basis' own WebAssembly kernels) and with how many threads. Chosen once, lazily, at
// the first kernel call: `BASIS_BLAS` (unset/auto, `off`, or a library path) and `BASIS_THREADS`
// are read then; `configureEngine` changes the choice at run time.
import { BasisError } from '../errors.js';
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
  threads: number;
}

let state: State | undefined;

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
  if (requested === 'off') return { requested, lib: null, reason: 'BASIS_BLAS=off', threads: 1 };
  const r = loadNative(requested);
  if (!r.ok) return { requested, lib: null, reason: r.reason, tried: r.tried, threads: 1 };
  const want = threads ?? availableCores();
  r.lib.setThreads(want);
  const got = r.lib.getThreads();
  return { requested, lib: r.lib, threads: got > 0 ? got : want };
}

function current(): State {
  if (state === undefined) {
    const req = env('BASIS_BLAS') ?? 'auto';
    const t = env('BASIS_THREADS');
    state = init(req === 'auto' || req === 'off' ? req : req, t === undefined ? undefined : parseThreads(t, 'BASIS_THREADS'));
  }
  return state;
}

/** The native library when it is in use (internal: kernels dispatch on it). */
export function nativeLib(): NativeLib | null {
  return current().lib;
}

/**
 * Chooses the engine and/or its threads at run time (the CLI's `--threads`, worker pools, tests).
 * `blas`: `'auto'` (find a system BLAS/LAPACK), `'off'` (WebAssembly) or a library path;
 * `threads`: the provider's thread count. A library that cannot be loaded is not an error: the
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
    state = init(opts.blas, threads ?? (state?.lib ? state.threads : undefined));
  } else if (threads !== undefined) {
    const s = current();
    if (s.lib !== null) {
      s.lib.setThreads(threads);
      const got = s.lib.getThreads();
      s.threads = got > 0 ? got : threads;
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
  return {
    provider: 'native',
    requested: s.requested,
    library: l.path,
    ...(l.lapackPath !== l.path ? { lapackLibrary: l.lapackPath } : {}),
    flavour: l.flavour,
    coreType: l.coreType,
    int64: l.int64,
    threads: s.threads,
  };
}

/** A one-line summary of {@link engineInfo} (`native OpenBLAS (Haswell, 2 threads)`, `wasm (BASIS_BLAS=off)`). */
export function engineSummary(e: EngineInfo = engineInfo()): string {
  if (e.provider === 'wasm') return `wasm (${e.reason ?? 'WebAssembly kernels'})`;
  return `native ${e.flavour ?? ''} ${e.library ?? ''} (${e.coreType ?? '?'}, ${e.threads > 0 ? `${e.threads} thread${e.threads === 1 ? '' : 's'}` : 'threads unknown'})`.replace(/\s+/g, ' ');
}
