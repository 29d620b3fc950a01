// Run-time estimates of recipe runs: the work counts, the fit to the recorded gallery runs, and
// the estimate against real quick-profile runs (within the factor the docs state).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { threadBudget } from '@basis/tensor';
import { thrownCode as code } from '@basis/test-utils';
import { selectBackend } from '@basis/tensor/backend';
import { RECIPE_LIST } from '../recipes/index.js';
import { costModel, estimateRunTime, forwardFlops, formatEstimateSeconds, recipeWork } from './cost.js';
import { runRecipe } from './run.js';
import type { RecordedTiming } from '../recipes/types.js';
import { RECORDED_TIMINGS } from './timings.js';

/** The factor the docs promise for quick-profile estimates (either way). */
export const QUICK_FACTOR = 4;

describe('recipe work and the cost model', () => {
  it('counts more work for the standard profile than for quick, for every recipe', () => {
    for (const r of RECIPE_LIST) {
      const w = (['quick', 'standard', 'full'] as const).map((p) => recipeWork(r.id, r.checkConfig(r.profiles[p])));
      for (const x of w) {
        expect(Number.isFinite(x.train) && x.train >= 0, `${r.id} train`).toBe(true);
        expect(Number.isFinite(x.analysis) && x.analysis > 0, `${r.id} analysis`).toBe(true);
      }
      const total = (x: (typeof w)[number]): number => x.train + x.analysis;
      expect(total(w[0]!), `${r.id} quick vs standard`).toBeLessThanOrEqual(total(w[1]!) * 1.0001);
      expect(w[0]!.models, `${r.id} models`).toBeLessThanOrEqual(w[1]!.models);
    }
    // an MLP 784-256-256-256-10: 2 x (784·256 + 2·256² + 256·10) flops per example
    expect(forwardFlops({ arch: 'mlp', width: 256, depth: 3 })).toBe(2 * (784 * 256 + 2 * 256 * 256 + 2560));
  });

  it('is fitted to the recorded gallery runs: each calibrated recipe estimates its own recorded run', () => {
    const m = costModel();
    expect(m.runs).toBeGreaterThanOrEqual(15);
    expect(m.train).toBeGreaterThan(0);
    expect(m.analysis).toBeGreaterThan(0);
    for (const t of RECORDED_TIMINGS) {
      const r = m.ratio[t.id];
      if (r === undefined || r <= 0.25 || r >= 4) continue; // clamped ratios do not reproduce exactly
      const recipe = RECIPE_LIST.find((x) => x.id === t.id)!;
      // the recorded run may have reused cached models: compare with the trained share only
      const e = estimateRunTime(t.id, t.profile, { config: recipe.checkConfig(t.config), threads: t.threads });
      const trainedShare = e.models === 0 || t.trained + t.reused === 0 ? 1 : t.trained / (t.trained + t.reused);
      const predicted = m.overhead + e.trainSeconds * trainedShare + e.analysisSeconds;
      expect(predicted / t.seconds, t.id).toBeGreaterThan(0.99);
      expect(predicted / t.seconds, t.id).toBeLessThan(1.01);
    }
  });

  it('slows training down on fewer threads, and rejects bad input', () => {
    const two = estimateRunTime('E003-2', 'standard', { threads: 2 });
    const one = estimateRunTime('E003-2', 'standard', { threads: 1 });
    expect(one.trainSeconds).toBeCloseTo(2 * two.trainSeconds, 6);
    expect(one.analysisSeconds).toBeCloseTo(two.analysisSeconds, 6);
    expect(code(() => estimateRunTime('E999-9', 'quick'))).toBe('CONFIG_INVALID');
    expect(code(() => estimateRunTime('E003-2', 'huge' as 'quick'))).toBe('CONFIG_INVALID');
    expect(code(() => estimateRunTime('E003-2', 'quick', { threads: 0 }))).toBe('CONFIG_INVALID');
    expect(code(() => recipeWork('E003-2', 3))).toBe('CONFIG_INVALID');
    expect(formatEstimateSeconds(42)).toBe('~42 s');
    expect(formatEstimateSeconds(725)).toBe('~12 min');
    expect(formatEstimateSeconds(3 * 3600)).toBe('~3.0 h');
  });

  it('a fit to planted timings recovers the planted rates', () => {
    // runs generated from known rates: 0.1 s per training unit, 5 s per analysis unit (both matter), 6 s start-up
    const planted: RecordedTiming[] = RECIPE_LIST.filter((r) => !r.id.startsWith('V001')).map((r) => {
      const config = r.checkConfig(r.profiles.standard);
      const w = recipeWork(r.id, config);
      return { id: r.id, profile: 'standard', seconds: 6 + 0.1 * w.train + 5 * w.analysis, trained: w.models, reused: 0, threads: 2, started: '', config };
    });
    const m = costModel(planted);
    // the grid steps by a factor 10^(1/8) = 1.33
    expect(m.train / 0.1).toBeGreaterThan(0.75);
    expect(m.train / 0.1).toBeLessThan(1.34);
    expect(m.analysis / 5).toBeGreaterThan(0.75);
    expect(m.analysis / 5).toBeLessThan(1.34);
    expect(m.worstFactor).toBeLessThan(1.3);
  });
});

/**
 * How much faster an idle machine runs a quick recipe than the busy one the gallery timings were
 * recorded on (V001-1 quick: 8.3 s at load 15, 1.7 s at load 2 on the same 2 cores).
 */
const IDLE_SPEEDUP = 3;

describe('estimates against real quick runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'basis-cost-'));
  beforeAll(async () => {
    await selectBackend('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const id of ['E003-4', 'V001-1']) {
    it(`${id} quick: the run takes at most ${QUICK_FACTOR}x the estimate, and the estimate is at most ${QUICK_FACTOR * IDLE_SPEEDUP}x the run (empty cache)`, async () => {
      const e = estimateRunTime(id, 'quick', { threads: threadBudget() });
      const r = await runRecipe(id, { profile: 'quick', out: join(dir, id), cacheDir: join(dir, `cache-${id}`) });
      expect(r.stats.reused).toBe(0);
      const what = `${id}: ran ${r.seconds.toFixed(1)} s, estimated ${e.seconds.toFixed(1)} s`;
      // never far too low; on a machine idler than the busy one the gallery ran on, the run is faster
      expect(r.seconds / e.seconds, what).toBeLessThan(QUICK_FACTOR);
      expect(e.seconds / r.seconds, what).toBeLessThan(QUICK_FACTOR * IDLE_SPEEDUP);
    }, 600_000);
  }
});
