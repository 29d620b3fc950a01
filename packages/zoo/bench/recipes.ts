/**
 * `pnpm --filter @basis/zoo recipes [name ...]`: trains the default recipes (TRAINING_PRESETS.mlpMnist,
 * TRAINING_PRESETS.miniMyrtleFashion) end to end on the wasm backend (or BASIS_BACKEND), prints per-epoch
 * loss/accuracy/time and whether each reaches its target accuracy, and writes
 * bench-results/zoo-recipes.json at the repository root. Exits 1 when a recipe misses its target.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { selectBackend, type BackendPreference } from '@basis/tensor/backend';
import { TRAINING_PRESETS } from '@basis/zoo';
import { runTrainingPreset } from '@basis/zoo/node';

const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(TRAINING_PRESETS);
const backend = await selectBackend((process.env['BASIS_BACKEND'] ?? 'wasm') as BackendPreference);
const results: Record<string, unknown> = {};
let failed = false;
for (const name of names) {
  const recipe = TRAINING_PRESETS[name as keyof typeof TRAINING_PRESETS];
  if (recipe === undefined) throw new Error(`unknown recipe '${name}'; recipes: ${Object.keys(TRAINING_PRESETS).join(', ')}`);
  process.stderr.write(`${name}: ${recipe.description}\n`);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = await runTrainingPreset(recipe, {
    onProgress: (e) => {
      if (e.kind === 'epoch') {
        const m = e.record.metrics;
        process.stderr.write(`  epoch ${e.record.epoch}: train loss ${e.record.loss.toFixed(4)}, test acc ${m?.testAccuracy?.toFixed(4) ?? '-'}, ${e.record.seconds.toFixed(1)} s\n`);
      }
    },
  });
  const cpu = process.cpuUsage(c0);
  const seconds = (performance.now() - t0) / 1000;
  const acc = r.final.testAccuracy ?? 0;
  const ok = acc >= recipe.target.testAccuracy;
  failed ||= !ok;
  results[name] = { recipe, testAccuracy: acc, testLoss: r.final.testLoss, target: recipe.target.testAccuracy, ok, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, history: r.history };
  console.log(`${name}: test accuracy ${(100 * acc).toFixed(2)}% (target ${(100 * recipe.target.testAccuracy).toFixed(0)}%: ${ok ? 'reached' : 'MISSED'}) in ${seconds.toFixed(0)} s on ${backend.name}`);
}
const outDir = fileURLToPath(new URL('../../../bench-results/', import.meta.url));
mkdirSync(outDir, { recursive: true });
writeFileSync(
  outDir + 'zoo-recipes.json',
  JSON.stringify({ date: new Date().toISOString(), node: process.versions.node, cpuModel: cpus()[0]?.model ?? 'unknown', threads: availableParallelism(), loadAverage: loadavg(), backend, results }, null, 2) + '\n',
);
console.log(`wrote ${outDir}zoo-recipes.json`);
if (failed) process.exitCode = 1;
