// Learning-rate schedules: pure functions of the (0-based) optimizer step.
import { checkInt, checkKeys, checkNum, checkObject, invalid, show } from './validate.js';

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
  const c = Object.fromEntries(Object.entries(checkObject(config, field)).filter(([, v]) => v !== null));
  const lrRaw = c.lr ?? defaults.lr;
  if (lrRaw === undefined) invalid(`${field}.lr`, 'is required (or give the schedule to train(), which uses optimizer.lr)');
  const lr = checkNum(lrRaw, `${field}.lr`, { gt: 0 });
  let warmup: Required<WarmupConfig> | null = null;
  if (c.warmup !== undefined) {
    const w = checkObject(c.warmup, `${field}.warmup`);
    checkKeys(w, ['steps', 'startFactor'], `${field}.warmup`);
    warmup = {
      steps: checkInt(w.steps, `${field}.warmup.steps`, 1),
      startFactor: w.startFactor === undefined ? 0 : checkNum(w.startFactor, `${field}.warmup.startFactor`, { ge: 0, le: 1 }),
    };
  }
  const W = warmup?.steps ?? 0;
  switch (c.kind) {
    case 'constant':
      checkKeys(c, ['kind', 'lr', 'warmup'], field);
      return { kind: 'constant', lr, warmup };
    case 'cosine':
    case 'linear': {
      checkKeys(c, ['kind', 'lr', 'finalLr', 'totalSteps', 'warmup'], field);
      const finalLr = c.finalLr === undefined ? 0 : checkNum(c.finalLr, `${field}.finalLr`, { ge: 0 });
      if (finalLr > lr) invalid(`${field}.finalLr`, `must be <= lr (${lr}), got ${finalLr}`);
      const totalRaw = c.totalSteps ?? defaults.totalSteps;
      if (totalRaw === undefined) invalid(`${field}.totalSteps`, 'is required (or give the schedule to train(), which uses the run length)');
      const totalSteps = checkInt(totalRaw, `${field}.totalSteps`, 1);
      if (totalSteps <= W) invalid(`${field}.totalSteps`, `must exceed warmup.steps (${W}), got ${totalSteps}`);
      return { kind: c.kind, lr, finalLr, totalSteps, warmup };
    }
    case 'step': {
      checkKeys(c, ['kind', 'lr', 'gamma', 'stepSize', 'milestones', 'warmup'], field);
      const gamma = checkNum(c.gamma, `${field}.gamma`, { gt: 0, le: 1 });
      if ((c.stepSize === undefined) === (c.milestones === undefined)) invalid(field, 'needs exactly one of stepSize and milestones');
      let stepSize: number | null = null;
      let milestones: number[] | null = null;
      if (c.stepSize !== undefined) stepSize = checkInt(c.stepSize, `${field}.stepSize`, 1);
      else {
        if (!Array.isArray(c.milestones) || c.milestones.length === 0) invalid(`${field}.milestones`, `must be a non-empty list of steps, got ${show(c.milestones)}`);
        milestones = (c.milestones as unknown[]).map((m, i) => checkInt(m, `${field}.milestones[${i}]`, 1));
        for (let i = 1; i < milestones.length; i++) {
          if (!(milestones[i]! > milestones[i - 1]!)) invalid(`${field}.milestones[${i}]`, `must be greater than the previous milestone (${milestones[i - 1]}), got ${milestones[i]}`);
        }
      }
      return { kind: 'step', lr, gamma, stepSize, milestones, warmup };
    }
    default:
      return invalid(`${field}.kind`, `must be 'constant', 'cosine', 'linear' or 'step', got ${show(c.kind)}`);
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
