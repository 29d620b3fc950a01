// E004-1 (S004): LLFC co-occurs with LMC. Spawned pairs and weight-matched independent pairs
// (usually linearly connected) against unaligned independent pairs: the barrier next to
// E[1 - cos_alpha] and the A-vs-B baseline E[1 - cos_AB] per layer.
import { object, type Schema } from '@basis/tensor';
import { between, crossCheck, recipeConfig } from '../runner/check.js';
import { barChart, lineChart, type Figure, type Table } from '../report.js';
import { clusterEstimate } from '../runner/estimate.js';
import { estimate, fmt, pairs } from './e003-shared.js';
import { checkOf, judge, judgeAll, judgeFlag, pairBootstrap } from './verdict.js';
import { MODE_PAIRS_PROFILES, conditionsOf, modePairs, modePairsEntries, modePairsProblem, type ModePairsConfig, type PairMeasure } from './e004-shared.js';
import type { ClaimCheck, Estimate, ExperimentRecipe, RecipeResult, Profile } from './types.js';

/** Configuration of E004-1 (the pairs of modes and the LMC / LLFC thresholds). */
export interface E0041Config extends ModePairsConfig {
  /** LMC holds when the test-error barrier is at most this (seeds-spec C2 common choice 0.02). */
  barrierTol: number;
  /** LLFC holds at a layer when E[1 - cos_alpha] <= llfcRatio * E[1 - cos_AB]. */
  llfcRatio: number;
  /** Spawned pairs count only when their modes differ: mean E[1 - cos_AB] >= this (else LLFC is trivial). */
  minDistinct: number;
}

/** The schema of {@link E0041Config}: the mode-pair fields and their rules, and the three thresholds in (0, 1). */
export const E0041ConfigSchema: Schema<E0041Config> = crossCheck(object({ ...modePairsEntries, barrierTol: between(0, 1), llfcRatio: between(0, 1), minDistinct: between(0, 1) }), modePairsProblem);

const PROFILES: Record<Profile, E0041Config> = {
  quick: { ...MODE_PAIRS_PROFILES.quick, barrierTol: 0.02, llfcRatio: 0.25, minDistinct: 0.01 },
  standard: { ...MODE_PAIRS_PROFILES.standard, barrierTol: 0.02, llfcRatio: 0.25, minDistinct: 0.01 },
  full: { ...MODE_PAIRS_PROFILES.full, barrierTol: 0.02, llfcRatio: 0.25, minDistinct: 0.01 },
};

/** Per-layer LLFC ratio `E[1 - cos_alpha] / E[1 - cos_AB]` of a pair. */
export function llfcRatios(m: PairMeasure): Array<{ layer: string; ratio: number; cosAlpha: number; cosAB: number }> {
  return m.llfc.layers.map((l) => ({ layer: l.layer, cosAlpha: l.oneMinusCosAlpha.mean, cosAB: l.oneMinusCosAB.mean, ratio: l.oneMinusCosAB.mean > 0 ? l.oneMinusCosAlpha.mean / l.oneMinusCosAB.mean : l.oneMinusCosAlpha.mean === 0 ? 0 : Infinity }));
}

/** What E004-1 needs of a measured pair: its condition, index, error barrier and per-layer LLFC ratios and A-vs-B distances. */
export interface E0041Pair {
  condition: string;
  /**
   * Index of the pair within its condition. For spawned pairs (`spawn-k`) it is the parent lineage:
   * pair p of every spawn point comes from the same parent seed (and its children use the same two
   * data orders), so spawned pairs with equal `pair` are not independent.
   */
  pair: number;
  barrierError: number;
  /** E[1 - cos_alpha] / E[1 - cos_AB] per layer (capped at 10). */
  ratios: number[];
  /** E[1 - cos_AB] per layer (how different the two modes' features are). */
  cosAB: number[];
}

/** The summary of a measured pair that {@link decideE0041} reads. */
export function pairSummary(m: PairMeasure): E0041Pair {
  const r = llfcRatios(m);
  return { condition: m.condition, pair: m.pair, barrierError: m.barrier.error, ratios: r.map((x) => Math.min(10, x.ratio)), cosAB: r.map((x) => x.cosAB) };
}

const mean = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0) / v.length;

/**
 * The verdicts of E004-1 (pure). The permutation half (weight-matched independent pairs, model-level
 * bootstrap) and the spawning half (spawned pairs whose modes differ; a t interval over the means of
 * their parent lineages, since the pairs spawned from one parent at different spawn points share
 * its seed and data orders) are
 * tested separately; LLFC is only tested where LMC is established (otherwise inconclusive, with the
 * reason). `indepPairs[p]` are the model indices of independent pair `p`.
 *
 * @example
 * ```ts
 * decideE0041(ms.map(pairSummary), pairs(5), 5, { barrierTol: 0.02, llfcRatio: 0.25, minDistinct: 0.01 });
 * ```
 */
export function decideE0041(ms: readonly E0041Pair[], indepPairs: Array<[number, number]>, models: number, c: Pick<E0041Config, 'barrierTol' | 'llfcRatio' | 'minDistinct'>): ClaimCheck[] {
  const of = (cond: string): E0041Pair[] => ms.filter((m) => m.condition === cond).sort((x, y) => x.pair - y.pair);
  const wm = of('weight-matched');
  const un = of('independent');
  const boot = (v: number[], seed: number): Estimate => pairBootstrap(v, indepPairs.slice(0, v.length), models, seed);
  const out: ClaimCheck[] = [];
  // permutation half
  if (wm.length === 0) {
    out.push(checkOf({ claim: 'Permutation half: when weight-matched independent modes are linearly connected, their feature maps are linearly connected at almost every layer (LLFC).', paper: 'S004: LLFC holds whenever LMC holds, via spawning or permutation.', measured: 'no weight-matched pairs were measured.' }, judgeFlag(false, 'needs weight-matched pairs', 'measuring weight-matched pairs', ['no weight-matched pairs'])));
  } else {
    const bar = boot(wm.map((m) => m.barrierError), 1);
    const ratio = boot(wm.map((m) => mean(m.ratios)), 2);
    const warn = bar.hi <= c.barrierTol ? [] : [`LMC is not established for the weight-matched pairs (error barrier ${fmt(bar)} not below ${c.barrierTol}): LLFC "whenever LMC holds" cannot be tested on them`];
    out.push(
      checkOf(
        {
          claim: 'Permutation half: when weight-matched independent modes are linearly connected, their feature maps are linearly connected at almost every layer (LLFC).',
          paper: 'S004: LLFC holds whenever LMC holds, via spawning or permutation alignment, at almost all layers (no numbers).',
          measured: `weight-matched pairs: error barrier ${fmt(bar)}; mean-over-layers E[1-cos_alpha] / E[1-cos_AB] ${fmt(ratio, 4)} (model-level bootstrap over ${models} seeds).`,
          estimates: { matchedRatio: ratio, matchedBarrier: bar },
          primary: 'matchedRatio',
        },
        judge(ratio, { side: 'below', null: c.llfcRatio, effect: 0 }, warn),
      ),
    );
  }
  // spawning half: only connected pairs whose two modes actually differ
  const spawned = ms.filter((m) => m.condition.startsWith('spawn-'));
  const usable = spawned.filter((m) => m.barrierError <= c.barrierTol && mean(m.cosAB) >= c.minDistinct);
  const trivial = spawned.filter((m) => m.barrierError <= c.barrierTol && mean(m.cosAB) < c.minDistinct).length;
  const sw: string[] = usable.length < 2 ? [`only ${usable.length} spawned pair(s) are linearly connected with distinct modes (E[1-cos_AB] >= ${c.minDistinct}); ${trivial} connected pair(s) are nearly identical, where LLFC is trivial`] : [];
  // lineage-level interval: pairs spawned from one parent (at different spawn points) are one cluster
  const sRatio = usable.length === 0 ? { mean: 0, lo: 0, hi: 0, n: 0, method: 'none' as const } : clusterEstimate(usable.map((m) => mean(m.ratios)), usable.map((m) => m.pair), 'spawned LLFC ratio');
  const lineages = new Set(usable.map((m) => m.pair)).size;
  // per spawn point (one pair per lineage: independent), shown beside the pooled verdict
  const points = [...new Set(usable.map((m) => m.condition))];
  const byPoint = Object.fromEntries(points.map((k) => [`spawnedRatio ${k}`, estimate(usable.filter((m) => m.condition === k).map((m) => mean(m.ratios)), `spawned LLFC ratio ${k}`)]));
  if (usable.length >= 2 && lineages < 2) sw.push(`the ${usable.length} usable spawned pairs all come from one parent lineage: no interval over independent lineages`);
  out.push(
    checkOf(
      {
        claim: 'Spawning half: spawned modes that are linearly connected (and not nearly identical) have linearly connected feature maps (LLFC).',
        paper: 'S004: LLFC holds whenever LMC holds (spawning), at almost all layers.',
        measured: `${usable.length} of ${spawned.length} spawned pairs are connected (error barrier <= ${c.barrierTol}) with distinct modes; their mean-over-layers ratio ${usable.length === 0 ? 'n/a' : `${fmt(sRatio, 4)} (t interval over the means of ${lineages} parent lineages: the pairs spawned from one parent at different spawn points are not independent)`}${points.length > 1 ? `; by spawn point: ${points.map((k) => `${k} ${fmt(byPoint[`spawnedRatio ${k}`]!, 4)}`).join(', ')}` : ''}${trivial > 0 ? `; ${trivial} connected pair(s) excluded as nearly identical` : ''}.`,
        ...(usable.length === 0 ? {} : { estimates: { spawnedRatio: sRatio, ...byPoint }, primary: 'spawnedRatio' }),
      },
      judge(sRatio, { side: 'below', null: c.llfcRatio, effect: 0 }, sw),
    ),
  );
  // LLFC fails where LMC fails: unaligned minus weight-matched ratio, paired by model pair
  if (un.length > 0 && wm.length === un.length) {
    const d = boot(un.map((m, k) => mean(m.ratios) - mean(wm[k]!.ratios)), 3);
    const barUn = boot(un.map((m) => m.barrierError), 4);
    out.push(
      checkOf(
        {
          claim: 'LLFC fails where LMC fails: unaligned independent pairs have a barrier and a larger LLFC ratio than the same pairs after weight matching.',
          paper: 'S004 Lemma 1: LLFC at the output layer with small endpoint errors implies LMC.',
          measured: `unaligned error barrier ${fmt(barUn)}; LLFC ratio unaligned minus weight-matched (paired) ${fmt(d, 4)}.`,
          estimates: { ratioDifference: d, unalignedBarrier: barUn },
          primary: 'ratioDifference',
        },
        judgeAll([judge(barUn, { side: 'above', null: c.barrierTol, effect: 0 }), judge(d, { side: 'above', null: 0, effect: 0.05 })], ['unaligned barrier', 'ratio difference']),
      ),
    );
  }
  return out;
}

export const e004_1: ExperimentRecipe<E0041Config> = {
  id: 'E004-1',
  title: 'LLFC co-occurs with LMC (spawned and matched pairs)',
  source: 'S004 (LLFC, Zhou et al. 2023), Definition 1 and Lemma 1',
  profiles: PROFILES,
  ...recipeConfig(E0041ConfigSchema),
  async run(ctx, c): Promise<RecipeResult> {
    const ms = await modePairs(ctx, c, ['spawn', 'independent', 'weight-matched']);
    const conds = conditionsOf(ms);
    const models = c.family.seeds.length;
    const checks = decideE0041(ms.map(pairSummary), pairs(models), models, c);
    const meanCos = (m: PairMeasure): number => m.llfc.layers.reduce((s, l) => s + l.oneMinusCosAlpha.mean, 0) / m.llfc.layers.length;
    const byCond = Object.fromEntries(conds.map((k) => [k, ms.filter((m) => m.condition === k)]));
    const est = Object.fromEntries(conds.flatMap((k) => [[`error barrier ${k}`, estimate(byCond[k]!.map((m) => m.barrier.error))], [`mean 1-cos_alpha ${k}`, estimate(byCond[k]!.map(meanCos))]]));
    const layers = ms[0]!.llfc.layers.map((l) => l.layer);
    const rows: Figure['rows'] = conds.flatMap((k) =>
      layers.map((l, li) => {
        const e = estimate(byCond[k]!.map((m) => m.llfc.layers[li]!.oneMinusCosAlpha.mean));
        return { x: li + 1, layer: l, series: k, y: e.mean, lo: e.lo, hi: e.hi };
      }),
    );
    const base: Figure['rows'] = layers.map((l, li) => {
      const e = estimate(ms.filter((m) => m.condition === 'independent').map((m) => m.llfc.layers[li]!.oneMinusCosAB.mean));
      return { x: li + 1, layer: l, series: 'baseline 1-cos_AB (independent)', y: e.mean, lo: e.lo, hi: e.hi };
    });
    const barRows: Figure['rows'] = conds.flatMap((k) => [
      { group: k, series: 'test error barrier', value: est[`error barrier ${k}`]!.mean },
      { group: k, series: 'mean E[1-cos_alpha]', value: est[`mean 1-cos_alpha ${k}`]!.mean },
    ]);
    const figures: Figure[] = [
      { id: 'llfc-by-layer', title: 'E[1 - cos_alpha] at alpha = 0.5 by layer', caption: 'Mean over pairs with 95% t bands; layer k is the k-th ReLU output, the last the logits. The baseline is E[1 - cos_AB] of unaligned independent pairs.', spec: lineChart([...rows, ...base], { x: 'layer', y: 'E[1 - cos]', band: true }), rows: [...rows, ...base] },
      { id: 'barrier-vs-llfc', title: 'Barrier and LLFC per condition', caption: 'Test-error barrier (max minus linear interpolation) and mean-over-layers E[1 - cos_alpha], mean over pairs.', spec: barChart(barRows, { x: 'condition', y: 'value' }), rows: barRows },
    ];
    const tables: Table[] = [
      {
        id: 'pairs',
        title: 'Every pair: barrier and per-layer LLFC',
        columns: ['condition', 'pair', 'error barrier', 'loss barrier', ...layers.map((l) => `1-cos_alpha / 1-cos_AB ${l}`)],
        rows: ms.map((m) => [m.condition, m.pair, m.barrier.error, m.barrier.loss, ...llfcRatios(m).map((r) => `${r.cosAlpha.toFixed(4)} / ${r.cosAB.toFixed(4)}`)]),
      },
    ];
    return {
      checks,
      figures,
      tables,
      notes: [
        `[OPEN] LMC holds when the test-error barrier (max over alpha of E(alpha) minus the linear interpolation of the endpoints, 11 points) is <= ${c.barrierTol}.`,
        `[OPEN] LLFC holds at a layer when E[1-cos_alpha] <= ${c.llfcRatio} x E[1-cos_AB] at alpha = 0.5 (the LLFC paper's plots; S004 gives no threshold).`,
        '[OPEN] Spawning restarts Adam\'s moments at the spawn point; spawn-0 shares only the initialisation. Weight matching modulo G_ReLU (Git Re-Basin coordinate ascent).',
      ],
      data: { pairs: ms.map((m) => ({ condition: m.condition, pair: m.pair, barrier: m.barrier, endpoints: m.endpoints, layers: llfcRatios(m) })), estimates: est },
    };
  },
};
