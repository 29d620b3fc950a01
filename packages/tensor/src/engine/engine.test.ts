// The compute engine: finding the system library, falling back to WebAssembly, the checked
// boundary (a bad dimension must throw, never reach the library), and the native products
// against basis' own WebAssembly kernels.
import { existsSync } from 'node:fs';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isBasisError } from '../errors.js';
import { crossprod, gram, matmul } from '../linalg/basic.js';
import { gemmStrided } from '../linalg/gemm.js';
import { gaussian, naiveMatmul, rngFor } from '../linalg/test-helpers.js';
import { GEMV_SERIAL_BELOW, checkBlock, checkDims, nativeGemm, nativeGemv, nativeMaxAbs, nativeSgemm } from './blas.js';
import { columnSumsOf, rowDotsOf } from '../stats/sums.js';
import { svd } from '../linalg/svd.js';
import { eigh } from '../linalg/eigh.js';
import { LAPACK_SERIAL_BELOW } from './lapack.js';
import type { IntArray } from './native.js';
import { Matrix, assertFinite } from '../matrix.js';
import { configureEngine, engineInfo, engineSummary, nativeLib, parseThreads } from './engine.js';
import { candidateLibraries, loadNative } from './native.js';
import { LARGE_BUFFER_BYTES, float64Buffer } from '../memory.js';

const initial = engineInfo();
afterEach(() => {
  configureEngine({ blas: initial.requested });
});

/** A system OpenBLAS that this machine has (the test of the loader must not trust the loader). */
const SYSTEM_OPENBLAS = ['/usr/lib/x86_64-linux-gnu/libopenblas.so.0', '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0', '/usr/lib64/libopenblas.so.0'].find((p) => existsSync(p));
const forcedOff = process.env['BASIS_BLAS'] === 'off';

function onBoth<T>(f: () => T): { native: T; wasm: T } {
  const before = engineInfo().requested;
  configureEngine({ blas: 'auto' });
  const native = f();
  configureEngine({ blas: 'off' });
  const wasm = f();
  configureEngine({ blas: before });
  return { native, wasm };
}

describe('engine selection', () => {
  it.skipIf(SYSTEM_OPENBLAS === undefined || forcedOff)('finds the system OpenBLAS this machine has', () => {
    const e = configureEngine({ blas: 'auto' });
    expect(e.provider).toBe('native');
    expect(e.flavour).toBe('openblas');
    expect(e.coreType).toMatch(/\S/);
    expect(e.threads).toBeGreaterThanOrEqual(1);
    expect(e.library).toMatch(/^\//); // resolved to a real file
    expect(engineSummary(e)).toMatch(/^native openblas/);
  });

  it.skipIf(SYSTEM_OPENBLAS === undefined || forcedOff || process.platform !== 'linux')(
    'advises huge pages for large buffers on Linux (BASIS_HUGEPAGES=off stops it); buffers stay zeroed',
    () => {
      const e = configureEngine({ blas: 'auto' });
      const before = process.env['BASIS_HUGEPAGES'];
      try {
        expect(e.hugePages).toBe(true);
        const advised: number[] = [];
        // a fresh engine state, spied on: large buffers are advised, small ones are not
        configureEngine({ blas: 'off' });
        configureEngine({ blas: 'auto' });
        const l2 = nativeLib()!;
        expect(l2.advise).not.toBeNull();
        const orig2 = l2.advise!;
        l2.advise = (b) => {
          advised.push(b.byteLength);
          orig2(b);
        };
        const big = float64Buffer(LARGE_BUFFER_BYTES / 8);
        const small = float64Buffer(1000);
        expect(advised).toEqual([LARGE_BUFFER_BYTES]);
        expect(big.every((v) => v === 0) && small.every((v) => v === 0)).toBe(true);
        process.env['BASIS_HUGEPAGES'] = 'off';
        expect(engineInfo().hugePages).toBe(false);
      } finally {
        if (before === undefined) delete process.env['BASIS_HUGEPAGES'];
        else process.env['BASIS_HUGEPAGES'] = before;
      }
    },
  );

  it('BASIS_BLAS=off (or blas: off) is WebAssembly with one thread and says why', () => {
    const e = configureEngine({ blas: 'off' });
    expect(e).toMatchObject({ provider: 'wasm', requested: 'off', threads: 1, reason: 'BASIS_BLAS=off' });
    expect(nativeLib()).toBeNull();
    expect(engineSummary(e)).toBe('wasm (BASIS_BLAS=off)');
  });

  it('a missing library falls back to WebAssembly with the reason, never an error', () => {
    const e = configureEngine({ blas: '/nonexistent/libopenblas.so.0' });
    expect(e.provider).toBe('wasm');
    expect(e.reason).toMatch(/could not be used/);
    expect(e.tried?.[0]).toMatch(/nonexistent/);
    // and the kernels keep working
    expect(matmul([[1, 2]], [[3], [4]]).toArray()).toEqual([[11]]);
  });

  it('a library without CBLAS/LAPACK symbols is refused with the missing symbol named', () => {
    // libm loads but has no cblas_dgemm
    const r = loadNative('libm.so.6');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.tried.join(' ')).toMatch(/libm\.so\.6: no cblas_dgemm/);
  });

  it.skipIf(SYSTEM_OPENBLAS === undefined || forcedOff)('an explicit path loads that library; blas:lapack pairs load both', () => {
    const e = configureEngine({ blas: SYSTEM_OPENBLAS as string });
    expect(e.provider).toBe('native');
    expect(e.library).toMatch(/openblas/);
  });

  it('lists the usual library names per platform', () => {
    expect(candidateLibraries('linux', 'x64').map((c) => c[0])).toContain('libopenblas.so.0');
    expect(candidateLibraries('linux', 'x64').at(-1)).toEqual(['libblas.so.3', 'liblapack.so.3']);
    expect(candidateLibraries('darwin', 'arm64').at(-1)?.[0]).toMatch(/Accelerate/);
  });

  it('parses thread counts and rejects bad ones with INVALID_ARGUMENT', () => {
    expect(parseThreads('3')).toBe(3);
    expect(parseThreads('all')).toBeGreaterThanOrEqual(1);
    for (const bad of ['0', '-1', '1.5', 'x', '', '2000']) {
      expect(() => parseThreads(bad, '--threads')).toThrow(/--threads must be a positive integer/);
    }
  });

  it.skipIf(SYSTEM_OPENBLAS === undefined || forcedOff)('sets and reports the provider threads', () => {
    configureEngine({ blas: 'auto' });
    expect(configureEngine({ threads: 1 }).threads).toBe(1);
    expect(configureEngine({ threads: 2 }).threads).toBe(2);
  });
});

describe('checked boundary', () => {
  it('rejects buffers too short for the declared block (a stale view has length 0)', () => {
    expect(() => checkBlock('gemm', 'A', new Float64Array(5), 0, 2, 3, 3)).toThrow(/A needs 6 elements/);
    expect(() => checkBlock('gemm', 'A', new Float64Array(0), 0, 2, 3, 3)).toThrow(/stale view/);
    expect(() => checkBlock('gemm', 'A', new Float64Array(100), 0, 2, 3, 2)).toThrow(/leading dimension of A is 2, must be >= max\(1, 3\)/);
    expect(() => checkBlock('gemm', 'B', new Float64Array(100), -1, 2, 3, 3)).toThrow(/offset of B/);
    expect(() => checkBlock('gemm', 'A', new Float64Array(6), 0, 2, 3, 3)).not.toThrow();
  });

  it.skipIf(SYSTEM_OPENBLAS === undefined || forcedOff)('rejects dimensions >= 2^31 on 32-bit-integer libraries and non-integers', () => {
    configureEngine({ blas: 'auto' });
    const lib = nativeLib();
    expect(lib).not.toBeNull();
    if (lib === null || lib.int64) return;
    expect(() => checkDims(lib, 'gemm', { m: 2 ** 31 })).toThrow(/does not fit the 32-bit integers/);
    expect(() => checkDims(lib, 'gemm', { m: 1.5 })).toThrow(/non-negative integer/);
    expect(() => checkDims(lib, 'gemm', { m: -1 })).toThrow(/non-negative integer/);
    // through the wrapper: nothing reaches the library
    const A = new Float64Array(4);
    const bad = { m: 2, n: 2, k: 3, A, aOff: 0, lda: 3, transA: false, B: A, bOff: 0, ldb: 2, transB: false, C: new Float64Array(4), cOff: 0, ldc: 2, accumulate: false, upperOnly: false };
    let err: unknown;
    try {
      nativeGemm(bad);
    } catch (e) {
      err = e;
    }
    expect(isBasisError(err) && err.code === 'INVALID_ARGUMENT').toBe(true);
    expect(() => nativeSgemm({ m: 2, n: 2, k: 2, A: new Float32Array(3), lda: 2, transA: false, B: new Float32Array(4), ldb: 2, transB: false, C: new Float32Array(4), ldc: 2 })).toThrow(/A needs 4 elements/);
    // gemv: A's block, both vectors' lengths and the 32-bit limit are checked before the call
    const gv = { rows: 3, cols: 2, A: new Float64Array(6), aOff: 0, lda: 2, trans: false, x: new Float64Array(2), y: new Float64Array(3) };
    expect(nativeGemv(gv)).toBe(true);
    expect(() => nativeGemv({ ...gv, A: new Float64Array(5) })).toThrow(/A needs 6 elements/);
    expect(() => nativeGemv({ ...gv, lda: 1 })).toThrow(/leading dimension of A is 1/);
    expect(() => nativeGemv({ ...gv, x: new Float64Array(1) })).toThrow(/x needs 2 elements/);
    expect(() => nativeGemv({ ...gv, y: new Float64Array(2) })).toThrow(/y needs 3 elements/);
    expect(() => nativeGemv({ ...gv, trans: true, x: new Float64Array(2) })).toThrow(/x needs 3 elements/);
    expect(() => nativeGemv({ ...gv, rows: 2 ** 31 })).toThrow(/does not fit the 32-bit integers/);
  });
});

describe.skipIf(SYSTEM_OPENBLAS === undefined || forcedOff)('native matrix-vector products and column sums', () => {
  it('gemv (both orientations, offsets, strides) equals the plain loops; y is overwritten even when it held NaN', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 2 }), (seed, rows, cols, pad, off) => {
        configureEngine({ blas: 'auto' });
        const rng = rngFor(`gemv-${seed}`);
        const lda = Math.max(1, cols + pad);
        const A = new Float64Array(off + rows * lda).map(() => rng.normal());
        for (const trans of [false, true]) {
          const [nx, ny] = trans ? [rows, cols] : [cols, rows];
          const x = new Float64Array(nx).map(() => rng.normal());
          const y = new Float64Array(ny).fill(NaN);
          expect(nativeGemv({ rows, cols, A, aOff: off, lda, trans, x, y })).toBe(true);
          for (let o = 0; o < ny; o++) {
            let s = 0;
            for (let t = 0; t < nx; t++) s += (A[off + (trans ? t * lda + o : o * lda + t)] as number) * (x[t] as number);
            expect(Math.abs((y[o] as number) - s)).toBeLessThanOrEqual(1e-13);
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it('assertFinite screens large matrices with one native dgemv and still names the entry, on both engines', () => {
    const base = gaussian(rngFor('screen'), 300, 250); // 75000 entries: past the native screen's crossover
    const poisons: [number, number, number][] = [[299, 249, NaN], [0, 0, Infinity], [17, 3, -Infinity]];
    for (const [i, j, v] of poisons) {
      const X = base.clone();
      X.set(i, j, v);
      for (const blas of ['auto', 'off'] as const) {
        configureEngine({ blas });
        expect(() => assertFinite(X, 'X'), `${blas} ${v}`).toThrow(`X[${i}, ${j}] is ${v}`);
      }
    }
    const pair = base.clone(); // Inf and -Inf in one column: the sum is NaN, the screen reports the first
    pair.set(5, 7, Infinity);
    pair.set(9, 7, -Infinity);
    const huge = base.clone(); // finite entries whose column sum overflows: accepted
    for (let i = 0; i < 300; i++) huge.set(i, 11, 1.7e308);
    for (const blas of ['auto', 'off'] as const) {
      configureEngine({ blas });
      expect(() => assertFinite(pair, 'X')).toThrow('X[5, 7] is Infinity');
      expect(() => assertFinite(huge, 'X')).not.toThrow();
      expect(() => assertFinite(base, 'X')).not.toThrow();
    }
    configureEngine({ blas: 'auto' });
  });

  it('nativeMaxAbs (idamax) equals the plain loop, and declines (null) when it meets a NaN', () => {
    configureEngine({ blas: 'auto' });
    const rng = rngFor('idamax');
    for (const len of [1, 2, 7, 1000, 40000]) {
      const a = new Float64Array(len).map(() => rng.normal());
      a[Math.floor(len / 2)] = -9.5; // the largest |entry| negative
      let ref = 0;
      for (const v of a) ref = Math.max(ref, Math.abs(v));
      expect(nativeMaxAbs(a)).toBe(ref);
      expect(nativeMaxAbs(a.subarray(1))).toBe(len > 1 ? Math.max(...Array.from(a.subarray(1), Math.abs)) : 0);
    }
    expect(nativeMaxAbs(Float64Array.of(1, -Infinity, 3))).toBe(Infinity);
    const withNaN = Float64Array.of(NaN, NaN, NaN);
    expect(nativeMaxAbs(withNaN)).toBeNull();
    expect(nativeMaxAbs(new Float64Array(0))).toBe(0);
  });

  it('columnSumsOf agrees on both engines to rounding and turns a NaN or Inf entry into a non-finite sum of its column only', () => {
    const rng = rngFor('column-sums');
    for (const [n, d] of [[1, 1], [3, 5], [130, 129], [257, 64]] as const) {
      const X = gaussian(rng, n, d);
      const s = onBoth(() => columnSumsOf(X));
      for (let j = 0; j < d; j++) {
        let ref = 0;
        for (let i = 0; i < n; i++) ref += X.get(i, j);
        expect(Math.abs((s.native[j] as number) - ref)).toBeLessThanOrEqual(1e-12 * n);
        expect(Math.abs((s.wasm[j] as number) - ref)).toBeLessThanOrEqual(1e-12 * n);
      }
    }
    const X = gaussian(rng, 200, 100); // above the dgemv crossover
    X.set(199, 99, NaN);
    X.set(0, 3, Infinity);
    X.set(7, 5, Infinity);
    X.set(9, 5, -Infinity);
    const s = onBoth(() => columnSumsOf(X));
    for (const sums of [s.native, s.wasm]) {
      expect(Number.isNaN(sums[99])).toBe(true);
      expect(sums[3]).toBe(Infinity);
      expect(Number.isNaN(sums[5])).toBe(true);
      expect(Array.from(sums).filter((v) => !Number.isFinite(v))).toHaveLength(3);
    }
    expect(Array.from(columnSumsOf(new Matrix(0, 3)))).toEqual([0, 0, 0]);
  });

  it('rowDotsOf agrees on both engines to rounding, turns a NaN or Inf entry into a non-finite dot of its row only, and checks the length of v', () => {
    const rng = rngFor('row-dots');
    for (const [n, d] of [[1, 1], [3, 5], [130, 129], [257, 64]] as const) {
      const X = gaussian(rng, n, d);
      const v = Array.from({ length: d }, (_, k) => Math.cos(k) * 3);
      const s = onBoth(() => rowDotsOf(X, v));
      for (let i = 0; i < n; i++) {
        let ref = 0;
        let abs = 0;
        for (let k = 0; k < d; k++) {
          ref += X.get(i, k) * (v[k] as number);
          abs += Math.abs(X.get(i, k) * (v[k] as number));
        }
        expect(Math.abs((s.native[i] as number) - ref)).toBeLessThanOrEqual(1e-14 * d * abs);
        expect(Math.abs((s.wasm[i] as number) - ref)).toBeLessThanOrEqual(1e-14 * d * abs);
      }
    }
    const X = gaussian(rng, 200, 100); // above the dgemv crossover
    X.set(199, 99, NaN);
    X.set(3, 0, Infinity);
    X.set(5, 7, Infinity);
    X.set(5, 9, -Infinity);
    const v = new Float64Array(100).fill(1);
    const s = onBoth(() => rowDotsOf(X, v));
    for (const dots of [s.native, s.wasm]) {
      expect(Number.isNaN(dots[199])).toBe(true);
      expect(dots[3]).toBe(Infinity);
      expect(Number.isNaN(dots[5])).toBe(true);
      expect(Array.from(dots).filter((x) => !Number.isFinite(x))).toHaveLength(3);
    }
    expect(Array.from(rowDotsOf(new Matrix(2, 0), []))).toEqual([0, 0]);
    let err: unknown;
    try {
      rowDotsOf(X, [1, 2]);
    } catch (e) {
      err = e;
    }
    expect(isBasisError(err) ? err.code : err).toBe('SHAPE_MISMATCH');
    expect((err as Error).message).toContain('v.length === X.cols, got 2 and 200 x 100');
  });

  it.skipIf(SYSTEM_OPENBLAS === undefined || forcedOff)('a dgemv below GEMV_SERIAL_BELOW entries runs on one OpenBLAS thread with two configured and restores the count; a larger one keeps both', () => {
    configureEngine({ blas: 'auto', threads: 2 });
    const lib = nativeLib();
    expect(lib?.flavour).toBe('openblas');
    if (lib === null) return;
    const spy = vi.spyOn(lib, 'setThreads'); // calls through
    const calls = (): number[] => spy.mock.calls.map((c) => c[0]);
    try {
      const rng = rngFor('gemv-serial');
      const small = gaussian(rng, 2000, 256);
      expect(small.data.length).toBeLessThan(GEMV_SERIAL_BELOW);
      const sums = columnSumsOf(small);
      expect(calls()).toEqual([1, 2]);
      expect(lib.getThreads()).toBe(2);
      configureEngine({ threads: 1 });
      expect(columnSumsOf(small)).toEqual(sums); // the same one-thread call
      configureEngine({ threads: 2 });
      spy.mockClear();
      const big = new Matrix(GEMV_SERIAL_BELOW / 256, 256).fill(0.5);
      const s = columnSumsOf(big);
      expect(calls()).toEqual([]);
      expect(s[0]).toBe(big.rows / 2);
      expect(lib.getThreads()).toBe(2);
    } finally {
      spy.mockRestore();
      configureEngine({ threads: initial.threads });
    }
  });

  it.skipIf(SYSTEM_OPENBLAS === undefined || forcedOff)('dgesdd and dsyevd below LAPACK_SERIAL_BELOW run on one OpenBLAS thread with two configured and restore the count; larger ones keep both', () => {
    configureEngine({ blas: 'auto', threads: 2 });
    const lib = nativeLib();
    expect(lib?.flavour).toBe('openblas');
    if (lib === null) return;
    // the thread count each computing call (not a workspace query, lwork = -1) runs with
    const seen: { dgesdd: number[]; dsyevd: number[] } = { dgesdd: [], dsyevd: [] };
    const { dgesdd, dsyevd } = lib.fn;
    lib.fn.dgesdd = (...a: unknown[]): void => {
      if (Number((a[11] as IntArray)[0]) !== -1) seen.dgesdd.push(lib.getThreads());
      dgesdd(...a);
    };
    lib.fn.dsyevd = (...a: unknown[]): void => {
      if (Number((a[7] as IntArray)[0]) !== -1) seen.dsyevd.push(lib.getThreads());
      dsyevd(...a);
    };
    const take = (): { dgesdd: number[]; dsyevd: number[] } => {
      const out = { dgesdd: [...seen.dgesdd], dsyevd: [...seen.dsyevd] };
      seen.dgesdd.length = 0;
      seen.dsyevd.length = 0;
      return out;
    };
    try {
      const rng = rngFor('lapack-serial');
      const small = gaussian(rng, 256, 256);
      expect(LAPACK_SERIAL_BELOW).toBeGreaterThan(256);
      const f = svd(small);
      const v = svd(small, { computeUV: false }).s;
      const e = eigh(gram(small)).values;
      expect(take()).toEqual({ dgesdd: [1, 1], dsyevd: [1] });
      expect(lib.getThreads()).toBe(2);
      configureEngine({ threads: 1 });
      // the same one-thread calls
      expect(svd(small).s).toEqual(f.s);
      expect(svd(small, { computeUV: false }).s).toEqual(v);
      expect(eigh(gram(small)).values).toEqual(e);
      configureEngine({ threads: 2 });
      take();
      const square = gaussian(rng, LAPACK_SERIAL_BELOW, LAPACK_SERIAL_BELOW);
      const tall = gaussian(rng, 2000, 256); // lapackSize cbrt(2000 * 256²) ~ 508
      svd(square, { computeUV: false });
      svd(tall, { computeUV: false });
      eigh(gram(square));
      expect(take()).toEqual({ dgesdd: [2, 2], dsyevd: [2] });
      expect(lib.getThreads()).toBe(2);
    } finally {
      lib.fn.dgesdd = dgesdd;
      lib.fn.dsyevd = dsyevd;
      configureEngine({ threads: initial.threads });
    }
  });
});

describe.skipIf(SYSTEM_OPENBLAS === undefined || forcedOff)('native products against the WebAssembly kernels', () => {
  it('matmul, crossprod and gram agree to 1e-12 and gram stays exactly symmetric', () => {
    const rng = rngFor('engine-products');
    const A = gaussian(rng, 70, 300);
    const B = gaussian(rng, 300, 263);
    const X = gaussian(rng, 301, 37);
    const Y = gaussian(rng, 301, 45);
    const mm = onBoth(() => matmul(A, B));
    expect(mm.native).toBeAllclose(mm.wasm, { rtol: 1e-12, atol: 1e-11 });
    expect(mm.native).toBeAllclose(naiveMatmul(A, B), { rtol: 1e-12, atol: 1e-11 });
    const cp = onBoth(() => crossprod(X, Y));
    expect(cp.native).toBeAllclose(cp.wasm, { rtol: 1e-12, atol: 1e-11 });
    const g = onBoth(() => gram(X));
    expect(g.native).toBeAllclose(g.wasm, { rtol: 1e-12, atol: 1e-11 });
    expect(g.native).toEqual(g.native.transpose());
  });

  it('strided products with offsets, every transpose combination and accumulation (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          m: fc.integer({ min: 1, max: 9 }),
          n: fc.integer({ min: 1, max: 9 }),
          k: fc.integer({ min: 1, max: 9 }),
          transA: fc.boolean(),
          transB: fc.boolean(),
          accumulate: fc.boolean(),
          pad: fc.integer({ min: 0, max: 3 }),
          off: fc.integer({ min: 0, max: 5 }),
          seed: fc.integer({ min: 0, max: 1000 }),
        }),
        ({ m, n, k, transA, transB, accumulate, pad, off, seed }) => {
          const rng = rngFor(`strided-${seed}`);
          const [ar, ac] = transA ? [k, m] : [m, k];
          const [br, bc] = transB ? [n, k] : [k, n];
          const lda = ac + pad;
          const ldb = bc + pad;
          const ldc = n + pad;
          const A = gaussian(rng, 1, off + ar * lda).data;
          const B = gaussian(rng, 1, off + br * ldb).data;
          const C0 = gaussian(rng, 1, off + m * ldc).data;
          const run = (): Float64Array => {
            const C = C0.slice();
            gemmStrided({ m, n, k, A, aOff: off, lda, transA, B, bOff: off, ldb, transB, C, cOff: off, ldc, accumulate, upperOnly: false });
            return C;
          };
          const r = onBoth(run);
          for (let i = 0; i < r.native.length; i++) {
            expect(Math.abs((r.native[i] as number) - (r.wasm[i] as number))).toBeLessThan(1e-12 * (1 + Math.abs(r.wasm[i] as number)));
          }
        },
      ),
      { numRuns: 120 },
    );
  });

  it('is bit-identical run to run for the same library, core type and thread count', () => {
    configureEngine({ blas: 'auto', threads: 2 });
    const rng = rngFor('engine-determinism');
    const X = gaussian(rng, 2000, 200);
    const first = gram(X).data;
    for (let r = 0; r < 3; r++) expect(gram(X).data).toEqual(first);
    const a = crossprod(X, X).data;
    expect(crossprod(X, X).data).toEqual(a);
  });
});
