import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { BasisError } from '../errors.js';
import { Matrix } from '../matrix.js';
import { maxProductGram, setMaxProductWasmEnabled } from './max-product.js';

afterEach(() => setMaxProductWasmEnabled(true));

/** The definition, entry by entry, without any shortcut. */
function bruteForce(rows: number[][]): number[][] {
  return rows.map((a) => rows.map((b) => Math.max(...a.map((v, k) => v * (b[k] as number)))));
}

/** Entries compared as numbers with -0 and +0 identified (the kernel's documented latitude). */
const plain = (m: Matrix): number[][] => m.toArray().map((r) => r.map((v) => v + 0));

const matrixArb = fc
  .record({ n: fc.integer({ min: 1, max: 13 }), d: fc.integer({ min: 1, max: 9 }) })
  .chain(({ n, d }) =>
    fc.array(fc.array(fc.oneof(fc.double({ min: -1e3, max: 1e3, noNaN: true }), fc.constantFrom(0, -0, 1, -1, 2.5)), { minLength: d, maxLength: d }), {
      minLength: n,
      maxLength: n,
    }),
  );

describe('maxProductGram', () => {
  it('is the definition on a small example (wasm and JavaScript)', () => {
    const X = [[1, -2], [3, 1], [-1, -4]];
    const want = [[4, 3, 8], [3, 9, -3], [8, -3, 16]];
    expect(maxProductGram(X).toArray()).toEqual(want);
    setMaxProductWasmEnabled(false);
    expect(maxProductGram(X).toArray()).toEqual(want);
  });

  it('equals brute force on both paths for any finite input (odd widths, row counts not a multiple of 4)', () => {
    fc.assert(
      fc.property(matrixArb, (rows) => {
        const want = bruteForce(rows).map((r) => r.map((v) => v + 0));
        setMaxProductWasmEnabled(true);
        const wasm = maxProductGram(rows);
        setMaxProductWasmEnabled(false);
        const js = maxProductGram(rows);
        expect(plain(wasm)).toEqual(want);
        expect(plain(js)).toEqual(want);
      }),
      { numRuns: 200 },
    );
  });

  it('is symmetric and permutes with the rows (K[P X] = P K[X] Pᵀ), and with the columns, not with a rotation of two columns', () => {
    const n = 37;
    const d = 23;
    const X = Matrix.from(Array.from({ length: n }, (_, i) => Array.from({ length: d }, (_, k) => Math.sin(i * 7.1 + k * 3.3) * (1 + k))));
    const K = maxProductGram(X);
    const perm = Array.from({ length: n }, (_, i) => (i * 11) % n);
    const Kp = maxProductGram(Matrix.from(perm.map((p) => X.toArray()[p] as number[])));
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        expect(K.get(i, j)).toBe(K.get(j, i));
        expect(Kp.get(i, j)).toBe(K.get(perm[i] as number, perm[j] as number));
      }
    }
    // permuting columns leaves K unchanged; rotating two columns changes it (not an invariance)
    const c = Math.cos(0.3);
    const s = Math.sin(0.3);
    const rotated = X.toArray().map((r) => r.map((v, k) => (k === 0 ? c * v - s * (r[1] as number) : k === 1 ? s * (r[0] as number) + c * v : v)));
    expect(maxProductGram(rotated).toArray()).not.toEqual(K.toArray());
    const swapped = X.toArray().map((r) => [...r.slice(1), r[0] as number]);
    expect(maxProductGram(swapped).toArray()).toEqual(K.toArray());
  });

  it('agrees bit for bit between the kernel and the loop at a larger size', () => {
    const n = 203;
    const d = 129;
    const X = Matrix.from(Array.from({ length: n }, (_, i) => Array.from({ length: d }, (_, k) => Math.cos(i * 1.3 + k * k * 0.7) - 0.2)));
    setMaxProductWasmEnabled(true);
    const a = plain(maxProductGram(X));
    setMaxProductWasmEnabled(false);
    const b = plain(maxProductGram(X));
    expect(a).toEqual(b);
  });

  it('rejects NaN, Inf and empty inputs with a BasisError', () => {
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof BasisError ? e.code : 'other';
      }
      return undefined;
    };
    expect(code(() => maxProductGram([[1, Number.NaN]]))).toBe('NON_FINITE_INPUT');
    expect(code(() => maxProductGram([[1], [Number.POSITIVE_INFINITY]]))).toBe('NON_FINITE_INPUT');
    expect(code(() => maxProductGram(new Matrix(0, 3)))).toBe('TOO_SMALL');
    expect(code(() => maxProductGram(new Matrix(3, 0)))).toBe('TOO_SMALL');
  });
});
