import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoTensorLeak } from '@basis/test-utils';
import { createOptimizer, gradsByName, resolveOptimizerConfig, type Optimizer, type OptimizerConfig } from './optimizers.js';
import { registerGradients } from '@basis/tensor';
import type { NamedVariables } from './params.js';
import { cloneVariables } from './params.js';
import { bitEqual, values } from './test-helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

// loss(w) = 0.5 * sum(a * (w - c)^2), gradient a * (w - c)
const A = [1, 2, 0.5];
const C = [0.3, 0.1, -0.2];
const W0 = [1, -2, 0.5];

function quadParams(): NamedVariables {
  return { w: tf.variable(tf.tensor1d(W0)) };
}

function quadLoss(w: tf.Tensor): tf.Scalar {
  return tf.mul(0.5, tf.sum(tf.mul(tf.tensor1d(A), tf.square(tf.sub(w, tf.tensor1d(C)))))) as tf.Scalar;
}

function step(opt: Optimizer, p: NamedVariables, lr?: number): ReturnType<Optimizer['applyGradients']> {
  let info: ReturnType<Optimizer['applyGradients']> | undefined;
  tf.tidy(() => {
    const { grads } = tf.variableGrads(() => quadLoss(p.w!), [p.w!]);
    info = opt.applyGradients(p, gradsByName(p, grads), lr === undefined ? {} : { lr });
  });
  return info!;
}

const grad = (w: number[]): number[] => w.map((x, i) => A[i]! * (x - C[i]!));

function refSgd(steps: number, c: { lr: number; momentum?: number; nesterov?: boolean; dampening?: number; weightDecay?: number }): number[] {
  const w = [...W0];
  let buf: number[] | null = null;
  const mu = c.momentum ?? 0;
  for (let t = 0; t < steps; t++) {
    const g = grad(w).map((x, i) => x + (c.weightDecay ?? 0) * w[i]!);
    let d = g;
    if (mu > 0) {
      buf = buf === null ? [...g] : buf.map((b, i) => mu * b + (1 - (c.dampening ?? 0)) * g[i]!);
      d = c.nesterov ? g.map((x, i) => x + mu * buf![i]!) : buf;
    }
    for (let i = 0; i < w.length; i++) w[i] = w[i]! - c.lr * d[i]!;
  }
  return w;
}

function refAdam(steps: number, c: { lr: number; decoupled?: boolean; weightDecay?: number; beta1?: number; beta2?: number; eps?: number }): number[] {
  const b1 = c.beta1 ?? 0.9;
  const b2 = c.beta2 ?? 0.999;
  const eps = c.eps ?? 1e-8;
  const wd = c.weightDecay ?? 0;
  let w = [...W0];
  let m = [0, 0, 0];
  let v = [0, 0, 0];
  for (let t = 1; t <= steps; t++) {
    let g = grad(w);
    if (c.decoupled) w = w.map((x) => x * (1 - c.lr * wd));
    else g = g.map((x, i) => x + wd * w[i]!);
    m = m.map((x, i) => b1 * x + (1 - b1) * g[i]!);
    v = v.map((x, i) => b2 * x + (1 - b2) * g[i]! * g[i]!);
    const bc1 = 1 - b1 ** t;
    const bc2 = 1 - b2 ** t;
    w = w.map((x, i) => x - (c.lr / bc1) * (m[i]! / (Math.sqrt(v[i]!) / Math.sqrt(bc2) + eps)));
  }
  return w;
}

function run(config: OptimizerConfig, steps: number): number[] {
  const p = quadParams();
  const opt = createOptimizer(config);
  for (let t = 0; t < steps; t++) step(opt, p);
  const out = Array.from(p.w!.dataSync());
  opt.dispose();
  p.w!.dispose();
  return out;
}

describe('SGD', () => {
  it('plain SGD and momentum match the closed form of the first two steps', () => {
    const g0 = grad(W0);
    const w1 = W0.map((x, i) => x - 0.1 * g0[i]!);
    expect(run({ kind: 'sgd', lr: 0.1 }, 1)).toBeAllclose(w1, { atol: 1e-6 });
    const g1 = grad(w1);
    // momentum: buf1 = g0, buf2 = 0.9 g0 + g1
    const w2 = w1.map((x, i) => x - 0.1 * (0.9 * g0[i]! + g1[i]!));
    expect(run({ kind: 'sgd', lr: 0.1, momentum: 0.9 }, 2)).toBeAllclose(w2, { atol: 1e-6 });
  });

  it('matches the PyTorch recurrences over 5 steps (momentum, Nesterov, dampening, weight decay)', () => {
    const cases: Parameters<typeof refSgd>[1][] = [
      { lr: 0.1, momentum: 0.9 },
      { lr: 0.05, momentum: 0.8, nesterov: true },
      { lr: 0.1, momentum: 0.5, dampening: 0.3 },
      { lr: 0.1, momentum: 0.9, weightDecay: 0.1 },
      { lr: 0.2, weightDecay: 0.05 },
    ];
    for (const c of cases) expect(run({ kind: 'sgd', ...c }, 5)).toBeAllclose(refSgd(5, c), { atol: 1e-6 });
  });
});

describe('Adam', () => {
  it('first step moves every coordinate by lr against the gradient sign (closed form)', () => {
    const g0 = grad(W0);
    const w1 = W0.map((x, i) => x - 0.01 * Math.sign(g0[i]!) * (Math.abs(g0[i]!) / (Math.abs(g0[i]!) + 1e-8)));
    expect(run({ kind: 'adam', lr: 0.01 }, 1)).toBeAllclose(w1, { atol: 1e-6 });
  });

  it('matches the PyTorch Adam/AdamW recurrences over 6 steps', () => {
    expect(run({ kind: 'adam', lr: 0.05 }, 6)).toBeAllclose(refAdam(6, { lr: 0.05 }), { atol: 1e-6 });
    expect(run({ kind: 'adam', lr: 0.05, weightDecay: 0.1 }, 6)).toBeAllclose(refAdam(6, { lr: 0.05, weightDecay: 0.1 }), { atol: 1e-6 });
    expect(run({ kind: 'adamw', lr: 0.05, weightDecay: 0.1 }, 6)).toBeAllclose(refAdam(6, { lr: 0.05, decoupled: true, weightDecay: 0.1 }), { atol: 1e-6 });
    expect(run({ kind: 'adam', lr: 0.02, beta1: 0.5, beta2: 0.9, epsilon: 1e-3 }, 6)).toBeAllclose(
      refAdam(6, { lr: 0.02, beta1: 0.5, beta2: 0.9, eps: 1e-3 }),
      { atol: 1e-6 },
    );
  });

  it('adamw defaults to weight decay 0.01 and adam to 0', () => {
    expect(resolveOptimizerConfig({ kind: 'adamw', lr: 1e-3 }).weightDecay).toBe(0.01);
    expect(resolveOptimizerConfig({ kind: 'adam', lr: 1e-3 }).weightDecay).toBe(0);
  });
});

describe('clipping, freezing, lr override', () => {
  it('clips to the global norm and reports the norm', () => {
    const g0 = grad(W0);
    const norm = Math.hypot(...g0);
    const p = quadParams();
    const opt = createOptimizer({ kind: 'sgd', lr: 1, clipNorm: 0.5 });
    const info = step(opt, p);
    expect(info.gradNorm).toBeCloseTo(norm, 5);
    expect(info.clipped).toBe(true);
    const scale = 0.5 / (norm + 1e-6);
    expect(Array.from(p.w!.dataSync())).toBeAllclose(W0.map((x, i) => x - scale * g0[i]!), { atol: 1e-6 });
    // a large threshold leaves the gradient alone
    const opt2 = createOptimizer({ kind: 'sgd', lr: 1, clipNorm: 1e6 });
    expect(step(opt2, p).clipped).toBe(false);
    opt.dispose();
    opt2.dispose();
    p.w!.dispose();
  });

  it('frozen parameters stay bit-identical and get no state', async () => {
    const p: NamedVariables = { a: tf.variable(tf.tensor1d(W0)), b: tf.variable(tf.tensor1d(W0)) };
    const before = values(p);
    const opt = createOptimizer({ kind: 'adam', lr: 0.1 });
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.add(quadLoss(p.a!), quadLoss(p.b!)) as tf.Scalar, [p.a!, p.b!]);
      opt.applyGradients(p, gradsByName(p, grads), { freeze: ['a'] });
    });
    const after = values(p);
    expect(bitEqual({ a: before.a! }, { a: after.a! })).toBe(true);
    expect(bitEqual({ b: before.b! }, { b: after.b! })).toBe(false);
    const state = await opt.getState();
    expect([...state.slots.keys()].sort()).toEqual(['b.exp_avg', 'b.exp_avg_sq', 'b.step']);
    opt.dispose();
    p.a!.dispose();
    p.b!.dispose();
  });

  it('uses the lr given per update (schedules)', () => {
    const p = quadParams();
    const opt = createOptimizer({ kind: 'sgd', lr: 123 });
    step(opt, p, 0.1);
    expect(Array.from(p.w!.dataSync())).toBeAllclose(refSgd(1, { lr: 0.1 }), { atol: 1e-6 });
    opt.dispose();
    p.w!.dispose();
  });
});

describe('state', () => {
  for (const config of [
    { kind: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true },
    { kind: 'adam', lr: 0.05 },
    { kind: 'adamw', lr: 0.05, weightDecay: 0.1 },
  ] as OptimizerConfig[]) {
    it(`${config.kind}: getState/setState continues bit-identically`, async () => {
      const p = quadParams();
      const opt = createOptimizer(config);
      for (let t = 0; t < 3; t++) step(opt, p);
      const saved = await opt.getState();
      expect(saved.step).toBe(3);
      const q = cloneVariables(p);
      const opt2 = createOptimizer(opt.config);
      opt2.setState(saved, q);
      expect(opt2.step).toBe(3);
      for (let t = 0; t < 3; t++) {
        step(opt, p);
        step(opt2, q);
      }
      expect(bitEqual(values(p), values(q))).toBe(true);
      opt.dispose();
      opt2.dispose();
      p.w!.dispose();
      q.w!.dispose();
    });
  }

  it('setState rejects another kind, unknown slots and wrong shapes', async () => {
    const p = quadParams();
    const opt = createOptimizer({ kind: 'adam', lr: 0.1 });
    step(opt, p);
    const saved = await opt.getState();
    const sgd = createOptimizer({ kind: 'sgd', lr: 0.1, momentum: 0.9 });
    expect(() => sgd.setState(saved, p)).toThrow(/saved state is of a 'adam' optimizer/);
    const other = createOptimizer({ kind: 'adam', lr: 0.1 });
    const bad = { ...saved, slots: new Map(saved.slots).set('w.nonsense', saved.slots.get('w.exp_avg')!) };
    expect(() => other.setState(bad, p)).toThrow(/not '<parameter>.<slot>'/);
    const wrong = { ...saved, slots: new Map(saved.slots).set('w.exp_avg', { dtype: 'float32' as const, shape: [2], data: new Float32Array(2) }) };
    expect(() => other.setState(wrong, p)).toThrow(/shape \[2\]/);
    for (const o of [opt, sgd, other]) o.dispose();
    p.w!.dispose();
  });

  it('updates leak no tensors once the state exists; dispose frees the state', async () => {
    const p = quadParams();
    const opt = createOptimizer({ kind: 'adam', lr: 0.1, clipNorm: 1 });
    step(opt, p);
    await expectNoTensorLeak(() => {
      for (let t = 0; t < 5; t++) step(opt, p);
    });
    const n = tf.memory().numTensors;
    opt.dispose();
    expect(tf.memory().numTensors).toBe(n - 2);
    p.w!.dispose();
  });
});

describe('validation', () => {
  it('names the bad field', () => {
    expect(() => createOptimizer({ kind: 'sgd', lr: -1 })).toThrow('optimizer.lr must be > 0, got -1');
    expect(() => createOptimizer({ kind: 'sgd', lr: 0.1, momentum: 1 })).toThrow('optimizer.momentum must be < 1, got 1');
    expect(() => createOptimizer({ kind: 'sgd', lr: 0.1, nesterov: true })).toThrow(/optimizer.nesterov needs momentum > 0/);
    expect(() => createOptimizer({ kind: 'adam', lr: 0.1, beta2: 1.5 })).toThrow('optimizer.beta2 must be < 1, got 1.5');
    expect(() => createOptimizer({ kind: 'adam', lr: 0.1, clipNorm: 0 })).toThrow('optimizer.clipNorm must be > 0, got 0');
    expect(() => createOptimizer({ kind: 'rmsprop', lr: 0.1 } as never)).toThrow(/optimizer.kind must be 'sgd', 'adam' or 'adamw'/);
    expect(() => createOptimizer({ kind: 'adam', learningRate: 0.1 } as never)).toThrow(/optimizer.learningRate is not a known option/);
    try {
      createOptimizer({ kind: 'sgd', lr: Number.NaN });
    } catch (e) {
      expect((e as { code: string }).code).toBe('CONFIG_INVALID');
    }
  });
});
