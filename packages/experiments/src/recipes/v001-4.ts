// V001-4 (S001 Sec. 6, App. A; seeds-spec D7-D9): the interaction basis against the neuron basis of
// trained MNIST MLPs: dimension reductions d - r (activations) and r - s (Jacobians) per layer,
// interaction sparsity of the transformed weights, the modularity cost of the best 2-way split,
// and the 'sqrt' against 'inv_sqrt' scalings.
import { bestBipartition, denseChain, interactionBasisMlp, interactionSparsity, layeredAdjacency, type NetworkBasis } from '@basis/degeneracy';
import { object, type Matrix, type Schema } from '@basis/tensor';
import { between, count, crossCheck, recipeConfig } from '../runner/check.js';
import { barChart, type Figure, type Table } from '../report.js';
import { STANDARD_FAMILY, FULL_FAMILY, ModelFamilySchema, QUICK_FAMILY, difference, estimate, fmt, inputMatrix, trainFamily, type ModelFamily } from './e003-shared.js';
import { checkOf, judge, judgeAll, judgeFlag } from './verdict.js';
import type { ClaimCheck, Estimate, ExperimentRecipe, RecipeResult, Profile } from './types.js';

/** Configuration of V001-4. */
export interface V0014Config {
  family: ModelFamily;
  /** Inputs D the bases are computed on (training split). */
  inputs: number;
  /** Interaction sparsity: |w| <= sparsityTol * max|w| counts as zero (seeds-spec D7: 1e-2 for trained nets). */
  sparsityTol: number;
  /** Noise scale of the modularity cost. */
  eps: number;
  /** Models on which the 'inv_sqrt' scaling is computed too (the input layer's 784 x 784 eigenproblems dominate the cost). */
  scalingModels: number;
}

/** The schema of {@link V0014Config}: two seeds at least, an MLP family (the interaction basis is built for dense chains), no more scaling models than seeds. */
export const V0014ConfigSchema: Schema<V0014Config> = crossCheck(
  object({ family: ModelFamilySchema, inputs: count(20, 'inputs'), sparsityTol: between(0, 1), eps: between(0, 1), scalingModels: count(1, 'model') }),
  (c) => {
    const seeds = c.family.seeds.length;
    if (seeds < 2) return { at: ['family', 'seeds'], message: `needs at least 2 seeds, got ${seeds}` };
    if (c.family.model.arch !== 'mlp') return { at: ['family', 'model', 'arch'], message: `must be 'mlp' (the interaction basis is built for dense chains), got '${c.family.model.arch}'` };
    if (c.scalingModels > seeds) return { at: ['scalingModels'], message: `must be at most the number of seeds (${seeds}), got ${c.scalingModels}` };
    return null;
  },
);

const PROFILES: Record<Profile, V0014Config> = {
  quick: { family: QUICK_FAMILY, inputs: 200, sparsityTol: 0.01, eps: 1e-4, scalingModels: 1 },
  standard: { family: STANDARD_FAMILY, inputs: 500, sparsityTol: 0.01, eps: 1e-4, scalingModels: 5 },
  full: { family: FULL_FAMILY, inputs: 2000, sparsityTol: 0.01, eps: 1e-4, scalingModels: 6 },
};

/** One model's interaction-basis summary (dimensions per layer, sparsities per transition, modularity costs). */
export interface ModelBasisSummary {
  summary: NetworkBasis['summary'];
  /** Interaction sparsity per transition (IB edges) and of the neuron-basis weights. */
  sparsityIb: number[];
  sparsityNeuron: number[];
  costIb: number;
  costNeuron: number;
}

function modularity(mats: Matrix[], eps: number): number {
  const A = layeredAdjacency(mats);
  return bestBipartition(A, eps, { minSize: Math.max(1, Math.floor(A.rows / 4)) }).cost;
}

/**
 * The verdicts of V001-4 (pure): paired differences over models (t intervals); the input-rank
 * part is inconclusive when the sample size caps the rank.
 *
 * @example
 * ```ts
 * decideV0014(per, { inputs: 500, dOut: 10, eps: 1e-4, sparsityTol: 0.01 });
 * ```
 */
export function decideV0014(per: Record<'sqrt' | 'inv_sqrt', ModelBasisSummary[]>, o: { inputs: number; dOut: number; eps: number; sparsityTol: number }): { checks: ClaimCheck[]; est: Record<string, Estimate>; names: string[]; transitions: string[] } {
    const s = per.sqrt;
    const names = s[0]!.summary.map((x) => x.name);
    const transitions = names.slice(0, -1).map((n, k) => `${n} → ${names[k + 1]}`);
    const est: Record<string, Estimate> = {};
    names.forEach((n, k) => {
      est[`d-r ${n}`] = estimate(s.map((m) => m.summary[k]!.activationReduction));
      est[`r-s ${n}`] = estimate(s.map((m) => m.summary[k]!.jacobianReduction));
      est[`s ${n}`] = estimate(s.map((m) => m.summary[k]!.s));
    });
    const dSparse = transitions.map((t, k) => difference(s.map((m) => m.sparsityIb[k]!), s.map((m) => m.sparsityNeuron[k]!), `IB - neuron sparsity ${t}`));
    transitions.forEach((t, k) => {
      est[`sparsity IB ${t}`] = estimate(s.map((m) => m.sparsityIb[k]!));
      est[`sparsity neuron ${t}`] = estimate(s.map((m) => m.sparsityNeuron[k]!));
      est[`sparsity IB inv_sqrt ${t}`] = estimate(per.inv_sqrt.map((m) => m.sparsityIb[k]!));
    });
    const dCost = difference(s.map((m) => m.costIb), s.map((m) => m.costNeuron), 'modularity cost IB - neuron');
    const last = names.length - 2; // last hidden layer
    const lastS = Math.max(...s.map((m) => m.summary[last]!.s));
    const inputDrop = est[`d-r ${names[0]}`]!;
    // with fewer inputs than pixels the rank is capped by n: only r < min(n, d) shows real degeneracy
    const inputR = Math.max(...s.map((m) => m.summary[0]!.r));
    const inputD = s[0]!.summary[0]!.d;
    const sampleLimited = inputR >= Math.min(o.inputs, inputD);
    const sameDims = per.inv_sqrt.every((m, k) => m.summary.every((x, j) => x.r === per.sqrt[k]!.summary[j]!.r && x.s === per.sqrt[k]!.summary[j]!.s));
    const checks: ClaimCheck[] = [
      {
        claim: 'The interaction basis drops directions without activation variance (r < d at the MNIST input, whose border pixels are constant) and directions the output ignores: at the last hidden layer s <= d_out.',
        paper: 'S001 Sec. 6: the basis removes low-rank-activation and Jacobian (downstream-ignored) degeneracies; App. A: the final layer is PCA without whitening.',
        measured: `input d - r ${fmt(inputDrop, 1)} (largest r ${inputR} with n = ${o.inputs} inputs of d = ${inputD} pixels); last hidden layer ${names[last]}: s at most ${lastS} against d_out = ${o.dOut}, r - s ${fmt(est[`r-s ${names[last]}`]!, 1)}. Criterion: held when r < min(n, d) at the input (inconclusive when r = n: the sample size caps the rank) and s <= d_out.`,
        verdict: 'inconclusive',
        estimates: Object.fromEntries(Object.entries(est).filter(([k]) => k.startsWith('d-r') || k.startsWith('r-s'))),
      },
      {
        claim: 'The transformed weights are sparser in the interaction basis than in the neuron basis (interaction sparsity, seeds-spec D7 metric).',
        paper: 'S001 Sec. 6 and the follow-up (arXiv 2405.10928): the interaction basis was found sparse and modular on toy models, much less useful on LLMs; no numbers in the seed.',
        measured: `${transitions.map((t, k) => `${t}: IB ${est[`sparsity IB ${t}`]!.mean.toFixed(3)} vs neuron ${est[`sparsity neuron ${t}`]!.mean.toFixed(3)}, difference ${fmt(dSparse[k]!)}`).join('; ')} (tol ${o.sparsityTol} x max|w|). Criterion: held when every paired CI lies above 0.`,
        verdict: 'inconclusive',
        estimates: Object.fromEntries(transitions.map((t, k) => [`IB - neuron ${t}`, dSparse[k]!])),
      },
      {
        claim: 'The interaction basis is more modular: the best 2-way split of its hidden interaction graph costs less than in the neuron basis.',
        paper: 'S001 Sec. 5: modularity through weak interactions (cost sum_v max(0, log(w_v / sqrt(eps)))); concrete form [OPEN].',
        measured: `modularity cost IB ${fmt(estimate(s.map((m) => m.costIb)), 2)}, neuron ${fmt(estimate(s.map((m) => m.costNeuron)), 2)}, difference ${fmt(dCost, 2)} (eps ${o.eps}). Criterion: held when the paired CI lies below 0.`,
        verdict: 'inconclusive',
        estimates: { difference: dCost },
      },
      {
        claim: "The 'sqrt' (App. A) and 'inv_sqrt' (Sec. 6) scalings keep the same dimensions r and s; they only rescale the basis (erratum 0.5 item 13).",
        paper: 'S001 Sec. 6 vs App. A conflict on the final scaling; both drop the zero-eigenvalue directions.',
        measured: `dimensions equal in ${sameDims ? 'every' : 'not every'} layer of the ${per.inv_sqrt.length} model(s) computed both ways; sparsity under inv_sqrt ${transitions.map((t) => est[`sparsity IB inv_sqrt ${t}`]!.mean.toFixed(3)).join(', ')} vs sqrt ${transitions.map((t) => est[`sparsity IB ${t}`]!.mean.toFixed(3)).join(', ')}. Criterion: held when r and s agree everywhere.`,
        verdict: 'inconclusive',
      },
    ];
    const jDims = judgeAll(
      [
        judgeFlag(inputR < inputD, `held when the largest input rank r < d = ${inputD}`, inputR < inputD ? 'an input rank reaching d' : 'an input rank below d', sampleLimited ? [`the sample size caps the input rank (r = ${inputR} with n = ${o.inputs} inputs): constant pixels cannot be told from too few inputs`] : []),
        judgeFlag(lastS <= o.dOut, `held when s <= d_out = ${o.dOut} at the last hidden layer`, lastS <= o.dOut ? 's above d_out' : 's at most d_out'),
      ],
      ['input rank', 'last-layer s'],
    );
    const jSparse = judgeAll(dSparse.map((d) => judge(d, { side: 'above', null: 0, effect: 0.01 })), transitions);
    const jCost = judge(dCost, { side: 'below', null: 0, effect: 0 });
    const jSame = judgeFlag(sameDims, 'held when r and s agree in every layer of every model computed both ways', sameDims ? 'a layer where the two scalings give different r or s' : 'equal r and s everywhere');
    const js = [jDims, jSparse, jCost, jSame];
    return { checks: checks.map((ch, k) => checkOf({ claim: ch.claim, paper: ch.paper, measured: ch.measured.replace(/ Criterion: .*$/, ''), ...(ch.estimates === undefined ? {} : { estimates: ch.estimates }) }, js[k]!)), est, names, transitions };
}

export const v001_4: ExperimentRecipe<V0014Config> = {
  id: 'V001-4',
  title: 'Interaction basis vs neuron basis of trained MLPs',
  source: 'S001 Sec. 6 and App. A; seeds-spec D7-D9',
  profiles: PROFILES,
  ...recipeConfig(V0014ConfigSchema),
  async run(ctx, c): Promise<RecipeResult> {
    const models = await trainFamily(ctx, c.family, 'V001-4 base');
    const graph = models[0]!.graph;
    const per = await ctx.cached({ what: 'interaction-basis', keys: models.map((m) => m.key), inputs: c.inputs, tol: c.sparsityTol, eps: c.eps, scalingModels: c.scalingModels }, async () => {
      const X = await inputMatrix(c.family.data, 'train', c.inputs, graph.input);
      const out: Record<'sqrt' | 'inv_sqrt', ModelBasisSummary[]> = { sqrt: [], inv_sqrt: [] };
      for (const [k, m] of models.entries()) {
        const W = denseChain(graph, m.params).map((l) => l.W);
        // hidden-to-hidden and hidden-to-output transitions (the input layer has d = 784 nodes)
        const costNeuron = modularity(W.slice(1), c.eps);
        for (const scaling of k < c.scalingModels ? (['sqrt', 'inv_sqrt'] as const) : (['sqrt'] as const)) {
          const nb = interactionBasisMlp(graph, m.params, X, { scaling });
          out[scaling].push({
            summary: nb.summary,
            sparsityIb: nb.edges.map((e) => interactionSparsity(e, c.sparsityTol)),
            sparsityNeuron: W.map((w) => interactionSparsity(w, c.sparsityTol)),
            costIb: modularity(nb.edges.slice(1), c.eps),
            costNeuron,
          });
        }
        ctx.progress('models analysed', k + 1, models.length);
      }
      return out;
    });
    const dOut = (graph.nodes.at(-1) as { units?: number }).units ?? 10;
    const { checks, est, names, transitions } = decideV0014(per, { inputs: c.inputs, dOut, eps: c.eps, sparsityTol: c.sparsityTol });
    const s = per.sqrt;
    const dimRows: Figure['rows'] = names.flatMap((n) => [
      { group: n, series: 'd - r (activations)', value: est[`d-r ${n}`]!.mean },
      { group: n, series: 'r - s (Jacobians)', value: est[`r-s ${n}`]!.mean },
      { group: n, series: 's (basis size)', value: est[`s ${n}`]!.mean },
    ]);
    const spRows: Figure['rows'] = transitions.flatMap((t) => [
      { group: t, series: 'neuron basis', value: est[`sparsity neuron ${t}`]!.mean },
      { group: t, series: "interaction basis ('sqrt')", value: est[`sparsity IB ${t}`]!.mean },
      { group: t, series: "interaction basis ('inv_sqrt')", value: est[`sparsity IB inv_sqrt ${t}`]!.mean },
    ]);
    const figures: Figure[] = [
      { id: 'dimensions', title: 'Interaction-basis dimensions per layer', caption: `Mean over ${models.length} models on ${c.inputs} training inputs.`, spec: barChart(dimRows, { x: 'layer', y: 'dimensions' }), rows: dimRows },
      { id: 'sparsity', title: 'Interaction sparsity of the transitions', caption: `Fraction of entries with |w| <= ${c.sparsityTol} max|w|; mean over models.`, spec: barChart(spRows, { x: 'transition', y: 'sparsity' }), rows: spRows },
    ];
    const tables: Table[] = [
      {
        id: 'summary',
        title: 'Per layer: width d, rank r of G, basis size s (mean over models)',
        columns: ['layer', 'd', 'r', 's'],
        rows: names.map((n, k) => [n, s[0]!.summary[k]!.d, estimate(s.map((m) => m.summary[k]!.r)).mean, est[`s ${n}`]!.mean]),
      },
    ];
    return {
      checks,
      figures,
      tables,
      notes: [
        "[OPEN] Non-local interaction basis (S001 Sec. 6: Jacobians of the output), uncentred Grams (eq. 38), eigenvalues below 1e-10 x the largest dropped; 'sqrt' is the default scaling.",
        `[OPEN] Interaction sparsity threshold ${c.sparsityTol} x max|w| per matrix; IB edges of nonlinear transitions are the data-averaged Jacobians (D9 step 9).`,
        `[OPEN] Modularity: best 2-way split (spectral + single-node moves, at least a quarter of the nodes per module) of the hidden-to-output interaction graph, eps = ${c.eps}; the cost depends on the weights' scale, which differs between bases.`,
      ],
      data: { names, transitions, perModel: per, estimates: est },
    };
  },
};
