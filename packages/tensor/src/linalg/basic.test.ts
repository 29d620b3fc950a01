import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Matrix } from '../matrix.js';
import { add, crossprod, crossprodOfFinite, frobeniusNorm, gram, matmul, matmulOfFinite, matvec, scale, sub, trace } from './basic.js';
import { expectCode, gaussian, naiveMatmul, rngFor } from './test-helpers.js';

describe('matmul', () => {
  it('matrix-vector products, small (JS loop) and large (native BLAS when loaded), match the triple loop', () => {
    const rng = rngFor('matvec');
    for (const [m, k] of [
      [7, 5],
      [300, 300],
      [2000, 40],
    ] as const) {
      const A = gaussian(rng, m, k);
      const x = gaussian(rng, k, 1);
      const got = matmul(A, x);
      const want = naiveMatmul(A, x);
      expect(got.shape).toEqual([m, 1]);
      for (let i = 0; i < m; i++) expect(Math.abs(got.data[i]! - want.data[i]!)).toBeLessThan(1e-12 * k);
    }
  });

  it('matches the triple loop on shapes that exercise every remainder path', () => {
    const rng = rngFor('matmul');
    for (const [m, k, n] of [
      [1, 1, 1],
      [3, 5, 2],
      [4, 4, 4],
      [5, 7, 9],
      [9, 300, 6],
      [17, 3, 260],
      [33, 257, 35],
    ] as const) {
      const A = gaussian(rng, m, k);
      const B = gaussian(rng, k, n);
      const got = matmul(A, B);
      expect(got.shape).toEqual([m, n]);
      expect(got).toBeAllclose(naiveMatmul(A, B), { rtol: 1e-12, atol: 1e-12 * k });
    }
  });

  it('property: (A B) x = A (B x) for small random shapes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.nat(), (m, k, n, seed) => {
        const rng = rngFor(seed);
        const A = gaussian(rng, m, k);
        const B = gaussian(rng, k, n);
        const x = Array.from({ length: n }, () => rng.normal());
        const left = matvec(matmul(A, B), x);
        const right = matvec(A, matvec(B, x));
        expect(left).toBeAllclose(right, { rtol: 1e-10, atol: 1e-10 });
      }),
      { numRuns: 60 },
    );
  });

  it('handles empty inner and outer dimensions', () => {
    expect(matmul(new Matrix(2, 0), new Matrix(0, 3)).toArray()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(matmul(new Matrix(0, 2), new Matrix(2, 3)).shape).toEqual([0, 3]);
  });

  it('rejects mismatched shapes and non-finite entries', () => {
    expectCode(() => matmul(new Matrix(2, 3), new Matrix(2, 3)), 'SHAPE_MISMATCH');
    expectCode(() => matmul([[1, NaN]], [[1], [2]]), 'NON_FINITE_INPUT');
    expectCode(() => matmul([[1, 2]], [[1], [Infinity]]), 'NON_FINITE_INPUT');
  });

  it('with out: writes the same values into out (every route: JS, matrix-vector, large products) and returns it', () => {
    const rng = rngFor('matmul-out');
    for (const [m, k, n] of [
      [3, 5, 2],
      [300, 300, 1],
      [33, 257, 35],
      [200, 64, 150],
    ] as const) {
      const A = gaussian(rng, m, k);
      const B = gaussian(rng, k, n);
      const want = matmul(A, B);
      const out = new Matrix(m, n);
      out.data.fill(NaN); // previous contents are never read
      expect(matmul(A, B, out)).toBe(out);
      expect(Array.from(out.data)).toEqual(Array.from(want.data));
      // again into the same buffer with other operands: overwritten, not accumulated
      const B2 = gaussian(rng, k, n);
      matmul(A, B2, out);
      expect(Array.from(out.data)).toEqual(Array.from(matmul(A, B2).data));
    }
    // a view into a larger buffer, and an empty inner dimension (zeros over old contents)
    const big = new Float64Array(20).fill(7);
    const view = new Matrix(2, 3, big.subarray(4, 10));
    matmul([[1, 2], [3, 4]], [[1, 0, 2], [0, 1, 3]], view);
    expect(view.toArray()).toEqual([
      [1, 2, 8],
      [3, 4, 18],
    ]);
    expect(big[3]).toBe(7);
    expect(big[10]).toBe(7);
    const z = Matrix.from([[5, 5, 5]]);
    matmul(new Matrix(1, 0), new Matrix(0, 3), z);
    expect(z.toArray()).toEqual([[0, 0, 0]]);
  });

  it('with out: rejects a wrong shape, a non-Matrix, memory shared with an operand, and non-finite operands', () => {
    const A = Matrix.from([
      [1, 2],
      [3, 4],
    ]);
    const B = Matrix.from([[1], [1]]);
    expectCode(() => matmul(A, B, new Matrix(2, 2)), 'SHAPE_MISMATCH');
    expectCode(() => matmul(A, B, new Matrix(1, 2)), 'SHAPE_MISMATCH');
    expectCode(() => matmul(A, B, [[0], [0]] as unknown as Matrix), 'INVALID_ARGUMENT');
    expectCode(() => matmul(A, A, A), 'INVALID_ARGUMENT');
    const buf = new Float64Array(6);
    const left = new Matrix(2, 2, buf.subarray(0, 4));
    expectCode(() => matmul(left, B, new Matrix(2, 1, buf.subarray(3, 5))), 'INVALID_ARGUMENT'); // overlaps left's last entry
    expect(matmul(left, B, new Matrix(2, 1, buf.subarray(4, 6))).toArray()).toEqual([[0], [0]]); // adjacent, not overlapping
    expectCode(() => matmul([[1, NaN]], [[1], [2]], new Matrix(1, 1)), 'NON_FINITE_INPUT');
  });
});

describe('crossprod and gram', () => {
  it('crossprod(X, Y) = Xᵀ Y', () => {
    const rng = rngFor('crossprod');
    const X = gaussian(rng, 37, 6);
    const Y = gaussian(rng, 37, 9);
    expect(crossprod(X, Y)).toBeAllclose(naiveMatmul(X.transpose(), Y), { rtol: 1e-12, atol: 1e-12 });
  });

  it('gram(X) = Xᵀ X and is exactly symmetric', () => {
    const rng = rngFor('gram');
    for (const [n, p] of [
      [50, 7],
      [9, 13],
      [300, 1],
    ] as const) {
      const X = gaussian(rng, n, p);
      const G = gram(X);
      expect(G).toBeAllclose(naiveMatmul(X.transpose(), X), { rtol: 1e-12, atol: 1e-12 });
      expect(G).toEqual(G.transpose());
      expect(crossprod(X, X)).toBeAllclose(G, { rtol: 1e-13, atol: 1e-13 });
    }
  });

  it('rejects different row counts', () => {
    expectCode(() => crossprod(new Matrix(3, 2), new Matrix(4, 2)), 'SHAPE_MISMATCH');
    expectCode(() => gram([[1, NaN]]), 'NON_FINITE_INPUT');
  });
});

describe('the products of finite operands (@basis/tensor/internal)', () => {
  it('equal matmul and crossprod bit for bit, and check shapes the same way', () => {
    const rng = rngFor('of-finite');
    // 300 x 256 crosses the native screen's size (65536 entries) and the native product's
    const X = gaussian(rng, 300, 256);
    const Y = gaussian(rng, 300, 7);
    const B = gaussian(rng, 256, 5);
    expect(crossprodOfFinite(X, Y)).toEqual(crossprod(X, Y));
    expect(matmulOfFinite(X, B)).toEqual(matmul(X, B));
    expect(matmulOfFinite(new Matrix(2, 0), new Matrix(0, 3))).toEqual(new Matrix(2, 3));
    expect(expectCode(() => crossprodOfFinite(new Matrix(3, 2), new Matrix(4, 2)), 'SHAPE_MISMATCH')).toBe(expectCode(() => crossprod(new Matrix(3, 2), new Matrix(4, 2)), 'SHAPE_MISMATCH'));
    expect(expectCode(() => matmulOfFinite(new Matrix(3, 2), new Matrix(3, 2)), 'SHAPE_MISMATCH')).toBe(expectCode(() => matmul(new Matrix(3, 2), new Matrix(3, 2)), 'SHAPE_MISMATCH'));
  });

  it('skip the finiteness screen: a non-finite entry reaches the result instead of throwing', () => {
    const X = Matrix.from([[1, NaN], [2, 3]]);
    expectCode(() => crossprod(X, X), 'NON_FINITE_INPUT');
    expectCode(() => matmul(X, X), 'NON_FINITE_INPUT');
    expect(Number.isNaN(crossprodOfFinite(X, Matrix.from([[1], [1]])).get(1, 0))).toBe(true);
    expect(Number.isNaN(matmulOfFinite(X, Matrix.from([[1], [1]])).get(0, 0))).toBe(true);
  });
});

describe('small helpers', () => {
  it('matvec, add, sub, scale, trace and the Frobenius norm', () => {
    const A = Matrix.from([
      [1, 2],
      [3, 4],
    ]);
    expect(Array.from(matvec(A, [1, -1]))).toEqual([-1, -1]);
    expect(add(A, A).toArray()).toEqual([
      [2, 4],
      [6, 8],
    ]);
    expect(sub(A, A).toArray()).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(scale(A, -2).toArray()).toEqual([
      [-2, -4],
      [-6, -8],
    ]);
    expect(trace(A)).toBe(5);
    expect(frobeniusNorm([[3, 4]])).toBe(5);
    expect(frobeniusNorm(new Matrix(0, 0))).toBe(0);
  });

  it('the Frobenius norm neither overflows nor underflows', () => {
    expect(frobeniusNorm([[3e300, 4e300]]) / 5e300).toBeCloseTo(1, 14);
    expect(frobeniusNorm([[3e-300, 4e-300]]) / 5e-300).toBeCloseTo(1, 14);
  });

  it('rejects bad shapes and values', () => {
    expectCode(() => matvec([[1, 2]], [1]), 'SHAPE_MISMATCH');
    expectCode(() => matvec([[1, 2]], [1, NaN]), 'NON_FINITE_INPUT');
    expectCode(() => add([[1, 2]], [[1], [2]]), 'SHAPE_MISMATCH');
    expectCode(() => sub([[1, 2]], [[1, 2, 3]]), 'SHAPE_MISMATCH');
    expectCode(() => scale([[1]], NaN), 'NON_FINITE_INPUT');
    expectCode(() => trace([[1, 2]]), 'SHAPE_MISMATCH');
  });
});
