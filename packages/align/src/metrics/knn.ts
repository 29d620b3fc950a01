// Cosine k-nearest-neighbour measures of the survey (fixtures README, "kNN neighbourhoods"):
// knn.jaccard, knn.second_order_cosine, knn.rank, knn.rank_jaccard. All four read the same
// per-layer neighbour lists (pairwise.ts, memoised on the input), so an audit computes them once
// per layer whatever the number of pairs and knn.* ids.
import { BasisError, type Matrix } from '@basis/tensor';
import type { MetricDefinition, MetricOption, ResolvedOptions } from '../types.js';
import { cosineNeighbours, directCosine, rowNorms } from './pairwise.js';

/** Default neighbourhood size of the knn.* survey measures. */
export const SURVEY_KNN_K = 10;

const K_OPTION: MetricOption = { name: 'k', type: 'integer', default: SURVEY_KNN_K, min: 1, description: 'neighbours per input (cosine, uncentred rows); needs N >= k + 2' };

function kOf(id: string, X: Matrix, o: ResolvedOptions): number {
  const k = o['k'] as number;
  if (X.rows < k + 2) throw new BasisError('TOO_SMALL', `${id} with k = ${k} needs at least ${k + 2} rows (inputs), got ${X.rows}; lower k or add inputs`);
  return k;
}

/** 1/1 + 1/2 + ... + 1/t. */
function harmonic(t: number): number {
  let s = 0;
  for (let i = 1; i <= t; i++) s += 1 / i;
  return s;
}

/**
 * Per input i: `m_i = |N_X(i) & N_Y(i)|`, the Jaccard index and the rank similarity `RS_i`
 * (fixtures README), from the two layers' neighbour lists.
 */
function perInput(X: Matrix, Y: Matrix, k: number, want: { jaccard: boolean; rank: boolean }): { jaccard: Float64Array; rank: Float64Array } {
  const n = X.rows;
  const a = cosineNeighbours(X, k).idx;
  const b = cosineNeighbours(Y, k).idx;
  const jaccard = new Float64Array(want.jaccard ? n : 0);
  const rank = new Float64Array(want.rank ? n : 0);
  const posB = new Map<number, number>();
  const v = Array.from({ length: k + 1 }, (_, t) => harmonic(t));
  for (let i = 0; i < n; i++) {
    posB.clear();
    for (let t = 0; t < k; t++) posB.set(b[i * k + t] as number, t + 1);
    let m = 0;
    let rs = 0;
    // in the order of X's ranks, so that identical lists sum exactly as the normaliser v_m
    for (let t = 0; t < k; t++) {
      const r2 = posB.get(a[i * k + t] as number);
      if (r2 === undefined) continue;
      m++;
      const r1 = t + 1;
      rs += 2 / ((1 + Math.abs(r1 - r2)) * (r1 + r2));
    }
    if (want.jaccard) jaccard[i] = m / (2 * k - m);
    if (want.rank) rank[i] = m === 0 ? 0 : rs / (v[m] as number);
  }
  return { jaccard, rank };
}

function mean(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] as number;
  return s / a.length;
}

/** Mean Jaccard index of the two cosine k-NN sets of each input. */
export function knnJaccardKernel(X: Matrix, Y: Matrix, o: ResolvedOptions): number {
  const k = kOf('knn.jaccard', X, o);
  return mean(perInput(X, Y, k, { jaccard: true, rank: false }).jaccard);
}

/** Mean rank similarity of the shared neighbours (survey / ReSi RankSimilarity). */
export function knnRankKernel(X: Matrix, Y: Matrix, o: ResolvedOptions): number {
  const k = kOf('knn.rank', X, o);
  return mean(perInput(X, Y, k, { jaccard: false, rank: true }).rank);
}

/** Mean over inputs of Jaccard index times rank similarity. */
export function knnRankJaccardKernel(X: Matrix, Y: Matrix, o: ResolvedOptions): number {
  const k = kOf('knn.rank_jaccard', X, o);
  const { jaccard, rank } = perInput(X, Y, k, { jaccard: true, rank: true });
  let s = 0;
  for (let i = 0; i < jaccard.length; i++) s += (jaccard[i] as number) * (rank[i] as number);
  return s / jaccard.length;
}

/**
 * Second-order cosine similarity (Hamilton et al. 2016): per input, the cosine between its vectors
 * of cosine similarities to the union of its two neighbourhoods, in X and in Y; the mean over inputs.
 */
export function knnSecondOrderCosineKernel(X: Matrix, Y: Matrix, o: ResolvedOptions): number {
  const k = kOf('knn.second_order_cosine', X, o);
  const n = X.rows;
  const nx = cosineNeighbours(X, k);
  const ny = cosineNeighbours(Y, k);
  const gx = rowNorms(X);
  const gy = rowNorms(Y);
  const inX = new Map<number, number>(); // neighbour -> its cosine in X
  const inY = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < n; i++) {
    inX.clear();
    inY.clear();
    for (let t = 0; t < k; t++) {
      inX.set(nx.idx[i * k + t] as number, nx.cos[i * k + t] as number);
      inY.set(ny.idx[i * k + t] as number, ny.cos[i * k + t] as number);
    }
    let ab = 0;
    let aa = 0;
    let bb = 0;
    const add = (a: number, b: number) => {
      ab += a * b;
      aa += a * a;
      bb += b * b;
    };
    for (const [j, a] of inX) add(a, inY.get(j) ?? directCosine(gy.raw, gy.norms, Y.cols, i, j));
    for (const [j, b] of inY) if (!inX.has(j)) add(directCosine(gx.raw, gx.norms, X.cols, i, j), b);
    // a zero vector of cosines (e.g. a zero row) has cosine 0 with anything
    total += aa === 0 || bb === 0 ? 0 : Math.max(-1, Math.min(1, ab / Math.sqrt(aa) / Math.sqrt(bb)));
  }
  return total / n;
}

/** Per-layer work of the knn.* ids: the layer's cosine neighbour lists. */
function prepareNeighbours(X: Matrix, o: ResolvedOptions): void {
  const k = o['k'] as number;
  if (X.rows >= k + 2) cosineNeighbours(X, k);
}

const common = {
  family: 'neighbourhood',
  costClass: 'N²·d',
  kind: 'similarity',
  invariances: ['rotation', 'permutation', 'isotropic-scale'],
  widths: 'any',
  minRows: 3,
  symmetric: true,
  options: [K_OPTION],
  prepare: prepareNeighbours,
} as const;

export const knnJaccard: MetricDefinition = {
  ...common,
  id: 'knn.jaccard',
  title: 'Mean Jaccard index of the cosine k-NN sets (uncentred rows)',
  range: [0, 1],
  compute: knnJaccardKernel,
};

export const knnSecondOrderCosine: MetricDefinition = {
  ...common,
  id: 'knn.second_order_cosine',
  title: 'Second-order cosine similarity over the union of the cosine k-NN sets (Hamilton et al. 2016)',
  range: [-1, 1],
  compute: knnSecondOrderCosineKernel,
};

export const knnRank: MetricDefinition = {
  ...common,
  id: 'knn.rank',
  title: 'Rank similarity of the shared cosine k nearest neighbours',
  range: [0, 1],
  compute: knnRankKernel,
};

export const knnRankJaccard: MetricDefinition = {
  ...common,
  id: 'knn.rank_jaccard',
  title: 'Joint rank and Jaccard similarity of the cosine k-NN sets',
  range: [0, 1],
  compute: knnRankJaccardKernel,
};
