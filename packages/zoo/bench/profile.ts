/**
 * Per-kernel profile of MLP 784-512-512-10 training steps on the wasm backend (batch 128, the
 * mlpMnist recipe): `tsx --conditions=@basis/source bench/profile.ts [steps]`. Prints the kernels by
 * total time, the time spent outside kernels, and wall/CPU seconds per step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@basis/tensor/backend';
import { RECIPES, buildModel, trainModel } from '@basis/zoo';
import { loadDataSpec } from '@basis/zoo/node';

const steps = Number(process.argv[2] ?? 40);
await selectBackend((process.env['BASIS_BACKEND'] as 'wasm' | 'cpu' | undefined) ?? 'wasm');
const { train } = await loadDataSpec(RECIPES.mlpMnist.data);
const graph = buildModel(RECIPES.mlpMnist.model, { input: train.shape, classes: 10 });
const ctl = new AbortController();
let n = 0;
let t0 = 0;
let c0 = 0;
const cpu = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const info = await tf.profile(async () => {
  await trainModel({
    graph,
    train,
    recipe: { ...RECIPES.mlpMnist.train, epochs: 1 },
    signal: ctl.signal,
    onProgress: (e) => {
      if (e.kind !== 'step') return;
      n++;
      if (n === 5) { t0 = performance.now(); c0 = cpu(); }
      if (n === steps) ctl.abort();
    },
  });
});
const wall = (performance.now() - t0) / 1000;
const c = cpu() - c0;
const by = new Map<string, { ms: number; count: number }>();
let total = 0;
for (const k of info.kernels) {
  const e = by.get(k.name) ?? { ms: 0, count: 0 };
  const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  e.ms += ms;
  e.count += 1;
  total += ms;
  by.set(k.name, e);
}
const rows = [...by].sort((a, b) => b[1].ms - a[1].ms);
for (const [name, e] of rows) console.log(`${name.padEnd(28)} ${(e.ms / steps).toFixed(3).padStart(8)} ms/step  ${(e.count / steps).toFixed(1).padStart(6)} calls/step`);
console.log(`kernels total ${(total / steps).toFixed(2)} ms/step over ${steps} steps (profiled; includes warm-up)`);
console.log(`steps 5..${steps}: ${((wall / (steps - 5)) * 1000).toFixed(2)} ms/step wall, ${((c / (steps - 5)) * 1000).toFixed(2)} ms/step CPU; epoch of 63 steps ≈ ${((wall / (steps - 5)) * 63).toFixed(2)} s`);
