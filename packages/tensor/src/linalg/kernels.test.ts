// The WebAssembly SIMD kernels against their JavaScript fallbacks, and decompositions large
// enough to take the blocked / wasm paths (n >= 64).
import { describe, expect, it } from 'vitest';
import type { Matrix } from '../matrix.js';
import { crossprod, gram, matmul } from './basic.js';
import { eigh } from './eigh.js';
import { qr } from './qr.js';
import { svd } from './svd.js';
import { columnsSignNormalised, gaussian, maxAbs, maxAbsDiff, naiveMatmul, onWasmAndJs, orthDefect, rngFor, usvt, useOwnKernels } from './test-helpers.js';
import { wasmGemmAvailable } from './wasm-kernels.js';

useOwnKernels();

const both = onWasmAndJs;

describe('WebAssembly kernels', () => {
  it('are available on Node (SIMD)', () => {
    expect(wasmGemmAvailable()).toBe(true);
  });

  it('matrix products are bit-identical to the JavaScript kernels (same summation order)', () => {
    const rng = rngFor('kernels-gemm');
    // Shapes crossing the 4-row, 4-column, 256-deep and 256-wide blocking boundaries.
    const A = gaussian(rng, 70, 300);
    const B = gaussian(rng, 300, 263);
    const X = gaussian(rng, 301, 37);
    const Y = gaussian(rng, 301, 45);
    const mm = both(() => matmul(A, B));
    expect(mm.wasm.data).toEqual(mm.js.data);
    expect(mm.wasm).toBeAllclose(naiveMatmul(A, B), { rtol: 1e-12, atol: 1e-11 });
    const cp = both(() => crossprod(X, Y));
    expect(cp.wasm.data).toEqual(cp.js.data);
    const g = both(() => gram(X));
    expect(g.wasm.data).toEqual(g.js.data);
    expect(g.wasm).toEqual(g.wasm.transpose());
  });

  it('eigh and svd are bit-identical between the wasm and JavaScript paths', () => {
    const rng = rngFor('kernels-dec');
    const A = gaussian(rng, 90, 70);
    const S = gram(A);
    const e = both(() => eigh(S));
    expect(e.wasm.values).toBeAllclose(e.js.values, { rtol: 0, atol: 1e-12 * maxAbs(S) });
    expect(e.wasm.vectors).toBeAllclose(e.js.vectors, { atol: 1e-9 });
    expect(e.wasm.vectors.data).toEqual(e.js.vectors.data);
    const d = both(() => svd(A));
    expect(d.wasm.s).toBeAllclose(d.js.s, { rtol: 0, atol: 1e-12 * (d.js.s[0] as number) });
    expect(d.wasm.U).toBeAllclose(d.js.U, { atol: 1e-9 });
    expect(d.wasm.U.data).toEqual(d.js.U.data);
    expect(d.wasm.V.data).toEqual(d.js.V.data);
  });
});

describe('decompositions on the blocked / wasm paths', () => {
  it('svd of tall, wide and rank-deficient matrices of size > 64', () => {
    const rng = rngFor('kernels-svd');
    const cases = [
      gaussian(rng, 150, 110),
      gaussian(rng, 96, 140),
      matmul(gaussian(rng, 120, 7), gaussian(rng, 7, 100)),
      gaussian(rng, 400, 90), // tall: QR first, then the SVD of R
      gaussian(rng, 70, 300), // wide and tall-after-transpose
    ];
    for (const A of cases) {
      const { U, s, V } = svd(A);
      const scale = s[0] as number;
      expect(maxAbsDiff(usvt(U, s, V), A) / scale).toBeLessThan(1e-13 * 150);
      expect(orthDefect(U)).toBeLessThan(1e-12);
      expect(orthDefect(V)).toBeLessThan(1e-12);
      expect(columnsSignNormalised(U)).toBe(true);
    }
    const rd = svd(cases[2] as Matrix).s;
    expect(rd[6] as number).toBeGreaterThan(1e-6);
    expect(rd[7] as number).toBeLessThan(1e-12 * (rd[0] as number));
  });

  it('eigh of a 130 x 130 matrix with a planted repeated spectrum', () => {
    const rng = rngFor('kernels-eigh');
    const n = 130;
    const X = gaussian(rng, n, n);
    const Q = qr(X).Q;
    const lam = Array.from({ length: n }, (_, i) => (i < 20 ? 3 : i < 60 ? 1 - i / 100 : i < 70 ? 0 : -2 - i / 1000));
    const S = usvt(Q, lam, Q);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) S.set(i, j, S.get(j, i));
    const { values, vectors } = eigh(S);
    const sorted = [...lam].sort((a, b) => b - a);
    expect(values).toBeAllclose(sorted, { rtol: 0, atol: 1e-12 * n });
    expect(maxAbsDiff(usvt(vectors, values, vectors), S)).toBeLessThan(1e-12 * n);
    expect(orthDefect(vectors)).toBeLessThan(1e-12 * 10);
  });

  it('blocked QR (panels of 32 columns + block reflector updates), tall and wide', () => {
    const rng = rngFor('kernels-qr');
    for (const [m, n, complete] of [
      [140, 70, true],
      [300, 100, false],
      [40, 100, false],
    ] as const) {
      const A = gaussian(rng, m, n);
      const { Q, R } = qr(A, complete ? { mode: 'complete' } : {});
      expect(orthDefect(Q)).toBeLessThan(1e-12);
      expect(maxAbsDiff(naiveMatmul(Q, R), A)).toBeLessThan(1e-12);
      for (let i = 0; i < R.rows; i++) for (let j = 0; j < Math.min(i, n); j++) expect(R.get(i, j)).toBe(0);
    }
  });
});
