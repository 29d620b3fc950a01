import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { Matrix, createRng } from '@basis/tensor';
import { initParams, mlp, paramsToTensors, toFloat64 } from '@basis/zoo';
import { denseChain, denseGrams } from './dense.js';
import { behavioralLoss, behavioralLossFromOutputs, freeDirections, layerGrams } from './grams.js';
import { ggnHessian, hessianRankBound } from './llc.js';
import { maxDiff, params64, randMat } from './test-helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Gram matrices and spectra (D5) through tfjs', () => {
  const g = mlp({ width: 6, depth: 2, inputDim: 4, classes: 3 });
  const p = initParams(g, createRng(5));
  const X = randMat(64, 4, createRng(6));

  it('layerGrams (batched tfjs autodiff) matches the exact float64 engine; spectra; K for the next dense node', () => {
    const t = paramsToTensors(p);
    const x = tf.tensor2d(Float32Array.from(X.data), [64, 4]);
    const before = tf.memory().numTensors;
    const grams = layerGrams(g, t, x, { batchSize: 20 });
    expect(tf.memory().numTensors).toBe(before);
    expect(grams.map((l) => l.layer)).toEqual(['input', 'layers.1', 'layers.3', 'layers.4']);
    const exact = denseGrams(denseChain(g, toFloat64(p)), X);
    grams.forEach((l, i) => {
      const scale = (m: Matrix) => Math.max(...m.data.map(Math.abs));
      expect(maxDiff(l.G.data, exact.G[i]!.data) / scale(exact.G[i]!)).toBeLessThan(1e-5);
      expect(maxDiff(l.M.data, exact.M[i]!.data) / scale(exact.M[i]!)).toBeLessThan(1e-4);
      if (i < 3) expect(maxDiff(l.K!.data, exact.K[i]!.data) / scale(exact.K[i]!)).toBeLessThan(1e-4);
      expect(l.spectra.G.length).toBe(l.dim);
    });
    expect(grams[3]!.K).toBeNull();
    tf.dispose([x, ...Object.values(t)]);
  });

  it('behavioral loss: 0 at the reference, positive elsewhere, MSE and KL', () => {
    const t = paramsToTensors(p);
    const q = initParams(g, createRng(9));
    const u = paramsToTensors(q);
    const x = tf.tensor2d(Float32Array.from(X.data), [64, 4]);
    expect(behavioralLoss(g, t, t, x)).toBe(0);
    expect(behavioralLoss(g, t, t, x, { kind: 'kl' })).toBeCloseTo(0, 6);
    expect(behavioralLoss(g, u, t, x)).toBeGreaterThan(0);
    expect(behavioralLoss(g, u, t, x, { kind: 'kl' })).toBeGreaterThan(0);
    expect(behavioralLossFromOutputs(Matrix.from([[1, 2]]), Matrix.from([[1, 0]]))).toBe(4);
    expect(() => behavioralLoss(g, t, t, x, { kind: 'l1' as 'mse' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => behavioralLossFromOutputs(Matrix.from([[1, 2]]), Matrix.from([[1]]))).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    const bad = tf.tensor2d([[0, 1, NaN, 2]]);
    expect(() => layerGrams(g, t, bad)).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT', message: expect.stringMatching(/row 0/) as string }));
    bad.dispose();
    tf.dispose([x, ...Object.values(t), ...Object.values(u)]);
  });

  it('free-direction counts: a duplicated activation direction frees d^{l+1} weights', () => {
    // features with an exact linear dependence (column 2 = column 0 + column 1)
    const F = randMat(100, 3, createRng(1));
    for (let r = 0; r < 100; r++) F.set(r, 2, F.get(r, 0) + F.get(r, 1));
    const lay = { dim: 3, spectra: { G: [5, 1, 1e-14], K: [3, 2, 1, 1e-13] } };
    const c = freeDirections(lay, 1e-8);
    expect(c).toEqual({ eps: 1e-8, lowVarianceDirections: 1, fromActivations: 4, lowJacobianDirections: 1, fromJacobians: 3, kronecker: 6 });
    expect(() => freeDirections(lay, -1)).toThrow(/eps/);
  });
});

describe('a duplicated hidden neuron (D5 TEST)', () => {
  it('drops rank G by 1 and raises the GGN nullity by at least d^{l+1}', () => {
    const g = mlp({ width: 4, depth: 1, inputDim: 3, classes: 2, activation: 'tanh' });
    const r = createRng(23);
    const W0 = randMat(4, 3, r);
    const b0 = Float64Array.from([0.1, -0.3, 0.2, 0.4]);
    const make = (dup: boolean) => {
      const W = W0.clone();
      const b = Float64Array.from(b0);
      if (dup) {
        for (let j = 0; j < 3; j++) W.set(3, j, W.get(0, j));
        b[3] = b[0]!;
      }
      return params64({ 'layers.0.weight': W, 'layers.0.bias': b, 'layers.2.weight': randMat(2, 4, createRng(5)), 'layers.2.bias': Float64Array.of(0, 0.1) });
    };
    const X = randMat(40, 3, r);
    const x = tf.tensor2d(Float32Array.from(X.data), [40, 3]);
    const rankG = (p: ReturnType<typeof make>) => {
      const G = denseGrams(denseChain(g, p), X).G[1]!;
      return hessianRankBound(G, { rtol: 1e-9 }).rank;
    };
    expect(rankG(make(false))).toBe(4);
    expect(rankG(make(true))).toBe(3);
    const nullity = (p: ReturnType<typeof make>) => hessianRankBound(ggnHessian({ graph: g, params: p }, x), { rtol: 1e-5 }).nullity;
    expect(nullity(make(true)) - nullity(make(false))).toBeGreaterThanOrEqual(2);
    x.dispose();
  });
});
