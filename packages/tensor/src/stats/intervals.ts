import { BasisError } from '../errors.js';
import type { Rng } from '../random/rng.js';

function checkValues(values: ArrayLike<number>, min: number, what: string): void {
  if (values.length < min) throw new BasisError('TOO_SMALL', `${what} needs at least ${min} values, got ${values.length}`);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new BasisError('NON_FINITE_INPUT', `${what}: value ${i} is ${values[i]}`);
  }
}

function checkLevel(level: number): void {
  if (!(level > 0 && level < 1)) throw new BasisError('INVALID_ARGUMENT', `level must be in (0, 1), got ${level}`);
}

/** Arithmetic mean. */
export function mean(values: ArrayLike<number>): number {
  checkValues(values, 1, 'mean');
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] as number;
  return s / values.length;
}

/** Standard deviation with `ddof` (default 1, the sample standard deviation). */
export function std(values: ArrayLike<number>, ddof = 1): number {
  checkValues(values, ddof + 1, 'std');
  const m = mean(values);
  let s = 0;
  for (let i = 0; i < values.length; i++) s += ((values[i] as number) - m) ** 2;
  return Math.sqrt(s / (values.length - ddof));
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error ~1e-15). */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0] as number;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 500; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) return h;
  }
  return h;
}

/** Regularised incomplete beta function I_x(a, b). */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0) || !(b > 0)) throw new BasisError('INVALID_ARGUMENT', `beta parameters must be positive, got a = ${a}, b = ${b}`);
  if (!(x >= 0 && x <= 1)) throw new BasisError('INVALID_ARGUMENT', `x must be in [0, 1], got ${x}`);
  if (x === 0 || x === 1) return x;
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  const front = Math.exp(lnFront);
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** CDF of Student's t distribution with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new BasisError('INVALID_ARGUMENT', `df must be positive, got ${df}`);
  if (Number.isNaN(t)) throw new BasisError('NON_FINITE_INPUT', 't is NaN');
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  const x = df / (df + t * t);
  const tail = 0.5 * regularizedIncompleteBeta(x, df / 2, 0.5);
  return t > 0 ? 1 - tail : tail;
}

/** Quantile (inverse CDF) of Student's t: bisection on a bracket, then Newton polishing. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new BasisError('INVALID_ARGUMENT', `p must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new BasisError('INVALID_ARGUMENT', `df must be positive, got ${df}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-15 * Math.max(1, hi); i++) {
    const mid = 0.5 * (lo + hi);
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  let t = 0.5 * (lo + hi);
  // Newton steps with the t density
  const lnC = logGamma((df + 1) / 2) - logGamma(df / 2) - 0.5 * Math.log(df * Math.PI);
  for (let i = 0; i < 3; i++) {
    const pdf = Math.exp(lnC - ((df + 1) / 2) * Math.log1p((t * t) / df));
    const step = (studentTCdf(t, df) - p) / pdf;
    if (!Number.isFinite(step)) break;
    t -= step;
  }
  return t;
}

/** A two-sided confidence interval. */
export interface Interval {
  estimate: number;
  lower: number;
  upper: number;
  level: number;
}

/**
 * Student-t confidence interval for the mean of `values` (two-sided, default level 0.95).
 *
 * @example
 * ```ts
 * tInterval([0.81, 0.84, 0.79, 0.83, 0.80]); // { estimate: 0.814, lower: ..., upper: ..., level: 0.95 }
 * ```
 */
export function tInterval(values: ArrayLike<number>, level = 0.95): Interval {
  checkValues(values, 2, 'tInterval');
  checkLevel(level);
  const m = mean(values);
  const se = std(values) / Math.sqrt(values.length);
  const q = studentTQuantile(1 - (1 - level) / 2, values.length - 1);
  return { estimate: m, lower: m - q * se, upper: m + q * se, level };
}

/**
 * Percentile bootstrap confidence interval of a statistic (default: the mean) of `values`,
 * resampling with replacement `resamples` times with a seeded `rng`.
 *
 * @example
 * ```ts
 * bootstrapCI(scores, { rng: createRng(0), resamples: 2000, level: 0.9 });
 * ```
 */
export function bootstrapCI(
  values: ArrayLike<number>,
  opts: { rng: Rng; resamples?: number; level?: number; statistic?: (sample: Float64Array) => number },
): Interval {
  checkValues(values, 2, 'bootstrapCI');
  const level = opts.level ?? 0.95;
  checkLevel(level);
  const B = opts.resamples ?? 2000;
  if (!Number.isInteger(B) || B < 10) throw new BasisError('INVALID_ARGUMENT', `resamples must be an integer >= 10, got ${B}`);
  const stat = opts.statistic ?? ((s: Float64Array) => mean(s));
  const n = values.length;
  const sample = new Float64Array(n);
  const stats = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < n; i++) sample[i] = values[opts.rng.int(n)] as number;
    const v = stat(sample);
    if (!Number.isFinite(v)) throw new BasisError('NON_FINITE_INPUT', `the statistic returned ${v} on bootstrap resample ${b}`);
    stats[b] = v;
  }
  stats.sort();
  const q = (p: number): number => {
    const pos = p * (B - 1);
    const i = Math.floor(pos);
    const f = pos - i;
    return i + 1 < B ? (stats[i] as number) * (1 - f) + (stats[i + 1] as number) * f : (stats[i] as number);
  };
  return { estimate: stat(Float64Array.from(values)), lower: q((1 - level) / 2), upper: q(1 - (1 - level) / 2), level };
}

/**
 * Permutation-test p-value of an observed statistic against samples from the null,
 * `(1 + #{null at least as extreme}) / (1 + #null)` (never 0).
 */
export function permutationPValue(
  observed: number,
  nullSamples: ArrayLike<number>,
  opts: { alternative?: 'greater' | 'less' | 'two-sided' } = {},
): number {
  checkValues(nullSamples, 1, 'permutationPValue');
  if (!Number.isFinite(observed)) throw new BasisError('NON_FINITE_INPUT', `observed statistic is ${observed}`);
  const alt = opts.alternative ?? 'greater';
  const m = alt === 'two-sided' ? mean(nullSamples) : 0;
  let count = 0;
  for (let i = 0; i < nullSamples.length; i++) {
    const v = nullSamples[i] as number;
    if (alt === 'greater' ? v >= observed : alt === 'less' ? v <= observed : Math.abs(v - m) >= Math.abs(observed - m)) count++;
  }
  return (count + 1) / (nullSamples.length + 1);
}
