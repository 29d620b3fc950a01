// Building, selecting, shuffling and splitting datasets. All randomness comes from a seed.
import { BasisError, permutation, sampleWithoutReplacement, shuffle, type Rng } from '@basis/tensor';
import type { ClassificationDataset, DataSplit, Dataset, Normalization, RegressionDataset, SeedLike } from './types.js';
import {
  assertClassification,
  assertDataset,
  checkFiniteArray,
  checkInt,
  checkNumber,
  checkOptions,
  checkShape,
  describe,
  isList,
  shapeProduct,
  toRng,
} from './validate.js';

/**
 * Options of {@link classificationDataset}.
 *
 * @example
 * ```ts
 * const init: ClassificationDatasetInit = { x: [0, 1, 1, 0], shape: [2], labels: [0, 1], classNames: ['a', 'b'] };
 * ```
 */
export interface ClassificationDatasetInit {
  /** Display name (default `'dataset'`). */
  name?: string;
  /** Source tag (default `'custom'`). */
  source?: string;
  /** Inputs, `n * prod(shape)` values (copied into a Float32Array when not one already). */
  x: ArrayLike<number>;
  /** Per-example shape, e.g. `[1, 28, 28]` or `[2]`. */
  shape: readonly number[];
  /** Integer labels, one per example. */
  labels: ArrayLike<number>;
  /** Number of classes (default: max label + 1). */
  numClasses?: number;
  /** Class names (default: `'0'`, `'1'`, ...). */
  classNames?: readonly string[];
  /** How `x` relates to pixel values (default `{ kind: 'none' }`). */
  normalization?: Normalization;
  /** Canonical index of each example (default `0..n-1`). */
  sourceIndex?: ArrayLike<number>;
  /** Extra provenance. */
  meta?: Record<string, unknown>;
}

/**
 * Options of {@link regressionDataset}.
 *
 * @example
 * ```ts
 * const init: RegressionDatasetInit = { x: [0, 1], shape: [1], targets: [0, 0, 1, 2], targetDim: 2 };
 * ```
 */
export interface RegressionDatasetInit {
  name?: string;
  source?: string;
  x: ArrayLike<number>;
  shape: readonly number[];
  /** Targets, `n * targetDim` values. */
  targets: ArrayLike<number>;
  /** Values per target (default 1). */
  targetDim?: number;
  normalization?: Normalization;
  sourceIndex?: ArrayLike<number>;
  meta?: Record<string, unknown>;
}

const CLS_KEYS = ['name', 'source', 'x', 'shape', 'labels', 'numClasses', 'classNames', 'normalization', 'sourceIndex', 'meta'];
const REG_KEYS = ['name', 'source', 'x', 'shape', 'targets', 'targetDim', 'normalization', 'sourceIndex', 'meta'];

function toF32(a: ArrayLike<number>, name: string): Float32Array {
  if (a === null || typeof a !== 'object' || typeof a.length !== 'number') {
    throw new BasisError('INVALID_ARGUMENT', `${name} must be an array or typed array of numbers, got ${describe(a)}`);
  }
  checkFiniteArray(a, name);
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

function exampleCount(xLength: number, shape: readonly number[], fn: string): number {
  const size = shapeProduct(shape);
  if (xLength === 0) throw new BasisError('TOO_SMALL', `${fn}: x is empty; a dataset needs at least one example`);
  if (xLength % size !== 0) {
    throw new BasisError('SHAPE_MISMATCH', `${fn}: x has ${xLength} values, not a multiple of the example size ${size} (shape [${shape.join(', ')}])`);
  }
  return xLength / size;
}

function toSourceIndex(s: ArrayLike<number> | undefined, n: number, fn: string): Int32Array {
  if (s === undefined) {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return out;
  }
  if (s.length !== n) throw new BasisError('SHAPE_MISMATCH', `${fn}: sourceIndex has length ${s.length} but there are ${n} examples`);
  const out = Int32Array.from(s);
  for (let i = 0; i < n; i++) if (out[i] !== s[i]) throw new BasisError('INVALID_ARGUMENT', `${fn}: sourceIndex[${i}] = ${s[i]} is not a 32-bit integer`);
  return out;
}

/**
 * Builds a validated classification dataset from arrays (inputs are copied to float32 unless
 * already a Float32Array). Throws `SHAPE_MISMATCH`, `TOO_SMALL`, `NON_FINITE_INPUT` or
 * `INVALID_ARGUMENT` for bad inputs.
 *
 * @example
 * ```ts
 * const ds = classificationDataset({ x: [0, 0, 1, 1], shape: [2], labels: [0, 1], name: 'toy' });
 * ds.n; // 2
 * ```
 */
export function classificationDataset(init: ClassificationDatasetInit): ClassificationDataset {
  const fn = 'classificationDataset';
  checkOptions(init, CLS_KEYS, fn);
  if (init === undefined) throw new BasisError('CONFIG_INVALID', `${fn}: pass { x, shape, labels }`);
  const shape = checkShape(init.shape, `${fn}: shape`);
  const x = toF32(init.x, `${fn}: x`);
  const n = exampleCount(x.length, shape, fn);
  const labelsIn = init.labels;
  if (labelsIn === null || typeof labelsIn !== 'object' || labelsIn.length !== n) {
    throw new BasisError('SHAPE_MISMATCH', `${fn}: labels must have one entry per example (${n}), got ${describe(labelsIn)}${labelsIn && typeof labelsIn === 'object' ? ` of length ${labelsIn.length}` : ''}`);
  }
  const labels = new Int32Array(n);
  let maxLabel = -1;
  for (let i = 0; i < n; i++) {
    const y = labelsIn[i] as number;
    if (!Number.isInteger(y) || y < 0 || y > 2147483647) throw new BasisError('INVALID_ARGUMENT', `${fn}: labels[${i}] = ${y} is not a non-negative integer`);
    labels[i] = y;
    if (y > maxLabel) maxLabel = y;
  }
  const numClasses = init.numClasses === undefined ? maxLabel + 1 : checkInt(init.numClasses, `${fn}: numClasses`, 1);
  if (maxLabel >= numClasses) throw new BasisError('INVALID_ARGUMENT', `${fn}: label ${maxLabel} is outside 0..${numClasses - 1}; raise numClasses or fix the labels`);
  const classNames = init.classNames === undefined ? Array.from({ length: numClasses }, (_, k) => String(k)) : [...init.classNames];
  if (classNames.length !== numClasses || classNames.some((c) => typeof c !== 'string')) {
    throw new BasisError('SHAPE_MISMATCH', `${fn}: classNames must be ${numClasses} strings, got ${describe(init.classNames)}`);
  }
  return {
    kind: 'classification',
    name: init.name ?? 'dataset',
    source: init.source ?? 'custom',
    n,
    x,
    shape,
    labels,
    numClasses,
    classNames,
    normalization: init.normalization ?? { kind: 'none' },
    sourceIndex: toSourceIndex(init.sourceIndex, n, fn),
    meta: { ...(init.meta ?? {}) },
  };
}

/**
 * Builds a validated regression dataset from arrays.
 *
 * @example
 * ```ts
 * const ds = regressionDataset({ x: [0, 1, 2], shape: [1], targets: [0, 2, 4] });
 * ds.targetDim; // 1
 * ```
 */
export function regressionDataset(init: RegressionDatasetInit): RegressionDataset {
  const fn = 'regressionDataset';
  checkOptions(init, REG_KEYS, fn);
  if (init === undefined) throw new BasisError('CONFIG_INVALID', `${fn}: pass { x, shape, targets }`);
  const shape = checkShape(init.shape, `${fn}: shape`);
  const x = toF32(init.x, `${fn}: x`);
  const n = exampleCount(x.length, shape, fn);
  const targetDim = init.targetDim === undefined ? 1 : checkInt(init.targetDim, `${fn}: targetDim`, 1);
  const targets = toF32(init.targets, `${fn}: targets`);
  if (targets.length !== n * targetDim) {
    throw new BasisError('SHAPE_MISMATCH', `${fn}: targets has ${targets.length} values but ${n} examples x targetDim ${targetDim} need ${n * targetDim}`);
  }
  return {
    kind: 'regression',
    name: init.name ?? 'dataset',
    source: init.source ?? 'custom',
    n,
    x,
    shape,
    targets,
    targetDim,
    normalization: init.normalization ?? { kind: 'none' },
    sourceIndex: toSourceIndex(init.sourceIndex, n, fn),
    meta: { ...(init.meta ?? {}) },
  };
}

/** Copies rows `idx` of a dataset (no validation; internal). */
export function gather<D extends Dataset>(ds: D, idx: ArrayLike<number>, name: string): D {
  const size = shapeProduct(ds.shape);
  const m = idx.length;
  const x = new Float32Array(m * size);
  const sourceIndex = new Int32Array(m);
  for (let r = 0; r < m; r++) {
    const i = idx[r] as number;
    x.set(ds.x.subarray(i * size, (i + 1) * size), r * size);
    sourceIndex[r] = ds.sourceIndex[i] as number;
  }
  if (ds.kind === 'classification') {
    const labels = new Int32Array(m);
    for (let r = 0; r < m; r++) labels[r] = ds.labels[idx[r] as number] as number;
    return { ...ds, name, n: m, x, labels, sourceIndex } as D;
  }
  const td = ds.targetDim;
  const targets = new Float32Array(m * td);
  for (let r = 0; r < m; r++) {
    const i = idx[r] as number;
    targets.set(ds.targets.subarray(i * td, (i + 1) * td), r * td);
  }
  return { ...ds, name, n: m, x, targets, sourceIndex } as D;
}

function checkIndices(idx: unknown, n: number, fn: string): ArrayLike<number> {
  if (idx === null || typeof idx !== 'object' || typeof (idx as ArrayLike<number>).length !== 'number') {
    throw new BasisError('INVALID_ARGUMENT', `${fn}: indices must be an array or typed array of integers, got ${describe(idx)}`);
  }
  const a = idx as ArrayLike<number>;
  if (a.length === 0) throw new BasisError('TOO_SMALL', `${fn}: indices are empty; select at least one example`);
  for (let r = 0; r < a.length; r++) {
    const i = a[r] as number;
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new BasisError('INVALID_ARGUMENT', `${fn}: index ${i} (position ${r}) is outside 0..${n - 1}`);
  }
  return a;
}

/**
 * The examples at `indices`, in that order (repeats allowed, e.g. for bootstrap samples).
 *
 * @example
 * ```ts
 * const firstTen = subset(ds, Array.from({ length: 10 }, (_, i) => i));
 * ```
 */
export function subset<D extends Dataset>(ds: D, indices: ArrayLike<number>, name?: string): D {
  assertDataset(ds, 'subset');
  const idx = checkIndices(indices, ds.n, 'subset');
  return gather(ds, idx, name ?? `${ds.name}/subset`);
}

/**
 * A copy of the dataset in a random order determined by `seed` (Fisher–Yates on the seeded
 * generator): the same seed always gives the same order.
 *
 * @example
 * ```ts
 * const a = shuffleDataset(ds, 1);
 * const b = shuffleDataset(ds, 1); // same order as a
 * ```
 */
export function shuffleDataset<D extends Dataset>(ds: D, seed: SeedLike): D {
  assertDataset(ds, 'shuffleDataset');
  const rng = toRng(seed);
  return gather(ds, permutation(ds.n, rng), ds.name);
}

/**
 * Example counts per class (length `numClasses`).
 *
 * @example
 * ```ts
 * classCounts(train); // Int32Array [800, 902, ...]
 * ```
 */
export function classCounts(ds: ClassificationDataset): Int32Array {
  assertClassification(ds, 'classCounts');
  return countLabels(ds.labels, ds.numClasses);
}

function countLabels(labels: Int32Array, k: number): Int32Array {
  const c = new Int32Array(k);
  for (let i = 0; i < labels.length; i++) c[labels[i] as number]!++;
  return c;
}

/** Indices of each class, in dataset order. */
function indicesByClass(ds: ClassificationDataset): Int32Array[] {
  return labelsByClass(ds.labels, ds.numClasses);
}

function labelsByClass(labels: Int32Array, k: number): Int32Array[] {
  const counts = countLabels(labels, k);
  const out = Array.from(counts, (c) => new Int32Array(c));
  const fill = new Int32Array(k);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i] as number;
    out[y]![fill[y]!++] = i;
  }
  return out;
}

/**
 * `size` distinct positions drawn by class: each class gets its proportional share (largest
 * remainder), chosen uniformly within the class; the result is shuffled. Internal.
 */
export function stratifiedIndices(labels: Int32Array, k: number, size: number, rng: Rng): Int32Array {
  const byClass = labelsByClass(labels, k);
  const take = apportion(size, Int32Array.from(byClass, (a) => a.length));
  const idx = new Int32Array(size);
  let o = 0;
  for (let c = 0; c < byClass.length; c++) {
    const pool = byClass[c]!;
    const pick = sampleWithoutReplacement(pool.length, take[c]!, rng.fork(`class-${c}`));
    for (const p of pick) idx[o++] = pool[p]!;
  }
  return shuffle(idx, rng);
}

/**
 * Splits `total` into integer parts proportional to `weights` (largest remainder, ties to the
 * lower index), never exceeding `caps`.
 */
function apportion(total: number, weights: Int32Array): Int32Array {
  const sum = weights.reduce((a, b) => a + b, 0);
  const out = new Int32Array(weights.length);
  const rem: { k: number; r: number }[] = [];
  let used = 0;
  for (let k = 0; k < weights.length; k++) {
    const exact = (total * (weights[k] as number)) / sum;
    out[k] = Math.floor(exact);
    used += out[k]!;
    rem.push({ k, r: exact - Math.floor(exact) });
  }
  rem.sort((a, b) => b.r - a.r || a.k - b.k);
  for (let j = 0; used < total; j++) {
    const k = rem[j % rem.length]!.k;
    if (out[k]! < weights[k]!) {
      out[k]!++;
      used++;
    }
  }
  return out;
}

/**
 * Options of {@link sampleSubset}.
 *
 * @example
 * ```ts
 * sampleSubset(train, { size: 500, seed: 1, stratified: true } satisfies SampleSubsetOptions);
 * ```
 */
export interface SampleSubsetOptions {
  /** Number of examples to draw (without replacement). */
  size: number;
  /** Seed of the draw (default 0). */
  seed?: SeedLike;
  /** Keep class proportions (largest-remainder allocation per class); default true for classification. */
  stratified?: boolean;
}

/**
 * A random subset of `size` examples, drawn without replacement by seed; stratified by class
 * (proportions preserved to within one example per class) unless `stratified: false`. The result
 * is in random order.
 *
 * @example
 * ```ts
 * const small = sampleSubset(train, { size: 1000, seed: 3 }); // ~100 per digit
 * ```
 */
export function sampleSubset<D extends Dataset>(ds: D, opts: SampleSubsetOptions): D {
  const fn = 'sampleSubset';
  assertDataset(ds, fn);
  checkOptions(opts, ['size', 'seed', 'stratified'], fn);
  if (opts === undefined) throw new BasisError('CONFIG_INVALID', `${fn}: pass { size }`);
  const size = checkInt(opts.size, `${fn}: size`, 1);
  if (size > ds.n) throw new BasisError('TOO_SMALL', `${fn}: cannot draw ${size} examples from '${ds.name}' with ${ds.n}; lower size`);
  const rng = toRng(opts.seed);
  const stratified = opts.stratified ?? ds.kind === 'classification';
  if (stratified && ds.kind !== 'classification') throw new BasisError('CONFIG_INVALID', `${fn}: stratified sampling needs a classification dataset; pass stratified: false`);
  const idx = stratified
    ? stratifiedIndices((ds as ClassificationDataset).labels, (ds as ClassificationDataset).numClasses, size, rng)
    : sampleWithoutReplacement(ds.n, size, rng);
  return gather(ds, idx, `${ds.name}/sample`);
}

/**
 * Options of {@link splitDataset}.
 *
 * @example
 * ```ts
 * splitDataset(all, { testSize: 1000, seed: 2 } satisfies SplitOptions);
 * ```
 */
export interface SplitOptions {
  /** Fraction of examples in the test set, in (0, 1) (default 0.2). Ignored when `testSize` is given. */
  testFraction?: number;
  /** Exact number of test examples. */
  testSize?: number;
  /** Seed of the split (default 0). */
  seed?: SeedLike;
  /** Stratify by class (default true for classification datasets). */
  stratified?: boolean;
  /** Shuffle the order within train and test (default true; false keeps the dataset order). */
  shuffle?: boolean;
}

/**
 * Splits a dataset into disjoint train and test sets by seed. Stratified by default: each class
 * contributes `round`-ed proportional counts (largest remainder), chosen at random within the
 * class. The same seed always gives the same split; a different seed a different one.
 *
 * @example
 * ```ts
 * const { train, test } = splitDataset(all, { testFraction: 0.2, seed: 0 });
 * ```
 */
export function splitDataset<D extends Dataset>(ds: D, opts: SplitOptions = {}): DataSplit<D> {
  const fn = 'splitDataset';
  assertDataset(ds, fn);
  checkOptions(opts, ['testFraction', 'testSize', 'seed', 'stratified', 'shuffle'], fn);
  if (ds.n < 2) throw new BasisError('TOO_SMALL', `${fn}: '${ds.name}' has ${ds.n} example; a split needs at least 2`);
  let testSize: number;
  if (opts.testSize !== undefined) {
    testSize = checkInt(opts.testSize, `${fn}: testSize`, 1, ds.n - 1);
  } else {
    const f = checkNumber(opts.testFraction ?? 0.2, `${fn}: testFraction`, { min: 0, max: 1, minExclusive: true, maxExclusive: true });
    testSize = Math.round(f * ds.n);
    if (testSize < 1 || testSize > ds.n - 1) {
      throw new BasisError('TOO_SMALL', `${fn}: testFraction ${f} of ${ds.n} examples leaves an empty train or test set; use more data or another fraction`);
    }
  }
  const rng = toRng(opts.seed);
  const stratified = opts.stratified ?? ds.kind === 'classification';
  if (stratified && ds.kind !== 'classification') throw new BasisError('CONFIG_INVALID', `${fn}: stratified splits need a classification dataset; pass stratified: false`);
  const isTest = new Uint8Array(ds.n);
  if (stratified) {
    const byClass = indicesByClass(ds as ClassificationDataset);
    const take = apportion(testSize, Int32Array.from(byClass, (a) => a.length));
    for (let k = 0; k < byClass.length; k++) {
      const pool = byClass[k]!;
      for (const p of sampleWithoutReplacement(pool.length, take[k]!, rng.fork(`class-${k}`))) isTest[pool[p]!] = 1;
    }
  } else {
    for (const i of sampleWithoutReplacement(ds.n, testSize, rng)) isTest[i] = 1;
  }
  const trainIdx = new Int32Array(ds.n - testSize);
  const testIdx = new Int32Array(testSize);
  for (let i = 0, a = 0, b = 0; i < ds.n; i++) {
    if (isTest[i]) testIdx[b++] = i;
    else trainIdx[a++] = i;
  }
  if (opts.shuffle ?? true) {
    shuffle(trainIdx, rng.fork('train-order'));
    shuffle(testIdx, rng.fork('test-order'));
  }
  return { train: gather(ds, trainIdx, `${ds.name}/train`), test: gather(ds, testIdx, `${ds.name}/test`) };
}

/**
 * The same examples viewed with another per-example shape of the same size (e.g. `[784]` ↔
 * `[1, 28, 28]`); the values are shared, not copied.
 *
 * @example
 * ```ts
 * const flat = reshapeDataset(train, [784]);
 * ```
 */
export function reshapeDataset<D extends Dataset>(ds: D, shape: readonly number[]): D {
  assertDataset(ds, 'reshapeDataset');
  const s = checkShape(shape, 'reshapeDataset: shape');
  if (shapeProduct(s) !== shapeProduct(ds.shape)) {
    throw new BasisError('SHAPE_MISMATCH', `reshapeDataset: shape [${s.join(', ')}] has ${shapeProduct(s)} values per example but '${ds.name}' has [${ds.shape.join(', ')}] = ${shapeProduct(ds.shape)}`);
  }
  return { ...ds, shape: s };
}

/**
 * Concatenates datasets of the same kind, shape and classes (rows of `a`, then of `b`, ...).
 *
 * @example
 * ```ts
 * const both = concatDatasets([train, test], 'mnist/all');
 * ```
 */
export function concatDatasets<D extends Dataset>(parts: readonly D[], name?: string): D {
  const fn = 'concatDatasets';
  if (!isList(parts) || parts.length === 0) throw new BasisError('TOO_SMALL', `${fn}: pass a non-empty list of datasets`);
  parts.forEach((p, i) => assertDataset(p, `${fn}: parts[${i}]`));
  const first = parts[0]!;
  const size = shapeProduct(first.shape);
  for (const [i, p] of parts.entries()) {
    if (p.kind !== first.kind) throw new BasisError('INVALID_ARGUMENT', `${fn}: parts[${i}] is a ${p.kind} dataset but parts[0] is ${first.kind}`);
    if (p.shape.join(',') !== first.shape.join(',')) throw new BasisError('SHAPE_MISMATCH', `${fn}: parts[${i}] has shape [${p.shape.join(', ')}] but parts[0] has [${first.shape.join(', ')}]`);
    if (p.kind === 'classification' && p.numClasses !== (first as ClassificationDataset).numClasses) {
      throw new BasisError('SHAPE_MISMATCH', `${fn}: parts[${i}] has ${p.numClasses} classes but parts[0] has ${(first as ClassificationDataset).numClasses}`);
    }
    if (p.kind === 'regression' && p.targetDim !== (first as RegressionDataset).targetDim) {
      throw new BasisError('SHAPE_MISMATCH', `${fn}: parts[${i}] has targetDim ${p.targetDim} but parts[0] has ${(first as RegressionDataset).targetDim}`);
    }
    if (JSON.stringify(p.normalization) !== JSON.stringify(first.normalization)) {
      throw new BasisError('INVALID_ARGUMENT', `${fn}: parts[${i}] is normalised differently from parts[0]; bring them to one normalisation with normalizeImages first`);
    }
  }
  const n = parts.reduce((a, p) => a + p.n, 0);
  const x = new Float32Array(n * size);
  const sourceIndex = new Int32Array(n);
  let o = 0;
  for (const p of parts) {
    x.set(p.x, o * size);
    sourceIndex.set(p.sourceIndex, o);
    o += p.n;
  }
  const out = { ...first, name: name ?? parts.map((p) => p.name).join('+'), n, x, sourceIndex };
  if (first.kind === 'classification') {
    const labels = new Int32Array(n);
    o = 0;
    for (const p of parts as readonly ClassificationDataset[]) {
      labels.set(p.labels, o);
      o += p.n;
    }
    return { ...out, labels } as D;
  }
  const td = (first as RegressionDataset).targetDim;
  const targets = new Float32Array(n * td);
  o = 0;
  for (const p of parts as readonly RegressionDataset[]) {
    targets.set(p.targets, o * td);
    o += p.n;
  }
  return { ...out, targets } as D;
}

