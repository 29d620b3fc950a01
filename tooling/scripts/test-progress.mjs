// `pnpm test` runs turbo with `--output-logs=errors-only`, which is silent while packages pass. This
// wrapper runs the command given after `--` and, while it runs, prints one line per package test run
// as it finishes (read from the vitest JSON report each package writes: reports/vitest.json, and
// reports/wasm/vitest.json for the BASIS_BLAS=off run), with its counts and time. It exits with the
// command's exit code.
//   node tooling/scripts/test-progress.mjs -- turbo run lint typecheck test test:wasm --output-logs=errors-only
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { clearInterval, setInterval } from 'node:timers';
import { pathToFileURL } from 'node:url';

const RUNS = [
  { file: join('reports', 'vitest.json'), label: '' },
  { file: join('reports', 'wasm', 'vitest.json'), label: ' (BASIS_BLAS=off)' },
];

/** `1m05s` / `42s`. */
export function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** The line for one finished vitest JSON report, or null when it is not complete JSON yet. */
export function reportLine(dir, label, text, sinceStart) {
  let r;
  try {
    r = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof r !== 'object' || r === null || typeof r.numTotalTests !== 'number') return null;
  const ends = (r.testResults ?? []).map((t) => t.endTime).filter((t) => typeof t === 'number');
  const took = typeof r.startTime === 'number' && ends.length > 0 ? Math.max(...ends) - r.startTime : undefined;
  const failed = r.numFailedTests ?? 0;
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  return `${failed > 0 || r.success === false ? '✗' : '✓'} ${dir}${label}: ${r.numPassedTests ?? 0} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}${took === undefined ? '' : ` in ${duration(took)}`} (at ${duration(sinceStart)})`;
}

/** Every package folder (packages/*, apps/*, tooling/*) holding a package.json. */
function packageDirs(root) {
  const out = [];
  for (const group of ['packages', 'apps', 'tooling']) {
    const g = join(root, group);
    if (!existsSync(g)) continue;
    for (const name of readdirSync(g)) if (existsSync(join(g, name, 'package.json'))) out.push(join(group, name));
  }
  return out;
}

/** Runs the command after `--`, printing a line per finished package test report. */
function main() {
  const sep = process.argv.indexOf('--');
  const command = sep >= 0 ? process.argv.slice(sep + 1) : [];
  if (command.length === 0) {
    console.error('usage: node tooling/scripts/test-progress.mjs -- <command> [args...]');
    process.exitCode = 2;
    return;
  }
  const root = process.cwd();
  const start = Date.now();
  const dirs = packageDirs(root);
  const printed = new Map();
  const scan = () => {
    for (const dir of dirs) {
      for (const run of RUNS) {
        const file = join(root, dir, run.file);
        let mtime;
        try {
          mtime = statSync(file).mtimeMs;
        } catch {
          continue;
        }
        // reports of this run only (written after it started), each version once
        if (mtime < start - 1000 || printed.get(file) === mtime) continue;
        const line = reportLine(dir, run.label, readFileSync(file, 'utf8'), Date.now() - start);
        if (line === null) continue; // still being written: next scan
        printed.set(file, mtime);
        process.stdout.write(line + '\n');
      }
    }
  };
  const child = spawn(command[0], command.slice(1), { stdio: 'inherit', shell: process.platform === 'win32' });
  const timer = setInterval(scan, 1000);
  const stop = (sig) => child.kill(sig);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  child.on('exit', (code, signal) => {
    clearInterval(timer);
    scan();
    process.exitCode = code ?? (signal === null ? 1 : 128 + 2);
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
