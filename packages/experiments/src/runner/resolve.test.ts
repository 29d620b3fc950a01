// resolveConfig: an experiment file's config merged into the profile and validated once; runRecipe
// runs a resolved (parsed) configuration as it is instead of merging and parsing it again.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isParsed } from '@basis/tensor';
import { thrownCode, thrownError } from '@basis/test-utils';
import { selectBackend } from '@basis/tensor/backend';
import { RECIPE_LIST, getRecipe } from '../recipes/index.js';
import { mergeConfig } from './config.js';
import { resolveConfig, runRecipe } from './run.js';

describe('resolveConfig', () => {
  it('is the checked profile, and a resolved configuration handed back validates to itself', () => {
    for (const r of RECIPE_LIST) {
      for (const p of ['quick', 'standard', 'full'] as const) {
        const c = resolveConfig(r.id, p);
        expect(c, `${r.id} ${p}`).toEqual(r.checkConfig(r.profiles[p]));
        // as an override of its own profile (what runRecipe does with a value it does not trust)
        expect(r.checkConfig(mergeConfig(r.profiles[p] as Record<string, unknown>, c)), `${r.id} ${p}`).toEqual(c);
        if (r.configSchema !== undefined) {
          expect(isParsed(r.configSchema, c), `${r.id} ${p}`).toBe(true);
          expect(r.checkConfig(c)).toBe(c);
        }
      }
    }
  });

  it('merges the override into the profile; bad overrides, profiles and ids are CONFIG_INVALID naming the field', () => {
    const c = resolveConfig('E000-1', 'quick', { widths: [8, 16], train: { epochs: 1 } }) as { widths: number[]; train: { epochs: number; batchSize: number } };
    expect(c.widths).toEqual([8, 16]);
    expect(c.train.epochs).toBe(1);
    expect(c.train.batchSize).toBe((getRecipe('E000-1').profiles.quick as { train: { batchSize: number } }).train.batchSize);
    expect(thrownError(() => resolveConfig('E000-1', 'quick', { widths: [8, 4] }))).toMatch(/^CONFIG_INVALID: E000-1\.widths\[1\] must be larger than the width before it \(8\), got 4/);
    expect(thrownError(() => resolveConfig('V001-1', 'quick', { c: Number.NaN }))).toMatch(/^CONFIG_INVALID: config\.c must be a finite number, got NaN/);
    expect(thrownCode(() => resolveConfig('V001-1', 'huge' as 'quick'))).toBe('CONFIG_INVALID');
    expect(thrownCode(() => resolveConfig('V009-9', 'quick'))).toBe('CONFIG_INVALID');
  });
});

describe('runRecipe with a resolved configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'basis-resolve-'));
  beforeAll(async () => {
    await selectBackend('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });
  afterAll(() => {
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs it as it is (no second parse), and parses a plain override once', async () => {
    const recipe = getRecipe('V001-1');
    const small = { seeds: [0, 1], samples: 2000, directions: 200, draws: 200 };
    const config = resolveConfig('V001-1', 'quick', small);
    const spy = vi.spyOn(recipe, 'checkConfig');
    const r = await runRecipe('V001-1', { profile: 'quick', out: join(dir, 'resolved'), cacheDir: join(dir, 'cache'), config });
    expect(spy).not.toHaveBeenCalled();
    expect(r.config).toBe(config);
    const again = await runRecipe('V001-1', { profile: 'quick', out: join(dir, 'override'), cacheDir: join(dir, 'cache'), config: small });
    expect(spy).toHaveBeenCalledTimes(1);
    expect(again.config).toEqual(config);
    expect(again.recipeHash).toBe(r.recipeHash);
  }, 300_000);
});
