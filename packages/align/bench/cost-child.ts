// Measurements for the cost-model calibration (bench/cost-calibrate.ts): time and peak memory of
// each metric (then of `compare` with all of them) on random N x dx and N x dy
// inputs, in a fresh process. Peak memory: the kernel's VmHWM reset (/proc/self/clear_refs = 5)
// after the inputs exist and the JIT is warm, then read after the call; minus the RSS before it.
// Prints one JSON line. Usage: tsx --expose-gc bench/cost-child.ts IDS N DX DY
import { readFileSync, writeFileSync } from 'node:fs';
import { Matrix } from '@basis/tensor';
import { compare } from '../src/index.js';

const [ids, n, dx, dy] = [process.argv[2]!.split(','), Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
const rand = (rows: number, cols: number, seed: number): Matrix => {
  let s = seed >>> 0;
  const m = new Matrix(rows, cols);
  for (let k = 0; k < m.data.length; k++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    m.data[k] = s / 2 ** 32 - 0.5 + (k % cols) * 0.01;
  }
  return m;
};
const status = (key: string): number => {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(m![1]) * 1024;
};
compare(rand(256, 32, 1), rand(256, 24, 2), ids); // warm-up: JIT, and the engine's (BLAS) workspaces
const X0 = rand(n, dx, 3);
const Y0 = rand(n, dy, 4);
// each id on fresh copies (metrics memoise per-matrix work on their inputs); the last entry, when
// several ids are given, is `compare` with all of them on one pair (memo shared, as in basis compare)
for (const id of ids.length > 1 ? [...ids, ids.join(',')] : ids) {
  const X = new Matrix(n, dx, Float64Array.from(X0.data));
  const Y = new Matrix(n, dy, Float64Array.from(Y0.data));
  (globalThis as { gc?: () => void }).gc?.();
  const base = status('VmRSS');
  writeFileSync('/proc/self/clear_refs', '5');
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  compare(X, Y, id.split(','));
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const seconds = (c.user + c.system) / 1e6; // CPU seconds: the machine's load does not inflate them
  const peak = status('VmHWM');
  console.log(JSON.stringify({ id, n, dx, dy, seconds, wall, peakBytes: Math.max(0, peak - base), inputBytes: 8 * n * (dx + dy) }));
}
