// rowPairDotsOf: each row pair's dot product and both rows' sums of squares in one read, on the
// WebAssembly SIMD kernel and on its JavaScript route (which must agree bit for bit: same order of
// additions), against a plain float64 loop, with rows of different widths (zero-padded),
// non-finite entries, squares beyond the float64 range, blocks of rows and its argument checks.
import { afterEach, describe, expect, it } from 'vitest';
import { isBasisError } from '../errors.js';
import { gaussian, onWasmAndJs, rngFor } from '../linalg/test-helpers.js';
import { setWasmEnabled, wasmGemmAvailable } from '../linalg/wasm-kernels.js';
import { Matrix } from '../matrix.js';
import { rowPairDotsOf } from './sums.js';

afterEach(() => setWasmEnabled(true));

describe('rowPairDotsOf', () => {
  // widths: equal, below, at and above the 8-entry blocks with tails, A wider, B wider, one side
  // without columns; one row; several blocks of rows (65536 doubles per block of both sides:
  // 300 rows of 300 + 300 are three); a row pair longer than a block (70001 + 3)
  const shapes = [
    [1, 1, 1],
    [3, 5, 5],
    [4, 8, 8],
    [7, 13, 13],
    [5, 19, 6],
    [6, 3, 17],
    [4, 0, 9],
    [130, 129, 129],
    [300, 300, 300],
    [2, 70001, 3],
  ] as const;

  it.each(shapes)('agrees with a plain float64 loop at %i rows, widths %i and %i, the kernel and the JavaScript route bit for bit', (n, da, db) => {
    const rng = rngFor(`row-pair-${n}x${da}x${db}`);
    const A = gaussian(rng, n, da);
    const B = gaussian(rng, n, db, 3);
    const r = onWasmAndJs(() => rowPairDotsOf(A, B));
    expect(wasmGemmAvailable()).toBe(true);
    expect(Array.from(r.wasm.dots)).toEqual(Array.from(r.js.dots));
    expect(Array.from(r.wasm.squaresA)).toEqual(Array.from(r.js.squaresA));
    expect(Array.from(r.wasm.squaresB)).toEqual(Array.from(r.js.squaresB));
    const c = Math.min(da, db);
    for (let i = 0; i < n; i++) {
      let d = 0;
      let abs = 0;
      let p = 0;
      let q = 0;
      for (let k = 0; k < c; k++) {
        d += A.get(i, k) * B.get(i, k);
        abs += Math.abs(A.get(i, k) * B.get(i, k));
      }
      for (let k = 0; k < da; k++) p += A.get(i, k) ** 2;
      for (let k = 0; k < db; k++) q += B.get(i, k) ** 2;
      const w = Math.max(da, db);
      expect(Math.abs((r.wasm.dots[i] as number) - d)).toBeLessThanOrEqual(1e-15 * w * abs);
      expect(Math.abs((r.wasm.squaresA[i] as number) - p)).toBeLessThanOrEqual(1e-15 * w * p);
      expect(Math.abs((r.wasm.squaresB[i] as number) - q)).toBeLessThanOrEqual(1e-15 * w * q);
    }
  });

  it('gives small exact cases exactly (the documented example, and zero-padding of the narrower row)', () => {
    const r = onWasmAndJs(() => rowPairDotsOf(Matrix.from([[1, 2], [3, 4]]), Matrix.from([[2, 0], [1, 1]])));
    const p = onWasmAndJs(() => rowPairDotsOf(Matrix.from([[1, 2, 5]]), Matrix.from([[3, 1]])));
    for (const k of ['wasm', 'js'] as const) {
      expect(Array.from(r[k].dots)).toEqual([2, 7]);
      expect(Array.from(r[k].squaresA)).toEqual([5, 25]);
      expect(Array.from(r[k].squaresB)).toEqual([4, 2]);
      expect([p[k].dots[0], p[k].squaresA[0], p[k].squaresB[0]]).toEqual([5, 30, 10]);
    }
  });

  it('turns a NaN or Inf entry into non-finite results of its row only, and squares beyond the float64 range into Infinity or 0', () => {
    const rng = rngFor('row-pair-bad');
    const A = gaussian(rng, 40, 21);
    const B = gaussian(rng, 40, 21);
    A.set(39, 20, NaN);
    B.set(3, 0, Infinity);
    A.set(11, 2, 1e200); // square 1e400: overflows
    for (let k = 0; k < 21; k++) B.set(13, k, 1e-170 * (k + 1)); // squares below 1e-323: underflow
    const r = onWasmAndJs(() => rowPairDotsOf(A, B));
    for (const { dots, squaresA, squaresB } of [r.wasm, r.js]) {
      expect(Number.isNaN(dots[39]) && Number.isNaN(squaresA[39])).toBe(true);
      expect(Number.isFinite(squaresB[39])).toBe(true);
      expect(Math.abs(dots[3] as number)).toBe(Infinity);
      expect(squaresB[3]).toBe(Infinity);
      expect(Number.isFinite(squaresA[3])).toBe(true);
      expect(squaresA[11]).toBe(Infinity);
      expect(Number.isFinite(dots[11])).toBe(true);
      expect(squaresB[13]).toBe(0);
      expect(Array.from(dots).filter((x) => !Number.isFinite(x))).toHaveLength(2);
    }
  });

  it('returns empty or zero results without rows or columns and rejects different row counts with SHAPE_MISMATCH', () => {
    expect(rowPairDotsOf(new Matrix(0, 3), new Matrix(0, 2)).dots).toHaveLength(0);
    const empty = rowPairDotsOf(new Matrix(2, 0), new Matrix(2, 0));
    expect(Array.from(empty.dots)).toEqual([0, 0]);
    expect(Array.from(empty.squaresA)).toEqual([0, 0]);
    let err: unknown;
    try {
      rowPairDotsOf(new Matrix(4, 3), new Matrix(5, 3));
    } catch (e) {
      err = e;
    }
    expect(isBasisError(err) ? err.code : err).toBe('SHAPE_MISMATCH');
    expect((err as Error).message).toContain('got 4 x 3 and 5 x 3');
  });
});
