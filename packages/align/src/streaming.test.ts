import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BasisError, createRng, randn } from '@basis/tensor';
import { haarOrthogonal, matmul, readNpyMatrix } from '@basis/tensor';
import { fixtureBytes } from '@basis/test-utils';
import { MinibatchLinearCka, StreamingLinearCka, metric, permutationTest } from './index.js';

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

describe('MinibatchLinearCka', () => {
  const X = readNpyMatrix(fixtureBytes('metrics/kornblith-100x10/X.npy'));
  const Y = readNpyMatrix(fixtureBytes('metrics/kornblith-100x10/Y.npy'));
  it('one batch of all rows equals the debiased CKA (cka.linear.unbiased), also uncentred and shifted', () => {
    const m = new MinibatchLinearCka();
    const shifted = X.clone();
    for (let k = 0; k < shifted.data.length; k++) shifted.data[k] = (shifted.data[k] as number) + 50 + (k % 10);
    m.update(shifted, Y);
    expect(Math.abs(m.value() - metric('cka.linear.unbiased', X, Y).value)).toBeLessThan(1e-12);
    expect(Math.abs(m.value() - 0.5134564895)).toBeLessThan(1e-10); // anchors-metrics §5 (ckatorch, anatome, Kornblith)
  });
  it('4 batches of 25 match ckatorch cka_batch on the Kornblith fixture (anchors-metrics §5)', () => {
    const m = new MinibatchLinearCka();
    for (let b = 0; b < 4; b++) m.update(X.slice(25 * b, 25 * b + 25), Y.slice(25 * b, 25 * b + 25));
    expect(m.batches).toBe(4);
    expect(m.rows).toBe(100);
    expect(Math.abs(m.value() - 0.5132675064)).toBeLessThan(1e-9);
  });
  it('is invariant to rotations and isotropic scaling of a side, and rejects bad batches', () => {
    const rng = createRng(4);
    const A = randn(80, 5, rng);
    const B = randn(80, 4, rng);
    for (let i = 0; i < 80; i++) B.set(i, 0, B.get(i, 0) + A.get(i, 2));
    const run = (P: typeof A, Q: typeof B) => {
      const m = new MinibatchLinearCka();
      for (let s = 0; s < 80; s += 20) m.update(P.slice(s, s + 20), Q.slice(s, s + 20));
      return m.value();
    };
    const base = run(A, B);
    const scaled = A.clone();
    for (let k = 0; k < scaled.data.length; k++) scaled.data[k] = (scaled.data[k] as number) * 1e3;
    expect(Math.abs(run(scaled, B) - base)).toBeLessThan(1e-12);
    expect(Math.abs(run(A, matmul(B, haarOrthogonal(4, rng))) - base)).toBeLessThan(1e-12);
    const m = new MinibatchLinearCka();
    expect(() => m.value()).toThrow(BasisError);
    expect(() => m.update(A.slice(0, 3), B.slice(0, 3))).toThrow(/at least 4 rows/);
    m.update(A.slice(0, 10), B.slice(0, 10));
    expect(() => m.update(B.slice(0, 10), B.slice(0, 10))).toThrow(/widths/);
    expect(() => m.update(A.slice(0, 10), B.slice(0, 9))).toThrow(BasisError);
  });
});

describe('streaming CKA at extreme scales (issue 16)', () => {
  const times = (M: ReturnType<typeof randn>, c: number) => {
    const out = M.clone();
    for (let k = 0; k < out.data.length; k++) out.data[k] = (out.data[k] as number) * c;
    return out;
  };
  it('StreamingLinearCka and MinibatchLinearCka give the unscaled value from 1e-300 to 1e300, both sides or one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e9 }),
        fc.oneof(fc.double({ min: -300, max: 300, noNaN: true }), fc.constantFrom(-300, 300)),
        fc.constantFrom('both', 'X', 'Y'),
        (seed, e, which) => {
          const rng = createRng(seed);
          const X = randn(60, 4, rng);
          const Y = randn(60, 3, rng);
          for (let i = 0; i < 60; i++) Y.set(i, 0, Y.get(i, 0) + X.get(i, 1));
          const c = 10 ** e;
          const Xs = which === 'Y' ? X : times(X, c);
          const Ys = which === 'X' ? Y : times(Y, c);
          const feed = (m: { update: (a: typeof X, b: typeof Y) => void; value: () => number }, A: typeof X, B: typeof Y) => {
            for (let s = 0; s < 60; s += 15) m.update(A.slice(s, s + 15), B.slice(s, s + 15));
            return m.value();
          };
          const exact = metric('cka.linear', X, Y).value;
          expect(Math.abs(feed(new StreamingLinearCka(), Xs, Ys) - exact)).toBeLessThan(1e-12);
          const mini = feed(new MinibatchLinearCka(), X, Y);
          expect(Math.abs(feed(new MinibatchLinearCka(), Xs, Ys) - mini)).toBeLessThan(1e-12);
        },
      ),
      { numRuns: 30 },
    );
  });
  it('a later batch far larger than the first raises the scale instead of overflowing', () => {
    const rng = createRng(11);
    const X = randn(40, 3, rng);
    const Y = randn(40, 2, rng);
    for (let i = 0; i < 40; i++) Y.set(i, 1, Y.get(i, 1) + X.get(i, 0));
    // rows 20..39 are 1e250 times larger: the exact statistic is dominated by them
    const grow = (M: typeof X) => {
      const out = M.clone();
      for (let k = (out.data.length / 2) | 0; k < out.data.length; k++) out.data[k] = (out.data[k] as number) * 1e250;
      return out;
    };
    const s = new StreamingLinearCka();
    s.update(grow(X).slice(0, 20), grow(Y).slice(0, 20));
    s.update(grow(X).slice(20, 40), grow(Y).slice(20, 40));
    const want = metric('cka.linear', grow(X), grow(Y)).value;
    expect(Math.abs(s.value() - want)).toBeLessThan(1e-9);
    const m = new MinibatchLinearCka();
    m.update(X.slice(0, 20), Y.slice(0, 20));
    m.update(times(X.slice(20, 40), 1e250), times(Y.slice(20, 40), 1e250));
    const second = new MinibatchLinearCka();
    second.update(X.slice(20, 40), Y.slice(20, 40));
    // the first batch's HSICs are ~1e-1000 of the second's: the value is the second batch's alone
    expect(Math.abs(m.value() - second.value())).toBeLessThan(1e-12);
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
