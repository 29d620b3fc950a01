// Prints one closing line over every package's vitest JSON report: "Tests: N passed, N failed, N skipped".
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['packages', 'apps', 'tooling'];
let passed = 0;
let failed = 0;
let skipped = 0;
const seen = [];
for (const root of roots) {
  if (!existsSync(root)) continue;
  for (const name of readdirSync(root)) {
    const file = join(root, name, 'reports', 'vitest.json');
    if (!existsSync(file)) continue;
    const r = JSON.parse(readFileSync(file, 'utf8'));
    passed += r.numPassedTests ?? 0;
    failed += r.numFailedTests ?? 0;
    skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    seen.push(`${root}/${name}: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
  }
}
for (const line of seen) console.log(line);
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (passed === 0 || failed > 0) process.exitCode = 1;
