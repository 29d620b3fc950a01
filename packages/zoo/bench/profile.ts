/**
 * Per-kernel profile of training steps on the wasm backend (batch 128):
 * `tsx --conditions=@basis/source bench/profile.ts [mlp|cnn] [steps]` (mlp: MLP 784-512-512-10,
 * the mlpMnist recipe; cnn: MiniMyrtle(16) as in the training bench). Prints the kernels by total
 * time (a profiled run) and wall/CPU milliseconds per step (an unprofiled run). BASIS_THREADS sets
 * the BLAS threads.
 */
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@basis/tensor/backend';
import { TRAINING_PRESETS, buildModel, trainModel, type TrainSettings } from '@basis/zoo';
import { loadDataSpec } from '@basis/zoo/node';
import { engineInfo } from '@basis/tensor';

const model = process.argv[2] === 'cnn' ? 'cnn' : 'mlp';
const steps = Math.min(62, Number(process.argv[3] ?? (model === 'cnn' ? 12 : 60))); // full batches of the epoch
const warm = model === 'cnn' ? 3 : 5;
await selectBackend((process.env['BASIS_BACKEND'] as 'wasm' | 'cpu' | undefined) ?? 'wasm');
const { train } = await loadDataSpec(TRAINING_PRESETS.mlpMnist.data);
const graph = model === 'mlp' ? buildModel(TRAINING_PRESETS.mlpMnist.model, { input: train.shape, classes: 10 }) : buildModel({ arch: 'minimyrtle', width: 16 }, { input: train.shape, classes: 10 });
const recipe: TrainSettings = model === 'mlp' ? { ...TRAINING_PRESETS.mlpMnist.train, epochs: 1 } : { ...TRAINING_PRESETS.miniMyrtleFashion.train, schedule: { kind: 'cosine' }, epochs: 1 };

const ctl = new AbortController();
let n = 0;
let t0 = 0;
let c0 = 0;
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const by = new Map<string, { ms: number; count: number }>();
const timed = steps - warm;
await trainModel({
  graph,
  train,
  recipe,
  signal: ctl.signal,
  onProgress: (e) => {
    if (e.kind !== 'step') return;
    n++;
    if (n === warm) {
      t0 = performance.now();
      c0 = cpu();
    }
    if (n === steps) ctl.abort();
  },
});
const wall = (performance.now() - t0) / 1000;
const c = cpu() - c0;
// a second, profiled run of the same steps (tf.profile adds overhead; used for the kernel split)
n = 0;
const ctl2 = new AbortController();
const info = await tf.profile(async () => {
  await trainModel({
    graph,
    train,
    recipe,
    signal: ctl2.signal,
    onProgress: (e) => {
      if (e.kind !== 'step') return;
      n++;
      if (n === steps) ctl2.abort();
    },
  });
});
let total = 0;
for (const k of info.kernels) {
  const e = by.get(k.name) ?? { ms: 0, count: 0 };
  const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  e.ms += ms;
  e.count += 1;
  total += ms;
  by.set(k.name, e);
}
const e = engineInfo();
console.log(`${model}, ${e.provider === 'native' ? `native ${e.coreType ?? ''} ${e.threads} thread(s)` : 'wasm'}`);
for (const [name, e] of [...by].sort((a, b) => b[1].ms - a[1].ms)) console.log(`  ${name.padEnd(28)} ${(e.ms / steps).toFixed(3).padStart(8)} ms/step  ${(e.count / steps).toFixed(1).padStart(6)} calls/step`);
console.log(`  kernels total ${(total / steps).toFixed(2)} ms/step (profiled run of ${steps} steps, includes warm-up)`);
const perStep = (wall / timed) * 1000;
console.log(
  `steps ${warm + 1}..${steps}: ${perStep.toFixed(2)} ms/step wall, ${((c / timed) * 1000).toFixed(2)} ms/step CPU; epoch of 63 steps ≈ ${((wall / timed) * 63).toFixed(2)} s`,
);
