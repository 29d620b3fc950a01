import { lapackSyevd, nativeFor, scratch } from '../engine/lapack.js';
import { float64Buffer } from '../memory.js';
import { isBasisError } from '../errors.js';
import { Matrix } from '../matrix.js';
import type { MatrixLike } from '../matrix.js';
import { makeBlas2 } from './blas2.js';
import { accumulateReflectors, applyReflectorsLeft, makeReflector } from './householder.js';
import { tridiagonalizeBlocked } from './tridiag-blocked.js';
import { DC_LEAF, tridiagEigDC } from './tridiag-dc.js';
import { tql } from './tridiag-ql.js';
import { DEFAULT_SYMMETRY_TOL, checkOption, checkedSquare, maxAbs, pow2Near, symmetrisedMax } from './validate.js';

/** From this size on the reduction to tridiagonal form is blocked (panels + matrix products). */
const BLOCKED_MIN = 256;

/** Options of {@link eigh}. */
export interface EighOptions {
  /** Compute eigenvectors (default true). `false` returns values only (several times faster). */
  vectors?: boolean;
  /**
   * Accepted relative asymmetry `max|S_ij - S_ji| / max|S|` (default 1e-8). Within it the input is
   * symmetrised as `(S + Sᵀ)/2`; beyond it INVALID_ARGUMENT is thrown.
   */
  symmetryTol?: number;
}

/** Result of {@link eigh}. */
export interface EighResult {
  /** Eigenvalues in descending order. */
  values: Float64Array;
  /**
   * Orthonormal eigenvectors as the columns of an n x n matrix (column j belongs to `values[j]`),
   * each with its largest-|.| component positive (first such index on ties). With
   * `vectors: false` eigh returns `{ values }` only.
   */
  vectors: Matrix;
}

/**
 * Symmetric eigendecomposition `S = V diag(values) Vᵀ`.
 *
 * Provider: with the native engine (a system LAPACK, see `engineInfo()`) and n >= 4, LAPACK
 * `dsyevd` computes it (Householder tridiagonalisation, then divide and conquer; values only:
 * root-free QR) on a copy scaled by an exact power of two, and basis applies the contract below
 * (order, signs) to its output; NOT_CONVERGED if dsyevd reports a failure. Otherwise, and always
 * with `BASIS_BLAS=off` or in the browser, basis' own kernel computes it: Householder
 * tridiagonalisation (blocked from n = 256 on), then — with eigenvectors and n > 25 — the
 * tridiagonal divide-and-conquer method (Cuppen, with Gu–Eisenstat deflation and eigenvector
 * recomputation, as LAPACK dstedc) and the blocked back-transformation, otherwise implicit QL
 * iterations with Wilkinson-type shifts (values only always use QL). Its reduction,
 * divide-and-conquer merges, back-transformation (matrix products) and rotation accumulation run
 * on WebAssembly SIMD kernels when available (the JavaScript fallback gives bit-identical
 * results); NOT_CONVERGED is thrown if an iteration fails to converge (not observed in practice).
 *
 * Contract (both providers): values are sorted in descending order and each eigenvector's
 * largest-magnitude component is positive (seeds-spec 0.4); within a repeated eigenvalue the
 * basis is whatever the algorithm produces (deterministic for a given provider, core type and
 * thread count). The input must be square (SHAPE_MISMATCH), finite (NON_FINITE_INPUT), non-empty
 * (TOO_SMALL) and symmetric to within `symmetryTol` (INVALID_ARGUMENT). Absolute accuracy is
 * about `n * 2^-52 * max|λ|`; the eigenvectors are orthonormal to about `n * 2^-52` also for
 * clustered eigenvalues. The two providers agree to rounding (~1e-14 relative).
 *
 * @example
 * ```ts
 * const { values, vectors } = eigh([[2, 1], [1, 2]]);
 * values; // Float64Array [3, 1]
 * vectors.col(0); // [0.7071..., 0.7071...]
 * ```
 */
export function eigh(S: MatrixLike, opts?: EighOptions & { vectors?: true }): EighResult;
export function eigh(S: MatrixLike, opts: EighOptions & { vectors: false }): { values: Float64Array };
export function eigh(S: MatrixLike, opts: EighOptions): EighResult | { values: Float64Array };
export function eigh(S: MatrixLike, opts: EighOptions = {}): EighResult | { values: Float64Array } {
  const s = checkedSquare(S, 'S');
  checkOption(opts.symmetryTol, 'symmetryTol', (x) => x >= 0, 'a non-negative number');
  const wantVectors = opts.vectors !== false;
  const n = s.rows;
  // On the native path the symmetrised copy only feeds dsyevd (which overwrites it), so it can
  // live in a reused scratch buffer; the copy's max|.| comes with it, for the scaling.
  const native = nativeFor(wantVectors ? 'eigh' : 'eighValues', n) !== null;
  const { data: a, maxOut } = symmetrisedMax(s, 'S', opts.symmetryTol ?? DEFAULT_SYMMETRY_TOL, native ? scratch('a', n * n) : undefined);
  const r = eighKernel(a, n, wantVectors, maxOut, true);
  if (!wantVectors) return { values: r.values };
  return { values: r.values, vectors: new Matrix(s.rows, s.rows, r.vectors as Float64Array) };
}

/**
 * Kernel over a symmetric row-major n x n array (overwritten). Returns descending values and,
 * when asked, the eigenvector matrix (columns, sign-normalised). Native provider (LAPACK
 * dsyevd) from the crossover size on, basis' own kernel otherwise. `top` is max|a| when the
 * caller knows it; `knownFinite`, that every entry is finite.
 */
export function eighKernel(
  a: Float64Array,
  n: number,
  wantVectors: boolean,
  top: number = maxAbs(a),
  knownFinite = false,
): { values: Float64Array; vectors: Float64Array | null } {
  if (top === 0) {
    const v = wantVectors ? new Float64Array(n * n) : null;
    if (v) for (let i = 0; i < n; i++) v[i * n + i] = 1;
    return { values: new Float64Array(n), vectors: v };
  }
  const scale = pow2Near(top); // exact scaling
  const inv = 1 / scale;
  for (let k = 0; k < a.length; k++) a[k] = (a[k] as number) * inv;

  const lib = nativeFor(wantVectors ? 'eigh' : 'eighValues', n);
  if (lib !== null) {
    // LAPACK dsyevd: ascending values, column-major eigenvectors in place of a.
    // (finite in, finite after the power-of-two scaling: no second check needed)
    const w = lapackSyevd(lib, a, n, wantVectors, knownFinite);
    const values = new Float64Array(n);
    for (let j = 0; j < n; j++) values[j] = (w[n - 1 - j] as number) * scale;
    if (!wantVectors) return { values, vectors: null };
    // Sign convention of normalizeColumnSigns, read off each (contiguous) eigenvector column,
    // then row-major with columns in descending order: out[i][j] = sign_j Z[i][n-1-j] (32 x 32 tiles).
    const sign = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const src = (n - 1 - j) * n;
      let best = 0;
      let val = 0;
      for (let i = 0; i < n; i++) {
        const v = a[src + i] as number;
        if (Math.abs(v) > best) {
          best = Math.abs(v);
          val = v;
        }
      }
      sign[j] = val < 0 ? -1 : 1;
    }
    const out = float64Buffer(n * n);
    // (rows of out written contiguously: about 3x faster than column-wise writes at n = 1024)
    for (let i0 = 0; i0 < n; i0 += 32) {
      const i1 = Math.min(i0 + 32, n);
      for (let j0 = 0; j0 < n; j0 += 32) {
        const j1 = Math.min(j0 + 32, n);
        for (let i = i0; i < i1; i++) {
          const ri = i * n;
          for (let j = j0; j < j1; j++) out[ri + j] = (sign[j] as number) * (a[(n - 1 - j) * n + i] as number);
        }
      }
    }
    return { values, vectors: out };
  }

  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const betas = new Float64Array(n);
  const work = n >= BLOCKED_MIN ? tridiagonalizeBlocked(a, n, d, e, betas) : tridiagonalize(a, n, d, e, betas);
  let V: Float64Array | null = null;
  if (wantVectors && n > DC_LEAF) V = divideAndConquer(d, e, n);
  if (V !== null) {
    // V = Q Z (the reflectors applied blockwise to the tridiagonal's eigenvectors).
    applyReflectorsLeft(V, n, n, n - 2, 1, work, (j) => j * n + j + 1, betas);
  } else {
    if (wantVectors) V = formQ(work, n, betas);
    tql(d, e, n, V);
  }

  // Sort descending (stable: ties keep the algorithm's order).
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((i, j) => (d[j] as number) - (d[i] as number) || i - j);
  const values = new Float64Array(n);
  for (let j = 0; j < n; j++) values[j] = (d[order[j] as number] as number) * scale;
  if (V === null) return { values, vectors: null };
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j < n; j++) out[ri + j] = V[ri + (order[j] as number)] as number;
  }
  normalizeColumnSigns(out, n, n);
  return { values, vectors: out };
}

/**
 * Divide and conquer on (d, e): eigenvalues into d, eigenvectors returned. Should the secular
 * solver fail to converge or anything come out non-finite (never observed), returns null with
 * d untouched, and the caller uses implicit QL instead.
 */
function divideAndConquer(d: Float64Array, e: Float64Array, n: number): Float64Array | null {
  const dd = d.slice();
  let Z: Float64Array;
  try {
    Z = tridiagEigDC(dd, e, n);
  } catch (err) {
    if (isBasisError(err) && err.code === 'NOT_CONVERGED') return null;
    throw err;
  }
  for (let i = 0; i < n; i++) if (!Number.isFinite(dd[i] as number)) return null;
  for (let k = 0; k < Z.length; k++) if (!Number.isFinite(Z[k] as number)) return null;
  d.set(dd);
  return Z;
}

/**
 * Flips each column of a row-major rows x cols array so that its largest-|.| entry (first index
 * on ties) is positive. Returns the flip signs (+1 / -1) per column.
 */
export function normalizeColumnSigns(X: Float64Array, rows: number, cols: number): Float64Array {
  const best = new Float64Array(cols);
  const val = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    const ri = i * cols;
    for (let j = 0; j < cols; j++) {
      const v = X[ri + j] as number;
      const av = Math.abs(v);
      if (av > (best[j] as number)) {
        best[j] = av;
        val[j] = v;
      }
    }
  }
  const signs = new Float64Array(cols);
  for (let j = 0; j < cols; j++) signs[j] = (val[j] as number) < 0 ? -1 : 1;
  for (let i = 0; i < rows; i++) {
    const ri = i * cols;
    for (let j = 0; j < cols; j++) if ((signs[j] as number) < 0) X[ri + j] = -(X[ri + j] as number);
  }
  return signs;
}

/**
 * Householder tridiagonalisation of the symmetric row-major n x n array `a0` (full storage).
 * Returns the working array: the reflector of step k is left in its row k (columns k+1..n-1),
 * with its beta in `betas[k]`. The rank-2 update of step k is fused with the matrix-vector
 * product of step k+1, so the trailing matrix is streamed once per step; rows are processed by
 * the dot/axpy kernels of {@link makeBlas2} (WebAssembly SIMD when available).
 */
export function tridiagonalize(a0: Float64Array, n: number, d: Float64Array, e: Float64Array, betas: Float64Array): Float64Array {
  if (n === 1) {
    d[0] = a0[0] as number;
    return a0;
  }
  // Working array: a (n x n), then v (current reflector), vn (next reflector), w, by index.
  const vO = n * n;
  const vnO = vO + n;
  const wO = vnO + n;
  const blas = makeBlas2(wO + n);
  const a = blas.F;
  a.set(a0.subarray(0, n * n));
  const p = new Float64Array(n);
  if (n >= 3) {
    // Prologue: reflector of step 0 and p = A22 v.
    const [alpha0, beta0] = makeReflector(a, 1, 1, n - 1, a, vO + 1);
    e[0] = alpha0;
    betas[0] = beta0;
    for (let j = 1; j < n; j++) a[j] = a[vO + j] as number;
    for (let i = 1; i < n; i++) p[i] = blas.dot(i * n + 1, vO + 1, n - 1);
  }
  for (let k = 0; k <= n - 3; k++) {
    const beta = betas[k] as number;
    const k1 = k + 1;
    const k2 = k + 2;
    // w = beta p - (beta^2/2)(p.v) v
    if (beta !== 0) {
      let pv = 0;
      for (let i = k1; i < n; i++) {
        const pi = beta * (p[i] as number);
        p[i] = pi;
        pv += pi * (a[vO + i] as number);
      }
      const K = 0.5 * beta * pv;
      for (let i = k1; i < n; i++) a[wO + i] = (p[i] as number) - K * (a[vO + i] as number);
    } else {
      a.fill(0, wO + k1, wO + n);
    }
    // Row k+1 (columns k+1..n-1) first: it defines the next reflector.
    const r1 = k1 * n;
    blas.axpy(r1 + k1, wO + k1, n - k1, -(a[vO + k1] as number));
    blas.axpy(r1 + k1, vO + k1, n - k1, -(a[wO + k1] as number));
    const haveNext = k1 <= n - 3;
    let nextBeta = 0;
    if (haveNext) {
      const [alpha1, beta1] = makeReflector(a, r1 + k2, 1, n - k2, a, vnO + k2);
      e[k1] = alpha1;
      nextBeta = beta1;
      betas[k1] = nextBeta;
      for (let j = k2; j < n; j++) a[r1 + j] = a[vnO + j] as number;
    }
    // Remaining rows: update columns k+2..n-1, then the next matrix-vector product.
    const len = n - k2;
    for (let i = k2; i < n; i++) {
      const ri = i * n + k2;
      if (beta !== 0) {
        blas.axpy(ri, wO + k2, len, -(a[vO + i] as number));
        blas.axpy(ri, vO + k2, len, -(a[wO + i] as number));
      }
      if (haveNext && nextBeta !== 0) p[i] = blas.dot(ri, vnO + k2, len);
    }
    if (haveNext) a.copyWithin(vO + k2, vnO + k2, vnO + n);
  }
  for (let i = 0; i < n; i++) d[i] = a[i * n + i] as number;
  e[n - 2] = a[(n - 2) * n + n - 1] as number;
  return a;
}

/** Q = H_0 H_1 ... H_{n-3} from the reflectors left in `a` (backward accumulation). */
export function formQ(a: Float64Array, n: number, betas: Float64Array): Float64Array {
  const Q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) Q[i * n + i] = 1;
  if (n >= 3) accumulateReflectors(Q, n, n, n - 2, 1, a, (j) => j * n + j + 1, betas);
  return Q;
}
