// Training settings: how to train a model (optimizer, schedule, epochs, batch size, seed, ...), as
// plain JSON from config files, presets and experiment configurations. Parsed once at the door
// (`parseTrainSettings`); `resolveTrainSettings` fills in the defaults of a parsed value.
import * as v from 'valibot';
import { numBatches } from '../data/batch.js';
import { at, boolean, finite, integer, list, isParsed, markParsed, object, oneOf, optional, parseConfig, seed, text, type Schema } from '@basis/tensor';
import { OptimizerConfigSchema, type OptimizerConfig } from './optimizers.js';
import { ScheduleConfigSchema, scheduleProblem, type ScheduleConfig } from './schedules.js';

/**
 * How to train: optimizer, schedule, epochs, batch size, seed and the rest, as plain JSON (it is
 * recorded in checkpoint manifests and can come from a config file).
 *
 * @example
 * ```ts
 * const settings: TrainSettings = {
 *   epochs: 10, batchSize: 128, seed: 0,
 *   optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true },
 *   schedule: { kind: 'cosine' }, weightDecay: 5e-4,
 * };
 * ```
 */
export interface TrainSettings {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  /** Learning-rate schedule (default: constant at `optimizer.lr`). */
  schedule?: ScheduleConfig | null;
  /** Seed of the initialisation and of the data order (default 0). Init uses the stream `createRng(seed).fork('init')`. */
  seed?: number | string;
  /** Weight decay; overrides `optimizer.weightDecay` when given. */
  weightDecay?: number;
  /** Parameters to keep fixed: parameter names (`layers.0.weight`) or node names (`layers.0`: all its parameters). */
  freeze?: readonly string[];
  /** Extra checkpoints at these epoch fractions (e.g. `[0, 0.1, 0.25, 0.5]`); every epoch end is checkpointed too. */
  checkpoints?: readonly number[];
  /** Initialisation scheme (default `'pytorch'`). */
  init?: 'pytorch' | 'he';
  /** Skip a last incomplete batch per epoch (default false). */
  dropLast?: boolean;
  /** Batch size of evaluation passes (default 1000). */
  evalBatchSize?: number;
}

/**
 * Training settings with defaults filled in and the optimizer's weight decay resolved.
 *
 * @example
 * ```ts
 * resolveTrainSettings({ epochs: 1, batchSize: 32, optimizer: { kind: 'adam', lr: 1e-3 } }).seed; // 0
 * ```
 */
export interface ResolvedTrainSettings {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  schedule: ScheduleConfig | null;
  seed: number | string;
  freeze: string[];
  checkpoints: number[];
  init: 'pytorch' | 'he';
  dropLast: boolean;
  evalBatchSize: number;
}

/**
 * The schema of {@link TrainSettings} (valibot; see `parseConfig`): the optimizer and schedule
 * schemas, checkpoints within the run, and a schedule whose final lr does not exceed the lr it
 * starts from (`schedule.lr`, else `optimizer.lr`).
 *
 * @example
 * ```ts
 * parseConfig(TrainSettingsSchema, { epochs: 2, batchSize: 64, optimizer: { kind: 'adam', lr: 1e-3 } }, 'train');
 * ```
 */
export const TrainSettingsSchema: Schema<TrainSettings> = v.pipe(
  object({
    epochs: integer(1),
    batchSize: integer(1),
    optimizer: OptimizerConfigSchema,
    schedule: optional(v.nullable(ScheduleConfigSchema)),
    seed: optional(seed()),
    weightDecay: optional(finite({ ge: 0 })),
    freeze: optional(list(text('a parameter or node name'), 'parameter or node names')),
    checkpoints: optional(list(finite({ ge: 0 }), 'epoch fractions')),
    init: optional(oneOf(['pytorch', 'he'], { quoted: true })),
    dropLast: optional(boolean()),
    evalBatchSize: optional(integer(1)),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const o = dataset.value;
    const cps = o.checkpoints ?? [];
    for (let i = 0; i < cps.length; i++) {
      if (cps[i]! > o.epochs) return addIssue({ message: `must be <= ${o.epochs}, got ${cps[i]}`, path: [at(o, 'checkpoints'), { type: 'array', origin: 'value', input: cps, key: i, value: cps[i] }] });
    }
    const s = o.schedule;
    if (s !== undefined && s !== null) {
      const p = scheduleProblem(s, s.lr ?? o.optimizer.lr, s.kind === 'cosine' || s.kind === 'linear' ? s.totalSteps : undefined);
      if (p !== null) addIssue({ message: p.message, path: [at(o, 'schedule'), at(s as unknown as Record<string, unknown>, p.key)] });
    }
  }),
) as unknown as Schema<TrainSettings>;

/**
 * Parses training settings (CONFIG_INVALID naming the field, e.g. `config.train.optimizer.lr`)
 * into a frozen {@link TrainSettings}; a value this function returned is trusted as it is.
 *
 * @example
 * ```ts
 * const settings = parseTrainSettings(JSON.parse(text).train, 'config.train');
 * ```
 */
export function parseTrainSettings(v: unknown, field = 'recipe'): TrainSettings {
  return parseConfig(TrainSettingsSchema, v, field);
}

/**
 * Training settings (parsed first, see {@link parseTrainSettings}) with their defaults filled in:
 * seed 0, no schedule, no frozen parameters or extra checkpoints, PyTorch initialisation, last
 * batch kept, evaluation batches of 1000; a top-level `weightDecay` replaces the optimizer's.
 *
 * @example
 * ```ts
 * const r = resolveTrainSettings(JSON.parse(text).train, 'config.train');
 * r.seed; // 0 unless given
 * ```
 */
export function resolveTrainSettings(v: unknown, field = 'recipe'): ResolvedTrainSettings {
  const s = parseTrainSettings(v, field);
  return {
    epochs: s.epochs,
    batchSize: s.batchSize,
    optimizer: s.weightDecay === undefined ? s.optimizer : { ...s.optimizer, weightDecay: s.weightDecay },
    schedule: s.schedule ?? null,
    seed: s.seed ?? 0,
    freeze: [...(s.freeze ?? [])],
    checkpoints: [...(s.checkpoints ?? [])],
    init: s.init ?? 'pytorch',
    dropLast: s.dropLast ?? false,
    evalBatchSize: s.evalBatchSize ?? 1000,
  };
}

/**
 * Optimizer steps per epoch for `n` training examples: `ceil(n / batchSize)`, or `floor` with
 * `dropLast` (the count the training loop runs).
 *
 * @example
 * ```ts
 * stepsPerEpoch(10_000, { batchSize: 128, dropLast: false }); // 79
 * ```
 */
export function stepsPerEpoch(n: number, s: { batchSize: number; dropLast?: boolean }): number {
  return numBatches(n, s.batchSize, s.dropLast ?? false);
}

/**
 * The built-in default settings without a warm-up that would not fit in a run of `totalSteps`
 * optimizer steps (a shortened run of a preset), or the settings themselves when it fits.
 *
 * @example
 * ```ts
 * withoutLongWarmup(TRAINING_PRESETS.miniMyrtleFashion.train, 50).schedule; // { kind: 'cosine' }
 * ```
 */
export function withoutLongWarmup(s: TrainSettings, totalSteps: number): TrainSettings {
  const schedule = s.schedule;
  if (schedule === undefined || schedule === null || schedule.warmup === undefined || schedule.warmup.steps < totalSteps) return s;
  const { warmup: _w, ...rest } = schedule;
  return parseTrainSettings({ ...s, schedule: rest }, 'train');
}

const SEED = seed();

/**
 * Parsed training settings with another seed (only the seed is checked: settings this module
 * parsed stay trusted); unparsed settings are parsed whole.
 *
 * @example
 * ```ts
 * const child = withSeed(TRAINING_PRESETS.mlpMnist.train, 3); // { ...settings, seed: 3 }
 * ```
 */
export function withSeed(s: TrainSettings, seedValue: number | string, field = 'seed'): TrainSettings {
  const v = parseConfig(SEED, seedValue, field);
  if (!isParsed(TrainSettingsSchema, s)) return parseTrainSettings({ ...s, seed: v });
  return markParsed(TrainSettingsSchema, { ...s, seed: v });
}
