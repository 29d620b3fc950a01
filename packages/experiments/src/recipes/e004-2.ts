// E004-2 (S004 Definitions 3-4, Theorem 1): weak additivity of ReLU (C7) and commutativity (C8)
// per layer, for linearly connected pairs (spawned, weight-matched) against unaligned independent
// pairs.
import { object, type Schema } from '@basis/tensor';
import { between, crossCheck, recipeConfig } from '../runner/check.js';
import { lineChart, type Figure, type Table } from '../report.js';
import { fmt, pairs } from './e003-shared.js';
import { checkOf, judge, judgeAll, judgeFlag, pairBootstrap, type Judgement } from './verdict.js';
import { MODE_PAIRS_PROFILES, modePairs, modePairsEntries, modePairsProblem, type ModePairsConfig, type PairMeasure } from './e004-shared.js';
import type { ClaimCheck, Estimate, ExperimentRecipe, RecipeResult, Profile } from './types.js';

/** Configuration of E004-2. */
export interface E0042Config extends ModePairsConfig {
  /** Connected pairs: test-error barrier at most this. */
  barrierTol: number;
}

/** The schema of {@link E0042Config}: the mode-pair fields and their rules, and the barrier tolerance in (0, 1). */
export const E0042ConfigSchema: Schema<E0042Config> = crossCheck(object({ ...modePairsEntries, barrierTol: between(0, 1) }), modePairsProblem);

const PROFILES: Record<Profile, E0042Config> = {
  quick: { ...MODE_PAIRS_PROFILES.quick, barrierTol: 0.02 },
  standard: { ...MODE_PAIRS_PROFILES.standard, barrierTol: 0.02 },
  full: { ...MODE_PAIRS_PROFILES.full, barrierTol: 0.02 },
};

/** What E004-2 needs of a measured pair: condition, index, error barrier, weak additivity (E[1 - cos]) per ReLU layer and Dist_com per dense layer. */
export interface E0042Pair {
  condition: string;
  pair: number;
  barrierError: number;
  wa: Record<string, number>;
  com: Record<string, number>;
}

/** The summary of a measured pair that {@link decideE0042} reads. */
export function pairSummary2(m: PairMeasure): E0042Pair {
  return {
    condition: m.condition,
    pair: m.pair,
    barrierError: m.barrier.error,
    wa: Object.fromEntries(m.llfc.weakAdditivity.map((w) => [w.layer, w.oneMinusCos.mean])),
    com: Object.fromEntries(m.llfc.commutativity.map((w) => [w.layer, w.distance])),
  };
}

/**
 * The verdicts of E004-2 (pure). The contrast is the permutation-aligned one: the same independent
 * pairs before (unaligned) and after weight matching, paired, with a model-level bootstrap; it is
 * only tested when the weight-matched pairs are linearly connected (otherwise inconclusive with
 * the reason). Spawned pairs are reported but not used: nearly identical spawned modes make both
 * quantities trivially small.
 *
 * @example
 * ```ts
 * decideE0042(ms.map(pairSummary2), pairs(5), 5, 0.02);
 * ```
 */
export function decideE0042(ms: readonly E0042Pair[], indepPairs: Array<[number, number]>, models: number, barrierTol: number): { checks: ClaimCheck[]; est: Record<string, Estimate>; waLayers: string[]; comLayers: string[] } {
  const of = (cond: string): E0042Pair[] => ms.filter((m) => m.condition === cond).sort((x, y) => x.pair - y.pair);
  const un = of('independent');
  const wm = of('weight-matched');
  const first = ms[0]!;
  const waLayers = Object.keys(first.wa);
  // the first dense layer reads the input, identical for both models, so Dist_com = 0 there trivially
  const comLayers = Object.keys(first.com).filter((l) => Math.max(...ms.map((m) => m.com[l]!)) > 1e-12);
  const boot = (v: number[], seed: number): Estimate => pairBootstrap(v, indepPairs.slice(0, v.length), models, seed);
  const est: Record<string, Estimate> = {};
  const bar = wm.length > 0 ? boot(wm.map((m) => m.barrierError), 1) : undefined;
  const warn = wm.length === 0 || wm.length !== un.length ? ['no weight-matched pairs to compare with the unaligned ones'] : bar!.hi <= barrierTol ? [] : [`the weight-matched pairs are not established as linearly connected (error barrier ${fmt(bar!)} not below ${barrierTol})`];
  const part = (kind: 'wa' | 'com', layers: string[], base: number): Judgement[] =>
    layers.map((l, k) => {
      est[`${kind === 'wa' ? 'weak additivity' : 'commutativity'} unaligned ${l}`] = boot(un.map((m) => m[kind][l]!), base + 2 * k);
      if (wm.length !== un.length || wm.length === 0) return judgeFlag(false, 'needs weight-matched pairs', 'measuring them', warn);
      est[`${kind === 'wa' ? 'weak additivity' : 'commutativity'} weight-matched ${l}`] = boot(wm.map((m) => m[kind][l]!), base + 2 * k + 1);
      const d = boot(un.map((m, p) => m[kind][l]! - wm[p]![kind][l]!), base + 100 + k);
      est[`${kind === 'wa' ? 'weak additivity' : 'commutativity'} unaligned − matched ${l}`] = d;
      return judge(d, { side: 'above', null: 0, effect: 0 }, warn);
    });
  const jWa = judgeAll(part('wa', waLayers, 10), waLayers);
  const jCom = judgeAll(part('com', comLayers, 300), comLayers);
  const line = (kind: 'weak additivity' | 'commutativity', layers: string[]): string =>
    layers.map((l) => `${l}: weight-matched ${est[`${kind} weight-matched ${l}`] === undefined ? 'n/a' : fmt(est[`${kind} weight-matched ${l}`]!, 4)} vs unaligned ${fmt(est[`${kind} unaligned ${l}`]!, 4)}`).join('; ');
  const paper = 'S004: weak additivity for ReLU (Definition 3) and commutativity (Definition 4) jointly imply LLFC (Theorem 1) and hold empirically for linearly connected modes; no numbers given.';
  const pick = (prefix: string): Record<string, Estimate> => Object.fromEntries(Object.entries(est).filter(([k]) => k.startsWith(prefix)));
  const checks: ClaimCheck[] = [
    checkOf(
      {
        claim: 'Weak additivity of ReLU holds for linearly connected modes: ReLU((1-a) h_A + a h_B) ≈ (1-a) ReLU(h_A) + a ReLU(h_B), far better than for unaligned modes.',
        paper,
        measured: `E[1 - cos] at alpha 0.5, the same independent pairs after and before weight matching${bar === undefined ? '' : ` (matched error barrier ${fmt(bar)})`}: ${line('weak additivity', waLayers)}.`,
        estimates: pick('weak'),
        ...(waLayers.length > 0 && est[`weak additivity unaligned − matched ${waLayers[0]}`] !== undefined ? { primary: `weak additivity unaligned − matched ${waLayers[0]}` } : {}),
      },
      jWa,
    ),
    checkOf(
      {
        claim: 'Commutativity holds for linearly connected modes: (W_A - W_B)(H_A - H_B) ≈ 0, far smaller than for unaligned modes.',
        paper,
        measured: `Dist_com, the same pairs after and before weight matching: ${line('commutativity', comLayers)}.`,
        estimates: pick('comm'),
        ...(comLayers.length > 0 && est[`commutativity unaligned − matched ${comLayers[0]}`] !== undefined ? { primary: `commutativity unaligned − matched ${comLayers[0]}` } : {}),
      },
      jCom,
    ),
  ];
  return { checks, est, waLayers, comLayers };
}

export const e004_2: ExperimentRecipe<E0042Config> = {
  id: 'E004-2',
  title: 'Weak additivity and commutativity for connected vs unconnected modes',
  source: 'S004 (LLFC), Definitions 3-4 and Theorem 1',
  profiles: PROFILES,
  ...recipeConfig(E0042ConfigSchema),
  async run(ctx, c): Promise<RecipeResult> {
    const ms = await modePairs(ctx, c, ['spawn', 'independent', 'weight-matched']);
    const models = c.family.seeds.length;
    const { checks, est, waLayers, comLayers } = decideE0042(ms.map(pairSummary2), pairs(models), models, c.barrierTol);
    const none = !Object.keys(est).some((k) => k.includes('weight-matched'));
    const rowsFor = (kind: 'weak additivity' | 'commutativity', layers: string[]): Figure['rows'] =>
      (['weight-matched', 'unaligned'] as const).flatMap((g) =>
        none && g === 'weight-matched' ? [] : layers.map((l, k) => ({ x: k + 1, layer: l, series: g, y: est[`${kind} ${g} ${l}`]!.mean, lo: est[`${kind} ${g} ${l}`]!.lo, hi: est[`${kind} ${g} ${l}`]!.hi })),
      );
    const waRows = rowsFor('weak additivity', waLayers);
    const comRows = rowsFor('commutativity', comLayers);
    const figures: Figure[] = [
      { id: 'weak-additivity', title: 'Weak additivity: E[1 - cos] per ReLU layer', caption: 'alpha = 0.5; mean over pairs with 95% t bands.', spec: lineChart(waRows, { x: 'ReLU layer', y: 'E[1 - cos]', band: true }), rows: waRows },
      { id: 'commutativity', title: 'Commutativity distance per dense layer', caption: 'Dist_com = ||(W_A - W_B)(H_A - H_B)||² / ||W_A H_A - W_B H_B||² (bias folded in); mean over pairs with 95% t bands.', spec: lineChart(comRows, { x: 'dense layer', y: 'Dist_com', band: true }), rows: comRows },
    ];
    const tables: Table[] = [
      {
        id: 'pairs',
        title: 'Every pair',
        columns: ['condition', 'pair', 'error barrier', ...waLayers.map((l) => `WA ${l}`), ...comLayers.map((l) => `Dist_com ${l}`)],
        rows: ms.map((m) => [m.condition, m.pair, m.barrier.error, ...m.llfc.weakAdditivity.map((w) => w.oneMinusCos.mean), ...m.llfc.commutativity.map((w) => w.distance)]),
      },
    ];
    return {
      checks,
      figures,
      tables,
      notes: [
        `[OPEN] The contrast is the same independent pairs after weight matching against before (paired, model-level bootstrap), tested only when the matched pairs are linearly connected (error barrier <= ${c.barrierTol}). Spawned pairs are listed in the table but not used: nearly identical spawned modes make both quantities trivially small.`,
        '[OPEN] Dist_com normalised by ||W_A H_A - W_B H_B||² (seeds-spec C8); weak additivity as E[1 - cos] of the two sides (C7).',
        'Dense layers that read the input (H_A = H_B, so Dist_com = 0 trivially) are left out of the commutativity claim.',
      ],
      data: { pairs: ms.map((m) => ({ condition: m.condition, pair: m.pair, barrier: m.barrier, weakAdditivity: m.llfc.weakAdditivity, commutativity: m.llfc.commutativity })), estimates: est },
    };
  },
};
