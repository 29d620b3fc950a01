// Test helpers (excluded from the build).
import { Matrix, type Rng } from '@basis/tensor';

export function randMat(rows: number, cols: number, rng: Rng, scale = 1): Matrix {
  const m = new Matrix(rows, cols);
  for (let k = 0; k < m.data.length; k++) m.data[k] = rng.normal() * scale;
  return m;
}

export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs((a[k] as number) - (b[k] as number)));
  return m;
}

/** Max over columns of min(|a_j − b_j|, |a_j + b_j|) (agreement up to per-column sign). */
export function maxDiffUpToSign(A: Matrix, B: Matrix): number {
  let m = 0;
  for (let j = 0; j < A.cols; j++) {
    let p = 0;
    let q = 0;
    for (let r = 0; r < A.rows; r++) {
      const a = A.data[r * A.cols + j] as number;
      const b = B.data[r * B.cols + j] as number;
      p = Math.max(p, Math.abs(a - b));
      q = Math.max(q, Math.abs(a + b));
    }
    m = Math.max(m, Math.min(p, q));
  }
  return m;
}

export function params64(entries: Record<string, Matrix | Float64Array>): Record<string, { shape: number[]; data: Float64Array }> {
  const out: Record<string, { shape: number[]; data: Float64Array }> = {};
  for (const [k, v] of Object.entries(entries)) out[k] = v instanceof Matrix ? { shape: [v.rows, v.cols], data: v.data } : { shape: [v.length], data: v };
  return out;
}
