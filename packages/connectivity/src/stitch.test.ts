import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@basis/tensor';
import { GroupElement, act, sampleElement } from '@basis/symmetry';
import { forward, inferSpec, initParams, miniMyrtle, mlp, paramsToTensors, toFloat64, type ModelGraph } from '@basis/zoo';
import { stitch } from './stitch.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Inputs labelled by the model itself, so its accuracy is 1 and any stitching loss shows. */
function selfLabelled(graph: ModelGraph, params: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>, n: number, seed: number) {
  const rng = createRng(seed);
  const size = graph.input.reduce((a, b) => a * b, 1);
  const x = tf.tensor(Float32Array.from({ length: n * size }, () => rng.normal()), [n, ...graph.input]);
  const labels = Int32Array.from(tf.tidy(() => tf.argMax(forward(graph, paramsToTensors(params), x).output, 1).dataSync()));
  return { x, labels };
}

describe('stitching (S003 Sec. 4, Theorem 4.2 oracle)', () => {
  const g = mlp({ width: 12, depth: 2, inputDim: 6, classes: 4 });
  const spec = inferSpec(g);
  const A = toFloat64(initParams(g, createRng(1), { scheme: 'he' }));
  const el = sampleElement(spec.groups['layers.0']!, createRng(2), { scaleSigma: 0.5 });
  const T = act(A, spec, { 'layers.0': el });
  const train = selfLabelled(g, A, 512, 3);
  const test = selfLabelled(g, A, 256, 4);

  it('identity stitching of a model with itself costs nothing', async () => {
    const r = await stitch(g, A, A, { kind: 'identity', layer: 'layers.1', train, test });
    expect(r.penalty).toBe(0);
    expect(r.stitched.accuracy).toBe(1);
    expect(r.parameters).toBe(0);
  });

  it('G_ReLU stitching onto the transformed copy recovers P and D: penalty 0', async () => {
    const r = await stitch(g, A, T, { kind: 'grelu', layer: 'layers.1', train, test, epochs: 2 });
    expect(Array.from(r.permutation!)).toEqual(Array.from(el.src!));
    expect(r.penalty).toBeLessThanOrEqual(0.01);
    expect(r.parameters).toBe(12);
    expect(r.stitchedSoft).toBeDefined();
    // the learned map is close to φ(A) = P D
    const want = el.toMatrix();
    let err = 0;
    for (let k = 0; k < want.data.length; k++) err = Math.max(err, Math.abs((r.M.data[k] as number) - (want.data[k] as number)));
    expect(err).toBeLessThan(0.05);
  });

  it('leaves no tensors behind for any trained class', async () => {
    for (const kind of ['affine', 'grelu', { rank: 2 }] as const) {
      const before = tf.memory().numTensors;
      await stitch(g, A, T, { kind, layer: 'layers.1', train, test, epochs: 1 });
      expect(tf.memory().numTensors, JSON.stringify(kind)).toBe(before);
    }
  });

  it('affine and rank-r stitching: affine is exact from the least-squares start, rank 1 pays a penalty', async () => {
    const aff = await stitch(g, A, T, { kind: 'affine', layer: 'layers.1', train, test, epochs: 0 });
    expect(aff.penalty).toBe(0); // the least-squares start is exact: ReLU features of T are P·D times A's
    const trained = await stitch(g, A, T, { kind: 'affine', layer: 'layers.1', train, test, epochs: 1 });
    expect(trained.penalty).toBeLessThanOrEqual(0.05);
    expect(trained.trainLoss.length).toBe(1);
    expect(aff.parameters).toBe(12 * 12 + 12);
    const r1 = await stitch(g, A, T, { kind: { rank: 1 }, layer: 'layers.1', train, test, epochs: 1 });
    expect(r1.parameters).toBe(2 * 12 - 1 + 12);
    expect(r1.penalty).toBeGreaterThan(aff.penalty);
  });

  it('permutation from matching: exact for a permuted copy, identity stitching is not', async () => {
    const P = GroupElement.permutation(el.src!);
    const Tp = act(A, spec, { 'layers.0': P });
    const perm = await stitch(g, A, Tp, { kind: 'permutation', layer: 'layers.1', train, test });
    expect(perm.penalty).toBe(0);
    const id = await stitch(g, A, Tp, { kind: 'identity', layer: 'layers.1', train, test });
    expect(id.penalty).toBeGreaterThan(0.05);
  });

  it('conv channels are stitched by a 1x1 map', async () => {
    const c = miniMyrtle(3, { input: [1, 8, 8], classes: 3 });
    const cs = inferSpec(c);
    const CA = toFloat64(initParams(c, createRng(5), { scheme: 'he' }));
    const ce = sampleElement(cs.groups['layers.0']!, createRng(6), { scaleSigma: 0.3 });
    const CT = act(CA, cs, { 'layers.0': ce });
    const tr = selfLabelled(c, CA, 64, 7);
    const r = await stitch(c, CA, CT, { kind: 'grelu', layer: 'layers.2', train: tr, test: tr, epochs: 1 });
    expect(Array.from(r.permutation!)).toEqual(Array.from(ce.src!));
    expect(r.penalty).toBeLessThanOrEqual(0.05);
  });

  it('rejects bad options', async () => {
    await expect(stitch(g, A, T, { kind: 'affine', layer: 'layers.4', train, test })).rejects.toThrow(/output layer/);
    await expect(stitch(g, A, T, { kind: 'affine', layer: 'nope', train, test })).rejects.toThrow(/not a top-level node/);
    await expect(stitch(g, A, T, { kind: { rank: 13 }, layer: 'layers.1', train, test })).rejects.toThrow(/rank/);
    await expect(stitch(g, A, T, { kind: 'magic' as never, layer: 'layers.1', train, test })).rejects.toThrow(/kind/);
    await expect(stitch(g, A, T, { kind: 'affine', layer: 'layers.1', train, test, lr: -1 })).rejects.toThrow(/lr/);
    await expect(stitch(g, A, T, { kind: 'affine', layer: 'layers.1', train, test, signal: 'stop' as never })).rejects.toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/AbortSignal/) as string }));
  });

  it('an abort stops a stitch within one training step (a timer can fire mid-training), keeps nothing and leaves no tensors', async () => {
    const before = tf.memory().numTensors;
    for (const kind of ['affine', 'grelu', { rank: 2 }] as const) {
      const ctl = new AbortController();
      // 1000 epochs of 4 steps would take minutes; the abort lands after ~30 ms of training
      setTimeout(() => ctl.abort(), 30);
      const t0 = performance.now();
      const err = await stitch(g, A, T, { kind, layer: 'layers.1', train, test, epochs: 1000, signal: ctl.signal }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(performance.now() - t0, JSON.stringify(kind)).toBeLessThan(10_000);
      expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', details: { aborted: true, phase: 'while training the stitching layer' } });
      const stepsAtAbort = (err as { details: { step: number } }).details.step;
      expect(stepsAtAbort).toBeGreaterThan(0);
      expect(stepsAtAbort).toBeLessThan(4000);
      expect((err as Error).message).toMatch(/stitching \((affine|grelu|rank 2)\) at layers\.1 was interrupted while training the stitching layer \(after training step \d+\)/);
    }
    expect(tf.memory().numTensors).toBe(before);
    // aborted before it starts: nothing runs; an abort during evaluation stops between batches
    await expect(stitch(g, A, T, { kind: 'affine', layer: 'layers.1', train, test, signal: AbortSignal.abort() })).rejects.toMatchObject({ details: { aborted: true, phase: 'before it started' } });
    // without an abort the signal changes nothing
    const plain = await stitch(g, A, T, { kind: 'affine', layer: 'layers.1', train, test, epochs: 1 });
    const signalled = await stitch(g, A, T, { kind: 'affine', layer: 'layers.1', train, test, epochs: 1, signal: new AbortController().signal });
    expect(signalled.penalty).toBe(plain.penalty);
    expect(Array.from(signalled.M.data)).toEqual(Array.from(plain.M.data));
  });
});
