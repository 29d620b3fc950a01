// generalizedEigenvalues: the pencil A v = λ B v through Cholesky + L⁻¹ A L⁻ᵀ (dpotrf, dsygst and
// dsyevd on the native provider; basis' own Cholesky and blocked solves otherwise), against the
// symmetric-root reduction B^-1/2 A B^-1/2 on both engines.
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { configureEngine, engineInfo, nativeLib } from '../engine/engine.js';
import { lapackPotrf, lapackSygst } from '../engine/lapack.js';
import { Matrix } from '../matrix.js';
import { gram, matmul } from './basic.js';
import { eigh } from './eigh.js';
import { generalizedEigenvalues } from './generalized.js';
import { invSqrtmSpd } from './spd.js';
import { expectCode, gaussian, rngFor } from './test-helpers.js';

const initial = engineInfo().requested;
afterEach(() => void configureEngine({ blas: initial }));
const engines = (): ('auto' | 'off')[] => (process.env['BASIS_BLAS'] === 'off' || nativeLib() === null ? ['off'] : ['auto', 'off']);

function symmetric(seed: string, n: number): Matrix {
  const G = gaussian(rngFor(seed), n, n);
  return new Matrix(n, n, G.data.map((_, k) => G.data[k]! + G.data[(k % n) * n + Math.floor(k / n)]!));
}

function spd(seed: string, n: number, ridge = 0.5): Matrix {
  const S = gram(gaussian(rngFor(seed), n + 2, n));
  for (let i = 0; i < n; i++) S.set(i, i, S.get(i, i) + ridge);
  return S;
}

/** The eigenvalues of B^-1/2 A B^-1/2, ascending. */
function reference(A: Matrix, B: Matrix): Float64Array {
  const W = invSqrtmSpd(B);
  return eigh(matmul(matmul(W, A), W), { vectors: false }).values.reverse();
}

function close(got: Float64Array, want: Float64Array, rtol: number): void {
  expect(got.length).toBe(want.length);
  let top = 0;
  for (const v of want) top = Math.max(top, Math.abs(v));
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!), `eigenvalue ${i}`).toBeLessThanOrEqual(rtol * top);
}

describe('generalizedEigenvalues', () => {
  it('a diagonal pencil, and ascending order', () => {
    for (const blas of engines()) {
      configureEngine({ blas });
      close(generalizedEigenvalues([[2, 0], [0, 3]], [[1, 0], [0, 2]]), Float64Array.from([1.5, 2]), 1e-15);
      close(generalizedEigenvalues([[5]], [[2]]), Float64Array.from([2.5]), 1e-15);
      close(generalizedEigenvalues([[0, 1], [1, 0]], [[4, 0], [0, 1]]), Float64Array.from([-0.5, 0.5]), 1e-15);
      expectCode(() => generalizedEigenvalues(new Matrix(0, 0), new Matrix(0, 0)), 'TOO_SMALL');
    }
  });

  it('equals the symmetric-root reduction on both engines, below and above the native crossover and the block size', () => {
    for (const n of [1, 3, 31, 33, 47, 49, 100, 150]) {
      const A = symmetric(`ga-${n}`, n);
      const B = spd(`gb-${n}`, n);
      const want = reference(A, B);
      for (const blas of engines()) {
        configureEngine({ blas });
        close(generalizedEigenvalues(A, B), want, 1e-11);
      }
    }
  });

  it('is invariant to congruence (Pᵀ A P, Pᵀ B P) and scales with A and inversely with B (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 24 }), fc.nat(), fc.double({ min: 0.01, max: 100, noNaN: true }), (n, seed, c) => {
        const A = symmetric(`pa-${seed}`, n);
        const B = spd(`pb-${seed}`, n);
        const base = generalizedEigenvalues(A, B);
        const P = gaussian(rngFor(`pp-${seed}`), n, n);
        for (let i = 0; i < n; i++) P.set(i, i, P.get(i, i) + 3 * Math.sqrt(n)); // well conditioned
        const Pt = P.transpose();
        close(generalizedEigenvalues(matmul(matmul(Pt, A), P), matmul(matmul(Pt, B), P)), base, 1e-9);
        close(generalizedEigenvalues(new Matrix(n, n, A.data.map((v) => v * c)), B), base.map((v) => v * c), 1e-12);
        close(generalizedEigenvalues(A, new Matrix(n, n, B.data.map((v) => v * c))), base.map((v) => v / c), 1e-12);
      }),
      { numRuns: 15 },
    );
  }, 180_000);

  it('rejects a B that is not positive definite, different sizes, asymmetry and non-finite entries', () => {
    for (const blas of engines()) {
      configureEngine({ blas });
      for (const n of [3, 40]) {
        const B = spd(`bad-${n}`, n);
        B.set(n - 1, n - 1, -1);
        expect(expectCode(() => generalizedEigenvalues(symmetric('x', n), B), 'RANK_DEFICIENT')).toMatch(/B is not positive definite: pivot \d+/);
      }
      expectCode(() => generalizedEigenvalues(symmetric('x', 3), spd('y', 4)), 'SHAPE_MISMATCH');
      expectCode(() => generalizedEigenvalues([[1, 2], [0, 1]], [[1, 0], [0, 1]]), 'INVALID_ARGUMENT');
      expectCode(() => generalizedEigenvalues([[1, NaN], [NaN, 1]], [[1, 0], [0, 1]]), 'NON_FINITE_INPUT');
      expectCode(() => generalizedEigenvalues([[1, 0], [0, 1]], [[1, 0], [0, Infinity]]), 'NON_FINITE_INPUT');
      expectCode(() => generalizedEigenvalues([[1, 0, 0]], [[1]]), 'SHAPE_MISMATCH');
    }
  });

  it.skipIf(process.env['BASIS_BLAS'] === 'off')('the dsygst wrapper checks buffers, leading dimensions and finiteness before the call', () => {
    configureEngine({ blas: 'auto' });
    const lib = nativeLib();
    if (lib === null) return;
    const B = spd('w', 4).data.slice();
    expect(lapackPotrf(lib, B, 4)).toBe(0);
    expect(() => lapackSygst(lib, new Float64Array(15), B, 4)).toThrow(/A needs 16 elements/);
    expect(() => lapackSygst(lib, new Float64Array(16), B.subarray(0, 12), 4)).toThrow(/B needs 16 elements/);
    expect(() => lapackSygst(lib, new Float64Array(16).fill(NaN), B, 4)).toThrow(/holds NaN/);
    if (!lib.int64) expect(() => lapackSygst(lib, new Float64Array(16), B, 2 ** 31)).toThrow(/does not fit the 32-bit integers/);
  });
});
