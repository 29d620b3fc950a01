import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { expectNoTensorLeak } from '@basis/test-utils';
import { configureEngine, engineInfo } from '../index.js';
import { nativeLib } from '../engine/engine.js';
import { registerGradients } from './gradients.js';
import { selectBackend } from './backend.js';

// Runs on the machine's engine: with a native BLAS every comparison runs three ways (cpu backend,
// wasm with the native kernels, wasm with BASIS_BLAS switched off at run time); without one, the
// native-only checks are skipped and the rest still compares wasm with cpu.

const startedNative = engineInfo().provider === 'native';

/** Deterministic pseudo-random float32 values in [-0.5, 0.5). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

function rand(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(values(shape.reduce((a, b) => a * b, 1), seed), shape);
}

type Mode = 'cpu' | 'native' | 'wasm';

async function use(mode: Mode): Promise<void> {
  if (mode === 'cpu') {
    await tf.setBackend('cpu');
  } else {
    configureEngine({ blas: mode === 'native' ? 'auto' : 'off' });
    await tf.setBackend('wasm');
  }
  await tf.ready();
}

/** Runs `f` in a mode and returns the shapes and values of the tensors it returns. */
async function on(mode: Mode, f: () => tf.Tensor[]): Promise<{ shape: number[]; data: Float32Array }[]> {
  await use(mode);
  return tf.tidy(f).map((t) => {
    const r = { shape: t.shape, data: t.dataSync() as Float32Array };
    t.dispose();
    return r;
  });
}

function expectClose(got: { shape: number[]; data: Float32Array }, want: { shape: number[]; data: Float32Array }, what: string, rtol = 1e-4): void {
  expect(got.shape, `${what}: shape`).toEqual(want.shape);
  const a = got.data;
  const b = want.data;
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i] as number));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  expect(worst, `${what}: max |difference| ${worst} at ${at} (scale ${scale})`).toBeLessThanOrEqual(rtol * Math.max(1, scale));
}

const modes: Mode[] = startedNative ? ['native', 'wasm'] : ['wasm'];

/**
 * Compares the wasm modes with the cpu backend, and the native kernels with the WebAssembly ones
 * (`stock: false` where the WebAssembly kernels are known to be wrong or to refuse the case).
 */
async function agree(f: () => tf.Tensor[], what: string, opts: { rtol?: number; stock?: boolean } = {}): Promise<void> {
  const rtol = opts.rtol ?? 1e-4;
  const want = await on('cpu', f);
  const got = new Map<Mode, { shape: number[]; data: Float32Array }[]>();
  for (const m of modes.filter((m) => m === 'native' || opts.stock !== false)) got.set(m, await on(m, f));
  for (const [m, r] of got) r.forEach((g, i) => expectClose(g, want[i]!, `${what} [${i}] ${m} vs cpu`, rtol));
  if (got.has('native') && got.has('wasm')) got.get('native')!.forEach((g, i) => expectClose(g, got.get('wasm')![i]!, `${what} [${i}] native vs wasm`, rtol));
}

beforeAll(async () => {
  registerGradients();
  const active = await selectBackend('wasm');
  if (startedNative) {
    expect(active.fixesApplied).toEqual(
      expect.arrayContaining([
        'BatchMatMul(native sgemm)',
        '_FusedMatMul(native sgemm)',
        'Conv2D(native sgemm)',
        'FusedConv2D(native sgemm)',
        'Conv2DBackpropFilter(native sgemm)',
        'Conv2DBackpropInput(native sgemm)',
        'Sum(native sgemm, leading axes)',
        'Mean(native sgemm, leading axes)',
      ]),
    );
  } else {
    expect(active.fixesApplied.some((n) => n.includes('native'))).toBe(false);
  }
});

afterAll(async () => {
  configureEngine({ blas: startedNative ? 'auto' : 'off' });
  await tf.setBackend('cpu');
});

/** Counts native sgemm calls made by `f` (0 on WebAssembly). */
async function countSgemm(mode: Mode, f: () => void): Promise<number> {
  await use(mode);
  const lib = nativeLib();
  if (lib === null) {
    f();
    return 0;
  }
  const spy = vi.spyOn(lib.fn, 'sgemm');
  try {
    f();
    return spy.mock.calls.length;
  } finally {
    spy.mockRestore();
  }
}

describe('BatchMatMul on the native BLAS', () => {
  const shapes: [string, number[], number[]][] = [
    ['2-D', [7, 5], [5, 9]],
    ['batched', [3, 7, 5], [3, 5, 9]],
    ['b broadcast (rank 3 x rank 2)', [3, 7, 5], [5, 9]],
    ['a broadcast (batch 1)', [1, 7, 5], [4, 5, 9]],
    ['rank 4 x rank 3 (trailing broadcast)', [2, 3, 7, 5], [3, 5, 9]],
    ['vector-like (m = n = 1)', [1, 5], [5, 1]],
    ['k = 1', [6, 1], [1, 4]],
    ['larger (64 x 300 x 129)', [64, 300], [300, 129]],
  ];
  for (const [name, as, bs] of shapes) {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      it(`${name}, transposeA=${ta} transposeB=${tb}`, async () => {
        // the operands are stored transposed when the flag is set
        const t = (s: number[], on: boolean): number[] => (on ? [...s.slice(0, -2), s[s.length - 1]!, s[s.length - 2]!] : s);
        await agree(() => [tf.matMul(rand(t(as, ta), 1), rand(t(bs, tb), 2), ta, tb)], name);
      });
    }
  }

  it('general batch broadcasting ([2,1] x [1,3] batches) matches the tiled product', async () => {
    // (tfjs' own kernels index batches modulo their count, which this case breaks; the reference
    // tiles the operands explicitly)
    const a = () => rand([2, 1, 4, 5], 3);
    const b = () => rand([1, 3, 5, 6], 4);
    const want = await on('cpu', () => [tf.matMul(tf.tile(a(), [1, 3, 1, 1]), tf.tile(b(), [2, 1, 1, 1]))]);
    if (!startedNative) return;
    const got = await on('native', () => [tf.matMul(a(), b())]);
    expectClose(got[0]!, want[0]!, 'broadcast batches');
    const gotT = await on('native', () => [tf.matMul(tf.transpose(a(), [0, 1, 3, 2]), tf.transpose(b(), [0, 1, 3, 2]), true, true)]);
    expectClose(gotT[0]!, want[0]!, 'broadcast batches, transposed');
  });

  it('empty and zero-depth products (zeros; the WebAssembly kernel returns uninitialised memory for k = 0)', async () => {
    await agree(() => [tf.matMul(tf.zeros([0, 3]), rand([3, 4], 5))], 'empty');
    await agree(() => [tf.matMul(tf.zeros([3, 0]), tf.zeros([0, 4])), tf.matMul(tf.ones([2, 3, 0]), tf.ones([2, 0, 5]), false, false)], 'zero depth', { stock: false });
  });

  it.skipIf(!startedNative)('runs on sgemm when native and on the WebAssembly kernels after BASIS_BLAS=off', async () => {
    const a = rand([16, 8], 1);
    const b = rand([8, 4], 2);
    const run = () => tf.tidy(() => void tf.matMul(a, b, false, false).dataSync());
    expect(await countSgemm('native', run)).toBe(1);
    expect(await countSgemm('wasm', run)).toBe(0);
    expect(await countSgemm('native', () => tf.tidy(() => void tf.matMul(rand([3, 4, 8], 3), rand([3, 8, 5], 4)).dataSync()))).toBe(3);
    // batches of a stack into one product when b is shared
    expect(await countSgemm('native', () => tf.tidy(() => void tf.matMul(rand([3, 4, 8], 3), rand([8, 5], 4)).dataSync()))).toBe(1);
    a.dispose();
    b.dispose();
  });

  it('bad shapes raise tfjs errors on every path, also when the kernel is called directly', async () => {
    for (const m of ['native', 'wasm'] as const) {
      if (m === 'native' && !startedNative) continue;
      await use(m);
      const a = rand([3, 4], 1);
      const b = rand([5, 6], 2);
      expect(() => tf.matMul(a, b)).toThrow(/inner shapes/);
      expect(() => tf.engine().runKernel('BatchMatMul', { a, b }, { transposeA: false, transposeB: false })).toThrow(/inner shapes/);
      const c = rand([2, 4, 5], 3);
      const d = rand([3, 5, 6], 4);
      expect(() => tf.matMul(c, d)).toThrow(/broadcast/);
      tf.dispose([a, b, c, d]);
    }
  });
});

describe('_FusedMatMul on the native BLAS', () => {
  const activations = ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'prelu', 'sigmoid'] as const;
  for (const activation of activations) {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      it(`${activation}, transposeA=${ta} transposeB=${tb}, with and without a bias`, async () => {
        const [m, k, n] = [6, 5, 7];
        const run = (withBias = true) => {
          const a = rand(ta ? [2, k, m] : [2, m, k], 11);
          const b = rand(tb ? [2, n, k] : [2, k, n], 12);
          // scaled so that the activations' kinks and saturations are exercised
          const scale = (t: tf.Tensor) => tf.mul(t, 8);
          const common = {
            a: scale(a) as tf.Tensor3D,
            b: b as tf.Tensor3D,
            transposeA: ta,
            transposeB: tb,
            activation,
            ...(activation === 'prelu' ? { preluActivationWeights: rand([n], 13) } : {}),
            ...(activation === 'leakyrelu' ? { leakyreluAlpha: 0.3 } : {}),
          };
          const plain = tf.fused.matMul(common);
          return withBias ? [plain, tf.fused.matMul({ ...common, bias: rand([n], 14) }), tf.fused.matMul({ ...common, bias: tf.scalar(0.25) })] : [plain];
        };
        await agree(run, `fused ${activation}`, { stock: false });
        // the WebAssembly kernel refuses a scalar bias and, outside its batch-1 untransposed path,
        // adds the last bias entry to every row after the first (so only the bias-free product
        // is compared with it)
        await agree(() => run(false), `fused ${activation} (stock)`);
      });
    }
  }

  it('a 2-D bias and per-element prelu weights broadcast like tfjs', async () => {
    const run = () => {
      const a = rand([3, 4, 5], 21);
      const b = rand([5, 6], 22);
      return [tf.fused.matMul({ a: tf.mul(a, 4) as tf.Tensor3D, b: b as unknown as tf.Tensor3D, bias: rand([4, 6], 23), activation: 'prelu', preluActivationWeights: rand([4, 6], 24) })];
    };
    const want = await on('cpu', run);
    if (!startedNative) return;
    expectClose((await on('native', run))[0]!, want[0]!, 'fused, 2-D bias and weights');
  });
});

// every stride/padding case of the wasm kernel-fix tests (backend.test.ts), plus 1x1 convolutions
type ConvCase = [string, number[], number[], [number, number], 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]]];
const convCases: ConvCase[] = [
  ['3x3 same stride 1', [2, 9, 9, 3], [3, 3, 3, 4], [1, 1], 'same'],
  ['3x3 valid stride 1', [2, 8, 7, 2], [3, 3, 2, 5], [1, 1], 'valid'],
  ['3x3 numeric pad 1', [1, 8, 8, 3], [3, 3, 3, 2], [1, 1], 1],
  ['5x5 numeric pad 2 stride 2', [2, 11, 10, 3], [5, 5, 3, 2], [2, 2], 2],
  ['3x3 same stride 2, odd size', [1, 7, 7, 2], [3, 3, 2, 3], [2, 2], 'same'],
  ['3x3 same stride 2', [2, 9, 9, 3], [3, 3, 3, 4], [2, 2], 'same'],
  ['2x2 valid stride 2', [3, 8, 8, 2], [2, 2, 2, 3], [2, 2], 'valid'],
  ['3x5 same stride 1 (non-square kernel)', [2, 9, 8, 3], [3, 5, 3, 4], [1, 1], 'same'],
  ['5x3 valid stride (2, 1)', [3, 10, 9, 2], [5, 3, 2, 3], [2, 1], 'valid'],
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
  ['1x1 stride 1 (the input is the patch matrix)', [3, 5, 6, 7], [1, 1, 7, 4], [1, 1], 'valid'],
  [
    'filter as large as the padded input',
    [2, 4, 5, 2],
    [6, 7, 2, 3],
    [1, 1],
    [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ],
  ],
  ['wide rows (copied with copyWithin)', [2, 6, 12, 40], [3, 3, 40, 5], [1, 1], 'same'],
  // grids of more rows than one block of the tap products (chunkRows: 16384 rows at 2 + 3 channels)
  ['3x3 same, grid of two row blocks', [1, 130, 130, 2], [3, 3, 2, 3], [1, 1], 'same'],
  ['3x3 valid, grid of two row blocks', [2, 91, 92, 2], [3, 3, 2, 3], [1, 1], 'valid'],
];

describe('convolutions on the native BLAS (im2col + sgemm)', () => {
  for (const [name, xs, fs, strides, pad] of convCases) {
    it(`forward, filter and input gradients: ${name}`, async () => {
      const run = () => {
        const x = rand(xs, 5) as tf.Tensor4D;
        const f = rand(fs, 6) as tf.Tensor4D;
        const y = tf.conv2d(x, f, strides, pad);
        const dy = rand(y.shape, 7);
        const common = { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
        // the kernels the conv2d gradient runs, called directly
        const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...common, filterShape: fs } as never) as tf.Tensor;
        const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { ...common, inputShape: xs } as never) as tf.Tensor;
        return [y, dw, dx];
      };
      await agree(run, name);
    });
  }

  it('FusedConv2D: bias and activations', async () => {
    const run = () =>
      (['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'prelu', 'sigmoid'] as const).flatMap((activation, i) => {
        const x = tf.mul(rand([2, 7, 6, 3], 30 + i), 4) as tf.Tensor4D;
        const filter = rand([3, 3, 3, 4], 40 + i) as tf.Tensor4D;
        const extra = activation === 'prelu' ? { preluActivationWeights: rand([4], 50 + i) } : activation === 'leakyrelu' ? { leakyreluAlpha: 0.1 } : {};
        return [
          tf.fused.conv2d({ x, filter, strides: [1, 1], pad: 'same', activation, bias: rand([4], 60 + i), ...extra }),
          tf.fused.conv2d({ x, filter, strides: [2, 2], pad: 'valid', activation, ...extra }),
        ];
      });
    await agree(run, 'fused conv2d');
  });

  it.skipIf(!startedNative)('stride 1 runs one product per filter tap, strided convolutions one product on the patch matrix', async () => {
    const x = rand([2, 7, 7, 3], 1) as tf.Tensor4D;
    const f = rand([3, 3, 3, 4], 2) as tf.Tensor4D;
    const count = (f: () => tf.Tensor) => countSgemm('native', () => tf.tidy(() => void f().dataSync()));
    expect(await count(() => tf.conv2d(x, f, 1, 'same'))).toBe(9);
    expect(await count(() => tf.conv2d(x, f, 2, 'same'))).toBe(1);
    expect(await count(() => tf.conv2d(x, rand([1, 1, 3, 4], 3) as tf.Tensor4D, 1, 'valid'))).toBe(1);
    tf.dispose([x, f]);
  });

  it('dilations > 1 and NCHW stay on the WebAssembly kernels', async () => {
    if (!startedNative) return;
    const run = () => tf.tidy(() => void tf.conv2d(rand([1, 9, 9, 2], 1) as tf.Tensor4D, rand([3, 3, 2, 2], 2) as tf.Tensor4D, 1, 'same', 'NHWC', 2).dataSync());
    expect(await countSgemm('native', run)).toBe(0);
    const want = await on('cpu', () => [tf.conv2d(rand([1, 9, 9, 2], 1) as tf.Tensor4D, rand([3, 3, 2, 2], 2) as tf.Tensor4D, 1, 'same', 'NHWC', 2)]);
    expectClose((await on('native', () => [tf.conv2d(rand([1, 9, 9, 2], 1) as tf.Tensor4D, rand([3, 3, 2, 2], 2) as tf.Tensor4D, 1, 'same', 'NHWC', 2)]))[0]!, want[0]!, 'dilated');
  });

  it('bad shapes raise tfjs errors on every path', async () => {
    for (const m of ['native', 'wasm'] as const) {
      if (m === 'native' && !startedNative) continue;
      await use(m);
      const x = rand([1, 5, 5, 3], 1) as tf.Tensor4D;
      const f = rand([3, 3, 4, 2], 2) as tf.Tensor4D;
      expect(() => tf.conv2d(x, f, 1, 'same')).toThrow(/depth of input/);
      expect(() => tf.conv2d(x, tf.reshape(f, [9, 4, 2]) as never, 1, 'same')).toThrow(/filter must be rank 4/);
      const dy = rand([1, 5, 5, 2], 3);
      const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 4, 2] };
      // channels of x and of the filter shape disagree: not a native case; the fallback's error
      expect(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as never)).toThrow();
      dy.dispose();
      tf.dispose([x, f]);
    }
  });
});

describe('Sum and Mean over leading or middle axes on the native BLAS', () => {
  const cases: [number[], number | number[], boolean][] = [
    [[4, 5, 6, 3], [0, 1, 2], false],
    [[4, 5, 6, 3], [0, 1, 2], true],
    [[3, 4, 5, 6], [1, 2], false],
    [[3, 4, 5, 6], [2, 1], true],
    [[7, 5], 0, false],
    [[7, 5], [-2], true],
    [[2, 3, 4], [0, 1], false],
    [[2, 3, 4], [2], false], // innermost: the wasm kernel
    [[2, 3, 4], [0, 2], false], // not contiguous: the wasm kernel
    [[2, 3, 4], [0, 1, 2], false],
  ];
  for (const [shape, axis, keepDims] of cases) {
    it(`shape [${shape.join(', ')}], axis ${JSON.stringify(axis)}, keepDims ${keepDims}`, async () => {
      await agree(() => [tf.sum(tf.mul(rand(shape, 1), 10), axis, keepDims), tf.mean(tf.mul(rand(shape, 2), 10), axis, keepDims)], 'reduction');
    });
  }

  it.skipIf(!startedNative)('only leading/middle contiguous float32 reductions use sgemm', async () => {
    const x = rand([6, 5, 4], 1);
    const count = (f: () => tf.Tensor) => countSgemm('native', () => tf.tidy(() => void f().dataSync()));
    expect(await count(() => tf.sum(x, [0, 1]))).toBe(1);
    expect(await count(() => tf.mean(x, [1]))).toBe(6);
    expect(await count(() => tf.sum(x, [2]))).toBe(0);
    expect(await count(() => tf.sum(x, [0, 2]))).toBe(0);
    expect(await count(() => tf.sum(tf.cast(x, 'int32'), [0]))).toBe(0);
    x.dispose();
  });
});

describe('companions of the native kernels', () => {
  const pools: [string, number[], number | [number, number], number | [number, number], 'valid' | 'same'][] = [
    ['2x2 stride 2 valid', [3, 8, 8, 5], 2, 2, 'valid'],
    ['2x2 stride 2 valid, odd size', [2, 7, 9, 3], 2, 2, 'valid'],
    ['3x3 stride 1 same (overlapping windows)', [2, 6, 7, 4], 3, 1, 'same'],
    ['3x3 stride 2 same', [2, 9, 8, 3], 3, 2, 'same'],
    ['3x2 stride (2, 1) valid', [2, 7, 6, 2], [3, 2], [2, 1], 'valid'],
    // 2x2 stride 2 with channels a multiple of 4: the straight-line SIMD kernels (forward too)
    ['2x2 stride 2 valid, 8 channels', [3, 8, 8, 8], 2, 2, 'valid'],
    ['2x2 stride 2 valid, odd size, 4 channels (rows and columns in no window)', [2, 7, 9, 4], 2, 2, 'valid'],
    ['2x2 stride 2 same, odd size, 4 channels (padded last windows: the general kernels)', [2, 7, 9, 4], 2, 2, 'same'],
  ];
  for (const [name, xs, size, strides, pad] of pools) {
    it(`MaxPoolGrad: ${name}`, async () => {
      const run = (kind: 'positive' | 'signed' | 'ties') => () => {
        // ties: values on a coarse grid, so that windows hold equal maxima (the first one wins in
        // tfjs' cpu kernel). The wasm kernel breaks ties differently and drops the gradient of
        // some windows whose maximum is negative, so it is compared on positive values only.
        const r = rand(xs, 8);
        const x = (kind === 'ties' ? tf.round(tf.mul(r, 4)) : kind === 'positive' ? tf.add(r, 1) : r) as tf.Tensor4D;
        const y = tf.maxPool(x, size, strides, pad);
        const dy = rand(y.shape, 9);
        return [y, tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, { filterSize: size, strides, pad } as never) as tf.Tensor];
      };
      await agree(run('positive'), `max pool ${name}`);
      await agree(run('signed'), `max pool ${name}, signed`, { stock: false });
      await agree(run('ties'), `max pool ${name}, ties`, { stock: false });
    });
  }

  it.skipIf(!startedNative)('2x2 stride-2 pooling: maxima, and the gradient at the first strictly greater value from -Infinity (ties, -Infinity windows, NaN)', async () => {
    await use('native');
    // one image, 2 x 4 pixels, 4 channels: two windows; per channel a different kind of window
    const xv = [
      // window 0: pixel (0,0), (0,1), (1,0), (1,1); window 1: (0,2), (0,3), (1,2), (1,3) — channels last
      ...[1, -Infinity, NaN, 0.5], ...[3, -Infinity, 2, 0.5], ...[5, 5, 5, 5], ...[0, 0, 0, 0],
      ...[2, -Infinity, NaN, 0.5], ...[3, -Infinity, 1, 0.5], ...[-1, -2, -3, -4], ...[-5, -1, -3, -4],
    ];
    const x = tf.tensor(xv, [1, 2, 4, 4]) as tf.Tensor4D;
    const y = tf.maxPool(x, 2, 2, 'valid');
    const dy = tf.tensor(Array.from({ length: 8 }, (_, i) => 10 + i), [1, 1, 2, 4]);
    const g = tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, { filterSize: 2, strides: 2, pad: 'valid' } as never) as tf.Tensor;
    // reference: scan order (0,0), (0,1), (1,0), (1,1); a value replaces the best only if strictly greater (from -Infinity)
    const X = Float32Array.from(xv);
    const want = new Float32Array(32);
    const at = (yy: number, xx: number, ch: number): number => (yy * 4 + xx) * 4 + ch;
    for (let win = 0; win < 2; win++) {
      for (let ch = 0; ch < 4; ch++) {
        let best = -Infinity;
        let arg = -1;
        for (const [yy, xx] of [[0, 2 * win], [0, 2 * win + 1], [1, 2 * win], [1, 2 * win + 1]] as const) {
          const v = X[at(yy, xx, ch)] as number;
          if (v > best) {
            best = v;
            arg = at(yy, xx, ch);
          }
        }
        if (arg >= 0) want[arg] = 10 + win * 4 + ch;
      }
    }
    expect(Array.from(g.dataSync())).toEqual(Array.from(want));
    // maxima: NaN propagates; a window of -Infinity gives -Infinity
    expect(Array.from(y.dataSync())).toEqual([3, -Infinity, NaN, 0.5, 5, 5, 5, 5]);
    for (const t of [x, y, dy, g]) t.dispose();
  });

  it('Identity and same-dtype Cast share the data; other casts convert', async () => {
    await use(startedNative ? 'native' : 'wasm');
    const before = tf.memory().numTensors;
    const x = rand([4, 5], 1);
    const c = tf.clone(x);
    const same = tf.cast(x, 'float32');
    const toInt = tf.tidy(() => tf.cast(tf.mul(x, 10), 'int32'));
    const want = Array.from(x.dataSync());
    x.dispose();
    expect(Array.from(c.dataSync())).toEqual(want);
    expect(Array.from(same.dataSync())).toEqual(want);
    expect(toInt.dtype).toBe('int32');
    expect(Array.from(toInt.dataSync())).toEqual(want.map((v) => Math.fround(v * 10) | 0));
    tf.dispose([c, same, toInt]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('training through the native kernels matches the cpu backend', () => {
  it('an MLP (matMul with transposes, fused matMul, bias, relu)', async () => {
    const run = () => {
      const x = rand([16, 20], 1);
      const t = rand([16, 4], 2);
      const w1 = tf.variable(rand([20, 32], 3));
      const b1 = tf.variable(rand([32], 4));
      const w2 = tf.variable(rand([12, 32], 5)); // [out, in], used transposed as zoo's dense layers are
      const w3 = tf.variable(rand([12, 4], 6));
      const loss = () => {
        const h1 = tf.relu(tf.add(tf.matMul(x, w1), b1));
        const h2 = tf.fused.matMul({ a: h1 as tf.Tensor2D, b: w2 as tf.Tensor2D, transposeB: true, bias: tf.slice(b1, [0], [12]), activation: 'relu' });
        return tf.mean(tf.square(tf.sub(tf.matMul(h2, w3), t))) as tf.Scalar;
      };
      const { value, grads } = tf.variableGrads(loss, [w1, b1, w2, w3]);
      const out = [value, ...[w1, b1, w2, w3].map((v) => grads[v.name]!)];
      tf.dispose([w1, b1, w2, w3]);
      return out;
    };
    await agree(run, 'MLP gradients', { rtol: 2e-4 });
  });

  it('a small conv net (same/strided/1x1 convolutions, explicit padding)', async () => {
    const run = () => {
      const x = rand([4, 10, 10, 2], 1);
      const t = rand([4, 5], 2);
      const f1 = tf.variable(rand([3, 3, 2, 6], 3));
      const c1 = tf.variable(rand([6], 4));
      const f2 = tf.variable(rand([3, 3, 6, 8], 5));
      const f3 = tf.variable(rand([1, 1, 8, 4], 6));
      const w = tf.variable(rand([5, 4 * 5 * 5], 7));
      const vars = [f1, c1, f2, f3, w];
      const loss = () => {
        const pad1: [[number, number], [number, number], [number, number], [number, number]] = [
          [0, 0],
          [1, 1],
          [1, 1],
          [0, 0],
        ];
        const h1 = tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, f1 as tf.Tensor4D, 1, pad1), c1));
        const h2 = tf.relu(tf.conv2d(h1 as tf.Tensor4D, f2 as tf.Tensor4D, 2, 'same'));
        const h3 = tf.conv2d(h2, f3 as tf.Tensor4D, 1, 'valid');
        const logits = tf.matMul(tf.reshape(h3, [4, -1]), w, false, true);
        return tf.mean(tf.square(tf.sub(logits, t))) as tf.Scalar;
      };
      const { value, grads } = tf.variableGrads(loss, vars);
      const out = [value, ...vars.map((v) => grads[v.name]!)];
      tf.dispose(vars);
      return out;
    };
    await agree(run, 'conv net gradients', { rtol: 2e-4 });
  });
});

describe('native kernels hold no memory', () => {
  it('leak no tensors or WebAssembly buffers over repeated calls', async () => {
    await use(startedNative ? 'native' : 'wasm');
    const x = rand([2, 8, 8, 3], 1) as tf.Tensor4D;
    const f = rand([3, 3, 3, 4], 2) as tf.Tensor4D;
    const step = () =>
      tf.tidy(() => {
        const y = tf.conv2d(x, f, 1, 'same');
        const dy = tf.onesLike(y);
        const common = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC' };
        const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...common, filterShape: f.shape } as never) as tf.Tensor;
        const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { ...common, inputShape: x.shape } as never) as tf.Tensor;
        const mm = tf.matMul(tf.reshape(y, [2, 64, 4]), tf.reshape(y, [2, 64, 4]), true, false);
        const fm = tf.fused.matMul({ a: tf.reshape(y, [128, 4]) as tf.Tensor2D, b: tf.ones([4, 3]) as tf.Tensor2D, bias: tf.ones([3]), activation: 'relu' });
        const fc = tf.fused.conv2d({ x, filter: f, strides: 1, pad: 'same', bias: tf.ones([4]), activation: 'relu' });
        const red = tf.add(tf.sum(y, [0, 1, 2]), tf.mean(y, [1, 2]));
        const pooled = tf.maxPool(y, 2, 2, 'valid');
        const dpool = tf.engine().runKernel('MaxPoolGrad', { dy: pooled, input: y, output: pooled }, { filterSize: 2, strides: 2, pad: 'valid' } as never) as tf.Tensor;
        tf.cast(tf.clone(dpool), 'float32');
        return dw.dataSync()[0]! + dx.dataSync()[0]! + mm.dataSync()[0]! + fm.dataSync()[0]! + fc.dataSync()[0]! + red.dataSync()[0]!;
      });
    step();
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const ids = backend.numDataIds();
    await expectNoTensorLeak(() => {
      for (let i = 0; i < 10; i++) step();
    });
    expect(backend.numDataIds()).toBe(ids);
    tf.dispose([x, f]);
  });
});

describe('few-channel convolutions (transposed patch matrix), folded reductions, one-thread products', () => {
  const pad1: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [2, 0],
    [1, 2],
    [0, 0],
  ];
  const cases: [string, number[], number[], [number, number], 'same' | 'valid' | typeof pad1][] = [
    ['1 channel, 3x3 same (a grayscale first layer)', [6, 11, 9, 1], [3, 3, 1, 5], [1, 1], 'same'],
    ['1 channel, 5x5 valid', [3, 12, 10, 1], [5, 5, 1, 4], [1, 1], 'valid'],
    ['1 channel, 3x3 same stride 2, odd size', [4, 9, 7, 1], [3, 3, 1, 3], [2, 2], 'same'],
    ['1 channel, 2x4 stride (1, 3), explicit asymmetric padding', [2, 7, 13, 1], [2, 4, 1, 3], [1, 3], pad1],
    ['2 channels, 3x3 same, 33 output channels', [3, 8, 8, 2], [3, 3, 2, 33], [1, 1], 'same'],
    ['1 channel, filter wider than the input', [2, 5, 3, 1], [3, 5, 1, 2], [1, 1], 'same'],
  ];
  for (const [name, xs, fs, strides, pad] of cases) {
    it(`forward, filter and input gradients: ${name}`, async () => {
      const run = () => {
        const x = tf.mul(rand(xs, 11), 3) as tf.Tensor4D;
        const f = rand(fs, 12) as tf.Tensor4D;
        const y = tf.conv2d(x, f, strides, pad);
        const dy = rand(y.shape, 13);
        const common = { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
        const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...common, filterShape: fs } as never) as tf.Tensor;
        const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { ...common, inputShape: xs } as never) as tf.Tensor;
        return [y, dw, dx];
      };
      await agree(run, name);
    });
  }

  it.skipIf(!startedNative)('a convolution of a 1- or 2-channel input is one product per kernel, also at stride 1', async () => {
    const count = (f: () => tf.Tensor) => countSgemm('native', () => tf.tidy(() => void f().dataSync()));
    const x = rand([2, 9, 9, 1], 1) as tf.Tensor4D;
    const f = rand([3, 3, 1, 4], 2) as tf.Tensor4D;
    const dy = rand([2, 9, 9, 4], 3);
    const common = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC' };
    expect(await count(() => tf.conv2d(x, f, 1, 'same'))).toBe(1);
    expect(await count(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...common, filterShape: f.shape } as never) as tf.Tensor)).toBe(1);
    expect(await count(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { ...common, inputShape: x.shape } as never) as tf.Tensor)).toBe(1);
    tf.dispose([x, f, dy]);
  });

  const reductions: [number[], number[], boolean][] = [
    [[64, 32, 32, 16], [0, 1, 2], false], // 65,536 rows of 16: folded 256 ways
    [[2, 100, 40, 24], [1, 2], true], // per outer index, 4,000 rows of 24: folded 160 ways
    [[1, 65537, 4], [0, 1], false], // a prime number of rows: not folded
    [[8, 4, 2048], [0, 1], false], // wide rows: not folded
  ];
  for (const [shape, axis, keepDims] of reductions) {
    it(`Sum and Mean, shape [${shape.join(', ')}], axis ${JSON.stringify(axis)}`, async () => {
      await agree(() => [tf.sum(tf.add(tf.mul(rand(shape, 1), 10), 3), axis, keepDims), tf.mean(tf.mul(rand(shape, 2), 10), axis, keepDims)], 'folded reduction');
    });
  }

  it.skipIf(!startedNative)('a folded reduction is still one product per outer index', async () => {
    const x = rand([3, 4000, 24], 1);
    expect(await countSgemm('native', () => tf.tidy(() => void tf.sum(x, [1]).dataSync()))).toBe(3);
    x.dispose();
  });

  it.skipIf(!startedNative)("a bias gradient's column sums: folded to 1,024 rows, one-thread products, two halves of the rows at 2 threads, the same bits on every run", async () => {
    await use('native');
    const lib = nativeLib()!;
    const before = engineInfo().threads;
    // 100,352 rows of 16: folded 98 ways, 1,024 x 1,568
    const sum = (): tf.Tensor => tf.sum(tf.mul(rand([128, 28, 28, 16], 7), 4), [0, 1, 2]);
    const want = await on('cpu', () => [sum()]);
    try {
      for (const threads of [1, 2]) {
        await use('native');
        configureEngine({ threads });
        const spy = vi.spyOn(lib.fn, 'sgemm');
        const setThreads = vi.spyOn(lib, 'setThreads');
        const runs = [0, 1, 2].map(() => tf.tidy(() => (sum().dataSync() as Float32Array).slice()));
        const shapes = spy.mock.calls.map((c) => [c[3], c[4], c[5]]);
        const set = setThreads.mock.calls.map((c) => c[0]);
        spy.mockRestore();
        setThreads.mockRestore();
        expectClose({ shape: [16], data: runs[0]! }, want[0]!, `column sums at ${threads} thread(s)`, 1e-5);
        for (const r of runs.slice(1)) expect(Array.from(r)).toEqual(Array.from(runs[0]!));
        if (threads === 1) expect(shapes).toEqual([[1, 1568, 1024], [1, 1568, 1024], [1, 1568, 1024]]);
        // this thread's half of each product (and the other half too when the helper had not started it)
        else if (lib.flavour === 'openblas') expect(shapes.every(([m, n, k]) => m === 1 && n === 1568 && k === 512)).toBe(true);
        if (threads === 2 && lib.flavour === 'openblas') expect(set).toEqual([1, 2, 1, 2, 1, 2]);
      }
    } finally {
      configureEngine({ threads: before });
    }
  });

  it('serialShape: tiny outputs, thin outputs and shallow products run on one thread', async () => {
    const { serialShape } = await import('./native-kernels.js');
    expect(serialShape(16, 32, 5461)).toBe(true); // a 3x3 filter gradient per tap at 16 -> 32 channels
    expect(serialShape(32, 32, 4096)).toBe(true);
    expect(serialShape(128, 512, 10)).toBe(true); // depth 10
    expect(serialShape(5461, 32, 16)).toBe(true); // a convolution tap at 16 -> 32 channels (0.2-0.5x threaded)
    expect(serialShape(100352, 16, 9)).toBe(true); // the first convolution's im2col product
    expect(serialShape(128, 10, 512)).toBe(true); // a 10-class output layer
    expect(serialShape(4096, 512, 32)).toBe(true); // shallow: 0.57x threaded
    expect(serialShape(4096, 128, 144)).toBe(true); // 0.85x threaded
    expect(serialShape(4096, 256, 144)).toBe(false); // 1.35x threaded
    expect(serialShape(4096, 128, 512)).toBe(false);
    expect(serialShape(128, 512, 784)).toBe(false); // the MLP's first layer
    expect(serialShape(512, 784, 128)).toBe(false); // its weight gradient
    expect(serialShape(16, 512, 512)).toBe(false); // few rows, wide and deep
    expect(serialShape(1, 4096, 784)).toBe(false); // one output row (reductions run theirs on one thread regardless)
  });

  it.skipIf(!startedNative)('one-thread products lower OpenBLAS threads around the call only, and restore them', async () => {
    await use('native');
    const lib = nativeLib()!;
    if (lib.flavour !== 'openblas') return;
    const before = engineInfo().threads;
    configureEngine({ threads: 2 });
    const spy = vi.spyOn(lib, 'setThreads');
    try {
      const a = rand([4096, 16], 1);
      const b = rand([4096, 32], 2);
      const w = rand([16, 256], 3);
      const want = await on('cpu', () => [tf.matMul(a, b, true, false), tf.matMul(tf.tile(a, [1, 16]), tf.tile(w, [16, 1]))]);
      await use('native');
      const got = tf.tidy(() => [tf.matMul(a, b, true, false), tf.matMul(tf.tile(a, [1, 16]), tf.tile(w, [16, 1]))].map((t) => ({ shape: t.shape, data: t.dataSync() as Float32Array })));
      expectClose(got[0]!, want[0]!, 'filter-gradient-shaped product');
      expectClose(got[1]!, want[1]!, 'wide and deep product');
      // the 16 x 32 output ran on one thread, the 4096 x 256 x 256 one on the threads as configured
      expect(spy.mock.calls.map((c) => c[0])).toEqual([1, 2]);
      expect(lib.getThreads()).toBe(2);
      tf.dispose([a, b, w]);
    } finally {
      spy.mockRestore();
      configureEngine({ threads: before });
    }
  });
});

describe('stride-1 grids with shared padding (3 or more channels)', () => {
  const asym: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [2, 1],
    [0, 3],
    [0, 0],
  ];
  const cases: [string, number[], number[], 'same' | 'valid' | typeof asym][] = [
    // more grid rows than one block of the tap products (chunkRows: 16384 rows at 3 + 4 channels)
    ['3x3 same, 3 channels, grid of two row blocks', [1, 130, 130, 3], [3, 3, 3, 4], 'same'],
    ['3x3 valid, 3 channels, grid of two row blocks', [2, 91, 92, 3], [3, 3, 3, 4], 'valid'],
    ['5x5 explicit asymmetric padding, two row blocks', [1, 128, 128, 4], [5, 5, 4, 3], asym],
    ['4x2 same (even kernel: more padding below and right)', [3, 9, 7, 3], [4, 2, 3, 5], 'same'],
    ['1x1, 3 channels (the input is the grid)', [2, 5, 6, 3], [1, 1, 3, 4], 'valid'],
    ['3x3 same on a 1x1 image', [4, 1, 1, 3], [3, 3, 3, 2], 'same'],
  ];
  for (const [name, xs, fs, pad] of cases) {
    it(`forward, filter and input gradients: ${name}`, async () => {
      const run = () => {
        const x = rand(xs, 21) as tf.Tensor4D;
        const f = rand(fs, 22) as tf.Tensor4D;
        const y = tf.conv2d(x, f, 1, pad);
        const dy = rand(y.shape, 23);
        const common = { strides: [1, 1], pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
        const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { ...common, inputShape: xs } as never) as tf.Tensor;
        const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...common, filterShape: fs } as never) as tf.Tensor;
        return [y, dw, dx];
      };
      await agree(run, name);
    });
  }
});

describe('grids kept between the kernels of a convolution training step', () => {
  it('gradients through kept grids match the cpu backend (shared inputs, two paddings, chained convolutions)', async () => {
    const run = () => {
      const x = rand([3, 9, 8, 4], 1) as tf.Tensor4D;
      const f1 = tf.variable(rand([3, 3, 4, 6], 2));
      const f2 = tf.variable(rand([3, 3, 4, 6], 3));
      const f3 = tf.variable(rand([5, 5, 6, 5], 4));
      const f4 = tf.variable(rand([3, 3, 5, 3], 5));
      const xv = tf.variable(x);
      const vars = [f1, f2, f3, f4, xv];
      const loss = () => {
        // the same input in two convolutions with the same geometry and one with another padding
        const a = tf.conv2d(xv as tf.Tensor4D, f1 as tf.Tensor4D, 1, 'same');
        const b = tf.conv2d(xv as tf.Tensor4D, f2 as tf.Tensor4D, 1, 'same');
        const c = tf.conv2d(xv as tf.Tensor4D, f2 as tf.Tensor4D, 1, 'valid');
        const h = tf.relu(tf.add(a, tf.mul(b, 0.5)));
        const h2 = tf.relu(tf.conv2d(h as tf.Tensor4D, f3 as tf.Tensor4D, 1, 'same'));
        const h3 = tf.conv2d(h2 as tf.Tensor4D, f4 as tf.Tensor4D, 1, 'same');
        return tf.add(tf.mean(tf.square(h3)), tf.mean(tf.square(c))) as tf.Scalar;
      };
      const { value, grads } = tf.variableGrads(loss, vars);
      const out = [value, ...vars.map((v) => grads[v.name]!)];
      tf.dispose([x, ...vars]);
      return out;
    };
    await agree(run, 'kept-grid gradients', { rtol: 2e-4 });
  });

  it('a grayscale first layer: the filter gradient reuses the patch matrix of the forward pass', async () => {
    const { keptGridCount } = await import('./native-kernels.js');
    const run = () => {
      const x = tf.mul(rand([5, 12, 11, 1], 1), 2) as tf.Tensor4D;
      const f1 = tf.variable(rand([3, 3, 1, 6], 2));
      const f2 = tf.variable(rand([3, 3, 6, 4], 3));
      const vars = [f1, f2];
      const { value, grads } = tf.variableGrads(() => {
        const h = tf.relu(tf.conv2d(x, f1 as tf.Tensor4D, 1, 'same'));
        // the same input again with another geometry: its own patch matrix
        const v = tf.conv2d(x, f1 as tf.Tensor4D, 2, 'valid');
        return tf.add(tf.mean(tf.square(tf.conv2d(h as tf.Tensor4D, f2 as tf.Tensor4D, 1, 'same'))), tf.mean(v)) as tf.Scalar;
      }, vars);
      expect(keptGridCount()).toBe(0);
      const out = [value, ...vars.map((v) => grads[v.name]!)];
      tf.dispose([x, ...vars]);
      return out;
    };
    await agree(run, 'grayscale conv net gradients', { rtol: 2e-4 });
  });

  it('kept grids are freed once their tensors are gone, and stay bounded', async () => {
    await use(startedNative ? 'native' : 'wasm');
    const { keptGridCount } = await import('./native-kernels.js');
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const probe = rand([1, 4, 4, 2], 9) as tf.Tensor4D;
    const pf = rand([3, 3, 2, 2], 10) as tf.Tensor4D;
    // any convolution call drops the grids of tensors that are gone (this one records no tape)
    const settle = () => tf.tidy(() => void tf.conv2d(probe, pf, 1, 'same').dataSync());
    let base = -1;
    for (let step = 0; step < 4; step++) {
      const f = tf.tidy(() => tf.variable(rand([3, 3, 3, 4], 20 + step)));
      const v = tf.tidy(() => tf.variable(tf.scalar(2)));
      const xs = Array.from({ length: 6 }, (_, i) => rand([2, 6, 7, 3], 30 + i) as tf.Tensor4D);
      // six padded inputs recorded by a tape whose gradient needs no convolution gradient: the
      // forward grids stay kept, at most four
      const { value, grads } = tf.variableGrads(() => tf.mul(tf.addN(xs.map((x) => tf.sum(tf.conv2d(x, f as tf.Tensor4D, 1, 'same')))), v) as tf.Scalar, [v]);
      expect(keptGridCount()).toBe(startedNative ? 4 : 0);
      settle();
      expect(keptGridCount()).toBe(startedNative ? 4 : 0); // their tensors are alive
      tf.dispose([f, v, value, ...xs, ...Object.values(grads)]);
      settle();
      expect(keptGridCount()).toBe(0);
      // tfjs keeps a few scalars after the first step; after that nothing accumulates
      if (step === 0) base = backend.numDataIds();
      else expect(backend.numDataIds()).toBe(base);
    }
    // a training step consumes the grids it keeps
    const f = tf.tidy(() => tf.variable(rand([3, 3, 3, 4], 1)));
    const x = tf.tidy(() => tf.variable(rand([2, 6, 7, 3], 2)));
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'valid'))) as tf.Scalar, [f, x]);
    expect(keptGridCount()).toBe(0);
    tf.dispose([f, x, value, ...Object.values(grads), probe, pf]);
  });
});
