// The S004 (LLFC) measurements shared by E004-1..3: pairs of modes obtained by spawning (seeds-spec
// C3) and by independent training with and without weight / activation matching (C4, C5), each
// with its interpolation barrier (C2) and LLFC, weak-additivity and commutativity report (C6-C8).
import * as tf from '@tensorflow/tfjs-core';
import { activationMatchingOn, interpolationCurve, llfc, weightMatching, type LlfcReport, type Params } from '@basis/connectivity';
import { createRng } from '@basis/tensor';
import { buildModel, inferSpec, initParams } from '@basis/zoo';
import { invalid } from '../runner/check.js';
import { loadData } from '../runner/data.js';
import { checkLike, evalData, familyJob, needAtLeast, pairs, trainFamily, type ModelFamily } from './e003-shared.js';
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

/** Validates a configuration that extends {@link ModePairsConfig} against a profile's shape. */
export function checkModePairs<C extends ModePairsConfig>(v: unknown, template: C): C {
  const c = checkLike(v, template, 'config');
  needAtLeast(c.family.seeds.length, 2, 'config.family.seeds', 'seeds (one independent pair)');
  needAtLeast(c.parents, 1, 'config.parents', 'parent');
  needAtLeast(c.inputs, 10, 'config.inputs', 'inputs');
  needAtLeast(c.matchInputs, 10, 'config.matchInputs', 'inputs');
  c.spawnEpochs.forEach((k, i) => {
    if (!Number.isInteger(k) || k < 0 || k >= c.family.train.epochs) invalid(`config.spawnEpochs[${i}]`, `must be an integer in [0, ${c.family.train.epochs - 1}] (below family.train.epochs), got ${k}`);
  });
  return c;
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

async function measure(ctx: RunContext, c: ModePairsConfig, condition: string, pair: number, a: CachedModel, bKey: string, B: Params): Promise<PairMeasure> {
  return ctx.cached({ what: 'mode-pair', condition, a: a.key, b: bKey, inputs: c.inputs }, async () => {
    const test = await evalData(c.family.data, 'test', 100000, a.graph.input);
    const x = tf.slice(test.x, 0, Math.min(c.inputs, test.n));
    try {
      const curve = await interpolationCurve(a.graph, a.params, B, test, { lambdas: Array.from({ length: 11 }, (_, i) => i / 10) });
      const rep = await llfc(a.graph, a.params, B, x, { alphas: [0.5] });
      return {
        condition,
        pair,
        barrier: { loss: curve.barrier.loss.maxMinusLinear, error: curve.barrier.error.maxMinusLinear },
        endpoints: [curve.endpoints.a.error, curve.endpoints.b.error] as [number, number],
        llfc: rep,
      };
    } finally {
      x.dispose();
      test.x.dispose();
    }
  });
}

/**
 * Builds the pairs of modes of `conditions` and measures each (memoised per pair).
 * `spawn` = every spawn point; `independent`, `weight-matched`, `activation-matched` = the
 * independently trained family's pairs, unaligned or aligned to the first model of the pair.
 */
export async function modePairs(ctx: RunContext, c: ModePairsConfig, conditions: ReadonlyArray<'spawn' | 'independent' | 'weight-matched' | 'activation-matched'>): Promise<PairMeasure[]> {
  const out: PairMeasure[] = [];
  if (conditions.includes('spawn')) {
    for (const k of c.spawnEpochs) {
      const ps = await spawnedPairs(ctx, c, k);
      for (const [p, [a, b]] of ps.entries()) out.push(await measure(ctx, c, `spawn-${k}`, p, a, b.key, b.params));
      ctx.progress('spawn points measured', c.spawnEpochs.indexOf(k) + 1, c.spawnEpochs.length);
    }
  }
  const indep = conditions.filter((x) => x !== 'spawn');
  if (indep.length > 0) {
    const models = await trainFamily(ctx, c.family, 'independent');
    const spec = inferSpec(models[0]!.graph);
    const ps = pairs(models.length);
    let matchX: tf.Tensor | null = null;
    try {
      for (const [p, [i, j]] of ps.entries()) {
        const a = models[i]!;
        const b = models[j]!;
        if (indep.includes('independent')) out.push(await measure(ctx, c, 'independent', p, a, b.key, b.params));
        if (indep.includes('weight-matched')) {
          const wm = weightMatching(a.params, b.params, spec);
          out.push(await measure(ctx, c, 'weight-matched', p, a, `${b.key}:wm`, wm.params));
        }
        if (indep.includes('activation-matched')) {
          if (matchX === null) matchX = (await evalData(c.family.data, 'train', c.matchInputs, a.graph.input)).x;
          const am = activationMatchingOn(a.graph, a.params, b.params, matchX, { spec });
          out.push(await measure(ctx, c, 'activation-matched', p, a, `${b.key}:am:${c.matchInputs}`, am.params));
        }
        ctx.progress('independent pairs measured', p + 1, ps.length);
      }
    } finally {
      matchX?.dispose();
    }
  }
  return out;
}

/** The conditions present in `ms`, in order of appearance. */
export function conditionsOf(ms: PairMeasure[]): string[] {
  return [...new Set(ms.map((m) => m.condition))];
}
