// The training loop: seeded data order, gradient steps, history, checkpoints, abort, resume/fork.
import { Tensor, cast, keep, tidy, variableGrads, type Scalar } from '@tensorflow/tfjs-core';
import { BasisError, Rng, createRng, createYielder, permutation, registerGradients, shuffle, type NdArray, type RngState } from '@basis/tensor';
import {
  createOptimizer,
  frozenNames,
  gradsByName,
  isOptimizer,
  resolveOptimizerConfig,
  type ApplyInfo,
  type FreezeSpec,
  type Optimizer,
  type OptimizerConfig,
  type OptimizerState,
  type ResolvedOptimizerConfig,
} from './optimizers.js';

import { numBatches } from '../data/batch.js';
import { checkParams, readParams, type NamedVariables } from './params.js';
import { createSchedule, isSchedule, type ResolvedScheduleConfig, type Schedule, type ScheduleConfig } from './schedules.js';
import { checkBool, checkFn, checkInt, checkKeys, checkNum, checkObject, checkSeed, invalid, show } from './validate.js';

/**
 * One mini-batch handed to the loss: inputs and targets as tensors. The loop disposes every
 * tensor of the batch object after the step.
 *
 * @example
 * ```ts
 * const batch: TrainBatch = { x: tf.tensor2d(xs, [m, 4]), y: tf.tensor2d(ys, [m, 1]) };
 * ```
 */
export interface TrainBatch {
  x: Tensor;
  y: Tensor;
}

/**
 * What the loop tells `getBatch` and `lossFn` about the step being computed.
 *
 * @example
 * ```ts
 * const lossFn: LossFn = (b, ctx) => tf.losses.meanSquaredError(b.y, forward(ctx.params, b.x));
 * ```
 */
export interface StepContext {
  /** 0-based index of this step (= updates done before it). */
  readonly step: number;
  /** 0-based epoch index. */
  readonly epoch: number;
  /** 0-based batch index within the epoch. */
  readonly batchInEpoch: number;
  /** Learning rate of this step. */
  readonly lr: number;
  /** The parameters being trained. */
  readonly params: NamedVariables;
  /** The seed of the data-order stream in use (differs from the first run's after a fork). */
  readonly seed: number | string;
  /** A generator for this step only (dropout masks, augmentation), a pure function of (seed, step). */
  readonly rng: Rng;
}

/**
 * The training data as seen by the loop: a size and a function returning the batch of the given
 * example indices (sync or async). The loop chooses the order; the caller owns the storage.
 *
 * @example
 * ```ts
 * const data: TrainData = {
 *   n: 1000,
 *   getBatch: (idx) => ({ x: tf.gather(X, idx), y: tf.gather(Y, idx) }),
 * };
 * ```
 */
export interface TrainData {
  readonly n: number;
  getBatch(indices: Int32Array, ctx: StepContext): TrainBatch | Promise<TrainBatch>;
}

/**
 * What a loss function returns: the scalar loss, or the loss plus new values for non-trainable
 * parameters (buffers such as batchnorm running statistics) that the loop assigns after a
 * successful step. Updates of frozen parameters are ignored; updating a trained parameter is an error.
 *
 * @example
 * ```ts
 * const out: LossOutput = { loss, updates: { 'layers.1.running_mean': newMean } };
 * ```
 */
export type LossOutput = Scalar | { loss: Scalar; updates?: Record<string, Tensor> };

/**
 * The loss of a batch: must use only tfjs ops (it runs under `tf.variableGrads`) and return a
 * scalar, or `{ loss, updates }` (see {@link LossOutput}).
 *
 * @example
 * ```ts
 * const lossFn: LossFn = (b, { params }) => tf.mean(tf.square(tf.sub(tf.matMul(b.x, params.w), b.y)));
 * // with batchnorm buffers (the zoo graph's forward returns them in training mode)
 * const bnLoss: LossFn = (b, { params }) => {
 *   const r = forward(graph, params, b.x, { training: true });
 *   return { loss: tf.losses.softmaxCrossEntropy(b.y, r.output) as tf.Scalar, updates: r.buffers };
 * };
 * ```
 */
export type LossFn = (batch: TrainBatch, ctx: StepContext) => LossOutput;

/**
 * Evaluation run at every epoch end and at every checkpoint: named finite numbers (accuracy, test
 * loss, ...). Dispose your tensors (`tf.tidy`).
 *
 * @example
 * ```ts
 * const evalFn: EvalFn = ({ params }) => ({ testAcc: accuracy(params, testSet) });
 * ```
 */
export type EvalFn = (ctx: { step: number; epoch: number; params: NamedVariables }) => Record<string, number> | Promise<Record<string, number>>;

/**
 * Why a checkpoint was taken: before the first step (`start`), a requested epoch fraction, an
 * epoch end, an abort, or the end of the call (`end`, also after `maxSteps`).
 *
 * @example
 * ```ts
 * snap.reasons.includes('abort');
 * ```
 */
export type CheckpointReason = 'start' | 'fraction' | 'epoch' | 'abort' | 'end';

/**
 * The complete, resumable state of a run apart from parameters and optimizer state (plain JSON).
 *
 * @example
 * ```ts
 * const r = await train({ ...opts, maxSteps: 100 });
 * r.state.step; // 100
 * ```
 */
export interface TrainState {
  /** Seed of the data-order stream in use. */
  seed: number | string;
  /** Optimizer steps done. */
  step: number;
  /** Epochs completed. */
  epoch: number;
  /** Batches done in the current epoch. */
  batchInEpoch: number;
  /** State of the data-order generator at the start of the current epoch (before its shuffle). */
  rng: RngState;
  /** Reshuffles of the rest of the current epoch made by forks: at batch `batch`, with generator `rng`. */
  forks: { batch: number; rng: RngState }[];
  /** Running sum and count of the current epoch's step losses (for its mean). */
  epochLoss: { sum: number; count: number };
  /** Data size, batch size and dropLast the state was made with (checked on resume). */
  n: number;
  batchSize: number;
  dropLast: boolean;
}

/**
 * One optimizer step in the history.
 *
 * @example
 * ```ts
 * result.steps.at(-1); // { step: 96, epoch: 3, loss: 0.041, lr: 0.05, gradNorm: undefined }
 * ```
 */
export interface StepRecord {
  /** Steps done after this one (1-based). */
  step: number;
  /** Epochs done after this step (fractional). */
  epoch: number;
  loss: number;
  lr: number;
  /** Global gradient norm before clipping (only with `clipNorm`). */
  gradNorm: number | undefined;
}

/**
 * One completed epoch in the history.
 *
 * @example
 * ```ts
 * result.epochs[0]; // { epoch: 1, step: 32, loss: 0.52, metrics: { testAcc: 0.91 }, seconds: 0.4 }
 * ```
 */
export interface EpochRecord {
  /** Epochs done (1-based). */
  epoch: number;
  /** Steps done at its end. */
  step: number;
  /** Mean training loss over its steps. */
  loss: number;
  /** `evalFn` results, or null without one. */
  metrics: Record<string, number> | null;
  /** Wall time of the epoch in this process (0 when it was resumed mid-way). */
  seconds: number;
}

/**
 * The training configuration as recorded in checkpoint manifests (plain JSON).
 *
 * @example
 * ```ts
 * snap.training.optimizer.kind; // 'adam'
 * ```
 */
export interface TrainConfigRecord {
  epochs: number;
  batchSize: number;
  dropLast: boolean;
  maxSteps: number | null;
  n: number;
  stepsPerEpoch: number;
  totalSteps: number;
  /** The seed given to this call. */
  seed: number | string;
  optimizer: ResolvedOptimizerConfig;
  schedule: ResolvedScheduleConfig | { kind: 'custom' } | null;
  /** Parameters excluded from updates (frozen or not trainable). */
  frozen: string[];
  checkpoints: { at: number[]; everyEpoch: boolean } | null;
  /** Free-form description given by the caller (`config` option). */
  config: Record<string, unknown> | null;
}

/**
 * What a checkpoint callback receives: copies of everything needed to resume exactly.
 *
 * @example
 * ```ts
 * const save = async (snap: TrainSnapshot) => { if (snap.reasons.includes('epoch')) await store(snap); };
 * ```
 */
export interface TrainSnapshot {
  reasons: CheckpointReason[];
  step: number;
  /** Epochs done (fractional: step / stepsPerEpoch). */
  epoch: number;
  state: TrainState;
  params: Map<string, NdArray>;
  optimizer: OptimizerState;
  metrics: { loss: number | null; eval: Record<string, number> | null };
  history: EpochRecord[];
  training: TrainConfigRecord;
}

/**
 * When to take checkpoints and what to do with them (the Node helper `checkpointWriter` writes
 * them to a run directory).
 *
 * @example
 * ```ts
 * const checkpoints: CheckpointPlan = { at: [0, 0.1, 0.25, 0.5], everyEpoch: true, save: checkpointWriter('runs/a') };
 * ```
 */
export interface CheckpointPlan {
  /** Epoch fractions (in epochs, 0..epochs) at which to checkpoint, e.g. `[0, 0.1, 0.25, 0.5]`; each maps to the nearest step. */
  at?: readonly number[];
  /** Checkpoint at every epoch end (default true). */
  everyEpoch?: boolean;
  /** Called with each snapshot; awaited before training continues. */
  save: (snapshot: TrainSnapshot) => void | Promise<void>;
}

/**
 * Where a run starts when it is not fresh: a resumed or forked run.
 *
 * @example
 * ```ts
 * const start: TrainStart = { state: shared.state, optimizer: shared.optimizer };
 * ```
 */
export interface TrainStart {
  state: TrainState;
  /** Optimizer state to restore (omit to start the optimizer afresh, e.g. fine-tuning). */
  optimizer?: OptimizerState;
  /** Epoch history so far (prepended to the result's). */
  history?: readonly EpochRecord[];
  /** Save a 'start' checkpoint before the first step (default: only when forking; a resumed run has one already). */
  checkpoint?: boolean;
}

/**
 * Progress events: after each step, each epoch and each checkpoint.
 *
 * @example
 * ```ts
 * onProgress: (e) => { if (e.kind === 'epoch') console.log(e.record.epoch, e.record.loss); }
 * ```
 */
export type TrainProgress =
  | { kind: 'step'; step: number; totalSteps: number; epoch: number; loss: number; lr: number; gradNorm: number | undefined }
  | { kind: 'epoch'; totalSteps: number; record: EpochRecord }
  | { kind: 'checkpoint'; step: number; epoch: number; reasons: CheckpointReason[] };

/**
 * Options of {@link train}.
 *
 * @example
 * ```ts
 * const opts: TrainOptions = { params, lossFn, data, epochs: 3, batchSize: 32, optimizer: { kind: 'sgd', lr: 0.1 }, seed: 0 };
 * ```
 */
export interface TrainOptions {
  /** Named parameters; trained in place. Variables with `trainable: false` are kept (and saved) but not updated. */
  params: NamedVariables;
  lossFn: LossFn;
  data: TrainData;
  /** Total epochs of the run (a resumed run continues up to this count). */
  epochs: number;
  batchSize: number;
  /** Skip a final incomplete batch in every epoch (default false). */
  dropLast?: boolean;
  /** Stop once this many steps (in total, counting from the run's start) are done, e.g. to spawn forks. */
  maxSteps?: number;
  /** A configuration (the loop creates and disposes the optimizer) or an optimizer you own. */
  optimizer: OptimizerConfig | Optimizer;
  /** Learning-rate schedule (default: the optimizer's constant lr). */
  schedule?: ScheduleConfig | Schedule | ((step: number) => number);
  /** Seed of the data order and of `ctx.rng`; with `start`, a seed other than `start.state.seed` forks the run. */
  seed: number | string;
  /** Parameters excluded from updates (their gradients are not even computed). */
  freeze?: FreezeSpec;
  evalFn?: EvalFn;
  checkpoints?: CheckpointPlan;
  onProgress?: (event: TrainProgress) => void;
  /** Stops after the current step; a checkpoint is saved first when `checkpoints` is given. */
  signal?: AbortSignal;
  /** Continue a run (same seed) or fork it (different seed). */
  start?: TrainStart;
  /** Free-form description recorded in snapshots (dataset, model name, ...). */
  config?: Record<string, unknown>;
}

/**
 * What {@link train} returns.
 *
 * @example
 * ```ts
 * const r = await train(opts);
 * r.stopped; // 'completed' | 'aborted' | 'maxSteps'
 * ```
 */
export interface TrainResult {
  stopped: 'completed' | 'aborted' | 'maxSteps';
  /** State to continue from (pass as `start.state`). */
  state: TrainState;
  /** Optimizer state at the end (pass as `start.optimizer`). */
  optimizer: OptimizerState;
  /** Steps run by this call. */
  steps: StepRecord[];
  /** All completed epochs (including `start.history`). */
  epochs: EpochRecord[];
  training: TrainConfigRecord;
}

const TRAIN_KEYS = [
  'params', 'lossFn', 'data', 'epochs', 'batchSize', 'dropLast', 'maxSteps', 'optimizer', 'schedule', 'seed',
  'freeze', 'evalFn', 'checkpoints', 'onProgress', 'signal', 'start', 'config',
] as const;

function checkRngState(v: unknown, field: string): RngState {
  const o = checkObject(v, field);
  const s = o.s;
  if (!Array.isArray(s) || s.length !== 4 || s.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)) invalid(`${field}.s`, 'must hold four unsigned 32-bit integers');
  if (o.spare !== null && o.spare !== undefined && (typeof o.spare !== 'number' || !Number.isFinite(o.spare))) invalid(`${field}.spare`, `must be a number or null, got ${show(o.spare)}`);
  return { s: [...(s as number[])] as [number, number, number, number], spare: (o.spare as number | null | undefined) ?? null };
}

/**
 * Validates a {@link TrainState} (e.g. read from a manifest); CONFIG_INVALID names the bad field.
 *
 * @example
 * ```ts
 * const state = checkTrainState(JSON.parse(text).state, 'manifest.state');
 * ```
 */
export function checkTrainState(v: unknown, field = 'state'): TrainState {
  const o = checkObject(v, field);
  const step = checkInt(o.step, `${field}.step`, 0);
  const epoch = checkInt(o.epoch, `${field}.epoch`, 0);
  const batchInEpoch = checkInt(o.batchInEpoch, `${field}.batchInEpoch`, 0);
  const n = checkInt(o.n, `${field}.n`, 1);
  const batchSize = checkInt(o.batchSize, `${field}.batchSize`, 1);
  const dropLast = checkBool(o.dropLast, `${field}.dropLast`);
  const spe = dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
  if (batchInEpoch >= spe) invalid(`${field}.batchInEpoch`, `must be < ${spe} (batches per epoch), got ${batchInEpoch}`);
  if (step !== epoch * spe + batchInEpoch) invalid(`${field}.step`, `must equal epoch * ${spe} + batchInEpoch = ${epoch * spe + batchInEpoch}, got ${step}`);
  if (!Array.isArray(o.forks)) invalid(`${field}.forks`, `must be a list, got ${show(o.forks)}`);
  const forks = (o.forks as unknown[]).map((f, i) => {
    const fo = checkObject(f, `${field}.forks[${i}]`);
    return { batch: checkInt(fo.batch, `${field}.forks[${i}].batch`, 0), rng: checkRngState(fo.rng, `${field}.forks[${i}].rng`) };
  });
  const el = checkObject(o.epochLoss, `${field}.epochLoss`);
  return {
    seed: checkSeed(o.seed, `${field}.seed`),
    step,
    epoch,
    batchInEpoch,
    rng: checkRngState(o.rng, `${field}.rng`),
    forks,
    epochLoss: { sum: checkNum(el.sum, `${field}.epochLoss.sum`), count: checkInt(el.count, `${field}.epochLoss.count`, 0) },
    n,
    batchSize,
    dropLast,
  };
}

function cloneState(s: TrainState): TrainState {
  return {
    ...s,
    rng: { s: [...s.rng.s] as [number, number, number, number], spare: s.rng.spare },
    forks: s.forks.map((f) => ({ batch: f.batch, rng: { s: [...f.rng.s] as [number, number, number, number], spare: f.rng.spare } })),
    epochLoss: { ...s.epochLoss },
  };
}

/** The epoch order of `state` (its shuffle, then its forks' reshuffles) and the generator after it. */
function epochOrderOf(state: TrainState): { order: Int32Array; rng: Rng } {
  let rng = Rng.fromState(state.rng);
  const order = permutation(state.n, rng);
  for (const f of state.forks) {
    rng = Rng.fromState(f.rng);
    shuffle(order.subarray(f.batch * state.batchSize), rng);
  }
  return { order, rng };
}

/**
 * Validates the `updates` of a loss output and keeps their tensors past the gradient scope (the
 * loop disposes them after assigning); updates of frozen parameters are dropped.
 */
function collectUpdates(u: unknown, params: NamedVariables, trainable: ReadonlySet<string>, frozen: ReadonlySet<string>): [string, Tensor][] {
  if (u === undefined) return [];
  if (typeof u !== 'object' || u === null || Array.isArray(u)) invalid('train.lossFn result.updates', `must map parameter names to tensors, got ${show(u)}`);
  const out: [string, Tensor][] = [];
  for (const [name, value] of Object.entries(u as Record<string, unknown>)) {
    const field = `train.lossFn result.updates['${name}']`;
    if (!(value instanceof Tensor)) invalid(field, `must be a tf.Tensor, got ${show(value)}`);
    const t = value as Tensor;
    const v = params[name];
    if (v === undefined) invalid(field, 'names no parameter');
    if (trainable.has(name)) invalid(field, 'is a parameter trained by the optimizer; updates are for buffers (trainable: false)');
    if (t.shape.length !== v.shape.length || t.shape.some((d: number, i: number) => d !== v.shape[i])) invalid(field, `has shape [${t.shape.join(', ')}], the parameter [${v.shape.join(', ')}]`);
    if (frozen.has(name)) continue;
    out.push([name, keep(t)]);
  }
  return out;
}

function disposeBatch(batch: unknown): void {
  if (typeof batch !== 'object' || batch === null) return;
  for (const v of Object.values(batch)) if (v instanceof Tensor && !v.isDisposed) v.dispose();
}

function checkMetrics(m: unknown, step: number): Record<string, number> {
  const o = checkObject(m, 'evalFn result');
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(o)) {
    if (typeof v !== 'number') invalid(`evalFn result.${k}`, `must be a number, got ${show(v)}`);
    if (!Number.isFinite(v)) throw new BasisError('NON_FINITE_INPUT', `evalFn returned ${k} = ${v} at step ${step}; the model may have diverged`, { details: { metric: k, step } });
    out[k] = v;
  }
  return out;
}

/** Everything `train` derives from its options before it starts (validated). */
export interface PreparedTraining {
  o: Record<string, unknown>;
  params: NamedVariables;
  lossFn: LossFn;
  data: TrainData;
  n: number;
  batchSize: number;
  dropLast: boolean;
  stepsPerEpoch: number;
  totalSteps: number;
  endStep: number;
  seed: number | string;
  evalFn: EvalFn | undefined;
  onProgress: ((e: TrainProgress) => void) | undefined;
  signal: AbortSignal | undefined;
  ownOptimizer: boolean;
  optConfig: ResolvedOptimizerConfig;
  schedule: ((step: number) => number) | null;
  trainableVars: NamedVariables[string][];
  /** Names of the parameters updated by the optimizer. */
  trainable: Set<string>;
  /** Names excluded by `freeze`. */
  frozen: Set<string>;
  plan: { steps: Map<number, CheckpointReason>; save: CheckpointPlan['save']; at: number[]; everyEpoch: boolean } | null;
  training: TrainConfigRecord;
}

/** Validates the options of {@link train} (CONFIG_INVALID naming the field) and derives the run plan. */
export function prepareTraining(options: TrainOptions): PreparedTraining {
  const o = checkObject(options, 'train');
  checkKeys(o, TRAIN_KEYS, 'train');
  const params = checkParams(o.params, 'train.params');
  const lossFn = checkFn<LossFn>(o.lossFn, 'train.lossFn');
  const dataObj = checkObject(o.data, 'train.data');
  const n = checkInt(dataObj.n, 'train.data.n', 1);
  checkFn(dataObj.getBatch, 'train.data.getBatch');
  const data = o.data as TrainData;
  const epochs = checkInt(o.epochs, 'train.epochs', 1);
  const batchSize = checkInt(o.batchSize, 'train.batchSize', 1);
  const dropLast = o.dropLast === undefined ? false : checkBool(o.dropLast, 'train.dropLast');
  if (dropLast && batchSize > n) invalid('train.batchSize', `must be <= data.n (${n}) with dropLast, or no batch is produced; got ${batchSize}`);
  const stepsPerEpoch = numBatches(n, batchSize, dropLast);
  const totalSteps = epochs * stepsPerEpoch;
  const maxSteps = o.maxSteps === undefined ? null : checkInt(o.maxSteps, 'train.maxSteps', 0);
  const endStep = maxSteps === null ? totalSteps : Math.min(maxSteps, totalSteps);
  const seed = checkSeed(o.seed, 'train.seed');
  const evalFn = o.evalFn === undefined ? undefined : checkFn<EvalFn>(o.evalFn, 'train.evalFn');
  const onProgress = o.onProgress === undefined ? undefined : checkFn<(e: TrainProgress) => void>(o.onProgress, 'train.onProgress');
  const signal = o.signal as AbortSignal | undefined;
  if (signal !== undefined && (typeof signal !== 'object' || signal === null || typeof signal.aborted !== 'boolean')) invalid('train.signal', `must be an AbortSignal, got ${show(signal)}`);
  const userConfig = o.config === undefined ? null : checkObject(o.config, 'train.config');

  // optimizer and schedule
  const ownOptimizer = !isOptimizer(o.optimizer);
  const optConfig: ResolvedOptimizerConfig = ownOptimizer ? resolveOptimizerConfig(o.optimizer, 'optimizer') : (o.optimizer as Optimizer).config;
  let schedule: ((step: number) => number) | null = null;
  let scheduleRecord: TrainConfigRecord['schedule'] = null;
  if (o.schedule !== undefined) {
    if (isSchedule(o.schedule)) {
      schedule = o.schedule;
      scheduleRecord = o.schedule.config;
    } else if (typeof o.schedule === 'function') {
      schedule = o.schedule as (step: number) => number;
      scheduleRecord = { kind: 'custom' };
    } else {
      const s = createSchedule(o.schedule as ScheduleConfig, { lr: optConfig.lr, totalSteps });
      schedule = s;
      scheduleRecord = s.config;
    }
  }

  // frozen and trainable parameters
  const names = Object.keys(params);
  const frozen = frozenNames(names, o.freeze as FreezeSpec | undefined, 'train.freeze');
  const excluded = names.filter((k) => frozen.has(k) || !params[k]!.trainable);
  const trainable = names.filter((k) => !excluded.includes(k));
  if (trainable.length === 0) invalid('train.freeze', 'leaves no trainable parameter (all are frozen or have trainable: false); unfreeze at least one');
  const trainableVars = trainable.map((k) => params[k]!);

  // checkpoint plan
  let plan: PreparedTraining['plan'] = null;
  if (o.checkpoints !== undefined) {
    const c = checkObject(o.checkpoints, 'train.checkpoints');
    checkKeys(c, ['at', 'everyEpoch', 'save'], 'train.checkpoints');
    const save = checkFn<CheckpointPlan['save']>(c.save, 'train.checkpoints.save');
    const everyEpoch = c.everyEpoch === undefined ? true : checkBool(c.everyEpoch, 'train.checkpoints.everyEpoch');
    if (c.at !== undefined && !Array.isArray(c.at)) invalid('train.checkpoints.at', `must be a list of epoch fractions, got ${show(c.at)}`);
    const at = ((c.at as unknown[] | undefined) ?? []).map((f, i) => checkNum(f, `train.checkpoints.at[${i}]`, { ge: 0, le: epochs }));
    const steps = new Map<number, CheckpointReason>();
    for (const f of at) steps.set(Math.round(f * stepsPerEpoch), 'fraction');
    if (everyEpoch) for (let e = 1; e <= epochs; e++) steps.set(e * stepsPerEpoch, 'epoch');
    plan = { steps, save, at, everyEpoch };
  }

  const training: TrainConfigRecord = {
    epochs,
    batchSize,
    dropLast,
    maxSteps,
    n,
    stepsPerEpoch,
    totalSteps,
    seed,
    optimizer: { ...optConfig },
    schedule: scheduleRecord,
    frozen: excluded,
    checkpoints: plan === null ? null : { at: plan.at, everyEpoch: plan.everyEpoch },
    config: userConfig,
  };

  return {
    o, params, lossFn, data, n, batchSize, dropLast, stepsPerEpoch, totalSteps, endStep, seed, evalFn, onProgress, signal,
    ownOptimizer, optConfig, schedule, trainableVars, trainable: new Set(trainable), frozen, plan, training,
  };
}

/**
 * Trains named parameters in place by mini-batch gradient descent.
 *
 * - Data order: epoch e visits a seeded permutation of the n examples (one generator seeded by
 *   `seed`, drawn at each epoch start), in batches of `batchSize` index arrays handed to
 *   `data.getBatch`. The same seed gives bit-identical weights on the same backend.
 * - Each step: the loss under `tf.variableGrads` (frozen and non-trainable parameters excluded),
 *   a NaN/Inf check (NON_FINITE_INPUT naming the step), the optimizer update at `schedule(step)`.
 *   All intermediate tensors are released: `tf.memory().numTensors` does not grow across steps.
 * - History: per-step loss/lr/grad-norm, per-epoch mean loss and `evalFn` metrics.
 * - Checkpoints at epoch fractions (`checkpoints.at`), at every epoch end, on abort and at the end,
 *   through `checkpoints.save`. `signal` stops the run after the current step.
 * - Resume/fork: with `start` (state + optimizer state from a result or checkpoint) the run
 *   continues exactly when `seed` equals `start.state.seed`; with another seed it forks: the rest of
 *   the current epoch and every later epoch are shuffled by the new seed.
 *
 * @example
 * ```ts
 * // shared training for 50 steps, then two forks with different data orders
 * const shared = await train({ params, lossFn, data, epochs: 5, batchSize: 32, optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9 }, seed: 0, maxSteps: 50 });
 * for (const seed of [1, 2]) {
 *   const fork = cloneVariables(params);
 *   await train({ params: fork, lossFn, data, epochs: 5, batchSize: 32, optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9 }, seed,
 *     start: { state: shared.state, optimizer: shared.optimizer } });
 * }
 * ```
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const p = prepareTraining(options);
  registerGradients();
  const { o, params, lossFn, data, n, batchSize, dropLast, stepsPerEpoch, totalSteps, endStep, seed, evalFn, onProgress, signal, ownOptimizer, optConfig, schedule, trainableVars, trainable, frozen, plan, training } = p;
  // starting state
  let state: TrainState;
  let order: Int32Array | null = null;
  let dataRng: Rng | null = null;
  const history: EpochRecord[] = [];
  let startOptimizer: OptimizerState | undefined;
  const fresh = o.start === undefined;
  let forked = false;
  let startCheckpoint = false;
  if (o.start === undefined) {
    state = { seed, step: 0, epoch: 0, batchInEpoch: 0, rng: createRng(seed).state(), forks: [], epochLoss: { sum: 0, count: 0 }, n, batchSize, dropLast };
  } else {
    const st = checkObject(o.start, 'train.start');
    checkKeys(st, ['state', 'optimizer', 'history', 'checkpoint'], 'train.start');
    if (st.checkpoint !== undefined) startCheckpoint = checkBool(st.checkpoint, 'train.start.checkpoint');
    state = cloneState(checkTrainState(st.state, 'train.start.state'));
    for (const [k, v] of [['n', n], ['batchSize', batchSize], ['dropLast', dropLast]] as const) {
      if (state[k] !== v) invalid(`train.start.state.${k}`, `is ${state[k]} but this run has ${k === 'n' ? 'data.n' : k} ${v}; resume with the same data and batching`);
    }
    startOptimizer = st.optimizer as OptimizerState | undefined;
    if (st.history !== undefined) {
      if (!Array.isArray(st.history)) invalid('train.start.history', `must be a list of epoch records, got ${show(st.history)}`);
      history.push(...(st.history as EpochRecord[]));
    }
    if (state.seed !== seed) {
      // fork: reshuffle the rest of the current epoch, and every later epoch, with the new seed
      const forkRng = createRng(seed).fork(`fork@${state.step}`);
      if (state.batchInEpoch === 0) {
        state.rng = forkRng.state();
        state.forks = [];
      } else {
        const cur = epochOrderOf(state);
        state.forks.push({ batch: state.batchInEpoch, rng: forkRng.state() });
        shuffle(cur.order.subarray(state.batchInEpoch * batchSize), forkRng);
        order = cur.order;
        dataRng = forkRng;
      }
      state.seed = seed;
      forked = true;
    }
  }

  const optimizer = ownOptimizer ? createOptimizer(optConfig) : (o.optimizer as Optimizer);
  const steps: StepRecord[] = [];
  let lastLoss: number | null = null;
  // a resumed run starts from a checkpoint already saved at this step; a fork saves its start
  let lastSaved = fresh || forked || startCheckpoint ? -1 : state.step;
  let evalCache: { step: number; metrics: Record<string, number> } | null = null;
  let epochStart = performance.now();
  let epochFresh = state.batchInEpoch === 0;

  const evaluate = async (): Promise<Record<string, number> | null> => {
    if (evalFn === undefined) return null;
    if (evalCache !== null && evalCache.step === state.step) return evalCache.metrics;
    const metrics = checkMetrics(await evalFn({ step: state.step, epoch: state.step / stepsPerEpoch, params }), state.step);
    evalCache = { step: state.step, metrics };
    return metrics;
  };

  const checkpoint = async (reasons: CheckpointReason[]): Promise<void> => {
    if (plan === null || lastSaved === state.step) return;
    const snapshot: TrainSnapshot = {
      reasons,
      step: state.step,
      epoch: state.step / stepsPerEpoch,
      state: cloneState(state),
      params: await readParams(params),
      optimizer: await optimizer.getState(),
      metrics: { loss: lastLoss, eval: await evaluate() },
      history: history.map((h) => ({ ...h })),
      training,
    };
    await plan.save(snapshot);
    lastSaved = state.step;
    onProgress?.({ kind: 'checkpoint', step: state.step, epoch: snapshot.epoch, reasons });
  };

  let stopped: TrainResult['stopped'] = 'completed';
  // tfjs's reads resolve as microtasks, so without this a training run on the main thread never
  // lets the event loop turn: a signal listener (Ctrl-C, SIGTERM) or an abort timer would wait
  // for the whole run
  const maybeYield = createYielder(50);
  try {
    if (startOptimizer !== undefined) optimizer.setState(startOptimizer, params);
    if ((fresh && plan !== null && plan.steps.has(0)) || forked || startCheckpoint) await checkpoint(['start']);
    while (state.step < endStep) {
      if (signal?.aborted) {
        stopped = 'aborted';
        break;
      }
      if (order === null || dataRng === null) {
        const cur = epochOrderOf(state);
        order = cur.order;
        dataRng = cur.rng;
      }
      const step = state.step;
      const lr = schedule === null ? optConfig.lr : schedule(step);
      if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) invalid('train.schedule', `returned ${show(lr)} at step ${step}; a learning rate must be a finite number >= 0`);
      const lo = state.batchInEpoch * batchSize;
      const indices = order.slice(lo, Math.min(lo + batchSize, n));
      const runSeed = state.seed;
      let stepRng: Rng | undefined;
      const ctx: StepContext = {
        step,
        epoch: state.epoch,
        batchInEpoch: state.batchInEpoch,
        lr,
        params,
        seed: runSeed,
        get rng() {
          stepRng ??= createRng(`${String(runSeed)}:step:${step}`);
          return stepRng;
        },
      };
      const batch = await data.getBatch(indices, ctx);
      let loss = NaN;
      let info: ApplyInfo | undefined;
      let updates: [string, Tensor][] = [];
      try {
        if (typeof batch !== 'object' || batch === null || !(batch.x instanceof Tensor) || !(batch.y instanceof Tensor)) {
          invalid('train.data.getBatch', `must return { x: tf.Tensor, y: tf.Tensor }, got ${show(batch)}`);
        }
        tidy(() => {
          const { value, grads } = variableGrads(() => {
            const out: unknown = lossFn(batch, ctx);
            let l = out;
            if (!(out instanceof Tensor) && typeof out === 'object' && out !== null && 'loss' in out) {
              l = (out as { loss: unknown }).loss;
              updates = collectUpdates((out as { updates?: unknown }).updates, params, trainable, frozen);
            }
            if (!(l instanceof Tensor) || l.rank !== 0) {
              throw new BasisError('SHAPE_MISMATCH', `train.lossFn must return a scalar tensor or { loss, updates }, got ${l instanceof Tensor ? `shape [${(l as Tensor).shape.join(', ')}]` : show(l)}; reduce it with tf.mean`);
            }
            return l as Scalar;
          }, trainableVars);
          loss = value.dataSync()[0]!;
          if (!Number.isFinite(loss)) {
            throw new BasisError(
              'NON_FINITE_INPUT',
              `the loss is ${loss} at step ${step} (epoch ${state.epoch + 1}, batch ${state.batchInEpoch + 1} of ${stepsPerEpoch}); training diverged — use a smaller learning rate (now ${lr}), a warm-up, or optimizer.clipNorm`,
              { details: { step, loss, lr } },
            );
          }
          info = optimizer.applyGradients(params, gradsByName(params, grads), { lr });
          for (const [name, t] of updates) {
            const v = params[name]!;
            v.assign(t.dtype === v.dtype ? t : cast(t, v.dtype));
          }
        });
      } finally {
        disposeBatch(batch);
        for (const [, t] of updates) t.dispose();
      }
      lastLoss = loss;
      state.step += 1;
      state.batchInEpoch += 1;
      state.epochLoss.sum += loss;
      state.epochLoss.count += 1;
      const rec: StepRecord = { step: state.step, epoch: state.step / stepsPerEpoch, loss, lr, gradNorm: info?.gradNorm };
      steps.push(rec);
      onProgress?.({ kind: 'step', step: rec.step, totalSteps: endStep, epoch: rec.epoch, loss, lr, gradNorm: rec.gradNorm });

      if (state.batchInEpoch === stepsPerEpoch) {
        const record: EpochRecord = {
          epoch: state.epoch + 1,
          step: state.step,
          loss: state.epochLoss.sum / state.epochLoss.count,
          metrics: null,
          seconds: epochFresh ? (performance.now() - epochStart) / 1000 : 0,
        };
        state.epoch += 1;
        state.batchInEpoch = 0;
        state.rng = dataRng.state();
        state.forks = [];
        state.epochLoss = { sum: 0, count: 0 };
        order = null;
        dataRng = null;
        record.metrics = await evaluate();
        history.push(record);
        onProgress?.({ kind: 'epoch', totalSteps: endStep, record });
        epochStart = performance.now();
        epochFresh = true;
      }
      const planned = plan?.steps.get(state.step);
      if (planned !== undefined) await checkpoint([planned]);
      await maybeYield();
    }
    if (stopped === 'completed' && state.step < totalSteps) stopped = 'maxSteps';
    if (plan !== null && lastSaved !== state.step) await checkpoint([stopped === 'aborted' ? 'abort' : 'end']);
    return { stopped, state: cloneState(state), optimizer: await optimizer.getState(), steps, epochs: history, training };
  } finally {
    if (ownOptimizer) optimizer.dispose();
  }
}
