// The race test of issue 16 at full size: 20 trials of two `basis train` processes into one --out
// (5 of each variant, starts staggered by 0-2 s), each checked for a clean loser and a consistent
// run. Usage: pnpm --filter @basis/cli race [trials]. Needs the built binary (pnpm build).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { raceTrain } from './src/test-helpers.js';

const trials = Number(process.argv[2] ?? 20);
const dir = mkdtempSync(join(tmpdir(), 'basis-race-'));
let bad = 0;
const losers = new Map<string, number>();
const t0 = performance.now();
for (let t = 0; t < trials; t++) {
  const delay = Math.round(((t * 7919) % 20) * 100); // 0 ... 1900 ms, spread over the variants
  const r = await raceTrain(dir, t, delay);
  const kind = r.loser === 'both succeeded' ? 'both succeeded (one after the other)' : r.loser.replace(/: '.*/, '').replace(/^basis: error /, '') + (/in use by another basis process/.test(r.loser) ? ' lock held' : /already holds a run/.test(r.loser) ? ' finished run' : /another configuration/.test(r.loser) ? ' other configuration' : '');
  losers.set(kind, (losers.get(kind) ?? 0) + 1);
  if (r.problems.length > 0) bad++;
  console.log(`trial ${t + 1}/${trials} ${r.variant.padEnd(12)} delay ${String(delay).padStart(4)} ms exits ${r.codes.join('/')}  ${r.problems.length === 0 ? 'ok' : 'PROBLEMS: ' + r.problems.join('; ')}  loser: ${r.loser.slice(0, 140)}`);
}
console.log(`\n${trials} trials in ${((performance.now() - t0) / 1000).toFixed(0)} s: ${bad} with a corrupt or contradictory run`);
for (const [k, n] of losers) console.log(`  ${n} × ${k}`);
process.exitCode = bad === 0 ? 0 : 1;
