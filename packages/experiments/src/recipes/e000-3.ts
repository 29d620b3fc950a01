// E000-3 (S000, protocol F4): freezing early layers identically — two networks share a frozen
// trunk bit for bit and train the rest from different seeds; perm-corr above the trunk and
// identity stitching are compared with fully independent pairs.
import * as tf from '@tensorflow/tfjs-core';
import { metric } from '@basis/align';
import { stitch } from '@basis/connectivity';
import { barChart, type Figure } from '../report.js';
import { finite, integer, list, object, oneOf, type Schema } from '@basis/tensor';
import { crossCheck, recipeConfig } from '../runner/check.js';
import { estimate, formatEstimate } from '../runner/estimate.js';
import { loadData } from '../runner/data.js';
import { FULL_DATA, FULL_TRAIN, QUICK_DATA, QUICK_TRAIN, STANDARD_DATA, STANDARD_SEEDS, STANDARD_TRAIN, activationCache, activationPoints, baseEntries, datasetTensor, evalSet, graphOf, inputsFit, job, meanOf, pairs, untrained, type BaseConfig } from './common.js';
import type { CachedModel, ClaimCheck, Estimate, ExperimentRecipe, RecipeResult } from './types.js';
import { checkOf, judge, pairBootstrap } from './verdict.js';

type Trunk = 'trained' | 'random-init';

/** Configuration of E000-3. */
export interface E0003Config extends BaseConfig {
  width: number;
  depth: number;
  /** Hidden layers in the shared frozen trunk (1 or 2 per seeds-spec). */
  frozen: number;
  /** Trunk variants: trained once, or only randomly initialised (seeds-spec F4 runs both). */
  trunks: Trunk[];
  /** Minimum gain (perm-corr, or stitching accuracy) for "increases" / "works better". */
  minGain: number;
}

/**
 * The schema of {@link E0003Config} (its messages start with `E000-3`): no more inputs than the
 * test set has, the frozen trunk below the last hidden layer, each trunk variant once.
 */
export const E0003ConfigSchema: Schema<E0003Config> = crossCheck(
  object({
    ...baseEntries(2),
    inputs: integer(50),
    width: integer(2, 4096),
    depth: integer(2, 8),
    frozen: integer(1),
    trunks: list(oneOf(['trained', 'random-init']), 'trunk variants', { min: 1, emptyMessage: 'must list at least 1 trunk variant' }),
    minGain: finite({ ge: 0, le: 1 }),
  }),
  (c) => {
    if (c.frozen > c.depth - 1) return { at: ['frozen'], message: `must be an integer in [1, ${c.depth - 1}], got ${c.frozen}` };
    if (new Set(c.trunks).size !== c.trunks.length) return { at: ['trunks'], message: 'lists a variant twice' };
    return inputsFit('E000-3')(c);
  },
);

type P64 = CachedModel['params'];

/** What E000-3 measured per group ('independent' and each trunk variant): per seed pair, perm-corr above the trunk and the identity-stitching penalty. */
export type E0003Measured = Record<string, { permcorr: number[]; stitchPenalty: number[] }>;

/**
 * The verdicts of E000-3 (pure): paired gains of each shared-trunk group over independent pairs
 * with the same seeds, with model-level bootstrap intervals (pairs share models).
 *
 * @example
 * ```ts
 * decideE0003(results, { trunks: ['trained'], pairs: [[0, 1], [0, 2], [1, 2]], models: 3, minGain: 0.01, layers: 'layers.3', cut: 'layers.1' });
 * ```
 */
export function decideE0003(results: E0003Measured, o: { trunks: readonly string[]; pairs: Array<[number, number]>; models: number; minGain: number; layers: string; cut: string; frozen?: number }): ClaimCheck[] {
  const ind = results.independent!;
  const checks: ClaimCheck[] = [];
  for (const t of o.trunks) {
    const r = results[t]!;
    const dPc = pairBootstrap(r.permcorr.map((v, k) => v - ind.permcorr[k]!), o.pairs, o.models, 1);
    const dSt = pairBootstrap(r.stitchPenalty.map((v, k) => ind.stitchPenalty[k]! - v), o.pairs, o.models, 2);
    const j1 = judge(dPc, { side: 'above', null: 0, effect: o.minGain });
    const j2 = judge(dSt, { side: 'above', null: 0, effect: o.minGain });
    checks.push(
      checkOf(
        {
          claim: `Freezing the first ${o.frozen ?? 1} layer(s) identically (${t} trunk) increases basis correlation above the trunk.`,
          paper: 'S000: basis correlation increases significantly (medium confidence per the summary; no numbers).',
          measured: `Perm-corr above the trunk (mean over ${o.layers}): shared ${t} trunk ${formatEstimate(estimate(r.permcorr))}, independent ${formatEstimate(estimate(ind.permcorr))}; paired gain ${formatEstimate(dPc)} (model-level bootstrap).`,
          estimates: { permcorrGain: dPc },
          primary: 'permcorrGain',
        },
        j1,
      ),
      checkOf(
        {
          claim: `With a shared ${t} trunk, identity stitching above the trunk works better.`,
          paper: 'S000: identity stitching improves.',
          measured: `Identity-stitching penalty at ${o.cut} (mean accuracy of the two models minus the stitched model's): shared ${formatEstimate(estimate(r.stitchPenalty), 4)}, independent ${formatEstimate(estimate(ind.stitchPenalty), 4)}; improvement ${formatEstimate(dSt, 4)} (model-level bootstrap).`,
          estimates: { stitchingImprovement: dSt },
          primary: 'stitchingImprovement',
        },
        j2,
      ),
    );
  }
  return checks;
}

async function run(ctx: Parameters<ExperimentRecipe['run']>[0], c: E0003Config): Promise<RecipeResult> {
  const model = { arch: 'mlp' as const, width: c.width, depth: c.depth };
  const graph = graphOf(model);
  const dense = graph.nodes.filter((n) => n.op === 'dense').map((n) => n.name);
  const trunkNodes = dense.slice(0, c.frozen);
  const seeds = Array.from({ length: c.seeds }, (_, s) => ctx.seed + s);
  const trunkSeed = ctx.seed + 1000;
  const indep = await ctx.models(seeds.map((s) => job(c.data, model, c.train, s, `E000-3 independent seed ${s}`)));
  const groups: Record<string, CachedModel[]> = { independent: indep };
  for (const t of c.trunks) {
    if (t === 'trained') {
      const [trunk] = await ctx.models([job(c.data, model, c.train, trunkSeed, `E000-3 trunk seed ${trunkSeed}`)]);
      groups[t] = await ctx.models(seeds.map((s) => ({ ...job(c.data, model, { ...c.train, freeze: trunkNodes }, s, `E000-3 trained trunk, seed ${s}`), init: { from: trunk!.key, layers: trunkNodes } })));
    } else {
      const trunkInit = untrained(graph, trunkSeed);
      groups[t] = await ctx.models(
        seeds.map((s) => {
          const p: P64 = untrained(graph, s);
          for (const n of Object.keys(p)) if (trunkNodes.some((l) => n.startsWith(`${l}.`))) p[n] = trunkInit[n]!;
          return { ...job(c.data, model, { ...c.train, freeze: trunkNodes }, s, `E000-3 random trunk, seed ${s}`), init: { params: p } };
        }),
      );
    }
  }
  const points = activationPoints(graph);
  const above_ = points.slice(c.frozen); // post-activation layers above the trunk
  const cut = above_[0]!; // identity stitching at the first cut above the trunk
  const ps = pairs(c.seeds);
  const ev = await evalSet(c.data, c.inputs);
  const trainSet = datasetTensor((await loadData(c.data)).train, Math.min(1000, (await loadData(c.data)).train.n));
  const results: Record<string, { permcorr: number[]; stitchPenalty: number[] }> = {};
  try {
    const x = tf.reshape(ev.x, [ev.labels.length, -1]);
    const xt = tf.reshape(trainSet.x, [trainSet.labels.length, -1]);
    try {
      const acts = activationCache(ev.x, above_);
      let done = 0;
      const total = Object.keys(groups).length * ps.length;
      for (const [g, ms] of Object.entries(groups)) {
        results[g] = { permcorr: [], stitchPenalty: [] };
        for (const [i, j] of ps) {
          const a = ms[i]!;
          const b = ms[j]!;
          const r = await ctx.cached({ what: 'freeze-pair', a: a.key, b: b.key, points: above_, cut, inputs: c.inputs, data: c.data }, async () => {
            const [xa, xb] = [await acts(a), await acts(b)];
            const pc = meanOf(above_.map((p) => metric('permcorr', xa[p]!, xb[p]!).value));
            const st = await stitch(a.graph, a.params, b.params, { kind: 'identity', layer: cut, train: { x: xt, labels: trainSet.labels }, test: { x, labels: ev.labels } });
            return { permcorr: pc, penalty: st.penalty };
          });
          results[g]!.permcorr.push(r.permcorr);
          results[g]!.stitchPenalty.push(r.penalty);
          ctx.progress('pairs compared', ++done, total);
        }
      }
    } finally {
      tf.dispose([x, xt]);
    }
  } finally {
    ev.dispose();
    trainSet.dispose();
  }
  const checks = decideE0003(results, { trunks: c.trunks, pairs: ps, models: c.seeds, minGain: c.minGain, layers: above_.join(', '), cut, frozen: c.frozen });
  const estimates: Record<string, Estimate> = {};
  const ind = results.independent!;
  for (const t of c.trunks) {
    const r = results[t]!;
    estimates[`permcorr ${t}`] = estimate(r.permcorr);
    estimates[`stitch penalty ${t}`] = estimate(r.stitchPenalty);
  }
  estimates['permcorr independent'] = estimate(ind.permcorr);
  estimates['stitch penalty independent'] = estimate(ind.stitchPenalty);
  const rows: Figure['rows'] = Object.keys(groups).flatMap((g) => [
    { group: g, series: 'perm-corr above trunk', value: estimates[`permcorr ${g}`]!.mean },
    { group: g, series: 'identity-stitching accuracy kept', value: 1 - estimates[`stitch penalty ${g}`]!.mean },
  ]);
  return {
    checks,
    figures: [{ id: 'freeze-comparison', title: 'Shared frozen trunk against independent training', caption: `MLP(${c.width}) x ${c.depth}; perm-corr averaged over the post-activation layers above the trunk, and 1 − identity-stitching penalty at ${cut}; means over ${ps.length} pairs.`, spec: barChart(rows, { x: 'pairs', y: 'value' }), rows }],
    tables: [
      {
        id: 'freeze-table',
        title: 'Per group',
        caption: '95% t intervals over pairs of seeds (branch seeds are the same in every group).',
        columns: ['group', 'perm-corr mean', 'lo', 'hi', 'stitch penalty mean', 'lo', 'hi', 'test accuracy (mean %)'],
        rows: Object.entries(groups).map(([g, ms]) => {
          const a = estimates[`permcorr ${g}`]!;
          const b = estimates[`stitch penalty ${g}`]!;
          return [g, a.mean, a.lo, a.hi, b.mean, b.lo, b.hi, 100 * meanOf(ms.map((m) => m.result.final.testAccuracy as number))];
        }),
      },
    ],
    notes: [
      `Protocol F4 (common reading): the trunk is the first ${c.frozen} dense layer(s) (${trunkNodes.join(', ')}), either trained once (seed ${trunkSeed}) or only initialised (seed ${trunkSeed}); it is copied bit for bit into every branch model and frozen, and the remaining layers train from the branch seed (its initialisation and data order).`,
      'Perm-corr (M1) is measured on the post-activation layers above the trunk (the trunk layers themselves are identical by construction). Identity stitching (F1-1) feeds model A\'s features at the cut into model B\'s upper layers, no training; penalty = mean accuracy of the two models − stitched accuracy (F2).',
      'Gains are paired: pair (i, j) of a shared-trunk group against pair (i, j) of independent models with the same seeds.',
    ],
    data: { results, points: above_, cut, trunkNodes },
  };
}

/** E000-3: freezing early layers (S000). */
export const e000_3: ExperimentRecipe<E0003Config> = {
  id: 'E000-3',
  title: 'Freezing early layers identically',
  source: 'S000 (privileged bases), freezing experiment (protocol F4)',
  profiles: {
    quick: { data: QUICK_DATA, train: QUICK_TRAIN, seeds: 3, inputs: 1000, width: 64, depth: 3, frozen: 1, trunks: ['trained'], minGain: 0.01 },
    standard: { data: STANDARD_DATA, train: STANDARD_TRAIN, seeds: STANDARD_SEEDS, inputs: 2000, width: 256, depth: 3, frozen: 1, trunks: ['trained', 'random-init'], minGain: 0.01 },
    full: { data: FULL_DATA, train: FULL_TRAIN, seeds: 6, inputs: 2000, width: 256, depth: 4, frozen: 2, trunks: ['trained', 'random-init'], minGain: 0.01 },
  },
  ...recipeConfig(E0003ConfigSchema, 'E000-3'),
  run,
};
