// E003-5 (S003 Figs. 2 and 5): layer x layer similarity matrices between independently trained
// models with (orthogonal, linear) CKA and G_ReLU-CKA, for an MLP and a residual MLP.
import { compareLayers } from '@basis/align';
import { count, crossCheck, recipeConfig } from '../runner/check.js';
import { heatmap, type Figure, type Table } from '../report.js';
import { center, normalizeColumns, object, type Schema } from '@basis/tensor';
import { STANDARD_TRAIN, STANDARD_DATA, STANDARD_FAMILY, FULL_DATA, FULL_FAMILY, FULL_TRAIN, QUICK_DATA, ModelFamilySchema, QUICK_FAMILY, QUICK_TRAIN, activationNodes, captureAt, estimate, evalData, fmt, pairs, trainFamily, type ModelFamily } from './e003-shared.js';
import { checkOf, judge, judgeAll, pairBootstrap } from './verdict.js';
import type { ClaimCheck, Estimate, ExperimentRecipe, RecipeResult, Profile } from './types.js';

/** Configuration of E003-5. */
export interface E0035Config {
  mlp: ModelFamily;
  /** A residual MLP family (block structure: layers inside blocks against block ends). */
  resmlp: ModelFamily;
  /** Test inputs (the kernels are N x N). */
  inputs: number;
}

/** The schema of {@link E0035Config}: one pair of seeds at least in each family, a residual MLP family (the block-structure claim needs residual blocks). */
export const E0035ConfigSchema: Schema<E0035Config> = crossCheck(object({ mlp: ModelFamilySchema, resmlp: ModelFamilySchema, inputs: count(20, 'inputs') }), (c) => {
  for (const k of ['mlp', 'resmlp'] as const) if (c[k].seeds.length < 2) return { at: [k, 'seeds'], message: `needs at least 2 seeds (one pair), got ${c[k].seeds.length}` };
  if (c.resmlp.model.arch !== 'resmlp') return { at: ['resmlp', 'model', 'arch'], message: `must be 'resmlp' (the block-structure claim needs residual blocks), got '${c.resmlp.model.arch}'` };
  return null;
});

const PROFILES: Record<Profile, E0035Config> = {
  quick: { mlp: QUICK_FAMILY, resmlp: { data: QUICK_DATA, model: { arch: 'resmlp', width: 64, depth: 2 }, train: QUICK_TRAIN, seeds: [0, 1, 2] }, inputs: 500 },
  standard: { mlp: STANDARD_FAMILY, resmlp: { data: STANDARD_DATA, model: { arch: 'resmlp', width: 256, depth: 2 }, train: STANDARD_TRAIN, seeds: [0, 1, 2, 3, 4] }, inputs: 1000 },
  full: { mlp: FULL_FAMILY, resmlp: { data: FULL_DATA, model: { arch: 'resmlp', width: 128, depth: 4 }, train: FULL_TRAIN, seeds: [0, 1, 2, 3, 4, 5] }, inputs: 2000 },
};

/** Both measures on the same scale: unbiased HSIC on centred, column-normalised activations; linear kernel (orthogonal CKA) and max kernel (G_ReLU-CKA). */
const METRICS = ['cka.linear.unbiased', 'grelu.cka'] as const;
const ORTHO = 'cka.linear.unbiased';

/** The layer x layer maps of one model pair, by metric id. */
export interface PairMaps {
  pair: [number, number];
  values: Record<string, number[][]>;
}

async function layerMaps(ctx: Parameters<ExperimentRecipe['run']>[0], f: ModelFamily, inputs: number, label: string): Promise<{ layers: string[]; maps: PairMaps[]; n: number; models: number }> {
  const models = await trainFamily(ctx, f, label);
  const graph = models[0]!.graph;
  const layers = activationNodes(graph);
  const ps = pairs(models.length);
  const maps = await ctx.cached({ what: 'cka-maps', scale: 'unbiased-colnorm', keys: models.map((m) => m.key), inputs, layers, metrics: METRICS }, async () => {
    const data = await evalData(f.data, 'test', inputs, graph.input);
    try {
      const acts = [];
      for (const m of models) {
        const a = await captureAt(m, data.x, layers);
        // the same preprocessing for both measures (G_ReLU-CKA's own): centred, unit-norm columns
        acts.push(Object.fromEntries(Object.entries(a).map(([k, X]) => [k, normalizeColumns(center(X).centred, { zeroPolicy: 'keep-zero' }).normalized])));
      }
      const out: PairMaps[] = [];
      let done = 0;
      for (const [i, j] of ps) {
        const audit = compareLayers(acts[i]!, acts[j]!, [...METRICS]);
        out.push({ pair: [i, j], values: audit.values });
        ctx.progress(`${label}: pairs compared`, ++done, ps.length);
      }
      return out;
    } finally {
      data.x.dispose();
    }
  });
  return { layers, maps, n: ps.length, models: models.length };
}

/** Fraction of rows whose maximum lies on the diagonal. */
function diagonalDominance(m: number[][]): number {
  let hit = 0;
  m.forEach((row, i) => {
    if (row.indexOf(Math.max(...row)) === i) hit++;
  });
  return hit / m.length;
}

function pearson(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let k = 0; k < n; k++) {
    ab += ((a[k] as number) - ma) * ((b[k] as number) - mb);
    aa += ((a[k] as number) - ma) ** 2;
    bb += ((b[k] as number) - mb) ** 2;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

function meanMap(maps: PairMaps[], id: string): number[][] {
  const first = maps[0]!.values[id]!;
  return first.map((row, i) => row.map((_, j) => maps.reduce((s, p) => s + (p.values[id]![i]![j] as number), 0) / maps.length));
}

function heatRows(m: number[][], layers: string[]): Figure['rows'] {
  return m.flatMap((row, i) => row.map((v, j) => ({ a: layers[i]!, b: layers[j]!, value: v })));
}

/** One family's measurements for {@link decideE0035}: its layers, its number of models and the layer x layer maps of each model pair. */
export interface E0035Family {
  layers: string[];
  models: number;
  maps: PairMaps[];
}

/**
 * The verdicts of E003-5 (pure). Both measures are on the same scale (unbiased HSIC, centred and
 * column-normalised data; linear against max kernel), intervals are model-level bootstraps.
 *
 * @example
 * ```ts
 * decideE0035({ layers, models: 5, maps }, { layers: resLayers, models: 5, maps: resMaps });
 * ```
 */
export function decideE0035(mlp: E0035Family, res: E0035Family, minEffect = 0.01): ClaimCheck[] {
  const L = mlp.layers.length;
  const boot = (fam: E0035Family, f: (p: PairMaps) => number, seed: number): Estimate => pairBootstrap(fam.maps.map(f), fam.maps.map((p) => p.pair), fam.models, seed);
  const dom = (id: string, seed: number): Estimate => boot(mlp, (p) => diagonalDominance(p.values[id]!), seed);
  const corr = boot(mlp, (p) => pearson(p.values[ORTHO]!.flat(), p.values['grelu.cka']!.flat()), 3);
  const lastDiff = boot(mlp, (p) => (p.values['grelu.cka']![L - 1]![L - 1] as number) - (p.values[ORTHO]![L - 1]![L - 1] as number), 4);
  const contrastOf = (m: number[][]): number => m.reduce((s, row, i) => s + (row[i] as number), 0) / m.length - (m[0]![L - 1] as number);
  const contrastDiff = boot(mlp, (p) => contrastOf(p.values['grelu.cka']!) - contrastOf(p.values[ORTHO]!), 5);
  // residual block structure: inside-block layers (blocks.b.act) against block ends (blocks.b.out)
  const inside = res.layers.map((l, k) => [l, k] as const).filter(([l]) => /\.act$/.test(l) && l.startsWith('blocks.'));
  const ends = res.layers.map((l, k) => [l, k] as const).filter(([l]) => /\.out$/.test(l));
  const blockGap = (id: string, seed: number): Estimate =>
    boot(
      res,
      (p) => {
        const m = p.values[id]!;
        const mi = inside.reduce((s, [, k]) => s + (m[k]![k] as number), 0) / Math.max(1, inside.length);
        const me = ends.reduce((s, [, k]) => s + (m[k]![k] as number), 0) / Math.max(1, ends.length);
        return mi - me;
      },
      seed,
    );
  const blockWarn = inside.length === 0 || ends.length === 0 ? ['the residual family has no inside-block or no block-end layers'] : [];
  const gaps = { cka: blockGap(ORTHO, 6), grelu: blockGap('grelu.cka', 7) };
  const domG = dom('grelu.cka', 1);
  const domC = dom(ORTHO, 2);
  const paper2 = 'Fig. 2 (ResNet20s, 16 pairs) and Fig. 5 (Myrtle CNNs, 16 pairs): G_ReLU-CKA keeps the trends of CKA (same-depth layers most similar, early layers highly similar, block structure visible), with a less pronounced early-vs-late contrast and later layers less similar between runs.';
  return [
    checkOf(
      {
        claim: 'G_ReLU-CKA keeps the basic trend of CKA: layers at the same depth are the most similar, and the two matrices agree in shape.',
        paper: paper2,
        measured: `rows with the maximum on the diagonal: G_ReLU-CKA ${fmt(domG)}, CKA ${fmt(domC)}; Pearson correlation of the two matrices ${fmt(corr)}.`,
        estimates: { diagonalDominanceGrelu: domG, diagonalDominanceCka: domC, correlation: corr },
        primary: 'diagonalDominanceGrelu',
      },
      judgeAll([judge(domG, { side: 'above', null: 0.5, effect: 0 }), judge(corr, { side: 'above', null: 0.5, effect: 0 })], ['diagonal dominance', 'correlation']),
    ),
    checkOf(
      {
        claim: 'Later layers come out less similar between runs under G_ReLU-CKA than under CKA (same scale: both unbiased, same preprocessing).',
        paper: paper2,
        measured: `G_ReLU-CKA minus CKA at the last hidden layer ${mlp.layers[L - 1]}: ${fmt(lastDiff)}.`,
        estimates: { difference: lastDiff },
        primary: 'difference',
      },
      judge(lastDiff, { side: 'below', null: 0, effect: minEffect }),
    ),
    checkOf(
      {
        claim: 'The early-vs-late contrast is less pronounced under G_ReLU-CKA.',
        paper: paper2,
        measured: `contrast = mean diagonal − similarity(first layer of A, last layer of B); G_ReLU-CKA minus CKA: ${fmt(contrastDiff)}.`,
        estimates: { difference: contrastDiff },
        primary: 'difference',
      },
      judge(contrastDiff, { side: 'below', null: 0, effect: minEffect }),
    ),
    checkOf(
      {
        claim: 'Residual block structure is visible: layers inside residual blocks are less similar than layers at block ends (both measures).',
        paper: paper2,
        measured: `inside-block minus block-end diagonal similarity (ResMLP): CKA ${fmt(gaps.cka)}, G_ReLU-CKA ${fmt(gaps.grelu)}.`,
        estimates: { gapCka: gaps.cka, gapGrelu: gaps.grelu },
        primary: 'gapGrelu',
      },
      judgeAll([judge(gaps.cka, { side: 'below', null: 0, effect: minEffect }, blockWarn), judge(gaps.grelu, { side: 'below', null: 0, effect: minEffect }, blockWarn)], ['CKA', 'G_ReLU-CKA']),
    ),
  ];
}

export const e003_5: ExperimentRecipe<E0035Config> = {
  id: 'E003-5',
  title: 'G_ReLU-CKA vs CKA layer-by-layer similarity matrices',
  source: 'S003 Figs. 2 and 5',
  profiles: PROFILES,
  ...recipeConfig(E0035ConfigSchema),
  async run(ctx, c): Promise<RecipeResult> {
    const mlp = await layerMaps(ctx, c.mlp, c.inputs, 'E003-5 mlp');
    const res = await layerMaps(ctx, c.resmlp, c.inputs, 'E003-5 resmlp');
    const checks = decideE0035(mlp, res);
    const figures: Figure[] = [];
    for (const [fam, name] of [[mlp, 'mlp'], [res, 'resmlp']] as const) {
      for (const id of METRICS) {
        const rows = heatRows(meanMap(fam.maps, id), fam.layers);
        figures.push({
          id: `${name}-${id.replace(/\./g, '-')}`,
          title: `${name === 'mlp' ? 'MLP' : 'Residual MLP'}: ${id === ORTHO ? 'CKA (unbiased, column-normalised)' : 'G_ReLU-CKA'}, layer of model A x layer of model B`,
          caption: `Mean over ${fam.n} pairs on ${c.inputs} test inputs.${name === 'resmlp' ? ' blocks.b.act are inside residual blocks, blocks.b.out at block ends.' : ''}`,
          spec: heatmap(rows, { a: 'model A layer', b: 'model B layer', order: fam.layers }),
          rows,
        });
      }
    }
    const tables: Table[] = [
      {
        id: 'diagonals',
        title: 'Same-layer similarity between runs (mean over pairs)',
        columns: ['family', 'layer', 'CKA', 'G_ReLU-CKA'],
        rows: [mlp, res].flatMap((fam, fi) =>
          fam.layers.map((l, k) => [fi === 0 ? 'mlp' : 'resmlp', l, ...METRICS.map((id) => fmt(estimate(fam.maps.map((p) => p.values[id]![k]![k] as number))))]),
        ),
      },
    ];
    return {
      checks,
      figures,
      tables,
      notes: [
        'Both measures are computed on the same scale: the unbiased HSIC_1 on centred, column-normalised activations, with the linear kernel (orthogonal CKA) or the max kernel (G_ReLU-CKA, seeds-spec M9; not PSD, values reported raw). Earlier reports compared biased linear CKA on raw data with the unbiased max-kernel measure, whose scales differ.',
        '[OPEN] "Early-vs-late contrast" read as the mean diagonal similarity minus the similarity between the first layer of A and the last layer of B.',
        'Deviation: MLPs and residual MLPs instead of Myrtle CNNs and ResNet20s.',
      ],
      data: { mlp, resmlp: res },
    };
  },
};
