import { Matrix, center, columnMeans, columnNorms, correlationsFromCross, correlationsOfCentred, crossprod, gram, matmul, normalizeColumns, qrDeferred, rowSquaresAndDotsOf, svd, type QrDeferred } from '@basis/tensor';
import { columnMoments } from './moments.js';
import { assertNotConstant } from './validate.js';
import { rowSquares, sumSquares } from './util.js';

// Per-matrix work (centring, normalisation, range bases, Gram products) is memoised on the input
// Matrix object, so that an all-pairs audit computes it once per layer, not once per pair. Metric
// inputs are treated as immutable: a caller that mutates a matrix in place must pass a copy.
const memo = new WeakMap<Matrix, Map<string, unknown>>();

/** Returns the cached value of `key` for `X`, computing it once. */
export function cached<T>(X: Matrix, key: string, compute: () => T): T {
  let m = memo.get(X);
  if (m === undefined) {
    m = new Map();
    memo.set(X, m);
  }
  if (!m.has(key)) m.set(key, compute());
  return m.get(key) as T;
}

/**
 * A layer's memoised per-matrix work in a form that can be posted to another thread: matrices and
 * float arrays live in SharedArrayBuffers (not copied by postMessage), and a matrix carries its
 * own memoised values (e.g. the range basis of a centred copy).
 */
export type CacheTree = [key: string, value: CacheValue][];
type CacheValue =
  | { t: 'matrix'; rows: number; cols: number; data: Float64Array; cache: CacheTree }
  | { t: 'f64'; data: Float64Array }
  | { t: 'plain'; value: number | boolean | string }
  | { t: 'object'; entries: [string, CacheValue][] };

function shared(a: Float64Array): Float64Array {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const out = new Float64Array(new SharedArrayBuffer(a.byteLength));
  out.set(a);
  return out;
}

function encode(v: unknown): CacheValue | undefined {
  if (v instanceof Matrix) return { t: 'matrix', rows: v.rows, cols: v.cols, data: shared(v.data), cache: exportCache(v) };
  if (v instanceof Float64Array) return { t: 'f64', data: shared(v) };
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') return { t: 'plain', value: v };
  if (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
    const entries: [string, CacheValue][] = [];
    for (const [k, x] of Object.entries(v)) {
      const e = encode(x);
      if (e === undefined) return undefined;
      entries.push([k, e]);
    }
    return { t: 'object', entries };
  }
  return undefined; // not transferable: simply not shared (the receiver recomputes it)
}

function decode(v: CacheValue): unknown {
  switch (v.t) {
    case 'matrix': {
      const m = new Matrix(v.rows, v.cols, v.data);
      importCache(m, v.cache);
      return m;
    }
    case 'f64':
      return v.data;
    case 'plain':
      return v.value;
    case 'object':
      return Object.fromEntries(v.entries.map(([k, x]) => [k, decode(x)]));
  }
}

/** The memoised work of `X` (and of the matrices derived from it), ready to post to a worker. */
export function exportCache(X: Matrix): CacheTree {
  const out: CacheTree = [];
  for (const [k, v] of memo.get(X) ?? []) {
    const e = encode(v);
    if (e !== undefined) out.push([k, e]);
  }
  return out;
}

/** Adds exported memoised work to `X` (entries already present are kept). */
export function importCache(X: Matrix, tree: CacheTree): void {
  let m = memo.get(X);
  if (m === undefined) {
    m = new Map();
    memo.set(X, m);
  }
  for (const [k, v] of tree) if (!m.has(k)) m.set(k, decode(v));
}

/** Largest |entry| of X, memoised (error messages and the rare overflow path of {@link centred}). */
export function maxAbsOf(X: Matrix): number {
  return cached(X, 'maxAbs', () => {
    const a = X.data;
    let m = 0;
    for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] as number));
    return m;
  });
}

/** Exponent bound within which data keep their scale: every product the metrics form (up to fourth powers of the entries times N²d²) stays far from overflow and underflow. */
const SAFE_EXPONENT = 64;

/** 1 while `m` lies in [2^-64, 2^65) (or is 0), else the power of two 2^floor(log2 m) (clamped to 2^±1000). */
function extremePow2(m: number): number {
  if (m === 0) return 1;
  const e = Math.floor(Math.log2(m));
  return e > SAFE_EXPONENT || e < -SAFE_EXPONENT ? 2 ** Math.max(-1000, Math.min(1000, e)) : 1;
}

/** X / s for `s` a power of two near max|X| when that is extreme: X itself otherwise (no copy). */
export function prescaled(X: Matrix): { M: Matrix; scale: number } {
  const scale = extremePow2(maxAbsOf(X));
  if (scale === 1) return { M: X, scale };
  const M = new Matrix(X.rows, X.cols);
  const inv = 1 / scale; // a power of two in [2^-1000, 2^1000]: exact
  for (let k = 0; k < M.data.length; k++) M.data[k] = (X.data[k] as number) * inv;
  return { M, scale };
}

/**
 * Column-centred copy (means over the rows) of `X / centredScale(X)`. The scale is 1 unless the
 * centred data are extreme: when the largest column norm (which the centring pass computes
 * anyway) lies outside [2^-64, 2^65), the copy is divided in place by a power of two near it,
 * exactly, so that the Gram products, norms and sums of squares the metrics form cannot
 * overflow or underflow at any finite scale. Scale-invariant metrics use the copy as is; the
 * others multiply back by {@link centredScale}.
 */
export function centred(X: Matrix): Matrix {
  return cached(X, 'centred', () => {
    const c = center(X);
    let top = 0;
    let finite = true;
    for (let j = 0; j < c.norms.length; j++) {
      top = Math.max(top, c.norms[j] as number);
      if (!Number.isFinite(c.means[j] as number)) finite = false;
    }
    if (finite && Number.isFinite(top)) {
      const scale = extremePow2(top);
      cached(X, 'centredScale', () => scale);
      if (scale !== 1) {
        const inv = 1 / scale; // exact; only for extreme magnitudes
        const a = c.centred.data;
        for (let k = 0; k < a.length; k++) a[k] = (a[k] as number) * inv;
        for (let j = 0; j < c.norms.length; j++) c.norms[j] = (c.norms[j] as number) * inv;
      }
      cached(X, 'centredNorms', () => c.norms); // from the centring pass, free
      return c.centred;
    }
    // entries near the float64 limit: a column sum or |x - mean| overflowed (a mean or a norm is
    // not finite), so divide X first and centre that
    const { M, scale } = prescaled(X);
    cached(X, 'centredScale', () => scale);
    const means = columnMeans(M);
    const d = M.cols;
    for (let i = 0; i < M.rows; i++) for (let j = 0; j < d; j++) M.data[i * d + j] = (M.data[i * d + j] as number) - (means[j] as number);
    return M;
  });
}

/** Euclidean norms of the columns of {@link centred}(X) (from the centring pass; overflow-safe). */
export function centredNorms(X: Matrix): Float64Array {
  if (momentRoute(X)) {
    return cached(X, 'momentNorms', () => columnMoments(X).centredSquares.map(Math.sqrt));
  }
  const Xc = centred(X);
  return cached(X, 'centredNorms', () => columnNorms(Xc));
}

/**
 * True when X's {@link columnMoments} allow the moment route. The choice depends on the data
 * alone (not on what happens to be cached), so a metric gives bit-identical values alone and
 * inside an audit.
 */
function momentRoute(X: Matrix): boolean {
  return columnMoments(X).raw;
}

/** `||Xc||²_F` of the centred X: from the column moments when they allow it, else from the centred copy. */
export function centredSquares(X: Matrix): number {
  if (momentRoute(X)) return columnMoments(X).frobeniusSquared;
  return squaresOf(centred(X));
}

/**
 * `||Xcᵀ Xc||²_F` of the centred X, memoised: `Xᵀ X - n m mᵀ` on the moment route (no centred copy),
 * else the Gram matrix of the centred copy.
 */
export function centredGramSquares(X: Matrix): number {
  return cached(X, 'centredGramSquares', () => {
    if (!momentRoute(X)) return sumSquares(gram(centred(X)));
    const { means } = columnMoments(X);
    const G = gram(X);
    const n = X.rows;
    const d = X.cols;
    const g = G.data;
    let s = 0;
    for (let i = 0; i < d; i++) {
      const mi = n * (means[i] as number);
      for (let j = 0; j < d; j++) {
        const v = (g[i * d + j] as number) - mi * (means[j] as number);
        s += v * v;
      }
    }
    return s;
  });
}

/**
 * Squared row norms of the centred X, memoised: `||x_i||² - 2 x_i·m + ||m||²` on the moment route
 * (the row sums of squares and the dots with m in one read of X, `rowSquaresAndDotsOf`), else
 * from the centred copy.
 */
export function centredRowSquares(X: Matrix): Float64Array {
  return cached(X, 'centredRowSquares', () => {
    if (!momentRoute(X)) return rowSquares(centred(X));
    const { means } = columnMoments(X);
    const { squares: out, dots } = rowSquaresAndDotsOf(X, means);
    let mm = 0;
    for (let j = 0; j < means.length; j++) mm += (means[j] as number) * (means[j] as number);
    for (let i = 0; i < out.length; i++) out[i] = Math.max(0, (out[i] as number) - 2 * (dots[i] as number) + mm);
    return out;
  });
}

/** Euclidean norms of the columns of X itself (overflow-safe). */
export function rawNorms(X: Matrix): Float64Array {
  return cached(X, 'rawNorms', () => columnNorms(X));
}

/** The power of two by which {@link centred} divided X (1 unless X's scale is extreme). */
export function centredScale(X: Matrix): number {
  centred(X);
  return cached(X, 'centredScale', () => 1);
}

/** Centred copy whose columns have unit Euclidean norm; zero-variance columns stay zero. */
export function unitCentred(X: Matrix): Matrix {
  return cached(X, 'unitCentred', () => normalizeColumns(centred(X), { zeroPolicy: 'keep-zero' }).normalized);
}

/** Uncentred copy whose columns have unit Euclidean norm (zero columns stay zero). */
export function unitColumns(X: Matrix): Matrix {
  return cached(X, 'unitColumns', () => normalizeColumns(X, { zeroPolicy: 'keep-zero' }).normalized);
}

/**
 * The dx x dy Pearson matrix; zero-variance units correlate 0 with everything. From the cached
 * centred copies and their column norms: one product, no unit-norm copies of the data.
 */
export function correlations(X: Matrix, Y: Matrix): Matrix {
  // moment route for at least one side: the centred product divided by the column norms
  if (momentRoute(X) || momentRoute(Y)) return correlationsFromCross(centredCross(X, Y), centredNorms(X), centredNorms(Y));
  return correlationsOfCentred(centred(X), centredNorms(X), centred(Y), centredNorms(Y), centredCross(X, Y));
}

/**
 * The parts of {@link correlations} on the moment route, `Xcᵀ Yc` and both inputs' centred column
 * norms (entry ij of the Pearson matrix is `ij / (nx_i ny_j)` clamped to [-1, 1], 0 where a norm
 * is 0, as `correlationsFromCross` forms it), for a caller that reduces the matrix in one pass;
 * undefined when neither input takes the moment route ({@link correlations} then forms it from
 * the centred copies).
 */
export function correlationParts(X: Matrix, Y: Matrix): { C: Matrix; nx: Float64Array; ny: Float64Array } | undefined {
  if (!momentRoute(X) && !momentRoute(Y)) return undefined;
  return { C: centredCross(X, Y), nx: centredNorms(X), ny: centredNorms(Y) };
}

/** Cosine similarities between the columns of X and of Y (uncentred; zero columns give 0). */
export function cosines(X: Matrix, Y: Matrix): Matrix {
  return correlationsOfCentred(X, rawNorms(X), Y, rawNorms(Y));
}

/** The rows `idx` of X, in that order. */
export function takeRows(X: Matrix, idx: ArrayLike<number>): Matrix {
  const out = new Matrix(idx.length, X.cols);
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k] as number;
    out.data.set(X.data.subarray(i * X.cols, (i + 1) * X.cols), k * X.cols);
  }
  return out;
}

/** Pearson correlation of column `i` of A with column `j` of B (0 if either is constant). */
export function columnPearson(A: Matrix, i: number, B: Matrix, j: number): number {
  const n = A.rows;
  let ma = 0;
  let mb = 0;
  for (let t = 0; t < n; t++) {
    ma += A.data[t * A.cols + i] as number;
    mb += B.data[t * B.cols + j] as number;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let t = 0; t < n; t++) {
    const a = (A.data[t * A.cols + i] as number) - ma;
    const b = (B.data[t * B.cols + j] as number) - mb;
    sab += a * b;
    saa += a * a;
    sbb += b * b;
  }
  if (saa === 0 || sbb === 0) return 0;
  // saa * sbb alone can leave the float64 range; a sum of squares can too (entries beyond ~1e154
  // or below ~1e-154): then the columns are rescaled by exact powers of two and summed again
  const p = saa * sbb;
  if (!(saa > 2 ** -960 && sbb > 2 ** -960 && p > 2 ** -1000 && p < Infinity)) return columnPearsonScaled(A, i, ma, B, j, mb);
  return Math.max(-1, Math.min(1, sab / Math.sqrt(p)));
}

/** {@link columnPearson} with the centred columns divided by powers of two near their largest entries. */
function columnPearsonScaled(A: Matrix, i: number, ma: number, B: Matrix, j: number, mb: number): number {
  const n = A.rows;
  let ta = 0;
  let tb = 0;
  for (let t = 0; t < n; t++) {
    ta = Math.max(ta, Math.abs((A.data[t * A.cols + i] as number) - ma));
    tb = Math.max(tb, Math.abs((B.data[t * B.cols + j] as number) - mb));
  }
  if (ta === 0 || tb === 0) return 0;
  const ia = 2 ** -Math.max(-1000, Math.min(1000, Math.floor(Math.log2(ta))));
  const ib = 2 ** -Math.max(-1000, Math.min(1000, Math.floor(Math.log2(tb))));
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let t = 0; t < n; t++) {
    const a = ((A.data[t * A.cols + i] as number) - ma) * ia;
    const b = ((B.data[t * B.cols + j] as number) - mb) * ib;
    sab += a * b;
    saa += a * a;
    sbb += b * b;
  }
  return Math.max(-1, Math.min(1, sab / (Math.sqrt(saa) * Math.sqrt(sbb))));
}

/** `||Xc||²_F` of a centred copy, cached on it. */
export function squaresOf(Xc: Matrix): number {
  return cached(Xc, 'sumSquares', () => sumSquares(Xc));
}

/**
 * Orthonormal basis of the column space of the centred X for its numerical rank
 * (`s_i > max(N, d) 2^-52 s_1`), plus the singular values and the right singular vectors V
 * (d x min(N, d); `Xc = Q diag(s[:rank]) V[:, :rank]ᵀ` up to the dropped rounding-level values).
 */
export function rangeBasis(Xc: Matrix, name: string, metric: string): { Q: Matrix; s: Float64Array; rank: number; V: Matrix } {
  assertNotConstant(squaresOf(Xc), name, metric);
  return cached(Xc, 'rangeBasis', () => {
    const { U, s, V } = svd(Xc);
    const rank = numericalRank(s, Xc.rows, Xc.cols);
    return { Q: rank === U.cols ? U : U.slice(0, U.rows, 0, rank), s, rank, V };
  });
}

/** The number of singular values above `max(rows, cols) 2^-52 s_1` (the fixtures' numerical rank). */
export function numericalRank(s: Float64Array, rows: number, cols: number): number {
  const tol = Math.max(rows, cols) * 2 ** -52 * (s[0] as number);
  let rank = 0;
  while (rank < s.length && (s[rank] as number) > tol) rank++;
  return rank;
}

/**
 * The thin SVD pieces of a (centred) matrix that metrics built on its singular directions need:
 * the singular values, right vectors V, its numerical rank and an orthonormal basis `Q` of the
 * column space with `U_r = Q W` (W = `Ur` of {@link tallSvd} on the QR route, where the left
 * vectors are never formed; the identity on the SVD route, where Q is U_r itself). Shares the
 * cached QR / SVD with CCA, SVCCA and PWCCA.
 */
export function singularParts(Xc: Matrix, name: string, metric: string): { s: Float64Array; V: Matrix; rank: number; Q: Matrix; W?: Matrix } {
  const t = tallSvd(Xc, name, metric);
  if (t !== undefined) {
    return {
      s: t.s,
      V: t.V,
      rank: Xc.cols,
      get Q(): Matrix {
        return t.Q; // formed on first use (see spanBasis)
      },
      W: t.Ur,
    };
  }
  const b = rangeBasis(Xc, name, metric);
  return { s: b.s, V: b.V, rank: b.rank, Q: b.Q };
}

/**
 * A basis of the column space of the centred X: `Q` orthonormal, its numerical rank, and for a
 * tall layer of full column rank (the QR route) the triangular factor `R` (`Xc = Q R`) and its
 * condition number `cond` (`s_max / s_min` of R, i.e. of Xc); {@link inverseR} gives `R⁻¹`.
 */
export interface SpanBasis {
  Q: Matrix;
  rank: number;
  R?: Matrix;
  cond?: number;
}

/** `R⁻¹` of a layer on the QR route (so that `Q = Xc R⁻¹`), computed on first use and cached. */
export function inverseR(Xc: Matrix, name: string, metric: string): Matrix | undefined {
  const R = spanBasis(Xc, name, metric).R;
  if (R === undefined) return undefined;
  return cached(Xc, 'inverseR', () => upperInverse(R));
}

/**
 * An orthonormal basis of the column space of the centred X and its numerical rank, for metrics
 * that depend only on that subspace (CCA, PWCCA). When X has full column rank (N > d and every
 * singular value above the {@link rangeBasis} tolerance) the thin QR factor Q is such a basis and
 * only the singular values of R are needed, which skips the SVD's left vectors (about half the
 * work for a tall layer); otherwise the SVD basis of {@link rangeBasis} is used.
 */
export function spanBasis(Xc: Matrix, name: string, metric: string): SpanBasis {
  assertNotConstant(squaresOf(Xc), name, metric);
  return cached(Xc, 'spanBasis', () => {
    const f = tallQr(Xc);
    if (f !== undefined) {
      // R now, Q only when a metric asks for it (CCA's and SVCCA's well-conditioned routes need
      // only R: for a tall layer that is half the QR's work)
      const R = f.R;
      const s = svd(R, { computeUV: false }).s;
      if (fullRank(s, Xc)) {
        const cond = (s[0] as number) / (s[s.length - 1] as number);
        // an enumerable getter: exporting the cache to worker threads forms Q first
        return {
          get Q(): Matrix {
            return f.Q();
          },
          rank: Xc.cols,
          R,
          cond,
        };
      }
    }
    const b = rangeBasis(Xc, name, metric);
    return { Q: b.Q, rank: b.rank };
  });
}

/**
 * `||Qᵀ B||²_F` and `||B - Q Qᵀ B||²_F` for the QR basis Q of the centred layer Xc (its span basis
 * on the QR route), from the orthogonal Qᵀ B of the deferred QR's factors (LAPACK `dormqr`): no Q
 * formed, no residual subtracted. Undefined when Xc's span basis is not the QR route, when this
 * thread holds no deferred QR of Xc (a basis imported from another thread) or its Q has been
 * formed, or off the native provider; the caller then uses the span basis' Q.
 */
export function projectionSquares(Xc: Matrix, name: string, metric: string, B: Matrix): { inside: number; outside: number } | undefined {
  if (spanBasis(Xc, name, metric).R === undefined) return undefined;
  if (memo.get(Xc)?.has('tallQr') !== true) return undefined;
  return tallQr(Xc)?.projectionSquares(B);
}

/** The deferred thin QR of a tall centred layer (rows > cols), shared by {@link spanBasis} and {@link tallSvd}; undefined otherwise. */
function tallQr(Xc: Matrix): QrDeferred | undefined {
  return Xc.rows > Xc.cols ? cached(Xc, 'tallQr', () => qrDeferred(Xc)) : undefined;
}

/**
 * True when the singular values `s` of R (`Xc = Q R`) put Xc at full column rank by the
 * {@link rangeBasis} tolerance with a margin of 1e3, which keeps the choice away from rounding at
 * the threshold (the QR route of {@link spanBasis} and {@link tallSvd}).
 */
function fullRank(s: Float64Array, Xc: Matrix): boolean {
  const tol = Math.max(Xc.rows, Xc.cols) * 2 ** -52 * (s[0] as number);
  return (s[s.length - 1] as number) > 1e3 * tol;
}

/**
 * The SVD of the centred X through the R factor of its QR route (`Xc = Q R`, `R = U_r S Vᵀ`, so
 * `Xc = (Q U_r) S Vᵀ`; LAPACK's dgesdd does the same for tall inputs): the singular values, the
 * right vectors, the QR factor Q and `U_r`, from which the left vectors `Q U_r` are formed only
 * where needed. Undefined unless the layer is tall and of full column rank by {@link spanBasis}'
 * rule, decided here from these singular values (no values-only SVD of R besides them).
 */
export function tallSvd(Xc: Matrix, name: string, metric: string): { s: Float64Array; V: Matrix; Q: Matrix; Ur: Matrix } | undefined {
  assertNotConstant(squaresOf(Xc), name, metric);
  // the route is decided from the singular values of this SVD of R, by the same rule as
  // spanBasis, so that SVCCA needs no singular values of R besides these (the QR is shared)
  const t = cached(Xc, 'tallSvd', () => {
    const f = tallQr(Xc);
    if (f === undefined) return null;
    const { U, s, V } = svd(f.R);
    if (!fullRank(s, Xc)) return null;
    return {
      s,
      V,
      get Q(): Matrix {
        return f.Q(); // formed on first use (see spanBasis)
      },
      Ur: U,
    };
  });
  return t ?? undefined;
}

/** The first k left singular vectors of a layer on the QR route, `Q U_r[:, :k]`, cached per k. */
export function leftSingular(Xc: Matrix, k: number, name: string, metric: string): Matrix | undefined {
  const t = tallSvd(Xc, name, metric);
  if (t === undefined) return undefined;
  return cached(Xc, `leftSingular:${k}`, () => matmul(t.Q, k === t.Ur.cols ? t.Ur : t.Ur.slice(0, t.Ur.rows, 0, k)));
}

/**
 * Order up to which {@link upperInverse} inverts a diagonal block by substitution; a larger block
 * is split in two and its off-diagonal block formed by two matrix products (native BLAS when the
 * engine has it), which for d = 256 takes ~1 ms instead of ~6 ms of JavaScript substitution.
 */
const INVERSE_LEAF = 64;

/**
 * The inverse of an upper-triangular matrix: recursively by 2 x 2 blocks,
 * `[[A, B], [0, D]]⁻¹ = [[A⁻¹, -A⁻¹ B D⁻¹], [0, D⁻¹]]`, with diagonal blocks of order at most
 * {@link INVERSE_LEAF} inverted row by row from the bottom (contiguous row updates).
 */
export function upperInverse(R: Matrix): Matrix {
  const d = R.rows;
  const T = new Matrix(d, d);
  invertUpper(R.data, T.data, d, 0, d);
  return T;
}

/** Writes the inverse of the diagonal block `lo..hi` of the d x d upper-triangular `r` into the same block of `t` (zero there on entry). */
function invertUpper(r: Float64Array, t: Float64Array, d: number, lo: number, hi: number): void {
  if (hi - lo > INVERSE_LEAF) {
    const mid = lo + ((hi - lo) >> 1);
    invertUpper(r, t, d, lo, mid);
    invertUpper(r, t, d, mid, hi);
    const block = (a: Float64Array, r0: number, r1: number, c0: number, c1: number): Matrix => {
      const M = new Matrix(r1 - r0, c1 - c0);
      for (let i = r0; i < r1; i++) M.data.set(a.subarray(i * d + c0, i * d + c1), (i - r0) * (c1 - c0));
      return M;
    };
    const X = matmul(matmul(block(t, lo, mid, lo, mid), block(r, lo, mid, mid, hi)), block(t, mid, hi, mid, hi)).data;
    const w = hi - mid;
    for (let i = lo; i < mid; i++) for (let j = 0; j < w; j++) t[i * d + mid + j] = -(X[(i - lo) * w + j] as number);
    return;
  }
  for (let i = hi - 1; i >= lo; i--) {
    const rii = r[i * d + i] as number;
    const ti = i * d;
    t[ti + i] = 1;
    // row i of R T = e_i within the block: T[i, :] = (e_i - sum_{k > i} R[i, k] T[k, :]) / R[i, i]
    for (let k = i + 1; k < hi; k++) {
      const c = r[i * d + k] as number;
      if (c === 0) continue;
      const tk = k * d;
      for (let j = k; j < hi; j++) t[ti + j] = (t[ti + j] as number) - c * (t[tk + j] as number);
    }
    for (let j = i; j < hi; j++) t[ti + j] = (t[ti + j] as number) / rii;
  }
}

// The centred cross product Xcᵀ Yc of the last pairs compared: every metric of a pair that needs it
// (CKA, Procrustes, permutation, correlations, CCA and SVCCA on the QR route) shares one product.
// Held weakly, so that it never keeps a layer alive.
const recentCross: { x: WeakRef<Matrix>; y: WeakRef<Matrix>; C: Matrix }[] = [];

/**
 * `centred(X)ᵀ centred(Y)`, shared by the metrics of the same pair (the last two pairs are kept).
 * The result is shared: callers must not modify it.
 */
export function centredCross(X: Matrix, Y: Matrix): Matrix {
  for (const e of recentCross) if (e.x.deref() === X && e.y.deref() === Y) return e.C;
  const C = momentCross(X, Y) ?? crossprod(centred(X), centred(Y));
  recentCross.unshift({ x: new WeakRef(X), y: new WeakRef(Y), C });
  if (recentCross.length > 2) recentCross.pop();
  return C;
}

/**
 * The factors `ax = 1/||Xc||_F`, `ay = 1/||Yc||_F` that normalise the centred X and Y
 * (RANK_DEFICIENT if either is constant). The scaled copies are never formed: callers apply the
 * factors to d x d products or inside their residual loops. `copies`: take the norms from the
 * centred copies (for residuals formed from those copies, so that near-identical inputs give a
 * residual that is exactly consistent with its normalisation), else from the column moments
 * where they allow it.
 */
export function normalisedPair(X: Matrix, Y: Matrix, metric: string, copies = false): { ax: number; ay: number } {
  const sx = copies ? squaresOf(centred(X)) : centredSquares(X);
  const sy = copies ? squaresOf(centred(Y)) : centredSquares(Y);
  assertNotConstant(sx, 'X', metric);
  assertNotConstant(sy, 'Y', metric);
  return { ax: 1 / Math.sqrt(sx), ay: 1 / Math.sqrt(sy) };
}

/**
 * `Xcᵀ Yc` without centred copies where the column moments allow it (undefined otherwise):
 * `Xcᵀ Y` when X already has its centred copy (`Xcᵀ 1 = 0`, so Y's mean drops out), `Xᵀ Yc`
 * likewise, else `Xᵀ Y - n mx myᵀ`.
 */
function momentCross(X: Matrix, Y: Matrix): Matrix | undefined {
  const rx = momentRoute(X);
  const ry = momentRoute(Y);
  if (!rx && !ry) return undefined;
  if (!rx) return crossprod(centred(X), Y);
  if (!ry) return crossprod(X, centred(Y));
  const C = crossprod(X, Y);
  const mx = columnMoments(X).means;
  const my = columnMoments(Y).means;
  const n = X.rows;
  const dy = Y.cols;
  const c = C.data;
  for (let i = 0; i < X.cols; i++) {
    const a = n * (mx[i] as number);
    if (a === 0) continue;
    for (let j = 0; j < dy; j++) c[i * dy + j] = (c[i * dy + j] as number) - a * (my[j] as number);
  }
  return C;
}
