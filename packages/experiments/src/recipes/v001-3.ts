// V001-3 (S001 eqs. 8-9; seeds-spec D2-D3): the effective parameter count N_eff = 2 lambda_B of
// small trained MLPs against width and noise scale (SGLD on the behavioral loss, with eps_eff
// reported), beside the Hessian-rank lower bound and the Laplace value of the localised posterior
// (what SGLD should give if the loss were quadratic, from the GGN's eigenvalues). Small models on a
// synthetic Gaussian mixture, so the Gauss-Newton Hessian (N x N) stays cheap.
import * as tf from '@tensorflow/tfjs-core';
import { estimateLlcAsync, ggnHessian, hessianRankBound, modelLlcTarget, type ChainCheckpoint } from '@basis/degeneracy';
import { BasisError, finite, integer, object, yieldToEventLoop, type Schema } from '@basis/tensor';
import { gaussianMixture, mlp, toFloat64, trainModel } from '@basis/zoo';
import { count, listOfAtLeast, recipeConfig } from '../runner/check.js';
import { contentHash } from '../runner/json.js';
import { lineChart, type Figure, type Table } from '../report.js';
import { difference, estimate, fmt } from './e003-shared.js';
import { checkOf, judge, judgeAll } from './verdict.js';
import type { ClaimCheck, Estimate, ExperimentRecipe, RecipeResult, Profile } from './types.js';

/** Configuration of V001-3. */
export interface V0013Config {
  /** Gaussian mixture: examples, input dimension, classes. */
  n: number;
  dim: number;
  classes: number;
  /** Hidden widths (one hidden layer). */
  widths: number[];
  seeds: number[];
  /** Training epochs (Adam, lr 1e-2, batch 64). */
  epochs: number;
  /** Multiples of the default n beta = n / log n (larger n beta probes a smaller eps). */
  nBetaFactors: number[];
  /**
   * SGLD step at n beta = n/log n; at n beta = f n/log n the step is step/f, so that step x n beta
   * (and with it the fraction of the stability limit step (n beta h_max + gamma) < 4) is the same
   * at every factor. Localisation, chains and draws per chain follow.
   */
  step: number;
  gamma: number;
  chains: number;
  draws: number;
}

/** The schema of {@link V0013Config}. */
export const V0013ConfigSchema: Schema<V0013Config> = object({
  n: count(20, 'examples'),
  dim: count(1, 'input dimension'),
  classes: count(2, 'classes'),
  widths: listOfAtLeast(count(1, 'unit'), 'widths (integers >= 1)', 2, 'widths'),
  seeds: listOfAtLeast(integer(0), 'seeds (integers >= 0)', 2, 'seeds'),
  epochs: count(1, 'epoch'),
  nBetaFactors: listOfAtLeast(finite({ gt: 0 }), 'factors (numbers > 0)', 2, 'factors'),
  step: finite({ gt: 0 }),
  gamma: finite({ gt: 0 }),
  chains: count(1, 'chain'),
  draws: count(10, 'draws'),
});

const PROFILES: Record<Profile, V0013Config> = {
  quick: { n: 200, dim: 6, classes: 3, widths: [4, 16], seeds: [0, 1, 2], epochs: 30, nBetaFactors: [0.3, 3], step: 1e-4, gamma: 100, chains: 2, draws: 300 },
  // step 2e-4 at n/log n: 6.7e-4, 2e-4 and 6.7e-5 at the three factors (seeds-spec D3 b: 1e-6 to
  // 1e-3, the largest stable one); step x (n beta h_max + gamma) is about 2.2 for width 16, half the
  // limit 4. At 5e-5 for every factor the summed ESS stayed below 400 (issue 15).
  standard: { n: 500, dim: 8, classes: 3, widths: [4, 8, 16], seeds: [0, 1, 2, 3, 4], epochs: 60, nBetaFactors: [0.3, 1, 3], step: 2e-4, gamma: 100, chains: 4, draws: 5000 },
  full: { n: 1000, dim: 10, classes: 4, widths: [2, 4, 8, 16, 32], seeds: [0, 1, 2, 3, 4], epochs: 60, nBetaFactors: [0.1, 0.3, 1, 3, 10], step: 1e-4, gamma: 100, chains: 4, draws: 5000 },
};

/**
 * One trained model of V001-3: its Hessian rank and the SGLD estimates at each n beta, with the
 * estimator's warnings (ESS, split-R̂, drift, spikes) and the Laplace value `laplace` =
 * sum_i n beta h_i / (n beta h_i + gamma) over the GGN eigenvalues h_i: the N_eff of the localised
 * posterior if the behavioral loss were exactly quadratic. It is below rank(H) for every gamma > 0
 * and tends to it as n beta / gamma grows.
 */
export interface ModelResult {
  width: number;
  seed: number;
  parameters: number;
  accuracy: number;
  hessianRank: number;
  sgld: Array<{ nBeta: number; nEff: number; epsEff: number; laplace: number; step: number; ess: number; warnings: string[] }>;
}

/** seeds-spec D3(b): on a Gaussian posterior SGLD must give the exact value within 15%. */
export const LAPLACE_TOL = 0.15;

/** The Laplace value of N_eff: sum_i n beta h_i / (n beta h_i + gamma) over the positive GGN eigenvalues. */
export function laplaceNEff(eigenvalues: ArrayLike<number>, nBeta: number, gamma: number): number {
  let s = 0;
  for (let i = 0; i < eigenvalues.length; i++) {
    const h = eigenvalues[i] as number;
    if (h > 0) s += (nBeta * h) / (nBeta * h + gamma);
  }
  return s;
}

/**
 * The verdicts of V001-3 (pure). Every claim built on N_eff consults the SGLD diagnostics: any
 * estimator warning (low ESS, split-R̂ > 1.1, unsettled or spiky traces) on an estimate it uses,
 * or N_eff falling below the Hessian-rank lower bound (which holds in the limit, so a violation
 * means the estimate is not trustworthy), forces inconclusive with the reason.
 *
 * @example
 * ```ts
 * decideV0013(results, [4, 16], [0.3, 3]).checks.map((c) => c.verdict);
 * ```
 */
export function decideV0013(results: readonly ModelResult[], widths: readonly number[], factors: readonly number[]): { checks: ClaimCheck[]; est: Record<string, Estimate> } {
  const of = (w: number): ModelResult[] => results.filter((r) => r.width === w);
  const top = factors.length - 1;
  const ref = factors.indexOf(factors.reduce((a, f) => (Math.abs(Math.log(f)) < Math.abs(Math.log(a)) ? f : a), factors[0]!));
  const est: Record<string, Estimate> = {};
  for (const w of widths) {
    factors.forEach((f, k) => {
      est[`N_eff w${w} x${f}`] = estimate(of(w).map((r) => r.sgld[k]!.nEff));
      est[`eps_eff w${w} x${f}`] = estimate(of(w).map((r) => r.sgld[k]!.epsEff));
    });
    est[`rank w${w}`] = estimate(of(w).map((r) => r.hessianRank));
  }
  const wMin = Math.min(...widths);
  const wMax = Math.max(...widths);
  const N = (w: number): number => of(w)[0]!.parameters;
  /** SGLD warnings of the estimates at factor index k for the given widths (one line per model). */
  const sgldWarnings = (ws: readonly number[], ks: readonly number[]): string[] =>
    ws.flatMap((w) => of(w).flatMap((r) => ks.flatMap((k) => (r.sgld[k]!.warnings.length > 0 ? [`width ${w} seed ${r.seed} n beta x${factors[k]}: ${r.sgld[k]!.warnings.join('; ')}`] : []))));
  const fracBelow = widths.map((w) => estimate(of(w).map((r) => r.sgld[top]!.nEff / r.parameters), `N_eff / N at width ${w}`));
  const aboveRank = widths.map((w) => difference(of(w).map((r) => r.sgld[top]!.nEff), of(w).map((r) => r.hessianRank), `N_eff - rank(H) at width ${w}`));
  const dFrac = difference(of(wMax).map((r) => r.sgld[ref]!.nEff / r.parameters), of(wMin).map((r) => r.sgld[ref]!.nEff / r.parameters), 'N_eff/N widest - narrowest');
  const dEps = difference(of(wMax).map((r) => r.sgld[top]!.nEff), of(wMax).map((r) => r.sgld[0]!.nEff), 'N_eff at the largest - smallest n beta');
  const rankFrac = difference(of(wMax).map((r) => r.hessianRank / r.parameters), of(wMin).map((r) => r.hessianRank / r.parameters), 'rank(H)/N widest - narrowest');
  /** Estimates that disagree with their Laplace value by more than LAPLACE_TOL: the sampler, not the landscape, is then off. */
  const offLaplace = (ws: readonly number[], ks: readonly number[]): string[] =>
    ws.flatMap((w) =>
      of(w).flatMap((r) =>
        ks.flatMap((k) => {
          const x = r.sgld[k]!;
          return Math.abs(x.nEff - x.laplace) > LAPLACE_TOL * x.laplace ? [`width ${w} seed ${r.seed} n beta x${factors[k]}: SGLD N_eff ${x.nEff.toFixed(1)} is more than ${100 * LAPLACE_TOL}% from its Laplace value ${x.laplace.toFixed(1)} (the sampler is biased at this step)`] : [];
        }),
      ),
    );
  const warn = (ws: readonly number[], ks: readonly number[]): string[] => [...sgldWarnings(ws, ks), ...offLaplace(ws, ks)];
  const laplaceTop = widths.map((w) => estimate(of(w).map((r) => r.sgld[top]!.laplace), `Laplace N_eff at width ${w}`));
  const relLaplace = widths.map((w) => estimate(of(w).flatMap((r) => r.sgld.map((x) => (x.nEff - x.laplace) / x.laplace)), `(N_eff - Laplace) / Laplace at width ${w}, every n beta`));
  const rankFracs = widths.map((w) => estimate(of(w).map((r) => r.hessianRank / r.parameters), `rank(H) / N at width ${w}`));
  const wTop = warn(widths, [top]);
  const jBound = judgeAll(
    aboveRank.map((e) => judge(e, { side: 'above', null: 0, effect: 0 }, wTop)),
    widths.map((w) => `width ${w}`),
  );
  // both the SGLD value and the Hessian must show the degeneracy: N_eff < N alone can come from
  // the localisation (every gamma > 0 pulls N_eff below rank(H) <= N)
  const j1 = judgeAll(
    [...fracBelow.map((e) => judge(e, { side: 'below', null: 1, effect: 0 }, wTop)), ...rankFracs.map((e) => judge(e, { side: 'below', null: 1, effect: 0 }))],
    [...widths.map((w) => `N_eff/N width ${w}`), ...widths.map((w) => `rank(H)/N width ${w}`)],
  );
  const j3 = judge(dFrac, { side: 'below', null: 0, effect: 0 }, warn([wMin, wMax], [ref]));
  const j4 = judge(dEps, { side: 'above', null: 0, effect: 0 }, warn([wMax], [0, top]));
  const allK = factors.map((_, k) => k);
  const j5 = judgeAll(
    relLaplace.map((e, k) => judge(e, { side: 'within', lo: -LAPLACE_TOL, hi: LAPLACE_TOL }, sgldWarnings([widths[k]!], allK))),
    widths.map((w) => `width ${w}`),
  );
  const checks: ClaimCheck[] = [
    checkOf(
      {
        claim: 'Trained MLPs are degenerate: the effective parameter count N_eff = 2 lambda_B is below the parameter count N (and the Hessian has null directions, rank(H) < N).',
        paper: 'S001 eq. 9 and Sec. 2: N_eff(eps) = 2 lambda_B(eps); degeneracy makes it smaller than N (no experiments in the seed).',
        measured: `N_eff / N at the smallest eps probed (n beta = ${factors[top]} n/log n): ${widths.map((w, k) => `width ${w} (N = ${N(w)}): ${fmt(fracBelow[k]!)}`).join('; ')}; rank(H) / N: ${widths.map((w, k) => `width ${w}: ${fmt(rankFracs[k]!)}`).join('; ')}.`,
        estimates: { ...Object.fromEntries(widths.map((w, k) => [`N_eff/N w${w}`, fracBelow[k]!])), ...Object.fromEntries(widths.map((w, k) => [`rank/N w${w}`, rankFracs[k]!])) },
        primary: `N_eff/N w${wMax}`,
      },
      j1,
    ),
    checkOf(
      {
        claim: 'The Hessian rank is a lower bound: N_eff >= rank(H) (lambda >= rank(H)/2).',
        paper: 'S001 Sec. 2: free directions are null directions of the Hessian but not conversely, so lambda >= rank(H)/2.',
        measured: `N_eff - rank(H) at n beta = ${factors[top]} n/log n: ${widths.map((w, k) => `width ${w}: ${fmt(aboveRank[k]!, 1)} (rank ${est[`rank w${w}`]!.mean.toFixed(1)}, Laplace value ${laplaceTop[k]!.mean.toFixed(1)})`).join('; ')}. The bound is a limit (eps -> 0): at finite n beta the localisation gamma keeps every direction with n beta h < gamma from counting, and the Laplace value sum n beta h / (n beta h + gamma) of the GGN is below rank(H) for every gamma > 0.`,
        estimates: { ...Object.fromEntries(widths.map((w, k) => [`N_eff - rank w${w}`, aboveRank[k]!])), ...Object.fromEntries(widths.map((w, k) => [`Laplace w${w}`, laplaceTop[k]!])) },
        primary: `N_eff - rank w${wMax}`,
      },
      jBound,
    ),
    checkOf(
      {
        claim: 'Wider networks are relatively more degenerate: N_eff / N falls with width (and so does rank(H) / N).',
        paper: 'S001 Sec. 3: extra width adds free directions (low-rank activations, synchronised units).',
        measured: `N_eff/N widest minus narrowest (n beta = ${factors[ref]} n/log n): ${fmt(dFrac)}; rank(H)/N: ${fmt(rankFrac)}.`,
        estimates: { nEffFraction: dFrac, rankFraction: rankFrac },
        primary: 'nEffFraction',
      },
      j3,
    ),
    checkOf(
      {
        claim: 'N_eff depends on the noise scale: probing a smaller eps (larger n beta) resolves more parameters.',
        paper: 'S001 eq. 8: the finite-scale lambda(eps) without the limit; how to choose eps is open.',
        measured: `width ${wMax}: N_eff at n beta x${factors[top]} minus at x${factors[0]}: ${fmt(dEps, 1)}; eps_eff ${fmt(est[`eps_eff w${wMax} x${factors[top]}`]!, 5)} vs ${fmt(est[`eps_eff w${wMax} x${factors[0]}`]!, 5)}.`,
        estimates: { difference: dEps },
        primary: 'difference',
      },
      j4,
    ),
    checkOf(
      {
        claim: 'The SGLD estimate is unbiased where the answer is known: it agrees with the Laplace value of the localised posterior (sum n beta h / (n beta h + gamma) over the GGN eigenvalues) within 15%.',
        paper: 'seeds-spec D3(b) [EXT]: on a Gaussian posterior (precision n beta H + gamma I) SGLD must recover the exact value within 15%; degenerate directions add higher-order terms, which this tolerance also bounds.',
        measured: `(N_eff - Laplace) / Laplace over every model and n beta: ${widths.map((w, k) => `width ${w}: ${fmt(relLaplace[k]!, 3)}`).join('; ')}.`,
        estimates: Object.fromEntries(widths.map((w, k) => [`rel Laplace w${w}`, relLaplace[k]!])),
        primary: `rel Laplace w${wMax}`,
      },
      j5,
    ),
  ];
  return { checks, est };
}

export const v001_3: ExperimentRecipe<V0013Config> = {
  id: 'V001-3',
  title: 'Effective parameter count N_eff against width and noise scale',
  source: 'S001 eqs. 8-9 (finite-scale LLC, N_eff = 2 lambda_B); seeds-spec D2-D3',
  profiles: PROFILES,
  ...recipeConfig(V0013ConfigSchema),
  async run(ctx, c): Promise<RecipeResult> {
    const factors = [...c.nBetaFactors].sort((a, b) => a - b);
    const base = c.n / Math.log(c.n);
    const results: ModelResult[] = [];
    let done = 0;
    for (const width of c.widths) {
      for (const s of c.seeds) {
        const seed = ctx.seed + s;
        const r = await ctx.cached({ what: 'n-eff', width, seed, config: c }, async (): Promise<ModelResult> => {
          const data = gaussianMixture({ n: c.n, numClasses: c.classes, dim: c.dim, separation: 3, seed: `V001-3:${ctx.seed}` });
          const graph = mlp({ width, depth: 1, inputDim: c.dim, classes: c.classes });
          const trained = await trainModel({ graph, train: data, test: data, recipe: { epochs: c.epochs, batchSize: 64, optimizer: { kind: 'adam', lr: 1e-2 }, seed } });
          const params = toFloat64(trained.params);
          const x = tf.tensor2d(data.x, [data.n, c.dim]);
          try {
            await yieldToEventLoop();
            if (ctx.signal.aborted) throw new BasisError('INVALID_ARGUMENT', 'V001-3 was interrupted before the Hessian', { details: { aborted: true } });
            const H = ggnHessian({ graph, params }, x);
            const { rank, eigenvalues } = hessianRankBound(H);
            const sgld: ModelResult['sgld'] = [];
            for (const f of factors) {
              const { target, w0, dispose } = modelLlcTarget({ graph, params }, x, { loss: 'behavioral-mse' });
              try {
                const opts = { nBeta: f * base, step: c.step / f, gamma: c.gamma, chains: c.chains, draws: c.draws, burnin: Math.floor(c.draws / 5), seed };
                // each finished chain is memoised on its own (keyed by the parameters it starts
                // from): an interrupt stops within one SGLD step and a rerun resumes from them
                const chainKey = (k: number): unknown => ({ what: 'n-eff-chain', w0: contentHash(w0), opts, chain: k });
                const finished = await Promise.all(Array.from({ length: c.chains }, (_, k) => peekCached<ChainCheckpoint>(ctx, chainKey(k))));
                const est = await estimateLlcAsync(target, w0, {
                  ...opts,
                  signal: ctx.signal,
                  finished,
                  onChain: async (k, r) => {
                    await ctx.cached(chainKey(k), () => ({ trace: r.trace, initLoss: r.initLoss, malaAcceptance: r.malaAcceptance, maxDistance: r.maxDistance }));
                  },
                });
                sgld.push({ nBeta: f * base, nEff: est.effectiveParameters, epsEff: est.epsEff, laplace: laplaceNEff(eigenvalues, f * base, c.gamma), step: opts.step, ess: est.ess, warnings: est.warnings });
              } finally {
                dispose();
              }
            }
            return { width, seed, parameters: w0Length(params), accuracy: trained.final.testAccuracy ?? 0, hessianRank: rank, sgld };
          } finally {
            x.dispose();
          }
        });
        results.push(r);
        ctx.progress('models sampled', ++done, c.widths.length * c.seeds.length);
      }
    }
    const { checks, est } = decideV0013(results, c.widths, factors);
    const N = (w: number): number => results.find((r) => r.width === w)!.parameters;
    const rows: Figure['rows'] = factors.flatMap((f) => c.widths.map((w) => ({ x: N(w), width: w, series: `SGLD, n beta x${f}`, y: est[`N_eff w${w} x${f}`]!.mean, lo: est[`N_eff w${w} x${f}`]!.lo, hi: est[`N_eff w${w} x${f}`]!.hi })));
    const rankRows: Figure['rows'] = c.widths.map((w) => ({ x: N(w), width: w, series: 'rank(H) (lower bound)', y: est[`rank w${w}`]!.mean, lo: est[`rank w${w}`]!.lo, hi: est[`rank w${w}`]!.hi }));
    const nRows: Figure['rows'] = c.widths.map((w) => ({ x: N(w), width: w, series: 'N (parameters)', y: N(w), lo: N(w), hi: N(w) }));
    const all = [...rows, ...rankRows, ...nRows];
    const figures: Figure[] = [
      { id: 'n-eff', title: 'Effective parameter count against the parameter count', caption: `One-hidden-layer MLPs of widths ${c.widths.join(', ')} on a ${c.classes}-class Gaussian mixture (n = ${c.n}, d = ${c.dim}); mean over ${c.seeds.length} seeds with 95% t bands.`, spec: lineChart(all, { x: 'parameters N', y: 'count', band: true }), rows: all },
    ];
    const tables: Table[] = [
      {
        id: 'models',
        title: 'Per model',
        columns: ['width', 'seed', 'N', 'accuracy', 'rank(H)', ...factors.map((f) => `N_eff (x${f})`), ...factors.map((f) => `Laplace (x${f})`), ...factors.map((f) => `ESS (x${f})`), ...factors.map((f) => `eps_eff (x${f})`), 'SGLD warnings'],
        rows: results.map((r) => [r.width, r.seed, r.parameters, r.accuracy, r.hessianRank, ...r.sgld.map((x) => x.nEff), ...r.sgld.map((x) => x.laplace), ...r.sgld.map((x) => x.ess), ...r.sgld.map((x) => x.epsEff), r.sgld.flatMap((x) => x.warnings).join('; ') || 'none']),
      },
    ];
    return {
      checks,
      figures,
      tables,
      notes: [
        `[OPEN] SGLD on the behavioral MSE loss: step ${c.step} / factor (${factors.map((f) => (c.step / f).toPrecision(2)).join(', ')}), gamma ${c.gamma}, ${c.chains} chains x ${c.draws} draws, 20% burn-in, n beta = factor x n/log n with factors ${factors.join(', ')}; eps_eff = E_p[L_B] is reported beside each estimate (seeds-spec D3 b).`,
        `The Laplace value sum n beta h / (n beta h + gamma) over the GGN eigenvalues h is what SGLD gives when the loss is quadratic. SGLD agreeing with it (claim 5) while N_eff stays below rank(H) (claim 2) means the shortfall is the localisation gamma = ${c.gamma} at finite n beta, not a sampler bias: more draws or another step cannot remove it, only n beta h >> gamma for every direction (the eps -> 0 limit) can.`,
        '[OPEN] Hessian: the Gauss-Newton matrix (2/n) sum J^T J of the behavioral loss; eigenvalues above 1e-6 x the largest count towards the rank.',
        'Deviation: a synthetic Gaussian mixture instead of MNIST, so that the N x N Hessian stays small; models are trained in the recipe (memoised), not in the model cache.',
      ],
      data: { results, estimates: est },
    };
  },
};

/** The "not cached" marker that peekCached's compute function throws (caught there, never seen outside). */
class NotCached extends Error {}

/** A memoised value if it is there (the compute function throws before anything is written). */
async function peekCached<T>(ctx: { cached<V>(key: unknown, compute: () => Promise<V> | V): Promise<V> }, key: unknown): Promise<T | undefined> {
  try {
    return await ctx.cached<T>(key, () => {
      throw new NotCached('not cached');
    });
  } catch (e) {
    if (e instanceof NotCached) return undefined;
    throw e;
  }
}

function w0Length(params: Record<string, { data: ArrayLike<number> }>): number {
  return Object.values(params).reduce((a, p) => a + p.data.length, 0);
}
