/**
 * `pnpm bench` for @basis/experiments: a quick reproduction (E000-1 quick profile: 12 models, four
 * widths x three seeds, then 24 captures and 24 comparisons) through the Redis job queue with 1 and
 * then 2 local worker processes (`basis worker` equivalents started from the sources,
 * BASIS_THREADS=1 each, so one process uses one core), each run on a fresh cache. Every expensive
 * stage is a queue job (train, capture, compare), so the headline is the whole run's throughput
 * ratio, 2 workers against 1 (target >= 1.7x on 2 cores). Also measured, per side:
 * - the training phase and the capture/compare phase (time the run waits for the queue);
 * - CPU seconds of the submitter, of each worker process and of redis-server (from /proc), so the
 *   serial part and the per-job overheads show even on a busy machine; from them a load-free
 *   estimate of the ratio: one worker's CPU seconds over the busier of the two workers' (what two
 *   workers with a core each would give, submitter and Redis aside);
 * - per job kind, jobs and the seconds the workers spent in them (from their log lines).
 * Prints the load average and writes bench-results/experiments-queue.json. Needs redis-server
 * (skipped with a message without it). Wall-clock ratios mean something on a quiet machine only.
 *
 * Environment: BENCH_QUEUE_RECIPE=E000-1 (another recipe id), BENCH_QUICK=1 (a smaller sweep:
 * widths 16 and 32, two seeds), BENCH_POLL_MS (the submitter's periodic look at the store and the
 * queue; default: the queue executor's, 2 s, as `basis reproduce --queue` runs).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { benchHeader, headerLine, loadSpan, loadSpanText, writeBenchResult, type LoadSpan } from '@basis/test-utils/bench';
import { createQueueExecutor, runRecipe, type Executor } from '../src/node.js';
import { RedisProcess, findRedisServer, processCpuSeconds, spawnWorker, type WorkerProcess } from '../src/queue/test-helpers.js';

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
// the submitter's periodic look (job events wake it in between); unset: the executor's default, as `basis reproduce --queue` runs
const pollMs = process.env['BENCH_POLL_MS'] === undefined ? undefined : Number(process.env['BENCH_POLL_MS']);
const config = quick && recipe === 'E000-1' ? { widths: [16, 32], seeds: 2 } : undefined;
const root = mkdtempSync(join(tmpdir(), 'basis-queue-bench-'));
mkdirSync(join(root, 'redis'));
const redis = await RedisProcess.start(bin, join(root, 'redis'));

interface KindTotals {
  jobs: number;
  seconds: number;
}

interface Side {
  workers: number;
  models: number;
  comparisons: number;
  trainSeconds: number;
  stageSeconds: number;
  totalSeconds: number;
  modelsPerSecond: number;
  /** CPU seconds of the submitter (this process), of each worker process, of redis-server. */
  cpu: { submitter: number; workers: number[]; redis: number | null };
  /** Per job kind: jobs run and seconds spent in them, summed over the workers (their log lines). */
  kinds: Record<string, KindTotals>;
  span: LoadSpan;
  verdicts: string[];
}

const cpuOf = (pid: number | null | undefined): number => (pid === null || pid === undefined ? NaN : (processCpuSeconds(pid) ?? NaN));

async function side(n: number): Promise<Side> {
  const name = `bench-${n}`;
  const ws: WorkerProcess[] = Array.from({ length: n }, () => spawnWorker(redis.url, name, 30, { BASIS_THREADS: '1' }));
  await Promise.all(ws.map((w) => w.waitFor(new RegExp(`on queue '${name}'`), 120_000)));
  const inner = await createQueueExecutor({ queue: redis.url, name, ...(pollMs === undefined ? {} : { pollMs }) });
  // time spent waiting for the queue, per phase, over every call of the recipe
  let trainSeconds = 0;
  let stageSeconds = 0;
  let models = 0;
  let comparisons = 0;
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
    async stages(captures, compares, env, hooks) {
      const t0 = performance.now();
      try {
        await inner.stages(captures, compares, env, hooks);
      } finally {
        stageSeconds += (performance.now() - t0) / 1000;
        comparisons += compares.length;
      }
    },
    close: () => inner.close(),
  };
  const workerCpu0 = ws.map((w) => cpuOf(w.proc.pid));
  const redisCpu0 = cpuOf(redis.pid);
  const cpu0 = process.cpuUsage();
  const end = loadSpan();
  const t0 = performance.now();
  try {
    const out = join(root, `out-${n}`);
    const r = await runRecipe(recipe, { profile: 'quick', out, cacheDir: join(root, `cache-${n}`), backend: 'cpu', executor, onWait: () => undefined, ...(config === undefined ? {} : { config }) });
    const totalSeconds = (performance.now() - t0) / 1000;
    const used = process.cpuUsage(cpu0);
    const kinds: Record<string, KindTotals> = {};
    for (const l of ws.flatMap((w) => w.lines)) {
      const m = /^job (\S+) .*: (?:trained|computed|already in the store) \(([\d.]+) s\)$/.exec(l);
      if (m === null) continue;
      const k = (kinds[m[1]!] ??= { jobs: 0, seconds: 0 });
      k.jobs++;
      k.seconds += Number(m[2]);
    }
    return {
      workers: n,
      models,
      comparisons,
      trainSeconds,
      stageSeconds,
      totalSeconds,
      modelsPerSecond: models / trainSeconds,
      cpu: { submitter: (used.user + used.system) / 1e6, workers: ws.map((w, i) => cpuOf(w.proc.pid) - workerCpu0[i]!), redis: cpuOf(redis.pid) - redisCpu0 },
      kinds,
      span: end(),
      verdicts: r.checks.map((c) => c.verdict),
    };
  } finally {
    await executor.close();
    for (const w of ws) w.proc.kill('SIGTERM');
    await Promise.all(ws.map((w) => Promise.race([w.exited, new Promise((r) => setTimeout(r, 20_000))])));
    for (const w of ws) if (w.proc.exitCode === null) w.proc.kill('SIGKILL');
  }
}

const describeSide = (s: Side): string =>
  `${s.workers} worker${s.workers === 1 ? ' ' : 's'}: whole run ${s.totalSeconds.toFixed(1)} s (training ${s.trainSeconds.toFixed(1)} s for ${s.models} models, captures and comparisons ${s.stageSeconds.toFixed(1)} s for ${s.comparisons} comparisons); ` +
  `CPU s: submitter ${s.cpu.submitter.toFixed(1)}, workers ${s.cpu.workers.map((c) => c.toFixed(1)).join(' + ')}, redis ${s.cpu.redis === null ? '?' : s.cpu.redis.toFixed(1)}; ` +
  `jobs ${Object.entries(s.kinds)
    .map(([k, v]) => `${k} ${v.jobs} (${v.seconds.toFixed(1)} s)`)
    .join(', ')} (${loadSpanText(s.span)})`;

let one: Side;
let two: Side;
try {
  one = await side(1);
  console.log(describeSide(one));
  two = await side(2);
  console.log(describeSide(two));
} finally {
  await redis.kill();
  rmSync(root, { recursive: true, force: true });
}
const wholeRatio = one.totalSeconds / two.totalSeconds;
const trainRatio = two.modelsPerSecond / one.modelsPerSecond;
// with a core per worker: the run takes as long as its busiest worker's CPU time (submitter and Redis aside)
const cpuRatio = (one.cpu.workers[0] as number) / Math.max(...two.cpu.workers);
const same = JSON.stringify(one.verdicts) === JSON.stringify(two.verdicts);
console.log(
  `throughput, 2 vs 1 worker processes: whole ${recipe} quick run ${wholeRatio.toFixed(2)}x (target >= 1.7x on 2 cores, on a quiet machine); training phase ${trainRatio.toFixed(2)}x; ` +
    `load-free estimate from the workers' CPU seconds ${cpuRatio.toFixed(2)}x; verdicts ${same ? 'identical' : 'DIFFER'}; load average at start ${header.loadAverage.start.join(' ')}`,
);
const path = writeBenchResult('experiments-queue', header, { recipe, profile: 'quick', config: config ?? null, pollMs: pollMs ?? null, one, two, ratio: wholeRatio, wholeRatio, trainRatio, cpuRatio, verdictsIdentical: same });
console.log(`wrote ${path}`);
