import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { expectNoTensorLeak } from '@basis/test-utils';
import { selectBackend } from './backend.js';
import { registerGradients } from './gradients.js';
import { adamStep, adamStepComposed, batchNormTrain, batchNormTrainComposed, sgdStep, sgdStepComposed } from './fused-kernels.js';
import { setSimdEnabled, simdAvailable, simdKernelsFor, type SimdKernels } from './wasm-simd.js';

// The SIMD kernels run on the tfjs wasm backend's heap, in place. Each is compared with a float64
// reference or with the tfjs cpu kernel it replaces, on lengths that are not multiples of 4, rows
// that are not multiples of the 16-row float32 partial sums, and after the heap has grown.

function values(n: number, seed: number, scale = 1, shift = 0): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * scale + shift;
  }
  return out;
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, rtol = 1e-5): void {
  expect(got.length, what).toBe(want.length);
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i] as number));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs((got[i] as number) - (want[i] as number)));
  expect(worst, `${what}: max |diff| ${worst} at scale ${scale}`).toBeLessThanOrEqual(rtol * Math.max(scale, 1e-6));
}

interface HeapBackend {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}
const heap = (t: tf.Tensor): Float32Array => (tf.backend() as unknown as HeapBackend).typedArrayFromHeap(t);
let k: SimdKernels;

beforeAll(async () => {
  registerGradients();
  await selectBackend('wasm');
  const got = simdKernelsFor(tf.backend());
  if (got === null) throw new Error('no SIMD kernels on the wasm backend');
  k = got;
});
afterAll(() => setSimdEnabled(true));

describe('wasm SIMD kernels: availability and checks', () => {
  it('assemble and find the wasm backend memory; none for the cpu backend', async () => {
    expect(simdAvailable()).toBe(true);
    await tf.setBackend('cpu');
    expect(simdKernelsFor(tf.backend())).toBeNull();
    await selectBackend('wasm');
    expect(simdKernelsFor(tf.backend())).toBe(k);
    setSimdEnabled(false);
    expect(simdKernelsFor(tf.backend())).toBeNull();
    setSimdEnabled(true);
  });

  it('reject regions outside the heap, misaligned or too short, and stale views', () => {
    const x = tf.tensor(values(10, 1));
    const y = tf.zeros([10]);
    const size = k.buffer.byteLength;
    const X = heap(x);
    const Y = heap(y);
    const m = { off: X.byteOffset, len: 1 };
    expect(() => k.affine({ off: size - 8, len: 10 }, k.region(Y), 1, 10, m, m, m)).toThrow(/cannot hold 10 floats/);
    expect(() => k.affine({ off: X.byteOffset + 2, len: 10 }, k.region(Y), 1, 10, m, m, m)).toThrow(/cannot hold/);
    expect(() => k.affine(k.region(X.subarray(0, 9)), k.region(Y), 1, 10, m, m, m)).toThrow(/cannot hold 10 floats/);
    expect(() => k.region(new Float32Array(4))).toThrow(/not on the backend memory/);
    expect(() => k.addRows(k.region(X), k.region(Y.subarray(0, 9)), 2, 5, m)).toThrow(/y region .* cannot hold 10 floats/);
    expect(() => k.addRows(k.region(X), k.region(Y), 2, 5, { off: size - 4, len: 5 })).toThrow(/b region .* cannot hold 5 floats/);
    expect(() => k.maxPoolGrad(k.region(X), k.region(X), k.region(Y), { b: 1, h: 1, w: 1, c: 3, oh: 1, ow: 1, sh: 1, sw: 1, fh: 1, fw: 1, top: 0, left: 0 })).toThrow(/divisible by 4/);
    x.dispose();
    y.dispose();
  });
});

describe('wasm SIMD batchnorm passes', () => {
  for (const [rows, C] of [
    [1, 1],
    [37, 3],
    [33, 8],
    [100, 13],
    [2000, 16],
  ] as const) {
    it(`sums, affine and dx on [${rows}, ${C}] match a float64 reference`, () => {
      const n = rows * C;
      const xv = values(n, rows + C, 2, 0.5);
      const uv = values(n, rows * C + 7);
      const kv = values(C, 3);
      const av = values(C, 4);
      const bv = values(C, 5);
      const cv = values(C, 6);
      const x = tf.tensor(xv);
      const u = tf.tensor(uv);
      const kt = tf.tensor(kv);
      const at = tf.tensor(av);
      const bt = tf.tensor(bv);
      const ct = tf.tensor(cv);
      const y = tf.zeros([n]);
      const sentinel = tf.fill([64], 7);
      const scratch = tf.zeros([6 * C + 1]);
      const R = (t: tf.Tensor) => k.region(heap(t));
      const st = k.sums(R(x), null, rows, C, R(kt), R(scratch));
      const gr = k.sums(R(x), R(u), rows, C, R(kt), R(scratch));
      const w1 = new Float64Array(C);
      const w2 = new Float64Array(C);
      const g1 = new Float64Array(C);
      const g2 = new Float64Array(C);
      for (let i = 0; i < n; i++) {
        const c = i % C;
        const d = (xv[i] as number) - (kv[c] as number);
        w1[c] = (w1[c] as number) + d;
        w2[c] = (w2[c] as number) + d * d;
        g1[c] = (g1[c] as number) + (uv[i] as number);
        g2[c] = (g2[c] as number) + (uv[i] as number) * d;
      }
      expectClose(st.s1, w1, 'Σ(x − k)', 1e-5);
      expectClose(st.s2, w2, 'Σ(x − k)²', 1e-5);
      expectClose(gr.s1, g1, 'Σu', 1e-5);
      expectClose(gr.s2, g2, 'Σu(x − k)', 1e-5);
      k.affine(R(x), R(y), rows, C, R(kt), R(at), R(bt));
      const want = Float32Array.from(xv, (v, i) => (v - (kv[i % C] as number)) * (av[i % C] as number) + (bv[i % C] as number));
      expectClose(heap(y), want, 'affine', 1e-6);
      k.backDx(R(u), R(x), R(y), rows, C, R(kt), R(at), R(bt), R(ct));
      const wantDx = Float32Array.from(xv, (v, i) => {
        const c = i % C;
        return (av[c] as number) * (uv[i] as number) + (bv[c] as number) * (v - (kv[c] as number)) + (cv[c] as number);
      });
      expectClose(heap(y), wantDx, 'dx', 1e-6);
      expect(Array.from(heap(sentinel))).toEqual(new Array(64).fill(7));
      tf.dispose([x, u, kt, at, bt, ct, y, sentinel, scratch]);
    });
  }

  it('batchNormTrain forward and gradients: SIMD vs the composed wasm path vs the cpu composed ops, across heap growth', async () => {
    const run = (bn: typeof batchNormTrain, shape: number[]): Float32Array[] =>
      tf.tidy(() => {
        const C = shape[shape.length - 1] as number;
        const x = tf.tensor(values(shape.reduce((a, b) => a * b, 1), 21, 3, 1), shape);
        const gamma = tf.tensor(values(C, 22, 1, 1));
        const beta = tf.tensor(values(C, 23));
        const w = tf.tensor(values(x.size, 24), shape);
        const r = bn(x, gamma, beta, 1e-5);
        const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(bn(a, b, c, 1e-5).y, w)) as tf.Scalar)([x, gamma, beta]);
        return [r.y, r.mean, r.variance, ...grads].map((t) => t.dataSync() as Float32Array);
      });
    for (const shape of [
      [5, 7, 3, 6],
      [19, 16],
    ]) {
      await tf.setBackend('cpu');
      const want = run(batchNormTrainComposed, shape);
      await selectBackend('wasm');
      const simd = await expectNoTensorLeak(() => run(batchNormTrain, shape));
      // grow the heap between calls (a tensor larger than the heap): offsets stay, views are re-taken per call
      const before = k.buffer.byteLength;
      const big = tf.zeros([before / 4 + 2 ** 20]);
      expect(k.buffer.byteLength).toBeGreaterThan(before);
      const after = run(batchNormTrain, shape);
      big.dispose();
      setSimdEnabled(false);
      const composed = run(batchNormTrain, shape);
      setSimdEnabled(true);
      ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'].forEach((name, i) => {
        expectClose(simd[i] as Float32Array, want[i] as Float32Array, `${name} vs cpu`, 5e-5);
        expectClose(after[i] as Float32Array, simd[i] as Float32Array, `${name} after growth`, 0);
        expectClose(composed[i] as Float32Array, simd[i] as Float32Array, `${name} vs composed wasm`, 5e-5);
      });
    }
  });
});

describe('wasm SIMD bias add (Add of [..., C] and [C])', () => {
  const bits = (t: tf.Tensor): number[] => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));
  const cases: [string, number[], number[]][] = [
    ['conv bias, 16 channels (rows merged by 4)', [3, 5, 7, 16], [16]],
    ['conv bias, 32 channels', [2, 9, 9, 32], [32]],
    ['dense bias, 13 units (scalar tail)', [7, 13], [13]],
    ['bias first', [10], [6, 10]],
    ['a bias of rank 2 with a leading 1', [2, 3, 4, 5], [1, 4, 5]],
    ['odd row count, 3 channels', [37, 3], [3]],
  ];
  for (const [name, xs, bs] of cases) {
    it(`${name}: the SIMD pass, bit for bit the wasm kernel's and the cpu kernel's sums, gradients unchanged`, async () => {
      const run = (): { y: number[]; shape: number[]; grads: number[][] } =>
        tf.tidy(() => {
          const x = tf.tensor(values(xs.reduce((a, b) => a * b, 1), 61, 4), xs);
          const b = tf.tensor(values(bs.reduce((a, c) => a * c, 1), 62, 2, 0.25), bs);
          const y = tf.add(x, b);
          const w = tf.tensor(values(y.size, 63), y.shape);
          const grads = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.add(p, q), w)) as tf.Scalar)([x, b]);
          return { y: bits(y), shape: y.shape, grads: grads.map(bits) };
        });
      await tf.setBackend('cpu');
      const want = run();
      await selectBackend('wasm');
      const spy = vi.spyOn(k, 'addRows');
      const got = await expectNoTensorLeak(() => run());
      expect(spy).toHaveBeenCalled();
      spy.mockRestore();
      setSimdEnabled(false);
      const stock = run();
      setSimdEnabled(true);
      expect(got.shape).toEqual(want.shape);
      expect(got.y).toEqual(want.y);
      expect(got.y).toEqual(stock.y);
      got.grads.forEach((g, i) => expectClose(new Float32Array(new Uint32Array(g).buffer), new Float32Array(new Uint32Array(want.grads[i] as number[]).buffer), `grad ${i}`, 1e-6));
    });
  }

  it('NaN and infinities propagate as in the wasm kernel; across heap growth', () => {
    const xv = values(4 * 16, 71);
    xv[3] = Number.NaN;
    xv[20] = Number.POSITIVE_INFINITY;
    xv[21] = Number.NEGATIVE_INFINITY;
    const bv = values(16, 72);
    bv[5] = Number.POSITIVE_INFINITY; // +inf + -inf at [21] = NaN
    bv[7] = -0;
    const x = tf.tensor(xv, [4, 16]);
    const b = tf.tensor(bv);
    const before = k.buffer.byteLength;
    const big = tf.zeros([before / 4 + 2 ** 20]);
    expect(k.buffer.byteLength).toBeGreaterThan(before);
    const y = tf.add(x, b);
    setSimdEnabled(false);
    const stock = tf.add(x, b);
    setSimdEnabled(true);
    expect(bits(y)).toEqual(bits(stock));
    const Y = y.dataSync();
    expect(Y[3]).toBeNaN();
    expect(Y[20]).toBe(Number.POSITIVE_INFINITY);
    expect(Y[21]).toBeNaN();
    tf.dispose([x, b, big, y, stock]);
  });

  it('other adds keep the wasm kernel: same shapes, scalars, int32, a bias of higher rank; incompatible shapes raise tfjs error', () => {
    const spy = vi.spyOn(k, 'addRows');
    const same = tf.add(tf.ones([4, 16]), tf.ones([4, 16]));
    const scalar = tf.add(tf.ones([4, 16]), tf.scalar(2));
    const ints = tf.add(tf.ones([4, 16], 'int32'), tf.ones([16], 'int32'));
    const higher = tf.add(tf.ones([4, 16]), tf.ones([1, 1, 16]));
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    expect(higher.shape).toEqual([1, 4, 16]);
    expect(Array.from(same.dataSync()).every((v) => v === 2)).toBe(true);
    expect(Array.from(scalar.dataSync()).every((v) => v === 3)).toBe(true);
    expect(ints.dtype).toBe('int32');
    expect(Array.from(ints.dataSync()).every((v) => v === 2)).toBe(true);
    expect(() => tf.add(tf.ones([4, 16]), tf.ones([15]))).toThrow(/broadcast|shape/i);
    tf.dispose([same, scalar, ints, higher]);
  });
});

describe('wasm SIMD MaxPoolGrad', () => {
  const cases: [string, number[], number | [number, number], number | [number, number], 'valid' | 'same'][] = [
    ['2x2 stride 2 valid, c 16', [3, 8, 8, 16], 2, 2, 'valid'],
    ['2x2 stride 2 valid, odd size, c 8', [2, 7, 9, 8], 2, 2, 'valid'],
    ['3x3 stride 1 same (overlapping windows), c 4', [2, 6, 7, 4], 3, 1, 'same'],
    ['3x3 stride 2 same, c 12', [2, 9, 8, 12], 3, 2, 'same'],
    ['3x2 stride (2, 1) valid, c 4', [2, 7, 6, 4], [3, 2], [2, 1], 'valid'],
    ['2x2 stride 3 valid (gaps between windows), c 8', [2, 8, 7, 8], 2, 3, 'valid'],
    ['2x2 stride 2 same, odd size (padded windows), c 4', [3, 7, 5, 4], 2, 2, 'same'],
  ];
  for (const [name, xs, size, strides, pad] of cases) {
    for (const kind of ['signed', 'ties'] as const) {
      it(`${name}, ${kind}: matches the cpu kernel (first maximum of each window)`, async () => {
        const xv = values(xs.reduce((a, b) => a * b, 1), 31, 2);
        if (kind === 'ties') for (let i = 0; i < xv.length; i++) xv[i] = Math.round((xv[i] as number) * 4);
        await tf.setBackend('cpu');
        const run = (): { y: number[]; dyv: Float32Array; dx: Float32Array } =>
          tf.tidy(() => {
            const x = tf.tensor4d(xv, xs as [number, number, number, number]);
            const y = tf.maxPool(x, size, strides, pad);
            const dyv = values(y.size, 32);
            const dy = tf.tensor(dyv, y.shape);
            const dx = tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, { filterSize: size, strides, pad } as never) as tf.Tensor;
            return { y: y.shape, dyv, dx: dx.dataSync() as Float32Array };
          });
        const want = run();
        await selectBackend('wasm');
        const x = tf.tensor4d(xv, xs as [number, number, number, number]);
        const dy = tf.tensor(want.dyv, want.y);
        const g = tf.fill(xs, 5); // the kernel zeroes it first
        const [b, h, w, c] = xs as [number, number, number, number];
        const info = tf.backend_util.computePool2DInfo([b, h, w, c], size, strides, 1, pad);
        k.maxPoolGrad(k.region(heap(x)), k.region(heap(dy)), k.region(heap(g)), {
          b, h, w, c,
          oh: info.outHeight, ow: info.outWidth, sh: info.strideHeight, sw: info.strideWidth, fh: info.filterHeight, fw: info.filterWidth,
          top: info.padInfo.top, left: info.padInfo.left,
        });
        expectClose(heap(g), want.dx, 'dx', 1e-6);
        tf.dispose([x, dy, g]);
      });
    }
  }
});

describe('wasm SIMD optimizer updates (odd lengths, large parameters)', () => {
  for (const n of [1, 5, 35, 4099, 100_003]) {
    it(`sgdStep and adamStep over ${n} elements match the composed ops on cpu`, async () => {
      const sgdO = { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true, weightDecay: 5e-4, gradScale: 0.5 };
      const adamO = { lr: 1e-2, beta1: 0.9, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.01, decoupled: true };
      const run = (sgd: typeof sgdStep, adam: typeof adamStep): Float32Array[] =>
        tf.tidy(() => {
          let p = tf.tensor(values(n, 41));
          let buf: tf.Tensor | null = null;
          let q = tf.tensor(values(n, 42));
          let m: tf.Tensor | null = null;
          let v: tf.Tensor | null = null;
          for (let t = 1; t <= 3; t++) {
            const g = tf.tensor(values(n, 50 + t));
            const r = sgd(p, g, buf, sgdO);
            p = r.param;
            buf = r.buf;
            const a = adam(q, g, m, v, { ...adamO, decoupled: t !== 2, step: t });
            q = a.param;
            m = a.m;
            v = a.v;
          }
          return [p, buf!, q, m!, v!].map((t) => t.dataSync() as Float32Array);
        });
      await tf.setBackend('cpu');
      const want = run(sgdStepComposed, adamStepComposed);
      await selectBackend('wasm');
      const got = await expectNoTensorLeak(() => run(sgdStep, adamStep));
      ['param', 'buf', 'adam param', 'exp_avg', 'exp_avg_sq'].forEach((name, i) => expectClose(got[i] as Float32Array, want[i] as Float32Array, name, 2e-6));
    });
  }
});
