import { Matrix, crossprod, matmul } from '@basis/tensor';
import { centred, centredNorms, correlationParts, correlations, spanBasis, squaresOf } from '../prep.js';
import type { MetricDefinition, ResolvedOptions } from '../types.js';

/** The columns `idx` of A, in that order (A itself when idx is every column). */
function takeColumns(A: Matrix, idx: readonly number[]): Matrix {
  if (idx.length === A.cols && idx.every((j, k) => j === k)) return A;
  const out = new Matrix(A.rows, idx.length);
  const a = A.data;
  const o = out.data;
  const c = A.cols;
  const m = idx.length;
  for (let i = 0; i < A.rows; i++) for (let k = 0; k < m; k++) o[i * m + k] = a[i * c + (idx[k] as number)] as number;
  return out;
}

/**
 * Which of the columns `cols` of A lie within relative distance eps of the span of the columns
 * `span` of B: `dist(a_j, span) <= eps ||a_j||`, the distance by orthogonal projection onto an
 * orthonormal basis of `B[:, span]` at its numerical rank (numpy `lstsq(rcond=None)`; the full,
 * cached basis when `span` is every column of B). The squared distance is taken as
 * `||a||² - ||Qᵀ a||²`, and recomputed from the residual `a - Q Qᵀ a` itself for the rare column
 * whose relative value lies within 1e-8 of eps² (so that cancellation cannot flip a decision).
 */
function withinSpan(A: Matrix, normsA: Float64Array, cols: readonly number[], B: Matrix, span: readonly number[], eps: number, name: string): number[] {
  if (cols.length === 0) return [];
  // an empty span: every distance is ||a||
  if (span.length === 0) return eps >= 1 ? [...cols] : [];
  const W = takeColumns(B, span);
  const Q = spanBasis(W, name, 'maxmatch').Q;
  const Ac = takeColumns(A, cols);
  const P = crossprod(Q, Ac); // r x |cols|
  const m = cols.length;
  const proj = new Float64Array(m);
  for (let t = 0; t < P.rows; t++) for (let k = 0; k < m; k++) proj[k] = (proj[k] as number) + (P.data[t * m + k] as number) ** 2;
  const e2 = eps * eps;
  const keep: number[] = [];
  const close: number[] = [];
  for (let k = 0; k < m; k++) {
    const n2 = (normsA[cols[k] as number] as number) ** 2;
    const rel = Math.max(0, n2 - (proj[k] as number)) / n2;
    if (Math.abs(rel - e2) <= 1e-8) close.push(k);
    else if (rel <= e2) keep.push(k);
  }
  if (close.length > 0) {
    // the residuals themselves, for the columns near the threshold
    const Pc = takeColumns(P, close);
    const R = matmul(Q, Pc); // N x |close|
    for (let c = 0; c < close.length; c++) {
      const k = close[c] as number;
      const j = cols[k] as number;
      let d2 = 0;
      for (let i = 0; i < A.rows; i++) d2 += ((A.data[i * A.cols + j] as number) - (R.data[i * close.length + c] as number)) ** 2;
      if (Math.sqrt(d2) <= eps * (normsA[j] as number)) keep.push(k);
    }
    keep.sort((u, v) => u - v);
  }
  return keep.map((k) => cols[k] as number);
}

/**
 * Maximum match (Wang et al. 2018) on centred units: the largest sets J of X's units and K of
 * Y's units such that every unit of J lies within relative distance epsilon of the span of Y's
 * units in K and vice versa (the union of all epsilon-approximate matches, reached by removing
 * units until neither side shrinks, in any order); value `(|J| + |K|) / (dx + dy)`.
 * Zero-variance units are never matched but count in `dx + dy`.
 *
 * @example
 * ```ts
 * metric('maxmatch', X, X).value; // 1 (every non-constant unit lies in the other's span)
 * ```
 */
export function maxmatchKernel(X: Matrix, Y: Matrix, o: ResolvedOptions = {}): number {
  const eps = (o['epsilon'] as number | undefined) ?? 0.25;
  const Xc = centred(X);
  const Yc = centred(Y);
  const nx = centredNorms(X);
  const ny = centredNorms(Y);
  let J = Array.from({ length: X.cols }, (_, j) => j).filter((j) => (nx[j] as number) > 0);
  let K = Array.from({ length: Y.cols }, (_, k) => k).filter((k) => (ny[k] as number) > 0);
  // no distance exceeds the norm: at epsilon >= 1 every non-constant unit matches
  while (eps < 1) {
    const J2 = withinSpan(Xc, nx, J, Yc, K, eps, 'Y');
    const K2 = withinSpan(Yc, ny, K, Xc, J2, eps, 'X');
    const stable = J2.length === J.length && K2.length === K.length;
    J = J2;
    K = K2;
    if (stable) break;
  }
  return (J.length + K.length) / (X.cols + Y.cols);
}

/**
 * Soft correlation match (Li et al. 2016's semi-matching, symmetrised as in ReSi): every unit
 * takes its best-correlated partner on the other side (many-to-one allowed); value
 * `(mean_i max_j C_ij + mean_j max_i C_ij) / 2`, C the Pearson matrix (zero-variance units 0).
 *
 * @example
 * ```ts
 * metric('corrmatch.soft', X, Y).value;
 * ```
 */
export function corrmatchSoftKernel(X: Matrix, Y: Matrix): number {
  // on the moment route the Pearson entries are formed in the pass that takes the maxima (no dx x
  // dy copy), exactly as correlationsFromCross forms them; otherwise from the Pearson matrix
  const parts = correlationParts(X, Y);
  const C = parts?.C ?? correlations(X, Y);
  const nx = parts?.nx;
  const ny = parts?.ny;
  const a = C.data;
  const r = C.rows;
  const c = C.cols;
  const colMax = new Float64Array(c).fill(-Infinity);
  let rows = 0;
  for (let i = 0; i < r; i++) {
    let m = -Infinity;
    const ni = nx === undefined ? 1 : (nx[i] as number);
    for (let j = 0; j < c; j++) {
      let v = a[i * c + j] as number;
      if (ny !== undefined) {
        const nj = ny[j] as number;
        v = ni === 0 || nj === 0 ? 0 : Math.max(-1, Math.min(1, v / ni / nj));
      }
      if (v > m) m = v;
      if (v > (colMax[j] as number)) colMax[j] = v;
    }
    rows += m;
  }
  let cols = 0;
  for (let j = 0; j < c; j++) cols += colMax[j] as number;
  return Math.max(-1, Math.min(1, (rows / r + cols / c) / 2));
}

export const maxmatch: MetricDefinition = {
  id: 'maxmatch',
  family: 'alignment',
  costClass: 'N·d²',
  title: 'Maximum match (Wang et al. 2018): share of centred units within relative distance epsilon of the span of the other side’s matched units',
  kind: 'similarity',
  range: [0, 1],
  invariances: ['permutation', 'isotropic-scale', 'unit-positive-scale', 'translation'],
  widths: 'any',
  minRows: 3,
  symmetric: true,
  options: [
    {
      name: 'epsilon',
      type: 'number',
      default: 0.25,
      exclusiveMin: 0,
      max: 1,
      description: 'largest distance of a matched unit from the span of the other side, relative to its norm',
    },
  ],
  // the basis of the full layer (the first step's span); a constant layer has none (value 0)
  prepare: (X) => void (squaresOf(centred(X)) > 0 && spanBasis(centred(X), 'X', 'maxmatch')),
  compute: maxmatchKernel,
};

export const corrmatchSoft: MetricDefinition = {
  id: 'corrmatch.soft',
  family: 'alignment',
  costClass: 'N·d²',
  title: 'Soft correlation match (Li et al. 2016, symmetrised as ReSi): mean best correlation of each unit with the other side, many-to-one',
  kind: 'similarity',
  range: [-1, 1],
  invariances: ['permutation', 'isotropic-scale', 'unit-positive-scale', 'translation'],
  widths: 'any',
  minRows: 3,
  symmetric: true,
  // the correlations take both inputs' column moments (the moment route): they prove the inputs finite
  screen: 'moments',
  prepare: (X) => void centredNorms(X),
  compute: corrmatchSoftKernel,
};
