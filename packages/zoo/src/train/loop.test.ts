import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoTensorLeak } from '@basis/test-utils';
import { isBasisError } from '@basis/tensor';
import { train, type TrainOptions, type TrainSnapshot } from './loop.js';
import { createOptimizer } from './optimizers.js';
import { cloneVariables } from './params.js';
import { createSchedule } from './schedules.js';
import {
  bitEqual,
  blobData,
  disposeParams,
  linearLoss,
  linearParams,
  mlpAccuracy,
  mlpLoss,
  mlpParams,
  regressionData,
  values,
} from './test-helpers.js';

let reg: ReturnType<typeof regressionData>;
let blobs: ReturnType<typeof blobData>;

beforeAll(async () => {
  await tf.setBackend('cpu');
  reg = regressionData(96, 4, 1);
  blobs = blobData(120, 4, 3, 2);
});

afterAll(() => {
  reg.dispose();
  blobs.dispose();
});

function mlpOptions(params: ReturnType<typeof mlpParams>, over: Partial<TrainOptions> = {}): TrainOptions {
  return {
    params,
    lossFn: mlpLoss,
    data: blobs.data,
    epochs: 3,
    batchSize: 16,
    optimizer: { kind: 'adam', lr: 0.01 },
    seed: 7,
    ...over,
  };
}

async function expectCode(p: Promise<unknown> | (() => unknown), code: string, msg?: RegExp | string): Promise<void> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(isBasisError(e)).toBe(true);
    expect((e as { code: string }).code).toBe(code);
    if (msg !== undefined) expect((e as Error).message).toMatch(msg);
    return;
  }
  throw new Error(`expected a BasisError ${code}`);
}

describe('learning', () => {
  it('SGD with momentum and a cosine schedule fits a linear regression', async () => {
    const params = linearParams(4);
    const r = await train({
      params,
      lossFn: linearLoss,
      data: reg.data,
      epochs: 8,
      batchSize: 16,
      optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.5 },
      schedule: { kind: 'cosine', warmup: { steps: 5 } },
      seed: 0,
    });
    expect(r.stopped).toBe('completed');
    expect(r.state.step).toBe(8 * 6);
    expect(r.epochs).toHaveLength(8);
    expect(r.epochs.at(-1)!.loss).toBeLessThan(1e-3 * r.epochs[0]!.loss);
    expect(Array.from(params.weight!.dataSync())).toBeAllclose(Array.from(reg.wStar), { atol: 0.01 });
    // the schedule's lr was used at every step
    const s = createSchedule({ kind: 'cosine', warmup: { steps: 5 } }, { lr: 0.1, totalSteps: 48 });
    r.steps.forEach((st, i) => expect(st.lr).toBe(s(i)));
    expect(r.training.schedule).toEqual(s.config);
    disposeParams(params);
  });

  it('Adam trains a 2-layer MLP classifier; evalFn metrics land in the epoch history', async () => {
    const params = mlpParams(4, 16, 3, 1);
    const before = mlpAccuracy(params, blobs);
    const r = await train(mlpOptions(params, { evalFn: ({ params: p }) => ({ acc: mlpAccuracy(p, blobs) }), epochs: 4 }));
    const acc = mlpAccuracy(params, blobs);
    expect(acc).toBeGreaterThanOrEqual(0.95);
    expect(acc).toBeGreaterThan(before);
    expect(r.epochs.map((e) => e.metrics?.acc)).toHaveLength(4);
    expect(r.epochs.at(-1)!.metrics!.acc).toBe(acc);
    expect(r.epochs.at(-1)!.loss).toBeLessThan(r.epochs[0]!.loss);
    disposeParams(params);
  });
});

describe('determinism and data order', () => {
  it('the same seed gives bit-identical weights; another seed does not', async () => {
    const runs: Record<string, Float32Array>[] = [];
    for (const seed of [3, 3, 4]) {
      const params = mlpParams(4, 8, 3, 1);
      await train(mlpOptions(params, { seed, epochs: 2, optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true } }));
      runs.push(values(params));
      disposeParams(params);
    }
    expect(bitEqual(runs[0]!, runs[1]!)).toBe(true);
    expect(bitEqual(runs[0]!, runs[2]!)).toBe(false);
  });

  it('each epoch visits a seeded permutation of all examples in batches of index arrays', async () => {
    const seen: number[][] = [];
    const data = {
      n: 10,
      getBatch: (idx: Int32Array) => {
        seen.push(Array.from(idx));
        return { x: tf.zeros([idx.length, 1]), y: tf.zeros([idx.length, 1]) };
      },
    };
    const params = { w: tf.variable(tf.zeros([1, 1])) };
    const lossFn = (b: { x: tf.Tensor }, ctx: { params: Record<string, tf.Variable> }) => tf.sum(tf.matMul(b.x, ctx.params.w!)) as tf.Scalar;
    await train({ params, lossFn, data, epochs: 3, batchSize: 4, optimizer: { kind: 'sgd', lr: 0.1 }, seed: 'order' });
    expect(seen.map((b) => b.length)).toEqual([4, 4, 2, 4, 4, 2, 4, 4, 2]);
    const epochs = [seen.slice(0, 3).flat(), seen.slice(3, 6).flat(), seen.slice(6, 9).flat()];
    for (const e of epochs) expect([...e].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(epochs[0]).not.toEqual(epochs[1]);
    const first = seen.slice();
    seen.length = 0;
    await train({ params, lossFn, data, epochs: 3, batchSize: 4, optimizer: { kind: 'sgd', lr: 0.1 }, seed: 'order' });
    expect(seen).toEqual(first);
    seen.length = 0;
    await train({ params, lossFn, data, epochs: 1, batchSize: 4, dropLast: true, optimizer: { kind: 'sgd', lr: 0.1 }, seed: 'order' });
    expect(seen.map((b) => b.length)).toEqual([4, 4]);
    params.w.dispose();
  });
});

describe('freezing', () => {
  it('frozen and non-trainable parameters stay bit-identical', async () => {
    const params = mlpParams(4, 8, 3, 1);
    params.extra = tf.variable(tf.ones([2]), false);
    const before = values(params);
    const r = await train(mlpOptions(params, { freeze: ['layers.0.weight', 'layers.0.bias'], epochs: 1 }));
    const after = values(params);
    for (const k of ['layers.0.weight', 'layers.0.bias', 'extra']) expect(bitEqual({ [k]: before[k]! }, { [k]: after[k]! })).toBe(true);
    for (const k of ['layers.1.weight', 'layers.1.bias']) expect(bitEqual({ [k]: before[k]! }, { [k]: after[k]! })).toBe(false);
    expect(r.training.frozen).toEqual(['layers.0.weight', 'layers.0.bias', 'extra']);
    expect([...r.optimizer.slots.keys()].every((k) => k.startsWith('layers.1.'))).toBe(true);
    // a predicate works the same way
    const pred = values(params);
    await train(mlpOptions(params, { freeze: (n) => n.startsWith('layers.1.'), epochs: 1 }));
    const post = values(params);
    expect(bitEqual({ a: pred['layers.1.weight']! }, { a: post['layers.1.weight']! })).toBe(true);
    expect(bitEqual({ a: pred['layers.0.weight']! }, { a: post['layers.0.weight']! })).toBe(false);
    await expectCode(train(mlpOptions(params, { freeze: ['layers.9.weight'] })), 'CONFIG_INVALID', /train.freeze\[0\] names no parameter: 'layers.9.weight'/);
    await expectCode(train(mlpOptions(params, { freeze: () => true })), 'CONFIG_INVALID', /leaves no trainable parameter/);
    disposeParams(params);
  });
});

describe('buffer updates from the loss', () => {
  it('assigns { updates } to non-trainable parameters after each step, skipping frozen ones', async () => {
    const params = mlpParams(4, 8, 3, 1);
    params.count = tf.variable(tf.zeros([1]), false);
    params.frozenCount = tf.variable(tf.zeros([1]), false);
    const lossFn: TrainOptions['lossFn'] = (b, ctx) => ({
      loss: mlpLoss(b, ctx) as tf.Scalar,
      updates: { count: tf.add(ctx.params.count!, 1), frozenCount: tf.add(ctx.params.frozenCount!, 1) },
    });
    await expectNoTensorLeak(() => train(mlpOptions(params, { lossFn, freeze: ['frozenCount'], epochs: 2 })));
    expect(params.count.dataSync()[0]).toBe(16);
    expect(params.frozenCount.dataSync()[0]).toBe(0);
    const bad: TrainOptions['lossFn'] = (b, ctx) => ({ loss: mlpLoss(b, ctx) as tf.Scalar, updates: { 'layers.0.bias': tf.zeros([8]) } });
    await expectCode(train(mlpOptions(params, { lossFn: bad })), 'CONFIG_INVALID', /updates\['layers.0.bias'\] is a parameter trained by the optimizer/);
    const shape: TrainOptions['lossFn'] = (b, ctx) => ({ loss: mlpLoss(b, ctx) as tf.Scalar, updates: { count: tf.zeros([2]) } });
    await expectCode(train(mlpOptions(params, { lossFn: shape })), 'CONFIG_INVALID', /updates\['count'\] has shape \[2\], the parameter \[1\]/);
    disposeParams(params);
  });
});

describe('divergence, abort, checkpoints', () => {
  it('a NaN loss raises NON_FINITE_INPUT naming the step and suggesting a smaller lr', async () => {
    const params = mlpParams(4, 8, 3, 1);
    const lossFn: TrainOptions['lossFn'] = (b, ctx) => {
      const l = mlpLoss(b, ctx);
      return ctx.step === 3 ? (tf.mul(l, NaN) as tf.Scalar) : l;
    };
    let saved: Record<string, Float32Array> | null = null;
    await expectCode(
      train(mlpOptions(params, { lossFn, onProgress: (e) => { if (e.kind === 'step' && e.step === 3) saved = values(params); } })),
      'NON_FINITE_INPUT',
      /loss is NaN at step 3 \(epoch 1, batch 4 of 8\).*smaller learning rate \(now 0.01\)/,
    );
    // the failing step did not touch the weights
    expect(bitEqual(saved!, values(params))).toBe(true);
    // a real divergence is caught too
    await expectCode(train(mlpOptions(params, { optimizer: { kind: 'sgd', lr: 1e6 } })), 'NON_FINITE_INPUT', /at step \d+/);
    disposeParams(params);
  });

  it('checkpoints at epoch fractions, every epoch and at the end', async () => {
    const params = mlpParams(4, 8, 3, 1);
    const snaps: TrainSnapshot[] = [];
    // 120 examples / 16 = 8 steps per epoch: 0 -> 0, 0.1 -> 1, 0.25 -> 2, 0.5 -> 4, 1.5 -> 12
    await train(mlpOptions(params, { checkpoints: { at: [0, 0.1, 0.25, 0.5, 1.5], save: (s) => { snaps.push(s); } }, evalFn: () => ({ k: 1 }) }));
    expect(snaps.map((s) => [s.step, s.reasons.join()])).toEqual([
      [0, 'start'], [1, 'fraction'], [2, 'fraction'], [4, 'fraction'], [8, 'epoch'], [12, 'fraction'], [16, 'epoch'], [24, 'epoch'],
    ]);
    expect(snaps[3]!.epoch).toBe(0.5);
    expect(snaps[4]!.history).toHaveLength(1);
    expect(snaps[4]!.metrics.eval).toEqual({ k: 1 });
    expect(snaps[0]!.metrics.loss).toBeNull();
    expect(snaps[0]!.optimizer.slots.size).toBe(0);
    expect(snaps[5]!.params.get('layers.0.weight')!.shape).toEqual([8, 4]);
    // maxSteps stops mid-epoch with an 'end' checkpoint
    const more: TrainSnapshot[] = [];
    const r = await train(mlpOptions(params, { maxSteps: 5, checkpoints: { everyEpoch: false, save: (s) => { more.push(s); } } }));
    expect(r.stopped).toBe('maxSteps');
    expect(more.map((s) => [s.step, s.reasons.join()])).toEqual([[5, 'end']]);
    disposeParams(params);
  });

  it('abort stops after the current step with a checkpoint; continuing gives the uninterrupted weights', async () => {
    const full = mlpParams(4, 8, 3, 1);
    const opts = (p: typeof full, over: Partial<TrainOptions> = {}): TrainOptions =>
      mlpOptions(p, { optimizer: { kind: 'adamw', lr: 0.01, clipNorm: 1 }, schedule: { kind: 'cosine', warmup: { steps: 3 } }, ...over });
    await train(opts(full));
    const part = mlpParams(4, 8, 3, 1);
    const ctl = new AbortController();
    const snaps: TrainSnapshot[] = [];
    const r = await train(
      opts(part, {
        signal: ctl.signal,
        onProgress: (e) => { if (e.kind === 'step' && e.step === 11) ctl.abort(); },
        checkpoints: { everyEpoch: false, save: (s) => { snaps.push(s); } },
      }),
    );
    expect(r.stopped).toBe('aborted');
    expect(r.state.step).toBe(11);
    expect(snaps.map((s) => [s.step, s.reasons.join()])).toEqual([[11, 'abort']]);
    const cont = await train(opts(part, { start: { state: snaps[0]!.state, optimizer: snaps[0]!.optimizer, history: snaps[0]!.history } }));
    expect(cont.epochs).toHaveLength(3);
    expect(bitEqual(values(full), values(part))).toBe(true);
    disposeParams(full);
    disposeParams(part);
  });
});

describe('spawning (fork into several seeds)', () => {
  it('forks share the first k steps, then differ by seed; each fork is reproducible and resumable', async () => {
    const shared = mlpParams(4, 8, 3, 1);
    const opt = { kind: 'sgd' as const, lr: 0.05, momentum: 0.9 };
    const base = await train(mlpOptions(shared, { optimizer: opt, maxSteps: 5 }));
    expect(base.state.step).toBe(5);
    const fork = async (seed: number, over: Partial<TrainOptions> = {}): Promise<Record<string, Float32Array>> => {
      const p = cloneVariables(shared);
      await train(mlpOptions(p, { optimizer: opt, seed, start: { state: base.state, optimizer: base.optimizer }, ...over }));
      const v = values(p);
      disposeParams(p);
      return v;
    };
    const a = await fork(1);
    const a2 = await fork(1);
    const b = await fork(2);
    const same = await fork(7); // the shared run's own seed: plain continuation
    expect(bitEqual(a, a2)).toBe(true);
    expect(bitEqual(a, b)).toBe(false);
    expect(bitEqual(a, same)).toBe(false);
    // a fork interrupted mid-way and continued equals the uninterrupted fork (fork reshuffles replay)
    const p = cloneVariables(shared);
    const half = await train(mlpOptions(p, { optimizer: opt, seed: 1, start: { state: base.state, optimizer: base.optimizer }, maxSteps: 7 }));
    expect(half.state.forks).toHaveLength(1);
    await train(mlpOptions(p, { optimizer: opt, seed: 1, start: { state: half.state, optimizer: half.optimizer } }));
    expect(bitEqual(values(p), a)).toBe(true);
    disposeParams(p);
    disposeParams(shared);
  });

  it('a forked epoch still visits every example once', async () => {
    const seen: number[] = [];
    const data = {
      n: 12,
      getBatch: (idx: Int32Array) => {
        seen.push(...idx);
        return { x: tf.zeros([idx.length, 1]), y: tf.zeros([idx.length, 1]) };
      },
    };
    const params = { w: tf.variable(tf.zeros([1, 1])) };
    const lossFn = (b: { x: tf.Tensor }, ctx: { params: Record<string, tf.Variable> }) => tf.sum(tf.matMul(b.x, ctx.params.w!)) as tf.Scalar;
    const common = { params, lossFn, data, epochs: 1, batchSize: 3, optimizer: { kind: 'sgd' as const, lr: 0.1 } };
    const r = await train({ ...common, seed: 0, maxSteps: 2 });
    await train({ ...common, seed: 5, start: { state: r.state } });
    expect([...seen].sort((x, y) => x - y)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    params.w.dispose();
  });
});

describe('tensor hygiene', () => {
  it('numTensors does not grow across steps, and train leaks nothing', async () => {
    const params = mlpParams(4, 8, 3, 1);
    const counts: number[] = [];
    await expectNoTensorLeak(() =>
      train(
        mlpOptions(params, {
          optimizer: { kind: 'adam', lr: 0.01, clipNorm: 1, weightDecay: 1e-4 },
          schedule: { kind: 'step', gamma: 0.5, stepSize: 5 },
          evalFn: ({ params: p }) => ({ acc: mlpAccuracy(p, blobs) }),
          checkpoints: { at: [0.5], save: () => undefined },
          onProgress: (e) => { if (e.kind === 'step') counts.push(tf.memory().numTensors); },
        }),
      ),
    );
    expect(counts).toHaveLength(24);
    expect(new Set(counts.slice(1)).size).toBe(1);
    // with a caller-owned optimizer, its state (one momentum buffer per parameter) is all that remains
    const opt = createOptimizer({ kind: 'sgd', lr: 0.1, momentum: 0.9 });
    const before = tf.memory().numTensors;
    await train(mlpOptions(params, { optimizer: opt, epochs: 1 }));
    expect(tf.memory().numTensors - before).toBe(4);
    expect(opt.step).toBe(8);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    disposeParams(params);
  });
});

describe('validation', () => {
  it('names the bad field', async () => {
    const params = mlpParams(4, 8, 3, 1);
    const o = (over: Record<string, unknown>): TrainOptions => ({ ...mlpOptions(params), ...over }) as TrainOptions;
    await expectCode(train(o({ batchSize: 0 })), 'CONFIG_INVALID', 'train.batchSize must be an integer >= 1, got 0');
    await expectCode(train(o({ epochs: 1.5 })), 'CONFIG_INVALID', 'train.epochs must be an integer >= 1, got 1.5');
    await expectCode(train(o({ optimizer: { kind: 'sgd', lr: -1 } })), 'CONFIG_INVALID', 'optimizer.lr must be > 0, got -1');
    await expectCode(train(o({ schedule: { kind: 'cosine', totalSteps: 0 } })), 'CONFIG_INVALID', 'schedule.totalSteps must be an integer >= 1, got 0');
    await expectCode(train(o({ learningRate: 1 })), 'CONFIG_INVALID', /train.learningRate is not a known option/);
    await expectCode(train(o({ seed: -1 })), 'CONFIG_INVALID', /train.seed must be a non-negative integer or a string/);
    await expectCode(train(o({ checkpoints: { at: [4], save: () => undefined } })), 'CONFIG_INVALID', 'train.checkpoints.at[0] must be <= 3, got 4');
    await expectCode(train(o({ params: { w: tf.zeros([2]) } })), 'CONFIG_INVALID', /must be a tf.Variable, got a plain tf.Tensor/);
    await expectCode(train(o({ data: { n: 0, getBatch: () => null } })), 'CONFIG_INVALID', 'train.data.n must be an integer >= 1, got 0');
    await expectCode(train(o({ data: { n: 4, getBatch: () => ({ x: 1 }) }, batchSize: 2 })), 'CONFIG_INVALID', /train.data.getBatch must return \{ x: tf.Tensor, y: tf.Tensor \}/);
    await expectCode(train(o({ lossFn: (b: { x: tf.Tensor }) => tf.sum(b.x, 1) })), 'SHAPE_MISMATCH', /lossFn must return a scalar tensor or \{ loss, updates \}, got shape \[16\]/);
    const r = await train(mlpOptions(params, { maxSteps: 2 }));
    await expectCode(train(o({ batchSize: 8, start: { state: r.state } })), 'CONFIG_INVALID', /train.start.state.batchSize is 16 but this run has batchSize 8/);
    await expectCode(train(o({ start: { state: { ...r.state, step: 3 } } })), 'CONFIG_INVALID', /train.start.state.step must equal/);
    disposeParams(params);
  });
});

