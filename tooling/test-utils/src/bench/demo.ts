/**
 * `pnpm bench:demo`: wall time of the built `basis demo` (apps/cli/bin/basis.js, built first by the
 * root script) on WebAssembly only (BASIS_BLAS=off: the engine before the native provider) and on
 * the engine as found (native BLAS/LAPACK when one loads), each in a fresh output folder, all cores.
 * Prints the acceptance row (native at least 2x faster) and writes bench-results/demo.json.
 * `pnpm bench` runs it too when BENCH_DEMO=1. BENCH_QUICK=1 times `basis demo --quick` instead.
 *
 * Run from a package that has tsx (the root script uses @basis/tensor's):
 *   pnpm --filter @basis/tensor exec tsx ../../tooling/test-utils/src/bench/demo.ts
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { engineTag, type EngineLike } from './peers.js';
import { loadAverage, startBench, writeBenchResult } from './report.js';
import { fmtSeconds, formatAcceptance, formatTable, type AcceptanceRow } from './table.js';

const execFileP = promisify(execFile);
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const cli = join(root, 'apps/cli/bin/basis.js');
const { header, quick } = startBench();
if (!existsSync(join(root, 'apps/cli/dist'))) {
  console.error(`the CLI is not built (${join(root, 'apps/cli/dist')} missing): run pnpm bench:demo (it builds @basis/cli and its dependencies first)`);
  process.exit(1);
}

interface DemoRun {
  key: string;
  env: Record<string, string>;
  engine: EngineLike | null;
  seconds: number | null;
  loadAverage: { start: number[]; end: number[] };
  error?: string;
  /** Seconds spent in each stage of the demo, from its progress lines (`[  12.3 s] stage: detail`). */
  stages?: Record<string, number>;
  tail?: string;
}

/** Per-stage durations from the demo's progress lines: each stage lasts until the next one starts. */
function stagesOf(output: string, total: number): Record<string, number> {
  const starts: [string, number][] = [];
  for (const line of output.split('\n')) {
    const m = /^\[\s*([\d.]+) s\] ([^:]+):/.exec(line);
    if (m === null) continue;
    const stage = m[2] as string;
    if (starts.at(-1)?.[0] !== stage) starts.push([stage, Number(m[1])]);
  }
  const out: Record<string, number> = {};
  starts.forEach(([stage, t], i) => {
    out[stage] = (out[stage] ?? 0) + ((starts[i + 1]?.[1] ?? total) - t);
  });
  return out;
}

const engineOf = (env: NodeJS.ProcessEnv): EngineLike | null => {
  try {
    const out = execFileSync(process.execPath, [cli, 'info', '--json'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 120_000 });
    return (JSON.parse(out) as { engine?: EngineLike }).engine ?? null;
  } catch {
    return null;
  }
};

const variants: { key: string; env: Record<string, string> }[] = [
  { key: 'wasm (BASIS_BLAS=off, today)', env: { BASIS_BLAS: 'off' } },
  { key: 'engine as found', env: {} },
];
const runs: DemoRun[] = [];
for (const v of variants) {
  const env = { ...process.env, ...v.env };
  const engine = engineOf(env);
  const out = mkdtempSync(join(tmpdir(), 'basis-demo-bench-'));
  const start = loadAverage();
  process.stderr.write(`basis demo${quick ? ' --quick' : ''}, ${v.key}: ${engine === null ? 'engine unknown' : engineTag(engine)} ...\n`);
  const t = performance.now();
  const run: DemoRun = { key: v.key, env: v.env, engine, seconds: null, loadAverage: { start, end: start } };
  try {
    const r = await execFileP(process.execPath, [cli, 'demo', '--out', out, ...(quick ? ['--quick'] : [])], { env, timeout: 3_600_000, maxBuffer: 1 << 26 });
    run.seconds = (performance.now() - t) / 1000;
    run.tail = (r.stdout + r.stderr).trim().split('\n').slice(-3).join('\n');
    run.stages = stagesOf(r.stderr + '\n' + r.stdout, run.seconds);
  } catch (e) {
    run.error = (e as Error).message.split('\n').slice(0, 3).join(' ');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  run.loadAverage.end = loadAverage();
  process.stderr.write(`  ${run.seconds === null ? `failed: ${run.error}` : `${fmtSeconds(run.seconds)} s`} (load average ${run.loadAverage.start.join(' ')} -> ${run.loadAverage.end.join(' ')})\n`);
  runs.push(run);
}

const [today, now] = runs as [DemoRun, DemoRun];
const tagOf = (r: DemoRun) => (r.engine === null ? r.key : `${engineTag(r.engine)}${r.engine.provider === 'native' ? '' : ' (BASIS_BLAS=off)'}`);
const acceptance: AcceptanceRow[] = [
  {
    section: `basis demo${quick ? ' --quick' : ''} wall time, all ${header.cores} cores: engine as found vs WebAssembly only (today)`,
    name: `basis demo${quick ? ' --quick' : ''}`,
    threads: header.cores,
    basis: { seconds: now.seconds, tag: tagOf(now), ...(now.error !== undefined ? { note: `fails: ${now.error}` } : {}) },
    peer: { seconds: today.seconds, tag: tagOf(today), ...(today.error !== undefined ? { note: `fails: ${today.error}` } : {}) },
    maxRatio: 1 / 2,
  },
];
console.log('\n' + formatAcceptance(acceptance));
const stageNames = [...new Set(runs.flatMap((r) => Object.keys(r.stages ?? {})))];
if (stageNames.length > 0) {
  const table = [['stage (s)', ...runs.map((r) => r.key)], ...stageNames.map((st) => [st, ...runs.map((r) => fmtSeconds(r.stages?.[st]))])];
  console.log('\n' + formatTable(table));
}
for (const r of runs) console.log(`${r.key}: ${r.seconds === null ? `failed (${r.error})` : `${fmtSeconds(r.seconds)} s`}, load average ${r.loadAverage.start.join(' ')} -> ${r.loadAverage.end.join(' ')}`);
const path = writeBenchResult('demo', header, { runs, acceptance });
console.log(`wrote ${path}`);
