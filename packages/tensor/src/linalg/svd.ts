import { BasisError } from '../errors.js';
import { Matrix } from '../matrix.js';
import type { MatrixLike } from '../matrix.js';
import { transposeData } from './gemm.js';
import { accumulateReflectors, applyReflectorLeft, applyReflectorRight, makeReflector } from './householder.js';
import { RotationLog } from './rotations.js';
import { EPS, checkedMatrix, maxAbs, pow2Near } from './validate.js';

/** Options of {@link svd}. */
export interface SvdOptions {
  /** Compute the singular vectors U and V (default true). `false` returns `s` only (faster). */
  computeUV?: boolean;
}

/** Result of {@link svd}: the thin SVD `A = U diag(s) Vᵀ`. */
export interface SvdResult {
  /** m x k left singular vectors (orthonormal columns), k = min(m, n). */
  U: Matrix;
  /** The k singular values, descending, non-negative. */
  s: Float64Array;
  /** n x k right singular vectors (orthonormal columns). */
  V: Matrix;
}

/**
 * Thin singular value decomposition `A = U diag(s) Vᵀ` of an m x n matrix (k = min(m, n)):
 * Householder bidiagonalisation followed by implicit-shift QR on the bidiagonal (Golub–Kahan–
 * Reinsch). Backward stable: singular values are accurate to about `max(m, n) * 2^-52 * s_1`
 * absolutely, also for ill-conditioned and rank-deficient inputs. Singular values are descending;
 * sign convention: each column of U has its largest-|.| entry positive (first index on ties) and
 * the matching column of V is flipped with it, so `A = U diag(s) Vᵀ` still holds. For a zero
 * singular value the vectors are an arbitrary (deterministic) orthonormal completion.
 * Empty input is TOO_SMALL, NaN/Inf is NON_FINITE_INPUT.
 *
 * @example
 * ```ts
 * const { U, s, V } = svd([[3, 0], [0, -2], [0, 0]]);
 * s; // Float64Array [3, 2]
 * U.shape; // [3, 2]
 * V.toArray(); // [[1, 0], [0, -1]]
 * ```
 */
export function svd(A: MatrixLike, opts: { computeUV: false }): { s: Float64Array };
export function svd(A: MatrixLike, opts?: SvdOptions): SvdResult;
export function svd(A: MatrixLike, opts: SvdOptions = {}): SvdResult | { s: Float64Array } {
  const a = checkedMatrix(A, 'A');
  const r = svdKernel(a.data, a.rows, a.cols, opts.computeUV !== false);
  if (r.U === null || r.V === null) return { s: r.s };
  const k = r.s.length;
  return { U: new Matrix(a.rows, k, r.U), s: r.s, V: new Matrix(a.cols, k, r.V) };
}

/**
 * The singular values of A, descending (`svd(A, { computeUV: false }).s`).
 *
 * @example
 * ```ts
 * singularValues([[1, 0], [0, 2]]); // Float64Array [2, 1]
 * ```
 */
export function singularValues(A: MatrixLike): Float64Array {
  return svd(A, { computeUV: false }).s;
}

/** Raw SVD result (row-major U: m x k, V: n x k). */
export interface SvdData {
  U: Float64Array | null;
  s: Float64Array;
  V: Float64Array | null;
}

/** SVD kernel over a row-major m x n array (not modified). */
export function svdKernel(data: Float64Array, m: number, n: number, wantUV: boolean): SvdData {
  if (m < n) {
    const t = svdTall(transposeData(data, m, n), n, m, wantUV);
    if (!wantUV) return { U: null, s: t.s, V: null };
    // A = (Aᵀ)ᵀ = V' S U'ᵀ: swap, then apply the sign convention on the new U.
    const U = t.V as Float64Array;
    const V = t.U as Float64Array;
    signConvention(U, V, m, n, t.s.length);
    return { U, s: t.s, V };
  }
  const r = svdTall(data.slice(), m, n, wantUV);
  if (wantUV) signConvention(r.U as Float64Array, r.V as Float64Array, m, n, r.s.length);
  return r;
}

/** Flips column pairs (U_j, V_j) so that U_j's largest-|.| entry is positive. */
function signConvention(U: Float64Array, V: Float64Array, m: number, n: number, k: number): void {
  const best = new Float64Array(k);
  const val = new Float64Array(k);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < k; j++) {
      const x = U[i * k + j] as number;
      const ax = Math.abs(x);
      if (ax > (best[j] as number)) {
        best[j] = ax;
        val[j] = x;
      }
    }
  }
  for (let j = 0; j < k; j++) {
    if ((val[j] as number) >= 0) continue;
    for (let i = 0; i < m; i++) U[i * k + j] = -(U[i * k + j] as number);
    for (let i = 0; i < n; i++) V[i * k + j] = -(V[i * k + j] as number);
  }
}

/** SVD of a row-major m x n array with m >= n (overwritten). */
function svdTall(A: Float64Array, m: number, n: number, wantUV: boolean): SvdData {
  const top = maxAbs(A);
  if (top === 0) {
    const s = new Float64Array(n);
    if (!wantUV) return { U: null, s, V: null };
    const U = new Float64Array(m * n);
    const V = new Float64Array(n * n);
    for (let j = 0; j < n; j++) {
      U[j * n + j] = 1;
      V[j * n + j] = 1;
    }
    return { U, s, V };
  }
  const scale = pow2Near(top); // exact scaling
  const inv = 1 / scale;
  for (let k = 0; k < A.length; k++) A[k] = (A[k] as number) * inv;

  // 1. Householder bidiagonalisation A = U_B B V_Bᵀ (B upper bidiagonal: d on the diagonal,
  //    e on the superdiagonal). Left reflector k is kept in row k of VL (length m - k),
  //    right reflector k in row k of VR (length n - k - 1).
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const VL = wantUV ? new Float64Array(n * m) : new Float64Array(m);
  const VR = wantUV ? new Float64Array(n * n) : new Float64Array(n);
  const betaL = new Float64Array(n);
  const betaR = new Float64Array(n);
  const w = new Float64Array(Math.max(m, n));
  for (let k = 0; k < n; k++) {
    const lo = wantUV ? k * m : 0;
    const [alpha, beta] = makeReflector(A, k * n + k, n, m - k, VL, lo);
    d[k] = alpha;
    betaL[k] = beta;
    applyReflectorLeft(A, n, k, m, k + 1, n, VL, lo, beta, w);
    if (k < n - 1) {
      const ro = wantUV ? k * n : 0;
      const [alphaR, betaRk] = makeReflector(A, k * n + k + 1, 1, n - k - 1, VR, ro);
      e[k] = alphaR;
      betaR[k] = betaRk;
      applyReflectorRight(A, n, k + 1, m, k + 1, n, VR, ro, betaRk);
    }
  }

  // 2. Explicit U (m x n) and V (n x n) by backward accumulation.
  let U: Float64Array | null = null;
  let V: Float64Array | null = null;
  if (wantUV) {
    U = new Float64Array(m * n);
    for (let j = 0; j < n; j++) U[j * n + j] = 1;
    accumulateReflectors(U, m, n, n, 0, VL, (j) => j * m, betaL);
    V = new Float64Array(n * n);
    for (let j = 0; j < n; j++) V[j * n + j] = 1;
    if (n >= 2) accumulateReflectors(V, n, n, n - 1, 1, VR, (j) => j * n, betaR);
  }

  // 3. Implicit-shift QR on the bidiagonal (after LINPACK dsvdc / JAMA).
  const signs = bidiagonalQR(d, e, n, U, m, V);

  // Sort descending; apply the deferred sign flips and the permutation.
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((i, j) => (d[j] as number) - (d[i] as number) || i - j);
  const s = new Float64Array(n);
  for (let j = 0; j < n; j++) s[j] = (d[order[j] as number] as number) * scale;
  if (U === null || V === null) return { U: null, s, V: null };
  const Uo = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const r = i * n;
    for (let j = 0; j < n; j++) Uo[r + j] = U[r + (order[j] as number)] as number;
  }
  const Vo = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const r = i * n;
    for (let j = 0; j < n; j++) {
      const o = order[j] as number;
      Vo[r + j] = (signs[o] as number) * (V[r + o] as number);
    }
  }
  return { U: Uo, s, V: Vo };
}

/**
 * Golub–Kahan implicit-shift QR on the upper bidiagonal (s, e) of order n (e[n-1] unused),
 * accumulating the column rotations into U (m x n) and V (n x n) when given. On return `s`
 * holds the (unsorted) non-negative singular values; the returned array holds the sign (+1/-1)
 * by which each V column must still be multiplied.
 */
function bidiagonalQR(s: Float64Array, e: Float64Array, n: number, U: Float64Array | null, m: number, V: Float64Array | null): Float64Array {
  const logU = U === null ? null : new RotationLog(U, m, n);
  const logV = V === null ? null : new RotationLog(V, n, n);
  const signs = new Float64Array(n).fill(1);
  e[n - 1] = 0;
  let p = n;
  let totalIter = 0;
  const maxTotal = 75 * n + 100;
  const tiny = 2 ** -966;
  while (p > 0) {
    let k: number;
    let kase: number;
    // Find the largest k < p-1 with negligible e[k] (k = -1 if none).
    for (k = p - 2; k >= -1; k--) {
      if (k === -1) break;
      if (Math.abs(e[k] as number) <= tiny + EPS * (Math.abs(s[k] as number) + Math.abs(s[k + 1] as number))) {
        e[k] = 0;
        break;
      }
    }
    if (k === p - 2) {
      kase = 4;
    } else {
      let ks: number;
      for (ks = p - 1; ks >= k; ks--) {
        if (ks === k) break;
        const t = (ks !== p ? Math.abs(e[ks] as number) : 0) + (ks !== k + 1 ? Math.abs(e[ks - 1] as number) : 0);
        if (Math.abs(s[ks] as number) <= tiny + EPS * t) {
          s[ks] = 0;
          break;
        }
      }
      if (ks === k) kase = 3;
      else if (ks === p - 1) kase = 1;
      else {
        kase = 2;
        k = ks;
      }
    }
    k++;
    if (kase === 1) {
      // Deflate negligible s[p-1].
      let f = e[p - 2] as number;
      e[p - 2] = 0;
      for (let j = p - 2; j >= k; j--) {
        const t = Math.hypot(s[j] as number, f);
        const cs = (s[j] as number) / t;
        const sn = f / t;
        s[j] = t;
        if (j !== k) {
          f = -sn * (e[j - 1] as number);
          e[j - 1] = cs * (e[j - 1] as number);
        }
        if (logV) logV.pair(j, p - 1, cs, sn);
      }
    } else if (kase === 2) {
      // Split at negligible s[k-1].
      let f = e[k - 1] as number;
      e[k - 1] = 0;
      for (let j = k; j < p; j++) {
        const t = Math.hypot(s[j] as number, f);
        const cs = (s[j] as number) / t;
        const sn = f / t;
        s[j] = t;
        f = -sn * (e[j] as number);
        e[j] = cs * (e[j] as number);
        if (logU) logU.pair(j, k - 1, cs, sn);
      }
    } else if (kase === 3) {
      if (++totalIter > maxTotal) {
        throw new BasisError('NOT_CONVERGED', `svd: bidiagonal QR did not converge after ${maxTotal} iterations`);
      }
      // Shift from the trailing 2 x 2 (scaled to avoid over/underflow).
      const sc = Math.max(
        Math.abs(s[p - 1] as number),
        Math.abs(s[p - 2] as number),
        Math.abs(e[p - 2] as number),
        Math.abs(s[k] as number),
        Math.abs(e[k] as number),
      );
      const sp = (s[p - 1] as number) / sc;
      const spm1 = (s[p - 2] as number) / sc;
      const epm1 = (e[p - 2] as number) / sc;
      const sk = (s[k] as number) / sc;
      const ek = (e[k] as number) / sc;
      const b = ((spm1 + sp) * (spm1 - sp) + epm1 * epm1) / 2;
      const c = sp * epm1 * (sp * epm1);
      let shift = 0;
      if (b !== 0 || c !== 0) {
        shift = Math.sqrt(b * b + c);
        if (b < 0) shift = -shift;
        shift = c / (b + shift);
      }
      let f = (sk + sp) * (sk - sp) + shift;
      let g = sk * ek;
      if (logV) logV.beginChain(false, k, p - 1 - k);
      if (logU) logU.beginChain(false, k, p - 1 - k);
      for (let j = k; j < p - 1; j++) {
        let t = Math.hypot(f, g);
        let cs = f / t;
        let sn = g / t;
        if (j !== k) e[j - 1] = t;
        f = cs * (s[j] as number) + sn * (e[j] as number);
        e[j] = cs * (e[j] as number) - sn * (s[j] as number);
        g = sn * (s[j + 1] as number);
        s[j + 1] = cs * (s[j + 1] as number);
        if (logV) logV.push(cs, sn);
        t = Math.hypot(f, g);
        cs = f / t;
        sn = g / t;
        s[j] = t;
        f = cs * (e[j] as number) + sn * (s[j + 1] as number);
        s[j + 1] = -sn * (e[j] as number) + cs * (s[j + 1] as number);
        g = sn * (e[j + 1] as number);
        e[j + 1] = cs * (e[j + 1] as number);
        if (logU) logU.push(cs, sn);
      }
      e[p - 2] = f;
    } else {
      // Convergence of s[k] (k = p-1): make it non-negative (sign flip of V's column deferred).
      if ((s[k] as number) <= 0) {
        if ((s[k] as number) < 0) signs[k] = -1;
        s[k] = Math.abs(s[k] as number);
      }
      p--;
    }
  }
  if (logU) logU.flush();
  if (logV) logV.flush();
  return signs;
}
