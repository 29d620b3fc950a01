// E003-3 (S003 App. D.3, Fig. 6): stitching penalties of MLPs whose ReLU is replaced by a
// LeakyReLU of varying negative slope. The intertwiner group is G_ReLU for every slope below 1 and
// all of GL_n at slope 1 (the layer is linear).
import { finite, list, object, text, type Schema } from '@basis/tensor';
import { crossCheck, invalid, recipeConfig } from '../runner/check.js';
import { lineChart, type Figure, type Table } from '../report.js';
import { StitchSettingsSchema, penaltiesOf, stitchAll, type StitchCell, type StitchSettings } from './e003-2.js';
import { STANDARD_TRAIN, STANDARD_DATA, FULL_DATA, FULL_TRAIN, ModelFamilySchema, QUICK_DATA, QUICK_TRAIN, fmt, pairs, trainFamily, type ModelFamily } from './e003-shared.js';
import { checkOf, judge, judgeAll, pairBootstrap, type Judgement } from './verdict.js';
import type { ClaimCheck, Estimate, ExperimentRecipe, RecipeResult, Profile } from './types.js';

/** Configuration of E003-3. */
export interface E0033Config {
  /** The family at slope 0 (plain ReLU); the others replace its activation by leaky_relu(slope). */
  family: ModelFamily;
  slopes: number[];
  /** Stitching layer (a hidden activation node). */
  layer: string;
  stitching: StitchSettings;
  /** "Roughly flat": the G_ReLU penalty means below slope 1 span at most this. */
  flatTol: number;
}

/**
 * The schema of {@link E0033Config}: one pair of seeds at least, slopes in [0, 1] including 1 and
 * two below it, affine and grelu among the stitching classes, a ReLU family (the slopes set the
 * leaky_relu activations).
 */
export const E0033ConfigSchema: Schema<E0033Config> = crossCheck(
  object({
    family: ModelFamilySchema,
    slopes: list(finite({ ge: 0, le: 1 }), 'leaky_relu slopes in [0, 1]', { min: 1, emptyMessage: 'must not be empty' }),
    layer: text('a hidden activation node name such as layers.3'),
    stitching: StitchSettingsSchema,
    flatTol: finite({ gt: 0 }),
  }),
  (c) => {
    if (c.family.seeds.length < 2) return { at: ['family', 'seeds'], message: `needs at least 2 seeds (one pair), got ${c.family.seeds.length}` };
    if (!c.slopes.includes(1)) return { at: ['slopes'], message: 'must include 1 (the linear case the claim contrasts)' };
    const below = c.slopes.filter((s) => s < 1).length;
    if (below < 2) return { at: ['slopes'], message: `needs at least 2 slopes below 1, got ${below}` };
    for (const k of ['affine', 'grelu']) if (!c.stitching.classes.includes(k)) return { at: ['stitching', 'classes'], message: `must include '${k}'` };
    const activation = c.family.model.activation;
    if (activation !== undefined && activation !== 'relu') return { at: ['family', 'model', 'activation'], message: 'must be relu (or unset): the slopes set the leaky_relu activations' };
    return null;
  },
);

const PROFILES: Record<Profile, E0033Config> = {
  quick: { family: { data: QUICK_DATA, model: { arch: 'mlp', width: 64, depth: 3 }, train: QUICK_TRAIN, seeds: [0, 1, 2] }, slopes: [0, 0.1, 0.6, 1], layer: 'layers.3', stitching: { classes: ['affine', 'grelu'], epochs: 1, trainInputs: 2000, testInputs: 1000 }, flatTol: 0.05 },
  standard: { family: { data: STANDARD_DATA, model: { arch: 'mlp', width: 256, depth: 3 }, train: STANDARD_TRAIN, seeds: [0, 1, 2, 3, 4] }, slopes: [0, 0.1, 0.6, 1], layer: 'layers.3', stitching: { classes: ['affine', 'grelu'], epochs: 2, trainInputs: 4000, testInputs: 2000 }, flatTol: 0.05 },
  full: { family: { data: FULL_DATA, model: { arch: 'mlp', width: 256, depth: 4 }, train: FULL_TRAIN, seeds: [0, 1, 2, 3, 4, 5] }, slopes: [0, 0.01, 0.1, 0.3, 0.6, 0.9, 1], layer: 'layers.3', stitching: { classes: ['affine', 'grelu'], epochs: 5, trainInputs: 20000, testInputs: 5000 }, flatTol: 0.05 },
};

/** The family with its activation at `slope` (0 = ReLU, so it shares models with the ReLU recipes). */
function atSlope(f: ModelFamily, slope: number): ModelFamily {
  return slope === 0 ? f : { ...f, model: { ...f.model, activation: 'leaky_relu', slope } };
}

/**
 * The verdicts of E003-3 (pure). Pairs of seeds are the same at every slope, so per-pair spreads
 * and differences across slopes are paired; intervals are model-level bootstraps.
 *
 * @example
 * ```ts
 * decideE0033(cells, [0, 0.1, 0.6, 1], 'layers.3', 5, 0.05);
 * ```
 */
export function decideE0033(cells: Record<string, StitchCell[]>, slopes: readonly number[], layer: string, models: number, flatTol: number): { checks: ClaimCheck[]; est: Record<string, Estimate> } {
  const ps = pairs(models);
  const pen = (s: number, kind: string): number[] => penaltiesOf(cells[String(s)]!, layer, kind);
  let seed = 0;
  const boot = (v: number[]): Estimate => pairBootstrap(v, ps, models, ++seed);
  const est: Record<string, Estimate> = {};
  for (const s of slopes) for (const kind of ['affine', 'grelu']) est[`${kind} ${s}`] = boot(pen(s, kind));
  const below = slopes.filter((s) => s < 1);
  const spread = boot(ps.map((_, p) => Math.max(...below.map((s) => pen(s, 'grelu')[p]!)) - Math.min(...below.map((s) => pen(s, 'grelu')[p]!))));
  const jump = boot(ps.map((_, p) => pen(1, 'grelu')[p]! - below.reduce((a, s) => a + pen(s, 'grelu')[p]!, 0) / below.length));
  const one = est['grelu 1']!;
  const same = judge(jump, { side: 'within', lo: -flatTol, hi: flatTol });
  const jChange: Judgement = {
    verdict: same.verdict === 'held' ? 'not held' : same.verdict === 'not held' ? 'held' : 'inconclusive',
    criterion: `held when the 95% interval of (penalty at slope 1 − mean penalty below 1) lies entirely outside ±${flatTol}, not held when it lies within ±${flatTol}`,
    change: same.verdict === 'inconclusive' ? `a narrower interval (now [${jump.lo.toFixed(4)}, ${jump.hi.toFixed(4)}]): outside ±${flatTol} → held, inside → not held` : `the interval [${jump.lo.toFixed(4)}, ${jump.hi.toFixed(4)}] crossing ±${flatTol}`,
    warnings: [],
  };
  const paper = 'S003 Fig. 6 (App. D.3, details missing): similar stitching penalties for all slopes up to but not including 1; at slope 1 the layer is linear and the intertwiner group is GL_n.';
  const checks: ClaimCheck[] = [
    checkOf(
      {
        claim: 'The G_ReLU stitching penalty is roughly the same for every negative slope below 1.',
        paper,
        measured: `G_ReLU penalty at ${layer}: ${below.map((s) => `slope ${s}: ${fmt(est[`grelu ${s}`]!)}`).join('; ')}; per seed pair, max − min over the slopes below 1: ${fmt(spread, 4)}.`,
        estimates: { spread, ...Object.fromEntries(below.map((s) => [`grelu ${s}`, est[`grelu ${s}`]!])) },
        primary: 'spread',
      },
      judge(spread, { side: 'below', null: flatTol, effect: 0 }),
    ),
    checkOf(
      {
        claim: 'The penalty changes at slope 1, where the network is linear and its symmetry group is all of GL_n.',
        paper,
        measured: `G_ReLU penalty at slope 1: ${fmt(one)}; per seed pair, slope 1 minus the mean below 1: ${fmt(jump, 4)}.`,
        estimates: { slope1: one, jump },
        primary: 'jump',
      },
      jChange,
    ),
    checkOf(
      {
        claim: 'Affine stitching stays at about zero penalty for every slope.',
        paper: 'seeds-spec E003-3: affine stitching should stay about 0.',
        measured: `affine penalty: ${slopes.map((s) => `slope ${s}: ${fmt(est[`affine ${s}`]!)}`).join('; ')}.`,
        estimates: Object.fromEntries(slopes.map((s) => [`affine ${s}`, est[`affine ${s}`]!])),
        primary: `affine ${slopes[0]}`,
      },
      judgeAll(slopes.map((s) => judge(est[`affine ${s}`]!, { side: 'below', null: 0.02, effect: 0 })), slopes.map((s) => `slope ${s}`)),
    ),
  ];
  return { checks, est };
}

export const e003_3: ExperimentRecipe<E0033Config> = {
  id: 'E003-3',
  title: 'LeakyReLU slope sweep: stitching penalties up to slope 1',
  source: 'S003 App. D.3, Fig. 6',
  profiles: PROFILES,
  ...recipeConfig(E0033ConfigSchema),
  async run(ctx, c): Promise<RecipeResult> {
    const slopes = [...c.slopes].sort((a, b) => a - b);
    const cells: Record<string, StitchCell[]> = {};
    for (const [k, s] of slopes.entries()) {
      const f = atSlope(c.family, s);
      const models = await trainFamily(ctx, f, `slope ${s}`);
      if (!models[0]!.graph.nodes.some((n) => n.name === c.layer && n.op === 'activation')) invalid('config.layer', `must name a hidden activation node of the MLP, got '${c.layer}'`);
      cells[String(s)] = await stitchAll(ctx, models, pairs(models.length), [c.layer], c.stitching, f.data, ctx.seed);
      ctx.progress('slopes', k + 1, slopes.length);
    }
    const { checks, est } = decideE0033(cells, slopes, c.layer, c.family.seeds.length, c.flatTol);
    const rows: Figure['rows'] = ['affine', 'grelu'].flatMap((kind) => slopes.map((s) => ({ x: s, series: kind, y: est[`${kind} ${s}`]!.mean, lo: est[`${kind} ${s}`]!.lo, hi: est[`${kind} ${s}`]!.hi })));
    const figures: Figure[] = [
      { id: 'penalty-vs-slope', title: `Stitching penalty at ${c.layer} against the LeakyReLU negative slope`, caption: `Mean over ${pairs(c.family.seeds.length).length} pairs per slope with 95% t bands; slope 0 is ReLU, slope 1 the identity.`, spec: lineChart(rows, { x: 'negative slope', y: 'stitching penalty', band: true }), rows },
    ];
    const tables: Table[] = [
      { id: 'penalties', title: 'Stitching penalties by slope', columns: ['slope', 'affine', 'G_ReLU'], rows: slopes.map((s) => [s, fmt(est[`affine ${s}`]!), fmt(est[`grelu ${s}`]!)]) },
    ];
    return {
      checks,
      figures,
      tables,
      notes: [
        '[OPEN] Stitching as in E003-2 (Sinkhorn-relaxed G_ReLU, least-squares-initialised affine), at one hidden activation layer.',
        'Deviation: MLPs only; the ResMLP / ResNet20 half of Fig. 6 (architecture-dependent stitching of residual networks) is not run.',
      ],
      data: { slopes, layer: c.layer, cells },
    };
  },
};
