// Blocked Householder tridiagonalisation of a symmetric matrix (the algorithm of LAPACK's
// dsytrd/dlatrd, written for row-major storage of the upper triangle).
//
// The unblocked reduction streams the whole trailing matrix through memory twice per step
// (rank-2 update and matrix-vector product). Here a panel of NB steps only *reads* the trailing
// matrix (one symmetric matrix-vector product per step, over the upper triangle: half the
// matrix), correcting for the panel's not yet applied updates with the panel's own vectors; the
// trailing matrix is then updated once per panel by the rank-2·NB product
// A22 -= V Wᵀ + W Vᵀ on the matrix-product kernel (`gemmStrided`, upper triangle only).
import { makeBlas2 } from './blas2.js';
import { gemmStrided } from './gemm.js';
import { makeReflector } from './householder.js';

/** Steps per panel. */
const NB = 32;

/**
 * Tridiagonalises the symmetric row-major n x n array `a0` (read only; full storage, only the
 * upper triangle is used): Qᵀ A Q = tridiag(d, e) with Q = H_0 H_1 ... H_{n-3}. Returns the
 * working array, whose row k holds the reflector v_k of step k in columns k+1..n-1 (with its
 * beta in `betas[k]`, H_k = I - beta_k v_k v_kᵀ on indices k+1..n-1), the layout of the
 * unblocked reduction in eigh.ts.
 */
export function tridiagonalizeBlocked(a0: Float64Array, n: number, d: Float64Array, e: Float64Array, betas: Float64Array): Float64Array {
  // Working memory: a (n x n), then S: rows V_0..V_{NB-1}, W_0..W_{NB-1} (each n long), y.
  const sO = n * n;
  const yO = sO + 2 * NB * n;
  const blas = makeBlas2(yO + n);
  const F = blas.F;
  F.set(a0.subarray(0, n * n));
  const negS = new Float64Array(2 * NB * n);
  const vOf = (t: number): number => sO + t * n;
  const wOf = (t: number): number => sO + (NB + t) * n;
  for (let p0 = 0; p0 < n - 2; p0 += NB) {
    const pe = Math.min(p0 + NB, n - 2);
    F.fill(0, sO, yO);
    for (let k = p0; k < pe; k++) {
      const i = k - p0;
      const rk = k * n;
      // 1. Bring row k (columns k..n-1) up to date with the panel's earlier steps.
      for (let t = 0; t < i; t++) {
        blas.axpy(rk + k, wOf(t) + k, n - k, -(F[vOf(t) + k] as number));
        blas.axpy(rk + k, vOf(t) + k, n - k, -(F[wOf(t) + k] as number));
      }
      // 2. Reflector annihilating row k beyond column k+1.
      const vO = vOf(i);
      const len = n - k - 1;
      const [alpha, beta] = makeReflector(F, rk + k + 1, 1, len, F, vO + k + 1);
      e[k] = alpha;
      betas[k] = beta;
      F.copyWithin(rk + k + 1, vO + k + 1, vO + n);
      d[k] = F[rk + k] as number;
      const wO = wOf(i);
      if (beta === 0) continue; // W_i stays 0
      // 3. y = A22 v (A22 = rows/columns k+1.. as stored: the upper triangle, not yet updated
      //    by this panel), then y -= V (Wᵀ v) + W (Vᵀ v) over the panel's earlier steps.
      const k1 = k + 1;
      F.fill(0, yO + k1, yO + n);
      for (let r = k1; r < n; r++) {
        const ar = r * n + r;
        const m = n - r;
        F[yO + r] = (F[yO + r] as number) + blas.dot(ar, vO + r, m);
        if (m > 1) blas.axpy(yO + r + 1, ar + 1, m - 1, F[vO + r] as number);
      }
      for (let t = 0; t < i; t++) {
        const c1 = blas.dot(wOf(t) + k1, vO + k1, len);
        const c2 = blas.dot(vOf(t) + k1, vO + k1, len);
        blas.axpy(yO + k1, vOf(t) + k1, len, -c1);
        blas.axpy(yO + k1, wOf(t) + k1, len, -c2);
      }
      // 4. w = beta y - (beta²/2)(yᵀv) v.
      let pv = 0;
      for (let r = k1; r < n; r++) {
        const pr = beta * (F[yO + r] as number);
        F[wO + r] = pr;
        pv += pr * (F[vO + r] as number);
      }
      const K = 0.5 * beta * pv;
      blas.axpy(wO + k1, vO + k1, len, -K);
    }
    // Trailing update A[pe:, pe:] -= V Wᵀ + W Vᵀ (upper triangle), as one product
    // [V W] · [-W -V]ᵀ accumulated into A.
    const ib = pe - p0;
    const nt = n - pe;
    for (let t = 0; t < ib; t++) {
      for (let c = pe; c < n; c++) {
        negS[t * n + c] = -(F[wOf(t) + c] as number);
        negS[(ib + t) * n + c] = -(F[vOf(t) + c] as number);
      }
    }
    // Pack [V_0..V_{ib-1}, W_0..W_{ib-1}] contiguously (W starts at row NB of S).
    if (ib < NB) F.copyWithin(sO + ib * n, wOf(0), wOf(0) + ib * n);
    gemmStrided({
      m: nt, n: nt, k: 2 * ib,
      A: F, aOff: sO + pe, lda: n, transA: true,
      B: negS, bOff: pe, ldb: n, transB: false,
      C: F, cOff: pe * n + pe, ldc: n,
      accumulate: true, upperOnly: true,
    });
  }
  for (let i = Math.max(0, n - 2); i < n; i++) d[i] = F[i * n + i] as number;
  if (n >= 2) e[n - 2] = F[(n - 2) * n + n - 1] as number;
  return F;
}
