// Planted-data tests of the S003, S004 and S001 recipes' verdict logic (issue 15): each recipe's
// pure decision function gets synthetic measurements where the claim is true ("held"), false
// ("not held") or a null ("inconclusive"), plus the estimator-warning and lower-bound rules.
import { describe, expect, it } from 'vitest';
import { Matrix, createRng, haarOrthogonal, matmul } from '@basis/tensor';
import { pairs } from './common.js';
import { decideE0031, type E0031Trial } from './e003-1.js';
import { decideE0032, type StitchCell } from './e003-2.js';
import { decideE0033 } from './e003-3.js';
import { decideE0034, type E0034Cell } from './e003-4.js';
import { decideE0035, type E0035Family } from './e003-5.js';
import { decideE0036, rotateBasis, selectiveUnits } from './e003-6.js';
import { decideE0037, type Draw } from './e003-7.js';
import { decideE0041, type E0041Pair } from './e004-1.js';
import { decideE0042, type E0042Pair } from './e004-2.js';
import { decideE0043 } from './e004-3.js';
import { decideV0011, type V0011Run } from './v001-1.js';
import { decideV0012, type CensusCounts } from './v001-2.js';
import { decideV0013, laplaceNEff, type ModelResult } from './v001-3.js';
import { decideV0014, type ModelBasisSummary } from './v001-4.js';
import type { ClaimCheck } from './types.js';
import { estimate } from '../runner/estimate.js';

const verdicts = (cs: ClaimCheck[]): string[] => cs.map((c) => c.verdict);
const M = 5;
const PS = pairs(M);
const rng = createRng('planted');
const jitter = (sd: number): number => sd * rng.normal();
/** Model effects +a / −a alternating: the mean over pairs is exactly 0 but the between-model spread is large. */
const nullPair = (a: number, [i, j]: readonly [number, number]): number => (i % 2 === 0 ? a : -a) + (j % 2 === 0 ? a : -a);

describe('E003-1', () => {
  const trials = (pen: Record<'identity' | 'grelu' | 'orthogonal', (m: number) => number>): E0031Trial[] =>
    [0, 1, 2, 3, 4].flatMap((m) => (['identity', 'grelu', 'orthogonal'] as const).map((kind) => ({ model: m, trial: 0, layer: 'layers.2', kind, before: 0.95, after: 0.95 - pen[kind](m), lossBefore: 0.2, lossAfter: 0.2 + 3 * pen[kind](m) })));
  it('true → held ×3', () => {
    expect(verdicts(decideE0031(trials({ identity: () => jitter(0.001), grelu: () => jitter(0.001), orthogonal: () => 0.06 + jitter(0.003) }), ['layers.2']).checks)).toEqual(['held', 'held', 'held']);
  });
  it('false → not held ×3 (G_ReLU costs more than orthogonal)', () => {
    expect(verdicts(decideE0031(trials({ identity: () => jitter(0.001), grelu: () => 0.08 + jitter(0.003), orthogonal: () => 0.01 + jitter(0.003) }), ['layers.2']).checks)).toEqual(['not held', 'not held', 'not held']);
  });
  it('null: the contrast is within the fine-tuning noise → inconclusive', () => {
    const v = verdicts(decideE0031(trials({ identity: (m) => (m % 2 === 0 ? 0.03 : -0.03), grelu: (m) => (m % 2 === 0 ? 0.02 : -0.02), orthogonal: (m) => (m % 2 === 0 ? 0.035 : -0.015) }), ['layers.2']).checks);
    expect(v[0]).toBe('inconclusive');
  });
});

const LAYERS = ['layers.1', 'layers.3', 'layers.5'];
function cells(pen: (kind: string, l: number, p: readonly [number, number]) => number): StitchCell[] {
  return PS.flatMap((p) => LAYERS.flatMap((layer, l) => ['affine', 'grelu', 'rank-1'].map((kind) => ({ pair: p, layer, kind, penalty: pen(kind, l, p), stitched: 0, bottom: 0, top: 0 }))));
}

describe('E003-2', () => {
  it('true → held ×5', () => {
    const c = cells((k, l) => (k === 'affine' ? 0.002 : k === 'grelu' ? [0.03, 0.08, 0.04][l]! : 0.3) + jitter(0.001));
    expect(verdicts(decideE0032(c, LAYERS, ['affine', 'grelu', 'rank-1'], M).checks)).toEqual(['held', 'held', 'held', 'held', 'held']);
  });
  it('false → not held ×5', () => {
    const c = cells((k, l) => (k === 'affine' ? 0.7 : k === 'grelu' ? [0.5, 0.3, 0.6][l]! : 0.1) + jitter(0.001));
    expect(verdicts(decideE0032(c, LAYERS, ['affine', 'grelu', 'rank-1'], M).checks)).toEqual(['not held', 'not held', 'not held', 'not held', 'not held']);
  });
  it('null: rank-1 and G_ReLU equal on average, spread between models → inconclusive', () => {
    const c = cells((k, _l, p) => (k === 'rank-1' ? 0.1 + nullPair(0.05, p) : k === 'grelu' ? 0.1 : 0.01));
    expect(verdicts(decideE0032(c, LAYERS, ['affine', 'grelu', 'rank-1'], M).checks)[2]).toBe('inconclusive');
  });
});

describe('E003-3', () => {
  const slopes = [0, 0.1, 0.6, 1];
  const at = (f: (s: number, p: readonly [number, number]) => number): Record<string, StitchCell[]> =>
    Object.fromEntries(slopes.map((s) => [String(s), PS.flatMap((p) => ['affine', 'grelu'].map((kind) => ({ pair: p, layer: 'layers.3', kind, penalty: kind === 'affine' ? 0.003 : f(s, p), stitched: 0, bottom: 0, top: 0 })))]));
  it('true: flat below 1, a jump at 1, affine about 0 → held ×3', () => {
    expect(verdicts(decideE0033(at((s) => (s === 1 ? 0.3 : 0.1) + jitter(0.002)), slopes, 'layers.3', M, 0.05).checks)).toEqual(['held', 'held', 'held']);
  });
  it('false: a steep trend below 1 and no jump at 1 → not held, not held', () => {
    expect(verdicts(decideE0033(at((s) => (s === 1 ? 0.1 + 0.5 * (0.7 / 3) : 0.1 + 0.5 * s) + jitter(0.002)), slopes, 'layers.3', M, 0.05).checks).slice(0, 2)).toEqual(['not held', 'not held']);
  });
  it('null: a jump of 0 on average with a large spread → inconclusive', () => {
    expect(verdicts(decideE0033(at((s, p) => 0.1 + (s === 1 ? nullPair(0.1, p) : 0)), slopes, 'layers.3', M, 0.05).checks)[1]).toBe('inconclusive');
  });
});

describe('E003-4', () => {
  const mk = (g: (l: number, p: readonly [number, number]) => number, o: (l: number, p: readonly [number, number]) => number): E0034Cell[] =>
    PS.flatMap((p) => LAYERS.map((layer, l) => ({ pair: p, layer, grelu: g(l, p), muO: o(l, p), muOColnorm: Math.max(g(l, p), o(l, p)) + 0.01 })));
  it('true: G_ReLU below orthogonal everywhere, a dip in the middle → held ×3', () => {
    expect(verdicts(decideE0034(mk((l) => [0.6, 0.45, 0.5][l]! + jitter(0.002), (l) => [0.75, 0.55, 0.6][l]! + jitter(0.002)), LAYERS, M).checks)).toEqual(['held', 'held', 'held']);
  });
  it('false: G_ReLU above orthogonal, a peak in the middle, and an inclusion violation → not held ×3', () => {
    const cs = mk((l) => [0.6, 0.8, 0.5][l]! + jitter(0.002), (l) => [0.4, 0.6, 0.3][l]! + jitter(0.002));
    cs[0] = { ...cs[0]!, muOColnorm: cs[0]!.grelu - 0.05 };
    expect(verdicts(decideE0034(cs, LAYERS, M).checks)).toEqual(['not held', 'not held', 'not held']);
  });
  it('null: equal on average with a large spread between models → inconclusive', () => {
    expect(verdicts(decideE0034(mk((_l, p) => 0.5 + nullPair(0.05, p), () => 0.5), LAYERS, M).checks)[0]).toBe('inconclusive');
  });
  it('two hidden layers: the depth shape is inconclusive with the reason', () => {
    const r = decideE0034(mk(() => 0.5, () => 0.6).filter((c) => c.layer !== 'layers.5'), LAYERS.slice(0, 2), M).checks[1]!;
    expect(r.verdict).toBe('inconclusive');
    expect(r.warnings?.[0]).toMatch(/only 2 hidden layers/);
  });
});

describe('E003-5', () => {
  const L = 3;
  const fam = (layers: string[], f: (id: string, i: number, j: number, p: readonly [number, number]) => number): E0035Family => ({
    layers,
    models: M,
    maps: PS.map((p) => ({ pair: [p[0], p[1]] as [number, number], values: Object.fromEntries(['cka.linear.unbiased', 'grelu.cka'].map((id) => [id, layers.map((_, i) => layers.map((_, j) => f(id, i, j, p)))])) })),
  });
  const resLayers = ['layers.1', 'blocks.0.act', 'blocks.0.out', 'blocks.1.act', 'blocks.1.out'];
  const mlpLayers = ['layers.1', 'layers.3', 'layers.5'];
  it('true → held ×4', () => {
    const mlp = fam(mlpLayers, (id, i, j) => (i === j ? (id === 'grelu.cka' ? [0.9, 0.8, 0.6][i]! : [0.95, 0.9, 0.85][i]!) : id === 'grelu.cka' ? 0.55 - 0.1 * Math.abs(i - j) : 0.5 - 0.2 * Math.abs(i - j)) + jitter(0.002));
    const res = fam(resLayers, (_id, i, j) => (i === j ? (resLayers[i]!.endsWith('.act') ? 0.6 : 0.9) : 0.3) + jitter(0.002));
    expect(verdicts(decideE0035(mlp, res))).toEqual(['held', 'held', 'held', 'held']);
  });
  it('false → not held ×4 (off-diagonal maxima, G_ReLU-CKA higher late, sharper contrast, no block structure)', () => {
    const mlp = fam(mlpLayers, (id, i, j) => (i === j ? (id === 'grelu.cka' ? 0.3 : 0.2) : id === 'grelu.cka' ? (i === 0 && j === L - 1 ? -0.2 : 0.6) : i === 0 && j === L - 1 ? 0.1 : 0.7 - 0.3 * ((i + 2 * j) % 3)) + jitter(0.002));
    const res = fam(resLayers, (_id, i, j) => (i === j ? (resLayers[i]!.endsWith('.act') ? 0.9 : 0.5) : 0.3) + jitter(0.002));
    expect(verdicts(decideE0035(mlp, res))).toEqual(['not held', 'not held', 'not held', 'not held']);
  });
  it('null: the two measures equal on average with spread → inconclusive on the scale-sensitive claims', () => {
    const mlp = fam(mlpLayers, (id, i, j, p) => (i === j ? 0.8 : 0.4) + (id === 'grelu.cka' ? nullPair(0.05, p) : 0));
    const res = fam(resLayers, (_id, i, j, p) => (i === j ? 0.8 + (resLayers[i]!.endsWith('.act') ? nullPair(0.05, p) : 0) : 0.3));
    const v = verdicts(decideE0035(mlp, res));
    expect([v[1], v[2], v[3]]).toEqual(['inconclusive', 'inconclusive', 'inconclusive']);
  });
});

describe('E003-7', () => {
  const draw = (out: number, feat: number, change: number, grelu: number, cka: number, orth: number): Draw => ({ model: 0, draw: 0, outputError: out, featureError: feat, layers: [{ layer: 'layers.1', change, cka, grelu, permcorr: 0.5 }], orthogonalOutputError: orth });
  it('true → held ×4', () => {
    expect(verdicts(decideE0037([draw(1e-13, 1e-13, 0.5, 1, 0.9, 0.3), draw(1e-12, 1e-13, 0.6, 1, 0.8, 0.31), draw(1e-12, 1e-13, 0.6, 1, 0.8, 0.32)], ['layers.1'], 'layers.2', 'layers.3').checks)).toEqual(['held', 'held', 'held', 'held']);
  });
  it('false → not held ×4', () => {
    expect(verdicts(decideE0037([draw(1e-3, 1e-3, 0.01, 0.9, 0.9999, 0.001), draw(1e-3, 1e-3, 0.01, 0.9, 0.9999, 0.002)], ['layers.1'], 'layers.2', 'layers.3').checks)).toEqual(['not held', 'not held', 'not held', 'not held']);
  });
  it('null: the orthogonal control straddles its threshold → inconclusive', () => {
    expect(verdicts(decideE0037([draw(0, 0, 0.5, 1, 0.9, 0.0), draw(0, 0, 0.5, 1, 0.9, 0.03)], ['layers.1'], 'layers.2', 'layers.3').checks)[3]).toBe('inconclusive');
  });
});

describe('E004-1', () => {
  const c = { barrierTol: 0.02, llfcRatio: 0.25, minDistinct: 0.01 };
  const pair = (condition: string, pair: number, barrierError: number, ratio: number, cosAB = 0.2): E0041Pair => ({ condition, pair, barrierError, ratios: [ratio, ratio], cosAB: [cosAB, cosAB] });
  const set = (wmBar: (p: number) => number, wmRatio: (p: number) => number, unRatio: (p: number) => number, spawnCos: number): E0041Pair[] => [
    ...PS.map((_, p) => pair('weight-matched', p, wmBar(p), wmRatio(p))),
    ...PS.map((_, p) => pair('independent', p, 0.3, unRatio(p))),
    ...[0, 1, 2].map((p) => pair('spawn-1', p, 0.005, wmRatio(p), spawnCos)),
  ];
  it('true: matched and spawned pairs connected with small ratios; unaligned large → held ×3', () => {
    expect(verdicts(decideE0041(set(() => 0.005 + jitter(0.001), () => 0.1 + jitter(0.005), () => 0.8 + jitter(0.01), 0.1), PS, M, c))).toEqual(['held', 'held', 'held']);
  });
  it('false: connected pairs with large ratios; unaligned no worse → not held ×3', () => {
    expect(verdicts(decideE0041(set(() => 0.005 + jitter(0.001), () => 0.9 + jitter(0.005), () => 0.5 + jitter(0.01), 0.1), PS, M, c))).toEqual(['not held', 'not held', 'not held']);
  });
  it('null: matched pairs not connected, spawned pairs nearly identical → inconclusive with the reasons', () => {
    const r = decideE0041(set(() => 0.1 + jitter(0.005), () => 0.1, () => 0.8, 0.001), PS, M, c);
    expect(verdicts(r).slice(0, 2)).toEqual(['inconclusive', 'inconclusive']);
    expect(r[0]!.warnings?.[0]).toMatch(/LMC is not established/);
    expect(r[1]!.warnings?.[0]).toMatch(/nearly identical/);
  });
  it('spawned pairs of one parent lineage are not independent: lineages far apart → inconclusive, where a t interval over all 15 pairs would say held', () => {
    // 5 lineages x 3 spawn points, ratios set by the lineage (+ tiny noise): mean 0.16, lineage means 0.05..0.30
    const lineage = [0.05, 0.1, 0.15, 0.2, 0.3];
    const spawned = [0, 1, 2].flatMap((k) => lineage.map((r, p) => pair(`spawn-${k}`, p, 0.005, r + jitter(0.002))));
    const ms = [...PS.map((_, p) => pair('weight-matched', p, 0.005, 0.1 + jitter(0.005))), ...PS.map((_, p) => pair('independent', p, 0.3, 0.8 + jitter(0.01))), ...spawned];
    const naive = estimate(spawned.map((m) => m.ratios[0]!));
    expect(naive.hi).toBeLessThan(c.llfcRatio); // the naive interval would have called it held
    const check = decideE0041(ms, PS, M, c)[1]!;
    expect(check.verdict).toBe('inconclusive');
    expect(check.estimates?.['spawnedRatio']?.n).toBe(5);
    expect(check.estimates?.['spawnedRatio']?.hi).toBeGreaterThan(c.llfcRatio);
    expect(check.measured).toMatch(/5 parent lineages/);
    // the same lineages, all well below the threshold → held
    const low = [0, 1, 2].flatMap((k) => [0.05, 0.07, 0.06, 0.08, 0.05].map((r, p) => pair(`spawn-${k}`, p, 0.005, r + jitter(0.002))));
    expect(decideE0041([...ms.filter((m) => !m.condition.startsWith('spawn')), ...low], PS, M, c)[1]!.verdict).toBe('held');
  });
});

describe('E004-2', () => {
  const mk = (cond: string, p: number, bar: number, wa: number, com: number): E0042Pair => ({ condition: cond, pair: p, barrierError: bar, wa: { 'layers.1': wa, 'layers.3': wa }, com: { 'layers.0': 0, 'layers.2': com } });
  const set = (bar: number, wm: (p: readonly [number, number]) => number, un: (p: readonly [number, number]) => number): E0042Pair[] => [...PS.map((p, k) => mk('weight-matched', k, bar + jitter(0.001), wm(p), wm(p))), ...PS.map((p, k) => mk('independent', k, 0.3, un(p), un(p)))];
  it('true → held ×2', () => {
    expect(verdicts(decideE0042(set(0.005, () => 0.05 + jitter(0.002), () => 0.4 + jitter(0.01)), PS, M, 0.02).checks)).toEqual(['held', 'held']);
  });
  it('false → not held ×2', () => {
    expect(verdicts(decideE0042(set(0.005, () => 0.5 + jitter(0.002), () => 0.1 + jitter(0.01)), PS, M, 0.02).checks)).toEqual(['not held', 'not held']);
  });
  it('null: equal on average with spread → inconclusive; not connected → inconclusive with the reason', () => {
    expect(verdicts(decideE0042(set(0.005, (p) => 0.3 + nullPair(0.1, p), () => 0.3), PS, M, 0.02).checks)).toEqual(['inconclusive', 'inconclusive']);
    const r = decideE0042(set(0.2, () => 0.05, () => 0.4), PS, M, 0.02).checks;
    expect(verdicts(r)).toEqual(['inconclusive', 'inconclusive']);
    expect(r[0]!.warnings?.join(' ')).toMatch(/not established as linearly connected/);
  });
});

describe('E004-3', () => {
  const set = (w: (p: readonly [number, number]) => number, a: (p: readonly [number, number]) => number) => [
    ...PS.map((_p, k) => ({ condition: 'independent', pair: k, com: { 'layers.0': 0, 'layers.2': 0.5 } })),
    ...PS.map((p, k) => ({ condition: 'weight-matched', pair: k, com: { 'layers.0': 0, 'layers.2': w(p) } })),
    ...PS.map((p, k) => ({ condition: 'activation-matched', pair: k, com: { 'layers.0': 0, 'layers.2': a(p) } })),
  ];
  it('true → held ×2; false → not held ×2; null → inconclusive ×2', () => {
    expect(verdicts(decideE0043(set(() => 0.1 + jitter(0.005), () => 0.2 + jitter(0.005)), PS, M).checks)).toEqual(['held', 'held']);
    expect(verdicts(decideE0043(set(() => 0.8 + jitter(0.005), () => 0.7 + jitter(0.005)), PS, M).checks)).toEqual(['not held', 'not held']);
    expect(verdicts(decideE0043(set((p) => 0.5 + nullPair(0.1, p), (p) => 0.5 - nullPair(0.1, p)), PS, M).checks)).toEqual(['inconclusive', 'inconclusive']);
  });
});

describe('V001-1', () => {
  const toyEps = [1e-12, 1e-4];
  const c = { c: 0.01, tol: 0.05, draws: 1000 };
  const run = (seed: number, sq: number, cross: number, prod: number, reg: number, warn: string[] = []): V0011Run => ({ seed, square3d: sq, square3dHits: 100, cross, product: prod, regression: reg, regressionWarnings: warn, productHits: 100, epsEff: 0.01 });
  // exact toy values: lambda(1e-12) ~ 0.5, lambda(1e-4) ~ 0.251 for c = 0.01
  it('true → held ×5', () => {
    const r = decideV0011({ toyEst: [0.4999, 0.2511], runs: [0, 1, 2].map((s) => run(s, 0.5 + jitter(0.002), 0.3552 + jitter(0.002), 0.5 + jitter(0.002), 5 + jitter(0.05))) }, toyEps, 1e-3, c);
    expect(verdicts(r.checks).slice(1)).toEqual(['held', 'held', 'held', 'held']);
  });
  it('false → not held (toy off the exact curve; estimators far from their exact values)', () => {
    const r = decideV0011({ toyEst: [0.3, 0.4], runs: [0, 1, 2].map((s) => run(s, 1 + jitter(0.002), 0.9 + jitter(0.002), 1 + jitter(0.002), 9 + jitter(0.05))) }, toyEps, 1e-3, c);
    expect(verdicts(r.checks)).toEqual(['not held', 'not held', 'not held', 'not held', 'not held']);
  });
  it('null and warnings: wide intervals → inconclusive; SGLD warnings force inconclusive', () => {
    const r = decideV0011({ toyEst: [0.5, 0.25], runs: [run(0, 0.4, 0.2, 0.4, 4), run(1, 0.6, 0.5, 0.6, 6), run(2, 0.5, 0.35, 0.5, 5.1, ['low effective sample size: ESS = 20'])] }, toyEps, 1e-3, c);
    expect(verdicts(r.checks).slice(1)).toEqual(['inconclusive', 'inconclusive', 'inconclusive', 'inconclusive']);
    expect(r.checks[4]!.warnings?.[0]).toMatch(/ESS/);
  });
});

describe('V001-2', () => {
  const o = { widths: [32, 64], epochs: [0, 2], seeds: [0, 1, 2, 3, 4], eps: [1e-6, 1e-4, 1e-2], minChange: 0.05 };
  const census = (f: (w: number, e: number, k: number, s: number) => number): CensusCounts[] =>
    o.widths.flatMap((w) => o.epochs.flatMap((e) => o.seeds.map((s) => ({ width: w, epochs: e, seed: s, layers: [{ d: w, counts: o.eps.map((_, k) => ({ lowVariance: f(w, e, k, s) })) }] }))));
  it('true: wider and trained → more low-variance directions; the count moves with eps → held ×3', () => {
    expect(verdicts(decideV0012(census((w, e, k, s) => (e > 0 ? w / 4 : 2) + 5 * k + (s % 2)), o))).toEqual(['held', 'held', 'held']);
  });
  it('false: narrower and untrained have more; the count does not move with eps → not held ×3', () => {
    expect(verdicts(decideV0012(census((w, e, _k, s) => (e > 0 ? 40 - w / 2 : 30) + (s % 2)), o))).toEqual(['not held', 'not held', 'not held']);
  });
  it('null: no difference on average, large spread between seeds → inconclusive ×3', () => {
    expect(verdicts(decideV0012(census((w, _e, k, s) => 10 + (s % 2 === 0 ? 6 : -6) * (w === 64 ? 1 : -1) + (k === 2 ? (s % 2 === 0 ? 6 : -2) : 0) + (s === 4 ? 3 : 0)), o))).toEqual(['inconclusive', 'inconclusive', 'inconclusive']);
  });
});

describe('V001-3', () => {
  const widths = [4, 16];
  const factors = [0.3, 3];
  /** A model whose SGLD values match their Laplace values (relative offset `off`) unless `laplace` is given. */
  const model = (width: number, seed: number, nEff: [number, number], rank: number, warnings: string[] = [], laplace?: [number, number], parameters = width * 10): ModelResult => ({
    width,
    seed,
    parameters,
    accuracy: 1,
    hessianRank: rank,
    sgld: factors.map((f, k) => ({ nBeta: f, nEff: nEff[k]!, epsEff: 0.01, laplace: laplace?.[k] ?? nEff[k]! * (1 + jitter(0.01)), step: 1e-4 / f, ess: 800, warnings })),
  });
  const good = (w: number, s: number, warnings: string[] = []): ModelResult => model(w, s, [w * 5 * (w === 4 ? 0.8 : 0.5) + jitter(0.2), w * 5 * (w === 4 ? 0.9 : 0.6) + jitter(0.2)], w * 2, warnings);
  it('true: N_eff and rank(H) below N, N_eff above rank(H), relatively smaller when wider, rising with n beta, at its Laplace value → held ×5', () => {
    const rs = widths.flatMap((w) => [0, 1, 2, 3].map((s) => good(w, s)));
    expect(verdicts(decideV0013(rs, widths, factors).checks)).toEqual(['held', 'held', 'held', 'held', 'held']);
  });
  it('false: N_eff above N and falling with n beta → not held', () => {
    const rs = widths.flatMap((w) => [0, 1, 2, 3].map((s) => model(w, s, [w * 20 + jitter(0.2), w * 15 + jitter(0.2)], w * 2)));
    const v = verdicts(decideV0013(rs, widths, factors).checks);
    expect([v[0], v[3]]).toEqual(['not held', 'not held']);
  });
  it('a regular model (rank(H) = N) is not called degenerate, whatever the localisation does to N_eff', () => {
    const rs = widths.flatMap((w) => [0, 1, 2, 3].map((s) => model(w, s, [w * 3 + jitter(0.2), w * 6 + jitter(0.2)], w * 10)));
    expect(decideV0013(rs, widths, factors).checks[0]!.verdict).not.toBe('held');
  });
  it('non-converged chains (low ESS, split-R̂) force inconclusive even when the numbers look like "held"', () => {
    const rs = widths.flatMap((w) => [0, 1, 2, 3].map((s) => good(w, s, ['low effective sample size: ESS = 25', 'the chains disagree: split-R̂ of the loss traces = 1.520 > 1.1'])));
    const r = decideV0013(rs, widths, factors).checks;
    expect(verdicts(r)).toEqual(['inconclusive', 'inconclusive', 'inconclusive', 'inconclusive', 'inconclusive']);
    expect(r[0]!.warnings?.join(' ')).toMatch(/split-R̂/);
  });
  it('localisation: N_eff below rank(H) but at its Laplace value → the bound is not held, the other claims are decided', () => {
    const rs = widths.flatMap((w) => [0, 1, 2, 3].map((s) => model(w, s, [w * 2 + jitter(0.1), w * (w === 4 ? 3.5 : 2.5) + jitter(0.1)], w * 8)));
    const r = decideV0013(rs, widths, factors).checks;
    expect(verdicts(r)).toEqual(['held', 'not held', 'held', 'held', 'held']);
  });
  it('a biased sampler (N_eff 30% above its Laplace value) makes the N_eff claims inconclusive and the agreement check not held', () => {
    const rs = widths.flatMap((w) => [0, 1, 2, 3].map((s) => {
      const m = good(w, s);
      return model(w, s, [m.sgld[0]!.nEff, m.sgld[1]!.nEff], w * 2, [], [m.sgld[0]!.nEff / 1.3, m.sgld[1]!.nEff / 1.3]);
    }));
    const r = decideV0013(rs, widths, factors).checks;
    expect(verdicts(r)).toEqual(['inconclusive', 'inconclusive', 'inconclusive', 'inconclusive', 'not held']);
    expect(r[2]!.warnings?.join(' ')).toMatch(/from its Laplace value/);
  });
  it('laplaceNEff: sum of n beta h / (n beta h + gamma) over the positive eigenvalues, tending to the rank', () => {
    expect(laplaceNEff([2, 1, 0, -1e-9], 100, 100)).toBeCloseTo(2 / 3 + 1 / 2, 12);
    expect(laplaceNEff([2, 1, 0], 1e9, 1)).toBeCloseTo(2, 6);
  });
});

describe('V001-4', () => {
  const summary = (r: number, s: number): ModelBasisSummary['summary'] => [
    { name: 'input', d: 784, r, s: r, activationReduction: 784 - r, jacobianReduction: 0 },
    { name: 'layers.1', d: 64, r: 60, s: 40, activationReduction: 4, jacobianReduction: 20 },
    { name: 'layers.3', d: 64, r: 50, s, activationReduction: 14, jacobianReduction: 50 - s },
    { name: 'logits', d: 10, r: 10, s: 10, activationReduction: 0, jacobianReduction: 0 },
  ];
  const model = (r: number, s: number, ib: number, nb: number, cIb: number, cN: number): ModelBasisSummary => ({ summary: summary(r, s), sparsityIb: [ib + jitter(0.005), ib + jitter(0.005), ib + jitter(0.005)], sparsityNeuron: [nb, nb, nb, nb], costIb: cIb + jitter(0.05), costNeuron: cN });
  const o = { inputs: 2000, dOut: 10, eps: 1e-4, sparsityTol: 0.01 };
  it('true → held ×4', () => {
    const ms = [0, 1, 2].map(() => model(600, 10, 0.5, 0.2, 3, 6));
    expect(verdicts(decideV0014({ sqrt: ms, inv_sqrt: ms }, o).checks)).toEqual(['held', 'held', 'held', 'held']);
  });
  it('false → not held ×4', () => {
    const ms = [0, 1, 2].map(() => model(784, 30, 0.1, 0.4, 8, 6));
    const other = ms.map((m) => ({ ...m, summary: m.summary.map((x) => ({ ...x, s: x.s + 1 })) }));
    expect(verdicts(decideV0014({ sqrt: ms, inv_sqrt: other }, o).checks)).toEqual(['not held', 'not held', 'not held', 'not held']);
  });
  it('null: the sample size caps the input rank; no sparsity or cost difference on average → inconclusive', () => {
    const ms = [0, 1, 2, 3].map((k) => ({ ...model(500, 10, 0.3, 0.3, 5, 5), sparsityIb: [0.3 + (k % 2 === 0 ? 0.1 : -0.1), 0.3, 0.3], costIb: 5 + (k % 2 === 0 ? 1 : -1) }));
    const v = verdicts(decideV0014({ sqrt: ms, inv_sqrt: ms }, { ...o, inputs: 500 }).checks);
    expect(v.slice(0, 3)).toEqual(['inconclusive', 'inconclusive', 'inconclusive']);
  });
});

describe('E003-6', () => {
  const alphas = [0, 0.5, 1];
  const curves = (post: (m: number) => number[], pre: (m: number) => number[]) => [0, 1, 2, 3, 4].map((m) => ({ model: m, draw: 0, post: post(m), pre: pre(m) }));
  it('true: post-ReLU selectivity falls with rotation, pre-activation does not → held ×3', () => {
    expect(verdicts(decideE0036(curves(() => [0.6 + jitter(0.01), 0.4, 0.2 + jitter(0.01)], () => [0.3 + jitter(0.01), 0.32, 0.33 + jitter(0.01)]), alphas, 0.05).checks)).toEqual(['held', 'held', 'held']);
  });
  it('false: post-ReLU rises, pre-activation falls → not held ×3', () => {
    expect(verdicts(decideE0036(curves(() => [0.2 + jitter(0.01), 0.3, 0.4 + jitter(0.01)], () => [0.6 + jitter(0.01), 0.4, 0.2 + jitter(0.01)]), alphas, 0.05).checks)).toEqual(['not held', 'not held', 'not held']);
  });
  it('null: changes of 0 on average with a large spread between models → inconclusive', () => {
    const v = verdicts(decideE0036(curves((m) => [0.5, 0.5, 0.5 + (m % 2 === 0 ? 0.2 : -0.2) + (m === 4 ? -0.2 : 0)], (m) => [0.5, 0.5, 0.5 - (m % 2 === 0 ? 0.2 : -0.2) - (m === 4 ? -0.2 : 0)]), alphas, 0.05).checks);
    expect([v[0], v[2]]).toEqual(['inconclusive', 'inconclusive']);
  });
});

describe('E003-6 selectivity and rotation', () => {
  const labels = Int32Array.from({ length: 60 }, (_, i) => i % 3);
  // unit 0 fires for class 0 only; unit 1 is noise; unit 2 is constant
  const R = new Matrix(60, 3, Float64Array.from({ length: 180 }, (_, k) => {
    const i = Math.floor(k / 3);
    const j = k % 3;
    return j === 0 ? (labels[i] === 0 ? 3 : 0) + 0.1 * Math.sin(i) : j === 1 ? Math.cos(7 * i) : 1;
  }));
  it('counts the selective unit only, and rejects bad input', () => {
    expect(selectiveUnits(R, labels, 1)).toEqual([0]);
    expect(() => selectiveUnits(R, labels.slice(0, 10), 1)).toThrow(/labels for 60 rows/);
    expect(() => selectiveUnits(R, new Int32Array(60), 1)).toThrow(/at least 2 classes/);
    expect(() => selectiveUnits(R, labels, Number.NaN)).toThrow(/t must be/);
  });
  it('alpha = 0 keeps the count and every rotation keeps the Gram matrix', () => {
    const Q = haarOrthogonal(3, createRng(5), { det: 1 });
    expect(selectiveUnits(rotateBasis(R, Q, 0), labels, 1)).toEqual(selectiveUnits(R, labels, 1));
    for (const a of [0.3, 1]) {
      const Rq = rotateBasis(R, Q, a);
      const g0 = matmul(R, R.transpose());
      const g1 = matmul(Rq, Rq.transpose());
      let worst = 0;
      for (let k = 0; k < g0.data.length; k++) worst = Math.max(worst, Math.abs(g0.data[k]! - g1.data[k]!));
      expect(worst).toBeLessThan(1e-9);
    }
  });
});
