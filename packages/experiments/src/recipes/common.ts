// Helpers shared by the S000 and S002 recipes (E000-*, E002-*): the configuration pieces of their
// profiles and their schema pieces, evaluation data as tensors, activation capture, pairs, slopes and
// the interval verdicts every claim check uses.
import * as tf from '@tensorflow/tfjs-core';
import { BasisError, createRng, integer, type Matrix, type Schema } from '@basis/tensor';
import {
  DataSpecSchema,
  TrainSettingsSchema,
  buildModel,
  captureActivations,
  initParams,
  paramsToTensors,
  toFloat64,
  type ClassificationDataset,
  type DataSpec,
  type ModelGraph,
  type ModelSpec,
  type TrainSettings,
} from '@basis/zoo';
import { ascending, listOfAtLeast, type FieldProblem } from '../runner/check.js';
import { loadData } from '../runner/data.js';
import type { CachedModel, Estimate, Verdict } from './types.js';

/** Quick data: 4,000 / 1,000 MNIST digits, standardised (the same jobs as the other quick recipes, so a shared cache trains them once). */
export const QUICK_DATA: DataSpec = { dataset: 'mnist', trainSize: 4000, testSize: 1000 };
/** Full data: 20,000 / 5,000 Fashion-MNIST images (seeds-spec 2.0: Fashion-MNIST where MNIST saturates). */
export const FULL_DATA: DataSpec = { dataset: 'fashion', trainSize: 20000, testSize: 5000 };
/** Standard data: 8,000 / 2,000 MNIST digits (an MLP of width 256 plateaus at >= 95% test accuracy; width 64 only at about 94%). */
export const STANDARD_DATA: DataSpec = { dataset: 'mnist', trainSize: 8000, testSize: 2000 };
/** Standard training: 20 epochs of Adam (lr 1e-3) with a cosine schedule, batch 128 (test accuracy plateaus; MLP 256 x 3 at about 95.5%). */
export const STANDARD_TRAIN: TrainSettings = { epochs: 20, batchSize: 128, optimizer: { kind: 'adam', lr: 1e-3 }, schedule: { kind: 'cosine' } };
/** Independent seeds of the standard profile. */
export const STANDARD_SEEDS = 5;
/** Quick training: 2 epochs of Adam (lr 1e-3), batch 128. */
export const QUICK_TRAIN: TrainSettings = { epochs: 2, batchSize: 128, optimizer: { kind: 'adam', lr: 1e-3 } };
/** Full training: 10 epochs of Adam with a cosine schedule, batch 128. */
export const FULL_TRAIN: TrainSettings = { epochs: 10, batchSize: 128, optimizer: { kind: 'adam', lr: 1e-3 }, schedule: { kind: 'cosine' } };

/** The configuration fields every S000/S002 recipe has. */
export interface BaseConfig {
  data: DataSpec;
  train: TrainSettings;
  /** Number of independently trained models per configuration (seeds ctx.seed .. ctx.seed + seeds - 1). */
  seeds: number;
  /** Test inputs used for representation metrics (0 when the recipe uses only test accuracy). */
  inputs: number;
}

/**
 * The schema entries of the shared fields `data`, `train` and `seeds` (an integer in
 * [`minSeeds`, 64]) of an S000/S002 recipe configuration, for its `object` schema.
 *
 * @example
 * ```ts
 * const schema = object({ ...baseEntries(2), width: integer(2, 4096) });
 * ```
 */
export function baseEntries(minSeeds = 2) {
  return { data: DataSpecSchema, train: TrainSettingsSchema, seeds: integer(minSeeds, 64) };
}

/**
 * The cross-field rule of a model spec restricted to architectures the recipe supports, reported
 * at `at` + `arch` (`E002-1.model.arch must be one of mlp, resmlp for this experiment, got
 * 'minimyrtle'`); null when the architecture is one of them.
 *
 * @example
 * ```ts
 * crossCheck(object({ ...baseEntries(2), model: ModelSpecSchema }), (c) => archIn(c.model, ['mlp', 'resmlp'], ['model']));
 * ```
 */
export function archIn(model: ModelSpec, archs: readonly string[], at: FieldProblem['at']): FieldProblem | null {
  return archs.includes(model.arch) ? null : { at: [...at, 'arch'], message: `must be one of ${archs.join(', ')} for this experiment, got '${model.arch}'` };
}

/** The test-set size of a data spec (its `testSize`, else the dataset's default evaluation split). */
export function testSizeOf(data: DataSpec): number {
  return data.testSize ?? (data.dataset === 'fashion' ? 10000 : 2000);
}

/**
 * The cross-field rule of the `inputs` field (an integer >= 50 in the schema): no more inputs than
 * the test set has, reported at `inputs` (`E000-1.inputs is 5000 but the test set has 1000 examples
 * (E000-1.data.testSize)`); for {@link crossCheck}.
 *
 * @example
 * ```ts
 * const schema = crossCheck(object({ ...baseEntries(2), inputs: integer(50) }), inputsFit('E000-1'));
 * ```
 */
export function inputsFit(field: string): (c: Pick<BaseConfig, 'data' | 'inputs'>) => FieldProblem | null {
  return (c) => {
    const testSize = testSizeOf(c.data);
    return c.inputs <= testSize ? null : { at: ['inputs'], message: `is ${c.inputs} but the test set has ${testSize} examples (${field}.data.testSize)` };
  };
}

/**
 * A list of at least `minLength` hidden widths (integers in [2, 4096]), each larger than the one
 * before it: "needs at least 2 widths, got 1", "[1] must be larger than the width before it
 * (16), got 8".
 *
 * @example
 * ```ts
 * object({ widths: widthsSchema(2) }); // accepts [16, 32, 64]
 * ```
 */
export function widthsSchema(minLength = 2): Schema<number[]> {
  return ascending(listOfAtLeast(integer(2, 4096), 'widths (integers in [2, 4096])', minLength, 'widths'), 'width');
}

/** The model-cache job of one seed. */
export function job(data: DataSpec, model: ModelSpec, train: TrainSettings, seed: number, label: string): Record<string, unknown> {
  return { data, model, recipe: train, seed, label };
}

/** Evaluation data as tensors: the first `n` test examples, flattened for MLPs when `flat`. */
export interface EvalSet {
  x: tf.Tensor;
  labels: Int32Array;
  test: ClassificationDataset;
  dispose(): void;
}

/**
 * The first `n` test examples of a data spec as a tensor `[n, ...shape]` with their labels.
 *
 * @example
 * ```ts
 * const ev = await evalSet(config.data, 1000);
 * try { ... } finally { ev.dispose(); }
 * ```
 */
export async function evalSet(data: DataSpec, n: number, split: 'test' | 'train' = 'test'): Promise<EvalSet> {
  const s = await loadData(data);
  const ds = s[split];
  return datasetTensor(ds, n);
}

/** The first `n` examples of a dataset as a tensor with labels. */
export function datasetTensor(ds: ClassificationDataset, n: number): EvalSet {
  if (!Number.isInteger(n) || n < 1 || n > ds.n) throw new BasisError('CONFIG_INVALID', `need between 1 and ${ds.n} examples of ${ds.name}, asked for ${n}`);
  const size = ds.shape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(ds.x.subarray(0, n * size), [n, ...ds.shape], 'float32');
  return { x, labels: ds.labels.slice(0, n), test: ds, dispose: () => x.dispose() };
}

/** Names of the post-activation nodes of a graph (where S000/S002/S003 compare representations). */
export function activationPoints(graph: ModelGraph): string[] {
  return graph.nodes.filter((n) => n.op === 'activation').map((n) => n.name);
}

/**
 * Activations of a model (trained or not) at `points` on inputs `x`, as float64 matrices
 * (rows = inputs).
 *
 * @example
 * ```ts
 * const acts = await capture(model.graph, model.params, ev.x, ['layers.1', 'layers.3']);
 * ```
 */
export async function capture(graph: ModelGraph, params: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>, x: tf.Tensor, points: readonly string[]): Promise<Record<string, Matrix>> {
  const t = paramsToTensors(params);
  try {
    // graph inputs are [784] for MLPs: flatten image tensors
    const want = graph.input.reduce((a, b) => a * b, 1);
    const n = x.shape[0] as number;
    const xin = graph.input.length === 1 && x.rank > 2 ? tf.reshape(x, [n, want]) : x;
    try {
      return await captureActivations(graph, t, xin, { points });
    } finally {
      if (xin !== x) xin.dispose();
    }
  } finally {
    tf.dispose(Object.values(t));
  }
}

/** Untrained parameters of a graph with the zoo's initialisation for `seed` (the stream trainModel uses). */
export function untrained(graph: ModelGraph, seed: number): Record<string, { shape: number[]; data: Float64Array }> {
  return toFloat64(initParams(graph, createRng(seed).fork('init')));
}

/** The graph a model spec builds for 28x28 grey images and 10 classes. */
export function graphOf(model: ModelSpec): ModelGraph {
  return buildModel(model, { input: [1, 28, 28], classes: 10 });
}

/** All unordered pairs `(i, j)`, `i < j`, of `n` items. */
export function pairs(n: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) out.push([i, j]);
  return out;
}

/** Least-squares slope of `ys` against `xs`. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  if (xs.length !== ys.length || xs.length < 2) throw new BasisError('TOO_SMALL', `a slope needs at least 2 paired points, got ${xs.length} and ${ys.length}`);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    sxx += ((xs[i] as number) - mx) ** 2;
  }
  if (sxx === 0) throw new BasisError('TOO_SMALL', 'a slope needs at least 2 distinct x values');
  return sxy / sxx;
}

/** Pearson correlation of two equally long lists (0 when either is constant). */
export function correlation(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += ((a[i] as number) - ma) * ((b[i] as number) - mb);
    saa += ((a[i] as number) - ma) ** 2;
    sbb += ((b[i] as number) - mb) ** 2;
  }
  return saa === 0 || sbb === 0 ? 0 : sab / Math.sqrt(saa * sbb);
}

/**
 * Verdict of "the quantity is above `t`": held when the whole interval is above, not held when it
 * lies entirely at or below, inconclusive when it straddles `t`.
 *
 * @example
 * ```ts
 * above({ mean: 0.2, lo: 0.1, hi: 0.3, n: 3 }, 0); // 'held'
 * ```
 */
export function above(e: Estimate, t: number): Verdict {
  return e.lo > t ? 'held' : e.hi <= t ? 'not held' : 'inconclusive';
}

/** Verdict of "the quantity is below `t`" (mirror of {@link above}). */
export function below(e: Estimate, t: number): Verdict {
  return e.hi < t ? 'held' : e.lo >= t ? 'not held' : 'inconclusive';
}

/** Verdict of "the quantity lies within [lo, hi]": held when the interval is inside, not held when disjoint. */
export function inside(e: Estimate, lo: number, hi: number): Verdict {
  return e.lo >= lo && e.hi <= hi ? 'held' : e.hi < lo || e.lo > hi ? 'not held' : 'inconclusive';
}

/** All of several verdicts: not held if any is not held, held if all hold, else inconclusive. */
export function allOf(vs: readonly Verdict[]): Verdict {
  return vs.includes('not held') ? 'not held' : vs.every((v) => v === 'held') ? 'held' : 'inconclusive';
}

/** Mean of a list (TOO_SMALL when empty). */
export function meanOf(v: readonly number[]): number {
  if (v.length === 0) throw new BasisError('TOO_SMALL', 'mean of an empty list');
  return v.reduce((a, b) => a + b, 0) / v.length;
}

/** The trained models' test accuracies (a recipe's sanity table). */
export function accuracyRows(models: readonly CachedModel[], label: (i: number) => string): Array<Array<string | number | null>> {
  return models.map((m, i) => [label(i), m.result.final.testAccuracy === null ? null : 100 * m.result.final.testAccuracy, m.result.final.testLoss, m.cached ? 'cache' : 'trained']);
}

/**
 * Captures activations of models once per model key (in memory for the duration of a recipe).
 *
 * @example
 * ```ts
 * const acts = activationCache(ev.x, points);
 * const xa = await acts(modelA);
 * ```
 */
export function activationCache(x: tf.Tensor, points: readonly string[]): (m: { key: string; graph: ModelGraph; params: CachedModel['params'] }) => Promise<Record<string, Matrix>> {
  const memo = new Map<string, Promise<Record<string, Matrix>>>();
  return (m) => {
    let p = memo.get(m.key);
    if (p === undefined) {
      p = capture(m.graph, m.params, x, points);
      memo.set(m.key, p);
    }
    return p;
  };
}

/** An untrained model of a graph as a cache-like record (key `untrained:<graph>:<seed>`). */
export function untrainedModel(graph: ModelGraph, seed: number): { key: string; graph: ModelGraph; params: CachedModel['params'] } {
  return { key: `untrained:${graph.name}:${JSON.stringify(graph.meta?.spec ?? null)}:${seed}`, graph, params: untrained(graph, seed) };
}
