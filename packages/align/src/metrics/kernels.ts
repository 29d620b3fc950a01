import { BasisError, Matrix, gram, maxProductGram, pow2ScaledCopy } from '@basis/tensor';
import { centred, unitCentred } from '../prep.js';
import { sumSquares } from '../util.js';
import { assertNotConstant } from '../validate.js';
import type { MetricDefinition, ResolvedOptions } from '../types.js';

/**
 * Symmetric N x N matrix of squared Euclidean distances between rows: `||x_i||² + ||x_j||² -
 * 2 x_i·x_j` of the centred rows from one Gram product on the engine (distances are translation
 * invariant; centring keeps the cancellation small), clamped at 0, zero diagonal. Returned with
 * the exact power-of-two scale `s` of the prescaled copy (the distances are those of `X / s`).
 */
function squaredDistances(X: Matrix): Float64Array {
  const n = X.rows;
  const { data: a } = pow2ScaledCopy(centred(X).data);
  const G = gram(new Matrix(n, X.cols, a).transpose()).data;
  const D = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const gi = G[i * n + i] as number;
    for (let j = i + 1; j < n; j++) {
      const v = Math.max(0, gi + (G[j * n + j] as number) - 2 * (G[i * n + j] as number));
      D[i * n + j] = v;
      D[j * n + i] = v;
    }
  }
  return D;
}

/** Median of the distances over the N(N-1)/2 distinct pairs (mean of the middle two for an even count). */
function medianPairDistance(D2: Float64Array, n: number): number {
  const m = (n * (n - 1)) / 2;
  const v = new Float64Array(m);
  let k = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) v[k++] = Math.sqrt(D2[i * n + j] as number);
  v.sort();
  return m % 2 === 1 ? (v[(m - 1) / 2] as number) : ((v[m / 2 - 1] as number) + (v[m / 2] as number)) / 2;
}

/** Double-centres a symmetric N x N kernel in place: H K H. */
function doubleCentre(K: Float64Array, n: number): void {
  const row = new Float64Array(n);
  let all = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += K[i * n + j] as number;
    row[i] = s / n;
    all += s;
  }
  all /= n * n;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) K[i * n + j] = (K[i * n + j] as number) - (row[i] as number) - (row[j] as number) + all;
}

function frob(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += (a[k] as number) * (b[k] as number);
  return s;
}

function rbfKernel(X: Matrix, name: string, factor: number): Float64Array {
  const n = X.rows;
  const D2 = squaredDistances(X);
  const sigma = factor * medianPairDistance(D2, n);
  if (!(sigma > 0)) {
    throw new BasisError(
      'RANK_DEFICIENT',
      `cka.rbf: the median distance between rows of ${name} is 0 (more than half of the input pairs are identical), so the median bandwidth is undefined`,
    );
  }
  const K = new Float64Array(n * n);
  const c = 1 / (2 * sigma * sigma);
  for (let k = 0; k < K.length; k++) K[k] = Math.exp(-(D2[k] as number) * c);
  return K;
}

/** RBF CKA with the median-distance bandwidth `0.5 * median ||x_i - x_j||` and the biased HSIC_0. */
export function ckaRbfKernel(X: Matrix, Y: Matrix, o: ResolvedOptions = { bandwidth: 0.5 }): number {
  const n = X.rows;
  const K = rbfKernel(X, 'X', o['bandwidth'] as number);
  const L = rbfKernel(Y, 'Y', o['bandwidth'] as number);
  doubleCentre(K, n);
  doubleCentre(L, n);
  return frob(K, L) / Math.sqrt(frob(K, K) * frob(L, L));
}

/**
 * Max kernel of S003 Def. 5.3 on column-normalised centred data: `K_ij = max_k Xn_ik Xn_jk` with a
 * zero diagonal (the max-product Gram matrix of @basis/tensor, a WebAssembly SIMD kernel).
 */
function maxKernel(Xn: Matrix): Float64Array {
  const n = Xn.rows;
  const K = maxProductGram(Xn).data;
  for (let i = 0; i < n; i++) K[i * n + i] = 0;
  return K;
}

/** `N(N-3) HSIC_1(K, L)` of Song et al. for kernels with zero diagonals. */
function hsic1Scaled(K: Float64Array, L: Float64Array, n: number): number {
  const k1 = new Float64Array(n);
  const l1 = new Float64Array(n);
  let sk = 0;
  let sl = 0;
  for (let i = 0; i < n; i++) {
    let a = 0;
    let b = 0;
    for (let j = 0; j < n; j++) {
      a += K[i * n + j] as number;
      b += L[i * n + j] as number;
    }
    k1[i] = a;
    l1[i] = b;
    sk += a;
    sl += b;
  }
  return frob(K, L) + (sk * sl) / ((n - 1) * (n - 2)) - (2 / (n - 2)) * frob(k1, l1);
}

/**
 * G_ReLU-CKA (S003 Def. 5.3, centring over rows per the errata): unbiased-HSIC CKA of the max
 * kernels. The max kernel is not positive semi-definite, so the value is not confined to [0, 1].
 */
export function greluCkaKernel(X: Matrix, Y: Matrix): number {
  const n = X.rows;
  const Xn = unitCentred(X);
  const Yn = unitCentred(Y);
  assertNotConstant(sumSquares(Xn), 'X', 'grelu.cka');
  assertNotConstant(sumSquares(Yn), 'Y', 'grelu.cka');
  const K = maxKernel(Xn);
  const L = maxKernel(Yn);
  const kl = hsic1Scaled(K, L, n);
  const kk = hsic1Scaled(K, K, n);
  const ll = hsic1Scaled(L, L, n);
  if (!(kk > 0) || !(ll > 0)) {
    throw new BasisError(
      'RANK_DEFICIENT',
      `grelu.cka: the unbiased HSIC of ${kk > 0 ? 'Y' : 'X'}'s max kernel with itself is ${kk > 0 ? ll : kk} (not positive), so the normalisation is undefined`,
    );
  }
  return kl / Math.sqrt(kk * ll);
}

export const ckaRbf: MetricDefinition = {
  id: 'cka.rbf',
  family: 'rsm',
  costClass: 'N²·d',
  title: 'RBF-kernel CKA (biased HSIC_0), bandwidth 0.5 x median pairwise distance per side',
  kind: 'similarity',
  range: [0, 1],
  invariances: ['rotation', 'permutation', 'isotropic-scale', 'translation'],
  widths: 'any',
  minRows: 3,
  symmetric: true,
  options: [{ name: 'bandwidth', type: 'number', default: 0.5, exclusiveMin: 0, description: 'kernel width as a multiple of the median distance between distinct rows' }],
  compute: ckaRbfKernel,
};

export const greluCka: MetricDefinition = {
  id: 'grelu.cka',
  family: 'rsm',
  costClass: 'N²·d',
  title: 'G_ReLU-CKA: unbiased-HSIC CKA of max kernels on column-normalised data (not PSD: may leave [0, 1])',
  kind: 'similarity',
  range: [-Infinity, Infinity],
  invariances: ['permutation', 'isotropic-scale', 'unit-positive-scale', 'translation'],
  widths: 'any',
  minRows: 4,
  symmetric: true,
  compute: greluCkaKernel,
};
