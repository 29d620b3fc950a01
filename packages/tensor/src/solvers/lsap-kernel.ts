// The JavaScript LSAP kernel (shortest augmenting paths), the reference that the WebAssembly
// kernel of lsap-wasm.ts reproduces bit for bit, and the column-reduction start both share.

const INF = Number.POSITIVE_INFINITY;

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

  if (nr === nc && !columnReductionStart(cost, 0, nc, nr, nc, v, col4row, row4col)) return null;

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
 * The column-reduction start of a square problem (nr === nc): sets `v[j]` to the minimum of
 * column j (u = 0 keeps every reduced cost >= 0) and matches each column, in increasing order, to
 * the lowest-index row attaining that minimum if that row is still free. Only valid for square
 * problems, where every column ends up matched (for rectangular ones the free columns must share
 * one potential). `cost[off + i * stride + j]` is entry (i, j). Returns false when a column has
 * every pair forbidden (the problem is infeasible).
 */
export function columnReductionStart(
  cost: Float64Array,
  off: number,
  stride: number,
  nr: number,
  nc: number,
  v: Float64Array,
  col4row: Int32Array,
  row4col: Int32Array,
): boolean {
  const argmin = new Int32Array(nc);
  v.fill(INF, 0, nc);
  for (let i = 0; i < nr; i++) {
    const base = off + i * stride;
    for (let j = 0; j < nc; j++) {
      const c = cost[base + j] as number;
      if (c < (v[j] as number)) {
        v[j] = c;
        argmin[j] = i;
      }
    }
  }
  return matchColumnMinima(v, argmin, nc, col4row, row4col);
}

/**
 * The matching step of {@link columnReductionStart}, given the column minima `v` and the lowest
 * row `argmin[j]` attaining each: false if a column has every pair forbidden.
 */
export function matchColumnMinima(v: Float64Array, argmin: ArrayLike<number>, nc: number, col4row: Int32Array, row4col: Int32Array): boolean {
  for (let j = 0; j < nc; j++) {
    if (v[j] === INF) return false; // a column with every pair forbidden
    const i = argmin[j] as number;
    if (col4row[i] === -1) {
      col4row[i] = j;
      row4col[j] = i;
    }
  }
  return true;
}
