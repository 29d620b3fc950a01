import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fixtureBytes, fixtureJson, metricCases } from '@basis/test-utils';
import { BasisError } from '../errors.js';
import { Matrix } from '../matrix.js';
import { readNpyMatrix } from '../index.js';
import { createRng, randn } from '../index.js';
import {
  applyCentering,
  bootstrapCI,
  center,
  corrMatrix,
  kfold,
  normalizeColumns,
  pearson,
  permutationPValue,
  studentTCdf,
  studentTQuantile,
  tInterval,
} from '../index.js';

describe('centring and normalisation', () => {
  it('centred columns sum to ~0 and the means centre held-out rows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), (seed) => {
        const X = randn(20, 4, createRng(seed));
        for (let k = 0; k < X.data.length; k++) X.data[k] = (X.data[k] as number) * 1e3 + 5e6;
        const { centred, means } = center(X);
        for (let j = 0; j < 4; j++) {
          let s = 0;
          for (let i = 0; i < 20; i++) s += centred.get(i, j);
          if (Math.abs(s) > 1e-6) return false;
        }
        return applyCentering(X, means).data.every((v, k) => v === centred.data[k]);
      }),
      { numRuns: 50 },
    );
  });
  it('keeps, drops or rejects zero columns as asked', () => {
    const X = Matrix.from([
      [3, 0, 1],
      [4, 0, 1],
    ]);
    const keep = normalizeColumns(X);
    expect(keep.normalized.toArray()).toEqual([
      [0.6, 0, 1 / Math.SQRT2],
      [0.8, 0, 1 / Math.SQRT2],
    ]);
    expect(keep.zeroColumns).toEqual([1]);
    const drop = normalizeColumns(X, { zeroPolicy: 'drop' });
    expect(drop.normalized.cols).toBe(2);
    expect(drop.kept).toEqual([0, 2]);
    expect(() => normalizeColumns(X, { zeroPolicy: 'error' })).toThrow(/column\(s\) 1/);
  });
  it('the rankdef fixture has its documented zero-variance unit', () => {
    const X = readNpyMatrix(fixtureBytes('metrics/rankdef-150x10/X.npy'));
    const details = fixtureJson<{ zero_variance_units: { X: number[] } | number[] }>('metrics/rankdef-150x10/details.json');
    const zv = Array.isArray(details.zero_variance_units) ? details.zero_variance_units : details.zero_variance_units.X;
    const { zeroVarianceX } = corrMatrix(X, X);
    expect(zeroVarianceX).toEqual(zv);
  });
});

describe('Pearson correlation matrices', () => {
  it('lie in [-1, 1], have a unit diagonal, and ignore per-unit positive scaling and translation', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), (seed) => {
        const rng = createRng(seed);
        const X = randn(15, 3, rng);
        const Y = randn(15, 2, rng);
        const { corr } = corrMatrix(X, Y);
        if (!corr.data.every((v) => v >= -1 && v <= 1)) return false;
        const self = corrMatrix(X, X).corr;
        if (![0, 1, 2].every((j) => Math.abs(self.get(j, j) - 1) < 1e-14)) return false;
        const Xs = X.clone();
        for (let i = 0; i < 15; i++) for (let j = 0; j < 3; j++) Xs.set(i, j, X.get(i, j) * (j + 0.5) + 7 * j);
        const moved = corrMatrix(Xs, Y).corr;
        return moved.data.every((v, k) => Math.abs(v - (corr.data[k] as number)) < 1e-12);
      }),
      { numRuns: 50 },
    );
  });
  it('gives 0 (or NaN on request) for zero-variance units and reports them', () => {
    const X = Matrix.from([
      [1, 2],
      [1, 3],
      [1, 5],
    ]);
    const r = corrMatrix(X, X);
    expect(r.corr.get(0, 1)).toBe(0);
    expect(r.zeroVarianceX).toEqual([0]);
    expect(Number.isNaN(corrMatrix(X, X, { zeroVariance: 'nan' }).corr.get(0, 0))).toBe(true);
    expect(pearson([1, 2, 3], [2, 4, 6.5])).toBeCloseTo(0.9979487157886733, 14);
    expect(pearson([1, 1, 1], [1, 2, 3])).toBe(0);
  });
  it('rejects mismatched rows, NaN and too few rows', () => {
    expect(() => corrMatrix(Matrix.from([[1], [2]]), Matrix.from([[1], [2], [3]]))).toThrow(BasisError);
    expect(() => corrMatrix(Matrix.from([[1], [NaN]]), Matrix.from([[1], [2]]))).toThrow(/NaN/);
    expect(() => corrMatrix(Matrix.from([[1]]), Matrix.from([[1]]))).toThrow(/at least 2/);
  });
});

describe('k-fold splits', () => {
  it('reproduce the contiguous folds of every fixture case', () => {
    for (const c of metricCases()) {
      const d = fixtureJson<{ folds: [number, number][]; shape: { X: number[] } | number[] }>(`metrics/${c}/details.json`);
      const n = readNpyMatrix(fixtureBytes(`metrics/${c}/X.npy`)).rows;
      const folds = kfold(n, 5);
      expect(folds.map((f) => [f.test[0], (f.test[f.test.length - 1] as number) + 1])).toEqual(d.folds);
      for (const f of folds) expect(f.train.length + f.test.length).toBe(n);
    }
  });
  it('partition the rows, also when shuffled by seed', () => {
    const folds = kfold(23, 4, { shuffle: true, rng: createRng(1) });
    const all = folds.flatMap((f) => [...f.test]).sort((a, b) => a - b);
    expect(all).toEqual([...Array(23).keys()]);
    expect(folds.map((f) => f.test.length)).toEqual([6, 6, 6, 5]);
    expect(kfold(23, 4, { shuffle: true, rng: createRng(1) })[0]?.test).toEqual(folds[0]?.test);
    expect(() => kfold(3, 5)).toThrow(BasisError);
    expect(() => kfold(10, 1)).toThrow(BasisError);
    expect(() => kfold(10, 2, { shuffle: true })).toThrow(/rng/);
  });
});

describe('intervals and tests', () => {
  it('Student t quantiles match tables to 1e-10', () => {
    expect(studentTQuantile(0.975, 4)).toBeCloseTo(2.7764451051977987, 10);
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.706204736174698, 9);
    expect(studentTQuantile(0.95, 10)).toBeCloseTo(1.8124611228107335, 10);
    expect(studentTQuantile(0.975, 1e7)).toBeCloseTo(1.959963984540054, 6);
    expect(studentTQuantile(0.025, 4)).toBeCloseTo(-2.7764451051977987, 10);
    expect(studentTCdf(0, 3)).toBeCloseTo(0.5, 15);
  });
  it('t interval covers the mean with the right half-width', () => {
    const r = tInterval([1, 2, 3, 4, 5]);
    expect(r.estimate).toBe(3);
    expect(r.upper - r.estimate).toBeCloseTo((2.7764451051977987 * Math.sqrt(2.5)) / Math.sqrt(5), 9);
    expect(() => tInterval([1])).toThrow(BasisError);
    expect(() => tInterval([1, NaN])).toThrow(BasisError);
  });
  it('bootstrap interval is seeded and brackets the estimate', () => {
    const v = Array.from({ length: 40 }, (_, i) => Math.sin(i) + 2);
    const a = bootstrapCI(v, { rng: createRng(4), resamples: 500 });
    const b = bootstrapCI(v, { rng: createRng(4), resamples: 500 });
    expect(a).toEqual(b);
    expect(a.lower).toBeLessThan(a.estimate);
    expect(a.upper).toBeGreaterThan(a.estimate);
  });
  it('permutation p-values are (count + 1) / (n + 1)', () => {
    expect(permutationPValue(5, [1, 2, 3, 6])).toBe(2 / 5);
    expect(permutationPValue(10, [1, 2, 3])).toBe(1 / 4);
    expect(permutationPValue(0, [1, 2, 3], { alternative: 'less' })).toBe(1 / 4);
  });
});
