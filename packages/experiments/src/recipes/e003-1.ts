// E003-1 (S003 Sec. 3.3, Fig. 4; seeds-spec F3): the sanity test of Prop. 3.4. Transform a trained
// model's pre-activation layer by a random G_ReLU element, a Haar-orthogonal matrix or the identity,
// freeze everything up to it, fine-tune the layers after it from their trained values, and measure
// the accuracy lost.
import { evaluate } from '@basis/connectivity';
import { BasisError, Matrix, createRng, finite, haarOrthogonal, list, object, permutation, text, type Schema } from '@basis/tensor';
import { TrainSettingsSchema, type TrainSettings } from '@basis/zoo';
import { count, crossCheck, recipeConfig } from '../runner/check.js';
import { barChart, type Figure, type Table } from '../report.js';
import { STANDARD_FAMILY, FULL_FAMILY, ModelFamilySchema, QUICK_FAMILY, difference, estimate, evalData, fmt, trainFamily, type ModelFamily } from './e003-shared.js';
import { checkOf, judge } from './verdict.js';
import type { CachedModel, ClaimCheck, Estimate, ExperimentRecipe, RecipeResult, Profile } from './types.js';

/** Configuration of E003-1. */
export interface E0031Config {
  family: ModelFamily;
  /** Dense (pre-activation) nodes to transform, e.g. `layers.2`. */
  layers: string[];
  /** Fine-tuning of the layers after the transformed one. */
  finetune: TrainSettings;
  /** Random transforms per trained model. */
  trialsPerModel: number;
  /** Log-scale spread of the G_ReLU scales (D_ii = exp(sigma z)). */
  scaleSigma: number;
}

/** The schema of {@link E0031Config}: at least 2 trials in all; the recipe sets the fine-tuning's frozen nodes. */
export const E0031ConfigSchema: Schema<E0031Config> = crossCheck(
  object({
    family: ModelFamilySchema,
    layers: list(text('a dense node name such as layers.2'), 'dense node names', { min: 1, emptyMessage: 'must not be empty' }),
    finetune: TrainSettingsSchema,
    trialsPerModel: count(1, 'trial'),
    scaleSigma: finite({ ge: 0 }),
  }),
  (c) => {
    const trials = c.family.seeds.length * c.trialsPerModel;
    if (trials < 2) return { at: ['trialsPerModel'], message: `needs at least 2 trials in total (seeds x trialsPerModel), got ${trials}` };
    if (c.finetune.freeze !== undefined) return { at: ['finetune', 'freeze'], message: 'is set by the recipe (every node up to the transformed layer)' };
    return null;
  },
);

const PROFILES: Record<Profile, E0031Config> = {
  quick: { family: QUICK_FAMILY, layers: ['layers.2'], finetune: { epochs: 4, batchSize: 128, optimizer: { kind: 'adam', lr: 2e-3 } }, trialsPerModel: 1, scaleSigma: 1 },
  standard: { family: STANDARD_FAMILY, layers: ['layers.2'], finetune: { epochs: 4, batchSize: 128, optimizer: { kind: 'adam', lr: 1e-3 } }, trialsPerModel: 1, scaleSigma: 1 },
  full: { family: FULL_FAMILY, layers: ['layers.2', 'layers.4'], finetune: { epochs: 5, batchSize: 128, optimizer: { kind: 'adam', lr: 1e-3 } }, trialsPerModel: 2, scaleSigma: 1 },
};

const KINDS = ['identity', 'grelu', 'orthogonal'] as const;
/** Kinds of random transform. */
export type Kind = (typeof KINDS)[number];

/** Float64 parameters by name. */
export type P64 = Record<string, { shape: number[]; data: Float64Array }>;

/**
 * `W_l <- A W_l`, `b_l <- A b_l` for a dense node `l` (A acts on its output units, i.e. on the
 * pre-activation): `grelu` A = P D (random permutation, lognormal D), `orthogonal` Haar Q,
 * `identity` A = I. Returns the new parameters (the others are shared) and A.
 *
 * @example
 * ```ts
 * const { params: p2, A } = transformPreactivation(params, 'layers.2', 'grelu', createRng(0));
 * ```
 */
export function transformPreactivation(params: P64, layer: string, kind: Kind, rng: ReturnType<typeof createRng>, scaleSigma = 1): { params: P64; A: Matrix } {
  const W = params[`${layer}.weight`];
  const b = params[`${layer}.bias`];
  if (W === undefined || W.shape.length !== 2) throw new BasisError('INVALID_ARGUMENT', `'${layer}' is not a dense node with a 2-D weight`);
  const [n, m] = W.shape as [number, number];
  const A = new Float64Array(n * n);
  if (kind === 'identity') for (let i = 0; i < n; i++) A[i * n + i] = 1;
  else if (kind === 'grelu') {
    const p = permutation(n, rng);
    for (let i = 0; i < n; i++) A[i * n + (p[i] as number)] = Math.exp(scaleSigma * rng.normal());
  } else A.set(haarOrthogonal(n, rng).data);
  const W2 = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const a = A[i * n + k] as number;
      if (a === 0) continue;
      for (let j = 0; j < m; j++) W2[i * m + j] = (W2[i * m + j] as number) + a * (W.data[k * m + j] as number);
    }
  }
  const out: P64 = { ...params, [`${layer}.weight`]: { shape: [n, m], data: W2 } };
  if (b !== undefined) {
    const b2 = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) b2[i] = (b2[i] as number) + (A[i * n + k] as number) * (b.data[k] as number);
    out[`${layer}.bias`] = { shape: [n], data: b2 };
  }
  return { params: out, A: new Matrix(n, n, A) };
}

/** Node names up to and including `layer` (frozen during fine-tuning). */
function upTo(m: CachedModel, layer: string): string[] {
  const names = m.graph.nodes.map((n) => n.name);
  const k = names.indexOf(layer);
  if (k < 0) throw new BasisError('CONFIG_INVALID', `config.layers names '${layer}', which is not a node of ${m.graph.name} (nodes: ${names.join(', ')})`, { details: { field: 'config.layers' } });
  if (m.graph.nodes[k]!.op !== 'dense') throw new BasisError('CONFIG_INVALID', `config.layers: '${layer}' is a ${m.graph.nodes[k]!.op} node; transform a dense (pre-activation) node`, { details: { field: 'config.layers' } });
  if (k >= names.length - 1) throw new BasisError('CONFIG_INVALID', `config.layers: '${layer}' is the output layer; nothing follows it to fine-tune`, { details: { field: 'config.layers' } });
  const withParams = new Set(Object.keys(m.params).map((p) => p.slice(0, p.lastIndexOf('.'))));
  return names.slice(0, k + 1).filter((n) => withParams.has(n));
}

/** One fine-tuning trial of E003-1: the accuracy and loss before the transform and after fine-tuning. */
export interface E0031Trial {
  model: number;
  trial: number;
  layer: string;
  kind: Kind;
  before: number;
  after: number;
  lossBefore: number;
  lossAfter: number;
}

/**
 * The verdicts of E003-1 (pure). Penalties are paired by model and trial (independent models, t
 * intervals); the orthogonal-minus-G_ReLU contrast must exceed the fine-tuning noise (mean
 * |penalty| of the identity control) or `minEffect`, whichever is larger.
 *
 * @example
 * ```ts
 * decideE0031(trials, ['layers.2']).checks.map((c) => c.verdict);
 * ```
 */
export function decideE0031(trials: readonly E0031Trial[], layers: readonly string[], minEffect = 0.005, greluTol = 0.01): { checks: ClaimCheck[]; est: Record<string, Estimate> } {
  const sel = (kind: Kind, layer: string): E0031Trial[] => trials.filter((t) => t.kind === kind && t.layer === layer).sort((a, b) => a.model - b.model || a.trial - b.trial);
  const pen = (kind: Kind, layer: string): number[] => sel(kind, layer).map((t) => t.before - t.after);
  const dloss = (kind: Kind, layer: string): number[] => sel(kind, layer).map((t) => t.lossAfter - t.lossBefore);
  const est: Record<string, Estimate> = {};
  for (const l of layers) for (const kind of KINDS) {
    est[`penalty ${kind} ${l}`] = estimate(pen(kind, l));
    est[`loss increase ${kind} ${l}`] = estimate(dloss(kind, l));
  }
  const checks: ClaimCheck[] = [];
  for (const l of layers) {
    const noise = pen('identity', l).reduce((s, v) => s + Math.abs(v), 0) / Math.max(1, pen('identity', l).length);
    const effect = Math.max(minEffect, noise);
    const dPen = difference(pen('orthogonal', l), pen('grelu', l), 'orthogonal - grelu penalty');
    const dG = difference(pen('grelu', l), pen('identity', l), 'grelu - identity penalty');
    const dLoss = difference(dloss('orthogonal', l), dloss('grelu', l), 'orthogonal - grelu loss increase');
    const paper = 'Fig. 4: G_ReLU transforms give significantly smaller penalties than orthogonal ones (Myrtle CNN, CIFAR-10, baseline about 87%, 50 + 50 epochs, CIs over 10 trials).';
    checks.push(
      checkOf(
        {
          claim: `At ${l}, orthogonal transforms cost more accuracy after fine-tuning than G_ReLU transforms (penalty difference > 0).`,
          paper,
          measured: `penalty orthogonal ${fmt(est[`penalty orthogonal ${l}`]!)}, G_ReLU ${fmt(est[`penalty grelu ${l}`]!)}, identity ${fmt(est[`penalty identity ${l}`]!)}; difference ${fmt(dPen)}; fine-tuning noise (mean |identity penalty|) ${noise.toFixed(4)}.`,
          estimates: { difference: dPen, orthogonal: est[`penalty orthogonal ${l}`]!, grelu: est[`penalty grelu ${l}`]! },
          primary: 'difference',
        },
        judge(dPen, { side: 'above', null: 0, effect }),
      ),
      checkOf(
        {
          claim: `At ${l}, the G_ReLU penalty is about 0 (an exact fix W_{l+1} phi(A)^{-1} exists): no larger than the identity control's.`,
          paper,
          measured: `G_ReLU minus identity penalty ${fmt(dG, 4)}.`,
          estimates: { greluMinusIdentity: dG },
          primary: 'greluMinusIdentity',
        },
        judge(dG, { side: 'within', lo: -greluTol, hi: greluTol }),
      ),
      checkOf(
        {
          claim: `At ${l}, the test-loss increase after fine-tuning is larger for orthogonal transforms (seeds-spec: report the loss where accuracy penalties are small).`,
          paper: '',
          measured: `loss increase orthogonal ${fmt(est[`loss increase orthogonal ${l}`]!, 4)}, G_ReLU ${fmt(est[`loss increase grelu ${l}`]!, 4)}; difference ${fmt(dLoss, 4)}.`,
          estimates: { difference: dLoss },
          primary: 'difference',
        },
        judge(dLoss, { side: 'above', null: 0, effect: 0.01 }),
      ),
    );
  }
  return { checks, est };
}

export const e003_1: ExperimentRecipe<E0031Config> = {
  id: 'E003-1',
  title: 'Rotation penalties: G_ReLU vs orthogonal transforms of a pre-activation layer',
  source: 'S003 Sec. 3.3, Fig. 4',
  profiles: PROFILES,
  ...recipeConfig(E0031ConfigSchema),
  async run(ctx, c): Promise<RecipeResult> {
    const models = await trainFamily(ctx, c.family, 'E003-1 base');
    for (const l of c.layers) upTo(models[0]!, l);
    const test = await evalData(c.family.data, 'test', 100000, models[0]!.graph.input);
    type Trial = { model: number; trial: number; layer: string; kind: Kind; before: number; transformed: number; after: number; lossBefore: number; lossAfter: number };
    const trials: Trial[] = [];
    try {
      const jobs: Array<Record<string, unknown>> = [];
      const meta: Array<Omit<Trial, 'after' | 'lossAfter'>> = [];
      for (const [mi, m] of models.entries()) {
        const base = await ctx.cached({ what: 'eval', model: m.key }, async () => evaluate(m.graph, m.params, test));
        for (const layer of c.layers) {
          for (let t = 0; t < c.trialsPerModel; t++) {
            for (const kind of KINDS) {
              const rng = createRng(`E003-1:${ctx.seed}:${m.key}:${layer}:${t}:${kind}`);
              const { params } = transformPreactivation(m.params, layer, kind, rng, c.scaleSigma);
              const transformed = await ctx.cached({ what: 'eval-transformed', model: m.key, layer, t, kind, sigma: c.scaleSigma }, async () => (await evaluate(m.graph, params, test)).accuracy);
              jobs.push({ data: c.family.data, model: c.family.model, recipe: { ...c.finetune, freeze: upTo(m, layer) }, seed: ctx.seed + 1000 + t, init: { params }, label: `E003-1 ${kind} ${layer} model ${mi} trial ${t}` });
              meta.push({ model: mi, trial: t, layer, kind, before: base.accuracy, transformed, lossBefore: base.loss });
            }
          }
        }
      }
      const tuned = await ctx.models(jobs);
      for (const [k, m] of tuned.entries()) {
        const after = await ctx.cached({ what: 'eval', model: m.key }, async () => evaluate(m.graph, m.params, test));
        trials.push({ ...meta[k]!, after: after.accuracy, lossAfter: after.loss });
      }
    } finally {
      test.x.dispose();
    }
    const { checks, est } = decideE0031(trials, c.layers);
    const rows: Figure['rows'] = c.layers.flatMap((l) => KINDS.map((kind) => ({ group: l, series: kind, value: est[`penalty ${kind} ${l}`]!.mean, lo: est[`penalty ${kind} ${l}`]!.lo, hi: est[`penalty ${kind} ${l}`]!.hi })));
    const figures: Figure[] = [
      {
        id: 'rotation-penalty',
        title: 'Accuracy penalty after transform + fine-tuning',
        caption: `Mean over ${models.length * c.trialsPerModel} trials (95% t CI in the data) of accuracy before minus after, per transformed pre-activation layer.`,
        spec: barChart(rows, { x: 'transformed layer', y: 'accuracy penalty' }),
        rows,
      },
    ];
    const tables: Table[] = [
      {
        id: 'trials',
        title: 'Trials: accuracy before, right after the transform (no fix), and after fine-tuning',
        columns: ['layer', 'kind', 'model', 'trial', 'before', 'transformed', 'after', 'penalty', 'loss increase'],
        rows: trials.map((t) => [t.layer, t.kind, t.model, t.trial, t.before, t.transformed, t.after, t.before - t.after, t.lossAfter - t.lossBefore]),
      },
    ];
    return {
      checks,
      figures,
      tables,
      notes: [
        '[OPEN] G_ReLU elements P D with a uniform permutation and lognormal D_ii = exp(sigma z), sigma = ' + String(c.scaleSigma) + ' (S003 does not give the spread).',
        '[OPEN] Transform inserted at the pre-activation (W_l, b_l) as in S003; the post-activation negative control of seeds-spec E000-2 is not run here.',
        `[OPEN] Fine-tuning from the trained values for ${c.finetune.epochs} epoch(s) (S003: 50 after 50 epochs of pre-training); every node up to the transformed layer frozen.`,
        'Deviation: MLPs instead of the Myrtle CNN on CIFAR-10.',
      ],
      data: { trials, estimates: est },
    };
  },
};
