// Row-pair geometry shared by the N x N survey measures (rsm.norm, dcor, stat.uniformity,
// stat.intrinsic_dim, imd) and by the cosine neighbourhoods of the knn.* ids.
//
// Euclidean distances. The definitions take distances between rows computed directly,
// `sqrt(sum_k (x_ik - x_jk)^2)`, not from a Gram matrix: the Gram form `|x_i|² + |x_j|² - 2 x_i·x_j`
// cancels for close rows. Here the engine's product screens all pairs in row blocks (on the
// centred copy, which keeps |x_i|² small), and every pair whose Gram form has cancelled — its value
// below a quarter of `|x_i|² + |x_j|²` — is recomputed directly from the raw rows. The Gram form of
// the remaining pairs loses at most ~4 (d + 2) ulps (a factor 4 over the direct sum's own
// worst case), so every distance matches the direct computation to ~1e-13 relative; the two
// nearest rows (TwoNN) and the k nearest (imd) are always taken from direct values, with every
// candidate within the screen's rounding bound recomputed, so ties go to the smaller index as in
// the definitions.
//
// Memory: a block of 256 rows against all N at a time (B x N products), never N x N here.
import { Matrix, matmul } from '@basis/tensor';
import { cached, centred, centredScale, prescaled } from '../prep.js';

/** Rows per block of the N x N passes. */
export const BLOCK_ROWS = 256;
const EPS = 2 ** -52;
/** Screened pairs below this fraction of `|x_i|² + |x_j|²` (centred) are recomputed directly. */
const CANCEL = 0.25;

/** Counts of the neighbour computations (tests check that audits do them once per layer). */
export const neighbourCounters = { cosine: 0, euclidean: 0 };

/** A layer's row geometry: raw rows (exactly prescaled), the centred copy and its row norms. */
export interface RowGeometry {
  readonly n: number;
  readonly d: number;
  /** X / rawScale (an exact power-of-two scaling; X itself unless X is extreme). */
  readonly raw: Float64Array;
  /** The power of two that divides X in `raw`: true distances are rawScale x the raw-unit ones. */
  readonly rawScale: number;
  /** The centred copy of X (its own power-of-two scale, see prep.ts). */
  readonly Zc: Matrix;
  /** Squared Euclidean norms of the rows of Zc. */
  readonly sq: Float64Array;
  /** Largest entry of sq. */
  readonly maxSq: number;
  /** Converts squared distances of Zc's units to raw units: (centredScale / rawScale)², exact. */
  readonly toRaw: number;
}

/** The {@link RowGeometry} of X (the centred copy and the row norms are memoised on X). */
export function rowGeometry(X: Matrix): RowGeometry {
  const Zc = centred(X);
  const { M, scale } = prescaled(X);
  const n = X.rows;
  const d = X.cols;
  const sq = cached(X, 'pairwise:centredRowSquares', () => {
    const out = new Float64Array(n);
    const z = Zc.data;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = i * d; k < (i + 1) * d; k++) s += (z[k] as number) * (z[k] as number);
      out[i] = s;
    }
    return out;
  });
  let maxSq = 0;
  for (let i = 0; i < n; i++) if ((sq[i] as number) > maxSq) maxSq = sq[i] as number;
  const ratio = centredScale(X) / scale;
  return { n, d, raw: M.data, rawScale: scale, Zc, sq, maxSq, toRaw: ratio * ratio };
}

/** Squared distance between raw rows i and j, computed directly (differences, then squares). */
export function directSquared(raw: Float64Array, d: number, i: number, j: number): number {
  let s = 0;
  const a = i * d;
  const b = j * d;
  for (let k = 0; k < d; k++) {
    const t = (raw[a + k] as number) - (raw[b + k] as number);
    s += t * t;
  }
  return s;
}

/** The d x (n - j0) transpose of rows j0..n-1 of a row-major n x d matrix. */
export function transposedRows(A: Matrix, j0: number): Matrix {
  const d = A.cols;
  const m = A.rows - j0;
  const T = new Matrix(d, m);
  const a = A.data;
  const t = T.data;
  for (let j = 0; j < m; j++) {
    const o = (j0 + j) * d;
    for (let k = 0; k < d; k++) t[k * m + j] = a[o + k] as number;
  }
  return T;
}

/**
 * Squared distances (raw units) between rows i0..i1-1 and rows j0..n-1, row-major
 * `(i1 - i0) x (n - j0)`; `ZT` is {@link transposedRows}(g.Zc, j0). The diagonal is exactly 0.
 */
export function squaredDistanceBlock(g: RowGeometry, i0: number, i1: number, j0: number, ZT: Matrix): Float64Array {
  const { d, n, sq, raw, toRaw } = g;
  const b = i1 - i0;
  const m = n - j0;
  const G = matmul(new Matrix(b, d, g.Zc.data.subarray(i0 * d, i1 * d)), ZT).data;
  for (let r = 0; r < b; r++) {
    const i = i0 + r;
    const si = sq[i] as number;
    const row = r * m;
    for (let c = 0; c < m; c++) {
      const j = j0 + c;
      if (j === i) {
        G[row + c] = 0;
        continue;
      }
      const s = si + (sq[j] as number);
      const v = s - 2 * (G[row + c] as number);
      G[row + c] = v < CANCEL * s ? directSquared(raw, d, i, j) : v * toRaw;
    }
  }
  return G;
}

/**
 * Calls `fn` for each block of rows with their squared distances (raw units): with `upper`, to
 * rows j >= i0 (every unordered pair i < j appears once, in the block of its smaller index, with
 * the diagonal and j < i of the block's first rows also present); otherwise to all rows.
 */
export function forEachDistanceBlock(
  g: RowGeometry,
  upper: boolean,
  fn: (i0: number, i1: number, j0: number, D2: Float64Array) => void,
): void {
  const full = upper ? undefined : transposedRows(g.Zc, 0);
  for (let i0 = 0; i0 < g.n; i0 += BLOCK_ROWS) {
    const i1 = Math.min(g.n, i0 + BLOCK_ROWS);
    const j0 = upper ? i0 : 0;
    fn(i0, i1, j0, squaredDistanceBlock(g, i0, i1, j0, full ?? transposedRows(g.Zc, j0)));
  }
}

/** Max-heap of the k smallest values seen (values only). */
class SmallestK {
  readonly h: Float64Array;
  size = 0;
  constructor(readonly k: number) {
    this.h = new Float64Array(k);
  }
  reset(): void {
    this.size = 0;
  }
  push(v: number): void {
    const h = this.h;
    if (this.size < this.k) {
      let c = this.size++;
      h[c] = v;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if ((h[p] as number) >= (h[c] as number)) break;
        const t = h[p] as number;
        h[p] = h[c] as number;
        h[c] = t;
        c = p;
      }
    } else if (v < (h[0] as number)) {
      h[0] = v;
      let c = 0;
      for (;;) {
        const l = 2 * c + 1;
        const r = l + 1;
        let m = c;
        if (l < this.k && (h[l] as number) > (h[m] as number)) m = l;
        if (r < this.k && (h[r] as number) > (h[m] as number)) m = r;
        if (m === c) break;
        const t = h[m] as number;
        h[m] = h[c] as number;
        h[c] = t;
        c = m;
      }
    }
  }
  /** The largest of the k smallest (the k-th smallest). */
  top(): number {
    return this.h[0] as number;
  }
}

/**
 * Row i's neighbours from the screen's candidates (at least k): `cand` sorted by their `exact`
 * values (`'smallest'` first for distances, `'largest'` first for cosines; ties to the smaller
 * index), the first k written to `idx` and `values` at `i * k`.
 */
function writeNearest(
  cand: number[],
  exact: Map<number, number>,
  first: 'smallest' | 'largest',
  i: number,
  k: number,
  idx: Int32Array | Float64Array,
  values: Float64Array,
): void {
  const sign = first === 'smallest' ? 1 : -1;
  cand.sort((p, q) => sign * ((exact.get(p) as number) - (exact.get(q) as number)) || p - q);
  for (let t = 0; t < k; t++) {
    const j = cand[t] as number;
    idx[i * k + t] = j;
    values[i * k + t] = exact.get(j) as number;
  }
}

/**
 * For every row, its k nearest other rows (Euclidean, ties to the smaller index) and their
 * squared distances (raw units, computed directly), nearest first: `idx[i * k + t]`, `d2[i * k + t]`.
 */
export function euclideanNeighbours(g: RowGeometry, k: number): { idx: Int32Array; d2: Float64Array } {
  neighbourCounters.euclidean++;
  const { n, d, raw, sq, maxSq, toRaw } = g;
  const idx = new Int32Array(n * k);
  const d2 = new Float64Array(n * k);
  const heap = new SmallestK(k);
  const cand: number[] = [];
  const exact = new Map<number, number>();
  forEachDistanceBlock(g, false, (i0, i1, _j0, D2) => {
    for (let i = i0; i < i1; i++) {
      const row = (i - i0) * n;
      heap.reset();
      for (let j = 0; j < n; j++) if (j !== i) heap.push(D2[row + j] as number);
      // rounding of a screened value (raw units): a few ulps of d (|x_i|² + |x_j|²) of the centred rows
      const tol = 8 * (d + 4) * EPS * ((sq[i] as number) + maxSq) * toRaw;
      const bound = heap.top() + 2 * tol;
      cand.length = 0;
      exact.clear();
      for (let j = 0; j < n; j++) {
        if (j !== i && (D2[row + j] as number) <= bound) {
          cand.push(j);
          exact.set(j, directSquared(raw, d, i, j));
        }
      }
      writeNearest(cand, exact, 'smallest', i, k, idx, d2);
    }
  });
  return { idx, d2 };
}

/** Raw rows of X (divided by `scale`, an exact power of two; X itself unless extreme) with their Euclidean norms, computed directly (memoised). */
export function rowNorms(X: Matrix): { raw: Float64Array; norms: Float64Array; scale: number } {
  const { M, scale } = prescaled(X);
  const norms = cached(X, 'pairwise:rawRowNorms', () => {
    const n = X.rows;
    const d = X.cols;
    const a = M.data;
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = i * d; k < (i + 1) * d; k++) s += (a[k] as number) * (a[k] as number);
      out[i] = Math.sqrt(s);
    }
    return out;
  });
  return { raw: M.data, norms, scale };
}

/** `cos(x_i, x_j)` of raw rows, computed directly; 0 when either row is zero. */
export function directCosine(raw: Float64Array, norms: Float64Array, d: number, i: number, j: number): number {
  const ni = norms[i] as number;
  const nj = norms[j] as number;
  if (ni === 0 || nj === 0) return 0;
  let s = 0;
  const a = i * d;
  const b = j * d;
  for (let t = 0; t < d; t++) s += (raw[a + t] as number) * (raw[b + t] as number);
  return s / ni / nj;
}

/**
 * The cosine neighbourhoods of the knn.* ids: for each row i, the k rows j != i with the largest
 * `cos(x_i, x_j)` (uncentred rows; ties to the smaller j), nearest first, with those cosines,
 * as `idx[i * k + t]` (float64, so that audits can share it with worker threads) and `cos`. Memoised
 * on X per k, so an audit computes it once per layer for every knn.* id and every pair.
 */
export function cosineNeighbours(X: Matrix, k: number): { idx: Float64Array; cos: Float64Array } {
  return cached(X, `cosineNeighbours:${k}`, () => {
    neighbourCounters.cosine++;
    const n = X.rows;
    const d = X.cols;
    const { raw, norms } = rowNorms(X);
    // unit rows (zero rows stay zero) for the screen
    const U = new Matrix(n, d);
    const u = U.data;
    for (let i = 0; i < n; i++) {
      const ni = norms[i] as number;
      if (ni === 0) continue;
      for (let t = i * d; t < (i + 1) * d; t++) u[t] = (raw[t] as number) / ni;
    }
    const UT = transposedRows(U, 0);
    const idx = new Float64Array(n * k);
    const cos = new Float64Array(n * k);
    const heap = new SmallestK(k); // of negated cosines
    const tol = 8 * (d + 4) * EPS;
    const cand: number[] = [];
    const exact = new Map<number, number>();
    for (let i0 = 0; i0 < n; i0 += BLOCK_ROWS) {
      const i1 = Math.min(n, i0 + BLOCK_ROWS);
      const C = matmul(new Matrix(i1 - i0, d, u.subarray(i0 * d, i1 * d)), UT).data;
      for (let i = i0; i < i1; i++) {
        const row = (i - i0) * n;
        heap.reset();
        for (let j = 0; j < n; j++) if (j !== i) heap.push(-(C[row + j] as number));
        const bound = -heap.top() - 2 * tol;
        cand.length = 0;
        exact.clear();
        for (let j = 0; j < n; j++) {
          if (j !== i && (C[row + j] as number) >= bound) {
            cand.push(j);
            exact.set(j, directCosine(raw, norms, d, i, j));
          }
        }
        writeNearest(cand, exact, 'largest', i, k, idx, cos);
      }
    }
    return { idx, cos };
  });
}
