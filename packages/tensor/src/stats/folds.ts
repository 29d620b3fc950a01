import { BasisError } from '../errors.js';
import type { Rng } from '../random/rng.js';
import { permutation } from '../random/samplers.js';

/** One cross-validation fold: training and test row indices. */
export interface Fold {
  train: Int32Array;
  test: Int32Array;
}

/**
 * K disjoint folds over n rows (spec P9). By default contiguous and unshuffled, exactly as the
 * fixtures and scikit-learn's `KFold(k, shuffle=False)` define them: fold f tests rows
 * `[start_f, start_f + size_f)` with `size_f = floor(n/k) + (f < n mod k ? 1 : 0)` and trains on
 * all other rows in their original order. With `shuffle: true` the rows are first permuted by `rng`.
 *
 * @example
 * ```ts
 * kfold(10, 5)[1].test; // Int32Array [2, 3]
 * kfold(10, 5, { shuffle: true, rng: createRng(0) });
 * ```
 */
export function kfold(n: number, k: number, opts: { shuffle?: boolean; rng?: Rng } = {}): Fold[] {
  if (!Number.isInteger(k) || k < 2) throw new BasisError('INVALID_ARGUMENT', `k must be an integer >= 2, got ${k}`);
  if (!Number.isInteger(n) || n < k) throw new BasisError('TOO_SMALL', `kfold needs n >= k rows, got n = ${n}, k = ${k}`);
  let order: Int32Array;
  if (opts.shuffle === true) {
    if (opts.rng === undefined) throw new BasisError('INVALID_ARGUMENT', 'kfold with shuffle needs an rng (createRng(seed))');
    order = permutation(n, opts.rng);
  } else {
    order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
  }
  const folds: Fold[] = [];
  let start = 0;
  for (let f = 0; f < k; f++) {
    const size = Math.floor(n / k) + (f < n % k ? 1 : 0);
    const test = order.slice(start, start + size);
    const train = new Int32Array(n - size);
    train.set(order.subarray(0, start), 0);
    train.set(order.subarray(start + size), start);
    folds.push({ train, test });
    start += size;
  }
  return folds;
}
