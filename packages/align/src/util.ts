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
