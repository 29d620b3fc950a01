import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Matrix } from '../matrix.js';
import { createRng } from '../index.js';
import { matmul } from './basic.js';
import { determinant } from './lu.js';
import { haarOrthogonal, orthogonalPower } from './orthogonal.js';
import { expectCode, maxAbsDiff, orthDefect } from './test-helpers.js';

function rotation2(theta: number): Matrix {
  return Matrix.from([
    [Math.cos(theta), -Math.sin(theta)],
    [Math.sin(theta), Math.cos(theta)],
  ]);
}

/** Block-diagonal embedding of blocks into an n x n matrix, conjugated by an orthogonal P. */
function conjugated(P: Matrix, blocks: Matrix[]): Matrix {
  const n = P.rows;
  const D = new Matrix(n, n);
  let o = 0;
  for (const b of blocks) {
    for (let i = 0; i < b.rows; i++) for (let j = 0; j < b.cols; j++) D.set(o + i, o + j, b.get(i, j));
    o += b.rows;
  }
  return matmul(matmul(P, D), P.transpose());
}

describe('haarOrthogonal', () => {
  it('orthogonal with the requested determinant, sizes 1..50', () => {
    const rng = createRng('haar');
    for (let n = 1; n <= 50; n += n < 8 ? 1 : 7) {
      for (const det of [1, -1] as const) {
        const Q = haarOrthogonal(n, rng, { det });
        expect(Q.shape).toEqual([n, n]);
        expect(orthDefect(Q)).toBeLessThan(1e-13 * Math.max(4, n));
        expect(determinant(Q)).toBeCloseTo(det, 10);
      }
    }
  });

  it('is reproducible from the seed and differs across seeds', () => {
    const a = haarOrthogonal(6, createRng(42));
    const b = haarOrthogonal(6, createRng(42));
    const c = haarOrthogonal(6, createRng(43));
    expect(a.data).toEqual(b.data);
    expect(maxAbsDiff(a, c)).toBeGreaterThan(1e-3);
  });

  it('without det it covers both components of O(n) (Haar: det = ±1 equally likely)', () => {
    const rng = createRng('haar-det');
    let pos = 0;
    const trials = 200;
    for (let t = 0; t < trials; t++) if (determinant(haarOrthogonal(3, rng)) > 0) pos++;
    // Binomial(200, 1/2): 6 sigma is about 42.
    expect(Math.abs(pos - trials / 2)).toBeLessThan(42);
  });

  it('Haar moments: E[Q_00] = 0 and E[Q_00²] = 1/n', () => {
    const rng = createRng('haar-moments');
    const n = 4;
    const trials = 2000;
    let m1 = 0;
    let m2 = 0;
    for (let t = 0; t < trials; t++) {
      const q = haarOrthogonal(n, rng).get(0, 0);
      m1 += q;
      m2 += q * q;
    }
    // sd of the mean of Q_00 is 1/sqrt(n * trials) ~ 0.011; of Q_00² about 0.005.
    expect(Math.abs(m1 / trials)).toBeLessThan(0.06);
    expect(Math.abs(m2 / trials - 1 / n)).toBeLessThan(0.03);
  });

  it('rejects bad arguments', () => {
    expectCode(() => haarOrthogonal(0, createRng(1)), 'TOO_SMALL');
    expectCode(() => haarOrthogonal(2.5, createRng(1)), 'INVALID_ARGUMENT');
    expectCode(() => haarOrthogonal(3, {} as never), 'INVALID_ARGUMENT');
    expectCode(() => haarOrthogonal(3, createRng(1), { det: 2 as never }), 'INVALID_ARGUMENT');
    expectCode(() => haarOrthogonal(2, { normal: () => NaN }), 'NON_FINITE_INPUT');
  });
});

describe('orthogonalPower', () => {
  const I = (n: number): Matrix => Matrix.identity(n);

  it('Q^0 = I, Q^1 = Q, Q^a Q^b = Q^(a+b), Q^alpha ∈ SO(n), for Haar Q of sizes 1..50', () => {
    const rng = createRng('power');
    for (let n = 1; n <= 50; n += n < 10 ? 1 : 8) {
      const Q = haarOrthogonal(n, rng, { det: 1 });
      const tol = 1e-12 * Math.max(4, n);
      expect(maxAbsDiff(orthogonalPower(Q, 0), I(n))).toBeLessThan(tol);
      expect(maxAbsDiff(orthogonalPower(Q, 1), Q)).toBeLessThan(tol);
      const a = 0.37;
      const b = -1.21;
      const Qa = orthogonalPower(Q, a);
      const Qb = orthogonalPower(Q, b);
      expect(maxAbsDiff(matmul(Qa, Qb), orthogonalPower(Q, a + b))).toBeLessThan(tol);
      expect(orthDefect(Qa)).toBeLessThan(tol);
      expect(determinant(Qa)).toBeCloseTo(1, 10);
      const half = orthogonalPower(Q, 0.5);
      expect(maxAbsDiff(matmul(half, half), Q)).toBeLessThan(tol);
      expect(maxAbsDiff(orthogonalPower(Q, 2), matmul(Q, Q))).toBeLessThan(tol);
    }
  });

  it('property: semigroup law on random rotations and exponents', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.nat(),
        fc.double({ min: -2, max: 2, noNaN: true }),
        fc.double({ min: -2, max: 2, noNaN: true }),
        (n, seed, a, b) => {
          const Q = haarOrthogonal(n, createRng(seed), { det: 1 });
          const lhs = matmul(orthogonalPower(Q, a), orthogonalPower(Q, b));
          expect(maxAbsDiff(lhs, orthogonalPower(Q, a + b))).toBeLessThan(1e-11);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('planted angles: a rotation by theta becomes a rotation by alpha * theta', () => {
    const rng = createRng('planted');
    const P = haarOrthogonal(7, rng);
    const Q = conjugated(P, [rotation2(0.3), rotation2(2.5), rotation2(1e-9), Matrix.from([[1]])]);
    const want = conjugated(P, [rotation2(0.15), rotation2(1.25), rotation2(5e-10), Matrix.from([[1]])]);
    expect(maxAbsDiff(orthogonalPower(Q, 0.5), want)).toBeLessThan(1e-13);
    // Repeated angles (two planes with the same angle) and the identity.
    const R = conjugated(P, [rotation2(1), rotation2(1), Matrix.from([[1]]), rotation2(-0.4)]);
    const wantR = conjugated(P, [rotation2(0.3), rotation2(0.3), Matrix.from([[1]]), rotation2(-0.12)]);
    expect(maxAbsDiff(orthogonalPower(R, 0.3), wantR)).toBeLessThan(1e-13);
    expect(maxAbsDiff(orthogonalPower(I(5), 0.7), I(5))).toBeLessThan(1e-15);
  });

  it('angle pi (eigenvalue -1 twice): a valid, deterministic square root', () => {
    const Q = Matrix.from([
      [-1, 0, 0],
      [0, -1, 0],
      [0, 0, 1],
    ]);
    const h = orthogonalPower(Q, 0.5);
    expect(maxAbsDiff(matmul(h, h), Q)).toBeLessThan(1e-15);
    expect(determinant(h)).toBeCloseTo(1, 14);
    expect(orthogonalPower(Q, 0.5).data).toEqual(h.data);
    const P = haarOrthogonal(6, createRng('pi'));
    const Z = conjugated(P, [rotation2(Math.PI), rotation2(0.5), Matrix.from([[-1, 0], [0, -1]])]);
    const r = orthogonalPower(Z, 1 / 3);
    expect(maxAbsDiff(matmul(matmul(r, r), r), Z)).toBeLessThan(1e-12);
  });

  it('a 90° rotation to the power 1/2 is the 45° rotation', () => {
    expect(orthogonalPower([[0, -1], [1, 0]], 0.5)).toBeAllclose(rotation2(Math.PI / 4), { atol: 1e-15 });
  });

  it('rejects reflections, non-orthogonal matrices and bad arguments', () => {
    expect(expectCode(() => orthogonalPower([[1, 0], [0, -1]], 0.5), 'INVALID_ARGUMENT')).toMatch(/SO\(n\)/);
    expectCode(() => orthogonalPower(haarOrthogonal(5, createRng(3), { det: -1 }), 0.5), 'INVALID_ARGUMENT');
    expectCode(() => orthogonalPower([[-1]], 0.5), 'INVALID_ARGUMENT');
    expect(expectCode(() => orthogonalPower([[1, 0.1], [0, 1]], 0.5), 'INVALID_ARGUMENT')).toMatch(/not orthogonal/);
    expectCode(() => orthogonalPower([[1, 0]], 0.5), 'SHAPE_MISMATCH');
    expectCode(() => orthogonalPower([[1]], NaN), 'INVALID_ARGUMENT');
    expectCode(() => orthogonalPower([[NaN]], 1), 'NON_FINITE_INPUT');
    expectCode(() => orthogonalPower(new Matrix(0, 0), 1), 'TOO_SMALL');
  });
});
