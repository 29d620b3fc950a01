import { columnSumsAndSquares, columnSumsOf, engineInfo, type Matrix } from '@basis/tensor';

// Column moments of a raw input, from one read pass that also proves every entry finite (a column
// sum and sum of squares are finite only if every entry of the column is). They let the metrics
// that need only centred products (CKA, Procrustes, permutation, correlations) skip the centred
// N x d copy: `Xcᵀ Yc = Xᵀ Y - n mx myᵀ`, `Xcᵀ Xc = Xᵀ X - n m mᵀ`, `||xc_j||² = q_j - n m_j²`.
// Those identities cancel when a column's mean is large against its spread, so they are used only
// for inputs where every column passes the guard below (see {@link ColumnMoments.raw}); others go
// through the centred copy as before.

/** The largest |mean| / standard deviation of a column for which the moment route is used. */
export const MOMENT_KAPPA = 8;

/** Column moments of one matrix (memoised per Matrix object; inputs are treated as immutable). */
export interface ColumnMoments {
  /** Every column sum and sum of squares is finite (so every entry is; false may also mean overflow). */
  finite: boolean;
  /** Column sums (as summed: non-finite where an entry is, or where the sum overflowed). */
  sums: Float64Array;
  /**
   * The moment route is exact to a few ulps for this matrix: finite moments, every column either
   * exactly zero or with `|m_j| <= MOMENT_KAPPA sigma_j`, and column scales well inside the float64
   * range (the centred copy would not be rescaled). Rounding of the moment-route products relative to
   * the centred ones is then bounded by `(1 + MOMENT_KAPPA)² = 81` ulps of `n sigma_x sigma_y`.
   */
  raw: boolean;
  /** Column means (valid when `raw`). */
  means: Float64Array;
  /** Centred column sums of squares `q_j - n m_j²`, at least 0 (valid when `raw`). */
  centredSquares: Float64Array;
  /** `sum_j centredSquares[j]`, i.e. `||Xc||²_F` (valid when `raw`). */
  frobeniusSquared: number;
}

const memo = new WeakMap<Matrix, ColumnMoments>();

/** True when every entry of the listed columns is exactly 0. */
function zeroColumns(a: Float64Array, n: number, d: number, cols: number[]): boolean {
  for (let i = 0; i < n; i++) {
    const r = i * d;
    for (const j of cols) if ((a[r + j] as number) !== 0) return false;
  }
  return true;
}

/** Sums of squares below this are checked entry by entry (they may be underflowed, not zero). */
const TINY = 2 ** -900;
/** Centred column norms must lie in [2^-60, 2^60] (the centred copy's rescaling would not apply). */
const LOW = 2 ** -120;
const HIGH = 2 ** 120;

/**
 * The {@link ColumnMoments} of X, from one pass over its entries (memoised).
 *
 * @example
 * ```ts
 * const m = columnMoments(Matrix.from([[1, 2], [3, 6]]));
 * m.finite; // true
 * m.means; // Float64Array [2, 4]
 * m.centredSquares; // Float64Array [2, 8]
 * ```
 */
export function columnMoments(X: Matrix): ColumnMoments {
  const hit = memo.get(X);
  if (hit !== undefined) return hit;
  const { rows: n, cols: d, data: a } = X;
  const { sums: s, squares: q } = columnSumsAndSquares(X);
  const means = new Float64Array(d);
  const centredSquares = new Float64Array(d);
  let finite = true;
  let raw = n > 0;
  let frob = 0;
  let top = 0;
  const tiny: number[] = [];
  for (let j = 0; j < d; j++) {
    const sj = s[j] as number;
    const qj = q[j] as number;
    if (!Number.isFinite(sj) || !Number.isFinite(qj)) {
      finite = false;
      raw = false;
      continue;
    }
    const m = sj / n;
    means[j] = m;
    if (qj < TINY) {
      // exactly zero, or entries so small that their squares underflowed: checked below
      tiny.push(j);
      continue;
    }
    const c = Math.max(0, qj - n * m * m);
    // guard: the mean at most MOMENT_KAPPA standard deviations (c / n = sigma²)
    if (!(m * m * n <= MOMENT_KAPPA * MOMENT_KAPPA * c)) raw = false;
    centredSquares[j] = c;
    frob += c;
    if (c > top) top = c;
  }
  if (raw && (top < LOW || top > HIGH)) raw = false;
  if (raw && tiny.length > 0 && !zeroColumns(a, n, d, tiny)) raw = false;
  const out: ColumnMoments = { finite, sums: s, raw, means, centredSquares, frobeniusSquared: frob };
  memo.set(X, out);
  return out;
}

const sumsMemo = new WeakMap<Matrix, Float64Array>();

/**
 * Column sums of X (memoised per Matrix object). On the native engine one `dgemv` reads X at memory
 * speed (the validation's finiteness proof, and the means of the statistic measures, at a fifth of
 * a JavaScript pass), whether or not the {@link columnMoments} were computed first, so that the
 * value does not depend on the order of the metrics; on WebAssembly they are the column-moment
 * pass's sums, which the moment-route metrics need anyway.
 *
 * @example
 * ```ts
 * columnSums(Matrix.from([[1, 2], [3, 6]])); // Float64Array [4, 8]
 * ```
 */
export function columnSums(X: Matrix): Float64Array {
  let s = sumsMemo.get(X);
  if (s === undefined) {
    s = engineInfo().provider === 'native' ? columnSumsOf(X) : columnMoments(X).sums;
    sumsMemo.set(X, s);
  }
  return s;
}

/**
 * True when every column sum of X is finite, which proves every entry finite (a NaN or Inf entry
 * makes its column's sum non-finite in any order of summation). False means a non-finite entry or
 * an overflow of the sums: the caller checks entry by entry. Takes whichever sums X already has
 * (the {@link columnSums} or the {@link columnMoments}' ones), else the column sums.
 */
export function provenFinite(X: Matrix): boolean {
  const s = sumsMemo.get(X) ?? memo.get(X)?.sums ?? columnSums(X);
  for (let j = 0; j < s.length; j++) if (!Number.isFinite(s[j] as number)) return false;
  return true;
}

/**
 * Chord shortcut: residuals of unit-norm data from the similarity that the metric computed anyway.
 * For unit-Frobenius `Xn`, `Yn` and any matching or rotation, `||Xn Q - Yn||² = 2 - 2 s` with `s`
 * the matched similarity, so the residual needs no N x d pass. The subtraction cancels when
 * `s ≈ 1`; rounding of `s` (a few ulps, up to 81 on the moment route) costs
 * `rounding / chord²` relative accuracy, so the shortcut is taken only for chords² at least
 * {@link CHORD_SHORTCUT} of their scale (relative error below 1e-11), and near-identical inputs
 * are measured entry by entry as before.
 */
export const CHORD_SHORTCUT = 1e-3;

/**
 * `sqrt(total - 2 cross)` when that squared residual is at least {@link CHORD_SHORTCUT} of `total`
 * (the sum of the squared norms of both sides), else undefined: the caller measures it entry by entry.
 *
 * @example
 * ```ts
 * chordFrom(2, 0.4); // sqrt(1.2): unit-norm data with matched similarity 0.4
 * chordFrom(2, 0.99999999); // undefined: too close to identical to subtract
 * ```
 */
export function chordFrom(total: number, cross: number): number | undefined {
  const r2 = total - 2 * cross;
  return r2 >= CHORD_SHORTCUT * total ? Math.sqrt(r2) : undefined;
}
