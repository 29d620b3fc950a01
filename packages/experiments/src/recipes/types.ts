// The contract between the experiment runner (`basis reproduce`, the run cache, reports) and the
// recipes, one per seed experiment (seeds-spec section 2). Types only: the runner implements
// RunContext; each recipe module exports one `ExperimentRecipe`.
import type { Schema } from '@basis/tensor';
import type { ModelGraph, TrainModelResult } from '@basis/zoo';
import type { Figure, Table } from '../report.js';
import type { CompareSpec, CompareValues } from '../runner/compare-spec.js';
import type { EvalTask } from '../runner/eval-task.js';

/**
 * `quick` finishes in about a minute on 2 cores (CI smoke; too small to decide a claim);
 * `standard` trains models until test accuracy plateaus with at least 5 independent seeds, within
 * about 30 minutes per experiment on 2 cores with the native engine (the gallery's profile);
 * `full` is closer to the papers' scale.
 */
export type Profile = 'quick' | 'standard' | 'full';

/**
 * One recorded recipe run (a committed gallery report): its run time, models trained and reused,
 * threads and configuration. The run-time estimates (`runner/cost.ts`) are fitted to these.
 *
 * @example
 * ```ts
 * const t: RecordedTiming = { id: 'E000-1', profile: 'standard', seconds: 120, trained: 12, reused: 0, threads: 2, started: '2026-12-07T00:00:00Z', config: {} };
 * ```
 */
export interface RecordedTiming {
  id: string;
  profile: Profile;
  seconds: number;
  trained: number;
  reused: number;
  threads: number;
  started: string;
  config: unknown;
}

/** Every profile, smallest first. */
export const PROFILES: readonly Profile[] = ['quick', 'standard', 'full'];

/** The verdict a recipe reaches about the paper's claim. */
export type Verdict = 'held' | 'not held' | 'inconclusive';

/** A number with a confidence interval over seeds or pairs (t interval unless `method` says otherwise). */
export interface Estimate {
  mean: number;
  lo: number;
  hi: number;
  /** Number of independent values behind the estimate (seeds, pairs, folds, conditions; clusters for `cluster-t95`). */
  n: number;
  /** `t95`: t interval over independent values; `bootstrap95`: percentile bootstrap; `cluster-t95`: t interval over cluster means (dependent values grouped, e.g. by lineage); `none`: no interval. */
  method?: 't95' | 'bootstrap95' | 'cluster-t95' | 'none';
}

/** One claim checked by a recipe, with what the paper says and what basis measured. */
export interface ClaimCheck {
  /** The claim in the paper's words (or seeds-spec's reading of it). */
  claim: string;
  /** What the paper reports (numbers copied exactly where the seed gives them), or '' when it gives none. */
  paper: string;
  /** What basis measured, in words with numbers. */
  measured: string;
  verdict: Verdict;
  /** The estimates behind `measured`, by name. */
  estimates?: Record<string, Estimate>;
  /** The key of `estimates` that decides the verdict (the index page's measured value and interval). */
  primary?: string;
  /** The decision criterion with its numbers (null, minimum effect size). */
  criterion?: string;
  /** What measured change would move the verdict (the index page's last column). */
  change?: string;
  /** Estimator warnings (non-converged chains, failed decompositions, excluded conditions); any forces 'inconclusive'. */
  warnings?: string[];
}

/**
 * A trained model served by the run cache. `key` is the content hash of everything that
 * produced it (data spec, model spec, recipe, seed, warm start, frozen layers, steps).
 */
export interface CachedModel {
  key: string;
  graph: ModelGraph;
  /** Parameters as float64 arrays by PyTorch-style name (the checkpoint's contents). */
  params: Record<string, { shape: number[]; data: Float64Array }>;
  /** The training summary (accuracy, loss, per-epoch records). */
  result: TrainModelResult;
  /** Directory of the checkpoint in the run folder. */
  dir: string;
  /** True when it was loaded from the cache instead of trained in this run. */
  cached: boolean;
  /**
   * The checkpoints written while training (the recipe's `checkpoints` epoch fractions and every
   * epoch end), by increasing step; each `path` is a checkpoint directory that `loadModel` reads.
   * `epoch` is fractional (epochs done). Added by the runner; optional for other implementations.
   */
  checkpoints?: Array<{ step: number; epoch: number; path: string }>;
}

/** What the runner gives a recipe. Everything expensive goes through it so that it is cached and resumable. */
export interface RunContext {
  profile: Profile;
  /** Base seed of the run (recipes derive model seeds from it). */
  seed: number;
  /** The run directory (the cache lives under it). */
  dir: string;
  /**
   * Trains the models of `jobs` (several at once on the worker pool) or loads them from the
   * cache when an identical job finished before. Order of the result = order of `jobs`.
   * A job is the JSON-serialisable description accepted by the zoo's training
   * (data, model, recipe, seed, and optional init/freeze/checkpoint fractions).
   */
  models(jobs: ReadonlyArray<Record<string, unknown>>): Promise<CachedModel[]>;
  /**
   * Memoises a JSON-serialisable computation under the run directory, keyed by `key`
   * (hashed together with the recipe id): a second run or a resumed run returns the stored value.
   */
  cached<T>(key: unknown, compute: () => Promise<T> | T): Promise<T>;
  /**
   * Compares the representations of pairs of models (cached models by key, or untrained ones
   * like them): each spec's metrics at each capture point, memoised in the run cache like
   * `cached`. Order of the result = order of `specs`. With a queue executor the activation
   * captures and the comparisons are queue jobs (captures after their models, comparisons after
   * their captures); locally they run in this process. `stage` names the progress stage
   * (default 'comparisons').
   */
  compare(specs: ReadonlyArray<CompareSpec>, opts?: { stage?: string }): Promise<CompareValues[]>;
  /**
   * Runs an evaluation task (a computation on cached models described by a JSON spec, e.g. the
   * interpolation curve and LLFC of a pair of models) for each spec, memoised in the run cache like
   * `cached` under the task's memo key. Order of the result = order of `specs`. With a queue
   * executor each missing evaluation is a queue job of the task's kind, run by a worker; locally
   * they run in this process, one after the other. `stage` names the progress stage (default
   * `<kind> evaluations`).
   */
  evaluate<S, V>(task: EvalTask<S, V>, specs: ReadonlyArray<S>, opts?: { stage?: string }): Promise<V[]>;
  /** Progress: a stage name, items done and total (the CLI shows bars and time left). */
  progress(stage: string, done: number, total: number): void;
  /** Aborted when the user interrupts; finished work is already on disk. */
  signal: AbortSignal;
}

/** What a recipe returns. The runner turns it into report.html, result.json, figures (.svg/.csv). */
export interface RecipeResult {
  checks: ClaimCheck[];
  figures: Figure[];
  tables: Table[];
  /** Free-form notes: [OPEN] choices used, deviations from the paper, caveats. */
  notes: string[];
  /** Everything measured, JSON-serialisable (written to result.json). */
  data: Record<string, unknown>;
}

/** One experiment of seeds-spec section 2. */
export interface ExperimentRecipe<C = Record<string, unknown>> {
  /** `E000-1` … `V001-4`. */
  id: string;
  title: string;
  /** Source paper id (`S000`, `S002`, …) and the figure/table reproduced. */
  source: string;
  /**
   * The recipe's own source files under src/recipes (default `<id in lower case>.ts`); their hash,
   * with the configuration, is recorded in every report so a stale committed report is detected.
   */
  sources?: readonly string[];
  /** The configuration of each profile (validated, shown verbatim in the report). */
  profiles: Record<Profile, C>;
  /**
   * The configuration as a valibot schema, where the recipe declares one (`recipeConfig` in
   * runner/check.ts gives both this and `checkConfig`); the docs publish it as JSON Schema.
   */
  configSchema?: Schema<C>;
  /**
   * Validates a user-supplied configuration (throws BasisError CONFIG_INVALID with the field path):
   * `parseConfig` with `configSchema` where there is one, else the recipe's hand-written checks.
   */
  checkConfig(v: unknown): C;
  run(ctx: RunContext, config: C): Promise<RecipeResult>;
}
