import { lapackGesv, lapackGetrf, nativeFor } from '../engine/lapack.js';
import { BasisError } from '../errors.js';
import { Matrix } from '../matrix.js';
import type { MatrixLike, NumericArrayLike } from '../matrix.js';
import { transposeData } from './gemm.js';
import { EPS, checkedRhs, checkedSquare, maxAbs } from './validate.js';

/** LU factors with partial pivoting: P A = L U, packed (unit L below the diagonal). */
interface LuFactors {
  lu: Float64Array;
  /** Row i of P A is row piv[i] of A. */
  piv: Int32Array;
  /** +1 or -1: the permutation's sign. */
  sign: number;
  /** Index of the first pivot that is exactly zero (-1 if none). */
  zeroAt: number;
}

/** In-place LU with partial pivoting (largest |.| in the column, first on ties). */
function luKernel(a: Float64Array, n: number): LuFactors {
  const piv = new Int32Array(n);
  for (let i = 0; i < n; i++) piv[i] = i;
  let sign = 1;
  let zeroAt = -1;
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = Math.abs(a[k * n + k] as number);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(a[i * n + k] as number);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    if (p !== k) {
      const rp = p * n;
      const rk = k * n;
      for (let j = 0; j < n; j++) {
        const t = a[rk + j] as number;
        a[rk + j] = a[rp + j] as number;
        a[rp + j] = t;
      }
      const t = piv[k] as number;
      piv[k] = piv[p] as number;
      piv[p] = t;
      sign = -sign;
    }
    const pk = a[k * n + k] as number;
    if (pk === 0) {
      if (zeroAt < 0) zeroAt = k;
      continue;
    }
    const rk = k * n;
    for (let i = k + 1; i < n; i++) {
      const ri = i * n;
      const l = (a[ri + k] as number) / pk;
      a[ri + k] = l;
      if (l === 0) continue;
      for (let j = k + 1; j < n; j++) a[ri + j] = (a[ri + j] as number) - l * (a[rk + j] as number);
    }
  }
  return { lu: a, piv, sign, zeroAt };
}

/** RANK_DEFICIENT at the first pivot with `|u_kk| <= tol` (A numerically singular). */
function checkPivots(pivot: (k: number) => number, n: number, tol: number): void {
  for (let k = 0; k < n; k++) {
    const u = Math.abs(pivot(k));
    if (u <= tol) {
      throw new BasisError(
        'RANK_DEFICIENT',
        `solve: A is singular to working precision (pivot ${k} is ${u} <= ${tol}); use lstsq for a least-squares / minimum-norm solution`,
        { details: { pivot: k, value: u, tol } },
      );
    }
  }
}

/**
 * Solves `A X = B` for square A by LU with partial pivoting: LAPACK `dgesv` on the native
 * provider (see `engineInfo()`) from n = 24 on, basis' own kernel otherwise; both factor A
 * itself with the same pivoting rule. `B` is a matrix (n x r; returns a
 * Matrix) or a vector of length n (returns a Float64Array). A pivot of U with
 * `|u_kk| <= n * 2^-52 * max|A|` means A is numerically singular: RANK_DEFICIENT (use
 * {@link lstsq} for singular or rectangular systems).
 *
 * @example
 * ```ts
 * solve([[2, 0], [0, 4]], [2, 8]); // Float64Array [1, 2]
 * ```
 */
export function solve(A: MatrixLike, B: NumericArrayLike): Float64Array;
export function solve(A: MatrixLike, B: MatrixLike): Matrix;
export function solve(A: MatrixLike, B: MatrixLike | NumericArrayLike): Matrix | Float64Array {
  const a = checkedSquare(A, 'A');
  const { mat: b, vector } = checkedRhs(B, 'B');
  const n = a.rows;
  if (b.rows !== n) {
    throw new BasisError('SHAPE_MISMATCH', `solve(A, B): A is ${n} x ${n} but B has ${b.rows} rows; B needs ${n}`);
  }
  const tol = n * EPS * maxAbs(a.data);
  const r = b.cols;
  const lib = nativeFor('solve', n);
  if (lib !== null) {
    // LAPACK dgesv on column-major copies (the LU of A itself, so pivots match the kernel below).
    const lu = transposeData(a.data, n, n);
    const xc = r === 1 ? b.data.slice() : transposeData(b.data, n, r);
    lapackGesv(lib, lu, n, xc, r);
    checkPivots((k) => lu[k * n + k] as number, n, tol);
    const x = r === 1 ? xc : transposeData(xc, r, n);
    return vector ? x : new Matrix(n, r, x);
  }
  const f = luKernel(a.data.slice(), n);
  checkPivots((k) => f.lu[k * n + k] as number, n, tol);
  const x = new Float64Array(n * r);
  // Apply P, then forward (unit L) and backward (U) substitution on rows of X.
  for (let i = 0; i < n; i++) x.set(b.data.subarray((f.piv[i] as number) * r, (f.piv[i] as number) * r + r), i * r);
  const lu = f.lu;
  for (let i = 1; i < n; i++) {
    const ri = i * r;
    for (let k = 0; k < i; k++) {
      const l = lu[i * n + k] as number;
      if (l === 0) continue;
      const rk = k * r;
      for (let j = 0; j < r; j++) x[ri + j] = (x[ri + j] as number) - l * (x[rk + j] as number);
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    const ri = i * r;
    for (let k = i + 1; k < n; k++) {
      const u = lu[i * n + k] as number;
      if (u === 0) continue;
      const rk = k * r;
      for (let j = 0; j < r; j++) x[ri + j] = (x[ri + j] as number) - u * (x[rk + j] as number);
    }
    const d = lu[i * n + i] as number;
    for (let j = 0; j < r; j++) x[ri + j] = (x[ri + j] as number) / d;
  }
  return vector ? x : new Matrix(n, r, x);
}

/**
 * Determinant of a square matrix via LU with partial pivoting (product of the pivots times the
 * permutation sign; exactly 0 when a pivot is exactly 0): LAPACK `dgetrf` on the native provider
 * from n = 32 on, basis' own kernel otherwise. May over/underflow to ±Infinity / 0
 * for very large matrices with large/small entries.
 *
 * @example
 * ```ts
 * determinant([[1, 2], [3, 4]]); // -2
 * ```
 */
export function determinant(A: MatrixLike): number {
  const a = checkedSquare(A, 'A');
  return determinantData(a.data.slice(), a.rows);
}

/** Determinant of a row-major n x n array (overwritten). */
export function determinantData(a: Float64Array, n: number): number {
  const lib = nativeFor('det', n);
  if (lib !== null) {
    // LAPACK dgetrf on the column-major copy (the LU of A itself, as the kernel below).
    const lu = transposeData(a, n, n);
    const { ipiv, info } = lapackGetrf(lib, lu, n);
    if (info > 0) return 0;
    let det = 1;
    for (let k = 0; k < n; k++) {
      det *= lu[k * n + k] as number;
      if (lib.intAt(ipiv, k) !== k + 1) det = -det;
    }
    return det;
  }
  const f = luKernel(a, n);
  if (f.zeroAt >= 0) return 0;
  let det = f.sign;
  for (let k = 0; k < n; k++) det *= f.lu[k * n + k] as number;
  return det;
}
