import type { Matrix } from '@basis/tensor';
import { crossprod, matmul, svd } from '@basis/tensor';
import { centred, rangeBasis, spanBasis } from '../prep.js';
import type { MetricDefinition } from '../types.js';

function clip01(v: number): number {
  return Math.max(0, Math.min(1, v));
}

/**
 * Canonical correlations of X and Y: singular values of `Qxᵀ Qy` for orthonormal bases of the
 * centred data's column spaces (numerical ranks r_x, r_y); `min(r_x, r_y)` of them, clipped to [0, 1].
 * Any orthonormal bases of the same subspaces give the same values (see `spanBasis`).
 */
export function canonicalCorrelations(X: Matrix, Y: Matrix, metric = 'cca'): Float64Array {
  const bx = spanBasis(centred(X), 'X', metric);
  const by = spanBasis(centred(Y), 'Y', metric);
  const m = Math.min(bx.rank, by.rank);
  const s = svd(crossprod(bx.Q, by.Q), { computeUV: false }).s;
  const rho = new Float64Array(m);
  for (let i = 0; i < m; i++) rho[i] = clip01(s[i] as number);
  return rho;
}

function mean(a: Float64Array, f: (v: number) => number = (v) => v): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += f(a[i] as number);
  return s / a.length;
}

/** Smallest k whose leading k squared singular values hold >= 99% of the total. */
function keep99(s: Float64Array): number {
  let total = 0;
  for (let i = 0; i < s.length; i++) total += (s[i] as number) ** 2;
  let acc = 0;
  for (let k = 0; k < s.length; k++) {
    acc += (s[k] as number) ** 2;
    if (acc >= 0.99 * total) return k + 1;
  }
  return s.length;
}

/** SVCCA (Raghu et al. 2017): mean CCA correlation after keeping 99% of each side's variance. */
export function svccaKernel(X: Matrix, Y: Matrix): number {
  const bx = rangeBasis(centred(X), 'X', 'svcca');
  const by = rangeBasis(centred(Y), 'Y', 'svcca');
  const kx = Math.min(keep99(bx.s), bx.rank);
  const ky = Math.min(keep99(by.s), by.rank);
  const Ux = bx.Q.slice(0, bx.Q.rows, 0, kx);
  const Uy = by.Q.slice(0, by.Q.rows, 0, ky);
  const s = svd(crossprod(Ux, Uy), { computeUV: false }).s;
  let acc = 0;
  const m = Math.min(kx, ky);
  for (let i = 0; i < m; i++) acc += clip01(s[i] as number);
  return acc / m;
}

/**
 * PWCCA (Morcos et al. 2018): canonical correlations weighted by how much of the first
 * argument's centred units each canonical variate of X accounts for. Asymmetric.
 */
export function pwccaKernel(X: Matrix, Y: Matrix): number {
  const Xc = centred(X);
  const bx = spanBasis(Xc, 'X', 'pwcca');
  const by = spanBasis(centred(Y), 'Y', 'pwcca');
  const m = Math.min(bx.rank, by.rank);
  const { U, s } = svd(crossprod(bx.Q, by.Q));
  const H = matmul(bx.Q, U.slice(0, U.rows, 0, m)); // N x m canonical variates of X
  const A = crossprod(H, Xc); // m x dx: h_iᵀ xc_j
  let num = 0;
  let den = 0;
  for (let i = 0; i < m; i++) {
    let a = 0;
    for (let j = 0; j < A.cols; j++) a += Math.abs(A.data[i * A.cols + j] as number);
    num += a * clip01(s[i] as number);
    den += a;
  }
  return num / den;
}

const shared = {
  kind: 'similarity',
  range: [0, 1],
  invariances: ['rotation', 'permutation', 'isotropic-scale', 'unit-positive-scale', 'translation', 'invertible-linear'],
  widths: 'any',
  minRows: 3,
  // the basis of the centred layer's column space (a QR or an SVD) is the dominant per-layer cost
  prepare: (X: Matrix) => void spanBasis(centred(X), 'X', 'cca'),
} as const;

export const ccaMeanRho: MetricDefinition = {
  ...shared,
  id: 'cca.mean_rho',
  title: 'Mean canonical correlation over min(rank Xc, rank Yc) pairs',
  symmetric: true,
  compute: (X, Y) => mean(canonicalCorrelations(X, Y, 'cca.mean_rho')),
};

export const ccaMeanRho2: MetricDefinition = {
  ...shared,
  id: 'cca.mean_rho2',
  title: 'Mean squared canonical correlation over min(rank Xc, rank Yc) pairs',
  symmetric: true,
  compute: (X, Y) => mean(canonicalCorrelations(X, Y, 'cca.mean_rho2'), (v) => v * v),
};

export const svcca: MetricDefinition = {
  ...shared,
  id: 'svcca',
  title: 'SVCCA: mean canonical correlation of the SVD-reduced data (99% variance kept)',
  // The SVD truncation depends on the variance spectrum, which invertible maps change.
  invariances: ['rotation', 'permutation', 'isotropic-scale', 'translation'],
  symmetric: true,
  prepare: (X: Matrix) => void rangeBasis(centred(X), 'X', 'svcca'),
  compute: svccaKernel,
};

export const pwcca: MetricDefinition = {
  ...shared,
  id: 'pwcca',
  title: "PWCCA: canonical correlations weighted by their share of the first argument's units",
  // Only transforms that leave the value unchanged whichever argument they act on: the weights
  // use X's individual units, so rotating or rescaling units of X changes them.
  invariances: ['permutation', 'isotropic-scale', 'translation'],
  symmetric: false,
  compute: pwccaKernel,
};
