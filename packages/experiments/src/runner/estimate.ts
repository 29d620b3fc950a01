// Confidence intervals over seeds or pairs for recipe results (`Estimate` of the recipe contract),
// built on @basis/tensor's t interval and bootstrap.
import { BasisError, bootstrapCI, createRng, mean, tInterval } from '@basis/tensor';
import type { Estimate } from '../recipes/types.js';

function finite(values: ArrayLike<number>, what: string): number[] {
  const v = Array.from(values);
  if (v.length === 0) throw new BasisError('TOO_SMALL', `${what}: no values to estimate from`);
  v.forEach((x, i) => {
    if (!Number.isFinite(x)) throw new BasisError('NON_FINITE_INPUT', `${what}: value ${i} is ${String(x)}; an estimate needs finite values`);
  });
  return v;
}

/**
 * Mean and two-sided 95% Student-t interval of independent values (seeds, pairs, conditions).
 * With one value the interval is that value and `method` is `'none'`; identical values give a
 * zero-width interval.
 *
 * @example
 * ```ts
 * estimate([0.81, 0.84, 0.79]); // { mean: 0.813, lo: 0.75, hi: 0.876, n: 3, method: 't95' }
 * ```
 */
export function estimate(values: ArrayLike<number>, what = 'estimate'): Estimate {
  const v = finite(values, what);
  if (v.length === 1) return { mean: v[0] as number, lo: v[0] as number, hi: v[0] as number, n: 1, method: 'none' };
  const t = tInterval(v, 0.95);
  return { mean: t.estimate, lo: t.lower, hi: t.upper, n: v.length, method: 't95' };
}

/**
 * Mean and 95% percentile-bootstrap interval (2000 resamples, seeded), for values that are not
 * independent enough for a t interval or are skewed.
 *
 * @example
 * ```ts
 * bootstrapEstimate([0.1, 0.4, 0.2, 0.3], 0); // { mean: 0.25, lo: ..., hi: ..., n: 4, method: 'bootstrap95' }
 * ```
 */
export function bootstrapEstimate(values: ArrayLike<number>, seed = 0, what = 'estimate'): Estimate {
  const v = finite(values, what);
  if (v.length === 1) return estimate(v, what);
  const b = bootstrapCI(v, { rng: createRng(seed), resamples: 2000, level: 0.95 });
  return { mean: mean(v), lo: b.lower, hi: b.upper, n: v.length, method: 'bootstrap95' };
}

/**
 * Mean and 95% interval of values that come in clusters of dependent values (e.g. spawned pairs
 * that share a parent lineage): a Student-t interval over the cluster means, with one degree of
 * freedom per cluster minus one. The mean is the mean of the cluster means (each cluster weighs the
 * same), and `n` is the number of clusters; with one cluster there is no interval (`method:
 * 'none'`). For a balanced design this is the interval of the grand mean in the random-intercept
 * model `y = mu + b_cluster + e`, which, unlike a t interval over all values, does not treat values
 * of one cluster as independent draws (that interval is too narrow whenever clusters differ more
 * than values within a cluster do).
 *
 * @example
 * ```ts
 * // three lineages, two pairs each
 * clusterEstimate([0.10, 0.11, 0.20, 0.21, 0.15, 0.16], [0, 0, 1, 1, 2, 2]); // n: 3, method: 'cluster-t95'
 * ```
 */
export function clusterEstimate(values: ArrayLike<number>, clusters: ArrayLike<number | string>, what = 'estimate'): Estimate {
  const v = finite(values, what);
  if (clusters.length !== v.length) throw new BasisError('SHAPE_MISMATCH', `${what}: ${v.length} values but ${clusters.length} cluster labels; give one label per value`);
  const groups = new Map<number | string, number[]>();
  for (let i = 0; i < v.length; i++) {
    const c = clusters[i] as number | string;
    if (!(typeof c === 'string' || (typeof c === 'number' && Number.isFinite(c)))) throw new BasisError('INVALID_ARGUMENT', `${what}: cluster label ${i} is ${String(c)}; labels must be finite numbers or strings`);
    const g = groups.get(c);
    if (g === undefined) groups.set(c, [v[i] as number]);
    else g.push(v[i] as number);
  }
  const means = [...groups.values()].map((g) => mean(g));
  if (means.length === 1) return { mean: means[0] as number, lo: Math.min(...v), hi: Math.max(...v), n: 1, method: 'none' };
  const t = tInterval(means, 0.95);
  return { mean: t.estimate, lo: t.lower, hi: t.upper, n: means.length, method: 'cluster-t95' };
}

/**
 * Paired differences `a[i] - b[i]` as an {@link estimate} (e.g. frozen-trunk pairs minus
 * independent pairs with the same seeds).
 *
 * @example
 * ```ts
 * difference([0.9, 0.8], [0.5, 0.6]).mean; // 0.3
 * ```
 */
export function difference(a: ArrayLike<number>, b: ArrayLike<number>, what = 'difference'): Estimate {
  if (a.length !== b.length) throw new BasisError('SHAPE_MISMATCH', `${what}: ${a.length} values against ${b.length}; paired differences need equal counts`);
  return estimate(Array.from(a, (x, i) => x - (b[i] as number)), what);
}

/**
 * `0.812 [0.75, 0.88] (n = 3)`: an estimate for report text (`digits` decimals).
 *
 * @example
 * ```ts
 * formatEstimate({ mean: 0.5, lo: 0.4, hi: 0.6, n: 4 }); // '0.500 [0.400, 0.600] (n = 4)'
 * ```
 */
export function formatEstimate(e: Estimate, digits = 3): string {
  return e.n === 1 ? `${e.mean.toFixed(digits)} (n = 1)` : `${e.mean.toFixed(digits)} [${e.lo.toFixed(digits)}, ${e.hi.toFixed(digits)}] (n = ${e.n}${e.method === 'cluster-t95' ? ' clusters' : ''})`;
}
