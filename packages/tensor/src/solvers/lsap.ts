import { BasisError } from '../errors.js';
import { asMatrix } from '../matrix.js';
import type { MatrixLike } from '../matrix.js';

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
 * Raw result of {@link lsapKernel}: the assignment of every row and optimal dual potentials:
 * `u[i] + v[j] <= cost[i, j]` for every pair (up to rounding), with equality on matched pairs, and
 * for a rectangular problem `v[j] <= 0` with `v[j] = 0` on the unmatched columns, so that
 * `sum u + sum v` equals the optimal cost.
 */
export interface LsapKernelResult {
  /** `col4row[i]`: column matched to row i. */
  col4row: Int32Array;
  /** `row4col[j]`: row matched to column j, or -1. */
  row4col: Int32Array;
  /** Row potentials. */
  u: Float64Array;
  /** Column potentials. */
  v: Float64Array;
}

const INF = Number.POSITIVE_INFINITY;

/**
 * Exact rectangular LSAP kernel (minimisation) by shortest augmenting paths (Jonker-Volgenant /
 * Crouse 2016, the algorithm of scipy's `linear_sum_assignment`), O(nr^2 nc).
 *
 * `cost` is row-major `nr x nc` with `nr <= nc`; entries are finite or `+Infinity` (forbidden
 * pair). Returns `null` when no assignment avoids every forbidden pair. The input is not modified.
 *
 * Tie-breaking (deterministic): for a square problem a column-reduction start first sets each
 * column's potential to its minimum and matches each column, in increasing column order, to the
 * lowest-index row attaining that minimum if that row is still free. Then every free row, in
 * increasing row order, is augmented by Dijkstra over reduced costs; among columns with equal
 * tentative distance the search takes a free column first (ending the path), then the lowest
 * column index. Consequently a constant matrix gives the identity assignment.
 */
export function lsapKernel(cost: Float64Array, nr: number, nc: number): LsapKernelResult | null {
  const u = new Float64Array(nr);
  const v = new Float64Array(nc);
  const col4row = new Int32Array(nr).fill(-1);
  const row4col = new Int32Array(nc).fill(-1);
  if (nr === 0) return { col4row, row4col, u, v };

  if (nr === nc) {
    // Column reduction: v[j] = min_i cost[i, j] (u = 0 keeps every reduced cost >= 0) and a
    // greedy matching on the tight entries. Only valid for square problems, where every column
    // ends up matched (for rectangular ones the free columns must share one potential).
    const argmin = new Int32Array(nc);
    v.fill(INF);
    for (let i = 0; i < nr; i++) {
      const base = i * nc;
      for (let j = 0; j < nc; j++) {
        const c = cost[base + j] as number;
        if (c < (v[j] as number)) {
          v[j] = c;
          argmin[j] = i;
        }
      }
    }
    for (let j = 0; j < nc; j++) {
      if (v[j] === INF) return null; // a column with every pair forbidden
      const i = argmin[j] as number;
      if (col4row[i] === -1) {
        col4row[i] = j;
        row4col[j] = i;
      }
    }
  }

  const spc = new Float64Array(nc); // shortest path costs to each column
  const path = new Int32Array(nc); // predecessor row of each column on its shortest path
  const remaining = new Int32Array(nc); // unscanned columns first, scanned ones at the tail
  const scannedRows = new Int32Array(nr);

  for (let curRow = 0; curRow < nr; curRow++) {
    if (col4row[curRow] !== -1) continue;
    for (let t = 0; t < nc; t++) remaining[t] = t;
    spc.fill(INF);
    let numRemaining = nc;
    let nScanned = 0;
    let minVal = 0;
    let i = curRow;
    let sink = -1;
    while (sink === -1) {
      scannedRows[nScanned++] = i;
      const base = i * nc;
      const shift = minVal - (u[i] as number);
      let index = -1;
      let lowest = INF;
      let lowestJ = nc;
      let lowestFree = false;
      for (let t = 0; t < numRemaining; t++) {
        const j = remaining[t] as number;
        const r = shift + (cost[base + j] as number) - (v[j] as number);
        let d = spc[j] as number;
        if (r < d) {
          path[j] = i;
          spc[j] = r;
          d = r;
        }
        if (d < lowest) {
          lowest = d;
          index = t;
          lowestJ = j;
          lowestFree = row4col[j] === -1;
        } else if (d === lowest && d !== INF) {
          const free = row4col[j] === -1;
          if ((free && !lowestFree) || (free === lowestFree && j < lowestJ)) {
            index = t;
            lowestJ = j;
            lowestFree = free;
          }
        }
      }
      if (index < 0) return null; // every remaining pair is forbidden: infeasible
      minVal = lowest;
      const j = lowestJ;
      const owner = row4col[j] as number;
      if (owner === -1) sink = j;
      else i = owner;
      numRemaining--;
      remaining[index] = remaining[numRemaining] as number;
      remaining[numRemaining] = j;
    }

    // Dual update (keeps reduced costs >= 0 and matched pairs tight).
    u[curRow] = (u[curRow] as number) + minVal;
    for (let k = 1; k < nScanned; k++) {
      const r = scannedRows[k] as number;
      u[r] = (u[r] as number) + minVal - (spc[col4row[r] as number] as number);
    }
    for (let t = numRemaining; t < nc; t++) {
      const j = remaining[t] as number;
      v[j] = (v[j] as number) - (minVal - (spc[j] as number));
    }

    // Augment along the path back to curRow.
    let j = sink;
    for (;;) {
      const r = path[j] as number;
      row4col[j] = r;
      const prev = col4row[r] as number;
      col4row[r] = j;
      j = prev;
      if (r === curRow) break;
    }
  }
  return { col4row, row4col, u, v };
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
    const s = maximize ? -1 : 1;
    const B = 32;
    for (let i0 = 0; i0 < m; i0 += B) {
      const i1 = Math.min(i0 + B, m);
      for (let j0 = 0; j0 < n; j0 += B) {
        const j1 = Math.min(j0 + B, n);
        for (let i = i0; i < i1; i++)
          for (let j = j0; j < j1; j++) work[j * m + i] = s * (a[i * n + j] as number);
      }
    }
  }

  const res = lsapKernel(work, nr, nc);
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
