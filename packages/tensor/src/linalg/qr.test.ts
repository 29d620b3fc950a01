import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fixtureBytes, fixtureJson } from '@basis/test-utils';
import { readNpyMatrix } from '../index.js';
import { Matrix } from '../matrix.js';
import { crossprod, matmul } from './basic.js';
import { qr, qrDeferred, qrPivoted, qrR } from './qr.js';
import { engineInfo } from '../engine/engine.js';
import { expectCode, gaussian, maxAbsDiff, naiveMatmul, orthDefect, rngFor } from './test-helpers.js';

function checkQr(A: Matrix, complete = false): void {
  const { Q, R } = qr(A, complete ? { mode: 'complete' } : {});
  const m = A.rows;
  const n = A.cols;
  const k = Math.min(m, n);
  expect(Q.shape).toEqual(complete ? [m, m] : [m, k]);
  expect(R.shape).toEqual(complete ? [m, n] : [k, n]);
  const scale = Math.max(1, ...Array.from(A.data, Math.abs));
  expect(maxAbsDiff(naiveMatmul(Q, R), A)).toBeLessThan(1e-14 * scale * Math.max(m, n) * 4);
  expect(orthDefect(Q)).toBeLessThan(1e-14 * m * 4);
  for (let i = 0; i < R.rows; i++) {
    for (let j = 0; j < Math.min(i, n); j++) expect(R.get(i, j)).toBe(0);
    if (i < k) expect(R.get(i, i)).toBeGreaterThanOrEqual(0);
  }
}

describe('qr', () => {
  it('thin and complete factorisations of tall, wide and square matrices', () => {
    const rng = rngFor('qr');
    for (const [m, n] of [
      [1, 1],
      [2, 2],
      [5, 3],
      [3, 5],
      [1, 4],
      [4, 1],
      [30, 30],
      [50, 20],
    ] as const) {
      const A = gaussian(rng, m, n);
      checkQr(A);
      checkQr(A, true);
    }
  });

  it('is unique for full column rank: matches a hand-computed 2 x 2 case', () => {
    const { Q, R } = qr([
      [3, 1],
      [4, 2],
    ]);
    expect(R).toBeAllclose(Matrix.from([[5, 2.2], [0, 0.4]]), { atol: 1e-15 });
    expect(Q).toBeAllclose(Matrix.from([[0.6, -0.8], [0.8, 0.6]]), { atol: 1e-15 });
  });

  it('rank-deficient and zero columns', () => {
    const rng = rngFor('qr-rankdef');
    checkQr(matmul(gaussian(rng, 8, 2), gaussian(rng, 2, 6)));
    checkQr(new Matrix(4, 3));
    const A = gaussian(rng, 6, 3);
    for (let i = 0; i < 6; i++) A.set(i, 1, 0);
    checkQr(A);
  });

  it('ill-conditioned (condition 1e12, the linalg fixture): backward stable, Q orthogonal, |R| holds the spectrum', () => {
    const A = readNpyMatrix(fixtureBytes('linalg/svd-illcond-30x30.npy'));
    checkQr(A);
    checkQr(A, true);
    const { R } = qr(A);
    // |det A| = prod |R_ii| = prod s_i (compared in log space: the product is ~1e-180)
    const want = fixtureJson<Record<string, { singular_values: number[] }>>('linalg/expected.json')['svd-illcond-30x30']!.singular_values;
    let logR = 0;
    let logS = 0;
    for (let i = 0; i < 30; i++) {
      logR += Math.log(Math.abs(R.get(i, i)));
      logS += Math.log(want[i] as number);
    }
    // a backward error E moves log|det| by about tr(A⁻¹ E) <= n cond(A) eps ≈ 3e-3
    expect(Math.abs(logR - logS)).toBeLessThan(1e-2);
  });

  it('property: Q R = A for small random shapes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 }), fc.nat(), fc.boolean(), (m, n, seed, complete) => {
        checkQr(gaussian(rngFor(seed), m, n), complete);
      }),
      { numRuns: 60 },
    );
  });

  it('rejects bad input', () => {
    expectCode(() => qr(new Matrix(0, 2)), 'TOO_SMALL');
    expectCode(() => qr([[NaN]]), 'NON_FINITE_INPUT');
    expectCode(() => qr([[1]], { mode: 'full' as never }), 'INVALID_ARGUMENT');
  });
});

describe('qrR and qrDeferred', () => {
  it('is bit-for-bit the R of qr (thin) for tall, square and wide matrices, with a non-negative diagonal', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 1e6 }), (m, n, seed) => {
        const A = gaussian(rngFor(seed), m, n);
        const R = qrR(A);
        expect(R.shape).toEqual([Math.min(m, n), n]);
        const full = qr(A);
        expect(Array.from(R.data)).toEqual(Array.from(full.R.data));
        const f = qrDeferred(A);
        expect(Array.from(f.R.data)).toEqual(Array.from(full.R.data));
        const Q = f.Q();
        expect(Array.from(Q.data)).toEqual(Array.from(full.Q.data));
        expect(f.Q()).toBe(Q);
      }),
      { numRuns: 40 },
    );
  });

  it('scales exactly: qrR(c A) = c qrR(A) for powers of two c from 2^-990 to 2^990 (300 x 40)', () => {
    const A = gaussian(rngFor(7), 300, 40);
    const R = qrR(A);
    for (const c of [2 ** -990, 2 ** -500, 2 ** 500, 2 ** 990]) {
      const Rc = qrR(new Matrix(300, 40, A.data.map((v) => v * c)));
      expect(Array.from(Rc.data, (v) => v / c)).toEqual(Array.from(R.data));
    }
  });

  it('projectionSquares: ||Qᵀ B||² and ||B - Q Qᵀ B||² from dormqr on the native provider (undefined once Q is formed, and on WebAssembly)', () => {
    const rng = rngFor('projection');
    const A = gaussian(rng, 1500, 120);
    const B = gaussian(rng, 1500, 70);
    const f = qrDeferred(A);
    const got = f.projectionSquares(B);
    // the reference: the thin Q of qr, its coefficients and the formed residual
    const { Q } = qr(A);
    const P = crossprod(Q, B);
    const QP = matmul(Q, P);
    let inside = 0;
    let outside = 0;
    for (const v of P.data) inside += v * v;
    for (let i = 0; i < B.data.length; i++) outside += ((B.data[i] as number) - (QP.data[i] as number)) ** 2;
    if (engineInfo().provider !== 'native') {
      expect(got).toBeUndefined();
      return;
    }
    expect(got).toBeDefined();
    expect(Math.abs(got!.inside - inside) / inside).toBeLessThan(1e-12);
    expect(Math.abs(got!.outside - outside) / outside).toBeLessThan(1e-12);
    // B inside the span: nothing outside, to rounding of the orthogonal transform
    const inSpan = f.projectionSquares(matmul(A, gaussian(rng, 120, 5)))!;
    expect(inSpan.outside / inSpan.inside).toBeLessThan(1e-26);
    expectCode(() => f.projectionSquares(gaussian(rng, 1499, 3)), 'SHAPE_MISMATCH');
    f.Q(); // dorgqr overwrites the factors
    expect(f.projectionSquares(B)).toBeUndefined();
  });

  it('rejects NaN, Inf and empty input', () => {
    expectCode(() => qrR(Matrix.from([[1, NaN]])), 'NON_FINITE_INPUT');
    expectCode(() => qrR(Matrix.from([[1, Infinity]])), 'NON_FINITE_INPUT');
    expectCode(() => qrR(new Matrix(0, 3)), 'TOO_SMALL');
    expectCode(() => qrDeferred(Matrix.from([[NaN]])), 'NON_FINITE_INPUT');
  });
});

describe('qrPivoted', () => {
  it('A[:, perm] = Q R with a non-increasing |R| diagonal', () => {
    const rng = rngFor('qrp');
    for (const [m, n] of [
      [6, 4],
      [4, 6],
      [20, 20],
    ] as const) {
      const A = gaussian(rng, m, n);
      const { Q, R, perm } = qrPivoted(A);
      expect(Array.from(perm).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
      const Ap = new Matrix(m, n);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) Ap.set(i, j, A.get(i, perm[j] as number));
      expect(maxAbsDiff(naiveMatmul(Q, R), Ap)).toBeLessThan(1e-13);
      expect(orthDefect(Q)).toBeLessThan(1e-13);
      for (let i = 1; i < Math.min(m, n); i++) expect(R.get(i, i)).toBeLessThanOrEqual(R.get(i - 1, i - 1) * (1 + 1e-12));
    }
  });

  it('selects a basis: the rank-r part comes first and the trailing block vanishes', () => {
    const rng = rngFor('qrp-basis');
    // Columns 1, 3 and 4 are combinations of columns 0 and 2.
    const B = gaussian(rng, 10, 2);
    const A = new Matrix(10, 5);
    for (let i = 0; i < 10; i++) {
      const a = B.get(i, 0);
      const b = B.get(i, 1);
      A.set(i, 0, a);
      A.set(i, 2, b);
      A.set(i, 1, 2 * a - b);
      A.set(i, 3, 0.5 * a);
      A.set(i, 4, a + b);
    }
    const { R } = qrPivoted(A);
    expect(R.get(1, 1)).toBeGreaterThan(1e-3);
    for (let i = 2; i < 5; i++) for (let j = i; j < 5; j++) expect(Math.abs(R.get(i, j))).toBeLessThan(1e-13 * R.get(0, 0));
  });

  it('picks the largest column first (ties to the first index)', () => {
    expect(Array.from(qrPivoted([[1, 10], [0, 0]]).perm)).toEqual([1, 0]);
    expect(Array.from(qrPivoted([[1, 1], [1, 1]]).perm)).toEqual([0, 1]);
  });
});
