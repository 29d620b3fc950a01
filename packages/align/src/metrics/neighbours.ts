import { BasisError, Matrix, gram, pow2ScaledCopy } from '@basis/tensor';
import { assertNotConstant } from '../validate.js';
import { sumSquares } from '../util.js';
import { centred } from '../prep.js';
import type { MetricDefinition, ResolvedOptions } from '../types.js';

/** Number of neighbours of `knn.mutual`. */
export const MUTUAL_KNN_K = 10;

/** Exact squared distance between rows i and j (the reference arithmetic: differences, then squares). */
function exactDistance(a: Float64Array, d: number, i: number, j: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) {
    const t = (a[i * d + k] as number) - (a[j * d + k] as number);
    s += t * t;
  }
  return s;
}

/**
 * For each row, its k nearest other rows (Euclidean; ties broken by lower index). The N x N
 * screen comes from one Gram product on the engine (`||x_i||² + ||x_j||² - 2 x_i·x_j` of the
 * centred rows, an exact power-of-two prescale first so that no input overflows); every row's
 * candidates within the screen's rounding bound of its k-th smallest value are then ranked by
 * their exact distances, so the sets are those of the direct O(N² d) computation.
 */
function neighbourSets(X: Matrix, k: number): Uint8Array {
  const n = X.rows;
  const d = X.cols;
  const Xc = centred(X); // distances are translation invariant; centring limits cancellation
  const { data: a } = pow2ScaledCopy(Xc.data);
  const Z = new Matrix(n, d, a);
  const G = gram(Z.transpose()).data; // n x n, exactly symmetric
  const sq = new Float64Array(n);
  let maxSq = 0;
  for (let i = 0; i < n; i++) {
    sq[i] = G[i * n + i] as number;
    if ((sq[i] as number) > maxSq) maxSq = sq[i] as number;
  }
  const mark = new Uint8Array(n * n);
  const heap = new Float64Array(k); // max-heap of the k smallest screened distances
  const cand: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = i * n;
    const si = sq[i] as number;
    // k-th smallest screened distance of row i (j != i)
    let size = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const v = si + (sq[j] as number) - 2 * (G[row + j] as number);
      if (size < k) {
        let c = size++;
        heap[c] = v;
        while (c > 0) {
          const p = (c - 1) >> 1;
          if ((heap[p] as number) >= (heap[c] as number)) break;
          const t = heap[p] as number;
          heap[p] = heap[c] as number;
          heap[c] = t;
          c = p;
        }
      } else if (v < (heap[0] as number)) {
        heap[0] = v;
        let c = 0;
        for (;;) {
          const l = 2 * c + 1;
          const r = l + 1;
          let m = c;
          if (l < k && (heap[l] as number) > (heap[m] as number)) m = l;
          if (r < k && (heap[r] as number) > (heap[m] as number)) m = r;
          if (m === c) break;
          const t = heap[m] as number;
          heap[m] = heap[c] as number;
          heap[c] = t;
          c = m;
        }
      }
    }
    // rounding of the screen (Gram form) and of the exact form: a few ulps of d * (|x_i|² + |x_j|²)
    const tol = 8 * (d + 4) * 2 ** -52 * (si + maxSq);
    const bound = (heap[0] as number) + 2 * tol;
    cand.length = 0;
    for (let j = 0; j < n; j++) {
      if (j !== i && si + (sq[j] as number) - 2 * (G[row + j] as number) <= bound) cand.push(j);
    }
    const exact = new Map<number, number>();
    for (const j of cand) exact.set(j, exactDistance(a, d, i, j));
    cand.sort((p, q) => (exact.get(p) as number) - (exact.get(q) as number) || p - q);
    for (let t = 0; t < k; t++) mark[row + (cand[t] as number)] = 1;
  }
  return mark;
}

/**
 * Mutual k-nearest-neighbour alignment (Huh et al. 2024): the mean over inputs of the fraction of
 * an input's k = 10 nearest neighbours (Euclidean, in each representation) that both share.
 */
export function mutualKnnKernel(X: Matrix, Y: Matrix, o: ResolvedOptions = { k: MUTUAL_KNN_K }): number {
  const n = X.rows;
  const k = o['k'] as number;
  if (n < k + 2) throw new BasisError('TOO_SMALL', `knn.mutual with k = ${k} needs at least ${k + 2} rows (inputs), got ${n}`);
  const a = neighbourSets(X, k);
  const b = neighbourSets(Y, k);
  let shared = 0;
  for (let t = 0; t < a.length; t++) if (a[t] === 1 && b[t] === 1) shared++;
  return shared / (n * k);
}

/**
 * The permutation that sorts `v` ascending, stable (equal values keep their index order), with
 * the sorted keys: an LSD radix sort over the IEEE-754 bit patterns made order-preserving (sign
 * bit flipped for non-negative values, all bits inverted for negative ones; -0 counts as 0),
 * four 16-bit passes that carry the keys along so every read is sequential. Linear time: 2M
 * values take ~0.3 s where a comparison argsort takes seconds. No NaN expected.
 */
export function argsortFloat64(v: Float64Array): { order: Uint32Array; hi: Uint32Array; lo: Uint32Array } {
  const n = v.length;
  let hi = new Uint32Array(n);
  let lo = new Uint32Array(n);
  const f = new Float64Array(1);
  const u = new Uint32Array(f.buffer); // little-endian: u[0] low word, u[1] high word
  for (let i = 0; i < n; i++) {
    f[0] = (v[i] as number) + 0; // -0 -> +0
    const h = u[1] as number;
    if (h >>> 31 === 1) {
      hi[i] = ~h >>> 0;
      lo[i] = ~(u[0] as number) >>> 0;
    } else {
      hi[i] = (h | 0x80000000) >>> 0;
      lo[i] = u[0] as number;
    }
  }
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let tOrder = new Uint32Array(n);
  let tHi = new Uint32Array(n);
  let tLo = new Uint32Array(n);
  const count = new Uint32Array(65536);
  for (let pass = 0; pass < 4; pass++) {
    const shift = (pass & 1) * 16;
    const words = pass < 2 ? lo : hi;
    count.fill(0);
    for (let i = 0; i < n; i++) {
      const b = ((words[i] as number) >>> shift) & 0xffff;
      count[b] = (count[b] as number) + 1;
    }
    let sum = 0;
    for (let b = 0; b < 65536; b++) {
      const c = count[b] as number;
      count[b] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const b = ((words[i] as number) >>> shift) & 0xffff;
      const p = count[b] as number;
      count[b] = p + 1;
      tOrder[p] = order[i] as number;
      tHi[p] = hi[i] as number;
      tLo[p] = lo[i] as number;
    }
    [order, tOrder] = [tOrder, order];
    [hi, tHi] = [tHi, hi];
    [lo, tLo] = [tLo, lo];
  }
  return { order, hi, lo };
}

/** Average ranks (1-based; ties get the mean of their ranks). */
function ranks(v: Float64Array): Float64Array {
  const { order, hi, lo } = argsortFloat64(v);
  const n = v.length;
  const r = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && hi[j + 1] === hi[i] && lo[j + 1] === lo[i]) j++;
    const avg = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) r[order[t] as number] = avg;
    i = j + 1;
  }
  return r;
}

function pearsonVec(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] as number;
    mb += b[i] as number;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = (a[i] as number) - ma;
    const y = (b[i] as number) - mb;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return saa === 0 || sbb === 0 ? 0 : sab / Math.sqrt(saa * sbb);
}

/** Upper triangle of the correlation-distance RDM `1 - corr(row_i, row_j)` (rows centred over units). */
function rdm(X: Matrix, name: string): Float64Array {
  const n = X.rows;
  const d = X.cols;
  const Z = new Float64Array(n * d);
  const { data: x } = pow2ScaledCopy(X.data); // exact: correlations are scale invariant; no overflow in the norms
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let k = 0; k < d; k++) m += x[i * d + k] as number;
    m /= d;
    let s = 0;
    for (let k = 0; k < d; k++) {
      const v = (x[i * d + k] as number) - m;
      Z[i * d + k] = v;
      s += v * v;
    }
    const norm = Math.sqrt(s);
    for (let k = 0; k < d; k++) Z[i * d + k] = norm === 0 ? 0 : (Z[i * d + k] as number) / norm;
  }
  // Row correlations as one Gram product of the normalised rows on the engine.
  const C = gram(new Matrix(n, d, Z).transpose()).data;
  const out = new Float64Array((n * (n - 1)) / 2);
  let t = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const c = C[i * n + j] as number;
      // snap to a 1e-12 grid: exact ties (e.g. rows of two units correlate exactly ±1) must stay
      // ties whatever the rounding of the products, or the ranks would depend on the last bits
      out[t++] = Math.round((1 - c) * 1e12) / 1e12;
    }
  }
  assertNotConstant(sumSquares(centred(X)), name, 'rsa.spearman');
  return out;
}

/**
 * Representational similarity analysis: the Spearman correlation between the upper triangles of
 * the two correlation-distance RDMs (Kriegeskorte et al. 2008).
 */
export function rsaSpearmanKernel(X: Matrix, Y: Matrix): number {
  return pearsonVec(ranks(rdm(X, 'X')), ranks(rdm(Y, 'Y')));
}

export const mutualKnn: MetricDefinition = {
  id: 'knn.mutual',
  family: 'neighbourhood',
  costClass: 'N²·d',
  title: 'Mutual k-nearest-neighbour alignment (Euclidean)',
  kind: 'similarity',
  range: [0, 1],
  invariances: ['rotation', 'permutation', 'isotropic-scale', 'translation'],
  widths: 'any',
  minRows: 3,
  symmetric: true,
  options: [{ name: 'k', type: 'integer', default: MUTUAL_KNN_K, min: 1, description: 'neighbours per input' }],
  compute: mutualKnnKernel,
};

export const rsaSpearman: MetricDefinition = {
  id: 'rsa.spearman',
  family: 'rsm',
  costClass: 'N²·d',
  title: 'RSA: Spearman correlation of the correlation-distance RDMs',
  kind: 'similarity',
  range: [-1, 1],
  invariances: ['permutation', 'isotropic-scale'],
  widths: 'any',
  minRows: 3,
  symmetric: true,
  compute: rsaSpearmanKernel,
};
