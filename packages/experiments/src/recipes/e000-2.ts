// E000-2 (S000, with S003's sanity test F3): rotation invariance — rotate a hidden layer's
// pre-activations by a random orthogonal matrix, freeze everything up to it, fine-tune the layers
// above, and compare the accuracy lost with the G_ReLU, identity and post-activation controls.
import { createRng, finite, haarOrthogonal, integer, Matrix, matmul, object, oneOf, type Rng, type Schema } from '@basis/tensor';
import { TrainSettingsSchema, type TrainSettings } from '@basis/zoo';
import { barChart, type Figure } from '../report.js';
import { crossCheck, recipeConfig } from '../runner/check.js';
import { difference, estimate, formatEstimate } from '../runner/estimate.js';
import { FULL_DATA, FULL_TRAIN, QUICK_DATA, QUICK_TRAIN, STANDARD_DATA, STANDARD_SEEDS, STANDARD_TRAIN, baseEntries, job, meanOf, type BaseConfig } from './common.js';
import { judge } from './verdict.js';
import type { CachedModel, ClaimCheck, Estimate, ExperimentRecipe, RecipeResult } from './types.js';

/** Configuration of E000-2. */
export interface E0002Config extends Omit<BaseConfig, 'inputs'> {
  width: number;
  depth: number;
  /** Hidden layer whose units are transformed (0 = first). */
  layer: number;
  /** Fine-tuning of the layers above (starting from their trained values). */
  fineTune: TrainSettings;
  /** Std of the log-normal scales of the random G_ReLU element. */
  logScaleStd: number;
  /** Controls counted as "about 0" when their penalty minus the identity control's lies within ± this (accuracy). */
  tolerance: number;
  /** Insertion point of the headline rotation. */
  insertion: 'pre-activation';
  /**
   * Minimum effect (accuracy) for "orthogonal costs more than G_ReLU"; the effect used is the larger
   * of this and the fine-tuning noise (mean |accuracy change| of the identity control).
   */
  minEffect: number;
}

/** The schema of {@link E0002Config} (its messages start with `E000-2`): the layer transformed is a hidden one below the last. */
export const E0002ConfigSchema: Schema<E0002Config> = crossCheck(
  object({
    ...baseEntries(2),
    width: integer(2, 4096),
    depth: integer(2, 8),
    layer: integer(0),
    fineTune: TrainSettingsSchema,
    logScaleStd: finite({ ge: 0, le: 3 }),
    tolerance: finite({ gt: 0, le: 1 }),
    insertion: oneOf(['pre-activation']),
    minEffect: finite({ ge: 0, le: 1 }),
  }),
  (c) => (c.layer <= c.depth - 2 ? null : { at: ['layer'], message: `must be an integer in [0, ${c.depth - 2}], got ${c.layer}` }),
);

/** Penalties (accuracy before − after transform and fine-tuning) per transformation kind, one per trained model. */
export type E0002Measured = Record<'identity' | 'grelu' | 'orthogonal' | 'orthogonal-post', number[]>;

/**
 * The verdicts of E000-2 from the penalties (pure). The headline contrast is the paper's
 * (orthogonal against G_ReLU, paired by model), with a minimum effect no smaller than the
 * fine-tuning noise measured by the identity control.
 *
 * @example
 * ```ts
 * decideE0002({ identity: [0, 0.001], grelu: [0, 0], orthogonal: [0.05, 0.06], 'orthogonal-post': [0, 0] }, { tolerance: 0.01, minEffect: 0.005 });
 * ```
 */
export function decideE0002(penalty: E0002Measured, c: Pick<E0002Config, 'tolerance' | 'minEffect'>): ClaimCheck[] {
  const pen = Object.fromEntries(KINDS.map((k) => [k, estimate(penalty[k], `${k} penalty`)])) as Record<Kind, Estimate>;
  const noise = meanOf(penalty.identity.map(Math.abs));
  const effect = Math.max(c.minEffect, noise);
  const dQG = difference(penalty.orthogonal, penalty.grelu, 'orthogonal minus G_ReLU');
  const dG = difference(penalty.grelu, penalty.identity, 'G_ReLU minus identity');
  const dPost = difference(penalty['orthogonal-post'], penalty.identity, 'post-activation minus identity');
  const j1 = judge(dQG, { side: 'above', null: 0, effect });
  const j2 = judge(dG, { side: 'within', lo: -c.tolerance, hi: c.tolerance });
  const j3 = judge(dPost, { side: 'within', lo: -c.tolerance, hi: c.tolerance });
  const pct = (x: number): string => `${(100 * x).toFixed(2)} points`;
  return [
    {
      claim: 'Individual neuron directions matter: rotating a layer by a random orthogonal matrix (pre-activation) and retraining the later layers loses more accuracy than a G_ReLU transform of the same layer.',
      paper: 'S000: accuracy degrades significantly (the summary rates this "low confidence"); S003 Sec. 3.3 / Fig. 4: orthogonal penalties clearly above the G_ReLU ones.',
      measured: `Penalty (accuracy before − after fine-tuning), orthogonal minus G_ReLU, paired by model: ${formatEstimate(dQG, 4)} (orthogonal ${pct(pen.orthogonal.mean)}, G_ReLU ${pct(pen.grelu.mean)}, identity ${pct(pen.identity.mean)}); fine-tuning noise (mean |identity penalty|) ${pct(noise)}. Criterion: ${j1.criterion}.`,
      verdict: j1.verdict,
      estimates: { orthogonalMinusGrelu: dQG, orthogonal: pen.orthogonal, grelu: pen.grelu, identity: pen.identity },
      primary: 'orthogonalMinusGrelu',
      criterion: j1.criterion,
      change: j1.change,
    },
    {
      claim: 'Control: a random G_ReLU element (permutation times positive scaling) costs nothing, because the next layer can undo it exactly.',
      paper: 'S003 Sec. 3.3 / seeds-spec F3: penalty about 0 for A in G_ReLU.',
      measured: `G_ReLU penalty minus identity: ${formatEstimate(dG, 4)}. Criterion: ${j2.criterion}.`,
      verdict: j2.verdict,
      estimates: { greluMinusIdentity: dG, grelu: pen.grelu },
      primary: 'greluMinusIdentity',
      criterion: j2.criterion,
      change: j2.change,
    },
    {
      claim: 'Negative control: the same rotation applied after the nonlinearity (right before a linear layer) is trivially undone by fine-tuning.',
      paper: 'seeds-spec 0.5 item 17 / F3: any post-activation penalty can only come from optimisation.',
      measured: `Post-activation orthogonal penalty minus identity: ${formatEstimate(dPost, 4)}. Criterion: ${j3.criterion}.`,
      verdict: j3.verdict,
      estimates: { postMinusIdentity: dPost, orthogonalPost: pen['orthogonal-post'] },
      primary: 'postMinusIdentity',
      criterion: j3.criterion,
      change: j3.change,
    },
  ];
}

const KINDS = ['identity', 'grelu', 'orthogonal', 'orthogonal-post'] as const;
type Kind = (typeof KINDS)[number];

/** A random G_ReLU element P·D (permutation times log-normal positive diagonal) as a dense matrix. */
function greluElement(n: number, rng: Rng, std: number): Matrix {
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [perm[i], perm[j]] = [perm[j] as number, perm[i] as number];
  }
  const A = new Matrix(n, n);
  for (let i = 0; i < n; i++) A.set(i, perm[i] as number, Math.exp(std * rng.normal()));
  return A;
}

type P64 = CachedModel['params'];

function asMatrix(p: P64[string]): Matrix {
  return new Matrix(p.shape[0] as number, p.shape.length > 1 ? (p.shape[1] as number) : 1, Float64Array.from(p.data));
}

/** The transformed parameters: pre-activation `W_l <- A W_l, b_l <- A b_l`, or post-activation `W_{l+1} <- W_{l+1} A`. */
function transform(params: P64, dense: string[], layer: number, A: Matrix, where: 'pre' | 'post'): P64 {
  const out: P64 = {};
  for (const [k, v] of Object.entries(params)) out[k] = { shape: [...v.shape], data: Float64Array.from(v.data) };
  if (where === 'pre') {
    const W = `${dense[layer]}.weight`;
    const b = `${dense[layer]}.bias`;
    out[W] = { shape: [...params[W]!.shape], data: matmul(A, asMatrix(params[W]!)).data };
    out[b] = { shape: [...params[b]!.shape], data: matmul(A, asMatrix(params[b]!)).data };
  } else {
    const W = `${dense[layer + 1]}.weight`;
    out[W] = { shape: [...params[W]!.shape], data: matmul(asMatrix(params[W]!), A).data };
  }
  return out;
}

async function run(ctx: Parameters<ExperimentRecipe['run']>[0], c: E0002Config): Promise<RecipeResult> {
  const model = { arch: 'mlp' as const, width: c.width, depth: c.depth };
  const seeds = Array.from({ length: c.seeds }, (_, s) => ctx.seed + s);
  const base = await ctx.models(seeds.map((s) => job(c.data, model, c.train, s, `E000-2 base seed ${s}`)));
  const dense = base[0]!.graph.nodes.filter((n) => n.op === 'dense').map((n) => n.name);
  const frozen = dense.slice(0, c.layer + 1);
  const jobs: Array<Record<string, unknown>> = [];
  for (const [t, m] of base.entries()) {
    const rng = createRng(`E000-2:${seeds[t]}`);
    const elements: Record<Kind, [Matrix, 'pre' | 'post']> = {
      identity: [Matrix.identity(c.width), 'pre'],
      grelu: [greluElement(c.width, rng.fork('grelu'), c.logScaleStd), 'pre'],
      orthogonal: [haarOrthogonal(c.width, rng.fork('haar')), 'pre'],
      'orthogonal-post': [haarOrthogonal(c.width, rng.fork('haar-post')), 'post'],
    };
    for (const k of KINDS) {
      const [A, where] = elements[k];
      jobs.push({ data: c.data, model, recipe: { ...c.fineTune, freeze: frozen }, seed: seeds[t], init: { params: transform(m.params, dense, c.layer, A, where) }, label: `E000-2 ${k} seed ${seeds[t]}` });
    }
  }
  const tuned = await ctx.models(jobs);
  const acc = (m: CachedModel): number => m.result.final.testAccuracy as number;
  const penalty: Record<Kind, number[]> = { identity: [], grelu: [], orthogonal: [], 'orthogonal-post': [] };
  for (const [t, m] of base.entries()) for (const [ki, k] of KINDS.entries()) penalty[k].push(acc(m) - acc(tuned[t * KINDS.length + ki]!));
  const pen = Object.fromEntries(KINDS.map((k) => [k, estimate(penalty[k], `${k} penalty`)])) as Record<Kind, ReturnType<typeof estimate>>;
  const checks = decideE0002(penalty, c);
  const rows: Figure['rows'] = KINDS.map((k) => ({ group: k, series: 'penalty (accuracy points)', value: 100 * pen[k].mean, lo: 100 * pen[k].lo, hi: 100 * pen[k].hi }));
  return {
    checks,
    figures: [{ id: 'rotation-penalty', title: 'Rotation penalty by transformation', caption: `Test accuracy lost after transforming hidden layer ${c.layer} of MLP(${c.width}) x ${c.depth} and fine-tuning the layers above for ${c.fineTune.epochs} epoch(s); mean over ${c.seeds} trained models.`, spec: barChart(rows, { x: 'transformation', y: 'penalty (accuracy points)' }), rows }],
    tables: [
      {
        id: 'penalties',
        title: 'Penalties per transformation',
        caption: 'Accuracy of the trained model minus accuracy after the transformation and fine-tuning (fractions); 95% t intervals over models.',
        columns: ['transformation', 'insertion', 'mean', 'lo', 'hi', 'accuracy after (mean)'],
        rows: KINDS.map((k, ki) => [k, k === 'orthogonal-post' ? 'post-activation' : 'pre-activation', pen[k].mean, pen[k].lo, pen[k].hi, meanOf(base.map((_, t) => acc(tuned[t * KINDS.length + ki]!)))]),
      },
    ],
    notes: [
      `Pre-activation insertion (seeds-spec F3): W_l <- A W_l, b_l <- A b_l for hidden layer ${c.layer}; layers up to and including it are frozen (${frozen.join(', ')}) and the layers above are fine-tuned from their trained values with the same seed's data order.`,
      `A is the identity, a random G_ReLU element (uniform permutation, log-normal scales with log-std ${c.logScaleStd}) or a Haar orthogonal matrix (QR with sign fix). The identity control measures what extra fine-tuning alone does: its mean |penalty| is the fine-tuning noise, and the orthogonal-minus-G_ReLU contrast (the paper's) must exceed it. Base models of the standard profile are trained to their plateau so fine-tuning alone moves them little.`,
      `Accuracies are on the whole test split of the data spec. S003 fine-tunes 50 epochs after 50 epochs of pre-training with 10 trials; here ${c.fineTune.epochs} epoch(s) after ${c.train.epochs}, with ${c.seeds} trials.`,
    ],
    data: { penalty, seeds },
  };
}

/** E000-2: rotation invariance (S000, with the S003 sanity test). */
export const e000_2: ExperimentRecipe<E0002Config> = {
  id: 'E000-2',
  title: 'Rotation invariance: random orthogonal rotations of a layer',
  source: 'S000 (privileged bases), rotation experiment; S003 Sec. 3.3 controls',
  profiles: {
    quick: { data: QUICK_DATA, train: QUICK_TRAIN, seeds: 3, width: 64, depth: 2, layer: 0, fineTune: { epochs: 10, batchSize: 128, optimizer: { kind: 'adam', lr: 1e-3 } }, logScaleStd: 0.5, tolerance: 0.01, insertion: 'pre-activation', minEffect: 0.005 },
    standard: { data: STANDARD_DATA, train: STANDARD_TRAIN, seeds: STANDARD_SEEDS, width: 256, depth: 2, layer: 0, fineTune: { epochs: 6, batchSize: 128, optimizer: { kind: 'adam', lr: 5e-4 }, schedule: { kind: 'cosine' } }, logScaleStd: 0.5, tolerance: 0.01, insertion: 'pre-activation', minEffect: 0.005 },
    full: { data: FULL_DATA, train: FULL_TRAIN, seeds: 6, width: 128, depth: 3, layer: 1, fineTune: { epochs: 30, batchSize: 128, optimizer: { kind: 'adam', lr: 1e-3 }, schedule: { kind: 'cosine' } }, logScaleStd: 0.5, tolerance: 0.01, insertion: 'pre-activation', minEffect: 0.005 },
  },
  ...recipeConfig(E0002ConfigSchema, 'E000-2'),
  run,
};
