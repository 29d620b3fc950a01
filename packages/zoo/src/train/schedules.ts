// Learning-rate schedules: pure functions of the (0-based) optimizer step.
import * as v from 'valibot';
import { at, finite, integer, list, object, optional, parseConfig, type Schema } from '@basis/tensor';
import { checkInt, checkNum, invalid, show } from './validate.js';

/**
 * Linear warm-up over the first `steps` steps: `lr(t) = target · (startFactor + (1 − startFactor)·t/steps)`
 * for `t < steps`, where `target` is the main schedule's value at `t = steps`.
 *
 * @example
 * ```ts
 * const w: WarmupConfig = { steps: 100, startFactor: 0.1 };
 * ```
 */
export interface WarmupConfig {
  /** Warm-up length in steps (>= 1). */
  steps: number;
  /** Fraction of the target lr at step 0, in [0, 1] (default 0). */
  startFactor?: number;
}

/**
 * A schedule configuration (plain JSON). Step counts are absolute optimizer steps from the start of
 * training, 0-based: `lr(t)` is the learning rate of the update that takes the step count from t to
 * t + 1. `lr` defaults to the optimizer's lr when the schedule is given to `train`; `totalSteps`
 * (cosine, linear) defaults to the run's total steps.
 *
 * - `constant`: `lr`.
 * - `cosine`: from `lr` at the end of warm-up to `finalLr` (default 0) at `totalSteps`, along half a
 *   cosine; `finalLr` afterwards.
 * - `linear`: the same with a straight line.
 * - `step`: `lr · gamma^k`, k = `floor(t / stepSize)` or the number of `milestones` <= t.
 *
 * @example
 * ```ts
 * const s: ScheduleConfig = { kind: 'cosine', lr: 0.1, finalLr: 1e-4, totalSteps: 5000, warmup: { steps: 200 } };
 * ```
 */
export type ScheduleConfig =
  | { kind: 'constant'; lr?: number; warmup?: WarmupConfig }
  | { kind: 'cosine' | 'linear'; lr?: number; finalLr?: number; totalSteps?: number; warmup?: WarmupConfig }
  | { kind: 'step'; lr?: number; gamma: number; stepSize?: number; milestones?: readonly number[]; warmup?: WarmupConfig };

/**
 * A schedule configuration with every default filled in.
 *
 * @example
 * ```ts
 * createSchedule({ kind: 'constant', lr: 0.1 }).config; // { kind: 'constant', lr: 0.1, warmup: null }
 * ```
 */
export type ResolvedScheduleConfig =
  | { kind: 'constant'; lr: number; warmup: Required<WarmupConfig> | null }
  | { kind: 'cosine' | 'linear'; lr: number; finalLr: number; totalSteps: number; warmup: Required<WarmupConfig> | null }
  | { kind: 'step'; lr: number; gamma: number; stepSize: number | null; milestones: number[] | null; warmup: Required<WarmupConfig> | null };

/**
 * A learning-rate schedule: call it with a 0-based step to get the learning rate.
 *
 * @example
 * ```ts
 * const s = createSchedule({ kind: 'step', lr: 0.1, gamma: 0.1, milestones: [1000, 1500] });
 * s(0); s(1000); s(1500); // 0.1, 0.01, 0.001 (up to rounding)
 * ```
 */
export interface Schedule {
  (step: number): number;
  readonly config: Readonly<ResolvedScheduleConfig>;
}

/**
 * Defaults filled in by {@link createSchedule} (`train` passes the optimizer lr and the run length).
 *
 * @example
 * ```ts
 * createSchedule({ kind: 'cosine' }, { lr: 0.1, totalSteps: 1000 });
 * ```
 */
export interface ScheduleDefaults {
  lr?: number;
  totalSteps?: number;
}

const warmup = optional(object({ steps: integer(1), startFactor: optional(finite({ ge: 0, le: 1 })) }));
const lr = optional(finite({ gt: 0 }));

/**
 * The schema of a {@link ScheduleConfig} (valibot; see `parseConfig`): one variant per kind with
 * its own options; `step` needs exactly one of `stepSize` and increasing `milestones`. Options
 * given as `null` (a resolved configuration) are read as absent by {@link resolveScheduleConfig}.
 *
 * @example
 * ```ts
 * parseConfig(ScheduleConfigSchema, { kind: 'cosine', warmup: { steps: 100 } }, 'schedule');
 * ```
 */
export const ScheduleConfigSchema: Schema<ScheduleConfig> = v.variant(
  'kind',
  [
    object({ kind: v.literal('constant'), lr, warmup }),
    object({ kind: v.picklist(['cosine', 'linear']), lr, finalLr: optional(finite({ ge: 0 })), totalSteps: optional(integer(1)), warmup }),
    v.pipe(
      object({ kind: v.literal('step'), lr, gamma: finite({ gt: 0, le: 1 }), stepSize: optional(integer(1)), milestones: optional(list(integer(1), 'steps', { min: 1, emptyMessage: 'must be a non-empty list of steps, got an array of length 0' })), warmup }),
      v.rawCheck(({ dataset, addIssue }) => {
        if (!dataset.typed) return;
        const o = dataset.value;
        if ((o.stepSize === undefined) === (o.milestones === undefined)) return addIssue({ message: 'needs exactly one of stepSize and milestones' });
        const m = o.milestones ?? [];
        for (let i = 1; i < m.length; i++) {
          if (!(m[i]! > m[i - 1]!)) return addIssue({ message: `must be greater than the previous milestone (${m[i - 1]}), got ${m[i]}`, path: [at(o, 'milestones'), { type: 'array', origin: 'value', input: m, key: i, value: m[i] }] });
        }
      }),
    ),
  ],
  (i) => (i.expected === 'Object' ? `must be an object, got ${show(i.input)}` : `must be 'constant', 'cosine', 'linear' or 'step', got ${show(i.input)}`),
) as unknown as Schema<ScheduleConfig>;

/**
 * What is wrong with a parsed schedule given the learning rate it starts from and the run length
 * (a final lr above the start, or a run no longer than the warm-up), or null. Shared by
 * {@link resolveScheduleConfig} and the training-settings schema, which knows `optimizer.lr`.
 *
 * @example
 * ```ts
 * scheduleProblem({ kind: 'cosine', finalLr: 1 }, 0.1, 1000); // { key: 'finalLr', message: 'must be <= lr (0.1), got 1' }
 * ```
 */
export function scheduleProblem(c: ScheduleConfig, lr: number, totalSteps: number | undefined): { key: 'finalLr' | 'totalSteps'; message: string } | null {
  if (c.kind !== 'cosine' && c.kind !== 'linear') return null;
  const finalLr = c.finalLr ?? 0;
  if (finalLr > lr) return { key: 'finalLr', message: `must be <= lr (${lr}), got ${finalLr}` };
  const W = c.warmup?.steps ?? 0;
  if (totalSteps !== undefined && totalSteps <= W) return { key: 'totalSteps', message: `must exceed warmup.steps (${W}), got ${totalSteps}` };
  return null;
}

/**
 * Validates a schedule configuration and fills in defaults; CONFIG_INVALID names the bad field.
 *
 * @example
 * ```ts
 * resolveScheduleConfig({ kind: 'cosine' }, { lr: 0.1, totalSteps: 1000 }).finalLr; // 0
 * ```
 */
export function resolveScheduleConfig(config: unknown, defaults: ScheduleDefaults = {}, field = 'schedule'): ResolvedScheduleConfig {
  // a resolved configuration (null for absent options) is accepted as input too
  const raw = typeof config === 'object' && config !== null && !Array.isArray(config) ? Object.fromEntries(Object.entries(config).filter(([, x]) => x !== null)) : config;
  const c = parseConfig(ScheduleConfigSchema, raw, field);
  const lrRaw = c.lr ?? defaults.lr;
  if (lrRaw === undefined) invalid(`${field}.lr`, 'is required (or give the schedule to train(), which uses optimizer.lr)');
  const lr = c.lr ?? checkNum(lrRaw, `${field}.lr`, { gt: 0 });
  const warmup: Required<WarmupConfig> | null = c.warmup === undefined ? null : { steps: c.warmup.steps, startFactor: c.warmup.startFactor ?? 0 };
  switch (c.kind) {
    case 'constant':
      return { kind: 'constant', lr, warmup };
    case 'cosine':
    case 'linear': {
      const totalRaw = c.totalSteps ?? defaults.totalSteps;
      if (totalRaw === undefined) invalid(`${field}.totalSteps`, 'is required (or give the schedule to train(), which uses the run length)');
      const totalSteps = c.totalSteps ?? checkInt(totalRaw, `${field}.totalSteps`, 1);
      const problem = scheduleProblem(c, lr, totalSteps);
      if (problem !== null) invalid(`${field}.${problem.key}`, problem.message);
      return { kind: c.kind, lr, finalLr: c.finalLr ?? 0, totalSteps, warmup };
    }
    case 'step':
      return { kind: 'step', lr, gamma: c.gamma, stepSize: c.stepSize ?? null, milestones: c.milestones === undefined ? null : [...c.milestones], warmup };
  }
}

function mainValue(c: ResolvedScheduleConfig, t: number): number {
  switch (c.kind) {
    case 'constant':
      return c.lr;
    case 'cosine':
    case 'linear': {
      const W = c.warmup?.steps ?? 0;
      if (t <= W) return c.lr;
      if (t >= c.totalSteps) return c.finalLr;
      const p = (t - W) / (c.totalSteps - W);
      const shape = c.kind === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * p)) : 1 - p;
      return c.finalLr + (c.lr - c.finalLr) * shape;
    }
    case 'step': {
      let k = 0;
      if (c.stepSize !== null) k = Math.floor(t / c.stepSize);
      else for (const m of c.milestones!) if (t >= m) k++;
      return c.lr * Math.pow(c.gamma, k);
    }
  }
}

/**
 * A schedule from a configuration: a pure function of the step (no state, so resuming at any step
 * gives the same learning rates).
 *
 * @example
 * ```ts
 * const s = createSchedule({ kind: 'cosine', lr: 0.1, totalSteps: 100, warmup: { steps: 10 } });
 * s(0);   // 0      (warm-up from 0)
 * s(5);   // 0.05
 * s(10);  // 0.1    (peak)
 * s(55);  // 0.05   (half-way down the cosine)
 * s(100); // 0
 * ```
 */
export function createSchedule(config: ScheduleConfig | ResolvedScheduleConfig, defaults: ScheduleDefaults = {}): Schedule {
  const c = Object.freeze(resolveScheduleConfig(config, defaults));
  const fn = (step: number): number => {
    if (!Number.isSafeInteger(step) || step < 0) invalid('schedule(step): step', `must be an integer >= 0, got ${show(step)}`);
    const w = c.warmup;
    if (w !== null && step < w.steps) {
      const target = mainValue(c, w.steps);
      return target * (w.startFactor + ((1 - w.startFactor) * step) / w.steps);
    }
    return mainValue(c, step);
  };
  return Object.assign(fn, { config: c }) as Schedule;
}

/**
 * Whether a value is a {@link Schedule} made by {@link createSchedule}.
 *
 * @example
 * ```ts
 * isSchedule(createSchedule({ kind: 'constant', lr: 0.1 })); // true
 * isSchedule((step: number) => 0.1);                          // false
 * ```
 */
export function isSchedule(v: unknown): v is Schedule {
  return typeof v === 'function' && typeof (v as Partial<Schedule>).config === 'object';
}
