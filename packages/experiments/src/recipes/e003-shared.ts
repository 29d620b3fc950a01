// Helpers shared by the S003, S004 and S001 recipes (E003-*, E004-*, V001-*): the base model
// families of their quick/full profiles (identical jobs, so the run cache trains them once for all
// recipes) and their schema, confidence intervals and interval verdicts, and evaluation data as
// tensors.
import * as tf from '@tensorflow/tfjs-core';
import { BasisError, Matrix, integer, list, object, type Schema } from '@basis/tensor';
import { DataSpecSchema, ModelSpecSchema, TrainSettingsSchema, captureActivations, paramsToTensors, type DataSpec, type DataSplit, type ModelSpec, type TrainSettings } from '@basis/zoo';
import { loadData } from '../runner/data.js';
import { STANDARD_DATA, STANDARD_TRAIN, above, below } from './common.js';
import type { CachedModel, Estimate, RunContext, Verdict } from './types.js';


/** A family of independently trained models: data, architecture, training recipe and seed offsets. */
export interface ModelFamily {
  data: DataSpec;
  model: ModelSpec;
  train: TrainSettings;
  /** Seed offsets; model k gets seed `ctx.seed + seeds[k]`. */
  seeds: number[];
}

/**
 * The schema of a {@link ModelFamily} in a recipe configuration: zoo's data, model and training
 * schemas and a non-empty list of seed offsets (integers >= 0).
 *
 * @example
 * ```ts
 * const E0034ConfigSchema = object({ family: ModelFamilySchema, inputs: count(10, 'inputs') });
 * ```
 */
export const ModelFamilySchema: Schema<ModelFamily> = object({
  data: DataSpecSchema,
  model: ModelSpecSchema,
  train: TrainSettingsSchema,
  seeds: list(integer(0), 'seed offsets (integers >= 0)', { min: 1, emptyMessage: 'must not be empty' }),
});

/** Quick data: 4000 / 1000 MNIST digits (standardised). */
export const QUICK_DATA: DataSpec = { dataset: 'mnist', trainSize: 4000, testSize: 1000 };
/** Full data: 20,000 / 5,000 Fashion-MNIST images (seeds-spec 2.0: FMNIST where MNIST saturates). */
export const FULL_DATA: DataSpec = { dataset: 'fashion', trainSize: 20000, testSize: 5000 };
/** Quick training: 2 epochs of Adam (lr 1e-3), batch 128. */
export const QUICK_TRAIN: TrainSettings = { epochs: 2, batchSize: 128, optimizer: { kind: 'adam', lr: 1e-3 } };
/** Full training: 10 epochs of Adam with a cosine schedule. */
export const FULL_TRAIN: TrainSettings = { epochs: 10, batchSize: 128, optimizer: { kind: 'adam', lr: 1e-3 }, schedule: { kind: 'cosine' } };

export { STANDARD_DATA, STANDARD_TRAIN } from './common.js';
/** The standard base family: MLP 784-256-256-256-10 on 8,000 / 2,000 digits trained to its plateau (about 95.5%), 5 independent seeds. */
export const STANDARD_FAMILY: ModelFamily = { data: STANDARD_DATA, model: { arch: 'mlp', width: 256, depth: 3 }, train: STANDARD_TRAIN, seeds: [0, 1, 2, 3, 4] };
/** The quick base family shared by most S003/S004/S001 recipes: MLP 784-64-64-64-10, 3 seeds. */
export const QUICK_FAMILY: ModelFamily = { data: QUICK_DATA, model: { arch: 'mlp', width: 64, depth: 3 }, train: QUICK_TRAIN, seeds: [0, 1, 2] };
/** The full base family: MLP 784-256x4-10 on Fashion-MNIST, 6 seeds (15 pairs). */
export const FULL_FAMILY: ModelFamily = { data: FULL_DATA, model: { arch: 'mlp', width: 256, depth: 4 }, train: FULL_TRAIN, seeds: [0, 1, 2, 3, 4, 5] };

/** The run-cache job of model k of a family. */
export function familyJob(f: ModelFamily, seed: number, label: string): Record<string, unknown> {
  return { data: f.data, model: f.model, recipe: f.train, seed, label };
}

/** Trains (or loads) every seed of a family through the run cache. */
export function trainFamily(ctx: RunContext, f: ModelFamily, label: string): Promise<CachedModel[]> {
  return ctx.models(f.seeds.map((s) => familyJob(f, ctx.seed + s, `${label} seed ${ctx.seed + s}`)));
}

/** All unordered pairs `(i, j)`, `i < j`, of `n` items. */
export function pairs(n: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) out.push([i, j]);
  return out;
}

export { difference, estimate, formatEstimate as fmt } from '../runner/estimate.js';

/**
 * Verdict of a one-sided claim about an interval: `'above'` holds when the whole interval lies
 * above `threshold`, fails when it lies entirely at or below it, and is inconclusive otherwise
 * (`'below'` mirrors it).
 *
 * @example
 * ```ts
 * intervalVerdict({ mean: 0.2, lo: 0.1, hi: 0.3, n: 3 }, 'above', 0); // 'held'
 * ```
 */
export function intervalVerdict(e: Estimate, side: 'above' | 'below', threshold: number): Verdict {
  return side === 'above' ? above(e, threshold) : below(e, threshold);
}

/** Combines verdicts (the shared rule of common.ts). */
export { allOf } from './common.js';

/** Test (or train) inputs of a split as a `[n, ...input]` tensor, with labels. */
export interface EvalData {
  x: tf.Tensor;
  labels: Int32Array;
  n: number;
}

/** Loads the split of a data spec (once per process) and returns `n` evenly spaced inputs as tensors. */
export async function evalData(data: DataSpec, which: 'train' | 'test', n: number, input: readonly number[]): Promise<EvalData> {
  const split: DataSplit = await loadData(data);
  const ds = split[which];
  const m = Math.min(n, ds.n);
  const size = input.reduce((a, b) => a * b, 1);
  // evenly spaced rows, so the subset is balanced even if the split is ordered by class
  const xs = new Float32Array(m * size);
  const labels = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    const r = Math.floor((i * ds.n) / m);
    xs.set(ds.x.subarray(r * size, (r + 1) * size), i * size);
    labels[i] = ds.labels[r] as number;
  }
  return { x: tf.tensor(xs, [m, ...input]), labels, n: m };
}

/** Params as the connectivity and symmetry packages take them. */
export function paramsOf(m: CachedModel): Record<string, { shape: number[]; data: Float64Array }> {
  return m.params;
}

/** Test accuracy of a cached model (from its training summary). */
export function accuracyOf(m: CachedModel): number {
  const a = m.result.final.testAccuracy;
  if (a === null || !Number.isFinite(a)) throw new BasisError('INVALID_ARGUMENT', `model ${m.key.slice(0, 12)} has no test accuracy`);
  return a;
}

/** Names of the hidden activation nodes of a graph, in order. */
export function activationNodes(graph: CachedModel['graph']): string[] {
  const out: string[] = [];
  const walk = (nodes: CachedModel['graph']['nodes']): void => {
    for (const n of nodes) {
      if (n.op === 'activation') out.push(n.name);
      if (n.op === 'residual') walk(n.body);
    }
  };
  walk(graph.nodes);
  return out;
}

/** Activations of a cached model at `points` on `x` (float64 matrices, rows in input order; channel view for maps). */
export async function captureAt(m: CachedModel, x: tf.Tensor, points: readonly string[]): Promise<Record<string, Matrix>> {
  const t = paramsToTensors(m.params);
  try {
    return await captureActivations(m.graph, t, x, { points });
  } finally {
    tf.dispose(Object.values(t));
  }
}

/** `n` evenly spaced inputs of a split as a float64 matrix (rows = inputs, flattened). */
export async function inputMatrix(data: DataSpec, which: 'train' | 'test', n: number, input: readonly number[]): Promise<Matrix> {
  const d = await evalData(data, which, n, input);
  try {
    return new Matrix(d.n, input.reduce((a, b) => a * b, 1), Float64Array.from(d.x.dataSync()));
  } finally {
    d.x.dispose();
  }
}
