import { Matrix } from '@basis/tensor';

/** Sum of squares of all entries. */
export function sumSquares(m: Matrix): number {
  let s = 0;
  const a = m.data;
  for (let k = 0; k < a.length; k++) {
    const v = a[k] as number;
    s += v * v;
  }
  return s;
}

/** Divides every entry by `c` (new matrix). */
export function scaled(m: Matrix, c: number): Matrix {
  const out = new Matrix(m.rows, m.cols);
  for (let k = 0; k < m.data.length; k++) out.data[k] = (m.data[k] as number) / c;
  return out;
}

/** Appends zero columns up to `p` columns (no copy when already `p` wide). */
export function padColumns(m: Matrix, p: number): Matrix {
  if (m.cols === p) return m;
  const out = new Matrix(m.rows, p);
  for (let i = 0; i < m.rows; i++) out.data.set(m.data.subarray(i * m.cols, (i + 1) * m.cols), i * p);
  return out;
}

/** Frobenius norm of A - B (same shape), accumulated with scaling against overflow-free sums. */
export function residualNorm(A: Matrix, B: Matrix): number {
  let s = 0;
  for (let k = 0; k < A.data.length; k++) {
    const d = (A.data[k] as number) - (B.data[k] as number);
    s += d * d;
  }
  return Math.sqrt(s);
}

/** Angle between unit-norm points at chord distance r: `2 asin(r / 2)` (stable near 0). */
export function chordToAngle(r: number): number {
  return 2 * Math.asin(Math.min(1, r / 2));
}

/**
 * `||A P - B||_F` for a (possibly partial) matching of A's columns to B's columns given as pairs
 * `(rowInd[k], colInd[k])`; unmatched columns of either side count with their own norm (the
 * zero-padded residual). Computed column by column, which stays accurate when A P ≈ B.
 */
export function matchingResidual(A: Matrix, B: Matrix, rowInd: Int32Array, colInd: Int32Array): number {
  const n = A.rows;
  const usedA = new Uint8Array(A.cols);
  const usedB = new Uint8Array(B.cols);
  let r2 = 0;
  for (let k = 0; k < rowInd.length; k++) {
    const i = rowInd[k] as number;
    const j = colInd[k] as number;
    usedA[i] = 1;
    usedB[j] = 1;
    for (let t = 0; t < n; t++) {
      const d = (A.data[t * A.cols + i] as number) - (B.data[t * B.cols + j] as number);
      r2 += d * d;
    }
  }
  for (let i = 0; i < A.cols; i++) if (!usedA[i]) for (let t = 0; t < n; t++) r2 += (A.data[t * A.cols + i] as number) ** 2;
  for (let j = 0; j < B.cols; j++) if (!usedB[j]) for (let t = 0; t < n; t++) r2 += (B.data[t * B.cols + j] as number) ** 2;
  return Math.sqrt(r2);
}
