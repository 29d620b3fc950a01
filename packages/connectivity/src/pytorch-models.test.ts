// The models made by PyTorch (tooling/test-utils/fixtures/models/pytorch): a planted permutation of
// each, loaded from its state_dict by structure (.pt, safetensors) or from its ONNX file (no
// architecture given), is recovered by weight matching through the inferred spec, and the linear
// path between the model and the re-aligned copy has no barrier.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng, readNpy } from '@basis/tensor';
import { act, sampleElement, type GroupElement } from '@basis/symmetry';
import { buildModel, inferSpec, toFloat64, type ModelGraph, type ModelSpec } from '@basis/zoo';
import { loadModel } from '@basis/zoo/node';
import { fixtureBytes, fixturePath } from '@basis/test-utils';
import { interpolationCurve } from './interpolate.js';
import { weightMatching } from './matching.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Loads `file`, plants a permutation, checks exact recovery and a barrier below 1e-3 on PyTorch's own inputs. */
async function expectPlantedRecovered(name: string, file: string, graph?: ModelGraph): Promise<void> {
  const m = await loadModel(fixturePath(`models/pytorch/${file}`), graph === undefined ? {} : { graph });
  const sym = inferSpec(m.graph);
  const A = toFloat64(m.params);
  const rng = createRng(18);
  const asg: Record<string, GroupElement> = {};
  for (const [g, decl] of Object.entries(sym.groups)) asg[g] = sampleElement({ kind: 'permutation', size: decl.size }, rng);
  const B = act(A, sym, asg);
  // the permutation moved the weights
  const moved = Object.keys(A).some((k) => A[k]!.data.some((v, i) => v !== B[k]!.data[i]));
  expect(moved, file).toBe(true);
  const r = weightMatching(A, B, sym);
  let diff = 0;
  for (const k of Object.keys(A)) A[k]!.data.forEach((v, i) => (diff = Math.max(diff, Math.abs(v - (r.params[k]!.data[i] as number)))));
  expect(diff, file).toBeLessThan(1e-8);
  const xa = readNpy(fixtureBytes(`models/pytorch/${name}.x.npy`));
  const logits = readNpy(fixtureBytes(`models/pytorch/${name}.logits.npy`)).data as Float32Array;
  const labels = Int32Array.from({ length: 8 }, (_, n) => {
    const row = Array.from(logits.subarray(n * 10, n * 10 + 10));
    return row.indexOf(Math.max(...row));
  });
  const x = tf.tensor(Float32Array.from(xa.data as Float32Array), [...xa.shape]);
  const rec = await interpolationCurve(m.graph, A, r.params, { x, labels }, { lambdas: [0, 0.25, 0.5, 0.75, 1], repair: 'none' });
  x.dispose();
  expect(rec.barrier.loss.maxMinusMean, file).toBeLessThan(1e-3);
  expect(Math.abs(rec.barrier.loss.maxMinusLinear), file).toBeLessThan(1e-3);
}

const MODELS: [string, ModelSpec][] = [
  ['mlp', { arch: 'mlp', width: [16, 12] }],
  ['cnn', { arch: 'cnn', width: [4, 8] }],
  ['rescnn', { arch: 'resnet', width: [8, 16], depth: 1 }],
];

describe('planted permutations of the PyTorch-made models are recovered by weight matching', () => {
  for (const [name, spec] of MODELS) {
    it(`${name}: exact recovery, barrier < 1e-3`, async () => {
      const graph = buildModel(spec, { input: [1, 28, 28], classes: 10 });
      for (const file of [`${name}.pt`, `${name}.safetensors`]) await expectPlantedRecovered(name, file, graph);
    });
  }
});

const ONNX_FILES: [string, string][] = [
  ['mlp', 'mlp.onnx'],
  ['cnn', 'cnn.onnx'],
  ['cnn', 'cnn-bn.onnx'],
  ['rescnn', 'rescnn.onnx'],
  ['rescnn', 'rescnn-bn.onnx'],
];

describe('planted permutations of the PyTorch-made ONNX models are recovered by weight matching', () => {
  for (const [name, file] of ONNX_FILES) {
    it(`${file}: exact recovery, barrier < 1e-3`, () => expectPlantedRecovered(name, file));
  }
});
