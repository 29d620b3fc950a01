// Intervals of recipe estimates: the cluster (lineage-level) interval against the naive t interval
// on planted hierarchical data, where values within a cluster share a random effect.
import { describe, expect, it } from 'vitest';
import { createRng } from '@basis/tensor';
import { thrownCode as code } from '@basis/test-utils';
import { clusterEstimate, estimate, formatEstimate } from './estimate.js';

/** `clusters` lineages of `per` values: mu + b_c + e, b ~ N(0, sb), e ~ N(0, sw). */
function hierarchical(rng: ReturnType<typeof createRng>, mu: number, clusters: number, per: number, sb: number, sw: number): { values: number[]; labels: number[] } {
  const values: number[] = [];
  const labels: number[] = [];
  for (let c = 0; c < clusters; c++) {
    const b = sb * rng.normal();
    for (let k = 0; k < per; k++) {
      values.push(mu + b + sw * rng.normal());
      labels.push(c);
    }
  }
  return { values, labels };
}

describe('clusterEstimate', () => {
  it('covers the true mean about 95% of the time on clustered data, where the naive t interval over all values is too narrow', () => {
    // E004-1's design: 5 parent lineages x 3 spawn points; lineages differ more than pairs within one
    const rng = createRng('cluster-coverage');
    const mu = 0.1;
    const reps = 1000;
    let naive = 0;
    let cluster = 0;
    let widthRatio = 0;
    for (let r = 0; r < reps; r++) {
      const { values, labels } = hierarchical(rng, mu, 5, 3, 0.05, 0.005);
      const a = estimate(values);
      const b = clusterEstimate(values, labels);
      if (a.lo <= mu && mu <= a.hi) naive++;
      if (b.lo <= mu && mu <= b.hi) cluster++;
      widthRatio += (b.hi - b.lo) / (a.hi - a.lo) / reps;
    }
    // naive: SE sigma_b/sqrt(15) with t(14) against the true sigma_b/sqrt(5): ~75% coverage
    expect(naive / reps).toBeLessThan(0.85);
    expect(cluster / reps).toBeGreaterThan(0.92);
    expect(cluster / reps).toBeLessThan(0.98);
    expect(widthRatio).toBeGreaterThan(1.5);
  });

  it('agrees with the t interval when every cluster holds one value, and with a t interval over cluster means otherwise', () => {
    const v = [0.3, 0.1, 0.25, 0.2];
    const a = estimate(v);
    const b = clusterEstimate(v, [0, 1, 2, 3]);
    expect(b.lo).toBeCloseTo(a.lo, 12);
    expect(b.hi).toBeCloseTo(a.hi, 12);
    expect(b.method).toBe('cluster-t95');
    // unequal cluster sizes: each cluster weighs the same
    const c = clusterEstimate([1, 1, 1, 1, 3, 5], ['a', 'a', 'a', 'a', 'b', 'c']);
    const m = estimate([1, 3, 5]);
    expect(c.mean).toBeCloseTo(3, 12);
    expect([c.lo, c.hi, c.n]).toEqual([m.lo, m.hi, 3]);
    expect(formatEstimate(c)).toMatch(/\(n = 3 clusters\)$/);
  });

  it('gives no interval from one cluster, and rejects bad input', () => {
    const one = clusterEstimate([0.1, 0.2, 0.3], [7, 7, 7]);
    expect(one.method).toBe('none');
    expect(one.n).toBe(1);
    expect(code(() => clusterEstimate([0.1, 0.2], [0]))).toBe('SHAPE_MISMATCH');
    expect(code(() => clusterEstimate([0.1, NaN], [0, 1]))).toBe('NON_FINITE_INPUT');
    expect(code(() => clusterEstimate([0.1, 0.2], [0, Infinity]))).toBe('INVALID_ARGUMENT');
    expect(code(() => clusterEstimate([], []))).toBe('TOO_SMALL');
  });
});
