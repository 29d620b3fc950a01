// `basis reproduce --queue`, `basis train --queue`, `basis compare --layers --queue`, `basis worker` and `basis queue` on the built
// binary against a real redis-server on 127.0.0.1 (a free port, killed afterwards): a tiny E000-1
// and two `basis train` seeds through two worker processes give the results of the local runs;
// status, graceful stop, usage errors, masked credentials. Skipped with a message when
// redis-server is not installed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeNpyFile } from '@basis/tensor/node';
import { maskQueueArgv } from './commands/queue.js';
import { BIN, TINY_E000_1, basis, basisWithEnv } from './test-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'basis-cli-queue-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function redisServer(): string | null {
  for (const p of [process.env['BASIS_REDIS_SERVER'], '/usr/bin/redis-server', '/usr/sbin/redis-server', '/usr/local/bin/redis-server']) if (p !== undefined && p !== '' && existsSync(p)) return p;
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

describe('queue usage errors (no Redis needed)', () => {
  it('masks passwords of queue URLs in the command line that lock files record', () => {
    const argv = ['node', 'basis', 'reproduce', 'E000-1', '--queue', 'redis://:s3cret@10.0.0.5:6379', '--queue=rediss://user:p%40ss@h:6380/2', '--out', 'x'];
    expect(maskQueueArgv(argv)).toBe(2);
    expect(argv).toEqual(['node', 'basis', 'reproduce', 'E000-1', '--queue', 'redis://:***@10.0.0.5:6379', '--queue=rediss://user:***@h:6380/2', '--out', 'x']);
    expect(maskQueueArgv(['basis', 'worker', '--queue', 'redis://127.0.0.1:6379'])).toBe(0);
  });

  it('rejects bad flags with USAGE and never prints a password', async () => {
    const env = await basisWithEnv({ BASIS_QUEUE: undefined }, 'queue', 'status', '--queue', 'env:BASIS_TEST_NOPE');
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/USAGE.*the environment variable BASIS_TEST_NOPE is not set/);
    const none = await basisWithEnv({ BASIS_QUEUE: undefined }, 'worker');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no queue given/);
    const conc = await basis('worker', '--queue', 'redis://127.0.0.1:1', '--concurrency', '0');
    expect(conc.code).toBe(2);
    expect(conc.stderr).toMatch(/--concurrency must be an integer from 1 to 256, got '0'/);
    const bad = await basis('queue', 'status', '--queue', 'http://user:hunter2@127.0.0.1:1');
    expect(bad.code).toBe(2);
    expect(bad.stderr).not.toContain('hunter2');
    const port = await freePort();
    const down = await basis('queue', 'status', '--queue', `redis://:hunter2@127.0.0.1:${port}`, '--json');
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(new RegExp(`IO.*cannot reach the job queue at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}`));
    expect(down.stderr + down.stdout).not.toContain('hunter2');
  }, 120_000);
});

const bin = redisServer();
if (bin === null) {
  console.warn('basis queue CLI tests SKIPPED: redis-server is not installed and could not be installed (sh tooling/scripts/setup-redis.sh)');
}

describe.skipIf(bin === null)('basis reproduce --queue with basis worker processes', () => {
  let redis: ChildProcess;
  let url: string;
  beforeAll(async () => {
    const port = await freePort();
    redis = spawn(bin!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    url = `redis://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      const r = await basis('queue', 'status', '--queue', url, '--json');
      if (r.code === 0) return;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error('redis-server did not start');
  });
  afterAll(() => {
    redis?.kill('SIGKILL');
  });

  it('reproduce, train --seeds and compare --layers through two workers give the local results; status; graceful stop', async () => {
    const cfg = join(dir, 'tiny.yaml');
    writeFileSync(cfg, TINY_E000_1);
    const workers = [0, 1].map(() => {
      const p = spawn(process.execPath, [BIN, 'worker', '--queue', url, '--name', 'cli', '--lock', '10', '--threads', '1', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const out = { stdout: '', stderr: '' };
      p.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
      const exited = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
      return { p, out, exited };
    });
    for (let i = 0; i < 600 && !workers.every((w) => /on queue 'cli'/.test(w.out.stderr)); i++) await new Promise((r) => setTimeout(r, 100));
    const q = await basis('reproduce', '--config', cfg, '--out', join(dir, 'q', 'E000-1'), '--cache', join(dir, 'q-cache'), '--queue', url, '--queue-name', 'cli', '--json', '--threads', '1');
    expect(q.code, q.stderr).toBe(0);
    expect(q.stderr).toMatch(/models, captures and comparisons run by the workers of job queue redis:\/\/127\.0\.0\.1:\d+ \(queue 'cli'\)/);
    expect(q.stderr).toMatch(/queue train: 4\/4 done/);
    // the captures (4 trained, 4 untrained models) and the comparisons (2 widths x 1 pair, trained and untrained) ran on the workers too
    expect(q.stderr).toMatch(/queue capture: 8\/8 done/);
    expect(q.stderr).toMatch(/queue compare: 4\/4 done/);
    const local = await basis('reproduce', '--config', cfg, '--out', join(dir, 'l', 'E000-1'), '--cache', join(dir, 'l-cache'), '--json', '--threads', '1', '--workers', '1');
    expect(local.code, local.stderr).toBe(0);
    const data = (p: string) => (JSON.parse(readFileSync(p, 'utf8')) as { data: unknown; checks: unknown; stats: { trained: number; remote: number } });
    const rq = data(join(dir, 'q', 'E000-1', 'result.json'));
    const rl = data(join(dir, 'l', 'E000-1', 'result.json'));
    expect(rq.data).toEqual(rl.data);
    expect(rq.checks).toEqual(rl.checks);
    expect(rq.stats).toMatchObject({ trained: 4, remote: 4 });
    expect(rl.stats).toMatchObject({ trained: 4, remote: 0 });
    const st = await basis('queue', 'status', '--queue', url, '--name', 'cli', '--json');
    expect(st.code).toBe(0);
    const s = JSON.parse(st.stdout) as { counts: { completed: number; failed: number }; workers: number; queue: string };
    expect(s.counts).toMatchObject({ completed: 16, failed: 0 });
    expect(s.workers).toBeGreaterThanOrEqual(2);
    const human = await basis('queue', 'status', '--queue', url, '--name', 'cli');
    expect(human.stdout).toMatch(/queue 'cli' at redis:\/\/127\.0\.0\.1:\d+: \d+ worker connections/);
    expect(human.stdout).toMatch(/train\s+0\s+0\s+0\s+4\s+0/);
    expect(human.stdout).toMatch(/capture\s+0\s+0\s+0\s+8\s+0/);
    expect(human.stdout).toMatch(/compare\s+0\s+0\s+0\s+4\s+0/);
    // basis train --seeds through the same workers: the run directories equal a local run's, byte for byte
    const trainArgs = ['train', '--arch', 'mlp', '--width', '8', '--depth', '1', '--dataset', 'mnist', '--train-size', '300', '--test-size', '100', '--epochs', '1', '--batch-size', '32', '--seeds', '0,1', '--json', '--threads', '1'];
    const tq = await basis(...trainArgs, '--out', join(dir, 'tq'), '--queue', url, '--queue-name', 'cli');
    expect(tq.code, tq.stderr).toBe(0);
    expect(tq.stderr).toMatch(/seeds 0, 1 go to the workers of job queue/);
    const tl = await basis(...trainArgs, '--out', join(dir, 'tl'), '--workers', '1');
    expect(tl.code, tl.stderr).toBe(0);
    const runs = (o: string) => (JSON.parse(o) as { runs: Array<{ seed: number; testAccuracy: number; steps: number }> }).runs.map((r) => [r.seed, r.testAccuracy, r.steps]);
    expect(runs(tq.stdout)).toEqual(runs(tl.stdout));
    for (const seed of [0, 1]) {
      expect(readFileSync(join(dir, 'tq', `seed-${seed}`, 'model.safetensors')).equals(readFileSync(join(dir, 'tl', `seed-${seed}`, 'model.safetensors')))).toBe(true);
    }
    // basis compare --layers through the same workers: audit.json values equal the local audit's
    for (const [d, seed] of [['la', 1], ['lb', 2]] as const) {
      mkdirSync(join(dir, d), { recursive: true });
      let x = seed;
      const rnd = (): number => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
      for (const l of ['l0', 'l1', 'l2']) await writeNpyFile(join(dir, d, `${l}.npy`), { dtype: 'float64', shape: [120, 6], data: Float64Array.from({ length: 720 }, rnd) });
    }
    const cmp = ['compare', '--layers', join(dir, 'la'), join(dir, 'lb'), '--metric', 'cka.linear,procrustes.similarity', '--json', '--threads', '1'];
    const cq = await basis(...cmp, '--out', join(dir, 'cq'), '--queue', url, '--queue-name', 'cli');
    expect(cq.code, cq.stderr).toBe(0);
    expect(cq.stderr).toMatch(/3 rows \(one per layer of A\) go to the workers of job queue/);
    const cl = await basis(...cmp, '--out', join(dir, 'cl'));
    expect(cl.code, cl.stderr).toBe(0);
    const audit = (d: string) => JSON.parse(readFileSync(join(dir, d, 'audit.json'), 'utf8')) as { values: Record<string, number[][]>; layersA: string[]; layersB: string[] };
    expect(audit('cq').values).toEqual(audit('cl').values);
    expect(audit('cq').layersA).toEqual(['l0', 'l1', 'l2']);
    expect(readFileSync(join(dir, 'cq', 'cka.linear.csv'), 'utf8')).toBe(readFileSync(join(dir, 'cl', 'cka.linear.csv'), 'utf8'));
    const spawnQ = await basis(...trainArgs, '--out', join(dir, 'tq2'), '--queue', url, '--spawn-steps', '3');
    expect(spawnQ.code).toBe(2);
    expect(spawnQ.stderr).toMatch(/--spawn-steps cannot be combined with --queue/);
    for (const w of workers) w.p.kill('SIGTERM');
    const codes = await Promise.all(workers.map((w) => w.exited));
    expect(codes).toEqual([0, 0]);
    const stats = workers.map((w) => JSON.parse(w.out.stdout) as { trained: number; reused: number; failed: number });
    expect(stats.reduce((a, x) => a + x.trained, 0)).toBe(21);
    expect(workers.map((w) => w.out.stderr).join('\n')).toMatch(/SIGTERM: finishing the running job, then stopping/);
    const cleared = await basis('queue', 'clear', '--queue', url, '--name', 'cli', '--json');
    expect(cleared.code).toBe(0);
    expect(JSON.parse(cleared.stdout)).toMatchObject({ removed: 21 });
    const unknown = await basis('queue', 'frob', '--queue', url);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown queue action 'frob'/);
  }, 600_000);
});
