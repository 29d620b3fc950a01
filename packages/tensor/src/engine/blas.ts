// Checked BLAS wrappers over the native provider. Every wrapper validates dimensions, leading
// dimensions and buffer lengths before the call (a wrong one would crash the process, not throw)
// and returns false when no native library is in use, so callers fall back to WebAssembly.
import { BasisError } from '../errors.js';
import type { GemmArgs } from '../linalg/wasm-kernels.js';
import { nativeLib } from './engine.js';
import type { NativeLib } from './native.js';
import { splitSgemm, type SgemmArgs } from './sgemm-split.js';

export type { SgemmArgs };

const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;
const UPPER = 121;
const INT32_MAX = 2 ** 31 - 1;

/** Throws unless every value is a non-negative integer that the library's integers can hold. */
export function checkDims(lib: NativeLib, what: string, dims: Record<string, number>): void {
  for (const [name, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 0) throw new BasisError('INVALID_ARGUMENT', `${what}: ${name} must be a non-negative integer, got ${v}`);
    if (!lib.int64 && v > INT32_MAX) {
      throw new BasisError(
        'INVALID_ARGUMENT',
        `${what}: ${name} = ${v} does not fit the 32-bit integers of ${lib.path}; use a 64-bit-integer (ILP64) BLAS or BASIS_BLAS=off`,
      );
    }
  }
}

/**
 * Throws unless `buf` holds a row-major `rows x cols` block with row stride `ld` from `off`
 * (also checks `ld >= cols`).
 */
export function checkBlock(what: string, name: string, buf: ArrayLike<number>, off: number, rows: number, cols: number, ld: number): void {
  if (ld < Math.max(1, cols)) throw new BasisError('INVALID_ARGUMENT', `${what}: leading dimension of ${name} is ${ld}, must be >= max(1, ${cols})`);
  if (!Number.isInteger(off) || off < 0) throw new BasisError('INVALID_ARGUMENT', `${what}: offset of ${name} must be a non-negative integer, got ${off}`);
  if (rows === 0 || cols === 0) return;
  const need = off + (rows - 1) * ld + cols;
  if (buf.length < need) {
    throw new BasisError(
      'INVALID_ARGUMENT',
      `${what}: ${name} needs ${need} elements (offset ${off}, ${rows} x ${cols}, leading dimension ${ld}) but has ${buf.length}${buf.length === 0 ? ' (a detached or stale view?)' : ''}`,
    );
  }
}

/** `C (+)= op(A) op(B)` on the native BLAS (see {@link GemmArgs}); false when not native. */
export function nativeGemm(g: GemmArgs): boolean {
  const lib = nativeLib();
  if (lib === null) return false;
  const { m, n, k, A, aOff, lda, transA, B, bOff, ldb, transB, C, cOff, ldc } = g;
  const what = 'gemm';
  checkDims(lib, what, { m, n, k, lda, ldb, ldc });
  checkBlock(what, 'A', A, aOff, transA ? k : m, transA ? m : k, lda);
  checkBlock(what, 'B', B, bOff, transB ? n : k, transB ? k : n, ldb);
  checkBlock(what, 'C', C, cOff, m, n, ldc);
  if (m === 0 || n === 0) return true;
  if (A === B && aOff === bOff && lda === ldb && transA !== transB && m === n && C !== A) {
    // op(A) op(A)ᵀ or op(A)ᵀ op(A): a symmetric rank-k update (half the work), upper triangle.
    // With upperOnly the caller mirrors; otherwise mirror here.
    lib.fn.dsyrk(ROW_MAJOR, UPPER, transA ? TRANS : NO_TRANS, n, k, 1, aOff === 0 ? A : A.subarray(aOff), lda, g.accumulate ? 1 : 0, cOff === 0 ? C : C.subarray(cOff), ldc);
    if (!g.upperOnly) {
      for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) C[cOff + i * ldc + j] = C[cOff + j * ldc + i] as number;
    }
    return true;
  }
  lib.fn.dgemm(
    ROW_MAJOR,
    transA ? TRANS : NO_TRANS,
    transB ? TRANS : NO_TRANS,
    m,
    n,
    k,
    1,
    aOff === 0 ? A : A.subarray(aOff),
    lda,
    bOff === 0 ? B : B.subarray(bOff),
    ldb,
    g.accumulate ? 1 : 0,
    cOff === 0 ? C : C.subarray(cOff),
    ldc,
  );
  return true;
}

/**
 * Float32 `C = alpha op(A) op(B) + beta C` on the native BLAS (`cblas_sgemm`), for the training
 * kernels; the arrays may be views on WebAssembly memory (take them right before the call).
 * False when no native library is in use.
 */
export function nativeSgemm(g: SgemmArgs): boolean {
  const lib = nativeLib();
  if (lib === null) return false;
  const { m, n, k, A, lda, transA, B, ldb, transB, C, ldc } = g;
  const what = 'sgemm';
  // the training kernels make hundreds of calls per step: check without allocating, report through checkDims
  const limit = lib.int64 ? Number.MAX_SAFE_INTEGER : INT32_MAX;
  const fits = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= limit;
  if (!(fits(m) && fits(n) && fits(k) && fits(lda) && fits(ldb) && fits(ldc))) checkDims(lib, what, { m, n, k, lda, ldb, ldc });
  checkBlock(what, 'A', A, 0, transA ? k : m, transA ? m : k, lda);
  checkBlock(what, 'B', B, 0, transB ? n : k, transB ? k : n, ldb);
  checkBlock(what, 'C', C, 0, m, n, ldc);
  if (m === 0 || n === 0) return true;
  const threads = g.serial === true && lib.flavour === 'openblas' ? lib.getThreads() : 1;
  if (threads <= 1) {
    lib.fn.sgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, g.alpha ?? 1, A, lda, B, ldb, g.beta ?? 0, C, ldc);
    return true;
  }
  // openblas_set_num_threads only sets a counter once the threads exist (about 0.1 us a call)
  lib.setThreads(1);
  try {
    // large enough: half the rows on this thread, half on a helper thread (both one-thread calls)
    if (!splitSgemm(lib, { m, n, k, alpha: g.alpha ?? 1, A, lda, transA, B, ldb, transB, beta: g.beta ?? 0, C, ldc })) {
      lib.fn.sgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, g.alpha ?? 1, A, lda, B, ldb, g.beta ?? 0, C, ldc);
    }
  } finally {
    lib.setThreads(threads);
  }
  return true;
}

/** Operands of a matrix-vector product `y = op(A) x` (row-major A, unit strides, offsets in elements). */
export interface GemvArgs {
  /** Rows and columns of A as stored (op(A) is cols x rows when `trans`). */
  rows: number;
  cols: number;
  A: Float64Array;
  aOff: number;
  /** Row stride of A (>= cols). */
  lda: number;
  /** Multiply by Aᵀ (x has `rows` entries, y `cols`) instead of A (x has `cols`, y `rows`). */
  trans: boolean;
  x: Float64Array;
  /** The output, overwritten (its previous contents are never read). */
  y: Float64Array;
}

/**
 * Entries of A below which a dgemv runs on one OpenBLAS thread even when more are configured.
 * OpenBLAS 0.3.21 splits every dgemv above 9216 entries, but one core reads a matrix this small
 * in well under a millisecond, about what waking (and on a busy machine, waiting for) a second
 * thread costs. Column sums of n x 256, best of 40, 1 vs 2 threads, 2 cores under load ~13
 * (2026-12-07): 2000 rows 68 vs 86 us, 4000 164 vs 247 us, 8000 (2^21 entries) 356 vs 326 us,
 * 40000 6.1 vs 4.4 ms; the medians favour one thread by far more (0.31 vs 3.7 ms at 4000 rows).
 */
export const GEMV_SERIAL_BELOW = 1 << 21;

/**
 * `y = op(A) x` on the native BLAS (`cblas_dgemv`: vectorised, one read of A at memory speed;
 * `dgemm` with a unit dimension is about 4x slower in OpenBLAS 0.3.21); on one OpenBLAS thread
 * below {@link GEMV_SERIAL_BELOW} entries. False when not native.
 */
export function nativeGemv(g: GemvArgs): boolean {
  const lib = nativeLib();
  if (lib === null) return false;
  const { rows, cols, A, aOff, lda, trans, x, y } = g;
  const what = 'gemv';
  checkDims(lib, what, { rows, cols, lda });
  checkBlock(what, 'A', A, aOff, rows, cols, lda);
  const [nx, ny] = trans ? [rows, cols] : [cols, rows];
  if (x.length < nx) throw new BasisError('INVALID_ARGUMENT', `${what}: x needs ${nx} elements but has ${x.length}`);
  if (y.length < ny) throw new BasisError('INVALID_ARGUMENT', `${what}: y needs ${ny} elements but has ${y.length}`);
  if (ny === 0) return true;
  if (nx === 0) {
    y.fill(0, 0, ny);
    return true;
  }
  // y is zeroed first: with beta = 0 some BLAS builds still read y (0 * NaN)
  y.fill(0, 0, ny);
  const threads = lib.flavour === 'openblas' && rows * cols < GEMV_SERIAL_BELOW ? lib.getThreads() : 1;
  if (threads <= 1) {
    lib.fn.dgemv(ROW_MAJOR, trans ? TRANS : NO_TRANS, rows, cols, 1, aOff === 0 ? A : A.subarray(aOff), lda, x, 1, 0, y, 1);
    return true;
  }
  // openblas_set_num_threads only sets a counter once the threads exist (about 0.1 us a call)
  lib.setThreads(1);
  try {
    lib.fn.dgemv(ROW_MAJOR, trans ? TRANS : NO_TRANS, rows, cols, 1, aOff === 0 ? A : A.subarray(aOff), lda, x, 1, 0, y, 1);
  } finally {
    lib.setThreads(threads);
  }
  return true;
}

/** Elements per `cblas_idamax` call (within every library's integer range). */
const IDAMAX_CHUNK = 2 ** 30;

/**
 * `max_k |a_k|` by the native BLAS (`cblas_idamax`, vectorised: about a fifth of a JavaScript pass),
 * or null when no native library is in use or the entry it picks is NaN (the caller's loop then
 * decides, so results never depend on how a library treats NaN).
 */
export function nativeMaxAbs(a: Float64Array): number | null {
  const lib = nativeLib();
  if (lib === null) return null;
  let m = 0;
  for (let off = 0; off < a.length; off += IDAMAX_CHUNK) {
    const len = Math.min(IDAMAX_CHUNK, a.length - off);
    checkDims(lib, 'idamax', { n: len });
    const i = Number(lib.fn.idamax(len, off === 0 ? a : a.subarray(off), 1));
    if (!Number.isInteger(i) || i < 0 || i >= len) throw new BasisError('INVALID_ARGUMENT', `idamax returned index ${i} for ${len} elements (a bug in the native wrapper; BASIS_BLAS=off avoids it)`);
    const v = Math.abs(a[off + i] as number);
    if (Number.isNaN(v)) return null;
    if (v > m) m = v;
  }
  return m;
}
