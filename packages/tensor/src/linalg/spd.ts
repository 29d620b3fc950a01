import { lapackPotrf, nativeFor } from '../engine/lapack.js';
import { BasisError } from '../errors.js';
import { Matrix } from '../matrix.js';
import type { MatrixLike } from '../matrix.js';
import { eighKernel } from './eigh.js';
import { gemm } from './gemm.js';
import { DEFAULT_SYMMETRY_TOL, EPS, checkOption, checkedSquare, symmetrised } from './validate.js';

/** Options shared by the SPD functions. */
export interface SymmetricOptions {
  /** Accepted relative asymmetry before INVALID_ARGUMENT (default 1e-8); the input is symmetrised. */
  symmetryTol?: number;
}

/**
 * Cholesky factorisation `S = L Lᵀ` of a symmetric positive definite matrix (L lower triangular
 * with a positive diagonal): LAPACK `dpotrf` on the native provider (see `engineInfo()`)
 * from n = 32 on, basis' own kernel otherwise. Throws RANK_DEFICIENT naming the first pivot that is not positive
 * (S is not positive definite to working precision); asymmetry beyond `symmetryTol` is
 * INVALID_ARGUMENT.
 *
 * @example
 * ```ts
 * cholesky([[4, 2], [2, 5]]).toArray(); // [[2, 0], [1, 2]]
 * ```
 */
export function cholesky(S: MatrixLike, opts: SymmetricOptions = {}): Matrix {
  const s = checkedSquare(S, 'S');
  checkOption(opts.symmetryTol, 'symmetryTol', (x) => x >= 0, 'a non-negative number');
  const n = s.rows;
  const a = symmetrised(s, 'S', opts.symmetryTol ?? DEFAULT_SYMMETRY_TOL);
  const lib = nativeFor('cholesky', n);
  if (lib !== null) {
    // LAPACK dpotrf, UPLO 'U' on the column-major view = L in the row-major lower triangle.
    const info = lapackPotrf(lib, a, n);
    if (info > 0) notPositiveDefinite(info - 1, a[(info - 1) * (n + 1)] as number);
    for (let i = 0; i < n; i++) a.fill(0, i * n + i + 1, i * n + n);
    return new Matrix(n, n, a);
  }
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      let sum = a[ri + j] as number;
      for (let k = 0; k < j; k++) sum -= (L[ri + k] as number) * (L[rj + k] as number);
      if (i === j) {
        if (!(sum > 0)) notPositiveDefinite(i, sum);
        L[ri + i] = Math.sqrt(sum);
      } else {
        L[ri + j] = sum / (L[rj + j] as number);
      }
    }
  }
  return new Matrix(n, n, L);
}

/** RANK_DEFICIENT naming the first pivot of the Cholesky factorisation that is not positive. */
function notPositiveDefinite(pivot: number, value: number): never {
  throw new BasisError(
    'RANK_DEFICIENT',
    `cholesky: S is not positive definite: pivot ${pivot} is ${value} (must be > 0); ` +
      `regularise (S + eps I) or use eigh / sqrtmSpd for semi-definite matrices`,
    { details: { pivot, value } },
  );
}

/** Options of {@link sqrtmSpd}. */
export interface SqrtmOptions extends SymmetricOptions {
  /**
   * Eigenvalues in `[-tol, 0)` are treated as rounding and clipped to 0; below `-tol` the
   * input is INVALID_ARGUMENT (not positive semi-definite). Default `n * 2^-52 * max|λ|`.
   */
  tol?: number;
}

/** Options of {@link invSqrtmSpd}. */
export interface InvSqrtmOptions extends SqrtmOptions {
  /**
   * What to do with eigenvalues `<= tol` (zero or rounding-negative):
   * `'pseudo'` (default) maps them to 0, giving the pseudo-inverse square root
   * `(S⁺)^{1/2}`, which is zero on the null space; `'error'` throws RANK_DEFICIENT.
   */
  singular?: 'pseudo' | 'error';
  /**
   * Regularising floor: every eigenvalue is replaced by `max(λ, floor)` before inverting
   * (so nothing is dropped). Must be > 0. Overrides `singular`.
   */
  floor?: number;
}

function spectral(S: MatrixLike, opts: SqrtmOptions, name: string): { values: Float64Array; vectors: Float64Array; n: number; tol: number } {
  const s = checkedSquare(S, 'S');
  checkOption(opts.symmetryTol, 'symmetryTol', (x) => x >= 0, 'a non-negative number');
  checkOption(opts.tol, 'tol', (x) => x >= 0, 'a non-negative number');
  const n = s.rows;
  const a = symmetrised(s, 'S', opts.symmetryTol ?? DEFAULT_SYMMETRY_TOL);
  const { values, vectors } = eighKernel(a, n, true);
  const top = Math.max(Math.abs(values[0] as number), Math.abs(values[n - 1] as number));
  const tol = opts.tol ?? n * EPS * top;
  const low = values[n - 1] as number;
  if (low < -tol) {
    throw new BasisError(
      'INVALID_ARGUMENT',
      `${name}: S is not positive semi-definite (smallest eigenvalue ${low} < -${tol}); pass a covariance / Gram matrix or raise tol`,
      { details: { eigenvalue: low, tol } },
    );
  }
  return { values, vectors: vectors as Float64Array, n, tol };
}

/** V diag(f) Vᵀ as (V diag f) Vᵀ, then symmetrised exactly. */
function reconstruct(V: Float64Array, f: Float64Array, n: number): Matrix {
  const W = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) W[i * n + j] = (V[i * n + j] as number) * (f[j] as number);
  const C = new Float64Array(n * n);
  gemm(C, n, n, n, W, false, V, true);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const v = 0.5 * (C[i * n + j] as number) + 0.5 * (C[j * n + i] as number);
      C[i * n + j] = v;
      C[j * n + i] = v;
    }
  }
  return new Matrix(n, n, C);
}

/**
 * Principal square root of a symmetric positive semi-definite matrix, `S^{1/2} = V diag(sqrt λ)
 * Vᵀ` via {@link eigh} (LAPACK dsyevd on the native provider): symmetric PSD with `S^{1/2} S^{1/2} = S`. Eigenvalues within `tol` below
 * zero are clipped to 0; more negative ones are INVALID_ARGUMENT.
 *
 * @example
 * ```ts
 * sqrtmSpd([[4, 0], [0, 9]]).toArray(); // [[2, 0], [0, 3]]
 * ```
 */
export function sqrtmSpd(S: MatrixLike, opts: SqrtmOptions = {}): Matrix {
  const { values, vectors, n } = spectral(S, opts, 'sqrtmSpd');
  const f = new Float64Array(n);
  for (let j = 0; j < n; j++) f[j] = Math.sqrt(Math.max(0, values[j] as number));
  return reconstruct(vectors, f, n);
}

/**
 * Inverse square root `S^{-1/2} = V diag(1/sqrt λ) Vᵀ` of a symmetric positive (semi-)definite
 * matrix via {@link eigh} (LAPACK dsyevd on the native provider; whitening). Rank-deficient input follows the documented policy:
 * by default eigenvalues `<= tol` are dropped (pseudo-inverse square root, so
 * `S^{-1/2} S S^{-1/2}` is the projector onto the range of S); `singular: 'error'` throws
 * RANK_DEFICIENT instead; `floor` regularises with `max(λ, floor)`.
 *
 * @example
 * ```ts
 * invSqrtmSpd([[4, 0], [0, 0]]).toArray(); // [[0.5, 0], [0, 0]]
 * invSqrtmSpd([[4, 0], [0, 0]], { floor: 1 }).toArray(); // [[0.5, 0], [0, 1]]
 * ```
 */
export function invSqrtmSpd(S: MatrixLike, opts: InvSqrtmOptions = {}): Matrix {
  checkOption(opts.floor, 'floor', (x) => x > 0, 'a positive number');
  const policy = opts.singular ?? 'pseudo';
  if (policy !== 'pseudo' && policy !== 'error') {
    throw new BasisError('INVALID_ARGUMENT', `invSqrtmSpd: option singular must be 'pseudo' or 'error', got ${String(policy)}`);
  }
  const { values, vectors, n, tol } = spectral(S, opts, 'invSqrtmSpd');
  const f = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const l = values[j] as number;
    if (opts.floor !== undefined) {
      f[j] = 1 / Math.sqrt(Math.max(l, opts.floor));
    } else if (l > tol) {
      f[j] = 1 / Math.sqrt(l);
    } else if (policy === 'error') {
      throw new BasisError(
        'RANK_DEFICIENT',
        `invSqrtmSpd: S is singular (eigenvalue ${j} is ${l} <= tol ${tol}); use the default singular: 'pseudo' or a floor`,
        { details: { index: j, eigenvalue: l, tol } },
      );
    } else {
      f[j] = 0;
    }
  }
  return reconstruct(vectors, f, n);
}
