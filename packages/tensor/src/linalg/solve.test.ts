import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Matrix } from '../matrix.js';
import { matmul } from './basic.js';
import { lstsq, pinv, rank } from './lstsq.js';
import { determinant, solve } from './lu.js';
import { expectCode, gaussian, maxAbsDiff, naiveMatmul, rngFor } from './test-helpers.js';

/** Cofactor expansion: the brute-force determinant for tiny matrices. */
function cofactorDet(A: number[][]): number {
  const n = A.length;
  if (n === 1) return (A[0] as number[])[0] as number;
  let det = 0;
  for (let j = 0; j < n; j++) {
    const minor = A.slice(1).map((row) => row.filter((_, c) => c !== j));
    det += (j % 2 === 0 ? 1 : -1) * ((A[0] as number[])[j] as number) * cofactorDet(minor);
  }
  return det;
}

describe('solve', () => {
  it('recovers planted solutions (matrix and vector right-hand sides)', () => {
    const rng = rngFor('solve');
    for (const n of [1, 2, 5, 20]) {
      const A = gaussian(rng, n, n);
      const X = gaussian(rng, n, 3);
      const B = matmul(A, X);
      expect(solve(A, B)).toBeAllclose(X, { rtol: 1e-9, atol: 1e-9 });
      const x = Array.from({ length: n }, () => rng.normal());
      const b = Array.from({ length: n }, (_, i) => x.reduce((s, xj, j) => s + A.get(i, j) * xj, 0));
      const got = solve(A, b);
      expect(got).toBeInstanceOf(Float64Array);
      expect(got).toBeAllclose(x, { rtol: 1e-9, atol: 1e-9 });
    }
  });

  it('needs pivoting: a zero leading entry', () => {
    expect(solve([[0, 1], [1, 0]], [2, 3])).toBeAllclose([3, 2], { atol: 0 });
  });

  it('singular matrices are RANK_DEFICIENT', () => {
    const msg = expectCode(() => solve([[1, 2], [2, 4]], [1, 2]), 'RANK_DEFICIENT');
    expect(msg).toMatch(/pivot 1/);
    expectCode(() => solve(new Matrix(3, 3), [1, 2, 3]), 'RANK_DEFICIENT');
  });

  it('rejects bad shapes and values', () => {
    expectCode(() => solve([[1, 2]], [1]), 'SHAPE_MISMATCH');
    expectCode(() => solve([[1, 0], [0, 1]], [1, 2, 3]), 'SHAPE_MISMATCH');
    expectCode(() => solve([[1, 0], [0, NaN]], [1, 2]), 'NON_FINITE_INPUT');
    expectCode(() => solve([[1, 0], [0, 1]], [1, Infinity]), 'NON_FINITE_INPUT');
    expectCode(() => solve(new Matrix(0, 0), new Matrix(0, 1)), 'TOO_SMALL');
  });
});

describe('determinant', () => {
  it('matches cofactor expansion and is multiplicative', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.nat(), (n, seed) => {
        const rng = rngFor(seed);
        const A = gaussian(rng, n, n);
        const B = gaussian(rng, n, n);
        const d = determinant(A);
        const ref = cofactorDet(A.toArray());
        expect(Math.abs(d - ref)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(ref)) * 10);
        const dab = determinant(matmul(A, B));
        expect(Math.abs(dab - d * determinant(B))).toBeLessThanOrEqual(1e-10 * Math.max(1, Math.abs(dab)));
      }),
      { numRuns: 50 },
    );
  });

  it('exact small cases', () => {
    expect(determinant([[1, 2], [3, 4]])).toBeCloseTo(-2, 14);
    expect(determinant([[0, 1], [1, 0]])).toBe(-1);
    expect(determinant(new Matrix(3, 3))).toBe(0);
    expect(determinant(Matrix.identity(7))).toBe(1);
    expectCode(() => determinant([[1, 2, 3]]), 'SHAPE_MISMATCH');
  });
});

describe('rank, pinv and lstsq', () => {
  it('rank with default, relative and absolute tolerances', () => {
    const rng = rngFor('rank');
    const A = matmul(gaussian(rng, 12, 4), gaussian(rng, 4, 9));
    expect(rank(A)).toBe(4);
    expect(rank(A.transpose())).toBe(4);
    expect(rank(new Matrix(3, 3))).toBe(0);
    expect(rank([[1, 0], [0, 1e-3]])).toBe(2);
    expect(rank([[1, 0], [0, 1e-3]], { rtol: 1e-2 })).toBe(1);
    expect(rank([[1, 0], [0, 1e-3]], { atol: 2 })).toBe(0);
    expect(rank([[1, 0], [0, 1e-3]], { atol: 1e-4, rtol: 1e-2 })).toBe(1);
    expectCode(() => rank([[1]], { rtol: -1 }), 'INVALID_ARGUMENT');
    expectCode(() => rank([[1]], { atol: NaN }), 'INVALID_ARGUMENT');
  });

  it('pinv satisfies the four Penrose identities (tall, wide, rank-deficient)', () => {
    const rng = rngFor('pinv');
    const cases = [gaussian(rng, 7, 4), gaussian(rng, 4, 7), matmul(gaussian(rng, 8, 3), gaussian(rng, 3, 6)), new Matrix(2, 3)];
    for (const A of cases) {
      const P = pinv(A);
      expect(P.shape).toEqual([A.cols, A.rows]);
      const tol = 1e-12;
      expect(maxAbsDiff(naiveMatmul(naiveMatmul(A, P), A), A)).toBeLessThan(tol * 10);
      expect(maxAbsDiff(naiveMatmul(naiveMatmul(P, A), P), P)).toBeLessThan(tol * 10);
      const AP = naiveMatmul(A, P);
      const PA = naiveMatmul(P, A);
      expect(maxAbsDiff(AP, AP.transpose())).toBeLessThan(tol);
      expect(maxAbsDiff(PA, PA.transpose())).toBeLessThan(tol);
    }
  });

  it('pinv of an invertible matrix is its inverse', () => {
    const A = gaussian(rngFor('pinv-inv'), 6, 6);
    expect(naiveMatmul(A, pinv(A))).toBeAllclose(Matrix.identity(6), { atol: 1e-12 });
  });

  it('lstsq: overdetermined full rank matches the normal equations', () => {
    const rng = rngFor('lstsq');
    const A = gaussian(rng, 30, 4);
    const b = Array.from({ length: 30 }, () => rng.normal());
    const r = lstsq(A, b);
    const AtA = naiveMatmul(A.transpose(), A);
    const Atb = naiveMatmul(A.transpose(), Matrix.column(b));
    expect(r.x).toBeAllclose(solve(AtA, Atb).data, { rtol: 1e-10, atol: 1e-10 });
    expect(r.rank).toBe(4);
    const res = naiveMatmul(A, Matrix.column(r.x));
    let ss = 0;
    for (let i = 0; i < 30; i++) ss += (res.get(i, 0) - (b[i] as number)) ** 2;
    expect((r.residuals[0] as number) / ss).toBeCloseTo(1, 10);
  });

  it('lstsq: minimum-norm solution for rank-deficient and underdetermined systems equals pinv(A) B', () => {
    const rng = rngFor('lstsq-minnorm');
    for (const A of [gaussian(rng, 3, 8), matmul(gaussian(rng, 10, 2), gaussian(rng, 2, 5))]) {
      const B = gaussian(rng, A.rows, 2);
      const r = lstsq(A, B);
      expect(r.x).toBeAllclose(naiveMatmul(pinv(A), B), { rtol: 1e-10, atol: 1e-10 });
      // x is orthogonal to the null space: x = pinv(A) A x.
      expect(naiveMatmul(naiveMatmul(pinv(A), A), r.x)).toBeAllclose(r.x, { atol: 1e-10 });
    }
    // Underdetermined consistent system: zero residual.
    const A = gaussian(rng, 3, 8);
    const x0 = gaussian(rng, 8, 1);
    const r = lstsq(A, naiveMatmul(A, x0));
    expect(r.residuals[0] as number).toBeLessThan(1e-24);
    expect(r.rank).toBe(3);
  });

  it('lstsq rejects mismatched shapes', () => {
    expectCode(() => lstsq([[1, 2], [3, 4]], [1, 2, 3]), 'SHAPE_MISMATCH');
    expectCode(() => lstsq([[1, 2], [3, 4]], [1, NaN]), 'NON_FINITE_INPUT');
    expectCode(() => pinv(new Matrix(0, 0)), 'TOO_SMALL');
  });
});
