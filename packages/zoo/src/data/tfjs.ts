// Conversion of datasets and batches to tfjs tensors (tfjs-core only; the caller owns the tensors).
import { tensor, type Tensor } from '@tensorflow/tfjs-core';
import { BasisError } from '@basis/tensor';
import type { Batch } from './batch.js';
import type { Dataset } from './types.js';
import { assertDataset, checkInt, checkOptions, describe, shapeProduct } from './validate.js';

/**
 * Tensor layout for inputs: `'nchw'` keeps the stored per-example shape (`[n, C, H, W]`, or
 * `[n, d]` for vectors), `'nhwc'` transposes images to channels-last (tfjs `conv2d`'s default
 * data format), `'flat'` gives `[n, prod(shape)]`.
 *
 * @example
 * ```ts
 * const layout: TensorLayout = 'nhwc';
 * ```
 */
export type TensorLayout = 'nchw' | 'nhwc' | 'flat';

/**
 * Options of {@link datasetToTensors} and {@link batchToTensors}.
 *
 * @example
 * ```ts
 * datasetToTensors(test, { layout: 'flat', oneHot: true } satisfies ToTensorOptions);
 * ```
 */
export interface ToTensorOptions {
  /** Input layout (default `'nchw'`, i.e. the stored shape). */
  layout?: TensorLayout;
  /**
   * Labels as a float32 one-hot matrix `[n, K]` instead of an int32 vector `[n]`. `true` uses the
   * dataset's `numClasses` (datasets only); a number gives K explicitly (needed for batches).
   */
  oneHot?: boolean | number;
}

/**
 * Inputs and labels/targets as tensors. The caller must dispose both.
 *
 * @example
 * ```ts
 * const { x, y }: TensorPair = datasetToTensors(test);
 * x.dispose();
 * y.dispose();
 * ```
 */
export interface TensorPair {
  readonly x: Tensor;
  readonly y: Tensor;
}

function layoutValues(x: Float32Array, n: number, shape: readonly number[], layout: TensorLayout, fn: string): { values: Float32Array; shape: number[] } {
  if (layout === 'flat') return { values: x, shape: [n, shapeProduct(shape)] };
  if (layout === 'nchw') return { values: x, shape: [n, ...shape] };
  if (layout === 'nhwc') {
    if (shape.length !== 3) throw new BasisError('SHAPE_MISMATCH', `${fn}: layout 'nhwc' needs images of shape [C, H, W], got [${shape.join(', ')}]; use 'flat' or 'nchw'`);
    const [C, H, W] = shape as [number, number, number];
    const plane = H * W;
    const out = new Float32Array(x.length);
    for (let i = 0; i < n; i++) {
      const base = i * C * plane;
      for (let c = 0; c < C; c++) for (let k = 0; k < plane; k++) out[base + k * C + c] = x[base + c * plane + k]!;
    }
    return { values: out, shape: [n, H, W, C] };
  }
  throw new BasisError('CONFIG_INVALID', `${fn}: layout must be 'nchw', 'nhwc' or 'flat', got ${describe(layout)}`);
}

function labelTensor(labels: Int32Array, oneHot: number | undefined): Tensor {
  if (oneHot === undefined) return tensor(labels, [labels.length], 'int32');
  const out = new Float32Array(labels.length * oneHot);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (y >= oneHot) throw new BasisError('INVALID_ARGUMENT', `label ${y} of example ${i} does not fit a one-hot width of ${oneHot}; raise oneHot to the number of classes`);
    out[i * oneHot + y] = 1;
  }
  return tensor(out, [labels.length, oneHot], 'float32');
}

function convert(
  x: Float32Array,
  n: number,
  shape: readonly number[],
  labels: Int32Array | undefined,
  targets: Float32Array | undefined,
  targetDim: number,
  numClasses: number | undefined,
  opts: ToTensorOptions,
  fn: string,
): TensorPair {
  checkOptions(opts, ['layout', 'oneHot'], fn);
  const { values, shape: xs } = layoutValues(x, n, shape, opts.layout ?? 'nchw', fn);
  let oneHot: number | undefined;
  if (opts.oneHot === true) {
    if (numClasses === undefined) throw new BasisError('CONFIG_INVALID', `${fn}: oneHot: true needs the number of classes; pass oneHot: K (e.g. 10) for a batch`);
    oneHot = numClasses;
  } else if (typeof opts.oneHot === 'number') oneHot = checkInt(opts.oneHot, `${fn}: oneHot`, 1);
  else if (opts.oneHot !== undefined && opts.oneHot !== false) throw new BasisError('CONFIG_INVALID', `${fn}: oneHot must be a boolean or a number of classes, got ${describe(opts.oneHot)}`);
  let y: Tensor;
  if (labels !== undefined) y = labelTensor(labels, oneHot);
  else {
    if (oneHot !== undefined) throw new BasisError('CONFIG_INVALID', `${fn}: oneHot applies to classification labels, but this data has regression targets`);
    y = tensor(targets!, [n, targetDim], 'float32');
  }
  const xt = tensor(values, xs, 'float32');
  return { x: xt, y };
}

/**
 * The whole dataset as tensors: inputs `[n, ...]` (float32) and labels (int32 `[n]`, or float32
 * one-hot `[n, K]`) or regression targets (float32 `[n, targetDim]`). Uses only tfjs-core; the
 * active backend is whatever the application selected. The caller disposes the tensors.
 *
 * @example
 * ```ts
 * const { x, y } = datasetToTensors(test, { layout: 'nhwc', oneHot: true });
 * x.shape; // [2000, 28, 28, 1]
 * x.dispose(); y.dispose();
 * ```
 */
export function datasetToTensors(ds: Dataset, opts: ToTensorOptions = {}): TensorPair {
  assertDataset(ds, 'datasetToTensors');
  return ds.kind === 'classification'
    ? convert(ds.x, ds.n, ds.shape, ds.labels, undefined, 0, ds.numClasses, opts, 'datasetToTensors')
    : convert(ds.x, ds.n, ds.shape, undefined, ds.targets, ds.targetDim, undefined, opts, 'datasetToTensors');
}

/**
 * A mini-batch (from {@link batches}) as tensors; see {@link datasetToTensors}. One-hot labels
 * need the class count: `oneHot: 10`.
 *
 * @example
 * ```ts
 * for (const b of batches(train, { batchSize: 128, seed: 1 })) {
 *   const { x, y } = batchToTensors(b, { layout: 'flat', oneHot: 10 });
 *   x.dispose(); y.dispose();
 * }
 * ```
 */
export function batchToTensors(batch: Batch, opts: ToTensorOptions = {}): TensorPair {
  const fn = 'batchToTensors';
  if (typeof batch !== 'object' || batch === null || !(batch.x instanceof Float32Array) || !Number.isInteger(batch.size) || batch.size < 1) {
    throw new BasisError('INVALID_ARGUMENT', `${fn}: expected a non-empty batch from batches(), got ${describe(batch)}`);
  }
  const size = shapeProduct(batch.shape);
  if (batch.x.length !== batch.size * size) throw new BasisError('SHAPE_MISMATCH', `${fn}: batch.x has ${batch.x.length} values but ${batch.size} examples of shape [${batch.shape.join(', ')}] need ${batch.size * size}`);
  if (batch.labels === undefined && batch.targets === undefined) throw new BasisError('INVALID_ARGUMENT', `${fn}: the batch has neither labels nor targets`);
  const targetDim = batch.targets === undefined ? 0 : batch.targets.length / batch.size;
  return convert(batch.x, batch.size, batch.shape, batch.labels, batch.targets, targetDim, undefined, opts, fn);
}
