import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@basis/tensor';
import { inferSpec, initParams, miniMyrtle, mlp, toFloat64, type ModelGraph } from '@basis/zoo';
import { activationMatchingOn, captureFeatures } from './activation-matching.js';
import { activationMatching } from './matching.js';
import { features, maxDiff, planted } from './test-helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('activationMatchingOn', () => {
  it('recovers a planted element on an MLP and a CNN from inputs alone', () => {
    const cases: [ModelGraph, number[], number][] = [
      [mlp({ width: 16, depth: 2, inputDim: 6, classes: 3 }), [64, 6], 1e-8],
      [miniMyrtle(3, { input: [1, 8, 8], classes: 3 }), [6, 1, 8, 8], 1e-6],
    ];
    for (const [g, shape, tol] of cases) {
      const { A, B } = planted(g, 4);
      const x = tf.randomNormal(shape, 0, 1, 'float32', 3);
      expect(maxDiff(activationMatchingOn(g, A, B, x).params, A), g.name).toBeLessThan(tol);
      x.dispose();
    }
  });

  it('is activationMatching on the features of every capture point (same result, bit for bit), with the given spec and options', () => {
    const g = mlp({ width: 12, depth: 2, inputDim: 5, classes: 3 });
    const spec = inferSpec(g);
    const A = toFloat64(initParams(g, createRng(1)));
    const B = toFloat64(initParams(g, createRng(2)));
    const x = tf.randomNormal([40, 5], 0, 1, 'float32', 9);
    const fa = features(g, A, x);
    const fb = features(g, B, x);
    expect(captureFeatures(g, A, x)).toEqual(fa);
    for (const correlation of [true, false]) {
      const want = activationMatching(A, B, spec, Object.fromEntries(Object.keys(fa).map((k) => [k, { a: fa[k]!, b: fb[k]! }])), { correlation });
      const got = activationMatchingOn(g, A, B, x, { spec, correlation });
      expect(got.params).toEqual(want.params);
      expect(got.objective).toEqual(want.objective);
    }
    x.dispose();
  });

  it('leaks no tensors and leaves the inputs to the caller', () => {
    const g = mlp({ width: 8, depth: 1, inputDim: 4, classes: 2 });
    const { A, B } = planted(g, 5);
    const x = tf.randomNormal([20, 4], 0, 1, 'float32', 1);
    const before = tf.memory().numTensors;
    activationMatchingOn(g, A, B, x);
    expect(tf.memory().numTensors).toBe(before);
    expect(x.isDisposed).toBe(false);
    x.dispose();
  });

  it('rejects inputs that are not a tensor, have no batch axis or a single row', () => {
    const g = mlp({ width: 8, depth: 1, inputDim: 4, classes: 2 });
    const { A, B } = planted(g, 6);
    expect(() => activationMatchingOn(g, A, B, [[1, 2, 3, 4]] as unknown as tf.Tensor)).toThrow(/must be a tfjs tensor/);
    const flat = tf.zeros([4]);
    expect(() => activationMatchingOn(g, A, B, flat)).toThrow(/batch axis/);
    const one = tf.zeros([1, 4]);
    expect(() => activationMatchingOn(g, A, B, one)).toThrow(/at least 2 inputs/);
    const wrong = tf.zeros([5, 3]);
    expect(() => activationMatchingOn(g, A, B, wrong)).toThrow();
    tf.dispose([flat, one, wrong]);
  });
});
