import { BasisError, asMatrix, assertFinite, center, crossprod, gram, type Matrix, type MatrixLike } from '@basis/tensor';
import { hsic1Scaled } from './metrics/cka.js';
import { rowSquares } from './util.js';
import { sumSquares } from './util.js';

/**
 * Linear CKA (biased HSIC_0) over data that arrives in batches, with memory independent of N:
 * it keeps float64 sums of Xᵀ X, Yᵀ Y, Xᵀ Y and the column sums (O(dx² + dy² + dx·dy)). Each
 * batch is shifted by the first batch's column means before accumulating, which keeps the final
 * centring accurate for data with large offsets, and each side is divided by an exact power of two
 * (fixed by the first batch, raised if a later batch is far larger), so that no sum overflows or
 * underflows at any finite scale. The value equals {@link metric}('cka.linear') on the
 * concatenated data up to rounding.
 *
 * @example
 * ```ts
 * import { StreamingLinearCka } from '@basis/align';
 * const cka = new StreamingLinearCka();
 * for (const [xb, yb] of batches) cka.update(xb, yb);
 * cka.value(); // same as cka.linear on all rows
 * ```
 */
export class StreamingLinearCka {
  private dx = -1;
  private dy = -1;
  private n = 0;
  private shiftX!: Float64Array;
  private shiftY!: Float64Array;
  /** Exponents of the exact power-of-two scales of X and Y: sums hold (x - shift) / 2^ex. */
  private ex = 0;
  private ey = 0;
  private sx!: Float64Array;
  private sy!: Float64Array;
  private sxx!: Float64Array;
  private syy!: Float64Array;
  private sxy!: Float64Array;

  /** Number of rows seen so far. */
  get rows(): number {
    return this.n;
  }

  /** Adds a batch of rows (the same inputs in X and Y). */
  update(Xb: MatrixLike, Yb: MatrixLike): void {
    const { X, Y } = checkedBatch(Xb, Yb);
    if (X.rows === 0) return;
    if (this.dx < 0) this.init(X, Y);
    checkWidths(X, Y, this.dx, this.dy);
    this.ex = this.raiseScale(X, this.ex, this.sx, this.sxx, this.shiftX);
    this.ey = this.raiseScale(Y, this.ey, this.sy, this.syy, this.shiftY);
    const fx = pow2(-this.ex);
    const fy = pow2(-this.ey);
    const x = new Float64Array(this.dx);
    const y = new Float64Array(this.dy);
    for (let i = 0; i < X.rows; i++) {
      for (let a = 0; a < this.dx; a++) x[a] = (X.data[i * this.dx + a] as number) * fx - (this.shiftX[a] as number);
      for (let b = 0; b < this.dy; b++) y[b] = (Y.data[i * this.dy + b] as number) * fy - (this.shiftY[b] as number);
      accumulate(this.sx, this.sxx, x);
      accumulate(this.sy, this.syy, y);
      for (let a = 0; a < this.dx; a++) {
        const xa = x[a] as number;
        if (xa === 0) continue;
        const row = a * this.dy;
        for (let b = 0; b < this.dy; b++) this.sxy[row + b] = (this.sxy[row + b] as number) + xa * (y[b] as number);
      }
    }
    this.n += X.rows;
  }

  /** Linear CKA of all rows seen; needs at least 3 rows and non-constant X and Y. */
  value(): number {
    if (this.n < 3) throw new BasisError('TOO_SMALL', `streaming CKA needs at least 3 rows, got ${this.n}`);
    const xy = centredNormSq(this.sxy, this.sx, this.sy, this.n);
    const xx = Math.sqrt(centredNormSq(this.sxx, this.sx, this.sx, this.n));
    const yy = Math.sqrt(centredNormSq(this.syy, this.sy, this.sy, this.n));
    if (!(xx > 0) || !(yy > 0)) {
      throw new BasisError('RANK_DEFICIENT', `streaming CKA: every column of ${xx > 0 ? 'Y' : 'X'} is constant over the inputs seen`);
    }
    return xy / (xx * yy);
  }

  /**
   * Keeps a side's scale within 2^64 of the batch's largest entry: if the batch is far larger,
   * the exponent rises to it and the sums seen so far are divided by the exact powers of two
   * that change (their shift too; the cross sums Xᵀ Y once per side). Returns the exponent.
   */
  private raiseScale(B: Matrix, e: number, s: Float64Array, ss: Float64Array, shift: Float64Array): number {
    const want = exponentOf(maxAbs(B.data));
    if (want <= e + 64) return e;
    const f = pow2(e - want);
    for (let k = 0; k < s.length; k++) s[k] = (s[k] as number) * f;
    for (let k = 0; k < shift.length; k++) shift[k] = (shift[k] as number) * f;
    for (let k = 0; k < ss.length; k++) ss[k] = (ss[k] as number) * f * f;
    for (let k = 0; k < this.sxy.length; k++) this.sxy[k] = (this.sxy[k] as number) * f;
    return want;
  }

  private init(X: Matrix, Y: Matrix): void {
    this.dx = X.cols;
    this.dy = Y.cols;
    this.ex = startExponent(maxAbs(X.data));
    this.ey = startExponent(maxAbs(Y.data));
    this.shiftX = columnMeans(X, pow2(-this.ex));
    this.shiftY = columnMeans(Y, pow2(-this.ey));
    this.sx = new Float64Array(this.dx);
    this.sy = new Float64Array(this.dy);
    this.sxx = new Float64Array(this.dx * this.dx);
    this.syy = new Float64Array(this.dy * this.dy);
    this.sxy = new Float64Array(this.dx * this.dy);
  }
}

/** Column means of `f A` (f an exact power of two). */
/** One batch of both streaming estimators: X and Y as matrices with as many rows (at least `minRows`, else TOO_SMALL saying `why`), finite. */
function checkedBatch(Xb: MatrixLike, Yb: MatrixLike, minRows = 0, why = ''): { X: Matrix; Y: Matrix } {
  const X = asMatrix(Xb);
  const Y = asMatrix(Yb);
  if (X.rows !== Y.rows) throw new BasisError('SHAPE_MISMATCH', `batch X has ${X.rows} rows but Y has ${Y.rows}`);
  if (X.rows < minRows) throw new BasisError('TOO_SMALL', `${why}, got ${X.rows}`);
  assertFinite(X, 'X batch');
  assertFinite(Y, 'Y batch');
  return { X, Y };
}

/** Every batch has the first batch's widths `dx` and `dy`. */
function checkWidths(X: Matrix, Y: Matrix, dx: number, dy: number): void {
  if (X.cols !== dx || Y.cols !== dy) {
    throw new BasisError('SHAPE_MISMATCH', `batch widths ${X.cols} and ${Y.cols} differ from the first batch's ${dx} and ${dy}`);
  }
}

function columnMeans(A: Matrix, f: number): Float64Array {
  const m = new Float64Array(A.cols);
  for (let i = 0; i < A.rows; i++) for (let j = 0; j < A.cols; j++) m[j] = (m[j] as number) + ((A.data[i * A.cols + j] as number) * f) / A.rows;
  return m;
}

/** 2^e for an integer e in [-1000, 1000] (exact). */
function pow2(e: number): number {
  return 2 ** e;
}

/** floor(log2 m) clamped to [-1000, 1000]; 0 for m = 0. */
function exponentOf(m: number): number {
  return m === 0 ? 0 : Math.max(-1000, Math.min(1000, Math.floor(Math.log2(m))));
}

/** The first batch's scale exponent: 0 (no scaling) unless max|entry| lies outside [2^-64, 2^65). */
function startExponent(m: number): number {
  const e = exponentOf(m);
  return Math.abs(e) > 64 ? e : 0;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] as number));
  return m;
}

function accumulate(s: Float64Array, ss: Float64Array, v: Float64Array): void {
  const d = v.length;
  for (let a = 0; a < d; a++) {
    const va = v[a] as number;
    s[a] = (s[a] as number) + va;
    if (va === 0) continue;
    const row = a * d;
    for (let b = 0; b < d; b++) ss[row + b] = (ss[row + b] as number) + va * (v[b] as number);
  }
}

/** `||S - s tᵀ / n||_F²`: the squared norm of a centred cross-product from raw sums. */
function centredNormSq(S: Float64Array, s: Float64Array, t: Float64Array, n: number): number {
  let acc = 0;
  for (let a = 0; a < s.length; a++) {
    for (let b = 0; b < t.length; b++) {
      const v = (S[a * t.length + b] as number) - ((s[a] as number) * (t[b] as number)) / n;
      acc += v * v;
    }
  }
  return acc;
}

/**
 * Minibatch linear CKA (Nguyen, Raghu and Kornblith 2021): the unbiased HSIC_1 of each batch's
 * linear kernels, averaged over batches, `CKA = mean_b HSIC_1(K_b, L_b) / sqrt(mean_b HSIC_1(K_b, K_b) mean_b HSIC_1(L_b, L_b))`.
 * Memory is independent of N (three running sums; each batch costs O(b (dx² + dy² + dx dy))).
 * Because HSIC_1 ignores mean shifts, batches need no global centring, and one batch holding
 * all rows gives exactly `cka.linear.unbiased` (Kornblith's debiased CKA). Unlike
 * {@link StreamingLinearCka} the value depends on how rows are split into batches (it estimates
 * the population CKA; it is not the full-data statistic). Every batch needs at least 4 rows.
 *
 * @example
 * ```ts
 * import { MinibatchLinearCka } from '@basis/align';
 * const cka = new MinibatchLinearCka();
 * for (const [xb, yb] of batches) cka.update(xb, yb); // e.g. 256 rows each
 * cka.value();
 * ```
 */
export class MinibatchLinearCka {
  private dx = -1;
  private dy = -1;
  private k = 0;
  private n = 0;
  private xy = 0;
  private xx = 0;
  private yy = 0;
  /** Exponents of the exact power-of-two scales of X and Y (see {@link StreamingLinearCka}). */
  private ex = 0;
  private ey = 0;

  /** Number of batches seen so far. */
  get batches(): number {
    return this.k;
  }

  /** Number of rows seen so far. */
  get rows(): number {
    return this.n;
  }

  /** Adds one batch of rows (the same inputs in X and Y; at least 4 rows). */
  update(Xb: MatrixLike, Yb: MatrixLike): void {
    const { X, Y } = checkedBatch(Xb, Yb, 4, 'minibatch CKA uses the unbiased HSIC, which needs batches of at least 4 rows');
    const mx = exponentOf(maxAbs(X.data));
    const my = exponentOf(maxAbs(Y.data));
    if (this.dx < 0) {
      this.dx = X.cols;
      this.dy = Y.cols;
      this.ex = startExponent(maxAbs(X.data));
      this.ey = startExponent(maxAbs(Y.data));
    }
    checkWidths(X, Y, this.dx, this.dy);
    // exact power-of-two scales per side, fixed by the first batch and raised (the sums so far
    // divided to match: HSIC(X, Y) scales as fx² fy², HSIC(X, X) as fx⁴) if a batch is far larger
    if (mx > this.ex + 64) {
      const f = pow2(this.ex - mx);
      this.xy *= f * f;
      this.xx *= f * f * f * f;
      this.ex = mx;
    }
    if (my > this.ey + 64) {
      const f = pow2(this.ey - my);
      this.xy *= f * f;
      this.yy *= f * f * f * f;
      this.ey = my;
    }
    // centring each batch leaves HSIC_1 unchanged and keeps the feature-space form accurate
    const Xc = center(scaledBy(X, pow2(-this.ex))).centred;
    const Yc = center(scaledBy(Y, pow2(-this.ey))).centred;
    const a = rowSquares(Xc);
    const b = rowSquares(Yc);
    const scale = X.rows * (X.rows - 3);
    this.xy += hsic1Scaled(sumSquares(crossprod(Xc, Yc)), a, b) / scale;
    this.xx += hsic1Scaled(sumSquares(gram(Xc)), a, a) / scale;
    this.yy += hsic1Scaled(sumSquares(gram(Yc)), b, b) / scale;
    this.k++;
    this.n += X.rows;
  }

  /** The minibatch CKA of the batches seen (RANK_DEFICIENT if a mean self-HSIC is not positive). */
  value(): number {
    if (this.k === 0) throw new BasisError('TOO_SMALL', 'minibatch CKA has seen no batches');
    if (!(this.xx > 0) || !(this.yy > 0)) {
      throw new BasisError('RANK_DEFICIENT', `minibatch CKA: the mean unbiased HSIC of ${this.xx > 0 ? 'Y' : 'X'} with itself is not positive (constant or too few rows per batch)`);
    }
    return this.xy / Math.sqrt(this.xx * this.yy);
  }
}

/** `f A` for an exact power of two f (A itself when f = 1). */
function scaledBy(A: Matrix, f: number): Matrix {
  if (f === 1) return A;
  const out = A.clone();
  for (let k = 0; k < out.data.length; k++) out.data[k] = (out.data[k] as number) * f;
  return out;
}
