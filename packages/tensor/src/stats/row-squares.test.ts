// rowSquaresAndDotsOf: the row sums of squares and row dots in one read, on the WebAssembly SIMD
// kernel and on its JavaScript route (which must agree bit for bit: same order of additions),
// against a plain float64 loop, with non-finite entries, squares beyond the float64 range, blocks
// of rows and its argument checks.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { isBasisError } from '../errors.js';
import { gaussian, onWasmAndJs, rngFor } from '../linalg/test-helpers.js';
import { setWasmEnabled, wasmGemmAvailable } from '../linalg/wasm-kernels.js';
import { Matrix } from '../matrix.js';
import { rowSquaresAndDotsOf } from './sums.js';

afterEach(() => setWasmEnabled(true));

/** Both routes: the WebAssembly kernel and the JavaScript loop. */
const onBothRoutes = onWasmAndJs;

describe('rowSquaresAndDotsOf', () => {
  it('runs the WebAssembly kernel here (Node has WebAssembly SIMD)', () => {
    expect(wasmGemmAvailable()).toBe(true);
  });

  // shapes: d below, at and above the 8-entry blocks with tails; one row; several blocks of rows
  // (65536 doubles per block: 300 x 300 is two); a row longer than a block (d = 70001)
  const shapes = [[1, 1], [3, 5], [4, 8], [7, 13], [2, 17], [130, 129], [300, 300], [2, 70001]] as const;

  it.each(shapes)('agrees with a plain float64 loop at %i x %i, the kernel and the JavaScript route bit for bit', (n, d) => {
    const rng = rngFor(`row-squares-${n}x${d}`);
    const X = gaussian(rng, n, d);
    const v = Array.from({ length: d }, (_, k) => Math.cos(k) * 3);
    const r = onBothRoutes(() => rowSquaresAndDotsOf(X, v));
    expect(Array.from(r.wasm.squares)).toEqual(Array.from(r.js.squares));
    expect(Array.from(r.wasm.dots)).toEqual(Array.from(r.js.dots));
    for (let i = 0; i < n; i++) {
      let q = 0;
      let p = 0;
      let abs = 0;
      for (let k = 0; k < d; k++) {
        const x = X.get(i, k);
        q += x * x;
        p += x * (v[k] as number);
        abs += Math.abs(x * (v[k] as number));
      }
      expect(Math.abs((r.wasm.squares[i] as number) - q)).toBeLessThanOrEqual(1e-15 * d * q);
      expect(Math.abs((r.wasm.dots[i] as number) - p)).toBeLessThanOrEqual(1e-15 * d * abs);
    }
  });

  it('gives small exact cases exactly (the documented example)', () => {
    const r = onBothRoutes(() => rowSquaresAndDotsOf(Matrix.from([[1, 2], [3, 4]]), [1, -1]));
    for (const { squares, dots } of [r.wasm, r.js]) {
      expect(Array.from(squares)).toEqual([5, 25]);
      expect(Array.from(dots)).toEqual([-1, -1]);
    }
  });

  it('turns a NaN or Inf entry into a non-finite result of its row only, and squares beyond the float64 range into Infinity or 0', () => {
    const rng = rngFor('row-squares-bad');
    const X = gaussian(rng, 40, 21);
    X.set(39, 20, NaN);
    X.set(3, 0, Infinity);
    X.set(5, 7, Infinity);
    X.set(5, 9, -Infinity);
    X.set(11, 2, 1e200); // square 1e400: overflows
    for (let k = 0; k < 21; k++) X.set(13, k, 1e-170 * (k + 1)); // squares below 1e-323: underflow
    const v = new Float64Array(21).fill(1);
    const r = onBothRoutes(() => rowSquaresAndDotsOf(X, v));
    for (const { squares, dots } of [r.wasm, r.js]) {
      expect(Number.isNaN(squares[39])).toBe(true);
      expect(Number.isNaN(dots[39])).toBe(true);
      expect(squares[3]).toBe(Infinity);
      expect(dots[3]).toBe(Infinity);
      expect(squares[5]).toBe(Infinity);
      expect(Number.isNaN(dots[5])).toBe(true);
      expect(squares[11]).toBe(Infinity);
      expect(Number.isFinite(dots[11])).toBe(true);
      expect(squares[13]).toBe(0);
      expect(dots[13]).toBeGreaterThan(0);
      expect(Array.from(squares).filter((x) => !Number.isFinite(x))).toHaveLength(4);
    }
  });

  it('is exact under scaling by a power of two and follows a permutation of the rows (each row on its own)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: -20, max: 20 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (n, d, e, seed) => {
          const rng = rngFor(`row-squares-prop-${seed}`);
          const X = gaussian(rng, n, d);
          const v = gaussian(rng, 1, d).data;
          const base = rowSquaresAndDotsOf(X, v);
          const s = 2 ** e;
          const scaled = rowSquaresAndDotsOf(new Matrix(n, d, X.data.map((x) => x * s)), v);
          const perm = Array.from({ length: n }, (_, i) => (i * 5 + 3) % n);
          const P = new Matrix(n, d);
          perm.forEach((src, i) => P.data.set(X.data.subarray(src * d, (src + 1) * d), i * d));
          const permuted = rowSquaresAndDotsOf(P, v);
          for (let i = 0; i < n; i++) {
            expect(scaled.squares[i]).toBe((base.squares[i] as number) * s * s);
            expect(scaled.dots[i]).toBe((base.dots[i] as number) * s);
            expect(permuted.squares[i]).toBe(base.squares[perm[i] as number]);
            expect(permuted.dots[i]).toBe(base.dots[perm[i] as number]);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('returns empty or zero results for a matrix without rows or columns and checks the length of v', () => {
    const none = rowSquaresAndDotsOf(new Matrix(0, 3), [1, 2, 3]);
    expect(none.squares).toHaveLength(0);
    expect(none.dots).toHaveLength(0);
    const empty = rowSquaresAndDotsOf(new Matrix(2, 0), []);
    expect(Array.from(empty.squares)).toEqual([0, 0]);
    expect(Array.from(empty.dots)).toEqual([0, 0]);
    let err: unknown;
    try {
      rowSquaresAndDotsOf(new Matrix(4, 3), [1, 2]);
    } catch (e) {
      err = e;
    }
    expect(isBasisError(err) ? err.code : err).toBe('SHAPE_MISMATCH');
    expect((err as Error).message).toContain('v.length === X.cols, got 2 and 4 x 3');
  });
});
