// Two-way row splits of float32 products over a helper thread, for the shapes OpenBLAS threads
// badly (thin outputs: a convolution's taps at 16-64 channels ran 2-5x slower on OpenBLAS' two
// threads than on one; see serialShape in tfjs/native-kernels.ts). The caller computes the first
// rows of C on its own thread while a Node worker thread (started once per library, unreferenced)
// computes the rest through its own binding of the same library, both with OpenBLAS at one
// thread. Operands are passed to the worker as addresses (the tfjs wasm heap is an ordinary,
// unshared ArrayBuffer, but its memory does not move while a kernel runs).
//
// No waiting on a thread that is not running: the two halves are claimed with a compare-exchange,
// so when the worker has not picked up the second half by the time the caller is done with the
// first (a busy machine), the caller computes it too. Who computes a half never changes the
// result: each half is the same one-thread call, so results are bit-identical run to run.
//
// BASIS_SGEMM_SPLIT=off (read when the first split is attempted) keeps every product on this thread.
//
// Browser-safe: worker_threads is reached through `process.getBuiltinModule`; without it (or when
// the worker cannot start) `splitSgemm` returns false and the caller runs the product whole.
import type { NativeLib } from './native.js';

/** Control words: posted job, claimed job, finished job, failed job (sequence numbers), worker ready (1, or -1 when it could not bind). */
const POSTED = 0;
const CLAIMED = 1;
const DONE = 2;
const FAILED = 3;
const READY = 4;
/** Int32 control words, padded to 8 bytes so that the parameters after them are aligned. */
const CTL_WORDS = 6;
/** Job parameters: transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc (addresses as doubles). */
const PARAMS = 13;

/**
 * Milliseconds the worker polls for the next half before it sleeps (a convolution's products come
 * back to back; between kernels it sleeps, so it does not hold a core that OpenBLAS' own threads or
 * other work could use), and this thread polls for the worker's half before it sleeps in 1 ms slices.
 */
const WORKER_SPIN_MS = 0.1;
const CALLER_SPIN_MS = 0.5;
/**
 * How long the first split waits for the worker to bind the library (normally tens of ms). The
 * worker is used only once it is ready: a process that exits while the worker is still inside
 * koffi's load was killed by Node ("FATAL ERROR: Error::ThrowAsJavaScriptException napi_throw",
 * seen when a short CLI command ended right after its first convolution).
 */
const START_TIMEOUT_MS = 10_000;

interface WorkerLike {
  unref(): void;
  on(event: string, cb: (...a: unknown[]) => void): void;
  terminate(): Promise<number>;
}

interface Pool {
  /** Scratch for the second half of a depth split (off the JS heap: its address does not move). */
  scratch: Float32Array;
  ctl: Int32Array;
  par: Float64Array;
  seq: number;
  /** Second halves this thread computed itself (the worker had not started on them). */
  own: number;
  dead: boolean;
  worker: WorkerLike;
}

// The worker: binds cblas_sgemm with addresses and runs the posted halves it claims.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const ctl = new Int32Array(workerData.sab, 0, ${CTL_WORDS});
const p = new Float64Array(workerData.sab, ${CTL_WORDS * 4}, ${PARAMS});
let f;
try {
  const koffi = require(workerData.koffi);
  const I = workerData.int64 ? 'int64_t' : 'int32_t';
  f = koffi.load(workerData.lib).func('void cblas_sgemm' + workerData.suffix + '(int, int, int, ' + I + ', ' + I + ', ' + I + ', float, uintptr_t, ' + I + ', uintptr_t, ' + I + ', float, uintptr_t, ' + I + ')');
} catch {
  Atomics.store(ctl, ${READY}, -1);
  Atomics.notify(ctl, ${READY});
  process.exit(0);
}
Atomics.store(ctl, ${READY}, 1);
Atomics.notify(ctl, ${READY});
let seen = Atomics.load(ctl, ${POSTED});
for (;;) {
  let spins = 0;
  let t0 = performance.now();
  while (Atomics.load(ctl, ${POSTED}) === seen) {
    if ((++spins & 255) === 0 && performance.now() - t0 > ${WORKER_SPIN_MS}) {
      Atomics.wait(ctl, ${POSTED}, seen);
      t0 = performance.now();
    }
  }
  seen = Atomics.load(ctl, ${POSTED});
  if (seen < 0) break;
  if (Atomics.compareExchange(ctl, ${CLAIMED}, seen - 1, seen) !== seen - 1) continue;
  try {
    f(101, p[0] ? 112 : 111, p[1] ? 112 : 111, p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12]);
  } catch {
    Atomics.store(ctl, ${FAILED}, seen);
  }
  Atomics.store(ctl, ${DONE}, seen);
  Atomics.notify(ctl, ${DONE});
}
`;

const pools = new Map<string, Pool | null>();

interface NodeProcess {
  getBuiltinModule?: (id: string) => unknown;
}

function startPool(lib: NativeLib): Pool | null {
  const proc = (globalThis as { process?: NodeProcess & { env?: Record<string, string | undefined> } }).process;
  const env = proc?.env?.['BASIS_SGEMM_SPLIT'];
  if (env === 'off' || env === '0') return null;
  if (lib.koffiPath === undefined || lib.koffiPath === null || typeof proc?.getBuiltinModule !== 'function' || typeof SharedArrayBuffer !== 'function') return null;
  try {
    const wt = proc.getBuiltinModule('worker_threads') as { Worker: new (src: string, opts: object) => WorkerLike } | undefined;
    if (wt === undefined) return null;
    const sab = new SharedArrayBuffer(CTL_WORDS * 4 + 8 * PARAMS);
    const pool: Pool = { scratch: new Float32Array(SPLIT_MAX_K_OUTPUT), ctl: new Int32Array(sab, 0, CTL_WORDS), par: new Float64Array(sab, CTL_WORDS * 4, PARAMS), seq: 0, own: 0, dead: false, worker: undefined as unknown as WorkerLike };
    pool.worker = new wt.Worker(WORKER_SOURCE, { eval: true, workerData: { koffi: lib.koffiPath, lib: lib.path, suffix: lib.suffix, int64: lib.int64, sab } });
    pool.worker.on('error', () => {
      pool.dead = true;
    });
    pool.worker.on('exit', () => {
      pool.dead = true;
    });
    pool.worker.unref();
    // wait until the worker has bound the library (see START_TIMEOUT_MS); it never runs a half before
    Atomics.wait(pool.ctl, READY, 0, START_TIMEOUT_MS);
    if (Atomics.load(pool.ctl, READY) !== 1) pool.dead = true;
    return pool;
  } catch {
    return null;
  }
}

function poolFor(lib: NativeLib): Pool | null {
  let p = pools.get(lib.path);
  if (p === undefined) {
    p = startPool(lib);
    pools.set(lib.path, p);
  }
  return p !== null && !p.dead ? p : null;
}

/** Operands of a float32 product `C = alpha op(A) op(B) + beta C` (row-major, offsets in elements). */
export interface SgemmArgs {
  m: number;
  n: number;
  k: number;
  alpha?: number;
  A: Float32Array;
  lda: number;
  transA: boolean;
  B: Float32Array;
  ldb: number;
  transB: boolean;
  beta?: number;
  C: Float32Array;
  ldc: number;
  /**
   * Run as one-thread calls (OpenBLAS: its thread count is lowered to 1 around the call and
   * restored; other libraries ignore it). For shapes that OpenBLAS splits badly: a tiny output
   * with a long inner dimension is split over m and n only, so each thread streams all of k for
   * a sliver of the output, and thin outputs synchronise per packed block. With 2 or more threads
   * configured, such a product, if large enough, is computed in two halves (of the rows, or of k
   * for a small output), one on this thread and one on a helper thread ({@link splitSgemm}), each
   * a one-thread call: the same bits on every run.
   */
  serial?: boolean;
}

/** Operands of a split product: those of nativeSgemm with alpha and beta given. */
export type SplitArgs = Required<Omit<SgemmArgs, 'serial'>>;

/** Rows below which a product is not split (each half should be worth a thread hand-off). */
export const SPLIT_MIN_ROWS = 64;
/** Multiply-adds below which a product is not split (about 20 us on one core). */
export const SPLIT_MIN_WORK = 1 << 20;

/** Depth below which a small output is not split along k. */
export const SPLIT_MIN_DEPTH = 512;
/** Largest output split along k (the second half goes to a scratch buffer, then is added in). */
export const SPLIT_MAX_K_OUTPUT = 4096;

/**
 * How {@link splitSgemm} splits this shape: by rows (enough rows), by the inner dimension (a small
 * output with a long k: a filter gradient), or not at all.
 */
export function splitKind(m: number, n: number, k: number): 'rows' | 'depth' | null {
  if (m * n * k < SPLIT_MIN_WORK) return null;
  if (m >= 2 * SPLIT_MIN_ROWS) return 'rows';
  if (m * n <= SPLIT_MAX_K_OUTPUT && k >= 2 * SPLIT_MIN_DEPTH) return 'depth';
  return null;
}

/**
 * `C = alpha op(A) op(B) + beta C` in two halves, one on this thread and one on the helper worker
 * (or this thread when the worker has not started on it), OpenBLAS on one thread for both: rows
 * `[0, m/2)` and `[m/2, m)`, or for a small output with a long inner dimension the two halves of
 * k (the second into a scratch buffer, added into C afterwards; the same order on every run).
 * Arguments must be checked by the caller (nativeSgemm). Returns false, having done nothing, when
 * the shape is not worth splitting, the library is not OpenBLAS, or no worker can run (no
 * worker_threads, SharedArrayBuffer or koffi address support).
 */
export function splitSgemm(lib: NativeLib, g: SplitArgs): boolean {
  if (lib.flavour !== 'openblas' || lib.address === undefined || lib.address === null) return false;
  const kind = splitKind(g.m, g.n, g.k);
  if (kind === null) return false;
  const pool = poolFor(lib);
  if (pool === null) return false;
  const address = lib.address;
  const T = (t: boolean): number => (t ? 112 : 111);
  // the first half (this thread) and the second (posted): sizes and element offsets
  const rows = kind === 'rows';
  const h = rows ? g.m >> 1 : g.k >> 1;
  const m1 = rows ? h : g.m;
  const m2 = rows ? g.m - h : g.m;
  const k1 = rows ? g.k : h;
  const k2 = rows ? g.k : g.k - h;
  // rows: rows h.. of op(A) (a column offset when A is transposed) and of C; depth: columns h..
  // of op(A) and rows h.. of op(B)
  const aOff = rows ? (g.transA ? h : h * g.lda) : g.transA ? h * g.lda : h;
  const bOff = rows ? 0 : g.transB ? h : h * g.ldb;
  const cOff = rows ? h * g.ldc : 0;
  const C2 = rows ? g.C.subarray(cOff) : pool.scratch;
  const beta2 = rows ? g.beta : 0;
  const seq = pool.seq + 1;
  pool.seq = seq;
  const P = pool.par;
  P[0] = g.transA ? 1 : 0;
  P[1] = g.transB ? 1 : 0;
  P[2] = m2;
  P[3] = g.n;
  P[4] = k2;
  P[5] = g.alpha;
  P[6] = address(g.A) + 4 * aOff;
  P[7] = g.lda;
  P[8] = address(g.B) + 4 * bOff;
  P[9] = g.ldb;
  P[10] = beta2;
  P[11] = address(C2);
  P[12] = rows ? g.ldc : g.n;
  const ctl = pool.ctl;
  Atomics.store(ctl, POSTED, seq);
  Atomics.notify(ctl, POSTED);
  lib.fn.sgemm(101, T(g.transA), T(g.transB), m1, g.n, k1, g.alpha, g.A, g.lda, g.B, g.ldb, g.beta, g.C, g.ldc);
  const second = (): void => {
    lib.fn.sgemm(101, T(g.transA), T(g.transB), m2, g.n, k2, g.alpha, g.A.subarray(aOff), g.lda, g.B.subarray(bOff), g.ldb, beta2, C2, rows ? g.ldc : g.n);
  };
  if (Atomics.compareExchange(ctl, CLAIMED, seq - 1, seq) === seq - 1) {
    second(); // the worker had not started it
    pool.own += 1;
    Atomics.store(ctl, DONE, seq);
  } else {
    // the worker is on it: wait (spin briefly, then sleep in 1 ms slices) for it to finish
    const t0 = performance.now();
    for (let spins = 1; ; spins++) {
      const done = Atomics.load(ctl, DONE);
      if (done === seq) break;
      if ((spins & 255) === 0 && performance.now() - t0 > CALLER_SPIN_MS) Atomics.wait(ctl, DONE, done, 1);
    }
    if (Atomics.load(ctl, FAILED) === seq) second();
  }
  if (!rows) {
    const S = pool.scratch;
    for (let i = 0; i < g.m; i++) {
      const c = i * g.ldc;
      const s = i * g.n;
      for (let j = 0; j < g.n; j++) g.C[c + j] = (g.C[c + j] as number) + (S[s + j] as number);
    }
  }
  return true;
}

/** Second halves computed by the helper workers so far (tests, diagnostics). */
export function splitWorkerHalves(): number {
  let n = 0;
  for (const p of pools.values()) if (p !== null) n += p.seq - p.own;
  return n;
}

/** Stops the helper workers (tests). */
export async function stopSplitWorkers(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  for (const p of all) {
    if (p === null) continue;
    Atomics.store(p.ctl, POSTED, -1);
    Atomics.notify(p.ctl, POSTED);
    await p.worker.terminate();
  }
}
