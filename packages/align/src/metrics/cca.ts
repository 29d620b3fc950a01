import type { Matrix } from '@basis/tensor';
import { crossprod, matmul, svd } from '@basis/tensor';
import { centred, centredCross, inverseR, leftSingular, rangeBasis, spanBasis, tallSvd } from '../prep.js';
import type { MetricDefinition } from '../types.js';

function clip01(v: number): number {
  return Math.max(0, Math.min(1, v));
}

/**
 * Condition-number bound of the shortcuts below: their rounding error grows with the product of
 * the two layers' condition numbers (about 2^-52 sqrt(N) cond_x cond_y), which 1e4 keeps under
 * ~1e-10 for N up to 10^6; beyond it the N x d bases are multiplied as usual.
 */
const ROUTE_COND = 1e4;

/**
 * Canonical correlations of X and Y: singular values of `Qxᵀ Qy` for orthonormal bases of the
 * centred data's column spaces (numerical ranks r_x, r_y); `min(r_x, r_y)` of them, clipped to [0, 1].
 * Any orthonormal bases of the same subspaces give the same values (see `spanBasis`). When both
 * layers took the QR route (`Xc = Q R`) and are well conditioned, `Qxᵀ Qy = Rx⁻ᵀ (Xcᵀ Yc) Ry⁻¹`
 * is formed from the pair's cross product (shared with the other metrics of the pair) and the
 * cached inverses: d x d products instead of an N x d x d one per pair.
 */
export function canonicalCorrelations(X: Matrix, Y: Matrix, metric = 'cca'): Float64Array {
  const bx = spanBasis(centred(X), 'X', metric);
  const by = spanBasis(centred(Y), 'Y', metric);
  const m = Math.min(bx.rank, by.rank);
  let M: Matrix;
  if (bx.R !== undefined && by.R !== undefined && (bx.cond as number) * (by.cond as number) <= ROUTE_COND) {
    const Rx = inverseR(centred(X), 'X', metric) as Matrix;
    const Ry = inverseR(centred(Y), 'Y', metric) as Matrix;
    M = crossprod(Rx, matmul(centredCross(X, Y), Ry));
  } else {
    M = crossprod(bx.Q, by.Q);
  }
  const s = svd(M, { computeUV: false }).s;
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

/**
 * SVCCA (Raghu et al. 2017): mean CCA correlation after keeping 99% of each side's variance. The
 * kept left singular vectors are `U_k = Xc V_k S_k⁻¹`; for layers on the QR route with a moderate
 * condition number over the kept directions, `U_xkᵀ U_yk = S_xk⁻¹ V_xkᵀ (Xcᵀ Yc) V_yk S_yk⁻¹` is
 * formed from the pair's cross product and the SVD of R (d x d), without the N x d SVD of Xc;
 * otherwise from `U_k = Q U_r[:, :k]` (QR shared with CCA, then the SVD of R).
 */
export function svccaKernel(X: Matrix, Y: Matrix): number {
  const Xc = centred(X);
  const Yc = centred(Y);
  const rx = tallSvd(Xc, 'X', 'svcca');
  const ry = tallSvd(Yc, 'Y', 'svcca');
  if (rx !== undefined && ry !== undefined) {
    const kx = keep99(rx.s);
    const ky = keep99(ry.s);
    const condK = ((rx.s[0] as number) / (rx.s[kx - 1] as number)) * ((ry.s[0] as number) / (ry.s[ky - 1] as number));
    let M: Matrix;
    if (condK <= ROUTE_COND) {
      const Vx = rx.V.slice(0, rx.V.rows, 0, kx);
      const Vy = ry.V.slice(0, ry.V.rows, 0, ky);
      M = crossprod(Vx, matmul(centredCross(X, Y), Vy));
      for (let i = 0; i < kx; i++) {
        for (let j = 0; j < ky; j++) M.data[i * ky + j] = (M.data[i * ky + j] as number) / (rx.s[i] as number) / (ry.s[j] as number);
      }
    } else {
      // the kept left vectors themselves, Q U_r[:, :k] (the QR is shared with CCA; no N x d SVD)
      M = crossprod(leftSingular(Xc, kx, 'X', 'svcca') as Matrix, leftSingular(Yc, ky, 'Y', 'svcca') as Matrix);
    }
    return meanClipped(svd(M, { computeUV: false }).s, Math.min(kx, ky));
  }
  const bx = rangeBasis(Xc, 'X', 'svcca');
  const by = rangeBasis(Yc, 'Y', 'svcca');
  const kx = Math.min(keep99(bx.s), bx.rank);
  const ky = Math.min(keep99(by.s), by.rank);
  const Ux = bx.Q.slice(0, bx.Q.rows, 0, kx);
  const Uy = by.Q.slice(0, by.Q.rows, 0, ky);
  return meanClipped(svd(crossprod(Ux, Uy), { computeUV: false }).s, Math.min(kx, ky));
}

function meanClipped(s: Float64Array, m: number): number {
  let acc = 0;
  for (let i = 0; i < m; i++) acc += clip01(s[i] as number);
  return acc / m;
}

/**
 * PWCCA (Morcos et al. 2018): canonical correlations weighted by how much of the first
 * argument's centred units each canonical variate of X accounts for. Asymmetric. Well-conditioned
 * tall layers (the QR route of CCA) need only d x d work per pair.
 */
export function pwccaKernel(X: Matrix, Y: Matrix): number {
  const Xc = centred(X);
  const bx = spanBasis(Xc, 'X', 'pwcca');
  const by = spanBasis(centred(Y), 'Y', 'pwcca');
  const m = Math.min(bx.rank, by.rank);
  let A: Matrix; // m x dx: h_iᵀ xc_j
  let s: Float64Array;
  if (bx.R !== undefined && by.R !== undefined && (bx.cond as number) * (by.cond as number) <= ROUTE_COND) {
    // as in canonicalCorrelations, Qxᵀ Qy = Rx⁻ᵀ (Xcᵀ Yc) Ry⁻¹; and with H = Qx U, Hᵀ Xc = Uᵀ Rx
    // (Qxᵀ Xc = Rx): only d x d products, no N x d work and no Q
    const Rxi = inverseR(Xc, 'X', 'pwcca') as Matrix;
    const Ryi = inverseR(centred(Y), 'Y', 'pwcca') as Matrix;
    const f = svd(crossprod(Rxi, matmul(centredCross(X, Y), Ryi)));
    s = f.s;
    A = crossprod(f.U.slice(0, f.U.rows, 0, m), bx.R);
  } else {
    const f = svd(crossprod(bx.Q, by.Q));
    s = f.s;
    const H = matmul(bx.Q, f.U.slice(0, f.U.rows, 0, m)); // N x m canonical variates of X
    A = crossprod(H, Xc);
  }
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
  family: 'cca',
  costClass: 'N·d²',
  title: 'Mean canonical correlation over min(rank Xc, rank Yc) pairs',
  symmetric: true,
  compute: (X, Y) => mean(canonicalCorrelations(X, Y, 'cca.mean_rho')),
};

export const ccaMeanRho2: MetricDefinition = {
  ...shared,
  id: 'cca.mean_rho2',
  family: 'cca',
  costClass: 'N·d²',
  title: 'Mean squared canonical correlation over min(rank Xc, rank Yc) pairs',
  symmetric: true,
  compute: (X, Y) => mean(canonicalCorrelations(X, Y, 'cca.mean_rho2'), (v) => v * v),
};

export const svcca: MetricDefinition = {
  ...shared,
  id: 'svcca',
  family: 'cca',
  costClass: 'N·d²',
  title: 'SVCCA: mean canonical correlation of the SVD-reduced data (99% variance kept)',
  // The SVD truncation depends on the variance spectrum, which invertible maps change.
  invariances: ['rotation', 'permutation', 'isotropic-scale', 'translation'],
  symmetric: true,
  prepare: (X: Matrix) => {
    const Xc = centred(X);
    if (tallSvd(Xc, 'X', 'svcca') === undefined) rangeBasis(Xc, 'X', 'svcca');
  },
  compute: svccaKernel,
};

export const pwcca: MetricDefinition = {
  ...shared,
  id: 'pwcca',
  family: 'cca',
  costClass: 'N·d²',
  title: "PWCCA: canonical correlations weighted by their share of the first argument's units",
  // Only transforms that leave the value unchanged whichever argument they act on: the weights
  // use X's individual units, so rotating or rescaling units of X changes them.
  invariances: ['permutation', 'isotropic-scale', 'translation'],
  symmetric: false,
  compute: pwccaKernel,
};
