// Float64 view of fully connected models (dense / activation chains): exact forward passes,
// per-sample Jacobians and the Gram matrices of S001 for MLPs, without tfjs.
import { BasisError, Matrix } from '@basis/tensor';
import type { ModelGraph } from '@basis/zoo';
import { checkMatrix, checkShape, secondMoment } from './util.js';

/** Elementwise nonlinearities the float64 engine supports. */
export type DenseActivation = 'identity' | 'relu' | 'leaky_relu' | 'tanh' | 'sigmoid';

/** One fully connected layer `f^{l+1} = σ(W f^l + b)` in float64 (W is `out x in`, PyTorch layout). */
export interface DenseLayer {
  /** Name of the dense node (e.g. `layers.0`). */
  readonly name: string;
  /** Name of the activation node after it, or null when the layer is linear. */
  readonly activationNode: string | null;
  readonly W: Matrix;
  readonly b: Float64Array | null;
  readonly act: DenseActivation;
  /** Negative slope of leaky_relu. */
  readonly slope?: number;
}

/** Parameters as the zoo stores them (float32 or float64 arrays by PyTorch-style name). */
export type ParamsLike = Readonly<Record<string, { readonly shape: readonly number[]; readonly data: ArrayLike<number> }>>;

const SUPPORTED: readonly string[] = ['identity', 'relu', 'leaky_relu', 'tanh', 'sigmoid'];

/**
 * Reads a model graph made only of `dense` nodes, each optionally followed by one `activation`
 * node (identity, relu, leaky_relu, tanh, sigmoid), into float64 layers. Any other node kind is
 * CONFIG_INVALID naming the node.
 *
 * @example
 * ```ts
 * const g = mlp({ width: 8, depth: 2, inputDim: 4, classes: 3 });
 * const layers = denseChain(g, initParams(g, createRng(0)));
 * layers.map((l) => l.W.shape); // [[8, 4], [8, 8], [3, 8]]
 * ```
 */
export function denseChain(graph: ModelGraph, params: ParamsLike): DenseLayer[] {
  const out: DenseLayer[] = [];
  const nodes = graph.nodes;
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    if (n.op !== 'dense') {
      throw new BasisError('CONFIG_INVALID', `graph.nodes[${i}] ('${n.name}', ${n.op}): the float64 engine handles dense/activation chains only; use the tfjs functions (layerGrams) for other graphs`, { details: { field: `graph.nodes[${i}]` } });
    }
    const w = params[`${n.name}.weight`];
    if (w === undefined) throw new BasisError('INVALID_ARGUMENT', `missing parameter '${n.name}.weight'`);
    const W = Matrix.fromArray(w.shape[0]!, w.shape[1]!, w.data);
    const bp = params[`${n.name}.bias`];
    const b = n.bias === false || bp === undefined ? null : Float64Array.from(bp.data);
    const next = nodes[i + 1];
    if (next !== undefined && next.op === 'activation') {
      if (!SUPPORTED.includes(next.fn)) {
        throw new BasisError('CONFIG_INVALID', `graph.nodes[${i + 1}].fn = '${next.fn}' is not supported by the float64 engine (${SUPPORTED.join(', ')})`, { details: { field: `graph.nodes[${i + 1}].fn` } });
      }
      out.push({ name: n.name, activationNode: next.name, W, b, act: next.fn as DenseActivation, ...(next.fn === 'leaky_relu' ? { slope: next.slope ?? 0.01 } : {}) });
      i++;
    } else out.push({ name: n.name, activationNode: null, W, b, act: 'identity' });
  }
  for (let l = 1; l < out.length; l++) {
    checkShape(out[l]!.W.cols === out[l - 1]!.W.rows, `layer '${out[l]!.name}' takes ${out[l]!.W.cols} inputs but '${out[l - 1]!.name}' gives ${out[l - 1]!.W.rows}`);
  }
  return out;
}

/** σ(p) for a dense layer's activation (`slope` for leaky ReLU). */
export function actValue(a: DenseActivation, p: number, slope: number): number {
  switch (a) {
    case 'identity':
      return p;
    case 'relu':
      return p > 0 ? p : 0;
    case 'leaky_relu':
      return p > 0 ? p : slope * p;
    case 'tanh':
      return Math.tanh(p);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-p));
  }
}

/** σ'(p) for a dense layer's activation (`slope` for leaky ReLU). */
export function actDeriv(a: DenseActivation, p: number, slope: number): number {
  switch (a) {
    case 'identity':
      return 1;
    case 'relu':
      return p > 0 ? 1 : 0;
    case 'leaky_relu':
      return p > 0 ? 1 : slope;
    case 'tanh': {
      const t = Math.tanh(p);
      return 1 - t * t;
    }
    case 'sigmoid': {
      const s = 1 / (1 + Math.exp(-p));
      return s * (1 - s);
    }
  }
}

/** Result of {@link forwardDense}. */
export interface DenseForward {
  /** `pre[l]` = preactivations of layer l (`n x out_l`). */
  readonly pre: Matrix[];
  /** `post[0]` = input, `post[l+1]` = σ(pre[l]); the last one is the output. */
  readonly post: Matrix[];
  /** Local derivatives σ'(pre[l]) (`n x out_l`). */
  readonly deriv: Matrix[];
}

/**
 * Exact float64 forward pass of a dense chain on inputs `X` (`n x in`).
 *
 * @example
 * ```ts
 * const { post } = forwardDense(layers, X);
 * const output = post[post.length - 1];
 * ```
 */
export function forwardDense(layers: readonly DenseLayer[], X: Matrix): DenseForward {
  checkMatrix(X, 'X');
  if (layers.length === 0) throw new BasisError('TOO_SMALL', 'forwardDense needs at least one layer');
  checkShape(X.cols === layers[0]!.W.cols, `X has ${X.cols} columns but layer '${layers[0]!.name}' takes ${layers[0]!.W.cols} inputs`);
  const pre: Matrix[] = [];
  const post: Matrix[] = [X];
  const deriv: Matrix[] = [];
  let h = X;
  for (const L of layers) {
    const n = h.rows;
    const din = L.W.cols;
    const dout = L.W.rows;
    const P = new Matrix(n, dout);
    const F = new Matrix(n, dout);
    const D = new Matrix(n, dout);
    const slope = L.slope ?? 0.01;
    for (let r = 0; r < n; r++) {
      for (let i = 0; i < dout; i++) {
        let s = L.b === null ? 0 : (L.b[i] as number);
        for (let j = 0; j < din; j++) s += (L.W.data[i * din + j] as number) * (h.data[r * din + j] as number);
        P.data[r * dout + i] = s;
        F.data[r * dout + i] = actValue(L.act, s, slope);
        D.data[r * dout + i] = actDeriv(L.act, s, slope);
      }
    }
    pre.push(P);
    post.push(F);
    deriv.push(D);
    h = F;
  }
  return { pre, post, deriv };
}

/** Result of {@link denseGrams}. Index l runs over feature layers `f^0 = input .. f^L = output`. */
export interface DenseGrams {
  /** `G[l] = (1/n) Σ f^l f^lᵀ`. */
  readonly G: Matrix[];
  /** `M[l] = (1/n) Σ (∂f^L/∂f^l)ᵀ (∂f^L/∂f^l)`; `M[L]` is the identity. */
  readonly M: Matrix[];
  /** `K[l] = (1/n) Σ (∂f^L/∂p^{l+1})ᵀ (∂f^L/∂p^{l+1})` for l < L. */
  readonly K: Matrix[];
  readonly forward: DenseForward;
}

/**
 * Exact float64 Gram matrices of activations (G), of Jacobians with respect to activations (M)
 * and to next-layer preactivations (K) of a dense chain (S001 eqs. 13-16, 38-40), by per-sample
 * backpropagation of the output Jacobian.
 *
 * @example
 * ```ts
 * const { G, M, K } = denseGrams(denseChain(g, params), X);
 * // identity M^l = W^lᵀ K^l W^l holds for every l < L
 * ```
 */
export function denseGrams(layers: readonly DenseLayer[], X: Matrix): DenseGrams {
  const fw = forwardDense(layers, X);
  const L = layers.length;
  const n = X.rows;
  const dOut = layers[L - 1]!.W.rows;
  const dims = fw.post.map((p) => p.cols);
  const Macc = dims.map((d) => new Float64Array(d * d));
  const Kacc = layers.map((l) => new Float64Array(l.W.rows * l.W.rows));
  const addGram = (acc: Float64Array, J: Float64Array, rows: number, d: number): void => {
    for (let k = 0; k < rows; k++) {
      const o = k * d;
      for (let i = 0; i < d; i++) {
        const a = J[o + i] as number;
        if (a === 0) continue;
        for (let j = i; j < d; j++) acc[i * d + j] = (acc[i * d + j] as number) + a * (J[o + j] as number);
      }
    }
  };
  for (let r = 0; r < n; r++) {
    // J wrt f^L = I (dOut x dOut)
    let J = new Float64Array(dOut * dOut);
    for (let i = 0; i < dOut; i++) J[i * dOut + i] = 1;
    addGram(Macc[L]!, J, dOut, dOut);
    for (let l = L - 1; l >= 0; l--) {
      const Ly = layers[l]!;
      const dnext = Ly.W.rows;
      const dcur = Ly.W.cols;
      const Jp = new Float64Array(dOut * dnext);
      const dv = fw.deriv[l]!.data;
      for (let k = 0; k < dOut; k++) for (let i = 0; i < dnext; i++) Jp[k * dnext + i] = (J[k * dnext + i] as number) * (dv[r * dnext + i] as number);
      addGram(Kacc[l]!, Jp, dOut, dnext);
      const Jf = new Float64Array(dOut * dcur);
      const w = Ly.W.data;
      for (let k = 0; k < dOut; k++) {
        for (let i = 0; i < dnext; i++) {
          const a = Jp[k * dnext + i] as number;
          if (a === 0) continue;
          const oi = i * dcur;
          for (let j = 0; j < dcur; j++) Jf[k * dcur + j] = (Jf[k * dcur + j] as number) + a * (w[oi + j] as number);
        }
      }
      addGram(Macc[l]!, Jf, dOut, dcur);
      J = Jf;
    }
  }
  const finish = (acc: Float64Array, d: number): Matrix => {
    for (let i = 0; i < d; i++) {
      for (let j = i; j < d; j++) {
        const v = (acc[i * d + j] as number) / n;
        acc[i * d + j] = v;
        acc[j * d + i] = v;
      }
    }
    return new Matrix(d, d, acc);
  };
  return {
    G: fw.post.map((F) => secondMoment(F)),
    M: Macc.map((a, l) => finish(a, dims[l]!)),
    K: Kacc.map((a, l) => finish(a, layers[l]!.W.rows)),
    forward: fw,
  };
}
