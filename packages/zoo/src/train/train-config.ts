// The train config file of `basis train --config` (and the OUT/train.json it writes): a model
// spec, a data spec, training settings, seeds and spawning, each part optional in a file (flags
// and defaults fill the rest). Parsed once, at the door, by `parseTrainConfigFile`.
import * as v from 'valibot';
import { finite, integer, object, optional, parseConfig, text, type Schema } from '@basis/tensor';
import { DataSpecSchema, type DataSpec } from '../model/data-spec.js';
import { ModelSpecSchema, type ModelSpec } from '../model/model-spec.js';
import { TrainSettingsSchema, type TrainSettings } from './train-settings.js';

/**
 * A train config file as `basis train --config FILE` reads it (every part optional: flags and
 * defaults fill the rest). `description` and `target` let a training preset be saved as a file.
 *
 * @example
 * ```ts
 * const file: TrainConfigFile = { model: { arch: 'mlp', width: 64 }, data: { dataset: 'mnist' }, seeds: [0, 1, 2] };
 * ```
 */
export interface TrainConfigFile {
  model?: ModelSpec;
  data?: DataSpec;
  train?: TrainSettings;
  /** One run per seed: non-negative integers or names (letters, digits, `_`, `.`, `-`). */
  seeds?: (number | string)[];
  /** Spawning: train a shared trunk for this many steps, then fork it into the seeds. */
  spawnSteps?: number;
  description?: string;
  target?: { testAccuracy: number };
}

const SEED_NAME = /^[A-Za-z0-9_.-]+$/;
const seedMessage = (i: v.BaseIssue<unknown>): string => `must be a non-negative integer or a name, got ${JSON.stringify(i.input)}`;

/**
 * The seeds of a training run: a non-empty list of distinct non-negative integers or names
 * (letters, digits, `_`, `.`, `-`; each names a run directory `seed-<name>`).
 *
 * @example
 * ```ts
 * parseConfig(SeedListSchema, [0, 1, 'extra'], 'seeds');
 * ```
 */
export const SeedListSchema: Schema<(number | string)[]> = v.pipe(
  v.array(v.union([v.pipe(v.string(seedMessage), v.regex(SEED_NAME, seedMessage)), v.pipe(v.number(seedMessage), v.safeInteger(seedMessage), v.minValue(0, seedMessage))], seedMessage), 'must be a non-empty list of seeds'),
  v.minLength(1, 'must be a non-empty list of seeds'),
  v.check((seeds) => new Set(seeds.map(String)).size === seeds.length, 'lists a seed twice'),
) as unknown as Schema<(number | string)[]>;

/**
 * The schema of a {@link TrainConfigFile} (valibot; see `parseConfig`; published as JSON Schema
 * with the docs).
 *
 * @example
 * ```ts
 * parseConfig(TrainConfigFileSchema, JSON.parse(text), 'config');
 * ```
 */
export const TrainConfigFileSchema: Schema<TrainConfigFile> = object(
  {
    model: optional(ModelSpecSchema),
    data: optional(DataSpecSchema),
    train: optional(TrainSettingsSchema),
    seeds: optional(SeedListSchema),
    spawnSteps: optional(integer(1, undefined, 'a positive integer')),
    description: optional(text('a description')),
    target: optional(object({ testAccuracy: finite({ ge: 0, le: 1 }) })),
  },
  {
    what: 'a JSON object { model, data, train, seeds }',
    unknownKey: () => 'is not a known field; allowed: model, data, train, seeds, spawnSteps',
  },
) as unknown as Schema<TrainConfigFile>;

/**
 * Parses a train config file's JSON value (CONFIG_INVALID naming the field, e.g.
 * `config.train.optimizer.lr`).
 *
 * @example
 * ```ts
 * const file = parseTrainConfigFile(JSON.parse(await readFile(path, 'utf8')));
 * ```
 */
export function parseTrainConfigFile(v: unknown, field = 'config'): TrainConfigFile {
  return parseConfig(TrainConfigFileSchema, v, field);
}

