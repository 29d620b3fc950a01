import * as tf from '@tensorflow/tfjs-core';
import { BasisError, batchNormTrain, denseLayer } from '@basis/tensor';
import { cutIndex, describeGraph, type GraphNode, type ModelGraph } from './ir.js';

/** Parameters (and buffers) of a model as tfjs tensors, by PyTorch-style name. */
export type TensorParams = Readonly<Record<string, tf.Tensor>>;

/** Options of {@link forward}. */
export interface ForwardOptions {
  /** Training mode: batchnorm uses batch statistics and returns updated running statistics (default false). */
  training?: boolean;
  /** Node outputs to return, by node name, or `'all'`. Image features come back as `[N, C, H, W]`. */
  capture?: 'all' | readonly string[];
  /** Start after this top-level node: the input is that node's output (the second half `f>l`). */
  from?: string | number;
  /** Stop after this top-level node, inclusive (the first half `f≤l`). */
  to?: string | number;
  /** Override every batchnorm's momentum in training mode (1: the returned buffers are the batch statistics). */
  bnMomentum?: number;
}

/** Result of {@link forward}. All tensors are new; dispose them (or run inside `tf.tidy`). */
export interface ForwardResult {
  /** Output of the last node run: `[N, ...]`, images as `[N, C, H, W]`. */
  output: tf.Tensor;
  /** Captured node outputs, by node name. */
  captures: Record<string, tf.Tensor>;
  /** Updated batchnorm running statistics (training mode only), by parameter name. */
  buffers: Record<string, tf.Tensor>;
}

const SQRT_2PI = Math.sqrt(2 * Math.PI);

/** Applies an activation node's σ elementwise. */
export function applyActivation(node: Extract<GraphNode, { op: 'activation' }>, x: tf.Tensor): tf.Tensor {
  switch (node.fn) {
    case 'relu':
      return tf.relu(x);
    case 'leaky_relu':
      return tf.leakyRelu(x, node.slope ?? 0.01);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'tanh':
      return tf.tanh(x);
    case 'gelu':
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2))));
    case 'silu':
      return tf.mul(x, tf.sigmoid(x));
    case 'softplus':
      return tf.softplus(x);
    case 'identity':
      return x;
    case 'rbf':
      return tf.div(tf.exp(tf.mul(tf.square(x), -0.5)), SQRT_2PI);
    case 'polynomial': {
      const d = node.degree ?? 2;
      let y = x;
      for (let k = 1; k < d; k++) y = tf.mul(y, x);
      return y;
    }
  }
}

/** NHWC (internal) to NCHW (user-facing); vectors unchanged. */
function toUser(t: tf.Tensor): tf.Tensor {
  return t.rank === 4 ? tf.transpose(t, [0, 3, 1, 2]) : t;
}

/** NCHW (user-facing) to NHWC (internal). */
function toInternal(t: tf.Tensor): tf.Tensor {
  return t.rank === 4 ? tf.transpose(t, [0, 2, 3, 1]) : t;
}

function need(params: TensorParams, name: string): tf.Tensor {
  const t = params[name];
  if (t === undefined) throw new BasisError('INVALID_ARGUMENT', `missing parameter '${name}'; initialise the model with initParams or load its checkpoint`);
  return t;
}

/** `x Wᵀ` over the last axis of a tensor of any rank (dense layers on vectors, sequences and NHWC maps). */
function lastAxisMatMul(x: tf.Tensor, W: tf.Tensor): tf.Tensor {
  if (x.rank === 2) return tf.matMul(x as tf.Tensor2D, W as tf.Tensor2D, false, true);
  const c = x.shape[x.rank - 1] as number;
  const out = [...x.shape.slice(0, -1), W.shape[0] as number];
  return tf.reshape(tf.matMul(tf.reshape(x, [-1, c]) as tf.Tensor2D, W as tf.Tensor2D, false, true), out);
}

interface RunState {
  params: TensorParams;
  training: boolean;
  bnMomentum: number | undefined;
  capture: 'all' | ReadonlySet<string>;
  captures: Record<string, tf.Tensor>;
  buffers: Record<string, tf.Tensor>;
}

/** Runs one node; `withRelu`: a dense node also applies the relu that follows it (see {@link denseReluFused}). */
function runNode(node: GraphNode, x: tf.Tensor, st: RunState, withRelu = false): tf.Tensor {
  const p = (s: string): tf.Tensor => need(st.params, `${node.name}.${s}`);
  let y: tf.Tensor;
  switch (node.op) {
    case 'dense': {
      if (x.rank === 2) {
        y = denseLayer(x, p('weight'), node.bias === false ? null : p('bias'), withRelu ? 'relu' : 'linear');
        break;
      }
      y = lastAxisMatMul(x, p('weight'));
      if (node.bias !== false) y = tf.add(y, p('bias'));
      break;
    }
    case 'embedding': {
      // one-hot product instead of gather: its gradient needs no UnsortedSegmentSum (missing on wasm)
      const W = p('weight');
      const vocab = W.shape[0] as number;
      const [n, T] = x.shape as [number, number];
      const oh = tf.oneHot(tf.cast(tf.reshape(x, [-1]), 'int32') as tf.Tensor1D, vocab);
      y = tf.reshape(tf.matMul(oh, W as tf.Tensor2D), [n, T, W.shape[1] as number]);
      break;
    }
    case 'positional':
      y = tf.add(x, p('weight'));
      break;
    case 'attention': {
      const [n, T, d] = x.shape as [number, number, number];
      const h = node.heads;
      const dh = d / h;
      const proj = (m: string): tf.Tensor => tf.add(lastAxisMatMul(x, p(`${m}.weight`)), p(`${m}.bias`));
      const split = (t: tf.Tensor): tf.Tensor3D => tf.reshape(tf.transpose(tf.reshape(t, [n, T, h, dh]), [0, 2, 1, 3]), [n * h, T, dh]);
      const q = split(proj('q'));
      const k = split(proj('k'));
      const v = split(proj('v'));
      let scores = tf.div(tf.matMul(q, k, false, true), Math.sqrt(dh));
      if (node.causal === true) {
        const mask = tf.linalg.bandPart(tf.ones([T, T]), -1, 0); // lower triangle
        scores = tf.add(scores, tf.mul(tf.sub(1, mask), -1e9));
      }
      const att = tf.matMul(tf.softmax(scores), v); // [n*h, T, dh]
      const merged = tf.reshape(tf.transpose(tf.reshape(att, [n, h, T, dh]), [0, 2, 1, 3]), [n, T, d]);
      y = tf.add(lastAxisMatMul(merged, p('o.weight')), p('o.bias'));
      break;
    }
    case 'token': {
      const T = x.shape[1] as number;
      const i = node.index < 0 ? T + node.index : node.index;
      y = tf.reshape(tf.slice(x, [0, i, 0], [-1, 1, -1]), [x.shape[0] as number, x.shape[2] as number]);
      break;
    }
    case 'conv2d': {
      const filter = tf.transpose(p('weight'), [2, 3, 1, 0]) as tf.Tensor4D; // OIHW -> HWIO
      const k = node.kernel;
      const pad = node.padding ?? 'same';
      const padN = pad === 'same' ? (k - 1) / 2 : pad === 'valid' ? 0 : pad;
      const stride = node.stride ?? 1;
      y = tf.conv2d(
        x as tf.Tensor4D,
        filter,
        stride,
        padN === 0
          ? 'valid'
          : [
              [0, 0],
              [padN, padN],
              [padN, padN],
              [0, 0],
            ],
      );
      if (node.bias !== false) y = tf.add(y, p('bias'));
      break;
    }
    case 'batchnorm': {
      const eps = node.eps ?? 1e-5;
      if (st.training) {
        const count = x.size / (x.shape[x.rank - 1] as number);
        const mom = st.bnMomentum ?? node.momentum ?? 0.1;
        let mean: tf.Tensor;
        let variance: tf.Tensor;
        if (x.rank === 2 || x.rank === 4) {
          // statistics over every axis but the channels: one fused kernel where the backend has it
          if (count < 2) throw new BasisError('TOO_SMALL', `batchnorm '${node.name}' in training mode needs more than one value per channel; use a batch of at least 2`);
          const r = batchNormTrain(x, p('weight'), p('bias'), eps);
          mean = r.mean;
          variance = r.variance;
          y = r.y;
        } else {
          const m = tf.moments(x, [0]);
          mean = m.mean;
          variance = m.variance;
          if (count < 2) throw new BasisError('TOO_SMALL', `batchnorm '${node.name}' in training mode needs more than one value per channel; use a batch of at least 2`);
          y = tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), p('weight')), p('bias'));
        }
        // PyTorch convention: running_var tracks the unbiased batch variance
        st.buffers[`${node.name}.running_mean`] = tf.add(tf.mul(p('running_mean'), 1 - mom), tf.mul(mean, mom));
        st.buffers[`${node.name}.running_var`] = tf.add(tf.mul(p('running_var'), 1 - mom), tf.mul(variance, (mom * count) / (count - 1)));
      } else {
        y = tf.add(tf.mul(tf.div(tf.sub(x, p('running_mean')), tf.sqrt(tf.add(p('running_var'), eps))), p('weight')), p('bias'));
      }
      break;
    }
    case 'layernorm': {
      const eps = node.eps ?? 1e-5;
      const m = tf.moments(x, [x.rank - 1], true);
      y = tf.add(tf.mul(tf.div(tf.sub(x, m.mean), tf.sqrt(tf.add(m.variance, eps))), p('weight')), p('bias'));
      break;
    }
    case 'activation':
      y = applyActivation(node, x);
      break;
    case 'maxpool': {
      const pad = node.padding ?? 0;
      y = tf.maxPool(x as tf.Tensor4D, node.size, node.stride ?? node.size, pad === 0 ? 'valid' : pad);
      break;
    }
    case 'avgpool':
      y = tf.avgPool(x as tf.Tensor4D, node.size, node.stride ?? node.size, 'valid');
      break;
    case 'globalavgpool':
      y = x.rank === 3 ? tf.mean(x, 1) : tf.mean(x, [1, 2]);
      break;
    case 'flatten':
      y = x.rank === 2 ? x : tf.reshape(toUser(x), [x.shape[0] as number, -1]); // channel-major, as PyTorch
      break;
    case 'transform':
      y = lastAxisMatMul(x, p('weight'));
      break;
    case 'residual': {
      let b = x;
      for (const n of node.body) b = runNode(n, b, st);
      let s = x;
      for (const n of node.shortcut ?? []) s = runNode(n, s, st);
      y = tf.add(b, s);
      break;
    }
  }
  if (st.capture === 'all' || st.capture.has(node.name)) st.captures[node.name] = toUser(y);
  return y;
}

/**
 * Whether `relu` then `maxpool` can run as maxpool then relu: max commutes with relu (exactly:
 * relu is non-decreasing, so the largest value of a window maps to the largest), and the gradient
 * is the same (dy reaches the window's first maximum when it is positive, and 0 otherwise), while
 * relu and its gradient then see a quarter of the data (a 2x2 pool). Not when either output is
 * captured (the relu's exists only in the original order).
 */
function poolsFirst(node: GraphNode, next: GraphNode, st: RunState): boolean {
  return node.op === 'activation' && node.fn === 'relu' && next.op === 'maxpool' && st.capture !== 'all' && !st.capture.has(node.name) && !st.capture.has(next.name);
}

/**
 * Whether a dense layer on a batch of vectors and the relu after it can run as one op
 * (`denseLayer(x, W, b, 'relu')`: the product, then bias and relu in one pass, and backward one
 * pass for relu's gradient and the bias gradient): the same values, fewer ops and passes over the
 * activations. Not when the dense layer's output is captured (it exists only inside the fused op).
 */
function denseReluFused(node: GraphNode, next: GraphNode, x: tf.Tensor, st: RunState): boolean {
  return node.op === 'dense' && x.rank === 2 && next.op === 'activation' && next.fn === 'relu' && st.capture !== 'all' && !st.capture.has(node.name);
}

/**
 * Runs the model graph on a batch `x` (`[N, ...graph.input]`, images as `[N, C, H, W]`) with
 * parameters in PyTorch layout. Returns the output, the requested captures and, in training mode,
 * updated batchnorm running statistics. `to` / `from` give the partial passes `f≤l` and `f>l` at
 * top-level cuts, whose composition equals the full pass.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * const g = mlp({ width: 32, depth: 2 });
 * const params = paramsToTensors(initParams(g, createRng(0)));
 * const { output, captures } = tf.tidy(() => forward(g, params, x, { capture: ['layers.1'] }));
 * const h = forward(g, params, x, { to: 'layers.1' }).output;         // f≤l
 * const y = forward(g, params, h, { from: 'layers.1' }).output;       // f>l(f≤l(x)) = f(x)
 * ```
 */
export function forward(graph: ModelGraph, params: TensorParams, x: tf.Tensor, opts: ForwardOptions = {}): ForwardResult {
  const desc = describeGraph(graph);
  const start = opts.from === undefined ? 0 : cutIndex(graph, opts.from) + 1;
  const end = opts.to === undefined ? graph.nodes.length - 1 : cutIndex(graph, opts.to);
  if (start > end) throw new BasisError('INVALID_ARGUMENT', `from = ${String(opts.from)} comes after to = ${String(opts.to)}: nothing to run`);
  const inShape = start === 0 ? graph.input : (desc.nodes.find((n) => n.name === (graph.nodes[start - 1] as GraphNode).name)!.shape as number[]);
  if (!(x instanceof tf.Tensor)) throw new BasisError('INVALID_ARGUMENT', 'forward: x must be a tfjs tensor');
  if (x.rank !== inShape.length + 1 || inShape.some((d, i) => x.shape[i + 1] !== d)) {
    throw new BasisError('SHAPE_MISMATCH', `forward: expected input [N, ${inShape.join(', ')}], got [${x.shape.join(', ')}]`);
  }
  if ((x.shape[0] as number) < 1) throw new BasisError('TOO_SMALL', 'forward: the batch is empty');
  const capture = opts.capture === undefined ? new Set<string>() : opts.capture === 'all' ? 'all' : new Set(opts.capture);
  if (capture !== 'all') {
    const known = new Set(desc.nodes.map((n) => n.name));
    for (const c of capture) if (!known.has(c)) throw new BasisError('INVALID_ARGUMENT', `unknown capture point '${c}'; capture points are node names: ${[...known].join(', ')}`);
  }
  if (opts.bnMomentum !== undefined && !(opts.bnMomentum > 0 && opts.bnMomentum <= 1)) {
    throw new BasisError('INVALID_ARGUMENT', `bnMomentum must be in (0, 1], got ${opts.bnMomentum}`);
  }
  const st: RunState = { params, training: opts.training ?? false, bnMomentum: opts.bnMomentum, capture, captures: {}, buffers: {} };
  let h: tf.Tensor;
  if (graph.tokens !== undefined && start === 0) {
    const vocab = graph.tokens.vocab;
    const ids = x.dataSync();
    for (let k = 0; k < ids.length; k++) {
      const t = ids[k] as number;
      if (!Number.isInteger(t) || t < 0 || t >= vocab) throw new BasisError('INVALID_ARGUMENT', `token id ${t} at flat index ${k} is outside 0..${vocab - 1}`);
    }
    h = x;
  } else h = toInternal(x.dtype === 'float32' ? x : tf.cast(x, 'float32'));
  for (let i = start; i <= end; i++) {
    const node = graph.nodes[i] as GraphNode;
    const next = i < end ? graph.nodes[i + 1] : undefined;
    if (next !== undefined && poolsFirst(node, next, st)) {
      h = runNode(node, runNode(next, h, st), st);
      i++;
    } else if (next !== undefined && denseReluFused(node, next, h, st)) {
      h = runNode(node, h, st, true);
      if (st.capture === 'all' || st.capture.has(next.name)) st.captures[next.name] = h;
      i++;
    } else h = runNode(node, h, st);
  }
  return { output: toUser(h), captures: st.captures, buffers: st.buffers };
}
