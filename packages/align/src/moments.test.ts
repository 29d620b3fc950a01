import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Matrix, center, createRng, crossprod, gram, linearSumAssignment, matmul, randn, svd } from '@basis/tensor';
import { chordFrom, columnMoments, columnSums, provenFinite, MOMENT_KAPPA } from './moments.js';
import { metric } from './registry.js';

// The moment route (`Xcᵀ Yc = Xᵀ Y - n mx myᵀ`, no centred copies) against plain float64 references
// that centre first, for column offsets on both sides of the guard.

function frob2(m: Matrix): number {
  let s = 0;
  for (const v of m.data) s += v * v;
  return s;
}

function refCka(X: Matrix, Y: Matrix): number {
  const Xc = center(X).centred;
  const Yc = center(Y).centred;
  return frob2(crossprod(Xc, Yc)) / Math.sqrt(frob2(gram(Xc)) * frob2(gram(Yc)));
}

function refCorr(X: Matrix, Y: Matrix): number[][] {
  const { centred: Xc, norms: nx } = center(X);
  const { centred: Yc, norms: ny } = center(Y);
  const C = crossprod(Xc, Yc);
  return C.toArray().map((row, i) => row.map((v, j) => (nx[i] === 0 || ny[j] === 0 ? 0 : v / ((nx[i] as number) * (ny[j] as number)))));
}

/** n x d data with column j shifted by `kappa[j]` standard deviations (sd 1 before the shift). */
function shifted(n: number, d: number, kappa: number[], seed: number, scale = 1): Matrix {
  const Z = center(randn(n, d, createRng(seed))).centred;
  const { norms } = center(Z);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const sd = (norms[j] as number) / Math.sqrt(n);
      Z.data[i * d + j] = ((Z.data[i * d + j] as number) / sd + (kappa[j] as number)) * scale;
    }
  }
  return Z;
}

describe('columnMoments: which inputs take the moment route', () => {
  it('accepts offsets up to MOMENT_KAPPA standard deviations and all-zero (dead) columns', () => {
    const X = shifted(50, 3, [0, -7.5, 7.5], 1);
    expect(columnMoments(X).raw).toBe(true);
    const D = new Matrix(4, 2, Float64Array.from([1, 0, 2, 0, 3, 0, 5, 0]));
    const m = columnMoments(D);
    expect(m.raw).toBe(true);
    expect(Array.from(m.centredSquares)).toEqual([8.75, 0]);
  });

  it('refuses larger offsets, constant non-zero columns, tiny or huge scales, and non-finite moments', () => {
    expect(columnMoments(shifted(50, 2, [0, MOMENT_KAPPA * 1.2], 2)).raw).toBe(false);
    expect(columnMoments(new Matrix(3, 2, Float64Array.from([1, 7, 2, 7, 3, 7]))).raw).toBe(false);
    expect(columnMoments(shifted(20, 2, [0, 0], 3, 1e-200)).raw).toBe(false); // squares underflow
    expect(columnMoments(shifted(20, 2, [0, 0], 4, 1e100)).raw).toBe(false);
    const big = shifted(20, 2, [0, 0], 5, 1e200); // squares overflow: moments not finite, entries are
    expect(columnMoments(big).finite).toBe(false);
    expect(columnMoments(big).raw).toBe(false);
  });

  it('proves inputs finite for the metrics: NaN and Inf are still refused with NON_FINITE_INPUT', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const X = randn(10, 3, createRng(6));
      X.data[7] = bad;
      expect(() => metric('cka.linear', X, randn(10, 2, createRng(7)))).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
    }
    // entries whose squares overflow are finite: accepted, and the value is the scale-free one
    const X = shifted(30, 3, [0.5, -1, 2], 8);
    const Y = shifted(30, 2, [1, 0], 9);
    const big = new Matrix(30, 3, X.data.map((v) => v * 1e200));
    expect(metric('cka.linear', big, Y).value).toBeCloseTo(metric('cka.linear', X, Y).value, 12);
  });

  it('large inputs (native engine: one dgemv of column sums) are proved finite the same way', () => {
    const base = randn(200, 100, createRng(10)); // 20000 entries: past the dgemv crossover
    const other = randn(200, 7, createRng(11));
    const cases: [string, (X: Matrix) => void][] = [
      ['NaN in the last entry', (X) => void (X.data[X.data.length - 1] = NaN)],
      ['Inf in the first entry', (X) => void (X.data[0] = Infinity)],
      ['Inf and -Inf in one column', (X) => void ((X.data[5 * 100 + 4] = Infinity), (X.data[9 * 100 + 4] = -Infinity))],
    ];
    for (const [what, poison] of cases) {
      const X = base.clone();
      poison(X);
      expect(provenFinite(X), what).toBe(false);
      expect(() => metric('stat.magnitude', X, other), what).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
      expect(() => metric('cka.linear', other, X), what).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
    }
    // finite entries whose column sum overflows: not proved by the sums, accepted by the exact check
    const huge = base.clone();
    for (let i = 0; i < 200; i++) huge.data[i * 100 + 3] = 1.7e308;
    expect(provenFinite(huge)).toBe(false);
    expect(Number.isFinite(metric('stat.concentricity', huge, other).value)).toBe(true);
    // corrmatch.soft proves its inputs finite from their column moments (screen 'moments'): the
    // same refusals, naming the entry, on small and large inputs and on either side
    const refusal = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        return `${(e as { code?: string }).code} ${(e as Error).message}`;
      }
      return 'no error';
    };
    for (const [what, poison] of cases) {
      const X = base.clone();
      poison(X);
      expect(refusal(() => metric('corrmatch.soft', X, other)), what).toMatch(/^NON_FINITE_INPUT X\[/);
      expect(refusal(() => metric('corrmatch.soft', other, X)), what).toMatch(/^NON_FINITE_INPUT Y\[/);
    }
    const small = randn(10, 3, createRng(6));
    small.data[7] = NaN;
    expect(() => metric('corrmatch.soft', small, randn(10, 2, createRng(7)))).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
    expect(Number.isFinite(metric('corrmatch.soft', huge, other).value)).toBe(true);
    // the sums are memoised per matrix and equal the plain ones to rounding
    const s = columnSums(base);
    expect(columnSums(base)).toBe(s);
    for (let j = 0; j < 100; j++) {
      let ref = 0;
      for (let i = 0; i < 200; i++) ref += base.get(i, j);
      expect(Math.abs((s[j] as number) - ref)).toBeLessThan(1e-12);
    }
  });
});

describe('values do not depend on the metrics computed before on the same matrices', () => {
  it('stat.magnitude and stat.concentricity after corrmatch.soft (which computes the column moments first) equal them alone, bit for bit', () => {
    // large enough for the native dgemv column sums, whose rounding differs from the moment pass's
    const X = shifted(300, 80, Array.from({ length: 80 }, (_, j) => Math.sin(j) * 3), 21);
    const Y = shifted(300, 40, Array.from({ length: 40 }, (_, j) => Math.cos(j)), 22);
    const alone = ['stat.magnitude', 'stat.concentricity'].map((id) => metric(id, X.clone(), Y.clone()).value);
    const [x, y] = [X.clone(), Y.clone()];
    metric('corrmatch.soft', x, y);
    expect(columnMoments(x).raw).toBe(true);
    expect(['stat.magnitude', 'stat.concentricity'].map((id) => metric(id, x, y).value)).toEqual(alone);
  });
});

describe('the moment route agrees with centring first', () => {
  const kappa = fc.double({ min: -0.99 * MOMENT_KAPPA, max: 0.99 * MOMENT_KAPPA, noNaN: true });
  const arbCase = fc.record({
    n: fc.integer({ min: 5, max: 40 }),
    dx: fc.integer({ min: 1, max: 6 }),
    dy: fc.integer({ min: 1, max: 6 }),
    kx: fc.array(kappa, { minLength: 6, maxLength: 6 }),
    ky: fc.array(kappa, { minLength: 6, maxLength: 6 }),
    seed: fc.integer({ min: 1, max: 1e6 }),
    scale: fc.constantFrom(1, 1e-15, 3e14),
  });

  it('cka.linear, correlations (permcorr, softmatch), permutation and Procrustes similarities: 1e-12', () => {
    fc.assert(
      fc.property(arbCase, ({ n, dx, dy, kx, ky, seed, scale }) => {
        const X = shifted(n, dx, kx, seed, scale);
        const Y = shifted(n, dy, ky, seed + 1);
        expect(columnMoments(X).raw && columnMoments(Y).raw).toBe(true);
        expect(metric('cka.linear', X, Y).value).toBeCloseTo(refCka(X, Y), 12);
        const C = refCorr(X, Y);
        // permcorr with dx = dy is the mean of matched correlations: bounded by the best row entries
        const best = C.map((row) => Math.max(...row));
        if (dx === dy) expect(metric('permcorr', X, Y).value).toBeLessThanOrEqual(best.reduce((a, b) => a + b, 0) / dx + 1e-12);
        // the same pair through centred copies (offsets removed first) gives the same values
        const Xc = center(X).centred;
        const Yc = center(Y).centred;
        for (const id of ['cka.linear', 'cka.linear.unbiased', 'permcorr', 'softmatch', 'permutation.similarity', 'procrustes.similarity']) {
          if (id === 'cka.linear.unbiased' && n < 4) continue;
          expect(metric(id, X, Y).value, id).toBeCloseTo(metric(id, Xc, Yc).value, 12);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('just past the guard the centred route is taken and values stay exact (offset 1e6 sd)', () => {
    const X = shifted(40, 4, [1e6, -1e6, 3, 0], 11);
    const Y = shifted(40, 3, [0, 2e6, -4], 12);
    expect(columnMoments(X).raw).toBe(false);
    const Xc = center(X).centred;
    const Yc = center(Y).centred;
    for (const id of ['cka.linear', 'cka.linear.unbiased', 'permcorr', 'procrustes.similarity']) {
      expect(metric(id, X, Y).value, id).toBeCloseTo(metric(id, Xc, Yc).value, 8);
    }
  });
});

describe('chord shortcut: residual metrics from their similarity, against entry-by-entry residuals', () => {
  const pad = (M: Matrix, p: number): Matrix => {
    const out = new Matrix(M.rows, p);
    for (let i = 0; i < M.rows; i++) for (let j = 0; j < M.cols; j++) out.data[i * p + j] = M.data[i * M.cols + j] as number;
    return out;
  };
  const norm = (M: Matrix): number => Math.sqrt(frob2(M));
  const scale = (M: Matrix, c: number): Matrix => new Matrix(M.rows, M.cols, M.data.map((v) => v * c));
  const diff = (A: Matrix, B: Matrix): number => {
    let s = 0;
    for (let k = 0; k < A.data.length; k++) s += ((A.data[k] as number) - (B.data[k] as number)) ** 2;
    return Math.sqrt(s);
  };
  const rotation = (A: Matrix, B: Matrix): Matrix => {
    const { U, V } = svd(crossprod(A, B));
    return matmul(U, V.transpose());
  };
  const unitCols = (M: Matrix): Matrix => {
    const { centred: C, norms } = center(M);
    return new Matrix(C.rows, C.cols, C.data.map((v, k) => (norms[k % C.cols] === 0 ? 0 : v / (norms[k % C.cols] as number))));
  };
  const matchedResidual = (A: Matrix, B: Matrix): number => {
    const { rowInd, colInd } = linearSumAssignment(crossprod(A, B), { maximize: true });
    const P = new Matrix(A.cols, B.cols);
    for (let k = 0; k < rowInd.length; k++) P.data[(rowInd[k] as number) * B.cols + (colInd[k] as number)] = 1;
    // unmatched columns of either side count with their own norm (the zero-padded residual): B's
    // are in A P - B already (zero columns of A P), A's are added
    let r2 = diff(matmul(A, P), B) ** 2;
    const usedA = new Set(rowInd);
    for (let j = 0; j < A.cols; j++) if (!usedA.has(j)) for (let i = 0; i < A.rows; i++) r2 += (A.data[i * A.cols + j] as number) ** 2;
    return Math.sqrt(r2);
  };

  it('procrustes.angular / .euclidean, permutation.angular and grelu.procrustes to 1e-11, equal and unequal widths', () => {
    fc.assert(
      fc.property(
        fc.record({ n: fc.integer({ min: 6, max: 40 }), dx: fc.integer({ min: 1, max: 6 }), dy: fc.integer({ min: 1, max: 6 }), seed: fc.integer({ min: 1, max: 1e6 }), mix: fc.double({ min: 0, max: 0.9, noNaN: true }) }),
        ({ n, dx, dy, seed, mix }) => {
          const X = randn(n, dx, createRng(seed));
          // Y partly a linear image of X, so similarities range from chance to high (not ~1)
          const Y0 = matmul(X, randn(dx, dy, createRng(seed + 1)));
          const E = randn(n, dy, createRng(seed + 2));
          const Y = new Matrix(n, dy, Y0.data.map((v, k) => mix * v + (1 - mix) * (E.data[k] as number) + 3));
          const p = Math.max(dx, dy);
          const Xc = pad(center(X).centred, p);
          const Yc = pad(center(Y).centred, p);
          const Xn = scale(Xc, 1 / norm(Xc));
          const Yn = scale(Yc, 1 / norm(Yc));
          const angle = (r: number): number => 2 * Math.asin(Math.min(1, r / 2));
          const want: Record<string, number> = {
            'procrustes.angular': angle(diff(matmul(Xn, rotation(Xn, Yn)), Yn)),
            'procrustes.euclidean': diff(Xc, matmul(Yc, rotation(Yc, Xc))),
            'permutation.angular': angle(matchedResidual(scale(center(X).centred, 1 / norm(Xc)), scale(center(Y).centred, 1 / norm(Yc)))),
            'grelu.procrustes': 1 - matchedResidual(unitCols(X), unitCols(Y)) / (2 * Math.sqrt(p)),
          };
          for (const [id, w] of Object.entries(want)) {
            const got = metric(id, X, Y).value;
            expect(Math.abs(got - w), `${id}: ${got} vs ${w}`).toBeLessThanOrEqual(1e-11 * Math.max(1, Math.abs(w)));
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it('near-identical inputs are measured entry by entry: tiny angles keep their relative accuracy', () => {
    const X = randn(200, 8, createRng(21));
    const E = randn(200, 8, createRng(22));
    const Y = new Matrix(200, 8, X.data.map((v, k) => v + 1e-9 * (E.data[k] as number)));
    const Xc = center(X).centred;
    const Yc = center(Y).centred;
    const Xn = scale(Xc, 1 / norm(Xc));
    const Yn = scale(Yc, 1 / norm(Yc));
    const want = 2 * Math.asin(diff(matmul(Xn, rotation(Xn, Yn)), Yn) / 2);
    expect(want).toBeLessThan(1e-8);
    expect(Math.abs(metric('procrustes.angular', X, Y).value - want)).toBeLessThanOrEqual(1e-6 * want);
    // through 2 - 2s the same angle would be lost: s rounds to within 1e-16 of 1
    expect(chordFrom(2, 1 - want * want / 2)).toBeUndefined();
  });
});
