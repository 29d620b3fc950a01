// E004-2 (S004 Definitions 3-4, Theorem 1): weak additivity of ReLU (C7) and commutativity (C8)
// per layer, for linearly connected pairs (spawned, weight-matched) against unaligned independent
// pairs.
import { invalid } from '../runner/check.js';
import { lineChart, type Figure, type Table } from '../report.js';
import { allOf, estimate, fmt } from './e003-shared.js';
import { MODE_PAIRS_PROFILES, checkModePairs, modePairs, type ModePairsConfig, type PairMeasure } from './e004-shared.js';
import type { ClaimCheck, Estimate, ExperimentRecipe, RecipeResult, Verdict, Profile } from './types.js';

/** Configuration of E004-2. */
export interface E0042Config extends ModePairsConfig {
  /** Connected pairs: test-error barrier at most this. */
  barrierTol: number;
}

const PROFILES: Record<Profile, E0042Config> = {
  quick: { ...MODE_PAIRS_PROFILES.quick, barrierTol: 0.02 },
  standard: { ...MODE_PAIRS_PROFILES.standard, barrierTol: 0.02 },
  full: { ...MODE_PAIRS_PROFILES.full, barrierTol: 0.02 },
};

/** Held when the first interval lies entirely below the second, not held when entirely above. */
function below(a: Estimate, b: Estimate): Verdict {
  return a.hi < b.lo ? 'held' : a.lo > b.hi ? 'not held' : 'inconclusive';
}

export const e004_2: ExperimentRecipe<E0042Config> = {
  id: 'E004-2',
  title: 'Weak additivity and commutativity for connected vs unconnected modes',
  source: 'S004 (LLFC), Definitions 3-4 and Theorem 1',
  profiles: PROFILES,
  checkConfig(v: unknown): E0042Config {
    const c = checkModePairs(v, PROFILES.quick);
    if (!(c.barrierTol > 0 && c.barrierTol < 1)) invalid('config.barrierTol', `must be in (0, 1), got ${c.barrierTol}`);
    return c;
  },
  async run(ctx, c): Promise<RecipeResult> {
    const ms = await modePairs(ctx, c, ['spawn', 'independent', 'weight-matched']);
    const connected = ms.filter((m) => m.condition !== 'independent' && m.barrier.error <= c.barrierTol);
    const unaligned = ms.filter((m) => m.condition === 'independent');
    const wa = (m: PairMeasure[], layer: string): number[] => m.map((p) => p.llfc.weakAdditivity.find((w) => w.layer === layer)!.oneMinusCos.mean);
    const com = (m: PairMeasure[], layer: string): number[] => m.map((p) => p.llfc.commutativity.find((w) => w.layer === layer)!.distance);
    const waLayers = ms[0]!.llfc.weakAdditivity.map((w) => w.layer);
    // the first dense layer reads the input, identical for both models, so Dist_com = 0 there trivially
    const comLayers = ms[0]!.llfc.commutativity.map((w) => w.layer).filter((l) => Math.max(...com(ms, l)) > 1e-12);
    const est: Record<string, Estimate> = {};
    const vWa: Verdict[] = [];
    const vCom: Verdict[] = [];
    for (const l of waLayers) {
      est[`weak additivity unaligned ${l}`] = estimate(wa(unaligned, l));
      if (connected.length > 0) {
        est[`weak additivity connected ${l}`] = estimate(wa(connected, l));
        vWa.push(below(est[`weak additivity connected ${l}`]!, est[`weak additivity unaligned ${l}`]!));
      }
    }
    for (const l of comLayers) {
      est[`commutativity unaligned ${l}`] = estimate(com(unaligned, l));
      if (connected.length > 0) {
        est[`commutativity connected ${l}`] = estimate(com(connected, l));
        vCom.push(below(est[`commutativity connected ${l}`]!, est[`commutativity unaligned ${l}`]!));
      }
    }
    const none = connected.length === 0;
    const line = (kind: 'weak additivity' | 'commutativity', layers: string[]): string =>
      layers.map((l) => `${l}: connected ${none ? 'n/a' : fmt(est[`${kind} connected ${l}`]!, 4)} vs unaligned ${fmt(est[`${kind} unaligned ${l}`]!, 4)}`).join('; ');
    const paper = 'S004: weak additivity for ReLU (Definition 3) and commutativity (Definition 4) jointly imply LLFC (Theorem 1) and hold empirically for linearly connected modes; no numbers given.';
    const checks: ClaimCheck[] = [
      {
        claim: 'Weak additivity of ReLU holds for linearly connected modes: ReLU((1-a) h_A + a h_B) ≈ (1-a) ReLU(h_A) + a ReLU(h_B), far better than for unaligned modes.',
        paper,
        measured: `E[1 - cos] at alpha 0.5 (${connected.length} connected pairs, barrier <= ${c.barrierTol}): ${line('weak additivity', waLayers)}. Criterion: held when at every ReLU layer the connected CI lies below the unaligned one.`,
        verdict: none ? 'inconclusive' : allOf(vWa),
        estimates: Object.fromEntries(Object.entries(est).filter(([k]) => k.startsWith('weak'))),
      },
      {
        claim: 'Commutativity holds for linearly connected modes: (W_A - W_B)(H_A - H_B) ≈ 0, far smaller than for unaligned modes.',
        paper,
        measured: `Dist_com: ${line('commutativity', comLayers)}. Criterion: held when at every dense layer the connected CI lies below the unaligned one.`,
        verdict: none ? 'inconclusive' : allOf(vCom),
        estimates: Object.fromEntries(Object.entries(est).filter(([k]) => k.startsWith('comm'))),
      },
    ];
    const rowsFor = (kind: 'weak additivity' | 'commutativity', layers: string[]): Figure['rows'] =>
      (['connected', 'unaligned'] as const).flatMap((g) =>
        none && g === 'connected' ? [] : layers.map((l, k) => ({ x: k + 1, layer: l, series: g, y: est[`${kind} ${g} ${l}`]!.mean, lo: est[`${kind} ${g} ${l}`]!.lo, hi: est[`${kind} ${g} ${l}`]!.hi })),
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
        `[OPEN] Connected pairs: spawned or weight-matched pairs with a test-error barrier <= ${c.barrierTol}; unconnected: unaligned independent pairs.`,
        '[OPEN] Dist_com normalised by ||W_A H_A - W_B H_B||² (seeds-spec C8); weak additivity as E[1 - cos] of the two sides (C7).',
        'Dense layers that read the input (H_A = H_B, so Dist_com = 0 trivially) are left out of the commutativity claim.',
      ],
      data: { pairs: ms.map((m) => ({ condition: m.condition, pair: m.pair, barrier: m.barrier, weakAdditivity: m.llfc.weakAdditivity, commutativity: m.llfc.commutativity })), estimates: est },
    };
  },
};
