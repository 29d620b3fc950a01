// Data specs beyond the npm image sets: IDX files (tiny generated ones), modular addition for the
// transformer and an MLP, Gaussian mixtures; validation errors name the field.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeIdxFile } from '../data/node.js';
import { loadDataSpec } from './node.js';
import { parseDataSpec } from './data-spec.js';
import { buildModel } from './model-spec.js';

let dir: string;
/** 40 images of 6x5 pixels whose value is the label * 20 + pixel index; labels cycle 0..3. */
const N = 40;
const pixels = (n: number, offset: number): Uint8Array => {
  const out = new Uint8Array(n * 30);
  for (let i = 0; i < n; i++) for (let j = 0; j < 30; j++) out[i * 30 + j] = (((i + offset) % 4) * 20 + j) % 256;
  return out;
};
const labels = (n: number, offset: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i + offset) % 4);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'basis-dataspec-'));
  await writeIdxFile(join(dir, 'tr-img.gz'), { dtype: 'uint8', shape: [N, 6, 5], data: pixels(N, 0) }, { gzip: true });
  await writeIdxFile(join(dir, 'tr-lab.gz'), { dtype: 'uint8', shape: [N], data: labels(N, 0) }, { gzip: true });
  await writeIdxFile(join(dir, 'te-img'), { dtype: 'uint8', shape: [12, 6, 5], data: pixels(12, 1) });
  await writeIdxFile(join(dir, 'te-lab'), { dtype: 'uint8', shape: [12], data: labels(12, 1) });
  // the standard names in a folder
  const std = join(dir, 'std');
  await mkdir(std);
  await writeIdxFile(join(std, 'train-images-idx3-ubyte.gz'), { dtype: 'uint8', shape: [N, 6, 5], data: pixels(N, 0) }, { gzip: true });
  await writeIdxFile(join(std, 'train-labels-idx1-ubyte.gz'), { dtype: 'uint8', shape: [N], data: labels(N, 0) }, { gzip: true });
  await writeIdxFile(join(std, 't10k-images-idx3-ubyte'), { dtype: 'uint8', shape: [12, 6, 5], data: pixels(12, 1) });
  await writeIdxFile(join(std, 't10k-labels-idx1-ubyte'), { dtype: 'uint8', shape: [12], data: labels(12, 1) });
  await writeFile(join(dir, 'corrupt.gz'), Uint8Array.of(0x1f, 0x8b, 8, 0, 1, 2, 3));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadDataSpec: idx', () => {
  it('train and test files (gzipped or not), unit scale for source idx', async () => {
    const { train, test } = await loadDataSpec({
      dataset: 'idx',
      source: 'idx',
      train: { images: join(dir, 'tr-img.gz'), labels: join(dir, 'tr-lab.gz') },
      test: { images: join(dir, 'te-img'), labels: join(dir, 'te-lab') },
    });
    expect([train.n, test.n]).toEqual([N, 12]);
    expect(train.shape).toEqual([1, 6, 5]);
    expect(train.numClasses).toBe(4);
    // example 5 has label 1: pixel j = (20 + j) / 255
    expect(train.labels[5]).toBe(1);
    expect(train.x[5 * 30 + 3]).toBeCloseTo(23 / 255, 6);
    expect(test.labels[0]).toBe(1);
  });
  it('train files only: testFraction held out by seed (reproducible); standard mnist scaling by default', async () => {
    const spec = { dataset: 'idx' as const, train: { images: join(dir, 'tr-img.gz'), labels: join(dir, 'tr-lab.gz') }, testFraction: 0.25, seed: 3 };
    const a = await loadDataSpec(spec);
    const b = await loadDataSpec(spec);
    expect([a.train.n, a.test.n]).toEqual([30, 10]);
    expect(Array.from(a.test.sourceIndex)).toEqual(Array.from(b.test.sourceIndex));
    const all = new Set([...a.train.sourceIndex, ...a.test.sourceIndex]);
    expect(all.size).toBe(N);
    expect(a.train.normalization).toMatchObject({ kind: 'standard', mean: [0.1307] });
  });
  it('a folder of the four standard files', async () => {
    const { train, test } = await loadDataSpec({ dataset: 'idx', dir: join(dir, 'std'), trainSize: 20 });
    expect([train.n, test.n]).toEqual([20, 12]);
  });
  it('missing files raise IO, corrupt ones BAD_FILE, bad fields CONFIG_INVALID with the path', async () => {
    await expect(loadDataSpec({ dataset: 'idx', train: { images: join(dir, 'nope.gz'), labels: join(dir, 'tr-lab.gz') } })).rejects.toMatchObject({ code: 'IO' });
    await expect(loadDataSpec({ dataset: 'idx', train: { images: join(dir, 'corrupt.gz'), labels: join(dir, 'tr-lab.gz') } })).rejects.toMatchObject({ code: 'BAD_FILE' });
    // images and labels swapped
    await expect(loadDataSpec({ dataset: 'idx', train: { images: join(dir, 'tr-lab.gz'), labels: join(dir, 'tr-img.gz') } })).rejects.toMatchObject({ code: 'BAD_FILE' });
    const bad: [unknown, string][] = [
      [{ dataset: 'idx' }, 'data'],
      [{ dataset: 'idx', dir: 'a', train: { images: 'x', labels: 'y' } }, 'data'],
      [{ dataset: 'idx', train: { images: 'x' } }, 'data.train.labels'],
      [{ dataset: 'idx', train: { images: 'x', labels: 'y' }, test: { images: 'x', labels: 'y' }, testFraction: 0.1 }, 'data.testFraction'],
      [{ dataset: 'idx', dir: 'a', source: 'cifar' }, 'data.source'],
      [{ dataset: 'modadd', p: 1 }, 'data.p'],
      [{ dataset: 'modadd', p: 5000 }, 'data.p'],
      [{ dataset: 'modadd', encoding: 'ascii' }, 'data.encoding'],
      [{ dataset: 'modadd', normalize: 'unit' }, 'data.normalize'],
      [{ dataset: 'gaussian', classes: 1 }, 'data.classes'],
      [{ dataset: 'gaussian', std: 0 }, 'data.std'],
      [{ dataset: 'mnist', p: 7 }, 'data.p'],
    ];
    for (const [spec, field] of bad) {
      let err: unknown;
      try {
        parseDataSpec(spec);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(spec)).toMatchObject({ code: 'CONFIG_INVALID' });
      expect((err as Error).message.startsWith(`${field} `), `${JSON.stringify(spec)}: ${(err as Error).message}`).toBe(true);
    }
  });
});

describe('loadDataSpec: synthetic sets', () => {
  it('modadd: tokens for the transformer (no normalisation), one-hot for an MLP', async () => {
    const { train, test } = await loadDataSpec({ dataset: 'modadd', p: 11, trainFraction: 0.5 });
    expect(train.n + test.n).toBe(121);
    expect(train.shape).toEqual([3]);
    for (let i = 0; i < train.n; i++) {
      const [a, b, eq] = [train.x[3 * i]!, train.x[3 * i + 1]!, train.x[3 * i + 2]!];
      expect(eq).toBe(11);
      expect(train.labels[i]).toBe((a + b) % 11);
    }
    const g = buildModel({ arch: 'transformer', width: 16, heads: 2, vocab: 12 }, { input: train.shape, classes: train.numClasses });
    expect(g.tokens?.vocab).toBe(12);
    const oh = await loadDataSpec({ dataset: 'modadd', p: 11, encoding: 'onehot' });
    expect(oh.train.shape).toEqual([22]);
  });
  it('gaussian: a seeded mixture with a held-out test set', async () => {
    const a = await loadDataSpec({ dataset: 'gaussian', n: 300, classes: 4, dim: 5, seed: 2 });
    const b = await loadDataSpec({ dataset: 'gaussian', n: 300, classes: 4, dim: 5, seed: 2 });
    expect([a.train.n, a.test.n]).toEqual([240, 60]);
    expect(a.train.shape).toEqual([5]);
    expect(a.train.numClasses).toBe(4);
    expect(Array.from(a.train.x)).toEqual(Array.from(b.train.x));
    const c = await loadDataSpec({ dataset: 'gaussian', n: 300, classes: 4, dim: 5, seed: 3 });
    expect(Array.from(c.train.x)).not.toEqual(Array.from(a.train.x));
  });
});
