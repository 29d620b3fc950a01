import { BasisError } from '../errors.js';
import { asMatrix } from '../matrix.js';
import type { MatrixLike } from '../matrix.js';
import { lsapKernel } from './lsap-kernel.js';
import { lsapKernelWasm, lsapWasmInput, lsapWasmWanted } from './lsap-wasm.js';

export { lsapKernel, type LsapKernelResult } from './lsap-kernel.js';

const INF = Number.POSITIVE_INFINITY;

/** Options of {@link linearSumAssignment}. */
export interface LinearSumAssignmentOptions {
  /** Maximise the total instead of minimising it (default `false`). */
  maximize?: boolean;
}

/** An optimal assignment returned by {@link linearSumAssignment}. */
export interface LinearSumAssignmentResult {
  /** Matched rows, strictly increasing (like scipy's `row_ind`); length `min(m, n)`. */
  rowInd: Int32Array;
  /** `colInd[k]` is the column matched to row `rowInd[k]`. */
  colInd: Int32Array;
  /** Sum of `C[rowInd[k], colInd[k]]` over the matched pairs (0 for an empty problem). */
  cost: number;
  /** Length `m`: the column matched to each row, or -1 for an unmatched row (only when m > n). */
  rowToCol: Int32Array;
  /** Length `n`: the row matched to each column, or -1 for an unmatched column (only when n > m). */
  colToRow: Int32Array;
}

/**
 * Solves the linear sum assignment problem exactly: finds the matching of `min(m, n)` row/column
 * pairs of an `m x n` cost matrix with the smallest (or, with `maximize`, largest) total. Uses
 * shortest augmenting paths with dual potentials (Jonker-Volgenant as in scipy's
 * `linear_sum_assignment`, Crouse 2016), O(min(m,n)^2 max(m,n)); a tall matrix is transposed
 * internally. Forbidden pairs may be marked `+Infinity` (minimising) or `-Infinity` (maximising);
 * if no assignment avoids them all it throws `INFEASIBLE`. NaN, or an infinity of the other sign
 * (an unbounded objective), throws `NON_FINITE_INPUT`. An empty matrix (0 rows or 0 columns) has
 * `min(m, n) = 0` pairs and returns an empty assignment with cost 0, as scipy does.
 * Ties are broken deterministically, so the same input always gives the same assignment. The
 * rule (on the internal minimisation problem: the matrix, negated when maximising, transposed
 * when it has more rows than columns): a square problem starts by matching each column, in
 * increasing order, to the lowest-index row attaining the column minimum if that row is still
 * free; then each free row, in increasing order, is augmented along a shortest path, and among
 * columns at equal tentative distance the search takes an unmatched column first, then the
 * lowest column index. A constant matrix therefore gives `rowInd = colInd = [0, 1, ..., k-1]`.
 *
 * @example
 * ```ts
 * import { linearSumAssignment } from '@basis/tensor';
 * const r = linearSumAssignment([[4, 1, 3], [2, 0, 5], [3, 2, 2]]);
 * r.colInd; // Int32Array [1, 0, 2]
 * r.cost; // 5
 * linearSumAssignment([[4, 1, 3], [2, 0, 5]], { maximize: true }).cost; // 4 + 5 = 9
 * ```
 */
export function linearSumAssignment(
  C: MatrixLike,
  opts: LinearSumAssignmentOptions = {},
): LinearSumAssignmentResult {
  const M = asMatrix(C);
  const maximize = opts.maximize ?? false;
  if (typeof maximize !== 'boolean') {
    throw new BasisError('INVALID_ARGUMENT', `maximize must be a boolean, got ${String(maximize)}`);
  }
  const m = M.rows;
  const n = M.cols;
  const a = M.data;
  const forbidden = maximize ? -INF : INF;
  for (let k = 0; k < a.length; k++) {
    const x = a[k] as number;
    if (x - x !== 0 && x !== forbidden) {
      const i = Math.floor(k / n);
      const j = k - i * n;
      throw new BasisError(
        'NON_FINITE_INPUT',
        `C[${i}, ${j}] is ${x}; the cost matrix must be finite` +
          ` (only ${forbidden} is allowed, to forbid a pair when ${maximize ? 'maximizing' : 'minimizing'})`,
        { details: { row: i, col: j, value: x } },
      );
    }
  }
  const rowToCol = new Int32Array(m).fill(-1);
  const colToRow = new Int32Array(n).fill(-1);
  const k = Math.min(m, n);
  if (k === 0) {
    return { rowInd: new Int32Array(0), colInd: new Int32Array(0), cost: 0, rowToCol, colToRow };
  }

  const transpose = m > n;
  const nr = transpose ? n : m;
  const nc = transpose ? m : n;
  const s = maximize ? -1 : 1;
  const inp = lsapWasmWanted(nr) ? lsapWasmInput(nr, nc) : null;
  let res;
  if (inp !== null) {
    // the internal problem written straight into WebAssembly memory (rows padded to inp.stride)
    const { F, off, stride } = inp;
    if (!transpose) {
      for (let i = 0; i < m; i++) {
        const src = i * n;
        const dst = off + i * stride;
        if (maximize) for (let j = 0; j < n; j++) F[dst + j] = -(a[src + j] as number);
        else F.set(a.subarray(src, src + n), dst);
      }
    } else {
      transposeInto(a, m, n, s, F, off, stride);
    }
    res = lsapKernelWasm(inp);
  } else {
    let work: Float64Array;
    if (!transpose) {
      if (maximize) {
        work = new Float64Array(a.length);
        for (let t = 0; t < a.length; t++) work[t] = -(a[t] as number);
      } else {
        work = a;
      }
    } else {
      work = new Float64Array(a.length);
      transposeInto(a, m, n, s, work, 0, m);
    }
    res = lsapKernel(work, nr, nc);
  }
  if (res === null) {
    throw new BasisError(
      'INFEASIBLE',
      `No assignment of ${k} pairs in the ${m} x ${n} cost matrix avoids every forbidden ` +
        `(${forbidden}) entry; allow more pairs or use a large finite penalty instead`,
    );
  }
  if (!transpose) {
    for (let i = 0; i < m; i++) {
      const j = res.col4row[i] as number;
      rowToCol[i] = j;
      colToRow[j] = i;
    }
  } else {
    for (let j = 0; j < n; j++) {
      const i = res.col4row[j] as number;
      colToRow[j] = i;
      rowToCol[i] = j;
    }
  }
  const rowInd = new Int32Array(k);
  const colInd = new Int32Array(k);
  let cost = 0;
  let t = 0;
  for (let i = 0; i < m; i++) {
    const j = rowToCol[i] as number;
    if (j < 0) continue;
    rowInd[t] = i;
    colInd[t] = j;
    cost += a[i * n + j] as number;
    t++;
  }
  return { rowInd, colInd, cost, rowToCol, colToRow };
}

/** `out[off + j * stride + i] = s * a[i * n + j]` for the m x n row-major `a`, in 32 x 32 tiles. */
function transposeInto(a: Float64Array, m: number, n: number, s: number, out: Float64Array, off: number, stride: number): void {
  const B = 32;
  for (let i0 = 0; i0 < m; i0 += B) {
    const i1 = Math.min(i0 + B, m);
    for (let j0 = 0; j0 < n; j0 += B) {
      const j1 = Math.min(j0 + B, n);
      for (let i = i0; i < i1; i++)
        for (let j = j0; j < j1; j++) out[off + j * stride + i] = s * (a[i * n + j] as number);
    }
  }
}
