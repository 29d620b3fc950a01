import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NdArray } from '@basis/tensor';
import { MNIST_CLASS_NAMES, classCounts, decodeIdx, idxToDataset, sampleSubset } from '../index.js';
import { encodeIdx, gunzip, isGzip } from './idx.js';
import { loadIdxDataset, loadMnistAll, loadMnistIdx, readIdxFile, writeIdxFile } from '../node.js';
import { sameValues } from './test-helpers.js';
import { thrownCode, thrownCodeAsync } from '@basis/test-utils';

const arrays: NdArray[] = [
  { dtype: 'uint8', shape: [2, 3, 2], data: Uint8Array.from({ length: 12 }, (_, i) => i * 21) },
  { dtype: 'int8', shape: [4], data: Int8Array.of(-128, -1, 0, 127) },
  { dtype: 'int16', shape: [3], data: Int16Array.of(-32768, 258, 32767) },
  { dtype: 'int32', shape: [2, 2], data: Int32Array.of(-2147483648, 1, 16909060, 2147483647) },
  { dtype: 'float32', shape: [3], data: Float32Array.of(-1.5, 0, 3.25e-8) },
  { dtype: 'float64', shape: [1, 2], data: Float64Array.of(Math.PI, -1e300) },
];

describe('IDX encode/decode', () => {
  it('round-trips every IDX type, plain and gzipped', () => {
    for (const a of arrays) {
      for (const gzip of [false, true]) {
        const bytes = encodeIdx(a, { gzip });
        expect(isGzip(bytes)).toBe(gzip);
        const b = decodeIdx(bytes);
        expect(b.dtype).toBe(a.dtype);
        expect(b.shape).toEqual(a.shape);
        expect(Array.from(b.data as ArrayLike<number>)).toEqual(Array.from(a.data as ArrayLike<number>));
      }
    }
  });
  it('writes the documented big-endian layout', () => {
    const bytes = encodeIdx({ dtype: 'int16', shape: [2], data: Int16Array.of(1, -2) });
    expect(Array.from(bytes)).toEqual([0, 0, 0x0b, 1, 0, 0, 0, 2, 0, 1, 0xff, 0xfe]);
    const labels = encodeIdx({ dtype: 'uint8', shape: [3], data: Uint8Array.of(7, 2, 1) });
    expect(Array.from(labels.subarray(0, 8))).toEqual([0, 0, 8, 1, 0, 0, 0, 3]);
  });
  it('reads gzip written by other tools (fflate with a file name in the header)', () => {
    const raw = encodeIdx(arrays[0]!);
    const gz = gzipSync(raw, { filename: 'train-images-idx3-ubyte', mtime: new Date(0) });
    expect(Array.from(gunzip(gz))).toEqual(Array.from(raw));
  });
  it('rejects truncated and corrupt files with BAD_FILE', () => {
    const raw = encodeIdx(arrays[0]!);
    const gz = encodeIdx(arrays[0]!, { gzip: true });
    expect(thrownCode(() => decodeIdx(raw.subarray(0, raw.length - 1)))).toBe('BAD_FILE');
    expect(() => decodeIdx(raw.subarray(0, raw.length - 1), 'f.idx')).toThrow(/f\.idx: truncated IDX file: shape \[2, 3, 2\] of uint8 needs 12 data bytes but only 11/);
    expect(thrownCode(() => decodeIdx(raw.subarray(0, 6)))).toBe('BAD_FILE'); // header cut
    expect(thrownCode(() => decodeIdx(raw.subarray(0, 2)))).toBe('BAD_FILE');
    expect(thrownCode(() => decodeIdx(new Uint8Array(0)))).toBe('BAD_FILE');
    expect(thrownCode(() => decodeIdx(Uint8Array.of(...raw, 0)))).toBe('BAD_FILE'); // trailing byte
    expect(thrownCode(() => decodeIdx(Uint8Array.of(1, 0, 8, 1, 0, 0, 0, 0)))).toBe('BAD_FILE'); // magic
    expect(thrownCode(() => decodeIdx(Uint8Array.of(0, 0, 0x0a, 1, 0, 0, 0, 0)))).toBe('BAD_FILE'); // type code
    expect(thrownCode(() => decodeIdx(Uint8Array.of(0, 0, 8, 0)))).toBe('BAD_FILE'); // 0 dims
    // gzip: cut in the middle, cut in the trailer, flipped data byte, garbage after the magic
    expect(thrownCode(() => decodeIdx(gz.subarray(0, gz.length >> 1)))).toBe('BAD_FILE');
    expect(thrownCode(() => decodeIdx(gz.subarray(0, gz.length - 3)))).toBe('BAD_FILE');
    const flipped = Uint8Array.from(gz);
    flipped[12] = flipped[12]! ^ 0x55;
    expect(thrownCode(() => decodeIdx(flipped))).toBe('BAD_FILE');
    expect(thrownCode(() => decodeIdx(Uint8Array.of(0x1f, 0x8b, 8, 0, 1, 2, 3)))).toBe('BAD_FILE');
    expect(thrownCode(() => decodeIdx('nope' as never))).toBe('INVALID_ARGUMENT');
  });
  it('rejects arrays IDX cannot hold', () => {
    expect(thrownCode(() => encodeIdx({ dtype: 'uint16', shape: [1], data: Uint16Array.of(1) }))).toBe('INVALID_ARGUMENT');
    expect(thrownCode(() => encodeIdx({ dtype: 'uint8', shape: [2], data: Uint8Array.of(1) }))).toBe('SHAPE_MISMATCH');
    expect(thrownCode(() => encodeIdx({ dtype: 'uint8', shape: [], data: Uint8Array.of(1) }))).toBe('SHAPE_MISMATCH');
  });
});

describe('idxToDataset', () => {
  const images: NdArray = { dtype: 'uint8', shape: [3, 2, 2], data: Uint8Array.of(0, 255, 51, 0, 1, 2, 3, 4, 5, 6, 7, 8) };
  const labels: NdArray = { dtype: 'uint8', shape: [3], data: Uint8Array.of(7, 0, 9) };
  it('builds a [1, H, W] dataset with MNIST names and normalisation', () => {
    const ds = idxToDataset(images, labels, { source: 'mnist' });
    expect(ds.shape).toEqual([1, 2, 2]);
    expect(ds.classNames).toEqual(MNIST_CLASS_NAMES);
    expect(Array.from(ds.labels)).toEqual([7, 0, 9]);
    expect(Array.from(ds.x.subarray(0, 3))).toEqual([0, 1, Math.fround(0.2)]);
    const raw = idxToDataset(images, labels, { normalize: 'raw' });
    expect(raw.numClasses).toBe(10);
    expect(raw.x[1]).toBe(255);
  });
  it('rejects swapped or mismatched files', () => {
    expect(thrownCode(() => idxToDataset(labels, images))).toBe('BAD_FILE');
    expect(thrownCode(() => idxToDataset(images, { dtype: 'uint8', shape: [2], data: Uint8Array.of(1, 2) }))).toBe('SHAPE_MISMATCH');
    expect(thrownCode(() => idxToDataset(images, { dtype: 'float32', shape: [3], data: new Float32Array(3) }))).toBe('BAD_FILE');
    expect(thrownCode(() => idxToDataset(images, { dtype: 'uint8', shape: [3], data: Uint8Array.of(1, 2, 12) }, { source: 'mnist' }))).toBe('BAD_FILE');
    expect(thrownCode(() => idxToDataset(images, labels, { normalize: 'standard' }))).toBe('CONFIG_INVALID');
  });
});

describe('IDX files on disk', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'basis-zoo-idx-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  it('round-trips real digits through original-style IDX files (plain train, gzipped test)', async () => {
    const all = await loadMnistAll({ normalize: 'raw' });
    const pick = sampleSubset(all, { size: 300, seed: 4 });
    const toIdx = (ds: typeof pick): [NdArray, NdArray] => [
      { dtype: 'uint8', shape: [ds.n, 28, 28], data: Uint8Array.from(ds.x) },
      { dtype: 'uint8', shape: [ds.n], data: Uint8Array.from(ds.labels) },
    ];
    const [ti, tl] = toIdx(pick);
    await writeIdxFile(join(dir, 'train-images-idx3-ubyte'), ti);
    await writeIdxFile(join(dir, 'train-labels-idx1-ubyte'), tl);
    await writeIdxFile(join(dir, 't10k-images-idx3-ubyte.gz'), ti);
    await writeIdxFile(join(dir, 't10k-labels-idx1-ubyte.gz'), tl);
    expect(isGzip(new Uint8Array(await readFile(join(dir, 't10k-images-idx3-ubyte.gz'))))).toBe(true);
    const { train, test } = await loadMnistIdx(dir, { normalize: 'raw' });
    expect(train.n).toBe(300);
    expect(train.name).toBe('mnist/train');
    expect(sameValues(train.x, pick.x)).toBe(true);
    expect(sameValues(test.x, pick.x)).toBe(true);
    expect(Array.from(test.labels)).toEqual(Array.from(pick.labels));
    expect(Array.from(classCounts(test))).toEqual(Array.from(classCounts(pick)));
    const unit = await loadIdxDataset({ images: join(dir, 't10k-images-idx3-ubyte.gz'), labels: join(dir, 't10k-labels-idx1-ubyte.gz'), source: 'mnist' });
    expect(unit.x[200]).toBeCloseTo(pick.x[200]! / 255, 6);
    expect((await readIdxFile(join(dir, 'train-labels-idx1-ubyte'))).shape).toEqual([300]);
  });
  it('truncated or corrupt files on disk give BAD_FILE naming the path; missing ones IO', async () => {
    const p = join(dir, 'cut-images-idx3-ubyte.gz');
    const full = await readFile(join(dir, 't10k-images-idx3-ubyte.gz'));
    await writeFile(p, full.subarray(0, full.length - 100));
    await expect(readIdxFile(p)).rejects.toThrow(/cut-images-idx3-ubyte\.gz/);
    expect(await thrownCodeAsync(() => readIdxFile(p))).toBe('BAD_FILE');
    const q = join(dir, 'cut-images-idx3-ubyte');
    const plain = await readFile(join(dir, 'train-images-idx3-ubyte'));
    await writeFile(q, plain.subarray(0, 5000));
    expect(await thrownCodeAsync(() => loadIdxDataset({ images: q, labels: join(dir, 'train-labels-idx1-ubyte') }))).toBe('BAD_FILE');
    expect(await thrownCodeAsync(() => readIdxFile(join(dir, 'nothing-here')))).toBe('IO');
    expect(await thrownCodeAsync(() => loadMnistIdx(join(dir, 'no-such-folder')))).toBe('IO');
    expect(await thrownCodeAsync(() => loadMnistIdx(dir, { source: 'cifar' as never }))).toBe('CONFIG_INVALID');
  });
});
