// Shared helpers for the solver tests (excluded from the build): seeded uniform test data.
import { Matrix } from '../matrix.js';
import { createRng } from '../random/rng.js';

/** Uniform [0, 1) test data from the project's seeded generator. */
export const uniformSource = (seed: number): (() => number) => {
  const g = createRng(seed);
  return () => g.uniform();
};

/** An m x n matrix of entries `lo` + uniform [0, 1). */
export function uniformMatrix(m: number, n: number, seed: number, lo = 0): Matrix {
  const r = uniformSource(seed);
  const M = new Matrix(m, n);
  for (let k = 0; k < m * n; k++) M.data[k] = lo + r();
  return M;
}

/** A point of the probability simplex with every entry well inside (0.05 + uniform, normalised). */
export function randomSimplex(n: number, seed: number): Float64Array {
  const r = uniformSource(seed);
  const x = new Float64Array(n).map(() => 0.05 + r());
  const s = x.reduce((p, q) => p + q, 0);
  return x.map((v) => v / s);
}
