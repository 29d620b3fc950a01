// Training on the wasm backend (with @basis/tensor's kernel fixes), the backend the CLI uses by
// default: an MLP reaches clearly-above-chance accuracy and the same seed gives bit-identical
// weights. (The conv kernel fixes are compared with the cpu backend in @basis/tensor.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@basis/tensor/backend';
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
