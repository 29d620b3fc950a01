import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@basis/tensor';
import { registerGradients } from './gradients.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

const rng = createRng('gradients');

/** Values in ±[lo, hi] (away from 0 so that kinks at 0 are not straddled). */
function rand(shape: number[], lo = 0.2, hi = 1.5, positive = false): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Float32Array.from({ length: n }, () => {
    const m = lo + (hi - lo) * rng.uniform();
    return positive || rng.int(2) === 0 ? m : -m;
  });
  return tf.tensor(v, shape);
}

/**
 * Checks tf.grads of `sum(w * f(...xs))` (w random) against central differences for every input
 * element, in float32 with step h.
 */
function check(name: string, f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], h = 1e-2, tol = 2e-2): void {
  const out = tf.tidy(() => f(...inputs));
  const w = rand(out.shape, 0.5, 1.5);
  out.dispose();
  const loss = (...xs: tf.Tensor[]): tf.Scalar => tf.sum(tf.mul(w, f(...xs)));
  const gs = tf.grads(loss)(inputs);
  const analytic = gs.map((g) => Float64Array.from(g.dataSync()));
  tf.dispose(gs);
  inputs.forEach((x, k) => {
    const base = x.dataSync();
    const numeric = new Float64Array(base.length);
    for (let i = 0; i < base.length; i++) {
      const at = (delta: number): number =>
        tf.tidy(() => {
          const v = Float32Array.from(base);
          v[i]! += delta;
          const xs = inputs.map((t, j) => (j === k ? tf.tensor(v, x.shape) : t));
          return loss(...xs).dataSync()[0]!;
        });
      numeric[i] = (at(h) - at(-h)) / (2 * h);
    }
    const a = analytic[k]!;
    const scale = Math.max(1, ...Array.from(numeric, Math.abs));
    for (let i = 0; i < a.length; i++) {
      if (Math.abs(a[i]! - numeric[i]!) > tol * scale) {
        throw new Error(`${name}: d/dx${k}[${i}] analytic ${a[i]} vs numeric ${numeric[i]}`);
      }
    }
  });
  w.dispose();
  for (const t of inputs) t.dispose();
}

describe('registered gradients match central differences', () => {
  it('element-wise binary ops with broadcasting', () => {
    check('add', tf.add, [rand([2, 3]), rand([3])]);
    check('sub', tf.sub, [rand([2, 3]), rand([2, 1])]);
    check('mul', tf.mul, [rand([2, 3]), rand([1, 3])]);
    check('div', tf.div, [rand([2, 3]), rand([3], 0.5, 1.5, true)]);
    // b = a ± 0.3..0.8, so that no pair is within the difference step of a tie
    const a = rand([6]);
    const b = tf.add(a, rand([6], 0.3, 0.8));
    check('maximum', tf.maximum, [a.clone(), b.clone()]);
    check('minimum', tf.minimum, [a, b]);
    check('maximum broadcast', tf.maximum, [tf.tensor2d([[-1, 0.5, 2], [1.5, -2, 0.1]]), tf.tensor1d([0.3, -0.4, 1])]);
    check('pow', tf.pow, [rand([2, 3], 0.5, 1.5, true), rand([3])]);
    check('squaredDifference', tf.squaredDifference, [rand([2, 3]), rand([3])]);
    check('addN', (a, b, c) => tf.addN([a!, b!, c!]), [rand([4]), rand([4]), rand([4])]);
  });

  it('element-wise unary ops', () => {
    const unary: [string, (x: tf.Tensor) => tf.Tensor, boolean][] = [
      ['neg', tf.neg, false], ['abs', tf.abs, false], ['exp', tf.exp, false], ['expm1', tf.expm1, false],
      ['log', tf.log, true], ['log1p', tf.log1p, true], ['sqrt', tf.sqrt, true], ['rsqrt', tf.rsqrt, true],
      ['square', tf.square, false], ['reciprocal', tf.reciprocal, true], ['sigmoid', tf.sigmoid, false],
      ['tanh', tf.tanh, false], ['relu', tf.relu, false], ['relu6', tf.relu6, false], ['elu', tf.elu, false],
      ['selu', tf.selu, false], ['leakyRelu', (x) => tf.leakyRelu(x, 0.1), false], ['softplus', tf.softplus, false],
      ['erf', tf.erf, false], ['sin', tf.sin, false], ['cos', tf.cos, false],
      ['cast', (x) => tf.cast(x, 'float32'), false],
    ];
    for (const [name, f, positive] of unary) check(name, f, [rand([5], positive ? 0.5 : 0.2, 1.5, positive)]);
    check('clipByValue', (x) => tf.clipByValue(x, -1, 1), [tf.tensor1d([-1.3, -0.5, 0.2, 0.8, 1.4])]);
    check('prelu', tf.prelu, [rand([2, 3]), rand([3])]);
    check('where', (a, b) => tf.where(tf.tensor1d([1, 0, 1, 0], 'bool'), a!, b!), [rand([4]), rand([4])]);
  });

  it('reductions, cumsum, softmax', () => {
    check('sum', (x) => tf.sum(x, 1), [rand([2, 3])]);
    check('sum all', (x) => tf.sum(x), [rand([2, 3])]);
    check('mean', (x) => tf.mean(x, 0, true), [rand([2, 3])]);
    check('max', (x) => tf.max(x, 1), [rand([2, 4])]);
    check('min', (x) => tf.min(x, 0), [rand([3, 2])]);
    check('cumsum', (x) => tf.cumsum(x, 1), [rand([2, 4])]);
    check('softmax', (x) => tf.softmax(x), [rand([2, 4])]);
    check('logSoftmax', (x) => tf.logSoftmax(x), [rand([2, 4])]);
    check('softmaxCrossEntropy', (x) => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([1, 3], 'int32'), 4), x), [rand([2, 4])]);
    check('meanSquaredError', (x) => tf.losses.meanSquaredError(tf.ones([2, 3]), x), [rand([2, 3])]);
  });

  it('shapes and indexing', () => {
    check('reshape', (x) => tf.reshape(x, [3, 2]), [rand([2, 3])]);
    check('expandDims', (x) => tf.expandDims(x, 1), [rand([2, 3])]);
    check('transpose', (x) => tf.transpose(x, [2, 0, 1]), [rand([2, 3, 2])]);
    check('concat', (a, b) => tf.concat([a!, b!], 1), [rand([2, 2]), rand([2, 3])]);
    check('split', (x) => tf.mul(tf.split(x, [1, 2], 1)[1]!, 2), [rand([2, 3])]);
    check('stack', (a, b) => tf.stack([a!, b!], 1), [rand([3]), rand([3])]);
    check('unstack', (x) => tf.unstack(x, 0)[1]!, [rand([2, 3])]);
    check('slice', (x) => tf.slice(x, [0, 1], [2, 2]), [rand([3, 3])]);
    check('pad', (x) => tf.pad(x, [[1, 0], [0, 2]]), [rand([2, 2])]);
    check('mirrorPad symmetric', (x) => tf.mirrorPad(x, [[1, 2]], 'symmetric'), [rand([3])]);
    check('mirrorPad reflect 2-D', (x) => tf.mirrorPad(x, [[1, 0], [2, 1]], 'reflect'), [rand([2, 3])]);
    check('tile', (x) => tf.tile(x, [2, 3]), [rand([2, 2])]);
    check('reverse', (x) => tf.reverse(x, 1), [rand([2, 3])]);
    check('broadcastTo', (x) => tf.broadcastTo(x, [2, 3, 4]), [rand([3, 1])]);
    check('gather axis 0', (x) => tf.gather(x, tf.tensor1d([2, 0, 2], 'int32')), [rand([3, 2])]);
    check('gather axis 1', (x) => tf.gather(x, tf.tensor1d([1, 1, 0], 'int32'), 1), [rand([2, 3])]);
    check('unsortedSegmentSum', (x) => tf.unsortedSegmentSum(x, tf.tensor1d([1, 0, 1], 'int32'), 2), [rand([3, 2])]);
  });

  it('matMul with every transpose combination', () => {
    for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]] as const) {
      check(`matMul ${ta} ${tb}`, (a, b) => tf.matMul(a!, b!, ta, tb), [rand(ta ? [3, 2] : [2, 3]), rand(tb ? [4, 3] : [3, 4])]);
    }
    check('batched matMul', (a, b) => tf.matMul(a!, b!), [rand([2, 2, 3]), rand([2, 3, 2])]);
  });

  it('convolutions, pooling, batch norm', () => {
    check('conv2d same', (x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'), [rand([1, 4, 4, 2]), rand([3, 3, 2, 2])]);
    check('conv2d valid stride 2', (x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, 'valid'), [rand([1, 5, 5, 1]), rand([3, 3, 1, 2])]);
    check('conv2dTranspose', (x, f) => tf.conv2dTranspose(x as tf.Tensor4D, f as tf.Tensor4D, [1, 4, 4, 1], 1, 'same'), [rand([1, 4, 4, 2]), rand([3, 3, 1, 2])]);
    check('depthwiseConv2d', (x, f) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'), [rand([1, 4, 4, 2]), rand([3, 3, 2, 1])]);
    // distinct values so that the max is unique in each window
    const distinct = tf.tensor(Float32Array.from({ length: 16 }, (_, i) => ((i * 7) % 16) / 8 - 1), [1, 4, 4, 1]);
    check('maxPool', (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), [distinct], 1e-3);
    // 'valid' only: the cpu backend's AvgPoolGrad divides border windows of 'same' padding by the
    // full window size while the forward pass averages over the valid elements (a tfjs kernel bug)
    check('avgPool', (x) => tf.avgPool(x as tf.Tensor4D, 2, 1, 'valid'), [rand([1, 3, 3, 2])]);
    check(
      'batchNorm',
      (x, m, v, s, o) => tf.batchNorm(x!, m!, v!, o!, s!, 1e-3),
      [rand([2, 2, 2, 3]), rand([3]), rand([3], 0.5, 1.5, true), rand([3]), rand([3])],
    );
  });

  it('registration is idempotent and keeps existing gradients', () => {
    expect(registerGradients()).toEqual([]);
  });
});
