import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { setLapackCrossover } from '../engine/lapack.js';
import { BasisError } from '../errors.js';
import { Matrix } from '../matrix.js';
import { eigh } from './eigh.js';
import type * as Dc from './tridiag-dc.js';
import { columnsSignNormalised, gaussian, maxAbsDiff, orthDefect, rngFor, usvt } from './test-helpers.js';

// The divide-and-conquer solver is replaced by one that fails (first call: no convergence,
// second call: a non-finite result), to exercise eigh's fallback to implicit QL.
let calls = 0;
vi.mock('./tridiag-dc.js', async (importOriginal) => {
  const real = await importOriginal<typeof Dc>();
  return {
    ...real,
    tridiagEigDC: (d: Float64Array, e: Float64Array, n: number): Float64Array => {
      calls++;
      if (calls === 1) throw new BasisError('NOT_CONVERGED', 'test: forced failure');
      const Z = real.tridiagEigDC(d, e, n);
      Z[3] = NaN;
      return Z;
    },
  };
});

describe('eigh fallback from divide and conquer to QL', () => {
  // basis' own kernel is under test: keep eigh off the native provider (LAPACK dsyevd).
  let prev: ReturnType<typeof setLapackCrossover>;
  beforeAll(() => {
    prev = setLapackCrossover('never');
  });
  afterAll(() => {
    setLapackCrossover(prev);
  });
  it('still returns a correct decomposition when divide and conquer fails or yields non-finite numbers', () => {
    const g = gaussian(rngFor('fallback'), 40, 40);
    const S = new Matrix(40, 40);
    for (let i = 0; i < 40; i++) for (let j = 0; j < 40; j++) S.set(i, j, g.get(i, j) + g.get(j, i));
    for (let rep = 0; rep < 2; rep++) {
      const { values, vectors } = eigh(S);
      expect(maxAbsDiff(usvt(vectors, values, vectors), S)).toBeLessThan(1e-12);
      expect(orthDefect(vectors)).toBeLessThan(1e-13);
      expect(columnsSignNormalised(vectors)).toBe(true);
      for (const v of values) expect(Number.isFinite(v)).toBe(true);
    }
    expect(calls).toBe(2);
  });
});
