import { BasisError, Matrix, crossprod, kfold, linearSumAssignment, matmul, matvec, svd } from '@basis/tensor';
import { columnPearson, correlations, prescaled, takeRows } from '../prep.js';
import { padColumns } from '../util.js';
import type { MetricDefinition, MetricOption, ResolvedOptions } from '../types.js';

/** Ridge penalties searched by `linear.cv` (raw scale). */
export const RIDGE_ALPHAS: readonly number[] = [1e-3, 1e-2, 1e-1, 1, 10, 100, 1e3];

/** Default number of contiguous folds of every `*.cv` metric. */
export const CV_FOLDS = 5;

const FOLDS_OPTION: MetricOption = { name: 'folds', type: 'integer', default: CV_FOLDS, min: 2, description: 'number of contiguous, unshuffled folds' };
const ALPHAS_OPTION: MetricOption = { name: 'alphas', type: 'number[]', default: RIDGE_ALPHAS, exclusiveMin: 0, description: 'ridge penalties searched by exact leave-one-out (raw scale; ties go to the first)' };
const DEFAULT_FOLDS: ResolvedOptions = { folds: CV_FOLDS };
const DEFAULT_LINEAR: ResolvedOptions = { folds: CV_FOLDS, alphas: RIDGE_ALPHAS };

interface Split {
  Xtr: Matrix;
  Ytr: Matrix;
  Xte: Matrix;
  Yte: Matrix;
}

function splits(X: Matrix, Y: Matrix, folds: number): Split[] {
  if (X.rows < 2 * folds) {
    throw new BasisError('TOO_SMALL', `${folds}-fold cross-validation needs at least ${2 * folds} rows (2 per test fold), got ${X.rows}`);
  }
  return kfold(X.rows, folds).map(({ train, test }) => ({
    Xtr: takeRows(X, train),
    Ytr: takeRows(Y, train),
    Xte: takeRows(X, test),
    Yte: takeRows(Y, test),
  }));
}

function columnMeans(A: Matrix): Float64Array {
  const m = new Float64Array(A.cols);
  for (let i = 0; i < A.rows; i++) for (let j = 0; j < A.cols; j++) m[j] = (m[j] as number) + (A.data[i * A.cols + j] as number);
  for (let j = 0; j < A.cols; j++) m[j] = (m[j] as number) / A.rows;
  return m;
}

function subtract(A: Matrix, means: Float64Array): Matrix {
  const out = new Matrix(A.rows, A.cols);
  for (let i = 0; i < A.rows; i++) for (let j = 0; j < A.cols; j++) out.data[i * A.cols + j] = (A.data[i * A.cols + j] as number) - (means[j] as number);
  return out;
}

function meanOf(values: number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

/** Mean over the target units of the Pearson correlation between predicted and held-out columns. */
function predictionScore(Yhat: Matrix, Yte: Matrix, units: number): number {
  let s = 0;
  for (let j = 0; j < units; j++) s += columnPearson(Yhat, j, Yte, j);
  return s / units;
}

/**
 * The fold scores of `linear.cv`: ridge regression X -> Y with the penalty chosen by exact LOO.
 * At extreme scales X and Y are first divided by exact powers of two px, py (see `prescaled`):
 * the ridge of (X / px, Y / py) with penalty alpha / px² has the fit of the raw problem divided
 * by py, the same LOO choice of alpha and the same held-out correlations.
 */
export function linearCvFolds(X: Matrix, Y: Matrix, o: ResolvedOptions = DEFAULT_LINEAR): number[] {
  const alphas = o['alphas'] as readonly number[];
  const { M: Xs, scale: px } = prescaled(X);
  const { M: Ys } = prescaled(Y);
  return splits(Xs, Ys, o['folds'] as number).map(({ Xtr, Ytr, Xte, Yte }) => {
    const n = Xtr.rows;
    const mx = columnMeans(Xtr);
    const my = columnMeans(Ytr);
    const Xc = subtract(Xtr, mx);
    const Yc = subtract(Ytr, my);
    const { U, s, V } = svd(Xc);
    const k = s.length;
    // singular values at the rounding level of the centred data (rank deficiency, e.g. more units
    // than training rows) carry no signal: they count as 0, so that a negligible penalty (large
    // inputs) does not amplify their rounding noise into the fit
    const noise = Math.max(n, Xc.cols) * 2 ** -52 * (s[0] as number);
    for (let r = 0; r < k; r++) if ((s[r] as number) <= noise) s[r] = 0;
    const UtY = crossprod(U, Yc); // k x dy
    let best = Infinity;
    let bestAlpha = (alphas[0] as number) / px / px;
    // leverage and residuals per alpha: h = 1/n + (U∘U) f, E = Yc - U diag(f) UᵀYc (products on the SIMD kernel)
    const U2 = new Matrix(n, k);
    for (let t = 0; t < U.data.length; t++) U2.data[t] = (U.data[t] as number) ** 2;
    for (const rawAlpha of alphas) {
      const alpha = rawAlpha / px / px; // the raw penalty in the prescaled units (0 or Infinity at extreme scales)
      const f = new Float64Array(k);
      for (let r = 0; r < k; r++) {
        const s2 = (s[r] as number) ** 2;
        f[r] = s2 === 0 || alpha === Infinity ? 0 : s2 / (s2 + alpha);
      }
      const h = matvec(U2, f);
      const scaledUtY = new Matrix(k, Yc.cols);
      for (let r = 0; r < k; r++) for (let j = 0; j < Yc.cols; j++) scaledUtY.data[r * Yc.cols + j] = (f[r] as number) * (UtY.data[r * Yc.cols + j] as number);
      const fit = matmul(U, scaledUtY);
      let crit = 0;
      for (let i = 0; i < n; i++) {
        const scale = 1 / (1 - (1 / n + (h[i] as number)));
        for (let j = 0; j < Yc.cols; j++) {
          const e = ((Yc.data[i * Yc.cols + j] as number) - (fit.data[i * Yc.cols + j] as number)) * scale;
          crit += e * e;
        }
      }
      if (crit < best) {
        best = crit;
        bestAlpha = alpha;
      }
    }
    // B = V diag(s / (s^2 + alpha)) Uᵀ Yc; for a huge alpha (extreme scales only) the weights are
    // formed times alpha, s / (s^2 / alpha + 1), which has the limit s as alpha overflows: the
    // held-out correlations do not depend on a common positive factor of B
    const W = new Matrix(k, Yc.cols);
    for (let r = 0; r < k; r++) {
      const sr = s[r] as number;
      const g = sr === 0 ? 0 : bestAlpha > 2 ** 128 ? sr / ((sr * sr) / bestAlpha + 1) : sr / (sr * sr + bestAlpha);
      for (let j = 0; j < Yc.cols; j++) W.data[r * Yc.cols + j] = g * (UtY.data[r * Yc.cols + j] as number);
    }
    const B = matmul(V, W);
    const Yhat = matmul(subtract(Xte, mx), B);
    return predictionScore(Yhat, Yte, Y.cols);
  });
}

/** The fold scores of `procrustes.cv`: an orthogonal map fitted on centred, zero-padded training data. */
export function procrustesCvFolds(X: Matrix, Y: Matrix, o: ResolvedOptions = DEFAULT_FOLDS): number[] {
  const p = Math.max(X.cols, Y.cols);
  // exact power-of-two prescales at extreme magnitudes: neither the rotation nor the correlations depend on them
  return splits(prescaled(X).M, prescaled(Y).M, o['folds'] as number).map(({ Xtr, Ytr, Xte, Yte }) => {
    const mx = columnMeans(Xtr);
    const Xc = padColumns(subtract(Xtr, mx), p);
    const Yc = padColumns(subtract(Ytr, columnMeans(Ytr)), p);
    const { U, V } = svd(crossprod(Xc, Yc));
    const Q = matmul(U, V.transpose());
    const Yhat = matmul(padColumns(subtract(Xte, mx), p), Q);
    return predictionScore(Yhat, Yte, Y.cols);
  });
}

/** The fold scores of `permutation.cv`: units matched on the training correlations. */
export function permutationCvFolds(X: Matrix, Y: Matrix, o: ResolvedOptions = DEFAULT_FOLDS): number[] {
  return splits(prescaled(X).M, prescaled(Y).M, o['folds'] as number).map(({ Xtr, Ytr, Xte, Yte }) => {
    const { rowInd, colInd } = linearSumAssignment(correlations(Xtr, Ytr), { maximize: true });
    let s = 0;
    for (let k = 0; k < rowInd.length; k++) s += columnPearson(Xte, rowInd[k] as number, Yte, colInd[k] as number);
    return s / rowInd.length;
  });
}

const shared = {
  kind: 'similarity',
  range: [-1, 1],
  widths: 'any',
  minRows: 10,
} as const;

export const linearCv: MetricDefinition = {
  ...shared,
  id: 'linear.cv',
  title: 'Cross-validated ridge regression X -> Y (5 contiguous folds, LOO-chosen penalty): mean held-out correlation',
  invariances: ['permutation', 'translation'],
  symmetric: false,
  options: [ALPHAS_OPTION, FOLDS_OPTION],
  compute: (X, Y, o) => meanOf(linearCvFolds(X, Y, o)),
  foldScores: linearCvFolds,
};

export const procrustesCv: MetricDefinition = {
  ...shared,
  id: 'procrustes.cv',
  title: 'Cross-validated orthogonal map X -> Y (5 contiguous folds): mean held-out correlation',
  invariances: ['permutation', 'translation', 'isotropic-scale'],
  symmetric: false,
  options: [FOLDS_OPTION],
  compute: (X, Y, o) => meanOf(procrustesCvFolds(X, Y, o)),
  foldScores: procrustesCvFolds,
};

export const permutationCv: MetricDefinition = {
  ...shared,
  id: 'permutation.cv',
  title: 'Cross-validated unit matching X -> Y (5 contiguous folds): mean held-out correlation of matched units',
  invariances: ['permutation', 'translation', 'isotropic-scale', 'unit-positive-scale'],
  symmetric: false,
  options: [FOLDS_OPTION],
  compute: (X, Y, o) => meanOf(permutationCvFolds(X, Y, o)),
  foldScores: permutationCvFolds,
};
