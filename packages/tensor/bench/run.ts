/**
 * `pnpm bench`: times the core kernels of @basis/tensor, compares them with numpy/scipy when a
 * python3 with numpy is present (skipped, and said so, otherwise), prints a table and writes
 * JSON to `bench-results/tensor.json` at the repository root.
 *
 * Options (environment): BENCH_ONLY=name,name  run a subset; BASIS_SKIP_PYTHON=1 skip numpy.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Matrix, createRng, crossprod, eigh, linearSumAssignment, matmul, svd } from '@basis/tensor';

interface Case {
  name: string;
  what: string;
  flops?: number;
  reps: number;
  setup: () => () => unknown;
}

const rng = createRng(2026);
const gaussian = (r: number, c: number): Matrix => {
  const m = new Matrix(r, c);
  for (let k = 0; k < m.data.length; k++) m.data[k] = rng.normal();
  return m;
};
const uniform = (r: number, c: number): Matrix => {
  const m = new Matrix(r, c);
  for (let k = 0; k < m.data.length; k++) m.data[k] = rng.uniform();
  return m;
};

const cases: Case[] = [
  { name: 'matmul-1024', what: 'A B, 1024 x 1024', flops: 2 * 1024 ** 3, reps: 3, setup: () => { const a = gaussian(1024, 1024); const b = gaussian(1024, 1024); return () => matmul(a, b); } },
  { name: 'crossprod-10000x1024', what: 'Xᵀ Y, X and Y 10000 x 1024', flops: 2 * 10000 * 1024 ** 2, reps: 2, setup: () => { const x = gaussian(10000, 1024); const y = gaussian(10000, 1024); return () => crossprod(x, y); } },
  { name: 'svd-1024', what: 'thin SVD with U and V, 1024 x 1024', reps: 1, setup: () => { const a = gaussian(1024, 1024); return () => svd(a); } },
  ...[256, 512, 1024].map((n): Case => ({ name: `eigh-${n}`, what: `symmetric eigendecomposition with vectors, ${n} x ${n}`, reps: n === 1024 ? 3 : 5, setup: () => { const s = gaussian(n, n); for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) { const v = (s.get(i, j) + s.get(j, i)) / 2; s.set(i, j, v); s.set(j, i, v); } return () => eigh(s); } })),
  { name: 'lap-1024', what: 'linear sum assignment, uniform [0,1) costs, 1024 x 1024', reps: 3, setup: () => { const c = uniform(1024, 1024); return () => linearSumAssignment(c); } },
  { name: 'lap-2048', what: 'linear sum assignment, uniform [0,1) costs, 2048 x 2048', reps: 2, setup: () => { const c = uniform(2048, 2048); return () => linearSumAssignment(c); } },
];

const only = process.env['BENCH_ONLY']?.split(',').filter((s) => s.length > 0);
const selected = only === undefined || only.length === 0 ? cases : cases.filter((c) => only.includes(c.name));

const results: Record<string, { seconds: number; cpu: number; gflops?: number; numpy?: number; ratio?: number; numpy1?: number; ratio1?: number; numpy1Cpu?: number; cpuRatio1?: number; what: string }> = {};
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
for (const c of selected) {
  const fn = c.setup();
  fn(); // warm-up (JIT)
  let best = Infinity;
  let bestCpu = Infinity;
  for (let r = 0; r < c.reps; r++) {
    const t = performance.now();
    const u = cpuSeconds();
    fn();
    best = Math.min(best, (performance.now() - t) / 1000);
    bestCpu = Math.min(bestCpu, cpuSeconds() - u);
  }
  results[c.name] = { seconds: best, cpu: bestCpu, what: c.what, ...(c.flops ? { gflops: c.flops / best / 1e9 } : {}) };
  process.stderr.write(`  ${c.name}: ${best.toFixed(3)} s (cpu ${bestCpu.toFixed(3)} s)\n`);
}

type PythonTimes = { times: Record<string, number>; cpu?: Record<string, number>; info: Record<string, string> };
let python: PythonTimes | undefined;
let python1: PythonTimes | undefined;
let pythonNote = '';
const runPython = (env: NodeJS.ProcessEnv): PythonTimes => {
  const script = fileURLToPath(new URL('./numpy_ref.py', import.meta.url));
  const out = execFileSync('python3', [script, selected.map((c) => c.name).join(',')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000, env });
  return JSON.parse(out) as PythonTimes;
};
if (process.env['BASIS_SKIP_PYTHON'] === '1') pythonNote = 'numpy comparison skipped (BASIS_SKIP_PYTHON=1)';
else {
  try {
    python = runPython(process.env);
    // basis kernels use one thread: compare with single-threaded BLAS too
    python1 = runPython({ ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' });
  } catch (e) {
    pythonNote = `numpy comparison skipped: no python3 with numpy (${(e as Error).message.split('\n')[0]})`;
  }
}
if (python) {
  for (const [name, r] of Object.entries(results)) {
    const t = python.times[name];
    if (t !== undefined) {
      r.numpy = t;
      r.ratio = r.seconds / t;
    }
    const t1 = python1?.times[name];
    if (t1 !== undefined) {
      r.numpy1 = t1;
      r.ratio1 = r.seconds / t1;
    }
    const c1 = python1?.cpu?.[name];
    if (c1 !== undefined) {
      r.numpy1Cpu = c1;
      r.cpuRatio1 = r.cpu / c1;
    }
  }
}

const rows = [['benchmark', 'basis (s)', 'GFLOP/s', 'numpy (s)', 'basis/numpy', 'numpy 1 thread (s)', 'basis/numpy-1t', 'basis cpu (s)', 'numpy-1t cpu (s)', 'cpu ratio']];
for (const [name, r] of Object.entries(results)) {
  const x = (v: number | undefined) => (v === undefined ? '-' : `${v.toFixed(2)}x`);
  rows.push([name, r.seconds.toFixed(3), r.gflops?.toFixed(2) ?? '', r.numpy?.toFixed(3) ?? '-', x(r.ratio), r.numpy1?.toFixed(3) ?? '-', x(r.ratio1), r.cpu.toFixed(3), r.numpy1Cpu?.toFixed(3) ?? '-', x(r.cpuRatio1)]);
}
const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
for (const r of rows) console.log(r.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join('  '));
if (pythonNote) console.log(pythonNote);
else console.log(`reference: numpy ${python?.info['numpy']}, scipy ${python?.info['scipy'] ?? 'absent'}; 'numpy' uses its default BLAS threads, 'numpy 1 thread' sets OMP/OPENBLAS/MKL_NUM_THREADS=1 (basis kernels are single-threaded); 'cpu' columns are process CPU seconds (best run), which a loaded machine disturbs less than wall time`);

const outDir = fileURLToPath(new URL('../../../bench-results/', import.meta.url));
mkdirSync(outDir, { recursive: true });
const report = {
  date: new Date().toISOString(),
  node: process.versions.node,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  loadAverage: loadavg(),
  results,
  reference: python?.info ?? null,
  note: pythonNote || undefined,
};
writeFileSync(outDir + 'tensor.json', JSON.stringify(report, null, 2) + '\n');
console.log(`wrote ${outDir}tensor.json`);
