// Declarative experiment configurations: JSON or YAML files that either override a recipe
// profile's configuration, or describe a whole experiment ({ experiment, profile, seed, config }).
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { BasisError } from '@basis/tensor';
import * as v from 'valibot';
import { integer, notArray, object, oneOf, optional, parseConfig, show, text, type Schema } from '@basis/tensor';

/**
 * A parsed experiment file. `config` overrides the chosen profile's configuration (objects merge
 * key by key, everything else, lists included, replaces).
 *
 * @example
 * ```ts
 * const f: ExperimentFile = { experiment: 'E000-1', profile: 'quick', config: { widths: [16, 32] } };
 * ```
 */
export interface ExperimentFile {
  /** Experiment id (`E000-1`); absent in a plain override file. */
  experiment?: string;
  profile?: 'quick' | 'standard' | 'full';
  seed?: number;
  config: Record<string, unknown>;
}

const configObject = (what: string): Schema<Record<string, unknown>> => {
  const m = (i: v.BaseIssue<unknown>): string => `must be ${what}, got ${show(i.input)}`;
  return notArray(v.record(v.string(), v.unknown(), m), m);
};

/**
 * The schema of a plain override file: any object, whose fields override the profile's
 * configuration (each recipe checks its own fields after the merge).
 *
 * @example
 * ```ts
 * parseConfig(ExperimentOverrideSchema, { widths: [16, 32] }, 'widths.json');
 * ```
 */
export const ExperimentOverrideSchema: Schema<Record<string, unknown>> = configObject('an object');

/**
 * The schema of a whole experiment file `{ experiment, profile, seed, config }` (valibot; published
 * as JSON Schema with the docs, together with the plain override form).
 *
 * @example
 * ```ts
 * parseConfig(ExperimentFileSchema, { experiment: 'E000-1', profile: 'quick' }, 'e.yaml');
 * ```
 */
export const ExperimentFileSchema: Schema<ExperimentFile> = object({
  experiment: text("an experiment id such as 'E000-1'"),
  profile: optional(oneOf(['quick', 'standard', 'full'], { quoted: true })),
  seed: optional(integer(0)),
  config: optional(configObject('an object of configuration fields')),
}) as unknown as Schema<ExperimentFile>;

/**
 * Parses experiment-file text (JSON, or YAML when `format` is 'yaml'); syntax errors are
 * CONFIG_INVALID with the line. A file with an `experiment` key is a whole experiment
 * (`experiment`, `profile`, `seed`, `config`); any other object is a plain override of the profile.
 *
 * @example
 * ```ts
 * parseExperimentText('experiment: E000-1\nconfig:\n  widths: [16, 32]\n', 'yaml', 'e.yaml');
 * ```
 */
export function parseExperimentText(text: string, format: 'json' | 'yaml', where = 'config'): ExperimentFile {
  let raw: unknown;
  try {
    raw = format === 'json' ? JSON.parse(text) : parseYaml(text, { prettyErrors: true });
  } catch (e) {
    throw new BasisError('CONFIG_INVALID', `${where}: not valid ${format.toUpperCase()}: ${(e as Error).message.split('\n')[0]}`, { details: { field: where } });
  }
  const o = parseConfig(ExperimentOverrideSchema, raw, where);
  if (!('experiment' in o)) return { config: structuredClone(o) };
  const f = parseConfig(ExperimentFileSchema, o, where);
  // the recipe's own checks read `config` (after merging it into a profile), so it stays a plain, unfrozen object
  return { ...f, config: f.config === undefined ? {} : structuredClone(f.config) };
}

/**
 * Reads an experiment file (`.json`, `.yaml` or `.yml`); BAD_FILE when it cannot be read,
 * CONFIG_INVALID when its content is wrong.
 *
 * @example
 * ```ts
 * const f = await readExperimentFile('experiments/widths.yaml');
 * ```
 */
export async function readExperimentFile(path: string): Promise<ExperimentFile> {
  const ext = extname(path).toLowerCase();
  if (ext !== '.json' && ext !== '.yaml' && ext !== '.yml') throw new BasisError('CONFIG_INVALID', `${path}: an experiment file must end in .json, .yaml or .yml`, { details: { field: 'config' } });
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new BasisError('BAD_FILE', `${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, { details: { path } });
  }
  return parseExperimentText(text, ext === '.json' ? 'json' : 'yaml', path);
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/**
 * `base` overridden by `over`: plain objects merge key by key (recursively), anything else in
 * `over` replaces the value in `base`. Neither input is modified.
 *
 * @example
 * ```ts
 * mergeConfig({ train: { epochs: 2, batchSize: 64 }, widths: [8, 16] }, { train: { epochs: 5 }, widths: [32] });
 * // { train: { epochs: 5, batchSize: 64 }, widths: [32] }
 * ```
 */
export function mergeConfig<T extends Record<string, unknown>>(base: T, over: Record<string, unknown>): T {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isPlain(v) && isPlain(out[k]) ? mergeConfig(out[k] as Record<string, unknown>, v) : v;
  return out as T;
}
