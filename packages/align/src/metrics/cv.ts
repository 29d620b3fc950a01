import { BasisError, Matrix, columnSumsAndSquares, columnSumsOf, crossprod, linearSumAssignment, matmul, rowDotsOf, svd } from '@basis/tensor';
import { centred, centredScale, columnPearson, correlations } from '../prep.js';
import { padColumns, padTo } from '../util.js';
import type { MetricDefinition, MetricOption, ResolvedOptions } from '../types.js';

/** Ridge penalties searched by `linear.cv` (raw scale). */
export const RIDGE_ALPHAS: readonly number[] = [1e-3, 1e-2, 1e-1, 1, 10, 100, 1e3];

/** Default number of contiguous folds of every `*.cv` metric. */
export const CV_FOLDS = 5;

const FOLDS_OPTION: MetricOption = { name: 'folds', type: 'integer', default: CV_FOLDS, min: 2, description: 'number of contiguous, unshuffled folds' };
const ALPHAS_OPTION: MetricOption = { name: 'alphas', type: 'number[]', default: RIDGE_ALPHAS, exclusiveMin: 0, description: 'ridge penalties searched by exact leave-one-out (raw scale; ties go to the first)' };
const DEFAULT_FOLDS: ResolvedOptions = { folds: CV_FOLDS };
const DEFAULT_LINEAR: ResolvedOptions = { folds: CV_FOLDS, alphas: RIDGE_ALPHAS };

/** The test blocks `[a, b)` of `folds` contiguous folds (the rule of `kfold`: the first n % k are one row longer). */
function blocks(n: number, folds: number): [number, number][] {
  if (n < 2 * folds) {
    throw new BasisError('TOO_SMALL', `${folds}-fold cross-validation needs at least ${2 * folds} rows (2 per test fold), got ${n}`);
  }
  const out: [number, number][] = [];
  let a = 0;
  for (let f = 0; f < folds; f++) {
    const size = Math.floor(n / folds) + (f < n % folds ? 1 : 0);
    out.push([a, a + size]);
    a += size;
  }
  return out;
}

/** Rows `[a, b)` of M as a matrix sharing M's data (no copy). */
function rowBlock(M: Matrix, a: number, b: number): Matrix {
  return new Matrix(b - a, M.cols, M.data.subarray(a * M.cols, b * M.cols));
}

/** Column sums and sums of squares of M. */
function columnMoments(M: Matrix): { sum: Float64Array; sq: Float64Array } {
  const { sums, squares } = columnSumsAndSquares(M);
  return { sum: sums, sq: squares };
}

/**
 * Whole-data products from which every training fold's centred cross-products are obtained by
 * removing the test block (contiguous folds): `Xtrᵀ Ytr = Xᵀ Y - Xteᵀ Yte`, then the training means
 * are taken out, `- n_tr mx myᵀ`. X and Y are centred over all rows first (cached), so the training
 * means are small and the downdate cancels no leading digits. Each fold then costs one product
 * over its test rows instead of one over its training rows plus the copies.
 */
interface Downdate {
  Xc: Matrix;
  Yc: Matrix;
  full: Matrix;
  x: { sum: Float64Array; sq: Float64Array };
  y: { sum: Float64Array; sq: Float64Array };
}

function downdate(X: Matrix, Y: Matrix): Downdate {
  const Xc = centred(X);
  const Yc = centred(Y);
  return { Xc, Yc, full: crossprod(Xc, Yc), x: columnMoments(Xc), y: columnMoments(Yc) };
}

/**
 * The centred training cross-product `C = Xtr_cᵀ Ytr_c` of the fold testing rows `[a, b)`, and the
 * training columns' centred sums of squares. `sx`/`sy` are null when `check` is set and some
 * training column's sum of squares is at the rounding level of the downdate (a unit constant on the
 * training rows but not on the test rows): the caller then computes that fold directly.
 */
function trainProducts(
  dd: Downdate,
  a: number,
  b: number,
  check: boolean,
): { C: Matrix; sx: Float64Array; sy: Float64Array } | null {
  const Xte = rowBlock(dd.Xc, a, b);
  const Yte = rowBlock(dd.Yc, a, b);
  const nTr = dd.Xc.rows - (b - a);
  const T = crossprod(Xte, Yte);
  const tx = columnMoments(Xte);
  const ty = columnMoments(Yte);
  const dx = dd.Xc.cols;
  const dy = dd.Yc.cols;
  const x = trainMoments(dd.x, tx, nTr, check);
  const y = trainMoments(dd.y, ty, nTr, check);
  if (x === null || y === null) return null;
  const { mean: mx, sq: sx } = x;
  const { mean: my, sq: sy } = y;
  const C = new Matrix(dx, dy);
  const c = C.data;
  const f = dd.full.data;
  const t = T.data;
  for (let i = 0; i < dx; i++) {
    const r = i * dy;
    const m = nTr * (mx[i] as number);
    for (let j = 0; j < dy; j++) c[r + j] = (f[r + j] as number) - (t[r + j] as number) - m * (my[j] as number);
  }
  return { C, sx, sy };
}

/**
 * Training means and centred sums of squares of one side from whole-data and test-block moments;
 * null when `check` is set and some column's downdated sum of squares is at the rounding level
 * (a few ulps of the whole-data sum): a unit constant on the training rows.
 */
function trainMoments(
  all: { sum: Float64Array; sq: Float64Array },
  te: { sum: Float64Array; sq: Float64Array },
  nTr: number,
  check: boolean,
): { mean: Float64Array; sq: Float64Array } | null {
  const d = all.sum.length;
  const mean = new Float64Array(d);
  const sq = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    mean[j] = ((all.sum[j] as number) - (te.sum[j] as number)) / nTr;
    const whole = all.sq[j] as number;
    sq[j] = whole === 0 ? 0 : whole - (te.sq[j] as number) - nTr * (mean[j] as number) ** 2;
    if (check && whole !== 0 && (sq[j] as number) <= 1e-9 * whole) return null;
  }
  return { mean, sq };
}

/** The training rows of M (all but `[a, b)`), one copy. */
function trainRows(M: Matrix, a: number, b: number): Matrix {
  const d = M.cols;
  const out = new Matrix(M.rows - (b - a), d);
  out.data.set(M.data.subarray(0, a * d), 0);
  out.data.set(M.data.subarray(b * d), a * d);
  return out;
}

/**
 * The training rows of M (all but `[a, b)`) centred by their own means ({@link trainingMeans}):
 * one pass that reads M's two row blocks and writes the centred copy.
 */
function trainCentred(M: Matrix, a: number, b: number): Matrix {
  const means = trainingMeans(M, a, b);
  const d = M.cols;
  const out = new Matrix(M.rows - (b - a), d);
  const o = out.data;
  const m = M.data;
  for (let i = 0; i < out.rows; i++) {
    const r = i * d;
    const src = (i < a ? i : i + b - a) * d;
    for (let j = 0; j < d; j++) o[r + j] = (m[src + j] as number) - (means[j] as number);
  }
  return out;
}

/** Column means of M's training rows (all but `[a, b)`), without copying them. */
function trainingMeans(M: Matrix, a: number, b: number): Float64Array {
  const means = new Float64Array(M.cols);
  const n = M.rows - (b - a);
  for (const [r0, r1] of [[0, a], [b, M.rows]] as const) {
    if (r1 === r0) continue;
    const sums = columnSumsOf(rowBlock(M, r0, r1));
    for (let j = 0; j < means.length; j++) means[j] = (means[j] as number) + (sums[j] as number);
  }
  for (let j = 0; j < means.length; j++) means[j] = (means[j] as number) / n;
  return means;
}

/**
 * `Uᵀ (Mtr - 1 meansᵀ)` for U with one row per training row of M (M's rows `[0, a)` then
 * `[b, M.rows)`): the products with the two row blocks of M as they stand, less `(Uᵀ 1) meansᵀ`.
 */
function trainingCross(U: Matrix, M: Matrix, a: number, b: number, means: Float64Array): Matrix {
  const k = U.cols;
  const d = M.cols;
  const C = new Matrix(k, d);
  const c = C.data;
  for (const [u0, m0, m1] of [[0, 0, a], [a, b, M.rows]] as const) {
    if (m1 === m0) continue;
    const P = crossprod(rowBlock(U, u0, u0 + m1 - m0), rowBlock(M, m0, m1)).data;
    for (let t = 0; t < c.length; t++) c[t] = (c[t] as number) + (P[t] as number);
  }
  const us = columnSumsOf(U);
  for (let r = 0; r < k; r++) {
    const ur = us[r] as number;
    const o = r * d;
    for (let j = 0; j < d; j++) c[o + j] = (c[o + j] as number) - ur * (means[j] as number);
  }
  return C;
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
  const bl = blocks(X.rows, o['folds'] as number);
  // centred over all rows (cached; prescaled by an exact power of two px at extreme magnitudes)
  const Xall = centred(X);
  const Yall = centred(Y);
  const px = centredScale(X);
  const dy = Yall.cols;
  return bl.map(([a, b]) => {
    const Xc = trainCentred(Xall, a, b);
    const n = Xc.rows;
    // Y's training rows are never copied: they are Yall's rows [0, a) and [b, N), centred by their
    // own means my on the fly (Yc = Ytr - 1 myᵀ)
    const my = trainingMeans(Yall, a, b);
    const { U, s, V } = svd(Xc);
    const k = s.length;
    // singular values at the rounding level of the centred data (rank deficiency, e.g. more units
    // than training rows) carry no signal: they count as 0, so that a negligible penalty (large
    // inputs) does not amplify their rounding noise into the fit
    const noise = Math.max(n, Xc.cols) * 2 ** -52 * (s[0] as number);
    for (let r = 0; r < k; r++) if ((s[r] as number) <= noise) s[r] = 0;
    const UtY = trainingCross(U, Yall, a, b, my); // k x dy, Uᵀ Yc
    let best = Infinity;
    let bestAlpha = (alphas[0] as number) / px / px;
    // leverage and residuals per alpha: h = 1/n + (U∘U) f, E = Yc - U diag(f) UᵀYc (products on the BLAS)
    const U2 = new Matrix(n, k);
    const u = U.data;
    const u2 = U2.data;
    for (let t = 0; t < u.length; t++) {
      const v = u[t] as number;
      u2[t] = v * v;
    }
    const g = UtY.data;
    const yall = Yall.data;
    // one scaled copy of UᵀYc and one fit buffer, overwritten for every penalty (no N x dy
    // allocation per penalty)
    const scaledUtY = new Matrix(k, dy);
    const su = scaledUtY.data;
    const fitM = new Matrix(n, dy);
    const fit = fitM.data;
    for (const rawAlpha of alphas) {
      const alpha = rawAlpha / px / px; // the raw penalty in the prescaled units (0 or Infinity at extreme scales)
      const f = new Float64Array(k);
      for (let r = 0; r < k; r++) {
        const s2 = (s[r] as number) ** 2;
        f[r] = s2 === 0 || alpha === Infinity ? 0 : s2 / (s2 + alpha);
      }
      const h = rowDotsOf(U2, f);
      for (let r = 0; r < k; r++) {
        const fr = f[r] as number;
        const o = r * dy;
        for (let j = 0; j < dy; j++) su[o + j] = fr * (g[o + j] as number);
      }
      matmul(U, scaledUtY, fitM);
      let crit = 0;
      for (let i = 0; i < n; i++) {
        const r = i * dy;
        const ry = (i < a ? i : i + b - a) * dy; // the training row's place in Yall
        let row = 0;
        for (let j = 0; j < dy; j++) {
          const e = (yall[ry + j] as number) - (my[j] as number) - (fit[r + j] as number);
          row += e * e;
        }
        const scale = 1 - (1 / n + (h[i] as number));
        crit += row / (scale * scale);
      }
      if (crit < best) {
        best = crit;
        bestAlpha = alpha;
      }
    }
    // B = V diag(s / (s^2 + alpha)) Uᵀ Yc; for a huge alpha (extreme scales only) the weights are
    // formed times alpha, s / (s^2 / alpha + 1), which has the limit s as alpha overflows: the
    // held-out correlations do not depend on a common positive factor of B
    const W = new Matrix(k, dy);
    for (let r = 0; r < k; r++) {
      const sr = s[r] as number;
      const w = sr === 0 ? 0 : bestAlpha > 2 ** 128 ? sr / ((sr * sr) / bestAlpha + 1) : sr / (sr * sr + bestAlpha);
      for (let j = 0; j < dy; j++) W.data[r * dy + j] = w * (g[r * dy + j] as number);
    }
    const B = matmul(V, W);
    // held-out rows centred over all rows, not with the training means: the predictions then differ
    // by a constant row, to which the per-unit correlations are blind
    const Yhat = matmul(rowBlock(Xall, a, b), B);
    return predictionScore(Yhat, rowBlock(Yall, a, b), Y.cols);
  });
}

/**
 * The fold scores of `procrustes.cv`: an orthogonal map fitted on centred, zero-padded training
 * data. The training cross-products come from the whole-data product downdated by each test block
 * (see {@link downdate}); held-out predictions use the globally centred test rows, which differ
 * from the training-centred ones by a constant row, to which the per-unit correlations are blind.
 */
export function procrustesCvFolds(X: Matrix, Y: Matrix, o: ResolvedOptions = DEFAULT_FOLDS): number[] {
  const p = Math.max(X.cols, Y.cols);
  const bl = blocks(X.rows, o['folds'] as number);
  // centred copies carry exact power-of-two prescales at extreme magnitudes: neither the rotation nor the correlations depend on them
  const dd = downdate(X, Y);
  return bl.map(([a, b]) => {
    const { C } = trainProducts(dd, a, b, false) as { C: Matrix };
    const { U, V } = svd(padTo(C, p, p));
    const Q = matmul(U, V.transpose());
    const Yhat = matmul(padColumns(rowBlock(dd.Xc, a, b), p), Q);
    return predictionScore(Yhat, rowBlock(dd.Yc, a, b), Y.cols);
  });
}

/**
 * The fold scores of `permutation.cv`: units matched on the training correlations (from the
 * downdated whole-data product, see {@link downdate}; a fold in which some unit is constant on the
 * training rows is computed directly), scored by the held-out correlations of the matched pairs.
 */
export function permutationCvFolds(X: Matrix, Y: Matrix, o: ResolvedOptions = DEFAULT_FOLDS): number[] {
  const bl = blocks(X.rows, o['folds'] as number);
  const dd = downdate(X, Y);
  return bl.map(([a, b]) => {
    const t = trainProducts(dd, a, b, true);
    let corr: Matrix;
    if (t === null) {
      corr = correlations(trainRows(dd.Xc, a, b), trainRows(dd.Yc, a, b));
    } else {
      corr = t.C;
      const dy = corr.cols;
      const c = corr.data;
      for (let i = 0; i < corr.rows; i++) {
        const ni = Math.sqrt(t.sx[i] as number);
        for (let j = 0; j < dy; j++) {
          const nj = Math.sqrt(t.sy[j] as number);
          const k = i * dy + j;
          c[k] = ni === 0 || nj === 0 ? 0 : Math.max(-1, Math.min(1, (c[k] as number) / ni / nj));
        }
      }
    }
    const { rowInd, colInd } = linearSumAssignment(corr, { maximize: true });
    const Xte = rowBlock(dd.Xc, a, b);
    const Yte = rowBlock(dd.Yc, a, b);
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
  family: 'alignment',
  costClass: 'N·d²',
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
  family: 'alignment',
  costClass: 'N·d²',
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
  family: 'alignment',
  costClass: 'N·d²',
  title: 'Cross-validated unit matching X -> Y (5 contiguous folds): mean held-out correlation of matched units',
  invariances: ['permutation', 'translation', 'isotropic-scale', 'unit-positive-scale'],
  symmetric: false,
  options: [FOLDS_OPTION],
  compute: (X, Y, o) => meanOf(permutationCvFolds(X, Y, o)),
  foldScores: permutationCvFolds,
};
