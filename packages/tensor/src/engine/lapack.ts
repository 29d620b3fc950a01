// Checked LAPACK wrappers over the native provider (column-major Fortran routines called through
// koffi). Each wrapper validates dimensions, leading dimensions and buffer lengths before every
// call (a wrong one crashes the process instead of throwing), makes the workspace query
// (`lwork = -1`) once per shape and caches it, and maps LAPACK's `info` to basis' errors or to a
// `null` the caller answers by falling back to WebAssembly. Layout conversions between basis'
// row-major arrays and LAPACK's column-major ones, and basis' conventions (order, signs), stay at
// the dispatch points in `linalg/`. `nativeFor` decides, per kernel and size, whether the
// native provider is used at all (tiny problems are faster on the WebAssembly kernels).
import { float64Buffer } from '../memory.js';
import { BasisError } from '../errors.js';
import { checkDims } from './blas.js';
import { nativeLib } from './engine.js';
import type { IntArray, NativeLib } from './native.js';

/** The LAPACK-level kernels that dispatch to the native provider. */
export type LapackKernel = 'eigh' | 'eighValues' | 'svd' | 'svdValues' | 'qr' | 'solve' | 'cholesky' | 'det';

/**
 * Smallest problem (in {@link lapackSize} units) that goes to the native provider, per kernel;
 * below it the WebAssembly kernels are faster than the FFI calls plus LAPACK's workspace queries
 * and blocking set-up. Measured on 2 cores (OpenBLAS 0.3.21, Zen), see `lapack.test.ts`'s notes.
 */
export const LAPACK_CROSSOVER: Readonly<Record<LapackKernel, number>> = Object.freeze({
  eigh: 4,
  eighValues: 4,
  svd: 4,
  svdValues: 4,
  qr: 16,
  solve: 24,
  cholesky: 32,
  det: 32,
});

let crossover: Record<LapackKernel, number> = { ...LAPACK_CROSSOVER };

/**
 * Problem size compared with {@link LAPACK_CROSSOVER}: the order n of a square problem, or
 * `cbrt(m * n * min(m, n))` for a rectangular m x n one (the cube root of its flop count's shape
 * factor, so an n x n matrix has size n).
 */
export function lapackSize(m: number, n: number): number {
  return m === n ? n : Math.cbrt(m * n * Math.min(m, n));
}

/**
 * Test/benchmark hook: `'always'` sends every problem size to the native provider (when one is
 * loaded), `'never'` none, `'default'` restores {@link LAPACK_CROSSOVER}; an object overrides
 * single kernels. Returns the previous setting, for restoring.
 */
export function setLapackCrossover(
  mode: 'always' | 'never' | 'default' | Partial<Record<LapackKernel, number>>,
): Record<LapackKernel, number> {
  const prev = { ...crossover };
  if (mode === 'always') for (const k of Object.keys(crossover) as LapackKernel[]) crossover[k] = 0;
  else if (mode === 'never') for (const k of Object.keys(crossover) as LapackKernel[]) crossover[k] = Infinity;
  else if (mode === 'default') crossover = { ...LAPACK_CROSSOVER };
  else crossover = { ...crossover, ...mode };
  return prev;
}

/**
 * Problem size ({@link lapackSize}) below which the eigen and singular value decompositions
 * (`dsyevd`, `dgesdd`) run on one OpenBLAS thread even when more are configured (set and
 * restored around the call, as `nativeGemv` does below `GEMV_SERIAL_BELOW`). Their reduction to
 * tridiagonal or bidiagonal form is mostly level-2 BLAS, which a second thread barely shortens at
 * these orders, while waking (on a busy machine, waiting for) it costs more. Per-call medians, 1 vs
 * 2 threads, 2 cores (OpenBLAS 0.3.21, Cooperlake, 2026-12-07): n x n dgesdd values / vectors at
 * n = 256 4.6 vs 4.8 / 10.5 vs 10.2 ms quiet, 4.6 vs 5.4 / 10.9 vs 16.9 ms beside another process;
 * n = 320 7.0 vs 7.7 / 18.2 vs 15.6 ms; n = 448 15.6 vs 13.4 / 35.7 vs 29.0 ms; dsyevd n = 256 5.2
 * vs 5.1 ms, 448 17.1 vs 14.1 ms. From about n = 400 on the second thread pays.
 */
export const LAPACK_SERIAL_BELOW = 384;

/** Runs `call` on one OpenBLAS thread when `size` is below {@link LAPACK_SERIAL_BELOW} and more are configured. */
function serialBelow<T>(lib: NativeLib, size: number, call: () => T): T {
  const threads = lib.flavour === 'openblas' && size < LAPACK_SERIAL_BELOW ? lib.getThreads() : 1;
  if (threads <= 1) return call();
  // openblas_set_num_threads only sets a counter once the threads exist (about 0.1 us a call)
  lib.setThreads(1);
  try {
    return call();
  } finally {
    lib.setThreads(threads);
  }
}

/** The native library when `kernel` at this size should run on it, otherwise null. */
export function nativeFor(kernel: LapackKernel, size: number): NativeLib | null {
  const lib = nativeLib();
  return lib !== null && size >= crossover[kernel] ? lib : null;
}

// ---------------------------------------------------------------------------------------------
// Boundary checks and small helpers.

/** Throws unless `buf` holds a column-major `rows x cols` block with leading dimension `ld`. */
function checkCol(what: string, name: string, buf: { length: number }, rows: number, cols: number, ld: number): void {
  if (!Number.isInteger(ld) || ld < Math.max(1, rows)) {
    throw new BasisError('INVALID_ARGUMENT', `${what}: leading dimension of ${name} is ${ld}, must be >= max(1, ${rows})`);
  }
  const need = rows === 0 || cols === 0 ? 0 : (cols - 1) * ld + rows;
  if (buf.length < Math.max(1, need)) {
    throw new BasisError(
      'INVALID_ARGUMENT',
      `${what}: ${name} needs ${Math.max(1, need)} elements (${rows} x ${cols}, leading dimension ${ld}) but has ${buf.length}${buf.length === 0 ? ' (a detached or stale view?)' : ''}`,
    );
  }
}

/** Throws unless `buf` has at least `need` elements. */
function checkLen(what: string, name: string, buf: { length: number }, need: number): void {
  if (buf.length < Math.max(1, need)) throw new BasisError('INVALID_ARGUMENT', `${what}: ${name} needs ${Math.max(1, need)} elements but has ${buf.length}`);
}

/** NON_FINITE_INPUT unless every entry is finite (LAPACK would return NaN or iterate on it). */
function checkFinite(what: string, a: Float64Array): void {
  for (let k = 0; k < a.length; k++) {
    if (!Number.isFinite(a[k] as number)) {
      throw new BasisError('NON_FINITE_INPUT', `${what}: the input holds ${a[k]} at index ${k}; remove or impute non-finite values`, {
        details: { index: k, value: a[k] },
      });
    }
  }
}

function intArray(lib: NativeLib, n: number): IntArray {
  return lib.int64 ? new BigInt64Array(Math.max(1, n)) : new Int32Array(Math.max(1, n));
}

/** LAPACK's info: < 0 is a wrong argument (a bug in these wrappers, never the caller's input). */
function infoOf(lib: NativeLib, info: IntArray, routine: string): number {
  const v = lib.intAt(info, 0);
  if (v < 0) throw new BasisError('INVALID_ARGUMENT', `${routine}: LAPACK rejected argument ${-v} (a bug in basis' native wrapper; BASIS_BLAS=off avoids it)`);
  return v;
}

/** Workspace sizes from `lwork = -1` queries, per library and shape. */
const workCache = new WeakMap<NativeLib, Map<string, number[]>>();

function cachedWork(lib: NativeLib, key: string, query: () => number[]): number[] {
  let m = workCache.get(lib);
  if (m === undefined) {
    m = new Map();
    workCache.set(lib, m);
  }
  let w = m.get(key);
  if (w === undefined) {
    w = query();
    if (m.size > 256) m.clear();
    m.set(key, w);
  }
  return w;
}

/**
 * Scratch buffers reused between calls: LAPACK workspaces and the internal copies that LAPACK
 * destroys. A fresh large array costs a page fault per 4 KiB page on first touch (~18 ms for the
 * 34 MB workspace of a 1024² dgesdd here, ~6 ms with huge pages), which is a tenth of the
 * factorisation; a reused one costs nothing. Each slot keeps its buffer while the slots hold at
 * most {@link SCRATCH_KEEP_BYTES} together; larger requests get a fresh buffer. Contents are
 * arbitrary (callers overwrite what they read). JavaScript runs one call at a time, and every
 * use ends before its wrapper returns, so a slot is never shared by two live calls.
 */
export type ScratchSlot = 'work' | 'a' | 'u';
const scratchBufs: Record<ScratchSlot, Float64Array | null> = { work: null, a: null, u: null };

/** Bytes the scratch slots may keep between calls, together. */
export const SCRATCH_KEEP_BYTES = 96 * 2 ** 20;

/** A Float64Array of exactly `length` entries (a view of a kept buffer when possible). */
export function scratch(slot: ScratchSlot, length: number): Float64Array {
  const n = Math.max(1, length);
  const have = scratchBufs[slot];
  if (have !== null && have.length >= n) return have.subarray(0, n);
  scratchBufs[slot] = null;
  const buf = float64Buffer(n);
  let kept = 0;
  for (const b of Object.values(scratchBufs)) kept += b === null ? 0 : b.byteLength;
  if (kept + buf.byteLength <= SCRATCH_KEEP_BYTES) scratchBufs[slot] = buf;
  return buf;
}

/** A workspace length from a query's result (a double, or an int) and the documented minimum. */
function lworkFrom(q: number, min: number): number {
  const v = Number.isFinite(q) ? Math.ceil(q) : 0;
  return Math.max(1, min, v);
}

// ---------------------------------------------------------------------------------------------
// Wrappers.

/**
 * `dsyevd`: eigenvalues (ascending, returned) and, with `vectors`, eigenvectors of the symmetric
 * n x n array `a` (full storage; overwritten: column-major eigenvectors, column j belonging to
 * value j). NOT_CONVERGED when LAPACK reports `info > 0`. `knownFinite`: the caller has already
 * checked that every entry is finite (skips that pass).
 */
export function lapackSyevd(lib: NativeLib, a: Float64Array, n: number, vectors: boolean, knownFinite = false): Float64Array {
  const what = 'eigh (dsyevd)';
  checkDims(lib, what, { n, lda: n });
  checkCol(what, 'A', a, n, n, Math.max(1, n));
  if (!knownFinite) checkFinite(what, a.subarray(0, n * n));
  const w = new Float64Array(Math.max(1, n));
  if (n === 0) return new Float64Array(0);
  const jobz = vectors ? 'V' : 'N';
  const N = lib.ints([n]);
  const info = intArray(lib, 1);
  const [lwork, liwork] = cachedWork(lib, `syevd:${jobz}:${n}`, () => {
    const wq = new Float64Array(1);
    const iq = intArray(lib, 1);
    lib.fn.dsyevd(jobz, 'L', N, a, N, w, wq, lib.ints([-1]), iq, lib.ints([-1]), info, 1, 1);
    infoOf(lib, info, 'dsyevd workspace query');
    const minW = n <= 1 ? 1 : vectors ? 1 + 6 * n + 2 * n * n : 2 * n + 1;
    const minI = n <= 1 || !vectors ? 1 : 3 + 5 * n;
    return [lworkFrom(wq[0] as number, minW), lworkFrom(lib.intAt(iq, 0), minI)];
  }) as [number, number];
  checkDims(lib, what, { lwork, liwork });
  const work = scratch('work', lwork);
  const iwork = intArray(lib, liwork);
  checkLen(what, 'WORK', work, lwork);
  checkLen(what, 'W', w, n);
  serialBelow(lib, n, () => lib.fn.dsyevd(jobz, 'L', N, a, N, w, work, lib.ints([lwork]), iwork, lib.ints([liwork]), info, 1, 1));
  const r = infoOf(lib, info, 'dsyevd');
  if (r > 0) {
    throw new BasisError('NOT_CONVERGED', `eigh: LAPACK dsyevd did not converge (info ${r}) on a ${n} x ${n} matrix; BASIS_BLAS=off uses basis' own kernel`, {
      details: { info: r },
    });
  }
  return w;
}

/** Result of {@link lapackGesdd} (column-major factors of the rows x cols input). */
export interface GesddResult {
  /** k = min(rows, cols) singular values, descending. */
  s: Float64Array;
  /** rows x k, column-major (leading dimension rows); null without vectors. */
  u: Float64Array | null;
  /** k x cols (Vᵀ), column-major (leading dimension k); null without vectors. */
  vt: Float64Array | null;
}

/**
 * `dgesdd` (thin, JOBZ 'S'; values only 'N') of the column-major `rows x cols` array `a`
 * (leading dimension rows; destroyed). Returns null when LAPACK does not converge (`info > 0`)
 * so the caller can fall back to WebAssembly. Options: `knownFinite`, the caller has checked
 * every entry is finite (skips that pass); `scratchU`, U goes into the reused scratch slot 'u'
 * (valid until the next such call: for callers that copy it out right away).
 */
export function lapackGesdd(
  lib: NativeLib,
  a: Float64Array,
  rows: number,
  cols: number,
  vectors: boolean,
  opts: { knownFinite?: boolean; scratchU?: boolean } = {},
): GesddResult | null {
  const what = 'svd (dgesdd)';
  const k = Math.min(rows, cols);
  const mx = Math.max(rows, cols);
  const lda = Math.max(1, rows);
  const ldu = vectors ? Math.max(1, rows) : 1;
  const ldvt = vectors ? Math.max(1, k) : 1;
  checkDims(lib, what, { m: rows, n: cols, lda, ldu, ldvt, iwork: 8 * k });
  checkCol(what, 'A', a, rows, cols, lda);
  if (opts.knownFinite !== true) checkFinite(what, a.subarray(0, rows * cols));
  const s = new Float64Array(Math.max(1, k));
  if (k === 0) return { s: new Float64Array(0), u: vectors ? new Float64Array(0) : null, vt: vectors ? new Float64Array(0) : null };
  const u = vectors && opts.scratchU === true ? scratch('u', ldu * k) : float64Buffer(vectors ? ldu * k : 1);
  const vt = float64Buffer(vectors ? ldvt * cols : 1);
  if (vectors) {
    checkCol(what, 'U', u, rows, k, ldu);
    checkCol(what, 'VT', vt, k, cols, ldvt);
  }
  checkLen(what, 'S', s, k);
  const jobz = vectors ? 'S' : 'N';
  const M = lib.ints([rows]);
  const Nn = lib.ints([cols]);
  const LDA = lib.ints([lda]);
  const LDU = lib.ints([ldu]);
  const LDVT = lib.ints([ldvt]);
  const iwork = intArray(lib, 8 * k);
  const info = intArray(lib, 1);
  const [lwork] = cachedWork(lib, `gesdd:${jobz}:${rows}x${cols}`, () => {
    const wq = new Float64Array(1);
    lib.fn.dgesdd(jobz, M, Nn, a, LDA, s, u, LDU, vt, LDVT, wq, lib.ints([-1]), iwork, info, 1);
    infoOf(lib, info, 'dgesdd workspace query');
    // Documented minima (LAPACK 3.7+); some older builds under-report the query.
    const min = vectors ? 4 * k * k + 7 * k : 3 * k + Math.max(mx, 7 * k);
    return [lworkFrom(wq[0] as number, min)];
  }) as [number];
  checkDims(lib, what, { lwork });
  const work = scratch('work', lwork);
  checkLen(what, 'WORK', work, lwork);
  serialBelow(lib, lapackSize(rows, cols), () => lib.fn.dgesdd(jobz, M, Nn, a, LDA, s, u, LDU, vt, LDVT, work, lib.ints([lwork]), iwork, info, 1));
  if (infoOf(lib, info, 'dgesdd') > 0) return null;
  return { s, u: vectors ? u : null, vt: vectors ? vt : null };
}

/** The factored state between {@link lapackGeqrf} and {@link lapackOrgqr}. */
export interface GeqrfFactors {
  /** The column-major m x n array overwritten by dgeqrf (Householder vectors below R). */
  a: Float64Array;
  tau: Float64Array;
  m: number;
  n: number;
}

/**
 * `dgeqrf`: QR factorisation of the column-major m x n array `a` (leading dimension m;
 * overwritten by the factors). Returns R (row-major, `rRows x n`: k = min(m, n) rows, or m rows
 * when `complete`; R's diagonal is LAPACK's, either sign) and the factors for {@link lapackOrgqr}.
 */
export function lapackGeqrf(lib: NativeLib, a: Float64Array, m: number, n: number, complete = false, knownFinite = false): { R: Float64Array; factors: GeqrfFactors } {
  const what = 'qr (dgeqrf)';
  const k = Math.min(m, n);
  const lda = Math.max(1, m);
  const rRows = complete ? m : k;
  checkDims(lib, what, { m, n, k, lda });
  checkCol(what, 'A', a, m, n, lda);
  if (!knownFinite) checkFinite(what, a.subarray(0, m * n));
  const tau = new Float64Array(Math.max(1, k));
  const info = intArray(lib, 1);
  checkLen(what, 'TAU', tau, k);
  const [lw] = cachedWork(lib, `geqrf:${m}x${n}`, () => {
    const wq = new Float64Array(1);
    lib.fn.dgeqrf(lib.ints([m]), lib.ints([n]), a, lib.ints([lda]), tau, wq, lib.ints([-1]), info);
    infoOf(lib, info, 'dgeqrf workspace query');
    return [lworkFrom(wq[0] as number, Math.max(1, n))];
  }) as [number];
  checkDims(lib, what, { lwork: lw });
  lib.fn.dgeqrf(lib.ints([m]), lib.ints([n]), a, lib.ints([lda]), tau, new Float64Array(lw), lib.ints([lw]), info);
  infoOf(lib, info, 'dgeqrf');
  const R = new Float64Array(rRows * n);
  for (let j = 0; j < n; j++) {
    const top = Math.min(j, k - 1);
    for (let i = 0; i <= top; i++) R[i * n + j] = a[j * lda + i] as number;
  }
  return { R, factors: { a, tau, m, n } };
}

/**
 * `dorgqr`: the Q of {@link lapackGeqrf}'s factors, column-major m x qc (leading dimension m;
 * qc = min(m, n), or m when `complete`). Overwrites the factors when qc <= n (use once).
 */
export function lapackOrgqr(lib: NativeLib, f: GeqrfFactors, complete = false): { q: Float64Array; qc: number } {
  const what = 'qr (dorgqr)';
  const { a, tau, m, n } = f;
  const k = Math.min(m, n);
  const lda = Math.max(1, m);
  const qc = complete ? m : k;
  checkDims(lib, what, { m, n, k, lda, qc });
  checkCol(what, 'A', a, m, n, lda);
  checkLen(what, 'TAU', tau, k);
  // Q's buffer: the factored A itself when its first qc columns suffice, else an m x m copy.
  const q = qc <= n ? a : float64Buffer(lda * qc);
  checkCol(what, 'Q', q, m, qc, lda);
  if (q !== a) q.set(a.subarray(0, lda * n));
  const info = intArray(lib, 1);
  const [lw] = cachedWork(lib, `orgqr:${m}x${n}:${qc}`, () => {
    const wq = new Float64Array(1);
    lib.fn.dorgqr(lib.ints([m]), lib.ints([qc]), lib.ints([k]), q, lib.ints([lda]), tau, wq, lib.ints([-1]), info);
    infoOf(lib, info, 'dorgqr workspace query');
    return [lworkFrom(wq[0] as number, Math.max(1, qc))];
  }) as [number];
  checkDims(lib, what, { lwork: lw });
  lib.fn.dorgqr(lib.ints([m]), lib.ints([qc]), lib.ints([k]), q, lib.ints([lda]), tau, new Float64Array(lw), lib.ints([lw]), info);
  infoOf(lib, info, 'dorgqr');
  return { q, qc };
}

/**
 * `dormqr` (side L, transpose): `C <- Qᵀ C` for the full m x m Q of {@link lapackGeqrf}'s factors
 * (left intact) and the column-major m x p array `c` (leading dimension m), in place: the first
 * k = min(m, n) rows of the result are the coordinates of C's columns in the span of Q's first k
 * columns, the rest those in its orthogonal complement.
 */
export function lapackOrmqrT(lib: NativeLib, f: GeqrfFactors, c: Float64Array, p: number): void {
  const what = 'qr (dormqr)';
  const { a, tau, m, n } = f;
  const k = Math.min(m, n);
  const lda = Math.max(1, m);
  checkDims(lib, what, { m, n, k, p, lda });
  checkCol(what, 'A', a, m, n, lda);
  checkLen(what, 'TAU', tau, k);
  checkCol(what, 'C', c, m, p, lda);
  if (m === 0 || p === 0 || k === 0) return;
  const info = intArray(lib, 1);
  const [lw] = cachedWork(lib, `ormqr:${m}x${n}:${p}`, () => {
    const wq = new Float64Array(1);
    lib.fn.dormqr('L', 'T', lib.ints([m]), lib.ints([p]), lib.ints([k]), a, lib.ints([lda]), tau, c, lib.ints([lda]), wq, lib.ints([-1]), info, 1, 1);
    infoOf(lib, info, 'dormqr workspace query');
    return [lworkFrom(wq[0] as number, Math.max(1, p))];
  }) as [number];
  checkDims(lib, what, { lwork: lw });
  lib.fn.dormqr('L', 'T', lib.ints([m]), lib.ints([p]), lib.ints([k]), a, lib.ints([lda]), tau, c, lib.ints([lda]), new Float64Array(lw), lib.ints([lw]), info, 1, 1);
  infoOf(lib, info, 'dormqr');
}

/**
 * `dgeqrf` then `dorgqr`: QR of the column-major m x n array `a` (leading dimension m;
 * overwritten by the factors). Returns R (row-major, `rRows x n`: k rows, or m rows when
 * `complete`) and Q (column-major m x qc, leading dimension m; qc = k, or m when `complete`).
 * R's diagonal is LAPACK's (either sign).
 */
export function lapackQR(lib: NativeLib, a: Float64Array, m: number, n: number, complete: boolean): { R: Float64Array; q: Float64Array; qc: number } {
  const { R, factors } = lapackGeqrf(lib, a, m, n, complete);
  return { R, ...lapackOrgqr(lib, factors, complete) };
}

/**
 * `dgesv`: LU with partial pivoting of the column-major n x n array `a` (overwritten by L and
 * U) and, when the factorisation has no exactly-zero pivot, the solution of `A X = B` in place
 * of the column-major n x r array `b`. Returns LAPACK's info (> 0: U(info-1, info-1) is exactly 0
 * and `b` was not solved).
 */
export function lapackGesv(lib: NativeLib, a: Float64Array, n: number, b: Float64Array, r: number): number {
  const what = 'solve (dgesv)';
  const ld = Math.max(1, n);
  checkDims(lib, what, { n, nrhs: r, lda: ld, ldb: ld });
  checkCol(what, 'A', a, n, n, ld);
  checkCol(what, 'B', b, n, r, ld);
  checkFinite(what, a.subarray(0, n * n));
  checkFinite(what, b.subarray(0, n * r));
  if (n === 0) return 0;
  const ipiv = intArray(lib, n);
  const info = intArray(lib, 1);
  lib.fn.dgesv(lib.ints([n]), lib.ints([r]), a, lib.ints([ld]), ipiv, b, lib.ints([ld]), info);
  return infoOf(lib, info, 'dgesv');
}

/**
 * `dgetrf`: LU with partial pivoting of the column-major n x n array `a` (overwritten). Returns
 * the pivots (1-based, LAPACK's) and info (> 0: U(info-1, info-1) is exactly 0).
 */
export function lapackGetrf(lib: NativeLib, a: Float64Array, n: number): { ipiv: IntArray; info: number } {
  const what = 'determinant (dgetrf)';
  const ld = Math.max(1, n);
  checkDims(lib, what, { n, lda: ld });
  checkCol(what, 'A', a, n, n, ld);
  checkFinite(what, a.subarray(0, n * n));
  const ipiv = intArray(lib, n);
  if (n === 0) return { ipiv, info: 0 };
  checkLen(what, 'IPIV', ipiv, n);
  const info = intArray(lib, 1);
  lib.fn.dgetrf(lib.ints([n]), lib.ints([n]), a, lib.ints([ld]), ipiv, info);
  return { ipiv, info: infoOf(lib, info, 'dgetrf') };
}

/**
 * `dpotrf` with UPLO 'U' on the symmetric n x n array `a` (column-major upper = row-major lower:
 * on return the row-major lower triangle holds L of `S = L Lᵀ`; the strict upper triangle is
 * untouched). Returns info (> 0: the leading minor of order info is not positive definite, and
 * `a[(info-1) * (n + 1)]` holds the failing pivot).
 */
export function lapackPotrf(lib: NativeLib, a: Float64Array, n: number): number {
  const what = 'cholesky (dpotrf)';
  const ld = Math.max(1, n);
  checkDims(lib, what, { n, lda: ld });
  checkCol(what, 'A', a, n, n, ld);
  checkFinite(what, a.subarray(0, n * n));
  if (n === 0) return 0;
  const info = intArray(lib, 1);
  lib.fn.dpotrf('U', lib.ints([n]), a, lib.ints([ld]), info, 1);
  return infoOf(lib, info, 'dpotrf');
}

/**
 * `dsygst` with ITYPE 1 and UPLO 'U' (column-major upper = row-major lower): overwrites the
 * row-major lower triangle of the symmetric n x n array `a` with that of `C = L⁻¹ A L⁻ᵀ`, where
 * `l` holds {@link lapackPotrf}'s factor of `B = L Lᵀ` in its row-major lower triangle (its strict
 * upper triangle is not read). The strict upper triangle of `a` is left as it was. The eigenvalues
 * of C are those of the pencil `A v = λ B v`.
 */
export function lapackSygst(lib: NativeLib, a: Float64Array, l: Float64Array, n: number): void {
  const what = 'generalized eigenvalues (dsygst)';
  const ld = Math.max(1, n);
  checkDims(lib, what, { n, lda: ld, ldb: ld });
  checkCol(what, 'A', a, n, n, ld);
  checkCol(what, 'B', l, n, n, ld);
  checkFinite(what, a.subarray(0, n * n));
  checkFinite(what, l.subarray(0, n * n));
  if (n === 0) return;
  const info = intArray(lib, 1);
  lib.fn.dsygst(lib.ints([1]), 'U', lib.ints([n]), a, lib.ints([ld]), l, lib.ints([ld]), info, 1);
  infoOf(lib, info, 'dsygst');
}
