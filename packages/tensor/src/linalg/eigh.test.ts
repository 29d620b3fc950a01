import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fixtureBytes, fixtureJson } from '@basis/test-utils';
import { readNpyMatrix } from '../index.js';
import { Matrix } from '../matrix.js';
import { trace } from './basic.js';
import { eigh } from './eigh.js';
import { columnsSignNormalised, expectCode, gaussian, maxAbs, maxAbsDiff, orthDefect, randomOrthogonal, rngFor, usvt } from './test-helpers.js';

function randomSymmetric(seed: number | string, n: number): Matrix {
  const a = gaussian(rngFor(seed), n, n);
  const s = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s.set(i, j, (a.get(i, j) + a.get(j, i)) / 2);
  return s;
}

function checkDecomposition(S: Matrix, tol = 1e-13): void {
  const { values, vectors } = eigh(S);
  const n = S.rows;
  expect(values.length).toBe(n);
  for (let j = 1; j < n; j++) expect(values[j] as number).toBeLessThanOrEqual(values[j - 1] as number);
  const scale = Math.max(1, maxAbs(S));
  expect(maxAbsDiff(usvt(vectors, values, vectors), S)).toBeLessThan(tol * n * scale);
  expect(orthDefect(vectors)).toBeLessThan(tol * n);
  expect(columnsSignNormalised(vectors)).toBe(true);
}

describe('eigh', () => {
  it('reconstructs random symmetric matrices with orthonormal, sign-normalised vectors', () => {
    for (const n of [1, 2, 3, 4, 5, 8, 17, 40, 64]) checkDecomposition(randomSymmetric(`sym-${n}`, n));
  });

  it('planted spectrum with repeated and zero eigenvalues', () => {
    const rng = rngFor('planted');
    const n = 12;
    const Q = randomOrthogonal(rng, n);
    const lam = [7, 7, 7, 3, 0, 0, 0, 0, -2, -2, -5, -5];
    const S = usvt(Q, lam, Q);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) S.set(i, j, S.get(j, i));
    const { values, vectors } = eigh(S);
    expect(values).toBeAllclose(lam, { atol: 1e-13 * 7 * n });
    checkDecomposition(S);
    // Each eigenvector satisfies S v = lambda v.
    for (let j = 0; j < n; j++) {
      const v = vectors.col(j);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += S.get(i, k) * (v[k] as number);
        expect(Math.abs(s - (values[j] as number) * (v[i] as number))).toBeLessThan(1e-12);
      }
    }
  });

  it('2 x 2 closed form, diagonal, zero and identity matrices', () => {
    const r = eigh([
      [2, 1],
      [1, 2],
    ]);
    expect(r.values).toBeAllclose([3, 1], { atol: 1e-15 });
    expect(r.vectors).toBeAllclose(Matrix.from([[Math.SQRT1_2, Math.SQRT1_2], [Math.SQRT1_2, -Math.SQRT1_2]]), { atol: 1e-15 });
    expect(eigh([[-4]]).values).toEqual(Float64Array.from([-4]));
    expect(eigh([[-4]]).vectors.toArray()).toEqual([[1]]);
    const d = eigh(Matrix.diag([1, 5, -3, 2]));
    expect(Array.from(d.values)).toEqual([5, 2, 1, -3]);
    const z = eigh(new Matrix(3, 3));
    expect(Array.from(z.values)).toEqual([0, 0, 0]);
    expect(z.vectors.toArray()).toEqual(Matrix.identity(3).toArray());
  });

  it('handles tiny and huge scales without overflow', () => {
    for (const sc of [1e-300, 1e300]) {
      const S = randomSymmetric('scale', 6);
      for (let k = 0; k < S.data.length; k++) S.data[k] = (S.data[k] as number) * sc;
      const { values } = eigh(S);
      const ref = eigh(randomSymmetric('scale', 6)).values;
      for (let j = 0; j < 6; j++) expect((values[j] as number) / sc).toBeCloseTo(ref[j] as number, 12);
    }
  });

  it('ill-conditioned (condition 1e12): spectrum to n eps max|λ|, reconstruction and orthogonality', () => {
    const n = 30;
    const rng = rngFor('eigh-illcond');
    // log-spaced magnitudes 1 .. 1e-12 with alternating signs (indefinite as well as SPD)
    for (const signs of [false, true]) {
      const lam = Array.from({ length: n }, (_, i) => (signs && i % 2 === 1 ? -1 : 1) * 10 ** (-12 * (i / (n - 1))));
      const Q = randomOrthogonal(rng, n);
      const S = usvt(Q, lam, Q);
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) S.set(i, j, S.get(j, i));
      const { values } = eigh(S);
      expect(values).toBeAllclose([...lam].sort((a, b) => b - a), { rtol: 0, atol: 1e-14 * n });
      checkDecomposition(S);
    }
  });

  it('values-only mode returns the same spectrum', () => {
    const S = randomSymmetric('vals', 30);
    const full = eigh(S);
    const only = eigh(S, { vectors: false });
    expect(only.values).toBeAllclose(full.values, { rtol: 0, atol: 1e-13 });
    expect('vectors' in only).toBe(false);
  });

  it('golden values: linalg fixtures (eigenvalues descending, trace)', () => {
    const expected = fixtureJson<Record<string, { eigenvalues_desc?: number[]; trace?: number }>>('linalg/expected.json');
    for (const name of ['eigh-sym-40', 'eigh-repeated-12']) {
      const want = expected[name] as { eigenvalues_desc: number[]; trace: number };
      const S = readNpyMatrix(fixtureBytes(`linalg/${name}.npy`));
      const { values, vectors } = eigh(S);
      const big = Math.max(1, ...want.eigenvalues_desc.map(Math.abs));
      expect(values).toBeAllclose(want.eigenvalues_desc, { rtol: 0, atol: 1e-9 * big });
      let sum = 0;
      for (const v of values) sum += v;
      expect(Math.abs(sum - want.trace)).toBeLessThanOrEqual(1e-9 * big);
      expect(Math.abs(trace(S) - want.trace)).toBeLessThanOrEqual(1e-9 * big);
      expect(orthDefect(vectors)).toBeLessThan(1e-13);
    }
  });

  it('property: reconstruction and orthogonality for small random symmetric matrices', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.nat(), (n, seed) => {
        checkDecomposition(randomSymmetric(seed, n), 1e-12);
      }),
      { numRuns: 50 },
    );
  });

  it('is deterministic', () => {
    const S = randomSymmetric('det', 20);
    expect(eigh(S).vectors.data).toEqual(eigh(S.clone()).vectors.data);
  });

  it('symmetrises tiny asymmetry and rejects large asymmetry', () => {
    const S = randomSymmetric('asym', 5);
    const T = S.clone();
    T.set(0, 1, T.get(0, 1) + 1e-14);
    expect(eigh(T).values).toBeAllclose(eigh(S).values, { atol: 1e-13 });
    const bad = S.clone();
    bad.set(0, 1, bad.get(0, 1) + 0.5);
    const msg = expectCode(() => eigh(bad), 'INVALID_ARGUMENT');
    expect(msg).toMatch(/not symmetric/);
    expect(eigh(bad, { symmetryTol: 1 }).values.length).toBe(5);
  });

  it('rejects bad input', () => {
    expectCode(() => eigh([[1, 2, 3]]), 'SHAPE_MISMATCH');
    expectCode(() => eigh(new Matrix(0, 0)), 'TOO_SMALL');
    expectCode(() => eigh([[1, NaN], [NaN, 1]]), 'NON_FINITE_INPUT');
    expectCode(() => eigh([[Infinity]]), 'NON_FINITE_INPUT');
    expectCode(() => eigh([[1]], { symmetryTol: -1 }), 'INVALID_ARGUMENT');
  });
});
