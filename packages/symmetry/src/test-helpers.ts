// Hand-written float64 forward passes used by the tests (excluded from the build).
import { createRng, type Rng } from '@basis/tensor';
import type { Tensor } from './tensor.js';

export function randTensor(shape: number[], rng: Rng, scale = 1): Tensor {
  let n = 1;
  for (const d of shape) n *= d;
  return { shape, data: Float64Array.from({ length: n }, () => scale * rng.normal()) };
}

/** Y = X Wᵀ + b for X (N x in), W [out, in], b [out]. */
export function dense(X: Tensor, W: Tensor, b?: Tensor): Tensor {
  const [N, inDim] = X.shape as [number, number];
  const [out, inW] = W.shape as [number, number];
  if (inW !== inDim) throw new Error(`dense: ${inDim} vs ${inW}`);
  const y = new Float64Array(N * out);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < out; o++) {
      let s = b === undefined ? 0 : (b.data[o] as number);
      for (let i = 0; i < inDim; i++) s += (X.data[n * inDim + i] as number) * (W.data[o * inDim + i] as number);
      y[n * out + o] = s;
    }
  return { shape: [N, out], data: y };
}

export function mapT(t: Tensor, f: (x: number) => number): Tensor {
  return { shape: t.shape, data: t.data.map(f) };
}

export function addT(a: Tensor, b: Tensor): Tensor {
  return { shape: a.shape, data: a.data.map((v, k) => v + (b.data[k] as number)) };
}

/** An MLP with layers l0..l{k-1}: params `l{i}.weight`, `l{i}.bias`; features hidden.{i}.pre/post. */
export function mlpParams(widths: number[], rng: Rng): Record<string, Tensor> {
  const p: Record<string, Tensor> = {};
  for (let i = 0; i + 1 < widths.length; i++) {
    const fanIn = widths[i] as number;
    p[`l${i}.weight`] = randTensor([widths[i + 1] as number, fanIn], rng, 1 / Math.sqrt(fanIn));
    p[`l${i}.bias`] = randTensor([widths[i + 1] as number], rng, 0.3);
  }
  return p;
}

export function mlpForward(p: Record<string, Tensor>, X: Tensor, act: (x: number) => number, layers: number) {
  const features: Record<string, Tensor> = {};
  let h = X;
  for (let i = 0; i < layers; i++) {
    const z = dense(h, p[`l${i}.weight`] as Tensor, p[`l${i}.bias`]);
    if (i === layers - 1) return { output: z, features };
    features[`hidden.${i}.pre`] = z;
    h = mapT(z, act);
    features[`hidden.${i}.post`] = h;
  }
  throw new Error('unreachable');
}

/**
 * Residual MLP: x0 = σ(in(x)); block k: h = σ(b{k}.fc1(x)), x = σ(x + b{k}.fc2(h)); out = head(x).
 * Features: stream.0, block.{k}.hidden (inside the block), block.{k}.out (block end).
 */
export function resmlpParams(inDim: number, d: number, m: number, blocks: number, classes: number, rng: Rng): Record<string, Tensor> {
  const p: Record<string, Tensor> = {
    'in.weight': randTensor([d, inDim], rng, 1 / Math.sqrt(inDim)),
    'in.bias': randTensor([d], rng, 0.3),
    'head.weight': randTensor([classes, d], rng, 1 / Math.sqrt(d)),
    'head.bias': randTensor([classes], rng, 0.3),
  };
  for (let k = 0; k < blocks; k++) {
    p[`b${k}.fc1.weight`] = randTensor([m, d], rng, 1 / Math.sqrt(d));
    p[`b${k}.fc1.bias`] = randTensor([m], rng, 0.3);
    p[`b${k}.fc2.weight`] = randTensor([d, m], rng, 1 / Math.sqrt(m));
    p[`b${k}.fc2.bias`] = randTensor([d], rng, 0.3);
  }
  return p;
}

export function resmlpForward(p: Record<string, Tensor>, X: Tensor, act: (x: number) => number, blocks: number) {
  const features: Record<string, Tensor> = {};
  let x = mapT(dense(X, p['in.weight'] as Tensor, p['in.bias']), act);
  features['stream.0'] = x;
  for (let k = 0; k < blocks; k++) {
    const h = mapT(dense(x, p[`b${k}.fc1.weight`] as Tensor, p[`b${k}.fc1.bias`]), act);
    features[`block.${k}.hidden`] = h;
    x = mapT(addT(x, dense(h, p[`b${k}.fc2.weight`] as Tensor, p[`b${k}.fc2.bias`])), act);
    features[`block.${k}.out`] = x;
  }
  return { output: dense(x, p['head.weight'] as Tensor, p['head.bias']), features };
}

/** conv2d, stride 1, zero padding `pad`, NCHW input, OIHW weight. */
export function conv2d(X: Tensor, W: Tensor, b: Tensor | undefined, pad: number): Tensor {
  const [N, C, H, Wd] = X.shape as [number, number, number, number];
  const [O, Ci, kh, kw] = W.shape as [number, number, number, number];
  if (Ci !== C) throw new Error('conv2d channels');
  const Ho = H + 2 * pad - kh + 1;
  const Wo = Wd + 2 * pad - kw + 1;
  const y = new Float64Array(N * O * Ho * Wo);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          let s = b === undefined ? 0 : (b.data[o] as number);
          for (let c = 0; c < C; c++)
            for (let u = 0; u < kh; u++) {
              const r = i + u - pad;
              if (r < 0 || r >= H) continue;
              for (let v = 0; v < kw; v++) {
                const q = j + v - pad;
                if (q < 0 || q >= Wd) continue;
                s += (X.data[((n * C + c) * H + r) * Wd + q] as number) * (W.data[((o * C + c) * kh + u) * kw + v] as number);
              }
            }
          y[((n * O + o) * Ho + i) * Wo + j] = s;
        }
  return { shape: [N, O, Ho, Wo], data: y };
}

/** Eval-mode batchnorm over axis 1 of NCHW. */
export function batchnorm(X: Tensor, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor, eps = 1e-5): Tensor {
  const [N, C, H, W] = X.shape as [number, number, number, number];
  const y = new Float64Array(X.data.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const inv = 1 / Math.sqrt((variance.data[c] as number) + eps);
      for (let k = 0; k < H * W; k++) {
        const idx = (n * C + c) * H * W + k;
        y[idx] = (gamma.data[c] as number) * ((X.data[idx] as number) - (mean.data[c] as number)) * inv + (beta.data[c] as number);
      }
    }
  return { shape: X.shape, data: y };
}

/** conv(3x3) -> BN -> ReLU -> conv(3x3) -> BN -> ReLU -> flatten -> dense. */
export function cnnParams(cin: number, c1: number, c2: number, hw: number, classes: number, rng: Rng): Record<string, Tensor> {
  const pos = (n: number): Tensor => ({ shape: [n], data: Float64Array.from({ length: n }, () => 0.5 + rng.uniform()) });
  // conv k and its batch norm, drawn in this order
  const block = (k: number, from: number, to: number): Record<string, Tensor> => ({
    [`conv${k}.weight`]: randTensor([to, from, 3, 3], rng, 0.3),
    [`conv${k}.bias`]: randTensor([to], rng, 0.1),
    [`bn${k}.weight`]: pos(to),
    [`bn${k}.bias`]: randTensor([to], rng, 0.2),
    [`bn${k}.running_mean`]: randTensor([to], rng, 0.2),
    [`bn${k}.running_var`]: pos(to),
  });
  return {
    ...block(1, cin, c1),
    ...block(2, c1, c2),
    'fc.weight': randTensor([classes, c2 * hw * hw], rng, 0.1),
    'fc.bias': randTensor([classes], rng, 0.1),
  };
}

export function cnnForward(p: Record<string, Tensor>, X: Tensor) {
  const relu = (x: number): number => (x > 0 ? x : 0);
  const t = (k: string): Tensor => p[k] as Tensor;
  const z1 = batchnorm(conv2d(X, t('conv1.weight'), t('conv1.bias'), 1), t('bn1.weight'), t('bn1.bias'), t('bn1.running_mean'), t('bn1.running_var'));
  const a1 = mapT(z1, relu);
  const z2 = batchnorm(conv2d(a1, t('conv2.weight'), t('conv2.bias'), 1), t('bn2.weight'), t('bn2.bias'), t('bn2.running_mean'), t('bn2.running_var'));
  const a2 = mapT(z2, relu);
  const [N] = a2.shape as [number];
  const flat: Tensor = { shape: [N, a2.data.length / N], data: a2.data };
  return { output: dense(flat, t('fc.weight'), t('fc.bias')), features: { 'bn1.out': z1, 'conv1.post': a1, 'bn2.out': z2, 'conv2.post': a2 } };
}

export const rng0 = (): Rng => createRng(12345);
