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

/** M (r x c) with zero rows and columns appended up to `rows x cols` (M itself when already that size). */
export function padTo(M: Matrix, rows: number, cols: number): Matrix {
  if (M.rows === rows && M.cols === cols) return M;
  const out = new Matrix(rows, cols);
  for (let i = 0; i < M.rows; i++) out.data.set(M.data.subarray(i * M.cols, (i + 1) * M.cols), i * cols);
  return out;
}

/**
 * Frobenius norm of `a·A - b·B` (same shape; a = b = 1 by default), without forming the scaled
 * copies: N x d buffers are expensive to allocate at the sizes the audits use.
 */
export function residualNorm(A: Matrix, B: Matrix, a = 1, b = 1): number {
  let s = 0;
  const x = A.data;
  const y = B.data;
  for (let k = 0; k < x.length; k++) {
    const d = a * (x[k] as number) - b * (y[k] as number);
    s += d * d;
  }
  return Math.sqrt(s);
}

/** Angle between unit-norm points at chord distance r: `2 asin(r / 2)` (stable near 0). */
export function chordToAngle(r: number): number {
  return 2 * Math.asin(Math.min(1, r / 2));
}

/**
 * `||a·A P - b·B||_F` for a (possibly partial) matching of A's columns to B's columns given as
 * pairs `(rowInd[k], colInd[k])`; unmatched columns of either side count with their own norm (the
 * zero-padded residual). `a` and `b` are one factor for all columns or one per column (e.g. inverse
 * column norms, for unit-norm columns without forming them). Differences are taken entry by entry,
 * which stays accurate when A P ≈ B; the traversal is row by row (cache-friendly) and the scales
 * avoid scaled copies.
 */
export function matchingResidual(
  A: Matrix,
  B: Matrix,
  rowInd: Int32Array,
  colInd: Int32Array,
  a: number | Float64Array = 1,
  b: number | Float64Array = 1,
): number {
  const sa = typeof a === 'number' ? new Float64Array(A.cols).fill(a) : a;
  const sb = typeof b === 'number' ? new Float64Array(B.cols).fill(b) : b;
  return residualOf(A, B, rowInd, colInd, sa, sb, false);
}

/**
 * {@link matchingResidual} of the unit-norm columns `A[:, i] / normsA[i]` and `B[:, j] / normsB[j]`
 * (a zero norm is a zero column), dividing entry by entry: no reciprocal of a tiny norm can
 * overflow, whatever the spread of the column scales.
 */
export function unitMatchingResidual(A: Matrix, B: Matrix, rowInd: Int32Array, colInd: Int32Array, normsA: Float64Array, normsB: Float64Array): number {
  const da = normsA.map((v) => (v === 0 ? Infinity : v)); // x / Infinity = 0 for the (all-zero) zero-norm columns
  const db = normsB.map((v) => (v === 0 ? Infinity : v));
  return residualOf(A, B, rowInd, colInd, da, db, true);
}

function residualOf(A: Matrix, B: Matrix, rowInd: Int32Array, colInd: Int32Array, sa: Float64Array, sb: Float64Array, divide: boolean): number {
  const n = A.rows;
  const ca = A.cols;
  const cb = B.cols;
  const m = rowInd.length;
  const usedA = new Uint8Array(ca);
  const usedB = new Uint8Array(cb);
  const fa = new Float64Array(m);
  const fb = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    usedA[rowInd[k] as number] = 1;
    usedB[colInd[k] as number] = 1;
    fa[k] = sa[rowInd[k] as number] as number;
    fb[k] = sb[colInd[k] as number] as number;
  }
  const restA: number[] = [];
  const restB: number[] = [];
  for (let i = 0; i < ca; i++) if (usedA[i] === 0) restA.push(i);
  for (let j = 0; j < cb; j++) if (usedB[j] === 0) restB.push(j);
  const x = A.data;
  const y = B.data;
  let r2 = 0;
  for (let t = 0; t < n; t++) {
    const oa = t * ca;
    const ob = t * cb;
    if (divide) {
      for (let k = 0; k < m; k++) {
        const d = (x[oa + (rowInd[k] as number)] as number) / (fa[k] as number) - (y[ob + (colInd[k] as number)] as number) / (fb[k] as number);
        r2 += d * d;
      }
      for (const i of restA) r2 += ((x[oa + i] as number) / (sa[i] as number)) ** 2;
      for (const j of restB) r2 += ((y[ob + j] as number) / (sb[j] as number)) ** 2;
    } else {
      for (let k = 0; k < m; k++) {
        const d = (fa[k] as number) * (x[oa + (rowInd[k] as number)] as number) - (fb[k] as number) * (y[ob + (colInd[k] as number)] as number);
        r2 += d * d;
      }
      for (const i of restA) r2 += ((sa[i] as number) * (x[oa + i] as number)) ** 2;
      for (const j of restB) r2 += ((sb[j] as number) * (y[ob + j] as number)) ** 2;
    }
  }
  return Math.sqrt(r2);
}

/** Squared row norms of a matrix. */
export function rowSquares(m: Matrix): Float64Array {
  const out = new Float64Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    let s = 0;
    for (let j = 0; j < m.cols; j++) {
      const v = m.data[i * m.cols + j] as number;
      s += v * v;
    }
    out[i] = s;
  }
  return out;
}
