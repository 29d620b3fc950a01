// V001-2 (S001 Sec. 3; seeds-spec D5-D6): a degeneracy census of MNIST MLPs against width and
// training time: activation and Jacobian Gram spectra, free-direction counts at several noise
// scales eps, exact and approximate synchronised blocks (dead and always-on units included), sum s_a².
import { approximateSyncBlocks, denseChain, denseGrams, firingPatterns, forwardDense, freeDirections } from '@basis/degeneracy';
import { createRng, eigh, finite, integer, list, object, type Schema } from '@basis/tensor';
import { DataSpecSchema, TrainSettingsSchema, buildModel, initParams, toFloat64, type ModelSpec } from '@basis/zoo';
import { between, count, crossCheck, listOfAtLeast, recipeConfig } from '../runner/check.js';
import { loadData } from '../runner/data.js';
import { barChart, lineChart, type Figure, type Table } from '../report.js';
import { STANDARD_TRAIN, STANDARD_DATA, QUICK_DATA, QUICK_TRAIN, FULL_DATA, FULL_TRAIN, difference, estimate, familyJob, fmt, inputMatrix } from './e003-shared.js';
import { checkOf, judge } from './verdict.js';
import type { ClaimCheck, Estimate, ExperimentRecipe, RecipeResult, Profile } from './types.js';

/** Configuration of V001-2. */
export interface V0012Config {
  data: typeof QUICK_DATA;
  /** Hidden widths of the MLPs (all of depth `depth`). */
  widths: number[];
  depth: number;
  train: typeof QUICK_TRAIN;
  /** Training lengths (epochs) of the census; 0 = at initialisation. */
  epochs: number[];
  seeds: number[];
  /** Noise scales eps (absolute, on the Gram eigenvalues). */
  eps: number[];
  /** Inputs D (training split). */
  inputs: number;
  /** Approximate synchronisation threshold (normalised Hamming diameter). */
  tau: number;
  /** The eps claim: the count must change by more than this fraction of the units over the eps grid. */
  minChange: number;
}

/** The schema of {@link V0012Config}: training lengths including 0 (initialisation) and a trained one. */
export const V0012ConfigSchema: Schema<V0012Config> = crossCheck(
  object({
    data: DataSpecSchema,
    widths: listOfAtLeast(count(2, 'units'), 'widths (integers >= 2)', 2, 'widths'),
    depth: count(1, 'hidden layer'),
    train: TrainSettingsSchema,
    epochs: list(count(0, 'epochs'), 'training lengths (epochs)', { min: 1, emptyMessage: 'must not be empty' }),
    seeds: listOfAtLeast(integer(0), 'seeds (integers >= 0)', 2, 'seeds'),
    eps: listOfAtLeast(finite({ gt: 0 }), 'noise scales (numbers > 0)', 2, 'noise scales'),
    inputs: count(20, 'inputs'),
    tau: finite({ ge: 0, lt: 1 }),
    minChange: between(0, 1),
  }),
  (c) => {
    if (!c.epochs.includes(0)) return { at: ['epochs'], message: 'must include 0 (the census at initialisation)' };
    if (Math.max(...c.epochs) < 1) return { at: ['epochs'], message: 'must include a trained length >= 1' };
    return null;
  },
);

const PROFILES: Record<Profile, V0012Config> = {
  quick: { data: QUICK_DATA, widths: [32, 64], depth: 3, train: QUICK_TRAIN, epochs: [0, 1, 2], seeds: [0, 1, 2], eps: [1e-6, 1e-4, 1e-2], inputs: 300, tau: 0.01, minChange: 0.05 },
  standard: { data: STANDARD_DATA, widths: [64, 128, 256], depth: 3, train: STANDARD_TRAIN, epochs: [0, 1, 20], seeds: [0, 1, 2, 3, 4], eps: [1e-6, 1e-4, 1e-2], inputs: 1000, tau: 0.01, minChange: 0.05 },
  full: { data: FULL_DATA, widths: [32, 64, 128, 256], depth: 3, train: FULL_TRAIN, epochs: [0, 1, 5, 10], seeds: [0, 1, 2, 3], eps: [1e-8, 1e-6, 1e-4, 1e-2], inputs: 2000, tau: 0.01, minChange: 0.05 },
};

/** Census of one hidden layer. */
interface LayerCensus {
  layer: string;
  d: number;
  spectrumG: number[];
  spectrumK: number[];
  /** Per eps: low-variance directions, free directions from activations, zero-Jacobian directions. */
  counts: Array<{ eps: number; lowVariance: number; fromActivations: number; lowJacobian: number | null }>;
  dead: number;
  alwaysOn: number;
  /** Exact synchronised blocks of more than one unit (not dead, not always-on). */
  mixedBlocks: number;
  sumRankSquared: number;
  excess: number;
  /** Approximate blocks (tau) of more than one unit. */
  approxBlocks: number;
}

interface ModelCensus {
  width: number;
  epochs: number;
  seed: number;
  layers: LayerCensus[];
}

/** The part of a model's census that {@link decideV0012} reads: per hidden layer, its width and the low-variance count at each eps. */
export interface CensusCounts {
  width: number;
  epochs: number;
  seed: number;
  layers: Array<{ d: number; counts: Array<{ lowVariance: number }> }>;
}

/**
 * The verdicts of V001-2 (pure): paired differences over seeds (t intervals). The eps claim tests
 * how much the free-direction count changes over the eps grid (as a fraction of the units), which
 * can come out either way (the count is monotone in eps by construction, so "non-decreasing" could
 * not fail).
 *
 * @example
 * ```ts
 * decideV0012(census, { widths: [32, 64], epochs: [0, 2], seeds: [0, 1, 2], eps: [1e-6, 1e-4, 1e-2], minChange: 0.05 });
 * ```
 */
export function decideV0012(census: readonly CensusCounts[], o: { widths: readonly number[]; epochs: readonly number[]; seeds: readonly number[]; eps: readonly number[]; minChange: number }): ClaimCheck[] {
  const last = Math.max(...o.epochs);
  const wMin = Math.min(...o.widths);
  const wMax = Math.max(...o.widths);
  const ei = Math.floor((o.eps.length - 1) / 2);
  const midEps = o.eps[ei]!;
  const lowVarAt = (m: CensusCounts, k: number): number => m.layers.reduce((a, l) => a + l.counts[k]!.lowVariance, 0);
  const lowVar = (m: CensusCounts): number => lowVarAt(m, ei);
  const units = (m: CensusCounts): number => m.layers.reduce((a, l) => a + l.d, 0);
  const fracLow = (m: CensusCounts): number => lowVar(m) / units(m);
  const pick = (w: number, e: number): CensusCounts[] => o.seeds.map((s) => census.find((m) => m.width === w && m.epochs === e && m.seed === s)!);
  const dWidth = difference(pick(wMax, last).map(lowVar), pick(wMin, last).map(lowVar), 'low-variance directions, widest - narrowest');
  const dWidthFrac = difference(pick(wMax, last).map(fracLow), pick(wMin, last).map(fracLow), 'fraction, widest - narrowest');
  const dTrain = difference(pick(wMax, last).map(lowVar), pick(wMax, 0).map(lowVar), 'low-variance directions, trained - init');
  const kTop = o.eps.length - 1;
  const epsChange = estimate(pick(wMax, last).map((m) => (lowVarAt(m, kTop) - lowVarAt(m, 0)) / units(m)), 'change of the count over the eps grid');
  return [
    checkOf(
      {
        claim: `Wider MLPs have more low-variance activation directions (lambda(G) < eps = ${midEps}), each giving d^{l+1} free weight directions.`,
        paper: "S001 Sec. 3.1: linear dependence among a layer's activations on the data gives free directions; no experiments in the seed (seeds-spec 2.2 [EXT]).",
        measured: `summed over hidden layers after ${last} epoch(s): width ${wMax} minus width ${wMin}: ${fmt(dWidth, 1)} directions; as a fraction of the units ${fmt(dWidthFrac)}.`,
        estimates: { difference: dWidth, fractionDifference: dWidthFrac },
        primary: 'difference',
      },
      judge(dWidth, { side: 'above', null: 0, effect: 1 }),
    ),
    checkOf(
      {
        claim: `Training creates activation degeneracy: after ${last} epoch(s) the width-${wMax} MLPs have more low-variance directions than at initialisation.`,
        paper: '',
        measured: `trained minus initial low-variance directions (eps ${midEps}): ${fmt(dTrain, 1)}.`,
        estimates: { difference: dTrain },
        primary: 'difference',
      },
      judge(dTrain, { side: 'above', null: 0, effect: 1 }),
    ),
    checkOf(
      {
        claim: `The free-direction count depends on the noise scale: from eps = ${o.eps[0]} to ${o.eps[kTop]} it changes by more than ${o.minChange} of the units (no clean spectral gap separates free from non-free directions).`,
        paper: 'S001 Sec. 2.2.2 / 3.1: directions with variance below eps count as free at scale eps; how to choose eps is left open.',
        measured: `width ${wMax} after ${last} epoch(s): (count at eps ${o.eps[kTop]} − count at eps ${o.eps[0]}) / units = ${fmt(epsChange)}.`,
        estimates: { epsChange },
        primary: 'epsChange',
      },
      judge(epsChange, { side: 'above', null: o.minChange, effect: 0 }),
    ),
  ];
}

export const v001_2: ExperimentRecipe<V0012Config> = {
  id: 'V001-2',
  title: 'Degeneracy census of MNIST MLPs against width and training time',
  source: 'S001 Sec. 3 (low-rank activations, Jacobians, synchronised nonlinearities); seeds-spec D5-D6',
  profiles: PROFILES,
  ...recipeConfig(V0012ConfigSchema),
  async run(ctx, c): Promise<RecipeResult> {
    const eps = [...c.eps].sort((a, b) => a - b);
    const trained = c.epochs.filter((e) => e > 0);
    const specs = c.widths.map((w): ModelSpec => ({ arch: 'mlp', width: w, depth: c.depth }));
    const jobs = specs.flatMap((model) => trained.flatMap((e) => c.seeds.map((s) => familyJob({ data: c.data, model, train: { ...c.train, epochs: e }, seeds: [] }, ctx.seed + s, `mlp ${String(model.width)} ${e} epoch(s) seed ${ctx.seed + s}`))));
    const models = await ctx.models(jobs);
    const { train } = await loadData(c.data);
    const census = await ctx.cached({ what: 'census', keys: models.map((m) => m.key), eps, inputs: c.inputs, tau: c.tau, seed: ctx.seed }, async () => {
      const graph0 = buildModel(specs[0]!, { input: train.shape, classes: train.numClasses });
      const X = await inputMatrix(c.data, 'train', c.inputs, graph0.input);
      const out: ModelCensus[] = [];
      const entries: Array<{ width: number; epochs: number; seed: number; params: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>; spec: ModelSpec }> = [];
      for (const [wi, spec] of specs.entries()) {
        const graph = buildModel(spec, { input: train.shape, classes: train.numClasses });
        for (const s of c.seeds) entries.push({ width: c.widths[wi]!, epochs: 0, seed: ctx.seed + s, spec, params: toFloat64(initParams(graph, createRng(ctx.seed + s).fork('init'))) });
      }
      let k = 0;
      for (const [wi] of specs.entries()) for (const e of trained) for (const s of c.seeds) entries.push({ width: c.widths[wi]!, epochs: e, seed: ctx.seed + s, spec: specs[wi]!, params: models[k++]!.params });
      for (const [idx, en] of entries.entries()) {
        const graph = buildModel(en.spec, { input: train.shape, classes: train.numClasses });
        const layers = denseChain(graph, en.params);
        const fw = forwardDense(layers, X);
        // Grams from the first hidden layer on (the chain without its first layer, fed the first
        // hidden activations): the same G and K for every hidden layer, without the 784-wide input
        const g = denseGrams(layers.slice(1), fw.post[1]!);
        const lc: LayerCensus[] = [];
        for (let l = 1; l < layers.length; l++) {
          // feature layer l = the output of dense layer l-1 (a hidden ReLU layer)
          const spectrumG = Array.from(eigh(g.G[l - 1]!, { vectors: false }).values);
          const spectrumK = Array.from(eigh(g.K[l - 1]!, { vectors: false }).values);
          const P = fw.pre[l - 1]!;
          const fp = firingPatterns(P);
          const approx = approximateSyncBlocks(P, { tau: c.tau });
          lc.push({
            layer: layers[l - 1]!.activationNode ?? layers[l - 1]!.name,
            d: P.cols,
            spectrumG,
            spectrumK,
            counts: eps.map((e) => {
              const f = freeDirections({ dim: P.cols, spectra: { G: spectrumG, K: spectrumK } }, e);
              return { eps: e, lowVariance: f.lowVarianceDirections, fromActivations: f.fromActivations, lowJacobian: f.lowJacobianDirections };
            }),
            dead: fp.dead.length,
            alwaysOn: fp.alwaysOn.length,
            mixedBlocks: fp.blocks.filter((b) => b.kind === 'mixed' && b.units.length > 1).length,
            sumRankSquared: fp.sumRankSquared,
            excess: fp.excess,
            approxBlocks: approx.filter((b) => b.units.length > 1).length,
          });
        }
        out.push({ width: en.width, epochs: en.epochs, seed: en.seed, layers: lc });
        ctx.progress('models censused', idx + 1, entries.length);
      }
      return out;
    });
    const last = Math.max(...c.epochs);
    const midEps = eps[Math.floor((eps.length - 1) / 2)]!;
    const pick = (w: number, e: number): ModelCensus[] => c.seeds.map((s) => census.find((m) => m.width === w && m.epochs === e && m.seed === ctx.seed + s)!);
    const checks = decideV0012(census, { widths: c.widths, epochs: c.epochs, seeds: c.seeds.map((s) => ctx.seed + s), eps, minChange: c.minChange });
    const ei = eps.indexOf(midEps);
    const lowVar = (m: ModelCensus): number => m.layers.reduce((a, l) => a + l.counts[ei]!.lowVariance, 0);
    const est: Record<string, Estimate> = {};
    for (const w of c.widths) for (const e of c.epochs) {
      const ms = pick(w, e);
      est[`low-variance w${w} e${e}`] = estimate(ms.map(lowVar));
      est[`dead w${w} e${e}`] = estimate(ms.map((m) => m.layers.reduce((a, l) => a + l.dead, 0)));
      est[`always-on w${w} e${e}`] = estimate(ms.map((m) => m.layers.reduce((a, l) => a + l.alwaysOn, 0)));
      est[`mixed blocks w${w} e${e}`] = estimate(ms.map((m) => m.layers.reduce((a, l) => a + l.mixedBlocks, 0)));
      est[`approx blocks w${w} e${e}`] = estimate(ms.map((m) => m.layers.reduce((a, l) => a + l.approxBlocks, 0)));
      est[`excess w${w} e${e}`] = estimate(ms.map((m) => m.layers.reduce((a, l) => a + l.excess, 0)));
    }
    const rows: Figure['rows'] = c.epochs.flatMap((e) => c.widths.map((w) => ({ x: w, series: `${e} epoch(s)`, y: est[`low-variance w${w} e${e}`]!.mean, lo: est[`low-variance w${w} e${e}`]!.lo, hi: est[`low-variance w${w} e${e}`]!.hi })));
    const blockRows: Figure['rows'] = c.widths.flatMap((w) => [
      { group: `w${w}`, series: 'dead units', value: est[`dead w${w} e${last}`]!.mean },
      { group: `w${w}`, series: 'always-on units', value: est[`always-on w${w} e${last}`]!.mean },
      { group: `w${w}`, series: 'exact mixed blocks (>1 unit)', value: est[`mixed blocks w${w} e${last}`]!.mean },
      { group: `w${w}`, series: `approximate blocks (tau ${c.tau})`, value: est[`approx blocks w${w} e${last}`]!.mean },
    ]);
    const figures: Figure[] = [
      { id: 'low-variance-vs-width', title: `Low-variance activation directions (lambda(G) < ${midEps}) against width`, caption: `Summed over the ${c.depth} hidden layers; mean over ${c.seeds.length} seeds with 95% t bands, per training length.`, spec: lineChart(rows, { x: 'width', y: 'directions', band: true }), rows },
      { id: 'synchronisation', title: `Synchronised units after ${last} epoch(s)`, caption: 'Summed over hidden layers; mean over seeds.', spec: barChart(blockRows, { x: 'width', y: 'count' }), rows: blockRows },
    ];
    const tables: Table[] = [
      {
        id: 'census',
        title: 'Census (sums over hidden layers; mean over seeds)',
        columns: ['width', 'epochs', ...eps.map((e) => `#lambda(G) < ${e}`), 'dead', 'always-on', 'mixed blocks', 'approx blocks', 'sum s_a² - d'],
        rows: c.widths.flatMap((w) => c.epochs.map((e) => {
          const ms = pick(w, e);
          return [w, e, ...eps.map((_, k) => estimate(ms.map((m) => m.layers.reduce((a, l) => a + l.counts[k]!.lowVariance, 0))).mean), est[`dead w${w} e${e}`]!.mean, est[`always-on w${w} e${e}`]!.mean, est[`mixed blocks w${w} e${e}`]!.mean, est[`approx blocks w${w} e${e}`]!.mean, est[`excess w${w} e${e}`]!.mean];
        })),
      },
    ];
    return {
      checks,
      figures,
      tables,
      notes: [
        `[OPEN] eps is absolute on the eigenvalues of the uncentred Gram G = (1/n) F^T F (S001 leaves eps open); grid ${eps.join(', ')}; the claims use ${midEps}.`,
        `[OPEN] Approximate synchronisation: agglomerative blocks with normalised-Hamming diameter <= ${c.tau} (seeds-spec D6).`,
        'Training length 0 is the seeded initialisation of each width (the stream the trainer uses).',
      ],
      data: { eps, census: census.map((m) => ({ ...m, layers: m.layers.map((l) => ({ ...l, spectrumG: l.spectrumG.slice(0, 8), spectrumK: l.spectrumK.slice(0, 8) })) })), estimates: est },
    };
  },
};
