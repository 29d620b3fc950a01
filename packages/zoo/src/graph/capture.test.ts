import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { BasisError, createRng } from '@basis/tensor';
import { miniMyrtle, mlp } from './architectures.js';
import { captureActivations, defaultCapturePoints } from './capture.js';
import { forward } from './forward.js';
import { initParams, paramsToTensors } from './params.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('activation capture', () => {
  const g = miniMyrtle(2, { input: [1, 8, 8], classes: 3 });
  const p = paramsToTensors(initParams(g, createRng(1)));
  const rng = createRng(2);
  const x = tf.tensor(Float32Array.from({ length: 5 * 64 }, () => rng.normal()), [5, 1, 8, 8]);

  it('default points are the activations and the output', () => {
    expect(defaultCapturePoints(g)).toEqual(['layers.2', 'layers.5', 'layers.9', 'layers.12']);
    expect(defaultCapturePoints(mlp({ width: 4, inputDim: 3 }))).toEqual(['layers.1', 'layers.3', 'layers.4']);
  });

  it('channel, flat and pooled views agree with the raw feature map, batch size does not matter', async () => {
    const raw = forward(g, p, x, { capture: ['layers.2'] }).captures['layers.2']!.arraySync() as number[][][][];
    const ch = (await captureActivations(g, p, x, { points: ['layers.2'], batchSize: 2 }))['layers.2']!;
    expect(ch.rows).toBe(5 * 64);
    expect(ch.cols).toBe(2);
    expect(ch.get(1 * 64 + 3 * 8 + 5, 1)).toBeCloseTo(raw[1]![1]![3]![5]!, 6);
    const flat = (await captureActivations(g, p, x, { points: ['layers.2'], view: 'flat', batchSize: 3 }))['layers.2']!;
    expect(flat.rows).toBe(5);
    expect(flat.get(4, 1 * 64 + 2 * 8 + 7)).toBeCloseTo(raw[4]![1]![2]![7]!, 6);
    const pooled = (await captureActivations(g, p, x, { points: ['layers.2'], view: 'pooled' }))['layers.2']!;
    const mean = raw[0]![0]!.flat().reduce((a, b) => a + b, 0) / 64;
    expect(pooled.get(0, 0)).toBeCloseTo(mean, 5);
    const all = await captureActivations(g, p, x, { batchSize: 5 });
    const all2 = await captureActivations(g, p, x, { batchSize: 1 });
    for (const k of Object.keys(all)) expect(all2[k]!.data).toBeAllclose(all[k]!.data, { rtol: 1e-6, atol: 1e-6 });
  });

  it('subsamples channel-view rows reproducibly, the same rows for every point of one size', async () => {
    const a = await captureActivations(g, p, x, { points: ['layers.2', 'layers.5'], maxRows: 50, rng: createRng(3) });
    const b = await captureActivations(g, p, x, { points: ['layers.2', 'layers.5'], maxRows: 50, rng: createRng(3) });
    expect(a['layers.2']!.rows).toBe(50);
    expect(a['layers.2']!.data).toEqual(b['layers.2']!.data);
    await expect(captureActivations(g, p, x, { maxRows: 50 })).rejects.toThrow(/rng/);
  });

  it('rejects bad options', async () => {
    await expect(captureActivations(g, p, x, { points: ['nope'] })).rejects.toThrow(BasisError);
    await expect(captureActivations(g, p, x, { view: 'diagonal' as never })).rejects.toThrow(/view/);
    await expect(captureActivations(g, p, x, { batchSize: 0 })).rejects.toThrow(/batchSize/);
    await expect(captureActivations(g, p, x, { points: [] })).rejects.toThrow(/no capture points/);
    const bad = { ...p, 'layers.0.weight': tf.fill([2, 1, 3, 3], NaN) };
    await expect(captureActivations(g, bad, x)).rejects.toThrow(/NaN/);
  });
});
