// The JSON description of the comparisons a recipe declares (`RunContext.compare`) and of the
// activation captures they read: types only, in a module of their own so that the recipe contract
// (recipes/types.ts), the executors and the stage functions (runner/stages.ts) share them without
// importing each other.
import type { DataSpec } from '@basis/zoo';

/**
 * A model whose activations a stage captures: a model of the run cache (`key`), or an untrained
 * model with the graph of a cached model and the zoo's initialisation for `seed` (the reference
 * "same initialisation, no training" pairs of the S000/S002 recipes).
 *
 * @example
 * ```ts
 * const refs: ModelRef[] = [{ key: a.key }, { untrained: { like: a.key, seed: 3 } }];
 * ```
 */
export type ModelRef = { key: string } | { untrained: { like: string; seed: number } };

/**
 * One comparison of two models' representations: every metric of `metrics` (ids of @basis/align)
 * at every capture point of `points`, on the first `inputs` examples of the data spec's `split`
 * (default `test`). Its result is `{ [metric]: number[] }` with one value per point.
 *
 * @example
 * ```ts
 * const spec: CompareSpec = { metrics: ['permcorr'], data: { dataset: 'mnist', trainSize: 4000, testSize: 1000 }, inputs: 1000, points: ['layers.1', 'layers.3'], a: { key: a.key }, b: { key: b.key } };
 * ```
 */
export interface CompareSpec {
  metrics: string[];
  /** Options per metric id (validated by the metric registry). */
  options?: Record<string, Record<string, unknown>>;
  data: DataSpec;
  inputs: number;
  split?: 'test' | 'train';
  points: string[];
  a: ModelRef;
  b: ModelRef;
  /** A name for progress lines and queue jobs; not part of the cache key. */
  label?: string;
}

/** The values of one {@link CompareSpec}: per metric id, one value per capture point. */
export type CompareValues = Record<string, number[]>;

/** What one capture stage computes: the activations of one model at `points` on `inputs` examples. */
export interface CaptureSpec {
  model: ModelRef;
  data: DataSpec;
  inputs: number;
  split: 'test' | 'train';
  points: string[];
}

