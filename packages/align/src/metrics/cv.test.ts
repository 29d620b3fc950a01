import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Matrix, corrMatrix, createRng, crossprod, kfold, linearSumAssignment, matmul, pearson, randn, solve, svd } from '@basis/tensor';
import { RIDGE_ALPHAS, linearCvFolds, permutationCvFolds, procrustesCvFolds } from './cv.js';

// Independent references: every fold formed explicitly from its training rows (no downdating).
function rows(M: Matrix, idx: Int32Array): Matrix {
  const out = new Matrix(idx.length, M.cols);
  idx.forEach((i, k) => out.data.set(M.data.subarray(i * M.cols, (i + 1) * M.cols), k * M.cols));
  return out;
}
function centre(M: Matrix): Matrix {
  const out = M.clone();
  for (let j = 0; j < M.cols; j++) {
    let m = 0;
    for (let i = 0; i < M.rows; i++) m += M.get(i, j);
    m /= M.rows;
    for (let i = 0; i < M.rows; i++) out.set(i, j, M.get(i, j) - m);
  }
  return out;
}
function pad(M: Matrix, p: number): Matrix {
  const out = new Matrix(M.rows, p);
  for (let i = 0; i < M.rows; i++) for (let j = 0; j < M.cols; j++) out.set(i, j, M.get(i, j));
  return out;
}
const col = (M: Matrix, j: number): number[] => Array.from({ length: M.rows }, (_, i) => M.get(i, j));

function permutationReference(X: Matrix, Y: Matrix, folds: number): number[] {
  return kfold(X.rows, folds).map(({ train, test }) => {
    const { rowInd, colInd } = linearSumAssignment(corrMatrix(rows(X, train), rows(Y, train)).corr, { maximize: true });
    const Xte = rows(X, test);
    const Yte = rows(Y, test);
    let s = 0;
    rowInd.forEach((i, k) => (s += pearson(col(Xte, i), col(Yte, colInd[k]!))));
    return s / rowInd.length;
  });
}

function procrustesReference(X: Matrix, Y: Matrix, folds: number): number[] {
  const p = Math.max(X.cols, Y.cols);
  return kfold(X.rows, folds).map(({ train, test }) => {
    const Xtr = rows(X, train);
    const { U, V } = svd(crossprod(pad(centre(Xtr), p), pad(centre(rows(Y, train)), p)));
    const means = Array.from({ length: X.cols }, (_, j) => col(Xtr, j).reduce((a, b) => a + b, 0) / Xtr.rows);
    const Xte = rows(X, test);
    for (let i = 0; i < Xte.rows; i++) for (let j = 0; j < X.cols; j++) Xte.set(i, j, Xte.get(i, j) - means[j]!);
    const Yhat = matmul(pad(Xte, p), matmul(U, V.transpose()));
    const Yte = rows(Y, test);
    let s = 0;
    for (let j = 0; j < Y.cols; j++) s += pearson(col(Yhat, j), col(Yte, j));
    return s / Y.cols;
  });
}

/**
 * linear.cv by brute force: each fold's training rows centred by their own means, every penalty's
 * ridge hat matrix `Xc (Xcᵀ Xc + alpha I)⁻¹ Xcᵀ` formed by a linear solve, the exact leave-one-out
 * residuals `(Yc - H Yc) / (1 - 1/n - H_ii)` (the intercept adds 1/n to the leverage), the
 * penalty with the least summed squares (ties to the first), held-out rows centred by the
 * training means.
 */
function linearReference(X: Matrix, Y: Matrix, folds: number): number[] {
  const d = X.cols;
  const meansOf = (M: Matrix) => Array.from({ length: M.cols }, (_, j) => col(M, j).reduce((a, b) => a + b, 0) / M.rows);
  return kfold(X.rows, folds).map(({ train, test }) => {
    const Xtr = rows(X, train);
    const xc = centre(Xtr);
    const yc = centre(rows(Y, train));
    const n = xc.rows;
    const ridge = (alpha: number): Matrix => {
      const A = crossprod(xc, xc);
      for (let j = 0; j < d; j++) A.set(j, j, A.get(j, j) + alpha);
      return A;
    };
    let best = Infinity;
    let bestAlpha = RIDGE_ALPHAS[0]!;
    for (const alpha of RIDGE_ALPHAS) {
      const H = matmul(xc, solve(ridge(alpha), xc.transpose()));
      const fit = matmul(H, yc);
      let crit = 0;
      for (let i = 0; i < n; i++) {
        const w = 1 - 1 / n - H.get(i, i);
        for (let j = 0; j < yc.cols; j++) crit += ((yc.get(i, j) - fit.get(i, j)) / w) ** 2;
      }
      if (crit < best) {
        best = crit;
        bestAlpha = alpha;
      }
    }
    const B = solve(ridge(bestAlpha), crossprod(xc, yc));
    const mx = meansOf(Xtr);
    const Xte = rows(X, test);
    for (let i = 0; i < Xte.rows; i++) for (let j = 0; j < d; j++) Xte.set(i, j, Xte.get(i, j) - mx[j]!);
    const Yhat = matmul(Xte, B);
    const Yte = rows(Y, test);
    let s = 0;
    for (let j = 0; j < Y.cols; j++) s += pearson(col(Yhat, j), col(Yte, j));
    return s / Y.cols;
  });
}

/** X with large offsets (the downdate must not lose digits to them) and a noisy linear map Y. */
function pair(seed: number, n: number, dx: number, dy: number): { X: Matrix; Y: Matrix } {
  const rng = createRng(seed);
  const X = randn(n, dx, rng);
  for (let k = 0; k < X.data.length; k++) X.data[k] = X.data[k]! + 1e4 * ((k % dx) - dx / 2);
  const Y = matmul(X, randn(dx, dy, rng));
  const E = randn(n, dy, rng);
  for (let k = 0; k < Y.data.length; k++) Y.data[k] = Y.data[k]! * 1e-3 + 3 * E.data[k]! + 7e5;
  return { X, Y };
}

describe('cross-validated metrics from downdated whole-data products', () => {
  it('permutation.cv and procrustes.cv fold scores equal fold-by-fold references (widths equal and not, uneven folds)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 23, max: 61 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 2, max: 6 }),
        (seed, n, dx, dy, folds) => {
          const { X, Y } = pair(seed, n, dx, dy);
          const got = permutationCvFolds(X, Y, { folds });
          const want = permutationReference(X, Y, folds);
          const gotP = procrustesCvFolds(X, Y, { folds });
          const wantP = procrustesReference(X, Y, folds);
          return got.every((v, f) => Math.abs(v - want[f]!) < 1e-9) && gotP.every((v, f) => Math.abs(v - wantP[f]!) < 1e-9);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a unit constant on one fold\'s training rows (but not on its test rows) is computed directly, correlating 0 there', () => {
    const rng = createRng(4);
    const X = randn(40, 4, rng);
    const Y = matmul(X, randn(4, 4, rng));
    // unit 2 of X varies only on the first fold's test rows (0..7): its training variance there is 0
    for (let i = 8; i < 40; i++) X.set(i, 2, 5);
    const got = permutationCvFolds(X, Y, { folds: 5 });
    const want = permutationReference(X, Y, 5);
    got.forEach((v, f) => expect(v).toBeCloseTo(want[f]!, 12));
  });

  it('a unit constant everywhere correlates 0 and leaves the other matches intact', () => {
    const rng = createRng(5);
    const X = randn(30, 3, rng);
    for (let i = 0; i < 30; i++) X.set(i, 1, -2);
    const Y = X.clone();
    for (let i = 0; i < 30; i++) Y.set(i, 1, rng.normal());
    const got = permutationCvFolds(X, Y, { folds: 3 });
    const want = permutationReference(X, Y, 3);
    got.forEach((v, f) => expect(v).toBeCloseTo(want[f]!, 12));
  });

  it('linear.cv fold scores equal a brute-force ridge with exact leave-one-out on each fold (first, middle and last folds; more units than training rows; large offsets)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 20, max: 48 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 2, max: 5 }),
        (seed, n, dx, dy, folds) => {
          const { X, Y } = pair(seed, n, dx, dy);
          const got = linearCvFolds(X, Y, { folds, alphas: RIDGE_ALPHAS });
          const want = linearReference(X, Y, folds);
          return got.length === folds && got.every((v, f) => Math.abs(v - want[f]!) < 1e-8);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('too few rows for the folds is TOO_SMALL', () => {
    const X = randn(7, 2, createRng(1));
    expect(() => permutationCvFolds(X, X, { folds: 4 })).toThrow(/at least 8 rows/);
    expect(() => procrustesCvFolds(X, X, { folds: 4 })).toThrow(/at least 8 rows/);
  });
});
