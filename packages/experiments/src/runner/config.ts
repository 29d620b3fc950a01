// Declarative experiment configurations: JSON or YAML files that either override a recipe
// profile's configuration, or describe a whole experiment ({ experiment, profile, seed, config }).
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { BasisError } from '@basis/tensor';
import { checkInt, checkKeys, checkObject, invalid, show } from './check.js';

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
  const o = checkObject(raw, where);
  if (!('experiment' in o)) return { config: o };
  checkKeys(o, ['experiment', 'profile', 'seed', 'config'], where);
  if (typeof o.experiment !== 'string' || o.experiment === '') invalid(`${where}.experiment`, `must be an experiment id such as 'E000-1', got ${show(o.experiment)}`);
  const out: ExperimentFile = { experiment: o.experiment, config: o.config === undefined ? {} : checkObject(o.config, `${where}.config`) };
  if (o.profile !== undefined) {
    if (o.profile !== 'quick' && o.profile !== 'standard' && o.profile !== 'full') invalid(`${where}.profile`, `must be 'quick', 'standard' or 'full', got ${show(o.profile)}`);
    out.profile = o.profile;
  }
  if (o.seed !== undefined) out.seed = checkInt(o.seed, `${where}.seed`, 0);
  return out;
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
