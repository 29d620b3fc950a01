import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BasisError } from '../errors.js';
import { onWasmAndJs } from '../linalg/test-helpers.js';
import { setWasmEnabled, wasmGemmAvailable } from '../linalg/wasm-kernels.js';
import { Matrix } from '../matrix.js';
import { createRng, randn } from '../index.js';
import { center, columnMeans, columnNorms, columnSumsAndSquares, corrMatrix, correlationsFromCross, correlationsOfCentred, normalizeColumns } from '../index.js';

/** Norms the slow, obviously right way: the largest entry scaled out first. */
function referenceNorms(X: Matrix): number[] {
  const out: number[] = [];
  for (let j = 0; j < X.cols; j++) {
    let mx = 0;
    for (let i = 0; i < X.rows; i++) mx = Math.max(mx, Math.abs(X.get(i, j)));
    let s = 0;
    for (let i = 0; i < X.rows; i++) s += mx === 0 ? 0 : (X.get(i, j) / mx) ** 2;
    out.push(mx * Math.sqrt(s));
  }
  return out;
}

function scaledCopy(X: Matrix, c: number): Matrix {
  return new Matrix(X.rows, X.cols, X.data.map((v) => v * c));
}

describe('fused column statistics', () => {
  it('center returns the norms of the centred columns it returns, and exact zeros for constant columns', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 6 }), (seed, n, d) => {
        const X = randn(n, d, createRng(seed));
        const k = seed % d;
        for (let i = 0; i < n; i++) X.set(i, k, 0.1 + seed); // one constant column
        const { centred, norms } = center(X);
        const ref = referenceNorms(centred);
        for (let j = 0; j < d; j++) {
          if (Math.abs((norms[j] as number) - (ref[j] as number)) > 1e-14 * Math.max(1, ref[j] as number)) return false;
        }
        return norms[k] === 0 && centred.data.every((v, idx) => idx % d !== k || v === 0);
      }),
      { numRuns: 100 },
    );
  });

  it('norms and means scale exactly with the input from 1e-300 to 1e300 (no overflow, no underflow)', () => {
    const X = randn(50, 5, createRng(3));
    const base = center(X);
    const raw = columnNorms(X);
    for (const e of [-300, -200, -160, -100, 100, 160, 200, 300, 305]) {
      const c = 2 ** Math.round(e * Math.log2(10)); // exact power of two near 10^e
      const Y = scaledCopy(X, c);
      const got = center(Y);
      for (let j = 0; j < 5; j++) {
        expect((got.norms[j] as number) / c).toBeCloseTo(base.norms[j] as number, 12);
        expect((got.means[j] as number) / c).toBeCloseTo(base.means[j] as number, 12);
        expect((columnNorms(Y)[j] as number) / c).toBeCloseTo(raw[j] as number, 12);
      }
    }
  });

  it('column sums that overflow are summed again scaled (means of entries near the float64 limit)', () => {
    const X = Matrix.from([[1.5e308, -1e308], [1.6e308, -1.2e308], [1.7e308, -1.1e308]]);
    const m = columnMeans(X);
    expect((m[0] as number) / 1.6e308).toBeCloseTo(1, 14);
    expect((m[1] as number) / -1.1e308).toBeCloseTo(1, 14);
  });

  it('deviations near the float64 limit: the rounding correction is summed scaled; centring that overflows is refused', () => {
    const X = Matrix.from([[1.7e308, 1], [1.7e308, 2], [-1.7e308, 3], [-1.7e308, 4]]);
    expect(columnMeans(X)[0]).toBe(0);
    expect(columnMeans(X)[1]).toBe(2.5);
    expect(() => center(Matrix.from([[1.7e308], [-1.7e308], [-1.7e308]]))).toThrow(/beyond the float64 range after centring/);
  });

  it('subnormal and tiny columns keep their norms (squares that underflow are rescaled)', () => {
    const X = Matrix.from([[3e-320, 3e-200], [4e-320, 4e-200]]);
    const n = columnNorms(X);
    expect((n[0] as number) / 5e-320).toBeCloseTo(1, 2); // subnormal inputs carry few bits themselves
    expect((n[1] as number) / 5e-200).toBeCloseTo(1, 14);
    expect(columnNorms(Matrix.from([[0, 1], [0, 2]]))[0]).toBe(0);
  });

  it('reject NaN and Inf with NON_FINITE_INPUT naming the entry, and empty input with TOO_SMALL', () => {
    for (const f of [center, columnMeans, columnNorms, (m: Matrix) => normalizeColumns(m)]) {
      expect(() => f(Matrix.from([[1, 2], [NaN, 3]]))).toThrow(/X\[1, 0\] is NaN/);
      expect(() => f(Matrix.from([[1, Infinity], [2, 3]]))).toThrow(BasisError);
      expect(() => f(Matrix.from([[1, -Infinity], [2, 3]]))).toThrow(/NON_FINITE|Infinity/);
      expect(() => f(new Matrix(0, 3))).toThrow(/at least 1 row/);
    }
  });

  it('correlationsOfCentred equals unit(Xc)ᵀ unit(Yc), also when column scales are extreme', () => {
    const rng = createRng(9);
    const X = randn(40, 6, rng);
    const Y = randn(40, 4, rng);
    const unitProduct = (A: Matrix, B: Matrix): number[][] => {
      const a = normalizeColumns(center(A).centred).normalized;
      const b = normalizeColumns(center(B).centred).normalized;
      return Array.from({ length: a.cols }, (_, i) =>
        Array.from({ length: b.cols }, (_, j) => {
          let s = 0;
          for (let t = 0; t < a.rows; t++) s += a.get(t, i) * b.get(t, j);
          return s;
        }),
      );
    };
    const ref = unitProduct(X, Y);
    // one column of X at 1e300 and one of Y at 1e-300: correlations are unchanged
    const X2 = X.clone();
    const Y2 = Y.clone();
    for (let t = 0; t < 40; t++) {
      X2.set(t, 2, X2.get(t, 2) * 1e300);
      Y2.set(t, 1, Y2.get(t, 1) * 1e-300);
    }
    for (const [A, B] of [[X, Y], [X2, Y2]] as const) {
      const cx = center(A);
      const cy = center(B);
      const C = correlationsOfCentred(cx.centred, cx.norms, cy.centred, cy.norms);
      for (let i = 0; i < 6; i++) for (let j = 0; j < 4; j++) expect(C.get(i, j)).toBeCloseTo(ref[i]![j]!, 12);
      expect(corrMatrix(A, B).corr.data.every((v, k) => Math.abs(v - C.data[k]!) < 1e-15)).toBe(true);
    }
  });

  it('correlationsOfCentred gives 0 for constant columns and rejects mismatched shapes', () => {
    const X = Matrix.from([[1, 5], [2, 5], [4, 5]]);
    const cx = center(X);
    const C = correlationsOfCentred(cx.centred, cx.norms, cx.centred, cx.norms);
    expect(C.get(0, 0)).toBeCloseTo(1, 15);
    expect(C.get(1, 1)).toBe(0);
    expect(C.get(0, 1)).toBe(0);
    expect(() => correlationsOfCentred(cx.centred, cx.norms, new Matrix(2, 2), new Float64Array(2))).toThrow(/rows/);
    expect(() => correlationsOfCentred(cx.centred, new Float64Array(1), cx.centred, cx.norms)).toThrow(/norms/);
  });
});

describe('columnSumsAndSquares', () => {
  it('equals plain per-column sums on every row-count remainder, and propagates NaN/Inf into its column only', () => {
    for (const n of [1, 2, 3, 4, 5, 7, 9]) {
      const X = randn(n, 3, createRng(n));
      const { sums, squares } = columnSumsAndSquares(X);
      for (let j = 0; j < 3; j++) {
        let s = 0;
        let q = 0;
        for (let i = 0; i < n; i++) {
          s += X.get(i, j);
          q += X.get(i, j) ** 2;
        }
        expect(sums[j]).toBeCloseTo(s, 13);
        expect(squares[j]).toBeCloseTo(q, 13);
      }
    }
    const X = Matrix.from([[1, 2], [NaN, 3], [4, Infinity]]);
    const { sums, squares } = columnSumsAndSquares(X);
    expect(Number.isNaN(sums[0])).toBe(true);
    expect(sums[1]).toBe(Infinity);
    expect(squares[1]).toBe(Infinity);
  });
});

describe('columnSumsAndSquares on the WebAssembly kernel and in JavaScript', () => {
  afterEach(() => setWasmEnabled(true));

  // d odd and even (the kernel's scalar last column), 1; rows below, at and above a group of four
  // with remainders; several blocks of groups (65536 doubles per block: 4 x 257 x 64 = 65792 is two
  // at d = 257); a group of four rows larger than one block (d = 20000)
  const shapes = [[3, 5], [4, 1], [4, 2], [5, 3], [11, 8], [64, 257], [301, 257], [9, 20000]] as const;

  it.each(shapes)('at %i x %i: the kernel and the JavaScript loop agree bit for bit, and with a plain per-column sum to rounding', (n, d) => {
    const rng = createRng(n * 100003 + d);
    const X = randn(n, d, rng);
    for (let k = 0; k < X.data.length; k += 7) X.data[k] = (X.data[k] as number) * 1e3 + 5; // mixed scales, non-zero means
    const r = onWasmAndJs(() => columnSumsAndSquares(X));
    expect(wasmGemmAvailable()).toBe(true);
    expect(Array.from(r.wasm.sums)).toEqual(Array.from(r.js.sums));
    expect(Array.from(r.wasm.squares)).toEqual(Array.from(r.js.squares));
    for (let j = 0; j < d; j += Math.max(1, Math.floor(d / 17))) {
      let s = 0;
      let q = 0;
      let abs = 0;
      for (let i = 0; i < n; i++) {
        const x = X.get(i, j);
        s += x;
        q += x * x;
        abs += Math.abs(x);
      }
      expect(Math.abs((r.wasm.sums[j] as number) - s)).toBeLessThanOrEqual(1e-13 * abs);
      expect(Math.abs((r.wasm.squares[j] as number) - q)).toBeLessThanOrEqual(1e-13 * q);
    }
  });

  it('puts a NaN, an Inf or an overflow of the squares into its own column only, on both routes (no screening)', () => {
    const X = randn(9, 5, createRng(3));
    X.set(2, 1, NaN); // in a group of four
    X.set(5, 3, -Infinity); // in the second group
    X.set(8, 4, NaN); // in the remainder row
    X.set(0, 0, 1e200); // its square overflows
    const r = onWasmAndJs(() => columnSumsAndSquares(X));
    for (const { sums, squares } of [r.wasm, r.js]) {
      expect(Number.isNaN(sums[1])).toBe(true);
      expect(sums[3]).toBe(-Infinity);
      expect(squares[3]).toBe(Infinity);
      expect(Number.isNaN(sums[4])).toBe(true);
      expect(squares[0]).toBe(Infinity);
      expect(Number.isFinite(sums[0])).toBe(true);
      expect(Number.isFinite(sums[2]) && Number.isFinite(squares[2])).toBe(true);
    }
  });
});

describe('correlationsFromCross', () => {
  it('divides by both norms (0 for a zero norm), clamps to [-1, 1], leaves its input alone and checks shapes', () => {
    const C = Matrix.from([[2, -1, 5], [0, 3, 1]]);
    const R = correlationsFromCross(C, Float64Array.of(2, 0), Float64Array.of(1, 4, 2));
    expect(R.toArray()).toEqual([[1, -0.125, 1], [0, 0, 0]]);
    expect(C.toArray()).toEqual([[2, -1, 5], [0, 3, 1]]);
    expect(() => correlationsFromCross(C, Float64Array.of(1), Float64Array.of(1, 1, 1))).toThrow(BasisError);
  });
});
