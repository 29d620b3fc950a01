// The wasm backend (with @basis/tensor's kernel fixes) trains like the cpu reference: a few steps
// of an MLP and of a batchnorm CNN from the same seed end at the same weights up to float32
// rounding, and the same seed is bit-identical on wasm too.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureEngine, engineInfo } from '@basis/tensor';
import { selectBackend } from '@basis/tensor/backend';
import { sampleSubset } from '../data/dataset.js';
import type { ClassificationDataset } from '../data/types.js';
import { createRng } from '@basis/tensor';
import { forward, initParams, paramsToTensors, type ParamDict } from '../graph/index.js';
import { loadDataSpec } from '../model/node.js';
import { buildModel, type ModelSpec } from '../model/model-spec.js';
import { trainModel } from './train-model.js';
import type { TrainSettings } from './train-settings.js';

let train: ClassificationDataset;

beforeAll(async () => {
  train = sampleSubset((await loadDataSpec({ dataset: 'mnist' })).train, { size: 64, seed: 5 });
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

async function run(backend: 'cpu' | 'wasm', spec: ModelSpec, recipe: TrainSettings, data = train): Promise<{ params: ParamDict; losses: number[] }> {
  if (backend === 'wasm') await selectBackend('wasm');
  else await tf.setBackend('cpu');
  expect(tf.getBackend()).toBe(backend);
  const graph = buildModel(spec, { input: data.shape, classes: 10 });
  const losses: number[] = [];
  const r = await trainModel({ graph, train: data, recipe, onProgress: (e) => e.kind === 'step' && losses.push(e.loss) });
  return { params: r.params, losses };
}

function maxRelDiff(a: ParamDict, b: ParamDict): number {
  let worst = 0;
  for (const k of Object.keys(a)) {
    const x = a[k]!.data;
    const y = b[k]!.data;
    let num = 0;
    let den = 0;
    for (let i = 0; i < x.length; i++) {
      num = Math.max(num, Math.abs(x[i]! - y[i]!));
      den = Math.max(den, Math.abs(x[i]!));
    }
    worst = Math.max(worst, num / Math.max(den, 1e-6));
  }
  return worst;
}

const recipe: TrainSettings = { epochs: 1, batchSize: 16, seed: 1, optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 } };

describe('wasm training agrees with cpu', () => {
  it('MLP: 4 steps (dense backprop through the transposed-matmul fix)', async () => {
    const spec: ModelSpec = { arch: 'mlp', width: 32, depth: 2 };
    const cpu = await run('cpu', spec, recipe);
    const wasm = await run('wasm', spec, recipe);
    expect(wasm.losses).toHaveLength(4);
    wasm.losses.forEach((l, i) => expect(Math.abs(l - cpu.losses[i]!)).toBeLessThan(1e-4));
    expect(maxRelDiff(cpu.params, wasm.params)).toBeLessThan(1e-4);
    const again = await run('wasm', spec, recipe);
    for (const k of Object.keys(wasm.params)) expect(again.params[k]!.data).toEqual(wasm.params[k]!.data);
  });

  it('MiniMyrtle with batchnorm: 2 steps (conv filter/input gradients, max-pool, running statistics)', async () => {
    const spec: ModelSpec = { arch: 'minimyrtle', width: 4 };
    const few = sampleSubset(train, { size: 24, seed: 0 });
    const cpu = await run('cpu', spec, { ...recipe, batchSize: 12 }, few);
    const wasm = await run('wasm', spec, { ...recipe, batchSize: 12 }, few);
    expect(wasm.losses).toHaveLength(2);
    wasm.losses.forEach((l, i) => expect(Math.abs(l - cpu.losses[i]!)).toBeLessThan(1e-3));
    expect(maxRelDiff(cpu.params, wasm.params)).toBeLessThan(1e-3);
  });

  // batch 128 at 16-32 channels: the convolutions' products split over the helper thread, the
  // bias gradients' column sums split by depth, the bias adds are SIMD passes
  it.skipIf(engineInfo().provider !== 'native')('MiniMyrtle(16), batch 128, 2 steps on 2 threads: the same bits on every run, float32 rounding of 1 thread', async () => {
    const spec: ModelSpec = { arch: 'minimyrtle', width: 16 };
    const data = sampleSubset((await loadDataSpec({ dataset: 'mnist' })).train, { size: 256, seed: 3 });
    const settings: TrainSettings = { ...recipe, batchSize: 128 };
    const before = engineInfo().threads;
    try {
      configureEngine({ threads: 2 });
      const a = await run('wasm', spec, settings, data);
      const b = await run('wasm', spec, settings, data);
      expect(a.losses).toHaveLength(2);
      expect(b.losses).toEqual(a.losses);
      for (const k of Object.keys(a.params)) expect(b.params[k]!.data, k).toEqual(a.params[k]!.data);
      configureEngine({ threads: 1 });
      const one = await run('wasm', spec, settings, data);
      one.losses.forEach((l, i) => expect(Math.abs(l - a.losses[i]!)).toBeLessThan(1e-4));
      expect(maxRelDiff(one.params, a.params)).toBeLessThan(1e-3);
    } finally {
      configureEngine({ threads: before });
    }
  });
});

describe('relu before a max-pool runs after it', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`${backend}: relu on the pooled maps; output, running statistics and every gradient equal to the original order`, async () => {
      if (backend === 'wasm') await selectBackend('wasm');
      else await tf.setBackend('cpu');
      // MiniMyrtle(4) on 12x12: relu layers.5 and layers.9 feed max-pools layers.6 and layers.10
      const graph = buildModel({ arch: 'minimyrtle', width: 4 }, { input: [1, 12, 12], classes: 3 });
      const params = paramsToTensors(initParams(graph, createRng(1)));
      const names = Object.keys(params).filter((k) => !k.includes('running') && !k.includes('num_batches'));
      const rng = createRng(2);
      const x = tf.tensor(Float32Array.from({ length: 5 * 144 }, () => rng.normal()), [5, 1, 12, 12]);
      const w = tf.tensor(Float32Array.from({ length: 15 }, () => rng.normal()), [5, 3]);
      const run = async (capture: string[]): Promise<{ values: Float32Array[]; reluShapes: number[][] }> => {
        let values: Float32Array[] = [];
        const prof = await tf.profile(() => {
          values = tf.tidy(() => {
            const f = (...ts: tf.Tensor[]): tf.Scalar => {
              const r = forward(graph, { ...params, ...Object.fromEntries(names.map((k, i) => [k, ts[i] as tf.Tensor])) }, x, { training: true, capture });
              return tf.sum(tf.mul(r.output, w));
            };
            const r = forward(graph, params, x, { training: true, capture });
            const grads = tf.grads(f)(names.map((k) => params[k] as tf.Tensor));
            return [r.output, ...Object.values(r.buffers), ...grads].map((t) => (t.dataSync() as Float32Array).slice());
          });
        });
        return { values, reluShapes: prof.kernels.filter((k) => k.name === 'Relu').map((k) => k.inputShapes[0] as number[]) };
      };
      const reordered = await run([]);
      const original = await run(['layers.5', 'layers.9']);
      expect(reordered.values).toHaveLength(original.values.length);
      reordered.values.forEach((v, i) => {
        const o = original.values[i] as Float32Array;
        expect(v.length).toBe(o.length);
        let same = 0;
        for (let j = 0; j < v.length; j++) if (v[j] === o[j]) same++; // equal values (+0 and -0 alike)
        expect(same, `tensor ${i}`).toBe(v.length);
      });
      expect(original.reluShapes).toContainEqual([5, 12, 12, 8]);
      expect(reordered.reluShapes).not.toContainEqual([5, 12, 12, 8]);
      expect(reordered.reluShapes).toContainEqual([5, 6, 6, 8]);
      expect(reordered.reluShapes).toContainEqual([5, 3, 3, 8]);
      tf.dispose([x, w, ...Object.values(params)]);
    });
  }
});
