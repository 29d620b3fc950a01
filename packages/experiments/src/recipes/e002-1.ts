// E002-1 (S002 Fig. 1): convergence across the hierarchy — linear, Procrustes, permutation and
// soft-matching alignment between different seeds of the same architecture, per layer, against
// untrained networks and a shuffled-rows chance level.
import { metric } from '@basis/align';
import { Matrix, createRng, finite, haarOrthogonal, integer, matmul, object, type Schema } from '@basis/tensor';
import { lineChart, type Figure } from '../report.js';
import { crossCheck, recipeConfig } from '../runner/check.js';
import { estimate, formatEstimate } from '../runner/estimate.js';
import { checkOf, judge, judgeAll, pairBootstrap } from './verdict.js';
import { FULL_DATA, FULL_TRAIN, QUICK_DATA, QUICK_TRAIN, STANDARD_DATA, STANDARD_SEEDS, STANDARD_TRAIN, accuracyRows, activationCache, activationPoints, archIn, baseEntries, evalSet, inputsFit, job, meanOf, pairs, slope, untrainedModel, type BaseConfig } from './common.js';
import { ModelSpecSchema, type ModelSpec } from '@basis/zoo';
import type { ClaimCheck, Estimate, ExperimentRecipe, RecipeResult } from './types.js';

/** Configuration of E002-1. */
export interface E0021Config extends BaseConfig {
  model: ModelSpec;
  /** "Procrustes comes close to Linear": the lower 95% bound of Procrustes / Linear must exceed this. */
  closeRatio: number;
  /** Minimum margin (score units) of the permutation score over its rotated-basis chance level. */
  minMargin: number;
}

/** What E002-1 measured, per seed pair and layer: scores of trained and untrained pairs, and the rotated-basis chance level. */
export interface E0021Measured {
  layers: number;
  pairs: Array<[number, number]>;
  models: number;
  /** trained[metric][pair][layer] for every metric of {@link S002_METRICS}. */
  trained: Record<string, number[][]>;
  random: Record<string, number[][]>;
  /** Permutation score of A against B rotated by a Haar orthogonal matrix, [pair][layer]. */
  chance: number[][];
}

/**
 * The verdicts of E002-1 (pure), with model-level bootstrap intervals over seeds.
 *
 * @example
 * ```ts
 * decideE0021(measured, { closeRatio: 0.8, minMargin: 0.05 }).map((c) => c.verdict);
 * ```
 */
export function decideE0021(m: E0021Measured, c: Pick<E0021Config, 'closeRatio' | 'minMargin'>): ClaimCheck[] {
  const L = m.layers;
  const layers = Array.from({ length: L }, (_, l) => l);
  const depth = layers.map((l) => (l + 1) / L);
  const boot = (f: (p: number) => number, seed: number): Estimate => pairBootstrap(m.pairs.map((_, p) => f(p)), m.pairs, m.models, seed);
  const lin = m.trained['linear.cv']!;
  const pro = m.trained['procrustes.cv']!;
  const per = m.trained['permutation.cv']!;
  const depthSlope = boot((p) => slope(depth, layers.map((l) => meanOf([lin[p]![l]!, pro[p]![l]!, per[p]![l]!]))), 1);
  const proSlope = boot((p) => slope(depth, pro[p]!), 2);
  // per-layer gaps, each with its own interval (a min over layers is biased low under noise)
  const gapLP = layers.map((l) => boot((p) => lin[p]![l]! - pro[p]![l]!, 10 + l));
  const gapPP = layers.map((l) => boot((p) => pro[p]![l]! - per[p]![l]!, 20 + l));
  const marginL = layers.map((l) => boot((p) => per[p]![l]! - m.chance[p]![l]!, 30 + l));
  const smallest = (es: Estimate[]): Estimate => es.reduce((a, b) => (b.mean < a.mean ? b : a));
  const linMinusPro = smallest(gapLP);
  const proMinusPer = smallest(gapPP);
  const ratio = boot((p) => meanOf(layers.map((l) => pro[p]![l]! / lin[p]![l]!)), 5);
  const overChance = smallest(marginL);
  const overUntrained = boot((p) => meanOf(layers.map((l) => per[p]![l]! - m.random['permutation.cv']![p]![l]!)), 7);
  const j1 = judge(depthSlope, { side: 'below', null: 0, effect: 0 });
  const j2 = judgeAll(
    [...gapLP.map((e) => judge(e, { side: 'above', null: 0, effect: 0 })), ...gapPP.map((e) => judge(e, { side: 'above', null: 0, effect: 0 }))],
    [...layers.map((l) => `Linear − Procrustes at layer ${l + 1}`), ...layers.map((l) => `Procrustes − Permutation at layer ${l + 1}`)],
  );
  const j3 = judge(ratio, { side: 'above', null: c.closeRatio, effect: 0 });
  const j4 = judgeAll(
    marginL.map((e) => judge(e, { side: 'above', null: 0, effect: c.minMargin })),
    layers.map((l) => `margin at layer ${l + 1}`),
  );
  return [
    checkOf({ claim: 'Alignment between different seeds falls steadily with depth.', paper: 'S002 Fig. 1: alignment falls steadily with depth (four ImageNet architectures).', measured: `Slope of the mean of Linear, Procrustes and Permutation scores against normalised depth: ${formatEstimate(depthSlope)} (Procrustes alone ${formatEstimate(proSlope)}).`, estimates: { depthSlope, procrustesDepthSlope: proSlope }, primary: 'depthSlope' }, j1),
    checkOf({ claim: 'The ordering is always Linear > Procrustes > Permutation.', paper: 'S002 Fig. 1: the ordering is always Linear > Procrustes > Permutation.', measured: `Per-layer gaps (each with its own interval; the smallest shown) Linear − Procrustes: ${formatEstimate(linMinusPro, 4)}; Procrustes − Permutation: ${formatEstimate(proMinusPer, 4)}.`, estimates: { linearMinusProcrustes: linMinusPro, procrustesMinusPermutation: proMinusPer }, primary: 'linearMinusProcrustes' }, j2),
    checkOf({ claim: 'Procrustes comes close to Linear: most of the variability between seeds is a rotation.', paper: 'S002 Fig. 1: Procrustes comes close to Linear.', measured: `Procrustes / Linear, averaged over layers: ${formatEstimate(ratio)}.`, estimates: { procrustesOverLinear: ratio }, primary: 'procrustesOverLinear' }, j3),
    checkOf(
      {
        claim: 'Permutation scores are lower but substantial and significantly above chance (a privileged basis with one-to-one neuron correspondence).',
        paper: 'S002 Fig. 1: permutation scores significantly above chance; random networks shown as a baseline.',
        measured: `Per-layer margin (the smallest shown) of permutation.cv over its chance level (the same score against the other model's layer rotated by a Haar orthogonal matrix: same information, no privileged basis): ${formatEstimate(overChance)}; over untrained pairs (mean over layers): ${formatEstimate(overUntrained)}.`,
        estimates: { permutationOverChance: overChance, permutationOverUntrained: overUntrained },
        primary: 'permutationOverChance',
      },
      j4,
    ),
  ];
}

/** The S002 scores, in the paper's order (soft matching shown too). */
export const S002_METRICS = ['linear.cv', 'procrustes.cv', 'permutation.cv', 'softmatch'] as const;

/** The schema of {@link E0021Config} (its messages start with `E002-1`): no more inputs than the test set has, an MLP or residual MLP. */
export const E0021ConfigSchema: Schema<E0021Config> = crossCheck(
  object({ ...baseEntries(2), inputs: integer(50), model: ModelSpecSchema, closeRatio: finite({ gt: 0, le: 1 }), minMargin: finite({ ge: 0, le: 1 }) }),
  (c) => inputsFit('E002-1')(c) ?? archIn(c.model, ['mlp', 'resmlp'], ['model']),
);

/** `Y Q` for a Haar orthogonal `Q` (seeded): the same information as `Y` with no privileged basis (the chance level of a unit-matching score). */
export function rotateColumns(Y: Matrix, seed: string): Matrix {
  return matmul(Y, haarOrthogonal(Y.cols, createRng(seed)));
}

/** Rows of Y in a random order (the chance level of a unit-matching score: inputs no longer correspond). */
export function shuffleRows(Y: Matrix, seed: string): Matrix {
  const rng = createRng(seed);
  const idx = Array.from({ length: Y.rows }, (_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
  }
  const out = new Matrix(Y.rows, Y.cols);
  for (let i = 0; i < Y.rows; i++) out.data.set(Y.data.subarray((idx[i] as number) * Y.cols, ((idx[i] as number) + 1) * Y.cols), i * Y.cols);
  return out;
}

/** A score averaged over both directions (the CV scores are asymmetric; seeds-spec M2 reports their mean). */
export function bothWays(id: string, X: Matrix, Y: Matrix): number {
  return (metric(id, X, Y).value + metric(id, Y, X).value) / 2;
}

async function run(ctx: Parameters<ExperimentRecipe['run']>[0], c: E0021Config): Promise<RecipeResult> {
  const seeds = Array.from({ length: c.seeds }, (_, s) => ctx.seed + s);
  const models = await ctx.models(seeds.map((s) => job(c.data, c.model, c.train, s, `E002-1 seed ${s}`)));
  const points = activationPoints(models[0]!.graph);
  const ps = pairs(c.seeds);
  const ev = await evalSet(c.data, c.inputs);
  // scores[metric][pair][layer]; plus untrained and chance
  const trained: Record<string, number[][]> = Object.fromEntries(S002_METRICS.map((m) => [m, []]));
  const random: Record<string, number[][]> = Object.fromEntries(S002_METRICS.map((m) => [m, []]));
  const chance: number[][] = [];
  try {
    const acts = activationCache(ev.x, points);
    let done = 0;
    for (const [i, j] of ps) {
      const a = models[i]!;
      const b = models[j]!;
      const ua = untrainedModel(a.graph, seeds[i]!);
      const ub = untrainedModel(b.graph, seeds[j]!);
      const r = await ctx.cached({ what: 'hierarchy', chance: 'rotated', a: a.key, b: b.key, points, inputs: c.inputs, data: c.data, metrics: S002_METRICS }, async () => {
        const [xa, xb, xua, xub] = [await acts(a), await acts(b), await acts(ua), await acts(ub)];
        const out: { trained: Record<string, number[]>; random: Record<string, number[]>; chance: number[] } = { trained: {}, random: {}, chance: [] };
        for (const m of S002_METRICS) {
          out.trained[m] = points.map((p) => bothWays(m, xa[p]!, xb[p]!));
          out.random[m] = points.map((p) => bothWays(m, xua[p]!, xub[p]!));
        }
        out.chance = points.map((p) => bothWays('permutation.cv', xa[p]!, rotateColumns(xb[p]!, `E002-1:${p}:${i}:${j}`)));
        return out;
      });
      for (const m of S002_METRICS) {
        trained[m]!.push(r.trained[m]!);
        random[m]!.push(r.random[m]!);
      }
      chance.push(r.chance);
      ctx.progress('pairs compared', ++done, ps.length);
    }
  } finally {
    ev.dispose();
  }
  const checks = decideE0021({ layers: points.length, pairs: ps, models: c.seeds, trained, random, chance }, c);
  const rows: Figure['rows'] = [];
  for (const m of S002_METRICS) {
    for (const [l, p] of points.entries()) {
      const e = estimate(trained[m]!.map((v) => v[l]!));
      rows.push({ x: l + 1, y: e.mean, lo: e.lo, hi: e.hi, series: m, layer: p });
      const u = estimate(random[m]!.map((v) => v[l]!));
      rows.push({ x: l + 1, y: u.mean, lo: u.lo, hi: u.hi, series: `${m} (untrained)`, layer: p });
    }
  }
  for (const [l, p] of points.entries()) {
    const e = estimate(chance.map((v) => v[l]!));
    rows.push({ x: l + 1, y: e.mean, lo: e.lo, hi: e.hi, series: 'permutation.cv chance (rotated basis)', layer: p });
  }
  return {
    checks,
    figures: [
      {
        id: 'alignment-by-layer',
        title: 'Alignment across the hierarchy',
        caption: `Cross-validated (5-fold) scores between models of different seeds (mean of both directions), per post-activation layer, ${c.inputs} test inputs; bands: 95% t intervals over ${ps.length} pairs. "(untrained)": the same architectures at initialisation; chance: permutation score against the other model's layer rotated by a Haar orthogonal matrix (same information, no privileged basis).`,
        spec: lineChart(rows, { x: 'layer (1 = first hidden)', y: 'score', band: true }),
        rows,
      },
    ],
    tables: [
      {
        id: 'scores',
        title: 'Scores per layer (mean over pairs)',
        columns: ['layer', ...S002_METRICS, ...S002_METRICS.map((m) => `${m} untrained`), 'chance'],
        rows: points.map((p, l) => [p, ...S002_METRICS.map((m) => meanOf(trained[m]!.map((v) => v[l]!))), ...S002_METRICS.map((m) => meanOf(random[m]!.map((v) => v[l]!))), meanOf(chance.map((v) => v[l]!))]),
      },
      { id: 'accuracy', title: 'Test accuracy of the trained models', columns: ['model', 'test accuracy (%)', 'test loss', 'source'], rows: accuracyRows(models, (i) => `seed ${seeds[i]}`) },
    ],
    notes: [
      'Scores (seeds-spec M2-M5): linear.cv = ridge regression with the penalty chosen by exact leave-one-out; procrustes.cv = orthogonal map; permutation.cv = one-to-one unit matching; all with 5 contiguous folds and the unit-averaged held-out Pearson correlation, averaged over the two directions. softmatch (M5) is the optimal-transport-weighted correlation, in-sample (the toolkit has no cross-validated soft matching).',
      'S002 error bars are standard deviations over the 5 folds; here intervals are model-level bootstraps over seeds (pairs share models), the stricter comparison. The chance level rotates one model\'s layer by a Haar orthogonal matrix (a row shuffle gives about 0 and cannot fail).',
      `Model: ${JSON.stringify(c.model)}; S002's ImageNet CNNs/ViTs are out of reach on 2 CPU cores.`,
    ],
    data: { points, pairs: ps, trained, untrained: random, chance },
  };
}

/** E002-1: convergence across the hierarchy (S002 Fig. 1). */
export const e002_1: ExperimentRecipe<E0021Config> = {
  id: 'E002-1',
  title: 'Convergence across the hierarchy (Linear > Procrustes > Permutation)',
  source: 'S002 (convergent learning), Fig. 1',
  profiles: {
    quick: { data: QUICK_DATA, train: QUICK_TRAIN, seeds: 3, inputs: 1000, model: { arch: 'mlp', width: 64, depth: 3 }, closeRatio: 0.8, minMargin: 0.05 },
    standard: { data: STANDARD_DATA, train: STANDARD_TRAIN, seeds: STANDARD_SEEDS, inputs: 2000, model: { arch: 'mlp', width: 256, depth: 3 }, closeRatio: 0.8, minMargin: 0.05 },
    full: { data: FULL_DATA, train: FULL_TRAIN, seeds: 6, inputs: 5000, model: { arch: 'mlp', width: 256, depth: 4 }, closeRatio: 0.8, minMargin: 0.05 },
  },
  ...recipeConfig(E0021ConfigSchema, 'E002-1'),
  run,
};
