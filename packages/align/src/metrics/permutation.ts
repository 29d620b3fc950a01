import { linearSumAssignment, type Matrix } from '@basis/tensor';
import { centred, centredCross, normalisedPair } from '../prep.js';
import { chordFrom } from '../moments.js';
import { chordToAngle, matchingResidual } from '../util.js';
import type { MetricDefinition } from '../types.js';

/** Scales every entry of a (small, d x d) matrix in place and returns it. */
function scaleInPlace(S: Matrix, c: number): Matrix {
  for (let k = 0; k < S.data.length; k++) S.data[k] = (S.data[k] as number) * c;
  return S;
}

interface Matched {
  similarity: number;
  /** `||Xn P - Yn||_F` over the zero-padded matrices; computed only when asked for. */
  residual: () => number;
}

/**
 * Best unit-to-unit matching of centred, Frobenius-normalised X and Y: the assignment maximising
 * `sum_i S[i, pi(i)]` with `S = Xnᵀ Yn` (rectangular when widths differ), and the residual
 * `||Xn P - Yn||_F` over the zero-padded matrices (unmatched columns count with their own norm).
 * `S` is formed as `Xcᵀ Yc / (||Xc|| ||Yc||)`, so no normalised N x d copies are made.
 */
function matched(X: Matrix, Y: Matrix, metric: string): Matched {
  const { ax, ay } = normalisedPair(X, Y, metric);
  const S = scaleInPlace(centredCross(X, Y).clone(), ax * ay);
  const { rowInd, colInd } = linearSumAssignment(S, { maximize: true });
  let similarity = 0;
  for (let k = 0; k < rowInd.length; k++) similarity += S.get(rowInd[k] as number, colInd[k] as number);
  const residual = (): number => {
    // unit-Frobenius sides: ||Xn P - Yn||² = 2 - 2 similarity (zero padding adds nothing), unless
    // that cancels; then entry by entry on the centred copies, normalised by their own norms
    const chord = chordFrom(2, similarity);
    if (chord !== undefined) return chord;
    const c = normalisedPair(X, Y, metric, true);
    return matchingResidual(centred(X), centred(Y), rowInd, colInd, c.ax, c.ay);
  };
  return { similarity: Math.max(-1, Math.min(1, similarity)), residual };
}

const shared = {
  widths: 'rectangular-assignment',
  minRows: 3,
  symmetric: true,
  prepare: (X: Matrix) => void centred(X),
  invariances: ['permutation', 'isotropic-scale', 'translation'],
} as const;

export const permutationSimilarity: MetricDefinition = {
  ...shared,
  id: 'permutation.similarity',
  family: 'alignment',
  costClass: 'N·d²',
  title: 'Best one-to-one unit matching: max over assignments of sum S[i, pi(i)], S = Xnᵀ Yn',
  kind: 'similarity',
  range: [-1, 1],
  compute: (X, Y) => matched(X, Y, 'permutation.similarity').similarity,
};

export const permutationAngular: MetricDefinition = {
  ...shared,
  id: 'permutation.angular',
  family: 'alignment',
  costClass: 'N·d²',
  title: 'Permutation angular distance arccos(permutation.similarity), radians',
  kind: 'distance',
  range: [0, Math.PI],
  compute: (X, Y) => chordToAngle(matched(X, Y, 'permutation.angular').residual()),
};
