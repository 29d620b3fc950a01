import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { BasisError, createRng } from '@basis/tensor';
import { act, sampleAssignment } from '@basis/symmetry';
import { forward, inferSpec, initParams, miniMyrtle, mlp, paramsToTensors, toFloat64, type ModelGraph } from '@basis/zoo';
import { barrierOf, evaluate, interpolationCurve, lerpParams, repair, resetBatchNorm } from './interpolate.js';
import { llfc } from './llfc.js';
import { weightMatching } from './matching.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function data(n: number, shape: number[], classes: number, seed: number) {
  const rng = createRng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return {
    x: tf.tensor(Float32Array.from({ length: n * size }, () => rng.normal()), [n, ...shape]),
    labels: Int32Array.from({ length: n }, () => rng.int(classes)),
  };
}

describe('interpolation and barriers', () => {
  it('barrierOf: both definitions, symmetric under swapping the endpoints', () => {
    expect(barrierOf([0, 0.5, 1], [0.1, 0.9, 0.1])).toEqual({ maxMinusMean: 0.8, maxMinusLinear: 0.8, argmax: 0.5 });
    const l = [0, 0.25, 0.5, 0.75, 1];
    const v = [0.2, 0.5, 0.7, 0.6, 0.4];
    const b = barrierOf(l, v);
    expect(b.maxMinusMean).toBeCloseTo(0.4, 12);
    expect(b.maxMinusLinear).toBeCloseTo(0.7 - 0.3, 12);
    const swapped = barrierOf(l, [...v].reverse());
    expect(swapped.maxMinusMean).toBeCloseTo(b.maxMinusMean, 12);
    expect(swapped.maxMinusLinear).toBeCloseTo(b.maxMinusLinear, 12);
    expect(barrierOf([0, 0.5, 1], [1, 1, 1]).maxMinusMean).toBe(0);
    expect(() => barrierOf([0, 0.5], [1, 2])).toThrow(/0 and 1/);
    expect(() => barrierOf([0, 1], [1, NaN])).toThrow(BasisError);
    expect(() => barrierOf([0, 1], [1])).toThrow(BasisError);
  });

  it('lerp reproduces the endpoints exactly and rejects different architectures', () => {
    const g = mlp({ width: 6, inputDim: 4, classes: 3 });
    const A = toFloat64(initParams(g, createRng(1)));
    const B = toFloat64(initParams(g, createRng(2)));
    expect(lerpParams(A, B, 0)).toEqual(A);
    expect(lerpParams(A, B, 1)).toEqual(B);
    const C = toFloat64(initParams(mlp({ width: 7, inputDim: 4, classes: 3 }), createRng(2)));
    expect(() => lerpParams(A, C, 0.5)).toThrow(BasisError);
    expect(() => lerpParams(A, B, NaN)).toThrow(/finite/);
  });

  it('a convex model (logistic regression) has no loss barrier', async () => {
    const g: ModelGraph = { format: 'basis.model', version: 1, name: 'logreg', input: [5], nodes: [{ op: 'dense', name: 'fc', units: 3 }] };
    const d = data(200, [5], 3, 3);
    const rec = await interpolationCurve(g, toFloat64(initParams(g, createRng(1))), toFloat64(initParams(g, createRng(2))), d, { lambdas: [0, 0.25, 0.5, 0.75, 1] });
    expect(rec.barrier.loss.maxMinusLinear).toBeLessThan(1e-5); // float32 forward passes
    expect(rec.repair).toBe('none');
    expect(rec.endpoints.a.n).toBe(200);
  });

  it('a model and its permuted copy: a barrier before matching, none after (planted)', async () => {
    const g = mlp({ width: 32, depth: 2, inputDim: 8, classes: 4 });
    const spec = inferSpec(g);
    const A = toFloat64(initParams(g, createRng(4)));
    const B = act(A, spec, sampleAssignment(spec, createRng(5)));
    const d = data(300, [8], 4, 6);
    const lambdas = [0, 0.5, 1];
    const before = await interpolationCurve(g, A, B, d, { lambdas });
    const matched = weightMatching(A, B, spec);
    const after = await interpolationCurve(g, A, matched.params, d, { lambdas });
    expect(Math.abs(after.barrier.loss.maxMinusMean)).toBeLessThan(1e-5);
    expect(before.barrier.loss.maxMinusMean).toBeGreaterThan(after.barrier.loss.maxMinusMean + 1e-3);
    expect(before.loss[0]).toBeCloseTo(before.loss[2]!, 5); // same function at both ends
  });

  it('BN reset sets running statistics to the data statistics; REPAIR matches the interpolated targets', async () => {
    const g = miniMyrtle(2, { input: [1, 6, 6], classes: 3 });
    const A = toFloat64(initParams(g, createRng(7)));
    const d = data(64, [1, 6, 6], 3, 8);
    const reset = await resetBatchNorm(g, A, d.x, { batchSize: 64 });
    const pre = tf.tidy(() => tf.reshape(tf.transpose(forward(g, paramsToTensors(A), d.x, { capture: ['layers.0'] }).captures['layers.0']!, [0, 2, 3, 1]), [-1, 2]));
    const m = tf.moments(pre, 0);
    expect(Array.from(reset['layers.1.running_mean']!.data)).toBeAllclose(Array.from(m.mean.dataSync()), { rtol: 1e-4, atol: 1e-5 });
    const count = pre.shape[0];
    expect(Array.from(reset['layers.1.running_var']!.data)).toBeAllclose(Array.from(m.variance.dataSync()).map((v) => (v * count) / (count - 1)), { rtol: 1e-4, atol: 1e-5 });

    const mg = mlp({ width: 8, depth: 2, inputDim: 5, classes: 3 });
    const MA = toFloat64(initParams(mg, createRng(1)));
    const MB = toFloat64(initParams(mg, createRng(2)));
    const xd = data(128, [5], 3, 3).x;
    const mid = lerpParams(MA, MB, 0.5);
    const fixed = await repair(mg, MA, MB, mid, 0.5, xd);
    const stats = (p: typeof MA, node: string) => {
      const t = forward(mg, paramsToTensors(p), xd, { capture: [node] }).captures[node]!;
      const mm = tf.moments(t, 0);
      return { mean: Array.from(mm.mean.dataSync()), std: Array.from(tf.sqrt(mm.variance).dataSync()) };
    };
    for (const node of ['layers.0', 'layers.2']) {
      const a = stats(MA, node);
      const b = stats(MB, node);
      const r = stats(fixed, node);
      expect(r.mean).toBeAllclose(a.mean.map((v, i) => 0.5 * v + 0.5 * b.mean[i]!), { atol: 1e-4 });
      expect(r.std).toBeAllclose(a.std.map((v, i) => 0.5 * v + 0.5 * b.std[i]!), { rtol: 1e-3, atol: 1e-4 });
    }
  });

  it('evaluate checks labels and data', async () => {
    const g = mlp({ width: 4, inputDim: 3, classes: 2 });
    const P = initParams(g, createRng(1));
    const d = data(10, [3], 2, 1);
    const r = await evaluate(g, P, d);
    expect(r.accuracy + r.error).toBeCloseTo(1, 12);
    await expect(evaluate(g, P, { x: d.x, labels: new Int32Array(9) })).rejects.toThrow(/labels/);
    await expect(evaluate(g, P, { x: d.x, labels: new Int32Array(10).fill(5) })).rejects.toThrow(/outside/);
    await expect(interpolationCurve(g, P, P, d, { lambdas: [0, 0.5] })).rejects.toThrow(/0 and 1/);
    await expect(interpolationCurve(g, P, P, d, { repair: 'magic' as never })).rejects.toThrow(/repair/);
  });
});

describe('LLFC', () => {
  it('oracle: two ReLU nets sharing the first layer satisfy LLFC, weak additivity and commutativity exactly', async () => {
    const g = mlp({ width: 6, depth: 1, inputDim: 4, classes: 3 });
    const A = toFloat64(initParams(g, createRng(1)));
    const other = toFloat64(initParams(g, createRng(2)));
    const B = { ...A, 'layers.2.weight': other['layers.2.weight']!, 'layers.2.bias': other['layers.2.bias']! };
    const x = data(50, [4], 3, 2).x;
    const r = await llfc(g, A, B, x, { alphas: [0.3, 0.5] });
    for (const l of r.layers) expect(l.oneMinusCosAlpha.mean, l.layer).toBeLessThan(1e-6);
    expect(r.layers.find((l) => l.layer === 'layers.2')!.oneMinusCosAB.mean).toBeGreaterThan(1e-3);
    for (const w of r.weakAdditivity) {
      expect(w.oneMinusCos.mean).toBeLessThan(1e-6);
      expect(w.oppositeSignFraction).toBe(0);
    }
    expect(r.commutativity.find((c) => c.layer === 'layers.2')!.distance).toBeLessThan(1e-10);
  });

  it('independent nets: weak additivity fails only where signs are opposite; matching shrinks commutativity', async () => {
    const g = mlp({ width: 16, depth: 2, inputDim: 6, classes: 3 });
    const spec = inferSpec(g);
    const A = toFloat64(initParams(g, createRng(3)));
    const B = act(A, spec, sampleAssignment(spec, createRng(4)));
    const x = data(64, [6], 3, 5).x;
    const before = await llfc(g, A, B, x);
    expect(before.weakAdditivity[0]!.oppositeSignFraction).toBeGreaterThan(0);
    const after = await llfc(g, A, weightMatching(A, B, spec).params, x);
    for (const l of after.layers) expect(l.oneMinusCosAlpha.mean).toBeLessThan(1e-6);
    for (const c of after.commutativity) expect(c.distance).toBeLessThan(1e-8);
    expect(before.commutativity[1]!.distance).toBeGreaterThan(1e-3);
    await expect(llfc(g, A, B, x, { layers: ['nope'] })).rejects.toThrow(/unknown layer/);
  });
});
