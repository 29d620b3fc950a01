// One model to train, as a run context receives it: its own module, so that the executors (which
// carry jobs) and the run context (which calls the executors) need not import each other.
import type { DataSpec, ModelSpec, TrainSettings } from '@basis/zoo';

/**
 * One model to train, as JSON (the input of `RunContext.models`). Everything in it except `label`
 * goes into the cache key, together with the package versions.
 * - `data`, `model`, `recipe`: the zoo's DataSpec, ModelSpec and TrainSettings (the recipe's
 *   `freeze` and `checkpoints` fractions apply);
 * - `seed`: overrides `recipe.seed` (initialisation and data order);
 * - `init`: warm start. `{ from: key }` starts from a model of this run cache (by its `key`);
 *   with `layers` only those parameters or nodes are copied (e.g. a shared trunk) and the rest is
 *   initialised from the seed. `{ params }` starts from explicit parameters (hashed by content).
 *
 * @example
 * ```ts
 * const job: ModelJob = {
 *   data: { dataset: 'mnist', trainSize: 1000, testSize: 500 },
 *   model: { arch: 'mlp', width: 32, depth: 2 },
 *   recipe: { epochs: 2, batchSize: 64, optimizer: { kind: 'adam', lr: 1e-3 } },
 *   seed: 1,
 * };
 * ```
 */
export type ModelJob = {
  data: DataSpec;
  model: ModelSpec;
  recipe: TrainSettings;
  seed?: number | string;
  init?: { from: string; layers?: string[] } | { params: Record<string, { shape: number[]; data: ArrayLike<number> }> };
  /** A name for progress lines; not part of the cache key. */
  label?: string;
};
