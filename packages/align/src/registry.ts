import { BasisError, asMatrix, type MatrixLike } from '@basis/tensor';
import { ccaMeanRho, ccaMeanRho2, pwcca, svcca } from './metrics/cca.js';
import { ckaLinear, ckaLinearUnbiased } from './metrics/cka.js';
import { linearCv, permutationCv, procrustesCv } from './metrics/cv.js';
import { ckaRbf, greluCka } from './metrics/kernels.js';
import { mutualKnn, rsaSpearman } from './metrics/neighbours.js';
import { greluProcrustes, permcorr, softmatch } from './metrics/unitwise.js';
import { permutationAngular, permutationSimilarity } from './metrics/permutation.js';
import { procrustesAngular, procrustesEuclidean, procrustesSimilarity } from './metrics/procrustes.js';
import type { MetricDefinition, MetricResult } from './types.js';
import { validatePair } from './validate.js';

const DEFINITIONS: readonly MetricDefinition[] = [
  ckaLinear,
  ckaLinearUnbiased,
  ckaRbf,
  procrustesSimilarity,
  procrustesAngular,
  procrustesEuclidean,
  permutationSimilarity,
  permutationAngular,
  ccaMeanRho,
  ccaMeanRho2,
  svcca,
  pwcca,
  permcorr,
  greluProcrustes,
  greluCka,
  softmatch,
  linearCv,
  procrustesCv,
  permutationCv,
  rsaSpearman,
  mutualKnn,
];

const BY_ID = new Map(DEFINITIONS.map((d) => [d.id, d]));

/**
 * Every registered metric, in a stable order.
 *
 * @example
 * ```ts
 * import { listMetrics } from '@basis/align';
 * listMetrics().filter((m) => m.invariances.includes('rotation')).map((m) => m.id);
 * ```
 */
export function listMetrics(): readonly MetricDefinition[] {
  return DEFINITIONS;
}

/** The definition of one metric id; throws `INVALID_ARGUMENT` listing the known ids. */
export function getMetric(id: string): MetricDefinition {
  const d = BY_ID.get(id);
  if (d === undefined) {
    throw new BasisError('INVALID_ARGUMENT', `unknown metric '${id}'; known metrics: ${[...BY_ID.keys()].join(', ')}`);
  }
  return d;
}

/**
 * Computes one metric between activation matrices X (N x dx) and Y (N x dy) whose rows are the
 * same N inputs. Validates the inputs (same rows, enough rows, finite) and never returns NaN.
 *
 * @example
 * ```ts
 * import { Matrix } from '@basis/tensor';
 * import { metric } from '@basis/align';
 * const X = Matrix.from([[1, 0], [0, 1], [1, 1], [2, 0]]);
 * metric('cka.linear', X, X).value; // 1
 * ```
 */
export function metric(id: string, X: MatrixLike, Y: MatrixLike): MetricResult {
  const d = getMetric(id);
  const x = asMatrix(X);
  const y = asMatrix(Y);
  validatePair(x, y, d.minRows, d.id);
  let value: number;
  let folds: MetricResult['folds'];
  if (d.foldScores !== undefined) {
    const scores = d.foldScores(x, y);
    value = scores.reduce((s, v) => s + v, 0) / scores.length;
    const std = Math.sqrt(scores.reduce((s, v) => s + (v - value) ** 2, 0) / (scores.length - 1));
    folds = { scores, mean: value, std };
  } else {
    value = d.compute(x, y);
  }
  if (!Number.isFinite(value)) {
    throw new BasisError('NOT_CONVERGED', `${d.id} produced ${value}; this is a bug in basis, please report it with the inputs`);
  }
  return { id: d.id, value, kind: d.kind, options: {}, precision: 'float64', ...(folds === undefined ? {} : { folds }) };
}

/**
 * Computes several metrics (all registered ones by default) between X and Y.
 *
 * @example
 * ```ts
 * import { compare } from '@basis/align';
 * for (const r of compare(X, Y, ['cka.linear', 'procrustes.similarity'])) console.log(r.id, r.value);
 * ```
 */
export function compare(X: MatrixLike, Y: MatrixLike, ids?: readonly string[]): MetricResult[] {
  const list = ids ?? DEFINITIONS.map((d) => d.id);
  if (list.length === 0) throw new BasisError('INVALID_ARGUMENT', 'no metric ids given');
  for (const id of list) getMetric(id);
  const x = asMatrix(X);
  const y = asMatrix(Y);
  return list.map((id) => metric(id, x, y));
}
