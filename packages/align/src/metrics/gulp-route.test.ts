// gulp's two evaluations (the spectral shortcut on well-conditioned tall layers, the sum of squares
// on the bases otherwise) against the definition: N x N ridge hat matrices formed explicitly.
import { Matrix, createRng, crossprod, matmul, randn, solve } from '@basis/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { metric } from '../registry.js';

/** `H = Xc (Xcᵀ Xc + lambda ||Xc||² I)⁻¹ Xcᵀ` (the hat matrix of the normalised centred X). */
function hat(X: Matrix, lambda: number): Matrix {
  const n = X.rows;
  const d = X.cols;
  const Xc = X.clone();
  for (let j = 0; j < d; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += Xc.get(i, j);
    m /= n;
    for (let i = 0; i < n; i++) Xc.data[i * d + j] = Xc.get(i, j) - m;
  }
  let f = 0;
  for (const v of Xc.data) f += v * v;
  const A = crossprod(Xc, Xc);
  for (let j = 0; j < d; j++) A.data[j * d + j] = A.get(j, j) + lambda * f;
  return matmul(Xc, solve(A, Xc.transpose()));
}

function definition(X: Matrix, Y: Matrix, lambda: number): number {
  const a = hat(X, lambda);
  const b = hat(Y, lambda);
  let s = 0;
  for (let k = 0; k < a.data.length; k++) s += ((a.data[k] as number) - (b.data[k] as number)) ** 2;
  return Math.sqrt(s);
}

describe('gulp: both evaluations equal the definition', () => {
  it('unrelated well-conditioned tall layers (the spectral shortcut)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 2, max: 6 }), fc.integer({ min: 2, max: 6 }), fc.constantFrom(0, 1e-3, 1e-2, 0.5), (seed, dx, dy, lambda) => {
        const rng = createRng(seed);
        const X = randn(40, dx, rng);
        const Y = randn(40, dy, rng);
        const want = definition(X, Y, lambda);
        expect(Math.abs(metric('gulp', X, Y, { lambda }).value - want)).toBeLessThanOrEqual(1e-10 * want);
      }),
      { numRuns: 60 },
    );
  });

  it('nearly the same layer (the sum of squares on the bases keeps the small distance)', () => {
    const rng = createRng(11);
    const X = randn(60, 5, rng);
    const E = randn(60, 5, rng);
    for (const eps of [1e-3, 1e-6]) {
      const Y = new Matrix(60, 5, X.data.map((v, k) => v + eps * (E.data[k] as number)));
      const want = definition(X, Y, 1e-2);
      expect(want).toBeGreaterThan(0);
      expect(Math.abs(metric('gulp', X, Y).value - want)).toBeLessThanOrEqual(1e-6 * want);
    }
  });

  it('ill-conditioned layers (the bases route)', () => {
    const rng = createRng(5);
    const X = randn(50, 4, rng);
    for (let i = 0; i < 50; i++) X.data[i * 4 + 3] = X.get(i, 0) + 1e-5 * X.get(i, 3); // cond ~ 1e5
    const Y = randn(50, 3, rng);
    const want = definition(X, Y, 1e-2);
    expect(Math.abs(metric('gulp', X, Y).value - want)).toBeLessThanOrEqual(1e-8 * want);
  });
});
