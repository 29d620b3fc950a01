// E000-4 (S000): linear mode connectivity against width — the loss/error barrier after weight
// matching shrinks as width grows, while perm-corr (basis correlation) stays about flat.
import * as tf from '@tensorflow/tfjs-core';
import { interpolationCurve, weightMatching } from '@basis/connectivity';
import { inferSpec } from '@basis/zoo';
import { lineChart, type Figure } from '../report.js';
import { finite, integer, object, type Schema } from '@basis/tensor';
import { crossCheck, recipeConfig } from '../runner/check.js';
import { estimate, formatEstimate } from '../runner/estimate.js';
import { FULL_DATA, FULL_TRAIN, QUICK_DATA, QUICK_TRAIN, STANDARD_DATA, STANDARD_SEEDS, STANDARD_TRAIN, baseEntries, evalSet, inputsFit, meanOf, slope, widthsSchema, type BaseConfig } from './common.js';
import { judge, judgeAll, pairBootstrap } from './verdict.js';
import { permcorrSweep } from './e000-1.js';
import type { ClaimCheck, Estimate, ExperimentRecipe, RecipeResult } from './types.js';

/** Configuration of E000-4. */
export interface E0004Config extends BaseConfig {
  widths: number[];
  depth: number;
  /** Interpolation grid size (λ = 0, 1/(n-1), ..., 1). */
  lambdas: number;
  /** "Flat" perm-corr: its change across the whole width sweep (slope × doublings) within ± this. */
  flatChange: number;
  /** Minimum shrinkage of the matched loss barrier across the sweep for "LMC improves" (loss units). */
  minShrink: number;
}

/** What E000-4 measured: matched barriers [width][pair] and perm-corr [width][pair][layer]. */
export interface E0004Measured {
  widths: number[];
  pairs: Array<[number, number]>;
  models: number;
  lossBarrier: number[][];
  errorBarrier: number[][];
  permcorr: number[][][];
}

/**
 * The verdicts of E000-4 from its measurements (pure). Changes across the sweep are per seed pair
 * (slope against log2 width × doublings), with model-level bootstrap intervals.
 *
 * @example
 * ```ts
 * decideE0004(measured, { flatChange: 0.05, minShrink: 0.01 }).map((c) => c.verdict);
 * ```
 */
export function decideE0004(m: E0004Measured, c: Pick<E0004Config, 'flatChange' | 'minShrink'>): ClaimCheck[] {
  const log2w = m.widths.map((w) => Math.log2(w));
  const top = m.widths.length - 1;
  const doublings = (log2w[top] as number) - (log2w[0] as number);
  const sweep = (ys: (p: number) => number[], seed: number): Estimate => pairBootstrap(m.pairs.map((_, p) => doublings * slope(log2w, ys(p))), m.pairs, m.models, seed);
  const barrier = sweep((p) => m.lossBarrier.map((wv) => wv[p]!), 1);
  const error = sweep((p) => m.errorBarrier.map((wv) => wv[p]!), 2);
  const pc = sweep((p) => m.permcorr.map((wv) => meanOf(wv[p]!)), 3);
  const topBarrier = pairBootstrap(m.lossBarrier[top]!, m.pairs, m.models, 4);
  const j1 = judge(barrier, { side: 'below', null: 0, effect: c.minShrink });
  const jFlat = judge(pc, { side: 'within', lo: -c.flatChange, hi: c.flatChange });
  const j2 = judgeAll([j1, jFlat], ['barrier shrinks', 'perm-corr flat']);
  return [
    {
      claim: 'Linear mode connectivity improves with width: the barrier after permutation alignment shrinks as networks get wider.',
      paper: 'S000: LMC improves with width (no numbers in the summary); well established at this scale (seeds-spec 2.1).',
      measured: `Change of the test-loss barrier after weight matching from width ${m.widths[0]} to ${m.widths[top]}: ${formatEstimate(barrier, 4)} (error barrier ${formatEstimate(error, 4)}); barrier at width ${m.widths[top]} ${formatEstimate(topBarrier, 4)}. Criterion: ${j1.criterion}.`,
      verdict: j1.verdict,
      estimates: { lossBarrierChange: barrier, errorBarrierChange: error, lossBarrierLargestWidth: topBarrier },
      primary: 'lossBarrierChange',
      criterion: j1.criterion,
      change: j1.change,
    },
    {
      claim: 'The improvement is not explained by higher basis correlation: perm-corr stays about flat over the same widths while the barrier falls.',
      paper: 'S000: LMC improves with width but perm-corr stays flat (the open part of the claim, seeds-spec 2.1).',
      measured: `Perm-corr change across the sweep ${formatEstimate(pc, 4)} over the same models. Criterion: ${j2.criterion}.`,
      verdict: j2.verdict,
      estimates: { permcorrChange: pc, lossBarrierChange: barrier },
      primary: 'permcorrChange',
      criterion: j2.criterion,
      change: j2.change,
    },
  ];
}

/** The schema of {@link E0004Config} (its messages start with `E000-4`): no more inputs than the test set has. */
export const E0004ConfigSchema: Schema<E0004Config> = crossCheck(
  object({
    ...baseEntries(2),
    inputs: integer(50),
    widths: widthsSchema(2),
    depth: integer(1, 8),
    lambdas: integer(3, 101),
    flatChange: finite({ gt: 0, le: 1 }),
    minShrink: finite({ ge: 0, le: 10 }),
  }),
  inputsFit('E000-4'),
);

async function run(ctx: Parameters<ExperimentRecipe['run']>[0], c: E0004Config): Promise<RecipeResult> {
  const s = await permcorrSweep(ctx, c, 'E000-4');
  const ev = await evalSet(c.data, c.inputs);
  const lambdas = Array.from({ length: c.lambdas }, (_, i) => i / (c.lambdas - 1));
  // barrier[w][pair] for naive and weight-matched interpolation
  const naive: Array<Array<{ loss: number; error: number }>> = [];
  const matched: Array<Array<{ loss: number; error: number }>> = [];
  const curves: Figure['rows'] = [];
  try {
    const x = tf.reshape(ev.x, [ev.labels.length, -1]);
    try {
      let done = 0;
      const total = c.widths.length * s.pairs.length;
      for (let wi = 0; wi < c.widths.length; wi++) {
        const ms = s.byWidth[wi]!;
        const spec = inferSpec(ms[0]!.graph);
        naive.push([]);
        matched.push([]);
        for (const [p, [i, j]] of s.pairs.entries()) {
          const a = ms[i]!;
          const b = ms[j]!;
          const r = await ctx.cached({ what: 'barriers', a: a.key, b: b.key, inputs: c.inputs, data: c.data, lambdas }, async () => {
            const wm = weightMatching(a.params, b.params, spec);
            const n = await interpolationCurve(a.graph, a.params, b.params, { x, labels: ev.labels }, { lambdas });
            const m = await interpolationCurve(a.graph, a.params, wm.params, { x, labels: ev.labels }, { lambdas });
            return {
              naive: { loss: n.barrier.loss.maxMinusLinear, error: n.barrier.error.maxMinusLinear, curve: n.loss },
              matched: { loss: m.barrier.loss.maxMinusLinear, error: m.barrier.error.maxMinusLinear, curve: m.loss },
            };
          });
          naive[wi]!.push(r.naive);
          matched[wi]!.push(r.matched);
          if (p === 0) {
            for (const [k, l] of lambdas.entries()) {
              curves.push({ x: l, y: r.naive.curve[k] as number, series: `width ${c.widths[wi]} naive` });
              curves.push({ x: l, y: r.matched.curve[k] as number, series: `width ${c.widths[wi]} matched` });
            }
          }
          ctx.progress('barriers', ++done, total);
        }
      }
    } finally {
      x.dispose();
    }
  } finally {
    ev.dispose();
  }
  const checks = decideE0004({ widths: c.widths, pairs: s.pairs, models: c.seeds, lossBarrier: matched.map((w) => w.map((b) => b.loss)), errorBarrier: matched.map((w) => w.map((b) => b.error)), permcorr: s.trained }, c);
  const barrierRows: Figure['rows'] = [];
  for (const [name, vals] of [['loss barrier (matched)', matched.map((w) => w.map((b) => b.loss))], ['loss barrier (naive)', naive.map((w) => w.map((b) => b.loss))], ['error barrier (matched)', matched.map((w) => w.map((b) => b.error))]] as const) {
    for (const [wi, w] of c.widths.entries()) {
      const e = estimate(vals[wi]!);
      barrierRows.push({ x: w, y: e.mean, lo: e.lo, hi: e.hi, series: name });
    }
  }
  const pcRows: Figure['rows'] = c.widths.map((w, wi) => {
    const e = estimate(s.trained[wi]!.map((pl) => meanOf(pl)));
    return { x: w, y: e.mean, lo: e.lo, hi: e.hi, series: 'perm-corr (mean over layers)' };
  });
  return {
    checks,
    figures: [
      { id: 'barrier-vs-width', title: 'Barriers against width', caption: `max_λ [L(λ) − linear interpolation of the endpoints] on ${c.inputs} test inputs, naive and after weight matching (G_ReLU-aware coordinate descent); bands: 95% t intervals over ${s.pairs.length} pairs.`, spec: lineChart(barrierRows, { x: 'hidden width', y: 'barrier', band: true }), rows: barrierRows },
      { id: 'permcorr-vs-width', title: 'Perm-corr against width (same models)', caption: 'Mean over hidden layers; bands: 95% t intervals over pairs.', spec: lineChart(pcRows, { x: 'hidden width', y: 'perm-corr', band: true }), rows: pcRows },
      { id: 'interpolation-curves', title: 'Test loss along the linear path (first pair)', caption: 'λ = 0 is model A, λ = 1 model B (aligned to A for the matched curves).', spec: lineChart(curves, { x: 'λ', y: 'test loss' }), rows: curves },
    ],
    tables: [
      {
        id: 'barrier-table',
        title: 'Barriers per width',
        caption: 'Mean over pairs (loss barrier = max minus linear interpolation of the endpoints).',
        columns: ['width', 'naive loss barrier', 'matched loss barrier', 'matched error barrier', 'perm-corr'],
        rows: c.widths.map((w, wi) => [w, meanOf(naive[wi]!.map((b) => b.loss)), meanOf(matched[wi]!.map((b) => b.loss)), meanOf(matched[wi]!.map((b) => b.error)), meanOf(s.trained[wi]!.map((pl) => meanOf(pl)))]),
      },
    ],
    notes: [
      'Weight matching (C4) aligns B to A through the symmetry spec inferred from the graph (permutations with positive scalings of each hidden layer); the barrier is C2(a), max over λ of the loss minus the linear interpolation of the endpoint losses, on the test inputs.',
      'Changes across the sweep are least-squares slopes against log2(width) times the number of doublings, one per pair of seeds (the same seeds at every width), summarised by a model-level bootstrap (pairs share models).',
      'These are the same models as E000-1 (identical cache jobs); run both with one cache folder to train them once.',
    ],
    data: { widths: c.widths, lambdas, naive, matched, permcorr: s.trained, points: s.points },
  };
}

/** E000-4: LMC against width (S000). */
export const e000_4: ExperimentRecipe<E0004Config> = {
  id: 'E000-4',
  title: 'Linear mode connectivity against width',
  source: 'S000 (privileged and convergent bases), perm-LMC against width',
  profiles: {
    quick: { data: QUICK_DATA, train: QUICK_TRAIN, seeds: 3, inputs: 1000, widths: [16, 32, 64, 128], depth: 2, lambdas: 11, flatChange: 0.05, minShrink: 0.01 },
    standard: { data: STANDARD_DATA, train: STANDARD_TRAIN, seeds: STANDARD_SEEDS, inputs: 2000, widths: [32, 64, 128, 256], depth: 2, lambdas: 11, flatChange: 0.05, minShrink: 0.01 },
    full: { data: FULL_DATA, train: FULL_TRAIN, seeds: 6, inputs: 2000, widths: [32, 64, 128, 256, 512], depth: 2, lambdas: 21, flatChange: 0.05, minShrink: 0.01 },
  },
  ...recipeConfig(E0004ConfigSchema, 'E000-4'),
  run,
};
