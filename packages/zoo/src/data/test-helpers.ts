// Shared fixtures of the data tests (excluded from the build).
import { classificationDataset } from './dataset.js';
import type { ClassificationDataset, Normalization } from './types.js';

/** Sum of the values of example i. */
export function exampleSum(x: Float32Array, size: number, i: number): number {
  let s = 0;
  for (let k = 0; k < size; k++) s += x[i * size + k]!;
  return s;
}

/** A small image dataset of deterministic patterns in the unit scale. */
export function toyImages(n: number, opts: { C?: number; H?: number; W?: number; normalization?: Normalization; fill?: (i: number, c: number, y: number, x: number) => number } = {}): ClassificationDataset {
  const C = opts.C ?? 1;
  const H = opts.H ?? 8;
  const W = opts.W ?? 8;
  const fill = opts.fill ?? ((i, c, y, x) => ((i * 7 + c * 3 + y * 5 + x * 11) % 17) / 16);
  const x = new Float32Array(n * C * H * W);
  for (let i = 0; i < n; i++) for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++) x[((i * C + c) * H + y) * W + xx] = fill(i, c, y, xx);
  return classificationDataset({
    name: 'toy',
    source: 'mnist',
    x,
    shape: [C, H, W],
    labels: Array.from({ length: n }, (_, i) => i % 3),
    numClasses: 3,
    normalization: opts.normalization ?? { kind: 'unit' },
  });
}

/** Byte-wise equality of two typed arrays (fast; vitest's deep equality is slow on millions of values). */
export function sameValues(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.constructor === b.constructor && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
