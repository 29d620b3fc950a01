import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { expectNoTensorLeak } from '@basis/test-utils';
import { BasisError, Matrix, engineInfo } from '../index.js';
import { matrixToTensor, tensorToMatrix, tensorToMatrixAsync } from '../index.js';
import { applyWasmKernelFixes, detectBackends, selectBackend } from './backend.js';
import { registerNativeKernels } from './native-kernels.js';
import { registerFusedKernels } from './fused-kernels.js';

/** Deterministic pseudo-random float32 values. */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

/** Runs `f` on a backend and returns the values of the tensors it produces. */
async function on(backend: string, f: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  await tf.ready();
  return tf.tidy(f).map((t) => {
    const v = t.dataSync() as Float32Array;
    t.dispose();
    return v;
  });
}

function expectClose(a: Float32Array, b: Float32Array, rtol = 1e-4): void {
  expect(a.length).toBe(b.length);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i] as number));
  for (let i = 0; i < b.length; i++) expect(Math.abs((a[i] as number) - (b[i] as number))).toBeLessThanOrEqual(rtol * Math.max(1, scale));
}

describe('backend detection and selection', () => {
  it('reports every candidate package and whether it loads', async () => {
    const r = await detectBackends();
    const byPkg = Object.fromEntries(r.candidates.map((c) => [c.package, c]));
    expect(byPkg['@tensorflow/tfjs-backend-wasm']?.available).toBe(true);
    expect(byPkg['@tensorflow/tfjs-backend-cpu']?.available).toBe(true);
    // tfjs-node cannot be installed on this project's machines; on a user's machine it may be
    expect(byPkg['@tensorflow/tfjs-node']).toBeDefined();
    expect(r.tfjsCore).toBe(tf.version_core);
  });
  it('selects wasm with the kernel fixes, or cpu when asked', async () => {
    const w = await selectBackend('wasm');
    expect(w.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    const fixes = ['Transpose(block swap)', 'BatchMatMul(transpose)', 'Conv2DBackpropFilter', 'Conv2DBackpropInput(stride 1)', 'Conv2D(explicit padding)', 'Add(SIMD bias rows)'];
    // with a native BLAS the training products and convolutions run on it (native-kernels.test.ts)
    expect(w.fixesApplied).toEqual([...fixes, ...(engineInfo().provider === 'native' ? registerNativeKernels() : []), ...registerFusedKernels('wasm')]);
    const c = await selectBackend('cpu');
    expect(c.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });
  it('auto picks the best loadable backend', async () => {
    const a = await selectBackend('auto');
    const tfNode = (await detectBackends()).candidates.some((c) => c.backend === 'tensorflow' && c.available);
    expect(a.name).toBe(tfNode ? 'tensorflow' : 'wasm');
  });
  it('an unavailable or unknown backend is a BasisError', async () => {
    const tfNode = (await detectBackends()).candidates.some((c) => c.backend === 'tensorflow' && c.available);
    if (!tfNode) await expect(selectBackend('tensorflow')).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    await expect(selectBackend('tpu' as never)).rejects.toBeInstanceOf(BasisError);
  });
});

describe('wasm kernel fixes agree with the cpu backend', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
    applyWasmKernelFixes();
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('BatchMatMul with transposeA / transposeB', async () => {
    const run = () => {
      const a = tf.tensor3d(values(2 * 33 * 17, 1), [2, 33, 17]);
      const b = tf.tensor3d(values(2 * 33 * 9, 2), [2, 33, 9]);
      const c = tf.tensor2d(values(21 * 17, 3), [21, 17]);
      return [tf.matMul(a, b, true, false), tf.matMul(c, tf.tensor2d(values(40 * 17, 4), [40, 17]), false, true), tf.matMul(b, a, true, false)];
    };
    const want = await on('cpu', run);
    const got = await on('wasm', run);
    got.forEach((g, i) => expectClose(g, want[i] as Float32Array));
  });

  it('Transpose: block swaps (done from JS) and other permutations are exact', async () => {
    const cases: [number[], number[]][] = [
      [[37, 53], [1, 0]],
      [[3, 17, 21], [0, 2, 1]],
      [[2, 5, 6, 7], [0, 3, 1, 2]],
      [[2, 5, 6, 7], [0, 2, 3, 1]],
      [[2, 5, 6, 7], [2, 3, 1, 0]],
      [[4, 3, 2], [1, 2, 0]],
      [[1, 5, 1, 7], [3, 2, 1, 0]],
      [[6, 1, 4], [2, 1, 0]],
      [[3, 4], [0, 1]],
    ];
    const run = () =>
      cases.flatMap(([shape, perm], i) => {
        const n = shape.reduce((a, b) => a * b);
        const f = tf.tensor(values(n, 10 + i), shape);
        const k = tf.tensor(Int32Array.from(values(n, 20 + i), (v) => Math.round(v * 1000)), shape, 'int32');
        return [tf.transpose(f, perm), tf.transpose(k, perm)];
      });
    const want = await on('cpu', run);
    const got = await on('wasm', run);
    got.forEach((g, i) => expect(Array.from(g)).toEqual(Array.from(want[i] as Float32Array)));
  });

  const convCases: [string, number[], number[], [number, number], 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]]][] = [
    ['3x3 same stride 1', [2, 9, 9, 3], [3, 3, 3, 4], [1, 1], 'same'],
    ['3x3 valid stride 1', [2, 8, 7, 2], [3, 3, 2, 5], [1, 1], 'valid'],
    ['3x3 numeric pad 1', [1, 8, 8, 3], [3, 3, 3, 2], [1, 1], 1],
    ['5x5 numeric pad 2 stride 2', [2, 11, 10, 3], [5, 5, 3, 2], [2, 2], 2],
    ['3x3 same stride 2, odd size', [1, 7, 7, 2], [3, 3, 2, 3], [2, 2], 'same'],
    ['3x3 same stride 2', [2, 9, 9, 3], [3, 3, 3, 4], [2, 2], 'same'],
    ['2x2 valid stride 2', [3, 8, 8, 2], [2, 2, 2, 3], [2, 2], 'valid'],
    ['3x5 same stride 1 (non-square kernel)', [2, 9, 8, 3], [3, 5, 3, 4], [1, 1], 'same'],
    ['5x3 valid stride (2, 1)', [3, 10, 9, 2], [5, 3, 2, 3], [2, 1], 'valid'],
    // (tfjs-core's numeric padding computes the output width from the filter height, so non-square
    // kernels get explicit padding, as the zoo's conv2d nodes do)
    [
      '2x4 explicit pad 1 stride (1, 2)',
      [2, 7, 9, 3],
      [2, 4, 3, 2],
      [1, 2],
      [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ],
    ],
    ['1x1 valid stride 2, batch 4', [4, 6, 6, 5], [1, 1, 5, 3], [2, 2], 'valid'],
    ['3x3 same stride 3, even size', [2, 10, 10, 2], [3, 3, 2, 2], [3, 3], 'same'],
    ['4x2 same stride 2 (even kernel, asymmetric padding)', [3, 9, 7, 2], [4, 2, 2, 3], [2, 2], 'same'],
    [
      '3x3 explicit asymmetric padding',
      [2, 6, 7, 3],
      [3, 3, 3, 2],
      [1, 1],
      [
        [0, 0],
        [2, 1],
        [0, 2],
        [0, 0],
      ],
    ],
    ['3x3 same, 16 channels, batch 5', [5, 8, 8, 16], [3, 3, 16, 8], [1, 1], 'same'],
  ];
  const convGrads = (xs: number[], fs: number[], strides: [number, number], pad: (typeof convCases)[number][4]) => () => {
    const x = tf.tensor4d(values(xs.reduce((a, b) => a * b), 5), xs as [number, number, number, number]);
    const f = tf.tensor4d(values(fs.reduce((a, b) => a * b), 6), fs as [number, number, number, number]);
    const y = tf.conv2d(x, f, strides, pad);
    const dy = tf.tensor4d(values(y.size, 7), y.shape);
    const common = { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
    // the kernels the conv2d gradient runs, called directly (tfjs-core alone registers no gradients)
    const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...common, filterShape: fs } as never) as tf.Tensor;
    const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { ...common, inputShape: xs } as never) as tf.Tensor;
    return [dw, dx, y];
  };
  for (const [name, xs, fs, strides, pad] of convCases) {
    it(`conv2d backprop kernels (filter and input): ${name}`, async () => {
      const run = convGrads(xs, fs, strides, pad);
      const want = await on('cpu', run);
      const got = await on('wasm', run);
      const names = ['filter gradient', 'input gradient', 'forward'];
      for (const k of [2, 0, 1]) {
        try {
          expectClose(got[k] as Float32Array, want[k] as Float32Array);
        } catch (e) {
          throw new Error(`${names[k]}: ${(e as Error).message}`, { cause: e });
        }
      }
    });
  }

  it('the fixed kernels leak no tensors over repeated calls', async () => {
    await tf.setBackend('wasm');
    const run = convGrads([2, 8, 8, 3], [3, 3, 3, 4], [1, 1], 'same');
    const step = () =>
      tf.tidy(() => {
        const [dw, dx] = run();
        const a = tf.tensor3d(values(2 * 5 * 3, 1), [2, 5, 3]);
        const mm = tf.matMul(a, a, true, false);
        return (dw as tf.Tensor).dataSync()[0]! + (dx as tf.Tensor).dataSync()[0]! + mm.dataSync()[0]!;
      });
    step();
    await expectNoTensorLeak(() => {
      for (let i = 0; i < 5; i++) step();
    });
  });
});

describe('Matrix <-> tensor bridge', () => {
  it('round-trips values (float32) and shapes', async () => {
    await tf.setBackend('cpu');
    const m = Matrix.from([
      [1, 2.5, -3],
      [4, 5, 6],
    ]);
    const t = matrixToTensor(m);
    expect(t.shape).toEqual([2, 3]);
    expect(tensorToMatrix(t).toArray()).toEqual(m.toArray());
    expect((await tensorToMatrixAsync(t)).toArray()).toEqual(m.toArray());
    t.dispose();
    const v = tf.tensor1d([1, 2, 3]);
    expect(tensorToMatrix(v).shape).toEqual([3, 1]);
    v.dispose();
    const cube = tf.zeros([2, 2, 2]);
    expect(() => tensorToMatrix(cube)).toThrow(BasisError);
    cube.dispose();
  });
});
