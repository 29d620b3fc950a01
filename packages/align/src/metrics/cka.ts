import type { Matrix } from '@basis/tensor';
import { centredCross, centredGramSquares, centredRowSquares, centredSquares } from '../prep.js';
import { assertNotConstant } from '../validate.js';
import { sumSquares } from '../util.js';
import type { MetricDefinition } from '../types.js';

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

function total(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] as number;
  return s;
}

/**
 * Linear CKA with the biased HSIC_0: `||Xcᵀ Yc||²_F / (||Xcᵀ Xc||_F ||Ycᵀ Yc||_F)`
 * (feature-space form; Kornblith et al. 2019).
 */
export function ckaLinearKernel(X: Matrix, Y: Matrix): number {
  assertNotConstant(centredSquares(X), 'X', 'cka.linear');
  assertNotConstant(centredSquares(Y), 'Y', 'cka.linear');
  const xy = sumSquares(centredCross(X, Y));
  return xy / (Math.sqrt(centredGramSquares(X)) * Math.sqrt(centredGramSquares(Y)));
}

/**
 * `N(N-3) HSIC_1` in feature space (fixtures README, cka.linear.unbiased) from `||Xcᵀ Yc||²_F` and
 * the squared row norms `a`, `b` of the centred data.
 */
export function hsic1Scaled(crossSquares: number, a: Float64Array, b: Float64Array): number {
  const n = a.length;
  return crossSquares - (n / (n - 2)) * dot(a, b) + (total(a) * total(b)) / ((n - 1) * (n - 2));
}

/** Linear CKA with the unbiased HSIC_1 of Song et al. ("debiased" CKA); needs N >= 4. */
export function ckaLinearUnbiasedKernel(X: Matrix, Y: Matrix): number {
  assertNotConstant(centredSquares(X), 'X', 'cka.linear.unbiased');
  assertNotConstant(centredSquares(Y), 'Y', 'cka.linear.unbiased');
  const a = centredRowSquares(X);
  const b = centredRowSquares(Y);
  const xy = hsic1Scaled(sumSquares(centredCross(X, Y)), a, b);
  const xx = hsic1Scaled(centredGramSquares(X), a, a);
  const yy = hsic1Scaled(centredGramSquares(Y), b, b);
  assertNotConstant(xx, 'X (its unbiased HSIC with itself is not positive)', 'cka.linear.unbiased');
  assertNotConstant(yy, 'Y (its unbiased HSIC with itself is not positive)', 'cka.linear.unbiased');
  return xy / (Math.sqrt(xx) * Math.sqrt(yy)); // xx * yy alone could overflow
}

export const ckaLinear: MetricDefinition = {
  id: 'cka.linear',
  family: 'rsm',
  costClass: 'N·d²',
  title: 'Linear CKA (biased HSIC_0)',
  kind: 'similarity',
  range: [0, 1],
  invariances: ['rotation', 'permutation', 'isotropic-scale', 'translation'],
  widths: 'any',
  minRows: 3,
  symmetric: true,
  prepare: (X) => void centredGramSquares(X),
  compute: ckaLinearKernel,
};

export const ckaLinearUnbiased: MetricDefinition = {
  id: 'cka.linear.unbiased',
  family: 'rsm',
  costClass: 'N·d²',
  title: 'Linear CKA with the unbiased HSIC_1 (debiased CKA); may be slightly negative',
  kind: 'similarity',
  range: [-1, 1],
  invariances: ['rotation', 'permutation', 'isotropic-scale', 'translation'],
  widths: 'any',
  minRows: 4,
  symmetric: true,
  prepare: (X) => {
    centredGramSquares(X);
    centredRowSquares(X);
  },
  compute: ckaLinearUnbiasedKernel,
};
