import { Matrix, exactTransport, linearSumAssignment } from '@basis/tensor';
import { centred, centredNorms, correlations, cosines, rawNorms } from '../prep.js';
import { chordFrom } from '../moments.js';
import { unitMatchingResidual } from '../util.js';
import { assertNotConstant } from '../validate.js';
import type { MetricDefinition, ResolvedOptions } from '../types.js';

/** Mean correlation of the best one-to-one matching of units (Li et al. 2015's perm-corr). */
export function permcorrKernel(X: Matrix, Y: Matrix): number {
  const C = correlations(X, Y);
  const { rowInd, colInd } = linearSumAssignment(C, { maximize: true });
  let s = 0;
  for (let k = 0; k < rowInd.length; k++) s += C.get(rowInd[k] as number, colInd[k] as number);
  return s / rowInd.length;
}

/**
 * G_ReLU-Procrustes (S003 Def. 5.2, centred first as the errata require): one minus the residual
 * of the best unit matching of column-normalised data, over its maximum `2 sqrt(p)`.
 */
export function greluProcrustesKernel(X: Matrix, Y: Matrix, o: ResolvedOptions = { center: true }): number {
  // center: false reproduces S003 Def. 5.2 literally (not translation-invariant; spec errata 0.5.3)
  const plain = o['center'] === false;
  const nx = plain ? rawNorms(X) : centredNorms(X);
  const ny = plain ? rawNorms(Y) : centredNorms(Y);
  // the unit-norm columns Xn = A diag(1/nx) are never formed: S = Xnᵀ Yn is the cosine matrix and
  // the residual applies the factors entry by entry
  assertNotConstant(nonZero(nx), 'X', 'grelu.procrustes');
  assertNotConstant(nonZero(ny), 'Y', 'grelu.procrustes');
  const S = plain ? cosines(X, Y) : correlations(X, Y);
  const { rowInd, colInd } = linearSumAssignment(S, { maximize: true });
  const p = Math.max(X.cols, Y.cols);
  // unit columns: the residual is sum over matched (|xn_i|² + |yn_j|² - 2 S_ij) plus the unmatched
  // columns' |.|² (each 1, or 0 for a zero-variance unit), unless that cancels (see chordFrom)
  const total = nonZero(nx) + nonZero(ny);
  let cross = 0;
  for (let k = 0; k < rowInd.length; k++) cross += S.get(rowInd[k] as number, colInd[k] as number);
  const delta = chordFrom(total, cross) ?? unitMatchingResidual(plain ? X : centred(X), plain ? Y : centred(Y), rowInd, colInd, nx, ny);
  return 1 - delta / (2 * Math.sqrt(p));
}

/** The number of non-zero entries (the squared Frobenius norm of the unit-norm columns). */
function nonZero(v: Float64Array): number {
  let k = 0;
  for (let j = 0; j < v.length; j++) if (v[j] !== 0) k++;
  return k;
}

/**
 * Soft matching: the transport plan between units (uniform masses 1/dx and 1/dy) minimising
 * `sum P_ij (1 - C_ij)`, evaluated as the transport-weighted mean correlation `sum P_ij C_ij`.
 */
export function softmatchKernel(X: Matrix, Y: Matrix): number {
  const C = correlations(X, Y);
  if (C.rows === C.cols) {
    // Equal widths: the uniform-mass transport polytope is the Birkhoff polytope scaled by 1/d, whose
    // vertices are permutation matrices / d (Birkhoff-von Neumann), and a linear objective attains its
    // optimum at a vertex. So the optimum is the best assignment's mean correlation: the same value,
    // from an O(d³) assignment instead of a d²-variable transport problem.
    const { rowInd, colInd } = linearSumAssignment(C, { maximize: true });
    let s = 0;
    for (let k = 0; k < rowInd.length; k++) s += C.get(rowInd[k] as number, colInd[k] as number);
    return Math.max(-1, Math.min(1, s / C.rows));
  }
  const cost = new Matrix(C.rows, C.cols);
  for (let k = 0; k < C.data.length; k++) cost.data[k] = 1 - (C.data[k] as number);
  const a = new Float64Array(C.rows).fill(1 / C.rows);
  const b = new Float64Array(C.cols).fill(1 / C.cols);
  const { plan } = exactTransport(a, b, cost);
  let v = 0;
  for (let k = 0; k < C.data.length; k++) v += (plan.data[k] as number) * (C.data[k] as number);
  return Math.max(-1, Math.min(1, v));
}

export const permcorr: MetricDefinition = {
  id: 'permcorr',
  family: 'alignment',
  costClass: 'N·d²',
  title: 'Mean Pearson correlation of the best one-to-one unit matching',
  kind: 'similarity',
  range: [-1, 1],
  invariances: ['permutation', 'isotropic-scale', 'unit-positive-scale', 'translation'],
  widths: 'rectangular-assignment',
  minRows: 3,
  symmetric: true,
  compute: permcorrKernel,
};

export const greluProcrustes: MetricDefinition = {
  id: 'grelu.procrustes',
  family: 'alignment',
  costClass: 'N·d²',
  title: 'G_ReLU-Procrustes similarity (S003 Def. 5.2, centred): invariant to permutations and positive unit scalings',
  kind: 'similarity',
  range: [0, 1],
  invariances: ['permutation', 'isotropic-scale', 'unit-positive-scale', 'translation'],
  widths: 'zero-padding',
  minRows: 3,
  symmetric: true,
  options: [{ name: 'center', type: 'boolean', default: true, description: 'subtract column means first (false = S003 Def. 5.2 literally)' }],
  prepare: (X, o) => void (o['center'] === false ? rawNorms(X) : centredNorms(X)),
  compute: greluProcrustesKernel,
};

export const softmatch: MetricDefinition = {
  id: 'softmatch',
  family: 'alignment',
  costClass: 'N·d²',
  title: 'Soft matching: optimal-transport-weighted mean correlation between units',
  kind: 'similarity',
  range: [-1, 1],
  invariances: ['permutation', 'isotropic-scale', 'unit-positive-scale', 'translation'],
  widths: 'any',
  minRows: 3,
  symmetric: true,
  compute: softmatchKernel,
};
