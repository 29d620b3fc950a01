/**
 * `pnpm bench` for @basis/experiments: a quick reproduction (E000-1 quick profile, 12 models: four
 * widths x three seeds) through the Redis job queue with 1 and then 2 local worker processes
 * (`basis worker` equivalents started from the sources, BASIS_THREADS=1 each, so one process uses
 * one core), each run on a fresh cache. Measures the training phase (the time the run waits for
 * the queue: models per second) and the whole run (training plus the comparisons the submitter
 * computes itself), prints the throughput ratio 2 vs 1 with the load average, and writes
 * bench-results/experiments-queue.json. Needs redis-server (skipped with a message without it).
 *
 * Environment: BENCH_QUEUE_RECIPE=E000-1 (another recipe id), BENCH_QUICK=1 (a smaller sweep:
 * widths 16 and 32, two seeds).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { benchHeader, headerLine, loadSpan, loadSpanText, writeBenchResult, type LoadSpan } from '@basis/test-utils/bench';
import { createQueueExecutor, runRecipe, type Executor } from '../src/node.js';
import { RedisProcess, findRedisServer, spawnWorker, type WorkerProcess } from '../src/queue/test-helpers.js';

const header = benchHeader();
console.log(headerLine(header));
const bin = findRedisServer();
if (bin === null) {
  console.log('experiments queue bench SKIPPED: redis-server is not installed (sh tooling/scripts/setup-redis.sh)');
  process.exit(0);
}
await tf.setBackend('cpu');
const recipe = process.env['BENCH_QUEUE_RECIPE'] ?? 'E000-1';
const quick = process.env['BENCH_QUICK'] === '1';
const config = quick && recipe === 'E000-1' ? { widths: [16, 32], seeds: 2 } : undefined;
const root = mkdtempSync(join(tmpdir(), 'basis-queue-bench-'));
await import('node:fs/promises').then((f) => f.mkdir(join(root, 'redis')));
const redis = await RedisProcess.start(bin, join(root, 'redis'));

interface Side {
  workers: number;
  models: number;
  trainSeconds: number;
  totalSeconds: number;
  modelsPerSecond: number;
  span: LoadSpan;
  verdicts: string[];
}

async function side(n: number): Promise<Side> {
  const name = `bench-${n}`;
  const ws: WorkerProcess[] = Array.from({ length: n }, () => spawnWorker(redis.url, name, 30, { BASIS_THREADS: '1' }));
  await Promise.all(ws.map((w) => w.waitFor(new RegExp(`on queue '${name}'`), 120_000)));
  const inner = await createQueueExecutor({ queue: redis.url, name, pollMs: 100 });
  // time spent waiting for the queue (the training phase), over every models() call of the recipe
  let trainSeconds = 0;
  let models = 0;
  const executor: Executor = {
    kind: inner.kind,
    description: inner.description,
    async train(tasks, env, hooks) {
      const t0 = performance.now();
      try {
        await inner.train(tasks, env, hooks);
      } finally {
        trainSeconds += (performance.now() - t0) / 1000;
        models += tasks.length;
      }
    },
    close: () => inner.close(),
  };
  const end = loadSpan();
  const t0 = performance.now();
  try {
    const out = join(root, `out-${n}`);
    const r = await runRecipe(recipe, { profile: 'quick', out, cacheDir: join(root, `cache-${n}`), backend: 'cpu', executor, onWait: () => undefined, ...(config === undefined ? {} : { config }) });
    const totalSeconds = (performance.now() - t0) / 1000;
    return { workers: n, models, trainSeconds, totalSeconds, modelsPerSecond: models / trainSeconds, span: end(), verdicts: r.checks.map((c) => c.verdict) };
  } finally {
    await executor.close();
    for (const w of ws) w.proc.kill('SIGTERM');
    await Promise.all(ws.map((w) => Promise.race([w.exited, new Promise((r) => setTimeout(r, 20_000))])));
    for (const w of ws) if (w.proc.exitCode === null) w.proc.kill('SIGKILL');
  }
}

let one: Side;
let two: Side;
try {
  one = await side(1);
  console.log(`1 worker : ${one.models} models trained in ${one.trainSeconds.toFixed(1)} s (${one.modelsPerSecond.toFixed(3)} models/s); whole run ${one.totalSeconds.toFixed(1)} s (${loadSpanText(one.span)})`);
  two = await side(2);
  console.log(`2 workers: ${two.models} models trained in ${two.trainSeconds.toFixed(1)} s (${two.modelsPerSecond.toFixed(3)} models/s); whole run ${two.totalSeconds.toFixed(1)} s (${loadSpanText(two.span)})`);
} finally {
  await redis.kill();
  rmSync(root, { recursive: true, force: true });
}
const ratio = two.modelsPerSecond / one.modelsPerSecond;
const wholeRatio = one.totalSeconds / two.totalSeconds;
const same = JSON.stringify(one.verdicts) === JSON.stringify(two.verdicts);
console.log(
  `training throughput, 2 vs 1 worker processes: ${ratio.toFixed(2)}x (target >= 1.7x on 2 cores); whole ${recipe} quick run ${wholeRatio.toFixed(2)}x; ` +
    `verdicts ${same ? 'identical' : 'DIFFER'}; load average at start ${header.loadAverage.start.join(' ')}`,
);
const path = writeBenchResult('experiments-queue', header, { recipe, profile: 'quick', config: config ?? null, one, two, ratio, wholeRatio, verdictsIdentical: same });
console.log(`wrote ${path}`);
