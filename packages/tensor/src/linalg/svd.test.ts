import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fixtureBytes, fixtureJson } from '@basis/test-utils';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readNpy, readNpyMatrix } from '../index.js';
import { Matrix } from '../matrix.js';
import { frobeniusNorm, matmul } from './basic.js';
import { rank } from './lstsq.js';
import { polarFactorOfFinite, singularValues, svd } from './svd.js';
import { columnsSignNormalised, expectCode, gaussian, maxAbsDiff, orthDefect, randomOrthogonal, rngFor, usvt } from './test-helpers.js';

function checkSvd(A: Matrix, tol = 1e-13): void {
  const { U, s, V } = svd(A);
  const k = Math.min(A.rows, A.cols);
  expect(U.shape).toEqual([A.rows, k]);
  expect(V.shape).toEqual([A.cols, k]);
  expect(s.length).toBe(k);
  for (let j = 0; j < k; j++) {
    expect(s[j] as number).toBeGreaterThanOrEqual(0);
    if (j > 0) expect(s[j] as number).toBeLessThanOrEqual(s[j - 1] as number);
  }
  const scale = Math.max(frobeniusNorm(A), Number.MIN_VALUE);
  expect(maxAbsDiff(usvt(U, s, V), A) / scale).toBeLessThan(tol * Math.max(A.rows, A.cols));
  expect(orthDefect(U)).toBeLessThan(tol * Math.max(A.rows, A.cols));
  expect(orthDefect(V)).toBeLessThan(tol * Math.max(A.rows, A.cols));
  expect(columnsSignNormalised(U)).toBe(true);
}

/** U diag(s) Vᵀ with random orthogonal factors: a planted SVD. */
function planted(seed: string, m: number, n: number, s: number[]): Matrix {
  const rng = rngFor(seed);
  const U = randomOrthogonal(rng, m).slice(0, m, 0, s.length);
  const V = randomOrthogonal(rng, n).slice(0, n, 0, s.length);
  return usvt(U, s, V);
}

describe('svd', () => {
  it('random tall, wide and square matrices', () => {
    const rng = rngFor('svd-random');
    for (const [m, n] of [
      [1, 1],
      [2, 2],
      [3, 2],
      [2, 3],
      [1, 7],
      [7, 1],
      [10, 4],
      [4, 10],
      [33, 33],
      [60, 17],
      [17, 60],
    ] as const) {
      checkSvd(gaussian(rng, m, n));
    }
  });

  it('1 x 1 and 2 x 2 closed forms', () => {
    const one = svd([[-3]]);
    expect(Array.from(one.s)).toEqual([3]);
    expect(one.U.toArray()).toEqual([[1]]);
    expect(one.V.toArray()).toEqual([[-1]]);
    const r = svd([
      [3, 0],
      [0, -2],
    ]);
    expect(Array.from(r.s)).toEqual([3, 2]);
    const rot = svd([
      [0, -2],
      [2, 0],
    ]);
    expect(rot.s).toBeAllclose([2, 2], { atol: 1e-15 });
    checkSvd(Matrix.from([[1, 2], [3, 4]]));
  });

  it('rank-deficient matrices: exact zeros stay (numerically) zero and U, V stay orthonormal', () => {
    const rng = rngFor('svd-rankdef');
    const A = matmul(gaussian(rng, 20, 5), gaussian(rng, 5, 12));
    checkSvd(A);
    const s = singularValues(A);
    expect(s[4] as number).toBeGreaterThan(1e-3);
    for (let j = 5; j < 12; j++) expect(s[j] as number).toBeLessThan(1e-13 * (s[0] as number));
    checkSvd(new Matrix(4, 3));
    checkSvd(Matrix.from([[1, 1], [1, 1], [1, 1]]));
    checkSvd(matmul(gaussian(rng, 6, 1), gaussian(rng, 1, 9)));
  });

  it('ill-conditioned (condition 1e12): singular values to 1e-9 absolute relative to s_max', () => {
    const n = 25;
    const want = Array.from({ length: n }, (_, i) => 10 ** (-12 * (i / (n - 1))));
    for (const [m, nn] of [
      [n, n],
      [40, n],
      [n, 40],
    ] as const) {
      const A = planted(`illcond-${m}x${nn}`, m, nn, want);
      const { s } = svd(A);
      expect(s).toBeAllclose(want, { rtol: 0, atol: 1e-13 });
      checkSvd(A);
    }
  });

  it('values-only mode equals the full decomposition', () => {
    const A = gaussian(rngFor('svd-vals'), 30, 20);
    expect(svd(A, { computeUV: false }).s).toBeAllclose(svd(A).s, { rtol: 0, atol: 1e-13 });
    expect(singularValues(A.transpose())).toBeAllclose(svd(A).s, { rtol: 0, atol: 1e-13 });
  });

  it('golden values: linalg fixtures (singular values, rank, Frobenius and nuclear norms)', () => {
    type Want = { singular_values: number[]; rank: number; frobenius_norm: number; nuclear_norm: number };
    const expected = fixtureJson<Record<string, Want>>('linalg/expected.json');
    for (const name of ['svd-gauss-40x25', 'svd-illcond-30x30', 'svd-rankdef-20x12']) {
      const want = expected[name] as Want;
      const A = readNpyMatrix(fixtureBytes(`linalg/${name}.npy`));
      const { U, s, V } = svd(A);
      const tol = 1e-9 * Math.max(1, ...want.singular_values);
      expect(s).toBeAllclose(want.singular_values, { rtol: 0, atol: tol });
      expect(rank(A)).toBe(want.rank);
      expect(Math.abs(frobeniusNorm(A) - want.frobenius_norm)).toBeLessThanOrEqual(1e-9 * Math.max(1, want.frobenius_norm));
      const nuclear = s.reduce((acc, x) => acc + x, 0);
      expect(Math.abs(nuclear - want.nuclear_norm)).toBeLessThanOrEqual(1e-9 * Math.max(1, want.nuclear_norm));
      expect(maxAbsDiff(usvt(U, s, V), A)).toBeLessThan(1e-13 * Math.max(1, s[0] as number) * 40);
    }
  });

  it('property: reconstruction for small random shapes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.nat(), (m, n, seed) => {
        checkSvd(gaussian(rngFor(seed), m, n), 1e-12);
      }),
      { numRuns: 60 },
    );
  });

  it('is deterministic and follows the U sign convention', () => {
    const A = gaussian(rngFor('svd-det'), 12, 9);
    const a = svd(A);
    const b = svd(A.clone());
    expect(a.U.data).toEqual(b.U.data);
    expect(a.V.data).toEqual(b.V.data);
    expect(columnsSignNormalised(a.U)).toBe(true);
  });

  it('rejects bad input', () => {
    expectCode(() => svd(new Matrix(0, 3)), 'TOO_SMALL');
    expectCode(() => svd(new Matrix(3, 0)), 'TOO_SMALL');
    expectCode(() => svd([[1, NaN]]), 'NON_FINITE_INPUT');
    expectCode(() => singularValues([[-Infinity]]), 'NON_FINITE_INPUT');
  });
});

describe('polarFactorOfFinite (@basis/tensor/internal)', () => {
  const viaSvd = (A: Matrix): Matrix => {
    const { U, V } = svd(A);
    return matmul(U, V.transpose());
  };

  it('is U Vᵀ of svd bit for bit, below and above the LAPACK crossover, and orthogonal', () => {
    const rng = rngFor('polar');
    for (const n of [1, 3, 4, 10, 97, 256]) {
      const A = gaussian(rng, n, n);
      const Q = polarFactorOfFinite(A);
      expect(Q).toEqual(viaSvd(A));
      expect(orthDefect(Q)).toBeLessThan(1e-13);
      // the polar factor maximises trace(Qᵀ A): trace(Qᵀ A) is the sum of the singular values
      let tr = 0;
      const QtA = matmul(Q.transpose(), A);
      for (let i = 0; i < n; i++) tr += QtA.get(i, i);
      expect(tr).toBeCloseTo(svd(A, { computeUV: false }).s.reduce((a, v) => a + v, 0), 9);
    }
  });

  it('matches svd for rank-deficient, zero-padded, extreme-scale and zero matrices', () => {
    const rng = rngFor('polar-edge');
    const B = gaussian(rng, 40, 30);
    const padded = new Matrix(40, 40);
    for (let i = 0; i < 40; i++) padded.data.set(B.data.subarray(i * 30, (i + 1) * 30), i * 40);
    const huge = gaussian(rng, 20, 20);
    for (let k = 0; k < huge.data.length; k++) huge.data[k] = (huge.data[k] as number) * 2 ** 900;
    for (const A of [padded, huge, new Matrix(12, 12), Matrix.from([[0, 2], [-3, 0]])]) expect(polarFactorOfFinite(A)).toEqual(viaSvd(A));
    expect(polarFactorOfFinite(new Matrix(12, 12))).toEqual(Matrix.identity(12));
    expect(polarFactorOfFinite(Matrix.from([[0, 2], [-3, 0]])).toArray()).toEqual([[0, 1], [-1, 0]]);
  });

  it('rejects a non-square matrix', () => {
    expectCode(() => polarFactorOfFinite(new Matrix(3, 2)), 'SHAPE_MISMATCH');
  });
});

describe('svd and qr at extreme scales and with dead units (reflectors never overflow)', () => {
  it('values scale exactly with the input from 1e-300 to 1e300, tall, square and wide', async () => {
    const { qr, qrPivoted } = await import('./qr.js');
    for (const [m, n] of [[40, 10], [12, 12], [8, 20]] as const) {
      const A = gaussian(rngFor(`scale-${m}x${n}`), m, n);
      const ref = svd(A).s;
      const r00 = qr(A).R.get(0, 0);
      for (const c of [1e-300, 1e-170, 1e-160, 1e160, 1e170, 1e300]) {
        const B = new Matrix(m, n, A.data.map((x) => x * c));
        const f = svd(B);
        for (let i = 0; i < ref.length; i++) expect(f.s[i]! / c).toBeCloseTo(ref[i]!, 10);
        expect(f.U.data.every(Number.isFinite) && f.V.data.every(Number.isFinite)).toBe(true);
        expect(orthDefect(f.U)).toBeLessThan(1e-13);
        const q = qr(B);
        expect(q.R.get(0, 0) / c).toBeCloseTo(r00, 10);
        expect(orthDefect(q.Q)).toBeLessThan(1e-13);
        expect(qrPivoted(B).R.data.every(Number.isFinite)).toBe(true);
      }
    }
  });

  it('the 64 x 64 cross-product of MNIST activations with 48 dead units (it failed to converge) matches numpy', () => {
    // XᵀY of inverted-MNIST activations in which 48 of 64 units never fire: the bidiagonalisation's
    // trailing vectors shrank by ~1e-16 per step until the reflector's beta overflowed.
    const raw = readNpy(readFileSync(fileURLToPath(new URL('./testdata/svd-dead-units-64x64.npy', import.meta.url))));
    const M = new Matrix(64, 64, Float64Array.from(raw.data as Float64Array));
    const f = svd(M);
    // numpy.linalg.svd(M, compute_uv=False)[:7] (numpy 2.4.6, LAPACK gesdd)
    const want = [84782.6444660944, 896.0674985342157, 270.1810688491735, 111.01383439546329, 103.29145847925584, 28.86730348865965, 11.503040266994992];
    for (let i = 0; i < 7; i++) expect(f.s[i]! / want[i]!).toBeCloseTo(1, 10);
    expect(rank(M)).toBe(7);
    expect(maxAbsDiff(usvt(f.U, f.s, f.V), M)).toBeLessThan(1e-12 * f.s[0]!);
    expect(orthDefect(f.U)).toBeLessThan(1e-13);
    expect(orthDefect(f.V)).toBeLessThan(1e-13);
  });
});
