// The published JSON Schemas of the config files: the committed files equal what the generator
// makes from the valibot schemas, every example of the config guide validates against its JSON
// Schema and parses with basis' own parser, and the JSON Schemas reject what the parsers reject
// (a misspelt field, a value out of range, an unknown dataset).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '@basis/tensor';
import { RECIPE_LIST, mergeConfig, parseExperimentText } from '@basis/experiments/node';
import { DataSpecSchema, ModelSpecSchema, TrainConfigFileSchema } from '@basis/zoo';
import { CONFIG_SCHEMAS, SCHEMA_DIR, jsonSchemaText } from './scripts/config-schemas.js';

const GUIDE = join(import.meta.dirname, 'guide', 'config-files.md');

const ajv = new Ajv({ strict: false, allErrors: true });
const validators = new Map(CONFIG_SCHEMAS.map((c) => [c.file.replace('.schema.json', ''), ajv.compile(JSON.parse(jsonSchemaText(c)) as object)]));
const validate = (name: string, value: unknown): boolean => {
  const f = validators.get(name);
  if (f === undefined) throw new Error(`no schema '${name}'`);
  return f(value) as boolean;
};

/** The ```json blocks of the guide marked `<!-- schema: NAME -->`. */
async function guideExamples(): Promise<{ schema: string; value: unknown }[]> {
  const text = await readFile(GUIDE, 'utf8');
  return [...text.matchAll(/<!-- schema: ([a-z-]+) -->\n```json\n([\s\S]*?)```/g)].map((m) => ({ schema: m[1] as string, value: JSON.parse(m[2] as string) as unknown }));
}

const parsers: Record<string, (v: unknown) => unknown> = {
  'train-config': (v) => parseConfig(TrainConfigFileSchema, v, 'config'),
  'data-spec': (v) => parseConfig(DataSpecSchema, v, 'data'),
  'model-spec': (v) => parseConfig(ModelSpecSchema, v, 'model'),
  'reproduce-config': (v) => parseExperimentText(JSON.stringify(v), 'json', 'config'),
};

describe('config JSON Schemas', () => {
  it('the committed files under public/schemas are the generated ones', async () => {
    for (const c of CONFIG_SCHEMAS) {
      const committed = await readFile(join(SCHEMA_DIR, c.file), 'utf8');
      expect(committed, `${c.file} is stale: run pnpm --filter docs run schemas`).toBe(jsonSchemaText(c));
    }
  });

  it('every example of the config guide validates against its JSON Schema and parses', async () => {
    const examples = await guideExamples();
    expect(examples.length).toBeGreaterThanOrEqual(9);
    expect(new Set(examples.map((e) => e.schema))).toEqual(new Set(['train-config', 'data-spec', 'model-spec', 'reproduce-config']));
    for (const e of examples) {
      expect(validate(e.schema, e.value), `${e.schema}: ${JSON.stringify(e.value)}: ${ajv.errorsText(validators.get(e.schema)?.errors)}`).toBe(true);
      expect(() => parsers[e.schema]!(e.value)).not.toThrow();
    }
  });

  it("checks a whole experiment's config against its recipe's schema where the recipe declares one, as an override", () => {
    const declared = RECIPE_LIST.filter((r) => r.configSchema !== undefined);
    expect(declared.map((r) => r.id)).toEqual(RECIPE_LIST.map((r) => r.id));
    const file = (experiment: string, config: unknown) => ({ experiment, profile: 'quick', config });
    for (const r of declared) {
      const quick = r.profiles.quick as Record<string, unknown>;
      for (const p of ['quick', 'standard', 'full'] as const) expect(validate('reproduce-config', file(r.id, r.profiles[p])), `${r.id} ${p}`).toBe(true);
      // one field overrides the profile
      const [k, x] = Object.entries(quick)[0]!;
      expect(validate('reproduce-config', file(r.id, { [k]: x })), r.id).toBe(true);
      // a misspelt field: the JSON Schema and the recipe both reject it
      expect(validate('reproduce-config', file(r.id, { [`${k}z`]: x })), r.id).toBe(false);
      expect(() => r.checkConfig(mergeConfig(quick, { [`${k}z`]: x })), r.id).toThrow(/is not a known option/);
    }
    // values out of range, for the JSON Schema and for the recipe after the merge
    const bad: [string, Record<string, unknown>, RegExp][] = [
      ['E003-4', { inputs: 5 }, /config\.inputs needs at least 10 inputs, got 5/],
      ['E003-4', { family: { seeds: [0, -1] } }, /config\.family\.seeds\[1\] must be an integer >= 0/],
      ['E003-1', { scaleSigma: -1 }, /config\.scaleSigma must be >= 0, got -1/],
      ['V001-1', { c: 0.7 }, /config\.c must be in \(0, 0\.5\)/],
      ['E000-2', { tolerance: 0 }, /E000-2\.tolerance must be > 0, got 0/],
      ['E000-1', { depth: 9 }, /E000-1\.depth must be an integer in \[1, 8\], got 9/],
      ['E000-3', { trunks: ['trained', 'frozen'] }, /E000-3\.trunks\[1\] must be one of trained, random-init/],
      ['E003-2', { stitching: { epochs: 0 } }, /config\.stitching\.epochs needs at least 1 epoch, got 0/],
      ['E003-2', { stitching: { classes: ['affine', 'grelu', 'rank-x'] } }, /config\.stitching\.classes\[2\] must be identity, permutation, affine, grelu or rank-<r>/],
      ['E003-6', { minDrop: 1 }, /config\.minDrop must be in \(0, 1\), got 1/],
      ['E003-6', { alphas: [0, 1.5] }, /config\.alphas\[1\] must be <= 1, got 1\.5/],
      ['E003-7', { scaleSigma: -1 }, /config\.scaleSigma must be >= 0, got -1/],
      ['E004-1', { llfcRatio: 1 }, /config\.llfcRatio must be in \(0, 1\), got 1/],
      ['E004-3', { spawnEpochs: [0, -1] }, /config\.spawnEpochs\[1\] must be an integer >= 0, got -1/],
      ['E002-1', { closeRatio: 0 }, /E002-1\.closeRatio must be > 0, got 0/],
      ['E002-4', { conditions: ['noise-0.1', 'rain', 'invert'] }, /E002-4\.conditions\[1\] must be one of noise-0\.1/],
      ['E003-3', { flatTol: 0 }, /config\.flatTol must be > 0, got 0/],
      ['E003-5', { inputs: 10 }, /config\.inputs needs at least 20 inputs, got 10/],
      ['V001-2', { tau: 1 }, /config\.tau must be < 1, got 1/],
      ['V001-3', { draws: 5 }, /config\.draws needs at least 10 draws, got 5/],
      ['V001-4', { eps: 1 }, /config\.eps must be in \(0, 1\), got 1/],
      ['E000-4', { widths: [16, 1] }, /E000-4\.widths\[1\] must be an integer in \[2, 4096\], got 1/],
    ];
    for (const [id, config, message] of bad) {
      expect(validate('reproduce-config', file(id, config)), `${id} ${JSON.stringify(config)}`).toBe(false);
      const r = RECIPE_LIST.find((x) => x.id === id)!;
      expect(() => r.checkConfig(mergeConfig(r.profiles.quick as Record<string, unknown>, config)), id).toThrow(message);
    }
  });

  it('rejects what the parsers reject: unknown fields, values out of range, unknown kinds', () => {
    const bad: [string, unknown][] = [
      ['train-config', { model: { arch: 'mlp' }, seedz: [1] }],
      ['train-config', { train: { epochs: 0, batchSize: 32, optimizer: { kind: 'sgd', lr: 0.1 } } }],
      ['train-config', { train: { epochs: 1, batchSize: 32, optimizer: { kind: 'sgd', lr: 0 } } }],
      ['train-config', { train: { epochs: 1, batchSize: 32, optimizer: { kind: 'rmsprop', lr: 0.1 } } }],
      ['train-config', { data: { dataset: 'mnist', trainsize: 10 } }],
      ['train-config', { spawnSteps: 0 }],
      ['data-spec', { dataset: 'cifar' }],
      ['data-spec', { dataset: 'fashion', testFraction: 0.1 }],
      ['data-spec', { dataset: 'modadd', p: 5000 }],
      ['model-spec', { arch: 'vgg' }],
      ['model-spec', { arch: 'mlp', width: [64, 0] }],
      ['reproduce-config', { experiment: 'E000-1', profile: 'huge' }],
      ['reproduce-config', [1, 2]],
    ];
    for (const [schema, value] of bad) {
      expect(validate(schema, value), `${schema} accepted ${JSON.stringify(value)}`).toBe(false);
      expect(() => parsers[schema]!(value), `${schema} parsed ${JSON.stringify(value)}`).toThrow(/CONFIG_INVALID|must|not a known|is required/);
    }
  });
});
