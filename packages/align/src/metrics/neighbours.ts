import { BasisError, type Matrix } from '@basis/tensor';
import { assertNotConstant } from '../validate.js';
import { sumSquares } from '../util.js';
import { centred } from '../prep.js';
import type { MetricDefinition, ResolvedOptions } from '../types.js';

/** Number of neighbours of `knn.mutual`. */
export const MUTUAL_KNN_K = 10;

/** Squared Euclidean distances between all rows (N x N, row-major). */
function rowDistances(X: Matrix): Float64Array {
  const n = X.rows;
  const d = X.cols;
  const D = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) {
        const t = (X.data[i * d + k] as number) - (X.data[j * d + k] as number);
        s += t * t;
      }
      D[i * n + j] = s;
      D[j * n + i] = s;
    }
  }
  return D;
}

/** For each row, its k nearest other rows (ties broken by lower index). */
function neighbourSets(X: Matrix, k: number): Uint8Array {
  const n = X.rows;
  const D = rowDistances(X);
  const mark = new Uint8Array(n * n);
  const idx = new Int32Array(n - 1);
  for (let i = 0; i < n; i++) {
    let c = 0;
    for (let j = 0; j < n; j++) if (j !== i) idx[c++] = j;
    const row = i * n;
    const sorted = Array.from(idx).sort((a, b) => (D[row + a] as number) - (D[row + b] as number) || a - b);
    for (let t = 0; t < k; t++) mark[row + (sorted[t] as number)] = 1;
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

/** Average ranks (1-based; ties get the mean of their ranks). */
function ranks(v: Float64Array): Float64Array {
  const order = Array.from(v.keys()).sort((a, b) => (v[a] as number) - (v[b] as number));
  const r = new Float64Array(v.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && v[order[j + 1] as number] === v[order[i] as number]) j++;
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
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let k = 0; k < d; k++) m += X.data[i * d + k] as number;
    m /= d;
    let s = 0;
    for (let k = 0; k < d; k++) {
      const v = (X.data[i * d + k] as number) - m;
      Z[i * d + k] = v;
      s += v * v;
    }
    const norm = Math.sqrt(s);
    for (let k = 0; k < d; k++) Z[i * d + k] = norm === 0 ? 0 : (Z[i * d + k] as number) / norm;
  }
  const out = new Float64Array((n * (n - 1)) / 2);
  let t = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let c = 0;
      for (let k = 0; k < d; k++) c += (Z[i * d + k] as number) * (Z[j * d + k] as number);
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
  title: 'RSA: Spearman correlation of the correlation-distance RDMs',
  kind: 'similarity',
  range: [-1, 1],
  invariances: ['permutation', 'isotropic-scale'],
  widths: 'any',
  minRows: 3,
  symmetric: true,
  compute: rsaSpearmanKernel,
};
