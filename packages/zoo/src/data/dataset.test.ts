import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRng } from '@basis/tensor';
import {
  assertDataset,
  classCounts,
  classificationDataset,
  concatDatasets,
  regressionDataset,
  reshapeDataset,
  sampleSubset,
  shuffleDataset,
  splitDataset,
  subset,
  type ClassificationDataset,
} from '../index.js';
import { thrownCode } from '@basis/test-utils';

/** n examples of dimension 2: x = [i, -i], labels cycling with the given class sizes. */
function toy(sizes: number[]): ClassificationDataset {
  const labels: number[] = [];
  sizes.forEach((s, k) => {
    for (let j = 0; j < s; j++) labels.push(k);
  });
  const n = labels.length;
  const x = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = i;
    x[2 * i + 1] = -i;
  }
  return classificationDataset({ x, shape: [2], labels, numClasses: sizes.length, name: 'toy' });
}

describe('constructors validate', () => {
  it('builds a classification dataset with defaults', () => {
    const ds = classificationDataset({ x: [0, 0, 1, 1, 2, 2], shape: [2], labels: [0, 2, 1] });
    expect(ds.n).toBe(3);
    expect(ds.numClasses).toBe(3);
    expect(ds.classNames).toEqual(['0', '1', '2']);
    expect(Array.from(ds.sourceIndex)).toEqual([0, 1, 2]);
    expect(ds.x).toBeInstanceOf(Float32Array);
    assertDataset(ds);
  });
  it('rejects bad inputs with codes', () => {
    expect(thrownCode(() => classificationDataset({ x: [0, NaN], shape: [2], labels: [0] }))).toBe('NON_FINITE_INPUT');
    expect(thrownCode(() => classificationDataset({ x: [0, Infinity], shape: [2], labels: [0] }))).toBe('NON_FINITE_INPUT');
    expect(thrownCode(() => classificationDataset({ x: [0, 1, 2], shape: [2], labels: [0] }))).toBe('SHAPE_MISMATCH');
    expect(thrownCode(() => classificationDataset({ x: [0, 1], shape: [2], labels: [0, 1] }))).toBe('SHAPE_MISMATCH');
    expect(thrownCode(() => classificationDataset({ x: [], shape: [2], labels: [] }))).toBe('TOO_SMALL');
    expect(thrownCode(() => classificationDataset({ x: [0, 1], shape: [0], labels: [0] }))).toBe('SHAPE_MISMATCH');
    expect(thrownCode(() => classificationDataset({ x: [0, 1], shape: [2], labels: [1.5] }))).toBe('INVALID_ARGUMENT');
    expect(thrownCode(() => classificationDataset({ x: [0, 1], shape: [2], labels: [3], numClasses: 2 }))).toBe('INVALID_ARGUMENT');
    expect(thrownCode(() => classificationDataset({ x: [0, 1], shape: [2], labels: [0], classNames: ['a', 'b'] }))).toBe('SHAPE_MISMATCH');
    expect(thrownCode(() => classificationDataset({ x: [0, 1], shape: [2], labels: [0], colour: 1 } as never))).toBe('CONFIG_INVALID');
    expect(thrownCode(() => regressionDataset({ x: [0, 1], shape: [1], targets: [1] }))).toBe('SHAPE_MISMATCH');
    expect(thrownCode(() => regressionDataset({ x: [0, 1], shape: [1], targets: [1, NaN] }))).toBe('NON_FINITE_INPUT');
  });
  it('names the offending value and the fix', () => {
    expect(() => classificationDataset({ x: [0, 1, NaN], shape: [1], labels: [0, 0, 0] })).toThrow(/x\[2\] is NaN/);
    expect(() => classificationDataset({ x: [0, 1], shape: [2], labels: [3], numClasses: 2 })).toThrow(/raise numClasses/);
  });
  it('assertDataset catches tampered datasets', () => {
    const ds = toy([2, 2]);
    expect(thrownCode(() => assertDataset({ ...ds, labels: new Int32Array(3) }))).toBe('SHAPE_MISMATCH');
    expect(thrownCode(() => assertDataset({ ...ds, labels: Int32Array.of(0, 1, 5, 0) }))).toBe('INVALID_ARGUMENT');
    expect(thrownCode(() => assertDataset({ ...ds, x: Float32Array.of(0, 0, 1, 1, 2, 2, 3, NaN) }))).toBe('NON_FINITE_INPUT');
    expect(thrownCode(() => assertDataset({ ...ds, n: 0, x: new Float32Array(0) }))).toBe('TOO_SMALL');
    expect(thrownCode(() => assertDataset(null))).toBe('INVALID_ARGUMENT');
  });
});

describe('subset, shuffle, reshape, concat', () => {
  it('subset copies rows, labels and provenance in order', () => {
    const ds = toy([3, 2]);
    const s = subset(ds, [4, 0, 4]);
    expect(Array.from(s.x)).toEqual([4, -4, 0, -0, 4, -4]);
    expect(Array.from(s.labels)).toEqual([1, 0, 1]);
    expect(Array.from(s.sourceIndex)).toEqual([4, 0, 4]);
    expect(thrownCode(() => subset(ds, []))).toBe('TOO_SMALL');
    expect(thrownCode(() => subset(ds, [5]))).toBe('INVALID_ARGUMENT');
    expect(thrownCode(() => subset(ds, [0.5]))).toBe('INVALID_ARGUMENT');
  });
  it('shuffle is a seeded permutation', () => {
    const ds = toy([50, 50]);
    const a = shuffleDataset(ds, 1);
    const b = shuffleDataset(ds, 1);
    const c = shuffleDataset(ds, 2);
    expect(Array.from(a.sourceIndex)).toEqual(Array.from(b.sourceIndex));
    expect(Array.from(a.sourceIndex)).not.toEqual(Array.from(c.sourceIndex));
    expect([...a.sourceIndex].sort((p, q) => p - q)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    // rows travel with their labels
    for (let i = 0; i < a.n; i++) expect(a.x[2 * i]).toBe(a.sourceIndex[i]);
    expect(Array.from(shuffleDataset(ds, 'epoch-1').sourceIndex)).toEqual(Array.from(shuffleDataset(ds, createRng('epoch-1')).sourceIndex));
    expect(thrownCode(() => shuffleDataset(ds, -1))).toBe('INVALID_ARGUMENT');
  });
  it('reshape shares values and checks sizes', () => {
    const ds = toy([2]);
    const r = reshapeDataset(ds, [1, 1, 2]);
    expect(r.shape).toEqual([1, 1, 2]);
    expect(r.x).toBe(ds.x);
    expect(thrownCode(() => reshapeDataset(ds, [3]))).toBe('SHAPE_MISMATCH');
  });
  it('concat joins compatible datasets and rejects others', () => {
    const a = toy([1, 1]);
    const b = toy([2, 1]);
    const c = concatDatasets([a, b]);
    expect(c.n).toBe(5);
    expect(Array.from(c.labels)).toEqual([0, 1, 0, 0, 1]);
    expect(thrownCode(() => concatDatasets([a, toy([1, 1, 1])]))).toBe('SHAPE_MISMATCH');
    expect(thrownCode(() => concatDatasets([]))).toBe('TOO_SMALL');
  });
});

describe('splitDataset', () => {
  const ds = toy([100, 60, 40]);
  it('same seed, same split; different seed, different split', () => {
    const a = splitDataset(ds, { testFraction: 0.25, seed: 7 });
    const b = splitDataset(ds, { testFraction: 0.25, seed: 7 });
    const c = splitDataset(ds, { testFraction: 0.25, seed: 8 });
    expect(Array.from(a.test.sourceIndex)).toEqual(Array.from(b.test.sourceIndex));
    expect(Array.from(a.train.sourceIndex)).toEqual(Array.from(b.train.sourceIndex));
    expect(new Set(a.test.sourceIndex)).not.toEqual(new Set(c.test.sourceIndex));
  });
  it('is a stratified partition', () => {
    const { train, test } = splitDataset(ds, { testFraction: 0.25, seed: 3 });
    expect(test.n).toBe(50);
    expect(train.n).toBe(150);
    expect(Array.from(classCounts(test))).toEqual([25, 15, 10]);
    expect(Array.from(classCounts(train))).toEqual([75, 45, 30]);
    const all = new Set([...train.sourceIndex, ...test.sourceIndex]);
    expect(all.size).toBe(200);
    expect(train.name).toBe('toy/train');
  });
  it('testSize, unstratified and unshuffled variants', () => {
    const s = splitDataset(ds, { testSize: 7, seed: 1, stratified: false, shuffle: false });
    expect(s.test.n).toBe(7);
    const idx = Array.from(s.test.sourceIndex);
    expect(idx).toEqual([...idx].sort((p, q) => p - q));
  });
  it('rejects impossible splits', () => {
    expect(thrownCode(() => splitDataset(ds, { testFraction: 0 }))).toBe('INVALID_ARGUMENT');
    expect(thrownCode(() => splitDataset(ds, { testFraction: 1 }))).toBe('INVALID_ARGUMENT');
    expect(thrownCode(() => splitDataset(ds, { testFraction: NaN }))).toBe('NON_FINITE_INPUT');
    expect(thrownCode(() => splitDataset(ds, { testSize: 200 }))).toBe('INVALID_ARGUMENT');
    expect(thrownCode(() => splitDataset(toy([1]), {}))).toBe('TOO_SMALL');
    expect(thrownCode(() => splitDataset(toy([10]), { testFraction: 0.01 }))).toBe('TOO_SMALL');
    expect(thrownCode(() => splitDataset(ds, { fraction: 0.2 } as never))).toBe('CONFIG_INVALID');
  });
  it('property: every stratified split is a partition within one example per class of proportional', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 5 }), fc.double({ min: 0.1, max: 0.9, noNaN: true }), fc.nat(1000), (sizes, f, seed) => {
        const d = toy(sizes);
        if (d.n < 2) return;
        const t = Math.round(f * d.n);
        if (t < 1 || t > d.n - 1) return;
        const { train, test } = splitDataset(d, { testFraction: f, seed });
        expect(train.n + test.n).toBe(d.n);
        expect(new Set([...train.sourceIndex, ...test.sourceIndex]).size).toBe(d.n);
        const tc = classCounts(test);
        sizes.forEach((s, k) => expect(Math.abs(tc[k]! - (t * s) / d.n)).toBeLessThan(1 + 1e-9));
      }),
      { numRuns: 60 },
    );
  });
});

describe('sampleSubset', () => {
  const ds = toy([100, 50, 50]);
  it('draws a stratified, seeded subset without replacement', () => {
    const s = sampleSubset(ds, { size: 40, seed: 5 });
    expect(Array.from(classCounts(s))).toEqual([20, 10, 10]);
    expect(new Set(s.sourceIndex).size).toBe(40);
    expect(Array.from(sampleSubset(ds, { size: 40, seed: 5 }).sourceIndex)).toEqual(Array.from(s.sourceIndex));
    expect(Array.from(sampleSubset(ds, { size: 40, seed: 6 }).sourceIndex)).not.toEqual(Array.from(s.sourceIndex));
    expect(sampleSubset(ds, { size: 40, seed: 5, stratified: false }).n).toBe(40);
  });
  it('rejects sizes it cannot draw', () => {
    expect(thrownCode(() => sampleSubset(ds, { size: 201 }))).toBe('TOO_SMALL');
    expect(thrownCode(() => sampleSubset(ds, { size: 0 }))).toBe('INVALID_ARGUMENT');
    expect(thrownCode(() => sampleSubset(ds, undefined as never))).toBe('CONFIG_INVALID');
    const reg = regressionDataset({ x: [1, 2, 3], shape: [1], targets: [1, 2, 3] });
    expect(thrownCode(() => sampleSubset(reg, { size: 2, stratified: true }))).toBe('CONFIG_INVALID');
    expect(sampleSubset(reg, { size: 2 }).n).toBe(2);
  });
});
