// RSM-based survey measures (fixtures README, "Survey measures"): rsm.norm and dcor on
// Euclidean-distance RSMs, riemann on regularised centred Gram RSMs.
import { BasisError, Matrix, generalizedEigenvalues, gram, qrR } from '@basis/tensor';
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

/**
 * Eigenvalues (ascending) of `(K1 + eps I)⁻¹ (K2 - K1)`, i.e. of the pencil `(K2 - K1, K1 + eps I)`:
 * `L⁻¹ (K2 - K1) L⁻ᵀ` with `K1 + eps I = L Lᵀ` (Cholesky; LAPACK dpotrf, dsygst, dsyevd on the
 * native engine), the same values as `W (K2 - K1) W` with the inverse square root W.
 */
function pencilDifference(K1: Matrix, K2: Matrix, eps: number): Float64Array {
  const m = K1.rows;
  const S = K1.clone();
  const M = new Matrix(m, m);
  for (let k = 0; k < M.data.length; k++) M.data[k] = (K2.data[k] as number) - (K1.data[k] as number);
  for (let i = 0; i < m; i++) S.data[i * m + i] = (S.data[i * m + i] as number) + eps;
  return generalizedEigenvalues(M, S);
}

/** `A Aᵀ` for the n x d row-major A, exactly symmetric (one symmetric product of its transpose). */
function rowGram(A: Matrix): Matrix {
  return gram(A.transpose());
}

/**
 * Affine-invariant Riemannian distance between the regularised Gram RSMs
 * `S = Xc Xcᵀ N / ||Xc||²_F + eps I_N` (Shahbazi et al. 2021), `sqrt(sum_i ln(mu_i)²)` over the
 * eigenvalues mu of `S_X⁻¹ S_Y`.
 *
 * With `A = Xc sqrt(N) / ||Xc||_F` and `B` likewise, the Gram matrices are taken in a basis of m
 * dimensions: when N >= dx + dy, the joint column space (outside it both are `eps I`, so mu = 1)
 * through the thin QR factorisation `F = [A, B] = Q [R_x, R_y]`, `K_X = R_x R_xᵀ`,
 * `K_Y = R_y R_yᵀ` (m = dx + dy; a backward-stable factorisation keeps their errors at rounding
 * level relative to each direction's own size); otherwise the N x N Gram matrices `A Aᵀ`, `B Bᵀ`
 * themselves (m = N, one symmetric product each). Then `e = eig(K_Y - K_X, K_X + eps I) = mu - 1`
 * and `f = eig(K_X - K_Y, K_Y + eps I) = 1/mu - 1` (generalised eigenvalues: Cholesky and
 * `L⁻¹ (K_Y - K_X) L⁻ᵀ`), and `ln mu = log1p(e)` for e >= 0, else `-log1p(f)` of the matching f,
 * so that no small mu is formed by cancellation (fixtures README, numerical advice). The f side is
 * skipped when the e side alone is accurate: every e_i carries about `u max|e|` (u = 2^-52), which
 * `log1p` divides by mu_i, and when this first-order bound stays below 1e-13 of the value (no small
 * mu; the default epsilon on most data) `log1p(e_i)` is used throughout. Work: the QR or the two
 * Gram products, and one or two Cholesky reductions and eigenvalue problems of size m.
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
  let Kx: Matrix;
  let Ky: Matrix;
  if (n < p) {
    Kx = rowGram(new Matrix(n, dx, Xc.data.map((v) => v * ax)));
    Ky = rowGram(new Matrix(n, dy, Yc.data.map((v) => v * ay)));
  } else {
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
    Kx = gram(RxT);
    Ky = gram(RyT);
  }
  const m = Kx.rows;
  const e = pencilDifference(Kx, Ky, eps);
  // Each e_i carries an absolute error of about u max|e| (u = 2^-52), which ln mu = log1p(e_i)
  // divides by mu_i = 1 + e_i: the e side alone is accurate where no mu is small. The f side is
  // solved only when this first-order bound could move the value by more than 1e-13 (relative).
  let emax = 0;
  for (let i = 0; i < m; i++) emax = Math.max(emax, Math.abs(e[i] as number));
  let one = 0;
  let bound = 0;
  for (let i = 0; i < m; i++) {
    const ei = e[i] as number;
    const l = Math.log1p(ei);
    one += l * l;
    if (ei < 0) bound += (Math.abs(l) * 2 ** -52 * emax) / (1 + ei);
  }
  if (Number.isFinite(one) && bound <= oneSidedBound * one) return Math.sqrt(one);
  const g = pencilDifference(Ky, Kx, eps);
  let total = 0;
  for (let i = 0; i < m; i++) {
    const ei = e[i] as number;
    const l = ei >= 0 ? Math.log1p(ei) : -Math.log1p(g[m - 1 - i] as number);
    total += l * l;
  }
  return Math.sqrt(total);
}

/**
 * Largest first-order error bound, relative (`sum |l_i| delta_i / sum l_i²` with `delta_i = u max|e| / mu_i`),
 * for which riemann keeps the e side alone.
 */
let oneSidedBound = 1e-13;

/**
 * Test hook: sets the bound below which riemann solves one side only (-1 forces both sides,
 * Infinity one side); returns the previous value.
 */
export function setRiemannOneSidedBound(v: number): number {
  const prev = oneSidedBound;
  oneSidedBound = v;
  return prev;
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
