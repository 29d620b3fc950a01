import { float64Buffer } from '../memory.js';
import { lapackGeqrf, lapackOrgqr, lapackOrmqrT, lapackQR, lapackSize, nativeFor } from '../engine/lapack.js';
import type { NativeLib } from '../engine/native.js';
import { BasisError } from '../errors.js';
import { Matrix } from '../matrix.js';
import type { MatrixLike } from '../matrix.js';
import { accumulateReflectors, applyBlockReflector, applyReflectorLeft, blockT, makeReflector } from './householder.js';
import { transposeData, transposeScaledInto } from './gemm.js';
import { EPS, checkedMatrix, maxAbs, pow2Near, pow2ScaledCopy } from './validate.js';

/** Options of {@link qr}. */
export interface QrOptions {
  /**
   * `'thin'` (default): Q is m x k and R is k x n with k = min(m, n). `'complete'`: Q is m x m
   * (orthogonal) and R is m x n.
   */
  mode?: 'thin' | 'complete';
}

/** Result of {@link qr}: `A = Q R`. */
export interface QrResult {
  /** Orthonormal columns. */
  Q: Matrix;
  /** Upper triangular (trapezoidal) with a non-negative diagonal. */
  R: Matrix;
}

/** Result of {@link qrPivoted}: `A[:, perm] = Q R`. */
export interface QrPivotedResult extends QrResult {
  /** Column order: column j of `Q R` is column `perm[j]` of A. */
  perm: Int32Array;
}

/**
 * Householder QR decomposition `A = Q R` of an m x n matrix: LAPACK `dgeqrf` + `dorgqr` on the
 * native provider (see `engineInfo()`) from about 16 x 16 on, basis' blocked Householder
 * kernel otherwise; both on a copy scaled by an exact power of two. R's diagonal is made non-negative
 * (each negative `R_jj` flips row j of R and column j of Q), which makes the factorisation
 * unique for full-column-rank A and deterministic otherwise. Thin by default.
 *
 * @example
 * ```ts
 * const { Q, R } = qr([[3, 1], [4, 2]]);
 * R.get(0, 0); // 5
 * Q.get(1, 0); // 0.8
 * ```
 */
export function qr(A: MatrixLike, opts: QrOptions = {}): QrResult {
  const a = checkedMatrix(A, 'A');
  const mode = opts.mode ?? 'thin';
  if (mode !== 'thin' && mode !== 'complete') {
    throw new BasisError('INVALID_ARGUMENT', `qr: option mode must be 'thin' or 'complete', got ${String(mode)}`);
  }
  if (mode === 'thin') {
    const f = deferred(a);
    return { Q: f.Q(), R: f.R };
  }
  const { data, scale } = pow2ScaledCopy(a.data);
  const lib = nativeFor('qr', lapackSize(a.rows, a.cols));
  if (lib !== null) return unscaleR(qrNative(lib, data, a.rows, a.cols, true), scale);
  const f = householderQR(data, a.rows, a.cols, false);
  return unscaleR(assemble(f, a.rows, a.cols, true), scale);
}

/** Result of {@link qrDeferred}: R now, Q on first request. */
export interface QrDeferred {
  /** Upper triangular k x n (k = min(m, n)) with a non-negative diagonal: {@link qr}'s R, bit for bit. */
  R: Matrix;
  /** Forms the thin Q (m x k; {@link qr}'s Q, bit for bit) on the first call; later calls return the same Matrix. */
  Q: () => Matrix;
  /**
   * For B (m x p): `inside = ||Qᵀ B||²_F` and `outside = ||B - Q Qᵀ B||²_F`, the squared lengths of
   * B's projections on the span of A's columns and on its orthogonal complement, from the full
   * orthogonal Qᵀ B (LAPACK `dormqr`: no Q formed, no residual subtracted). Available on the
   * native provider while Q has not been formed (it overwrites the factors); undefined otherwise,
   * and then `Q()` gives the same quantities. B must be finite.
   */
  projectionSquares: (B: Matrix) => { inside: number; outside: number } | undefined;
}

/**
 * Thin QR `A = Q R` with Q formed only when asked for: LAPACK `dgeqrf` now and `dorgqr` on the
 * first `Q()` on the native provider (for a tall matrix each is about half of {@link qr}'s work),
 * basis' Householder kernel otherwise. Results equal {@link qr}'s bit for bit. Until `Q()` is
 * called the Householder factors (m x n) are kept.
 *
 * @example
 * ```ts
 * const f = qrDeferred([[3, 1], [4, 2]]);
 * f.R.get(0, 0); // 5: no Q formed yet
 * f.Q().get(1, 0); // 0.8
 * qrDeferred(X).projectionSquares(Y); // { inside, outside }: Y's squared lengths in and outside X's span (native, before Q())
 * ```
 */
export function qrDeferred(A: MatrixLike): QrDeferred {
  return deferred(checkedMatrix(A, 'A'));
}

/** {@link qrDeferred} of an already validated matrix. */
function deferred(a: Matrix): QrDeferred {
  const m = a.rows;
  const n = a.cols;
  const k = Math.min(m, n);
  const lib = nativeFor('qr', lapackSize(m, n));
  let R: Matrix;
  let formQ: () => Float64Array;
  let scale: number;
  let project: ((B: Matrix) => { inside: number; outside: number }) | undefined;
  if (lib !== null) {
    // the validated input, scaled by an exact power of two and transposed to column-major order
    // in one pass: the same array {@link pow2ScaledCopy} and a transposed copy of it would give
    const top = maxAbs(a.data);
    scale = top === 0 ? 1 : pow2Near(top);
    const cm = float64Buffer(m * n);
    transposeScaledInto(a.data, m, n, 1 / scale, cm);
    const g = lapackGeqrf(lib, cm, m, n, false, true);
    R = new Matrix(k, n, g.R);
    formQ = () => {
      project = undefined; // dorgqr overwrites the factors
      const { q, qc } = lapackOrgqr(lib, g.factors);
      return transposeData(q.length === m * qc ? q : q.subarray(0, m * qc), qc, m);
    };
    project = (B) => {
      const p = B.cols;
      const c = float64Buffer(m * p);
      transposeScaledInto(B.data, m, p, 1, c);
      lapackOrmqrT(lib, g.factors, c, p);
      let inside = 0;
      let outside = 0;
      for (let j = 0; j < p; j++) {
        const col = j * m;
        for (let i = 0; i < k; i++) inside += (c[col + i] as number) ** 2;
        for (let i = k; i < m; i++) outside += (c[col + i] as number) ** 2;
      }
      return { inside, outside };
    };
  } else {
    const c = pow2ScaledCopy(a.data);
    scale = c.scale;
    const f = householderQR(c.data, m, n, false);
    R = new Matrix(k, n, factorR(f, n, k));
    formQ = () => factorQ(f, m, k);
  }
  // R's diagonal made non-negative; the same columns of Q flip when it is formed
  const flip: number[] = [];
  const r = R.data;
  for (let i = 0; i < k; i++) {
    if ((r[i * n + i] as number) >= 0) continue;
    flip.push(i);
    for (let j = i; j < n; j++) r[i * n + j] = -(r[i * n + j] as number);
  }
  unscaleR({ R }, scale);
  let Q: Matrix | undefined;
  return {
    R,
    projectionSquares: (B) => {
      if (B.rows !== m) throw new BasisError('SHAPE_MISMATCH', `projectionSquares: B has ${B.rows} rows, the factorised matrix ${m}`);
      return project?.(B);
    },
    Q: () => {
      if (Q === undefined) {
        const q = formQ();
        for (const i of flip) for (let row = 0; row < m; row++) q[row * k + i] = -(q[row * k + i] as number);
        Q = new Matrix(m, k, q);
      }
      return Q;
    },
  };
}

/**
 * The R factor alone of the thin QR decomposition `A = Q R` (k x n, k = min(m, n), non-negative
 * diagonal; {@link qr}'s R bit for bit): LAPACK `dgeqrf` without forming Q on the native provider
 * (about half the work of {@link qr} for a tall matrix). For what depends on A only through
 * `Aᵀ A = Rᵀ R`: singular values and right singular vectors (`svd(R)`), condition numbers.
 *
 * @example
 * ```ts
 * qrR([[3, 1], [4, 2]]).toArray(); // [[5, 2.2], [0, 0.4]]
 * ```
 */
export function qrR(A: MatrixLike): Matrix {
  return qrDeferred(A).R;
}

/**
 * Complete QR through LAPACK dgeqrf + dorgqr on a column-major copy of the row-major m x n array,
 * with R's diagonal made non-negative as in {@link assemble} (the thin one goes through
 * {@link qrDeferred}).
 */
function qrNative(lib: NativeLib, data: Float64Array, m: number, n: number, complete: boolean): QrResult {
  const k = Math.min(m, n);
  const { R, q, qc } = lapackQR(lib, transposeData(data, m, n), m, n, complete);
  const Q = transposeData(q.length === m * qc ? q : q.subarray(0, m * qc), qc, m);
  for (let i = 0; i < k; i++) {
    if ((R[i * n + i] as number) >= 0) continue;
    for (let j = i; j < n; j++) R[i * n + j] = -(R[i * n + j] as number);
    for (let r = 0; r < m; r++) Q[r * qc + i] = -(Q[r * qc + i] as number);
  }
  return { Q: new Matrix(m, qc, Q), R: new Matrix(R.length / n, n, R) };
}


/** Undoes {@link pow2ScaledCopy} on R (Q does not depend on the scale). */
function unscaleR<T extends { R: Matrix }>(r: T, scale: number): T {
  if (scale !== 1) for (let k = 0; k < r.R.data.length; k++) r.R.data[k] = (r.R.data[k] as number) * scale;
  return r;
}

/**
 * Column-pivoted Householder QR (Businger–Golub, with LAPACK's safe norm downdating):
 * `A[:, perm] = Q R` where at each step the remaining column of largest norm is chosen (first
 * on ties), so `|R_00| >= |R_11| >= ...`. R's diagonal is non-negative. The first r entries of
 * `perm` select a well-conditioned basis of r columns (basis selection); thin factors. Always
 * basis' own kernel, on every provider: LAPACK's dgeqp3 downdates the column norms blockwise
 * (dlaqps) and takes the first maximum of those, so its choice among equal-norm columns can
 * differ from "first on ties" of the exact norms; the pivot order is part of this contract.
 *
 * @example
 * ```ts
 * const { perm, R } = qrPivoted([[1, 10], [0, 0]]);
 * perm; // Int32Array [1, 0]
 * R.get(0, 0); // 10
 * ```
 */
export function qrPivoted(A: MatrixLike): QrPivotedResult {
  const a = checkedMatrix(A, 'A');
  const { data, scale } = pow2ScaledCopy(a.data);
  const f = householderQR(data, a.rows, a.cols, true);
  const { Q, R } = unscaleR(assemble(f, a.rows, a.cols, false), scale);
  return { Q, R, perm: f.perm };
}

interface QrFactors {
  /** The overwritten matrix: R in the upper triangle (diagonal in `diag`). */
  a: Float64Array;
  diag: Float64Array;
  /** Reflector j in row j (length m - j). */
  vs: Float64Array;
  betas: Float64Array;
  perm: Int32Array;
}

/** In-place Householder QR kernel (optionally column-pivoted) on a row-major m x n array. */
export function householderQR(a: Float64Array, m: number, n: number, pivot: boolean): QrFactors {
  const k = Math.min(m, n);
  const vs = new Float64Array(k * m);
  const betas = new Float64Array(k);
  const diag = new Float64Array(k);
  const perm = new Int32Array(n);
  for (let j = 0; j < n; j++) perm[j] = j;
  const w = new Float64Array(n);
  const vn1 = new Float64Array(pivot ? n : 0);
  const vn2 = new Float64Array(pivot ? n : 0);
  if (pivot) {
    for (let j = 0; j < n; j++) {
      vn1[j] = colNorm(a, m, n, 0, j);
      vn2[j] = vn1[j] as number;
    }
  }
  if (!pivot) {
    blockedQR(a, m, n, k, vs, betas, diag, w);
    return { a, diag, vs, betas, perm };
  }
  const tol3z = Math.sqrt(EPS);
  for (let j = 0; j < k; j++) {
    let p = j;
    for (let l = j + 1; l < n; l++) if ((vn1[l] as number) > (vn1[p] as number)) p = l;
    if (p !== j) {
      for (let i = 0; i < m; i++) {
        const t = a[i * n + j] as number;
        a[i * n + j] = a[i * n + p] as number;
        a[i * n + p] = t;
      }
      const tp = perm[j] as number;
      perm[j] = perm[p] as number;
      perm[p] = tp;
      vn1[p] = vn1[j] as number;
      vn2[p] = vn2[j] as number;
    }
    const [alpha, beta] = makeReflector(a, j * n + j, n, m - j, vs, j * m);
    diag[j] = alpha;
    betas[j] = beta;
    applyReflectorLeft(a, n, j, m, j + 1, n, vs, j * m, beta, w);
    for (let l = j + 1; l < n; l++) {
      const v1 = vn1[l] as number;
      if (v1 === 0) continue;
      let temp = Math.abs(a[j * n + l] as number) / v1;
      temp = Math.max(0, 1 - temp * temp);
      const ratio = v1 / (vn2[l] as number);
      if (temp * ratio * ratio <= tol3z) {
        const nv = j + 1 < m ? colNorm(a, m, n, j + 1, l) : 0;
        vn1[l] = nv;
        vn2[l] = nv;
      } else {
        vn1[l] = v1 * Math.sqrt(temp);
      }
    }
  }
  return { a, diag, vs, betas, perm };
}

/** Columns per panel of the blocked (unpivoted) QR. */
const NBQ = 32;

/**
 * Blocked Householder QR (LAPACK dgeqrf): each panel of NBQ columns is factorised column by
 * column, then the trailing columns get the panel's block reflector through matrix products.
 */
function blockedQR(
  a: Float64Array,
  m: number,
  n: number,
  k: number,
  vs: Float64Array,
  betas: Float64Array,
  diag: Float64Array,
  w: Float64Array,
): void {
  for (let j0 = 0; j0 < k; j0 += NBQ) {
    const jb = Math.min(NBQ, k - j0);
    const je = j0 + jb;
    for (let j = j0; j < je; j++) {
      const [alpha, beta] = makeReflector(a, j * n + j, n, m - j, vs, j * m);
      diag[j] = alpha;
      betas[j] = beta;
      applyReflectorLeft(a, n, j, m, j + 1, je, vs, j * m, beta, w);
    }
    if (je >= n) continue;
    const L = m - j0;
    const W = n - je;
    if (L * W * jb < 32 * 32 * 32) {
      for (let j = j0; j < je; j++) applyReflectorLeft(a, n, j, m, je, n, vs, j * m, betas[j] as number, w);
      continue;
    }
    const V = new Float64Array(L * jb);
    for (let jj = 0; jj < jb; jj++) {
      const base = (j0 + jj) * m;
      for (let t = jj; t < L; t++) V[t * jb + jj] = vs[base + t - jj] as number;
    }
    const Tn = blockT(V, L, jb, betas, j0);
    applyBlockReflector(a, n, j0, je, L, W, V, jb, Tn, true);
  }
}

function colNorm(a: Float64Array, m: number, n: number, r0: number, j: number): number {
  let mx = 0;
  for (let i = r0; i < m; i++) mx = Math.max(mx, Math.abs(a[i * n + j] as number));
  if (mx === 0) return 0;
  let s = 0;
  for (let i = r0; i < m; i++) {
    const x = (a[i * n + j] as number) / mx;
    s += x * x;
  }
  return mx * Math.sqrt(s);
}

/** R (`rows x n`, upper trapezoidal; LAPACK's signs) read off Householder factors of an m x n matrix. */
function factorR(f: QrFactors, n: number, rows: number): Float64Array {
  const R = new Float64Array(rows * n);
  for (let i = 0; i < f.diag.length; i++) {
    R[i * n + i] = f.diag[i] as number;
    for (let j = i + 1; j < n; j++) R[i * n + j] = f.a[i * n + j] as number;
  }
  return R;
}

/** Q (m x qc, row-major) accumulated from Householder factors (the first qc columns of H_1 ... H_k). */
function factorQ(f: QrFactors, m: number, qc: number): Float64Array {
  const Q = float64Buffer(m * qc);
  for (let j = 0; j < Math.min(m, qc); j++) Q[j * qc + j] = 1;
  accumulateReflectors(Q, m, qc, f.diag.length, 0, f.vs, (j) => j * m, f.betas);
  return Q;
}

/** Builds Q (m x k or m x m) and R from the factors, with R's diagonal made non-negative. */
function assemble(f: QrFactors, m: number, n: number, complete: boolean): QrResult {
  const k = Math.min(m, n);
  const qc = complete ? m : k;
  const rr = complete ? m : k;
  const R = factorR(f, n, rr);
  const Q = factorQ(f, m, qc);
  for (let i = 0; i < k; i++) {
    if ((R[i * n + i] as number) >= 0) continue;
    for (let j = i; j < n; j++) R[i * n + j] = -(R[i * n + j] as number);
    for (let r = 0; r < m; r++) Q[r * qc + i] = -(Q[r * qc + i] as number);
  }
  return { Q: new Matrix(m, qc, Q), R: new Matrix(rr, n, R) };
}
