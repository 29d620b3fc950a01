// E002-3 (S002 Fig. 3): training evolution — Procrustes alignment between seed pairs at
// checkpoints from initialisation through the first epoch to the end, against test accuracy.
import * as tf from '@tensorflow/tfjs-core';
import { evaluate } from '@basis/connectivity';
import { finite, integer, object, type Schema } from '@basis/tensor';
import { ModelSpecSchema, toFloat64, type ModelSpec } from '@basis/zoo';
import { loadModel } from '@basis/zoo/node';
import { lineChart, type Figure } from '../report.js';
import { ascending, crossCheck, listOfAtLeast, recipeConfig } from '../runner/check.js';
import { estimate, formatEstimate } from '../runner/estimate.js';
import { FULL_DATA, QUICK_DATA, STANDARD_DATA, STANDARD_SEEDS, STANDARD_TRAIN, activationCache, activationPoints, archIn, baseEntries, evalSet, inputsFit, job, meanOf, pairs, type BaseConfig } from './common.js';
import { checkOf, judge, pairBootstrap } from './verdict.js';
import { bothWays } from './e002-1.js';
import type { CachedModel, ClaimCheck, ExperimentRecipe, RecipeResult } from './types.js';

/** Configuration of E002-3. */
export interface E0023Config extends BaseConfig {
  model: ModelSpec;
  /** Sub-epoch checkpoint fractions (every epoch end is checkpointed too); must include 0. */
  fractions: number[];
  /** "Nearly all the final alignment within the first epoch": the lower bound of the fraction reached must exceed this. */
  reached: number;
  /** The early checkpoint (epochs) where alignment and accuracy progress are compared. */
  early: number;
  /** Minimum lead of alignment progress over accuracy progress (fraction) for "well before". */
  minLead: number;
}

/**
 * The schema of {@link E0023Config} (its messages start with `E002-3`): no more inputs than the
 * test set has, rising checkpoint fractions from 0 that include the early one, 2 epochs at least,
 * an MLP or residual MLP.
 */
export const E0023ConfigSchema: Schema<E0023Config> = crossCheck(
  object({
    ...baseEntries(2),
    inputs: integer(50),
    model: ModelSpecSchema,
    fractions: ascending(listOfAtLeast(finite({ ge: 0, lt: 1 }), 'checkpoint fractions', 2, 'checkpoint fractions'), 'fraction'),
    reached: finite({ gt: 0, le: 1 }),
    early: finite({ gt: 0, lt: 1 }),
    minLead: finite({ ge: 0, le: 1 }),
  }),
  (c) => {
    const fits = inputsFit('E002-3')(c);
    if (fits !== null) return fits;
    if (!c.fractions.includes(0)) return { at: ['fractions'], message: 'must include 0 (the untrained networks)' };
    if (!c.fractions.includes(c.early)) return { at: ['early'], message: `must be one of the checkpoint fractions (${c.fractions.join(', ')}), got ${c.early}` };
    if (c.train.epochs < 2) return { at: ['train', 'epochs'], message: `must be at least 2 (alignment after epoch 1 is compared with the end), got ${c.train.epochs}` };
    return archIn(c.model, ['mlp', 'resmlp'], ['model']);
  },
);

/** Progress fraction of `v` from `v0` to `vEnd` (1 when there is no progress to make). */
function progressOf(v: number, v0: number, vEnd: number): number {
  return Math.abs(vEnd - v0) < 1e-9 ? 1 : (v - v0) / (vEnd - v0);
}

/** What E002-3 measured: alignment per checkpoint and seed pair, accuracy per checkpoint and model, and the checkpoint indices compared. */
export interface E0023Measured {
  pairs: Array<[number, number]>;
  models: number;
  /** align[checkpoint][pair] (checkpoint 0 = initialisation, last = end of training). */
  align: number[][];
  /** acc[checkpoint][model]. */
  acc: number[][];
  /** Index of the checkpoint nearest epoch 1 and of the early checkpoint. */
  k1: number;
  kEarly: number;
  /** Epochs at the early checkpoint and at the end (for the text). */
  earlyEpoch: number;
  endEpoch: number;
}

/**
 * The verdicts of E002-3 (pure), with model-level bootstrap intervals over seeds (pairs share models).
 *
 * @example
 * ```ts
 * decideE0023(measured, { reached: 0.8, minLead: 0.05 });
 * ```
 */
export function decideE0023(m: E0023Measured, c: Pick<E0023Config, 'reached' | 'minLead'>): ClaimCheck[] {
  const K = m.align.length - 1;
  const reached = pairBootstrap(m.pairs.map((_, p) => progressOf(m.align[m.k1]![p]!, m.align[0]![p]!, m.align[K]![p]!)), m.pairs, m.models, 1);
  const pairAcc = (k: number, p: number): number => (m.acc[k]![m.pairs[p]![0]]! + m.acc[k]![m.pairs[p]![1]]!) / 2;
  const lead = pairBootstrap(
    m.pairs.map((_, p) => progressOf(m.align[m.kEarly]![p]!, m.align[0]![p]!, m.align[K]![p]!) - progressOf(pairAcc(m.kEarly, p), pairAcc(0, p), pairAcc(K, p))),
    m.pairs,
    m.models,
    2,
  );
  const j1 = judge(reached, { side: 'above', null: c.reached, effect: 0 });
  const j2 = judge(lead, { side: 'above', null: 0, effect: c.minLead });
  return [
    checkOf({ claim: 'Nearly all of the final alignment between two networks is reached within the first epoch.', paper: 'S002 Fig. 3: nearly all the final alignment is reached within the first epoch (ImageNet, epochs 0-10).', measured: `Fraction of the alignment gain (untrained → end of training, epoch ${m.endEpoch}) reached after epoch 1: ${formatEstimate(reached)} (model-level bootstrap).`, estimates: { fractionReachedAtEpoch1: reached }, primary: 'fractionReachedAtEpoch1' }, j1),
    checkOf({ claim: 'Alignment arrives well before accuracy plateaus (it is driven by input statistics and architecture more than by the task solution).', paper: 'S002 Fig. 3: alignment saturates well before task performance plateaus.', measured: `At ${m.earlyEpoch.toFixed(3)} epochs: alignment progress minus accuracy progress (each as a fraction of its total change) = ${formatEstimate(lead)} (model-level bootstrap).`, estimates: { alignmentLeadAtEarly: lead }, primary: 'alignmentLeadAtEarly' }, j2),
  ];
}

async function run(ctx: Parameters<ExperimentRecipe['run']>[0], c: E0023Config): Promise<RecipeResult> {
  const seeds = Array.from({ length: c.seeds }, (_, s) => ctx.seed + s);
  const train = { ...c.train, checkpoints: c.fractions };
  const models = await ctx.models(seeds.map((s) => job(c.data, c.model, train, s, `E002-3 seed ${s}`)));
  const cks = models.map((m) => m.checkpoints ?? []);
  const epochsAt = cks[0]!.map((k) => k.epoch);
  for (const k of cks) if (k.length !== epochsAt.length || k.some((x, i) => Math.abs(x.epoch - epochsAt[i]!) > 1e-9)) throw new Error('E002-3: the models have different checkpoint schedules');
  const points = activationPoints(models[0]!.graph);
  const ps = pairs(c.seeds);
  const ev = await evalSet(c.data, c.inputs);
  // align[k][pair] (mean over layers), acc[k][model]
  const align: number[][] = [];
  const perLayer: number[][][] = [];
  const acc: number[][] = [];
  try {
    const x = tf.reshape(ev.x, [ev.labels.length, -1]);
    try {
      let done = 0;
      for (let k = 0; k < epochsAt.length; k++) {
        const snap = await ctx.cached({ what: 'evolution', keys: models.map((m) => m.key), k, epoch: epochsAt[k], points, inputs: c.inputs, data: c.data }, async () => {
          const ms: Array<Pick<CachedModel, 'key' | 'graph' | 'params'>> = [];
          for (const [i, m] of models.entries()) {
            const l = await loadModel(cks[i]![k]!.path);
            ms.push({ key: `${m.key}@${k}`, graph: l.graph, params: toFloat64(l.params) });
          }
          const acts = activationCache(ev.x, points);
          const accs: number[] = [];
          for (const m of ms) accs.push((await evaluate(m.graph, m.params, { x, labels: ev.labels })).accuracy);
          const pl: number[][] = [];
          for (const [i, j] of ps) {
            const [xa, xb] = [await acts(ms[i]!), await acts(ms[j]!)];
            pl.push(points.map((p) => bothWays('procrustes.cv', xa[p]!, xb[p]!)));
          }
          return { accs, perLayer: pl };
        });
        acc.push(snap.accs);
        perLayer.push(snap.perLayer);
        align.push(snap.perLayer.map((v) => meanOf(v)));
        ctx.progress('checkpoints compared', ++done, epochsAt.length);
      }
    } finally {
      x.dispose();
    }
  } finally {
    ev.dispose();
  }
  const K = epochsAt.length - 1;
  // checkpoint fractions are rounded to whole steps by the trainer: take the nearest checkpoint
  const nearest = (t: number): number => epochsAt.reduce((best, e, k) => (Math.abs(e - t) < Math.abs(epochsAt[best]! - t) ? k : best), 0);
  const k1 = nearest(1);
  const kEarly = nearest(c.early);
  const checks = decideE0023({ pairs: ps, models: c.seeds, align, acc, k1, kEarly, earlyEpoch: epochsAt[kEarly]!, endEpoch: epochsAt[K]! }, c);
  const rows: Figure['rows'] = [];
  const scatter: Figure['rows'] = [];
  for (let k = 0; k <= K; k++) {
    const e = estimate(align[k]!);
    rows.push({ x: epochsAt[k]!, y: e.mean, lo: e.lo, hi: e.hi, series: 'Procrustes alignment (mean over layers)' });
    const a = estimate(acc[k]!);
    rows.push({ x: epochsAt[k]!, y: a.mean, lo: a.lo, hi: a.hi, series: 'test accuracy' });
    scatter.push({ x: a.mean, y: e.mean, series: 'checkpoints', epoch: epochsAt[k]! });
  }
  return {
    checks,
    figures: [
      { id: 'alignment-over-training', title: 'Alignment and accuracy during training', caption: `Procrustes (5-fold CV, both directions) between pairs of seeds, mean over post-activation layers; test accuracy of the models; checkpoints at ${c.fractions.join(', ')} and every epoch; 95% t bands over ${ps.length} pairs / ${c.seeds} models.`, spec: lineChart(rows, { x: 'epoch', y: 'value', band: true }), rows },
      { id: 'alignment-vs-accuracy', title: 'Alignment against task performance', caption: 'One point per checkpoint (means over pairs and models).', spec: lineChart(scatter, { x: 'test accuracy', y: 'Procrustes alignment' }), rows: scatter },
    ],
    tables: [
      {
        id: 'evolution',
        title: 'Per checkpoint',
        columns: ['epoch', 'alignment (mean)', ...points.map((p) => `alignment ${p}`), 'test accuracy (mean)'],
        rows: epochsAt.map((e, k) => [e, meanOf(align[k]!), ...points.map((_, l) => meanOf(perLayer[k]!.map((v) => v[l]!))), meanOf(acc[k]!)]),
      },
    ],
    notes: [
      `Checkpoints come from the training runs themselves (the zoo writes them at the recipe's epoch fractions, rounded to whole steps, and every epoch end): epochs ${epochsAt.map((e) => e.toFixed(3)).join(', ')}; step 0 is the initialisation.`,
      'Progress fractions are (value − value at step 0) / (final value − value at step 0), per pair; accuracy progress uses the mean test accuracy of the pair, on the same test inputs.',
      'MNIST converges fast (seeds-spec 2.3), so sub-epoch checkpoints matter; on full data the profile uses Fashion-MNIST.',
    ],
    data: { epochs: epochsAt, alignment: align, perLayer, accuracy: acc, points },
  };
}

/** E002-3: training evolution (S002 Fig. 3). */
export const e002_3: ExperimentRecipe<E0023Config> = {
  id: 'E002-3',
  title: 'Alignment during training',
  source: 'S002 (convergent learning), Fig. 3',
  profiles: {
    quick: { data: QUICK_DATA, train: { epochs: 3, batchSize: 128, optimizer: { kind: 'adam', lr: 1e-3 } }, seeds: 3, inputs: 800, model: { arch: 'mlp', width: 64, depth: 3 }, fractions: [0, 0.05, 0.1, 0.25, 0.5], reached: 0.8, early: 0.1, minLead: 0.05 },
    standard: { data: STANDARD_DATA, train: STANDARD_TRAIN, seeds: STANDARD_SEEDS, inputs: 1000, model: { arch: 'mlp', width: 256, depth: 3 }, fractions: [0, 0.05, 0.1, 0.25, 0.5], reached: 0.8, early: 0.1, minLead: 0.05 },
    full: { data: FULL_DATA, train: { epochs: 10, batchSize: 128, optimizer: { kind: 'adam', lr: 1e-3 }, schedule: { kind: 'cosine' } }, seeds: 6, inputs: 2000, model: { arch: 'mlp', width: 256, depth: 4 }, fractions: [0, 0.02, 0.05, 0.1, 0.25, 0.5], reached: 0.8, early: 0.1, minLead: 0.05 },
  },
  ...recipeConfig(E0023ConfigSchema, 'E002-3'),
  run,
};
