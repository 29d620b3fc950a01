/**
 * One basis side of the training bench (bench/run.ts starts it once per configuration, so each
 * gets a fresh process, engine and JIT): epoch times of MLP 784-512-512-10 and MiniMyrtle(16) on
 * the 8,000 training digits of the 10k MNIST set, batch 128, on the tfjs wasm backend with
 * whatever kernels @basis/tensor registers (native BLAS training kernels when the engine is
 * native; BASIS_BLAS=off: its WebAssembly kernel fixes; BENCH_WASM_FIXES=0: stock tfjs-wasm).
 *
 * usage: train-epochs.ts MODELS EPOCHS [MAX_STEPS]   (MODELS: comma list of mlp, cnn; EPOCHS: one
 * count for all, or a comma list, one per model)
 * With MAX_STEPS (a comma list, one per model), steps 3..MAX_STEPS are timed and extrapolated to an
 * epoch (quick mode).
 * Prints one JSON line: engine, backend, and per model the epoch timings or the error.
 */
import { engineInfo } from '@basis/tensor';
import { selectBackend } from '@basis/tensor/backend';
import { TRAINING_PRESETS, buildModel, evaluateModel, paramsToTensors, trainModel, type TrainSettings } from '@basis/zoo';
import { loadDataSpec } from '@basis/zoo/node';
import { cpuSeconds } from '@basis/test-utils/bench';

const [models = 'mlp,cnn', epochsArg = '2', maxStepsArg] = process.argv.slice(2);
const epochsOf = (i: number): number => Number(epochsArg.split(',')[Math.min(i, epochsArg.split(',').length - 1)]);
const maxStepsOf = (i: number): number | undefined => (maxStepsArg === undefined ? undefined : Number(maxStepsArg.split(',')[i]));
const backend = await selectBackend('wasm', { wasmFixes: process.env['BENCH_WASM_FIXES'] !== '0' });
const { train, test } = await loadDataSpec(TRAINING_PRESETS.mlpMnist.data);
const stepsPerEpoch = Math.ceil(train.n / 128);

/** Seconds per epoch (the best epoch after the first, which includes kernel compilation and warm-up). */
interface EpochTiming {
  wall: number;
  cpu: number;
  epochs: number[];
  /** true when extrapolated from MAX_STEPS steps */
  extrapolated: boolean;
  testAccuracy: number | null;
}

async function timeEpochs(graph: ReturnType<typeof buildModel>, recipe: TrainSettings, maxSteps: number | undefined): Promise<EpochTiming> {
  const walls: number[] = [];
  const cpus: number[] = [];
  let t = performance.now();
  let c = cpuSeconds();
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
        if (maxSteps !== undefined && steps === 2) {
          t = performance.now();
          c = cpuSeconds();
        }
        if (maxSteps !== undefined && steps === maxSteps) {
          const k = stepsPerEpoch / (maxSteps - 2);
          walls.push(((performance.now() - t) / 1000) * k);
          cpus.push((cpuSeconds() - c) * k);
          ctl.abort();
        }
      }
      if (e.kind === 'epoch' && maxSteps === undefined) {
        walls.push((performance.now() - t) / 1000);
        cpus.push(cpuSeconds() - c);
        t = performance.now();
        c = cpuSeconds();
      }
    },
  });
  // the best warm epoch: the first of the process (kernel compilation, JIT) is left out when there are more
  const warm = walls.length > 1 ? walls.slice(1) : walls;
  const best = walls.indexOf(Math.min(...warm), walls.length > 1 ? 1 : 0);
  let testAccuracy: number | null = null;
  if (maxSteps === undefined) {
    const params = paramsToTensors(r.params);
    testAccuracy = evaluateModel(graph, params, test).accuracy;
    Object.values(params).forEach((p) => p.dispose());
  }
  return { wall: walls[best] ?? Number.NaN, cpu: cpus[best] ?? Number.NaN, epochs: walls, extrapolated: maxSteps !== undefined, testAccuracy };
}

const out: Record<string, unknown> = { engine: engineInfo(), backend, train: train.n, test: test.n };
for (const [i, m] of models.split(',').entries()) {
  const graph = m === 'mlp' ? buildModel(TRAINING_PRESETS.mlpMnist.model, { input: train.shape, classes: 10 }) : buildModel({ arch: 'minimyrtle', width: 16 }, { input: train.shape, classes: 10 });
  const recipe: TrainSettings = m === 'mlp' ? { ...TRAINING_PRESETS.mlpMnist.train, epochs: epochsOf(i) } : { ...TRAINING_PRESETS.miniMyrtleFashion.train, schedule: { kind: 'cosine' }, epochs: epochsOf(i) };
  try {
    out[m] = await timeEpochs(graph, recipe, maxStepsOf(i));
  } catch (e) {
    out[m] = { error: (e as Error).message.split('\n')[0] };
  }
  process.stderr.write(`    ${m}: ${JSON.stringify(out[m])}\n`);
}
out['engineAfter'] = engineInfo();
console.log(JSON.stringify(out));
