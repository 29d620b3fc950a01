// `pnpm fuzz`: every case of every format runs in a watched child process, so that a hang (no
// result within hangMs) or a fatal crash (heap exhaustion, a native abort) is recorded against its
// case id and the campaign goes on with the next case in a fresh process.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { emptyReport, formatReports, record, type CaseResult, type FuzzReport, type FuzzSettings } from './engine.js';

/** Settings of a campaign. */
export interface CampaignSettings extends FuzzSettings {
  /** Path of the module exporting `targets: FuzzTarget[]`. */
  targetsModule: string;
  formats: readonly string[];
  cases: number;
  /** First case id (default 0). */
  from?: number;
  /** A case without a result after this long is a hang: its process is killed. */
  hangMs: number;
  /** Per-format progress lines (default: to stderr). */
  log?: (line: string) => void;
}

function runFormat(format: string, s: CampaignSettings): Promise<FuzzReport> {
  const report = emptyReport(format);
  const log = s.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const t0 = performance.now();
  const end = (s.from ?? 0) + s.cases;
  return new Promise((resolve) => {
    const spawn = (from: number): void => {
      if (from >= end) {
        report.seconds = (performance.now() - t0) / 1000;
        resolve(report);
        return;
      }
      const child = fork(fileURLToPath(new URL('./child.ts', import.meta.url)), [s.targetsModule, format, String(from), String(end), String(s.seed), String(s.maxBytes)], {
        execArgv: ['--expose-gc', '--conditions=@basis/source', '--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      let current: { id: number; kind: string; at: number } | null = null;
      let next = from;
      let done = false;
      const watchdog = setInterval(() => {
        if (current !== null && performance.now() - current.at > s.hangMs) {
          const c = current;
          current = null;
          report.hangs++;
          record(report, { id: c.id, kind: c.kind, outcome: 'crash', code: 'HANG', message: `no result after ${s.hangMs} ms; killed`, ms: s.hangMs, arrayBytes: 0, rssJump: 0 }, s);
          report.crashes--; // counted as a hang, not a crash
          next = c.id + 1;
          child.kill('SIGKILL');
        }
      }, 250);
      child.on('message', (m: { t: string; id?: number; kind?: string; r?: CaseResult; peakRss?: number }) => {
        if (m.t === 'start') current = { id: m.id as number, kind: m.kind as string, at: performance.now() };
        else if (m.t === 'result') {
          record(report, m.r as CaseResult, s);
          next = (m.r as CaseResult).id + 1;
          current = null;
          if (report.cases % 1000 === 0) log(`  ${format}: ${report.cases} cases, ${report.crashes} crashes, ${report.hangs} hangs, ${report.overBudget} over budget (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
        } else if (m.t === 'done') {
          done = true;
          report.peakRss = Math.max(report.peakRss, m.peakRss ?? 0);
        }
      });
      child.on('exit', (code, signal) => {
        clearInterval(watchdog);
        if (!done && current !== null) {
          // the process died inside a case: a fatal crash (out of memory, abort)
          const c = current;
          record(report, { id: c.id, kind: c.kind, outcome: 'crash', code: signal ?? `exit ${code}`, message: 'the process died during the case', ms: performance.now() - c.at, arrayBytes: 0, rssJump: 0 }, s);
          next = c.id + 1;
        }
        spawn(done ? end : next);
      });
    };
    spawn(s.from ?? 0);
  });
}

/**
 * Runs a campaign, format after format, and returns the reports (printed with {@link formatReports}).
 *
 * @example
 * ```ts
 * const reports = await runCampaign({ targetsModule: 'fuzz/targets.ts', formats: ['npy'], cases: 10_000, seed: 1, maxBytes: 32 * 2 ** 20, slowMs: 2000, hangMs: 20_000 });
 * ```
 */
export async function runCampaign(s: CampaignSettings): Promise<FuzzReport[]> {
  const reports: FuzzReport[] = [];
  for (const f of s.formats) reports.push(await runFormat(f, s));
  return reports;
}

/** Parses `--cases N --seed S --format a,b --from K --max-bytes B` for the package `fuzz` scripts. */
export function parseFuzzArgs(argv: readonly string[], defaults: { cases: number; seed: number; formats: readonly string[] }): { cases: number; seed: number; formats: string[]; from: number; maxBytes: number } {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
  };
  const num = (flag: string, d: number): number => {
    const v = get(flag);
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${flag} must be a non-negative number, got '${v}'`);
    return n;
  };
  const env = process.env['FUZZ_CASES'];
  const formats = get('--format')?.split(',') ?? [...defaults.formats];
  for (const f of formats) if (!defaults.formats.includes(f)) throw new Error(`unknown format '${f}' (known: ${defaults.formats.join(', ')})`);
  return { cases: num('--cases', env === undefined ? defaults.cases : Number(env)), seed: num('--seed', defaults.seed), formats, from: num('--from', 0), maxBytes: num('--max-bytes', 32 * 2 ** 20) };
}

/**
 * A package's `pnpm fuzz` script: parses its command line ({@link parseFuzzArgs}), fuzzes every
 * chosen format of `targetsModule` in watched child processes (a case is slow after 2 s, hung
 * after 30 s), prints the report, and sets the exit code to 1 when any case crashed, gave a wrong
 * error code, hung or allocated over budget.
 *
 * @example
 * ```ts
 * await fuzzCommand(fileURLToPath(new URL('./targets.ts', import.meta.url)), { cases: 10_000, seed: 1, formats: ['npy', 'npz'] });
 * ```
 */
export async function fuzzCommand(targetsModule: string, defaults: { cases: number; seed: number; formats: readonly string[] }, argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const args = parseFuzzArgs(argv, defaults);
  const settings = { ...args, targetsModule, slowMs: 2000, hangMs: 30_000 };
  process.stderr.write(`fuzzing ${args.formats.join(', ')}: ${args.cases} cases each from case ${args.from}, seed ${args.seed}\n`);
  const reports = await runCampaign(settings);
  console.log(formatReports(reports, settings));
  process.exitCode = reports.some((r) => r.crashes + r.wrongCodes + r.hangs + r.overBudget > 0) ? 1 : 0;
}

export { formatReports };
