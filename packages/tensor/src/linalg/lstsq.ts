import { BasisError } from '../errors.js';
import { Matrix } from '../matrix.js';
import type { MatrixLike, NumericArrayLike } from '../matrix.js';
import { gemm, matmulData } from './gemm.js';
import { svdKernel } from './svd.js';
import { EPS, checkOption, checkedMatrix, checkedRhs } from './validate.js';

/**
 * Rank tolerance options shared by {@link rank}, {@link pinv} and {@link lstsq}. Singular values
 * `s_i > tol` count as non-zero. Default `tol = max(m, n) * 2^-52 * s_1` (the fixtures'
 * definition); `atol` sets an absolute threshold, `rtol` one relative to `s_1`; with both, the
 * larger applies.
 */
export interface RankTolerance {
  /** Threshold relative to the largest singular value (>= 0). */
  rtol?: number;
  /** Absolute threshold (>= 0). */
  atol?: number;
}

/** The rank threshold for singular values `s` (descending) of an m x n matrix. */
export function rankThreshold(s: Float64Array, m: number, n: number, opts: RankTolerance = {}): number {
  checkOption(opts.rtol, 'rtol', (x) => x >= 0, 'a non-negative number');
  checkOption(opts.atol, 'atol', (x) => x >= 0, 'a non-negative number');
  const s1 = s.length > 0 ? (s[0] as number) : 0;
  if (opts.rtol === undefined && opts.atol === undefined) return Math.max(m, n) * EPS * s1;
  return Math.max(opts.atol ?? 0, (opts.rtol ?? 0) * s1);
}

function countAbove(s: Float64Array, tol: number): number {
  let r = 0;
  while (r < s.length && (s[r] as number) > tol) r++;
  return r;
}

/**
 * Numerical rank: the number of singular values above the tolerance (see {@link RankTolerance};
 * default `max(m, n) * 2^-52 * s_1`). 0 for the zero matrix. The singular values come from
 * {@link svd} (LAPACK dgesdd on the native provider).
 *
 * @example
 * ```ts
 * rank([[1, 2], [2, 4]]); // 1
 * rank([[1, 0], [0, 1e-3]], { rtol: 1e-2 }); // 1
 * ```
 */
export function rank(A: MatrixLike, opts: RankTolerance = {}): number {
  const a = checkedMatrix(A, 'A');
  const { s } = svdKernel(a.data, a.rows, a.cols, false);
  return countAbove(s, rankThreshold(s, a.rows, a.cols, opts));
}

/**
 * Moore–Penrose pseudo-inverse `A⁺ = V_r diag(1/s_r) U_rᵀ` (n x m) from the SVD ({@link svd}:
 * LAPACK dgesdd on the native provider), keeping the singular values above the rank tolerance
 * (see {@link RankTolerance}).
 *
 * @example
 * ```ts
 * pinv([[2, 0], [0, 0]]).toArray(); // [[0.5, 0], [0, 0]]
 * ```
 */
export function pinv(A: MatrixLike, opts: RankTolerance = {}): Matrix {
  const a = checkedMatrix(A, 'A');
  const m = a.rows;
  const n = a.cols;
  const f = svdKernel(a.data, m, n, true);
  const r = countAbove(f.s, rankThreshold(f.s, m, n, opts));
  const k = f.s.length;
  // W = V_r diag(1/s) (n x r) and U_r (m x r); A⁺ = W U_rᵀ = rows of W dotted with rows of U_r.
  const W = new Float64Array(n * r);
  const Ur = new Float64Array(m * r);
  const U = f.U as Float64Array;
  const V = f.V as Float64Array;
  for (let i = 0; i < n; i++) for (let j = 0; j < r; j++) W[i * r + j] = (V[i * k + j] as number) / (f.s[j] as number);
  for (let i = 0; i < m; i++) for (let j = 0; j < r; j++) Ur[i * r + j] = U[i * k + j] as number;
  const out = new Matrix(n, m);
  if (r > 0) gemm(out.data, n, m, r, W, false, Ur, true);
  return out;
}

/** Options of {@link lstsq}. */
export type LstsqOptions = RankTolerance;

/** Result of {@link lstsq}. */
export interface LstsqResult<T> {
  /** The minimum-norm least-squares solution (n x r Matrix, or a Float64Array for a vector B). */
  x: T;
  /** Numerical rank of A used for the solution. */
  rank: number;
  /** Squared residual norm `||A x - b||²` of each column of B (always computed). */
  residuals: Float64Array;
  /** Singular values of A, descending. */
  s: Float64Array;
}

/**
 * Minimum-norm least squares `x = argmin ||A x - B||` (and of minimum `||x||` among minimisers)
 * through the SVD ({@link svd}: LAPACK dgesdd on the native provider, basis' kernel otherwise),
 * dropping singular values at or below the rank tolerance (see {@link RankTolerance}). LAPACK's
 * dgels is not used: it assumes full rank and gives neither the minimum-norm solution of a
 * rank-deficient A nor `s`. Works for tall, wide and rank-deficient A. `B` is a matrix with m rows
 * or a vector of length m.
 *
 * @example
 * ```ts
 * const r = lstsq([[1, 0], [0, 1], [0, 0]], [1, 2, 3]);
 * r.x; // Float64Array [1, 2]
 * r.residuals; // Float64Array [9]
 * ```
 */
export function lstsq(A: MatrixLike, B: NumericArrayLike, opts?: LstsqOptions): LstsqResult<Float64Array>;
export function lstsq(A: MatrixLike, B: MatrixLike, opts?: LstsqOptions): LstsqResult<Matrix>;
export function lstsq(
  A: MatrixLike,
  B: MatrixLike | NumericArrayLike,
  opts: LstsqOptions = {},
): LstsqResult<Matrix> | LstsqResult<Float64Array> {
  const a = checkedMatrix(A, 'A');
  const { mat: b, vector } = checkedRhs(B, 'B');
  const m = a.rows;
  const n = a.cols;
  if (b.rows !== m) {
    throw new BasisError('SHAPE_MISMATCH', `lstsq(A, B): A has ${m} rows but B has ${b.rows}; they must match`);
  }
  const f = svdKernel(a.data, m, n, true);
  const r = countAbove(f.s, rankThreshold(f.s, m, n, opts));
  const k = f.s.length;
  const nb = b.cols;
  const U = f.U as Float64Array;
  const V = f.V as Float64Array;
  // C = diag(1/s_r) U_rᵀ B  (r x nb), then x = V_r C.
  const Ur = new Float64Array(m * r);
  for (let i = 0; i < m; i++) for (let j = 0; j < r; j++) Ur[i * r + j] = U[i * k + j] as number;
  const C = new Float64Array(r * nb);
  if (r > 0) gemm(C, r, nb, m, Ur, true, b.data, false);
  for (let j = 0; j < r; j++) {
    const inv = 1 / (f.s[j] as number);
    for (let c = 0; c < nb; c++) C[j * nb + c] = (C[j * nb + c] as number) * inv;
  }
  const Vr = new Float64Array(n * r);
  for (let i = 0; i < n; i++) for (let j = 0; j < r; j++) Vr[i * r + j] = V[i * k + j] as number;
  const x = matmulData(Vr, C, n, r, nb);
  const Ax = matmulData(a.data, x, m, n, nb);
  const residuals = new Float64Array(nb);
  for (let i = 0; i < m; i++) {
    for (let c = 0; c < nb; c++) {
      const d = (Ax[i * nb + c] as number) - (b.data[i * nb + c] as number);
      residuals[c] = (residuals[c] as number) + d * d;
    }
  }
  if (vector) return { x, rank: r, residuals, s: f.s };
  return { x: new Matrix(n, nb, x), rank: r, residuals, s: f.s };
}
