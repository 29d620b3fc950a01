// E002-4 (S002 Fig. 4): out-of-distribution inputs — Procrustes alignment between seeds, per
// layer, on in-distribution test data and on a battery of OOD conditions. The measurements are
// shared with E002-5 (alignment against task performance per condition).
import * as tf from '@tensorflow/tfjs-core';
import { evaluate } from '@basis/connectivity';
import { ModelSpecSchema, listOodConditions, oodBattery, type ClassificationDataset, type ModelSpec } from '@basis/zoo';
import { BasisError, finite, integer, isBasisError, object, oneOf, type Schema } from '@basis/tensor';
import { lineChart, type Figure } from '../report.js';
import { crossCheck, distinct, listOfAtLeast, recipeConfig } from '../runner/check.js';
import { loadData } from '../runner/data.js';
import { estimate, formatEstimate } from '../runner/estimate.js';
import { FULL_DATA, QUICK_DATA, QUICK_TRAIN, FULL_TRAIN, STANDARD_DATA, STANDARD_SEEDS, STANDARD_TRAIN, activationCache, activationPoints, archIn, baseEntries, datasetTensor, inputsFit, job, meanOf, pairs, type BaseConfig } from './common.js';
import { bothWays } from './e002-1.js';
import type { CachedModel, ClaimCheck, ExperimentRecipe, Profile, RecipeResult, RunContext } from './types.js';
import { checkOf, judge } from './verdict.js';

/** Configuration of E002-4 and E002-5. */
export interface OodConfig extends BaseConfig {
  model: ModelSpec;
  /** OOD condition names of the zoo battery (`cross-dataset` needs the other dataset installed). */
  conditions: string[];
  /** E002-4: early layers count as "tightly aligned" when ID minus OOD alignment stays below this. */
  tightGap: number;
  /** Minimum effect: E002-4's growth of the ID − OOD gap with depth; E002-5's growth of r with depth and r at the last layer. */
  minGrowth: number;
}

/**
 * The schema of an {@link OodConfig} whose messages start with `field` (`E002-4` or `E002-5`): no
 * more inputs than the test set has, at least 3 distinct OOD conditions of the zoo's battery, an
 * MLP or residual MLP.
 *
 * @example
 * ```ts
 * const recipe = { ...recipeConfig(oodConfigSchema('E002-4'), 'E002-4') };
 * ```
 */
export function oodConfigSchema(field: string): Schema<OodConfig> {
  const names = listOodConditions().map((c) => c.name);
  return crossCheck(
    object({
      ...baseEntries(2),
      inputs: integer(50),
      model: ModelSpecSchema,
      conditions: distinct(listOfAtLeast(oneOf(names), 'OOD condition names', 3, 'conditions'), 'condition'),
      tightGap: finite({ gt: 0, le: 1 }),
      minGrowth: finite({ ge: 0, le: 2 }),
    }),
    (c) => inputsFit(field)(c) ?? archIn(c.model, ['mlp', 'resmlp'], ['model']),
  );
}

/** Alignment per condition and layer (mean over pairs), and accuracy per condition (mean over models). */
export interface OodMeasurements {
  points: string[];
  conditions: string[];
  /** Conditions left out because a metric could not be computed on them, with the reason. */
  excluded: Array<{ condition: string; reason: string }>;
  /** In-distribution alignment per layer, per pair. */
  idAlign: number[][];
  idAccuracy: number[];
  /** align[condition][layer] (mean over pairs). */
  align: number[][];
  /** accuracy[condition] (mean over models). */
  accuracy: number[];
  models: CachedModel[];
}

/** Trains (or loads) the models and measures alignment and accuracy on test data and every OOD condition. */
export async function measureOod(ctx: RunContext, c: OodConfig, recipeId: string): Promise<OodMeasurements> {
  const seeds = Array.from({ length: c.seeds }, (_, s) => ctx.seed + s);
  const models = await ctx.models(seeds.map((s) => job(c.data, c.model, c.train, s, `${recipeId} seed ${s}`)));
  const points = activationPoints(models[0]!.graph);
  const ps = pairs(c.seeds);
  const split = await loadData(c.data);
  const base = split.test;
  let other: ClassificationDataset | undefined;
  if (c.conditions.includes('cross-dataset')) {
    const o = await loadData({ dataset: c.data.dataset === 'mnist' ? 'fashion' : 'mnist', testSize: Math.max(c.inputs, 100), ...(c.data.normalize === undefined ? {} : { normalize: c.data.normalize }) });
    other = o.test;
  }
  const sets: Array<{ name: string; ds: ClassificationDataset }> = [{ name: 'in-distribution', ds: base }];
  for (const b of oodBattery(base, { conditions: c.conditions, seed: ctx.seed, ...(other === undefined ? {} : { other }) })) sets.push({ name: b.condition.name, ds: b.dataset });
  const out: Array<{ align: number[][]; accuracy: number[] } | { failed: string }> = [];
  let done = 0;
  for (const s of sets) {
    const r = await ctx.cached({ what: 'ood', set: s.name, keys: models.map((m) => m.key), points, inputs: c.inputs, data: c.data, seed: ctx.seed }, async () => {
      const ev = datasetTensor(s.ds, c.inputs);
      try {
        const x = tf.reshape(ev.x, [ev.labels.length, -1]);
        try {
          const acts = activationCache(ev.x, points);
          const accuracy: number[] = [];
          for (const m of models) accuracy.push((await evaluate(m.graph, m.params, { x, labels: ev.labels })).accuracy);
          const align: number[][] = [];
          try {
            for (const [i, j] of ps) {
              const [xa, xb] = [await acts(models[i]!), await acts(models[j]!)];
              align.push(points.map((p) => bothWays('procrustes.cv', xa[p]!, xb[p]!)));
            }
          } catch (e) {
            // a metric that cannot be computed on this condition (e.g. the SVD of a cross-product
            // of mostly dead units not converging) excludes the condition; the report names it
            if (isBasisError(e) && e.code === 'NOT_CONVERGED' && s.name !== 'in-distribution') return { failed: `${e.code}: ${e.message}` };
            throw e;
          }
          return { align, accuracy };
        } finally {
          x.dispose();
        }
      } finally {
        ev.dispose();
      }
    });
    out.push(r);
    ctx.progress('conditions compared', ++done, sets.length);
  }
  const id = out[0] as { align: number[][]; accuracy: number[] };
  const kept = sets.map((s, k) => ({ name: s.name, r: out[k]! })).slice(1);
  const ok = kept.filter((x): x is { name: string; r: { align: number[][]; accuracy: number[] } } => !('failed' in x.r));
  if (ok.length < 3) throw new BasisError('TOO_SMALL', `${recipeId}: only ${ok.length} OOD conditions could be measured; at least 3 are needed`);
  return {
    points,
    conditions: ok.map((x) => x.name),
    excluded: kept.filter((x) => 'failed' in x.r).map((x) => ({ condition: x.name, reason: (x.r as { failed: string }).failed })),
    idAlign: id.align,
    idAccuracy: id.accuracy,
    align: ok.map((x) => points.map((_, l) => meanOf(x.r.align.map((v) => v[l]!)))),
    accuracy: ok.map((x) => meanOf(x.r.accuracy)),
    models,
  };
}

/**
 * The verdicts of E002-4 (pure): ID alignment per pair and layer, OOD alignment per condition and
 * layer, and the excluded conditions (any exclusion forces inconclusive).
 *
 * @example
 * ```ts
 * decideE0024({ idAlign, align, excluded: [] }, { tightGap: 0.1, minGrowth: 0.02 });
 * ```
 */
export function decideE0024(m: Pick<OodMeasurements, 'idAlign' | 'align' | 'excluded'>, c: Pick<OodConfig, 'tightGap' | 'minGrowth'>): ClaimCheck[] {
  const L = m.idAlign[0]!.length;
  const idLayer = Array.from({ length: L }, (_, l) => meanOf(m.idAlign.map((v) => v[l]!)));
  const gapFirst = estimate(m.align.map((a) => idLayer[0]! - a[0]!), 'first-layer gap');
  const growth = estimate(m.align.map((a) => idLayer[L - 1]! - a[L - 1]! - (idLayer[0]! - a[0]!)), 'gap growth');
  const warnings = m.excluded.map((x) => `condition ${x.condition} excluded (${x.reason})`);
  const j1 = judge(gapFirst, { side: 'below', null: c.tightGap, effect: 0 }, warnings);
  const j2 = judge(growth, { side: 'above', null: 0, effect: c.minGrowth }, warnings);
  return [
    checkOf({ claim: 'Early layers stay tightly aligned on out-of-distribution inputs.', paper: 'S002 Fig. 4: early layers stay tightly aligned OOD (17 datasets, error bars = standard error).', measured: `First hidden layer: in-distribution ${idLayer[0]!.toFixed(3)}, ID − OOD gap over ${m.align.length} conditions ${formatEstimate(gapFirst)}.`, estimates: { firstLayerGap: gapFirst }, primary: 'firstLayerGap' }, j1),
    checkOf({ claim: 'Deeper layers diverge more out of distribution.', paper: 'S002 Fig. 4: deeper layers diverge OOD.', measured: `Gap at the last hidden layer minus gap at the first, over conditions: ${formatEstimate(growth)}.`, estimates: { gapGrowth: growth }, primary: 'gapGrowth' }, j2),
  ];
}

async function run(ctx: RunContext, c: OodConfig): Promise<RecipeResult> {
  const m = await measureOod(ctx, c, 'E002-4');
  const L = m.points.length;
  const idLayer = m.points.map((_, l) => meanOf(m.idAlign.map((v) => v[l]!)));
  const checks = decideE0024(m, c);
  const rows: Figure['rows'] = [];
  for (let l = 0; l < L; l++) {
    const e = estimate(m.idAlign.map((v) => v[l]!));
    rows.push({ x: (l + 1) / L, y: e.mean, lo: e.lo, hi: e.hi, series: 'in-distribution (test)' });
    const o = estimate(m.align.map((a) => a[l]!));
    rows.push({ x: (l + 1) / L, y: o.mean, lo: o.lo, hi: o.hi, series: `OOD (mean of ${m.conditions.length} conditions)` });
  }
  return {
    checks,
    figures: [{ id: 'ood-alignment-by-depth', title: 'Alignment against depth, in and out of distribution', caption: `Procrustes (5-fold CV, both directions) between ${m.models.length} seeds of ${JSON.stringify(c.model)}; bands: 95% t intervals over pairs (ID) and over conditions (OOD).`, spec: lineChart(rows, { x: 'relative depth', y: 'Procrustes alignment', band: true }), rows }],
    tables: [
      {
        id: 'ood-conditions',
        title: 'Per condition',
        caption: 'Alignment per layer (mean over pairs) and test accuracy (mean over models) on the first inputs of each condition.',
        columns: ['condition', ...m.points, 'accuracy'],
        rows: [['in-distribution', ...idLayer, meanOf(m.idAccuracy)], ...m.conditions.map((n, k) => [n, ...m.align[k]!, m.accuracy[k]!])],
      },
    ],
    notes: [
      `The OOD battery of @basis/zoo (seeds-spec 2.3): ${m.conditions.join(', ')} (${m.conditions.length} conditions; S002 averages 17 datasets). Each condition transforms the same test inputs, in the training normalisation.`,
      'Intervals over conditions treat the conditions as the sample, like S002\'s standard error over its 17 datasets.',
      ...excludedNotes(m),
    ],
    data: { ...m, models: m.models.map((x) => x.key) },
  };
}

/** Report notes naming the conditions a metric could not be computed on. */
export function excludedNotes(m: OodMeasurements): string[] {
  return m.excluded.map((x) => `Condition ${x.condition} was excluded: ${x.reason}.`);
}

const ALL = listOodConditions().map((c) => c.name);
/** The battery without the condition that needs a second dataset. */
export const OOD_SINGLE = ALL.filter((n) => n !== 'cross-dataset');

/** Profiles shared by E002-4 and E002-5. */
export const OOD_PROFILES: Record<Profile, OodConfig> = {
  quick: { data: QUICK_DATA, train: QUICK_TRAIN, seeds: 3, inputs: 500, model: { arch: 'mlp', width: 64, depth: 3 }, conditions: OOD_SINGLE, tightGap: 0.1, minGrowth: 0.02 },
  standard: { data: STANDARD_DATA, train: STANDARD_TRAIN, seeds: STANDARD_SEEDS, inputs: 1000, model: { arch: 'mlp', width: 256, depth: 3 }, conditions: OOD_SINGLE, tightGap: 0.1, minGrowth: 0.02 },
  full: { data: FULL_DATA, train: FULL_TRAIN, seeds: 6, inputs: 2000, model: { arch: 'mlp', width: 256, depth: 4 }, conditions: ALL, tightGap: 0.1, minGrowth: 0.02 },
};

/** E002-4: out-of-distribution alignment against depth (S002 Fig. 4). */
export const e002_4: ExperimentRecipe<OodConfig> = {
  id: 'E002-4',
  title: 'Alignment out of distribution, against depth',
  source: 'S002 (convergent learning), Fig. 4',
  profiles: OOD_PROFILES,
  ...recipeConfig(oodConfigSchema('E002-4'), 'E002-4'),
  run,
};
