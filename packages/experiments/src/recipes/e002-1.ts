// E002-1 (S002 Fig. 1): convergence across the hierarchy — linear, Procrustes, permutation and
// soft-matching alignment between different seeds of the same architecture, per layer, against
// untrained networks and a shuffled-rows chance level.
import { metric } from '@basis/align';
import { Matrix, createRng } from '@basis/tensor';
import { lineChart, type Figure } from '../report.js';
import { checkNum } from '../runner/check.js';
import { estimate, formatEstimate } from '../runner/estimate.js';
import { FULL_DATA, FULL_TRAIN, QUICK_DATA, QUICK_TRAIN, above, accuracyRows, activationCache, activationPoints, allOf, below, checkBase, checkModel, evalSet, job, meanOf, pairs, slope, untrainedModel, type BaseConfig } from './common.js';
import type { ModelSpec } from '@basis/zoo';
import type { ExperimentRecipe, RecipeResult } from './types.js';

/** Configuration of E002-1. */
export interface E0021Config extends BaseConfig {
  model: ModelSpec;
  /** "Procrustes comes close to Linear": the lower 95% bound of Procrustes / Linear must exceed this. */
  closeRatio: number;
}

/** The S002 scores, in the paper's order (soft matching shown too). */
export const S002_METRICS = ['linear.cv', 'procrustes.cv', 'permutation.cv', 'softmatch'] as const;

function check(v: unknown): E0021Config {
  const o = checkBase(v, 'E002-1', ['model', 'closeRatio']);
  return { data: o.data, train: o.train, seeds: o.seeds, inputs: o.inputs, model: checkModel(o.model, 'E002-1.model', ['mlp', 'resmlp']), closeRatio: checkNum(o.closeRatio, 'E002-1.closeRatio', { gt: 0, le: 1 }) };
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
      const r = await ctx.cached({ what: 'hierarchy', a: a.key, b: b.key, points, inputs: c.inputs, data: c.data, metrics: S002_METRICS }, async () => {
        const [xa, xb, xua, xub] = [await acts(a), await acts(b), await acts(ua), await acts(ub)];
        const out: { trained: Record<string, number[]>; random: Record<string, number[]>; chance: number[] } = { trained: {}, random: {}, chance: [] };
        for (const m of S002_METRICS) {
          out.trained[m] = points.map((p) => bothWays(m, xa[p]!, xb[p]!));
          out.random[m] = points.map((p) => bothWays(m, xua[p]!, xub[p]!));
        }
        out.chance = points.map((p) => bothWays('permutation.cv', xa[p]!, shuffleRows(xb[p]!, `E002-1:${p}:${i}:${j}`)));
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
  const L = points.length;
  const depth = points.map((_, l) => (l + 1) / L);
  const perPair = <T>(f: (p: number) => T): T[] => ps.map((_, p) => f(p));
  const lin = trained['linear.cv']!;
  const pro = trained['procrustes.cv']!;
  const per = trained['permutation.cv']!;
  const depthSlope = estimate(perPair((p) => slope(depth, points.map((_, l) => meanOf([lin[p]![l]!, pro[p]![l]!, per[p]![l]!])))), 'depth slope');
  const proSlope = estimate(perPair((p) => slope(depth, pro[p]!)), 'Procrustes depth slope');
  const linMinusPro = estimate(perPair((p) => Math.min(...points.map((_, l) => lin[p]![l]! - pro[p]![l]!))), 'min over layers of Linear − Procrustes');
  const proMinusPer = estimate(perPair((p) => Math.min(...points.map((_, l) => pro[p]![l]! - per[p]![l]!))), 'min over layers of Procrustes − Permutation');
  const ratio = estimate(perPair((p) => meanOf(points.map((_, l) => pro[p]![l]! / lin[p]![l]!))), 'Procrustes / Linear');
  const overChance = estimate(perPair((p) => Math.min(...points.map((_, l) => per[p]![l]! - chance[p]![l]!))), 'min over layers of Permutation − chance');
  const overUntrained = estimate(perPair((p) => meanOf(points.map((_, l) => per[p]![l]! - random['permutation.cv']![p]![l]!))), 'Permutation − untrained');
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
    rows.push({ x: l + 1, y: e.mean, lo: e.lo, hi: e.hi, series: 'permutation.cv chance (shuffled rows)', layer: p });
  }
  return {
    checks: [
      {
        claim: 'Alignment between different seeds falls steadily with depth.',
        paper: 'S002 Fig. 1: alignment falls steadily with depth (four ImageNet architectures).',
        measured: `Slope of the mean of Linear, Procrustes and Permutation scores against normalised depth: ${formatEstimate(depthSlope)} (Procrustes alone ${formatEstimate(proSlope)}). Criterion: the 95% interval lies below 0.`,
        verdict: below(depthSlope, 0),
        estimates: { depthSlope, procrustesDepthSlope: proSlope },
      },
      {
        claim: 'The ordering is always Linear > Procrustes > Permutation.',
        paper: 'S002 Fig. 1: the ordering is always Linear > Procrustes > Permutation.',
        measured: `Smallest per-layer gap Linear − Procrustes: ${formatEstimate(linMinusPro, 4)}; Procrustes − Permutation: ${formatEstimate(proMinusPer, 4)}. Criterion: both intervals above 0 (the ordering holds at every layer).`,
        verdict: allOf([above(linMinusPro, 0), above(proMinusPer, 0)]),
        estimates: { linearMinusProcrustes: linMinusPro, procrustesMinusPermutation: proMinusPer },
      },
      {
        claim: 'Procrustes comes close to Linear: most of the variability between seeds is a rotation.',
        paper: 'S002 Fig. 1: Procrustes comes close to Linear.',
        measured: `Procrustes / Linear, averaged over layers: ${formatEstimate(ratio)}. Criterion: the lower 95% bound exceeds ${c.closeRatio}.`,
        verdict: above(ratio, c.closeRatio),
        estimates: { procrustesOverLinear: ratio },
      },
      {
        claim: 'Permutation scores are lower but substantial and significantly above chance (a privileged basis with one-to-one neuron correspondence).',
        paper: 'S002 Fig. 1: permutation scores significantly above chance; random networks shown as a baseline.',
        measured: `Smallest per-layer margin of permutation.cv over its shuffled-rows chance level: ${formatEstimate(overChance)}; over untrained pairs (mean over layers): ${formatEstimate(overUntrained)}. Criterion: the chance margin's interval lies above 0.`,
        verdict: above(overChance, 0),
        estimates: { permutationOverChance: overChance, permutationOverUntrained: overUntrained },
      },
    ],
    figures: [
      {
        id: 'alignment-by-layer',
        title: 'Alignment across the hierarchy',
        caption: `Cross-validated (5-fold) scores between models of different seeds (mean of both directions), per post-activation layer, ${c.inputs} test inputs; bands: 95% t intervals over ${ps.length} pairs. "(untrained)": the same architectures at initialisation; chance: permutation score with the rows of one model shuffled.`,
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
      'S002 error bars are standard deviations over the 5 folds; here intervals are over pairs of seeds, which is the stricter comparison.',
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
    quick: { data: QUICK_DATA, train: QUICK_TRAIN, seeds: 3, inputs: 1000, model: { arch: 'mlp', width: 64, depth: 3 }, closeRatio: 0.8 },
    full: { data: FULL_DATA, train: FULL_TRAIN, seeds: 4, inputs: 5000, model: { arch: 'mlp', width: 256, depth: 4 }, closeRatio: 0.8 },
  },
  checkConfig: check,
  run,
};
