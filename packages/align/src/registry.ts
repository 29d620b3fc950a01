import { BasisError, asMatrix, type MatrixLike } from '@basis/tensor';
import { ccaMeanRho, ccaMeanRho2, pwcca, svcca } from './metrics/cca.js';
import { ckaLinear, ckaLinearUnbiased } from './metrics/cka.js';
import { linearCv, permutationCv, procrustesCv } from './metrics/cv.js';
import { ckaRbf, greluCka } from './metrics/kernels.js';
import { mutualKnn, rsaSpearman } from './metrics/neighbours.js';
import { greluProcrustes, permcorr, softmatch } from './metrics/unitwise.js';
import { permutationAngular, permutationSimilarity } from './metrics/permutation.js';
import { procrustesAngular, procrustesEuclidean, procrustesSimilarity } from './metrics/procrustes.js';
import { cosineAligned, shapePartialWhitening } from './metrics/shape.js';
import { corrmatchSoft, maxmatch } from './metrics/matching.js';
import { eos, gulp, linregR2 } from './metrics/subspace.js';
import { dcor, riemann, rsmNorm } from './metrics/rsm.js';
import { knnJaccard, knnRank, knnRankJaccard, knnSecondOrderCosine } from './metrics/knn.js';
import { statConcentricity, statIntrinsicDim, statMagnitude, statUniformity } from './metrics/stats.js';
import { imd } from './metrics/imd.js';
import { costModel } from './cost.js';
import type { MetricDefinition, MetricResult, ResolvedOptions } from './types.js';
import { maxAbsOf } from './prep.js';
import { validatePair } from './validate.js';

const KERNELS: readonly MetricDefinition[] = [
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
  // survey measures (fixtures README, "Survey measures")
  shapePartialWhitening,
  cosineAligned,
  maxmatch,
  corrmatchSoft,
  linregR2,
  eos,
  gulp,
  rsmNorm,
  dcor,
  riemann,
  knnJaccard,
  knnSecondOrderCosine,
  knnRank,
  knnRankJaccard,
  statMagnitude,
  statConcentricity,
  statUniformity,
  statIntrinsicDim,
  imd,
];

// each registered metric with its calibrated resource model (cost.ts)
const DEFINITIONS: readonly MetricDefinition[] = KERNELS.map((d) => {
  const cost = d.cost ?? costModel(d.id);
  return cost === undefined ? d : Object.freeze({ ...d, cost });
});

// ids and aliases (an alias resolves to its metric's definition: results carry the metric's id)
const BY_ID = new Map<string, MetricDefinition>([
  ...DEFINITIONS.map((d): [string, MetricDefinition] => [d.id, d]),
  ...DEFINITIONS.flatMap((d) => (d.aliases ?? []).map((a): [string, MetricDefinition] => [a, d])),
]);

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

/**
 * The definition of one metric id or alias (an alias such as `nbs` gives the definition of the
 * metric it names, `procrustes.similarity`); throws `INVALID_ARGUMENT` listing the known ids.
 *
 * @example
 * ```ts
 * getMetric('nbs').id; // 'procrustes.similarity'
 * ```
 */
export function getMetric(id: string): MetricDefinition {
  const d = BY_ID.get(id);
  if (d === undefined) {
    const aliases = DEFINITIONS.flatMap((m) => (m.aliases ?? []).map((a) => `${a} (= ${m.id})`));
    throw new BasisError(
      'INVALID_ARGUMENT',
      `unknown metric '${id}'; known metrics: ${DEFINITIONS.map((m) => m.id).join(', ')}${aliases.length > 0 ? `; aliases: ${aliases.join(', ')}` : ''}`,
    );
  }
  return d;
}

/** Options objects returned by {@link resolveOptions}, with the id of the metric they were resolved for. */
const RESOLVED = new WeakMap<object, string>();

/**
 * Fills in a metric's option defaults and validates the given values; unknown names, wrong types
 * and out-of-range values raise `CONFIG_INVALID` naming the option and its schema.
 *
 * @example
 * ```ts
 * resolveOptions('knn.mutual', { k: 5 }); // { k: 5 }
 * const r = resolveOptions('knn.mutual'); resolveOptions('knn.mutual', r) === r; // true: resolved once
 * ```
 */
export function resolveOptions(id: string, given: Record<string, unknown> = {}): ResolvedOptions {
  const d = getMetric(id);
  // options this function resolved for this metric (frozen, so unchanged since) are returned as they
  // are: a caller that resolves once at its door (the CLI's compare) is not checked again downstream
  if (RESOLVED.get(given) === d.id) return given as ResolvedOptions;
  const schema = d.options ?? [];
  const out: Record<string, number | boolean | readonly number[]> = {};
  for (const key of Object.keys(given)) {
    if (!schema.some((o) => o.name === key)) {
      throw new BasisError(
        'CONFIG_INVALID',
        `${id} has no option '${key}'${schema.length === 0 ? ' (it takes no options)' : `; its options are ${schema.map((o) => o.name).join(', ')}`}`,
      );
    }
  }
  for (const o of schema) {
    const v = given[o.name] ?? o.default;
    const bad = (why: string) => new BasisError('CONFIG_INVALID', `${id} option '${o.name}' ${why}, got ${JSON.stringify(v)} (${o.description})`);
    const checkNumber = (x: unknown): number => {
      if (typeof x !== 'number' || !Number.isFinite(x)) throw bad('must be a finite number');
      if (o.type === 'integer' && !Number.isInteger(x)) throw bad('must be an integer');
      if (o.min !== undefined && x < o.min) throw bad(`must be >= ${o.min}`);
      if (o.exclusiveMin !== undefined && !(x > o.exclusiveMin)) throw bad(`must be > ${o.exclusiveMin}`);
      if (o.max !== undefined && x > o.max) throw bad(`must be <= ${o.max}`);
      return x;
    };
    if (o.type === 'boolean') {
      if (typeof v !== 'boolean') throw bad('must be true or false');
      out[o.name] = v;
    } else if (o.type === 'number[]') {
      if (!Array.isArray(v) || v.length === 0) throw bad('must be a non-empty list of numbers');
      out[o.name] = Object.freeze(v.map(checkNumber));
    } else {
      out[o.name] = checkNumber(v);
    }
  }
  const resolved = Object.freeze(out);
  RESOLVED.set(resolved, d.id);
  return resolved;
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
export function metric(id: string, X: MatrixLike, Y: MatrixLike, options: Record<string, unknown> = {}): MetricResult {
  const d = getMetric(id);
  const opts = resolveOptions(id, options);
  const x = asMatrix(X);
  const y = asMatrix(Y);
  validatePair(x, y, d.minRows, d.id, d.screen);
  let value: number;
  let folds: MetricResult['folds'];
  if (d.foldScores !== undefined) {
    const scores = d.foldScores(x, y, opts);
    value = scores.reduce((s, v) => s + v, 0) / scores.length;
    const std = Math.sqrt(scores.reduce((s, v) => s + (v - value) ** 2, 0) / (scores.length - 1));
    folds = { scores, mean: value, std };
  } else {
    value = d.compute(x, y, opts);
  }
  if (!Number.isFinite(value)) {
    // finite inputs of any scale give finite values (exact power-of-two prescaling, see prep.ts): only a defect gets here
    throw new BasisError(
      'NOT_CONVERGED',
      `${d.id} produced ${value} from finite inputs (${x.rows} x ${x.cols}, max |X| = ${maxAbsOf(x)}; ${y.rows} x ${y.cols}, max |Y| = ${maxAbsOf(y)}); this is a bug in basis, please report it with the inputs`,
    );
  }
  return { id: d.id, value, kind: d.kind, options: opts, precision: 'float64', ...(folds === undefined ? {} : { folds }) };
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
export function compare(
  X: MatrixLike,
  Y: MatrixLike,
  ids?: readonly string[],
  options: Record<string, Record<string, unknown>> = {},
): MetricResult[] {
  const list = ids ?? DEFINITIONS.map((d) => d.id);
  if (list.length === 0) throw new BasisError('INVALID_ARGUMENT', 'no metric ids given');
  for (const id of list) resolveOptions(id, options[id]);
  const x = asMatrix(X);
  const y = asMatrix(Y);
  return list.map((id) => metric(id, x, y, options[id]));
}
