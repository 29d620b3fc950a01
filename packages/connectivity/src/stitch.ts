import * as tf from '@tensorflow/tfjs-core';
import { BasisError, Matrix, corrMatrix, linearSumAssignment, lstsq, svd } from '@basis/tensor';
import { cutIndex, describeGraph, forward, paramsToTensors, train, type ModelGraph } from '@basis/zoo';
import { evaluateFn, type EvalResult, type LabelledData, type Params } from './interpolate.js';

/** A trainable variable holding `init`; the initial tensor is disposed (a variable keeps its own reference to the data). */
function trainable(init: tf.Tensor): tf.Variable {
  const v = tf.variable(init, true);
  init.dispose();
  return v;
}

/** The values of the tensor `make` returns, as float64; the tensor (and intermediates) are disposed. */
function valuesOf(make: () => tf.Tensor): Float64Array {
  const t = tf.tidy(make);
  try {
    return Float64Array.from(t.dataSync());
  } finally {
    t.dispose();
  }
}

/** Stitching-layer classes (seeds-spec F1). */
export type StitchKind = 'identity' | 'permutation' | 'affine' | 'grelu' | { readonly rank: number };

/** Options of {@link stitch}. */
export interface StitchOptions {
  kind: StitchKind;
  /** The cut: a top-level node of the graph (S003 stitches at ReLU outputs, and at block ends in residual nets). */
  layer: string;
  /** Training data for the stitching layer (and for matching / least-squares initialisation). */
  train: LabelledData;
  /** Evaluation data (test split). */
  test: LabelledData;
  /** Epochs of stitching-layer training (default 5). */
  epochs?: number;
  /** Batch size (default 128). */
  batchSize?: number;
  /** Adam learning rate (default 1e-3). */
  lr?: number;
  /** Seed of the data order (default 0). */
  seed?: number;
  /** Inputs used for least-squares / matching initialisation (default 2000 training inputs). */
  initInputs?: number;
  /** G_ReLU relaxation: Sinkhorn iterations (default 20), temperature annealed from `tauStart` (1) to `tauEnd` (0.05). */
  sinkhornIters?: number;
  tauStart?: number;
  tauEnd?: number;
  /** G_ReLU: epochs re-fitting the scales with the hardened permutation (default 1). */
  refitEpochs?: number;
  /**
   * Stops the stitch within one training step (or one evaluation batch) of the abort: `stitch`
   * then rejects with a `BasisError` (code `INVALID_ARGUMENT`, `details.aborted = true`, and
   * `details.phase`/`details.step` saying how far it got). A stitch is one unit of work: nothing
   * of an interrupted one is returned.
   */
  signal?: AbortSignal;
}

/** What {@link stitch} measured. */
export interface StitchResult {
  kind: StitchKind;
  layer: string;
  /** Test accuracy and loss of the bottom model, the top model and the stitched model. */
  bottom: EvalResult;
  top: EvalResult;
  stitched: EvalResult;
  /** G_ReLU only: the stitched model with the soft (doubly stochastic) matrix before hardening. */
  stitchedSoft?: EvalResult;
  /** S003 eq. 4.3: `(Acc(f) + Acc(f~))/2 - Acc(S)`. */
  penalty: number;
  /** Free parameters of the stitching class (seeds-spec S8). */
  parameters: number;
  /** The learned map on the unit axis: `φ(h) = M h + b` (b may be zero). */
  M: Matrix;
  b: Float64Array;
  /** G_ReLU / permutation: the hard permutation (`src[i]`: top unit i reads bottom unit src[i]). */
  permutation?: Int32Array;
  /** Per-epoch training loss of the stitching layer. */
  trainLoss: number[];
}

/** φ applied along the unit axis of a cut feature (`[N, d]`, `[N, C, H, W]` or `[N, T, d]`). */
function applyMap(h: tf.Tensor, M: tf.Tensor2D, b: tf.Tensor | null): tf.Tensor {
  if (h.rank === 2) {
    const y = tf.matMul(h as tf.Tensor2D, M, false, true);
    return b === null ? y : tf.add(y, b);
  }
  const nhwc = h.rank === 4 ? tf.transpose(h, [0, 2, 3, 1]) : h;
  const c = nhwc.shape[nhwc.rank - 1] as number;
  let y: tf.Tensor = tf.matMul(tf.reshape(nhwc, [-1, c]) as tf.Tensor2D, M, false, true);
  if (b !== null) y = tf.add(y, b);
  y = tf.reshape(y, nhwc.shape);
  return h.rank === 4 ? tf.transpose(y, [0, 3, 1, 2]) : y;
}

/** Rows = samples, columns = units of a cut feature (channel view for maps). */
function unitRows(h: tf.Tensor): tf.Tensor2D {
  if (h.rank === 2) return h as tf.Tensor2D;
  const nhwc = h.rank === 4 ? tf.transpose(h, [0, 2, 3, 1]) : h;
  return tf.reshape(nhwc, [-1, nhwc.shape[nhwc.rank - 1] as number]);
}

/** Log-domain Sinkhorn normalisation of `Z / tau` to a doubly stochastic matrix (differentiable). */
function softPermutation(Z: tf.Tensor2D, tau: number, iters: number): tf.Tensor2D {
  let L: tf.Tensor2D = tf.div(Z, tau);
  for (let k = 0; k < iters; k++) {
    L = tf.sub(L, tf.logSumExp(L, 1, true));
    L = tf.sub(L, tf.logSumExp(L, 0, true));
  }
  return tf.exp(L);
}

function parameterCount(kind: StitchKind, n: number): number {
  if (kind === 'identity' || kind === 'permutation') return 0;
  if (kind === 'grelu') return n;
  if (kind === 'affine') return n * n + n;
  return 2 * n * kind.rank - kind.rank * kind.rank + n;
}

/**
 * Model stitching (S003 Sec. 4; seeds-spec F1–F2): the bottom model's layers up to `layer`, a
 * stitching layer φ on the units of the cut (a 1x1 convolution on conv channels), then the top
 * model's layers after `layer`; both models frozen (eval mode), only φ trained with Adam on the
 * task loss. Classes: `identity`; `permutation` (activation matching on the cut features);
 * `affine` and `{ rank: r }` (initialised by least squares / its truncated SVD); `grelu` — P·D
 * through a Sinkhorn doubly-stochastic relaxation with annealed temperature, hardened by an exact
 * assignment, scales re-fitted. Reports the stitching penalty `(Acc f + Acc f~)/2 - Acc S`.
 *
 * @example
 * ```ts
 * const r = await stitch(graph, A, B, { kind: 'grelu', layer: 'layers.1', train, test });
 * r.penalty; // about 0 for a model and its G_ReLU-transformed copy
 * ```
 */
export async function stitch(graph: ModelGraph, bottom: Params, top: Params, opts: StitchOptions): Promise<StitchResult> {
  const desc = describeGraph(graph);
  const li = cutIndex(graph, opts.layer);
  if (li >= graph.nodes.length - 1) throw new BasisError('INVALID_ARGUMENT', `'${opts.layer}' is the output layer; stitch at a hidden cut`);
  const shape = desc.nodes.find((n) => n.name === opts.layer)!.shape;
  const n = (shape.length === 2 ? shape[1] : shape[0]) as number;
  const kind = opts.kind;
  if (typeof kind === 'object' && (!Number.isInteger(kind.rank) || kind.rank < 1 || kind.rank > n)) {
    throw new BasisError('CONFIG_INVALID', `stitch rank must be an integer in 1..${n}, got ${String(kind.rank)}`);
  }
  if (typeof kind !== 'object' && !['identity', 'permutation', 'affine', 'grelu'].includes(kind)) {
    throw new BasisError('CONFIG_INVALID', `stitch kind must be identity, permutation, affine, grelu or { rank }, got ${JSON.stringify(kind)}`);
  }
  const epochs = opts.epochs ?? 5;
  const bs = opts.batchSize ?? 128;
  const lr = opts.lr ?? 1e-3;
  for (const [k, v] of [['epochs', epochs], ['batchSize', bs]] as const) {
    if (!Number.isInteger(v) || v < (k === 'epochs' ? 0 : 1)) throw new BasisError('CONFIG_INVALID', `stitch ${k} must be a ${k === 'epochs' ? 'non-negative' : 'positive'} integer, got ${v}`);
  }
  if (!(lr > 0)) throw new BasisError('CONFIG_INVALID', `stitch lr must be > 0, got ${lr}`);
  const signal = opts.signal;
  if (signal !== undefined && (typeof signal !== 'object' || signal === null || typeof (signal as { aborted?: unknown }).aborted !== 'boolean')) {
    throw new BasisError('CONFIG_INVALID', 'stitch signal must be an AbortSignal', { details: { field: 'signal' } });
  }
  const what = `stitching (${typeof kind === 'object' ? `rank ${kind.rank}` : kind}) at ${opts.layer}`;
  const stopIfAborted = (phase: string, step?: number): void => {
    if (signal?.aborted === true) {
      throw new BasisError('INVALID_ARGUMENT', `${what} was interrupted ${phase}${step === undefined ? '' : ` (after training step ${step})`}; an interrupted stitch keeps nothing`, { details: { aborted: true, phase, ...(step === undefined ? {} : { step }) } });
    }
  };
  stopIfAborted('before it started');
  const nTrain = opts.train.x.shape[0] as number;
  if (opts.train.labels.length !== nTrain) throw new BasisError('SHAPE_MISMATCH', `train has ${nTrain} inputs but ${opts.train.labels.length} labels`);
  const tb = paramsToTensors(bottom);
  const tt = paramsToTensors(top);
  const vars: Record<string, tf.Variable> = {};
  try {
    const bottomEval = await evaluateFn(graph, (x) => forward(graph, tb, x).output, opts.test, { ...(signal === undefined ? {} : { signal }) });
    const topEval = await evaluateFn(graph, (x) => forward(graph, tt, x).output, opts.test, { ...(signal === undefined ? {} : { signal }) });
    stopIfAborted('while evaluating the two models');
    // features of the cut on the initialisation inputs
    const nInit = Math.min(opts.initInputs ?? 2000, nTrain);
    const [Ha, Hb] = tf.tidy(() => {
      const x = tf.slice(opts.train.x, 0, nInit);
      return [unitRows(forward(graph, tb, x, { to: li }).output), unitRows(forward(graph, tt, x, { to: li }).output)];
    });
    const ha = new Matrix(Ha.shape[0], n, Float64Array.from(Ha.dataSync()));
    const hb = new Matrix(Hb.shape[0], n, Float64Array.from(Hb.dataSync()));
    tf.dispose([Ha, Hb]);

    let M = Matrix.identity(n);
    let b = new Float64Array(n);
    let permutation: Int32Array | undefined;
    const trainLoss: number[] = [];
    let stitchedSoft: EvalResult | undefined;
    const matchPerm = (): Int32Array => {
      // correlation of top unit i with bottom unit j; φ(h)_i = h_{src[i]}
      const C = corrMatrix(hb, ha).corr;
      return linearSumAssignment(C, { maximize: true }).colInd;
    };

    const trainLayer = async (
      forwardPhi: (h: tf.Tensor, ctxTau: number) => tf.Tensor,
      ep: number,
      tauAt: (epochFrac: number) => number,
      params: Record<string, tf.Variable> = vars,
    ): Promise<void> => {
      if (ep === 0) return;
      const stepsPerEpoch = Math.ceil(nTrain / bs);
      const labels = tf.tensor1d(opts.train.labels, 'int32');
      const result = await train({
        params,
        data: {
          n: nTrain,
          getBatch: (idx) => {
            const ix = tf.tensor1d(idx, 'int32');
            const x = tf.gather(opts.train.x, ix);
            const y = tf.gather(labels, ix);
            ix.dispose();
            return { x, y };
          },
        },
        lossFn: (batch, ctx) => {
          const h = forward(graph, tb, batch.x, { to: li }).output;
          const phi = forwardPhi(h, tauAt((ctx.step + 1) / (stepsPerEpoch * ep)));
          const logits = forward(graph, tt, phi, { from: li }).output as tf.Tensor2D;
          return tf.mean(tf.sub(tf.logSumExp(logits, 1), tf.sum(tf.mul(logits, tf.oneHot(tf.cast(batch.y, 'int32') as tf.Tensor1D, logits.shape[1])), 1))) as tf.Scalar;
        },
        epochs: ep,
        batchSize: bs,
        optimizer: { kind: 'adam', lr },
        seed: opts.seed ?? 0,
        ...(signal === undefined ? {} : { signal }),
      });
      labels.dispose();
      if (result.stopped === 'aborted') stopIfAborted('while training the stitching layer', result.state.step);
      for (const e of result.epochs) trainLoss.push(e.loss);
    };

    if (kind === 'identity') {
      // nothing to learn
    } else if (kind === 'permutation') {
      permutation = matchPerm();
      M = permMatrix(permutation, new Float64Array(n).fill(1));
    } else if (kind === 'affine' || typeof kind === 'object') {
      // least squares hb ≈ [ha, 1] Wᵀ as the initialisation
      const X = new Matrix(ha.rows, n + 1);
      for (let i = 0; i < ha.rows; i++) {
        X.data.set(ha.data.subarray(i * n, (i + 1) * n), i * (n + 1));
        X.data[i * (n + 1) + n] = 1;
      }
      const W = lstsq(X, hb).x; // (n+1) x n
      let Mi = new Matrix(n, n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) Mi.data[i * n + j] = W.get(j, i);
      const bi = Float64Array.from({ length: n }, (_, i) => W.get(n, i));
      if (kind === 'affine') {
        vars['M'] = trainable(tf.tensor2d(Float32Array.from(Mi.data), [n, n]));
        vars['b'] = trainable(tf.tensor1d(Float32Array.from(bi)));
        await trainLayer((h) => applyMap(h, vars['M'] as unknown as tf.Tensor2D, vars['b'] as tf.Tensor), epochs, () => 1);
        M = new Matrix(n, n, Float64Array.from(vars['M']!.dataSync()));
        b = Float64Array.from(vars['b']!.dataSync());
      } else {
        const r = kind.rank;
        const f = svd(Mi);
        const U = new Float32Array(n * r);
        const V = new Float32Array(n * r);
        for (let i = 0; i < n; i++)
          for (let k = 0; k < r; k++) {
            const sq = Math.sqrt(f.s[k] as number);
            U[i * r + k] = f.U.get(i, k) * sq;
            V[i * r + k] = f.V.get(i, k) * sq;
          }
        vars['U'] = trainable(tf.tensor2d(U, [n, r]));
        vars['V'] = trainable(tf.tensor2d(V, [n, r]));
        vars['b'] = trainable(tf.tensor1d(Float32Array.from(bi)));
        const map = (): tf.Tensor2D => tf.matMul(vars['U'] as unknown as tf.Tensor2D, vars['V'] as unknown as tf.Tensor2D, false, true);
        await trainLayer((h) => applyMap(h, map(), vars['b'] as tf.Tensor), epochs, () => 1);
        Mi = new Matrix(n, n, valuesOf(map));
        M = Mi;
        b = Float64Array.from(vars['b']!.dataSync());
      }
    } else {
      // G_ReLU: P_soft(Z) · diag(exp(s)), Z initialised at the matching permutation plus noise
      const init = matchPerm();
      const iters = opts.sinkhornIters ?? 20;
      const t0 = opts.tauStart ?? 1;
      const t1 = opts.tauEnd ?? 0.05;
      const Z = new Float32Array(n * n);
      for (let i = 0; i < n; i++) Z[i * n + (init[i] as number)] = 2;
      // scales from the feature norms of the matched units
      const s0 = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const j = init[i] as number;
        let na = 0;
        let nb = 0;
        for (let r = 0; r < ha.rows; r++) {
          na += (ha.get(r, j) as number) ** 2;
          nb += (hb.get(r, i) as number) ** 2;
        }
        // φ(h)_i = exp(s_j) h_j with j = src[i]: the scale belongs to the bottom unit
        s0[j] = na > 0 && nb > 0 ? 0.5 * Math.log(nb / na) : 0;
      }
      vars['Z'] = trainable(tf.tensor2d(Z, [n, n]));
      vars['s'] = trainable(tf.tensor1d(s0));
      const tau = (frac: number): number => t0 * (t1 / t0) ** Math.min(1, Math.max(0, frac));
      const soft = (t: number): tf.Tensor2D => tf.mul(softPermutation(vars['Z'] as unknown as tf.Tensor2D, t, iters), tf.exp(tf.reshape(vars['s'] as tf.Tensor, [1, n])));
      await trainLayer((h, t) => applyMap(h, soft(t), null), epochs, tau);
      const Psoft = new Matrix(n, n, valuesOf(() => softPermutation(vars['Z'] as unknown as tf.Tensor2D, t1, iters)));
      const softM = new Matrix(n, n, valuesOf(() => soft(t1)));
      stitchedSoft = await evalStitched(graph, tb, tt, li, softM, new Float64Array(n), opts.test, signal);
      stopIfAborted('after the relaxed G_ReLU fit');
      permutation = linearSumAssignment(Psoft, { maximize: true }).colInd;
      // harden: fixed P, re-fit the log-scales
      const Pm = tf.tensor2d(Float32Array.from(permMatrix(permutation, new Float64Array(n).fill(1)).data), [n, n]);
      await trainLayer((h) => applyMap(h, tf.mul(Pm, tf.exp(tf.reshape(vars['s'] as tf.Tensor, [1, n]))) as tf.Tensor2D, null), opts.refitEpochs ?? 1, () => 1, { s: vars['s'] as tf.Variable });
      Pm.dispose();
      const scale = Float64Array.from(vars['s']!.dataSync()).map(Math.exp);
      // φ(h)_i = Σ_j P[i, j] exp(s_j) h_j = exp(s_{src[i]}) h_{src[i]}
      M = permMatrix(permutation, Float64Array.from(permutation, (j) => scale[j] as number));
    }
    stopIfAborted('before evaluating the stitched model');
    const stitched = await evalStitched(graph, tb, tt, li, M, b, opts.test, signal);
    stopIfAborted('while evaluating the stitched model');
    return {
      kind,
      layer: opts.layer,
      bottom: bottomEval,
      top: topEval,
      stitched,
      ...(stitchedSoft === undefined ? {} : { stitchedSoft }),
      penalty: (bottomEval.accuracy + topEval.accuracy) / 2 - stitched.accuracy,
      parameters: parameterCount(kind, n),
      M,
      b,
      ...(permutation === undefined ? {} : { permutation }),
      trainLoss,
    };
  } finally {
    tf.dispose([...Object.values(tb), ...Object.values(tt), ...Object.values(vars)]);
  }
}

function permMatrix(src: Int32Array, scale: Float64Array): Matrix {
  const n = src.length;
  const m = new Matrix(n, n);
  for (let i = 0; i < n; i++) m.data[i * n + (src[i] as number)] = scale[i] as number;
  return m;
}

async function evalStitched(graph: ModelGraph, tb: Record<string, tf.Tensor>, tt: Record<string, tf.Tensor>, li: number, M: Matrix, b: Float64Array, data: LabelledData, signal?: AbortSignal): Promise<EvalResult> {
  const n = M.rows;
  const Mt = tf.tensor2d(Float32Array.from(M.data), [n, n]);
  const bt = tf.tensor1d(Float32Array.from(b));
  try {
    return await evaluateFn(graph, (x) => forward(graph, tt, applyMap(forward(graph, tb, x, { to: li }).output, Mt, bt), { from: li }).output, data, { ...(signal === undefined ? {} : { signal }) });
  } finally {
    tf.dispose([Mt, bt]);
  }
}
