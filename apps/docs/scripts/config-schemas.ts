// JSON Schemas of basis' config files, generated from the valibot schemas the code parses them
// with (so editors complete and check the same rules the CLI applies). Committed under
// public/schemas/ (served with the site); config-schemas.test.ts checks that the committed files
// equal what this generates, and that the documented examples validate. Run `pnpm run schemas`
// in apps/docs after changing a schema.
import { writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as v from 'valibot';
import { toJsonSchema, type ConversionConfig } from '@valibot/to-json-schema';
import { ExperimentFileSchema, ExperimentOverrideSchema, RECIPE_LIST } from '@basis/experiments/node';
import { DataSpecSchema, ModelSpecSchema, TrainConfigFileSchema } from '@basis/zoo';

/** Where the site publishes the schemas (https://<site>/schemas/<file>). */
export const SCHEMA_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'schemas');

/** One published schema: its file name, title and the valibot schema it is generated from. */
export interface ConfigSchema {
  file: string;
  title: string;
  description: string;
  schema: v.GenericSchema;
  /** Adjusts the converted schema where JSON Schema needs a rule valibot states otherwise. */
  patch?: (json: Record<string, unknown>) => void;
}

/** The config files with a published JSON Schema. */
export const CONFIG_SCHEMAS: readonly ConfigSchema[] = [
  {
    file: 'train-config.schema.json',
    title: 'basis train config file',
    description: 'The file of `basis train --config FILE` (and the OUT/train.json it writes): model, data, train, seeds, spawnSteps; flags override its fields.',
    schema: TrainConfigFileSchema,
  },
  {
    file: 'reproduce-config.schema.json',
    title: 'basis reproduce config file',
    description: 'The file of `basis reproduce --config FILE`: a whole experiment { experiment, profile, seed, config }, or a plain object of fields overriding the profile (each recipe checks its own fields). A whole experiment\'s config is checked here against its recipe\'s configuration schema where the recipe declares one.',
    schema: v.union([ExperimentFileSchema, ExperimentOverrideSchema]),
    // basis reads a file with an `experiment` key as a whole experiment, anything else as an override;
    // a whole experiment's `config` is checked against its recipe's schema where the recipe declares one
    patch: (json) => {
      const forms = json['anyOf'] as Record<string, unknown>[];
      (forms[1] as Record<string, unknown>)['not'] = { required: ['experiment'] };
      const recipes = recipeConfigSchemas();
      if (recipes.length > 0) (forms[0] as Record<string, unknown>)['allOf'] = recipes.map(({ id, config }) => ({ if: { properties: { experiment: { const: id } }, required: ['experiment'] }, then: { properties: { config } } }));
    },
  },
  {
    file: 'data-spec.schema.json',
    title: 'basis data spec',
    description: 'Which data to train and test on (the `data` of a train config, a ModelJob, a recipe configuration).',
    schema: DataSpecSchema,
  },
  {
    file: 'model-spec.schema.json',
    title: 'basis model spec',
    description: 'A model as plain JSON (the `model` of a train config): architecture, width, depth, activation and the architecture-specific options.',
    schema: ModelSpecSchema,
  },
];

/** JSON Schema of the input side; checks JSON Schema cannot express (finiteness, cross-field rules) are left to the parser. */
const CONVERT: ConversionConfig = { typeMode: 'input', ignoreActions: ['finite', 'raw_check', 'check'] };

/**
 * A recipe configuration's JSON Schema as an override: a file's `config` is merged into the
 * profile's configuration (objects key by key, lists replaced), so no field of an object is
 * required and a variant's branches may overlap (`oneOf` becomes `anyOf`); list items keep their
 * full schema. The recipe checks the merged configuration completely.
 */
function asOverride(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(asOverride);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(node as Record<string, unknown>)) {
    if (k === 'required' || k === '$schema') continue;
    out[k === 'oneOf' ? 'anyOf' : k] = k === 'items' ? x : asOverride(x);
  }
  return out;
}

/** The `config` JSON Schema (as an override) of every recipe that declares its configuration schema, by recipe id. */
export function recipeConfigSchemas(): { id: string; config: unknown }[] {
  return RECIPE_LIST.filter((r) => r.configSchema !== undefined).map((r) => ({ id: r.id, config: asOverride(toJsonSchema(r.configSchema as v.GenericSchema, CONVERT)) }));
}

/**
 * The JSON Schema (draft-07) text of one config schema: the input side of the valibot schema
 * (checks JSON Schema cannot express — finiteness, cross-field rules — are left to the parser).
 */
export function jsonSchemaText(c: ConfigSchema): string {
  const json = toJsonSchema(c.schema, CONVERT) as Record<string, unknown>;
  c.patch?.(json);
  return `${JSON.stringify({ $schema: json['$schema'], $id: `schemas/${c.file}`, title: c.title, description: c.description, ...json }, null, 2)}\n`;
}

/** Writes every schema to {@link SCHEMA_DIR}; returns the file names. */
export async function writeConfigSchemas(dir = SCHEMA_DIR): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  for (const c of CONFIG_SCHEMAS) await writeFile(join(dir, c.file), jsonSchemaText(c));
  return CONFIG_SCHEMAS.map((c) => c.file);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = await writeConfigSchemas();
  process.stderr.write(`wrote ${files.join(', ')} to ${SCHEMA_DIR}\n`);
}
