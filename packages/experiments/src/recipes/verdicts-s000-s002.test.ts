// Planted-data tests of the S000/S002 recipes' verdict logic (issue 15): each recipe's pure decision
// function gets synthetic measurements where the paper's claim is true ("held"), false ("not held")
// or a noisy null ("inconclusive"). A verdict that could not fail would fail these tests.
import { describe, expect, it } from 'vitest';
import { createRng } from '@basis/tensor';
import { pairs } from './common.js';
import { decideE0001 } from './e000-1.js';
import { decideE0002 } from './e000-2.js';
import { decideE0003 } from './e000-3.js';
import { decideE0004 } from './e000-4.js';
import { decideE0021 } from './e002-1.js';
import { decideE0022 } from './e002-2.js';
import { decideE0023 } from './e002-3.js';
import { decideE0024 } from './e002-4.js';
import { decideE0025 } from './e002-5.js';
import type { ClaimCheck } from './types.js';

const verdicts = (cs: ClaimCheck[]): string[] => cs.map((c) => c.verdict);
const M = 6;
const PS = pairs(M);

/** Per-pair values: base(p) + model effects u_i + u_j + noise; `sdModel`, `sdPair` set the spread. */
function pairValues(seed: string, base: (p: number) => number, sdModel: number, sdPair: number): number[] {
  const rng = createRng(seed);
  const u = Array.from({ length: M }, () => sdModel * rng.normal());
  return PS.map(([i, j], p) => base(p) + u[i]! + u[j]! + sdPair * rng.normal());
}

/** A null with large between-model spread and a mean over pairs of exactly 0: model i adds +a or −a. */
function nullPairs(a: number): number[] {
  return PS.map(([i, j]) => (i % 2 === 0 ? a : -a) + (j % 2 === 0 ? a : -a));
}

function noisy(seed: string, n: number, mean: number, sd: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => mean + sd * rng.normal());
}

describe('E000-1 verdicts on planted data', () => {
  const widths = [16, 32, 64, 128];
  const sweep = (f: (w: number, wi: number) => number, sdModel: number, sdPair: number, seed: string): number[][][] =>
    widths.map((w, wi) => pairValues(`${seed}:${w}`, () => f(w, wi), sdModel, sdPair).map((v) => [v, v + 0.001]));
  const random = sweep(() => 0.2, 0.01, 0.01, 'r');
  const c = { farBelow: 0.9, flatChange: 0.05 };
  it('true: perm-corr far from 1 and flat → held, held', () => {
    expect(verdicts(decideE0001({ widths, pairs: PS, models: M, trained: sweep(() => 0.5, 0.003, 0.003, 'a'), random }, c))).toEqual(['held', 'held']);
  });
  it('false: perm-corr near 1, and a 0.15 rise across the sweep → not held, not held', () => {
    expect(verdicts(decideE0001({ widths, pairs: PS, models: M, trained: sweep((_, wi) => 0.96 + 0.0 * wi, 0.003, 0.003, 'b'), random }, c))[0]).toBe('not held');
    expect(verdicts(decideE0001({ widths, pairs: PS, models: M, trained: sweep((_, wi) => 0.4 + 0.05 * wi, 0.003, 0.003, 'c'), random }, c))[1]).toBe('not held');
  });
  it('null: noisy perm-corr around the threshold and a noisy slope → inconclusive', () => {
    const trained = widths.map((w) => pairValues(`d:${w}`, () => 0.9, 0.06, 0.05).map((v) => [v, v]));
    expect(verdicts(decideE0001({ widths, pairs: PS, models: M, trained, random }, c))).toEqual(['inconclusive', 'inconclusive']);
  });
});

describe('E000-2 verdicts on planted data', () => {
  const c = { tolerance: 0.01, minEffect: 0.005 };
  const n = 6;
  it('true: orthogonal costs clearly more than G_ReLU; controls about 0 → held ×3', () => {
    const p = { identity: noisy('i', n, 0, 0.001), grelu: noisy('g', n, 0, 0.001), orthogonal: noisy('o', n, 0.05, 0.005), 'orthogonal-post': noisy('q', n, 0, 0.001) };
    expect(verdicts(decideE0002(p, c))).toEqual(['held', 'held', 'held']);
  });
  it('false: G_ReLU costs more than orthogonal; controls clearly non-zero → not held ×3', () => {
    const p = { identity: noisy('i', n, 0, 0.001), grelu: noisy('g', n, 0.06, 0.003), orthogonal: noisy('o', n, 0.01, 0.003), 'orthogonal-post': noisy('q', n, 0.05, 0.003) };
    expect(verdicts(decideE0002(p, c))).toEqual(['not held', 'not held', 'not held']);
  });
  it('null: a difference smaller than the fine-tuning noise → inconclusive', () => {
    // identity moves accuracy by ~2.8 points: the orthogonal-minus-G_ReLU gap of 1 point is within that noise
    const p = { identity: noisy('i', n, 0.0, 0.028), grelu: noisy('g', n, 0, 0.003), orthogonal: noisy('o', n, 0.012, 0.003), 'orthogonal-post': noisy('q', n, 0, 0.02) };
    const v = verdicts(decideE0002(p, c));
    expect(v[0]).toBe('inconclusive');
    expect(v[2]).toBe('inconclusive');
  });
});

describe('E000-3 verdicts on planted data', () => {
  const o = { trunks: ['trained'], pairs: PS, models: M, minGain: 0.01, layers: 'layers.3', cut: 'layers.1' };
  const group = (pc: number, st: number, sd: number, seed: string): { permcorr: number[]; stitchPenalty: number[] } => ({ permcorr: pairValues(`${seed}p`, () => pc, sd, sd), stitchPenalty: pairValues(`${seed}s`, () => st, sd, sd) });
  const independent = group(0.5, 0.3, 0.002, 'ind');
  it('true: a shared trunk raises perm-corr and lowers the stitching penalty → held, held', () => {
    expect(verdicts(decideE0003({ independent, trained: group(0.7, 0.05, 0.002, 't') }, o))).toEqual(['held', 'held']);
  });
  it('false: a shared trunk lowers perm-corr and worsens stitching → not held, not held', () => {
    expect(verdicts(decideE0003({ independent, trained: group(0.3, 0.5, 0.002, 'f') }, o))).toEqual(['not held', 'not held']);
  });
  it('null: no change on average, large between-model spread → inconclusive', () => {
    const z = nullPairs(0.1);
    const trained = { permcorr: independent.permcorr.map((v, k) => v + z[k]!), stitchPenalty: independent.stitchPenalty.map((v, k) => v - z[k]!) };
    expect(verdicts(decideE0003({ independent, trained }, o))).toEqual(['inconclusive', 'inconclusive']);
  });
});

describe('E000-4 verdicts on planted data', () => {
  const widths = [16, 32, 64, 128];
  const c = { flatChange: 0.05, minShrink: 0.01 };
  const grid = (f: (wi: number) => number, sd: number, seed: string): number[][] => widths.map((_, wi) => pairValues(`${seed}${wi}`, () => f(wi), sd, sd));
  const pcFlat = widths.map((_, wi) => grid(() => 0.5, 0.002, `pc${wi}`)[0]!.map((v) => [v]));
  it('true: the barrier shrinks while perm-corr stays flat → held, held', () => {
    const m = { widths, pairs: PS, models: M, lossBarrier: grid((wi) => 0.4 - 0.1 * wi, 0.005, 'l'), errorBarrier: grid((wi) => 0.1 - 0.02 * wi, 0.002, 'e'), permcorr: pcFlat };
    expect(verdicts(decideE0004(m, c))).toEqual(['held', 'held']);
  });
  it('false: the barrier grows with width → not held, not held', () => {
    const m = { widths, pairs: PS, models: M, lossBarrier: grid((wi) => 0.1 + 0.1 * wi, 0.005, 'l'), errorBarrier: grid(() => 0.05, 0.002, 'e'), permcorr: pcFlat };
    expect(verdicts(decideE0004(m, c))).toEqual(['not held', 'not held']);
  });
  it('null: a barrier slope of 0 on average with a large between-model spread → inconclusive', () => {
    const z = nullPairs(0.05);
    const lossBarrier = widths.map((_, wi) => PS.map((_, p) => 0.3 + z[p]! * wi));
    const m = { widths, pairs: PS, models: M, lossBarrier, errorBarrier: grid(() => 0.05, 0.02, 'e'), permcorr: pcFlat };
    expect(verdicts(decideE0004(m, c))).toEqual(['inconclusive', 'inconclusive']);
  });
});

describe('E002-1 verdicts on planted data', () => {
  const L = 3;
  const c = { closeRatio: 0.8, minMargin: 0.05 };
  const mk = (f: (l: number) => number, sd: number, seed: string): number[][] => {
    const byLayer = Array.from({ length: L }, (_, l) => pairValues(`${seed}${l}`, () => f(l), sd, sd));
    return PS.map((_, p) => byLayer.map((v) => v[p]!));
  };
  const measured = (lin: (l: number) => number, pro: (l: number) => number, per: (l: number) => number, chance: (l: number) => number, sd: number) => ({
    layers: L,
    pairs: PS,
    models: M,
    trained: { 'linear.cv': mk(lin, sd, 'l'), 'procrustes.cv': mk(pro, sd, 'p'), 'permutation.cv': mk(per, sd, 'q'), softmatch: mk(per, sd, 's') },
    random: { 'linear.cv': mk(() => 0.3, sd, 'rl'), 'procrustes.cv': mk(() => 0.2, sd, 'rp'), 'permutation.cv': mk(() => 0.1, sd, 'rq'), softmatch: mk(() => 0.1, sd, 'rs') },
    chance: mk(chance, sd, 'c'),
  });
  it('true: falling with depth, Linear > Procrustes > Permutation, Procrustes close to Linear, permutation above chance → held ×4', () => {
    const m = measured((l) => 0.9 - 0.1 * l, (l) => 0.85 - 0.1 * l, (l) => 0.7 - 0.1 * l, () => 0.3, 0.003);
    expect(verdicts(decideE0021(m, c))).toEqual(['held', 'held', 'held', 'held']);
  });
  it('false: rising with depth, reversed ordering, Procrustes far from Linear, permutation below its rotated chance → not held ×4', () => {
    const m = measured((l) => 0.4 + 0.1 * l, (l) => 0.2 + 0.1 * l, (l) => 0.35 + 0.1 * l, () => 0.7, 0.003);
    expect(verdicts(decideE0021(m, c))).toEqual(['not held', 'not held', 'not held', 'not held']);
  });
  it('null: flat, equal scores, permutation at chance, noisy → inconclusive on the slope, ordering and chance margin', () => {
    const z = nullPairs(0.05);
    const at = (f: (p: number, l: number) => number): number[][] => PS.map((_, p) => Array.from({ length: L }, (_, l) => f(p, l)));
    const m = { ...measured(() => 0.6, () => 0.6, () => 0.6, () => 0.6, 0.03), trained: { 'linear.cv': at((p, l) => 0.6 + z[p]! + 0.01 * l), 'procrustes.cv': at(() => 0.6), 'permutation.cv': at((p, l) => 0.6 - z[p]! - 0.01 * l), softmatch: at(() => 0.5) }, chance: at((p, l) => 0.6 - 2 * z[p]! - 0.01 * l) };
    const v = verdicts(decideE0021(m, c));
    expect([v[0], v[1], v[3]]).toEqual(['inconclusive', 'inconclusive', 'inconclusive']);
  });
});

describe('E002-2 verdicts on planted data', () => {
  const diag = (R: number, C: number, noise: number, seed: string, anti = false): number[][] => {
    const rng = createRng(seed);
    return Array.from({ length: R }, (_, i) => Array.from({ length: C }, (_, j) => 1 - Math.abs((anti ? 1 - (i + 1) / R : (i + 1) / R) - (j + 1) / C) + noise * rng.normal()));
  };
  const results = (f: (s: number) => number[][]) => ({ results: [0, 1, 2, 3, 4].map((s) => ({ seed: s, matrices: { 'procrustes.cv': f(s), softmatch: f(s + 10) } })) });
  it('true: best matches on the diagonal → held ×2', () => {
    expect(verdicts(decideE0022(results((s) => diag(3, 4, 0.01, `t${s}`)), { minGain: 0.02 }))).toEqual(['held', 'held']);
  });
  it('false: best matches at the opposite depth → not held ×2', () => {
    expect(verdicts(decideE0022(results((s) => diag(3, 4, 0.01, `f${s}`, true)), { minGain: 0.02 }))).toEqual(['not held', 'not held']);
  });
  it('null: matrices of pure noise → inconclusive ×2', () => {
    expect(verdicts(decideE0022(results((s) => diag(3, 4, 5, `n${s}`).map((r) => r.map((x) => x))), { minGain: 0.02 }))).toEqual(['inconclusive', 'inconclusive']);
  });
});

describe('E002-3 verdicts on planted data', () => {
  const acc = (fn: (k: number) => number): number[][] => [0, 1, 2, 3].map((k) => noisy(`a${k}`, M, fn(k), 0.001));
  const align = (fn: (k: number) => number, sd: number, seed: string): number[][] => [0, 1, 2, 3].map((k) => pairValues(`${seed}${k}`, () => fn(k), sd, sd));
  const base = { pairs: PS, models: M, k1: 2, kEarly: 1, earlyEpoch: 0.1, endEpoch: 10 };
  const c = { reached: 0.8, minLead: 0.05 };
  it('true: alignment reaches its end value early, accuracy later → held ×2', () => {
    const m = { ...base, align: align((k) => [0.2, 0.75, 0.79, 0.8][k]!, 0.002, 't'), acc: acc((k) => [0.1, 0.5, 0.8, 0.95][k]!) };
    expect(verdicts(decideE0023(m, c))).toEqual(['held', 'held']);
  });
  it('false: alignment arrives late, after accuracy → not held ×2', () => {
    const m = { ...base, align: align((k) => [0.2, 0.21, 0.3, 0.8][k]!, 0.002, 'f'), acc: acc((k) => [0.1, 0.8, 0.9, 0.95][k]!) };
    expect(verdicts(decideE0023(m, c))).toEqual(['not held', 'not held']);
  });
  it('null: alignment and accuracy progress together, noisy → inconclusive on the lead', () => {
    const m = { ...base, align: align((k) => [0.2, 0.5, 0.65, 0.8][k]!, 0.04, 'n'), acc: acc((k) => [0.1, 0.525, 0.7375, 0.95][k]!) };
    expect(verdicts(decideE0023(m, c))[1]).toBe('inconclusive');
  });
});

describe('E002-4 and E002-5 verdicts on planted data', () => {
  const L = 3;
  const idAlign = PS.map((_, p) => [0.95, 0.85, 0.75].map((v) => v + 0.001 * Math.sin(p)));
  const conds = 6;
  const align = (gap: (l: number, k: number) => number): number[][] => Array.from({ length: conds }, (_, k) => Array.from({ length: L }, (_, l) => [0.95, 0.85, 0.75][l]! - gap(l, k)));
  it('E002-4 true: a small first-layer gap that grows with depth → held ×2', () => {
    expect(verdicts(decideE0024({ idAlign, align: align((l, k) => 0.01 + 0.1 * l + 0.005 * (k % 3)), excluded: [] }, { tightGap: 0.1, minGrowth: 0.02 }))).toEqual(['held', 'held']);
  });
  it('E002-4 false: a large first-layer gap that shrinks with depth → not held ×2', () => {
    expect(verdicts(decideE0024({ idAlign, align: align((l, k) => 0.4 - 0.1 * l + 0.005 * (k % 3)), excluded: [] }, { tightGap: 0.1, minGrowth: 0.02 }))).toEqual(['not held', 'not held']);
  });
  it('E002-4 null, and an excluded condition → inconclusive', () => {
    const rng = createRng('n');
    expect(verdicts(decideE0024({ idAlign, align: align(() => 0.1 + 0.1 * rng.normal()), excluded: [] }, { tightGap: 0.1, minGrowth: 0.02 }))).toEqual(['inconclusive', 'inconclusive']);
    const r = decideE0024({ idAlign, align: align((l) => 0.01 + 0.1 * l), excluded: [{ condition: 'invert', reason: 'SVD failed' }] }, { tightGap: 0.1, minGrowth: 0.02 });
    expect(verdicts(r)).toEqual(['inconclusive', 'inconclusive']);
    expect(r[0]!.warnings?.[0]).toMatch(/invert/);
  });
  const accuracy = [0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3];
  it('E002-5 true: last-layer alignment tracks accuracy, first does not → held ×2', () => {
    const rng = createRng('t5');
    const a = accuracy.map((acc) => [0.9 + 0.01 * rng.normal(), 0.5 + 0.2 * acc, 0.3 + 0.5 * acc + 0.005 * rng.normal()]);
    expect(verdicts(decideE0025({ align: a, accuracy, excluded: [] }, { minGrowth: 0.02 }).checks)).toEqual(['held', 'held']);
  });
  it('E002-5 false: the last layer anti-correlates with accuracy, the first correlates → not held ×2', () => {
    const a = accuracy.map((acc) => [0.5 + 0.4 * acc, 0.5, 0.9 - 0.5 * acc]);
    expect(verdicts(decideE0025({ align: a, accuracy, excluded: [] }, { minGrowth: 0.02 }).checks)).toEqual(['not held', 'not held']);
  });
  it('E002-5 null: alignment unrelated to accuracy (r = 0 exactly, the same at every layer) → inconclusive ×2', () => {
    const acc = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2];
    const a = acc.map((x) => [0.5 + (x - 0.55) ** 2, 0.5 + (x - 0.55) ** 2, 0.5 + (x - 0.55) ** 2]);
    expect(verdicts(decideE0025({ align: a, accuracy: acc, excluded: [] }, { minGrowth: 0.02 }).checks)).toEqual(['inconclusive', 'inconclusive']);
  });
});
