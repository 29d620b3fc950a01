// trainModel / trainModelResumable on the cpu backend: a real (small) MNIST run reaching a clear
// accuracy bar, bit-identical weights for the same seed, batchnorm buffers, freezing, resume after
// an abort, and the validation of recipes and data.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBasisError } from '@basis/tensor';
import type { ClassificationDataset, DataSplit } from '../data/types.js';
import { sampleSubset } from '../data/dataset.js';
import { loadCheckpoint } from './node.js';
import { loadDataSpec } from '../model/node.js';
import { trainModelResumable } from './train-model-node.js';
import { parseDataSpec } from '../model/data-spec.js';
import { TRAINING_PRESETS } from './presets.js';
import { buildModel, parseModelSpec } from '../model/model-spec.js';
import { evaluateModel, trainModel } from './train-model.js';
import { resolveTrainSettings, type TrainSettings } from './train-settings.js';
import { paramsToTensors, type ParamDict } from '../graph/index.js';

let mnist: DataSplit;
let small: { train: ClassificationDataset; test: ClassificationDataset };
let root: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  mnist = await loadDataSpec({ dataset: 'mnist' });
  small = { train: sampleSubset(mnist.train, { size: 256, seed: 1 }), test: sampleSubset(mnist.test, { size: 128, seed: 2 }) };
  root = await mkdtemp(join(tmpdir(), 'basis-model-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const sgd: TrainSettings = { epochs: 1, batchSize: 32, seed: 3, optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 } };

function bitEqual(a: ParamDict, b: ParamDict): boolean {
  const ka = Object.keys(a).sort();
  if (JSON.stringify(ka) !== JSON.stringify(Object.keys(b).sort())) return false;
  return ka.every((k) => {
    const x = new Uint32Array(a[k]!.data.buffer, a[k]!.data.byteOffset, a[k]!.data.length);
    const y = new Uint32Array(b[k]!.data.buffer, b[k]!.data.byteOffset, b[k]!.data.length);
    return x.length === y.length && x.every((v, i) => v === y[i]);
  });
}

async function code(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (isBasisError(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'no error';
}

describe('trainModel', () => {
  it('an MLP on 3,000 MNIST digits reaches > 90% test accuracy in 2 epochs', async () => {
    const train = sampleSubset(mnist.train, { size: 3000, seed: 0 });
    const test = sampleSubset(mnist.test, { size: 1000, seed: 0 });
    const graph = buildModel({ arch: 'mlp', width: 64, depth: 1 }, { input: train.shape, classes: 10 });
    const before = tf.memory().numTensors;
    const r = await trainModel({
      graph,
      train,
      test,
      recipe: { epochs: 2, batchSize: 64, seed: 0, optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true }, schedule: { kind: 'cosine' } },
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.history.map((h) => h.epoch)).toEqual([1, 2]);
    expect(r.history[1]!.trainLoss).toBeLessThan(r.history[0]!.trainLoss);
    expect(r.final.testAccuracy).toBeGreaterThan(0.9);
    expect(r.steps).toBe(2 * Math.ceil(3000 / 64));
    expect(r.backend).toBe('cpu');
    // evaluateModel agrees with the history's last evaluation
    const t = paramsToTensors(r.params);
    const e = evaluateModel(graph, t, test);
    Object.values(t).forEach((x) => x.dispose());
    expect(e.accuracy).toBe(r.final.testAccuracy);
    expect(e.loss).toBeCloseTo(r.final.testLoss!, 12);
  });

  it('the same seed gives bit-identical weights; another seed differs', async () => {
    const graph = buildModel({ arch: 'mlp', width: 16, depth: 1 }, { input: [784], classes: 10 });
    const a = await trainModel({ graph, train: small.train, recipe: sgd });
    const b = await trainModel({ graph, train: small.train, recipe: sgd });
    const c = await trainModel({ graph, train: small.train, recipe: { ...sgd, seed: 4 } });
    expect(bitEqual(a.params, b.params)).toBe(true);
    expect(bitEqual(a.params, c.params)).toBe(false);
    expect(a.final.testAccuracy).toBeNull();
  });

  it('a CNN with batchnorm: running statistics are trained; frozen layers stay put', async () => {
    const graph = buildModel({ arch: 'minimyrtle', width: 2 }, { input: [1, 28, 28], classes: 10 });
    const train = sampleSubset(small.train, { size: 32, seed: 0 });
    const r0 = await trainModel({ graph, train, recipe: { ...sgd, epochs: 1, batchSize: 16, freeze: ['layers.0'] } });
    expect(r0.params['layers.1.running_mean']!.data.some((v) => v !== 0)).toBe(true);
    expect(r0.params['layers.1.running_var']!.data.some((v) => v !== 1)).toBe(true);
    const init = await trainModel({ graph, train, recipe: { ...sgd, optimizer: { kind: 'sgd', lr: 1e-30 }, epochs: 1, batchSize: 32 } });
    // layers.0 (the first conv) is frozen: equal to the seeded initialisation
    expect(Array.from(r0.params['layers.0.weight']!.data)).toEqual(Array.from(init.params['layers.0.weight']!.data));
    expect(Array.from(r0.params['layers.4.weight']!.data)).not.toEqual(Array.from(init.params['layers.4.weight']!.data));
    expect(r0.result.training.frozen).toEqual(expect.arrayContaining(['layers.0.weight', 'layers.0.bias', 'layers.1.running_mean']));
  });

  it('warm start from given parameters', async () => {
    const graph = buildModel({ arch: 'mlp', width: 8, depth: 1 }, { input: [784], classes: 10 });
    const a = await trainModel({ graph, train: small.train, recipe: sgd });
    const b = await trainModel({ graph, train: small.train, recipe: { ...sgd, optimizer: { kind: 'sgd', lr: 1e-30 } }, initial: a.params });
    expect(bitEqual(a.params, b.params)).toBe(true);
  });

  it('validates recipes, specs and data with the path of the bad field', async () => {
    const graph = buildModel({ arch: 'mlp', width: 8, depth: 1 }, { input: [784], classes: 10 });
    expect(await code(() => resolveTrainSettings({ ...sgd, optimizer: { kind: 'sgd', lr: -1 } }))).toMatch(/^CONFIG_INVALID: recipe\.optimizer\.lr must be > 0/);
    expect(await code(() => resolveTrainSettings({ ...sgd, epochs: 0 }))).toMatch(/recipe\.epochs must be an integer >= 1/);
    expect(await code(() => resolveTrainSettings({ ...sgd, lr: 0.1 }))).toMatch(/recipe\.lr is not a known option/);
    expect(await code(() => resolveTrainSettings({ ...sgd, schedule: { kind: 'cosin' } }))).toMatch(/recipe\.schedule\.kind/);
    expect(await code(() => resolveTrainSettings({ ...sgd, checkpoints: [0.5, 2] }))).toMatch(/recipe\.checkpoints\[1\] must be <= 1/);
    expect(await code(trainModel({ graph, train: small.train, recipe: { ...sgd, freeze: ['layers.9'] } }))).toMatch(/recipe\.freeze\[0\] names no parameter or node: 'layers\.9'/);
    expect(await code(() => parseModelSpec({ arch: 'mlpp' }))).toMatch(/model\.arch must be one of mlp, resmlp/);
    expect(await code(() => parseModelSpec({ arch: 'mlp', width: [64, 0] }))).toMatch(/model\.width\[1\] must be an integer >= 1/);
    expect(await code(() => buildModel({ arch: 'minimyrtle', width: 4 }, { input: [784], classes: 10 }))).toMatch(/model\.arch minimyrtle needs image data/);
    expect(await code(() => parseDataSpec({ dataset: 'cifar' }))).toMatch(/data\.dataset must be one of mnist, fashion/);
    expect(await code(() => parseDataSpec({ dataset: 'fashion', testFraction: 0.1 }))).toMatch(/data\.testFraction is not a known option of dataset 'fashion'/);
    const wrong = buildModel({ arch: 'mlp', width: 8, depth: 1 }, { input: [100], classes: 10 });
    expect(await code(trainModel({ graph: wrong, train: small.train, recipe: sgd }))).toMatch(/^SHAPE_MISMATCH: train 'mnist\/train\/sample' has examples of shape \[1, 28, 28\] \(784 values\) but mlp-8-relu takes \[100\]/);
  });

  it('the default recipes are valid data', () => {
    for (const r of Object.values(TRAINING_PRESETS)) {
      expect(() => resolveTrainSettings(r.train)).not.toThrow();
      expect(() => parseModelSpec(r.model)).not.toThrow();
      expect(() => parseDataSpec(r.data)).not.toThrow();
      expect(Object.isFrozen(r.train.optimizer)).toBe(true);
    }
    const g = buildModel(TRAINING_PRESETS.mlpMnist.model, { input: [1, 28, 28], classes: 10 });
    expect(g.nodes.filter((n) => n.op === 'dense').map((n) => (n as { units: number }).units)).toEqual([512, 512, 10]);
  });
});

describe('trainModelResumable', () => {
  it('an aborted run resumes to the same weights as an uninterrupted one; the run directory becomes a checkpoint', async () => {
    const graph = buildModel({ arch: 'mlp', width: 16, depth: 1 }, { input: [784], classes: 10 });
    const recipe: TrainSettings = { ...sgd, epochs: 2, checkpoints: [0.5] };
    const full = await trainModel({ graph, train: small.train, test: small.test, recipe });
    const runDir = join(root, 'resume');
    const ctl = new AbortController();
    const first = await trainModelResumable({
      graph,
      train: small.train,
      test: small.test,
      recipe,
      runDir,
      signal: ctl.signal,
      onProgress: (e) => {
        if (e.kind === 'step' && e.step === 11) ctl.abort();
      },
    });
    expect(first.stopped).toBe('aborted');
    expect(first.steps).toBe(11);
    expect((await readdir(runDir)).includes('manifest.json')).toBe(false); // only complete runs export the final model
    const second = await trainModelResumable({ graph, train: small.train, test: small.test, recipe, runDir });
    expect(second.resumedFrom).toMatch(/step-000000011$/);
    expect(second.stopped).toBe('completed');
    expect(bitEqual(second.params, full.params)).toBe(true);
    expect(second.history.map((h) => h.testAccuracy)).toEqual(full.history.map((h) => h.testAccuracy));
    const names = (await readdir(runDir)).sort();
    expect(names).toEqual(expect.arrayContaining(['manifest.json', 'model.safetensors', 'step-000000004', 'step-000000008', 'step-000000011', 'step-000000016']));
    const ckpt = await loadCheckpoint(runDir);
    expect(ckpt.optimizer).toBeNull();
    expect(ckpt.manifest.graph).toEqual(graph);
    expect((ckpt.manifest.meta as { recipe: { seed: number } }).recipe.seed).toBe(3);
    expect(ckpt.manifest.metrics.eval?.testAccuracy).toBe(full.final.testAccuracy);
    for (const [k, v] of ckpt.params) expect(Array.from(v.data as Float32Array)).toEqual(Array.from(full.params[k]!.data));
  });
});
