import { describe, expect, it } from 'vitest';
import { Matrix } from '../matrix.js';
import { accumulateReflectors } from './householder.js';
import { tridiagonalizeBlocked } from './tridiag-blocked.js';
import { tql } from './tridiag-ql.js';
import { eigh } from './eigh.js';
import { gaussian, orthDefect, randomOrthogonal, rngFor, usvt, useOwnKernels } from './test-helpers.js';
import { setWasmEnabled } from './wasm-kernels.js';

useOwnKernels();

/** Runs the blocked reduction; returns Q, d, e and max |Qᵀ A Q - T| / max|A|. */
function reduce(A: Matrix): { Q: Matrix; d: Float64Array; e: Float64Array; err: number } {
  const n = A.rows;
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const betas = new Float64Array(n);
  const a0 = A.data.slice();
  const work = tridiagonalizeBlocked(a0, n, d, e, betas);
  expect(a0).toEqual(A.data); // input untouched
  const Q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) Q[i * n + i] = 1;
  if (n >= 3) accumulateReflectors(Q, n, n, n - 2, 1, work, (j) => j * n + j + 1, betas);
  const QM = new Matrix(n, n, Q);
  let top = 0;
  for (const v of A.data) top = Math.max(top, Math.abs(v));
  // Qᵀ A Q by brute force.
  let err = 0;
  const AQ = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) {
    const aik = A.data[i * n + k] as number;
    for (let j = 0; j < n; j++) AQ[i * n + j] = (AQ[i * n + j] as number) + aik * (Q[k * n + j] as number);
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += (Q[k * n + i] as number) * (AQ[k * n + j] as number);
      const t = i === j ? (d[i] as number) : Math.abs(i - j) === 1 ? (e[Math.min(i, j)] as number) : 0;
      err = Math.max(err, Math.abs(s - t));
    }
  }
  return { Q: QM, d, e, err: top === 0 ? err : err / top };
}

function symmetric(seed: string, n: number): Matrix {
  const g = gaussian(rngFor(seed), n, n);
  const s = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s.set(i, j, (g.get(i, j) + g.get(j, i)) / 2);
  return s;
}

describe('blocked tridiagonalisation', () => {
  it('Qᵀ A Q is the returned tridiagonal and Q is orthogonal (sizes around the panel width)', () => {
    for (const n of [1, 2, 3, 4, 5, 31, 32, 33, 34, 35, 64, 65, 97, 130]) {
      const { Q, err } = reduce(symmetric(`blk-${n}`, n));
      expect(err).toBeLessThan(1e-14 * Math.max(1, n));
      expect(orthDefect(Q)).toBeLessThan(1e-14 * Math.max(1, n));
    }
  });

  it('keeps the planted spectrum (checked by QL on the tridiagonal)', () => {
    const n = 70;
    const rng = rngFor('blk-planted');
    const lam = Array.from({ length: n }, (_, i) => (i < 10 ? 4 : Math.cos(i)));
    const A = usvt(randomOrthogonal(rng, n), lam, randomOrthogonal(rngFor('blk-planted'), n));
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) A.set(i, j, A.get(j, i));
    const { d, e } = reduce(A);
    tql(d, e, n, null);
    expect(d.sort()).toBeAllclose([...lam].sort((x, y) => x - y), { rtol: 0, atol: 1e-13 * n });
  });

  it('inputs that need no reflection: tridiagonal, diagonal, zero, and zero rows', () => {
    const n = 40;
    const T = new Matrix(n, n);
    for (let i = 0; i < n; i++) {
      T.set(i, i, i);
      if (i + 1 < n) {
        T.set(i, i + 1, 1);
        T.set(i + 1, i, 1);
      }
    }
    const r = reduce(T);
    expect(r.err).toBe(0);
    expect(Array.from(r.d)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(Array.from(r.e.subarray(0, n - 1)).map(Math.abs)).toEqual(new Array(n - 1).fill(1));
    expect(reduce(Matrix.diag(Array.from({ length: n }, (_, i) => i - 3))).err).toBe(0);
    expect(reduce(new Matrix(n, n)).err).toBe(0);
    const Z = symmetric('blk-zero-rows', n);
    for (const k of [0, 5, 6, 39]) for (let j = 0; j < n; j++) {
      Z.set(k, j, 0);
      Z.set(j, k, 0);
    }
    expect(reduce(Z).err).toBeLessThan(1e-14 * n);
  });

  it('is bit-identical between the WebAssembly and JavaScript kernels (and so is eigh on this path)', () => {
    const A = symmetric('blk-bits', 100);
    const run = (): Float64Array[] => {
      const n = A.rows;
      const d = new Float64Array(n);
      const e = new Float64Array(n);
      const betas = new Float64Array(n);
      const w = tridiagonalizeBlocked(A.data.slice(), n, d, e, betas);
      return [d, e, betas, w.slice(0, n * n)];
    };
    setWasmEnabled(true);
    const wasm = run();
    setWasmEnabled(false);
    const js = run();
    for (let k = 0; k < wasm.length; k++) expect(wasm[k]).toEqual(js[k]);
    const S = symmetric('blk-bits-eigh', 260); // blocked reduction + divide and conquer
    setWasmEnabled(true);
    const ew = eigh(S);
    setWasmEnabled(false);
    const ej = eigh(S);
    expect(ew.values).toEqual(ej.values);
    expect(ew.vectors.data).toEqual(ej.vectors.data);
  });
});
