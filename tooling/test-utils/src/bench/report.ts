// Where `pnpm bench` writes (bench-results/ at the repository root, gitignored) and the header
// every result file carries: when, where, on which code, under which load and BLAS environment.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { blasEnvironment, blasEnvironmentLine } from './peers.js';

/** Absolute path of `bench-results/` at the repository root (created on demand). */
export const RESULTS_DIR = fileURLToPath(new URL('../../../../bench-results/', import.meta.url));

/** Load average (1, 5, 15 min) rounded to 2 decimals. */
export function loadAverage(): number[] {
  return loadavg().map((x) => Math.round(x * 100) / 100);
}

/**
 * Linux CPU pressure (`/proc/pressure/cpu`, "some" line: share of time at least one task waited for
 * a CPU, averaged over 10 s and 60 s, in %), or null where unavailable. On a shared machine this
 * says more about how much wall times are inflated than the load average.
 */
export function cpuPressure(): { avg10: number; avg60: number } | null {
  try {
    const line = readFileSync('/proc/pressure/cpu', 'utf8').split('\n')[0] ?? '';
    const get = (k: string) => Number(new RegExp(`\\b${k}=([\\d.]+)`).exec(line)?.[1] ?? Number.NaN);
    const r = { avg10: get('avg10'), avg60: get('avg60') };
    return Number.isFinite(r.avg10) ? r : null;
  } catch {
    return null;
  }
}

/** `HEAD` commit (with `+dirty` when the work tree has changes), or `unknown`. */
export function codeVersion(): string {
  try {
    const root = fileURLToPath(new URL('../../../../', import.meta.url));
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty.length > 0 ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

/** What every result file records about the run. */
export interface BenchHeader {
  date: string;
  code: string;
  node: string;
  cpuModel: string;
  cores: number;
  quick: boolean;
  /** Load average when the bench started (and, once written, when it ended). */
  loadAverage: { start: number[]; end?: number[] };
  /** CPU pressure (%) when the bench started and ended ({@link cpuPressure}). */
  cpuPressure: { start: ReturnType<typeof cpuPressure>; end?: ReturnType<typeof cpuPressure> };
  /** OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE, thread variables... as found (null: unset). */
  blasEnvironment: Record<string, string | null>;
}

/** The header for a bench starting now. */
export function benchHeader(): BenchHeader {
  return {
    date: new Date().toISOString(),
    code: codeVersion(),
    node: process.versions.node,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    quick: process.env['BENCH_QUICK'] === '1',
    loadAverage: { start: loadAverage() },
    cpuPressure: { start: cpuPressure() },
    blasEnvironment: blasEnvironment(),
  };
}

/** One line for the top of a bench's output. */
export function headerLine(h: BenchHeader): string {
  const p = h.cpuPressure.start;
  return `${h.date} code ${h.code}, node ${h.node}, ${h.cpuModel} (${h.cores} cores), load average ${h.loadAverage.start.join(' ')}${p === null ? '' : `, CPU pressure ${p.avg10}% (10 s) ${p.avg60}% (60 s)`}; ${blasEnvironmentLine(h.blasEnvironment)}${h.quick ? '; QUICK mode (BENCH_QUICK=1: small sizes, not the acceptance sizes)' : ''}`;
}

/** Writes `bench-results/<name>.json` (with the header, its end load average set) and returns the path. */
export function writeBenchResult(name: string, header: BenchHeader, body: Record<string, unknown>): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = `${RESULTS_DIR}${name}.json`;
  const h = { ...header, loadAverage: { ...header.loadAverage, end: loadAverage() }, cpuPressure: { ...header.cpuPressure, end: cpuPressure() } };
  writeFileSync(path, JSON.stringify({ ...h, ...body }, null, 2) + '\n');
  return path;
}

/** Load over one side's run: load average (1 min) and CPU pressure (10 s, %) at its start and end. */
export interface LoadSpan {
  load: [number, number];
  pressure: [number, number] | null;
}

/** Starts a {@link LoadSpan}; call the returned function when the run ends. */
export function loadSpan(): () => LoadSpan {
  const l0 = loadAverage()[0] as number;
  const p0 = cpuPressure();
  return () => {
    const p1 = cpuPressure();
    return { load: [l0, loadAverage()[0] as number], pressure: p0 === null || p1 === null ? null : [p0.avg10, p1.avg10] };
  };
}

/** `load 3.1->3.4, CPU pressure 40->55%`. */
export function loadSpanText(s: LoadSpan): string {
  return `load ${s.load[0]}->${s.load[1]}${s.pressure === null ? '' : `, CPU pressure ${s.pressure[0]}->${s.pressure[1]}%`}`;
}

/**
 * A bench's start: its header (printed as the output's first line) and whether BENCH_QUICK=1 asks
 * for small sizes.
 *
 * @example
 * ```ts
 * const { header, quick } = startBench();
 * const sizes = quick ? [256] : [256, 1024];
 * writeBenchResult('tensor', header, { sizes });
 * ```
 */
export function startBench(): { header: BenchHeader; quick: boolean } {
  const header = benchHeader();
  console.log(headerLine(header));
  return { header, quick: header.quick };
}

/**
 * The thread counts a bench runs at: BENCH_THREADS (comma-separated positive integers), else 1 and 2.
 *
 * @example
 * ```ts
 * benchThreads({ BENCH_THREADS: '1' }); // [1]
 * ```
 */
export function benchThreads(env: NodeJS.ProcessEnv = process.env): number[] {
  const v = (env['BENCH_THREADS'] ?? '').split(',').filter((s) => s.trim().length > 0);
  if (v.length === 0) return [1, 2];
  return v.map((s) => {
    const t = Number(s);
    if (!Number.isInteger(t) || t < 1) throw new Error(`BENCH_THREADS must be comma-separated positive integers, got '${env['BENCH_THREADS']}'`);
    return t;
  });
}
