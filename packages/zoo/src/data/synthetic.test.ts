import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { classCounts, createTeacherMlp, gaussianMixture, modularAddition, teacherDataset, teacherForward } from '../index.js';
import { thrownCode } from '@basis/test-utils';

describe('gaussianMixture', () => {
  it('has exact class counts, means at the given distance and the given spread', () => {
    const ds = gaussianMixture({ n: 3000, numClasses: 3, dim: 4, separation: 5, std: 0.5, seed: 1 });
    expect(ds.shape).toEqual([4]);
    expect(Array.from(classCounts(ds))).toEqual([1000, 1000, 1000]);
    const means = ds.meta['means'] as number[][];
    for (const m of means) expect(Math.hypot(...m)).toBeCloseTo(5, 10);
    for (let k = 0; k < 3; k++) {
      const sum = new Float64Array(4);
      const sq = new Float64Array(4);
      let c = 0;
      for (let i = 0; i < ds.n; i++) {
        if (ds.labels[i] !== k) continue;
        c++;
        for (let d = 0; d < 4; d++) {
          sum[d]! += ds.x[i * 4 + d]!;
          sq[d]! += ds.x[i * 4 + d]! ** 2;
        }
      }
      for (let d = 0; d < 4; d++) {
        const mu = sum[d]! / c;
        expect(Math.abs(mu - means[k]![d]!)).toBeLessThan(0.06); // 4 standard errors of 0.5/sqrt(1000)
        expect(Math.sqrt(sq[d]! / c - mu * mu)).toBeCloseTo(0.5, 1);
      }
    }
  });
  it('is reproducible by seed, honours weights, validates', () => {
    const a = gaussianMixture({ n: 50, numClasses: 2, dim: 2, seed: 3 });
    const b = gaussianMixture({ n: 50, numClasses: 2, dim: 2, seed: 3 });
    const c = gaussianMixture({ n: 50, numClasses: 2, dim: 2, seed: 4 });
    expect(Array.from(a.x)).toEqual(Array.from(b.x));
    expect(Array.from(a.x)).not.toEqual(Array.from(c.x));
    expect(Array.from(classCounts(gaussianMixture({ n: 10, numClasses: 3, dim: 1, weights: [1, 2, 2] })))).toEqual([2, 4, 4]);
    expect(thrownCode(() => gaussianMixture({ n: 2, numClasses: 3, dim: 2 }))).toBe('TOO_SMALL');
    expect(thrownCode(() => gaussianMixture({ n: 10, numClasses: 1, dim: 2 }))).toBe('INVALID_ARGUMENT');
    expect(thrownCode(() => gaussianMixture({ n: 10, numClasses: 2, dim: 2, std: Infinity }))).toBe('NON_FINITE_INPUT');
    expect(thrownCode(() => gaussianMixture({ n: 10, numClasses: 2, dim: 2, weights: [1] }))).toBe('SHAPE_MISMATCH');
    expect(thrownCode(() => gaussianMixture({ n: 10, numClasses: 2, dims: 2 } as never))).toBe('CONFIG_INVALID');
  });
});

describe('teacher networks', () => {
  const teacher = createTeacherMlp({ inputDim: 6, hidden: [16, 8], outputDim: 4, seed: 9 });
  it('has seeded PyTorch-layout weights', () => {
    expect(teacher.layers.map((l) => [l.name, l.weight.rows, l.weight.cols])).toEqual([
      ['layers.0', 16, 6],
      ['layers.1', 8, 16],
      ['layers.2', 4, 8],
    ]);
    const again = createTeacherMlp({ inputDim: 6, hidden: [16, 8], outputDim: 4, seed: 9 });
    expect(Array.from(again.layers[1]!.weight.data)).toEqual(Array.from(teacher.layers[1]!.weight.data));
    const other = createTeacherMlp({ inputDim: 6, hidden: [16, 8], outputDim: 4, seed: 10 });
    expect(Array.from(other.layers[1]!.weight.data)).not.toEqual(Array.from(teacher.layers[1]!.weight.data));
  });
  it('forward is the documented MLP (checked by hand for a linear teacher)', () => {
    const lin = createTeacherMlp({ inputDim: 2, hidden: [], outputDim: 1, seed: 0 });
    const W = lin.layers[0]!.weight.data;
    const b = lin.layers[0]!.bias[0]!;
    const y = teacherForward(lin, [1, 2, -3, 0.5]);
    expect(y[0]).toBeCloseTo(W[0]! * 1 + W[1]! * 2 + b, 12);
    expect(y[1]).toBeCloseTo(W[0]! * -3 + W[1]! * 0.5 + b, 12);
    expect(thrownCode(() => teacherForward(lin, [1, 2, 3]))).toBe('SHAPE_MISMATCH');
    expect(thrownCode(() => teacherForward(lin, [1, NaN]))).toBe('NON_FINITE_INPUT');
  });
  it('regression targets equal the teacher outputs (plus the requested noise)', () => {
    const ds = teacherDataset({ teacher, n: 200, seed: 1 });
    expect(ds.kind).toBe('regression');
    expect(ds.targetDim).toBe(4);
    const y = teacherForward(teacher, ds.x);
    for (let k = 0; k < y.length; k++) expect(ds.targets[k]).toBeCloseTo(y[k]!, 5);
    const noisy = teacherDataset({ teacher, n: 4000, seed: 1, noiseStd: 0.3 });
    const clean = teacherForward(teacher, noisy.x);
    let q = 0;
    for (let k = 0; k < clean.length; k++) q += (noisy.targets[k]! - clean[k]!) ** 2;
    expect(Math.sqrt(q / clean.length)).toBeCloseTo(0.3, 1);
  });
  it('classification labels are the argmax of the outputs; all classes occur', () => {
    const ds = teacherDataset({ teacher, n: 500, task: 'classification', seed: 2 });
    expect(ds.numClasses).toBe(4);
    const y = teacherForward(teacher, ds.x);
    for (let i = 0; i < ds.n; i++) {
      const row = Array.from(y.subarray(i * 4, i * 4 + 4));
      expect(ds.labels[i]).toBe(row.indexOf(Math.max(...row)));
    }
    expect(Array.from(classCounts(ds)).every((c) => c > 0)).toBe(true);
    const u = teacherDataset({ teacher, n: 100, task: 'classification', inputDistribution: 'uniform', inputStd: 2, seed: 2 });
    expect(Math.max(...Array.from(u.x).map(Math.abs))).toBeLessThanOrEqual(2);
  });
  it('validates', () => {
    expect(thrownCode(() => teacherDataset({ teacher: createTeacherMlp({ inputDim: 2, seed: 0 }), n: 10, task: 'classification' }))).toBe('CONFIG_INVALID');
    expect(thrownCode(() => teacherDataset({ teacher, n: 0 }))).toBe('INVALID_ARGUMENT');
    expect(thrownCode(() => teacherDataset({ teacher, n: 10, task: 'ranking' as never }))).toBe('CONFIG_INVALID');
    expect(thrownCode(() => createTeacherMlp({ inputDim: 2, activation: 'swish' as never }))).toBe('CONFIG_INVALID');
    expect(thrownCode(() => createTeacherMlp({ inputDim: 2, hidden: [0] }))).toBe('INVALID_ARGUMENT');
  });
});

describe('modularAddition', () => {
  it('has all p² pairs with correct labels, split by seed', () => {
    const p = 13;
    const { train, test, all } = modularAddition({ p, trainFraction: 0.3, seed: 5 });
    expect(all.n).toBe(p * p);
    expect(train.n).toBe(Math.round(0.3 * p * p));
    expect(train.n + test.n).toBe(p * p);
    expect(new Set([...train.sourceIndex, ...test.sourceIndex]).size).toBe(p * p);
    for (const ds of [train, test, all]) {
      for (let i = 0; i < ds.n; i++) {
        const a = ds.x[3 * i]!;
        const b = ds.x[3 * i + 1]!;
        expect(ds.x[3 * i + 2]).toBe(p);
        expect(ds.labels[i]).toBe((a + b) % p);
        expect(ds.sourceIndex[i]).toBe(a * p + b);
      }
    }
    const pairs = new Set<string>();
    for (let i = 0; i < all.n; i++) pairs.add(`${all.x[3 * i]},${all.x[3 * i + 1]}`);
    expect(pairs.size).toBe(p * p);
    expect(all.meta['vocabSize']).toBe(p + 1);
    const again = modularAddition({ p, trainFraction: 0.3, seed: 5 });
    expect(Array.from(again.train.sourceIndex)).toEqual(Array.from(train.sourceIndex));
    const other = modularAddition({ p, trainFraction: 0.3, seed: 6 });
    expect(new Set(other.train.sourceIndex)).not.toEqual(new Set(train.sourceIndex));
  });
  it('one-hot encoding: two ones at a and p + b', () => {
    const p = 7;
    const { all } = modularAddition({ p, encoding: 'onehot' });
    expect(all.shape).toEqual([14]);
    for (let i = 0; i < all.n; i++) {
      const row = Array.from(all.x.subarray(i * 14, i * 14 + 14));
      const a = row.indexOf(1);
      const b = row.indexOf(1, p) - p;
      expect(row.reduce((s, v) => s + v, 0)).toBe(2);
      expect(all.labels[i]).toBe((a + b) % p);
    }
  });
  it('property: labels are (a + b) mod p for any p and fraction', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 30 }), fc.double({ min: 0.05, max: 0.95, noNaN: true }), fc.nat(100), (p, f, seed) => {
        const n = Math.round(f * p * p);
        if (n < 1 || n > p * p - 1) return;
        const { train, test } = modularAddition({ p, trainFraction: f, seed });
        expect(train.n).toBe(n);
        for (const ds of [train, test]) for (let i = 0; i < ds.n; i++) expect(ds.labels[i]).toBe((ds.x[3 * i]! + ds.x[3 * i + 1]!) % p);
      }),
      { numRuns: 40 },
    );
  });
  it('validates', () => {
    expect(thrownCode(() => modularAddition({ p: 1 }))).toBe('INVALID_ARGUMENT');
    expect(thrownCode(() => modularAddition({ p: 2, trainFraction: 0.01 }))).toBe('TOO_SMALL');
    expect(thrownCode(() => modularAddition({ p: 5, trainFraction: 1 }))).toBe('INVALID_ARGUMENT');
    expect(thrownCode(() => modularAddition({ p: 5, encoding: 'binary' as never }))).toBe('CONFIG_INVALID');
  });
});
