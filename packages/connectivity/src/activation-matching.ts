// Activation matching from a model graph and inputs: capture both models' features at every
// capture point on the same inputs, then match through the symmetry spec. The one place this glue
// lives (the CLI's `basis match --method activation`, `basis interpolate --match activation`, the
// demo and the E004 recipes call it).
import * as tf from '@tensorflow/tfjs-core';
import { BasisError } from '@basis/tensor';
import type { SymmetrySpec } from '@basis/symmetry';
import { forward, inferSpec, paramsToTensors, type ModelGraph } from '@basis/zoo';
import { activationMatching, type ActivationMatchingOptions, type MatchResult } from './matching.js';

/** Parameters as plain shaped arrays (float32 or float64), keyed by PyTorch-style names. */
type PlainParams = Readonly<Record<string, { readonly shape: readonly number[]; readonly data: ArrayLike<number> }>>;

/** Features of one model at every capture point, as float64 arrays. */
export type CapturedFeatures = Record<string, { shape: number[]; data: Float64Array }>;

/** Options of {@link activationMatchingOn}. */
export interface ActivationMatchingOnOptions extends ActivationMatchingOptions {
  /** The symmetry spec to match through (default: `inferSpec(graph)`). */
  spec?: SymmetrySpec;
}

/**
 * Runs `graph` with `params` on `x` and returns every capture point's activations as float64
 * (tensors are disposed; `x` is left to the caller).
 *
 * @example
 * ```ts
 * const feats = captureFeatures(graph, params, x); // { 'layers.1': { shape: [n, 512], data } , ... }
 * ```
 */
export function captureFeatures(graph: ModelGraph, params: PlainParams, x: tf.Tensor): CapturedFeatures {
  checkInputs(x);
  const out: CapturedFeatures = {};
  const t = paramsToTensors(params);
  try {
    tf.tidy(() => {
      const r = forward(graph, t, x, { capture: 'all' });
      for (const [k, v] of Object.entries(r.captures)) out[k] = { shape: [...v.shape], data: Float64Array.from(v.dataSync()) };
    });
  } finally {
    tf.dispose(Object.values(t));
  }
  return out;
}

function checkInputs(x: tf.Tensor): void {
  if (!(x instanceof tf.Tensor)) throw new BasisError('INVALID_ARGUMENT', 'activation matching: the inputs x must be a tfjs tensor (rows = inputs)');
  if (x.rank < 2) throw new BasisError('SHAPE_MISMATCH', `activation matching: the inputs x must have a batch axis (rank >= 2), got shape [${x.shape.join(', ')}]`);
  if ((x.shape[0] as number) < 2) throw new BasisError('TOO_SMALL', `activation matching needs at least 2 inputs to correlate features, got ${String(x.shape[0])}`);
}

/**
 * Activation matching of two models of one architecture on the inputs `x` (seeds-spec C5): both
 * models are captured at every capture point, and {@link activationMatching} aligns B's units to
 * A's through the spec (inferred from the graph unless given).
 *
 * @example
 * ```ts
 * const x = tf.slice(trainX, 0, 2000);
 * const aligned = activationMatchingOn(graph, paramsA, paramsB, x).params; // B, re-ordered like A
 * ```
 */
export function activationMatchingOn(graph: ModelGraph, paramsA: PlainParams, paramsB: PlainParams, x: tf.Tensor, opts: ActivationMatchingOnOptions = {}): MatchResult {
  checkInputs(x);
  const { spec = inferSpec(graph), ...rest } = opts;
  const fa = captureFeatures(graph, paramsA, x);
  const fb = captureFeatures(graph, paramsB, x);
  return activationMatching(paramsA, paramsB, spec, Object.fromEntries(Object.keys(fa).map((k) => [k, { a: fa[k]!, b: fb[k]! }])), rest);
}
