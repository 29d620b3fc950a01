/**
 * `pnpm bench` for @basis/zoo: training throughput on the wasm backend (with @basis/tensor's kernel
 * fixes) beside the same training in PyTorch CPU (bench/torch_ref.py, when `/usr/bin/python3` has
 * torch; otherwise skipped and said so):
 * - epoch time of MLP 784-512-512-10 on the 8,000 training digits of the 10k MNIST set, batch 128;
 * - epoch time of MiniMyrtle(16) on the same data;
 * - two seeds of the MLP, one after the other vs in parallel on a 2-worker TrainPool (and, for
 *   PyTorch, two single-threaded processes at once).
 * Wall and process CPU seconds are recorded (wall times on a shared machine swing; the load
 * average is recorded too). Writes bench-results/zoo.json at the repository root and prints a table.
 *
 * Environment: BENCH_QUICK=1 one MLP epoch and 10 CNN steps (extrapolated); BASIS_SKIP_PYTHON=1
 * skips PyTorch; BASIS_TORCH_THREADS sets PyTorch's second thread count (default 2). Debian's
 * python3-torch links the reference BLAS (a few GFLOP/s); run with LD_LIBRARY_PATH set to an
 * OpenBLAS folder (libopenblas0-pthread's openblas-pthread/) for a fair dense-layer comparison.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { selectBackend } from '@basis/tensor/backend';
import { writeNpyFile } from '@basis/tensor/node';
import { RECIPES, buildModel, evaluateModel, paramsToTensors, trainModel, type TrainRecipe } from '@basis/zoo';
import { TrainPool, loadDataSpec } from '@basis/zoo/node';

const quick = process.env['BENCH_QUICK'] === '1';
const execFileP = promisify(execFile);
const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const log = (s: string): void => void process.stderr.write(s + '\n');

const backend = await selectBackend('wasm');
const { train, test } = await loadDataSpec(RECIPES.mlpMnist.data);
const mlp = buildModel(RECIPES.mlpMnist.model, { input: train.shape, classes: 10 });
const cnn = buildModel({ arch: 'minimyrtle', width: 16 }, { input: train.shape, classes: 10 });
const mlpRecipe: TrainRecipe = { ...RECIPES.mlpMnist.train, epochs: quick ? 1 : 2 };
const cnnRecipe: TrainRecipe = { ...RECIPES.miniMyrtleFashion.train, schedule: { kind: 'cosine' }, epochs: 1 };
const stepsPerEpoch = Math.ceil(train.n / 128);
const load0 = loadavg();

interface EpochTiming {
  /** Seconds per epoch (best epoch; the first one includes kernel compilation and warm-up). */
  wall: number;
  cpu: number;
  testAccuracy: number | null;
  epochs: number[];
}

/**
 * Trains in-process and times every epoch (wall and CPU); best epoch reported. Like torch_ref.py,
 * the epoch time is training only: the test set is evaluated once, after training.
 */
async function timeEpochs(graph: typeof mlp, recipe: TrainRecipe, maxSteps?: number): Promise<EpochTiming> {
  const walls: number[] = [];
  const cpus: number[] = [];
  let t = performance.now();
  let c = cpuNow();
  let steps = 0;
  const ctl = new AbortController();
  const r = await trainModel({
    graph,
    train,
    recipe,
    signal: ctl.signal,
    onProgress: (e) => {
      if (e.kind === 'step') {
        steps++;
        // quick mode: time steps 3..maxSteps and extrapolate to an epoch
        if (maxSteps !== undefined && steps === 2) {
          t = performance.now();
          c = cpuNow();
        }
        if (maxSteps !== undefined && steps === maxSteps) {
          const k = stepsPerEpoch / (maxSteps - 2);
          walls.push(((performance.now() - t) / 1000) * k);
          cpus.push((cpuNow() - c) * k);
          ctl.abort();
        }
      }
      if (e.kind === 'epoch' && maxSteps === undefined) {
        walls.push((performance.now() - t) / 1000);
        cpus.push(cpuNow() - c);
        t = performance.now();
        c = cpuNow();
      }
    },
  });
  const best = walls.indexOf(Math.min(...walls));
  const params = paramsToTensors(r.params);
  const testAccuracy = evaluateModel(graph, params, test).accuracy;
  Object.values(params).forEach((t) => t.dispose());
  return { wall: walls[best]!, cpu: cpus[best]!, testAccuracy, epochs: walls };
}

log(`MLP 784-512-512-10, ${train.n} digits, batch 128, ${mlpRecipe.epochs} epoch(s) on ${backend.name} (${backend.fixesApplied.join(', ')})`);
const mlpEpoch = await timeEpochs(mlp, mlpRecipe);
log(`  epochs ${mlpEpoch.epochs.map((s) => s.toFixed(2)).join(', ')} s`);
log(`MiniMyrtle(16), ${quick ? '10 steps, extrapolated to an epoch' : '1 epoch'}`);
const cnnEpoch = await timeEpochs(cnn, cnnRecipe, quick ? 12 : undefined);
log(`  epoch ${cnnEpoch.wall.toFixed(1)} s`);

// two seeds: sequentially on one worker vs in parallel on two (same pool, warmed up)
log('two seeds of the MLP (1 epoch each): sequential vs parallel on a 2-worker pool');
const pool = await TrainPool.create({ workers: 2, backend: 'wasm' });
const oneEpoch: TrainRecipe = { ...RECIPES.mlpMnist.train, epochs: 1 };
let parallel: { sequential: number; parallel: number; sequentialCpu: number; parallelCpu: number };
try {
  await Promise.all([0, 1].map((seed) => pool.run({ graph: mlp, train: test, recipe: { ...oneEpoch, seed } }))); // warm-up both workers
  // (process CPU seconds include the worker threads)
  let t = performance.now();
  let c = cpuNow();
  for (const seed of [0, 1]) await pool.run({ graph: mlp, train, recipe: { ...oneEpoch, seed } });
  const sequential = (performance.now() - t) / 1000;
  const sequentialCpu = cpuNow() - c;
  t = performance.now();
  c = cpuNow();
  await Promise.all([0, 1].map((seed) => pool.run({ graph: mlp, train, recipe: { ...oneEpoch, seed } })));
  parallel = { sequential, parallel: (performance.now() - t) / 1000, sequentialCpu, parallelCpu: cpuNow() - c };
} finally {
  await pool.close();
}
log(`  sequential ${parallel.sequential.toFixed(2)} s, parallel ${parallel.parallel.toFixed(2)} s: ${(parallel.sequential / parallel.parallel).toFixed(2)}x`);

// PyTorch on the same data
interface TorchRun {
  info: { torch: string; threads: number; blas: string; matmulGflops: number };
  mlp?: { epochs: number[]; cpu: number[]; testAccuracy: number };
  cnn?: { epochs: number[]; cpu: number[]; testAccuracy: number };
}
let torch1: TorchRun | undefined;
let torch2: TorchRun | undefined;
let torchParallel: number | undefined;
let note = '';
const python = '/usr/bin/python3';
if (process.env['BASIS_SKIP_PYTHON'] === '1') note = 'PyTorch comparison skipped (BASIS_SKIP_PYTHON=1)';
else {
  let hasTorch = false;
  try {
    execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore', timeout: 120_000 });
    hasTorch = true;
  } catch {
    note = `PyTorch comparison skipped: ${python} cannot import torch (on Debian: apt-get install python3-torch)`;
  }
  if (hasTorch) {
    const dir = mkdtempSync(join(tmpdir(), 'basis-zoo-bench-'));
    try {
      for (const [name, ds] of [['train', train], ['test', test]] as const) {
        await writeNpyFile(join(dir, `${name}_x.npy`), { dtype: 'float32', shape: [ds.n, ...ds.shape], data: ds.x });
        await writeNpyFile(join(dir, `${name}_y.npy`), { dtype: 'int32', shape: [ds.n], data: ds.labels });
      }
      const script = fileURLToPath(new URL('./torch_ref.py', import.meta.url));
      const epochs = quick ? '1' : '2';
      const runTorch = async (models: string, threads: number): Promise<TorchRun> => {
        const env = { ...process.env, BASIS_TORCH_THREADS: String(threads), OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), OMP_WAIT_POLICY: 'PASSIVE' };
        const { stdout } = await execFileP(python, [script, dir, models, epochs], { env, timeout: 3_600_000, maxBuffer: 1 << 20 });
        return JSON.parse(stdout) as TorchRun;
      };
      log('PyTorch, 1 thread: MLP and MiniMyrtle(16)');
      torch1 = await runTorch('mlp,cnn', 1);
      const t2 = Number(process.env['BASIS_TORCH_THREADS'] ?? 2);
      log(`PyTorch, ${t2} threads`);
      torch2 = await runTorch('mlp,cnn', t2);
      log('PyTorch: two single-threaded MLP processes at once');
      const t = performance.now();
      const both = await Promise.all([runTorch('mlp', 1), runTorch('mlp', 1)]);
      const wall = (performance.now() - t) / 1000;
      // compare like with like: the training time of the processes, without interpreter start-up
      torchParallel = Math.max(...both.map((b) => b.mlp!.epochs.reduce((a, x) => a + x, 0))) / Number(epochs);
      log(`  (wall ${wall.toFixed(1)} s incl. start-up)`);
    } catch (e) {
      note = `PyTorch comparison failed: ${(e as Error).message.split('\n')[0]}`;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

const bestOf = (a: number[] | undefined): number | undefined => (a === undefined ? undefined : Math.min(...a));
const torchMlp1 = bestOf(torch1?.mlp?.epochs);
const torchCnn1 = bestOf(torch1?.cnn?.epochs);
const torchMlp2 = bestOf(torch2?.mlp?.epochs);
const torchCnn2 = bestOf(torch2?.cnn?.epochs);
const f = (x: number | undefined, d = 2): string => (x === undefined ? '-' : x.toFixed(d));
const ratio = (a: number, b: number | undefined): string => (b === undefined ? '-' : `${(a / b).toFixed(2)}x`);
const rows: string[][] = [
  ['measure (8,000 MNIST digits, batch 128)', 'basis wasm (s)', 'basis cpu-s', 'PyTorch 1t (s)', 'ratio', `PyTorch ${torch2?.info.threads ?? 2}t (s)`, 'ratio'],
  ['MLP 784-512-512-10 epoch', f(mlpEpoch.wall), f(mlpEpoch.cpu), f(torchMlp1), ratio(mlpEpoch.wall, torchMlp1), f(torchMlp2), ratio(mlpEpoch.wall, torchMlp2)],
  ['MiniMyrtle(16) epoch', f(cnnEpoch.wall, 1), f(cnnEpoch.cpu, 1), f(torchCnn1, 1), ratio(cnnEpoch.wall, torchCnn1), f(torchCnn2, 1), ratio(cnnEpoch.wall, torchCnn2)],
  ['2 MLP seeds x 1 epoch, sequential', f(parallel.sequential), f(parallel.sequentialCpu), f(torchMlp1 === undefined ? undefined : 2 * torchMlp1), '', '', ''],
  ['2 MLP seeds x 1 epoch, parallel (2 workers / 2 processes)', f(parallel.parallel), f(parallel.parallelCpu), f(torchParallel), ratio(parallel.parallel, torchParallel), '', ''],
];
const w = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
for (const r of rows) console.log(r.map((c, j) => (j === 0 ? c.padEnd(w[j]!) : c.padStart(w[j]!))).join('  '));
const speedup = parallel.sequential / parallel.parallel;
console.log(`\nparallel speedup of 2 seeds on the TrainPool: ${speedup.toFixed(2)}x (goal ~1.8x on 2 idle cores; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')})`);
if (torch1 !== undefined) {
  console.log(`goals: MLP epoch within 3x of PyTorch (${ratio(mlpEpoch.wall, torchMlp1)}), CNN within 4x (${ratio(cnnEpoch.wall, torchCnn1)}); PyTorch ${torch1.info.torch}, BLAS ${torch1.info.blas}, 1024^3 matmul ${torch1.info.matmulGflops.toFixed(1)} GFLOP/s on 1 thread`);
  if (torch1.info.matmulGflops < 20) {
    console.log(
      `note: this PyTorch runs matmuls at ${torch1.info.matmulGflops.toFixed(1)} GFLOP/s (BLAS '${torch1.info.blas}': Debian's python3-torch on the reference libblas3), so its dense layers are slow; ` +
        'with OpenBLAS (apt-get install libopenblas0-pthread, or LD_LIBRARY_PATH pointing at its openblas-pthread folder) its MLP epoch is several times faster',
    );
  }
}
if (note) console.log(note);
const outDir = fileURLToPath(new URL('../../../bench-results/', import.meta.url));
mkdirSync(outDir, { recursive: true });
writeFileSync(
  outDir + 'zoo.json',
  JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.versions.node,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      threads: availableParallelism(),
      loadAverage: { start: load0, end: loadavg() },
      quick,
      backend,
      data: { train: train.n, test: test.n, batchSize: 128 },
      basis: { mlpEpoch, cnnEpoch, twoSeeds: { ...parallel, speedup } },
      pytorch: torch1 === undefined ? null : { oneThread: torch1, moreThreads: torch2 ?? null, twoProcessesMlpEpoch: torchParallel ?? null },
      note: note || undefined,
    },
    null,
    2,
  ) + '\n',
);
console.log(`wrote ${outDir}zoo.json`);
