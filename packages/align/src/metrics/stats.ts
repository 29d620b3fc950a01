// Statistic-based survey measures (fixtures README, "Survey measures"): `|f(X) - f(Y)|` for a
// statistic f of one representation. f is memoised per layer (and per option value), so an audit
// computes it once per layer.
import { BasisError, rowSquaresAndDotsOf, type Matrix } from '@basis/tensor';
import { columnSums } from '../moments.js';
import { cached, prescaled } from '../prep.js';
import type { MetricDefinition, ResolvedOptions } from '../types.js';
import { euclideanNeighbours, forEachDistanceBlock, rowGeometry } from './pairwise.js';

/** Column means of row-major n x d data (four rows per sweep of the sums). */
function columnMeansOf(a: Float64Array, n: number, d: number): Float64Array {
  const s = new Float64Array(d);
  const n4 = n - (n % 4);
  for (let i = 0; i < n4; i += 4) {
    const o = i * d;
    for (let k = 0; k < d; k++) {
      s[k] = (s[k] as number) + ((a[o + k] as number) + (a[o + d + k] as number) + ((a[o + 2 * d + k] as number) + (a[o + 3 * d + k] as number)));
    }
  }
  for (let i = n4; i < n; i++) {
    const o = i * d;
    for (let k = 0; k < d; k++) s[k] = (s[k] as number) + (a[o + k] as number);
  }
  for (let k = 0; k < d; k++) s[k] = (s[k] as number) / n;
  return s;
}

/** Largest |entry|. */
function maxAbs(v: Float64Array): number {
  let m = 0;
  for (let k = 0; k < v.length; k++) m = Math.max(m, Math.abs(v[k] as number));
  return m;
}

/**
 * The mean row of X as `m * scale` (scale an exact power of two): the memoised column sums (one
 * dgemv on the native engine, shared with the validation) divided by N, and summed again on the
 * exactly prescaled copy (prep.ts) only when a sum left the float64 range or the means are so small
 * that their division by N rounded in the subnormal range.
 */
function meanRow(X: Matrix): { m: Float64Array; scale: number } {
  return cached(X, 'stat:meanRow', () => {
    const n = X.rows;
    const direct = columnSums(X).map((v) => v / n);
    const top = maxAbs(direct);
    if (Number.isFinite(top) && (top === 0 || top > 2 ** -960)) return { m: direct, scale: 1 };
    const { M, scale } = prescaled(X);
    return { m: columnMeansOf(M.data, X.rows, X.cols), scale };
  });
}

/** Euclidean norm without overflow or underflow of the squares. */
function norm(v: Float64Array): number {
  const top = maxAbs(v);
  if (top === 0) return 0;
  const s = 2 ** Math.floor(Math.log2(top)); // exact power of two
  let q = 0;
  for (let k = 0; k < v.length; k++) q += ((v[k] as number) / s) ** 2;
  return Math.sqrt(q) * s;
}

/**
 * `||mean row||` as a mantissa and an exact power-of-two scale (value = mant * scale), memoised.
 * Usually `sqrt(sum_k s_k²) / N` from the memoised column sums s in one pass over them (a pass
 * over d numbers that runs a handful of times per process is interpreted, not compiled, so passes
 * count); only sums whose squares could leave the float64 range (largest |s_k| above 2^480 or
 * below 2^-480, or a sum that overflowed) take the careful route of {@link meanRow} and {@link norm}.
 */
function magnitudeOf(X: Matrix): { mant: number; scale: number } {
  return cached(X, 'stat.magnitude', () => {
    const s = columnSums(X);
    let top = 0;
    let q = 0;
    for (let k = 0; k < s.length; k++) {
      const v = s[k] as number;
      const a = v < 0 ? -v : v;
      if (a > top) top = a;
      q += v * v;
    }
    // |s_k| < 2^480 keeps q below d 2^960 (finite) and |s_k| > 2^-480 keeps the largest square normal;
    // a NaN sum (overflows of both signs) fails q < Infinity
    if (top === 0 && q === 0) return { mant: 0, scale: 1 };
    if (q < Infinity && top < 2 ** 480 && top > 2 ** -480) return { mant: Math.sqrt(q) / X.rows, scale: 1 };
    const { m, scale } = meanRow(X);
    return { mant: norm(m), scale };
  });
}

/** |a·sa - b·sb| for exact power-of-two scales, without overflow of the intermediate products. */
function scaledDifference(a: number, sa: number, b: number, sb: number): number {
  const s = Math.max(sa, sb);
  return Math.abs(a * (sa / s) - b * (sb / s)) * s;
}

/** `| ||mean(X)|| - ||mean(Y)|| |` (uncentred: the norm of the mean row). */
export function statMagnitudeKernel(X: Matrix, Y: Matrix): number {
  const a = magnitudeOf(X);
  const b = magnitudeOf(Y);
  const value = scaledDifference(a.mant, a.scale, b.mant, b.scale);
  if (value === Infinity) throw new BasisError('INVALID_ARGUMENT', 'stat.magnitude: the value exceeds the largest float64 (about 1.8e308); rescale the inputs');
  return value;
}

/**
 * The mean cosine of the rows to the mean row (uncentred; zero vectors have cosine 0), memoised.
 * `(1/N) sum_i cos(x_i, m) = (1/(N ||u||)) sum_i (x_i · u) / ||x_i||` with `u` the column sums
 * scaled by an exact power of two (the sums are the memoised ones of the validation): the dots
 * `X u` and the row sums of squares together in one more read of X (rowSquaresAndDotsOf, a
 * WebAssembly SIMD kernel), each row whose squares leave the float64 range redone from a copy
 * scaled by a power of two.
 */
function concentricityOf(X: Matrix): number {
  return cached(X, 'stat.concentricity', () => {
    const n = X.rows;
    const d = X.cols;
    const a = X.data;
    let sum = columnSums(X);
    let top = maxAbs(sum);
    if (!Number.isFinite(top)) {
      sum = columnMeansOf(prescaled(X).M.data, n, d); // a sum overflowed: the same direction, exactly scaled
      top = maxAbs(sum);
    }
    if (top === 0) return 0;
    const sm = 2 ** Math.floor(Math.log2(top));
    const u = sum.map((v) => v / sm); // entries below 2 in size: no product x_ik u_k overflows
    // finite inputs (validated): a row whose squares stay finite has |x_i| < 2^512, so its dot with
    // u (|u_k| < 2) is finite too
    const { squares, dots } = rowSquaresAndDotsOf(X, u);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const q = squares[i] as number;
      if (q < Infinity && q > 2 ** -960) {
        total += (dots[i] as number) / Math.sqrt(q);
      } else {
        const o = i * d;
        // squares outside the float64 range: the row's cosine from a copy scaled by a power of two
        const r = maxAbs(a.subarray(o, o + d));
        if (r === 0) continue; // a zero row: cosine 0
        const sr = 2 ** Math.floor(Math.log2(r));
        let qs = 0;
        let ps = 0;
        for (let k = o; k < o + d; k++) {
          const v = (a[k] as number) / sr;
          qs += v * v;
          ps += v * (u[k - o] as number);
        }
        total += ps / Math.sqrt(qs);
      }
    }
    // ||u|| directly: its largest entry is in [1, 2), so its squares neither overflow nor underflow
    let uu = 0;
    for (let k = 0; k < d; k++) uu += (u[k] as number) * (u[k] as number);
    return total / Math.sqrt(uu) / n;
  });
}

/** `|f(X) - f(Y)|` with f the mean cosine of the rows to the mean row. */
export function statConcentricityKernel(X: Matrix, Y: Matrix): number {
  return Math.abs(concentricityOf(X) - concentricityOf(Y));
}

/**
 * `f(X) + ln N = log1p((2/N) sum_{i<j} exp(-t D_ij²))`: the uniformity `ln((1/N²) sum_{i,j} exp(-t D_ij²))`
 * over all ordered pairs (diagonal included) with the `-ln N` term removed, which cancels in the
 * difference. The off-diagonal sum is a streaming log-sum-exp, so tiny terms keep their digits
 * and terms below the float64 range do not vanish before they are compared.
 */
function uniformityOf(X: Matrix, t: number): number {
  return cached(X, `stat.uniformity:${t}`, () => {
    const g = rowGeometry(X);
    const n = g.n;
    const u = g.rawScale; // D² = u² x raw-unit value; (v u) u overflows to Infinity, never to NaN (v = 0 stays 0)
    const expo = (v: number) => -t * (v * u * u);
    let lMax = -Infinity; // running log-sum-exp: sum = exp(lMax) * acc
    let acc = 0;
    forEachDistanceBlock(g, true, (i0, i1, j0, D2) => {
      const m = n - j0;
      let bMax = -Infinity;
      for (let i = i0; i < i1; i++) for (let j = i + 1; j < n; j++) bMax = Math.max(bMax, expo(D2[(i - i0) * m + (j - j0)] as number));
      if (bMax === -Infinity) return;
      let s = 0;
      for (let i = i0; i < i1; i++) for (let j = i + 1; j < n; j++) s += Math.exp(expo(D2[(i - i0) * m + (j - j0)] as number) - bMax);
      if (bMax > lMax) {
        acc = acc * Math.exp(lMax - bMax) + s;
        lMax = bMax;
      } else {
        acc += s * Math.exp(bMax - lMax);
      }
    });
    if (lMax === -Infinity) return 0; // a single row
    // ln of (2/N) sum, then log1p(exp(.)) (0 when it is below the float64 range)
    const l = lMax + Math.log(acc) + Math.log(2 / n);
    return l > 0 ? l + Math.log1p(Math.exp(-l)) : Math.log1p(Math.exp(l));
  });
}

/** `|f(X) - f(Y)|` with f the uniformity `ln((1/N²) sum_{i,j} exp(-t ||x_i - x_j||²))`. */
export function statUniformityKernel(X: Matrix, Y: Matrix, o: ResolvedOptions): number {
  const t = o['t'] as number;
  return Math.abs(uniformityOf(X, t) - uniformityOf(Y, t));
}

/** TwoNN intrinsic dimension, maximum-likelihood form `N / sum_i ln(r2_i / r1_i)`. */
function intrinsicDimOf(X: Matrix, name: string): number {
  return cached(X, 'stat.intrinsic_dim', () => {
    const g = rowGeometry(X);
    const { idx, d2 } = euclideanNeighbours(g, 2);
    let s = 0;
    for (let i = 0; i < g.n; i++) {
      const a = d2[2 * i] as number;
      const b = d2[2 * i + 1] as number;
      if (a === 0) {
        throw new BasisError(
          'RANK_DEFICIENT',
          `stat.intrinsic_dim: rows ${i} and ${idx[2 * i] as number} of ${name} are identical (distance 0), so the TwoNN ratio r2/r1 is undefined; drop duplicate inputs first`,
        );
      }
      s += 0.5 * Math.log(b / a);
    }
    if (!(s > 0)) {
      throw new BasisError(
        'RANK_DEFICIENT',
        `stat.intrinsic_dim: every row of ${name} has its two nearest other rows at the same distance, so the TwoNN estimate N / sum ln(r2/r1) is infinite`,
      );
    }
    return g.n / s;
  });
}

/** `|f(X) - f(Y)|` with f the TwoNN intrinsic dimension (maximum likelihood). */
export function statIntrinsicDimKernel(X: Matrix, Y: Matrix): number {
  return Math.abs(intrinsicDimOf(X, 'X') - intrinsicDimOf(Y, 'Y'));
}

const statistic = {
  family: 'statistic',
  kind: 'distance',
  range: [0, Infinity],
  widths: 'any',
  symmetric: true,
} as const;

export const statMagnitude: MetricDefinition = {
  ...statistic,
  id: 'stat.magnitude',
  title: 'Difference of the norms of the mean rows (uncentred)',
  costClass: 'N·d²',
  invariances: ['rotation', 'permutation'],
  minRows: 1,
  compute: statMagnitudeKernel,
  prepare: (X) => void magnitudeOf(X),
};

export const statConcentricity: MetricDefinition = {
  ...statistic,
  id: 'stat.concentricity',
  title: 'Difference of the mean cosines of the rows to the mean row (uncentred)',
  costClass: 'N·d²',
  invariances: ['rotation', 'permutation', 'isotropic-scale'],
  range: [0, 2],
  minRows: 1,
  compute: statConcentricityKernel,
  prepare: (X) => void concentricityOf(X),
};

export const statUniformity: MetricDefinition = {
  ...statistic,
  id: 'stat.uniformity',
  title: 'Difference of the uniformities ln mean exp(-t D²) over all ordered row pairs',
  costClass: 'N²·d',
  invariances: ['rotation', 'permutation', 'translation'],
  minRows: 1,
  options: [{ name: 't', type: 'number', default: 2, exclusiveMin: 0, description: 'scale of the Gaussian potential exp(-t D²)' }],
  compute: statUniformityKernel,
  prepare: (X, o) => void uniformityOf(X, o['t'] as number),
};

export const statIntrinsicDim: MetricDefinition = {
  ...statistic,
  id: 'stat.intrinsic_dim',
  title: 'Difference of the TwoNN intrinsic dimensions (maximum likelihood)',
  costClass: 'N²·d',
  invariances: ['rotation', 'permutation', 'isotropic-scale', 'translation'],
  minRows: 3,
  compute: statIntrinsicDimKernel,
  prepare: (X) => void intrinsicDimOf(X, 'X'),
};
