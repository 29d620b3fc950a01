/**
 * `pnpm bench` for @basis/tensor: the core float64 kernels (GEMM, Xᵀ Y, thin SVD, eigh, LAP) on
 * the engine as found (native BLAS/LAPACK when one loads, else WebAssembly) at 1 and 2 threads,
 * the WebAssembly kernels (BASIS_BLAS=off) beside them, and numpy/scipy (bench/numpy_ref.py, one
 * long-lived process per peer and thread count, timing each case right after basis) at the
 * same thread counts under the same environment: Debian's /usr/bin/python3 (numpy on the system
 * BLAS, the library basis loads) and the python3 on PATH when it differs (numpy's bundled
 * OpenBLAS). Every column names its provider, core type and threads. Prints a table and the
 * acceptance rows (eigh and SVD at 1024²: no slower than numpy), writes bench-results/tensor.json.
 *
 * Environment: BENCH_QUICK=1 small sizes only (smoke test); BENCH_ONLY=name,name a subset;
 * BENCH_THREADS=1,2 the thread counts; BENCH_PYTHONS=system,pyenv which peers; BASIS_SKIP_PYTHON=1
 * no peers.
 */
import { fileURLToPath } from 'node:url';
import { Matrix, configureEngine, createRng, crossprod, eigh, engineInfo, engineSummary, linearSumAssignment, matmul, svd, type EngineInfo } from '@basis/tensor';
import {
  benchThreads,
  engineTag,
  fmtRatio,
  fmtSeconds,
  formatAcceptance,
  formatTable,
  loadAverage,
  loadSpan,
  loadSpanText,
  peerTag,
  startBench,
  timeBest,
  writeBenchResult,
  NumpyPeers,
  type AcceptanceRow,
  type Measure,
} from '@basis/test-utils/bench';

const { header, quick } = startBench();
const THREADS = benchThreads();

interface Case {
  name: string;
  what: string;
  flops?: number;
  reps: number;
  /** Uses the BLAS (timed per thread count and on WebAssembly); false: basis' own kernels (WebAssembly SIMD or JavaScript), timed once. */
  blas: boolean;
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
const symmetric = (n: number): Matrix => {
  const s = gaussian(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const v = (s.get(i, j) + s.get(j, i)) / 2;
      s.set(i, j, v);
      s.set(j, i, v);
    }
  }
  return s;
};

const M = quick ? 256 : 1024;
const [CN, CD] = quick ? [2000, 256] : [10000, 1024];
const cases: Case[] = [
  { name: `matmul-${M}`, what: `A B, ${M} x ${M}`, flops: 2 * M ** 3, reps: 3, blas: true, setup: () => { const a = gaussian(M, M); const b = gaussian(M, M); return () => matmul(a, b); } },
  { name: `crossprod-${CN}x${CD}`, what: `Xᵀ Y, X and Y ${CN} x ${CD}`, flops: 2 * CN * CD ** 2, reps: 2, blas: true, setup: () => { const x = gaussian(CN, CD); const y = gaussian(CN, CD); return () => crossprod(x, y); } },
  { name: `svd-${M}`, what: `thin SVD with U and V, ${M} x ${M}`, reps: 2, blas: true, setup: () => { const a = gaussian(M, M); return () => svd(a); } },
  ...(quick ? [256] : [256, 512, 1024]).map((n): Case => ({ name: `eigh-${n}`, what: `symmetric eigendecomposition with vectors, ${n} x ${n}`, reps: 3, blas: true, setup: () => { const s = symmetric(n); return () => eigh(s); } })),
  ...(quick ? [256] : [1024, 2048]).map((n): Case => ({ name: `lap-${n}`, what: `linear sum assignment, uniform [0,1) costs, ${n} x ${n}`, reps: n > 1024 ? 2 : 3, blas: false, setup: () => { const c = uniform(n, n); return () => linearSumAssignment(c); } })),
];
const only = process.env['BENCH_ONLY']?.split(',').filter((s) => s.length > 0);
const selected = only === undefined || only.length === 0 ? cases : cases.filter((c) => only.includes(c.name));

/** One basis configuration: the engine as found at T threads, or WebAssembly. */
interface Config {
  key: string;
  engine: EngineInfo;
}
interface Timing {
  seconds: number;
  cpu: number;
  gflops?: number;
}
const found = engineInfo();
const basis: Record<string, Record<string, Timing>> = {}; // config key -> case -> timing
const configs: Config[] = [];
const log = (s: string): void => void process.stderr.write(s + '\n');

// basis configurations: the engine as found at each thread count (WebAssembly computes on one
// thread whatever is asked), and the WebAssembly kernels beside them (today's path, the fallback)
const basisConfigs: { key: string; blasOnly: boolean; apply: () => void }[] = [
  ...(found.provider === 'native' ? THREADS : [1]).map((t, i) => ({ key: found.provider === 'native' ? `native-${t}t` : 'wasm', blasOnly: i > 0, apply: () => void configureEngine({ threads: t }) })),
  ...(found.provider === 'native' ? [{ key: 'wasm', blasOnly: true, apply: () => void configureEngine({ blas: 'off' }) }] : []),
];
const restore = () => void configureEngine({ blas: found.requested, threads: found.threads });
for (const c of basisConfigs) {
  c.apply();
  configs.push({ key: c.key, engine: engineInfo() });
  basis[c.key] = {};
}
restore();

// numpy/scipy at the same thread counts, same environment: one long-lived process each
const peers = new NumpyPeers(fileURLToPath(new URL('./numpy_ref.py', import.meta.url)), THREADS, 'numpy', log);

// case by case: basis in each configuration, then every peer (same load on both sides)
const loads: Record<string, number> = {};
const span = loadSpan();
for (const c of selected) {
  const fn = c.setup();
  loads[c.name] = loadAverage()[0] as number;
  for (const cfg of basisConfigs) {
    if (cfg.blasOnly && !c.blas) continue;
    cfg.apply();
    const t = await timeBest(fn, c.reps, 1);
    basis[cfg.key]![c.name] = { seconds: t.wall, cpu: t.cpu, ...(c.flops ? { gflops: c.flops / t.wall / 1e9 } : {}) };
    log(`  basis ${cfg.key} ${c.name}: ${t.wall.toFixed(3)} s (cpu ${t.cpu.toFixed(3)} s)`);
  }
  restore();
  // a case without BLAS runs its peers at the first thread count only
  await peers.time(c.name, { name: c.name }, (r) => c.blas || r.threads === THREADS[0]);
}
const loadOverCases = span();
peers.close();

// per-case table: every basis configuration and every peer, per thread count
const py = (label: string, t: number) => peers.find(label, t);
const peerLabels = peers.labels();
const primaryPeer = peerLabels[0];
const rows: string[][] = [['kernel', 'thr', 'basis (s)', 'GFLOP/s', 'basis side', ...(found.provider === 'native' ? ['wasm (s)'] : []), ...peerLabels.flatMap((l) => [`numpy-${l} (s)`, `basis/numpy-${l}`]), 'basis cpu (s)']];
const acceptance: AcceptanceRow[] = [];
const wasm = basis['wasm'];
for (const c of selected) {
  for (const t of c.blas ? THREADS : [THREADS[0] as number]) {
    const cfg = configs.find((k) => k.key === (found.provider === 'native' ? `native-${t}t` : 'wasm'));
    const b = cfg === undefined ? undefined : basis[cfg.key]?.[c.name];
    if (cfg === undefined || b === undefined) continue;
    rows.push([
      c.name,
      c.blas ? String(t) : 'js',
      b.seconds.toFixed(3),
      b.gflops?.toFixed(1) ?? '',
      c.blas ? engineTag(cfg.engine) : 'no BLAS (wasm/JS)',
      ...(found.provider === 'native' ? [c.blas ? fmtSeconds(wasm?.[c.name]?.seconds) : ''] : []),
      ...peerLabels.flatMap((l) => {
        const r = py(l, c.blas ? t : (THREADS[0] as number))?.times[c.name];
        return [fmtSeconds(r), fmtRatio(b.seconds, r)];
      }),
      b.cpu.toFixed(3),
    ]);
    if (/^(eigh|svd)-/.test(c.name) && (quick || c.name.endsWith('-1024'))) {
      const peerRun = primaryPeer === undefined ? undefined : py(primaryPeer, t);
      const peer: Measure | null = peerRun === undefined ? null : { seconds: peerRun.times[c.name] ?? null, tag: peerRun.info === null ? `numpy-${peerRun.python} ${t}t` : peerTag(peerRun.info), cpu: peerRun.cpu[c.name] };
      const others: Record<string, Measure> = {};
      if (found.provider === 'native' && wasm?.[c.name] !== undefined) others['basis wasm'] = { seconds: wasm[c.name]!.seconds, tag: 'wasm 1t' };
      for (const l of peerLabels.slice(1)) {
        const r = py(l, t);
        if (r !== undefined) others[`numpy-${l}`] = { seconds: r.times[c.name] ?? null, tag: r.info === null ? `numpy-${l} ${t}t` : peerTag(r.info) };
      }
      acceptance.push({ section: `eigh / thin SVD @${M}² (numpy.linalg.eigh, numpy.linalg.svd full_matrices=False)`, name: c.name, threads: t, basis: { seconds: b.seconds, tag: engineTag(cfg.engine), cpu: b.cpu }, peer, maxRatio: 1, others });
    }
  }
}
console.log('\n' + formatTable(rows, { left: [4] }));
console.log('\nbasis: ' + configs.map((c) => `${c.key} = ${engineSummary(c.engine)}`).join('; '));
peers.printSummary();
console.log(`each case ran on basis and then on every peer before the next case (same load); ${loadSpanText(loadOverCases)}`);
if (peers.note) console.log(peers.note);
console.log('\n' + formatAcceptance(acceptance));
const path = writeBenchResult('tensor', header, {
  cases: Object.fromEntries(selected.map((c) => [c.name, c.what])),
  basis: { configs, times: basis },
  numpy: peers.results(),
  loadAverageAtCase: loads,
  acceptance,
  note: peers.note || undefined,
});
console.log(`wrote ${path}`);
