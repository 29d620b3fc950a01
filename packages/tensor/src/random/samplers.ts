import { BasisError } from '../errors.js';
import { Matrix } from '../matrix.js';
import type { Rng } from './rng.js';

function checkCount(n: number, name: string, min = 0): void {
  if (!Number.isInteger(n) || n < min) {
    throw new BasisError('INVALID_ARGUMENT', `${name} must be an integer >= ${min}, got ${n}`);
  }
}

/**
 * A uniformly random permutation of 0..n-1 (Fisher–Yates).
 *
 * @example
 * ```ts
 * permutation(5, createRng(1)); // e.g. Int32Array [3, 0, 4, 1, 2]
 * ```
 */
export function permutation(n: number, rng: Rng): Int32Array {
  checkCount(n, 'n');
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return shuffle(p, rng);
}

/** Shuffles an array or typed array in place (Fisher–Yates) and returns it. */
export function shuffle<T extends { length: number; [i: number]: unknown }>(a: T, rng: Rng): T {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/** A rows x cols matrix of independent standard normals. */
export function randn(rows: number, cols: number, rng: Rng): Matrix {
  checkCount(rows, 'rows');
  checkCount(cols, 'cols');
  const m = new Matrix(rows, cols);
  for (let k = 0; k < m.data.length; k++) m.data[k] = rng.normal();
  return m;
}

/** A rows x cols matrix of independent uniforms in [0, 1). */
export function rand(rows: number, cols: number, rng: Rng): Matrix {
  checkCount(rows, 'rows');
  checkCount(cols, 'cols');
  const m = new Matrix(rows, cols);
  for (let k = 0; k < m.data.length; k++) m.data[k] = rng.uniform();
  return m;
}

/** n independent random signs (±1). */
export function randomSigns(n: number, rng: Rng): Float64Array {
  checkCount(n, 'n');
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(2) === 0 ? -1 : 1;
  return out;
}

/**
 * n positive scales `exp(sigma * z)`, z standard normal: the diagonal of a random element of the
 * positive-scaling group (e.g. G_ReLU).
 */
export function lognormalDiagonal(n: number, rng: Rng, opts: { sigma?: number } = {}): Float64Array {
  checkCount(n, 'n');
  const sigma = opts.sigma ?? 1;
  if (!Number.isFinite(sigma) || sigma < 0) {
    throw new BasisError('INVALID_ARGUMENT', `sigma must be finite and >= 0, got ${sigma}`);
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.exp(sigma * rng.normal());
  return out;
}

/** k distinct indices drawn uniformly from 0..n-1, in draw order. */
export function sampleWithoutReplacement(n: number, k: number, rng: Rng): Int32Array {
  checkCount(n, 'n');
  checkCount(k, 'k');
  if (k > n) throw new BasisError('INVALID_ARGUMENT', `cannot draw ${k} distinct indices from ${n}`);
  const pool = new Int32Array(n);
  for (let i = 0; i < n; i++) pool[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const t = pool[i] as number;
    pool[i] = pool[j] as number;
    pool[j] = t;
  }
  return pool.slice(0, k);
}
