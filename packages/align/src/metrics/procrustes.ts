import type { Matrix} from '@basis/tensor';
import { BasisError, matmul, svd } from '@basis/tensor';
import { centred, centredCross, centredScale, maxAbsOf, normalisedPair } from '../prep.js';
import { chordToAngle, padColumns, padTo, residualNorm } from '../util.js';
import type { MetricDefinition } from '../types.js';

/**
 * The orthogonal Q (p x p) maximising `<A Q, B>_F` for A, B with p columns: `Q = U Vᵀ` from the
 * SVD of `Aᵀ B` (square, so the thin SVD is complete).
 */
function procrustesRotation(AtB: Matrix): Matrix {
  const { U, V } = svd(AtB);
  return matmul(U, V.transpose());
}

/** `||Xnᵀ Yn||_*`, the Procrustes similarity of centred, normalised X and Y (zero padding to equal widths does not change it). */
export function procrustesSimilarityKernel(X: Matrix, Y: Matrix): number {
  const { ax, ay } = normalisedPair(X, Y, 'procrustes.similarity');
  const s = svd(centredCross(X, Y), { computeUV: false }).s;
  let nuc = 0;
  for (let i = 0; i < s.length; i++) nuc += s[i] as number;
  return Math.min(1, nuc * ax * ay);
}

/**
 * Procrustes angle `arccos(similarity)`, evaluated stably as `2 asin(r/2)` with `r` the residual
 * `||Xn Q* - Yn||_F` at the optimal rotation (Xn, Yn centred, normalised, zero-padded; the
 * normalisation is applied as factors, not as copies).
 */
export function procrustesAngularKernel(X: Matrix, Y: Matrix): number {
  const { Xc, Yc, ax, ay } = normalisedPair(X, Y, 'procrustes.angular');
  const p = Math.max(X.cols, Y.cols);
  const Xp = padColumns(Xc, p);
  const Yp = padColumns(Yc, p);
  // The optimal rotation of the scaled pair equals that of the unscaled one; pad(Xc)ᵀ pad(Yc) is
  // the zero-padded Xcᵀ Yc.
  const Q = procrustesRotation(padTo(centredCross(X, Y), p, p));
  return chordToAngle(residualNorm(matmul(Xp, Q), Yp, ax, ay));
}

/**
 * `min_Q ||pad(Xc) - pad(Yc) Q||_F`, evaluated as the residual at the optimum. The centred copies
 * carry exact power-of-two scales at extreme magnitudes (see `centred`); the rotation does not
 * depend on them and the residual is formed relative to the larger one.
 */
export function procrustesEuclideanKernel(X: Matrix, Y: Matrix): number {
  const Xc = centred(X);
  const Yc = centred(Y);
  const sx = centredScale(X);
  const sy = centredScale(Y);
  const top = Math.max(sx, sy);
  const p = Math.max(X.cols, Y.cols);
  const Xp = padColumns(Xc, p);
  const Yp = padColumns(Yc, p);
  const Q = procrustesRotation(padTo(centredCross(X, Y).transpose(), p, p));
  const r = top * residualNorm(Xp, matmul(Yp, Q), sx / top, sy / top);
  if (r === Infinity) {
    throw new BasisError(
      'INVALID_ARGUMENT',
      `procrustes.euclidean: the distance exceeds the largest float64 (~1.8e308) at the scale of these inputs (max |X| = ${maxAbsOf(X)}, max |Y| = ${maxAbsOf(Y)}); rescale the activations or use a scale-invariant metric such as procrustes.angular`,
    );
  }
  return r;
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
