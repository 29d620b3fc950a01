/**
 * `pnpm bench:summary` (the last step of `pnpm bench`): the acceptance rows of every bench result
 * in bench-results/ (tensor, align, zoo, demo) in one table, each section with the date, code
 * version and load average of the run that made it; writes bench-results/acceptance.json.
 *
 * Run from a package that has tsx (the root script uses @basis/tensor's):
 *   pnpm --filter @basis/tensor exec tsx ../../tooling/test-utils/src/bench/summary.ts
 */
import { existsSync, readFileSync } from 'node:fs';
import { blasEnvironmentLine } from './peers.js';
import { RESULTS_DIR, benchHeader, writeBenchResult, type BenchHeader } from './report.js';
import { formatAcceptance, rowRatio, rowVerdict, type AcceptanceRow } from './table.js';

const FILES = ['tensor', 'align', 'zoo', 'demo'];
const rows: AcceptanceRow[] = [];
const sources: Record<string, { date: string; code: string; loadAverage: BenchHeader['loadAverage']; cpuPressure?: BenchHeader['cpuPressure']; quick: boolean }> = {};
for (const name of FILES) {
  const path = `${RESULTS_DIR}${name}.json`;
  if (!existsSync(path)) {
    console.log(`${name}: no ${path}${name === 'demo' ? ' (pnpm bench:demo, or BENCH_DEMO=1 pnpm bench)' : ''}`);
    continue;
  }
  const r = JSON.parse(readFileSync(path, 'utf8')) as BenchHeader & { acceptance?: AcceptanceRow[] };
  sources[name] = { date: r.date, code: r.code, loadAverage: r.loadAverage, cpuPressure: r.cpuPressure, quick: r.quick };
  console.log(
    `${name}: ${r.date}, code ${r.code}${r.quick ? ', QUICK' : ''}, load average ${r.loadAverage.start.join(' ')} -> ${r.loadAverage.end?.join(' ') ?? '?'}${r.cpuPressure?.start ? `, CPU pressure (60 s) ${r.cpuPressure.start.avg60}% -> ${r.cpuPressure.end?.avg60 ?? '?'}%` : ''}; ${blasEnvironmentLine(r.blasEnvironment)}`,
  );
  rows.push(...(r.acceptance ?? []));
}
console.log('\n' + formatAcceptance(rows));
const path = writeBenchResult('acceptance', benchHeader(), {
  sources,
  rows: rows.map((r) => ({ ...r, ratio: rowRatio(r), verdict: rowVerdict(r) })),
});
console.log(`wrote ${path}`);
