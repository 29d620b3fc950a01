import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { expectNoTensorLeak } from '@basis/test-utils';
import {
  adamStep,
  adamStepComposed,
  batchNormTrain,
  batchNormTrainComposed,
  denseLayer,
  gatherRows,
  registerFusedKernels,
  sgdStep,
  sgdStepComposed,
  reluGrad,
  softmaxCrossEntropyMean,
  unregisterFusedKernels,
  type AdamStepOptions,
  type SgdStepOptions,
} from './fused-kernels.js';
import { registerGradients } from './gradients.js';
import { selectBackend } from './backend.js';

// Each fused kernel against the composed tfjs-core ops it replaces: on the cpu backend with the
// kernels registered for cpu, and on wasm (registered by applyWasmKernelFixes), both against the
// composed ops on cpu. Float32 tolerance: the kernels accumulate in float64 and round once.

function values(n: number, seed: number, scale = 1, shift = 0): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * scale + shift;
  }
  return out;
}
function rand(shape: number[], seed: number, scale = 1, shift = 0): tf.Tensor {
  return tf.tensor(values(shape.reduce((a, b) => a * b, 1), seed, scale, shift), shape);
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, rtol = 2e-5): void {
  expect(got.length, what).toBe(want.length);
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i] as number));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs((got[i] as number) - (want[i] as number)));
  expect(worst, `${what}: max |diff| ${worst} at scale ${scale}`).toBeLessThanOrEqual(rtol * Math.max(scale, 1e-6));
}

type Case = { shape: number[]; scale: number; shift: number };
const BN_CASES: Case[] = [
  { shape: [4, 5, 6, 3], scale: 1, shift: 0 },
  { shape: [7, 4], scale: 2, shift: 0.3 },
  { shape: [2, 3, 3, 16], scale: 0.01, shift: 100 }, // large mean, small spread: the shifted sums
  { shape: [3, 8, 8, 5], scale: 1e-3, shift: 0 }, // variance near eps
];

/** Forward outputs and the gradients of Σ w·y + Σ a·mean + Σ b·var in x, gamma, beta (as plain arrays). */
function bnRun(bn: typeof batchNormTrain, c: Case, seed: number, withStats: boolean): Float32Array[] {
  return tf.tidy(() => {
    const C = c.shape[c.shape.length - 1] as number;
    const x = rand(c.shape, seed, c.scale, c.shift);
    const gamma = rand([C], seed + 1, 1, 1);
    const beta = rand([C], seed + 2);
    const w = rand(c.shape, seed + 3);
    const a = rand([C], seed + 4);
    const b = rand([C], seed + 5);
    const r = bn(x, gamma, beta, 1e-5);
    const f = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor): tf.Scalar => {
      const o = bn(xx, gg, bb, 1e-5);
      let l = tf.sum(tf.mul(o.y, w));
      if (withStats) l = tf.add(l, tf.add(tf.sum(tf.mul(o.mean, a)), tf.sum(tf.mul(o.variance, b))));
      return l as tf.Scalar;
    };
    const grads = tf.grads(f)([x, gamma, beta]);
    return [r.y, r.mean, r.variance, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  if (name === 'wasm') await selectBackend('wasm');
  else await tf.setBackend('cpu');
  await tf.ready();
}

beforeAll(async () => {
  registerGradients();
  await selectBackend('wasm'); // registers the wasm kernels
  await useBackend('cpu');
});
afterAll(() => unregisterFusedKernels('cpu'));

describe('fused kernels: registration', () => {
  it('are registered on wasm by the kernel fixes, on cpu only on request', () => {
    expect(tf.getKernel('BasisBatchNormTrain', 'wasm')).toBeDefined();
    expect(tf.getKernel('BasisSgdStep', 'wasm')).toBeDefined();
    unregisterFusedKernels('cpu');
    expect(tf.getKernel('BasisBatchNormTrain', 'cpu')).toBeUndefined();
    // without the kernel the op is the composed ops, exactly
    const c = BN_CASES[0] as Case;
    const a = bnRun(batchNormTrain, c, 7, true);
    const b = bnRun(batchNormTrainComposed, c, 7, true);
    a.forEach((v, i) => expect(Array.from(v)).toEqual(Array.from(b[i] as Float32Array)));
    expect(registerFusedKernels('cpu')).toEqual(['BatchNormTrain(fused)', 'BatchNormTrainGrad(fused)', 'SgdStep(fused)', 'AdamStep(fused)', 'SoftmaxCrossEntropy(fused)', 'ReluGrad(fused)', 'Dense(fused bias/relu)', 'ReluGradSums(fused)', 'GatherRows']);
    expect(tf.getKernel('BasisBatchNormTrain', 'cpu')).toBeDefined();
  });
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`fused batchnorm (training mode) on ${backend}`, () => {
    beforeAll(async () => {
      await useBackend('cpu');
      registerFusedKernels('cpu');
    });
    for (const [k, c] of BN_CASES.entries()) {
      for (const withStats of [false, true]) {
        it(`[${c.shape.join(', ')}] scale ${c.scale} shift ${c.shift}${withStats ? ', loss on the statistics too' : ''}: forward and gradients match the composed ops`, async () => {
          await useBackend('cpu');
          const want = bnRun(batchNormTrainComposed, c, 11 + k, withStats);
          await useBackend(backend);
          expect(tf.getKernel('BasisBatchNormTrain', backend)).toBeDefined();
          const got = await expectNoTensorLeak(() => bnRun(batchNormTrain, c, 11 + k, withStats));
          const names = ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'];
          // large mean, small spread: x − mean keeps ~11 of float32's 24 bits in both versions (the
          // wasm kernel runs in float32 like the composed ops), so they agree to ~1% there
          const rtol = c.shift > 10 ? 1e-2 : 5e-5;
          got.forEach((g, i) => expectClose(g, want[i] as Float32Array, `${names[i]}`, rtol));
          await useBackend('cpu');
        });
      }
    }

    it('runs under variableGrads inside tidy without leaking', async () => {
      await useBackend(backend);
      const x = rand([8, 3, 3, 4], 3);
      const gamma = tf.variable(tf.ones([4]));
      const beta = tf.variable(tf.zeros([4]));
      await expectNoTensorLeak(() =>
        tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(batchNormTrain(x, gamma, beta).y)) as tf.Scalar, [gamma, beta]);
          // Σ y² = N·C·γ²·var/(var + ε) → d/dγ ≈ 2N per channel, d/dβ = 2Σy = 0
          expect(value.dataSync()[0]).toBeCloseTo(72 * 4, 1);
          expectClose(grads[gamma.name]!.dataSync(), [144, 144, 144, 144], 'dgamma', 1e-3);
          expect(Math.max(...Array.from(grads[beta.name]!.dataSync(), Math.abs))).toBeLessThan(1e-4);
        }),
      );
      x.dispose();
      gamma.dispose();
      beta.dispose();
      await useBackend('cpu');
    });
  });

  describe(`fused optimizer updates on ${backend}`, () => {
    const SGD: SgdStepOptions[] = [
      { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 5e-4 },
      { lr: 0.05, momentum: 0.9, dampening: 0.1, nesterov: false, weightDecay: 0 },
      { lr: 0.2, momentum: 0, dampening: 0, nesterov: false, weightDecay: 1e-2, gradScale: 0.5 },
      { lr: 0.1, momentum: 0.5, dampening: 0, nesterov: true, weightDecay: 0, gradScale: 0.25 },
    ];
    for (const [k, o] of SGD.entries()) {
      it(`sgdStep ${JSON.stringify(o)} matches the composed ops over 3 steps (first step without a buffer)`, async () => {
        const run = (step: typeof sgdStep): Float32Array[] =>
          tf.tidy(() => {
            let p = rand([5, 7], 20 + k);
            let buf: tf.Tensor | null = null;
            for (let t = 0; t < 3; t++) {
              const r = step(p, rand([5, 7], 30 + t), buf, o);
              p = r.param;
              buf = r.buf;
            }
            expect(buf === null).toBe(o.momentum === 0);
            return [p, ...(buf === null ? [] : [buf])].map((t) => t.dataSync() as Float32Array);
          });
        await useBackend('cpu');
        const want = run(sgdStepComposed);
        await useBackend(backend);
        const got = await expectNoTensorLeak(() => run(sgdStep));
        got.forEach((g, i) => expectClose(g, want[i] as Float32Array, i === 0 ? 'param' : 'buf', 1e-6));
        await useBackend('cpu');
      });
    }

    const ADAM: Omit<AdamStepOptions, 'step'>[] = [
      { lr: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, decoupled: false },
      { lr: 1e-2, beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.1, decoupled: false, gradScale: 0.5 },
      { lr: 3e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01, decoupled: true },
    ];
    for (const [k, o] of ADAM.entries()) {
      it(`adamStep ${JSON.stringify(o)} matches the composed ops over 3 steps (first step without moments)`, async () => {
        const run = (step: typeof adamStep): Float32Array[] =>
          tf.tidy(() => {
            let p = rand([6, 4], 40 + k);
            let m: tf.Tensor | null = null;
            let v: tf.Tensor | null = null;
            for (let t = 1; t <= 3; t++) {
              const r = step(p, rand([6, 4], 50 + t), m, v, { ...o, step: t });
              p = r.param;
              m = r.m;
              v = r.v;
            }
            return [p, m!, v!].map((t) => t.dataSync() as Float32Array);
          });
        await useBackend('cpu');
        const want = run(adamStepComposed);
        await useBackend(backend);
        const got = await expectNoTensorLeak(() => run(adamStep));
        got.forEach((g, i) => expectClose(g, want[i] as Float32Array, ['param', 'exp_avg', 'exp_avg_sq'][i] as string, 1e-5));
        await useBackend('cpu');
      });
    }
  });
}

describe('fused softmax cross-entropy', () => {
  const cases: [number[], number, 'one-hot' | 'soft'][] = [
    [[128, 10], 3, 'one-hot'],
    [[7, 3], 1, 'soft'],
    [[1, 10], 50, 'one-hot'], // large logits: shifted log-sum-exp
    [[2, 3, 5], 2, 'soft'],
  ];
  const run = (loss: (y: tf.Tensor, z: tf.Tensor) => tf.Tensor, shape: number[], scale: number, kind: 'one-hot' | 'soft'): Float32Array[] =>
    tf.tidy(() => {
      const K = shape[shape.length - 1] as number;
      const z = rand(shape, 61, 2 * scale);
      const raw = kind === 'soft' ? tf.softmax(rand(shape, 62, 3)) : tf.reshape(tf.oneHot(tf.tensor1d(Array.from(values(z.size / K, 63), (v) => Math.floor((v + 0.5) * K)), 'int32'), K), shape);
      const y = tf.cast(raw, 'float32');
      const l = loss(y, z);
      const [gy, gz] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.mul(loss(a, b), 3) as tf.Scalar)([y, z]);
      // tfjs' own gradient in the labels is (labels − softmax)·dy; the true one, −log softmax·dy/N, is
      // the reference for the labels
      const trueGy = tf.mul(tf.logSoftmax(z), -3 / (z.size / K));
      return [l, loss === softmaxCrossEntropyMean ? gy! : trueGy, gz!].map((t) => t.dataSync() as Float32Array);
    });
  for (const backend of ['cpu', 'wasm'] as const) {
    for (const [shape, scale, kind] of cases) {
      it(`on ${backend}, [${shape.join(', ')}] ${kind} labels, logit scale ${scale}: loss and gradients match tf.losses.softmaxCrossEntropy`, async () => {
        await useBackend('cpu');
        registerFusedKernels('cpu');
        const want = run((y, z) => tf.losses.softmaxCrossEntropy(y, z), shape, scale, kind);
        await useBackend(backend);
        expect(tf.getKernel('BasisSoftmaxCrossEntropy', backend)).toBeDefined();
        const got = await expectNoTensorLeak(() => run(softmaxCrossEntropyMean, shape, scale, kind));
        ['loss', 'd labels', 'd logits'].forEach((name, i) => expectClose(got[i] as Float32Array, want[i] as Float32Array, name, 1e-5));
        await useBackend('cpu');
      });
    }
  }
  it('rejects mismatched shapes', () => {
    tf.tidy(() => {
      expect(() => softmaxCrossEntropyMean(tf.ones([2, 3]), tf.ones([3, 2]))).toThrow(/same shape/);
    });
  });
});

describe('fused relu gradient', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    for (const shape of [[7], [3, 5, 7], [128, 13, 13, 4]]) {
      it(`on ${backend}, [${shape.join(', ')}]: dy·step(x) as the composed ops (zeros, negatives, NaN), and tf.grads of relu`, async () => {
        const run = (f: (dy: tf.Tensor, x: tf.Tensor) => tf.Tensor): Float32Array[] =>
          tf.tidy(() => {
            const xv = values(shape.reduce((a, b) => a * b, 1), 71, 2);
            xv[0] = 0;
            if (xv.length > 3) xv[3] = Number.NaN; // in a SIMD lane
            xv[xv.length - 1] = Number.NaN; // in the scalar tail when the length is not a multiple of 4
            const x = tf.tensor(xv, shape);
            const dy = rand(shape, 72);
            const w = rand(shape, 73);
            const [g] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(tf.relu(a), w)) as tf.Scalar)([tf.tensor(values(xv.length, 74), shape)]);
            return [f(dy, x), g!].map((t) => t.dataSync() as Float32Array);
          });
        await useBackend('cpu');
        const want = run((dy, x) => tf.mul(dy, tf.cast(tf.step(x, 0), 'float32')));
        await useBackend(backend);
        expect(tf.getKernel('BasisReluGrad', backend)).toBeDefined();
        const got = await expectNoTensorLeak(() => run(reluGrad));
        const nan = (a: Float32Array): number[] => Array.from(a).flatMap((v, i) => (Number.isNaN(v) ? [i] : []));
        expect(nan(got[0] as Float32Array)).toEqual(nan(want[0] as Float32Array));
        const clean = (a: Float32Array): Float32Array => a.map((v) => (Number.isNaN(v) ? 0 : v));
        expectClose(clean(got[0] as Float32Array), clean(want[0] as Float32Array), 'dx', 0);
        expectClose(got[1] as Float32Array, want[1] as Float32Array, 'grad of relu', 0);
        await useBackend('cpu');
      });
    }
  }
});

describe('fused dense layer', () => {
  // [N, I, O]: vector tails (O not a multiple of 4), a classifier layer, a batch of 1
  const SHAPES: [number, number, number][] = [
    [5, 7, 3],
    [128, 33, 10],
    [64, 16, 12],
    [1, 9, 6],
  ];
  /** y, then the gradients of Σ w·y in x, W and b (b last, when there is one). */
  const run = (f: (x: tf.Tensor, W: tf.Tensor, b: tf.Tensor | null) => tf.Tensor, [N, I, O]: [number, number, number], withBias: boolean, seed: number): Float32Array[] =>
    tf.tidy(() => {
      const x = rand([N, I], seed);
      const W = rand([O, I], seed + 1, 0.8);
      const b = withBias ? rand([O], seed + 2, 0.5) : null;
      const w = rand([N, O], seed + 3);
      const loss = (...a: tf.Tensor[]): tf.Scalar => tf.sum(tf.mul(f(a[0]!, a[1]!, a[2] ?? null), w));
      const g = tf.grads(loss)(b === null ? [x, W] : [x, W, b]);
      return [f(x, W, b), ...g].map((t) => t.dataSync() as Float32Array);
    });
  const composed = (act: 'linear' | 'relu') => (x: tf.Tensor, W: tf.Tensor, b: tf.Tensor | null): tf.Tensor => {
    const z = tf.matMul(x, W, false, true);
    const zb = b === null ? z : tf.add(z, b);
    return act === 'relu' ? tf.relu(zb) : zb;
  };
  for (const backend of ['cpu', 'wasm'] as const) {
    for (const shape of SHAPES) {
      for (const act of ['relu', 'linear'] as const) {
        for (const withBias of [true, false]) {
          it(`on ${backend}, [${shape.join(', ')}] ${act}${withBias ? ' with bias' : ''}: the output and the x and W gradients equal the composed ops on the same backend, the bias gradient to float32 rounding`, async () => {
            await useBackend(backend);
            expect(tf.getKernel('BasisDense', backend)).toBeDefined();
            const got = await expectNoTensorLeak(() => run((x, W, b) => denseLayer(x, W, b, act), shape, withBias, 90));
            const want = run(composed(act), shape, withBias, 90);
            expect(got.length).toBe(withBias ? 4 : 3);
            for (let i = 0; i < 3; i++) expectClose(got[i] as Float32Array, want[i] as Float32Array, ['y', 'dx', 'dW'][i] as string, 0);
            if (withBias) expectClose(got[3] as Float32Array, want[3] as Float32Array, 'db', 1e-6);
            // and against float64 on cpu's composed ops (the wasm product is another float32 sgemm)
            await useBackend('cpu');
            const ref = run(composed(act), shape, withBias, 90);
            got.forEach((g, i) => expectClose(g, ref[i] as Float32Array, `vs cpu ${i}`, 2e-5));
          });
        }
      }
    }
    it(`on ${backend}: a relu whose input is exactly 0 passes no gradient; a layer whose input needs no gradient computes none`, async () => {
      await useBackend(backend);
      const [dW, db] = await expectNoTensorLeak(() =>
        tf.tidy(() => {
          const x = tf.tensor([[1, 0], [0, 1]]);
          const W = tf.variable(tf.tensor([[1, -1], [2, 3]]));
          const b = tf.variable(tf.tensor([-1, 0]));
          // z = [[0, 2], [-2, 3]]: relu passes dy where z > 0 only
          const { grads } = tf.variableGrads(() => tf.sum(denseLayer(x, W, b, 'relu')) as tf.Scalar, [W, b]);
          const out = [grads[W.name]!, grads[b.name]!].map((t) => Array.from(t.dataSync()));
          W.dispose();
          b.dispose();
          return out;
        }),
      );
      expect(dW).toEqual([0, 0, 1, 1]);
      expect(db).toEqual([0, 2]);
      await useBackend('cpu');
    });
  }
  it('rejects bad shapes, an unknown activation and empty inputs', () => {
    tf.tidy(() => {
      const x = tf.ones([4, 3]);
      expect(() => denseLayer(x, tf.ones([2, 4]))).toThrow(/x must be \[N, I\] and weight \[O, I\], got x \[4, 3\] and weight \[2, 4\]/);
      expect(() => denseLayer(tf.ones([4]), tf.ones([2, 4]))).toThrow(/x must be \[N, I\]/);
      expect(() => denseLayer(x, tf.ones([2, 3]), tf.ones([3]))).toThrow(/bias must be \[2\], got \[3\]/);
      expect(() => denseLayer(x, tf.ones([2, 3]), null, 'tanh' as never)).toThrow(/activation must be 'linear' or 'relu', got 'tanh'/);
      expect(() => denseLayer(tf.ones([0, 3]), tf.ones([2, 3]))).toThrow(/empty input/);
    });
  });
});

describe('gathering rows', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`on ${backend}: equals tf.gather along the first axis (repeats, any order, rank 1 to 4)`, async () => {
      await useBackend(backend);
      expect(tf.getKernel('BasisGatherRows', backend)).toBeDefined();
      for (const shape of [[9], [9, 5], [9, 2, 3], [9, 1, 4, 3]]) {
        const idx = [8, 0, 3, 3, 5];
        const [got, want] = await expectNoTensorLeak(() =>
          tf.tidy(() => {
            const x = rand(shape, 5);
            return [gatherRows(x, idx), tf.gather(x, idx, 0)].map((t) => ({ shape: t.shape, data: Array.from(t.dataSync()) }));
          }),
        );
        expect(got).toEqual(want);
      }
      await useBackend('cpu');
    });
  }
  it('rejects indices outside the rows, non-integers, no indices and a scalar', () => {
    tf.tidy(() => {
      const x = tf.ones([4, 3]);
      expect(() => gatherRows(x, [0, 4])).toThrow(/index 4 at position 1 is not a row of x \(0\.\.3\)/);
      expect(() => gatherRows(x, [-1])).toThrow(/index -1 at position 0/);
      expect(() => gatherRows(x, [1.5])).toThrow(/index 1\.5/);
      expect(() => gatherRows(x, [Number.NaN])).toThrow(/index NaN/);
      expect(() => gatherRows(x, [])).toThrow(/no indices/);
      expect(() => gatherRows(tf.scalar(1), [0])).toThrow(/at least one axis/);
    });
  });
});

describe('fused ops: argument checks', () => {
  it('name the bad shape or value', () => {
    tf.tidy(() => {
      const x = tf.ones([4, 3]);
      expect(() => batchNormTrain(x, tf.ones([2]), tf.zeros([3]))).toThrow(/gamma must have shape \[3\]/);
      expect(() => batchNormTrain(tf.ones([3]), tf.ones([3]), tf.zeros([3]))).toThrow(/batch axis and a channel axis/);
      expect(() => batchNormTrain(x, tf.ones([3]), tf.zeros([3]), 0)).toThrow(/eps must be > 0/);
      const o: SgdStepOptions = { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0 };
      expect(() => sgdStep(x, tf.ones([3, 4]), null, o)).toThrow(/gradient has shape \[3, 4\], the parameter \[4, 3\]/);
      expect(() => adamStep(x, x, null, null, { lr: 1, beta1: 0.9, beta2: 0.9, epsilon: 1e-8, weightDecay: 0, decoupled: false, step: 0 })).toThrow(/step must be an integer >= 1/);
    });
  });
});
