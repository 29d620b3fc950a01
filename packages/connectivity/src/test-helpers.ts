// Fixtures shared by the matching tests (excluded from the build): planted symmetry elements,
// parameter distances and captured features.
import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '@basis/tensor';
import { act, sampleElement, type GroupElement, type SymmetrySpec } from '@basis/symmetry';
import { forward, inferSpec, initParams, paramsToTensors, toFloat64, type ModelGraph } from '@basis/zoo';

/** Largest absolute difference between equally named parameters of `a` and `b` (b has a's names). */
export function maxDiff(a: Record<string, { data: ArrayLike<number> }>, b: Record<string, { data: ArrayLike<number> }>): number {
  let d = 0;
  for (const k of Object.keys(a)) {
    const x = a[k]!.data;
    const y = b[k]!.data;
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs((x[i] as number) - (y[i] as number)));
  }
  return d;
}

/**
 * Initial parameters A of `graph` (seed `seed`) and B = A moved by a random element of every
 * group (seed `seed + 1`; `kinds` picks the element of a group instead), with the spec and the
 * elements planted.
 */
export function planted(graph: ModelGraph, seed: number, kinds?: (spec: SymmetrySpec, g: string) => GroupElement | undefined) {
  const spec = inferSpec(graph);
  const A = toFloat64(initParams(graph, createRng(seed)));
  const rng = createRng(seed + 1);
  const asg: Record<string, GroupElement> = {};
  for (const [g, decl] of Object.entries(spec.groups)) asg[g] = kinds?.(spec, g) ?? sampleElement(decl, rng);
  return { spec, A, B: act(A, spec, asg), asg };
}

/** The activations of every capture point of `graph` on inputs `x`, as float64 arrays. */
export function features(graph: ModelGraph, params: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>, x: tf.Tensor) {
  const out: Record<string, { shape: number[]; data: Float64Array }> = {};
  tf.tidy(() => {
    const r = forward(graph, paramsToTensors(params), x, { capture: 'all' });
    for (const [k, v] of Object.entries(r.captures)) out[k] = { shape: [...v.shape], data: Float64Array.from(v.dataSync()) };
  });
  return out;
}
