import { BasisError, Matrix, crossprod, matmul } from '@basis/tensor';
import { centred, centredCross, projectionSquares, singularParts, spanBasis, squaresOf, tallSvd } from '../prep.js';
import { residualNorm, sumSquares } from '../util.js';
import { assertNotConstant } from '../validate.js';
import { rawScaled } from './shape.js';
import type { MetricDefinition, ResolvedOptions } from '../types.js';

/**
 * In-sample R² of the least-squares regression of the centred Y on the centred X (X predicts Y):
 * `e / (e + ||Yc - Qx Qxᵀ Yc||²_F)` with `e = ||Qxᵀ Yc||²_F`, Qx an orthonormal basis of the
 * centred X's column space at its numerical rank (the QR or SVD basis CCA shares). The residual
 * is never `||Yc||² - e`, so that exact fits give 1: on the QR route both sums come from the
 * orthogonal `Qᵀ Yc` of the QR factors (LAPACK `dormqr`: the rows inside and outside X's span),
 * else the residual `Yc - Qx Qxᵀ Yc` is formed. A constant X explains nothing (0); a
 * constant Y is RANK_DEFICIENT (R² undefined).
 *
 * @example
 * ```ts
 * metric('linreg.r2', X, matmul(X, A)).value; // 1 for an invertible A
 * ```
 */
export function linregR2Kernel(X: Matrix, Y: Matrix): number {
  const Xc = centred(X);
  const Yc = centred(Y);
  assertNotConstant(squaresOf(Yc), 'Y', 'linreg.r2');
  if (!(squaresOf(Xc) > 0)) return 0;
  // on the QR route: the squares of Qᵀ Yc inside and outside X's span from one dormqr
  const pr = projectionSquares(Xc, 'X', 'linreg.r2', Yc);
  if (pr !== undefined) return pr.inside / (pr.inside + pr.outside);
  const Q = spanBasis(Xc, 'X', 'linreg.r2').Q;
  const P = crossprod(Q, Yc); // r x dy coefficients in the basis
  const e = sumSquares(P);
  const res = residualNorm(Yc, matmul(Q, P)) ** 2;
  return e / (e + res);
}

/**
 * Eigenspace overlap score (May et al. 2019), uncentred: `||Uxᵀ Uy||²_F / max(dx, dy)` for
 * orthonormal bases of the column spaces of X and Y at their numerical ranks (the sum of squared
 * cosines of the principal angles, over the nominal width). An all-zero input has no column space:
 * RANK_DEFICIENT.
 *
 * @example
 * ```ts
 * metric('eos', X, matmul(X, A)).value; // 1 for an invertible A
 * ```
 */
export function eosKernel(X: Matrix, Y: Matrix): number {
  const Qx = rawBasis(X, 'X');
  const Qy = rawBasis(Y, 'Y');
  return Math.min(1, sumSquares(crossprod(Qx, Qy)) / Math.max(X.cols, Y.cols));
}

/** Orthonormal basis of the (uncentred) column space of X at its numerical rank. */
function rawBasis(X: Matrix, name: string): Matrix {
  const x = rawScaled(X);
  if (!(sumSquares(x) > 0)) {
    throw new BasisError('RANK_DEFICIENT', `eos: ${name} is all zeros, so it has no column space; check that the activations were captured correctly`);
  }
  return spanBasis(x, name, 'eos').Q;
}

/**
 * The ridge hat matrix of the normalised centred X as `H = Q M Qᵀ` (Q orthonormal N x r, M
 * symmetric r x r): with `Xn = sqrt(N) Xc / ||Xc||_F = U S Vᵀ`, `H = U diag(w) Uᵀ`,
 * `w_i = t_i / (t_i + lambda)` and `t_i = s_i² / sum_j s_j²` (= `s_i(Xn)² / N`); lambda = 0 gives
 * the projector onto the column space at its numerical rank (w = 1). On the QR route U = Q Ur,
 * so M = Ur diag(w) Urᵀ and no left vectors are formed.
 */
function hatFactor(X: Matrix, lambda: number, name: string): { Q: Matrix; M: Matrix } {
  const { w, parts } = hatWeights(X, lambda, name);
  const W = parts.W;
  const r = w.length;
  const M = new Matrix(r, r);
  if (W === undefined) {
    for (let i = 0; i < r; i++) M.data[i * r + i] = w[i] as number;
  } else {
    // Ur diag(w) Urᵀ
    const Ws = W.clone();
    for (let i = 0; i < r; i++) for (let k = 0; k < r; k++) Ws.data[i * r + k] = (Ws.data[i * r + k] as number) * (w[k] as number);
    const P = matmul(Ws, W.transpose());
    M.data.set(P.data);
  }
  return { Q: parts.Q, M };
}

/**
 * The hat weights `w_i = t_i / (t_i + lambda)` of {@link hatFactor} and the singular parts they come
 * from (its Q, on the QR route, is formed only when read).
 */
function hatWeights(X: Matrix, lambda: number, name: string): { w: Float64Array; parts: ReturnType<typeof singularParts> } {
  const Xc = centred(X);
  assertNotConstant(squaresOf(Xc), name, 'gulp');
  const parts = singularParts(Xc, name, 'gulp');
  const { s, rank } = parts;
  let total = 0;
  for (let i = 0; i < s.length; i++) total += (s[i] as number) ** 2;
  const w = new Float64Array(rank);
  for (let i = 0; i < rank; i++) {
    const t = (s[i] as number) ** 2 / total;
    w[i] = lambda === 0 ? 1 : t / (t + lambda);
  }
  return { w, parts };
}

/** Bound on cond(Xc) cond(Yc) for {@link gulpFromSpectra} (its rounding grows with the product). */
const GULP_COND = 1e3;
/** {@link gulpFromSpectra} answers only when `||H_X - H_Y||²` is at least this share of `||H_X||² + ||H_Y||²`. */
const GULP_MIN_SHARE = 0.1;

/**
 * GULP on the QR route without forming either orthonormal basis: with `Xc = Ux Sx Vxᵀ`,
 * `Uxᵀ Uy = Sx⁻¹ Vxᵀ (Xcᵀ Yc) Vy Sy⁻¹` (d x d work after the pair's cross product) and
 * `||H_X - H_Y||² = sum wx² + sum wy² - 2 sum_ij wx_i wy_j (Uxᵀ Uy)_ij²`. The trace form cancels
 * when the hat matrices are close, and the products lose about cond_x cond_y ulps, so it answers
 * only for well-conditioned layers (product <= 1e3) whose squared distance is at least 10% of
 * `||H_X||² + ||H_Y||²` (relative error then below ~1e-11); otherwise undefined (the caller
 * evaluates the sum-of-squares form on the bases).
 */
function gulpFromSpectra(X: Matrix, Y: Matrix, lambda: number): number | undefined {
  const hx = hatWeights(X, lambda, 'X');
  const hy = hatWeights(Y, lambda, 'Y');
  const tx = tallSvd(centred(X), 'X', 'gulp');
  const ty = tallSvd(centred(Y), 'Y', 'gulp');
  if (tx === undefined || ty === undefined) return undefined;
  const sx = tx.s;
  const sy = ty.s;
  const cond = ((sx[0] as number) / (sx[sx.length - 1] as number)) * ((sy[0] as number) / (sy[sy.length - 1] as number));
  if (!(cond <= GULP_COND)) return undefined;
  const B = crossprod(tx.V, matmul(centredCross(X, Y), ty.V)); // Vxᵀ Xcᵀ Yc Vy, rx x ry
  const rx = B.rows;
  const ry = B.cols;
  let cross = 0;
  for (let i = 0; i < rx; i++) {
    let row = 0;
    for (let j = 0; j < ry; j++) {
      const b = (B.data[i * ry + j] as number) / (sy[j] as number);
      row += (hy.w[j] as number) * b * b;
    }
    const si = sx[i] as number;
    cross += ((hx.w[i] as number) * row) / (si * si);
  }
  let scale = 0;
  for (let i = 0; i < rx; i++) scale += (hx.w[i] as number) ** 2;
  for (let j = 0; j < ry; j++) scale += (hy.w[j] as number) ** 2;
  const d2 = scale - 2 * cross;
  return d2 >= GULP_MIN_SHARE * scale ? Math.sqrt(d2) : undefined;
}

/** `tr(A B) = sum_ij A_ij B_ji` for A (r x c) and B (c x r). */
function traceOfProduct(A: Matrix, B: Matrix): number {
  const r = A.rows;
  const c = A.cols;
  let s = 0;
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) s += (A.data[i * c + j] as number) * (B.data[j * r + i] as number);
  return s;
}

/**
 * GULP distance (Boix-Adsera et al. 2022): `||H_X - H_Y||_F` for the ridge hat matrices of the
 * normalised centred inputs (see {@link hatFactor}). Evaluated in the joint column space without
 * forming any N x N matrix and without the cancelling trace formula: with `H_X = Qx Mx Qxᵀ`,
 * `H_Y = Qy My Qyᵀ`, `P = Qxᵀ Qy` and the part of Qy outside Qx, `Rem = Qy - Qx P` (entries
 * formed directly, so that near-identical spaces keep their small difference), `G = Remᵀ Rem`:
 * `||H_X - H_Y||² = ||Mx - P My Pᵀ||² + 2 tr(P My G My Pᵀ) + tr(My G My G)`, a sum of squared
 * norms.
 *
 * @example
 * ```ts
 * metric('gulp', X, Y, { lambda: 0 }).value; // sqrt(r_x + r_y - 2 sum rho_i²)
 * ```
 */
export function gulpKernel(X: Matrix, Y: Matrix, o: ResolvedOptions = {}): number {
  const lambda = (o['lambda'] as number | undefined) ?? 1e-2;
  const fast = gulpFromSpectra(X, Y, lambda);
  if (fast !== undefined) return fast;
  const hx = hatFactor(X, lambda, 'X');
  const hy = hatFactor(Y, lambda, 'Y');
  const P = crossprod(hx.Q, hy.Q); // rx x ry
  const Rem = hy.Q.clone();
  const QP = matmul(hx.Q, P);
  for (let k = 0; k < Rem.data.length; k++) Rem.data[k] = (Rem.data[k] as number) - (QP.data[k] as number);
  const G = crossprod(Rem, Rem); // ry x ry
  const PM = matmul(P, hy.M); // rx x ry
  const A1 = matmul(PM, P.transpose());
  const d1 = residualNorm(hx.M, A1) ** 2;
  const d2 = 2 * Math.max(0, traceOfProduct(matmul(PM, G), PM.transpose()));
  const MG = matmul(hy.M, G);
  const d3 = Math.max(0, traceOfProduct(MG, MG));
  return Math.sqrt(d1 + d2 + d3);
}

export const linregR2: MetricDefinition = {
  id: 'linreg.r2',
  family: 'alignment',
  costClass: 'N·d²',
  title: 'In-sample R² of the least-squares regression of Y on X (centred; X predicts Y, as linear.cv)',
  kind: 'similarity',
  range: [0, 1],
  // also invariant to any invertible linear map of X (not of Y): only maps of both arguments are listed
  invariances: ['rotation', 'permutation', 'isotropic-scale', 'translation'],
  widths: 'any',
  minRows: 3,
  symmetric: false,
  // a constant layer gets no basis (as regressor it explains nothing: 0)
  prepare: (X) => void (squaresOf(centred(X)) > 0 && spanBasis(centred(X), 'X', 'linreg.r2')),
  compute: linregR2Kernel,
};

export const eos: MetricDefinition = {
  id: 'eos',
  family: 'rsm',
  costClass: 'N·d²',
  title: 'Eigenspace overlap score (May et al. 2019, uncentred): squared principal-angle cosines between the column spaces, over max(dx, dy)',
  kind: 'similarity',
  range: [0, 1],
  invariances: ['rotation', 'permutation', 'isotropic-scale', 'unit-positive-scale', 'invertible-linear'],
  widths: 'any',
  minRows: 3,
  symmetric: true,
  prepare: (X) => void rawBasis(X, 'X'),
  compute: eosKernel,
};

export const gulp: MetricDefinition = {
  id: 'gulp',
  family: 'rsm',
  costClass: 'N·d²',
  title: 'GULP distance (Boix-Adsera et al. 2022): Frobenius distance of the ridge hat matrices of the normalised centred inputs; lambda = 0 depends on the CCA correlations only',
  kind: 'distance',
  range: [0, Infinity],
  invariances: ['rotation', 'permutation', 'isotropic-scale', 'translation'],
  invariancesAt: [{ options: { lambda: 0 }, invariances: ['rotation', 'permutation', 'isotropic-scale', 'unit-positive-scale', 'translation', 'invertible-linear'] }],
  widths: 'any',
  minRows: 3,
  symmetric: true,
  options: [{ name: 'lambda', type: 'number', default: 1e-2, min: 0, description: 'ridge penalty on the total-variance-1 scale (0 = projectors: a function of the CCA correlations)' }],
  prepare: (X, o) => void hatWeights(X, (o['lambda'] as number | undefined) ?? 1e-2, 'X'),
  compute: gulpKernel,
};
