import { float64Buffer } from '../memory.js';
import { lapackGesdd, lapackSize, nativeFor, scratch } from '../engine/lapack.js';
import type { NativeLib } from '../engine/native.js';
import { BasisError } from '../errors.js';
import { Matrix } from '../matrix.js';
import type { MatrixLike } from '../matrix.js';
import { gemm, matmulData, transposeData, transposeScaledInto } from './gemm.js';
import { householderQR } from './qr.js';
import { makeBlas2 } from './blas2.js';
import { accumulateReflectors, makeReflector } from './householder.js';
import { RotationLog } from './rotations.js';
import { EPS, checkedMatrix, maxAbs, pow2Near, pow2ScaledCopy } from './validate.js';

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
 * Thin singular value decomposition `A = U diag(s) Vᵀ` of an m x n matrix (k = min(m, n)).
 *
 * Provider: with the native engine (a system LAPACK, see `engineInfo()`) LAPACK `dgesdd`
 * computes it (divide and conquer; JOBZ 'S', values only 'N'), on a copy scaled by an
 * exact power of two so that inputs near the overflow/underflow limits work; should dgesdd
 * report non-convergence, basis' own kernel below is used instead. Otherwise (`BASIS_BLAS=off`,
 * browser, tiny matrices) basis' own kernel computes it:
 * Householder bidiagonalisation followed by implicit-shift QR on the bidiagonal (Golub–Kahan–
 * Reinsch); tall inputs (m >= 1.6 n) are first reduced by a blocked QR, wide ones are
 * transposed. Backward stable: singular values are accurate to about `max(m, n) * 2^-52 * s_1`
 * absolutely, also for ill-conditioned and rank-deficient inputs. Singular values are descending;
 * sign convention: each column of U has its largest-|.| entry positive (first index on ties) and
 * the matching column of V is flipped with it, so `A = U diag(s) Vᵀ` still holds (both
 * providers). For a zero singular value the vectors are an arbitrary (deterministic for a given
 * provider, core type and thread count) orthonormal completion; the zero matrix gives identity
 * columns on both.
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
export function svd(A: MatrixLike, opts?: SvdOptions & { computeUV?: true }): SvdResult;
export function svd(A: MatrixLike, opts: SvdOptions & { computeUV: false }): { s: Float64Array };
export function svd(A: MatrixLike, opts: SvdOptions): SvdResult | { s: Float64Array };
export function svd(A: MatrixLike, opts: SvdOptions = {}): SvdResult | { s: Float64Array } {
  const a = checkedMatrix(A, 'A');
  const r = svdKernel(a.data, a.rows, a.cols, opts.computeUV !== false);
  if (r.U === null || r.V === null) return { s: r.s };
  const k = r.s.length;
  return { U: new Matrix(a.rows, k, r.U), s: r.s, V: new Matrix(a.cols, k, r.V) };
}

/**
 * The singular values of A, descending (`svd(A, { computeUV: false }).s`; LAPACK dgesdd on the
 * native provider).
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

/**
 * SVD kernel over a row-major m x n array (not modified): LAPACK dgesdd on the native provider
 * above the crossover size (falling back to the WebAssembly kernel should dgesdd not converge),
 * otherwise basis' own kernel.
 */
export function svdKernel(data: Float64Array, m: number, n: number, wantUV: boolean): SvdData {
  const lib = nativeFor(wantUV ? 'svd' : 'svdValues', lapackSize(m, n));
  if (lib !== null) {
    const r = svdNative(lib, data, m, n, wantUV);
    if (r !== null) return r;
  }
  if (m < n) {
    const t = svdTall(transposeData(data, m, n), n, m, wantUV);
    if (!wantUV) return { U: null, s: t.s, V: null };
    // A = (Aᵀ)ᵀ = V' S U'ᵀ: swap, then apply the sign convention on the new U.
    const U = t.V as Float64Array;
    const V = t.U as Float64Array;
    signConvention(U, V, m, n, t.s.length);
    return { U, s: t.s, V };
  }
  const r = m >= 1.6 * n && n >= 8 ? svdViaQR(data, m, n, wantUV) : svdTall(data.slice(), m, n, wantUV);
  if (wantUV) signConvention(r.U as Float64Array, r.V as Float64Array, m, n, r.s.length);
  return r;
}

/**
 * SVD through LAPACK dgesdd. The row-major m x n array is the column-major n x m array Aᵀ, so
 * dgesdd factors `Aᵀ = U' S V'ᵀ` with no copy beyond the exact power-of-two scaling, and
 * `A = V' S U'ᵀ`: U = V' is dgesdd's Vᵀ buffer read as row-major m x k as it stands, V = U' is
 * its U buffer transposed. Returns null for the zero matrix (the WebAssembly kernel's identity
 * completion is the contract) and when dgesdd does not converge.
 */
function svdNative(lib: NativeLib, data: Float64Array, m: number, n: number, wantUV: boolean): SvdData | null {
  // One pass for the scale and finiteness (top is NaN or Infinity if any entry is not finite),
  // one for the exact power-of-two scaled copy, into a reused scratch buffer (dgesdd destroys it).
  const top = maxAbsOrNonFinite(data);
  if (top === 0) return null;
  const finite = Number.isFinite(top);
  const scale = finite ? pow2Near(top) : 1;
  const inv = 1 / scale; // exact: x * inv is x / scale, correctly rounded alike
  const a = scratch('a', m * n);
  // LAPACK's tall path (QR, then the small SVD) is markedly faster than its wide path (LQ):
  // 10000 x 256 takes ~300 ms tall and ~470 ms wide on one OpenBLAS thread. So a tall A is
  // factored as itself in column-major order (one transposed copy); a wide A as Aᵀ, which is
  // its row-major buffer as it stands.
  if (m > n) {
    transposeScaledInto(data, m, n, inv, a);
    const g = lapackGesdd(lib, a, m, n, wantUV, { knownFinite: finite });
    if (g === null) return null;
    const s = g.s;
    const k = s.length;
    if (scale !== 1) for (let j = 0; j < k; j++) s[j] = (s[j] as number) * scale;
    if (!wantUV) return { U: null, s, V: null };
    // U: column-major m x k -> row-major, with the sign convention applied in the same pass (its
    // signs read from U's contiguous columns); V: Vᵀ column-major k x n is V row-major n x k.
    const u = g.u as Float64Array;
    const signs = columnSignsColumnMajor(u, m, k);
    const U = float64Buffer(m * k);
    transposeScaledInto(u, k, m, signs, U);
    const V = g.vt as Float64Array;
    applyColumnSigns(V, n, k, signs);
    return { U, s, V };
  }
  for (let t = 0; t < a.length; t++) a[t] = (data[t] as number) * inv;
  // U' (dgesdd's U) is read once, transposed into V: it can live in scratch
  const g = lapackGesdd(lib, a, n, m, wantUV, { knownFinite: finite, scratchU: true });
  if (g === null) return null;
  const s = g.s;
  const k = s.length;
  if (scale !== 1) for (let j = 0; j < k; j++) s[j] = (s[j] as number) * scale;
  if (!wantUV) return { U: null, s, V: null };
  const U = g.vt as Float64Array;
  const V = transposeData(g.u as Float64Array, k, n);
  signConvention(U, V, m, n, k);
  return { U, s, V };
}

/**
 * The orthogonal polar factor `U Vᵀ` of a square matrix whose entries the caller has proven finite
 * (from {@link svd}'s U and V; e.g. the orthogonal Procrustes rotation). On the native provider it
 * multiplies dgesdd's two factor buffers as they stand: the same dgesdd call as `svd`, without its
 * sign convention (the flips cancel exactly in `U Vᵀ`), its transposed copy of V and `Vᵀ`, so the
 * result is bit-identical to `matmul(U, V.transpose())`. Otherwise, for the zero matrix, or should
 * dgesdd not converge, it is that product. Internal to basis' packages (`@basis/tensor/internal`).
 *
 * @example
 * ```ts
 * polarFactorOfFinite(Matrix.from([[0, 2], [-3, 0]])).toArray(); // [[0, 1], [-1, 0]]
 * ```
 */
export function polarFactorOfFinite(A: Matrix): Matrix {
  const n = A.rows;
  if (A.cols !== n) throw new BasisError('SHAPE_MISMATCH', `polarFactorOfFinite(A) needs a square matrix, got ${A.rows} x ${A.cols}`);
  const lib = nativeFor('svd', n);
  if (lib !== null) {
    const top = maxAbsOrNonFinite(A.data);
    if (top > 0 && Number.isFinite(top)) {
      // as svdNative: an exact power-of-two scaled copy (dgesdd destroys its input)
      const inv = 1 / pow2Near(top);
      const a = scratch('a', n * n);
      for (let t = 0; t < a.length; t++) a[t] = (A.data[t] as number) * inv;
      const g = lapackGesdd(lib, a, n, n, true, { knownFinite: true, scratchU: true });
      if (g !== null) {
        // the row-major A is the column-major Aᵀ = U' S V'ᵀ, so A = V' S U'ᵀ and U Vᵀ = V' U'ᵀ:
        // dgesdd's VT buffer (V'ᵀ column-major) is V' row-major, its U buffer U'ᵀ row-major
        return new Matrix(n, n, matmulData(g.vt as Float64Array, g.u as Float64Array, n, n, n));
      }
    }
  }
  const { U, V } = svd(A);
  return new Matrix(n, n, matmulData(U.data, V.transpose().data, n, n, n));
}

/** max |x| over `a`, or NaN / Infinity when an entry is not finite (Math.max propagates NaN). */
function maxAbsOrNonFinite(a: Float64Array): number {
  let m0 = 0;
  let m1 = 0;
  const n2 = a.length & ~1;
  for (let k = 0; k < n2; k += 2) {
    m0 = Math.max(m0, Math.abs(a[k] as number));
    m1 = Math.max(m1, Math.abs(a[k + 1] as number));
  }
  if (n2 < a.length) m0 = Math.max(m0, Math.abs(a[n2] as number));
  return Math.max(m0, m1);
}

/**
 * Tall matrices (m >= 1.6 n, LAPACK's crossover): A = Q R by blocked Householder QR, the SVD
 * of the n x n factor R, then U = Q U_R — fewer operations than bidiagonalising A directly.
 */
function svdViaQR(data: Float64Array, m: number, n: number, wantUV: boolean): SvdData {
  // Exact power-of-two scaling to entries of order 1 first, as svdTall does (tiny or huge
  // inputs would otherwise underflow or overflow inside the reflectors).
  const { data: a, scale } = pow2ScaledCopy(data);
  const f = householderQR(a, m, n, false);
  const R = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    R[i * n + i] = f.diag[i] as number;
    for (let j = i + 1; j < n; j++) R[i * n + j] = f.a[i * n + j] as number;
  }
  const r = svdTall(R, n, n, wantUV);
  if (scale !== 1) for (let k = 0; k < r.s.length; k++) r.s[k] = (r.s[k] as number) * scale;
  if (!wantUV) return r;
  const Q = float64Buffer(m * n);
  for (let j = 0; j < n; j++) Q[j * n + j] = 1;
  accumulateReflectors(Q, m, n, n, 0, f.vs, (j) => j * m, f.betas);
  const U = float64Buffer(m * n);
  gemm(U, m, n, n, Q, false, r.U as Float64Array, false);
  return { U, s: r.s, V: r.V };
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
  const signs = new Float64Array(k);
  for (let j = 0; j < k; j++) signs[j] = (val[j] as number) >= 0 ? 1 : -1;
  applyColumnSigns(U, m, k, signs);
  applyColumnSigns(V, n, k, signs);
}

/**
 * The signs of {@link signConvention} from U stored column-major (m x k, column j contiguous): +1
 * where the column's first largest-|.| entry (in row order) is >= 0, else -1.
 */
function columnSignsColumnMajor(u: Float64Array, m: number, k: number): Float64Array {
  const signs = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const o = j * m;
    let best = 0;
    let val = 0;
    for (let i = 0; i < m; i++) {
      const x = u[o + i] as number;
      const ax = Math.abs(x);
      if (ax > best) {
        best = ax;
        val = x;
      }
    }
    signs[j] = val >= 0 ? 1 : -1;
  }
  return signs;
}

/** Multiplies column j of the row-major r x k array A by `signs[j]` (±1, exact), row by row (sequential reads); nothing to do when every sign is +1. */
function applyColumnSigns(A: Float64Array, r: number, k: number, signs: Float64Array): void {
  let any = false;
  for (let j = 0; j < k; j++) if ((signs[j] as number) < 0) any = true;
  if (!any) return;
  for (let i = 0; i < r; i++) {
    const o = i * k;
    for (let j = 0; j < k; j++) A[o + j] = (A[o + j] as number) * (signs[j] as number); // x * 1 is x, x * -1 is -x
  }
}

/** SVD of a row-major m x n array with m >= n (overwritten). */
function svdTall(A: Float64Array, m: number, n: number, wantUV: boolean): SvdData {
  const top = maxAbs(A);
  if (top === 0) {
    const s = new Float64Array(n);
    if (!wantUV) return { U: null, s, V: null };
    const U = float64Buffer(m * n);
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
  bidiagonalize(A, m, n, d, e, VL, VR, betaL, betaR, wantUV);

  // 2. Explicit U (m x n) and V (n x n) by backward accumulation.
  let U: Float64Array | null = null;
  let V: Float64Array | null = null;
  if (wantUV) {
    U = float64Buffer(m * n);
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
  const Uo = float64Buffer(m * n);
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
 * Householder bidiagonalisation of the row-major m x n array A (m >= n), one pass over the
 * trailing matrix per step: the left reflector's update of each row, the right reflector's
 * update (row dot + axpy while the row is in cache) and the partial product needed by the next
 * left reflector are fused. Rows are processed by the dot/axpy kernels of {@link makeBlas2}
 * (WebAssembly SIMD when available). Left reflector k goes to VL (row k when `wantUV`), right
 * reflector k to VR; d and e receive the bidiagonal.
 */
function bidiagonalize(
  A0: Float64Array,
  m: number,
  n: number,
  d: Float64Array,
  e: Float64Array,
  VL: Float64Array,
  VR: Float64Array,
  betaL: Float64Array,
  betaR: Float64Array,
  wantUV: boolean,
): void {
  // Working array: A (m x n), then w (beta_L v_Lᵀ A by column), u (partial product for the next
  // left reflector) and vR (current right reflector), all indexed by global column.
  const wO = m * n;
  const uO = wO + n;
  const vO = uO + n;
  const blas = makeBlas2(vO + n);
  const A = blas.F;
  A.set(A0.subarray(0, m * n));
  const vL = new Float64Array(m); // current left reflector, by row
  let [alpha, beta] = makeReflector(A, 0, n, m, VL, 0);
  for (let i = 0; i < m; i++) blas.axpy(wO + 1, i * n + 1, n - 1, VL[i] as number);
  for (let j = 1; j < n; j++) A[wO + j] = beta * (A[wO + j] as number);
  for (let k = 0; k < n; k++) {
    const lo = wantUV ? k * m : 0;
    for (let i = k; i < m; i++) vL[i] = VL[lo + i - k] as number;
    d[k] = alpha;
    betaL[k] = beta;
    if (k === n - 1) break;
    const k1 = k + 1;
    const k2 = k + 2;
    const len1 = n - k1;
    const len2 = n - k2;
    // Row k: left update, then the right reflector from it.
    blas.axpy(k * n + k1, wO + k1, len1, -(vL[k] as number));
    const ro = wantUV ? k * n : 0;
    const [alphaR, bR] = makeReflector(A, k * n + k1, 1, len1, VR, ro);
    e[k] = alphaR;
    betaR[k] = bR;
    for (let j = k1; j < n; j++) A[vO + j] = VR[ro + j - k1] as number;
    A.fill(0, uO + k2, uO + n);
    for (let i = k1; i < m; i++) {
      const ri = i * n;
      blas.axpy(ri + k1, wO + k1, len1, -(vL[i] as number));
      if (bR !== 0) blas.axpy(ri + k1, vO + k1, len1, -bR * blas.dot(ri + k1, vO + k1, len1));
      if (i >= k2) blas.axpy(uO + k2, ri + k2, len2, A[ri + k1] as number);
    }
    // Next left reflector (column k+1) and its w = beta (v0 row_{k+1} + u).
    const lo2 = wantUV ? k1 * m : 0;
    [alpha, beta] = makeReflector(A, k1 * n + k1, n, m - k1, VL, lo2);
    const v0 = VL[lo2] as number;
    const r1 = k1 * n;
    for (let j = k2; j < n; j++) A[wO + j] = beta * (v0 * (A[r1 + j] as number) + (A[uO + j] as number));
  }
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
  if (logU) logU.finish();
  if (logV) logV.finish();
  return signs;
}
