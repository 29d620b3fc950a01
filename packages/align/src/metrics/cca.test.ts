import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Matrix} from '@basis/tensor';
import { Matrix as M, createRng, crossprod, matmul, qrR, randn, svd } from '@basis/tensor';
import { centred, rangeBasis, spanBasis, tallSvd, upperInverse } from '../prep.js';
import { canonicalCorrelations, pwccaKernel, svccaKernel } from './cca.js';

/** Canonical correlations the direct way: singular values of Qxᵀ Qy for the SVD range bases. */
function direct(X: Matrix, Y: Matrix): Float64Array {
  const bx = rangeBasis(centred(X), 'X', 't');
  const by = rangeBasis(centred(Y), 'Y', 't');
  return svd(crossprod(bx.Q, by.Q), { computeUV: false }).s.slice(0, Math.min(bx.rank, by.rank));
}

function directSvcca(X: Matrix, Y: Matrix): number {
  const keep = (s: Float64Array): number => {
    const total = s.reduce((a, v) => a + v * v, 0);
    let acc = 0;
    for (let k = 0; k < s.length; k++) if ((acc += (s[k] as number) ** 2) >= 0.99 * total) return k + 1;
    return s.length;
  };
  const bx = rangeBasis(centred(X), 'X', 't');
  const by = rangeBasis(centred(Y), 'Y', 't');
  const kx = keep(bx.s);
  const ky = keep(by.s);
  const s = svd(crossprod(bx.Q.slice(0, bx.Q.rows, 0, kx), by.Q.slice(0, by.Q.rows, 0, ky)), { computeUV: false }).s;
  let a = 0;
  for (let i = 0; i < Math.min(kx, ky); i++) a += Math.min(1, Math.max(0, s[i] as number));
  return a / Math.min(kx, ky);
}

/** PWCCA the direct way (Morcos et al.): canonical variates H = Qx U of the SVD range bases, weights |Hᵀ Xc| summed per variate. */
function directPwcca(X: Matrix, Y: Matrix): number {
  const Xc = centred(X);
  const bx = rangeBasis(Xc, 'X', 't');
  const by = rangeBasis(centred(Y), 'Y', 't');
  const m = Math.min(bx.rank, by.rank);
  const { U, s } = svd(crossprod(bx.Q, by.Q));
  const A = crossprod(matmul(bx.Q, U.slice(0, U.rows, 0, m)), Xc);
  let num = 0;
  let den = 0;
  for (let i = 0; i < m; i++) {
    let a = 0;
    for (let j = 0; j < A.cols; j++) a += Math.abs(A.get(i, j));
    num += a * Math.min(1, Math.max(0, s[i] as number));
    den += a;
  }
  return num / den;
}

/** A layer with prescribed column scales (its condition number is about max/min of them). */
function layer(seed: number, n: number, d: number, spread: number): Matrix {
  const rng = createRng(seed);
  const X = randn(n, d, rng);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) X.set(i, j, X.get(i, j) * spread ** (j / Math.max(1, d - 1)) + 3);
  return X;
}

describe('CCA and SVCCA through the pair cross product', () => {
  it('well-conditioned layers (QR route, shortcut) give the direct canonical correlations and SVCCA', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 2, max: 9 }), fc.integer({ min: 2, max: 9 }), (seed, dx, dy) => {
        const X = layer(seed, 80, dx, 5);
        const Y = matmul(X, randn(dx, dy, createRng(seed + 1)));
        const E = randn(80, dy, createRng(seed + 2));
        for (let k = 0; k < Y.data.length; k++) Y.data[k] = (Y.data[k] as number) + 0.5 * (E.data[k] as number);
        const bx = spanBasis(centred(X), 'X', 't');
        const by = spanBasis(centred(Y), 'Y', 't');
        if (bx.R === undefined || by.R === undefined) return false; // the QR route must be taken here
        const got = canonicalCorrelations(X, Y);
        const want = direct(X, Y);
        return got.every((v, i) => Math.abs(v - Math.min(1, want[i] as number)) < 1e-11) && Math.abs(svccaKernel(X, Y) - directSvcca(X, Y)) < 1e-10;
      }),
      { numRuns: 60 },
    );
  });

  it('the shortcut is the one taken for a moderate pair (condition numbers multiply to under 1e4)', () => {
    const X = layer(11, 300, 7, 3);
    const Y = layer(12, 300, 6, 4);
    const bx = spanBasis(centred(X), 'X', 't');
    const by = spanBasis(centred(Y), 'Y', 't');
    expect((bx.cond as number) * (by.cond as number)).toBeLessThan(1e4);
    const got = canonicalCorrelations(X, Y);
    direct(X, Y).forEach((v, i) => expect(Math.abs((got[i] as number) - Math.min(1, v))).toBeLessThan(1e-12));
  });

  it('PWCCA: the d x d route (Hᵀ Xc = Uᵀ Rx, no Q formed) and the N x d route agree with the direct definition', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 2, max: 8 }), fc.integer({ min: 2, max: 8 }), fc.constantFrom(3, 3e3), (seed, dx, dy, spread) => {
        const X = layer(seed, 120, dx, spread);
        const Y = matmul(X, randn(dx, dy, createRng(seed + 1)));
        const E = randn(120, dy, createRng(seed + 2));
        for (let k = 0; k < Y.data.length; k++) Y.data[k] = (Y.data[k] as number) + 0.5 * (E.data[k] as number);
        // condition numbers near 3e3 cost digits on either route (and in the reference)
        expect(Math.abs(pwccaKernel(X, Y) - directPwcca(X, Y))).toBeLessThan(spread === 3 ? 1e-11 : 1e-9);
      }),
      { numRuns: 60 },
    );
  });

  it('badly conditioned layers take the N x d bases and still agree', () => {
    const X = layer(3, 200, 6, 1e4);
    const Y = layer(4, 200, 5, 1e3);
    const bx = spanBasis(centred(X), 'X', 't');
    expect(bx.cond).toBeGreaterThan(1e3);
    const got = canonicalCorrelations(X, Y);
    direct(X, Y).forEach((v, i) => expect(got[i]).toBeCloseTo(Math.min(1, v), 12));
    expect(svccaKernel(X, Y)).toBeCloseTo(directSvcca(X, Y), 12);
  });

  it('wide or rank-deficient layers (SVD route) agree too', () => {
    const X = layer(5, 8, 12, 2); // more units than rows
    const Y = layer(6, 8, 5, 2);
    expect(spanBasis(centred(X), 'X', 't').R).toBeUndefined();
    const got = canonicalCorrelations(X, Y);
    direct(X, Y).forEach((v, i) => expect(got[i]).toBeCloseTo(Math.min(1, v), 12));
    expect(svccaKernel(X, Y)).toBeCloseTo(directSvcca(X, Y), 12);
  });
});

describe('the QR route of wider layers', () => {
  it('upperInverse inverts upper-triangular matrices of every order, across its block splits (64)', () => {
    for (const d of [1, 2, 63, 64, 65, 129, 300]) {
      const R = qrR(layer(d, 2 * d + 5, d, 1e3));
      const T = upperInverse(R);
      // the reference: R t_j = e_j for each column by back substitution
      const ref = new M(d, d);
      for (let j = 0; j < d; j++) {
        for (let i = j; i >= 0; i--) {
          let v = i === j ? 1 : 0;
          for (let k = i + 1; k <= j; k++) v -= R.get(i, k) * ref.get(k, j);
          ref.set(i, j, v / R.get(i, i));
        }
      }
      let top = 0;
      let diff = 0;
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) {
          if (j < i) expect(T.get(i, j)).toBe(0);
          top = Math.max(top, Math.abs(ref.get(i, j)));
          diff = Math.max(diff, Math.abs(T.get(i, j) - ref.get(i, j)));
        }
      }
      expect(diff / top).toBeLessThan(1e-11);
      const E = matmul(R, T);
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) expect(Math.abs(E.get(i, j) - (i === j ? 1 : 0))).toBeLessThan(1e-11);
    }
  });

  it('CCA, PWCCA and SVCCA of layers wider than the inverse blocks agree with the direct SVD bases', () => {
    const X = layer(7, 600, 150, 5);
    const Y = matmul(X, randn(150, 140, createRng(8)));
    // independent noise spreads the canonical correlations (PWCCA's weights need distinct ones)
    const E = randn(600, 140, createRng(9));
    for (let k = 0; k < Y.data.length; k++) Y.data[k] = (Y.data[k] as number) + 10 * (E.data[k] as number);
    expect(spanBasis(centred(X), 'X', 't').R).toBeDefined();
    expect(tallSvd(centred(Y), 'Y', 't')).toBeDefined();
    const got = canonicalCorrelations(X, Y);
    direct(X, Y).forEach((v, i) => expect(Math.abs((got[i] as number) - Math.min(1, v))).toBeLessThan(1e-10));
    expect(Math.abs(pwccaKernel(X, Y) - directPwcca(X, Y))).toBeLessThan(1e-10);
    expect(Math.abs(svccaKernel(X, Y) - directSvcca(X, Y))).toBeLessThan(1e-10);
  });

  it('tallSvd, which decides the QR route from its own SVD of R, takes it exactly when spanBasis does', () => {
    const cases: [string, Matrix][] = [
      ['tall, well conditioned', layer(9, 50, 6, 10)],
      ['tall, badly conditioned', layer(10, 200, 6, 1e4)],
      ['wide', layer(11, 8, 12, 2)],
      ['square', layer(12, 7, 7, 2)],
    ];
    const deficient = layer(13, 40, 5, 2);
    for (let i = 0; i < 40; i++) deficient.set(i, 4, 2 * deficient.get(i, 0) - deficient.get(i, 1)); // rank 4
    cases.push(['tall, rank-deficient', deficient]);
    for (const [, X] of cases) {
      const Xc = centred(X);
      expect(tallSvd(Xc, 'X', 't') !== undefined).toBe(spanBasis(Xc, 'X', 't').R !== undefined);
    }
    expect(tallSvd(centred(deficient), 'X', 't')).toBeUndefined();
    expect(tallSvd(centred(cases[0]![1]), 'X', 't')).toBeDefined();
  });
});
