import * as tf from '@tensorflow/tfjs-core';
import { BasisError, Matrix, sampleWithoutReplacement, type Rng } from '@basis/tensor';
import { forward, type TensorParams } from './forward.js';
import { describeGraph, type ModelGraph } from './ir.js';

/**
 * How a conv feature map `[N, C, H, W]` becomes a matrix (seeds-spec 0.3): `'channel'` —
 * `(N·H·W) x C`, every spatial position a sample (for symmetries acting on channels); `'flat'` —
 * `N x (C·H·W)`, channel-major; `'pooled'` — `N x C`, the spatial mean. Vector features are
 * `N x d` in every view.
 */
export type CaptureView = 'channel' | 'flat' | 'pooled';

/** Options of {@link captureActivations}. */
export interface CaptureOptions {
  /** Capture points (node names; default: every activation node and the output layer). */
  points?: readonly string[];
  /** View of conv feature maps (default `'channel'`). */
  view?: CaptureView;
  /** Inputs per forward pass (default 256). */
  batchSize?: number;
  /** With the channel view: keep at most this many rows, drawn without replacement by `rng` (default all). */
  maxRows?: number;
  /** Generator for the row subsample (needed when maxRows cuts rows). */
  rng?: Rng;
  /** Called after each batch with the number of inputs done. */
  onProgress?: (done: number, total: number) => void;
}

/** Default capture points: the outputs of every activation node, plus the model output. */
export function defaultCapturePoints(graph: ModelGraph): string[] {
  const d = describeGraph(graph);
  const pts = d.nodes.filter((n) => n.op === 'activation').map((n) => n.name);
  const last = graph.nodes[graph.nodes.length - 1];
  if (last !== undefined && !pts.includes(last.name)) pts.push(last.name);
  return pts;
}

/**
 * Runs the model (eval mode) over `x` (`[N, ...input]`, a tfjs tensor or a Float32Array) in
 * batches and returns the activations at each capture point as float64 matrices, rows in input
 * order (for the channel view, row `n·H·W + h·W + w`, then optionally subsampled with the same
 * rows for every point of the same spatial size). These feed `@basis/align` directly.
 *
 * @example
 * ```ts
 * const acts = await captureActivations(graph, params, testX, { points: ['layers.1', 'layers.3'] });
 * metric('cka.linear', acts['layers.1'], otherActs['layers.1']).value;
 * ```
 */
export async function captureActivations(graph: ModelGraph, params: TensorParams, x: tf.Tensor, opts: CaptureOptions = {}): Promise<Record<string, Matrix>> {
  const desc = describeGraph(graph);
  const points = opts.points ?? defaultCapturePoints(graph);
  if (points.length === 0) throw new BasisError('INVALID_ARGUMENT', 'captureActivations: no capture points given');
  const view = opts.view ?? 'channel';
  if (view !== 'channel' && view !== 'flat' && view !== 'pooled') throw new BasisError('CONFIG_INVALID', `view must be 'channel', 'flat' or 'pooled', got ${JSON.stringify(view)}`);
  const bs = opts.batchSize ?? 256;
  if (!Number.isInteger(bs) || bs < 1) throw new BasisError('CONFIG_INVALID', `batchSize must be a positive integer, got ${bs}`);
  const shapes = new Map(desc.nodes.map((n) => [n.name, n.shape]));
  for (const p of points) if (!shapes.has(p)) throw new BasisError('INVALID_ARGUMENT', `unknown capture point '${p}'; capture points are node names: ${[...shapes.keys()].join(', ')}`);
  const N = x.shape[0] as number;
  if (!(N >= 1)) throw new BasisError('TOO_SMALL', 'captureActivations: no inputs');
  const cols = (p: string): number => {
    const s = shapes.get(p) as readonly number[];
    return s.length === 1 || view !== 'flat' ? (s[0] as number) : s.reduce((a, b) => a * b, 1);
  };
  const perInput = (p: string): number => {
    const s = shapes.get(p) as readonly number[];
    return s.length === 3 && view === 'channel' ? (s[1] as number) * (s[2] as number) : 1;
  };
  const out: Record<string, Float64Array> = {};
  for (const p of points) out[p] = new Float64Array(N * perInput(p) * cols(p));
  for (let start = 0; start < N; start += bs) {
    const n = Math.min(bs, N - start);
    const data = tf.tidy(() => {
      const xb = tf.slice(x, start, n);
      const r = forward(graph, params, xb, { capture: points });
      const res: Record<string, Float32Array> = {};
      for (const p of points) {
        let f = r.captures[p] as tf.Tensor;
        if (f.rank === 4) {
          if (view === 'channel') f = tf.reshape(tf.transpose(f, [0, 2, 3, 1]), [-1, f.shape[1] as number]);
          else if (view === 'pooled') f = tf.mean(f, [2, 3]);
          else f = tf.reshape(f, [n, -1]);
        }
        res[p] = f.dataSync() as Float32Array;
      }
      return res;
    });
    for (const p of points) {
      const src = data[p] as Float32Array;
      for (const v of src) {
        if (!Number.isFinite(v)) throw new BasisError('NON_FINITE_INPUT', `capture point '${p}' produced ${v}; the model's weights or inputs hold NaN/Inf or overflow`);
      }
      (out[p] as Float64Array).set(src, start * perInput(p) * cols(p));
    }
    opts.onProgress?.(start + n, N);
    await Promise.resolve();
  }
  const result: Record<string, Matrix> = {};
  const keep = new Map<number, Int32Array>(); // rows kept, per number of rows
  for (const p of points) {
    const rows = N * perInput(p);
    const c = cols(p);
    let m = new Matrix(rows, c, out[p] as Float64Array);
    if (opts.maxRows !== undefined && rows > opts.maxRows) {
      if (!Number.isInteger(opts.maxRows) || opts.maxRows < 3) throw new BasisError('CONFIG_INVALID', `maxRows must be an integer >= 3, got ${opts.maxRows}`);
      if (opts.rng === undefined) throw new BasisError('CONFIG_INVALID', 'maxRows needs an rng to draw the row subsample from');
      let idx = keep.get(rows);
      if (idx === undefined) {
        idx = sampleWithoutReplacement(rows, opts.maxRows, opts.rng).sort();
        keep.set(rows, idx);
      }
      const sub = new Matrix(idx.length, c);
      idx.forEach((r, i) => sub.data.set(m.data.subarray(r * c, (r + 1) * c), i * c));
      m = sub;
    }
    result[p] = m;
  }
  return result;
}
