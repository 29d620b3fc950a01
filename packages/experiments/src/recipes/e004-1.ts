// E004-1 (S004): LLFC co-occurs with LMC. Spawned pairs and weight-matched independent pairs
// (usually linearly connected) against unaligned independent pairs: the barrier next to
// E[1 - cos_alpha] and the A-vs-B baseline E[1 - cos_AB] per layer.
import { invalid } from '../runner/check.js';
import { barChart, lineChart, type Figure, type Table } from '../report.js';
import { estimate, fmt } from './e003-shared.js';
import { MODE_PAIRS_PROFILES, checkModePairs, conditionsOf, modePairs, type ModePairsConfig, type PairMeasure } from './e004-shared.js';
import type { ClaimCheck, ExperimentRecipe, RecipeResult, Verdict, Profile } from './types.js';

/** Configuration of E004-1 (the pairs of modes and the LMC / LLFC thresholds). */
export interface E0041Config extends ModePairsConfig {
  /** LMC holds when the test-error barrier is at most this (seeds-spec C2 common choice 0.02). */
  barrierTol: number;
  /** LLFC holds at a layer when E[1 - cos_alpha] <= llfcRatio * E[1 - cos_AB]. */
  llfcRatio: number;
}

const PROFILES: Record<Profile, E0041Config> = {
  quick: { ...MODE_PAIRS_PROFILES.quick, barrierTol: 0.02, llfcRatio: 0.25 },
  standard: { ...MODE_PAIRS_PROFILES.standard, barrierTol: 0.02, llfcRatio: 0.25 },
  full: { ...MODE_PAIRS_PROFILES.full, barrierTol: 0.02, llfcRatio: 0.25 },
};

/** Per-layer LLFC ratio `E[1 - cos_alpha] / E[1 - cos_AB]` of a pair. */
export function llfcRatios(m: PairMeasure): Array<{ layer: string; ratio: number; cosAlpha: number; cosAB: number }> {
  return m.llfc.layers.map((l) => ({ layer: l.layer, cosAlpha: l.oneMinusCosAlpha.mean, cosAB: l.oneMinusCosAB.mean, ratio: l.oneMinusCosAB.mean > 0 ? l.oneMinusCosAlpha.mean / l.oneMinusCosAB.mean : l.oneMinusCosAlpha.mean === 0 ? 0 : Infinity }));
}

export const e004_1: ExperimentRecipe<E0041Config> = {
  id: 'E004-1',
  title: 'LLFC co-occurs with LMC (spawned and matched pairs)',
  source: 'S004 (LLFC, Zhou et al. 2023), Definition 1 and Lemma 1',
  profiles: PROFILES,
  checkConfig(v: unknown): E0041Config {
    const c = checkModePairs(v, PROFILES.quick);
    for (const k of ['barrierTol', 'llfcRatio'] as const) if (!(c[k] > 0 && c[k] < 1)) invalid(`config.${k}`, `must be in (0, 1), got ${c[k]}`);
    return c;
  },
  async run(ctx, c): Promise<RecipeResult> {
    const ms = await modePairs(ctx, c, ['spawn', 'independent', 'weight-matched']);
    const conds = conditionsOf(ms);
    const connected = ms.filter((m) => m.barrier.error <= c.barrierTol);
    const layerOk = (m: PairMeasure): number => {
      const r = llfcRatios(m);
      return r.filter((x) => x.ratio <= c.llfcRatio).length / r.length;
    };
    const fractions = connected.map(layerOk);
    const v1: Verdict = connected.length === 0 ? 'inconclusive' : fractions.every((f) => f >= 0.75) ? 'held' : 'not held';
    const meanCos = (m: PairMeasure): number => m.llfc.layers.reduce((s, l) => s + l.oneMinusCosAlpha.mean, 0) / m.llfc.layers.length;
    const unaligned = ms.filter((m) => m.condition === 'independent');
    const eConn = connected.length > 0 ? estimate(connected.map(meanCos), 'connected pairs') : null;
    const eUn = estimate(unaligned.map(meanCos), 'unaligned pairs');
    const eBarUn = estimate(unaligned.map((m) => m.barrier.error), 'unaligned barrier');
    const v2: Verdict = eConn === null ? 'inconclusive' : eUn.lo > eConn.hi && eBarUn.lo > c.barrierTol ? 'held' : eUn.hi <= eConn.lo ? 'not held' : 'inconclusive';
    const byCond = Object.fromEntries(conds.map((k) => [k, ms.filter((m) => m.condition === k)]));
    const est = Object.fromEntries(conds.flatMap((k) => [[`error barrier ${k}`, estimate(byCond[k]!.map((m) => m.barrier.error))], [`mean 1-cos_alpha ${k}`, estimate(byCond[k]!.map(meanCos))]]));
    const checks: ClaimCheck[] = [
      {
        claim: 'Whenever two modes are linearly connected (LMC, via spawning or permutation), the feature maps of almost all layers are linearly connected too (LLFC).',
        paper: 'S004: LLFC holds whenever LMC holds (spawning or permutation alignment), at almost all layers; the blog gives no numbers.',
        measured: `${connected.length} of ${ms.length} pairs have an error barrier <= ${c.barrierTol}; fraction of their layers with E[1-cos_alpha] <= ${c.llfcRatio} E[1-cos_AB]: ${fractions.map((f) => f.toFixed(2)).join(', ') || 'none'}. Criterion: held when every connected pair reaches 0.75; inconclusive without connected pairs.`,
        verdict: v1,
      },
      {
        claim: 'LLFC fails where LMC fails: unaligned independent pairs have a barrier and a larger 1 - cos_alpha than connected pairs.',
        paper: 'S004 Lemma 1: LLFC at the output layer with small endpoint errors implies LMC.',
        measured: `mean-over-layers E[1-cos_alpha]: connected ${eConn === null ? 'n/a' : fmt(eConn, 4)}, unaligned ${fmt(eUn, 4)}; unaligned error barrier ${fmt(eBarUn)}. Criterion: held when the unaligned CI lies above the connected one and the barrier CI above the tolerance.`,
        verdict: v2,
        estimates: { unaligned: eUn, unalignedBarrier: eBarUn, ...(eConn === null ? {} : { connected: eConn }) },
      },
    ];
    const layers = ms[0]!.llfc.layers.map((l) => l.layer);
    const rows: Figure['rows'] = conds.flatMap((k) =>
      layers.map((l, li) => {
        const e = estimate(byCond[k]!.map((m) => m.llfc.layers[li]!.oneMinusCosAlpha.mean));
        return { x: li + 1, layer: l, series: k, y: e.mean, lo: e.lo, hi: e.hi };
      }),
    );
    const base: Figure['rows'] = layers.map((l, li) => {
      const e = estimate(ms.filter((m) => m.condition === 'independent').map((m) => m.llfc.layers[li]!.oneMinusCosAB.mean));
      return { x: li + 1, layer: l, series: 'baseline 1-cos_AB (independent)', y: e.mean, lo: e.lo, hi: e.hi };
    });
    const barRows: Figure['rows'] = conds.flatMap((k) => [
      { group: k, series: 'test error barrier', value: est[`error barrier ${k}`]!.mean },
      { group: k, series: 'mean E[1-cos_alpha]', value: est[`mean 1-cos_alpha ${k}`]!.mean },
    ]);
    const figures: Figure[] = [
      { id: 'llfc-by-layer', title: 'E[1 - cos_alpha] at alpha = 0.5 by layer', caption: 'Mean over pairs with 95% t bands; layer k is the k-th ReLU output, the last the logits. The baseline is E[1 - cos_AB] of unaligned independent pairs.', spec: lineChart([...rows, ...base], { x: 'layer', y: 'E[1 - cos]', band: true }), rows: [...rows, ...base] },
      { id: 'barrier-vs-llfc', title: 'Barrier and LLFC per condition', caption: 'Test-error barrier (max minus linear interpolation) and mean-over-layers E[1 - cos_alpha], mean over pairs.', spec: barChart(barRows, { x: 'condition', y: 'value' }), rows: barRows },
    ];
    const tables: Table[] = [
      {
        id: 'pairs',
        title: 'Every pair: barrier and per-layer LLFC',
        columns: ['condition', 'pair', 'error barrier', 'loss barrier', ...layers.map((l) => `1-cos_alpha / 1-cos_AB ${l}`)],
        rows: ms.map((m) => [m.condition, m.pair, m.barrier.error, m.barrier.loss, ...llfcRatios(m).map((r) => `${r.cosAlpha.toFixed(4)} / ${r.cosAB.toFixed(4)}`)]),
      },
    ];
    return {
      checks,
      figures,
      tables,
      notes: [
        `[OPEN] LMC holds when the test-error barrier (max over alpha of E(alpha) minus the linear interpolation of the endpoints, 11 points) is <= ${c.barrierTol}.`,
        `[OPEN] LLFC holds at a layer when E[1-cos_alpha] <= ${c.llfcRatio} x E[1-cos_AB] at alpha = 0.5 (the LLFC paper's plots; S004 gives no threshold).`,
        '[OPEN] Spawning restarts Adam\'s moments at the spawn point; spawn-0 shares only the initialisation. Weight matching modulo G_ReLU (Git Re-Basin coordinate ascent).',
      ],
      data: { pairs: ms.map((m) => ({ condition: m.condition, pair: m.pair, barrier: m.barrier, endpoints: m.endpoints, layers: llfcRatios(m) })), estimates: est },
    };
  },
};
