/**
 * `pnpm bench` for @basis/align: per-metric times at a few shapes, beside numpy/scipy versions of
 * the same definitions (bench/numpy_ref.py, checked against the fixtures) when python3 with numpy
 * and scipy is present, at numpy's default BLAS threads and single-threaded; and all-pairs audits
 * (2 models x 6 layers): compareLayers, compareLayersParallel (worker threads) and a per-pair loop.
 * Writes bench-results/align.json at the repository root.
 *
 * Options (environment): BENCH_QUICK=1 smaller shapes only; BASIS_SKIP_PYTHON=1 skip numpy.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createRng, matmul, randn, type Matrix } from '@basis/tensor';
import { compareLayers, listMetrics, metric } from '@basis/align';
import { compareLayersParallel } from '@basis/align/node';

const quick = process.env['BENCH_QUICK'] === '1';
const rng = createRng(1);
const SHAPES: [number, number][] = quick ? [[2000, 64]] : [[2000, 64], [10000, 256], [10000, 1024]];
// N x N kernels (RBF, max kernel, RDM, k-NN) cost O(N²) memory and O(N² d) time; seeds-spec M7/M9
// subsample N to 2000 on CPU, so they are timed on the first 2000 rows of each shape.
const QUADRATIC = new Set(['cka.rbf', 'grelu.cka', 'rsa.spearman', 'knn.mutual']);
const QUADRATIC_SHAPES: [number, number][] = quick ? [[2000, 64]] : [[2000, 64], [2000, 256], [2000, 1024]];

function pairOf(n: number, d: number): [Matrix, Matrix] {
  const X = randn(n, d, rng);
  const Y = matmul(X, randn(d, d, rng));
  const E = randn(n, d, rng);
  for (let k = 0; k < Y.data.length; k++) Y.data[k] = (Y.data[k] as number) + (E.data[k] as number);
  return [X, Y];
}

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
let lastCpu = 0; // CPU seconds of the best run of the last best() call (all threads of the process)
const best = async (f: () => unknown, reps: number): Promise<number> => {
  let b = Infinity;
  let c = Infinity;
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    const u = cpuSeconds();
    await f();
    b = Math.min(b, (performance.now() - t) / 1000);
    c = Math.min(c, cpuSeconds() - u);
  }
  lastCpu = c;
  return b;
};

const times: Record<string, number> = {};
const cpu: Record<string, number> = {};
for (const [shapes, quadratic] of [[SHAPES, false], [QUADRATIC_SHAPES, true]] as const) {
  for (const [n, d] of shapes) {
    const [X, Y] = pairOf(n, d);
    for (const def of listMetrics()) {
      if (QUADRATIC.has(def.id) !== quadratic) continue;
      // fresh copies: per-matrix memoisation must not make repeated runs free
      const run = () => metric(def.id, X.clone(), Y.clone());
      const big = n * d >= 10000 * 1024 || (quadratic && d >= 1024);
      if (!big) run(); // warm-up (JIT)
      const key = `${def.id}@${n}x${d}`;
      times[key] = await best(run, big ? 1 : 3);
      cpu[key] = lastCpu;
      process.stderr.write(`  ${key}: ${times[key]!.toFixed(3)} s (cpu ${lastCpu.toFixed(3)} s)\n`);
    }
  }
}

// all-pairs audits: 2 models x 6 layers
const AUDIT_IDS = ['cka.linear', 'procrustes.similarity', 'cca.mean_rho', 'svcca', 'permcorr'];
interface AuditTimes {
  shape: string;
  compareLayers: number;
  compareLayersCpu: number;
  parallel: number;
  parallelCpu: number;
  parallelWorkers: number;
  perPairLoop?: number;
  numpyLoop?: number;
  numpyLoop1?: number;
}
const audits: AuditTimes[] = [];
const AUDIT_SHAPES: [number, number, boolean][] = quick ? [[2000, 64, true]] : [[2000, 64, true], [10000, 256, false]];
const copies = (L: [string, Matrix][]) => L.map(([n, m]) => [n, m.clone()] as [string, Matrix]);
// start-up cost of the worker pool alone (one tiny cell per worker)
const tiny: [string, Matrix][] = [['t0', randn(20, 3, rng)], ['t1', randn(20, 3, rng)]];
const startup = await best(() => compareLayersParallel(tiny, tiny, ['cka.linear'], { minSeconds: 0 }), 2);
for (const [n, d, withLoop] of AUDIT_SHAPES) {
  const mk = (): [string, Matrix][] => Array.from({ length: 6 }, (_, i) => [`l${i}`, randn(n, d, rng)] as [string, Matrix]);
  const A = mk();
  const B = mk();
  const serial = await best(() => compareLayers(copies(A), copies(B), AUDIT_IDS), 1);
  const serialCpu = lastCpu;
  let workers = 0;
  const parallel = await best(async () => {
    workers = (await compareLayersParallel(copies(A), copies(B), AUDIT_IDS)).workers;
  }, 1);
  const entry: AuditTimes = { shape: `${n}x${d}`, compareLayers: serial, compareLayersCpu: serialCpu, parallel, parallelCpu: lastCpu, parallelWorkers: workers };
  if (withLoop) {
    entry.perPairLoop = await best(() => {
      for (const id of AUDIT_IDS) for (const [, a] of A) for (const [, b] of B) metric(id, a.clone(), b.clone());
    }, 1);
  }
  audits.push(entry);
  process.stderr.write(`  audit ${n}x${d}: compareLayers ${serial.toFixed(2)} s, parallel ${parallel.toFixed(2)} s (${workers} workers)${entry.perPairLoop === undefined ? '' : `, per-pair loop ${entry.perPairLoop.toFixed(2)} s`}\n`);
}

type PythonOut = { times: Record<string, number>; cpu: Record<string, number>; info: Record<string, string> };
let numpy: PythonOut | undefined;
let numpy1: PythonOut | undefined;
let note = '';
const fmt = (s: [number, number][]) => s.map(([n, d]) => `${n}x${d}`).join(',');
const runPython = (env: NodeJS.ProcessEnv, audit: string): PythonOut => {
  const script = fileURLToPath(new URL('./numpy_ref.py', import.meta.url));
  return JSON.parse(execFileSync('python3', [script, fmt(SHAPES), fmt(QUADRATIC_SHAPES), audit], { encoding: 'utf8', timeout: 3_600_000, env, stdio: ['ignore', 'pipe', 'inherit'] })) as PythonOut;
};
if (process.env['BASIS_SKIP_PYTHON'] === '1') note = 'numpy comparison skipped (BASIS_SKIP_PYTHON=1)';
else {
  try {
    const ids = AUDIT_IDS.join('+');
    numpy = runPython(process.env, `6,2000,64,${ids}`);
    numpy1 = runPython({ ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' }, `6,2000,64,${ids}`);
    const a = audits[0];
    if (a !== undefined) {
      a.numpyLoop = numpy.times['audit'];
      a.numpyLoop1 = numpy1.times['audit'];
    }
  } catch (e) {
    note = `numpy comparison skipped: ${(e as Error).message.split('\n')[0]}`;
  }
}

const x = (a: number, b: number | undefined) => (b === undefined ? '-' : `${(a / b).toFixed(2)}x`);
const rows = [['metric @ N x d', 'basis (s)', 'numpy (s)', 'basis/numpy', 'numpy 1t (s)', 'basis/numpy-1t', 'basis cpu (s)', 'numpy-1t cpu (s)', 'cpu ratio']];
for (const [k, t] of Object.entries(times)) {
  const r = numpy?.times[k];
  const r1 = numpy1?.times[k];
  const c = cpu[k] as number;
  const c1 = numpy1?.cpu[k];
  rows.push([k, t.toFixed(4), r?.toFixed(4) ?? '-', x(t, r), r1?.toFixed(4) ?? '-', x(t, r1), c.toFixed(4), c1?.toFixed(4) ?? '-', x(c, c1)]);
}
const w = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
for (const r of rows) console.log(r.map((c, j) => (j === 0 ? c.padEnd(w[j]!) : c.padStart(w[j]!))).join('  '));
console.log(`\nall-pairs audits, 2 models x 6 layers, metrics ${AUDIT_IDS.join(', ')} (worker pool start-up alone: ${startup.toFixed(2)} s):`);
for (const a of audits) {
  const parts = [`compareLayers ${a.compareLayers.toFixed(2)} s (cpu ${a.compareLayersCpu.toFixed(2)} s)`, `compareLayersParallel ${a.parallel.toFixed(2)} s on ${a.parallelWorkers} workers (${(a.compareLayers / a.parallel).toFixed(2)}x; cpu of all threads ${a.parallelCpu.toFixed(2)} s)`];
  if (a.perPairLoop !== undefined) parts.push(`per-pair metric() loop ${a.perPairLoop.toFixed(2)} s (compareLayers ${(a.perPairLoop / a.compareLayers).toFixed(2)}x, parallel ${(a.perPairLoop / a.parallel).toFixed(2)}x faster)`);
  if (a.numpyLoop !== undefined) parts.push(`numpy per-pair loop ${a.numpyLoop.toFixed(2)} s (1 thread ${a.numpyLoop1?.toFixed(2) ?? '-'} s)`);
  console.log(`  ${a.shape}: ${parts.join('; ')}`);
}
if (note) console.log(note);
else console.log(`reference: numpy ${numpy?.info['numpy']}, scipy ${numpy?.info['scipy']}; 'numpy 1t' sets OMP/OPENBLAS/MKL_NUM_THREADS=1 (each basis metric runs on one thread); 'cpu' columns are process CPU seconds of the best run, which a loaded machine disturbs less than wall time`);
const outDir = fileURLToPath(new URL('../../../bench-results/', import.meta.url));
mkdirSync(outDir, { recursive: true });
writeFileSync(
  outDir + 'align.json',
  JSON.stringify(
    { date: new Date().toISOString(), node: process.versions.node, cpuModel: cpus()[0]?.model ?? 'unknown', threads: availableParallelism(), loadAverage: loadavg(), times, cpuSeconds: cpu, numpy: numpy?.times ?? null, numpy1Thread: numpy1?.times ?? null, numpy1ThreadCpu: numpy1?.cpu ?? null, reference: numpy?.info ?? null, audits: { metrics: AUDIT_IDS, workerStartup: startup, runs: audits }, note: note || undefined },
    null,
    2,
  ) + '\n',
);
console.log(`wrote ${outDir}align.json`);
