// E004-3 (S004): permutation methods enforce commutativity. Dist_com (seeds-spec C8) of independent
// pairs before alignment, after weight matching (W_A ≈ W_B) and after activation matching (H_A ≈ H_B).
import { lineChart, type Figure, type Table } from '../report.js';
import { allOf, difference, estimate, fmt, intervalVerdict } from './e003-shared.js';
import { MODE_PAIRS_PROFILES, checkModePairs, modePairs, type ModePairsConfig } from './e004-shared.js';
import type { ClaimCheck, Estimate, ExperimentRecipe, RecipeResult, Profile } from './types.js';

const PROFILES: Record<Profile, ModePairsConfig> = { quick: MODE_PAIRS_PROFILES.quick, standard: MODE_PAIRS_PROFILES.standard, full: MODE_PAIRS_PROFILES.full };
const CONDITIONS = ['independent', 'weight-matched', 'activation-matched'] as const;

export const e004_3: ExperimentRecipe<ModePairsConfig> = {
  id: 'E004-3',
  title: 'Weight and activation matching enforce commutativity',
  source: 'S004 (LLFC), Section on permutation methods',
  profiles: PROFILES,
  checkConfig(v: unknown): ModePairsConfig {
    return checkModePairs(v, PROFILES.quick);
  },
  async run(ctx, c): Promise<RecipeResult> {
    const ms = await modePairs(ctx, c, CONDITIONS);
    const of = (cond: string, layer: string): number[] => ms.filter((m) => m.condition === cond).map((m) => m.llfc.commutativity.find((w) => w.layer === layer)!.distance);
    const layers = ms[0]!.llfc.commutativity.map((w) => w.layer).filter((l) => Math.max(...of('independent', l)) > 1e-12);
    const est: Record<string, Estimate> = {};
    for (const cond of CONDITIONS) for (const l of layers) est[`${cond} ${l}`] = estimate(of(cond, l));
    const diffs = (cond: string): Estimate[] => layers.map((l) => difference(of(cond, l), of('independent', l), `${cond} - independent at ${l}`));
    const dW = diffs('weight-matched');
    const dA = diffs('activation-matched');
    const paper = 'S004: weight matching makes W_A ≈ W_B and activation matching makes H_A ≈ H_B; either shrinks (W_A - W_B)(H_A - H_B), i.e. both enforce commutativity. No numbers given.';
    const line = (d: Estimate[]): string => layers.map((l, k) => `${l}: ${fmt(est[`independent ${l}`]!, 4)} → difference ${fmt(d[k]!, 4)}`).join('; ');
    const checks: ClaimCheck[] = [
      {
        claim: 'Weight matching lowers the commutativity distance Dist_com at every hidden dense layer.',
        paper,
        measured: `Dist_com before → change after weight matching: ${line(dW)}. Criterion: held when every paired CI lies below 0.`,
        verdict: allOf(dW.map((d) => intervalVerdict(d, 'below', 0))),
        estimates: Object.fromEntries(layers.map((l, k) => [`weight-matched - independent ${l}`, dW[k]!])),
      },
      {
        claim: 'Activation matching lowers the commutativity distance Dist_com at every hidden dense layer.',
        paper,
        measured: `Dist_com before → change after activation matching: ${line(dA)}. Criterion: held when every paired CI lies below 0.`,
        verdict: allOf(dA.map((d) => intervalVerdict(d, 'below', 0))),
        estimates: Object.fromEntries(layers.map((l, k) => [`activation-matched - independent ${l}`, dA[k]!])),
      },
    ];
    const rows: Figure['rows'] = CONDITIONS.flatMap((cond) => layers.map((l, k) => ({ x: k + 2, layer: l, series: cond, y: est[`${cond} ${l}`]!.mean, lo: est[`${cond} ${l}`]!.lo, hi: est[`${cond} ${l}`]!.hi })));
    const figures: Figure[] = [
      { id: 'commutativity', title: 'Dist_com before and after matching', caption: 'Independent pairs; mean over pairs with 95% t bands; x = dense layer index (the first dense layer reads the input and is trivially commutative).', spec: lineChart(rows, { x: 'dense layer', y: 'Dist_com', band: true }), rows },
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
