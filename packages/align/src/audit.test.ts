import { describe, expect, it } from 'vitest';
import type { Matrix} from '@basis/tensor';
import { BasisError, createRng, randn } from '@basis/tensor';
import { compareLayers, metric } from './index.js';

describe('compareLayers', () => {
  const rng = createRng(3);
  const A = { l1: randn(50, 4, rng), l2: randn(50, 6, rng), l3: randn(50, 3, rng) };
  const B: [string, Matrix][] = [
    ['m1', randn(50, 5, rng)],
    ['m2', A.l2.clone()],
  ];
  it('equals the per-pair metric values, in layer order, and reports progress', () => {
    const seen: number[] = [];
    const audit = compareLayers(A, B, ['cka.linear', 'cca.mean_rho', 'permcorr'], { onProgress: (d, t) => seen.push(d / t) });
    expect(audit.layersA).toEqual(['l1', 'l2', 'l3']);
    expect(audit.layersB).toEqual(['m1', 'm2']);
    for (const id of audit.metrics) {
      for (const [i, [, x]] of Object.entries(A).entries()) {
        for (const [j, [, y]] of B.entries()) expect(audit.values[id]![i]![j]).toBe(metric(id, x, y).value);
      }
    }
    expect(audit.values['cka.linear']![1]![1]).toBeCloseTo(1, 12);
    expect(seen).toHaveLength(18);
    expect(seen[17]).toBe(1);
  });
  it('rejects layers with different row counts, NaN, duplicates and empty inputs', () => {
    expect(() => compareLayers({ a: randn(50, 2, rng) }, { b: randn(40, 2, rng) })).toThrow(/same inputs/);
    const bad = randn(50, 2, rng);
    bad.set(3, 1, NaN);
    expect(() => compareLayers({ a: bad }, { b: randn(50, 2, rng) }, ['cka.linear'])).toThrow(BasisError);
    expect(() => compareLayers([['a', bad], ['a', bad]], { b: bad })).toThrow(/two layers named/);
    expect(() => compareLayers({}, { b: bad })).toThrow(/no layers/);
    expect(() => compareLayers({ a: A.l1 }, { b: A.l1 }, [])).toThrow(/no metric/);
  });
});
