import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Matrix } from '../matrix.js';
import { gram } from './basic.js';
import { cholesky, invSqrtmSpd, sqrtmSpd } from './spd.js';
import { expectCode, gaussian, maxAbsDiff, naiveMatmul, rngFor } from './test-helpers.js';

function randomSpd(seed: number | string, n: number, ridge = 0.1): Matrix {
  const X = gaussian(rngFor(seed), n + 3, n);
  const S = gram(X);
  for (let i = 0; i < n; i++) S.set(i, i, S.get(i, i) + ridge);
  return S;
}

describe('cholesky', () => {
  it('L Lᵀ = S with L lower triangular and a positive diagonal', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.nat(), (n, seed) => {
        const S = randomSpd(seed, n);
        const L = cholesky(S);
        for (let i = 0; i < n; i++) {
          expect(L.get(i, i)).toBeGreaterThan(0);
          for (let j = i + 1; j < n; j++) expect(L.get(i, j)).toBe(0);
        }
        expect(maxAbsDiff(naiveMatmul(L, L.transpose()), S)).toBeLessThan(1e-12 * Math.max(1, S.get(0, 0)) * n);
      }),
      { numRuns: 40 },
    );
  });

  it('exact small case', () => {
    expect(cholesky([[4, 2], [2, 5]]).toArray()).toEqual([
      [2, 0],
      [1, 2],
    ]);
  });

  it('names the failing pivot when S is not positive definite', () => {
    expect(expectCode(() => cholesky([[1, 2], [2, 1]]), 'RANK_DEFICIENT')).toMatch(/pivot 1/);
    expect(expectCode(() => cholesky([[-1, 0], [0, 1]]), 'RANK_DEFICIENT')).toMatch(/pivot 0/);
    expectCode(() => cholesky(new Matrix(2, 2)), 'RANK_DEFICIENT');
  });

  it('rejects bad input', () => {
    expectCode(() => cholesky([[1, 2]]), 'SHAPE_MISMATCH');
    expectCode(() => cholesky([[1, 2], [0, 1]]), 'INVALID_ARGUMENT');
    expectCode(() => cholesky([[NaN]]), 'NON_FINITE_INPUT');
    expectCode(() => cholesky(new Matrix(0, 0)), 'TOO_SMALL');
  });
});

describe('sqrtmSpd and invSqrtmSpd', () => {
  it('sqrtm(S)² = S and invSqrt · S · invSqrt = I for SPD matrices', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.nat(), (n, seed) => {
        const S = randomSpd(seed, n, 0.5);
        const R = sqrtmSpd(S);
        expect(R).toEqual(R.transpose());
        const scale = Math.max(1, ...Array.from(S.data, Math.abs));
        expect(maxAbsDiff(naiveMatmul(R, R), S)).toBeLessThan(1e-12 * scale * n);
        const W = invSqrtmSpd(S);
        expect(naiveMatmul(naiveMatmul(W, S), W)).toBeAllclose(Matrix.identity(n), { atol: 1e-9 });
        expect(naiveMatmul(W, R)).toBeAllclose(Matrix.identity(n), { atol: 1e-9 });
      }),
      { numRuns: 40 },
    );
  });

  it('exact diagonal cases', () => {
    expect(sqrtmSpd([[4, 0], [0, 9]]).toArray()).toEqual([
      [2, 0],
      [0, 3],
    ]);
    expect(invSqrtmSpd([[4, 0], [0, 16]]).toArray()).toEqual([
      [0.5, 0],
      [0, 0.25],
    ]);
  });

  it('rank-deficient input: pseudo-inverse square root by default, error or floor on request', () => {
    const rng = rngFor('spd-rankdef');
    const X = gaussian(rng, 3, 6); // rank 3 Gram matrix of size 6
    const S = gram(X);
    const W = invSqrtmSpd(S);
    // W S W is the orthogonal projector onto range(S): idempotent, symmetric, trace = rank.
    const P = naiveMatmul(naiveMatmul(W, S), W);
    expect(maxAbsDiff(naiveMatmul(P, P), P)).toBeLessThan(1e-9);
    let tr = 0;
    for (let i = 0; i < 6; i++) tr += P.get(i, i);
    expect(tr).toBeCloseTo(3, 9);
    expect(maxAbsDiff(naiveMatmul(P, S), S)).toBeLessThan(1e-9);
    expect(expectCode(() => invSqrtmSpd(S, { singular: 'error' }), 'RANK_DEFICIENT')).toMatch(/singular/);
    expect(invSqrtmSpd([[4, 0], [0, 0]], { floor: 1 }).toArray()).toEqual([
      [0.5, 0],
      [0, 1],
    ]);
    const R = sqrtmSpd(S);
    expect(maxAbsDiff(naiveMatmul(R, R), S)).toBeLessThan(1e-12 * 100);
  });

  it('rejects indefinite input and bad options', () => {
    expect(expectCode(() => sqrtmSpd([[1, 0], [0, -1]]), 'INVALID_ARGUMENT')).toMatch(/positive semi-definite/);
    expectCode(() => invSqrtmSpd([[1, 0], [0, -1]]), 'INVALID_ARGUMENT');
    // Tiny negative eigenvalues within tol are clipped.
    expect(sqrtmSpd([[1, 0], [0, -1e-20]]).toArray()).toEqual([
      [1, 0],
      [0, 0],
    ]);
    expectCode(() => invSqrtmSpd([[1]], { floor: 0 }), 'INVALID_ARGUMENT');
    expectCode(() => invSqrtmSpd([[1]], { singular: 'drop' as never }), 'INVALID_ARGUMENT');
    expectCode(() => sqrtmSpd([[1]], { tol: -1 }), 'INVALID_ARGUMENT');
    expectCode(() => sqrtmSpd([[1, 2, 3]]), 'SHAPE_MISMATCH');
    expectCode(() => sqrtmSpd([[Infinity]]), 'NON_FINITE_INPUT');
  });
});
