// Shared helpers for the linalg tests (excluded from the build).
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { configureEngine, engineInfo } from '../engine/engine.js';
import { isBasisError } from '../errors.js';
import type { BasisErrorCode } from '../errors.js';
import { Matrix } from '../matrix.js';
import { createRng } from '../index.js';
import type { Rng } from '../index.js';
import { setWasmEnabled } from './wasm-kernels.js';

/**
 * For a test file that compares basis' own kernels (WebAssembly against JavaScript): keeps the
 * native provider out of the way while its tests run (the native path is tested against them
 * elsewhere) and turns the WebAssembly kernels back on after each test.
 */
export function useOwnKernels(): void {
  afterEach(() => setWasmEnabled(true));
  let requested = 'auto';
  beforeAll(() => {
    requested = engineInfo().requested;
    configureEngine({ blas: 'off' });
  });
  afterAll(() => configureEngine({ blas: requested }));
}

/** Runs f with basis' WebAssembly kernels, then with their JavaScript fallbacks (the kernels are on again after). */
export function onWasmAndJs<T>(f: () => T): { wasm: T; js: T } {
  setWasmEnabled(true);
  const wasm = f();
  setWasmEnabled(false);
  const js = f();
  setWasmEnabled(true);
  return { wasm, js };
}

export function gaussian(rng: Rng, m: number, n: number, scale = 1): Matrix {
  const a = new Matrix(m, n);
  for (let k = 0; k < a.data.length; k++) a.data[k] = scale * rng.normal();
  return a;
}

export function rngFor(seed: number | string): Rng {
  return createRng(seed);
}

/** Textbook triple loop, the brute-force reference for products. */
export function naiveMatmul(A: Matrix, B: Matrix): Matrix {
  const C = new Matrix(A.rows, B.cols);
  for (let i = 0; i < A.rows; i++) {
    for (let j = 0; j < B.cols; j++) {
      let s = 0;
      for (let k = 0; k < A.cols; k++) s += A.get(i, k) * B.get(k, j);
      C.set(i, j, s);
    }
  }
  return C;
}

export function maxAbsDiff(a: Matrix, b: Matrix): number {
  expect([a.rows, a.cols]).toEqual([b.rows, b.cols]);
  let d = 0;
  for (let k = 0; k < a.data.length; k++) d = Math.max(d, Math.abs((a.data[k] as number) - (b.data[k] as number)));
  return d;
}

export function maxAbs(a: Matrix): number {
  let d = 0;
  for (let k = 0; k < a.data.length; k++) d = Math.max(d, Math.abs(a.data[k] as number));
  return d;
}

/** max |XᵀX - I| over the columns of X. */
export function orthDefect(X: Matrix): number {
  const G = naiveMatmul(X.transpose(), X);
  let d = 0;
  for (let i = 0; i < G.rows; i++) for (let j = 0; j < G.cols; j++) d = Math.max(d, Math.abs(G.get(i, j) - (i === j ? 1 : 0)));
  return d;
}

/** U diag(s) Vᵀ. */
export function usvt(U: Matrix, s: ArrayLike<number>, V: Matrix): Matrix {
  const US = U.clone();
  for (let i = 0; i < US.rows; i++) for (let j = 0; j < US.cols; j++) US.set(i, j, US.get(i, j) * (s[j] as number));
  return naiveMatmul(US, V.transpose());
}

/** A Haar-like orthogonal matrix from Gram–Schmidt of a Gaussian (test-local, independent code). */
export function randomOrthogonal(rng: Rng, n: number): Matrix {
  const q = gaussian(rng, n, n);
  for (let j = 0; j < n; j++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += q.get(i, k) * q.get(i, j);
        for (let i = 0; i < n; i++) q.set(i, j, q.get(i, j) - dot * q.get(i, k));
      }
    }
    let nrm = 0;
    for (let i = 0; i < n; i++) nrm += q.get(i, j) ** 2;
    nrm = Math.sqrt(nrm);
    for (let i = 0; i < n; i++) q.set(i, j, q.get(i, j) / nrm);
  }
  return q;
}

/** Runs fn and asserts it throws a BasisError with the given code; returns the message. */
export function expectCode(fn: () => unknown, code: BasisErrorCode): string {
  try {
    fn();
  } catch (e) {
    if (!isBasisError(e)) throw e;
    expect(e.code).toBe(code);
    return e.message;
  }
  throw new Error(`expected BasisError ${code}, but nothing was thrown`);
}

/** Largest-|.| entry of each column is positive (first index on ties). */
export function columnsSignNormalised(X: Matrix): boolean {
  for (let j = 0; j < X.cols; j++) {
    let best = -1;
    let val = 0;
    for (let i = 0; i < X.rows; i++) {
      const v = X.get(i, j);
      if (Math.abs(v) > best) {
        best = Math.abs(v);
        val = v;
      }
    }
    if (val < 0) return false;
  }
  return true;
}
