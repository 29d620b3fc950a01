// The S000 and S002 recipes (E000-1..4, E002-1..5) in their quick profiles, end to end through
// runRecipe with one shared run cache; their reports open in headless Chromium together with a
// quick demo report. Plus configuration checks (profiles valid, bad configs name the field).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineInfo, isBasisError } from '@basis/tensor';
import { selectBackend } from '@basis/tensor/backend';
import { artifactDir, findChromium, launchChromium, openPage, serveDirectory } from '@basis/test-utils/browser';
import { runDemo } from '../demo.js';
import { mergeConfig, parseExperimentText } from '../runner/config.js';
import { runRecipe, type RecipeRun } from '../runner/run.js';
import { getRecipe, RECIPE_REGISTRY } from './index.js';

const MINE = ['E000-1', 'E000-2', 'E000-3', 'E000-4', 'E002-1', 'E002-2', 'E002-3', 'E002-4', 'E002-5'];
const dir = mkdtempSync(join(tmpdir(), 'basis-recipes-'));
const runs = new Map<string, RecipeRun>();

beforeAll(async () => {
  await selectBackend('wasm');
  expect(tf.getBackend()).toBe('wasm');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configError(id: string, config: unknown): string {
  try {
    getRecipe(id).checkConfig(config);
  } catch (e) {
    expect(isBasisError(e) && e.code === 'CONFIG_INVALID').toBe(true);
    return (e as Error).message;
  }
  throw new Error(`${id} accepted an invalid config`);
}

describe('recipe configurations', () => {
  it('every profile of every recipe is valid and checkConfig returns it unchanged in meaning', () => {
    for (const id of MINE) {
      const r = getRecipe(id);
      expect(r.id).toBe(id);
      for (const p of ['quick', 'standard', 'full'] as const) expect(() => r.checkConfig(r.profiles[p])).not.toThrow();
    }
  });

  it('bad configs fail with CONFIG_INVALID naming the field path', () => {
    const q = (id: string): Record<string, unknown> => getRecipe(id).profiles.quick as Record<string, unknown>;
    expect(configError('E000-1', { ...q('E000-1'), widths: [16, 8] })).toMatch(/^E000-1\.widths\[1\] must be larger than the width before it/);
    expect(configError('E000-1', { ...q('E000-1'), widths: [16, 1.5] })).toMatch(/^E000-1\.widths\[1\] must be an integer/);
    expect(configError('E000-1', { ...q('E000-1'), seeds: 1 })).toMatch(/^E000-1\.seeds must be an integer in \[2, 64\]/);
    expect(configError('E000-1', { ...q('E000-1'), width: 3 })).toMatch(/^E000-1\.width is not a known option/);
    expect(configError('E000-1', { ...q('E000-1'), data: { dataset: 'cifar' } })).toMatch(/^E000-1\.data\.dataset must be one of mnist, fashion/);
    expect(configError('E000-1', { ...q('E000-1'), train: { epochs: 0, batchSize: 8, optimizer: { kind: 'adam', lr: 1e-3 } } })).toMatch(/^E000-1\.train\.epochs must be an integer >= 1/);
    expect(configError('E000-1', { ...q('E000-1'), inputs: 5000 })).toMatch(/^E000-1\.inputs is 5000 but the test set has 1000 examples/);
    expect(configError('E000-2', { ...q('E000-2'), layer: 1 })).toMatch(/^E000-2\.layer must be an integer in \[0, 0\]/);
    expect(configError('E000-2', { ...q('E000-2'), fineTune: { epochs: 1 } })).toMatch(/^E000-2\.fineTune\.batchSize/);
    expect(configError('E000-3', { ...q('E000-3'), trunks: ['trained', 'frozen'] })).toMatch(/^E000-3\.trunks\[1\] must be one of trained, random-init/);
    expect(configError('E000-3', { ...q('E000-3'), frozen: 3 })).toMatch(/^E000-3\.frozen must be an integer in \[1, 2\]/);
    expect(configError('E002-1', { ...q('E002-1'), model: { arch: 'minimyrtle' } })).toMatch(/^E002-1\.model\.arch must be one of mlp, resmlp/);
    expect(configError('E002-2', { ...q('E002-2'), models: [{ arch: 'mlp', width: 8 }, { arch: 'mlp', width: 8 }] })).toMatch(/^E002-2\.models\[1\] repeats an earlier architecture/);
    expect(configError('E002-3', { ...q('E002-3'), fractions: [0.1, 0.5] })).toMatch(/^E002-3\.fractions must include 0/);
    expect(configError('E002-3', { ...q('E002-3'), early: 0.3 })).toMatch(/^E002-3\.early must be one of the checkpoint fractions/);
    expect(configError('E002-4', { ...q('E002-4'), conditions: ['noise-0.2', 'rain', 'invert'] })).toMatch(/^E002-4\.conditions\[1\] must be one of noise-0\.1/);
    expect(configError('E002-5', 'not an object')).toMatch(/^E002-5 must be an object/);
  });

  it('experiment files: JSON and YAML, overrides merge into the profile, syntax errors are CONFIG_INVALID', () => {
    const y = parseExperimentText('experiment: E000-1\nprofile: quick\nseed: 3\nconfig:\n  widths: [8, 16]\n  train:\n    epochs: 1\n', 'yaml', 'w.yaml');
    expect(y).toEqual({ experiment: 'E000-1', profile: 'quick', seed: 3, config: { widths: [8, 16], train: { epochs: 1 } } });
    const merged = mergeConfig(getRecipe('E000-1').profiles.quick as Record<string, unknown>, y.config);
    const c = getRecipe('E000-1').checkConfig(merged) as { widths: number[]; train: { epochs: number; batchSize: number } };
    expect(c.widths).toEqual([8, 16]);
    expect(c.train).toMatchObject({ epochs: 1, batchSize: 128 });
    expect(parseExperimentText('{"widths": [4, 8]}', 'json')).toEqual({ config: { widths: [4, 8] } });
    expect(() => parseExperimentText('widths: [4, 8', 'yaml', 'bad.yaml')).toThrow(/^bad\.yaml: not valid YAML/);
    expect(() => parseExperimentText('{"widths": ', 'json', 'bad.json')).toThrow(/^bad\.json: not valid JSON/);
    expect(() => parseExperimentText('[1, 2]', 'json', 'list.json')).toThrow(/^list\.json must be an object/);
    expect(() => parseExperimentText('experiment: E000-1\nprofile: huge\n', 'yaml', 'p.yaml')).toThrow(/^p\.yaml\.profile must be 'quick', 'standard' or 'full'/);
    expect(() => parseExperimentText('experiment: E000-1\nconfg: {}\n', 'yaml', 'k.yaml')).toThrow(/^k\.yaml\.confg is not a known option/);
  });

  it('unknown experiment ids list the valid ones', () => {
    expect(() => getRecipe('E999-1')).toThrow(/unknown experiment id 'E999-1'; valid ids: .*E000-1.*E002-5/);
    for (const id of MINE) expect(RECIPE_REGISTRY[id]).toBeDefined();
  });
});

describe('S000 and S002 recipes, quick profiles', () => {
  for (const id of MINE) {
    it(`${id}: runs, states claim, paper, measured and verdict, writes report, result and figures`, async () => {
      const out = join(dir, id);
      const r = await runRecipe(id, { profile: 'quick', out, cacheDir: join(dir, 'cache'), workers: 2, backend: 'wasm' });
      runs.set(id, r);
      expect(r.checks.length).toBeGreaterThan(0);
      const html = readFileSync(join(out, 'report.html'), 'utf8');
      expect(html).toContain('Paper versus basis');
      for (const c of r.checks) {
        expect(['held', 'not held', 'inconclusive']).toContain(c.verdict);
        expect(c.measured).toMatch(/Criterion:/);
        expect(html).toContain(c.claim.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'));
        for (const e of Object.values(c.estimates ?? {})) {
          expect(Number.isFinite(e.mean) && e.lo <= e.mean + 1e-12 && e.mean <= e.hi + 1e-12).toBe(true);
          expect(e.n).toBeGreaterThanOrEqual(1);
          // a quick profile with one seed has no interval over seeds: such an estimate never decides
          if (e.n < 2) expect(c.verdict, `${c.claim}: decided from n = 1`).toBe('inconclusive');
        }
      }
      const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as { id: string; checks: unknown[]; versions: Record<string, string>; engine: { provider: string } };
      expect(result.id).toBe(id);
      expect(result.engine.provider).toBe(engineInfo().provider);
      expect(html).toContain('&quot;engine&quot;');
      expect(result.checks).toHaveLength(r.checks.length);
      expect(result.versions['@basis/experiments']).toBeDefined();
      const svgs = r.files.filter((f) => f.endsWith('.svg'));
      expect(svgs.length).toBeGreaterThan(0);
      for (const f of r.files) expect(existsSync(join(out, f))).toBe(true);
      expect((html.match(/<figure /g) ?? []).length).toBe(svgs.length);
    }, 240_000);
  }

  it('the shared cache trained each common model once (E000-4 reuses E000-1, E002-1/4/5 reuse E000-3)', () => {
    expect(runs.get('E000-4')?.stats.trained).toBe(0);
    expect(runs.get('E002-1')?.stats.trained).toBe(0);
    expect(runs.get('E002-4')?.stats.trained).toBe(0);
    expect(runs.get('E002-5')?.stats.trained).toBe(0);
  });

  it.skipIf(findChromium() === undefined)(
    'reports render in headless Chromium: every figure has SVG marks, no console errors (with a quick demo report)',
    async () => {
      const demoOut = join(dir, 'demo');
      await runDemo({ out: demoOut, quick: true, backend: 'wasm' });
      const shots = await artifactDir('experiments');
      const server = await serveDirectory(dir);
      const browser = await launchChromium();
      try {
        for (const name of ['E000-1', 'E002-1', 'E002-2', 'demo']) {
          if (name !== 'demo' && !runs.has(name)) continue;
          const { page, errors } = await openPage(browser, `${server.url}/${name}/report.html`);
          const figures = await page.locator('figure.plot').count();
          const expected = name === 'demo' ? (readFileSync(join(demoOut, 'report.html'), 'utf8').match(/<figure /g) ?? []).length : runs.get(name)!.files.filter((f) => f.endsWith('.svg')).length;
          expect(figures).toBe(expected);
          expect(figures).toBeGreaterThan(0);
          // every figure holds an SVG with drawn marks (paths, rects, symbols, text)
          const marks = await page.$$eval('figure.plot', (fs) => fs.map((f) => f.querySelectorAll('svg path, svg rect, svg line, svg text').length));
          expect(marks.every((n) => n > 10)).toBe(true);
          const box = await page.locator('figure.plot svg').first().boundingBox();
          expect(box !== null && box.width > 50 && box.height > 50).toBe(true);
          expect(errors).toEqual([]);
          await page.screenshot({ path: join(shots, `${name}-report.png`), fullPage: true });
          await page.close();
        }
      } finally {
        await browser.close();
        await server.close();
      }
      expect(existsSync(join(shots, 'demo-report.png'))).toBe(true);
    },
    240_000,
  );
});
