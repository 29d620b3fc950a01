/**
 * `pnpm bench` for @basis/zoo: training epochs beside PyTorch CPU on the same data, same threads,
 * same environment (OPENBLAS_CORETYPE etc. as found):
 * - MLP 784-512-512-10 and MiniMyrtle(16) on the 8,000 training digits of the 10k MNIST set
 *   (the mlpMnist recipe's split), batch 128 (a Fashion-MNIST epoch of the miniMyrtleFashion recipe
 *   is 60,000 images: 7.5x these epochs);
 * - basis on the tfjs wasm backend with the kernels @basis/tensor registers, in a fresh process per
 *   configuration (bench/train-epochs.ts): the engine as found at 1 and 2 threads (BASIS_THREADS:
 *   native BLAS training kernels when a BLAS loads), its WebAssembly kernel fixes (BASIS_BLAS=off,
 *   today's path) and stock tfjs-wasm (for reference);
 * - PyTorch (bench/torch_ref.py on Debian's /usr/bin/python3: torch on the system BLAS) at 1 and 2
 *   threads (torch.set_num_threads, OMP_WAIT_POLICY=PASSIVE);
 * - two MLP seeds one after the other vs in parallel on a 2-worker TrainPool, and PyTorch as two
 *   single-threaded processes at once.
 * At each thread count basis runs first and PyTorch right after, so both see the same load, for
 * three rounds (fresh processes each). Each side counts its best warm epoch of all rounds: every
 * process's first epoch is left out on both sides (on the basis side it compiles kernels), so each
 * side has 3 x 4 MLP epochs and 3 x 2 MiniMyrtle epochs to count (5 and 3 per process).
 * Prints a table and the acceptance rows (epochs no slower than PyTorch); writes bench-results/zoo.json.
 *
 * Environment: BENCH_QUICK=1 a few steps per model, extrapolated to an epoch; BENCH_THREADS=1,2;
 * BENCH_ROUNDS=3 (rounds per thread count); BASIS_SKIP_PYTHON=1 no PyTorch.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { engineInfo, engineSummary, type EngineInfo } from '@basis/tensor';
import { selectBackend } from '@basis/tensor/backend';
import { writeNpyFile } from '@basis/tensor/node';
import { TRAINING_PRESETS, buildModel, type TrainSettings } from '@basis/zoo';
import { TrainPool, loadDataSpec } from '@basis/zoo/node';
import {
  benchThreads,
  cpuSeconds,
  engineTag,
  fmtSeconds,
  formatAcceptance,
  formatTable,
  loadSpan,
  loadSpanText,
  peerTag,
  primaryBlas,
  probePeer,
  startBench,
  threadEnv,
  writeBenchResult,
  type AcceptanceRow,
  type LoadSpan,
  type Measure,
  type PeerInfo,
} from '@basis/test-utils/bench';

const { header, quick } = startBench();
const execFileP = promisify(execFile);
const log = (s: string): void => void process.stderr.write(s + '\n');
const THREADS = benchThreads();
// epochs per model and process, on both sides; the best warm one counts (the first epoch of each
// process is left out on both sides: on the basis side it compiles kernels; see warmEpochs). An
// MLP epoch is ~0.3-0.5 s and varies by +-20% from one to the next on these machines, so it gets 5.
const EPOCHS: Record<'mlp' | 'cnn', number> = quick ? { mlp: 1, cnn: 1 } : { mlp: 5, cnn: 3 };
/** The epochs that count of a list of rounds of `EPOCHS[m]` epochs each: all but each round's first (when a round has more than one). */
const warmEpochs = (epochs: readonly number[], m: 'mlp' | 'cnn'): number[] => (EPOCHS[m] > 1 ? epochs.filter((_, i) => i % EPOCHS[m] !== 0) : [...epochs]);
/** The EPOCHS argument of train-epochs.ts and torch_ref.py: one count per model of `models`. */
const epochsFor = (models: string, one = false): string => models.split(',').map((m) => (one ? 1 : EPOCHS[m as 'mlp' | 'cnn'])).join(',');
const MAX_STEPS = quick ? { mlp: 8, cnn: 4 } : undefined;
/** Rounds per thread count, basis and PyTorch alternating (BENCH_ROUNDS; default 1 in quick mode, else 3). */
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? (quick ? 1 : 3));
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`BENCH_ROUNDS must be an integer >= 1, got ${process.env['BENCH_ROUNDS'] ?? ''}`);
const pkgDir = fileURLToPath(new URL('../', import.meta.url));

// ---- basis: one fresh process per configuration ----
let twoSeeds: { sequential: number; parallel: number; sequentialCpu: number; parallelCpu: number; workers: number } | undefined;
interface EpochTiming {
  wall: number;
  cpu: number;
  epochs: number[];
  extrapolated: boolean;
  testAccuracy: number | null;
}
interface BasisRun {
  key: string;
  env: Record<string, string>;
  engine?: EngineInfo;
  backend?: { name: string; fixesApplied: string[] };
  mlp?: EpochTiming | { error: string };
  cnn?: EpochTiming | { error: string };
  error?: string;
  span?: LoadSpan;
}
const found = engineInfo();
const configs: { key: string; env: Record<string, string>; models: string; threads?: number }[] = [
  ...(found.provider === 'native' ? THREADS.map((t) => ({ key: `native-${t}t`, env: { BASIS_THREADS: String(t) }, models: 'mlp,cnn', threads: t })) : []),
  { key: 'wasm', env: { BASIS_BLAS: 'off' }, models: 'mlp,cnn', ...(found.provider === 'native' ? {} : { threads: THREADS[0] as number }) },
  // stock tfjs-wasm registers no Conv2DBackpropFilter: the CNN cannot train there
  { key: 'stock-wasm', env: { BASIS_BLAS: 'off', BENCH_WASM_FIXES: '0' }, models: 'mlp' },
];
const basisRuns: BasisRun[] = [];
const child = fileURLToPath(new URL('./train-epochs.ts', import.meta.url));
async function runBasis(c: (typeof configs)[number], keep = true): Promise<BasisRun> {
  log(`basis ${c.key} (${Object.entries(c.env).map(([k, v]) => `${k}=${v}`).join(' ')}): ${c.models}`);
  const epochs = epochsFor(c.models, c.key === 'stock-wasm');
  const run: BasisRun = { key: c.key, env: c.env };
  const end = loadSpan();
  try {
    const steps = MAX_STEPS === undefined ? [] : [c.models.split(',').map((m) => MAX_STEPS[m as 'mlp' | 'cnn']).join(',')];
    const o = await execFileP(process.execPath, ['--conditions=@basis/source', '--import', 'tsx', child, c.models, epochs, ...steps], { cwd: pkgDir, env: { ...process.env, ...c.env }, timeout: 3_600_000, maxBuffer: 1 << 24 });
    Object.assign(run, JSON.parse(o.stdout.trim().split('\n').pop() ?? '{}') as Omit<BasisRun, 'key' | 'env'>);
    log(o.stderr.trimEnd());
  } catch (e) {
    run.error = (e as Error).message.split('\n')[0];
    log(`  failed: ${run.error}`);
  }
  run.span = end();
  if (keep) basisRuns.push(run);
  return run;
}

/**
 * Folds a later round into the first run of the same side: per model, the best epoch over all
 * rounds counts (its CPU seconds with it), and the epochs list keeps every round's.
 */
function mergeBasis(into: BasisRun, extra: BasisRun): void {
  for (const m of ['mlp', 'cnn'] as const) {
    const a = into[m];
    const b = extra[m];
    if (a === undefined || 'error' in a || b === undefined || 'error' in b) continue;
    const best = b.wall < a.wall ? b : a;
    into[m] = { ...a, wall: best.wall, cpu: best.cpu, epochs: [...a.epochs, ...b.epochs] };
  }
}
function mergeTorch(into: TorchRun, extra: TorchRun): void {
  for (const m of ['mlp', 'cnn'] as const) {
    const a = into[m];
    const b = extra[m];
    if (a === undefined || b === undefined) continue;
    into[m] = { ...a, epochs: [...a.epochs, ...b.epochs], cpu: [...a.cpu, ...b.cpu] };
  }
}

// ---- PyTorch on the same data (Debian's python3: torch on the system BLAS) ----
interface TorchModel {
  epochs: number[];
  cpu: number[];
  testAccuracy: number;
  extrapolated?: boolean;
}
interface TorchRun {
  threads: number;
  peer: PeerInfo | null;
  info: { torch: string; threads: number; blas: string; matmulGflops: number };
  mlp?: TorchModel;
  cnn?: TorchModel;
  span: LoadSpan;
}
const torchRuns: TorchRun[] = [];
let torchParallel: number | undefined;
let note = '';
const python = '/usr/bin/python3';
const { train, test } = await loadDataSpec(TRAINING_PRESETS.mlpMnist.data);
const dir = mkdtempSync(join(tmpdir(), 'basis-zoo-bench-'));
let runTorch: ((models: string, threads: number) => Promise<TorchRun>) | undefined;
if (process.env['BASIS_SKIP_PYTHON'] === '1') note = 'PyTorch comparison skipped (BASIS_SKIP_PYTHON=1)';
else {
  const peer = probePeer(python, 'system', threadEnv(1), { torch: true });
  if (peer === null || peer.torch === undefined || 'error' in peer.torch) {
    note = `PyTorch comparison skipped: ${python} cannot import torch (on Debian: apt-get install python3-torch)`;
  } else {
    for (const [name, ds] of [['train', train], ['test', test]] as const) {
      await writeNpyFile(join(dir, `${name}_x.npy`), { dtype: 'float32', shape: [ds.n, ...ds.shape], data: ds.x });
      await writeNpyFile(join(dir, `${name}_y.npy`), { dtype: 'int32', shape: [ds.n], data: ds.labels });
    }
    const script = fileURLToPath(new URL('./torch_ref.py', import.meta.url));
    runTorch = async (models: string, threads: number): Promise<TorchRun> => {
      const env = threadEnv(threads, { passiveWait: true });
      const end = loadSpan();
      const steps = MAX_STEPS === undefined ? [] : [models.split(',').map((m) => MAX_STEPS[m as 'mlp' | 'cnn']).join(',')];
      const { stdout } = await execFileP(python, [script, dir, models, epochsFor(models), ...steps], { env, timeout: 3_600_000, maxBuffer: 1 << 20 });
      const span = end();
      return { threads, peer: probePeer(python, 'system', env, { torch: true }), span, ...(JSON.parse(stdout) as Omit<TorchRun, 'threads' | 'peer' | 'span'>) };
    };
  }
}

try {
  // each thread count: basis, then PyTorch right after (same load on both sides)
  for (const t of THREADS) {
    const c = configs.find((x) => x.threads === t);
    const first = c === undefined ? undefined : await runBasis(c);
    let torchFirst: TorchRun | undefined;
    if (runTorch !== undefined) {
      log(`PyTorch, ${t} thread(s): MLP and MiniMyrtle(16)`);
      try {
        torchFirst = await runTorch('mlp,cnn', t);
        torchRuns.push(torchFirst);
      } catch (e) {
        note += `PyTorch ${t}t failed: ${(e as Error).message.split('\n')[0]}. `;
      }
    }
    // more rounds, basis and PyTorch alternating (fresh processes): the host drifts by +-10%
    // between the two sides' turns, as much as the rows' margins
    for (let r = 2; r <= ROUNDS; r++) {
      if (c !== undefined && first !== undefined) mergeBasis(first, await runBasis(c, false));
      if (runTorch !== undefined && torchFirst !== undefined) {
        log(`PyTorch, ${t} thread(s): MLP and MiniMyrtle(16) (round ${r} of ${ROUNDS})`);
        try {
          mergeTorch(torchFirst, await runTorch('mlp,cnn', t));
        } catch (e) {
          note += `PyTorch ${t}t round ${r} failed: ${(e as Error).message.split('\n')[0]}. `;
        }
      }
    }
  }
  // the other basis configurations (WebAssembly kernels; stock tfjs-wasm)
  for (const c of configs) if (c.threads === undefined) await runBasis(c);

  // two seeds of the MLP: one after the other vs in parallel on a 2-worker pool (engine as found),
  // and PyTorch as two single-threaded processes at once
  if (!quick) {
    await selectBackend('wasm');
    const mlp = buildModel(TRAINING_PRESETS.mlpMnist.model, { input: train.shape, classes: 10 });
    const oneEpoch: TrainSettings = { ...TRAINING_PRESETS.mlpMnist.train, epochs: 1 };
    log('two seeds of the MLP (1 epoch each): sequential vs parallel on a 2-worker pool');
    const pool = await TrainPool.create({ workers: 2, backend: 'wasm' });
    try {
      await Promise.all([0, 1].map((seed) => pool.run({ graph: mlp, train: test, recipe: { ...oneEpoch, seed } }))); // warm-up both workers
      // (process CPU seconds include the worker threads)
      let t = performance.now();
      let c = cpuSeconds();
      for (const seed of [0, 1]) await pool.run({ graph: mlp, train, recipe: { ...oneEpoch, seed } });
      const sequential = (performance.now() - t) / 1000;
      const sequentialCpu = cpuSeconds() - c;
      t = performance.now();
      c = cpuSeconds();
      await Promise.all([0, 1].map((seed) => pool.run({ graph: mlp, train, recipe: { ...oneEpoch, seed } })));
      twoSeeds = { sequential, parallel: (performance.now() - t) / 1000, sequentialCpu, parallelCpu: cpuSeconds() - c, workers: 2 };
    } finally {
      await pool.close();
    }
    log(`  sequential ${twoSeeds.sequential.toFixed(2)} s, parallel ${twoSeeds.parallel.toFixed(2)} s`);
    if (runTorch !== undefined) {
      log('PyTorch: two single-threaded MLP processes at once');
      try {
        const both = await Promise.all([runTorch('mlp', 1), runTorch('mlp', 1)]);
        // like with like: the training time of the processes, without interpreter start-up
        torchParallel = Math.max(...both.map((b) => (b.mlp?.epochs ?? []).reduce((a, x) => a + x, 0))) / EPOCHS.mlp;
      } catch (e) {
        note += `PyTorch two processes failed: ${(e as Error).message.split('\n')[0]}. `;
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// ---- tables ----
const measureOf = (r: BasisRun | undefined, m: 'mlp' | 'cnn'): Measure | null => {
  if (r === undefined) return null;
  const v = r[m];
  const tag = r.engine === undefined ? r.key : `${r.key === 'stock-wasm' ? 'stock ' : ''}${engineTag(r.engine)}${r.engine.provider === 'wasm' ? ` (${(r.backend?.fixesApplied ?? []).length} fixes)` : ''}`;
  if (v === undefined) return { seconds: null, tag, note: r.error ?? (r.key === 'stock-wasm' && m === 'cnn' ? 'cannot train (stock tfjs-wasm has no Conv2DBackpropFilter)' : 'not run') };
  if ('error' in v) return { seconds: null, tag, note: `fails: ${v.error}` };
  return { seconds: v.wall, tag, cpu: v.cpu };
};
const torchBest = (r: TorchRun | undefined, m: 'mlp' | 'cnn'): number | undefined => (r?.[m] === undefined ? undefined : Math.min(...warmEpochs(r[m]!.epochs, m)));
const torchMeasure = (r: TorchRun | undefined, m: 'mlp' | 'cnn'): Measure | null => {
  if (r === undefined) return null;
  const best = torchBest(r, m);
  const i = best === undefined ? -1 : r[m]!.epochs.findIndex((e, j) => e === best && (EPOCHS[m] === 1 || j % EPOCHS[m] !== 0));
  return { seconds: best ?? null, tag: r.peer === null ? `torch ${r.threads}t` : peerTag(r.peer, 'torch'), ...(i >= 0 ? { cpu: r[m]!.cpu[i] } : {}) };
};
const run = (k: string) => basisRuns.find((r) => r.key === k);
const torchAt = (t: number) => torchRuns.find((r) => r.threads === t);
const modelName = { mlp: 'MLP 784-512-512-10 epoch', cnn: 'MiniMyrtle(16) epoch' } as const;

const table: string[][] = [['epoch (8,000 digits, batch 128)', 'thr', ...basisRuns.map((r) => `basis ${r.key} (s)`), 'PyTorch (s)', 'basis/PyTorch']];
const acceptance: AcceptanceRow[] = [];
const section = `training epoch, 8,000 MNIST digits, batch 128${quick ? ' (QUICK: extrapolated from a few steps)' : ''} vs PyTorch CPU`;
for (const m of ['mlp', 'cnn'] as const) {
  for (const t of THREADS) {
    const primary = run(found.provider === 'native' ? `native-${t}t` : 'wasm');
    const b = measureOf(primary, m);
    const p = torchMeasure(torchAt(t), m);
    table.push([
      modelName[m],
      String(t),
      ...basisRuns.map((r) => (r.key.startsWith('native-') && r.key !== `native-${t}t` ? '' : (() => { const x = measureOf(r, m); return x?.seconds === null ? (x.note ?? '-') : fmtSeconds(x?.seconds); })())),
      fmtSeconds(p?.seconds),
      b?.seconds != null && p?.seconds != null ? `${(b.seconds / p.seconds).toFixed(2)}x` : '-',
    ]);
    if (b === null) continue;
    const others: Record<string, Measure> = {};
    for (const k of ['wasm', 'stock-wasm']) {
      const x = measureOf(run(k), m);
      if (x !== null && run(k) !== primary) others[`basis ${k}`] = x;
    }
    acceptance.push({ section, name: modelName[m], threads: t, basis: b, peer: p, maxRatio: 1, others });
  }
}
if (twoSeeds !== undefined) {
  table.push(['2 MLP seeds x 1 epoch, sequential (pool)', '', fmtSeconds(twoSeeds.sequential), ...basisRuns.slice(1).map(() => ''), fmtSeconds((torchBest(torchAt(1), 'mlp') ?? Number.NaN) * 2), '']);
  table.push(['2 MLP seeds x 1 epoch, parallel (2 workers / 2 torch processes)', '', fmtSeconds(twoSeeds.parallel), ...basisRuns.slice(1).map(() => ''), fmtSeconds(torchParallel), torchParallel ? `${(twoSeeds.parallel / torchParallel).toFixed(2)}x` : '-']);
}
console.log('\n' + formatTable(table));
for (const r of basisRuns) console.log(`basis ${r.key}: ${r.engine === undefined ? (r.error ?? '?') : engineSummary(r.engine)}${r.span ? ` (${loadSpanText(r.span)})` : ''}; backend ${r.backend?.name ?? '?'} with ${r.backend?.fixesApplied.length ? r.backend.fixesApplied.join(', ') : 'no basis kernels'}`);
for (const r of torchRuns) {
  const b = r.peer === null ? undefined : primaryBlas(r.peer);
  console.log(`PyTorch ${r.threads}t: torch ${r.info.torch} (${python}), ${r.info.threads} thread(s), BLAS_INFO=${r.info.blas}, BLAS ${b === undefined ? '?' : `${b.library} (${b.coreType ?? b.kind}, ${b.threads ?? '?'} threads)`}, 1024^3 float32 matmul ${r.info.matmulGflops.toFixed(1)} GFLOP/s (${loadSpanText(r.span)})`);
}
if (twoSeeds !== undefined) console.log(`parallel speedup of 2 seeds on the TrainPool: ${(twoSeeds.sequential / twoSeeds.parallel).toFixed(2)}x (engine as found: ${engineSummary(found)})`);
if (note) console.log(note);
// the spread behind the best epochs: medians of the warm epochs of every round, both sides
const median = (xs: number[]): number => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length === 0 ? Number.NaN : v.length % 2 === 1 ? (v[v.length >> 1] as number) : ((v[v.length / 2 - 1] as number) + (v[v.length / 2] as number)) / 2;
};
for (const m of ['mlp', 'cnn'] as const) {
  for (const t of THREADS) {
    const v = run(found.provider === 'native' ? `native-${t}t` : 'wasm')?.[m];
    const tr = torchAt(t)?.[m];
    if (v === undefined || 'error' in v || tr === undefined) continue;
    const [bm, pm] = [median(warmEpochs(v.epochs, m)), median(warmEpochs(tr.epochs, m))];
    console.log(`${modelName[m]}, ${t} thread(s), median of the warm epochs: basis ${fmtSeconds(bm)}, PyTorch ${fmtSeconds(pm)} (${(bm / pm).toFixed(2)}x)`);
  }
}
console.log('\n' + formatAcceptance(acceptance));
const path = writeBenchResult('zoo', header, {
  data: { train: train.n, test: test.n, batchSize: 128, epochs: EPOCHS, maxSteps: MAX_STEPS ?? null },
  basis: basisRuns,
  twoSeeds: twoSeeds ?? null,
  pytorch: { runs: torchRuns, twoProcessesMlpEpoch: torchParallel ?? null },
  acceptance,
  note: note || undefined,
});
console.log(`wrote ${path}`);
