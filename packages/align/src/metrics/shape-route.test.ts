// shape.partial_whitening's three evaluations (singular values and right vectors from the Gram
// matrix for layers with cond <= 100, from the SVD of the QR's R for cond <= 1e4, the polar factor
// otherwise) against the definition: the thin SVD of each centred layer formed explicitly.
import { Matrix, center, createRng, crossprod, randn, svd, type Rng } from '@basis/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { metric } from '../registry.js';

/** `phi / ||phi||_F`, `phi = alpha Xc + (1 - alpha) U Vᵀ` from the explicit thin SVD of the centred X (full rank). */
function whitened(X: Matrix, alpha: number): Matrix {
  const n = X.rows;
  const d = X.cols;
  const Xc = center(X).centred;
  const { U, V } = svd(Xc);
  const out = new Matrix(n, d);
  let f = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      let p = 0;
      for (let k = 0; k < d; k++) p += U.get(i, k) * V.get(j, k);
      const v = alpha * Xc.get(i, j) + (1 - alpha) * p;
      out.data[i * d + j] = v;
      f += v * v;
    }
  }
  for (let k = 0; k < out.data.length; k++) out.data[k] = (out.data[k] as number) / Math.sqrt(f);
  return out;
}

/** cos of the definition's angle: the nuclear norm of Aᵀ B (zero padding adds no singular values). */
function cosine(X: Matrix, Y: Matrix, alpha: number): number {
  return svd(crossprod(whitened(X, alpha), whitened(Y, alpha)), { computeUV: false }).s.reduce((s, v) => s + v, 0);
}

/** Gaussian N x d data whose columns are scaled from 1 down to 1/spread (cond about spread). */
function layer(rng: Rng, n: number, d: number, spread: number): Matrix {
  const X = randn(n, d, rng);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) X.data[i * d + j] = X.get(i, j) * spread ** (-j / Math.max(1, d - 1));
  return X;
}

describe('shape.partial_whitening: every route equals the definition', () => {
  for (const [route, spread] of [
    ['Gram matrix (cond <= 100)', 1.5],
    ['SVD of R (100 < cond <= 1e4)', 1e3],
    ['polar factor (cond > 1e4)', 1e6],
  ] as const) {
    it(route, () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 2, max: 6 }), fc.integer({ min: 2, max: 6 }), fc.constantFrom(0, 0.25, 0.5, 0.9), (seed, dx, dy, alpha) => {
          const rng = createRng(seed);
          const X = layer(rng, 40, dx, spread);
          const Y = layer(rng, 40, dy, spread);
          const want = cosine(X, Y, alpha);
          expect(Math.cos(metric('shape.partial_whitening', X, Y, { alpha }).value)).toBeCloseTo(want, 10);
        }),
        { numRuns: 40 },
      );
    });
  }
});
