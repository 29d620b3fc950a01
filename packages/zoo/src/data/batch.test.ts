import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoTensorLeak, thrownCode } from '@basis/test-utils';
import {
  FASHION_MNIST_MEAN,
  FASHION_MNIST_STD,
  MNIST_MEAN,
  MNIST_STD,
  batchToTensors,
  batches,
  classificationDataset,
  computeImageStats,
  datasetToTensors,
  epochOrder,
  normalizeImages,
  numBatches,
  regressionDataset,
  resolveNormalization,
} from '../index.js';
import { toyImages } from './test-helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('normalisation', () => {
  it('documents the standard constants', () => {
    expect([MNIST_MEAN, MNIST_STD, FASHION_MNIST_MEAN, FASHION_MNIST_STD]).toEqual([0.1307, 0.3081, 0.286, 0.353]);
    expect(resolveNormalization('standard', 'fashion-mnist', 2)).toEqual({ kind: 'standard', mean: [0.286, 0.286], std: [0.353, 0.353] });
    expect(thrownCode(() => resolveNormalization('standard', 'idx', 1))).toBe('CONFIG_INVALID');
    expect(thrownCode(() => resolveNormalization({ mean: 0, std: 0 }, 'idx', 1))).toBe('INVALID_ARGUMENT');
    expect(thrownCode(() => resolveNormalization({ mean: [0, 1], std: 1 }, 'idx', 1))).toBe('SHAPE_MISMATCH');
    expect(thrownCode(() => resolveNormalization({ mean: NaN, std: 1 }, 'idx', 1))).toBe('NON_FINITE_INPUT');
  });
  it('converts between every pair of normalisations without loss', () => {
    const u = toyImages(5, { C: 2, H: 3, W: 4 });
    const targets = ['raw', 'standard', { mean: [0.2, 0.4], std: [0.5, 2] }, 'unit'] as const;
    let cur = u;
    for (const t of targets) cur = normalizeImages(cur, t);
    expect(cur.normalization).toEqual({ kind: 'unit' });
    for (let k = 0; k < u.x.length; k++) expect(cur.x[k]).toBeCloseTo(u.x[k]!, 5);
    const raw = normalizeImages(u, 'raw');
    expect(raw.x[7]).toBeCloseTo(u.x[7]! * 255, 3);
    const z = normalizeImages(u, { mean: [0.2, 0.4], std: [0.5, 2] });
    // channel 1 of image 0 starts at 12
    expect(z.x[12]).toBeCloseTo((u.x[12]! - 0.4) / 2, 6);
  });
  it('computeImageStats gives per-channel mean/std that standardise to 0/1', () => {
    const u = toyImages(20, { C: 2, H: 5, W: 5 });
    const stats = computeImageStats(u);
    const z = normalizeImages(u, stats);
    const again = computeImageStats(normalizeImages(z, 'unit'));
    expect(again.mean[0]).toBeCloseTo(stats.mean[0]!, 6);
    let s = 0;
    let q = 0;
    const plane = 25;
    for (let i = 0; i < 20; i++) for (let k = 0; k < plane; k++) {
      const v = z.x[i * 2 * plane + k]!;
      s += v;
      q += v * v;
    }
    expect(s / (20 * plane)).toBeCloseTo(0, 5);
    expect(q / (20 * plane)).toBeCloseTo(1, 4);
    const flat = toyImages(3, { fill: () => 0.5 });
    expect(thrownCode(() => computeImageStats(flat))).toBe('RANK_DEFICIENT');
  });
  it('refuses non-image data', () => {
    const v = classificationDataset({ x: [1, 2], shape: [2], labels: [0] });
    expect(thrownCode(() => normalizeImages(v, 'unit'))).toBe('SHAPE_MISMATCH');
  });
});

describe('batches', () => {
  const ds = toyImages(10, { H: 2, W: 2 });
  it('cover every example once per epoch in a seeded order', () => {
    const seen: number[] = [];
    const sizes: number[] = [];
    for (const b of batches(ds, { batchSize: 4, seed: 3 })) {
      seen.push(...b.indices);
      sizes.push(b.size);
      for (let r = 0; r < b.size; r++) {
        expect(b.labels![r]).toBe(ds.labels[b.indices[r]!]);
        expect(b.x[r * 4 + 1]).toBe(ds.x[b.indices[r]! * 4 + 1]);
      }
    }
    expect(sizes).toEqual([4, 4, 2]);
    expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Array.from(epochOrder(10, 3))).toEqual(seen);
    expect(Array.from(epochOrder(10, 4))).not.toEqual(seen);
    expect(Array.from(epochOrder(4))).toEqual([0, 1, 2, 3]);
  });
  it('dropLast, numBatches and validation', () => {
    expect([...batches(ds, { batchSize: 4, dropLast: true })].map((b) => b.size)).toEqual([4, 4]);
    expect([numBatches(10, 4), numBatches(10, 4, true), numBatches(0, 4)]).toEqual([3, 2, 0]);
    expect(thrownCode(() => [...batches(ds, { batchSize: 0 })])).toBe('INVALID_ARGUMENT');
    expect(thrownCode(() => [...batches(ds, { batchSize: 11, dropLast: true })])).toBe('TOO_SMALL');
    expect(thrownCode(() => [...batches(ds, { size: 2 } as never)])).toBe('CONFIG_INVALID');
  });
  it('carry regression targets', () => {
    const r = regressionDataset({ x: [0, 1, 2, 3, 4, 5], shape: [1], targets: [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110], targetDim: 2 });
    const [b] = [...batches(r, { batchSize: 6, seed: 1 })];
    for (let k = 0; k < 6; k++) expect(b!.targets![2 * k + 1]).toBe(20 * b!.x[k]! + 10);
  });
});

describe('tfjs conversion', () => {
  const ds = toyImages(3, { C: 2, H: 2, W: 3 });
  it('keeps NCHW, transposes to NHWC, flattens', async () => {
    await expectNoTensorLeak(() => {
      const a = datasetToTensors(ds);
      expect(a.x.shape).toEqual([3, 2, 2, 3]);
      expect(a.y.dtype).toBe('int32');
      expect(Array.from(a.y.dataSync())).toEqual([0, 1, 2]);
      const b = datasetToTensors(ds, { layout: 'nhwc', oneHot: true });
      expect(b.x.shape).toEqual([3, 2, 3, 2]);
      const nchw = a.x.arraySync() as number[][][][];
      const nhwc = b.x.arraySync() as number[][][][];
      for (let i = 0; i < 3; i++) for (let c = 0; c < 2; c++) for (let y = 0; y < 2; y++) for (let x = 0; x < 3; x++) expect(nhwc[i]![y]![x]![c]).toBe(nchw[i]![c]![y]![x]);
      expect(b.y.arraySync()).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
      const c = datasetToTensors(ds, { layout: 'flat' });
      expect(c.x.shape).toEqual([3, 12]);
      tf.dispose([a.x, a.y, b.x, b.y, c.x, c.y]);
    });
  });
  it('converts batches and regression targets; validates options', async () => {
    await expectNoTensorLeak(() => {
      const [b, b2] = [...batches(ds, { batchSize: 2 })];
      const t = batchToTensors(b!, { layout: 'flat', oneHot: 3 });
      expect(t.x.shape).toEqual([2, 12]);
      expect(t.y.shape).toEqual([2, 3]);
      const r = regressionDataset({ x: [0, 1], shape: [1], targets: [5, 6] });
      const rt = datasetToTensors(r);
      expect(rt.y.shape).toEqual([2, 1]);
      tf.dispose([t.x, t.y, rt.x, rt.y]);
      expect(thrownCode(() => batchToTensors(b!, { oneHot: true }))).toBe('CONFIG_INVALID');
      expect(thrownCode(() => batchToTensors(b2!, { oneHot: 2 }))).toBe('INVALID_ARGUMENT'); // label 2 does not fit
      expect(thrownCode(() => datasetToTensors(ds, { layout: 'nwhc' as never }))).toBe('CONFIG_INVALID');
      expect(thrownCode(() => datasetToTensors(r, { layout: 'nhwc' }))).toBe('SHAPE_MISMATCH');
      expect(thrownCode(() => datasetToTensors(r, { oneHot: true }))).toBe('CONFIG_INVALID');
    });
  });
});
