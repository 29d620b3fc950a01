import type { Matrix } from '@basis/tensor';
import { crossprod, matmul, svd } from '@basis/tensor';
import { centred, normalisedPair } from '../prep.js';
import { chordToAngle, padColumns, residualNorm } from '../util.js';
import type { MetricDefinition } from '../types.js';

/**
 * The orthogonal Q (p x p) maximising `<A Q, B>_F` for A, B with p columns: `Q = U Vᵀ` from the
 * SVD of `Aᵀ B` (square, so the thin SVD is complete).
 */
function procrustesRotation(A: Matrix, B: Matrix): Matrix {
  const { U, V } = svd(crossprod(A, B));
  return matmul(U, V.transpose());
}

/** Centred, Frobenius-normalised copies of X and Y, zero-padded to p = max widths. */
function paddedPair(X: Matrix, Y: Matrix, metric: string): { Xn: Matrix; Yn: Matrix } {
  const { Xn, Yn } = normalisedPair(X, Y, metric);
  const p = Math.max(X.cols, Y.cols);
  return { Xn: padColumns(Xn, p), Yn: padColumns(Yn, p) };
}

/** `||Xnᵀ Yn||_*`, the Procrustes similarity of centred, normalised X and Y. */
export function procrustesSimilarityKernel(X: Matrix, Y: Matrix): number {
  const { Xn, Yn } = paddedPair(X, Y, 'procrustes.similarity');
  const s = svd(crossprod(Xn, Yn), { computeUV: false }).s;
  let nuc = 0;
  for (let i = 0; i < s.length; i++) nuc += s[i] as number;
  return Math.min(1, nuc);
}

/**
 * Procrustes angle `arccos(similarity)`, evaluated stably as `2 asin(r/2)` with `r` the residual
 * `||Xn Q* - Yn||_F` at the optimal rotation.
 */
export function procrustesAngularKernel(X: Matrix, Y: Matrix): number {
  const { Xn, Yn } = paddedPair(X, Y, 'procrustes.angular');
  const Q = procrustesRotation(Xn, Yn);
  return chordToAngle(residualNorm(matmul(Xn, Q), Yn));
}

/** `min_Q ||pad(Xc) - pad(Yc) Q||_F`, evaluated as the residual at the optimum. */
export function procrustesEuclideanKernel(X: Matrix, Y: Matrix): number {
  const Xc = centred(X);
  const Yc = centred(Y);
  const p = Math.max(X.cols, Y.cols);
  const Xp = padColumns(Xc, p);
  const Yp = padColumns(Yc, p);
  const Q = procrustesRotation(Yp, Xp);
  return residualNorm(Xp, matmul(Yp, Q));
}

const shared = {
  widths: 'zero-padding',
  minRows: 3,
  symmetric: true,
  prepare: (X: Matrix) => void centred(X),
} as const;

export const procrustesSimilarity: MetricDefinition = {
  ...shared,
  id: 'procrustes.similarity',
  title: 'Orthogonal Procrustes similarity: nuclear norm of Xnᵀ Yn (centred, unit Frobenius norm)',
  kind: 'similarity',
  range: [0, 1],
  invariances: ['rotation', 'permutation', 'isotropic-scale', 'translation'],
  compute: procrustesSimilarityKernel,
};

export const procrustesAngular: MetricDefinition = {
  ...shared,
  id: 'procrustes.angular',
  title: 'Orthogonal Procrustes angular distance arccos(similarity), radians',
  kind: 'distance',
  range: [0, Math.PI / 2],
  invariances: ['rotation', 'permutation', 'isotropic-scale', 'translation'],
  compute: procrustesAngularKernel,
};

export const procrustesEuclidean: MetricDefinition = {
  ...shared,
  id: 'procrustes.euclidean',
  title: 'Orthogonal Procrustes Euclidean distance of the centred (not normalised) data',
  kind: 'distance',
  range: [0, Infinity],
  invariances: ['rotation', 'permutation', 'translation'],
  compute: procrustesEuclideanKernel,
};
