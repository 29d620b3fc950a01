// The training pool on worker threads (source mode: the workers load the TypeScript sources via
// tsx): results identical to in-process training on the same backend, progress per seed, errors
// with their BasisError code, aborts, run directories.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineInfo, isBasisError, threadBudget, workerEngine } from '@basis/tensor';
import { sampleSubset } from '../data/dataset.js';
import type { ClassificationDataset } from '../data/types.js';
import type { ModelGraph } from '../graph/index.js';
import type { TrainProgress } from './loop.js';
import { loadCheckpoint } from './node.js';
import { loadDataSpec } from '../model/node.js';
import { TrainPool, trainSeeds } from './pool.js';
import { buildModel } from '../model/model-spec.js';
import { trainModel } from './train-model.js';
import type { TrainSettings } from './train-settings.js';

let pool: TrainPool;
let train: ClassificationDataset;
let test: ClassificationDataset;
let graph: ModelGraph;
let root: string;
const recipe: TrainSettings = { epochs: 2, batchSize: 32, seed: 0, optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 } };

beforeAll(async () => {
  await tf.setBackend('cpu');
  pool = await TrainPool.create({ workers: 2, backend: 'cpu' });
  const split = await loadDataSpec({ dataset: 'mnist' });
  train = sampleSubset(split.train, { size: 192, seed: 1 });
  test = sampleSubset(split.test, { size: 64, seed: 1 });
  graph = buildModel({ arch: 'mlp', width: 16, depth: 1 }, { input: train.shape, classes: 10 });
  root = await mkdtemp(join(tmpdir(), 'basis-pool-'));
});

afterAll(async () => {
  await pool?.close();
  await rm(root, { recursive: true, force: true });
});

describe('TrainPool', () => {
  it('trains seeds in parallel with exactly the weights of in-process training', async () => {
    expect(pool.size).toBe(2);
    expect(pool.backends.map((b) => b.name)).toEqual(['cpu', 'cpu']);
    const events = new Map<number | string, TrainProgress[]>();
    const runs = await trainSeeds({
      pool,
      graph,
      train,
      test,
      recipe,
      seeds: [0, 1],
      onProgress: (seed, e) => events.set(seed, [...(events.get(seed) ?? []), e]),
    });
    expect(runs.map((r) => r.recipe.seed)).toEqual([0, 1]);
    for (const [i, seed] of [0, 1].entries()) {
      const local = await trainModel({ graph, train, test, recipe: { ...recipe, seed } });
      const r = runs[i]!;
      expect(r.backend).toBe('cpu');
      expect(r.history).toEqual(local.history.map((h) => ({ ...h, seconds: expect.any(Number) as unknown })));
      for (const k of Object.keys(local.params)) expect(r.params[k]!.data).toEqual(local.params[k]!.data);
      const ev = events.get(seed)!;
      expect(ev.filter((e) => e.kind === 'step')).toHaveLength(12);
      expect(ev.filter((e) => e.kind === 'epoch').map((e) => (e as { record: { epoch: number } }).record.epoch)).toEqual([1, 2]);
    }
  });

  it('a failing job rejects with its BasisError; the pool keeps working', async () => {
    const err = await pool.run({ graph, train, recipe: { ...recipe, optimizer: { kind: 'sgd', lr: -1 } } }).catch((e: unknown) => e);
    expect(isBasisError(err)).toBe(true);
    expect((err as { code: string }).code).toBe('CONFIG_INVALID');
    expect((err as Error).message).toMatch(/recipe\.optimizer\.lr must be > 0/);
    const ok = await pool.run({ graph, train, recipe: { ...recipe, epochs: 1 } });
    expect(ok.stopped).toBe('completed');
  });

  it('aborts a running job after its current step; run directories are written by the worker', async () => {
    const ctl = new AbortController();
    const runDir = join(root, 'abort');
    const r = await pool.run(
      { graph, train, recipe, runDir },
      { signal: ctl.signal, onProgress: (e) => e.kind === 'step' && e.step === 3 && ctl.abort() },
    );
    expect(r.stopped).toBe('aborted');
    expect(r.steps).toBeGreaterThanOrEqual(3);
    expect(r.steps).toBeLessThan(12);
    expect(r.resumedFrom).toBeNull();
    expect((await readdir(runDir)).some((n) => n.startsWith('step-'))).toBe(true);
    const resumed = await pool.run({ graph, train, recipe, runDir });
    expect(resumed.resumedFrom).toMatch(/step-\d+$/);
    expect(resumed.stopped).toBe('completed');
    expect(await readdir(runDir)).toContain('model.safetensors');
  });

  it('spawning: children share the trunk at step k exactly, differ afterwards, and are reproducible', async () => {
    const k = 5; // mid-epoch (6 steps per epoch): the children reshuffle the rest of the epoch
    const dirs = (tag: string) => ({ trunkDir: join(root, tag, 'trunk'), runDir: (s: number | string) => join(root, tag, `seed-${String(s)}`) });
    const trunkSteps: number[] = [];
    const a = await trainSeeds({ pool, graph, train, test, recipe, seeds: [0, 1, 2], spawnSteps: k, ...dirs('spawn-a'), onTrunkProgress: (e) => e.kind === 'step' && trunkSteps.push(e.step) });
    expect(trunkSteps).toEqual([1, 2, 3, 4, 5]);
    expect(a.map((r) => [r.recipe.seed, r.stopped, r.steps])).toEqual([
      [0, 'completed', 12],
      [1, 'completed', 12],
      [2, 'completed', 12],
    ]);
    // the trunk's step-k checkpoint is each child's step-k checkpoint
    const trunk = await loadCheckpoint(join(root, 'spawn-a', 'trunk', 'step-000000005'));
    expect(trunk.manifest.state.seed).toBe(0);
    for (const seed of [0, 1, 2]) {
      const start = await loadCheckpoint(join(root, 'spawn-a', `seed-${seed}`, 'step-000000005'));
      for (const [name, arr] of trunk.params) expect(start.params.get(name)!.data, `${name} of seed ${seed} at step ${k}`).toEqual(arr.data);
      for (const [name, arr] of trunk.optimizer!.slots) expect(start.optimizer!.slots.get(name)!.data).toEqual(arr.data);
    }
    // child 0 continues the trunk's own data order: exactly the unspawned seed-0 run
    const plain = await trainModel({ graph, train, test, recipe: { ...recipe, seed: 0 } });
    for (const name of Object.keys(plain.params)) expect(a[0]!.params[name]!.data).toEqual(plain.params[name]!.data);
    // children with other seeds differ from it and from each other
    const w = 'layers.0.weight';
    expect(a[1]!.params[w]!.data).not.toEqual(a[0]!.params[w]!.data);
    expect(a[2]!.params[w]!.data).not.toEqual(a[1]!.params[w]!.data);
    // reproducible, in memory as well as with run directories
    const b = await trainSeeds({ pool, graph, train, test, recipe, seeds: [1, 2], spawnSteps: k });
    for (const [i, seed] of [1, 2].entries()) {
      for (const name of Object.keys(plain.params)) expect(b[i]!.params[name]!.data, `seed ${seed}: ${name}`).toEqual(a[i + 1]!.params[name]!.data);
    }
  });

  it('shares the thread budget: workers compute with max(1, floor(budget / workers)) BLAS threads, held process-wide while jobs run', async () => {
    const before = engineInfo();
    expect(pool.engine).toEqual(workerEngine(2));
    expect(pool.engine.threads).toBe(Math.max(1, Math.floor(threadBudget() / 2)));
    const share = before.provider === 'native' ? pool.engine.threads : 1;
    const during: number[] = [];
    const runDir = join(root, 'engine');
    await pool.run({ graph, train, recipe: { ...recipe, epochs: 1 }, runDir }, { onProgress: () => during.push(engineInfo().threads) });
    expect(new Set(during)).toEqual(new Set([share]));
    // the worker recorded its own engine in the manifest; the caller has its threads back
    const m = (await loadCheckpoint(runDir)).manifest;
    expect(m.engine).toMatchObject({ provider: before.provider, threads: share });
    expect(engineInfo().threads).toBe(before.threads);
  });

  it('spawning options are validated (CONFIG_INVALID naming the field)', async () => {
    const base = { pool, graph, train, recipe, seeds: [1] };
    for (const [extra, field] of [
      [{ spawnSteps: 0 }, 'spawnSteps'],
      [{ spawnSteps: 12 }, 'spawnSteps'],
      [{ spawnSteps: 2.5 }, 'spawnSteps'],
      [{ spawnSteps: 3, runDir: (s: number | string) => join(root, 'x', String(s)) }, 'trunkDir'],
      [{ trunkDir: join(root, 'x', 'trunk') }, 'trunkDir'],
    ] as const) {
      const err = await trainSeeds({ ...base, ...extra }).catch((e: unknown) => e);
      expect(err, JSON.stringify(extra)).toMatchObject({ code: 'CONFIG_INVALID', details: { field } });
    }
  });
});
