import type { Rng } from '@basis/tensor';

/**
 * How the values in a dataset's `x` relate to pixel intensities `p` in 0..255.
 *
 * - `raw`: `x = p` (0..255).
 * - `unit`: `x = p / 255` (0..1).
 * - `standard`: `x = (p / 255 - mean[c]) / std[c]` per channel `c` (mean and std in the unit scale).
 * - `none`: not image data (synthetic sets); no pixel interpretation.
 *
 * @example
 * ```ts
 * const n: Normalization = { kind: 'standard', mean: [MNIST_MEAN], std: [MNIST_STD] };
 * ```
 */
export type Normalization =
  | { readonly kind: 'raw' }
  | { readonly kind: 'unit' }
  | { readonly kind: 'standard'; readonly mean: readonly number[]; readonly std: readonly number[] }
  | { readonly kind: 'none' };

/**
 * A normalisation request for image data: `'unit'` (p/255, the default), `'raw'` (0..255),
 * `'standard'` (the dataset's documented mean/std constants, e.g. {@link MNIST_MEAN}) or explicit
 * `{ mean, std }` in the unit scale (one number, or one per channel).
 *
 * @example
 * ```ts
 * const a: NormalizeOption = 'standard';
 * const b: NormalizeOption = { mean: 0.5, std: 0.25 };
 * ```
 */
export type NormalizeOption =
  | 'unit'
  | 'raw'
  | 'standard'
  | { readonly mean: number | readonly number[]; readonly std: number | readonly number[] };

/** Fields every dataset has. */
interface DatasetBase {
  /** A display name that records provenance, e.g. `mnist/test` or `mnist/test/ood:rotate-30`. */
  readonly name: string;
  /** Where the data came from: `mnist`, `fashion-mnist`, `idx`, `synthetic:modular-addition`, ... */
  readonly source: string;
  /** Number of examples. */
  readonly n: number;
  /** Inputs, row-major: example `i` occupies `x[i * size .. (i + 1) * size)`, `size = prod(shape)`. */
  readonly x: Float32Array;
  /** Per-example shape: `[C, H, W]` for images (channels first, PyTorch layout), `[d]` for vectors. */
  readonly shape: readonly number[];
  /** How `x` relates to pixel values (images) or `none`. */
  readonly normalization: Normalization;
  /**
   * For each example, its index in the source's canonical order (e.g. 0..9999 for the `mnist`
   * package in the documented class-major order). Survives shuffling, subsets and splits.
   */
  readonly sourceIndex: Int32Array;
  /** Extra provenance (generator parameters, teacher weights' seed, ...). JSON-friendly values. */
  readonly meta: Readonly<Record<string, unknown>>;
}

/**
 * A classification dataset: inputs plus integer labels in `0..numClasses-1`.
 *
 * @example
 * ```ts
 * const { train } = await loadMnist({ seed: 0 });
 * train.shape;      // [1, 28, 28]
 * train.labels[0];  // a digit 0..9
 * ```
 */
export interface ClassificationDataset extends DatasetBase {
  readonly kind: 'classification';
  /** Label of each example (length `n`). */
  readonly labels: Int32Array;
  /** Number of classes (labels are `0..numClasses-1`). */
  readonly numClasses: number;
  /** Human-readable class names (length `numClasses`). */
  readonly classNames: readonly string[];
}

/**
 * A regression dataset: inputs plus real-valued targets (`n x targetDim`, row-major).
 *
 * @example
 * ```ts
 * const ds = teacherDataset({ teacher: createTeacherMlp({ inputDim: 4, seed: 1 }), n: 100, seed: 2 });
 * ds.targets.length === ds.n * ds.targetDim; // true
 * ```
 */
export interface RegressionDataset extends DatasetBase {
  readonly kind: 'regression';
  /** Targets, row-major `n x targetDim`. */
  readonly targets: Float32Array;
  /** Number of target values per example. */
  readonly targetDim: number;
}

/**
 * Any basis dataset.
 *
 * @example
 * ```ts
 * function describe(ds: Dataset): string {
 *   return ds.kind === 'classification' ? `${ds.n} examples, ${ds.numClasses} classes` : `${ds.n} x ${ds.targetDim} targets`;
 * }
 * ```
 */
export type Dataset = ClassificationDataset | RegressionDataset;

/**
 * A train/test pair.
 *
 * @example
 * ```ts
 * const split: DataSplit = splitDataset(ds, { testFraction: 0.2, seed: 0 });
 * split.train.n + split.test.n === ds.n; // true
 * ```
 */
export interface DataSplit<D extends Dataset = ClassificationDataset> {
  readonly train: D;
  readonly test: D;
}

/**
 * A seed: a non-negative integer, a string, or an existing {@link Rng} (which is then advanced).
 *
 * @example
 * ```ts
 * shuffleDataset(ds, 7);
 * shuffleDataset(ds, 'epoch-3');
 * shuffleDataset(ds, createRng(7));
 * ```
 */
export type SeedLike = number | string | Rng;
