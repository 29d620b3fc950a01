// E003-7 (S003 Prop. 3.4, App. C): the same function with different hidden representations. A
// random G_ReLU element per hidden layer, acting on a trained MLP's weights, leaves the outputs
// unchanged (float64, exactly) while every hidden representation moves by phi(A); an orthogonal
// transform with the best linear compensation changes the function.
import { metric } from '@basis/align';
import { denseChain, forwardDense } from '@basis/degeneracy';
import { act, sampleAssignment, transformFeature } from '@basis/symmetry';
import { Matrix, createRng, finite, frobeniusNorm, object, sub, type Schema } from '@basis/tensor';
import { inferSpec } from '@basis/zoo';
import { count, crossCheck, recipeConfig } from '../runner/check.js';
import { barChart, type Figure, type Table } from '../report.js';
import { transformPreactivation, type P64 } from './e003-1.js';
import { STANDARD_FAMILY, FULL_FAMILY, ModelFamilySchema, QUICK_FAMILY, estimate, evalData, fmt, trainFamily, type ModelFamily } from './e003-shared.js';
import type { ClaimCheck, Estimate, ExperimentRecipe, RecipeResult, Profile } from './types.js';
import { checkOf, judge, judgeFlag } from './verdict.js';

/** Configuration of E003-7. */
export interface E0037Config {
  family: ModelFamily;
  /** Random group elements per model. */
  draws: number;
  /** Test inputs the functions and features are compared on. */
  inputs: number;
  /** Log-scale spread of the random positive scales. */
  scaleSigma: number;
}

/** The schema of {@link E0037Config}: 2 draws at least in all, an MLP family (the float64 dense engine runs MLPs). */
export const E0037ConfigSchema: Schema<E0037Config> = crossCheck(
  object({ family: ModelFamilySchema, draws: count(1, 'draw'), inputs: count(10, 'inputs'), scaleSigma: finite({ ge: 0 }) }),
  (c) => {
    const draws = c.family.seeds.length * c.draws;
    if (draws < 2) return { at: ['draws'], message: `needs at least 2 draws in total (seeds x draws), got ${draws}` };
    if (c.family.model.arch !== 'mlp') return { at: ['family', 'model', 'arch'], message: `must be 'mlp' (the float64 dense engine runs MLPs), got '${c.family.model.arch}'` };
    return null;
  },
);

const PROFILES: Record<Profile, E0037Config> = {
  quick: { family: QUICK_FAMILY, draws: 2, inputs: 200, scaleSigma: 1 },
  standard: { family: STANDARD_FAMILY, draws: 3, inputs: 500, scaleSigma: 1 },
  full: { family: FULL_FAMILY, draws: 5, inputs: 1000, scaleSigma: 1 },
};


function relErr(a: Matrix, b: Matrix): number {
  const n = frobeniusNorm(b);
  return n > 0 ? frobeniusNorm(sub(a, b)) / n : frobeniusNorm(a);
}

/** `W <- W Qᵀ` on the columns of a dense weight (the linear compensation of an orthogonal Q). */
function absorbColumns(params: P64, layer: string, Q: Matrix): P64 {
  const W = params[`${layer}.weight`]!;
  const [o, n] = W.shape as [number, number];
  const out = new Float64Array(o * n);
  for (let i = 0; i < o; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += (W.data[i * n + k] as number) * Q.get(j, k);
    out[i * n + j] = s;
  }
  return { ...params, [`${layer}.weight`]: { shape: [o, n], data: out } };
}

/** One random draw of E003-7 on one model. */
export type Draw = { model: number; draw: number; outputError: number; featureError: number; layers: Array<{ layer: string; change: number; cka: number; grelu: number; permcorr: number }>; orthogonalOutputError: number };

/**
 * The verdicts of E003-7 (pure). The first three claims are exact properties of the construction
 * (float64 tolerances); the orthogonal control is an interval claim.
 *
 * @example
 * ```ts
 * decideE0037(draws, ['layers.1', 'layers.3'], 'layers.2', 'layers.4');
 * ```
 */
export function decideE0037(draws: readonly Draw[], hidden: readonly string[], mid: string, next: string): { checks: ClaimCheck[]; byLayer: Array<{ layer: string; change: Estimate; cka: Estimate; grelu: Estimate; permcorr: Estimate }> } {
  const worstOut = Math.max(...draws.map((d) => d.outputError));
  const worstFeat = Math.max(...draws.map((d) => d.featureError));
  const minChange = Math.min(...draws.flatMap((d) => d.layers.map((l) => l.change)));
  const orth = estimate(draws.map((d) => d.orthogonalOutputError), 'orthogonal output error');
  const byLayer = hidden.map((h) => ({
    layer: h,
    change: estimate(draws.map((d) => d.layers.find((l) => l.layer === h)!.change)),
    cka: estimate(draws.map((d) => d.layers.find((l) => l.layer === h)!.cka)),
    grelu: estimate(draws.map((d) => d.layers.find((l) => l.layer === h)!.grelu)),
    permcorr: estimate(draws.map((d) => d.layers.find((l) => l.layer === h)!.permcorr)),
  }));
  const minGrelu = Math.min(...draws.flatMap((d) => d.layers.map((l) => l.grelu)));
  const maxCka = Math.max(...draws.flatMap((d) => d.layers.map((l) => l.cka)));
  const paper = "Prop. 3.4: for A_i in G_sigma, the transformed weights W' realise the same function, with hidden features f_{<=m}(x, W') = phi(A_m) f_{<=m}(x, W) (App. C, not in the seed, shows this; seeds-spec: reproduced by the S6 property).";
  const checks: ClaimCheck[] = [
    checkOf({ claim: 'A random G_ReLU element per hidden layer leaves the network function unchanged.', paper, measured: `worst relative output change over ${draws.length} draws: ${worstOut.toExponential(2)} (float64).` }, judgeFlag(worstOut <= 1e-9, 'held when the worst relative output change is <= 1e-9', 'an output change above 1e-9')),
    checkOf(
      { claim: 'The hidden representations differ, and move exactly by phi(A) = A.', paper, measured: `smallest relative change of a hidden representation ${minChange.toFixed(3)}; worst error of f' = phi(A) f ${worstFeat.toExponential(2)}.` },
      judgeFlag(minChange >= 0.1 && worstFeat <= 1e-9, 'held when every representation changes by >= 0.1 and the error of f\' = phi(A) f is <= 1e-9', minChange >= 0.1 && worstFeat <= 1e-9 ? 'a representation changing by < 0.1, or a feature error > 1e-9' : 'changes >= 0.1 with feature errors <= 1e-9'),
    ),
    checkOf(
      {
        claim: 'G_ReLU-invariant similarity measures see no difference between the two representations; linear CKA (rotation-invariant only) does.',
        paper: 'S003 Sec. 5: dissimilarity measures should be invariant to the intertwiner group G_ReLU.',
        measured: `G_ReLU-Procrustes(f, f') >= ${minGrelu.toFixed(10)}; linear CKA(f, f') <= ${maxCka.toFixed(4)}.`,
        estimates: Object.fromEntries(byLayer.flatMap((b) => [[`cka ${b.layer}`, b.cka], [`grelu ${b.layer}`, b.grelu]])),
      },
      judgeFlag(minGrelu >= 1 - 1e-9 && maxCka < 0.999, 'held when G_ReLU-Procrustes >= 1 - 1e-9 and linear CKA < 0.999 for every draw and layer', 'G_ReLU-Procrustes below 1 - 1e-9 or CKA reaching 0.999'),
    ),
    checkOf(
      {
        claim: `Control: an orthogonal transform before the ReLU of ${mid}, compensated linearly by ${next}, changes the function (orthogonal maps are not in G_ReLU).`,
        paper: 'S003 Sec. 3: G_ReLU = {P D}; for generic orthogonal A no B satisfies ReLU(A x) = B ReLU(x).',
        measured: `relative output change ${fmt(orth)}.`,
        estimates: { orthogonalOutputError: orth },
        primary: 'orthogonalOutputError',
      },
      judge(orth, { side: 'above', null: 0.01, effect: 0 }),
    ),
  ];
  return { checks, byLayer };
}

export const e003_7: ExperimentRecipe<E0037Config> = {
  id: 'E003-7',
  title: 'Same function, different hidden representations (Prop. 3.4)',
  source: 'S003 Prop. 3.4, App. C',
  profiles: PROFILES,
  ...recipeConfig(E0037ConfigSchema),
  async run(ctx, c): Promise<RecipeResult> {
    const models = await trainFamily(ctx, c.family, 'E003-7 base');
    const graph = models[0]!.graph;
    const spec = inferSpec(graph);
    const data = await evalData(c.family.data, 'test', c.inputs, graph.input);
    const X = new Matrix(data.n, graph.input.reduce((a, b) => a * b, 1), Float64Array.from(data.x.dataSync()));
    data.x.dispose();
    const hidden = Object.keys(spec.features ?? {}).filter((f) => graph.nodes.find((n) => n.name === f)?.op === 'activation');
    const dense = denseChain(graph, models[0]!.params).map((l) => l.name);
    const mid = dense[Math.floor((dense.length - 1) / 2)]!;
    const next = dense[dense.indexOf(mid) + 1]!;
    const draws: Draw[] = await ctx.cached({ what: 'same-function', keys: models.map((m) => m.key), draws: c.draws, inputs: c.inputs, sigma: c.scaleSigma }, () => {
      const out: Draw[] = [];
      for (const [mi, m] of models.entries()) {
        const A = forwardDense(denseChain(graph, m.params), X);
        for (let t = 0; t < c.draws; t++) {
          const rng = createRng(`E003-7:${ctx.seed}:${m.key}:${t}`);
          const assignment = sampleAssignment(spec, rng, { scaleSigma: c.scaleSigma });
          const p2 = act(m.params, spec, assignment) as unknown as P64;
          const B = forwardDense(denseChain(graph, p2), X);
          const outputError = relErr(B.post.at(-1)!, A.post.at(-1)!);
          let featureError = 0;
          const layers: Draw['layers'] = [];
          for (const h of hidden) {
            const k = dense.findIndex((d) => graph.nodes[graph.nodes.findIndex((n) => n.name === d) + 1]?.name === h);
            const fa = A.post[k + 1]!;
            const fb = B.post[k + 1]!;
            const pred = transformFeature({ shape: [fa.rows, fa.cols], data: fa.data }, spec, h, assignment);
            featureError = Math.max(featureError, relErr(new Matrix(fa.rows, fa.cols, Float64Array.from(pred.data)), fb));
            layers.push({ layer: h, change: relErr(fb, fa), cka: metric('cka.linear', fa, fb).value, grelu: metric('grelu.procrustes', fa, fb).value, permcorr: metric('permcorr', fa, fb).value });
          }
          // control: an orthogonal Q before the ReLU of `mid`, compensated linearly in `next`
          const qrng = createRng(`E003-7:orthogonal:${ctx.seed}:${m.key}:${t}`);
          const { params: rotated, A: Q } = transformPreactivation(m.params, mid, 'orthogonal', qrng);
          const C = forwardDense(denseChain(graph, absorbColumns(rotated, next, Q)), X);
          out.push({ model: mi, draw: t, outputError, featureError, layers, orthogonalOutputError: relErr(C.post.at(-1)!, A.post.at(-1)!) });
        }
        ctx.progress('models transformed', mi + 1, models.length);
      }
      return out;
    });
    const { checks, byLayer } = decideE0037(draws, hidden, mid, next);
    const rows: Figure['rows'] = byLayer.flatMap((b) => [
      { group: b.layer, series: "relative change ||f' - f|| / ||f||", value: b.change.mean },
      { group: b.layer, series: "linear CKA(f, f')", value: b.cka.mean },
      { group: b.layer, series: "G_ReLU-Procrustes(f, f')", value: b.grelu.mean },
      { group: b.layer, series: "perm-corr(f, f')", value: b.permcorr.mean },
    ]);
    const figures: Figure[] = [
      {
        id: 'representation-change',
        title: 'Hidden representations of the same function',
        caption: `Mean over ${draws.length} random G_ReLU elements acting on trained MLPs, ${c.inputs} test inputs. The outputs agree to ${Math.max(...draws.map((d) => d.outputError)).toExponential(1)}.`,
        spec: barChart(rows, { x: 'hidden layer', y: 'value' }),
        rows,
      },
    ];
    const tables: Table[] = [
      {
        id: 'draws',
        title: 'Per draw: output change, feature-prediction error, orthogonal control',
        columns: ['model', 'draw', 'output change', "error of f' = A f", 'orthogonal control output change'],
        rows: draws.map((d) => [d.model, d.draw, d.outputError, d.featureError, d.orthogonalOutputError]),
      },
    ];
    return {
      checks,
      figures,
      tables,
      notes: [
        `[OPEN] Random G_ReLU elements: uniform permutations with lognormal scales exp(sigma z), sigma = ${c.scaleSigma} (seeds-spec P6).`,
        'Forward passes in float64 (the degeneracy package\'s dense engine), so "unchanged" is tested to 1e-9.',
      ],
      data: { draws, byLayer },
    };
  },
};
