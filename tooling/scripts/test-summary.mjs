// Prints one closing line over every package's vitest JSON report: "Tests: N passed, N failed, N skipped",
// counting both runs of the packages whose kernels have two paths: the default run (native
// BLAS/LAPACK when the machine has one) in reports/vitest.json, and the `test:wasm` run
// (BASIS_BLAS=off, WebAssembly kernels) in reports/wasm/vitest.json. A package that declares
// `test:wasm` but has no report of it fails the summary, so neither path can drop out unnoticed.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['packages', 'apps', 'tooling'];
const RUNS = [
  { name: 'default engine', file: join('reports', 'vitest.json'), script: 'test' },
  { name: 'BASIS_BLAS=off', file: join('reports', 'wasm', 'vitest.json'), script: 'test:wasm' },
];
const totals = Object.fromEntries(RUNS.map((r) => [r.name, { passed: 0, failed: 0, skipped: 0 }]));
const lines = [];
const missing = [];
for (const root of roots) {
  if (!existsSync(root)) continue;
  for (const name of readdirSync(root)) {
    const dir = join(root, name);
    let scripts = {};
    try {
      scripts = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).scripts ?? {};
    } catch {
      // not a package
    }
    for (const run of RUNS) {
      const file = join(dir, run.file);
      if (!existsSync(file)) {
        if (run.script === 'test:wasm' && scripts[run.script] !== undefined) missing.push(`${dir} (${run.name}: no ${run.file}; run its test:wasm script)`);
        continue;
      }
      const r = JSON.parse(readFileSync(file, 'utf8'));
      const t = totals[run.name];
      t.passed += r.numPassedTests ?? 0;
      t.failed += r.numFailedTests ?? 0;
      t.skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
      lines.push(`${dir}${run.script === 'test' ? '' : ` (${run.name})`}: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
    }
  }
}
for (const line of lines) console.log(line);
for (const m of missing) console.log(`missing report: ${m}`);
const sum = (k) => RUNS.reduce((s, r) => s + totals[r.name][k], 0);
const [passed, failed, skipped] = [sum('passed'), sum('failed'), sum('skipped')];
const perRun = RUNS.map((r) => `${r.name}: ${totals[r.name].passed} passed, ${totals[r.name].failed} failed`).join('; ');
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped (${perRun})`);
if (passed === 0 || failed > 0 || missing.length > 0) process.exitCode = 1;
