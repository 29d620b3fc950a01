// The executor interface of the run context: who trains the models a run is missing. The local
// executor (the default) trains them on this process's worker-thread pool; the queue executor
// (`createQueueExecutor`, @basis/experiments/node) sends them to `basis worker` processes on any
// number of machines through a Redis queue and waits for their artifacts in the shared store.
import type { BackendPreference } from '@basis/tensor/backend';
import type { CaptureSpec, CompareSpec } from './compare-spec.js';
import type { EvalJobTask } from './eval-task.js';
import type { ModelJob } from './model-job.js';

/**
 * One model to train: its content key (the cache key of the run context), the validated job, a
 * label for progress lines, and the keys of models that must exist first (warm starts).
 *
 * @example
 * ```ts
 * const task: TrainTask = { key, job, label: 'width 32 seed 1', deps: [] };
 * ```
 */
export interface TrainTask {
  key: string;
  job: ModelJob;
  label: string;
  deps: string[];
}

/**
 * What every task of one call shares: the run cache (the artifact store's root: models end up in
 * `dir/models/<key>/`), the versions hashed into the keys, and the training backend.
 *
 * @example
 * ```ts
 * const env: TrainEnv = { dir: '/shared/cache', versions: ctx.versions, backend: 'auto' };
 * ```
 */
export interface TrainEnv {
  dir: string;
  versions: Record<string, string>;
  backend?: BackendPreference;
}

/**
 * One activation capture of a {@link Executor.stages} call: its content key (`captureKey`), a label,
 * and what to capture (a model of the run cache, or an untrained one like it).
 *
 * @example
 * ```ts
 * const t: CaptureTask = { key, label: 'width 32 seed 1', capture: { model: { key: m.key }, data, inputs: 1000, split: 'test', points: ['layers.1'] } };
 * ```
 */
export interface CaptureTask {
  key: string;
  label: string;
  capture: CaptureSpec;
}

/**
 * One comparison of a {@link Executor.stages} call: the hash of its memo file
 * (`dir/cache/<key>.json`, as `RunContext.cached` names it), a label, the validated spec and the
 * keys of the two captures it reads.
 *
 * @example
 * ```ts
 * const t: CompareTask = { key: memoHash(recipeId, compareMemoKey(spec), versions), label: 'pair 0-1', spec, a: keyA, b: keyB };
 * ```
 */
export interface CompareTask {
  key: string;
  label: string;
  spec: CompareSpec;
  a: string;
  b: string;
}

/**
 * What the stages of one call share besides the {@link TrainEnv}: the recipe id (part of every memo
 * hash) and the tfjs backend the submitter runs forward passes on (workers use the same one, so a
 * capture is the one a local run makes).
 *
 * @example
 * ```ts
 * const env: StageEnv = { dir: '/shared/cache', versions, recipeId: 'E000-1', tfBackend: 'cpu' };
 * ```
 */
export interface StageEnv extends TrainEnv {
  recipeId: string;
  tfBackend: string;
}

/**
 * Callbacks of one {@link Executor.train} call.
 *
 * @example
 * ```ts
 * const hooks: TrainHooks = { signal, onProgress: (key, f) => bars.update(key, f) };
 * ```
 */
export interface TrainHooks {
  signal: AbortSignal;
  /** Fraction (0..1) of one task done. */
  onProgress: (key: string, fraction: number) => void;
  /** Informational lines (waiting for another process, queue reconnects, re-enqueued jobs). */
  onWait?: (line: string) => void;
}

/**
 * Runs the training tasks a run is missing. `train` resolves once every task's model is complete
 * in the run cache (`env.dir/models/<key>/summary.json`), and rejects with the first failure (a
 * BasisError with the code and message the failing job raised). Implementations: the local pool
 * (default, inside `createRunContext`) and the Redis queue (`createQueueExecutor`).
 *
 * @example
 * ```ts
 * const executor = await createQueueExecutor({ queue: 'redis://10.0.0.5:6379' });
 * const ctx = await createRunContext({ dir: '/shared/cache', recipeId: 'E000-1', profile: 'quick', executor });
 * ```
 */
export interface Executor {
  /** 'local' or 'queue'. */
  readonly kind: 'local' | 'queue';
  /** For logs (a queue executor shows its masked URL). */
  readonly description: string;
  train(tasks: TrainTask[], env: TrainEnv, hooks: TrainHooks): Promise<void>;
  /**
   * Runs the capture and comparison stages of `RunContext.compare` elsewhere (queue executors: a
   * `capture` job per capture, after its model exists; a `compare` job per comparison, after its
   * two captures). Resolves once every comparison's memo file is in `env.dir/cache/`; progress keys
   * are the comparisons' keys. Absent (the local executor): the run context computes them itself.
   */
  stages?(captures: CaptureTask[], compares: CompareTask[], env: StageEnv, hooks: TrainHooks): Promise<void>;
  /**
   * Runs the evaluation tasks of `RunContext.evaluate` elsewhere (queue executors: one job per
   * task, of the task's kind, e.g. `mode-pair`; the models they read exist already). Resolves once
   * every task's memo file is in `env.dir/cache/`; progress keys are the tasks' keys. Absent (the
   * local executor): the run context computes them itself.
   */
  evaluate?(tasks: EvalJobTask[], env: StageEnv, hooks: TrainHooks): Promise<void>;
  /** Releases connections (the local executor's pool belongs to its run context). */
  close(): Promise<void>;
}
