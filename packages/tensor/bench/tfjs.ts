/**
 * Benchmarks the training kernels @basis/tensor registers on the tfjs wasm backend: each operation
 * on stock tfjs-wasm, then after `applyWasmKernelFixes()` with the engine switched to WebAssembly
 * (basis' WebAssembly kernel fixes) and with the engine as found (native BLAS kernels through
 * cblas_sgemm when a BLAS loads). Writes `bench-results/tfjs.json`. BENCH_QUICK=1: small shapes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { configureEngine, engineInfo, engineSummary } from '@basis/tensor';
import { applyWasmKernelFixes, selectBackend } from '@basis/tensor/backend';
import { benchHeader, engineTag, fmtSeconds, headerLine, writeBenchResult } from '@basis/test-utils/bench';

const quick = process.env['BENCH_QUICK'] === '1';
const header = benchHeader();

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

const found = engineInfo();
await selectBackend('wasm', { wasmFixes: false });
const M = quick ? 256 : 1024;
const [B, H, C] = quick ? [8, 14, 16] : [32, 28, 32];
const a = fill([M, M]);
const b = fill([M, M]);
const x = fill([B, H, H, C]);
const filt = fill([3, 3, C, C]);
const dy = fill([B, H, H, C]);
const flops = 2 * M ** 3;
const conv = `${B}x${H}x${H}x${C}, 3x3x${C}x${C}`;
const cases: Record<string, { run: () => tf.Tensor | tf.Tensor[]; reps: number; flops?: number }> = {
  [`matmul ${M}² transposeB`]: { run: () => tf.matMul(a, b, false, true), reps: 3, flops },
  [`matmul ${M}² transposeA`]: { run: () => tf.matMul(a, b, true, false), reps: 3, flops },
  [`Conv2DBackpropInput ${conv}`]: {
    run: () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: filt }, { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', inputShape: [B, H, H, C] } as never) as tf.Tensor,
    reps: 3,
  },
  [`Conv2DBackpropFilter ${conv}`]: {
    run: () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, C, C] } as never) as tf.Tensor,
    reps: 3,
  },
};
type Time = number | string;
const timeAll = (): Record<string, Time> => {
  const out: Record<string, Time> = {};
  for (const [name, c] of Object.entries(cases)) {
    try {
      out[name] = time(c.run, c.reps);
    } catch (e) {
      out[name] = `fails: ${(e as Error).message.split('\n')[0]}`;
    }
  }
  return out;
};
const stock = timeAll();
const registered = applyWasmKernelFixes();
configureEngine({ blas: 'off' });
const wasmFixes = timeAll();
configureEngine({ blas: found.requested, threads: found.threads });
const asFound = found.provider === 'native' ? timeAll() : undefined;
const f = (t: Time | undefined): string => (t === undefined ? '-' : typeof t === 'number' ? fmtSeconds(t) : t.slice(0, 40));
const gf = (n: string, t: Time | undefined): string => (typeof t === 'number' && cases[n]?.flops !== undefined ? ` (${(cases[n]!.flops! / t / 1e9).toFixed(1)} GFLOP/s)` : '');
console.log(headerLine(header));
console.log(`tfjs-wasm training kernels (seconds, best of 3): stock tfjs-wasm; basis' WebAssembly fixes (BASIS_BLAS=off); ${asFound === undefined ? '' : `basis native kernels [${engineTag(found)}]`}`);
for (const name of Object.keys(cases)) {
  console.log(`  ${name.padEnd(44)} stock ${f(stock[name]).padStart(8)}${gf(name, stock[name])}  wasm fixes ${f(wasmFixes[name])}${gf(name, wasmFixes[name])}${asFound === undefined ? '' : `  native ${f(asFound[name])}${gf(name, asFound[name])}`}`);
}
console.log(`engine: ${engineSummary(found)}; kernels registered: ${registered.join(', ')}`);
const path = writeBenchResult('tfjs', header, { engine: found, registered, stock, wasmFixes, native: asFound ?? null });
console.log(`wrote ${path}`);
