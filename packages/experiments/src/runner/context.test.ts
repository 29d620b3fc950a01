// The run cache: models keyed by content, trained on the pool, reused by a second run, resumed
// after an interrupt; the JSON memo; job validation.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { getEventListeners } from 'node:events';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureEngine, engineInfo, isBasisError } from '@basis/tensor';
import { LOCK_FILE } from '@basis/tensor/node';
import { checkModelJob, createRunContext, type ModelJob } from './context.js';
import { parseStored, stringifyStored, contentHash } from './json.js';

let root: string;
const job = (seed: number, epochs = 2): ModelJob => ({
  data: { dataset: 'mnist', trainSize: 300, testSize: 100 },
  model: { arch: 'mlp', width: 12, depth: 1 },
  recipe: { epochs, batchSize: 32, optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 }, checkpoints: [0, 0.5] },
  seed,
});

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'basis-runctx-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('json helpers', () => {
  it('round-trips typed arrays and non-finite numbers; hashes ignore key order', () => {
    const v = { b: new Float64Array([1, NaN, -Infinity]), a: [Infinity, 2], c: new Int32Array([3]), f: new Float32Array([0.5]) };
    const back = parseStored(stringifyStored(v)) as typeof v;
    expect(Array.from(back.b)).toEqual([1, NaN, -Infinity]);
    expect(back.b).toBeInstanceOf(Float64Array);
    expect(back.a).toEqual([Infinity, 2]);
    expect(back.c).toBeInstanceOf(Int32Array);
    expect(back.f).toBeInstanceOf(Float32Array);
    expect(contentHash({ x: 1, y: [1, 2] })).toBe(contentHash({ y: [1, 2], x: 1 }));
    expect(contentHash({ y: [2, 1] })).not.toBe(contentHash({ y: [1, 2] }));
    expect(() => stringifyStored({ f: () => 1 })).toThrow(/function/);
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    expect(() => stringifyStored(cyc)).toThrow(/refers back/);
  });
});

describe('checkModelJob', () => {
  it('names the bad field', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ ...job(0), data: { dataset: 'cifar' } }, /^jobs\[0\]\.data\.dataset must be one of mnist, fashion/],
      [{ ...job(0), model: { arch: 'mlp', width: 0 } }, /^jobs\[0\]\.model\.width must be an integer >= 1/],
      [{ ...job(0), recipe: { epochs: 1, batchSize: 8, optimizer: { kind: 'sgd', lr: -1 } } }, /jobs\[0\]\.recipe\.optimizer\.lr/],
      [{ ...job(0), seed: -1 }, /^jobs\[0\]\.seed must be a non-negative integer/],
      [{ ...job(0), init: { from: 'abc' } }, /^jobs\[0\]\.init\.from must be the key of a cached model/],
      [{ ...job(0), extra: 1 }, /^jobs\[0\]\.extra is not a known option/],
    ];
    for (const [v, re] of bad) {
      let err: unknown;
      try {
        checkModelJob(v, 'jobs[0]');
      } catch (e) {
        err = e;
      }
      expect(isBasisError(err) && err.code === 'CONFIG_INVALID').toBe(true);
      expect((err as Error).message).toMatch(re);
    }
  });
});

describe('createRunContext', () => {
  it('trains on the pool, reuses finished models on a second run, and memoises JSON', async () => {
    const dir = join(root, 'reuse');
    const stages: Array<[string, number, number]> = [];
    const ctx = await createRunContext({ dir, recipeId: 'T-1', profile: 'quick', workers: 2, backend: 'cpu', onProgress: (s, d, t) => stages.push([s, d, t]) });
    let models;
    try {
      models = await ctx.models([job(0), job(1), job(0)]);
      expect(ctx.stats.trained).toBe(2); // the duplicate job is trained once
      expect(models[0]!.key).toBe(models[2]!.key);
      expect(models[0]!.key).not.toBe(models[1]!.key);
      expect(models.every((m) => !m.cached)).toBe(true);
      expect(models[0]!.result.final.testAccuracy).toBeGreaterThan(0.3);
      // checkpoints at 0, 0.5 and every epoch end (2 epochs of 10 steps)
      expect(models[0]!.checkpoints!.map((c) => c.epoch)).toEqual([0, 0.5, 1, 2]);
      expect(stages.at(-1)).toEqual(['models trained', 2, 2]);
      let calls = 0;
      const v1 = await ctx.cached({ q: 1 }, () => (calls++, { x: new Float64Array([1, NaN]) }));
      const v2 = await ctx.cached({ q: 1 }, () => (calls++, { x: new Float64Array([0]) }));
      expect(calls).toBe(1);
      expect(Array.from(v2.x)).toEqual(Array.from(v1.x));
    } finally {
      await ctx.close();
    }
    const again = await createRunContext({ dir, recipeId: 'T-1', profile: 'quick', workers: 2, backend: 'cpu' });
    try {
      const m2 = await again.models([job(1), job(0)]);
      expect(again.stats.trained).toBe(0);
      expect(again.stats.reused).toBe(2);
      expect(m2.every((m) => m.cached)).toBe(true);
      expect(m2[1]!.key).toBe(models[0]!.key);
      expect(Array.from(m2[1]!.params['layers.0.weight']!.data)).toEqual(Array.from(models[0]!.params['layers.0.weight']!.data));
      expect(m2[1]!.result.history).toEqual(models[0]!.result.history);
      expect(m2[1]!.result.result.optimizer).not.toBeNull();
      let calls = 0;
      await again.cached({ q: 1 }, () => (calls++, 0));
      expect(calls).toBe(0);
      expect(again.stats.memoHits).toBe(1);
      // a different recipe id does not share memo entries
      const other = await createRunContext({ dir, recipeId: 'T-2', profile: 'quick', workers: 1, backend: 'cpu' });
      await other.cached({ q: 1 }, () => (calls++, 0));
      await other.close();
      expect(calls).toBe(1);
    } finally {
      await again.close();
    }
  }, 120_000);

  it('closing a context detaches it from the caller\'s abort signal (many runs can share one signal)', async () => {
    const ctl = new AbortController();
    for (let i = 0; i < 12; i++) {
      const ctx = await createRunContext({ dir: join(root, 'signal'), recipeId: `S-${i}`, profile: 'quick', signal: ctl.signal });
      expect(getEventListeners(ctl.signal, 'abort')).toHaveLength(1);
      await ctx.close();
    }
    expect(getEventListeners(ctl.signal, 'abort')).toHaveLength(0);
  });

  it('cache keys do not depend on the compute engine; the model records the engine that trained it', async () => {
    const dir = join(root, 'engine');
    const before = engineInfo();
    const ctx = await createRunContext({ dir, recipeId: 'T-5', profile: 'quick', workers: 1, backend: 'cpu' });
    try {
      const key = ctx.modelKey(job(2, 1) as unknown as Record<string, unknown>);
      configureEngine({ blas: before.requested === 'off' ? 'auto' : 'off' });
      try {
        expect(ctx.modelKey(job(2, 1) as unknown as Record<string, unknown>)).toBe(key);
      } finally {
        configureEngine({ blas: before.requested });
      }
      const [m] = await ctx.models([job(2, 1)]);
      expect(m!.key).toBe(key);
      const manifest = JSON.parse(await readFile(join(dir, 'models', key, 'manifest.json'), 'utf8')) as { engine: { provider: string; threads: number } };
      // a 1-worker pool gets the whole thread budget
      expect(manifest.engine).toMatchObject({ provider: before.provider, threads: before.threads });
    } finally {
      await ctx.close();
    }
  }, 120_000);

  it('retrains a cached model whose files are damaged', async () => {
    const dir = join(root, 'reuse');
    const ctx = await createRunContext({ dir, recipeId: 'T-1', profile: 'quick', workers: 1, backend: 'cpu' });
    try {
      const key = ctx.modelKey(job(1) as unknown as Record<string, unknown>);
      await writeFile(join(dir, 'models', key, 'model.safetensors'), 'not a safetensors file');
      const [m] = await ctx.models([job(1)]);
      expect(ctx.stats.trained).toBe(1);
      expect(m!.cached).toBe(false);
      expect(m!.result.final.testAccuracy).toBeGreaterThan(0.3);
      const again = await ctx.models([job(1)]);
      expect(again[0]!.cached).toBe(true);
    } finally {
      await ctx.close();
    }
  }, 120_000);

  it('a shared cache: waits while another process trains the same model; cleans temp files of killed writers', async () => {
    const dir = join(root, 'shared');
    await mkdir(join(dir, 'cache'), { recursive: true });
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.once('exit', r));
    const killedTemp = join(dir, 'cache', `.abc.json.${dead.pid}-0123456789ab.tmp`);
    await writeFile(killedTemp, '');
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    const waits: string[] = [];
    const ctx = await createRunContext({ dir, recipeId: 'T-1', profile: 'quick', workers: 1, backend: 'cpu', onWait: (l) => waits.push(l) });
    try {
      expect(await readdir(join(dir, 'cache'))).toEqual([]);
      const key = ctx.modelKey(job(3, 1) as unknown as Record<string, unknown>);
      await mkdir(join(dir, 'models', key), { recursive: true });
      await writeFile(join(dir, 'models', key, LOCK_FILE), JSON.stringify({ pid: other.pid, host: hostname(), started: new Date().toISOString(), command: 'basis reproduce X', token: 'ef'.repeat(16) }));
      const pending = ctx.models([job(3, 1)]);
      for (let i = 0; i < 600 && waits.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 1500)); // still waiting, and said so once
      expect(waits).toHaveLength(1);
      expect(waits[0]).toMatch(new RegExp(`is being trained by another process sharing the cache \\(PID ${other.pid}: basis reproduce X\\); waiting`));
      expect(ctx.stats.trained).toBe(0);
      other.kill(); // the other process dies: its lock is taken over and the model trains here
      const [m] = await pending;
      expect(m!.cached).toBe(false);
      expect(ctx.stats.trained).toBe(1);
      expect(await readdir(join(dir, 'models', key))).not.toContain(LOCK_FILE);
    } finally {
      other.kill();
      await ctx.close();
    }
  }, 120_000);

  it('keeps finished work when interrupted and resumes the unfinished model', async () => {
    const dir = join(root, 'abort');
    const ctl = new AbortController();
    // model 0 finishes quickly (1 epoch); model 1 is interrupted mid-way
    const jobs = [job(5, 1), job(6, 30)];
    const ctx = await createRunContext({
      dir,
      recipeId: 'T-3',
      profile: 'quick',
      workers: 2,
      backend: 'cpu',
      signal: ctl.signal,
      onProgress: (_s, done) => {
        if (done >= 1.2) ctl.abort();
      },
    });
    let err: unknown;
    try {
      await ctx.models(jobs);
    } catch (e) {
      err = e;
    } finally {
      await ctx.close();
    }
    expect(isBasisError(err)).toBe(true);
    expect((err as Error).message).toMatch(/interrupted/);
    expect(ctx.stats.trained).toBe(1);
    const k1 = ctx.modelKey(jobs[1] as unknown as Record<string, unknown>);
    const partial = (await readdir(join(dir, 'models', k1))).filter((n) => n.startsWith('step-'));
    expect(partial.length).toBeGreaterThan(0);
    expect(partial).not.toContain('summary.json');
    const ctx2 = await createRunContext({ dir, recipeId: 'T-3', profile: 'quick', workers: 2, backend: 'cpu' });
    try {
      const ms = await ctx2.models(jobs);
      expect(ctx2.stats.reused).toBe(1);
      expect(ctx2.stats.trained).toBe(1);
      expect(ctx2.stats.resumed).toBe(1);
      expect(ms[1]!.result.steps).toBe(30 * 10);
    } finally {
      await ctx2.close();
    }
  }, 120_000);

  it('warm-starts from a cached model, copying only the named layers', async () => {
    const dir = join(root, 'init');
    const ctx = await createRunContext({ dir, recipeId: 'T-4', profile: 'quick', workers: 1, backend: 'cpu' });
    try {
      const [trunk] = await ctx.models([job(0, 1)]);
      const branch: ModelJob = { ...job(9, 1), recipe: { ...job(9, 1).recipe, freeze: ['layers.0'] }, init: { from: trunk!.key, layers: ['layers.0'] } };
      const [b] = await ctx.models([branch]);
      expect(Array.from(b!.params['layers.0.weight']!.data)).toEqual(Array.from(trunk!.params['layers.0.weight']!.data));
      expect(Array.from(b!.params['layers.2.weight']!.data)).not.toEqual(Array.from(trunk!.params['layers.2.weight']!.data));
      await expect(ctx.models([{ ...job(1), init: { from: 'f'.repeat(64) } }])).rejects.toThrow(/no finished model with key/);
      await expect(ctx.models([{ ...job(1), init: { from: trunk!.key, layers: ['nope'] } }])).rejects.toThrow(/neither a parameter nor a node/);
    } finally {
      await ctx.close();
    }
  }, 120_000);
});

describe('compare (captures and comparisons of the run context)', () => {
  it('equals capture + metric of the recipes (trained and untrained), is memoised, and rejects bad specs', async () => {
    const { metric } = await import('@basis/align');
    const { activationPoints, capture, evalSet, untrainedModel } = await import('../recipes/common.js');
    const dir = join(root, 'compare');
    const data = { dataset: 'mnist', trainSize: 300, testSize: 100 } as const;
    const ctx = await createRunContext({ dir, recipeId: 'CMP', profile: 'quick', workers: 1, backend: 'cpu' });
    try {
      const [a, b] = await ctx.models([job(41, 1), job(42, 1)]);
      const points = activationPoints(a!.graph);
      const specs = [
        { metrics: ['permcorr', 'cka.linear'], data, inputs: 80, points, a: { key: a!.key }, b: { key: b!.key }, label: 'trained' },
        { metrics: ['permcorr'], data, inputs: 80, points, a: { untrained: { like: a!.key, seed: 3 } }, b: { untrained: { like: b!.key, seed: 4 } } },
      ];
      const got = await ctx.compare(specs);
      expect(ctx.stats.computed).toBe(2);
      // what the recipes computed in their own cached() closures before
      const ev = await evalSet(data, 80);
      try {
        const [xa, xb] = [await capture(a!.graph, a!.params, ev.x, points), await capture(b!.graph, b!.params, ev.x, points)];
        const [ua, ub] = [untrainedModel(a!.graph, 3), untrainedModel(b!.graph, 4)];
        const [xua, xub] = [await capture(ua.graph, ua.params, ev.x, points), await capture(ub.graph, ub.params, ev.x, points)];
        expect(got[0]).toEqual({ permcorr: points.map((p) => metric('permcorr', xa[p]!, xb[p]!).value), 'cka.linear': points.map((p) => metric('cka.linear', xa[p]!, xb[p]!).value) });
        expect(got[1]).toEqual({ permcorr: points.map((p) => metric('permcorr', xua[p]!, xub[p]!).value) });
      } finally {
        ev.dispose();
      }
      // memoised (the label is not part of the key); a duplicate in one call shares the value
      const again = await ctx.compare([{ ...specs[0]!, label: 'other' }, specs[0]!]);
      expect(again).toEqual([got[0], got[0]]);
      expect(ctx.stats.computed).toBe(2);
      const bad: Array<[unknown, RegExp]> = [
        [{ ...specs[0], metrics: ['nope'] }, /^specs\[0\]\.metrics\[0\]/],
        [{ ...specs[0], metrics: [] }, /^specs\[0\]\.metrics must list at least 1/],
        [{ ...specs[0], inputs: 1 }, /^specs\[0\]\.inputs must be an integer >= 2/],
        [{ ...specs[0], points: ['x', 'x'] }, /^specs\[0\]\.points lists a point twice/],
        [{ ...specs[0], a: { key: 'abc' } }, /^specs\[0\]\.a\.key must be the key of a cached model/],
        [{ ...specs[0], b: { untrained: { like: a!.key, seed: -1 } } }, /^specs\[0\]\.b\.untrained\.seed must be a non-negative integer/],
        [{ ...specs[0], options: { procrustes: {} } }, /^specs\[0\]\.options\.procrustes names a metric that is not in metrics/],
        [{ ...specs[0], a: { key: 'e'.repeat(64) } }, /^specs\[0\]\.a\.key: no finished model with key e{64}/],
      ];
      for (const [spec, re] of bad) {
        const e = await ctx.compare([spec as never]).then(
          () => null,
          (x: unknown) => x,
        );
        expect(isBasisError(e) && e.code).toBe('CONFIG_INVALID');
        expect((e as Error).message).toMatch(re);
      }
      await expect(ctx.compare([])).rejects.toThrow(/at least one comparison/);
    } finally {
      await ctx.close();
    }
  }, 120_000);
});

describe('evaluate (evaluation tasks of the run context)', () => {
  it('mode-pair: the interpolation curve and LLFC of a pair as the recipes computed them, under their old memo key; memoised; bad specs rejected', async () => {
    const { activationMatchingOn, interpolationCurve, llfc, weightMatching } = await import('@basis/connectivity');
    const { inferSpec } = await import('@basis/zoo');
    const { MODE_PAIR } = await import('../recipes/e004-shared.js');
    const { evalData } = await import('../recipes/e003-shared.js');
    const { memoHash } = await import('./stages.js');
    const dir = join(root, 'evaluate');
    const data = { dataset: 'mnist', trainSize: 300, testSize: 100 } as const;
    const ctx = await createRunContext({ dir, recipeId: 'EV', profile: 'quick', workers: 1, backend: 'cpu' });
    try {
      const [a, b] = await ctx.models([job(51, 1), job(52, 1)]);
      const base = { data, inputs: 40, a: a!.key, b: b!.key };
      const specs = [
        { ...base, condition: 'independent', pair: 0, align: 'none' as const },
        { ...base, condition: 'weight-matched', pair: 0, align: 'weight' as const },
        { ...base, condition: 'activation-matched', pair: 0, align: 'activation' as const, matchInputs: 60 },
      ];
      const got = await ctx.evaluate(MODE_PAIR, specs);
      expect(ctx.stats.computed).toBe(3);
      // the closure E004-1/2/3 memoised before the task existed
      const spec = inferSpec(a!.graph);
      const mx = (await evalData(data, 'train', 60, a!.graph.input)).x;
      const Bs = [b!.params, weightMatching(a!.params, b!.params, spec).params, activationMatchingOn(a!.graph, a!.params, b!.params, mx, { spec }).params];
      mx.dispose();
      for (const [i, B] of Bs.entries()) {
        const test = await evalData(data, 'test', 100000, a!.graph.input);
        const x = tf.slice(test.x, 0, 40);
        const curve = await interpolationCurve(a!.graph, a!.params, B, test, { lambdas: Array.from({ length: 11 }, (_, k) => k / 10) });
        const rep = await llfc(a!.graph, a!.params, B, x, { alphas: [0.5] });
        x.dispose();
        test.x.dispose();
        expect(got[i]).toEqual({ condition: specs[i]!.condition, pair: 0, barrier: { loss: curve.barrier.loss.maxMinusLinear, error: curve.barrier.error.maxMinusLinear }, endpoints: [curve.endpoints.a.error, curve.endpoints.b.error], llfc: rep });
      }
      // the weight-matched pair is not the unaligned one
      expect(got[1]!.barrier.loss).not.toBe(got[0]!.barrier.loss);
      // the memo files are named by the old keys (run caches made before the task are reused)
      for (const b2 of [b!.key, `${b!.key}:wm`, `${b!.key}:am:60`]) {
        const cond = b2.endsWith(':wm') ? 'weight-matched' : b2.includes(':am:') ? 'activation-matched' : 'independent';
        const h = memoHash('EV', { what: 'mode-pair', condition: cond, a: a!.key, b: b2, inputs: 40 }, ctx.versions);
        expect((parseStored(await readFile(join(dir, 'cache', `${h}.json`), 'utf8')) as { value: unknown }).value).toEqual(got[specs.findIndex((s) => s.condition === cond)]);
      }
      // memoised; a duplicate in one call shares the value
      const again = await ctx.evaluate(MODE_PAIR, [specs[1]!, specs[1]!, specs[0]!]);
      expect(again).toEqual([got[1], got[1], got[0]]);
      expect(ctx.stats.computed).toBe(3);
      const bad: Array<[unknown, RegExp]> = [
        [{ ...specs[0], pair: -1 }, /^specs\[0\]\.pair must be an integer >= 0/],
        [{ ...specs[0], inputs: 0 }, /^specs\[0\]\.inputs must be an integer >= 1/],
        [{ ...specs[0], inputs: NaN }, /^specs\[0\]\.inputs must be an integer >= 1/],
        [{ ...specs[0], condition: '' }, /^specs\[0\]\.condition must be a non-empty string/],
        [{ ...specs[0], align: 'both' }, /^specs\[0\]\.align must be one of none, weight, activation/],
        [{ ...specs[0], matchInputs: 10 }, /^specs\[0\]\.matchInputs is only for align 'activation'/],
        [{ ...specs[2], matchInputs: undefined }, /^specs\[0\]\.matchInputs must be an integer >= 1/],
        [{ ...specs[0], a: 'abc' }, /^specs\[0\]\.a must be the key of a cached model/],
        [{ ...specs[0], extra: 1 }, /^specs\[0\]/],
        [{ ...specs[0], data: { dataset: 'nope' } }, /^specs\[0\]\.data/],
        [{ ...specs[0], b: 'e'.repeat(64) }, /^specs\[0\]: no finished model with key e{64}/],
      ];
      for (const [s, re] of bad) {
        const e = await ctx.evaluate(MODE_PAIR, [s as never]).then(
          () => null,
          (x: unknown) => x,
        );
        expect(isBasisError(e) && e.code).toBe('CONFIG_INVALID');
        expect((e as Error).message).toMatch(re);
      }
      await expect(ctx.evaluate(MODE_PAIR, [])).rejects.toThrow(/at least one evaluation/);
      await expect(ctx.evaluate({} as never, [specs[0]!])).rejects.toThrow(/task must be an evaluation task/);
    } finally {
      await ctx.close();
    }
  }, 300_000);
});
