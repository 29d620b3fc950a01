/**
 * Benchmarks the tfjs wasm kernel fixes of @basis/tensor: each operation on the stock wasm
 * backend, then with `applyWasmKernelFixes()`. Appends to `bench-results/tfjs.json`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { applyWasmKernelFixes, selectBackend } from '@basis/tensor/backend';

function fill(shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  let s = 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = s / 2 ** 32 - 0.5;
  }
  return tf.tensor(v, shape);
}

function time(f: () => tf.Tensor | tf.Tensor[], reps: number): number {
  const run = () => {
    const out = f();
    for (const t of Array.isArray(out) ? out : [out]) {
      t.dataSync();
      t.dispose();
    }
  };
  run();
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    run();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

await selectBackend('wasm', { wasmFixes: false });
const a = fill([1024, 1024]);
const b = fill([1024, 1024]);
const x = fill([32, 28, 28, 32]);
const filt = fill([3, 3, 32, 32]);
const dy = fill([32, 28, 28, 32]);
const flops = 2 * 1024 ** 3;
const cases: Record<string, { stock: () => tf.Tensor | tf.Tensor[]; reps: number; flops?: number }> = {
  'matmul 1024² transposeB': { stock: () => tf.matMul(a, b, false, true), reps: 3, flops },
  'matmul 1024² transposeA': { stock: () => tf.matMul(a, b, true, false), reps: 3, flops },
  'Conv2DBackpropInput 32x28x28x32, 3x3x32x32': {
    stock: () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: filt }, { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', inputShape: [32, 28, 28, 32] } as never) as tf.Tensor,
    reps: 3,
  },
  'Conv2DBackpropFilter 32x28x28x32, 3x3x32x32': {
    stock: () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 32, 32] } as never) as tf.Tensor,
    reps: 3,
  },
};
const results: Record<string, { stock: number | string; fixed: number; speedup?: number; gflopsStock?: number; gflopsFixed?: number }> = {};
const stock: Record<string, number | string> = {};
for (const [name, c] of Object.entries(cases)) {
  try {
    stock[name] = time(c.stock, c.reps);
  } catch (e) {
    stock[name] = `fails: ${(e as Error).message.split('\n')[0]}`;
  }
}
applyWasmKernelFixes();
for (const [name, c] of Object.entries(cases)) {
  const fixed = time(c.stock, c.reps);
  const s = stock[name]!;
  results[name] = {
    stock: s,
    fixed,
    ...(typeof s === 'number' ? { speedup: s / fixed } : {}),
    ...(c.flops !== undefined && typeof s === 'number' ? { gflopsStock: c.flops / s / 1e9, gflopsFixed: c.flops / fixed / 1e9 } : {}),
  };
}
console.log('wasm kernel fixes (seconds, best of 3):');
for (const [name, r] of Object.entries(results)) {
  const st = typeof r.stock === 'number' ? r.stock.toFixed(3) : r.stock;
  console.log(`  ${name.padEnd(44)} stock ${st.padStart(8)}  fixed ${r.fixed.toFixed(3)}${r.speedup ? `  (${r.speedup.toFixed(1)}x)` : ''}${r.gflopsFixed ? `  ${r.gflopsStock!.toFixed(1)} -> ${r.gflopsFixed.toFixed(1)} GFLOP/s` : ''}`);
}
const outDir = fileURLToPath(new URL('../../../bench-results/', import.meta.url));
mkdirSync(outDir, { recursive: true });
writeFileSync(outDir + 'tfjs.json', JSON.stringify({ date: new Date().toISOString(), results }, null, 2) + '\n');
console.log(`wrote ${outDir}tfjs.json`);
