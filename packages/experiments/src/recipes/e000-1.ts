// E000-1 (S000): basis convergence against width — perm-corr between independent runs, per
// layer, as the hidden width grows.
import { finite, integer, object, type Schema } from '@basis/tensor';
import type { ModelSpec } from '@basis/zoo';
import { lineChart, type Figure } from '../report.js';
import { crossCheck, recipeConfig } from '../runner/check.js';
import { estimate, formatEstimate } from '../runner/estimate.js';
import {
  FULL_DATA,
  FULL_TRAIN,
  QUICK_DATA,
  QUICK_TRAIN,
  STANDARD_DATA,
  STANDARD_SEEDS,
  STANDARD_TRAIN,
  accuracyRows,
  activationPoints,
  baseEntries,
  inputsFit,
  job,
  meanOf,
  pairs,
  slope,
  widthsSchema,
  type BaseConfig,
} from './common.js';
import type { CompareSpec } from '../runner/stages.js';
import type { ClaimCheck, ExperimentRecipe, RecipeResult } from './types.js';
import { judge, pairBootstrap } from './verdict.js';

/** Configuration of E000-1. */
export interface E0001Config extends BaseConfig {
  widths: number[];
  depth: number;
  /** "Far from 1": the upper CI bound of perm-corr at the largest width must be below this. */
  farBelow: number;
  /**
   * "Flat or slowly varying": the change of perm-corr across the whole sweep (slope per doubling
   * times the number of doublings from the smallest to the largest width) must stay within ± this.
   */
  flatChange: number;
}

/** What E000-1 measured: perm-corr per width, pair of seeds and layer, trained and untrained. */
export interface E0001Measured {
  widths: number[];
  /** Pairs of model indices (seeds), the same at every width. */
  pairs: Array<[number, number]>;
  /** Number of models (seeds) per width. */
  models: number;
  /** permcorr[width][pair][layer]. */
  trained: number[][][];
  random: number[][][];
}

/**
 * The verdicts of E000-1 from its measurements (pure: planted data in, claim checks out).
 * Intervals are model-level bootstraps over seeds (pairs share models).
 *
 * @example
 * ```ts
 * const checks = decideE0001(measured, { farBelow: 0.9, flatChange: 0.05 });
 * ```
 */
export function decideE0001(m: E0001Measured, c: Pick<E0001Config, 'farBelow' | 'flatChange'>): ClaimCheck[] {
  const top = m.widths.length - 1;
  const layerMean = (wv: number[][]): number[] => wv.map((pl) => meanOf(pl));
  const atTop = pairBootstrap(layerMean(m.trained[top]!), m.pairs, m.models, 1);
  const randTop = pairBootstrap(layerMean(m.random[top]!), m.pairs, m.models, 2);
  const log2w = m.widths.map((w) => Math.log2(w));
  const doublings = (log2w[top] as number) - (log2w[0] as number);
  const changes = m.pairs.map((_, p) => doublings * slope(log2w, m.widths.map((_, wi) => meanOf(m.trained[wi]![p]!))));
  const changeE = pairBootstrap(changes, m.pairs, m.models, 3);
  const j1 = judge(atTop, { side: 'below', null: c.farBelow, effect: 0 });
  const j2 = judge(changeE, { side: 'within', lo: -c.flatChange, hi: c.flatChange });
  return [
    {
      claim: 'Networks do not converge to a unique basis even when wide: perm-corr between independent runs stays far from 1.',
      paper: 'S000: perm-corr stays almost constant as width grows (high confidence per the summary; no numbers given).',
      measured: `Perm-corr (mean over hidden layers) at width ${m.widths[top]}: ${formatEstimate(atTop)}; untrained pairs ${formatEstimate(randTop)} (model-level bootstrap over ${m.models} seeds). Criterion: ${j1.criterion}.`,
      verdict: j1.verdict,
      estimates: { permcorrLargestWidth: atTop, untrainedLargestWidth: randTop },
      primary: 'permcorrLargestWidth',
      criterion: j1.criterion,
      change: j1.change,
    },
    {
      claim: 'Perm-corr is flat or slowly varying with width.',
      paper: 'S000: "perm-corr stays almost constant as width grows" (seeds-spec caveat: at small widths it may rise).',
      measured: `Change of perm-corr from width ${m.widths[0]} to ${m.widths[top]} (least-squares slope per doubling × ${doublings.toFixed(1)} doublings, per seed pair): ${formatEstimate(changeE, 4)}. Criterion: ${j2.criterion}.`,
      verdict: j2.verdict,
      estimates: { changeAcrossSweep: changeE },
      primary: 'changeAcrossSweep',
      criterion: j2.criterion,
      change: j2.change,
    },
  ];
}

/** The schema of {@link E0001Config} (its messages start with `E000-1`): no more inputs than the test set has. */
export const E0001ConfigSchema: Schema<E0001Config> = crossCheck(
  object({
    ...baseEntries(2),
    inputs: integer(50),
    widths: widthsSchema(2),
    depth: integer(1, 8),
    farBelow: finite({ gt: 0, le: 1 }),
    flatChange: finite({ gt: 0, le: 1 }),
  }),
  inputsFit('E000-1'),
);

/**
 * Perm-corr between the layers of independently trained MLPs as a function of width, over every
 * pair of seeds, compared with untrained pairs. Shared by E000-4 (same models).
 */
export async function permcorrSweep(ctx: Parameters<ExperimentRecipe['run']>[0], c: Pick<E0001Config, 'data' | 'train' | 'seeds' | 'inputs' | 'widths' | 'depth'>, recipeLabel: string) {
  const specs: ModelSpec[] = c.widths.map((w) => ({ arch: 'mlp', width: w, depth: c.depth }));
  const jobs = specs.flatMap((m, wi) => Array.from({ length: c.seeds }, (_, s) => job(c.data, m, c.train, ctx.seed + s, `${recipeLabel} width ${c.widths[wi]} seed ${ctx.seed + s}`)));
  const models = await ctx.models(jobs);
  const byWidth = c.widths.map((_, wi) => models.slice(wi * c.seeds, (wi + 1) * c.seeds));
  const ps = pairs(c.seeds);
  const points = activationPoints(byWidth[0]![0]!.graph);
  // perm-corr[w][pair][layer], trained and untrained (same initialisations): one comparison per
  // pair and kind, captured and compared by the run context (queue jobs with --queue)
  const comparisons: CompareSpec[] = [];
  for (let wi = 0; wi < c.widths.length; wi++) {
    const ms = byWidth[wi]!;
    for (const [i, j] of ps) {
      const [a, b] = [ms[i]!, ms[j]!];
      const base = { metrics: ['permcorr'], data: c.data, inputs: c.inputs, points };
      comparisons.push({ ...base, a: { key: a.key }, b: { key: b.key }, label: `${recipeLabel} width ${c.widths[wi]} seeds ${i}-${j}` });
      comparisons.push({ ...base, a: { untrained: { like: a.key, seed: ctx.seed + i } }, b: { untrained: { like: b.key, seed: ctx.seed + j } }, label: `${recipeLabel} width ${c.widths[wi]} seeds ${i}-${j} untrained` });
    }
  }
  const values = await ctx.compare(comparisons, { stage: 'pairs compared' });
  const trained: number[][][] = [];
  const random: number[][][] = [];
  let k = 0;
  for (let wi = 0; wi < c.widths.length; wi++) {
    trained.push([]);
    random.push([]);
    for (let p = 0; p < ps.length; p++) {
      trained[wi]!.push(values[k++]!['permcorr']!);
      random[wi]!.push(values[k++]!['permcorr']!);
    }
  }
  return { models, byWidth, points, trained, random, pairs: ps };
}

/** Rows of a "metric against width" figure with a t band over pairs, one series per layer. */
export function widthRows(widths: readonly number[], values: number[][][], points: readonly string[], suffix: string): Figure['rows'] {
  const rows: Figure['rows'] = [];
  for (let wi = 0; wi < widths.length; wi++) {
    for (let li = 0; li < points.length; li++) {
      const e = estimate(values[wi]!.map((pl) => pl[li] as number));
      rows.push({ x: widths[wi] as number, y: e.mean, lo: e.lo, hi: e.hi, series: `${points[li]}${suffix}` });
    }
  }
  return rows;
}

async function run(ctx: Parameters<ExperimentRecipe['run']>[0], c: E0001Config): Promise<RecipeResult> {
  const s = await permcorrSweep(ctx, c, 'E000-1');
  const checks = decideE0001({ widths: c.widths, pairs: s.pairs, models: c.seeds, trained: s.trained, random: s.random }, c);
  const rows = [...widthRows(c.widths, s.trained, s.points, ''), ...widthRows(c.widths, s.random, s.points, ' (untrained)')];
  const figures: Figure[] = [
    {
      id: 'permcorr-vs-width',
      title: 'Perm-corr against width',
      caption: `Mean matched correlation of the best one-to-one unit matching (M1) between independently trained MLPs (depth ${c.depth}), per post-activation layer; bands are 95% t intervals over ${s.pairs.length} pairs of seeds. Untrained pairs (same initialisations) for reference.`,
      spec: lineChart(rows, { x: 'hidden width', y: 'perm-corr', band: true }),
      rows,
    },
  ];
  return {
    checks,
    figures,
    tables: [
      {
        id: 'permcorr-table',
        title: 'Perm-corr per width and layer',
        caption: 'Mean and 95% t interval over seed pairs.',
        columns: ['width', 'layer', 'trained mean', 'lo', 'hi', 'untrained mean'],
        rows: c.widths.flatMap((w, wi) =>
          s.points.map((p, li) => {
            const e = estimate(s.trained[wi]!.map((pl) => pl[li] as number));
            return [w, p, e.mean, e.lo, e.hi, meanOf(s.random[wi]!.map((pl) => pl[li] as number))];
          }),
        ),
      },
      { id: 'accuracy', title: 'Test accuracy of the trained models', columns: ['model', 'test accuracy (%)', 'test loss', 'source'], rows: accuracyRows(s.models, (i) => `width ${c.widths[Math.floor(i / c.seeds)]} seed ${ctx.seed + (i % c.seeds)}`) },
    ],
    notes: [
      'perm-corr is M1 of seeds-spec: Pearson correlations between units on the same test inputs, matched one to one by an exact assignment (LSAP), averaged over units; dead units count as correlation 0.',
      `Post-activation layers of MLP(w) x ${c.depth} (ReLU), ${c.inputs} test inputs; the S000 setting (ResNet-20, ConvNeXt, ViT on CIFAR-10/ImageNet) is out of reach on 2 CPU cores.`,
      'Verdicts come from 95% model-level bootstrap intervals: seeds are resampled with replacement and the mean over pairs of distinct resampled seeds recomputed, so pairs that share a model are not counted as independent.',
    ],
    data: { widths: c.widths, points: s.points, pairs: s.pairs, permcorr: s.trained, untrained: s.random },
  };
}

/** E000-1: basis convergence against width (S000). */
export const e000_1: ExperimentRecipe<E0001Config> = {
  id: 'E000-1',
  title: 'Basis convergence against width (perm-corr)',
  source: 'S000 (privileged and convergent bases), width sweep',
  profiles: {
    quick: { data: QUICK_DATA, train: QUICK_TRAIN, seeds: 3, inputs: 1000, widths: [16, 32, 64, 128], depth: 2, farBelow: 0.9, flatChange: 0.05 },
    standard: { data: STANDARD_DATA, train: STANDARD_TRAIN, seeds: STANDARD_SEEDS, inputs: 2000, widths: [32, 64, 128, 256], depth: 2, farBelow: 0.9, flatChange: 0.05 },
    full: { data: FULL_DATA, train: FULL_TRAIN, seeds: 6, inputs: 2000, widths: [32, 64, 128, 256, 512], depth: 2, farBelow: 0.9, flatChange: 0.05 },
  },
  ...recipeConfig(E0001ConfigSchema, 'E000-1'),
  run,
};
