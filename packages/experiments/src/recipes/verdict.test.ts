// The shared verdict rule, the model-level pair bootstrap and the recipe hash.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRng, isBasisError } from '@basis/tensor';
import { estimate as estimateOf } from '../runner/estimate.js';
import { recipeHash, recipeSources } from '../runner/hash.js';
import { indexReport, indexRows, writeIndex } from '../runner/summary.js';
import { pairs } from './common.js';
import { RECIPE_LIST } from './index.js';
import { judge, judgeAll, judgeFlag, pairBootstrap } from './verdict.js';

const e = (lo: number, hi: number) => ({ mean: (lo + hi) / 2, lo, hi, n: 5 });

describe('judge', () => {
  it('above with a minimum effect: held only past null + effect, not held only below the null', () => {
    const r = { side: 'above', null: 0, effect: 0.05 } as const;
    expect(judge(e(0.06, 0.2), r).verdict).toBe('held');
    expect(judge(e(0.01, 0.2), r).verdict).toBe('inconclusive');
    expect(judge(e(-0.2, -0.01), r).verdict).toBe('not held');
    expect(judge(e(-0.1, 0.1), r).verdict).toBe('inconclusive');
    expect(judge(e(0.06, 0.2), r).change).toMatch(/lower bound crossing 0\.05/);
  });
  it('below mirrors above; within needs the interval inside, not held when disjoint', () => {
    expect(judge(e(-0.3, -0.1), { side: 'below', null: 0, effect: 0.05 }).verdict).toBe('held');
    expect(judge(e(0.1, 0.3), { side: 'below', null: 0, effect: 0.05 }).verdict).toBe('not held');
    expect(judge(e(-0.01, 0.01), { side: 'within', lo: -0.02, hi: 0.02 }).verdict).toBe('held');
    expect(judge(e(0.03, 0.05), { side: 'within', lo: -0.02, hi: 0.02 }).verdict).toBe('not held');
    expect(judge(e(0.01, 0.05), { side: 'within', lo: -0.02, hi: 0.02 }).verdict).toBe('inconclusive');
  });
  it('warnings force inconclusive and are reported', () => {
    const j = judge(e(0.5, 0.9), { side: 'above', null: 0, effect: 0 }, ['low ESS']);
    expect(j.verdict).toBe('inconclusive');
    expect(j.warnings).toEqual(['low ESS']);
    expect(j.criterion).toMatch(/forced inconclusive.*low ESS/);
    expect(judgeFlag(true, 'ok', 'x', ['bad']).verdict).toBe('inconclusive');
  });
  it('one seed (or a pair range from fewer than 3 models) never decides: no interval, inconclusive', () => {
    const r = { side: 'above', null: 0, effect: 0.05 } as const;
    const one = { mean: 0.5, lo: 0.5, hi: 0.5, n: 1, method: 'none' as const };
    expect(judge(one, r).verdict).toBe('inconclusive');
    expect(judge(one, r).criterion).toMatch(/no confidence interval from n = 1/);
    expect(judge(one, r).change).toMatch(/at least 2 seeds/);
    const range = { mean: 0.5, lo: 0.4, hi: 0.6, n: 2, method: 'none' as const };
    expect(judge(range, r).verdict).toBe('inconclusive');
    expect(judge(range, r).change).toMatch(/at least 3 models/);
    expect(judge(estimateOf([0.5, 0.52, 0.51]), r).verdict).toBe('held'); // and with seeds it decides
    expect(judge({ ...one, lo: -0.6, hi: -0.5, mean: -0.55 }, r).verdict).toBe('inconclusive'); // either way
  });
  it('rejects bad rules and non-finite estimates', () => {
    expect(() => judge(e(0, 1), { side: 'above', null: 0, effect: -1 })).toThrow(/effect >= 0/);
    expect(() => judge(e(0, 1), { side: 'within', lo: 1, hi: 0 })).toThrow(/lo < hi/);
    expect(() => judge({ mean: Number.NaN, lo: 0, hi: 1, n: 2 }, { side: 'above', null: 0, effect: 0 })).toThrow(/not finite/);
  });
  it('judgeAll: not held if any part is, held if all are', () => {
    const h = judge(e(1, 2), { side: 'above', null: 0, effect: 0 });
    const n = judge(e(-2, -1), { side: 'above', null: 0, effect: 0 });
    const i = judge(e(-1, 1), { side: 'above', null: 0, effect: 0 });
    expect(judgeAll([h, h]).verdict).toBe('held');
    expect(judgeAll([h, i]).verdict).toBe('inconclusive');
    expect(judgeAll([h, i, n], ['a', 'b', 'c']).change).toMatch(/^c:/);
    expect(() => judgeAll([])).toThrow();
  });
});

describe('pairBootstrap', () => {
  const ps = pairs(6);
  it('is wider than a naive interval when pairs share models (model effects)', () => {
    const rng = createRng(1);
    const u = Array.from({ length: 6 }, () => rng.normal());
    const v = ps.map(([i, j]) => u[i]! + u[j]! + 0.01 * rng.normal());
    const b = pairBootstrap(v, ps, 6);
    const m = v.reduce((a, x) => a + x, 0) / v.length;
    const sd = Math.sqrt(v.reduce((a, x) => a + (x - m) ** 2, 0) / (v.length - 1));
    const naive = 2 * 2.14 * (sd / Math.sqrt(v.length));
    expect(b.hi - b.lo).toBeGreaterThan(naive);
    expect(b.n).toBe(6);
    expect(b.lo).toBeLessThanOrEqual(b.mean);
    expect(b.hi).toBeGreaterThanOrEqual(b.mean);
  });
  it('is deterministic and rejects bad input', () => {
    const v = ps.map((_, k) => k / 10);
    expect(pairBootstrap(v, ps, 6, 3)).toEqual(pairBootstrap(v, ps, 6, 3));
    expect(() => pairBootstrap([1], ps, 6)).toThrow(/values for/);
    expect(() => pairBootstrap([1, Number.NaN], [[0, 1], [0, 2]], 3)).toThrow(/NaN/);
    expect(() => pairBootstrap([1], [[0, 0]], 3)).toThrow(/distinct models/);
  });
});

describe('recipeHash', () => {
  it('covers the recipe source file(s) and the configuration', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'basis-hash-'));
    try {
      writeFileSync(join(dir, 'x-1.ts'), 'export const a = 1;\n');
      const r = { id: 'X-1' };
      const h1 = await recipeHash(r, { k: 1 }, dir);
      expect(h1.files).toEqual(['x-1.ts']);
      expect((await recipeHash(r, { k: 2 }, dir)).hash).not.toBe(h1.hash);
      writeFileSync(join(dir, 'x-1.ts'), 'export const a = 2;\n');
      expect((await recipeHash(r, { k: 1 }, dir)).hash).not.toBe(h1.hash);
      writeFileSync(join(dir, 'x-1.ts'), 'export const a = 1;\r\n');
      expect((await recipeHash(r, { k: 1 }, dir)).hash).toBe(h1.hash);
      await expect(recipeHash({ id: 'X-2' }, {}, dir)).rejects.toSatisfy((err: unknown) => isBasisError(err) && err.code === 'BAD_FILE');
      expect(() => recipeSources({ id: 'X-3', sources: ['../evil.ts'] })).toThrow(/\.ts file name/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('every registered recipe hashes from its own sources', async () => {
    for (const r of RECIPE_LIST) {
      const h = await recipeHash(r, r.profiles.quick);
      expect(h.hash).toMatch(/^[0-9a-f]{64}$/);
    }
  });
});

describe('the reproduce index', () => {
  const check = { claim: 'x rises', paper: 'Fig. 1: up', measured: 'gain 0.2', verdict: 'held' as const, estimates: { other: { mean: 9, lo: 8, hi: 10, n: 5 }, gain: { mean: 0.2, lo: 0.1, hi: 0.3, n: 5, method: 'bootstrap95' as const } }, primary: 'gain', change: 'the lower bound crossing 0.05 (now 0.1)' };
  it('has one row per claim with the primary estimate, and a row for a failed run', () => {
    const rows = indexRows([
      { id: 'E1', title: 't', profile: 'standard', seconds: 3, checks: [check, { ...check, verdict: 'inconclusive', primary: undefined, warnings: ['low ESS'] }] },
      { id: 'E2', title: 'u', profile: 'standard', seconds: 1, checks: [], error: 'TOO_SMALL: no pairs' },
    ]);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatchObject({ experiment: 'E1', measured: 'gain = 0.2', interval: '[0.1, 0.3] (n = 5, bootstrap)', verdict: 'held', change: 'the lower bound crossing 0.05 (now 0.1)' });
    expect(rows[1]!.measured).toBe('other = 9');
    expect(rows[1]!.change).toMatch(/warnings: low ESS/);
    expect(rows[2]).toMatchObject({ experiment: 'E2', verdict: 'failed' });
  });
  it('writes index.html and index.json; an empty index is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'basis-index-'));
    try {
      const p = await writeIndex(dir, [{ id: 'E1', title: 't', profile: 'quick', seconds: 3, checks: [check], report: 'E1/report.html' }]);
      const html = readFileSync(p.html, 'utf8');
      expect(html).toContain('x rises');
      expect(html).toContain('too small to decide');
      expect((JSON.parse(readFileSync(p.json, 'utf8')) as { claims: unknown[] }).claims).toHaveLength(1);
      expect(() => indexReport([])).toThrow(/at least one/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
