/**
 * `pnpm bench` for @basis/align: per-metric times at a few shapes (beside numpy/scipy versions of
 * the same definitions when python3 with numpy and scipy is present), and an all-pairs audit
 * (2 models x 6 layers) against a per-pair loop that recomputes per-layer work.
 * Writes bench-results/align.json at the repository root.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRng, matmul, randn, type Matrix } from '@basis/tensor';
import { compareLayers, listMetrics, metric } from '@basis/align';

const rng = createRng(1);
const SHAPES: [number, number][] = [
  [2000, 64],
  [10000, 256],
  [10000, 1024],
];
// N x N kernels (RBF, max kernel, RDM, k-NN) are O(N²) memory and O(N² d) time: timed at N = 2000 only
const QUADRATIC = new Set(['cka.rbf', 'grelu.cka', 'rsa.spearman', 'knn.mutual']);

function pairOf(n: number, d: number): [Matrix, Matrix] {
  const X = randn(n, d, rng);
  const Y = matmul(X, randn(d, d, rng));
  const E = randn(n, d, rng);
  for (let k = 0; k < Y.data.length; k++) Y.data[k] = (Y.data[k] as number) + (E.data[k] as number);
  return [X, Y];
}

const best = (f: () => unknown, reps: number): number => {
  let b = Infinity;
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    f();
    b = Math.min(b, (performance.now() - t) / 1000);
  }
  return b;
};

const times: Record<string, number> = {};
for (const [n, d] of SHAPES) {
  const [X, Y] = pairOf(n, d);
  for (const def of listMetrics()) {
    if (QUADRATIC.has(def.id) && n > 2000) continue;
    // fresh copies: per-matrix memoisation must not make repeated runs free
    const run = () => metric(def.id, X.clone(), Y.clone());
    run();
    times[`${def.id}@${n}x${d}`] = best(run, n > 2000 ? 1 : 3);
    process.stderr.write(`  ${def.id}@${n}x${d}: ${times[`${def.id}@${n}x${d}`]!.toFixed(3)} s\n`);
  }
}

let numpy: Record<string, number> = {};
let note = '';
if (process.env['BASIS_SKIP_PYTHON'] === '1') note = 'numpy comparison skipped (BASIS_SKIP_PYTHON=1)';
else {
  try {
    const script = fileURLToPath(new URL('./numpy_ref.py', import.meta.url));
    numpy = JSON.parse(execFileSync('python3', [script, SHAPES.map(([n, d]) => `${n}x${d}`).join(',')], { encoding: 'utf8', timeout: 600_000 })) as Record<string, number>;
  } catch (e) {
    note = `numpy comparison skipped: ${(e as Error).message.split('\n')[0]}`;
  }
}

// all-pairs audit: 2 models x 6 layers of 2000 x 64, cheap-to-moderate metrics
const layers = (): [string, Matrix][] => Array.from({ length: 6 }, (_, i) => [`l${i}`, randn(2000, 64, rng)] as [string, Matrix]);
const A = layers();
const B = layers();
const auditIds = ['cka.linear', 'procrustes.similarity', 'cca.mean_rho', 'svcca', 'permcorr'];
const tAudit = best(() => compareLayers(A.map(([n, m]) => [n, m.clone()] as [string, Matrix]), B.map(([n, m]) => [n, m.clone()] as [string, Matrix]), auditIds), 1);
const tLoop = best(() => {
  for (const id of auditIds) for (const [, a] of A) for (const [, b] of B) metric(id, a.clone(), b.clone());
}, 1);

const rows = [['metric @ N x d', 'basis (s)', 'numpy (s)', 'basis/numpy']];
for (const [k, t] of Object.entries(times)) {
  const ref = numpy[k];
  rows.push([k, t.toFixed(4), ref === undefined ? '-' : ref.toFixed(4), ref === undefined ? '-' : `${(t / ref).toFixed(2)}x`]);
}
const w = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
for (const r of rows) console.log(r.map((c, j) => (j === 0 ? c.padEnd(w[j]!) : c.padStart(w[j]!))).join('  '));
console.log(`all-pairs audit, 2 x 6 layers of 2000 x 64, ${auditIds.length} metrics: compareLayers ${tAudit.toFixed(2)} s vs per-pair loop ${tLoop.toFixed(2)} s (${(tLoop / tAudit).toFixed(2)}x)`);
if (note) console.log(note);
const outDir = fileURLToPath(new URL('../../../bench-results/', import.meta.url));
mkdirSync(outDir, { recursive: true });
writeFileSync(outDir + 'align.json', JSON.stringify({ date: new Date().toISOString(), times, numpy, audit: { compareLayers: tAudit, perPairLoop: tLoop, metrics: auditIds } }, null, 2) + '\n');
console.log(`wrote ${outDir}align.json`);
