import * as tf from '@tensorflow/tfjs-core';
import { BasisError, type Rng } from '@basis/tensor';
import { describeGraph, type ModelGraph, type ParamInfo } from './ir.js';

/** One named parameter at rest: PyTorch-layout shape and float32 (or float64) values. */
export interface ParamArray {
  readonly shape: readonly number[];
  readonly data: Float32Array | Float64Array;
}

/** A model's parameters and buffers at rest, by PyTorch-style name. */
export type ParamDict = Record<string, ParamArray>;

/** Options of {@link initParams}. */
export interface InitOptions {
  /**
   * `'pytorch'` (default): the `nn.Linear`/`nn.Conv2d` defaults, weight and bias uniform in
   * ±1/√fan_in; `'he'`: weight normal with std √(2/fan_in), bias 0.
   */
  scheme?: 'pytorch' | 'he';
}

function fill(info: ParamInfo, values: (k: number) => number): ParamArray {
  const n = info.shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let k = 0; k < n; k++) data[k] = values(k);
  return { shape: info.shape, data };
}

/**
 * Seeded initial parameters for a graph, drawn in the graph's parameter order from `rng`
 * (the same seed gives the same weights on every platform). Batchnorm/layernorm start at γ = 1,
 * β = 0 (running mean 0, variance 1); transform layers at the identity.
 *
 * @example
 * ```ts
 * import { createRng } from '@basis/tensor';
 * const params = initParams(mlp({ width: 64, depth: 2 }), createRng(0));
 * params['layers.0.weight'].shape; // [64, 784]
 * ```
 */
export function initParams(graph: ModelGraph, rng: Rng, opts: InitOptions = {}): ParamDict {
  const scheme = opts.scheme ?? 'pytorch';
  if (scheme !== 'pytorch' && scheme !== 'he') throw new BasisError('CONFIG_INVALID', `init scheme must be 'pytorch' or 'he', got ${JSON.stringify(scheme)}`);
  const desc = describeGraph(graph);
  const out: ParamDict = {};
  const fanIn = new Map<string, number>();
  for (const p of desc.params) if (p.name.endsWith('.weight') && p.shape.length >= 2) fanIn.set(p.node, p.shape.slice(1).reduce((a, b) => a * b, 1));
  const nodeOp = new Map(desc.nodes.map((n) => [n.name, n.op]));
  for (const p of desc.params) {
    const op = nodeOp.get(p.node);
    const suffix = p.name.slice(p.node.length + 1);
    if (op === 'batchnorm' || op === 'layernorm') {
      out[p.name] = fill(p, () => (suffix === 'weight' || suffix === 'running_var' ? 1 : 0));
    } else if (op === 'transform') {
      const n = p.shape[0] as number;
      out[p.name] = fill(p, (k) => (Math.floor(k / n) === k % n ? 1 : 0));
    } else {
      const fan = fanIn.get(p.node) ?? 1;
      const bound = 1 / Math.sqrt(fan);
      if (scheme === 'he') out[p.name] = fill(p, () => (suffix === 'weight' ? rng.normal() * Math.sqrt(2 / fan) : 0));
      else out[p.name] = fill(p, () => rng.uniformRange(-bound, bound));
    }
  }
  return out;
}

/**
 * Checks that `params` has exactly the graph's parameters with the right shapes and finite values
 * (BAD_FILE-worthy problems are reported as SHAPE_MISMATCH / INVALID_ARGUMENT / NON_FINITE_INPUT naming the parameter).
 */
export function checkGraphParams(graph: ModelGraph, params: Readonly<Record<string, { shape: readonly number[]; data: ArrayLike<number> }>>): void {
  const desc = describeGraph(graph);
  for (const p of desc.params) {
    const t = params[p.name];
    if (t === undefined) throw new BasisError('INVALID_ARGUMENT', `parameter '${p.name}' of ${graph.name} is missing`);
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new BasisError('SHAPE_MISMATCH', `parameter '${p.name}' has shape [${t.shape.join(', ')}] but ${graph.name} needs [${p.shape.join(', ')}]`);
    }
    for (let k = 0; k < t.data.length; k++) {
      if (!Number.isFinite(t.data[k] as number)) throw new BasisError('NON_FINITE_INPUT', `parameter '${p.name}' holds ${t.data[k]} at index ${k}`);
    }
  }
  const known = new Set(desc.params.map((p) => p.name));
  for (const k of Object.keys(params)) if (!known.has(k)) throw new BasisError('INVALID_ARGUMENT', `parameter '${k}' does not belong to ${graph.name}`);
}

/** Parameters at rest to float32 tfjs tensors (caller disposes). */
export function paramsToTensors(params: Readonly<Record<string, { shape: readonly number[]; data: ArrayLike<number> }>>): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(params)) out[k] = tf.tensor(v.data instanceof Float32Array ? v.data : Float32Array.from(v.data), [...v.shape], 'float32');
  return out;
}

/** tfjs tensors back to parameters at rest (float32). */
export async function tensorsToParams(tensors: Readonly<Record<string, tf.Tensor>>): Promise<ParamDict> {
  const out: ParamDict = {};
  for (const [k, t] of Object.entries(tensors)) out[k] = { shape: [...t.shape], data: (await t.data()) as Float32Array };
  return out;
}

/** Parameters as float64 (the form `@basis/symmetry` acts on). */
export function toFloat64(params: Readonly<Record<string, { shape: readonly number[]; data: ArrayLike<number> }>>): Record<string, { shape: number[]; data: Float64Array }> {
  const out: Record<string, { shape: number[]; data: Float64Array }> = {};
  for (const [k, v] of Object.entries(params)) out[k] = { shape: [...v.shape], data: Float64Array.from(v.data) };
  return out;
}

/** Parameters as float32. */
export function toFloat32(params: Readonly<Record<string, { shape: readonly number[]; data: ArrayLike<number> }>>): ParamDict {
  const out: ParamDict = {};
  for (const [k, v] of Object.entries(params)) out[k] = { shape: [...v.shape], data: Float32Array.from(v.data) };
  return out;
}
