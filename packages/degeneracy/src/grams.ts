// D1 behavioral loss and D5 Gram matrices / spectra / free-direction counts through tfjs autodiff.
import * as tf from '@tensorflow/tfjs-core';
import { BasisError, Matrix, eigh, registerGradients } from '@basis/tensor';
import { describeGraph, forward, type ModelGraph, type TensorParams } from '@basis/zoo';
import { checkEnum, checkFiniteTensor, checkMatrix, checkOpt, checkShape } from './util.js';

/** Kind of behavioral loss: squared error of outputs, or KL(p* ‖ p) of their softmax. */
export type BehavioralKind = 'mse' | 'kl';

/**
 * Differentiable behavioral loss of outputs `y` against reference outputs `yRef` (both `[n, k]`):
 * `'mse'`: `(1/n) Σ_x ‖y − y*‖²` (S001 eq. 6); `'kl'`: `(1/n) Σ_x KL(softmax(y*) ‖ softmax(y))`.
 *
 * @example
 * ```ts
 * const l = behavioralLossTensor(tf.tensor2d([[1, 2]]), tf.tensor2d([[1, 0]]), 'mse'); // 4
 * ```
 */
export function behavioralLossTensor(y: tf.Tensor, yRef: tf.Tensor, kind: BehavioralKind = 'mse'): tf.Scalar {
  checkEnum(kind, 'kind', ['mse', 'kl']);
  if (y.shape.join() !== yRef.shape.join()) throw new BasisError('SHAPE_MISMATCH', `outputs [${y.shape.join(', ')}] and reference outputs [${yRef.shape.join(', ')}] differ`);
  const n = y.shape[0] as number;
  return tf.tidy(() => {
    if (kind === 'mse') return tf.div(tf.sum(tf.square(tf.sub(y, yRef))), n) as tf.Scalar;
    const lp = tf.logSoftmax(y);
    const lq = tf.logSoftmax(yRef);
    return tf.div(tf.sum(tf.mul(tf.exp(lq), tf.sub(lq, lp))), n) as tf.Scalar;
  });
}

/**
 * Behavioral loss (D1) in float64 from output matrices (rows = inputs): `'mse'` or `'kl'`.
 * `L_B(θ*) = 0`; non-negative.
 *
 * @example
 * ```ts
 * behavioralLossFromOutputs(Matrix.from([[1, 2]]), Matrix.from([[1, 0]])); // 4
 * ```
 */
export function behavioralLossFromOutputs(Y: Matrix, Yref: Matrix, kind: BehavioralKind = 'mse'): number {
  checkEnum(kind, 'kind', ['mse', 'kl']);
  checkMatrix(Y, 'Y');
  checkMatrix(Yref, 'Yref');
  checkShape(Y.rows === Yref.rows && Y.cols === Yref.cols, `Y is ${Y.rows}x${Y.cols} but Yref is ${Yref.rows}x${Yref.cols}`);
  const n = Y.rows;
  const k = Y.cols;
  let s = 0;
  for (let r = 0; r < n; r++) {
    if (kind === 'mse') {
      for (let j = 0; j < k; j++) s += ((Y.data[r * k + j] as number) - (Yref.data[r * k + j] as number)) ** 2;
    } else {
      const lse = (M: Matrix): number => {
        let m = -Infinity;
        for (let j = 0; j < k; j++) m = Math.max(m, M.data[r * k + j] as number);
        let t = 0;
        for (let j = 0; j < k; j++) t += Math.exp((M.data[r * k + j] as number) - m);
        return m + Math.log(t);
      };
      const a = lse(Y);
      const b = lse(Yref);
      for (let j = 0; j < k; j++) {
        const lq = (Yref.data[r * k + j] as number) - b;
        const lp = (Y.data[r * k + j] as number) - a;
        s += Math.exp(lq) * (lq - lp);
      }
    }
  }
  return s / n;
}

/**
 * Behavioral loss of parameters `params` against reference parameters `ref` on inputs `x`
 * (eval-mode forward passes, float32 in tfjs, the sum accumulated in float64).
 *
 * @example
 * ```ts
 * behavioralLoss(g, paramsToTensors(p), paramsToTensors(p), x); // 0
 * ```
 */
export function behavioralLoss(graph: ModelGraph, params: TensorParams, ref: TensorParams, x: tf.Tensor, opts: { kind?: BehavioralKind } = {}): number {
  checkEnum(opts.kind, 'kind', ['mse', 'kl']);
  const Y = tf.tidy(() => forward(graph, params, x).output);
  const R = tf.tidy(() => forward(graph, ref, x).output);
  try {
    const toM = (t: tf.Tensor): Matrix => Matrix.fromArray(t.shape[0] as number, t.size / (t.shape[0] as number), t.dataSync());
    return behavioralLossFromOutputs(toM(Y), toM(R), opts.kind ?? 'mse');
  } finally {
    Y.dispose();
    R.dispose();
  }
}

/** Options of {@link layerGrams}. */
export interface LayerGramsOptions {
  /** Feature layers to analyse: `'input'` or top-level node names (default: `'input'` and every activation node, then the output node). */
  layers?: readonly string[];
  /** Rows per autodiff batch (default 256). */
  batchSize?: number;
}

/** Grams and spectra of one layer (from {@link layerGrams}). */
export interface LayerGram {
  readonly layer: string;
  readonly dim: number;
  /** `G = (1/n) Σ f fᵀ` (uncentred). */
  readonly G: Matrix;
  /** `M = (1/n) Σ Jᵀ J` with `J = ∂f^L/∂f` (the identity for the output layer). */
  readonly M: Matrix;
  /** `K = (1/n) Σ Jᵀ J` with `J = ∂f^L/∂p^{l+1}` when the next node is dense (else null). */
  readonly K: Matrix | null;
  /** Name of the dense node whose output is `p^{l+1}` (null when there is none). */
  readonly next: string | null;
  /** Descending eigenvalues of G, M and K. */
  readonly spectra: { readonly G: Float64Array; readonly M: Float64Array; readonly K: Float64Array | null };
  /** Features captured at this layer (float32 values in float64). */
  readonly features: Matrix;
}

/**
 * Per-sample Jacobian Gram `(1/n) Σ_x (∂f^L/∂h)ᵀ (∂f^L/∂h)` of the model output with respect to
 * the features `h` at a cut (`'input'` or a top-level node name), batched: one `tf.grad` of the
 * sum over the batch per output coordinate (samples are independent in eval mode). Float32
 * gradients, float64 accumulation. Also returns the features.
 *
 * @example
 * ```ts
 * const { M, features } = jacobianGram(g, paramsToTensors(p), x, 'layers.1');
 * ```
 */
export function jacobianGram(graph: ModelGraph, params: TensorParams, x: tf.Tensor, at: string, opts: { batchSize?: number } = {}): { M: Matrix; features: Matrix } {
  registerGradients();
  checkOpt(opts.batchSize, 'batchSize', (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
  checkFiniteTensor(x, 'x');
  const n = x.shape[0] as number;
  const bs = opts.batchSize ?? 256;
  const last = graph.nodes[graph.nodes.length - 1]!.name;
  let Macc: Float64Array | null = null;
  let d = 0;
  const featRows: Float32Array[] = [];
  for (let s = 0; s < n; s += bs) {
    const m = Math.min(bs, n - s);
    const xb = tf.slice(x, s, m);
    const h = at === 'input' ? xb : tf.tidy(() => forward(graph, params, xb, { to: at }).output);
    if (h.rank !== 2) throw new BasisError('SHAPE_MISMATCH', `features at '${at}' have shape [${h.shape.join(', ')}]; Jacobian Grams need vector features`);
    d = h.shape[1] as number;
    featRows.push(h.dataSync() as Float32Array);
    if (at === last) {
      Macc ??= new Float64Array(d * d);
      for (let i = 0; i < d; i++) Macc[i * d + i] = (Macc[i * d + i] as number) + m;
    } else {
      const f = (hh: tf.Tensor): tf.Tensor => (at === 'input' ? forward(graph, params, hh).output : forward(graph, params, hh, { from: at }).output);
      const kOut = tf.tidy(() => f(tf.slice(h, 0, 1)).shape[1] as number);
      Macc ??= new Float64Array(d * d);
      for (let k = 0; k < kOut; k++) {
        const g = tf.tidy(() => {
          const oh = new Float32Array(kOut);
          oh[k] = 1;
          const e = tf.tensor2d(oh, [1, kOut]);
          return tf.grad((hh: tf.Tensor) => tf.sum(tf.mul(f(hh), e)))(h);
        });
        const gv = g.dataSync();
        g.dispose();
        for (let r = 0; r < m; r++) {
          const o = r * d;
          for (let i = 0; i < d; i++) {
            const a = gv[o + i] as number;
            if (a === 0) continue;
            for (let j = i; j < d; j++) Macc[i * d + j] = (Macc[i * d + j] as number) + a * (gv[o + j] as number);
          }
        }
      }
    }
    if (h !== xb) h.dispose();
    xb.dispose();
  }
  const acc = Macc!;
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const v = (acc[i * d + j] as number) / n;
      acc[i * d + j] = v;
      acc[j * d + i] = v;
    }
  }
  const F = new Matrix(n, d);
  let o = 0;
  for (const rows of featRows) {
    for (let k = 0; k < rows.length; k++) F.data[o + k] = rows[k] as number;
    o += rows.length;
  }
  return { M: new Matrix(d, d, acc), features: F };
}

/**
 * Gram matrices G^l, M^l, K^l and their spectra for the feature layers of any graph with vector
 * features (D5; S001 eqs. 13-16, 38-40). Each layer costs `d_out` backward passes per batch.
 *
 * @example
 * ```ts
 * const grams = layerGrams(mlp({ width: 16, inputDim: 4, classes: 3 }), paramsToTensors(p), x);
 * grams[1].spectra.G; // activation spectrum of the first hidden layer
 * freeDirections(grams[1], 1e-6).fromActivations;
 * ```
 */
export function layerGrams(graph: ModelGraph, params: TensorParams, x: tf.Tensor, opts: LayerGramsOptions = {}): LayerGram[] {
  describeGraph(graph);
  const top = graph.nodes.map((n) => n.name);
  const layers = opts.layers ?? ['input', ...graph.nodes.filter((n) => n.op === 'activation').map((n) => n.name), top[top.length - 1]!];
  if (layers.length === 0) throw new BasisError('CONFIG_INVALID', 'layers must name at least one layer', { details: { field: 'layers' } });
  for (const l of layers) {
    if (l !== 'input' && !top.includes(l)) throw new BasisError('CONFIG_INVALID', `layers: '${l}' is not a top-level node (${top.join(', ')}) or 'input'`, { details: { field: 'layers' } });
  }
  return layers.map((layer) => {
    const { M, features } = jacobianGram(graph, params, x, layer, opts);
    const idx = layer === 'input' ? -1 : top.indexOf(layer);
    const nextNode = graph.nodes[idx + 1];
    const next = nextNode !== undefined && nextNode.op === 'dense' ? nextNode.name : null;
    const K = next === null ? null : jacobianGram(graph, params, x, next, opts).M;
    const G = gramOf(features);
    return {
      layer,
      dim: features.cols,
      G,
      M,
      K,
      next,
      spectra: { G: eigh(G, { vectors: false }).values, M: eigh(M, { vectors: false }).values, K: K === null ? null : eigh(K, { vectors: false }).values },
      features,
    };
  });
}

function gramOf(F: Matrix): Matrix {
  const d = F.cols;
  const n = F.rows;
  const out = new Float64Array(d * d);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < d; i++) {
      const a = F.data[r * d + i] as number;
      if (a === 0) continue;
      for (let j = i; j < d; j++) out[i * d + j] = (out[i * d + j] as number) + a * (F.data[r * d + j] as number);
    }
  }
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) out[j * d + i] = out[i * d + j] = (out[i * d + j] as number) / n;
  return new Matrix(d, d, out);
}

/**
 * Activation Gram `G = (1/n) Fᵀ F` (uncentred, S001 eq. 38) of a feature matrix in float64.
 *
 * @example
 * ```ts
 * activationGram(Matrix.from([[1, 0], [1, 0]])).toArray(); // [[1, 0], [0, 0]]
 * ```
 */
export function activationGram(F: Matrix): Matrix {
  checkMatrix(F, 'F');
  return gramOf(F);
}

/** Free-direction counts of one layer at noise scale ε (from {@link freeDirections}). */
export interface FreeDirectionCounts {
  readonly eps: number;
  /** `#{j : λ_j(G^l) < ε}`. */
  readonly lowVarianceDirections: number;
  /** `d^{l+1} · #{j : λ_j(G^l) < ε}`: genuinely free weight directions. */
  readonly fromActivations: number;
  /** `#{i : μ_i(K^l) < ε}`. */
  readonly lowJacobianDirections: number | null;
  /** `d^l · #{i : μ_i(K^l) < ε}`: zero Hessian eigenvalues (not necessarily free). */
  readonly fromJacobians: number | null;
  /** `#{(i, j) : λ_j(G) μ_i(K) < ε}` from the Kronecker eigenvalues (EXT refinement). */
  readonly kronecker: number | null;
}

/**
 * Counts free directions of a layer at noise scale ε from its spectra (D5 counting rules):
 * `fromActivations = d^{l+1} #{λ(G) < ε}`, `fromJacobians = d^l #{μ(K) < ε}` and the Kronecker
 * refinement. `nextDim` defaults to the size of K.
 *
 * @example
 * ```ts
 * freeDirections({ dim: 3, spectra: { G: [2, 1, 0], K: [1, 0] } }, 1e-6);
 * // { lowVarianceDirections: 1, fromActivations: 2, lowJacobianDirections: 1, fromJacobians: 3, kronecker: 4, ... }
 * ```
 */
export function freeDirections(
  layer: { readonly dim: number; readonly spectra: { readonly G: ArrayLike<number>; readonly K: ArrayLike<number> | null } },
  eps: number,
  opts: { nextDim?: number } = {},
): FreeDirectionCounts {
  checkOpt(eps, 'eps', (v) => Number.isFinite(v) && v > 0, 'a positive number');
  const G = Array.from(layer.spectra.G);
  const K = layer.spectra.K === null ? null : Array.from(layer.spectra.K);
  const nextDim = opts.nextDim ?? (K === null ? 0 : K.length);
  const lowG = G.filter((v) => v < eps).length;
  const lowK = K === null ? null : K.filter((v) => v < eps).length;
  let kron: number | null = null;
  if (K !== null) {
    kron = 0;
    for (const a of G) for (const b of K) if (Math.max(a, 0) * Math.max(b, 0) < eps) kron++;
  }
  return {
    eps,
    lowVarianceDirections: lowG,
    fromActivations: nextDim * lowG,
    lowJacobianDirections: lowK,
    fromJacobians: lowK === null ? null : layer.dim * lowK,
    kronecker: kron,
  };
}
