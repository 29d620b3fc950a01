// E002-5 (S002 Fig. 5): OOD alignment against task performance — per layer, the correlation
// across OOD conditions between alignment and accuracy, as a function of relative depth.
import { bootstrapCI, createRng } from '@basis/tensor';
import { lineChart, type Figure } from '../report.js';
import { formatEstimate } from '../runner/estimate.js';
import { correlation, meanOf } from './common.js';
import { checkOf, judge } from './verdict.js';
import { recipeConfig } from '../runner/check.js';
import { OOD_PROFILES, excludedNotes, measureOod, oodConfigSchema, type OodConfig } from './e002-4.js';
import type { ClaimCheck, Estimate, ExperimentRecipe, RecipeResult, RunContext } from './types.js';

/** A statistic of the conditions with a percentile-bootstrap interval over conditions (2000 resamples, seeded). */
function overConditions(n: number, stat: (idx: number[]) => number, seed: string): Estimate {
  const all = Array.from({ length: n }, (_, i) => i);
  const b = bootstrapCI(Float64Array.from(all), { rng: createRng(seed), resamples: 2000, statistic: (s) => stat(Array.from(s)) });
  return { mean: stat(all), lo: Math.min(b.lower, stat(all)), hi: Math.max(b.upper, stat(all)), n, method: 'bootstrap95' };
}

/**
 * The verdicts of E002-5 (pure): OOD alignment per condition and layer, accuracy per condition,
 * and the excluded conditions (any exclusion forces inconclusive).
 *
 * @example
 * ```ts
 * decideE0025({ align, accuracy, excluded: [] }, { minGrowth: 0.02 });
 * ```
 */
export function decideE0025(m: { align: number[][]; accuracy: number[]; excluded: Array<{ condition: string; reason: string }>; points?: string[] }, c: Pick<OodConfig, 'minGrowth'>): { checks: ClaimCheck[]; rs: Estimate[] } {
  const L = m.align[0]!.length;
  const C = m.align.length;
  const corrAt = (l: number, idx: number[]): number => correlation(idx.map((k) => m.align[k]![l]!), idx.map((k) => m.accuracy[k]!));
  const rs = Array.from({ length: L }, (_, l) => overConditions(C, (idx) => corrAt(l, idx), `E002-5:r:${l}`));
  const growth = overConditions(C, (idx) => corrAt(L - 1, idx) - corrAt(0, idx), 'E002-5:growth');
  const warnings = m.excluded.map((x) => `condition ${x.condition} excluded (${x.reason})`);
  const j1 = judge(rs[L - 1]!, { side: 'above', null: 0, effect: c.minGrowth }, warnings);
  const j2 = judge(growth, { side: 'above', null: 0, effect: c.minGrowth }, warnings);
  const last = m.points?.[L - 1] ?? `layer ${L}`;
  return {
    rs,
    checks: [
      checkOf({ claim: 'Deeper layers diverge in proportion to the distribution shift: at the last hidden layer, alignment tracks task performance across OOD conditions.', paper: 'S002 Fig. 5 / abstract: deeper layers diverge in proportion to the distribution shift (ResNet-50, 17 datasets).', measured: `Pearson r across ${C} conditions between alignment and accuracy at ${last}: ${formatEstimate(rs[L - 1]!)} (bootstrap over conditions).`, estimates: { rLastHidden: rs[L - 1]! }, primary: 'rLastHidden' }, j1),
      checkOf({ claim: 'The performance–alignment correlation strengthens with depth (seeds-spec reading of Fig. 5b; the seed gives no values).', paper: 'S002 Fig. 5(b): correlation against normalised depth; no values in the seed (the strengthening is an inference).', measured: `r at the last hidden layer minus r at the first: ${formatEstimate(growth)}; r per layer ${rs.map((e) => e.mean.toFixed(2)).join(', ')}.`, estimates: { rGrowth: growth, rFirst: rs[0]! }, primary: 'rGrowth' }, j2),
    ],
  };
}

async function run(ctx: RunContext, c: OodConfig): Promise<RecipeResult> {
  const m = await measureOod(ctx, c, 'E002-5');
  const L = m.points.length;
  const C = m.conditions.length;
  const { checks, rs } = decideE0025(m, c);
  const rows: Figure['rows'] = rs.map((e, l) => ({ x: (l + 1) / L, y: e.mean, lo: e.lo, hi: e.hi, series: 'Pearson r (alignment, accuracy) across conditions' }));
  const scatter: Figure['rows'] = m.conditions.flatMap((n, k) => [
    { x: m.accuracy[k]!, y: m.align[k]![0]!, series: `first layer (${m.points[0]})`, condition: n },
    { x: m.accuracy[k]!, y: m.align[k]![L - 1]!, series: `last hidden layer (${m.points[L - 1]})`, condition: n },
  ]);
  return {
    checks,
    figures: [
      { id: 'correlation-vs-depth', title: 'Alignment–performance correlation against depth', caption: `Per post-activation layer, Pearson r across the ${C} OOD conditions between Procrustes alignment (mean over seed pairs) and test accuracy (mean over models); bands: 95% bootstrap over conditions.`, spec: lineChart(rows, { x: 'relative depth', y: 'Pearson r', band: true }), rows },
      { id: 'alignment-vs-accuracy', title: 'Alignment against accuracy per condition', caption: 'One point per OOD condition, first and last hidden layers (S002 Fig. 5 left and right).', spec: lineChart(scatter, { x: 'test accuracy on the condition', y: 'Procrustes alignment' }), rows: scatter },
    ],
    tables: [
      { id: 'correlations', title: 'Correlation per layer', columns: ['layer', 'relative depth', 'r', 'lo', 'hi'], rows: m.points.map((p, l) => [p, (l + 1) / L, rs[l]!.mean, rs[l]!.lo, rs[l]!.hi]) },
      { id: 'conditions', title: 'Per condition', columns: ['condition', 'accuracy', ...m.points], rows: m.conditions.map((n, k) => [n, m.accuracy[k]!, ...m.align[k]!]) },
    ],
    notes: [
      'Same measurements as E002-4 (same models, conditions and inputs). Correlations are Pearson r across conditions; intervals are percentile bootstraps resampling conditions (2000 resamples, seeded), so they are approximate with few conditions.',
      `The accuracy of a condition is the mean over the ${m.models.length} models on the same inputs used for alignment (${c.inputs}).`,
      'S002 plots the first conv layer and the penultimate layer of ResNet-50; here the first and last hidden layers of an MLP.',
      ...excludedNotes(m),
    ],
    data: { ...m, models: m.models.map((x) => x.key), r: rs.map((e) => e.mean), meanAccuracy: meanOf(m.accuracy) },
  };
}

/** E002-5: OOD alignment against task performance (S002 Fig. 5). */
export const e002_5: ExperimentRecipe<OodConfig> = {
  id: 'E002-5',
  title: 'OOD alignment against task performance',
  source: 'S002 (convergent learning), Fig. 5',
  sources: ['e002-5.ts', 'e002-4.ts'],
  profiles: OOD_PROFILES,
  ...recipeConfig(oodConfigSchema('E002-5'), 'E002-5'),
  run,
};
