// Divide-and-conquer eigensolver for symmetric tridiagonal matrices (Cuppen's method with the
// deflation and eigenvector recomputation of Gu and Eisenstat), following the algorithms of
// LAPACK's dstedc / dlaed0..dlaed4 (written here from the published descriptions).
//
// T is split in the middle, T = diag(T1, T2) + rho u uᵀ with u = e_{k-1} ± e_k; both halves are
// solved recursively (small ones by implicit QL), and the merge solves the rank-one update
// D + rho z zᵀ of their eigenvalues D with z = Qᵀu:
//   * deflation: components z_i that are negligible, and pairs of eigenvalues closer than the
//     tolerance (one rotation moves the pair's weight into one of them), keep their eigenpairs;
//   * the remaining K eigenvalues are the roots of the secular equation
//     1/rho + sum_i z_i² / (d_i - λ) = 0, found in a coordinate centred at the nearer pole so
//     that every difference d_i - λ_j is computed to high relative accuracy;
//   * z is recomputed from those roots (Löwner's formula), so that the computed roots are the
//     exact eigenvalues of D + rho ẑ ẑᵀ and the eigenvectors ẑ_i / (d_i - λ_j) are orthogonal to
//     working precision however close the roots are;
//   * the eigenvectors of the merged problem are the products of the halves' eigenvectors with
//     those of the rank-one problem, taken as two matrix products (one per half) on `gemm`.

import { BasisError } from '../errors.js';
import { gemm } from './gemm.js';
import { tql } from './tridiag-ql.js';
import { EPS, maxAbs, pow2Near } from './validate.js';

/** Subproblems of at most this size are solved by implicit QL. */
export const DC_LEAF = 25;

/** Iteration cap of the secular-equation solver (typically 2-5 iterations are needed). */
const SECULAR_MAX_ITER = 200;

/**
 * Eigendecomposition of the symmetric tridiagonal matrix with diagonal d[0..n-1] and
 * off-diagonal e[0..n-2] (e[i] couples i and i+1). d is overwritten with the eigenvalues in
 * ascending order; the returned row-major n x n array holds the orthonormal eigenvectors as
 * columns (column j belongs to d[j]). e is not modified. Deterministic: the operation order
 * depends only on the data.
 */
export function tridiagEigDC(d: Float64Array, e: Float64Array, n: number): Float64Array {
  const Z = new Float64Array(n * n);
  // Split into unreduced blocks where an off-diagonal is negligible (as dstedc does).
  let start = 0;
  for (let i = 0; i < n; i++) {
    const last = i === n - 1;
    const ei = last ? 0 : Math.abs(e[i] as number);
    const tiny = last ? 0 : EPS * Math.sqrt(Math.abs(d[i] as number)) * Math.sqrt(Math.abs(d[i + 1] as number));
    if (!last && ei > tiny) continue;
    const m = i + 1 - start;
    const db = d.slice(start, start + m);
    const eb = e.slice(start, start + Math.max(0, m - 1));
    // Scale the block to max-norm about 1 (by a power of two, exactly): the deflation
    // tolerances compare eigenvalues with eigenvector components.
    const top = Math.max(maxAbs(db), maxAbs(eb));
    if (top === 0) {
      for (let r = 0; r < m; r++) Z[(start + r) * n + start + r] = 1;
    } else {
      const sc = pow2Near(top);
      for (let k = 0; k < m; k++) db[k] = (db[k] as number) / sc;
      for (let k = 0; k < m - 1; k++) eb[k] = (eb[k] as number) / sc;
      const Q = solve(db, eb, m);
      for (let r = 0; r < m; r++) Z.set(Q.subarray(r * m, (r + 1) * m), (start + r) * n + start);
      for (let k = 0; k < m; k++) db[k] = (db[k] as number) * sc;
      d.set(db, start);
    }
    start = i + 1;
  }
  // Blocks are sorted within themselves; sort the whole spectrum (stable).
  const order = sortedOrder(d, n);
  let sorted = true;
  for (let j = 0; j < n; j++) if (order[j] !== j) sorted = false;
  if (sorted) return Z;
  const dv = d.slice();
  const out = new Float64Array(n * n);
  for (let j = 0; j < n; j++) d[j] = dv[order[j] as number] as number;
  for (let r = 0; r < n; r++) {
    const rr = r * n;
    for (let j = 0; j < n; j++) out[rr + j] = Z[rr + (order[j] as number)] as number;
  }
  return out;
}

/** Indices 0..n-1 sorted by ascending value (ties by index). */
function sortedOrder(v: ArrayLike<number>, n: number): Int32Array {
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((i, j) => (v[i] as number) - (v[j] as number) || i - j);
  return Int32Array.from(order);
}

/** Unreduced tridiagonal block of size m: d overwritten (ascending), returns m x m vectors. */
function solve(d: Float64Array, e: Float64Array, m: number): Float64Array {
  if (m <= DC_LEAF) return leaf(d, e, m);
  const n1 = m >> 1;
  const beta = e[n1 - 1] as number;
  const ab = Math.abs(beta);
  d[n1 - 1] = (d[n1 - 1] as number) - ab;
  d[n1] = (d[n1] as number) - ab;
  const Q1 = solve(d.subarray(0, n1), e.subarray(0, n1 - 1), n1);
  const Q2 = solve(d.subarray(n1, m), e.subarray(n1, m - 1), m - n1);
  return merge(d, m, n1, Q1, Q2, beta);
}

/** Implicit QL on a small block; eigenvalues sorted ascending with their vectors. */
function leaf(d: Float64Array, e: Float64Array, m: number): Float64Array {
  const V = new Float64Array(m * m);
  for (let i = 0; i < m; i++) V[i * m + i] = 1;
  if (m === 1) return V;
  const ee = new Float64Array(m);
  ee.set(e.subarray(0, m - 1));
  tql(d, ee, m, V);
  const order = sortedOrder(d, m);
  const dv = d.slice();
  const out = new Float64Array(m * m);
  for (let j = 0; j < m; j++) d[j] = dv[order[j] as number] as number;
  for (let r = 0; r < m; r++) for (let j = 0; j < m; j++) out[r * m + j] = V[r * m + (order[j] as number)] as number;
  return out;
}

/**
 * Merges the solved halves (d[0..n1-1] with vectors Q1, d[n1..m-1] with Q2, each ascending) of
 * the block whose coupling was `beta` (d already has |beta| removed at the seam). Overwrites d
 * with the merged eigenvalues (ascending) and returns their m x m vectors.
 */
function merge(d: Float64Array, m: number, n1: number, Q1: Float64Array, Q2: Float64Array, beta: number): Float64Array {
  const n2 = m - n1;
  // T = diag(T1, T2) + |beta| w wᵀ, w = e_{n1-1} + sign(beta) e_{n1}; normalised: rho z zᵀ.
  const rho = 2 * Math.abs(beta);
  const z = new Float64Array(m);
  const sg = beta < 0 ? -Math.SQRT1_2 : Math.SQRT1_2;
  for (let i = 0; i < n1; i++) z[i] = (Q1[(n1 - 1) * n1 + i] as number) * Math.SQRT1_2;
  for (let i = 0; i < n2; i++) z[n1 + i] = (Q2[i] as number) * sg;
  // Q = diag(Q1, Q2) as a dense m x m array; a column may gain entries in the other half only
  // through a deflation rotation (tracked in `part`: bit 1 upper half, bit 2 lower half).
  const Q = new Float64Array(m * m);
  for (let r = 0; r < n1; r++) Q.set(Q1.subarray(r * n1, (r + 1) * n1), r * m);
  for (let r = 0; r < n2; r++) Q.set(Q2.subarray(r * n2, (r + 1) * n2), (n1 + r) * m + n1);
  const part = new Uint8Array(m);
  part.fill(1, 0, n1);
  part.fill(2, n1, m);

  const order = sortedOrder(d, m);
  let dmax = 0;
  let zmax = 0;
  for (let i = 0; i < m; i++) {
    dmax = Math.max(dmax, Math.abs(d[i] as number));
    zmax = Math.max(zmax, Math.abs(z[i] as number));
  }
  const tol = 8 * EPS * Math.max(dmax, zmax);

  // Deflation (dlaed2): negligible z_i, then nearly equal neighbours among the rest.
  const keep: number[] = [];
  const defl: number[] = [];
  let pj = -1;
  for (let t = 0; t < m; t++) {
    const nj = order[t] as number;
    if (rho * Math.abs(z[nj] as number) <= tol) {
      defl.push(nj);
      continue;
    }
    if (pj < 0) {
      pj = nj;
      continue;
    }
    let s = z[pj] as number;
    let c = z[nj] as number;
    const tau = Math.hypot(c, s);
    const gap = (d[nj] as number) - (d[pj] as number);
    c /= tau;
    s = -s / tau;
    if (Math.abs(gap * c * s) <= tol) {
      // Rotate columns (pj, nj) so that the pair's weight moves into nj; pj deflates.
      z[nj] = tau;
      z[pj] = 0;
      for (let r = 0; r < m; r++) {
        const x = Q[r * m + pj] as number;
        const y = Q[r * m + nj] as number;
        Q[r * m + pj] = c * x + s * y;
        Q[r * m + nj] = c * y - s * x;
      }
      const p = (part[pj] as number) | (part[nj] as number);
      part[pj] = p;
      part[nj] = p;
      const dp = d[pj] as number;
      const dn = d[nj] as number;
      d[pj] = dp * c * c + dn * s * s;
      d[nj] = dp * s * s + dn * c * c;
      defl.push(pj);
    } else {
      keep.push(pj);
    }
    pj = nj;
  }
  if (pj >= 0) keep.push(pj);
  const K = keep.length;

  // Values of the merged problem: first the K secular roots, then the deflated ones; `pos`
  // gives each one's column in the ascending order.
  const vals = new Float64Array(m);
  for (let t = 0; t < defl.length; t++) vals[K + t] = d[defl[t] as number] as number;
  let delta: Float64Array | null = null;
  if (K > 0) {
    const dl = new Float64Array(K);
    const z2 = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      dl[k] = d[keep[k] as number] as number;
      z2[k] = (z[keep[k] as number] as number) ** 2;
    }
    const lam = new Float64Array(K);
    delta = new Float64Array(K * K); // delta[j K + i] = dl_i - lam_j
    secularRoots(K, dl, z2, rho, lam, delta);
    vals.set(lam);
    delta = rankOneVectors(K, dl, z, keep, delta); // now the eigenvectors, one per row
  }
  const ord = sortedOrder(vals, m);
  const pos = new Int32Array(m);
  for (let j = 0; j < m; j++) {
    pos[ord[j] as number] = j;
    d[j] = vals[ord[j] as number] as number;
  }
  const res = new Float64Array(m * m);
  if (delta !== null) {
    const Ut = delta;
    // Q[:, keep] U, split by halves: rows 0..n1-1 only see columns with an upper part, rows
    // n1..m-1 only those with a lower part.
    for (const [r0, rows, bit] of [[0, n1, 1], [n1, n2, 2]] as const) {
      const idx: number[] = [];
      for (let k = 0; k < K; k++) if (((part[keep[k] as number] as number) & bit) !== 0) idx.push(k);
      const kk = idx.length;
      if (kk === 0) continue;
      const A = new Float64Array(rows * kk);
      for (let r = 0; r < rows; r++) {
        const src = (r0 + r) * m;
        for (let t = 0; t < kk; t++) A[r * kk + t] = Q[src + (keep[idx[t] as number] as number)] as number;
      }
      // Bt (K x kk): row j = eigenvector j restricted to the selected components.
      const Bt = new Float64Array(K * kk);
      for (let j = 0; j < K; j++) {
        const src = j * K;
        for (let t = 0; t < kk; t++) Bt[j * kk + t] = Ut[src + (idx[t] as number)] as number;
      }
      const C = new Float64Array(rows * K);
      gemm(C, rows, K, kk, A, false, Bt, true);
      for (let r = 0; r < rows; r++) {
        const src = r * K;
        const dst = (r0 + r) * m;
        for (let k = 0; k < K; k++) res[dst + (pos[k] as number)] = C[src + k] as number;
      }
    }
  }
  const nd = defl.length;
  if (nd > 0) {
    for (let r = 0; r < m; r++) {
      const rr = r * m;
      for (let t = 0; t < nd; t++) res[rr + (pos[K + t] as number)] = Q[rr + (defl[t] as number)] as number;
    }
  }
  return res;
}

/**
 * Eigenvectors of the rank-one problem from the differences delta[j K + i] = dl_i - lam_j,
 * returned transposed (K x K, row j = eigenvector of root j): z is recomputed by Löwner's
 * formula ẑ_i² ∝ prod_j (lam_j - dl_i) / prod_{j≠i} (dl_j - dl_i) (with the sign of the original
 * z_i), and vector j is (ẑ_i / (dl_i - lam_j))_i, normalised.
 */
function rankOneVectors(K: number, dl: Float64Array, z: Float64Array, keep: number[], delta: Float64Array): Float64Array {
  const Ut = new Float64Array(K * K);
  if (K === 1) {
    Ut[0] = 1;
    return Ut;
  }
  const w = new Float64Array(K);
  for (let i = 0; i < K; i++) w[i] = delta[i * K + i] as number;
  for (let j = 0; j < K; j++) {
    const dj = dl[j] as number;
    const row = j * K;
    for (let i = 0; i < j; i++) w[i] = (w[i] as number) * ((delta[row + i] as number) / ((dl[i] as number) - dj));
    for (let i = j + 1; i < K; i++) w[i] = (w[i] as number) * ((delta[row + i] as number) / ((dl[i] as number) - dj));
  }
  for (let i = 0; i < K; i++) {
    const zi = z[keep[i] as number] as number;
    const mag = Math.sqrt(Math.max(0, -(w[i] as number)));
    w[i] = zi < 0 ? -mag : mag;
  }
  for (let j = 0; j < K; j++) {
    const row = j * K;
    let ss = 0;
    for (let i = 0; i < K; i++) {
      const u = (w[i] as number) / (delta[row + i] as number);
      Ut[row + i] = u;
      ss += u * u;
    }
    const inv = 1 / Math.sqrt(ss);
    for (let i = 0; i < K; i++) Ut[row + i] = (Ut[row + i] as number) * inv;
  }
  return Ut;
}

/**
 * Roots lam_0 < ... < lam_{K-1} of 1/rho + sum_i z2_i / (dl_i - lam) = 0 (dl strictly
 * increasing, z2 > 0, rho > 0; lam_j in (dl_j, dl_{j+1}), the last in (dl_{K-1}, dl_{K-1} +
 * rho sum z2]), with delta[j K + i] = dl_i - lam_j. Each root is sought as lam = dl_o + tau
 * about the nearer pole o (the sign of the secular function at the interval's midpoint tells
 * which), so the differences dl_i - lam = (dl_i - dl_o) - tau keep full relative accuracy.
 * Iteration: the rational "middle way" model of dlaed4 (the two sums on either side of the root
 * are each fitted by value and slope with a pole at the bracketing d), solved as a quadratic,
 * safeguarded by a bracket with Newton and bisection fallbacks.
 */
export function secularRoots(K: number, dl: Float64Array, z2: Float64Array, rho: number, lam: Float64Array, delta: Float64Array): void {
  const rinv = 1 / rho;
  const dd = new Float64Array(K);
  if (K === 1) {
    lam[0] = (dl[0] as number) + rho * (z2[0] as number);
    delta[0] = -rho * (z2[0] as number);
    return;
  }
  let zsum = 0;
  for (let i = 0; i < K; i++) zsum += z2[i] as number;
  for (let j = 0; j < K; j++) {
    let o: number;
    let lo: number;
    let hi: number;
    let tau: number;
    const p = j < K - 1 ? j : K - 2; // poles p, p+1 of the rational model
    if (j < K - 1) {
      const dj = dl[j] as number;
      const gap = (dl[j + 1] as number) - dj;
      const half = gap / 2;
      let g = rinv;
      for (let i = 0; i < K; i++) g += (z2[i] as number) / ((dl[i] as number) - dj - half);
      // Initial guess (as dlaed4): keep the other poles' contribution at the midpoint fixed and
      // solve C + z2_j / (0 - x) + z2_{j+1} / (gap - x) = 0 for x = lam - dl_j in (0, gap).
      const zj = z2[j] as number;
      const zj1 = z2[j + 1] as number;
      const C = g + zj / half - zj1 / half;
      const qa = C * gap + zj + zj1;
      const qb = zj * gap;
      let x: number;
      if (C === 0) x = qb / qa;
      else {
        const q = (qa + (qa >= 0 ? 1 : -1) * Math.sqrt(Math.abs(qa * qa - 4 * C * qb))) / 2;
        const x1 = q / C;
        const x2 = q !== 0 ? qb / q : NaN;
        x = x1 > 0 && x1 < gap ? x1 : x2;
      }
      if (g > 0) {
        o = j;
        lo = 0;
        hi = half;
        tau = x > 0 && x < half ? x : half / 2;
      } else {
        o = j + 1;
        lo = -half; // measured from dl[j+1]
        hi = 0;
        tau = x >= half && x < gap ? x - gap : lo / 2;
        if (!(tau > lo && tau < hi)) tau = lo / 2;
      }
    } else {
      o = K - 1;
      lo = 0;
      hi = rho * zsum;
      tau = hi / 2;
    }
    const dO = dl[o] as number;
    for (let i = 0; i < K; i++) dd[i] = (dl[i] as number) - dO;
    let converged = false;
    for (let it = 0; it < SECULAR_MAX_ITER; it++) {
      let psi = 0;
      let dpsi = 0;
      let phi = 0;
      let dphi = 0;
      for (let i = 0; i <= p; i++) {
        const inv = 1 / ((dd[i] as number) - tau);
        const t = (z2[i] as number) * inv;
        psi += t;
        dpsi += t * inv;
      }
      for (let i = p + 1; i < K; i++) {
        const inv = 1 / ((dd[i] as number) - tau);
        const t = (z2[i] as number) * inv;
        phi += t;
        dphi += t * inv;
      }
      const g = rinv + psi + phi;
      const errBound = EPS * (10 * (phi - psi) + 2 * rinv + 3 * Math.abs(tau) * (dpsi + dphi));
      if (Math.abs(g) <= errBound) {
        converged = true;
        break;
      }
      if (g > 0) hi = tau;
      else lo = tau;
      if (hi - lo <= 2 * EPS * Math.max(Math.abs(lo), Math.abs(hi))) {
        converged = true;
        break;
      }
      // Rational model C + s1/(da - eta) + s2/(db - eta) = 0 (eta = step), value and slope of
      // each side matched at tau.
      const da = (dd[p] as number) - tau;
      const db = (dd[p + 1] as number) - tau;
      const s1 = dpsi * da * da;
      const s2 = dphi * db * db;
      const C = g - s1 / da - s2 / db;
      const a = C * (da + db) + s1 + s2;
      const b = da * db * g;
      const elo = lo - tau;
      const ehi = hi - tau;
      const inside = (x: number): boolean => x > elo && x < ehi;
      let eta = NaN;
      if (C === 0) {
        if (a !== 0) eta = b / a;
      } else {
        const sq = Math.sqrt(Math.abs(a * a - 4 * b * C));
        const q = a >= 0 ? (a + sq) / 2 : (a - sq) / 2;
        const e1 = q / C;
        const e2 = q !== 0 ? b / q : NaN;
        const ok1 = inside(e1);
        const ok2 = inside(e2);
        if (ok1 && ok2) eta = Math.abs(e1) <= Math.abs(e2) ? e1 : e2;
        else if (ok1) eta = e1;
        else if (ok2) eta = e2;
      }
      if (!inside(eta)) {
        eta = -g / (dpsi + dphi); // Newton
        if (!inside(eta)) eta = (lo + hi) / 2 - tau; // bisection
      }
      if (Math.abs(eta) <= EPS * Math.abs(tau)) {
        converged = true;
        break;
      }
      tau += eta;
    }
    if (!converged) {
      throw new BasisError('NOT_CONVERGED', `eigh: secular equation root ${j} of ${K} did not converge in ${SECULAR_MAX_ITER} iterations`);
    }
    lam[j] = dO + tau;
    const row = j * K;
    for (let i = 0; i < K; i++) delta[row + i] = (dd[i] as number) - tau;
  }
}
