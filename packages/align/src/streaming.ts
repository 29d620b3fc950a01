import { BasisError, asMatrix, assertFinite, center, crossprod, gram, type Matrix, type MatrixLike } from '@basis/tensor';
import { hsic1Scaled, rowSquares } from './metrics/cka.js';
import { sumSquares } from './util.js';

/**
 * Linear CKA (biased HSIC_0) over data that arrives in batches, with memory independent of N:
 * it keeps float64 sums of Xᵀ X, Yᵀ Y, Xᵀ Y and the column sums (O(dx² + dy² + dx·dy)). Each
 * batch is shifted by the first batch's column means before accumulating, which keeps the final
 * centring accurate for data with large offsets. The value equals {@link metric}('cka.linear')
 * on the concatenated data up to rounding.
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
    const X = asMatrix(Xb);
    const Y = asMatrix(Yb);
    if (X.rows !== Y.rows) throw new BasisError('SHAPE_MISMATCH', `batch X has ${X.rows} rows but Y has ${Y.rows}`);
    if (X.rows === 0) return;
    assertFinite(X, 'X batch');
    assertFinite(Y, 'Y batch');
    if (this.dx < 0) this.init(X, Y);
    if (X.cols !== this.dx || Y.cols !== this.dy) {
      throw new BasisError('SHAPE_MISMATCH', `batch widths ${X.cols} and ${Y.cols} differ from the first batch's ${this.dx} and ${this.dy}`);
    }
    const x = new Float64Array(this.dx);
    const y = new Float64Array(this.dy);
    for (let i = 0; i < X.rows; i++) {
      for (let a = 0; a < this.dx; a++) x[a] = (X.data[i * this.dx + a] as number) - (this.shiftX[a] as number);
      for (let b = 0; b < this.dy; b++) y[b] = (Y.data[i * this.dy + b] as number) - (this.shiftY[b] as number);
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

  private init(X: Matrix, Y: Matrix): void {
    this.dx = X.cols;
    this.dy = Y.cols;
    this.shiftX = columnMeans(X);
    this.shiftY = columnMeans(Y);
    this.sx = new Float64Array(this.dx);
    this.sy = new Float64Array(this.dy);
    this.sxx = new Float64Array(this.dx * this.dx);
    this.syy = new Float64Array(this.dy * this.dy);
    this.sxy = new Float64Array(this.dx * this.dy);
  }
}

function columnMeans(A: Matrix): Float64Array {
  const m = new Float64Array(A.cols);
  for (let i = 0; i < A.rows; i++) for (let j = 0; j < A.cols; j++) m[j] = (m[j] as number) + (A.data[i * A.cols + j] as number) / A.rows;
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
    const X = asMatrix(Xb);
    const Y = asMatrix(Yb);
    if (X.rows !== Y.rows) throw new BasisError('SHAPE_MISMATCH', `batch X has ${X.rows} rows but Y has ${Y.rows}`);
    if (X.rows < 4) throw new BasisError('TOO_SMALL', `minibatch CKA uses the unbiased HSIC, which needs batches of at least 4 rows, got ${X.rows}`);
    assertFinite(X, 'X batch');
    assertFinite(Y, 'Y batch');
    if (this.dx < 0) {
      this.dx = X.cols;
      this.dy = Y.cols;
    }
    if (X.cols !== this.dx || Y.cols !== this.dy) {
      throw new BasisError('SHAPE_MISMATCH', `batch widths ${X.cols} and ${Y.cols} differ from the first batch's ${this.dx} and ${this.dy}`);
    }
    // centring each batch leaves HSIC_1 unchanged and keeps the feature-space form accurate
    const Xc = center(X).centred;
    const Yc = center(Y).centred;
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
