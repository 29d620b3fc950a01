import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { BasisError, createRng } from '@basis/tensor';
import type { GroupElement} from '@basis/symmetry';
import { act, composeAssignments, sampleAssignment, sampleElement, type SymmetrySpec } from '@basis/symmetry';
import { forward, inferSpec, initParams, miniMyrtle, mlp, paramsToTensors, resmlp, toFloat64, transformer, type ModelGraph } from '@basis/zoo';
import { activationMatching, mergeModels, weightMatching } from './matching.js';
import { features, maxDiff, planted } from './test-helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('weight matching', () => {
  it('recovers a planted G_ReLU element exactly (permutation and positive scales) in an MLP', () => {
    const g = mlp({ width: 16, depth: 3, inputDim: 10, classes: 4 });
    const { spec, A, B } = planted(g, 1);
    const r = weightMatching(A, B, spec, { rng: createRng(5) });
    expect(maxDiff(r.params, A)).toBeLessThan(1e-10);
    expect(r.converged).toBe(true);
    for (let i = 1; i < r.objective.length; i++) expect(r.objective[i]!).toBeGreaterThanOrEqual(r.objective[i - 1]! - 1e-9);
    expect(r.matched.map((m) => m.how)).toEqual(['permutation', 'permutation', 'permutation']);
  });

  it('recovers planted permutations in a residual MLP (tied stream), a CNN with batchnorm and a transformer (block heads, orthogonal stream)', () => {
    const cases: Array<[string, ModelGraph, ((s: SymmetrySpec, g: string) => GroupElement | undefined)?]> = [
      ['resmlp', resmlp({ width: 8, blocks: 2, hidden: 6, inputDim: 5, classes: 3 })],
      ['minimyrtle', miniMyrtle(3, { input: [1, 8, 8], classes: 3 })],
      [
        'transformer',
        transformer({ vocab: 7, seqLen: 3, dim: 8, heads: 2, mlp: 12, classes: 5 }),
        (s, g) => (s.groups[g]!.kind === 'invertible' ? sampleElement({ kind: 'orthogonal', size: s.groups[g]!.size }, createRng(9)) : undefined),
      ],
    ];
    for (const [name, g, kinds] of cases) {
      const { spec, A, B } = planted(g, 3, kinds);
      const r = weightMatching(A, B, spec);
      expect(maxDiff(r.params, A), name).toBeLessThan(1e-8);
    }
  });

  it('the sinkhorn solver also recovers the planted permutation', () => {
    const g = mlp({ width: 12, depth: 2, inputDim: 6, classes: 3 });
    const { spec, A, B } = planted(g, 4);
    const r = weightMatching(A, B, spec, { solver: 'sinkhorn' });
    expect(maxDiff(r.params, A)).toBeLessThan(1e-10);
  });

  it('on two unrelated models the objective never decreases and the result is functionally B', () => {
    const g = mlp({ width: 24, depth: 3, inputDim: 8, classes: 3 });
    const spec = inferSpec(g);
    const A = toFloat64(initParams(g, createRng(10)));
    const B = toFloat64(initParams(g, createRng(11)));
    const r = weightMatching(A, B, spec, { rng: createRng(1) });
    for (let i = 1; i < r.objective.length; i++) expect(r.objective[i]!).toBeGreaterThanOrEqual(r.objective[i - 1]! - 1e-9);
    expect(r.objective.at(-1)!).toBeGreaterThan(r.objective[0]!);
    const x = tf.randomNormal([5, 8], 0, 1, 'float32', 3);
    const yb = forward(g, paramsToTensors(B), x).output.dataSync();
    const ya = forward(g, paramsToTensors(r.params), x).output.dataSync();
    expect(Array.from(ya)).toBeAllclose(Array.from(yb), { rtol: 1e-5, atol: 1e-5 });
    // the returned assignment reproduces the aligned parameters
    expect(maxDiff(act(B, spec, r.assignment), r.params)).toBeLessThan(1e-12);
  });

  it('rejects mismatched models and bad options', () => {
    const g = mlp({ width: 4, depth: 2, inputDim: 3, classes: 2 });
    const spec = inferSpec(g);
    const A = toFloat64(initParams(g, createRng(1)));
    const other = toFloat64(initParams(mlp({ width: 5, depth: 2, inputDim: 3, classes: 2 }), createRng(1)));
    expect(() => weightMatching(A, other, spec)).toThrow(BasisError);
    expect(() => weightMatching(A, A, spec, { maxSweeps: 0 })).toThrow(/maxSweeps/);
    expect(() => weightMatching(A, A, spec, { groups: ['nope'] })).toThrow(/unknown group/);
    const { 'layers.0.weight': _w, ...missing } = A;
    expect(() => weightMatching(A, missing, spec)).toThrow(/missing/);
    const nan = { ...A, 'layers.0.bias': { shape: [4], data: Float64Array.from([0, NaN, 0, 0]) } };
    expect(() => weightMatching(A, nan, spec)).toThrow(/NaN/);
  });
});

describe('activation matching', () => {
  it('recovers a planted G_ReLU element from features (correlation and inner products)', () => {
    const g = mlp({ width: 16, depth: 2, inputDim: 6, classes: 3 });
    const { spec, A, B } = planted(g, 7);
    const x = tf.randomNormal([64, 6], 0, 1, 'float32', 1);
    const fa = features(g, A, x);
    const fb = features(g, B, x);
    const pairs = Object.fromEntries(Object.keys(fa).map((k) => [k, { a: fa[k]!, b: fb[k]! }]));
    for (const correlation of [true, false]) {
      const r = activationMatching(A, B, spec, pairs, { correlation });
      expect(maxDiff(r.params, A)).toBeLessThan(1e-8);
    }
  });

  it('works on conv channels (channel view through the feature axis) and needs features for every group', () => {
    const g = miniMyrtle(3, { input: [1, 8, 8], classes: 3 });
    const { spec, A, B } = planted(g, 8);
    const x = tf.randomNormal([6, 1, 8, 8], 0, 1, 'float32', 2);
    const fa = features(g, A, x);
    const fb = features(g, B, x);
    const pairs = Object.fromEntries(Object.keys(fa).map((k) => [k, { a: fa[k]!, b: fb[k]! }]));
    expect(maxDiff(activationMatching(A, B, spec, pairs).params, A)).toBeLessThan(1e-6);
    expect(() => activationMatching(A, B, spec, {})).toThrow(/no features given for group/);
  });

  it('composition: matching B against a transformed A gives the inverse transform', () => {
    const g = mlp({ width: 10, depth: 2, inputDim: 4, classes: 2 });
    const spec = inferSpec(g);
    const A = toFloat64(initParams(g, createRng(2)));
    const t = sampleAssignment(spec, createRng(3));
    const B = act(A, spec, t);
    const r = weightMatching(A, B, spec);
    const id = composeAssignments(r.assignment, t);
    for (const el of Object.values(id)) expect(el.isIdentity(1e-9)).toBe(true);
  });
});

describe('merging', () => {
  it('merging a model with permuted copies of itself gives the model back', () => {
    const g = mlp({ width: 10, depth: 2, inputDim: 4, classes: 3 });
    const spec = inferSpec(g);
    const A = toFloat64(initParams(g, createRng(1)));
    const copies = [2, 3].map((s) => act(A, spec, sampleAssignment(spec, createRng(s))));
    const m = mergeModels([A, ...copies], spec, { rounds: 2 });
    expect(maxDiff(m.params, A)).toBeLessThan(1e-9);
    expect(m.aligned).toHaveLength(3);
    expect(() => mergeModels([A], spec)).toThrow(/at least 2/);
    expect(() => mergeModels([A, A], spec, { rounds: 0 })).toThrow(/rounds/);
  });
});

describe('every matchable group kind', () => {
  it('signed permutations (tanh), monomials (x³ with φ = A^∘3) and plain permutations (sigmoid) are recovered exactly', () => {
    for (const activation of ['tanh', 'sigmoid', 'polynomial'] as const) {
      const g = mlp({ width: 10, depth: 2, inputDim: 5, classes: 3, activation: activation === 'polynomial' ? { fn: 'polynomial', degree: 3 } : activation });
      const { spec, A, B } = planted(g, 11);
      const kind = spec.groups['layers.0']!.kind;
      expect(kind).toBe(activation === 'tanh' ? 'signed-permutation' : activation === 'sigmoid' ? 'permutation' : 'monomial');
      const r = weightMatching(A, B, spec);
      expect(maxDiff(r.params, A), activation).toBeLessThan(1e-8);
      for (let i = 1; i < r.objective.length; i++) expect(r.objective[i]!).toBeGreaterThanOrEqual(r.objective[i - 1]! - 1e-9);
    }
  });
});
