// E004-3 (S004): permutation methods enforce commutativity. Dist_com (seeds-spec C8) of independent
// pairs before alignment, after weight matching (W_A ≈ W_B) and after activation matching (H_A ≈ H_B).
import { object, type Schema } from '@basis/tensor';
import { lineChart, type Figure, type Table } from '../report.js';
import { crossCheck, recipeConfig } from '../runner/check.js';
import { fmt, pairs } from './e003-shared.js';
import { checkOf, judge, judgeAll, pairBootstrap } from './verdict.js';
import { MODE_PAIRS_PROFILES, modePairs, modePairsEntries, modePairsProblem, type ModePairsConfig } from './e004-shared.js';
import type { ClaimCheck, Estimate, ExperimentRecipe, RecipeResult, Profile } from './types.js';

/** The schema of E004-3's configuration: the mode-pair fields and their rules. */
export const E0043ConfigSchema: Schema<ModePairsConfig> = crossCheck(object(modePairsEntries), modePairsProblem);

const PROFILES: Record<Profile, ModePairsConfig> = { quick: MODE_PAIRS_PROFILES.quick, standard: MODE_PAIRS_PROFILES.standard, full: MODE_PAIRS_PROFILES.full };
const CONDITIONS = ['independent', 'weight-matched', 'activation-matched'] as const;

/**
 * The verdicts of E004-3 (pure): Dist_com of the same independent pairs after matching minus
 * before, paired, with a model-level bootstrap (pairs share models). Layers where Dist_com is 0
 * for every unaligned pair (the first dense layer reads the input) are left out.
 *
 * @example
 * ```ts
 * decideE0043(pairsMeasured, pairs(5), 5, 0.01);
 * ```
 */
export function decideE0043(ms: ReadonlyArray<{ condition: string; pair: number; com: Record<string, number> }>, indepPairs: Array<[number, number]>, models: number, minDrop = 0.01): { checks: ClaimCheck[]; est: Record<string, Estimate>; layers: string[] } {
  const of = (cond: string, layer: string): number[] => ms.filter((m) => m.condition === cond).sort((x, y) => x.pair - y.pair).map((m) => m.com[layer]!);
  const layers = Object.keys(ms[0]!.com).filter((l) => Math.max(...of('independent', l)) > 1e-12);
  let seed = 0;
  const boot = (v: number[]): Estimate => pairBootstrap(v, indepPairs.slice(0, v.length), models, ++seed);
  const est: Record<string, Estimate> = {};
  for (const cond of CONDITIONS) for (const l of layers) est[`${cond} ${l}`] = boot(of(cond, l));
  const diffs = (cond: string): Estimate[] => layers.map((l) => boot(of(cond, l).map((v, p) => v - of('independent', l)[p]!)));
  const dW = diffs('weight-matched');
  const dA = diffs('activation-matched');
  const paper = 'S004: weight matching makes W_A ≈ W_B and activation matching makes H_A ≈ H_B; either shrinks (W_A - W_B)(H_A - H_B), i.e. both enforce commutativity. No numbers given.';
  const line = (d: Estimate[]): string => layers.map((l, k) => `${l}: ${fmt(est[`independent ${l}`]!, 4)} → difference ${fmt(d[k]!, 4)}`).join('; ');
  const checks: ClaimCheck[] = [
    checkOf(
      { claim: 'Weight matching lowers the commutativity distance Dist_com at every hidden dense layer.', paper, measured: `Dist_com before → change after weight matching: ${line(dW)} (model-level bootstrap).`, estimates: Object.fromEntries(layers.map((l, k) => [`weight-matched - independent ${l}`, dW[k]!])), primary: `weight-matched - independent ${layers[0]}` },
      judgeAll(dW.map((d) => judge(d, { side: 'below', null: 0, effect: minDrop })), layers),
    ),
    checkOf(
      { claim: 'Activation matching lowers the commutativity distance Dist_com at every hidden dense layer.', paper, measured: `Dist_com before → change after activation matching: ${line(dA)} (model-level bootstrap).`, estimates: Object.fromEntries(layers.map((l, k) => [`activation-matched - independent ${l}`, dA[k]!])), primary: `activation-matched - independent ${layers[0]}` },
      judgeAll(dA.map((d) => judge(d, { side: 'below', null: 0, effect: minDrop })), layers),
    ),
  ];
  return { checks, est, layers };
}

export const e004_3: ExperimentRecipe<ModePairsConfig> = {
  id: 'E004-3',
  title: 'Weight and activation matching enforce commutativity',
  source: 'S004 (LLFC), Section on permutation methods',
  profiles: PROFILES,
  ...recipeConfig(E0043ConfigSchema),
  async run(ctx, c): Promise<RecipeResult> {
    const ms = await modePairs(ctx, c, CONDITIONS);
    const models = c.family.seeds.length;
    const { checks, est, layers } = decideE0043(
      ms.map((m) => ({ condition: m.condition, pair: m.pair, com: Object.fromEntries(m.llfc.commutativity.map((w) => [w.layer, w.distance])) })),
      pairs(models),
      models,
    );
    const rows: Figure['rows'] = CONDITIONS.flatMap((cond) => layers.map((l, k) => ({ x: k + 2, layer: l, series: cond, y: est[`${cond} ${l}`]!.mean, lo: est[`${cond} ${l}`]!.lo, hi: est[`${cond} ${l}`]!.hi })));
    const figures: Figure[] = [
      { id: 'commutativity', title: 'Dist_com before and after matching', caption: 'Independent pairs; mean over pairs with 95% model-level bootstrap bands; x = dense layer index (the first dense layer reads the input and is trivially commutative).', spec: lineChart(rows, { x: 'dense layer', y: 'Dist_com', band: true }), rows },
    ];
    const tables: Table[] = [
      { id: 'dist-com', title: 'Dist_com (mean [95% CI] over pairs)', columns: ['condition', ...layers], rows: CONDITIONS.map((cond) => [cond, ...layers.map((l) => fmt(est[`${cond} ${l}`]!, 4))]) },
    ];
    return {
      checks,
      figures,
      tables,
      notes: [
        '[OPEN] Dist_com = ||(W_A - W_B)(H_A - H_B)||² / ||W_A H_A - W_B H_B||² with biases folded in (seeds-spec C8).',
        '[OPEN] Weight matching modulo G_ReLU (canonical scales, then coordinate-ascent assignment); activation matching on Pearson correlations of post-activation features of training inputs.',
      ],
      data: { pairs: ms.map((m) => ({ condition: m.condition, pair: m.pair, barrier: m.barrier, commutativity: m.llfc.commutativity })), estimates: est },
    };
  },
};
