// E003-6 (S003 Sec. 6, Fig. 3; seeds-spec F5): interpretability under basis rotation, with the
// class-selectivity proxy for network dissection. A hidden representation is rotated by a
// fractional rotation Q^alpha (Q Haar on SO(n), alpha from 0 to 1) and its class-selective units
// are counted; the post-ReLU layer is compared with the same layer read out before its ReLU.
import type { Matrix, Schema } from '@basis/tensor';
import { BasisError, createRng, finite, haarOrthogonal, matmul, object, orthogonalPower, text } from '@basis/tensor';
import { ascending, between, count, crossCheck, invalid, listOfAtLeast, recipeConfig } from '../runner/check.js';
import { lineChart, type Figure, type Table } from '../report.js';
import { FULL_FAMILY, ModelFamilySchema, QUICK_FAMILY, STANDARD_FAMILY, captureAt, estimate, evalData, fmt, trainFamily, type ModelFamily } from './e003-shared.js';
import type { ClaimCheck, Estimate, ExperimentRecipe, Profile, RecipeResult } from './types.js';
import { checkOf, judge } from './verdict.js';

/** Configuration of E003-6. */
export interface E0036Config {
  family: ModelFamily;
  /** The hidden activation node (post-ReLU); the dense node before it is the pre-activation read-out. */
  layer: string;
  /** Rotation fractions, from 0 (the neuron basis) to 1 (a Haar-random basis). */
  alphas: number[];
  /** Random rotations Q per model. */
  draws: number;
  /** Test inputs the selectivity is measured on. */
  inputs: number;
  /** Selectivity threshold in pooled standard deviations (seeds-spec F5: t = 1). */
  t: number;
  /** Minimum change of the selective fraction (of the units) that counts as a fall. */
  minDrop: number;
}

/**
 * The schema of {@link E0036Config}: two seeds at least (an interval needs two models), rotation
 * fractions rising from 0 (the neuron basis) to 1 (a Haar-random basis).
 */
export const E0036ConfigSchema: Schema<E0036Config> = crossCheck(
  object({
    family: ModelFamilySchema,
    layer: text('a hidden activation node name such as layers.3'),
    alphas: ascending(listOfAtLeast(finite({ ge: 0, le: 1 }), 'rotation fractions', 2, 'rotation fractions'), 'fraction'),
    draws: count(1, 'rotation'),
    inputs: count(100, 'inputs'),
    t: finite({ gt: 0 }),
    minDrop: between(0, 1),
  }),
  (c) => {
    if (c.family.seeds.length < 2) return { at: ['family', 'seeds'], message: `needs at least 2 seeds (an interval needs two models), got ${c.family.seeds.length}` };
    if (c.alphas[0] !== 0 || c.alphas.at(-1) !== 1) return { at: ['alphas'], message: 'must start at 0 (the neuron basis) and end at 1 (the random basis)' };
    return null;
  },
);

const PROFILES: Record<Profile, E0036Config> = {
  quick: { family: QUICK_FAMILY, layer: 'layers.3', alphas: [0, 0.25, 0.5, 0.75, 1], draws: 2, inputs: 1000, t: 1, minDrop: 0.05 },
  standard: { family: STANDARD_FAMILY, layer: 'layers.3', alphas: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1], draws: 3, inputs: 2000, t: 1, minDrop: 0.05 },
  full: { family: FULL_FAMILY, layer: 'layers.3', alphas: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1], draws: 5, inputs: 5000, t: 1, minDrop: 0.05 },
};

/**
 * The class-selective units of a representation (rows = inputs, columns = units; seeds-spec F5): a
 * unit is selective when its mean on its best class exceeds its mean on every other class by more
 * than `t` pooled within-class standard deviations. Constant units are not selective.
 *
 * @example
 * ```ts
 * selectiveUnits(H, labels, 1).length; // how many units are class-selective
 * ```
 */
export function selectiveUnits(R: Matrix, labels: ArrayLike<number>, t = 1): number[] {
  const n = R.rows;
  const d = R.cols;
  if (labels.length !== n) throw new BasisError('SHAPE_MISMATCH', `selectiveUnits: ${labels.length} labels for ${n} rows`);
  if (!(t >= 0) || !Number.isFinite(t)) throw new BasisError('INVALID_ARGUMENT', `selectiveUnits: t must be a finite number >= 0, got ${t}`);
  const classes = [...new Set(Array.from(labels))].sort((a, b) => a - b);
  if (classes.length < 2) throw new BasisError('TOO_SMALL', `selectiveUnits: needs at least 2 classes, got ${classes.length}`);
  const idx = new Map(classes.map((c, k) => [c, k] as const));
  const C = classes.length;
  const count = new Float64Array(C);
  for (let i = 0; i < n; i++) count[idx.get(labels[i]!)!]! += 1;
  if (n - C < 1) throw new BasisError('TOO_SMALL', `selectiveUnits: ${n} rows for ${C} classes leave no degrees of freedom for the pooled variance`);
  const out: number[] = [];
  const sum = new Float64Array(C);
  const sq = new Float64Array(C);
  for (let j = 0; j < d; j++) {
    sum.fill(0);
    sq.fill(0);
    for (let i = 0; i < n; i++) {
      const v = R.data[i * d + j]!;
      if (!Number.isFinite(v)) throw new BasisError('NON_FINITE_INPUT', `selectiveUnits: entry (${i}, ${j}) is ${v}`);
      const k = idx.get(labels[i]!)!;
      sum[k]! += v;
      sq[k]! += v * v;
    }
    let within = 0;
    const mu = new Float64Array(C);
    for (let k = 0; k < C; k++) {
      mu[k] = count[k]! > 0 ? sum[k]! / count[k]! : Number.NEGATIVE_INFINITY;
      if (count[k]! > 0) within += sq[k]! - count[k]! * mu[k]! * mu[k]!;
    }
    const s = Math.sqrt(Math.max(0, within) / (n - C));
    if (!(s > 1e-12)) continue;
    let best = 0;
    for (let k = 1; k < C; k++) if (mu[k]! > mu[best]!) best = k;
    let second = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < C; k++) if (k !== best && mu[k]! > second) second = mu[k]!;
    if (mu[best]! - second > t * s) out.push(j);
  }
  return out;
}

/** `R (Q^alpha)ᵀ`: the representation in the basis rotated by `Q^alpha` (the Gram matrix R Rᵀ is unchanged). */
export function rotateBasis(R: Matrix, Q: Matrix, alpha: number): Matrix {
  return matmul(R, orthogonalPower(Q, alpha).transpose());
}

/** Per model and draw: the selective fraction of the units at each alpha, post-ReLU and pre-activation. */
export interface E0036Curve {
  model: number;
  draw: number;
  post: number[];
  pre: number[];
}

/**
 * The verdicts of E003-6 (pure). Each model is independent: its curves are averaged over the
 * draws of Q, and the change from alpha = 0 to alpha = 1 gets a t interval over models.
 *
 * @example
 * ```ts
 * decideE0036(curves, [0, 0.5, 1], 0.05).checks.map((c) => c.verdict);
 * ```
 */
export function decideE0036(curves: readonly E0036Curve[], alphas: readonly number[], minDrop: number): { checks: ClaimCheck[]; est: Record<string, Estimate> } {
  const models = [...new Set(curves.map((c) => c.model))].sort((a, b) => a - b);
  const K = alphas.length - 1;
  const perModel = (which: 'post' | 'pre', k: number): number[] => models.map((m) => {
    const cs = curves.filter((c) => c.model === m);
    return cs.reduce((a, c) => a + c[which][k]!, 0) / cs.length;
  });
  const est: Record<string, Estimate> = {};
  alphas.forEach((a, k) => {
    est[`post ${a}`] = estimate(perModel('post', k));
    est[`pre ${a}`] = estimate(perModel('pre', k));
  });
  const dPost = estimate(perModel('post', K).map((v, i) => v - perModel('post', 0)[i]!), 'post-ReLU change');
  const dPre = estimate(perModel('pre', K).map((v, i) => v - perModel('pre', 0)[i]!), 'pre-activation change');
  const dDiff = estimate(perModel('post', K).map((v, i) => v - perModel('post', 0)[i]! - (perModel('pre', K)[i]! - perModel('pre', 0)[i]!)), 'post minus pre change');
  const paper = 'S003 Fig. 3 (network dissection, Broden, ResNet-50 / modified ResNet-50 / ConvNeXt): interpretable units fall as alpha grows after a ReLU; without an activation function they stay constant (modified ResNet-50) or increase (ConvNeXt).';
  const pct = (e: Estimate): string => `${fmt({ ...e, mean: 100 * e.mean, lo: 100 * e.lo, hi: 100 * e.hi }, 1)} points`;
  const checks: ClaimCheck[] = [
    checkOf(
      {
        claim: 'After a ReLU, rotating the basis away from the neurons (Q^alpha, alpha 0 → 1) lowers the number of interpretable (class-selective) units.',
        paper,
        measured: `selective units of the post-ReLU layer: ${pct(est[`post ${alphas[0]}`]!)} of the units at alpha ${alphas[0]}, ${pct(est[`post ${alphas[K]}`]!)} at alpha ${alphas[K]}; change ${pct(dPost)} (t interval over ${models.length} independent models).`,
        estimates: { postChange: dPost },
        primary: 'postChange',
      },
      judge(dPost, { side: 'below', null: 0, effect: minDrop }),
    ),
    checkOf(
      {
        claim: 'Without an activation function (the same layer read out before its ReLU), interpretability does not fall with rotation.',
        paper,
        measured: `selective units of the pre-activation read-out: ${pct(est[`pre ${alphas[0]}`]!)} at alpha ${alphas[0]}, ${pct(est[`pre ${alphas[K]}`]!)} at alpha ${alphas[K]}; change ${pct(dPre)}.`,
        estimates: { preChange: dPre },
        primary: 'preChange',
      },
      judge(dPre, { side: 'above', null: -minDrop, effect: 0 }),
    ),
    checkOf(
      {
        claim: 'The activation function is what makes the neuron basis special: the post-ReLU layer loses more selective units under rotation than its pre-activation read-out.',
        paper,
        measured: `post-ReLU change minus pre-activation change, paired by model: ${pct(dDiff)}.`,
        estimates: { postMinusPre: dDiff },
        primary: 'postMinusPre',
      },
      judge(dDiff, { side: 'below', null: 0, effect: minDrop }),
    ),
  ];
  return { checks, est };
}

export const e003_6: ExperimentRecipe<E0036Config> = {
  id: 'E003-6',
  title: 'Interpretability under basis rotation (class-selectivity proxy)',
  source: 'S003 Sec. 6, Fig. 3 (proxy of seeds-spec F5)',
  profiles: PROFILES,
  ...recipeConfig(E0036ConfigSchema),
  async run(ctx, c): Promise<RecipeResult> {
    const models = await trainFamily(ctx, c.family, 'E003-6 base');
    const names = models[0]!.graph.nodes.map((n) => n.name);
    const k = names.indexOf(c.layer);
    if (k < 1 || models[0]!.graph.nodes[k]!.op !== 'activation') invalid('config.layer', `must name a hidden activation node of the model (nodes: ${names.join(', ')}), got '${c.layer}'`);
    const preNode = names[k - 1]!;
    const curves = await ctx.cached({ what: 'selectivity-vs-rotation', keys: models.map((m) => m.key), layer: c.layer, alphas: c.alphas, draws: c.draws, inputs: c.inputs, t: c.t, seed: ctx.seed }, async () => {
      const data = await evalData(c.family.data, 'test', c.inputs, models[0]!.graph.input);
      const out: E0036Curve[] = [];
      try {
        for (const [mi, m] of models.entries()) {
          const acts = await captureAt(m, data.x, [preNode, c.layer]);
          const post = acts[c.layer]!;
          const pre = acts[preNode]!;
          for (let d = 0; d < c.draws; d++) {
            const Q = haarOrthogonal(post.cols, createRng(`E003-6:${ctx.seed}:${m.key}:${d}`), { det: 1 });
            out.push({
              model: mi,
              draw: d,
              post: c.alphas.map((a) => selectiveUnits(a === 0 ? post : rotateBasis(post, Q, a), data.labels, c.t).length / post.cols),
              pre: c.alphas.map((a) => selectiveUnits(a === 0 ? pre : rotateBasis(pre, Q, a), data.labels, c.t).length / pre.cols),
            });
          }
          ctx.progress('models rotated', mi + 1, models.length);
        }
      } finally {
        data.x.dispose();
      }
      return out;
    });
    const { checks, est } = decideE0036(curves, c.alphas, c.minDrop);
    const rows: Figure['rows'] = c.alphas.flatMap((a) => [
      { x: a, series: `post-ReLU (${c.layer})`, y: est[`post ${a}`]!.mean, lo: est[`post ${a}`]!.lo, hi: est[`post ${a}`]!.hi },
      { x: a, series: `pre-activation (${preNode})`, y: est[`pre ${a}`]!.mean, lo: est[`pre ${a}`]!.lo, hi: est[`pre ${a}`]!.hi },
    ]);
    const figures: Figure[] = [
      {
        id: 'selectivity-vs-alpha',
        title: 'Class-selective units against the rotation fraction alpha',
        caption: `Fraction of units whose best-class mean exceeds every other class mean by more than ${c.t} pooled standard deviation(s), in the basis rotated by Q^alpha (Q Haar on SO(n), ${c.draws} draw(s) per model); mean over ${models.length} models with 95% t bands, ${c.inputs} test inputs.`,
        spec: lineChart(rows, { x: 'alpha', y: 'selective fraction', band: true }),
        rows,
      },
    ];
    const tables: Table[] = [
      { id: 'selectivity', title: 'Selective fraction per alpha (mean [95% CI] over models)', columns: ['alpha', 'post-ReLU', 'pre-activation'], rows: c.alphas.map((a) => [a, fmt(est[`post ${a}`]!), fmt(est[`pre ${a}`]!)]) },
    ];
    return {
      checks,
      figures,
      tables,
      notes: [
        '[EXT] Class-selectivity proxy of network dissection (seeds-spec F5): Broden concept masks and ImageNet models are out of reach; a unit is interpretable when it is selective for one digit class.',
        `[OPEN] Q^alpha = expm(alpha logm(Q)) from the real Schur form (seeds-spec P7), Q Haar on SO(n); the rotated representation is R (Q^alpha)^T, which keeps the Gram matrix R R^T. The pre-activation read-out is ${preNode}, the dense output that feeds ${c.layer} (the "identical layer read out before its nonlinearity" of F5).`,
        'Deviation: MLPs on MNIST digits instead of ResNet-50 / ConvNeXt on ImageNet; the claim that models without a residual activation have far fewer concept units is not tested here.',
      ],
      data: { layer: c.layer, preNode, alphas: c.alphas, curves, estimates: est },
    };
  },
};
