import type { Matrix} from '@basis/tensor';
import { BasisError, matmul, svd } from '@basis/tensor';
import { centred, centredCross, centredScale, centredSquares, maxAbsOf, normalisedPair } from '../prep.js';
import { chordFrom, columnMoments } from '../moments.js';
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
  return Math.min(1, nuclearSimilarity(X, Y, 'procrustes.similarity'));
}

/** `||Xcᵀ Yc||_*` (the sum of the singular values of the shared centred product), unclamped. */
function nuclear(X: Matrix, Y: Matrix): number {
  const s = svd(centredCross(X, Y), { computeUV: false }).s;
  let nuc = 0;
  for (let i = 0; i < s.length; i++) nuc += s[i] as number;
  return nuc;
}

/** `||Xnᵀ Yn||_*` of the centred, Frobenius-normalised pair, unclamped. */
function nuclearSimilarity(X: Matrix, Y: Matrix, metric: string): number {
  const { ax, ay } = normalisedPair(X, Y, metric);
  return nuclear(X, Y) * ax * ay;
}

/**
 * Procrustes angle `arccos(similarity)`, evaluated stably as `2 asin(r/2)` with `r` the residual
 * `||Xn Q* - Yn||_F` at the optimal rotation (Xn, Yn centred, normalised, zero-padded; the
 * normalisation is applied as factors, not as copies).
 */
export function procrustesAngularKernel(X: Matrix, Y: Matrix): number {
  // ||Xn Q* - Yn||² = 2 - 2 ||Xnᵀ Yn||_*: no rotation or N x p pass unless that cancels
  const chord = chordFrom(2, nuclearSimilarity(X, Y, 'procrustes.angular'));
  if (chord !== undefined) return chordToAngle(chord);
  // the residual uses the centred copies: its normalisation must come from them too (see permutation)
  const Xp = padColumns(centred(X), Math.max(X.cols, Y.cols));
  const Yp = padColumns(centred(Y), Math.max(X.cols, Y.cols));
  const { ax, ay } = normalisedPair(X, Y, 'procrustes.angular', true);
  const p = Xp.cols;
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
  if (columnMoments(X).raw && columnMoments(Y).raw) {
    // moment route (unit scales): min_Q ||pad(Xc) - pad(Yc) Q||² = ||Xc||² + ||Yc||² - 2 ||Xcᵀ Yc||_*
    const sx = centredSquares(X);
    const sy = centredSquares(Y);
    const chord = chordFrom(sx + sy, nuclear(X, Y));
    if (chord !== undefined) return chord;
  }
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
  family: 'alignment',
  costClass: 'N·d²',
  // NBS (normalized Bures similarity, Tang et al. 2020) is this value (fixtures README)
  aliases: ['nbs'],
  title: 'Orthogonal Procrustes similarity: nuclear norm of Xnᵀ Yn (centred, unit Frobenius norm)',
  kind: 'similarity',
  range: [0, 1],
  invariances: ['rotation', 'permutation', 'isotropic-scale', 'translation'],
  compute: procrustesSimilarityKernel,
};

export const procrustesAngular: MetricDefinition = {
  ...shared,
  id: 'procrustes.angular',
  family: 'alignment',
  costClass: 'N·d²',
  title: 'Orthogonal Procrustes angular distance arccos(similarity), radians',
  kind: 'distance',
  range: [0, Math.PI / 2],
  invariances: ['rotation', 'permutation', 'isotropic-scale', 'translation'],
  compute: procrustesAngularKernel,
};

export const procrustesEuclidean: MetricDefinition = {
  ...shared,
  id: 'procrustes.euclidean',
  family: 'alignment',
  costClass: 'N·d²',
  title: 'Orthogonal Procrustes Euclidean distance of the centred (not normalised) data',
  kind: 'distance',
  range: [0, Infinity],
  invariances: ['rotation', 'permutation', 'translation'],
  compute: procrustesEuclideanKernel,
};
