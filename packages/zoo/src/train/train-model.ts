// High-level training of a zoo model graph on a classification dataset: a recipe (plain JSON) in,
// trained parameters and per-epoch history out. Built on `train()` (softmax cross-entropy,
// batchnorm running statistics written back through `updates`), browser-safe; the Node entry adds
// run directories with resume (`trainModelResumable`).
import * as tf from '@tensorflow/tfjs-core';
import { BasisError, createRng, gatherRows as gatherRowsOf, softmaxCrossEntropyMean } from '@basis/tensor';
import type { ClassificationDataset } from '../data/types.js';
import { assertClassification } from '../data/validate.js';
import { describeGraph, forward, initParams, type ModelGraph, type ParamDict, type TensorParams } from '../graph/index.js';
import { train, type CheckpointPlan, type EpochRecord, type LossFn, type TrainData, type TrainOptions, type TrainProgress, type TrainResult, type TrainStart } from './loop.js';
import type { NamedVariables } from './params.js';
import { checkKeys, checkObject, invalid } from './validate.js';
import { resolveTrainSettings, type ResolvedTrainSettings, type TrainSettings } from './train-settings.js';

/**
 * One epoch of a {@link trainModel} run.
 *
 * @example
 * ```ts
 * result.history.at(-1); // { epoch: 10, step: 630, trainLoss: 0.012, testAccuracy: 0.975, testLoss: 0.08, seconds: 3.1 }
 * ```
 */
export interface EpochSummary {
  epoch: number;
  step: number;
  /** Mean training loss (softmax cross-entropy) over the epoch's steps. */
  trainLoss: number;
  /** Test accuracy after the epoch (null without a test set). */
  testAccuracy: number | null;
  /** Mean test loss after the epoch (null without a test set). */
  testLoss: number | null;
  /** Wall time of the epoch (0 for an epoch resumed mid-way). */
  seconds: number;
}

/**
 * Options of {@link trainModel}.
 *
 * @example
 * ```ts
 * const opts: TrainModelOptions = { graph, train: split.train, test: split.test, recipe: TRAINING_PRESETS.mlpMnist.train };
 * ```
 */
export interface TrainModelOptions {
  graph: ModelGraph;
  /** Training set; its per-example size must equal the graph input's (e.g. [1, 28, 28] for an MLP on [784]). */
  train: ClassificationDataset;
  /** Evaluated after every epoch (accuracy and loss). */
  test?: ClassificationDataset;
  recipe: TrainSettings;
  /** Start from these parameters instead of a seeded initialisation (warm start / fine-tuning). */
  initial?: ParamDict;
  onProgress?: (event: TrainProgress) => void;
  /** Stops after the current step (with a checkpoint when checkpoints are saved). */
  signal?: AbortSignal;
  /** Receives the checkpoints (at `recipe.checkpoints` fractions and every epoch); see `trainModelResumable` for run directories. */
  save?: CheckpointPlan['save'];
  /** Continue from a saved state (see `train`); a seed other than `start.state.seed` forks the run. */
  start?: TrainStart;
  /** Stop once this many steps (in total, counting from the run's start) are done: the trunk of a spawn (see `trainSeeds`). */
  maxSteps?: number;
}

/**
 * What {@link trainModel} returns.
 *
 * @example
 * ```ts
 * const r = await trainModel(opts);
 * r.final.testAccuracy; // 0.97
 * await saveParams(r.params);
 * ```
 */
export interface TrainModelResult {
  graph: ModelGraph;
  /** Trained parameters and buffers (float32, PyTorch layout). */
  params: ParamDict;
  history: EpochSummary[];
  /** Metrics at the end: last epoch's train loss, test accuracy and loss. */
  final: { trainLoss: number | null; testAccuracy: number | null; testLoss: number | null };
  stopped: TrainResult['stopped'];
  /** Steps done in total. */
  steps: number;
  recipe: ResolvedTrainSettings;
  /** The tfjs backend it ran on. */
  backend: string;
  /** The raw result of `train` (loop state, optimizer state, step history). */
  result: TrainResult;
}

/**
 * Accuracy and mean softmax cross-entropy of a model on a dataset.
 *
 * @example
 * ```ts
 * evaluateModel(graph, params, test); // { n: 2000, accuracy: 0.9735, loss: 0.087 }
 * ```
 */
export interface Evaluation {
  n: number;
  accuracy: number;
  loss: number;
}

function product(s: readonly number[]): number {
  return s.reduce((a, b) => a * b, 1);
}

/**
 * Checks that a classification dataset fits a graph: the same number of values per example (an
 * MLP on `[784]` takes `[1, 28, 28]` images) and no more classes than outputs; SHAPE_MISMATCH
 * naming `field` otherwise. Returns the input size and the number of outputs.
 *
 * @example
 * ```ts
 * checkDataFits(mlp({ width: 64 }), test, 'test'); // { inputSize: 784, classes: 10 }
 * ```
 */
export function checkDataFits(graph: ModelGraph, ds: ClassificationDataset, field: string): { inputSize: number; classes: number } {
  assertClassification(ds, field);
  const desc = describeGraph(graph);
  const inputSize = product(graph.input);
  if (product(ds.shape) !== inputSize) {
    throw new BasisError(
      'SHAPE_MISMATCH',
      `${field} '${ds.name}' has examples of shape [${ds.shape.join(', ')}] (${product(ds.shape)} values) but ${graph.name} takes [${graph.input.join(', ')}] (${inputSize})`,
    );
  }
  const out = desc.output;
  if (out.length !== 1) throw new BasisError('SHAPE_MISMATCH', `${graph.name} outputs shape [${out.join(', ')}]; a classifier outputs one logit per class`);
  const classes = out[0] as number;
  if (ds.numClasses > classes) throw new BasisError('SHAPE_MISMATCH', `${field} '${ds.name}' has ${ds.numClasses} classes but ${graph.name} has ${classes} outputs`);
  return { inputSize, classes };
}

/**
 * Training inputs up to this size are uploaded to the backend once and each batch is gathered
 * there (`gatherRows`): one copy per batch instead of a gather in JS, a fresh array and its upload.
 * Larger sets (a wasm heap must stay well below 2 GiB) are gathered in JS per batch.
 */
const RESIDENT_MAX_BYTES = 256 * 2 ** 20;

/** The inputs of examples `idx` as one Float32Array (row-major copies). */
function gatherRows(x: Float32Array, size: number, idx: ArrayLike<number>): Float32Array {
  const out = new Float32Array(idx.length * size);
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i] as number;
    out.set(x.subarray(r * size, (r + 1) * size), i * size);
  }
  return out;
}

function oneHot(labels: Int32Array, idx: ArrayLike<number>, k: number): Float32Array {
  const out = new Float32Array(idx.length * k);
  for (let i = 0; i < idx.length; i++) out[i * k + (labels[idx[i] as number] as number)] = 1;
  return out;
}

/**
 * Accuracy and mean cross-entropy of a model (eval mode: batchnorm uses its running statistics)
 * on a classification dataset, in batches of `batchSize` (default 1000). The loss and argmax are
 * computed in float64 from the float32 logits.
 *
 * @example
 * ```ts
 * const params = paramsToTensors(ckpt.params);
 * const { accuracy, loss } = evaluateModel(graph, params, test);
 * ```
 */
export function evaluateModel(graph: ModelGraph, params: TensorParams, ds: ClassificationDataset, opts: { batchSize?: number } = {}): Evaluation {
  const { inputSize, classes } = checkDataFits(graph, ds, 'evaluateModel: dataset');
  const bs = opts.batchSize ?? 1000;
  if (!Number.isInteger(bs) || bs < 1) throw new BasisError('INVALID_ARGUMENT', `evaluateModel: batchSize must be a positive integer, got ${bs}`);
  let correct = 0;
  let lossSum = 0;
  for (let start = 0; start < ds.n; start += bs) {
    const m = Math.min(bs, ds.n - start);
    const logits = tf.tidy(() => {
      const x = tf.tensor(ds.x.subarray(start * inputSize, (start + m) * inputSize), [m, ...graph.input], 'float32');
      return forward(graph, params, x).output.dataSync() as Float32Array;
    });
    for (let i = 0; i < m; i++) {
      const row = logits.subarray(i * classes, (i + 1) * classes);
      let best = 0;
      let max = -Infinity;
      for (let c = 0; c < classes; c++) {
        if ((row[c] as number) > max) {
          max = row[c] as number;
          best = c;
        }
      }
      if (!Number.isFinite(max)) throw new BasisError('NON_FINITE_INPUT', `evaluateModel: the logits of example ${start + i} are not finite (${max}); the model has diverged or holds NaN weights`);
      let z = 0;
      for (let c = 0; c < classes; c++) z += Math.exp((row[c] as number) - max);
      const y = ds.labels[start + i] as number;
      lossSum += Math.log(z) + max - (row[y] as number);
      if (best === y) correct++;
    }
  }
  return { n: ds.n, accuracy: correct / ds.n, loss: lossSum / ds.n };
}

/** Expands recipe freeze entries (parameter or node names) to parameter names. */
function expandFreeze(names: readonly string[], freeze: readonly string[], field: string): string[] {
  const out = new Set<string>();
  freeze.forEach((f, i) => {
    const hit = names.filter((n) => n === f || n.startsWith(`${f}.`));
    if (hit.length === 0) invalid(`${field}[${i}]`, `names no parameter or node: '${f}' (parameters: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', ...' : ''})`);
    for (const n of hit) out.add(n);
  });
  return [...out];
}

/** Everything `train`/`trainResumable` needs for a model run, plus a disposer. @internal */
export interface PreparedModelTraining {
  recipe: ResolvedTrainSettings;
  params: NamedVariables;
  trainOptions: Omit<TrainOptions, 'checkpoints' | 'start'>;
  summarize(result: TrainResult): TrainModelResult;
  dispose(): void;
}

/** Builds the training problem of {@link trainModel}. @internal */
export function prepareModelTraining(o: TrainModelOptions): PreparedModelTraining {
  checkObject(o, 'trainModel');
  checkKeys(o as unknown as Record<string, unknown>, ['graph', 'train', 'test', 'recipe', 'initial', 'onProgress', 'signal', 'save', 'start', 'maxSteps'], 'trainModel');
  const recipe = resolveTrainSettings(o.recipe, 'recipe');
  const graph = o.graph;
  const desc = describeGraph(graph);
  const { inputSize, classes } = checkDataFits(graph, o.train, 'train');
  if (o.test !== undefined) checkDataFits(graph, o.test, 'test');
  const trainSet = o.train;
  const testSet = o.test;

  const init: ParamDict = o.initial ?? initParams(graph, createRng(recipe.seed).fork('init'), { scheme: recipe.init });
  const params: NamedVariables = {};
  try {
    for (const p of desc.params) {
      const a = init[p.name];
      if (a === undefined) throw new BasisError('SHAPE_MISMATCH', `initial parameters lack '${p.name}' of ${graph.name}`);
      if (a.shape.length !== p.shape.length || a.shape.some((d, i) => d !== p.shape[i])) {
        throw new BasisError('SHAPE_MISMATCH', `initial parameter '${p.name}' has shape [${a.shape.join(', ')}] but ${graph.name} needs [${p.shape.join(', ')}]`);
      }
      params[p.name] = tf.tidy(() => tf.variable(tf.tensor(a.data instanceof Float32Array ? a.data : Float32Array.from(a.data), [...p.shape], 'float32'), p.trainable));
    }
  } catch (e) {
    for (const v of Object.values(params)) v.dispose();
    throw e;
  }
  const freeze = expandFreeze(Object.keys(params), recipe.freeze, 'recipe.freeze');

  let resident: tf.Tensor | null = null;
  const data: TrainData = {
    n: trainSet.n,
    getBatch: (idx) => {
      if (resident === null && trainSet.x.byteLength <= RESIDENT_MAX_BYTES) resident = tf.keep(tf.tensor(trainSet.x, [trainSet.n, ...graph.input], 'float32'));
      const x = resident !== null ? gatherRowsOf(resident, idx) : tf.tensor(gatherRows(trainSet.x, inputSize, idx), [idx.length, ...graph.input], 'float32');
      const y = tf.tensor(oneHot(trainSet.labels, idx, classes), [idx.length, classes], 'float32');
      return { x, y };
    },
  };
  const lossFn: LossFn = (b, ctx) => {
    const r = forward(graph, ctx.params, b.x, { training: true });
    return { loss: softmaxCrossEntropyMean(b.y, r.output) as tf.Scalar, updates: r.buffers };
  };
  const evalFn =
    testSet === undefined
      ? undefined
      : ({ params: p }: { params: NamedVariables }) => {
          const e = evaluateModel(graph, p, testSet, { batchSize: recipe.evalBatchSize });
          return { testAccuracy: e.accuracy, testLoss: e.loss };
        };
  const trainOptions: Omit<TrainOptions, 'checkpoints' | 'start'> = {
    params,
    lossFn,
    data,
    epochs: recipe.epochs,
    batchSize: recipe.batchSize,
    dropLast: recipe.dropLast,
    optimizer: recipe.optimizer,
    ...(recipe.schedule === null ? {} : { schedule: recipe.schedule }),
    seed: recipe.seed,
    ...(freeze.length === 0 ? {} : { freeze }),
    ...(evalFn === undefined ? {} : { evalFn }),
    ...(o.onProgress === undefined ? {} : { onProgress: o.onProgress }),
    ...(o.signal === undefined ? {} : { signal: o.signal }),
    ...(o.maxSteps === undefined ? {} : { maxSteps: o.maxSteps }),
    config: { graph: graph.name, recipe, train: trainSet.name, test: testSet?.name ?? null },
  };
  const summarize = (result: TrainResult): TrainModelResult => {
    const out: ParamDict = {};
    for (const [name, v] of Object.entries(params)) out[name] = { shape: [...v.shape], data: Float32Array.from(v.dataSync() as Float32Array) };
    const history = result.epochs.map(epochSummary);
    const last = history.at(-1);
    return {
      graph,
      params: out,
      history,
      final: { trainLoss: last?.trainLoss ?? null, testAccuracy: last?.testAccuracy ?? null, testLoss: last?.testLoss ?? null },
      stopped: result.stopped,
      steps: result.state.step,
      recipe,
      backend: tf.getBackend(),
      result,
    };
  };
  return {
    recipe,
    params,
    trainOptions,
    summarize,
    dispose: () => {
      resident?.dispose();
      resident = null;
      for (const v of Object.values(params)) v.dispose();
    },
  };
}

function epochSummary(e: EpochRecord): EpochSummary {
  const m = e.metrics;
  return {
    epoch: e.epoch,
    step: e.step,
    trainLoss: e.loss,
    testAccuracy: m?.testAccuracy ?? null,
    testLoss: m?.testLoss ?? null,
    seconds: e.seconds,
  };
}

/**
 * Trains a model graph on a classification dataset with a recipe: seeded initialisation (or
 * `initial`), mini-batch training by `train()` with softmax cross-entropy (batchnorm running
 * statistics updated every step), test accuracy and loss after every epoch. The same recipe and
 * seed give bit-identical weights on the same backend. Runs on the active tfjs backend; the
 * variables it creates are disposed before it returns.
 *
 * @example
 * ```ts
 * import { loadMnist } from '@basis/zoo/node';
 * const { train, test } = await loadMnist({ normalize: 'standard' });
 * const graph = buildModel({ arch: 'mlp', width: 512, depth: 2 }, { input: train.shape, classes: 10 });
 * const r = await trainModel({ graph, train, test, recipe: TRAINING_PRESETS.mlpMnist.train });
 * r.final.testAccuracy; // about 0.97
 * ```
 */
export async function trainModel(opts: TrainModelOptions): Promise<TrainModelResult> {
  const p = prepareModelTraining(opts);
  try {
    const checkpoints: CheckpointPlan | undefined = opts.save === undefined ? undefined : { at: p.recipe.checkpoints, save: opts.save };
    const result = await train({ ...p.trainOptions, ...(checkpoints === undefined ? {} : { checkpoints }), ...(opts.start === undefined ? {} : { start: opts.start }) });
    return p.summarize(result);
  } finally {
    p.dispose();
  }
}
