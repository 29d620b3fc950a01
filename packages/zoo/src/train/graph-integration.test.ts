// Integration: every zoo architecture trains through `train` (the registered gradients cover all
// of its ops, every trainable parameter gets a gradient, batchnorm buffers flow back through
// `updates`, and nothing leaks). The training code itself does not depend on the graph.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@basis/tensor';
import { forward, initParams, miniMyrtle, mlp, paramsToTensors, resmlp, resnet, transformer } from '../graph/index.js';
import { train } from './loop.js';
import type { NamedVariables } from './params.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type Graph = ReturnType<typeof mlp>;

const CASES: [string, () => Graph, number[], number, boolean][] = [
  ['mlp (gelu)', () => mlp({ width: 8, depth: 2, inputDim: 6, classes: 3, activation: 'gelu' }), [6], 3, false],
  ['resmlp', () => resmlp({ width: 8, depth: 2, inputDim: 6, classes: 3 } as Parameters<typeof resmlp>[0]), [6], 3, false],
  ['miniMyrtle', () => miniMyrtle(2, { input: [1, 8, 8], classes: 3 }), [1, 8, 8], 3, false],
  // (ResNet stages are 16/32/64 channels wide: a 4x4 input keeps the cpu backend quick)
  ['resnet', () => resnet({ widthMultiplier: 1, blocksPerStage: 1, input: [1, 4, 4], classes: 3 }), [1, 4, 4], 3, false],
  ['transformer', () => transformer({ vocab: 7, seqLen: 3, dim: 8, heads: 2, classes: 7, layernorm: true }), [3], 7, true],
];

describe('zoo architectures train with train()', () => {
  for (const [name, make, shape, k, tokens] of CASES) {
    it(name, async () => {
      const g = make();
      const params: NamedVariables = {};
      for (const [p, t] of Object.entries(paramsToTensors(initParams(g, createRng(0))))) {
        params[p] = tf.variable(t, !/running_|num_batches/.test(p));
        t.dispose();
      }
      const n = 16;
      const size = shape.reduce((a, b) => a * b, 1);
      const rng = createRng(1);
      const X = tf.tensor(Float32Array.from({ length: n * size }, () => (tokens ? rng.int(7) : rng.normal())), [n, ...shape]);
      const Y = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(Int32Array.from({ length: n }, () => rng.int(k)), 'int32'), k), 'float32'));
      const buffers = Object.keys(params).filter((p) => !params[p]!.trainable);
      const before = buffers.map((p) => Float32Array.from(params[p]!.dataSync() as Float32Array));
      const tensors = tf.memory().numTensors;
      const r = await train({
        params,
        epochs: 2,
        batchSize: 8,
        seed: 0,
        optimizer: { kind: 'adam', lr: 0.01 },
        data: {
          n,
          getBatch: (idx) =>
            tf.tidy(() => {
              const i = tf.tensor1d(idx, 'int32');
              return { x: tf.gather(X, i), y: tf.gather(Y, i) };
            }),
        },
        lossFn: (b, ctx) => {
          const out = forward(g, ctx.params, b.x, { training: true });
          return { loss: tf.losses.softmaxCrossEntropy(b.y, out.output) as tf.Scalar, updates: out.buffers };
        },
      });
      expect(tf.memory().numTensors).toBe(tensors);
      expect(r.epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
      const trainable = Object.keys(params).filter((p) => params[p]!.trainable).sort();
      const withState = [...r.optimizer.slots.keys()].filter((s) => s.endsWith('.exp_avg')).map((s) => s.slice(0, -'.exp_avg'.length)).sort();
      expect(withState).toEqual(trainable);
      // batchnorm running statistics moved
      buffers.forEach((p, i) => {
        if (/running_(mean|var)/.test(p)) expect(Array.from(params[p]!.dataSync())).not.toEqual(Array.from(before[i]!));
      });
      X.dispose();
      Y.dispose();
      for (const v of Object.values(params)) v.dispose();
    });
  }
});
