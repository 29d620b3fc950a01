// Training on the calling thread stays responsive: timers, abort listeners and signal handlers run
// during the run (tfjs reads resolve as microtasks, so without the loop's yields nothing else ran
// until training ended: `basis reproduce` once ignored SIGTERM for minutes while stitching).
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { train } from './loop.js';
import { blobData, disposeParams, mlpLoss, mlpParams } from './test-helpers.js';

let blobs: ReturnType<typeof blobData>;
beforeAll(async () => {
  await tf.setBackend('cpu');
  blobs = blobData(2000, 8, 3, 4);
});
afterAll(() => blobs.dispose());

describe('train on the calling thread', () => {
  it('lets a timer run while it trains, and an abort from that timer stops it after the current step', async () => {
    const params = mlpParams(8, 16, 3, 1);
    const ctl = new AbortController();
    let step = 0;
    let firedAt = -1;
    const t0 = performance.now();
    // an abort from a timer: runs only when the event loop turns
    const timer = setTimeout(() => {
      firedAt = step;
      ctl.abort();
    }, 30);
    try {
      const r = await train({ params, lossFn: mlpLoss, data: blobs.data, epochs: 400, batchSize: 16, optimizer: { kind: 'adam', lr: 0.01 }, seed: 1, signal: ctl.signal, onProgress: (e) => void (e.kind === 'step' && (step = e.step)) });
      expect(firedAt).toBeGreaterThanOrEqual(0);
      expect(r.stopped).toBe('aborted');
      // 400 epochs of 125 steps would take minutes; the abort lands within a few yields
      expect(r.state.step).toBeLessThan(400 * 125);
      expect(r.state.step - firedAt).toBeLessThanOrEqual(1);
      expect(performance.now() - t0).toBeLessThan(60_000);
    } finally {
      clearTimeout(timer);
      disposeParams(params);
    }
  }, 120_000);
});
