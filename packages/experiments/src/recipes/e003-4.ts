// E003-4 (S003 Table 2, Fig. 9): G_ReLU-Procrustes against orthogonal Procrustes similarity
// between independently trained models, per hidden ReLU layer, with CIs over pairs.
import { center, crossprod, frobeniusNorm, normalizeColumns, object, svd, type Matrix, type Schema } from '@basis/tensor';
import { metric } from '@basis/align';
import { lineChart, type Figure, type Table } from '../report.js';
import { count, crossCheck, recipeConfig } from '../runner/check.js';
import { STANDARD_FAMILY, FULL_FAMILY, ModelFamilySchema, QUICK_FAMILY, activationNodes, captureAt, evalData, fmt, pairs, trainFamily, type ModelFamily } from './e003-shared.js';
import { checkOf, judge, judgeAll, judgeFlag, pairBootstrap, type Judgement } from './verdict.js';
import type { ClaimCheck, Estimate, ExperimentRecipe, RecipeResult, Profile } from './types.js';

/** Configuration of E003-4. */
export interface E0034Config {
  family: ModelFamily;
  /** Test inputs the activations are computed on. */
  inputs: number;
}

/** The schema of {@link E0034Config}: a model family of at least two seeds (one pair), at least 10 inputs. */
export const E0034ConfigSchema: Schema<E0034Config> = crossCheck(object({ family: ModelFamilySchema, inputs: count(10, 'inputs') }), (c) =>
  c.family.seeds.length >= 2 ? null : { at: ['family', 'seeds'], message: `needs at least 2 seeds (one pair), got ${c.family.seeds.length}` },
);

const PROFILES: Record<Profile, E0034Config> = {
  quick: { family: QUICK_FAMILY, inputs: 1000 },
  standard: { family: STANDARD_FAMILY, inputs: 2000 },
  full: { family: FULL_FAMILY, inputs: 5000 },
};

/** S003 Table 2, copied exactly (Myrtle CNNs on CIFAR-10, 32 pairs, channels only). */
export const S003_TABLE2 = {
  layers: ['layer 3', 'layer 6', 'layer 10', 'layer 14'],
  grelu: ['0.6208 ± 0.008', '0.5106 ± 0.005', '0.4432 ± 0.004', '0.4899 ± 0.002'],
  orthogonal: ['0.7724 ± 0.028', '0.5743 ± 0.040', '0.5087 ± 0.016', '0.5825 ± 0.019'],
} as const;

/**
 * Orthogonal Procrustes similarities of seeds-spec M3c: `mu_O = 1 - d_Proc/2` on centred,
 * unit-Frobenius data (from the nuclear-norm similarity s: `d_Proc = sqrt(2 - 2 s)`), and
 * `mu_O_colnorm = 1 - min_Q ||X~ - Y~ Q||_F / (2 sqrt d)` on the centred, column-normalised data
 * of G_ReLU-Procrustes (so `mu_O_colnorm >= mu_GReLU` by group inclusion).
 *
 * @example
 * ```ts
 * orthogonalSimilarities(X, X).muO; // 1
 * ```
 */
export function orthogonalSimilarities(X: Matrix, Y: Matrix): { muO: number; muOColnorm: number } {
  const s = metric('procrustes.similarity', X, Y).value;
  const muO = 1 - Math.sqrt(Math.max(0, 2 - 2 * s)) / 2;
  const xt = normalizeColumns(center(X).centred, { zeroPolicy: 'keep-zero' }).normalized;
  const yt = normalizeColumns(center(Y).centred, { zeroPolicy: 'keep-zero' }).normalized;
  let nuc = 0;
  for (const v of svd(crossprod(xt, yt), { computeUV: false }).s) nuc += v;
  const d2 = frobeniusNorm(xt) ** 2 + frobeniusNorm(yt) ** 2 - 2 * nuc;
  const muOColnorm = 1 - Math.sqrt(Math.max(0, d2)) / (2 * Math.sqrt(Math.max(X.cols, Y.cols)));
  return { muO, muOColnorm };
}

/** One measured cell of E003-4: a model pair at a hidden layer. */
export interface E0034Cell {
  pair: [number, number];
  layer: string;
  grelu: number;
  muO: number;
  muOColnorm: number;
}

/**
 * The verdicts of E003-4 (pure), with model-level bootstrap intervals over seeds (pairs share
 * models). The depth shape is tested per pair: the dip = min(first, last layer) − min(inner layers)
 * must be above 0 by `minDip`.
 *
 * @example
 * ```ts
 * decideE0034(cells, ['layers.1', 'layers.3', 'layers.5'], 5);
 * ```
 */
export function decideE0034(values: readonly E0034Cell[], layers: readonly string[], models: number, minDip = 0.01): { checks: ClaimCheck[]; est: Record<string, Estimate>; diffs: Estimate[] } {
  const ps = [...new Map(values.map((v) => [`${v.pair[0]},${v.pair[1]}`, v.pair] as const)).values()];
  const cell = (p: [number, number], l: string): E0034Cell => values.find((v) => v.pair[0] === p[0] && v.pair[1] === p[1] && v.layer === l)!;
  const boot = (f: (p: [number, number]) => number, seed: number): Estimate => pairBootstrap(ps.map(f), ps, models, seed);
  const est: Record<string, Estimate> = {};
  layers.forEach((l, k) => {
    est[`grelu ${l}`] = boot((p) => cell(p, l).grelu, 10 + k);
    est[`orthogonal ${l}`] = boot((p) => cell(p, l).muO, 20 + k);
    est[`orthogonal-colnorm ${l}`] = boot((p) => cell(p, l).muOColnorm, 30 + k);
  });
  const diffs = layers.map((l, k) => boot((p) => cell(p, l).grelu - cell(p, l).muO, 40 + k));
  const jOrder = judgeAll(
    diffs.map((d) => judge(d, { side: 'below', null: 0, effect: 0 })),
    layers.map((l) => `difference at ${l}`),
  );
  const g = layers.map((l) => est[`grelu ${l}`]!);
  const o = layers.map((l) => est[`orthogonal ${l}`]!);
  const L = layers.length;
  let jShape: Judgement;
  let dips: Record<string, Estimate> = {};
  if (L < 3) {
    jShape = judgeFlag(false, 'needs at least 3 hidden layers (an inner minimum)', 'a model with at least 3 hidden layers', [`only ${L} hidden layers: no inner layer`]);
  } else {
    const dip = (k: 'grelu' | 'muO', seed: number): Estimate =>
      boot((p) => {
        const v = layers.map((l) => cell(p, l)[k]);
        return Math.min(v[0]!, v[L - 1]!) - Math.min(...v.slice(1, L - 1));
      }, seed);
    dips = { dipGrelu: dip('grelu', 50), dipOrthogonal: dip('muO', 51) };
    jShape = judgeAll([judge(dips.dipGrelu!, { side: 'above', null: 0, effect: minDip }), judge(dips.dipOrthogonal!, { side: 'above', null: 0, effect: minDip })], ['G_ReLU dip', 'orthogonal dip']);
  }
  const bad = values.filter((v) => !(v.muOColnorm >= v.grelu - 1e-9));
  const jIncl = judgeFlag(bad.length === 0, 'held when mu_O_colnorm >= mu_GReLU - 1e-9 in every pair-layer cell (group inclusion; a violation means a defect in one of the two estimators)', bad.length === 0 ? 'any cell with mu_O_colnorm < mu_GReLU' : 'fixing the estimator that violates the inclusion');
  const paperTable = `G_ReLU ${S003_TABLE2.grelu.join(', ')}; Orthogonal ${S003_TABLE2.orthogonal.join(', ')} at ${S003_TABLE2.layers.join(', ')} (Myrtle CNNs, CIFAR-10, 32 pairs)`;
  const checks: ClaimCheck[] = [
    checkOf(
      {
        claim: 'G_ReLU-Procrustes similarity is below orthogonal Procrustes similarity at every layer (a smaller group aligns less).',
        paper: paperTable,
        measured: `${layers.map((l, k) => `${l}: mu_GReLU ${fmt(g[k]!)}, mu_O ${fmt(o[k]!)}, difference ${fmt(diffs[k]!)}`).join('; ')} (model-level bootstrap).`,
        estimates: Object.fromEntries([...Object.entries(est), ...layers.map((l, k) => [`difference ${l}`, diffs[k]!] as const)]),
        primary: `difference ${layers[0]}`,
      },
      jOrder,
    ),
    checkOf(
      {
        claim: 'Both similarities fall with depth and rise again at the last layer (tracking the stitching penalties of Fig. 1).',
        paper: paperTable,
        measured: `mu_GReLU by layer ${g.map((e) => e.mean.toFixed(3)).join(' → ')}; mu_O ${o.map((e) => e.mean.toFixed(3)).join(' → ')}; per pair, dip = min(first, last) − min(inner layers)${dips.dipGrelu === undefined ? '' : `: G_ReLU ${fmt(dips.dipGrelu, 4)}, orthogonal ${fmt(dips.dipOrthogonal!, 4)}`}.`,
        ...(dips.dipGrelu === undefined ? {} : { estimates: dips, primary: 'dipGrelu' }),
      },
      jShape,
    ),
    checkOf(
      {
        claim: 'Sanity (seeds-spec M3c): mu_O_colnorm >= mu_GReLU for every pair and layer, by group inclusion.',
        paper: '',
        measured: `${values.length - bad.length} of ${values.length} pair-layer cells satisfy it${bad.length > 0 ? `; violated at ${bad.slice(0, 3).map((v) => `${v.layer} pair ${v.pair.join('-')} (${v.muOColnorm.toFixed(4)} < ${v.grelu.toFixed(4)})`).join(', ')}` : ''}.`,
      },
      jIncl,
    ),
  ];
  return { checks, est, diffs };
}

export const e003_4: ExperimentRecipe<E0034Config> = {
  id: 'E003-4',
  title: 'G_ReLU-Procrustes vs orthogonal Procrustes similarity across layers',
  source: 'S003 Table 2, Fig. 9',
  profiles: PROFILES,
  ...recipeConfig(E0034ConfigSchema),
  async run(ctx, c): Promise<RecipeResult> {
    const models = await trainFamily(ctx, c.family, 'E003-4 base');
    const graph = models[0]!.graph;
    const layers = activationNodes(graph);
    const ps = pairs(models.length);
    const values = await ctx.cached({ what: 'procrustes-vs-grelu', keys: models.map((m) => m.key), inputs: c.inputs, layers }, async () => {
      const data = await evalData(c.family.data, 'test', c.inputs, graph.input);
      try {
        const acts = [];
        for (const m of models) acts.push(await captureAt(m, data.x, layers));
        const out: Array<{ pair: [number, number]; layer: string; grelu: number; muO: number; muOColnorm: number }> = [];
        let done = 0;
        for (const [i, j] of ps) {
          for (const l of layers) {
            const X = acts[i]![l] as Matrix;
            const Y = acts[j]![l] as Matrix;
            const grelu = metric('grelu.procrustes', X, Y).value;
            out.push({ pair: [i, j], layer: l, grelu, ...orthogonalSimilarities(X, Y) });
          }
          ctx.progress('pairs compared', ++done, ps.length);
        }
        return out;
      } finally {
        data.x.dispose();
      }
    });
    const { checks, est } = decideE0034(values, layers, models.length);
    const g = layers.map((l) => est[`grelu ${l}`]!);
    const o = layers.map((l) => est[`orthogonal ${l}`]!);
    const rows: Figure['rows'] = layers.flatMap((l, k) => [
      { x: k + 1, layer: l, series: 'G_ReLU-Procrustes', y: g[k]!.mean, lo: g[k]!.lo, hi: g[k]!.hi },
      { x: k + 1, layer: l, series: 'orthogonal Procrustes (mu_O)', y: o[k]!.mean, lo: o[k]!.lo, hi: o[k]!.hi },
      { x: k + 1, layer: l, series: 'orthogonal, column-normalised', y: est[`orthogonal-colnorm ${l}`]!.mean, lo: est[`orthogonal-colnorm ${l}`]!.lo, hi: est[`orthogonal-colnorm ${l}`]!.hi },
    ]);
    const figures: Figure[] = [
      {
        id: 'similarity-by-layer',
        title: 'G_ReLU-Procrustes and orthogonal Procrustes similarity by hidden layer',
        caption: `Mean over ${ps.length} model pairs with 95% model-level bootstrap bands, on ${c.inputs} test inputs. Layer k is the k-th hidden ReLU output.`,
        spec: lineChart(rows, { x: 'hidden layer', y: 'similarity', band: true }),
        rows,
      },
    ];
    const tables: Table[] = [
      {
        id: 'paper-table2',
        title: 'S003 Table 2 (copied exactly) beside basis',
        caption: 'The paper: Myrtle CNNs on CIFAR-10 (channels), 32 pairs. basis: the MLP family of this run; layer indices do not correspond.',
        columns: ['source', 'measure', ...S003_TABLE2.layers.map((l) => `paper ${l}`), ...layers.map((l) => `basis ${l}`)],
        rows: [
          ['paper / basis', 'G_ReLU', ...S003_TABLE2.grelu, ...g.map((e) => fmt(e, 4))],
          ['paper / basis', 'Orthogonal', ...S003_TABLE2.orthogonal, ...o.map((e) => fmt(e, 4))],
        ],
      },
    ];
    return {
      checks,
      figures,
      tables,
      notes: [
        '[OPEN] mu_O = 1 - d_Proc/2 with d_Proc the Procrustes distance of centred, unit-Frobenius-norm data (seeds-spec M3c); S003 does not give its normalisation.',
        '[OPEN] G_ReLU-Procrustes is centred (seeds-spec 0.5 item 3); dead units are kept as zero columns (they cannot match, which lowers mu).',
        'Deviation: MLPs on MNIST/Fashion-MNIST instead of Myrtle CNNs on CIFAR-10; the paper layer indices 3/6/10/14 have no counterpart.',
      ],
      data: { layers, pairs: ps, values, estimates: est },
    };
  },
};
