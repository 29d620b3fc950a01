// The S004 (LLFC) measurements shared by E004-1..3: pairs of modes obtained by spawning (seeds-spec
// C3) and by independent training with and without weight / activation matching (C4, C5), each
// with its interpolation barrier (C2) and LLFC, weak-additivity and commutativity report (C6-C8).
import * as tf from '@tensorflow/tfjs-core';
import { activationMatchingOn, interpolationCurve, llfc, weightMatching, type LlfcReport, type Params } from '@basis/connectivity';
import { createRng, integer, list } from '@basis/tensor';
import { buildModel, inferSpec, initParams, parseDataSpec, type DataSpec } from '@basis/zoo';
import { checkInt, checkKeys, checkObject, checkOneOf, count, invalid, show, type FieldProblem } from '../runner/check.js';
import { loadData } from '../runner/data.js';
import type { EvalTask } from '../runner/eval-task.js';
import { ModelFamilySchema, evalData, familyJob, pairs, trainFamily, type ModelFamily } from './e003-shared.js';
import type { CachedModel, RunContext, Profile } from './types.js';

/** Which pairs of modes to build and how many inputs to measure on. */
export interface ModePairsConfig {
  family: ModelFamily;
  /** Spawn points (epochs of shared training before the two copies split); 0 = shared initialisation only. */
  spawnEpochs: number[];
  /** Parent models per spawn point (one spawned pair each). */
  parents: number;
  /** Test inputs for LLFC (the barrier uses the whole test split). */
  inputs: number;
  /** Training inputs used for activation matching. */
  matchInputs: number;
}

/** One pair of modes and what was measured on it. */
export interface PairMeasure {
  /** `spawn-k`, `independent`, `weight-matched` or `activation-matched`. */
  condition: string;
  /** Index of the pair within its condition. */
  pair: number;
  /** Test loss and error barriers (max minus linear interpolation of the endpoints). */
  barrier: { loss: number; error: number };
  /** Endpoint test errors. */
  endpoints: [number, number];
  llfc: LlfcReport;
}

/** Quick and full settings. */
export const MODE_PAIRS_PROFILES: Record<Profile, ModePairsConfig> = {
  quick: { family: { data: { dataset: 'mnist', trainSize: 4000, testSize: 1000 }, model: { arch: 'mlp', width: 64, depth: 3 }, train: { epochs: 2, batchSize: 128, optimizer: { kind: 'adam', lr: 1e-3 } }, seeds: [0, 1, 2] }, spawnEpochs: [0, 1], parents: 3, inputs: 500, matchInputs: 1000 },
  standard: { family: { data: { dataset: 'mnist', trainSize: 8000, testSize: 2000 }, model: { arch: 'mlp', width: 256, depth: 3 }, train: { epochs: 20, batchSize: 128, optimizer: { kind: 'adam', lr: 1e-3 }, schedule: { kind: 'cosine' } }, seeds: [0, 1, 2, 3, 4] }, spawnEpochs: [0, 1, 2], parents: 5, inputs: 1000, matchInputs: 2000 },
  full: { family: { data: { dataset: 'mnist' }, model: { arch: 'mlp', width: 512, depth: 3 }, train: { epochs: 10, batchSize: 128, optimizer: { kind: 'adam', lr: 1e-3 } }, seeds: [0, 1, 2, 3] }, spawnEpochs: [0, 1, 2, 5], parents: 4, inputs: 1000, matchInputs: 2000 },
};

/**
 * The schema entries of the {@link ModePairsConfig} fields, for a recipe's `object` schema (with
 * {@link modePairsProblem} as its cross-field check).
 *
 * @example
 * ```ts
 * const schema = crossCheck(object({ ...modePairsEntries, barrierTol: between(0, 1) }), modePairsProblem);
 * ```
 */
export const modePairsEntries = {
  family: ModelFamilySchema,
  spawnEpochs: list(integer(0), 'spawn epochs (integers >= 0)', { min: 1, emptyMessage: 'must not be empty' }),
  parents: count(1, 'parent'),
  inputs: count(10, 'inputs'),
  matchInputs: count(10, 'inputs'),
};

/**
 * The rules across the {@link ModePairsConfig} fields: two seeds at least (one independent pair),
 * every spawn epoch below `family.train.epochs` (reported at the item:
 * `config.spawnEpochs[0] must be an integer in [0, 1] (below family.train.epochs), got 2`).
 *
 * @example
 * ```ts
 * modePairsProblem({ ...MODE_PAIRS_PROFILES.quick, spawnEpochs: [2] })?.at; // ['spawnEpochs', 0]
 * ```
 */
export function modePairsProblem(c: ModePairsConfig): FieldProblem | null {
  if (c.family.seeds.length < 2) return { at: ['family', 'seeds'], message: `needs at least 2 seeds (one independent pair), got ${c.family.seeds.length}` };
  const epochs = c.family.train.epochs;
  const i = c.spawnEpochs.findIndex((k) => k >= epochs);
  return i < 0 ? null : { at: ['spawnEpochs', i], message: `must be an integer in [0, ${epochs - 1}] (below family.train.epochs), got ${c.spawnEpochs[i]}` };
}

/** Spawned pairs: a parent trained `k` epochs, copied, and trained on with two data orders. */
async function spawnedPairs(ctx: RunContext, c: ModePairsConfig, k: number): Promise<Array<[CachedModel, CachedModel]>> {
  const f = c.family;
  const { train } = await loadData(f.data);
  const graph = buildModel(f.model, { input: train.shape, classes: train.numClasses });
  const parentSeeds = Array.from({ length: c.parents }, (_, p) => ctx.seed + 100 + p);
  let inits: Array<Record<string, unknown>>;
  if (k === 0) {
    inits = parentSeeds.map((s) => {
      const p = initParams(graph, createRng(s).fork('init'));
      return { params: Object.fromEntries(Object.entries(p).map(([n, a]) => [n, { shape: [...a.shape], data: Array.from(a.data) }])) };
    });
  } else {
    const parents = await ctx.models(parentSeeds.map((s) => ({ ...familyJob({ ...f, train: { ...f.train, epochs: k } }, s, `spawn parent seed ${s}, ${k} epoch(s)`) })));
    inits = parents.map((p) => ({ from: p.key }));
  }
  const rest = { ...f.train, epochs: f.train.epochs - k };
  const jobs = inits.flatMap((init, p) => [0, 1].map((child) => ({ data: f.data, model: f.model, recipe: rest, seed: ctx.seed + 200 + 2 * p + child, init, label: `spawn-${k} pair ${p} child ${child}` })));
  const kids = await ctx.models(jobs);
  return parentSeeds.map((_, p) => [kids[2 * p]!, kids[2 * p + 1]!]);
}

/**
 * One pair of modes to measure (a {@link MODE_PAIR} evaluation): the cached models `a` and `b`
 * (keys), B aligned to A first by weight matching, by activation matching on the first
 * `matchInputs` training inputs of `data`, or not at all; then the test loss and error along the
 * linear path between them (11 points, the whole test split of `data`) and LLFC at α = 0.5 on the
 * first `inputs` test inputs. `condition` and `pair` label the result.
 *
 * @example
 * ```ts
 * const spec: ModePairSpec = { condition: 'weight-matched', pair: 0, data: { dataset: 'mnist', trainSize: 4000, testSize: 1000 }, inputs: 500, a: a.key, b: b.key, align: 'weight' };
 * ```
 */
export interface ModePairSpec {
  condition: string;
  pair: number;
  data: DataSpec;
  inputs: number;
  a: string;
  b: string;
  align: 'none' | 'weight' | 'activation';
  /** Training inputs of the activation matching (`align: 'activation'` only). */
  matchInputs?: number;
}

const MODEL_KEY = /^[0-9a-f]{64}$/;

/**
 * The S004 measurement of one pair of modes as an evaluation task (`RunContext.evaluate`): locally
 * in the submitting process, or a `mode-pair` queue job on a worker. Its memo key is the one these
 * measurements always had (condition, A, B with its alignment, inputs), so run caches made before
 * it was a task are reused.
 *
 * @example
 * ```ts
 * const [m] = await ctx.evaluate(MODE_PAIR, [{ condition: 'independent', pair: 0, data, inputs: 500, a: a.key, b: b.key, align: 'none' }]);
 * m.barrier.loss;
 * ```
 */
export const MODE_PAIR: EvalTask<ModePairSpec, PairMeasure> = {
  kind: 'mode-pair',
  check(v: unknown, field: string): ModePairSpec {
    const o = checkObject(v, field);
    checkKeys(o, ['condition', 'pair', 'data', 'inputs', 'a', 'b', 'align', 'matchInputs'], field);
    if (typeof o.condition !== 'string' || o.condition === '') invalid(`${field}.condition`, `must be a non-empty string, got ${show(o.condition)}`);
    const pair = checkInt(o.pair, `${field}.pair`, 0);
    const data = parseDataSpec(o.data, `${field}.data`);
    const inputs = checkInt(o.inputs, `${field}.inputs`, 1);
    for (const side of ['a', 'b'] as const) {
      if (typeof o[side] !== 'string' || !MODEL_KEY.test(o[side] as string)) invalid(`${field}.${side}`, `must be the key of a cached model (64 hex digits), got ${show(o[side])}`);
    }
    const align = checkOneOf(o.align, `${field}.align`, ['none', 'weight', 'activation'] as const);
    const out: ModePairSpec = { condition: o.condition as string, pair, data, inputs, a: o.a as string, b: o.b as string, align };
    if (align === 'activation') out.matchInputs = checkInt(o.matchInputs, `${field}.matchInputs`, 1);
    else if (o.matchInputs !== undefined) invalid(`${field}.matchInputs`, `is only for align 'activation', got align '${align}'`);
    return out;
  },
  memoKey(s) {
    const b = s.align === 'none' ? s.b : s.align === 'weight' ? `${s.b}:wm` : `${s.b}:am:${s.matchInputs!}`;
    return { what: 'mode-pair', condition: s.condition, a: s.a, b, inputs: s.inputs };
  },
  models: (s) => [...new Set([s.a, s.b])],
  label: (s) => `${s.condition} pair ${s.pair}`,
  async run(s, model): Promise<PairMeasure> {
    const a = model(s.a);
    const b = model(s.b);
    let B: Params = b.params;
    if (s.align === 'weight') B = weightMatching(a.params, b.params, inferSpec(a.graph)).params;
    else if (s.align === 'activation') {
      const matchX = (await evalData(s.data, 'train', s.matchInputs!, a.graph.input)).x;
      try {
        B = activationMatchingOn(a.graph, a.params, b.params, matchX, { spec: inferSpec(a.graph) }).params;
      } finally {
        matchX.dispose();
      }
    }
    const test = await evalData(s.data, 'test', 100000, a.graph.input);
    const x = tf.slice(test.x, 0, Math.min(s.inputs, test.n));
    try {
      const curve = await interpolationCurve(a.graph, a.params, B, test, { lambdas: Array.from({ length: 11 }, (_, i) => i / 10) });
      const rep = await llfc(a.graph, a.params, B, x, { alphas: [0.5] });
      return {
        condition: s.condition,
        pair: s.pair,
        barrier: { loss: curve.barrier.loss.maxMinusLinear, error: curve.barrier.error.maxMinusLinear },
        endpoints: [curve.endpoints.a.error, curve.endpoints.b.error] as [number, number],
        llfc: rep,
      };
    } finally {
      x.dispose();
      test.x.dispose();
    }
  },
};

/**
 * Builds the pairs of modes of `conditions` and measures each ({@link MODE_PAIR} evaluations,
 * memoised per pair; queue jobs when the run has a queue executor). `spawn` = every spawn point;
 * `independent`, `weight-matched`, `activation-matched` = the independently trained family's pairs,
 * unaligned or aligned to the first model of the pair. The models are trained first, then every
 * pair is measured in one batch, in the order spawn points, then per independent pair its conditions.
 */
export async function modePairs(ctx: RunContext, c: ModePairsConfig, conditions: ReadonlyArray<'spawn' | 'independent' | 'weight-matched' | 'activation-matched'>): Promise<PairMeasure[]> {
  const specs: ModePairSpec[] = [];
  const base = { data: c.family.data, inputs: c.inputs };
  if (conditions.includes('spawn')) {
    for (const k of c.spawnEpochs) {
      const ps = await spawnedPairs(ctx, c, k);
      for (const [p, [a, b]] of ps.entries()) specs.push({ ...base, condition: `spawn-${k}`, pair: p, a: a.key, b: b.key, align: 'none' });
    }
  }
  const indep = conditions.filter((x) => x !== 'spawn');
  if (indep.length > 0) {
    const models = await trainFamily(ctx, c.family, 'independent');
    for (const [p, [i, j]] of pairs(models.length).entries()) {
      const a = models[i]!.key;
      const b = models[j]!.key;
      if (indep.includes('independent')) specs.push({ ...base, condition: 'independent', pair: p, a, b, align: 'none' });
      if (indep.includes('weight-matched')) specs.push({ ...base, condition: 'weight-matched', pair: p, a, b, align: 'weight' });
      if (indep.includes('activation-matched')) specs.push({ ...base, condition: 'activation-matched', pair: p, a, b, align: 'activation', matchInputs: c.matchInputs });
    }
  }
  return ctx.evaluate(MODE_PAIR, specs, { stage: 'pairs of modes measured' });
}

/** The conditions present in `ms`, in order of appearance. */
export function conditionsOf(ms: PairMeasure[]): string[] {
  return [...new Set(ms.map((m) => m.condition))];
}
