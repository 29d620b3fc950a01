// RSM-based survey measures (fixtures README, "Survey measures"): rsm.norm and dcor on
// Euclidean-distance RSMs, riemann on regularised centred Gram RSMs.
import { BasisError, Matrix, eigh, gram, matmul, qrR } from '@basis/tensor';
import { centred, squaresOf } from '../prep.js';
import { assertNotConstant } from '../validate.js';
import type { MetricDefinition, ResolvedOptions } from '../types.js';
import { BLOCK_ROWS, forEachDistanceBlock, rowGeometry, squaredDistanceBlock, transposedRows } from './pairwise.js';

/**
 * RSM norm difference `||D - D'||_F` over the full N x N Euclidean-distance matrices
 * (`sqrt(2 sum_{i<j} (D_ij - D'_ij)²)`), in row blocks: no N x N matrix is held.
 */
export function rsmNormKernel(X: Matrix, Y: Matrix): number {
  const gx = rowGeometry(X);
  const gy = rowGeometry(Y);
  const n = gx.n;
  // common power-of-two unit: D = rawScale x sqrt(raw-unit value)
  const s = Math.max(gx.rawScale, gy.rawScale);
  const fx = gx.rawScale / s;
  const fy = gy.rawScale / s;
  let total = 0;
  for (let i0 = 0; i0 < n; i0 += BLOCK_ROWS) {
    const i1 = Math.min(n, i0 + BLOCK_ROWS);
    const m = n - i0;
    const A = squaredDistanceBlock(gx, i0, i1, i0, transposedRows(gx.Zc, i0));
    const B = squaredDistanceBlock(gy, i0, i1, i0, transposedRows(gy.Zc, i0));
    for (let i = i0; i < i1; i++) {
      const row = (i - i0) * m - i0;
      for (let j = i + 1; j < n; j++) {
        const t = fx * Math.sqrt(A[row + j] as number) - fy * Math.sqrt(B[row + j] as number);
        total += t * t;
      }
    }
  }
  const value = Math.sqrt(2 * total) * s;
  if (value === Infinity) throw tooLarge('rsm.norm');
  return value;
}

/** A distance whose value exceeds the float64 range (inputs near 1e308). */
export function tooLarge(id: string): BasisError {
  return new BasisError('INVALID_ARGUMENT', `${id}: the value exceeds the largest float64 (about 1.8e308); rescale the inputs`);
}

/**
 * The double-centred Euclidean-distance matrix `A = D - r 1ᵀ - 1 rᵀ + g` (N x N, row-major, in
 * units of the raw prescaled copy; distance correlation is scale invariant).
 */
function doubleCentredDistances(X: Matrix): Float64Array {
  const g = rowGeometry(X);
  const n = g.n;
  const A = new Float64Array(n * n);
  forEachDistanceBlock(g, true, (i0, i1, j0, D2) => {
    const m = n - j0;
    for (let i = i0; i < i1; i++) {
      for (let j = i + 1; j < n; j++) {
        const v = Math.sqrt(D2[(i - i0) * m + (j - j0)] as number);
        A[i * n + j] = v;
        A[j * n + i] = v;
      }
    }
  });
  const r = new Float64Array(n);
  let all = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += A[i * n + j] as number;
    r[i] = s / n;
    all += s;
  }
  all /= n * n;
  for (let i = 0; i < n; i++) {
    const ri = r[i] as number;
    for (let j = 0; j < n; j++) A[i * n + j] = (A[i * n + j] as number) - ri - (r[j] as number) + all;
  }
  return A;
}

/** Distance correlation (Székely, Rizzo and Bakirov 2007), V-statistic form. */
export function dcorKernel(X: Matrix, Y: Matrix): number {
  const A = doubleCentredDistances(X);
  let aa = 0;
  for (let k = 0; k < A.length; k++) aa += (A[k] as number) * (A[k] as number);
  if (!(aa > 0)) throw constantRows('dcor', 'X');
  const B = doubleCentredDistances(Y);
  let bb = 0;
  let ab = 0;
  for (let k = 0; k < B.length; k++) {
    const b = B[k] as number;
    bb += b * b;
    ab += (A[k] as number) * b;
  }
  if (!(bb > 0)) throw constantRows('dcor', 'Y');
  // dCov² is a V-statistic (>= 0); only rounding can make the product negative
  return Math.min(1, Math.sqrt(Math.max(0, ab) / Math.sqrt(aa) / Math.sqrt(bb)));
}

function constantRows(id: string, name: string): BasisError {
  return new BasisError('RANK_DEFICIENT', `${id}: every row of ${name} is the same point, so its distance covariance is 0 and the correlation is undefined`);
}

/** Eigenvalues of a symmetric matrix after exact symmetrisation, ascending. */
function ascendingEigenvalues(S: Matrix): Float64Array {
  const n = S.rows;
  const a = S.data;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = 0.5 * ((a[i * n + j] as number) + (a[j * n + i] as number));
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
  return eigh(S, { vectors: false }).values.reverse();
}

/** `W (K2 - K1) W` with `W = (K1 + eps I)^-1/2` (m x m), from the eigendecomposition of K1. */
function whitenedDifference(K1: Matrix, K2: Matrix, eps: number): Matrix {
  const m = K1.rows;
  const { values, vectors } = eigh(K1);
  // W = P diag((lambda + eps)^-1/2) Pᵀ; K1 is PSD up to rounding
  const PS = vectors.clone();
  for (let j = 0; j < m; j++) {
    const w = 1 / Math.sqrt(Math.max(0, values[j] as number) + eps);
    for (let i = 0; i < m; i++) PS.data[i * m + j] = (PS.data[i * m + j] as number) * w;
  }
  const W = matmul(PS, vectors.transpose());
  const M = new Matrix(m, m);
  for (let k = 0; k < M.data.length; k++) M.data[k] = (K2.data[k] as number) - (K1.data[k] as number);
  return matmul(matmul(W, M), W);
}

/**
 * Affine-invariant Riemannian distance between the regularised Gram RSMs
 * `S = Xc Xcᵀ N / ||Xc||²_F + eps I_N` (Shahbazi et al. 2021), `sqrt(sum_i ln(mu_i)²)` over the
 * eigenvalues mu of `S_X⁻¹ S_Y`.
 *
 * Computed in the joint column space of the two Gram matrices (outside it both are `eps I`, so
 * mu = 1): the thin QR factorisation `F = [A, B] = Q [R_x, R_y]` of `A = Xc sqrt(N) / ||Xc||_F`,
 * `B` likewise, gives the Gram matrices in the orthonormal basis Q as `K_X = R_x R_xᵀ`,
 * `K_Y = R_y R_yᵀ` (m x m, m = min(N, dx + dy)); a backward-stable factorisation keeps their errors
 * at rounding level relative to each direction's own size. Then
 * `e = eig(W_X (K_Y - K_X) W_X) = mu - 1` and `f = eig(W_Y (K_X - K_Y) W_Y) = 1/mu - 1`
 * (`W = (K + eps I)^-1/2`), and `ln mu = log1p(e)` for e >= 0, else `-log1p(f)` of the matching f,
 * so that no small mu is formed by cancellation (fixtures README, numerical advice). Work: one
 * N x (dx + dy) QR and four eigendecompositions of size m; no N x N matrix unless N < dx + dy.
 */
export function riemannKernel(X: Matrix, Y: Matrix, o: ResolvedOptions): number {
  const eps = o['epsilon'] as number;
  const Xc = centred(X);
  const Yc = centred(Y);
  const n = X.rows;
  const sx = squaresOf(Xc);
  const sy = squaresOf(Yc);
  assertNotConstant(sx, 'X', 'riemann');
  assertNotConstant(sy, 'Y', 'riemann');
  const dx = Xc.cols;
  const dy = Yc.cols;
  const p = dx + dy;
  const ax = Math.sqrt(n / sx);
  const ay = Math.sqrt(n / sy);
  const F = new Matrix(n, p);
  const f = F.data;
  const xc = Xc.data;
  const yc = Yc.data;
  for (let i = 0; i < n; i++) {
    const o = i * p;
    for (let j = 0; j < dx; j++) f[o + j] = (xc[i * dx + j] as number) * ax;
    for (let j = 0; j < dy; j++) f[o + dx + j] = (yc[i * dy + j] as number) * ay;
  }
  const R = qrR(F); // Q is never formed
  const m = R.rows;
  // K = R_x R_xᵀ = gram(R_xᵀ), exactly symmetric
  const RxT = new Matrix(dx, m);
  const RyT = new Matrix(dy, m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < dx; j++) RxT.data[j * m + i] = R.data[i * p + j] as number;
    for (let j = 0; j < dy; j++) RyT.data[j * m + i] = R.data[i * p + dx + j] as number;
  }
  const Kx = gram(RxT);
  const Ky = gram(RyT);
  const e = ascendingEigenvalues(whitenedDifference(Kx, Ky, eps));
  const g = ascendingEigenvalues(whitenedDifference(Ky, Kx, eps));
  let total = 0;
  for (let i = 0; i < m; i++) {
    const ei = e[i] as number;
    const l = ei >= 0 ? Math.log1p(ei) : -Math.log1p(g[m - 1 - i] as number);
    total += l * l;
  }
  return Math.sqrt(total);
}

export const rsmNorm: MetricDefinition = {
  id: 'rsm.norm',
  family: 'rsm',
  costClass: 'N²·d',
  title: "RSM norm difference ||D - D'||_F of the Euclidean-distance matrices",
  kind: 'distance',
  range: [0, Infinity],
  invariances: ['rotation', 'permutation', 'translation'],
  widths: 'any',
  minRows: 2,
  symmetric: true,
  compute: rsmNormKernel,
};

export const dcor: MetricDefinition = {
  id: 'dcor',
  family: 'rsm',
  costClass: 'N²·d',
  title: 'Distance correlation of the Euclidean-distance matrices (V-statistic)',
  kind: 'similarity',
  range: [0, 1],
  invariances: ['rotation', 'permutation', 'isotropic-scale', 'translation'],
  widths: 'any',
  minRows: 2,
  symmetric: true,
  compute: dcorKernel,
};

export const riemann: MetricDefinition = {
  id: 'riemann',
  family: 'rsm',
  costClass: 'N·d²',
  title: 'Affine-invariant Riemannian distance between the regularised centred Gram RSMs',
  kind: 'distance',
  range: [0, Infinity],
  invariances: ['rotation', 'permutation', 'isotropic-scale', 'translation'],
  widths: 'any',
  minRows: 2,
  symmetric: true,
  options: [{ name: 'epsilon', type: 'number', default: 1e-2, exclusiveMin: 0, description: 'ridge added to the trace-N Gram matrices (S = K + epsilon I)' }],
  compute: riemannKernel,
};
