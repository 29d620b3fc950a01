import * as tf from '@tensorflow/tfjs-core';
import { BasisError } from '@basis/tensor';
import { verifySpec, type ForwardFn, type SymmetrySpec, type VerifyOptions, type VerifyReport } from '@basis/symmetry';
import { forward } from './forward.js';
import { describeGraph, type ModelGraph } from './ir.js';
import { checkGraphParams } from './params.js';
import { inferSpec } from './infer-spec.js';

/**
 * A `verifySpec`-ready forward function for a graph on fixed inputs: parameters (float64, as
 * `@basis/symmetry` produces them) run through the tfjs forward pass in float32 (eval mode) and
 * every node output comes back as a feature.
 *
 * @example
 * ```ts
 * const fwd = graphForwardFn(graph, x);
 * await verifySpec(fwd, params, inferSpec(graph), { tol: 1e-5 });
 * ```
 */
export function graphForwardFn(graph: ModelGraph, x: tf.Tensor): ForwardFn {
  describeGraph(graph);
  return (params) => {
    const features: Record<string, { shape: number[]; data: Float64Array }> = {};
    let output: { shape: number[]; data: Float64Array } | undefined;
    tf.tidy(() => {
      const t: Record<string, tf.Tensor> = {};
      for (const [k, v] of Object.entries(params)) t[k] = tf.tensor(Float32Array.from(v.data), [...v.shape], 'float32');
      const r = forward(graph, t, x, { capture: 'all' });
      for (const [k, f] of Object.entries(r.captures)) features[k] = { shape: [...f.shape], data: Float64Array.from(f.dataSync()) };
      output = { shape: [...r.output.shape], data: Float64Array.from(r.output.dataSync()) };
    });
    return { output: output!, features };
  };
}

/** Result of {@link checkModelSymmetry}. */
export interface ModelSymmetryCheck {
  spec: SymmetrySpec;
  report: VerifyReport;
}

/**
 * Infers a model's symmetry spec from its graph and verifies it functionally on inputs `x`
 * (float32 forward passes; default tolerance 1e-5 relative, scale spread 0.5): random elements of
 * every group leave the outputs unchanged and move every hidden feature by A or φ(A). Throws
 * NOT_A_SYMMETRY naming the offending group if the inferred spec were wrong.
 *
 * @example
 * ```ts
 * const { spec, report } = await checkModelSymmetry(graph, params, xBatch);
 * report.worstOutputError; // ~1e-7 in float32
 * ```
 */
export async function checkModelSymmetry(
  graph: ModelGraph,
  params: Readonly<Record<string, { shape: readonly number[]; data: ArrayLike<number> }>>,
  x: tf.Tensor,
  opts: VerifyOptions = {},
): Promise<ModelSymmetryCheck> {
  checkGraphParams(graph, params);
  if (!(x instanceof tf.Tensor)) throw new BasisError('INVALID_ARGUMENT', 'checkModelSymmetry: x must be a tfjs tensor batch');
  const spec = inferSpec(graph);
  const report = await verifySpec(graphForwardFn(graph, x), params, spec, { tol: 1e-5, scaleSigma: 0.5, ...opts });
  return { spec, report };
}
