// V001-3 (S001 eqs. 8-9; seeds-spec D2-D3): the effective parameter count N_eff = 2 lambda_B of
// small trained MLPs against width and noise scale (SGLD on the behavioral loss, with eps_eff
// reported), beside the Hessian-rank lower bound. Small models on a synthetic Gaussian mixture, so
// the Gauss-Newton Hessian (N x N) stays cheap.
import * as tf from '@tensorflow/tfjs-core';
import { estimateLlc, ggnHessian, hessianRankBound, modelLlcTarget } from '@basis/degeneracy';
import { BasisError, yieldToEventLoop } from '@basis/tensor';
import { gaussianMixture, mlp, toFloat64, trainModel } from '@basis/zoo';
import { invalid } from '../runner/check.js';
import { lineChart, type Figure, type Table } from '../report.js';
import { checkLike, difference, estimate, fmt, needAtLeast } from './e003-shared.js';
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
  /** SGLD step, localisation, chains and draws per chain. */
  step: number;
  gamma: number;
  chains: number;
  draws: number;
}

const PROFILES: Record<Profile, V0013Config> = {
  quick: { n: 200, dim: 6, classes: 3, widths: [4, 16], seeds: [0, 1, 2], epochs: 30, nBetaFactors: [0.3, 3], step: 1e-4, gamma: 100, chains: 2, draws: 300 },
  standard: { n: 500, dim: 8, classes: 3, widths: [4, 8, 16], seeds: [0, 1, 2, 3, 4], epochs: 60, nBetaFactors: [0.3, 1, 3], step: 5e-5, gamma: 100, chains: 4, draws: 5000 },
  full: { n: 1000, dim: 10, classes: 4, widths: [2, 4, 8, 16, 32], seeds: [0, 1, 2, 3, 4], epochs: 60, nBetaFactors: [0.1, 0.3, 1, 3, 10], step: 5e-5, gamma: 100, chains: 4, draws: 5000 },
};

/** One trained model of V001-3: its Hessian rank and the SGLD estimates at each n beta, with the estimator's warnings (ESS, split-R̂, drift, spikes). */
export interface ModelResult {
  width: number;
  seed: number;
  parameters: number;
  accuracy: number;
  hessianRank: number;
  sgld: Array<{ nBeta: number; nEff: number; epsEff: number; warnings: string[] }>;
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
  const wTop = sgldWarnings(widths, [top]);
  const jBound = judgeAll(
    aboveRank.map((e) => judge(e, { side: 'above', null: 0, effect: 0 }, wTop)),
    widths.map((w) => `width ${w}`),
  );
  // the lower bound holds in the limit: an estimate confidently below it is not trustworthy
  const boundViolated = widths.filter((_, k) => aboveRank[k]!.hi < 0).map((w) => `N_eff is below the Hessian-rank lower bound at width ${w} (the estimate cannot be trusted)`);
  const j1 = judgeAll(
    fracBelow.map((e) => judge(e, { side: 'below', null: 1, effect: 0 }, [...wTop, ...boundViolated])),
    widths.map((w) => `width ${w}`),
  );
  const j3 = judge(dFrac, { side: 'below', null: 0, effect: 0 }, [...sgldWarnings([wMin, wMax], [ref]), ...boundViolated]);
  const j4 = judge(dEps, { side: 'above', null: 0, effect: 0 }, [...sgldWarnings([wMax], [0, top]), ...boundViolated]);
  const checks: ClaimCheck[] = [
    checkOf(
      {
        claim: 'Trained MLPs are degenerate: the effective parameter count N_eff = 2 lambda_B is below the parameter count N.',
        paper: 'S001 eq. 9 and Sec. 2: N_eff(eps) = 2 lambda_B(eps); degeneracy makes it smaller than N (no experiments in the seed).',
        measured: `N_eff / N at the smallest eps probed (n beta = ${factors[top]} n/log n): ${widths.map((w, k) => `width ${w} (N = ${N(w)}): ${fmt(fracBelow[k]!)}`).join('; ')}.`,
        estimates: Object.fromEntries(widths.map((w, k) => [`N_eff/N w${w}`, fracBelow[k]!])),
        primary: `N_eff/N w${wMax}`,
      },
      j1,
    ),
    checkOf(
      {
        claim: 'The Hessian rank is a lower bound: N_eff >= rank(H) (lambda >= rank(H)/2).',
        paper: 'S001 Sec. 2: free directions are null directions of the Hessian but not conversely, so lambda >= rank(H)/2.',
        measured: `N_eff - rank(H): ${widths.map((w, k) => `width ${w}: ${fmt(aboveRank[k]!, 1)} (rank ${est[`rank w${w}`]!.mean.toFixed(1)})`).join('; ')}. SGLD at finite n beta probes a finite eps, where the bound need not hold exactly.`,
        estimates: Object.fromEntries(widths.map((w, k) => [`N_eff - rank w${w}`, aboveRank[k]!])),
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
  ];
  return { checks, est };
}

export const v001_3: ExperimentRecipe<V0013Config> = {
  id: 'V001-3',
  title: 'Effective parameter count N_eff against width and noise scale',
  source: 'S001 eqs. 8-9 (finite-scale LLC, N_eff = 2 lambda_B); seeds-spec D2-D3',
  profiles: PROFILES,
  checkConfig(v: unknown): V0013Config {
    const c = checkLike(v, PROFILES.quick, 'config');
    needAtLeast(c.n, 20, 'config.n', 'examples');
    needAtLeast(c.dim, 1, 'config.dim', 'input dimension');
    needAtLeast(c.classes, 2, 'config.classes', 'classes');
    needAtLeast(c.widths.length, 2, 'config.widths', 'widths');
    c.widths.forEach((w, i) => needAtLeast(w, 1, `config.widths[${i}]`, 'unit'));
    needAtLeast(c.seeds.length, 2, 'config.seeds', 'seeds');
    needAtLeast(c.nBetaFactors.length, 2, 'config.nBetaFactors', 'factors');
    c.nBetaFactors.forEach((f, i) => {
      if (!(f > 0)) invalid(`config.nBetaFactors[${i}]`, `must be > 0, got ${f}`);
    });
    for (const k of ['step', 'gamma'] as const) if (!(c[k] > 0)) invalid(`config.${k}`, `must be > 0, got ${c[k]}`);
    needAtLeast(c.chains, 1, 'config.chains', 'chain');
    needAtLeast(c.draws, 10, 'config.draws', 'draws');
    needAtLeast(c.epochs, 1, 'config.epochs', 'epoch');
    return c;
  },
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
            const H = ggnHessian({ graph, params }, x);
            const rank = hessianRankBound(H).rank;
            const sgld: ModelResult['sgld'] = [];
            for (const f of factors) {
              // each SGLD estimate is one synchronous computation: between them, let a Ctrl-C or
              // SIGTERM listener run and stop here
              await yieldToEventLoop();
              if (ctx.signal.aborted) throw new BasisError('INVALID_ARGUMENT', 'V001-3 was interrupted between SGLD estimates', { details: { aborted: true } });
              const { target, w0, dispose } = modelLlcTarget({ graph, params }, x, { loss: 'behavioral-mse' });
              try {
                const est = estimateLlc(target, w0, { nBeta: f * base, step: c.step, gamma: c.gamma, chains: c.chains, draws: c.draws, burnin: Math.floor(c.draws / 5), seed });
                sgld.push({ nBeta: f * base, nEff: est.effectiveParameters, epsEff: est.epsEff, warnings: est.warnings });
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
        columns: ['width', 'seed', 'N', 'accuracy', 'rank(H)', ...factors.map((f) => `N_eff (x${f})`), ...factors.map((f) => `eps_eff (x${f})`), 'SGLD warnings'],
        rows: results.map((r) => [r.width, r.seed, r.parameters, r.accuracy, r.hessianRank, ...r.sgld.map((x) => x.nEff), ...r.sgld.map((x) => x.epsEff), r.sgld.flatMap((x) => x.warnings).join('; ') || 'none']),
      },
    ];
    return {
      checks,
      figures,
      tables,
      notes: [
        `[OPEN] SGLD on the behavioral MSE loss: step ${c.step}, gamma ${c.gamma}, ${c.chains} chains x ${c.draws} draws, 20% burn-in, n beta = factor x n/log n with factors ${factors.join(', ')}; eps_eff = E_p[L_B] is reported beside each estimate (seeds-spec D3 b).`,
        '[OPEN] Hessian: the Gauss-Newton matrix (2/n) sum J^T J of the behavioral loss; eigenvalues above 1e-6 x the largest count towards the rank.',
        'Deviation: a synthetic Gaussian mixture instead of MNIST, so that the N x N Hessian stays small; models are trained in the recipe (memoised), not in the model cache.',
      ],
      data: { results, estimates: est },
    };
  },
};

function w0Length(params: Record<string, { data: ArrayLike<number> }>): number {
  return Object.values(params).reduce((a, p) => a + p.data.length, 0);
}
