// Fast tests of the S003/S004/S001 recipes' configuration checks and computational helpers (no training).
import { describe, expect, it } from 'vitest';
import { Matrix, createRng, matmul } from '@basis/tensor';
import { e003_1, transformPreactivation } from './e003-1.js';
import { e003_2, stitchKind } from './e003-2.js';
import { e003_3 } from './e003-3.js';
import { e003_4, orthogonalSimilarities } from './e003-4.js';
import { e003_5 } from './e003-5.js';
import { e003_7 } from './e003-7.js';
import { e004_1 } from './e004-1.js';
import { e004_2 } from './e004-2.js';
import { e004_3 } from './e004-3.js';
import { estimate, intervalVerdict } from './e003-shared.js';
import { v001_1, crossLambda, toyLambda } from './v001-1.js';
import { v001_2 } from './v001-2.js';
import { v001_3 } from './v001-3.js';
import { v001_4 } from './v001-4.js';
import { RECIPE_REGISTRY } from './index.js';
import type { ExperimentRecipe } from './types.js';
import { thrownCode } from '@basis/test-utils';

const ALL: Array<ExperimentRecipe<Record<string, unknown>>> = [e003_1, e003_2, e003_3, e003_4, e003_5, e003_7, e004_1, e004_2, e004_3, v001_1, v001_2, v001_3, v001_4] as unknown as Array<ExperimentRecipe<Record<string, unknown>>>;

describe('recipe configurations', () => {
  it('both profiles of every recipe validate, and the registry lists every recipe', () => {
    for (const r of ALL) {
      expect(r.checkConfig(r.profiles.quick)).toEqual(r.profiles.quick);
      expect(r.checkConfig(r.profiles.full)).toEqual(r.profiles.full);
      expect(r.checkConfig(r.profiles.standard)).toEqual(r.profiles.standard);
      expect(RECIPE_REGISTRY[r.id]).toBe(r);
      expect(r.title.length).toBeGreaterThan(10);
      expect(r.source).toMatch(/S00[134]/);
    }
  });

  it('unknown, missing and ill-typed fields are CONFIG_INVALID naming the field', () => {
    for (const r of ALL) {
      const q = r.profiles.quick;
      expect(() => r.checkConfig({ ...q, bogus: 1 })).toThrow(/config\.bogus is not a known option/);
      const first = Object.keys(q)[0]!;
      const { [first]: _drop, ...rest } = q;
      void _drop;
      expect(() => r.checkConfig(rest)).toThrow(new RegExp(`config\\.${first}`));
      expect(thrownCode(() => r.checkConfig(null))).toBe('CONFIG_INVALID');
      expect(thrownCode(() => r.checkConfig('quick'))).toBe('CONFIG_INVALID');
    }
    expect(() => e003_2.checkConfig({ ...e003_2.profiles.quick, stitching: { ...e003_2.profiles.quick.stitching, classes: ['affine', 'grelu', 'rank-x'] } })).toThrow(/config\.stitching\.classes\[2\]/);
    expect(() => e003_4.checkConfig({ ...e003_4.profiles.quick, inputs: Number.NaN })).toThrow(/config\.inputs must be a finite number/);
    expect(() => e003_4.checkConfig({ ...e003_4.profiles.quick, inputs: 12.5 })).toThrow(/config\.inputs must be an integer/);
    expect(() => e003_4.checkConfig({ ...e003_4.profiles.quick, family: { ...e003_4.profiles.quick.family, seeds: [0] } })).toThrow(/config\.family\.seeds needs at least 2/);
    expect(() => e003_4.checkConfig({ ...e003_4.profiles.quick, family: { ...e003_4.profiles.quick.family, model: { arch: 'mlp', width: -3 } } })).toThrow(/config\.family\.model\.width/);
    expect(() => e003_3.checkConfig({ ...e003_3.profiles.quick, slopes: [0, 0.5] })).toThrow(/config\.slopes must include 1/);
    expect(() => e004_1.checkConfig({ ...e004_1.profiles.quick, spawnEpochs: [2] })).toThrow(/config\.spawnEpochs\[0\] must be an integer in \[0, 1\]/);
    expect(() => e004_1.checkConfig({ ...e004_1.profiles.quick, barrierTol: 2 })).toThrow(/config\.barrierTol must be in \(0, 1\)/);
    expect(() => v001_2.checkConfig({ ...v001_2.profiles.quick, epochs: [1, 2] })).toThrow(/config\.epochs must include 0/);
    expect(() => v001_4.checkConfig({ ...v001_4.profiles.quick, scalingModels: 9 })).toThrow(/config\.scalingModels must be at most/);
    expect(() => e003_1.checkConfig({ ...e003_1.profiles.quick, finetune: { ...e003_1.profiles.quick.finetune, freeze: ['layers.0'] } })).toThrow(/config\.finetune\.freeze/);
  });

  it('stitching class names parse', () => {
    expect(stitchKind('rank-4')).toEqual({ rank: 4 });
    expect(stitchKind('grelu')).toBe('grelu');
    expect(thrownCode(() => stitchKind('rank-0'))).toBe('CONFIG_INVALID');
  });
});

describe('recipe helpers', () => {
  it('interval verdicts: held, not held and inconclusive from the interval alone', () => {
    expect(intervalVerdict({ mean: 1, lo: 0.5, hi: 1.5, n: 3 }, 'above', 0)).toBe('held');
    expect(intervalVerdict({ mean: -1, lo: -1.5, hi: -0.5, n: 3 }, 'above', 0)).toBe('not held');
    expect(intervalVerdict({ mean: 0.1, lo: -0.5, hi: 0.7, n: 3 }, 'above', 0)).toBe('inconclusive');
    expect(intervalVerdict({ mean: -1, lo: -1.5, hi: -0.5, n: 3 }, 'below', 0)).toBe('held');
    expect(thrownCode(() => estimate([1, Number.NaN]))).toBe('NON_FINITE_INPUT');
  });

  it('toy learning coefficients: the closed forms give the spec\'s numbers (erratum 7) and the cross formula', () => {
    expect(toyLambda(0.01, 1e-12)).toBeCloseTo(0.5, 3);
    expect(toyLambda(0.01, 1e-8)).toBeCloseTo(0.362, 3);
    expect(toyLambda(0.01, 1e-4)).toBeCloseTo(0.251, 3);
    expect(crossLambda(1e-3)).toBeCloseTo(0.5 - 1 / (2 + Math.log(1000)), 12);
    // the cross's lambda from the exact volume V = 4 sqrt(eps) (1 + 0.5 ln(1/eps)) by a central difference
    const V = (e: number): number => 4 * Math.sqrt(e) * (1 + 0.5 * Math.log(1 / e));
    const e = 1e-3;
    const h = 1e-4;
    expect((Math.log(V(e * Math.exp(h))) - Math.log(V(e * Math.exp(-h)))) / (2 * h)).toBeCloseTo(crossLambda(e), 6);
  });

  it('transformPreactivation: A W and A b; G_ReLU elements are fixed exactly by the next layer, orthogonal ones are orthogonal', () => {
    const rng = createRng(3);
    const W = Float64Array.from({ length: 20 }, () => rng.normal());
    const b = Float64Array.from({ length: 5 }, () => rng.normal());
    const params = { 'l.weight': { shape: [5, 4], data: W }, 'l.bias': { shape: [5], data: b } };
    const g = transformPreactivation(params, 'l', 'grelu', createRng(1));
    // A is monomial with positive entries
    for (let i = 0; i < 5; i++) {
      const row = Array.from(g.A.row(i));
      expect(row.filter((x) => x !== 0)).toHaveLength(1);
      expect(row.every((x) => x >= 0)).toBe(true);
    }
    const AW = matmul(g.A, new Matrix(5, 4, W));
    for (let k = 0; k < 20; k++) expect(g.params['l.weight']!.data[k]).toBeCloseTo(AW.data[k]!, 12);
    // relu(A p) = A relu(p) for A in G_ReLU
    const p = Float64Array.from({ length: 5 }, () => rng.normal());
    const Ap = Array.from({ length: 5 }, (_, i) => g.A.row(i).reduce((s, a, k) => s + a * p[k]!, 0));
    const Arp = Array.from({ length: 5 }, (_, i) => g.A.row(i).reduce((s, a, k) => s + a * Math.max(0, p[k]!), 0));
    Ap.forEach((v, i) => expect(Math.max(0, v)).toBeCloseTo(Arp[i]!, 12));
    const o = transformPreactivation(params, 'l', 'orthogonal', createRng(2));
    const QtQ = matmul(o.A.transpose(), o.A);
    for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) expect(QtQ.get(i, j)).toBeCloseTo(i === j ? 1 : 0, 12);
    const id = transformPreactivation(params, 'l', 'identity', createRng(0));
    expect(Array.from(id.params['l.bias']!.data)).toEqual(Array.from(b));
    expect(thrownCode(() => transformPreactivation(params, 'nope', 'grelu', createRng(0)))).toBe('INVALID_ARGUMENT');
  });

  it('orthogonal Procrustes similarities: 1 for rotated copies; mu_O_colnorm >= G_ReLU-Procrustes', async () => {
    const { metric } = await import('@basis/align');
    const rng = createRng(5);
    const X = new Matrix(40, 6, Float64Array.from({ length: 240 }, () => Math.max(0, rng.normal())));
    const Q = transformPreactivation({ 'l.weight': { shape: [6, 1], data: new Float64Array(6) } }, 'l', 'orthogonal', createRng(9)).A;
    // muO = 1 - sqrt(2 - 2 s) / 2: a rounding error eps in s becomes sqrt(eps) ~ 1.5e-8 here (the
    // native and WebAssembly SVDs round differently), so 1 holds to ~1e-8, not to 1e-9
    expect(orthogonalSimilarities(X, matmul(X, Q)).muO).toBeCloseTo(1, 7);
    const Y = new Matrix(40, 6, Float64Array.from({ length: 240 }, () => Math.max(0, rng.normal())));
    const s = orthogonalSimilarities(X, Y);
    expect(s.muO).toBeLessThan(0.9);
    expect(s.muOColnorm).toBeGreaterThanOrEqual(metric('grelu.procrustes', X, Y).value - 1e-12);
  });
});
