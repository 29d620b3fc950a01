import { BasisError } from '../errors.js';
import { crossprod } from '../linalg/basic.js';
import { Matrix, assertFinite, asMatrix, type MatrixLike } from '../matrix.js';

function checked(X: MatrixLike, name: string, minRows: number): Matrix {
  const m = asMatrix(X);
  if (m.rows < minRows || m.cols === 0) {
    throw new BasisError('TOO_SMALL', `${name} needs at least ${minRows} row(s) and one column, got ${m.rows} x ${m.cols}`);
  }
  assertFinite(m, name);
  return m;
}

/** Column means over the rows, with a second pass that corrects the rounding of the first. */
export function columnMeans(X: MatrixLike): Float64Array {
  const m = checked(X, 'X', 1);
  const { rows: n, cols: d, data: a } = m;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (a[i * d + j] as number);
  for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) / n;
  const corr = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) corr[j] = (corr[j] as number) + ((a[i * d + j] as number) - (mean[j] as number));
  for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (corr[j] as number) / n;
  return mean;
}

/**
 * Subtracts each column's mean over the rows (spec P1) and returns the means too, so that held-out
 * data can be centred with training means ({@link applyCentering}).
 *
 * @example
 * ```ts
 * const { centred, means } = center(Matrix.from([[1, 2], [3, 6]]));
 * means; // Float64Array [2, 4]
 * centred.toArray(); // [[-1, -2], [1, 2]]
 * ```
 */
export function center(X: MatrixLike): { centred: Matrix; means: Float64Array } {
  const m = checked(X, 'X', 1);
  const means = columnMeans(m);
  return { centred: applyCentering(m, means), means };
}

/** `X - 1 meansᵀ` for given means (e.g. training means applied to test rows). */
export function applyCentering(X: MatrixLike, means: ArrayLike<number>): Matrix {
  const m = checked(X, 'X', 0);
  if (means.length !== m.cols) {
    throw new BasisError('SHAPE_MISMATCH', `X has ${m.cols} columns but ${means.length} means were given`);
  }
  const out = new Matrix(m.rows, m.cols);
  const d = m.cols;
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < d; j++) out.data[i * d + j] = (m.data[i * d + j] as number) - (means[j] as number);
  return out;
}

/** What {@link normalizeColumns} does with a column whose norm is exactly zero. */
export type ZeroColumnPolicy = 'keep-zero' | 'drop' | 'error';

/**
 * Divides each column by its Euclidean norm (spec P2). A zero column (norm exactly 0) is kept as
 * zeros (`'keep-zero'`, default), removed (`'drop'`; `kept` lists the surviving column indices),
 * or rejected (`'error'`, a `RANK_DEFICIENT` BasisError naming the columns).
 *
 * @example
 * ```ts
 * normalizeColumns(Matrix.from([[3, 0], [4, 0]])); // columns [0.6, 0.8] and [0, 0]; zeroColumns [1]
 * ```
 */
export function normalizeColumns(
  X: MatrixLike,
  opts: { zeroPolicy?: ZeroColumnPolicy } = {},
): { normalized: Matrix; norms: Float64Array; zeroColumns: number[]; kept: number[] } {
  const m = checked(X, 'X', 1);
  const policy = opts.zeroPolicy ?? 'keep-zero';
  if (policy !== 'keep-zero' && policy !== 'drop' && policy !== 'error') {
    throw new BasisError('INVALID_ARGUMENT', `zeroPolicy must be 'keep-zero', 'drop' or 'error', got '${String(policy)}'`);
  }
  const { rows: n, cols: d, data: a } = m;
  // Scaled sum of squares per column (no overflow for huge entries), walking rows so that the
  // reads are sequential; each column still sums over i in ascending order.
  const scales = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const r = i * d;
    for (let j = 0; j < d; j++) {
      const v = Math.abs(a[r + j] as number);
      if (v > (scales[j] as number)) scales[j] = v;
    }
  }
  const sums = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const r = i * d;
    for (let j = 0; j < d; j++) {
      const sc = scales[j] as number;
      if (sc === 0) continue;
      const v = (a[r + j] as number) / sc;
      sums[j] = (sums[j] as number) + v * v;
    }
  }
  const norms = new Float64Array(d);
  for (let j = 0; j < d; j++) if (scales[j] !== 0) norms[j] = (scales[j] as number) * Math.sqrt(sums[j] as number);
  const zeroColumns: number[] = [];
  for (let j = 0; j < d; j++) if (norms[j] === 0) zeroColumns.push(j);
  if (policy === 'error' && zeroColumns.length > 0) {
    throw new BasisError('RANK_DEFICIENT', `column(s) ${zeroColumns.join(', ')} of X are all zero and cannot be normalised`);
  }
  const kept = policy === 'drop' ? [...Array(d).keys()].filter((j) => norms[j] !== 0) : [...Array(d).keys()];
  const out = new Matrix(n, kept.length);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < kept.length; c++) {
      const j = kept[c] as number;
      const nj = norms[j] as number;
      out.data[i * kept.length + c] = nj === 0 ? 0 : (a[i * d + j] as number) / nj;
    }
  }
  return { normalized: out, norms, zeroColumns, kept };
}

/**
 * Pearson correlations between the columns of X (N x dx) and of Y (N x dy): the dx x dy matrix
 * `unit(Xc)ᵀ unit(Yc)` (spec P8). A zero-variance column correlates 0 with everything (default) or
 * NaN (`zeroVariance: 'nan'`, explicit opt-in); the zero-variance columns are reported.
 *
 * @example
 * ```ts
 * corrMatrix(X, Y).corr.get(0, 0); // correlation of X's unit 0 with Y's unit 0
 * ```
 */
export function corrMatrix(
  X: MatrixLike,
  Y: MatrixLike,
  opts: { zeroVariance?: 'zero' | 'nan' } = {},
): { corr: Matrix; zeroVarianceX: number[]; zeroVarianceY: number[] } {
  const x = checked(X, 'X', 2);
  const y = checked(Y, 'Y', 2);
  if (x.rows !== y.rows) {
    throw new BasisError('SHAPE_MISMATCH', `X has ${x.rows} rows but Y has ${y.rows}; correlations need the same inputs`);
  }
  const zv = opts.zeroVariance ?? 'zero';
  const nx = normalizeColumns(center(x).centred);
  const ny = normalizeColumns(center(y).centred);
  // unit(Xc)ᵀ unit(Yc) on the blocked (SIMD) product kernel
  const corr = crossprod(nx.normalized, ny.normalized);
  for (let k = 0; k < corr.data.length; k++) corr.data[k] = Math.max(-1, Math.min(1, corr.data[k] as number));
  if (zv === 'nan') {
    for (const i of nx.zeroColumns) for (let j = 0; j < y.cols; j++) corr.set(i, j, NaN);
    for (const j of ny.zeroColumns) for (let i = 0; i < x.cols; i++) corr.set(i, j, NaN);
  }
  return { corr, zeroVarianceX: nx.zeroColumns, zeroVarianceY: ny.zeroColumns };
}

/** Pearson correlation of two equal-length vectors; 0 if either has zero variance. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new BasisError('SHAPE_MISMATCH', `pearson: lengths ${a.length} and ${b.length} differ`);
  if (a.length < 2) throw new BasisError('TOO_SMALL', `pearson needs at least 2 values, got ${a.length}`);
  return corrMatrix(Matrix.fromArray(a.length, 1, a), Matrix.fromArray(b.length, 1, b)).corr.get(0, 0);
}
