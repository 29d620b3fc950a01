// The Redis job queue end to end: a real redis-server on 127.0.0.1 (random free port, killed
// afterwards), three worker processes, and a small graph of real training jobs through the run
// context. Results equal the local pool's bit for bit; a worker SIGKILLed mid-job, a Redis restart
// mid-run, and a deterministic failure are survived or reported once. Plus the pure parts: URL
// masking, failure encoding, the artifact store, lock takeover.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BasisError, isBasisError } from '@basis/tensor';
import { LOCK_FILE } from '@basis/tensor/node';
import { loadModel } from '@basis/zoo/node';
import { activationPoints } from '../recipes/common.js';
import { createRunContext, type ModelJob } from '../runner/context.js';
import { runRecipe } from '../runner/run.js';
import { activeTfBackend, captureKey, captureOf, checkCompareSpec, type CompareSpec } from '../runner/stages.js';
import { stringifyStored } from '../runner/json.js';
import { queueClear, queueRetry, queueStatus } from './admin.js';
import { connectQueue, decodeFailure, encodeFailure, isDeterministicFailure } from './common.js';
import { createQueueExecutor, trainWork } from './executor.js';
import { openStore } from './store.js';
import { findRedisServer, RedisProcess, spawnWorker, type WorkerProcess } from './test-helpers.js';
import { maskSecrets, resolveQueueUrl } from './url.js';
import { takeOverForeignLock } from './worker.js';

const job = (seed: number, epochs = 2, n = 300): ModelJob => ({
  data: { dataset: 'gaussian', n, dim: 8, classes: 3, seed: 0 },
  model: { arch: 'mlp', width: 12, depth: 1 },
  recipe: { epochs, batchSize: 32, optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 } },
  seed,
  label: `seed ${seed}`,
});

let root: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'basis-queue-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const code = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return isBasisError(e) ? `${e.code}: ${e.message}` : String(e);
  }
  return 'no error';
};

describe('queue URL', () => {
  it('accepts redis:// and rediss:// URLs, env:NAME and BASIS_QUEUE; masks the password everywhere', () => {
    const t = resolveQueueUrl('redis://:s3cr%2Ft@10.1.2.3:6379/2');
    expect(t.display).toBe('redis://:***@10.1.2.3:6379/2');
    expect(t.secrets).toEqual(['s3cr%2Ft', 's3cr/t']);
    expect(maskSecrets(`failed ${t.url} with s3cr/t and s3cr%2Ft`, t)).toBe('failed redis://:***@10.1.2.3:6379/2 with *** and ***');
    const e = resolveQueueUrl('env:MY_Q', { MY_Q: 'rediss://basis:pw@host.example:6380' });
    expect(e.tls).toBe(true);
    expect(e.display).toBe('rediss://basis:***@host.example:6380');
    expect(resolveQueueUrl(undefined, { BASIS_QUEUE: 'redis://127.0.0.1:7000' }).display).toBe('redis://127.0.0.1:7000');
    expect(resolveQueueUrl('', { BASIS_QUEUE: 'redis://127.0.0.1:7000' }).url).toBe('redis://127.0.0.1:7000');
  });

  it('rejects what is not a Redis URL with USAGE, never echoing the value', () => {
    expect(code(() => resolveQueueUrl(undefined, {}))).toMatch(/^USAGE: no queue given.*BASIS_QUEUE/);
    expect(code(() => resolveQueueUrl('env:NOPE', {}))).toMatch(/^USAGE: --queue env:NOPE: the environment variable NOPE is not set/);
    expect(code(() => resolveQueueUrl('env:1x', {}))).toMatch(/is not an environment variable name/);
    const bad = code(() => resolveQueueUrl('http://u:topsecret@h:1'));
    expect(bad).toMatch(/^USAGE: --queue must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(bad).not.toContain('topsecret');
    expect(code(() => resolveQueueUrl('not a url with hunter2'))).not.toContain('hunter2');
    expect(code(() => resolveQueueUrl('redis://h:99999'))).toMatch(/USAGE/);
    expect(code(() => resolveQueueUrl('redis://h:1/abc'))).toMatch(/database number/);
    expect(code(() => resolveQueueUrl('redis://h:1?x=1'))).toMatch(/query strings/);
  });
});

describe('job order', () => {
  it('estimates training work from epochs and model size, so the largest models are enqueued first', () => {
    const job = (width: number, epochs: number): ModelJob => ({ data: { dataset: 'mnist' }, model: { arch: 'mlp', width, depth: 2 }, recipe: { epochs, batchSize: 32, optimizer: { kind: 'sgd', lr: 0.1 } } } as unknown as ModelJob);
    expect(trainWork(job(256, 2))).toBeGreaterThan(trainWork(job(32, 2)));
    expect(trainWork(job(64, 4))).toBeCloseTo(2 * trainWork(job(64, 2)), 6);
    const order = [job(32, 2), job(256, 2), job(64, 2)].map((j) => ({ j, w: trainWork(j) })).sort((a, b) => b.w - a.w).map((x) => (x.j.model as { width: number }).width);
    expect(order).toEqual([256, 64, 32]);
  });
});

describe('failures across the queue', () => {
  it('deterministic BasisErrors fail once; others and interruptions are retried; codes survive the trip', () => {
    expect(isDeterministicFailure(new BasisError('CONFIG_INVALID', 'x'))).toBe(true);
    expect(isDeterministicFailure(new BasisError('IO', 'disk'))).toBe(false);
    expect(isDeterministicFailure(new BasisError('INVALID_ARGUMENT', 'stopped', { details: { aborted: true } }))).toBe(false);
    expect(isDeterministicFailure(new Error('boom'))).toBe(false);
    const back = decodeFailure(encodeFailure(new BasisError('CONFIG_INVALID', 'job.recipe.lr must be > 0')), 'training seed 1');
    expect(back.code).toBe('CONFIG_INVALID');
    expect(back.message).toBe('training seed 1 failed on a queue worker: job.recipe.lr must be > 0');
    expect(decodeFailure('job stalled more than allowable limit', 'x').code).toBe('IO');
    expect(decodeFailure(encodeFailure(new Error('boom')), 'x').message).toBe('x failed on a queue worker: boom');
  });
});

describe('artifact store (shared folder)', () => {
  it('writes atomically, answers has/read, refuses paths outside it and relative roots', async () => {
    const s = openStore({ kind: 'dir', root: join(root, 'store') });
    expect(await s.has('models/k/summary.json')).toBe(false);
    expect(await s.read('models/k/summary.json')).toBeNull();
    await s.write('models/k/summary.json', '{"ok":1}');
    expect(await s.has('models/k/summary.json')).toBe(true);
    expect(new TextDecoder().decode((await s.read('models/k/summary.json'))!)).toBe('{"ok":1}');
    expect((await readdir(join(root, 'store', 'models', 'k'))).filter((n) => n.includes('.tmp'))).toEqual([]);
    await expect(s.has('../etc/passwd')).rejects.toThrow(/not a relative path inside the store/);
    await expect(s.write('/abs', 'x')).rejects.toThrow(/not a relative path/);
    expect(code(() => openStore({ kind: 'dir', root: 'relative/dir' }))).toMatch(/^CONFIG_INVALID: artifact store: root must be an absolute folder path/);
    expect(code(() => openStore({ kind: 's3', root: '/x' } as never))).toMatch(/unknown kind "s3"/);
  });

  it('takes over the lock of a model folder from another host only when its heartbeat stopped', async () => {
    const dir = join(root, 'foreign');
    await mkdir(dir, { recursive: true });
    const owner = { pid: 1, host: 'other-host', started: new Date(Date.now() - 60_000).toISOString(), command: 'basis worker', token: 'tok123' };
    await writeFile(join(dir, LOCK_FILE), JSON.stringify(owner));
    await writeFile(join(dir, '.basis.queue-heartbeat'), 'other-host 1\n');
    const logs: string[] = [];
    // a fresh heartbeat: the other worker lives, IO (retried later)
    await expect(takeOverForeignLock(dir, 'this-host', 10_000, (l) => logs.push(l))).rejects.toThrow(/being written by other-host/);
    const old = new Date(Date.now() - 60_000);
    await utimes(join(dir, '.basis.queue-heartbeat'), old, old);
    expect(await takeOverForeignLock(dir, 'this-host', 10_000, (l) => logs.push(l))).toBe(true);
    expect(logs.join('\n')).toMatch(/took over the lock .* from other-host/);
    expect(await readdir(dir)).not.toContain(LOCK_FILE);
    // a lock of this host is left to lockDir
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ ...owner, host: 'this-host' }));
    expect(await takeOverForeignLock(dir, 'this-host', 10_000, () => undefined)).toBe(false);
    expect(await readdir(dir)).toContain(LOCK_FILE);
  });
});

const redisBin = findRedisServer();
if (redisBin === null) {
  console.warn('queue integration tests SKIPPED: redis-server is not installed and could not be installed (apt-get install redis-server; .ci/run and the README set-up do this)');
}

describe.skipIf(redisBin === null)('Redis queue with worker processes', () => {
  let redis: RedisProcess;
  const workers: WorkerProcess[] = [];
  const LOCK = 3; // seconds: a killed worker's job is retried after this
  const env = { BASIS_THREADS: '1' };
  const start = (name: string): WorkerProcess => {
    const w = spawnWorker(redis.url, name, LOCK, env);
    workers.push(w);
    return w;
  };
  const stopAll = async (ws: WorkerProcess[]): Promise<void> => {
    for (const w of ws) if (w.proc.exitCode === null) w.proc.kill('SIGTERM');
    await Promise.all(ws.map((w) => Promise.race([w.exited, new Promise((r) => setTimeout(r, 20_000))])));
    for (const w of ws) if (w.proc.exitCode === null) w.proc.kill('SIGKILL');
  };

  beforeAll(async () => {
    await mkdir(join(root, 'redis'), { recursive: true });
    redis = await RedisProcess.start(redisBin!, join(root, 'redis'));
  });
  afterAll(async () => {
    for (const w of workers) if (w.proc.exitCode === null) w.proc.kill('SIGKILL');
    await redis?.kill();
  });

  const params = async (dir: string, key: string): Promise<Record<string, number[]>> => {
    const m = await loadModel(join(dir, 'models', key));
    return Object.fromEntries(Object.entries(m.params).map(([k, v]) => [k, Array.from(v.data)]));
  };

  it('trains a job graph on 3 workers with results bitwise equal to the local pool; graceful stop', async () => {
    const name = 'graph';
    const ws = [start(name), start(name), start(name)];
    await Promise.all(ws.map((w) => w.waitFor(/on queue 'graph'/, 60_000)));
    const jobs = [0, 1, 2, 3, 4, 5].map((s) => job(s));
    const local = join(root, 'local');
    const lctx = await createRunContext({ dir: local, recipeId: 'Q', profile: 'quick', workers: 2, backend: 'cpu' });
    let lkeys: string[];
    let warmLocal: string;
    let chainLocal: string[];
    try {
      lkeys = (await lctx.models(jobs)).map((m) => m.key);
      const [w] = await lctx.models([{ ...job(9), init: { from: lkeys[0]! } }]);
      warmLocal = w!.key;
      const [b] = await lctx.models([job(6)]);
      const [c] = await lctx.models([{ ...job(7), init: { from: b!.key } }]);
      chainLocal = [b!.key, c!.key];
    } finally {
      await lctx.close();
    }
    const shared = join(root, 'shared');
    const statuses: string[] = [];
    const executor = await createQueueExecutor({ queue: redis.url, name, pollMs: 200, onStatus: (k, s) => statuses.push(`${k} ${s.done}/${s.total}`) });
    const qctx = await createRunContext({ dir: shared, recipeId: 'Q', profile: 'quick', backend: 'cpu', executor });
    try {
      const models = await qctx.models(jobs);
      expect(models.map((m) => m.key)).toEqual(lkeys);
      expect(qctx.stats.remote).toBe(6);
      const [w] = await qctx.models([{ ...job(9), init: { from: lkeys[0]! } }]);
      expect(w!.key).toBe(warmLocal);
      // a model and a warm start from it in one batch: the queue holds the second until the first exists
      const chain = await qctx.models([job(6), { ...job(7), init: { from: qctx.modelKey(job(6) as unknown as Record<string, unknown>) } }]);
      expect(chain.map((m) => m.key)).toEqual(chainLocal);
      // a second run is served from the store, no job enqueued
      const before = executor.enqueued;
      await qctx.models(jobs);
      expect(executor.enqueued).toBe(before);
    } finally {
      await qctx.close();
      await executor.close();
    }
    expect(statuses).toContain('train 6/6');
    for (const k of [...lkeys, warmLocal, ...chainLocal]) expect(await params(shared, k)).toEqual(await params(local, k));
    // the jobs were spread over the workers
    const busy = ws.filter((w) => w.lines.some((l) => /: trained \(/.test(l))).length;
    expect(busy).toBeGreaterThanOrEqual(2);
    await stopAll(ws);
    for (const w of ws) expect(await w.exited).toBe(0);
    expect(ws.every((w) => w.lines.some((l) => l.startsWith('stopped: ')))).toBe(true);
  }, 300_000);

  it('a reproduction through the queue: models, captures and comparisons are jobs; results equal the local run; a worker SIGKILLed in the capture stage; a deterministic capture failure fails once', async () => {
    const name = 'repro';
    const ws = [start(name), start(name), start(name)];
    await Promise.all(ws.map((w) => w.waitFor(/on queue 'repro'/, 60_000)));
    // E000-1 at a small size: 6 models, 12 captures (6 trained, 6 untrained), 12 comparisons
    const config = { widths: [8, 16], seeds: 3, inputs: 200, data: { dataset: 'mnist', trainSize: 500, testSize: 200 }, train: { epochs: 1, batchSize: 64, optimizer: { kind: 'adam', lr: 1e-3 } } };
    const localCache = join(root, 'repro-local-cache');
    const local = await runRecipe('E000-1', { profile: 'quick', out: join(root, 'repro-local'), cacheDir: localCache, backend: 'cpu', workers: 2, config, onWait: () => undefined });
    const shared = join(root, 'repro-shared');
    const statuses: string[] = [];
    const executor = await createQueueExecutor({ queue: redis.url, name, pollMs: 100, onStatus: (k, s) => statuses.push(`${k} ${s.done}/${s.total}`) });
    // the first worker that starts a capture job is killed at once (its job is retried after its lock expires)
    let victim: WorkerProcess | undefined;
    const killing = Promise.race(ws.map((w) => w.waitFor(/job capture .*started/, 280_000).then(() => w))).then((w) => {
      victim = w;
      w.proc.kill('SIGKILL');
    });
    killing.catch(() => undefined);
    let queued: Awaited<ReturnType<typeof runRecipe>>;
    try {
      queued = await runRecipe('E000-1', { profile: 'quick', out: join(root, 'repro-queued'), cacheDir: shared, backend: 'cpu', executor, config, onWait: () => undefined });
    } finally {
      await executor.close();
    }
    await killing;
    expect(await victim!.exited).toBe('SIGKILL');
    expect(queued.data).toEqual(local.data);
    expect(queued.checks).toEqual(local.checks);
    expect(queued.stats).toMatchObject({ trained: 6, remote: 6, computed: 12 });
    expect(statuses).toEqual(expect.arrayContaining(['train 6/6', 'capture 12/12', 'compare 12/12']));
    // the workers computed every capture and comparison; the memo files are the local run's, byte for byte
    const others = ws.filter((w) => w !== victim);
    const lines = ws.flatMap((w) => w.lines);
    expect(lines.filter((l) => /job compare .*: computed/.test(l)).length).toBeGreaterThanOrEqual(12);
    expect(lines.filter((l) => /job capture .*: computed/.test(l)).length).toBeGreaterThanOrEqual(11);
    const memos = (await readdir(join(localCache, 'cache'))).filter((n) => n.endsWith('.json')).sort();
    expect(memos).toHaveLength(12);
    expect((await readdir(join(shared, 'cache'))).filter((n) => n.endsWith('.json')).sort()).toEqual(memos);
    for (const m of memos) expect(await readFile(join(shared, 'cache', m), 'utf8')).toBe(await readFile(join(localCache, 'cache', m), 'utf8'));
    // no partial artifact (temp file) anywhere in the store
    for (const d of ['cache', 'captures']) expect((await readdir(join(shared, d))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect((await readdir(join(shared, 'captures'))).filter((n) => n.endsWith('.safetensors'))).toHaveLength(12);
    // a capture at a point the model does not have: fails once on a worker, the submitter gets its code
    const e2 = await createQueueExecutor({ queue: redis.url, name, pollMs: 100 });
    const ctx = await createRunContext({ dir: shared, recipeId: 'E000-1', profile: 'quick', backend: 'cpu', executor: e2 });
    let err: unknown;
    try {
      const key = (await readdir(join(shared, 'models'))).find((n) => /^[0-9a-f]{64}$/.test(n))!;
      await ctx.compare([{ metrics: ['permcorr'], data: config.data as never, inputs: 50, points: ['no.such.layer'], a: { key }, b: { key }, label: 'bad point' }]);
    } catch (e) {
      err = e;
    } finally {
      await ctx.close();
      await e2.close();
    }
    expect(isBasisError(err) && err.code).toBe('INVALID_ARGUMENT');
    expect((err as Error).message).toMatch(/^capture model \w{12} \(\w{12}\) failed on a queue worker: unknown capture point 'no\.such\.layer'/);
    await new Promise((r) => setTimeout(r, 500));
    const bad = others.flatMap((w) => w.lines.filter((l) => /job capture model \w{12} .*started/.test(l) && !lines.includes(l)));
    expect(bad).toHaveLength(1);
    expect(others.flatMap((w) => w.lines.filter((l) => /failed \(not retried\).*no\.such\.layer/.test(l)))).toHaveLength(1);
    // one capture as two jobs with different ids (as after a lost queue), taken by both workers at once: one file
    const key = (await readdir(join(shared, 'models'))).find((n) => /^[0-9a-f]{64}$/.test(n))!;
    const capture = captureOf(checkCompareSpec({ metrics: ['permcorr'], data: config.data, inputs: 77, points: queued.data['points'], a: { key }, b: { key } }), 'a');
    const ckey = captureKey(capture, queued.versions, 'cpu');
    const conn = await connectQueue(redis.url);
    const q = new Queue(name, { connection: conn.redis });
    try {
      const payload = { v: 1, key: ckey, label: 'raced', store: { kind: 'dir', root: shared }, versions: queued.versions, tfBackend: 'cpu', capture };
      await Promise.all([q.add('capture', payload, { jobId: 'cap-a' }), q.add('capture', payload, { jobId: 'cap-b' })]);
      for (let i = 0; i < 600 && !((await q.getJobState('cap-a')) === 'completed' && (await q.getJobState('cap-b')) === 'completed'); i++) await new Promise((r) => setTimeout(r, 100));
      expect([await q.getJobState('cap-a'), await q.getJobState('cap-b')]).toEqual(['completed', 'completed']);
    } finally {
      await q.close();
      await conn.close();
    }
    const names = await readdir(join(shared, 'captures'));
    expect(names.filter((n) => n.startsWith(`${ckey}.`))).toEqual([`${ckey}.safetensors`]);
    expect(names.filter((n) => n.includes(ckey) && n.endsWith('.tmp'))).toEqual([]);
    await stopAll(others);
  }, 300_000);

  // the capture and compare stage on its own: four models trained once in a local cache and copied
  // into each test's shared folder; kernel CKA on 2000 inputs makes each comparison take a while
  let stageModels: Promise<{ dir: string; keys: string[]; points: string[] }> | undefined;
  const stageFixture = (): Promise<{ dir: string; keys: string[]; points: string[] }> =>
    (stageModels ??= (async () => {
      const dir = join(root, 'stage-local');
      const ctx = await createRunContext({ dir, recipeId: 'QS', profile: 'quick', backend: 'cpu', workers: 2 });
      try {
        const ms = await ctx.models([0, 1, 2, 3].map((s) => job(800 + s, 1, 2500)));
        return { dir, keys: ms.map((m) => m.key), points: activationPoints(ms[0]!.graph) };
      } finally {
        await ctx.close();
      }
    })());
  const stageSpecs = (f: { keys: string[]; points: string[] }, inputs: number, ps: Array<[number, number]>): CompareSpec[] =>
    ps.map(([i, j]) => ({ metrics: ['cka.rbf'], data: job(0, 1, 2500).data, inputs, split: 'train', points: f.points, a: { key: f.keys[i]! }, b: { key: f.keys[j]! }, label: `pair ${i}-${j} n${inputs}` }));
  const localCompare = async (f: { dir: string }, specs: CompareSpec[]): Promise<unknown[]> => {
    const ctx = await createRunContext({ dir: f.dir, recipeId: 'QS', profile: 'quick', backend: 'cpu' });
    try {
      return await ctx.compare(specs);
    } finally {
      await ctx.close();
    }
  };
  /** Every memo file of `shared` is the local run's, byte for byte; no temp file in the store. */
  const sameMemos = async (shared: string, local: string, n: number): Promise<void> => {
    const memos = (await readdir(join(shared, 'cache'))).filter((x) => x.endsWith('.json'));
    expect(memos).toHaveLength(n);
    for (const m of memos) expect(await readFile(join(shared, 'cache', m), 'utf8')).toBe(await readFile(join(local, 'cache', m), 'utf8'));
    for (const d of ['cache', 'captures']) expect((await readdir(join(shared, d)).catch(() => [] as string[])).filter((x) => x.includes('.tmp'))).toEqual([]);
  };
  const computed = (ws: WorkerProcess[]): string[] => ws.flatMap((w) => w.lines.map((l) => /^job (\w[\w-]*) (.*): computed/.exec(l)).filter((m) => m !== null).map((m) => `${m[1]!} ${m[2]!}`));

  it('a worker SIGKILLed while it runs a compare job: the stage completes with the local values, no partial artifact', async () => {
    const name = 'killcmp';
    const ws = [start(name), start(name), start(name)];
    await Promise.all(ws.map((w) => w.waitFor(/on queue 'killcmp'/, 120_000)));
    const f = await stageFixture();
    const specs = stageSpecs(f, 2000, [
      [0, 1],
      [0, 2],
      [1, 2],
    ]);
    const local = await localCompare(f, specs);
    const shared = join(root, 'killcmp');
    await cp(join(f.dir, 'models'), join(shared, 'models'), { recursive: true });
    const executor = await createQueueExecutor({ queue: redis.url, name, pollMs: 200 });
    const ctx = await createRunContext({ dir: shared, recipeId: 'QS', profile: 'quick', backend: 'cpu', executor });
    // the first worker that starts a compare job is killed at once, in the middle of it
    let victim: WorkerProcess | undefined;
    let label = '';
    const killing = Promise.race(ws.map((w) => w.waitFor(/job compare .*started/, 500_000).then((l) => [w, l] as const))).then(([w, l]) => {
      w.proc.kill('SIGKILL');
      victim = w;
      label = /^job compare (.*) \(compare-/.exec(l)![1]!;
    });
    killing.catch(() => undefined);
    let got: unknown[];
    try {
      got = await ctx.compare(specs);
    } finally {
      await ctx.close();
      await executor.close();
    }
    await killing;
    expect(await victim!.exited).toBe('SIGKILL');
    expect(computed([victim!])).not.toContain(`compare ${label}`);
    const others = ws.filter((w) => w !== victim);
    // another worker took the job once its lock expired, and computed it once
    expect(computed(others).filter((l) => l === `compare ${label}`)).toHaveLength(1);
    expect(got).toEqual(local);
    await sameMemos(shared, f.dir, 3);
    expect((await readdir(join(shared, 'captures'))).filter((x) => x.endsWith('.safetensors'))).toHaveLength(3);
    await stopAll(others);
  }, 600_000);

  it('Redis restarted in the capture and compare stage: the submitter re-enqueues what is missing; finished captures and comparisons are not computed again', async () => {
    const name = 'restartcmp';
    const ws = [start(name), start(name), start(name)];
    await Promise.all(ws.map((w) => w.waitFor(/on queue 'restartcmp'/, 120_000)));
    const f = await stageFixture();
    const specs = stageSpecs(f, 1800, [
      [0, 1],
      [0, 2],
      [0, 3],
      [1, 2],
      [1, 3],
      [2, 3],
    ]);
    const local = await localCompare(f, specs);
    const shared = join(root, 'restartcmp');
    await cp(join(f.dir, 'models'), join(shared, 'models'), { recursive: true });
    const waits: string[] = [];
    const executor = await createQueueExecutor({ queue: redis.url, name, pollMs: 200 });
    const ctx = await createRunContext({ dir: shared, recipeId: 'QS', profile: 'quick', backend: 'cpu', executor, onWait: (l) => waits.push(l) });
    let got: unknown[];
    let before: string[];
    try {
      const run = ctx.compare(specs);
      run.catch(() => undefined);
      // Redis goes down once the first comparison is done: 4 captures and 1 comparison finished, the rest queued or running
      await Promise.race(ws.map((w) => w.waitFor(/job compare .*: computed/, 500_000)));
      await redis.kill();
      before = computed(ws);
      expect(before.filter((l) => l.startsWith('capture '))).toHaveLength(4);
      expect(before.filter((l) => l.startsWith('compare ')).length).toBeLessThan(6);
      await new Promise((r) => setTimeout(r, 1500));
      await redis.up();
      got = await run;
    } finally {
      await ctx.close();
      await executor.close();
    }
    expect(got).toEqual(local);
    expect(executor.enqueued).toBeGreaterThan(4 + 6);
    expect(waits.join('\n')).toMatch(/no longer holds job .*enqueued again/);
    // what was finished before the restart was computed once (the store, not Redis, is the record)
    const after = computed(ws);
    for (const k of before) expect(after.filter((l) => l === k)).toHaveLength(1);
    expect(after.filter((l) => l.startsWith('capture '))).toHaveLength(4);
    await sameMemos(shared, f.dir, 6);
    await stopAll(ws);
  }, 600_000);

  it('E004-3 through the queue: each pair of modes is a mode-pair job (plain, weight- and activation-matched); results and memo files equal the local run; a bad job fails once', async () => {
    const name = 'modepair';
    const ws = [start(name), start(name), start(name)];
    await Promise.all(ws.map((w) => w.waitFor(/on queue 'modepair'/, 120_000)));
    const config = {
      family: { data: { dataset: 'mnist', trainSize: 600, testSize: 200 }, model: { arch: 'mlp', width: 16, depth: 2 }, train: { epochs: 1, batchSize: 64, optimizer: { kind: 'adam', lr: 1e-3 } }, seeds: [0, 1, 2] },
      spawnEpochs: [0],
      parents: 1,
      inputs: 100,
      matchInputs: 200,
    };
    const localCache = join(root, 'modepair-local-cache');
    const local = await runRecipe('E004-3', { profile: 'quick', out: join(root, 'modepair-local'), cacheDir: localCache, backend: 'cpu', workers: 2, config, onWait: () => undefined });
    const shared = join(root, 'modepair-shared');
    const statuses: string[] = [];
    const executor = await createQueueExecutor({ queue: redis.url, name, pollMs: 100, onStatus: (k, s) => statuses.push(`${k} ${s.done}/${s.total}`) });
    let queued: Awaited<ReturnType<typeof runRecipe>>;
    try {
      queued = await runRecipe('E004-3', { profile: 'quick', out: join(root, 'modepair-queued'), cacheDir: shared, backend: 'cpu', executor, config, onWait: () => undefined });
      // a job whose key is not the memo hash of its spec: fails once on a worker, the submitter gets its code
      const spec = { condition: 'independent', pair: 0, data: config.family.data, inputs: 100, a: 'a'.repeat(64), b: 'b'.repeat(64), align: 'none' };
      const hooks = { signal: new AbortController().signal, onProgress: () => undefined };
      const env = { dir: shared, versions: queued.versions, recipeId: 'E004-3', tfBackend: activeTfBackend() };
      const err = await executor.evaluate([{ kind: 'mode-pair', key: 'f'.repeat(64), label: 'hand-made', spec }], env, hooks).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isBasisError(err) && err.code).toBe('CONFIG_INVALID');
      expect((err as Error).message).toMatch(/^mode-pair hand-made \(f{12}\) failed on a queue worker: mode-pair hand-made: its key f{12} is not the memo hash of its spec/);
      await expect(executor.evaluate([{ kind: 'nope', key: 'f'.repeat(64), label: 'x', spec }], env, hooks)).rejects.toThrow(/evaluation task 'nope' is not a job kind the queue workers run \(mode-pair\)/);
    } finally {
      await executor.close();
    }
    expect(queued.data).toEqual(local.data);
    expect(queued.checks).toEqual(local.checks);
    expect(queued.stats).toMatchObject({ trained: 3, remote: 3, computed: 9 });
    expect(statuses).toEqual(expect.arrayContaining(['train 3/3', 'mode-pair 9/9']));
    const lines = ws.flatMap((w) => w.lines);
    expect(computed(ws).filter((l) => l.startsWith('mode-pair '))).toHaveLength(9);
    expect(lines.filter((l) => /hand-made .*started/.test(l))).toHaveLength(1);
    expect(lines.filter((l) => /hand-made: failed \(not retried\)/.test(l))).toHaveLength(1);
    // the pairs were spread over the workers
    expect(ws.filter((w) => w.lines.some((l) => /^job mode-pair .*: computed/.test(l))).length).toBeGreaterThanOrEqual(2);
    await sameMemos(shared, localCache, 9);
    await stopAll(ws);
  }, 600_000);

  it('a worker SIGKILLed mid-job: no partial model, another worker takes the job after its lock expires', async () => {
    const name = 'kill';
    const ws = [start(name), start(name), start(name)];
    await Promise.all(ws.map((w) => w.waitFor(/on queue 'kill'/, 60_000)));
    const dir = join(root, 'kill');
    const jobs = [0, 1, 2].map((s) => job(100 + s, 150, 2000)); // seconds of training even on an idle machine
    const executor = await createQueueExecutor({ queue: redis.url, name, pollMs: 200 });
    const ctx = await createRunContext({ dir, recipeId: 'Q', profile: 'quick', backend: 'cpu', executor });
    try {
      const run = ctx.models(jobs);
      // kill the first worker that starts a job, once it has trained for a moment
      const started = await Promise.race(ws.map((w, i) => w.waitFor(/: started/, 120_000).then((l) => [i, l] as const)));
      const victim = ws[started[0]]!;
      const label = /job train (seed \d+)/.exec(started[1])![1]!;
      await new Promise((r) => setTimeout(r, 1000));
      expect(victim.lines.some((l) => l.includes(`${label}: trained`))).toBe(false);
      victim.proc.kill('SIGKILL');
      expect(await victim.exited).toBe('SIGKILL');
      const models = await run;
      expect(models).toHaveLength(3);
      const others = ws.filter((w) => w !== victim);
      expect(others.some((w) => w.lines.some((l) => l.includes(`${label}: trained`)))).toBe(true);
      // every model is whole: loads, and no temp file or lock is left
      for (const m of models) {
        await loadModel(m.dir);
        const names = await readdir(m.dir);
        expect(names.filter((n) => n.endsWith('.tmp') || n === LOCK_FILE)).toEqual([]);
      }
      await stopAll(others);
    } finally {
      await ctx.close();
      await executor.close();
    }
  }, 300_000);

  it('Redis restarted mid-run (its jobs lost): the submitter re-enqueues what is missing and the graph completes', async () => {
    const name = 'restart';
    const ws = [start(name), start(name), start(name)];
    await Promise.all(ws.map((w) => w.waitFor(/on queue 'restart'/, 60_000)));
    const dir = join(root, 'restart');
    // long enough that Redis goes down while jobs are still queued or running, even on an idle machine
    const jobs = [0, 1, 2, 3, 4].map((s) => job(200 + s, 150, 2000)); // seconds of training each even on an idle machine (40 epochs of 1000 finished before Redis went down)
    const waits: string[] = [];
    const executor = await createQueueExecutor({ queue: redis.url, name, pollMs: 200 });
    const ctx = await createRunContext({ dir, recipeId: 'Q', profile: 'quick', backend: 'cpu', executor, onWait: (l) => waits.push(l) });
    try {
      const run = ctx.models(jobs);
      await Promise.race(ws.map((w) => w.waitFor(/: started/, 120_000)));
      await redis.kill();
      await new Promise((r) => setTimeout(r, 1500));
      await redis.up();
      const models = await run;
      expect(models).toHaveLength(5);
      expect(executor.enqueued).toBeGreaterThan(5);
      expect(waits.join('\n')).toMatch(/enqueued again/);
      for (const m of models) await loadModel(m.dir);
      await stopAll(ws);
    } finally {
      await ctx.close();
      await executor.close();
    }
  }, 300_000);

  it('a deterministic failure fails once, reaches the submitter with its code; queue status, retry and clear', async () => {
    const name = 'fail';
    const ws = [start(name), start(name), start(name)];
    await Promise.all(ws.map((w) => w.waitFor(/on queue 'fail'/, 60_000)));
    const dir = join(root, 'fail');
    const missing = 'f'.repeat(64);
    const executor = await createQueueExecutor({ queue: redis.url, name, pollMs: 200 });
    const ctx = await createRunContext({ dir, recipeId: 'Q', profile: 'quick', backend: 'cpu', executor });
    let err: unknown;
    try {
      await ctx.models([{ ...job(300), init: { from: missing } }]);
    } catch (e) {
      err = e;
    } finally {
      await ctx.close();
      await executor.close();
    }
    expect(isBasisError(err) && err.code).toBe('CONFIG_INVALID');
    expect((err as Error).message).toMatch(/^training seed 300 \(\w{12}\) failed on a queue worker: jobs\[0\]\.init\.from: no finished model with key f{64}/);
    await new Promise((r) => setTimeout(r, 1000));
    const starts = ws.flatMap((w) => w.lines.filter((l) => /seed 300 .*started/.test(l)));
    expect(starts).toHaveLength(1);
    expect(ws.flatMap((w) => w.lines.filter((l) => /seed 300: failed \(not retried\)/.test(l)))).toHaveLength(1);
    const s = await queueStatus({ queue: redis.url, name });
    expect(s.counts.failed).toBe(1);
    expect(s.kinds['train']?.failed).toBe(1);
    expect(s.failed[0]).toMatchObject({ kind: 'train', label: 'seed 300', attempts: 1 });
    expect(s.workers).toBeGreaterThanOrEqual(3);
    expect(await queueRetry({ queue: redis.url, name })).toEqual({ retried: 1 });
    // it fails again, once more
    const conn = await connectQueue(redis.url);
    const q = new Queue(name, { connection: conn.redis });
    try {
      for (let i = 0; i < 100 && (await q.getJobCounts('failed')).failed === 0; i++) await new Promise((r) => setTimeout(r, 200));
      expect((await q.getJobCounts('failed')).failed).toBe(1);
    } finally {
      await q.close();
      await conn.close();
    }
    expect(await queueClear({ queue: redis.url, name })).toMatchObject({ removed: 1 });
    expect((await queueStatus({ queue: redis.url, name })).counts.failed).toBe(0);
    await stopAll(ws);
  }, 300_000);

  it('two workers racing on one job produce one model; two submitters needing one model share one job', async () => {
    const name = 'race';
    const ws = [start(name), start(name)];
    await Promise.all(ws.map((w) => w.waitFor(/on queue 'race'/, 60_000)));
    const dir = join(root, 'race');
    const j = job(600, 30, 1500);
    const probe = await createRunContext({ dir, recipeId: 'Q', profile: 'quick', backend: 'cpu' });
    const key = probe.modelKey(j as unknown as Record<string, unknown>);
    const versions = probe.versions;
    await probe.close();
    // the same model as two jobs with different ids (as after a lost queue): both workers take one
    const conn = await connectQueue(redis.url);
    const q = new Queue(name, { connection: conn.redis });
    try {
      const payload = { v: 1, key, job: stringifyStored(j), label: 'seed 600', store: { kind: 'dir', root: dir }, versions, backend: 'cpu', engine: {} };
      await q.add('train', payload, { jobId: 'race-a' });
      await q.add('train', payload, { jobId: 'race-b' });
      for (let i = 0; i < 600 && !((await q.getJobState('race-a')) === 'completed' && (await q.getJobState('race-b')) === 'completed'); i++) await new Promise((r) => setTimeout(r, 200));
      expect([await q.getJobState('race-a'), await q.getJobState('race-b')]).toEqual(['completed', 'completed']);
    } finally {
      await q.close();
      await conn.close();
    }
    const lines = ws.flatMap((w) => w.lines);
    expect(lines.filter((l) => /seed 600: trained/.test(l))).toHaveLength(1);
    expect(lines.filter((l) => /seed 600: already in the store/.test(l))).toHaveLength(1);
    const names = await readdir(join(dir, 'models', key));
    expect(names.filter((n) => n === 'summary.json')).toHaveLength(1);
    expect(names.filter((n) => n.endsWith('.tmp') || n === LOCK_FILE)).toEqual([]);
    await loadModel(join(dir, 'models', key));
    // two submitters that need one new model: one job, trained once
    const e1 = await createQueueExecutor({ queue: redis.url, name, pollMs: 200 });
    const e2 = await createQueueExecutor({ queue: redis.url, name, pollMs: 200 });
    const c1 = await createRunContext({ dir, recipeId: 'Q', profile: 'quick', backend: 'cpu', executor: e1 });
    const c2 = await createRunContext({ dir, recipeId: 'Q', profile: 'quick', backend: 'cpu', executor: e2 });
    try {
      const [m1, m2] = await Promise.all([c1.models([job(601, 20, 1000)]), c2.models([job(601, 20, 1000)])]);
      expect(m1![0]!.key).toBe(m2![0]!.key);
      // both may have called add at the same moment: BullMQ keeps one job per id
      expect(ws.flatMap((w) => w.lines).filter((l) => /seed 601 .*started/.test(l))).toHaveLength(1);
      expect(ws.flatMap((w) => w.lines).filter((l) => /seed 601: trained/.test(l))).toHaveLength(1);
      expect((await queueStatus({ queue: redis.url, name })).counts).toMatchObject({ completed: 3, failed: 0, waiting: 0, active: 0 });
    } finally {
      for (const c of [c1, c2]) await c.close();
      for (const e of [e1, e2]) await e.close();
    }
    await stopAll(ws);
  }, 300_000);

  it('graceful stop: a second SIGTERM releases the running job back to the queue (no attempt used), another worker resumes it', async () => {
    const name = 'release';
    const first = start(name);
    await first.waitFor(/on queue 'release'/, 60_000);
    const dir = join(root, 'release');
    const executor = await createQueueExecutor({ queue: redis.url, name, pollMs: 200 });
    const ctx = await createRunContext({ dir, recipeId: 'Q', profile: 'quick', backend: 'cpu', executor });
    try {
      const run = ctx.models([job(400, 150, 2000)]);
      await first.waitFor(/seed 400 .*started/, 120_000);
      await new Promise((r) => setTimeout(r, 1000));
      first.proc.kill('SIGTERM');
      await first.waitFor(/SIGTERM|stopping|finishing/i, 5000).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 300));
      first.proc.kill('SIGTERM');
      await first.waitFor(/released seed 400 .* back to the queue/, 60_000);
      expect(await first.exited).toBe(0);
      expect(first.lines.some((l) => /seed 400: trained/.test(l))).toBe(false);
      const second = start(name);
      const [m] = await run;
      await loadModel(m!.dir);
      expect(second.lines.some((l) => /seed 400 .*started \(attempt 1\)/.test(l))).toBe(true);
      await stopAll([second]);
    } finally {
      await ctx.close();
      await executor.close();
    }
  }, 300_000);

  it('--concurrency 2: one worker process runs two jobs at once', async () => {
    const name = 'conc';
    const w = spawnWorker(redis.url, name, LOCK, env, 2);
    workers.push(w);
    await w.waitFor(/on queue 'conc' .*up to 2 jobs at once/, 60_000);
    const dir = join(root, 'conc');
    const executor = await createQueueExecutor({ queue: redis.url, name, pollMs: 200 });
    const ctx = await createRunContext({ dir, recipeId: 'Q', profile: 'quick', backend: 'cpu', executor });
    try {
      const models = await ctx.models([0, 1, 2, 3].map((s) => job(500 + s, 20, 1000)));
      expect(models).toHaveLength(4);
      // the second job started before the first one finished
      const events = w.lines.filter((l) => /seed 50\d.*(started|: trained)/.test(l));
      expect(events[0]).toMatch(/started/);
      expect(events[1]).toMatch(/started/);
      await stopAll([w]);
      expect(await w.exited).toBe(0);
    } finally {
      await ctx.close();
      await executor.close();
    }
  }, 300_000);

  it('a password-protected Redis: the password works through env:NAME and never appears in errors', async () => {
    await mkdir(join(root, 'redis-pw'), { recursive: true });
    const pw = await RedisProcess.start(redisBin!, join(root, 'redis-pw'), ['--requirepass', 'corr3ct-horse']);
    try {
      const s = await queueStatus({ queue: 'env:TEST_QUEUE_URL_OK', connectSeconds: 5 }).catch((e: unknown) => e);
      expect(code(() => {
        throw s;
      })).toMatch(/TEST_QUEUE_URL_OK is not set/);
      process.env['TEST_QUEUE_URL_OK'] = pw.url;
      const ok = await queueStatus({ queue: 'env:TEST_QUEUE_URL_OK' });
      expect(ok.queue).toBe(`redis://:***@127.0.0.1:${pw.port}`);
      const wrong = `redis://:hunter2-wrong@127.0.0.1:${pw.port}`;
      const e = await queueStatus({ queue: wrong, connectSeconds: 3 }).then(
        () => null,
        (x: unknown) => x,
      );
      expect(isBasisError(e) && e.code).toBe('IO');
      expect((e as Error).message).toMatch(/cannot reach the job queue at redis:\/\/:\*\*\*@127\.0\.0\.1/);
      expect((e as Error).message).not.toContain('hunter2');
    } finally {
      delete process.env['TEST_QUEUE_URL_OK'];
      await pw.kill();
    }
  }, 60_000);
});
