import * as tf from '@tensorflow/tfjs-core';
import { BasisError, createYielder } from '@basis/tensor';
import { describeGraph, forward, paramsToTensors, type GraphNode, type ModelGraph } from '@basis/zoo';

/** Parameters at rest (float32 or float64 values), by name. */
export type Params = Readonly<Record<string, { readonly shape: readonly number[]; readonly data: ArrayLike<number> }>>;

/** Float64 parameters produced by interpolation and repair. */
export type Params64 = Record<string, { shape: number[]; data: Float64Array }>;

/** A labelled evaluation set: inputs `[N, ...input]` and integer labels. */
export interface LabelledData {
  readonly x: tf.Tensor;
  readonly labels: Int32Array;
}

function checkSame(A: Params, B: Params): void {
  const ka = Object.keys(A).sort();
  const kb = Object.keys(B).sort();
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) {
    const missing = ka.filter((k) => B[k] === undefined).concat(kb.filter((k) => A[k] === undefined));
    throw new BasisError('INVALID_ARGUMENT', `the two models have different parameters (${missing.slice(0, 5).join(', ')}); interpolation needs the same architecture`);
  }
  for (const k of ka) {
    const a = A[k]!;
    const b = B[k]!;
    if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
      throw new BasisError('SHAPE_MISMATCH', `parameter '${k}' has shape [${a.shape.join(', ')}] in A but [${b.shape.join(', ')}] in B`);
    }
  }
}

/**
 * `θ(λ) = (1 - λ) θ_A + λ θ_B` for every parameter and buffer (seeds-spec C1), in float64.
 * λ = 0 and 1 reproduce the endpoints exactly.
 *
 * @example
 * ```ts
 * const mid = lerpParams(paramsA, paramsB, 0.5);
 * ```
 */
export function lerpParams(A: Params, B: Params, lambda: number): Params64 {
  if (typeof lambda !== 'number' || !Number.isFinite(lambda)) throw new BasisError('INVALID_ARGUMENT', `lambda must be a finite number, got ${String(lambda)}`);
  checkSame(A, B);
  const out: Params64 = {};
  for (const [k, a] of Object.entries(A)) {
    const b = B[k]!;
    const d = new Float64Array(a.data.length);
    for (let i = 0; i < d.length; i++) {
      const x = a.data[i] as number;
      const y = b.data[i] as number;
      if (!Number.isFinite(x) || !Number.isFinite(y)) throw new BasisError('NON_FINITE_INPUT', `parameter '${k}' holds a non-finite value at index ${i}`);
      d[i] = lambda === 0 ? x : lambda === 1 ? y : (1 - lambda) * x + lambda * y;
    }
    out[k] = { shape: [...a.shape], data: d };
  }
  return out;
}

/** Loss, error and accuracy of a classifier. */
export interface EvalResult {
  /** Mean softmax cross-entropy. */
  loss: number;
  /** 1 - accuracy. */
  error: number;
  accuracy: number;
  n: number;
}

function checkData(graph: ModelGraph, data: LabelledData): number {
  if (data === null || typeof data !== 'object' || !(data.x instanceof tf.Tensor) || !(data.labels instanceof Int32Array)) {
    throw new BasisError('INVALID_ARGUMENT', 'data must be { x: tf.Tensor, labels: Int32Array }');
  }
  const n = data.x.shape[0] as number;
  if (data.labels.length !== n) throw new BasisError('SHAPE_MISMATCH', `data has ${n} inputs but ${data.labels.length} labels`);
  if (n < 1) throw new BasisError('TOO_SMALL', 'data is empty');
  const classes = describeGraph(graph).output[0] as number;
  for (let i = 0; i < n; i++) {
    const y = data.labels[i] as number;
    if (y < 0 || y >= classes) throw new BasisError('INVALID_ARGUMENT', `label ${y} at index ${i} is outside 0..${classes - 1}`);
  }
  return n;
}

/**
 * Mean cross-entropy loss and error rate of a classifier on labelled data (eval mode, batched).
 *
 * @example
 * ```ts
 * const { loss, error } = await evaluate(graph, params, { x: testX, labels: testY });
 * ```
 */
export async function evaluate(graph: ModelGraph, params: Params, data: LabelledData, opts: { batchSize?: number } = {}): Promise<EvalResult> {
  const t = paramsToTensors(params);
  try {
    return await evaluateFn(graph, (x) => forward(graph, t, x).output, data, opts);
  } finally {
    tf.dispose(Object.values(t));
  }
}

/**
 * {@link evaluate} for any logits function of an input batch (stitched or otherwise modified
 * models); tensors made inside `logits` are disposed per batch. `signal` stops it between batches
 * (a `BasisError` with `details.aborted`; no partial accuracy is returned).
 *
 * @example
 * ```ts
 * await evaluateFn(graph, (x) => forward(graph, t, x).output, { x: testX, labels: testY });
 * ```
 */
export async function evaluateFn(graph: ModelGraph, logits: (x: tf.Tensor) => tf.Tensor, data: LabelledData, opts: { batchSize?: number; signal?: AbortSignal } = {}): Promise<EvalResult> {
  const n = checkData(graph, data);
  const bs = opts.batchSize ?? 1000;
  let lossSum = 0;
  let correct = 0;
  // let timers and signal listeners run between batches (tfjs reads resolve as microtasks)
  const maybeYield = createYielder(50);
  for (let s = 0; s < n; s += bs) {
    await maybeYield();
    if (opts.signal?.aborted === true) throw new BasisError('INVALID_ARGUMENT', `the evaluation was interrupted after ${s} of ${n} inputs`, { details: { aborted: true, evaluated: s } });
    const m = Math.min(bs, n - s);
    const [ls, pred] = tf.tidy((): [tf.Scalar, tf.Tensor] => {
      const z = logits(tf.slice(data.x, s, m)) as tf.Tensor2D;
      const lse = tf.logSumExp(z, 1);
      const y = tf.tensor1d(data.labels.subarray(s, s + m), 'int32');
      const picked = tf.sum(tf.mul(z, tf.oneHot(y, z.shape[1])), 1);
      return [tf.sum(tf.sub(lse, picked)) as tf.Scalar, tf.argMax(z, 1)];
    });
    const lv = (await ls.data())[0] as number;
    const pv = (await pred.data()) as Int32Array;
    tf.dispose([ls, pred]);
    if (!Number.isFinite(lv)) throw new BasisError('NON_FINITE_INPUT', 'the model produced non-finite logits; check its parameters');
    lossSum += lv;
    for (let i = 0; i < m; i++) if (pv[i] === data.labels[s + i]) correct++;
  }
  const accuracy = correct / n;
  return { loss: lossSum / n, error: 1 - accuracy, accuracy, n };
}

function bnNodes(nodes: readonly GraphNode[]): string[] {
  const out: string[] = [];
  for (const n of nodes) {
    if (n.op === 'batchnorm') out.push(n.name);
    if (n.op === 'residual') out.push(...bnNodes(n.body), ...bnNodes(n.shortcut ?? []));
  }
  return out;
}

/**
 * BN reset: re-estimates every batchnorm's running mean and variance from `x` (training-mode
 * passes, statistics averaged over batches as PyTorch does with `momentum=None`), so that
 * interpolated models are evaluated with their own statistics (seeds-spec C1). Returns new
 * parameters; models without batchnorm are returned unchanged.
 *
 * @example
 * ```ts
 * const fixed = await resetBatchNorm(graph, lerpParams(A, B, 0.5), trainX.slice(0, 1000));
 * ```
 */
export async function resetBatchNorm(graph: ModelGraph, params: Params, x: tf.Tensor, opts: { batchSize?: number } = {}): Promise<Params64> {
  const bns = bnNodes(graph.nodes);
  const out: Params64 = {};
  for (const [k, v] of Object.entries(params)) out[k] = { shape: [...v.shape], data: Float64Array.from(v.data) };
  if (bns.length === 0) return out;
  const n = x.shape[0] as number;
  const bs = opts.batchSize ?? 250;
  if (n < 2) throw new BasisError('TOO_SMALL', 'BN reset needs at least 2 inputs');
  const sums = new Map<string, Float64Array>();
  let batches = 0;
  const t = paramsToTensors(params);
  try {
    for (let s = 0; s + 1 < n; s += bs) {
      const m = Math.min(bs, n - s);
      if (m < 2) break;
      const stats = tf.tidy(() => {
        const r = forward(graph, t, tf.slice(x, s, m), { training: true, bnMomentum: 1 });
        const res: Record<string, Float32Array> = {};
        for (const [k, v] of Object.entries(r.buffers)) res[k] = v.dataSync() as Float32Array;
        return res;
      });
      for (const [k, v] of Object.entries(stats)) {
        const acc = sums.get(k) ?? new Float64Array(v.length);
        for (let i = 0; i < v.length; i++) acc[i] = (acc[i] as number) + (v[i] as number);
        sums.set(k, acc);
      }
      batches++;
      await Promise.resolve();
    }
  } finally {
    tf.dispose(Object.values(t));
  }
  for (const [k, acc] of sums) out[k] = { shape: out[k]!.shape, data: acc.map((v) => v / batches) };
  return out;
}

/** A pre-activation tensor that REPAIR corrects and the parameters that can move its statistics. */
interface RepairTarget {
  node: string;
  /** 'bn': adjust γ, β; 'bias': adjust the producer's weight rows and bias. */
  kind: 'bn' | 'bias';
  weight: string;
  bias: string;
}

function repairTargets(nodes: readonly GraphNode[], out: RepairTarget[] = []): RepairTarget[] {
  nodes.forEach((n, i) => {
    if (n.op === 'residual') {
      repairTargets(n.body, out);
      repairTargets(n.shortcut ?? [], out);
      return;
    }
    const next = nodes[i + 1];
    if (next === undefined || next.op !== 'activation') return;
    if (n.op === 'batchnorm') out.push({ node: n.name, kind: 'bn', weight: `${n.name}.weight`, bias: `${n.name}.bias` });
    else if ((n.op === 'dense' || n.op === 'conv2d') && n.bias !== false) out.push({ node: n.name, kind: 'bias', weight: `${n.name}.weight`, bias: `${n.name}.bias` });
  });
  return out;
}

/** Per-channel mean and std of captured features (`[N, C]`, `[N, C, H, W]` or `[N, T, C]`). */
function channelStats(t: tf.Tensor): { mean: Float64Array; std: Float64Array } {
  const r = tf.tidy(() => {
    const c = t.rank === 4 ? (t.shape[1] as number) : (t.shape[t.rank - 1] as number);
    const flat = t.rank === 4 ? tf.reshape(tf.transpose(t, [0, 2, 3, 1]), [-1, c]) : tf.reshape(t, [-1, c]);
    const m = tf.moments(flat, 0);
    return { mean: m.mean.dataSync() as Float32Array, std: tf.sqrt(m.variance).dataSync() as Float32Array };
  });
  return { mean: Float64Array.from(r.mean), std: Float64Array.from(r.std) };
}

async function captureStats(graph: ModelGraph, params: Params, x: tf.Tensor, nodes: string[]): Promise<Map<string, { mean: Float64Array; std: Float64Array }>> {
  const t = paramsToTensors(params);
  try {
    const caps = forward(graph, t, x, { capture: nodes }).captures;
    const res = new Map<string, { mean: Float64Array; std: Float64Array }>();
    for (const k of nodes) res.set(k, channelStats(caps[k] as tf.Tensor));
    tf.dispose(Object.values(caps));
    await Promise.resolve();
    return res;
  } finally {
    tf.dispose(Object.values(t));
  }
}

/**
 * REPAIR (Jordan et al. 2023): corrects the interpolated model's pre-activation statistics so each
 * channel's mean and standard deviation equal the interpolation of the endpoints'
 * (`(1-λ)μ_A + λμ_B`, `(1-λ)σ_A + λσ_B`), layer by layer in forward order, by rescaling the
 * batchnorm's γ/β (BN models, whose running statistics are re-estimated before each layer is
 * measured and at the end) or the producer's weight rows and bias. `x` are the inputs the
 * statistics are measured on (~1000 training examples).
 *
 * @example
 * ```ts
 * const repaired = await repair(graph, A, B, lerpParams(A, B, 0.5), 0.5, trainX);
 * ```
 */
export async function repair(graph: ModelGraph, A: Params, B: Params, interpolated: Params, lambda: number, x: tf.Tensor): Promise<Params64> {
  const targets = repairTargets(graph.nodes);
  const hasBn = bnNodes(graph.nodes).length > 0;
  let out: Params64 = {};
  for (const [k, v] of Object.entries(interpolated)) out[k] = { shape: [...v.shape], data: Float64Array.from(v.data) };
  if (targets.length === 0) return hasBn ? resetBatchNorm(graph, out, x) : out;
  const names = targets.map((t) => t.node);
  const sa = await captureStats(graph, A, x, names);
  const sb = await captureStats(graph, B, x, names);
  for (const tg of targets) {
    // batchnorm layers normalise with the statistics of the model as repaired so far
    if (hasBn) out = await resetBatchNorm(graph, out, x);
    const sm = (await captureStats(graph, out, x, [tg.node])).get(tg.node)!;
    const a = sa.get(tg.node)!;
    const b = sb.get(tg.node)!;
    const W = out[tg.weight]!;
    const bias = out[tg.bias]!;
    const C = bias.data.length;
    const per = W.data.length / C;
    for (let c = 0; c < C; c++) {
      const mt = (1 - lambda) * (a.mean[c] as number) + lambda * (b.mean[c] as number);
      const st = (1 - lambda) * (a.std[c] as number) + lambda * (b.std[c] as number);
      const sc = (sm.std[c] as number) > 1e-12 ? st / (sm.std[c] as number) : 1;
      for (let k = 0; k < per; k++) W.data[c * per + k] = (W.data[c * per + k] as number) * sc;
      bias.data[c] = ((bias.data[c] as number) - (sm.mean[c] as number)) * sc + mt;
    }
  }
  return hasBn ? resetBatchNorm(graph, out, x) : out;
}

/** The two barrier definitions of seeds-spec C2 over a λ curve. */
export interface Barrier {
  /** `max_λ E(λ) - (E(0) + E(1)) / 2` (Frankle et al.; Git Re-Basin). */
  maxMinusMean: number;
  /** `max_λ [E(λ) - ((1-λ)E(0) + λE(1))]` (Entezari et al.). */
  maxMinusLinear: number;
  /** λ where the linear-interpolation gap is largest. */
  argmax: number;
}

/**
 * Both barrier definitions of a curve `E(λ)` sampled on `lambdas` (which must include 0 and 1).
 *
 * @example
 * ```ts
 * barrierOf([0, 0.5, 1], [0.1, 0.9, 0.1]); // { maxMinusMean: 0.8, maxMinusLinear: 0.8, argmax: 0.5 }
 * ```
 */
export function barrierOf(lambdas: readonly number[], values: readonly number[]): Barrier {
  if (lambdas.length !== values.length) throw new BasisError('SHAPE_MISMATCH', `${lambdas.length} λ values but ${values.length} curve values`);
  if (lambdas.length < 2) throw new BasisError('TOO_SMALL', 'a barrier needs at least the two endpoints');
  const i0 = lambdas.indexOf(0);
  const i1 = lambdas.indexOf(1);
  if (i0 < 0 || i1 < 0) throw new BasisError('INVALID_ARGUMENT', 'the λ grid must contain 0 and 1');
  for (const v of values) if (!Number.isFinite(v)) throw new BasisError('NON_FINITE_INPUT', `the curve holds ${v}`);
  const e0 = values[i0] as number;
  const e1 = values[i1] as number;
  let maxV = -Infinity;
  let maxGap = -Infinity;
  let argmax = 0;
  lambdas.forEach((l, k) => {
    const v = values[k] as number;
    maxV = Math.max(maxV, v);
    const gap = v - ((1 - l) * e0 + l * e1);
    if (gap > maxGap) {
      maxGap = gap;
      argmax = l;
    }
  });
  return { maxMinusMean: maxV - (e0 + e1) / 2, maxMinusLinear: maxGap, argmax };
}

/** Normalisation repair applied to each interpolated model. */
export type RepairMode = 'none' | 'bn-reset' | 'repair';

/** Options of {@link interpolationCurve}. */
export interface InterpolationOptions {
  /** λ grid (default 21 points from 0 to 1). */
  lambdas?: readonly number[];
  /** Normalisation repair (default 'bn-reset' for batchnorm models, else 'none'). */
  repair?: RepairMode;
  /** Inputs for BN reset / REPAIR statistics (default the first 1000 of the evaluation inputs). */
  statsX?: tf.Tensor;
  /** Name of the split evaluated (recorded; default 'test'). */
  split?: string;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/** The structured barrier record of anchors-connectivity §6. */
export interface BarrierRecord {
  lambdas: number[];
  split: string;
  repair: RepairMode;
  loss: number[];
  error: number[];
  barrier: { loss: Barrier; error: Barrier };
  endpoints: { a: EvalResult; b: EvalResult };
  n: number;
}

/**
 * Evaluates the linear path between two models on labelled data: loss and error at each λ, both
 * barrier definitions for both, endpoint metrics, and which normalisation repair was used.
 *
 * @example
 * ```ts
 * const rec = await interpolationCurve(graph, A, aligned.params, { x: testX, labels: testY }, { lambdas: [0, 0.25, 0.5, 0.75, 1] });
 * rec.barrier.loss.maxMinusMean;
 * ```
 */
export async function interpolationCurve(graph: ModelGraph, A: Params, B: Params, data: LabelledData, opts: InterpolationOptions = {}): Promise<BarrierRecord> {
  checkSame(A, B);
  const n = checkData(graph, data);
  const lambdas = [...(opts.lambdas ?? Array.from({ length: 21 }, (_, i) => i / 20))];
  for (const l of lambdas) if (!Number.isFinite(l)) throw new BasisError('INVALID_ARGUMENT', `λ values must be finite, got ${l}`);
  if (!lambdas.includes(0) || !lambdas.includes(1)) throw new BasisError('INVALID_ARGUMENT', 'the λ grid must contain 0 and 1 (the endpoints)');
  const hasBn = bnNodes(graph.nodes).length > 0;
  const mode = opts.repair ?? (hasBn ? 'bn-reset' : 'none');
  if (mode !== 'none' && mode !== 'bn-reset' && mode !== 'repair') throw new BasisError('CONFIG_INVALID', `repair must be 'none', 'bn-reset' or 'repair', got ${JSON.stringify(mode)}`);
  const statsX = opts.statsX ?? tf.slice(data.x, 0, Math.min(1000, n));
  const loss: number[] = [];
  const error: number[] = [];
  let ea: EvalResult | undefined;
  let eb: EvalResult | undefined;
  for (let k = 0; k < lambdas.length; k++) {
    const l = lambdas[k] as number;
    let M: Params = lerpParams(A, B, l);
    if (l !== 0 && l !== 1) {
      if (mode === 'bn-reset') M = await resetBatchNorm(graph, M, statsX);
      else if (mode === 'repair') M = await repair(graph, A, B, M, l, statsX);
    }
    const r = await evaluate(graph, M, data, opts.batchSize === undefined ? {} : { batchSize: opts.batchSize });
    if (l === 0) ea = r;
    if (l === 1) eb = r;
    loss.push(r.loss);
    error.push(r.error);
    opts.onProgress?.(k + 1, lambdas.length);
  }
  if (opts.statsX === undefined) statsX.dispose();
  return {
    lambdas,
    split: opts.split ?? 'test',
    repair: mode,
    loss,
    error,
    barrier: { loss: barrierOf(lambdas, loss), error: barrierOf(lambdas, error) },
    endpoints: { a: ea as EvalResult, b: eb as EvalResult },
    n,
  };
}
