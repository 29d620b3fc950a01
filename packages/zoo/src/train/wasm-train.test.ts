// Training on the wasm backend (with @basis/tensor's kernel fixes), the backend the CLI uses by
// default: an MLP reaches clearly-above-chance accuracy and the same seed gives bit-identical
// weights. (The conv kernel fixes are compared with the cpu backend in @basis/tensor.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '@basis/tensor';
import { selectBackend } from '@basis/tensor/backend';
import { forward } from '../graph/forward.js';
import { initParams, paramsToTensors } from '../graph/params.js';
import { sampleSubset } from '../data/dataset.js';
import type { DataSplit } from '../data/types.js';
import { loadDataSpec } from '../model/node.js';
import { buildModel } from '../model/model-spec.js';
import { trainModel } from './train-model.js';
import type { TrainSettings } from './train-settings.js';

let split: DataSplit;
beforeAll(async () => {
  const b = await selectBackend('wasm');
  expect(b.fixesApplied).toContain('Conv2DBackpropFilter');
  const all = await loadDataSpec({ dataset: 'mnist' });
  split = { train: sampleSubset(all.train, { size: 2000, seed: 1 }), test: sampleSubset(all.test, { size: 500, seed: 2 }) };
});
afterAll(async () => {
  await selectBackend('cpu');
});

describe('training on wasm', () => {
  const recipe: TrainSettings = { epochs: 2, batchSize: 64, seed: 3, optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true }, schedule: { kind: 'cosine' }, weightDecay: 1e-4 };
  it('an MLP on 2,000 digits reaches > 85% test accuracy in 2 epochs (chance 10%); same seed, same bits', async () => {
    const graph = buildModel({ arch: 'mlp', width: 64, depth: 1 }, { input: split.train.shape, classes: 10 });
    const a = await trainModel({ graph, ...split, recipe });
    expect(a.backend).toBe('wasm');
    expect(a.final.testAccuracy).toBeGreaterThan(0.85);
    const b = await trainModel({ graph, ...split, recipe });
    for (const k of Object.keys(a.params)) expect(b.params[k]!.data, k).toEqual(a.params[k]!.data);
    const c = await trainModel({ graph, ...split, recipe: { ...recipe, seed: 4 } });
    expect(c.params['layers.0.weight']!.data).not.toEqual(a.params['layers.0.weight']!.data);
  });
});

describe('fused dense layers on wasm', () => {
  it('dense + relu run as one op with the same output and gradients as the unfused layers (captured, so not fused)', () => {
    const graph = buildModel({ arch: 'mlp', width: 24, depth: 2 }, { input: [30], classes: 7 });
    const rng = createRng(11);
    const x = tf.tensor(Float32Array.from({ length: 9 * 30 }, () => rng.normal()), [9, 30]);
    const w = tf.tensor(Float32Array.from({ length: 9 * 7 }, () => rng.normal()), [9, 7]);
    const params = paramsToTensors(initParams(graph, createRng(12)));
    const names = Object.keys(params);
    const dense = graph.nodes.filter((n) => n.op === 'dense').map((n) => n.name);
    expect(dense.length).toBe(3);
    const run = (capture: string[]): Float32Array[] =>
      tf.tidy(() => {
        const loss = (...ps: tf.Tensor[]): tf.Scalar => {
          const p = Object.fromEntries(names.map((k, i) => [k, ps[i]!]));
          return tf.sum(tf.mul(forward(graph, p, x, { training: true, capture }).output, w));
        };
        const out = forward(graph, params, x, { training: true, capture }).output;
        return [out, ...tf.grads(loss)(names.map((k) => params[k]!))].map((t) => t.dataSync() as Float32Array);
      });
    const fused = run([]);
    const unfused = run(dense.slice(0, 2));
    expect(fused[0]).toEqual(unfused[0]);
    names.forEach((k, i) => {
      const a = fused[i + 1]!;
      const b = unfused[i + 1]!;
      if (k.endsWith('.bias')) for (let j = 0; j < a.length; j++) expect(Math.abs(a[j]! - b[j]!), `${k}[${j}]`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(b[j]!)));
      else expect(a, k).toEqual(b);
    });
    for (const t of [x, w, ...Object.values(params)]) t.dispose();
  });

  it('the fused path runs one BasisDense kernel per dense layer and no separate Add or Relu', async () => {
    const graph = buildModel({ arch: 'mlp', width: 16, depth: 1 }, { input: [4], classes: 3 });
    const params = paramsToTensors(initParams(graph, createRng(1)));
    const x = tf.ones([5, 4]);
    const info = await tf.profile(() => tf.grads((...ps: tf.Tensor[]) => tf.sum(forward(graph, Object.fromEntries(Object.keys(params).map((k, i) => [k, ps[i]!])), x).output) as tf.Scalar)(Object.values(params)));
    const names = info.kernels.map((k) => k.name);
    expect(names.filter((n) => n === 'BasisDense').length).toBe(2);
    expect(names).not.toContain('Relu');
    expect(names).not.toContain('Add');
    expect(names.filter((n) => n === 'BasisReluGradSums').length).toBe(2);
    for (const t of [x, ...Object.values(params)]) t.dispose();
  });
});
