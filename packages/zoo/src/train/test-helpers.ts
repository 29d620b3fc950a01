// Tiny models and synthetic data for the training tests (not part of the package build).
import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '@basis/tensor';
import type { TrainBatch, LossFn, TrainData } from './loop.js';
import type { NamedVariables } from './params.js';

/** Features and targets held as tensors, plus a `TrainData` that gathers batches from them. */
export interface TensorData {
  X: tf.Tensor2D;
  Y: tf.Tensor2D;
  data: TrainData;
  dispose(): void;
}

function tensorData(x: Float32Array, y: Float32Array, n: number, d: number, k: number): TensorData {
  const X = tf.tensor2d(x, [n, d]);
  const Y = tf.tensor2d(y, [n, k]);
  return {
    X,
    Y,
    data: {
      n,
      getBatch: (idx: Int32Array): TrainBatch =>
        tf.tidy(() => {
          const i = tf.tensor1d(idx, 'int32');
          return { x: tf.gather(X, i), y: tf.gather(Y, i) };
        }),
    },
    dispose: () => {
      X.dispose();
      Y.dispose();
    },
  };
}

/** y = X w* + 0.01 noise, X standard normal (n x d). */
export function regressionData(n: number, d: number, seed: number): TensorData & { wStar: Float64Array } {
  const rng = createRng(seed);
  const wStar = Float64Array.from({ length: d }, () => rng.normal());
  const x = new Float32Array(n * d);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const v = rng.normal();
      x[i * d + j] = v;
      s += v * wStar[j]!;
    }
    y[i] = s + 0.01 * rng.normal();
  }
  return { ...tensorData(x, y, n, d, 1), wStar };
}

/** k Gaussian blobs in d dimensions (one-hot targets), centres 3 apart. */
export function blobData(n: number, d: number, k: number, seed: number): TensorData & { labels: Int32Array } {
  const rng = createRng(seed);
  const centres = Array.from({ length: k }, () => Float64Array.from({ length: d }, () => 1.5 * rng.normal()));
  const x = new Float32Array(n * d);
  const y = new Float32Array(n * k);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % k;
    labels[i] = c;
    y[i * k + c] = 1;
    for (let j = 0; j < d; j++) x[i * d + j] = centres[c]![j]! + 0.5 * rng.normal();
  }
  return { ...tensorData(x, y, n, d, k), labels };
}

/** A linear model `w` [d, 1], `b` [1], initialised to zeros. */
export function linearParams(d: number): NamedVariables {
  return { weight: tf.variable(tf.zeros([1, d])), bias: tf.variable(tf.zeros([1])) };
}

/** Mean squared error of the linear model. */
export const linearLoss: LossFn = (b, { params }) =>
  tf.tidy(() => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(b.x, params.weight!, false, true), params.bias!), b.y))) as tf.Scalar);

/** A 2-layer MLP `in -> hidden -> out` with PyTorch names and He-normal init from a seed. */
export function mlpParams(inDim: number, hidden: number, outDim: number, seed: number): NamedVariables {
  const rng = createRng(seed);
  const w = (o: number, i: number): tf.Variable => {
    const a = Float32Array.from({ length: o * i }, () => rng.normal() * Math.sqrt(2 / i));
    return tf.variable(tf.tensor2d(a, [o, i]));
  };
  return {
    'layers.0.weight': w(hidden, inDim),
    'layers.0.bias': tf.variable(tf.zeros([hidden])),
    'layers.1.weight': w(outDim, hidden),
    'layers.1.bias': tf.variable(tf.zeros([outDim])),
  };
}

/** Logits of the MLP. */
export function mlpForward(p: NamedVariables, x: tf.Tensor): tf.Tensor {
  const h = tf.relu(tf.add(tf.matMul(x, p['layers.0.weight']!, false, true), p['layers.0.bias']!));
  return tf.add(tf.matMul(h, p['layers.1.weight']!, false, true), p['layers.1.bias']!);
}

/** Softmax cross-entropy of the MLP. */
export const mlpLoss: LossFn = (b, { params }) => tf.losses.softmaxCrossEntropy(b.y, mlpForward(params, b.x)) as tf.Scalar;

/** Accuracy of the MLP on all of `d`. */
export function mlpAccuracy(p: NamedVariables, d: TensorData & { labels: Int32Array }): number {
  const pred = tf.tidy(() => tf.argMax(mlpForward(p, d.X), 1).dataSync());
  let ok = 0;
  for (let i = 0; i < d.labels.length; i++) if (pred[i] === d.labels[i]) ok++;
  return ok / d.labels.length;
}

/** Values of all parameters, copied synchronously. */
export function values(p: NamedVariables): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(p)) out[k] = Float32Array.from(v.dataSync() as Float32Array);
  return out;
}

/** Disposes all variables of a parameter set. */
export function disposeParams(p: NamedVariables): void {
  for (const v of Object.values(p)) v.dispose();
}

/** Whether two value sets are bit-identical. */
export function bitEqual(a: Record<string, Float32Array>, b: Record<string, Float32Array>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.join() !== kb.join()) return false;
  for (const k of ka) {
    const x = new Uint32Array(a[k]!.buffer, a[k]!.byteOffset, a[k]!.length);
    const y = new Uint32Array(b[k]!.buffer, b[k]!.byteOffset, b[k]!.length);
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  }
  return true;
}
