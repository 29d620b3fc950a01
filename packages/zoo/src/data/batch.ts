// Mini-batches in a seeded order.
import { BasisError, permutation } from '@basis/tensor';
import type { Dataset, SeedLike } from './types.js';
import { assertDataset, checkInt, checkOptions, shapeProduct, toRng } from './validate.js';

/**
 * One mini-batch: a contiguous copy of `size` examples.
 *
 * @example
 * ```ts
 * for (const b of batches(train, { batchSize: 128, seed: 0 })) b.x.length === b.size * 784;
 * ```
 */
export interface Batch {
  /** Inputs, row-major `size x prod(shape)`. */
  readonly x: Float32Array;
  /** Per-example shape (as in the dataset). */
  readonly shape: readonly number[];
  /** Labels (classification datasets). */
  readonly labels: Int32Array | undefined;
  /** Targets, row-major `size x targetDim` (regression datasets). */
  readonly targets: Float32Array | undefined;
  /** Number of examples in this batch. */
  readonly size: number;
  /** Positions of these examples in the dataset. */
  readonly indices: Int32Array;
  /** Zero-based batch number within the epoch. */
  readonly index: number;
}

/**
 * Options of {@link batches}.
 *
 * @example
 * ```ts
 * batches(train, { batchSize: 64, seed: 'run-0:epoch-1', dropLast: true } satisfies BatchOptions);
 * ```
 */
export interface BatchOptions {
  /** Examples per batch (the last batch may be smaller unless `dropLast`). */
  batchSize: number;
  /** Order: a seed for a shuffled epoch (same seed, same order), or `false`/omitted for dataset order. */
  seed?: SeedLike | false;
  /** Drop a final incomplete batch (default false). */
  dropLast?: boolean;
}

/**
 * Number of batches an epoch of `n` examples yields.
 *
 * @example
 * ```ts
 * numBatches(10_000, 128);       // 79
 * numBatches(10_000, 128, true); // 78
 * ```
 */
export function numBatches(n: number, batchSize: number, dropLast = false): number {
  checkInt(n, 'numBatches: n', 0);
  checkInt(batchSize, 'numBatches: batchSize', 1);
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/**
 * The example order of one epoch: a seeded permutation, or `0..n-1` without a seed.
 *
 * @example
 * ```ts
 * epochOrder(5, 42); // e.g. Int32Array [3, 0, 4, 1, 2], the same for every call with seed 42
 * ```
 */
export function epochOrder(n: number, seed?: SeedLike | false): Int32Array {
  checkInt(n, 'epochOrder: n', 0);
  if (seed === undefined || seed === false) {
    const o = new Int32Array(n);
    for (let i = 0; i < n; i++) o[i] = i;
    return o;
  }
  return permutation(n, toRng(seed));
}

/**
 * Iterates over mini-batches of a dataset. With a seed the order is a seeded permutation (use a
 * different seed per epoch, e.g. `` `${runSeed}:${epoch}` ``); without one it is the dataset order.
 * Each batch is a fresh contiguous copy, ready for {@link batchToTensors}.
 *
 * @example
 * ```ts
 * for (const b of batches(train, { batchSize: 128, seed: `0:${epoch}` })) {
 *   const { x, y } = batchToTensors(b, { oneHot: 10 });
 *   // ... train step ...
 *   x.dispose(); y.dispose();
 * }
 * ```
 */
export function* batches(ds: Dataset, opts: BatchOptions): Generator<Batch, void, undefined> {
  assertDataset(ds, 'batches');
  checkOptions(opts, ['batchSize', 'seed', 'dropLast'], 'batches');
  if (opts === undefined) throw new BasisError('CONFIG_INVALID', 'batches: pass { batchSize }');
  const bs = checkInt(opts.batchSize, 'batches: batchSize', 1);
  const dropLast = opts.dropLast ?? false;
  if (dropLast && bs > ds.n) throw new BasisError('TOO_SMALL', `batches: batchSize ${bs} exceeds the ${ds.n} examples of '${ds.name}' with dropLast, so no batch would be produced; lower batchSize`);
  const order = epochOrder(ds.n, opts.seed);
  const size = shapeProduct(ds.shape);
  const count = numBatches(ds.n, bs, dropLast);
  for (let b = 0; b < count; b++) {
    const indices = order.slice(b * bs, Math.min((b + 1) * bs, ds.n));
    const m = indices.length;
    const x = new Float32Array(m * size);
    for (let r = 0; r < m; r++) {
      const i = indices[r]!;
      x.set(ds.x.subarray(i * size, (i + 1) * size), r * size);
    }
    let labels: Int32Array | undefined;
    let targets: Float32Array | undefined;
    if (ds.kind === 'classification') {
      labels = new Int32Array(m);
      for (let r = 0; r < m; r++) labels[r] = ds.labels[indices[r]!]!;
    } else {
      const td = ds.targetDim;
      targets = new Float32Array(m * td);
      for (let r = 0; r < m; r++) targets.set(ds.targets.subarray(indices[r]! * td, (indices[r]! + 1) * td), r * td);
    }
    yield { x, shape: ds.shape, labels, targets, size: m, indices, index: b };
  }
}
