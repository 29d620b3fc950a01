import { Matrix, center, corrMatrix, normalizeColumns, svd } from '@basis/tensor';
import { assertNotConstant } from './validate.js';
import { scaled, sumSquares } from './util.js';

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

/** Column-centred copy (means over the rows). */
export function centred(X: Matrix): Matrix {
  return cached(X, 'centred', () => center(X).centred);
}

/** Centred copy whose columns have unit Euclidean norm; zero-variance columns stay zero. */
export function unitCentred(X: Matrix): Matrix {
  return cached(X, 'unitCentred', () => normalizeColumns(centred(X), { zeroPolicy: 'keep-zero' }).normalized);
}

/** Uncentred copy whose columns have unit Euclidean norm (zero columns stay zero). */
export function unitColumns(X: Matrix): Matrix {
  return cached(X, 'unitColumns', () => normalizeColumns(X, { zeroPolicy: 'keep-zero' }).normalized);
}

/** The dx x dy Pearson matrix; zero-variance units correlate 0 with everything. */
export function correlations(X: Matrix, Y: Matrix): Matrix {
  return corrMatrix(X, Y, { zeroVariance: 'zero' }).corr;
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
  return Math.max(-1, Math.min(1, sab / Math.sqrt(saa * sbb)));
}

/**
 * Orthonormal basis of the column space of the centred X for its numerical rank
 * (`s_i > max(N, d) 2^-52 s_1`), plus the singular values.
 */
export function rangeBasis(Xc: Matrix, name: string, metric: string): { Q: Matrix; s: Float64Array; rank: number } {
  assertNotConstant(sumSquares(Xc), name, metric);
  return cached(Xc, 'rangeBasis', () => {
    const { U, s } = svd(Xc);
    const tol = Math.max(Xc.rows, Xc.cols) * 2 ** -52 * (s[0] as number);
    let rank = 0;
    while (rank < s.length && (s[rank] as number) > tol) rank++;
    return { Q: U.slice(0, U.rows, 0, rank), s, rank };
  });
}

/** Centred copies of X and Y scaled to unit Frobenius norm (RANK_DEFICIENT if either is constant). */
export function normalisedPair(X: Matrix, Y: Matrix, metric: string): { Xn: Matrix; Yn: Matrix } {
  const Xc = centred(X);
  const Yc = centred(Y);
  const sx = sumSquares(Xc);
  const sy = sumSquares(Yc);
  assertNotConstant(sx, 'X', metric);
  assertNotConstant(sy, 'Y', metric);
  return { Xn: scaled(Xc, Math.sqrt(sx)), Yn: scaled(Yc, Math.sqrt(sy)) };
}
