import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BasisError, createRng, randn } from '@basis/tensor';
import { StreamingLinearCka, metric, permutationTest } from './index.js';

describe('StreamingLinearCka', () => {
  it('equals exact linear CKA for any split into batches, also with large offsets', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 6 }), (seed, sizes) => {
        const rng = createRng(seed);
        const n = sizes.reduce((a, b) => a + b, 0) + 3;
        const X = randn(n, 4, rng);
        const Y = randn(n, 3, rng);
        for (let k = 0; k < X.data.length; k++) X.data[k] = (X.data[k] as number) + 1e4;
        for (let i = 0; i < n; i++) Y.set(i, 0, Y.get(i, 0) + X.get(i, 1));
        const s = new StreamingLinearCka();
        let start = 0;
        for (const b of [...sizes, 3]) {
          s.update(X.slice(start, start + b), Y.slice(start, start + b));
          start += b;
        }
        return s.rows === n && Math.abs(s.value() - metric('cka.linear', X, Y).value) < 1e-9;
      }),
      { numRuns: 60 },
    );
  });
  it('rejects width changes, NaN and too few rows', () => {
    const s = new StreamingLinearCka();
    expect(() => s.value()).toThrow(BasisError);
    s.update(randn(2, 3, createRng(1)), randn(2, 2, createRng(2)));
    expect(() => s.update(randn(2, 4, createRng(1)), randn(2, 2, createRng(2)))).toThrow(/widths/);
    const bad = randn(2, 3, createRng(3));
    bad.set(0, 0, NaN);
    expect(() => s.update(bad, randn(2, 2, createRng(2)))).toThrow(BasisError);
  });
});

describe('permutationTest', () => {
  it('finds shared structure significant and independent data not', () => {
    const rng = createRng(8);
    const X = randn(60, 5, rng);
    const noise = randn(60, 5, rng);
    const Y = X.clone();
    for (let k = 0; k < Y.data.length; k++) Y.data[k] = (Y.data[k] as number) + 0.5 * (noise.data[k] as number);
    const related = permutationTest('cka.linear', X, Y, { rng: createRng(1), permutations: 99 });
    expect(related.pValue).toBe(0.01);
    const unrelated = permutationTest('cka.linear', X, randn(60, 5, rng), { rng: createRng(1), permutations: 99 });
    expect(unrelated.pValue).toBeGreaterThan(0.05);
    const dist = permutationTest('procrustes.angular', X, Y, { rng: createRng(1), permutations: 19 });
    expect(dist.pValue).toBe(0.05);
    expect(() => permutationTest('cka.linear', X, Y, { rng: createRng(1), permutations: 0 })).toThrow(BasisError);
  });
});
