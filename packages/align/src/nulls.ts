import { BasisError, asMatrix, permutation, permutationPValue, type MatrixLike, type Rng } from '@basis/tensor';
import { takeRows } from './prep.js';
import { getMetric, metric } from './registry.js';

/** Result of {@link permutationTest}. */
export interface PermutationTestResult {
  id: string;
  observed: number;
  /** Metric values with Y's rows shuffled (inputs no longer corresponding). */
  null: Float64Array;
  /** `(1 + #{null at least as extreme}) / (1 + permutations)`; "extreme" = larger similarity / smaller distance. */
  pValue: number;
  permutations: number;
}

/**
 * Row-shuffle permutation test: how often does the metric reach the observed value when Y's rows
 * are randomly re-paired with X's? A random-network baseline is the same comparison with an
 * untrained model's activations as Y.
 *
 * @example
 * ```ts
 * import { createRng } from '@basis/tensor';
 * const r = permutationTest('cka.linear', X, Y, { rng: createRng(0), permutations: 200 });
 * r.pValue; // small when X and Y share structure
 * ```
 */
export function permutationTest(
  id: string,
  X: MatrixLike,
  Y: MatrixLike,
  opts: { rng: Rng; permutations?: number },
): PermutationTestResult {
  const d = getMetric(id);
  const P = opts.permutations ?? 200;
  if (!Number.isInteger(P) || P < 1) throw new BasisError('INVALID_ARGUMENT', `permutations must be a positive integer, got ${P}`);
  const x = asMatrix(X);
  const y = asMatrix(Y);
  const observed = metric(id, x, y).value;
  const nulls = new Float64Array(P);
  for (let p = 0; p < P; p++) nulls[p] = metric(id, x, takeRows(y, permutation(y.rows, opts.rng))).value;
  const pValue = permutationPValue(observed, nulls, { alternative: d.kind === 'similarity' ? 'greater' : 'less' });
  return { id, observed, null: nulls, pValue, permutations: P };
}
