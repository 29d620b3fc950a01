// Evaluation tasks: computations on trained models of the run cache that a recipe declares as JSON
// specs (`RunContext.evaluate`) instead of closures, so that they can run anywhere: in the
// submitting process (the local path) or as queue jobs on `basis worker` processes, which load the
// models from the shared store. Both paths call the task's `run` and write the same memo file
// (`cache/<hash>.json`, as `RunContext.cached` names it), so a value computed on a worker is the
// value a local run computes. Types only here; the tasks a worker knows are listed in
// queue/worker.ts (EVAL_TASKS).
import type { ModelGraph } from '@basis/zoo';

/**
 * A model of the run cache as an evaluation task sees it: its key, graph and float64 parameters
 * (the `CachedModel` fields a task may read).
 *
 * @example
 * ```ts
 * const m: TaskModel = { key: a.key, graph: a.graph, params: a.params };
 * ```
 */
export interface TaskModel {
  key: string;
  graph: ModelGraph;
  params: Record<string, { shape: number[]; data: Float64Array }>;
}

/**
 * A kind of evaluation of cached models, described by a JSON spec `S` and producing a
 * JSON-serialisable value `V`. `kind` names the task (and its queue job kind); `check` validates a
 * spec at the door (CONFIG_INVALID naming the field); `memoKey` is the spec's memo key (as for
 * `RunContext.cached`: hashed with the recipe id and package versions into `cache/<hash>.json`);
 * `models` lists the keys of the cached models it reads; `run` computes the value on the tfjs
 * backend that is active (workers select the submitter's).
 *
 * @example
 * ```ts
 * const NORM: EvalTask<{ a: string }, number> = {
 *   kind: 'norm',
 *   check: (v) => v as { a: string },
 *   memoKey: (s) => ({ what: 'norm', a: s.a }),
 *   models: (s) => [s.a],
 *   label: (s) => `norm of ${s.a.slice(0, 12)}`,
 *   run: async (s, model) => Object.values(model(s.a).params).reduce((t, p) => t + p.data.reduce((u, x) => u + x * x, 0), 0),
 * };
 * const [n] = await ctx.evaluate(NORM, [{ a: m.key }]);
 * ```
 */
export interface EvalTask<S = unknown, V = unknown> {
  readonly kind: string;
  check(spec: unknown, field: string): S;
  memoKey(spec: S): unknown;
  models(spec: S): string[];
  label(spec: S): string;
  run(spec: S, model: (key: string) => TaskModel): Promise<V>;
}

/**
 * One evaluation of an {@link Executor.evaluate} call: the task kind, the hash of its memo file
 * (`dir/cache/<key>.json`), a label, and the validated spec.
 *
 * @example
 * ```ts
 * const t: EvalJobTask = { kind: 'mode-pair', key: memoHash(recipeId, task.memoKey(spec), versions), label: task.label(spec), spec };
 * ```
 */
export interface EvalJobTask {
  kind: string;
  key: string;
  label: string;
  spec: unknown;
}
