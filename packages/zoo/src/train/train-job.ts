// A training job of the pool (`TrainPool` in `@basis/zoo/node`) and the messages between the pool
// and its worker threads. Both sides import these types from here, so that neither imports the other.
import type { WorkerEngineSettings } from '@basis/tensor';
import type { ActiveBackend, BackendPreference } from '@basis/tensor/backend';
import type { WireError } from '@basis/tensor/node';
import type { ClassificationDataset } from '../data/types.js';
import type { ModelGraph, ParamDict } from '../graph/index.js';
import type { TrainProgress, TrainStart } from './loop.js';
import type { TrainModelResult } from './train-model.js';
import type { TrainSettings } from './train-settings.js';

/**
 * One model to train on the pool: the options of `trainModel` (plain data), and optionally a run
 * directory (then as `trainModelResumable`: checkpoints, resume, final model in the directory).
 *
 * @example
 * ```ts
 * const job: TrainJob = { graph, train, test, recipe: { ...TRAINING_PRESETS.mlpMnist.train, seed: 1 }, runDir: 'runs/mlp/seed-1' };
 * ```
 */
export interface TrainJob {
  graph: ModelGraph;
  train: ClassificationDataset;
  test?: ClassificationDataset;
  recipe: TrainSettings;
  initial?: ParamDict;
  runDir?: string;
  meta?: Record<string, unknown>;
  /** Stop after this many steps in total (the trunk of a spawn). */
  maxSteps?: number;
  /** Continue from this state (a fork when its seed differs from the recipe's); with `runDir`, only when the directory holds no checkpoint yet. */
  start?: TrainStart;
}

/** A training job as sent to a worker: a {@link TrainJob} plus the wire-only fields. */
export interface WireJob extends TrainJob {
  /** Forward step events (else only epochs and checkpoints). */
  steps: boolean;
  /**
   * Abort flag in shared memory, set by the parent: checked after every step, since a busy
   * training loop does not return to the event loop to receive messages.
   */
  abort: Int32Array;
}

/** Parent -> worker messages. */
export type ToTrainWorker =
  | { type: 'init'; backend: BackendPreference; engine: WorkerEngineSettings }
  | { type: 'job'; id: number; job: WireJob };

/** A job's result as sent back (`resumedFrom` only for jobs with a run directory). */
export type WireResult = TrainModelResult & { resumedFrom?: string | null };

/** Worker -> parent messages. */
export type FromTrainWorker =
  | { type: 'ready'; backend: ActiveBackend; engine: WorkerEngineSettings }
  | ({ type: 'init-error' } & WireError)
  | { type: 'progress'; id: number; event: TrainProgress }
  | { type: 'done'; id: number; result: WireResult }
  | ({ type: 'error'; id: number } & WireError);
