import * as tf from '@tensorflow/tfjs-core';
import { BasisError } from '@basis/tensor';
import { defaultCapturePoints, describeGraph, forward, paramsToTensors, type GraphNode, type ModelGraph } from '@basis/zoo';
import { lerpParams, resetBatchNorm, type Params } from './interpolate.js';

/** Mean and standard deviation of a per-input quantity. */
export interface Summary {
  mean: number;
  std: number;
}

/** LLFC measures of one layer at one α (seeds-spec C6). */
export interface LlfcLayer {
  layer: string;
  alpha: number;
  /** `E_x[1 - cos(f(x; θ(α)), (1-α) f(x; θ_A) + α f(x; θ_B))]`: about 0 when LLFC holds. */
  oneMinusCosAlpha: Summary;
  /** `E_x[1 - cos(f(x; θ_A), f(x; θ_B))]`: the baseline. */
  oneMinusCosAB: Summary;
  /** The scale `c*(x) = <g, h>/<h, h>` (h: interpolated-weights feature, g: feature interpolation): mean and coefficient of variation. */
  scale: { mean: number; cv: number };
  /** Inputs skipped because a feature vector had norm below 1e-12. */
  skipped: number;
}

/** Weak additivity of one ReLU layer (seeds-spec C7). */
export interface WeakAdditivityLayer {
  layer: string;
  alpha: number;
  /** `E_x[1 - cos(ReLU((1-α)h_A + αh_B), (1-α)ReLU(h_A) + αReLU(h_B))]`. */
  oneMinusCos: Summary;
  /** Fraction of pre-activation coordinates where h_A and h_B have strictly opposite signs. */
  oppositeSignFraction: number;
}

/** Commutativity of one dense layer (seeds-spec C8). */
export interface CommutativityLayer {
  layer: string;
  /** `||(W_A - W_B)(H_A - H_B)||² / ||W̃_A H̃_A - W̃_B H̃_B||²` (bias folded into W̃, H̃). */
  distance: number;
}

/** Everything {@link llfc} reports. */
export interface LlfcReport {
  alphas: number[];
  layers: LlfcLayer[];
  weakAdditivity: WeakAdditivityLayer[];
  commutativity: CommutativityLayer[];
  n: number;
}

/** Options of {@link llfc}. */
export interface LlfcOptions {
  /** α values (default [0.5]). */
  alphas?: readonly number[];
  /** Layers (node names; default: every activation node and the output). */
  layers?: readonly string[];
  /** Re-estimate batchnorm statistics of each interpolated model on `x` (default true when the model has batchnorm). */
  bnReset?: boolean;
}

function capture(graph: ModelGraph, params: Params, x: tf.Tensor, points: string[]): Record<string, Float32Array> {
  const t = paramsToTensors(params);
  try {
    return tf.tidy(() => {
      const r = forward(graph, t, x, { capture: points });
      const out: Record<string, Float32Array> = {};
      for (const p of points) out[p] = (r.captures[p] as tf.Tensor).dataSync() as Float32Array;
      return out;
    });
  } finally {
    tf.dispose(Object.values(t));
  }
}

function summary(xs: number[], what = 'the measure'): Summary {
  if (xs.length === 0) throw new BasisError('RANK_DEFICIENT', `${what}: every input has a zero feature vector, so no cosine is defined`);
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.reduce((a, b) => a + (b - m) * (b - m), 0) / Math.max(1, xs.length - 1);
  return { mean: m, std: Math.sqrt(v) };
}

function cosRows(a: ArrayLike<number>, b: ArrayLike<number>, n: number): { cos: number[]; skipped: number } {
  const d = a.length / n;
  const out: number[] = [];
  let skipped = 0;
  for (let i = 0; i < n; i++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let k = i * d; k < (i + 1) * d; k++) {
      const x = a[k] as number;
      const y = b[k] as number;
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    if (Math.sqrt(aa) < 1e-12 || Math.sqrt(bb) < 1e-12) {
      skipped++;
      continue;
    }
    out.push(ab / Math.sqrt(aa * bb));
  }
  return { cos: out, skipped };
}

/** Top-level and nested nodes in order, with the node feeding each one. */
function withInputs(nodes: readonly GraphNode[], prev: string | null, out: Array<{ node: GraphNode; input: string | null }> = []): Array<{ node: GraphNode; input: string | null }> {
  let p = prev;
  for (const n of nodes) {
    out.push({ node: n, input: p });
    if (n.op === 'residual') withInputs(n.body, p, out);
    p = n.name;
  }
  return out;
}

/**
 * Layerwise linear feature connectivity between two models (seeds-spec C6–C8, S004): per layer and
 * α, how far the features of the weight-interpolated model are from the interpolation of the
 * features (cosine, against the A-vs-B baseline, and the best scale c*), weak additivity of each
 * ReLU layer, and commutativity of each dense layer. Conv features are flattened per input.
 * Run it before and after matching: LLFC appears where the barrier vanishes.
 *
 * @example
 * ```ts
 * const r = await llfc(graph, A, matched.params, testX.slice(0, 500));
 * r.layers.map((l) => [l.layer, l.oneMinusCosAlpha.mean, l.oneMinusCosAB.mean]);
 * ```
 */
export async function llfc(graph: ModelGraph, A: Params, B: Params, x: tf.Tensor, opts: LlfcOptions = {}): Promise<LlfcReport> {
  const desc = describeGraph(graph);
  const n = x.shape[0] as number;
  if (!(n >= 1)) throw new BasisError('TOO_SMALL', 'llfc needs at least one input');
  const alphas = [...(opts.alphas ?? [0.5])];
  for (const a of alphas) if (!Number.isFinite(a)) throw new BasisError('INVALID_ARGUMENT', `α must be finite, got ${a}`);
  const layers = [...(opts.layers ?? defaultCapturePoints(graph))];
  const known = new Set(desc.nodes.map((d) => d.name));
  for (const l of layers) if (!known.has(l)) throw new BasisError('INVALID_ARGUMENT', `unknown layer '${l}'`);
  const hasBn = desc.nodes.some((d) => d.op === 'batchnorm');
  const bnReset = opts.bnReset ?? hasBn;
  const ordered = withInputs(graph.nodes, null);
  const relus = ordered.filter((e) => e.node.op === 'activation' && e.node.fn === 'relu' && e.input !== null);
  const denses = ordered.filter((e) => e.node.op === 'dense' && e.input !== null);
  const points = [...new Set([...layers, ...relus.map((e) => e.input as string), ...denses.map((e) => e.input as string)])];
  const fa = capture(graph, A, x, points);
  const fb = capture(graph, B, x, points);
  const out: LlfcLayer[] = [];
  const wa: WeakAdditivityLayer[] = [];
  for (const alpha of alphas) {
    let M = lerpParams(A, B, alpha);
    if (bnReset && hasBn && alpha !== 0 && alpha !== 1) M = await resetBatchNorm(graph, M, x);
    const fm = capture(graph, M, x, layers);
    for (const l of layers) {
      const a = fa[l] as Float32Array;
      const b = fb[l] as Float32Array;
      const h = fm[l] as Float32Array;
      const g = a.map((v, k) => (1 - alpha) * v + alpha * (b[k] as number));
      const ca = cosRows(h, g, n);
      const cab = cosRows(a, b, n);
      const d = h.length / n;
      const scales: number[] = [];
      for (let i = 0; i < n; i++) {
        let gh = 0;
        let hh = 0;
        for (let k = i * d; k < (i + 1) * d; k++) {
          gh += (g[k] as number) * (h[k] as number);
          hh += (h[k] as number) * (h[k] as number);
        }
        if (hh >= 1e-24) scales.push(gh / hh);
      }
      const s = summary(scales, `layer '${l}' scale`);
      out.push({
        layer: l,
        alpha,
        oneMinusCosAlpha: summary(ca.cos.map((c) => 1 - c), `layer '${l}' at α = ${alpha}`),
        oneMinusCosAB: summary(cab.cos.map((c) => 1 - c), `layer '${l}' (A vs B)`),
        scale: { mean: s.mean, cv: s.mean === 0 ? Infinity : s.std / Math.abs(s.mean) },
        skipped: ca.skipped,
      });
    }
    for (const r of relus) {
      const ha = fa[r.input as string] as Float32Array;
      const hb = fb[r.input as string] as Float32Array;
      const lhs = ha.map((v, k) => Math.max((1 - alpha) * v + alpha * (hb[k] as number), 0));
      const rhs = ha.map((v, k) => (1 - alpha) * Math.max(v, 0) + alpha * Math.max(hb[k] as number, 0));
      let opposite = 0;
      for (let k = 0; k < ha.length; k++) if ((ha[k] as number) * (hb[k] as number) < 0) opposite++;
      const c = cosRows(lhs, rhs, n);
      wa.push({ layer: r.node.name, alpha, oneMinusCos: summary(c.cos.map((v) => 1 - v), `weak additivity of '${r.node.name}'`), oppositeSignFraction: opposite / ha.length });
    }
  }
  const com: CommutativityLayer[] = [];
  for (const e of denses) {
    const name = e.node.name;
    const Wa = A[`${name}.weight`];
    const Wb = B[`${name}.weight`];
    if (Wa === undefined || Wb === undefined) continue;
    const [o, i] = Wa.shape as [number, number];
    const Ha = fa[e.input as string] as Float32Array;
    const Hb = fb[e.input as string] as Float32Array;
    if (Ha.length !== n * i) continue; // input is not a plain [N, in] matrix (sequences)
    const ba = A[`${name}.bias`]?.data;
    const bb = B[`${name}.bias`]?.data;
    let num = 0;
    let den = 0;
    for (let s = 0; s < n; s++) {
      for (let r = 0; r < o; r++) {
        let dd = 0;
        let diff = ((ba?.[r] as number | undefined) ?? 0) - ((bb?.[r] as number | undefined) ?? 0);
        for (let c = 0; c < i; c++) {
          const wa = Wa.data[r * i + c] as number;
          const wb = Wb.data[r * i + c] as number;
          const xa = Ha[s * i + c] as number;
          const xb = Hb[s * i + c] as number;
          dd += (wa - wb) * (xa - xb);
          diff += wa * xa - wb * xb;
        }
        num += dd * dd;
        den += diff * diff;
      }
    }
    com.push({ layer: name, distance: den > 0 ? num / den : 0 });
  }
  return { alphas, layers: out, weakAdditivity: wa, commutativity: com, n };
}
