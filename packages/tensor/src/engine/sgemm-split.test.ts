// Two-way splits of one-thread float32 products (rows, or the inner dimension of small outputs)
// over a helper worker thread: which shapes split, that split products equal the whole product
// (bit for bit by rows, to float32 rounding by depth, the same on every run), and that the
// checked wrapper still rejects bad operands before anything runs.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BasisError } from '../errors.js';
import { nativeSgemm } from './blas.js';
import { configureEngine, engineInfo, nativeLib, threadBudget } from './engine.js';
import { splitKind, splitSgemm, splitWorkerHalves, stopSplitWorkers, SPLIT_MIN_WORK } from './sgemm-split.js';

const initial = engineInfo();
const initialBudget = threadBudget();
const native = initial.provider === 'native' && nativeLib()?.flavour === 'openblas';
/** BASIS_SGEMM_SPLIT=off: no helper worker (products still agree; nothing is split). */
const splitOff = ['off', '0'].includes(process.env['BASIS_SGEMM_SPLIT'] ?? '');

afterEach(() => {
  configureEngine({ blas: initial.requested, threads: initialBudget });
});
afterAll(async () => {
  await stopSplitWorkers();
});

/** Deterministic values in [-1, 1) on a shared buffer (offset by `pad` floats, as heap views are). */
function values(n: number, seed: number, pad = 3): Float32Array {
  const out = new Float32Array(new ArrayBuffer((n + pad) * 4 + 64), pad * 4, n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

interface Case {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  alpha: number;
  beta: number;
  /** extra columns of padding in each leading dimension */
  pad: number;
}

/** `alpha op(A) op(B) + beta C` in float64 (the reference). */
function reference(c: Case, A: Float32Array, lda: number, B: Float32Array, ldb: number, C0: Float32Array, ldc: number): Float64Array {
  const out = new Float64Array(c.m * c.n);
  for (let i = 0; i < c.m; i++) {
    for (let j = 0; j < c.n; j++) {
      let acc = 0;
      for (let p = 0; p < c.k; p++) acc += (A[c.transA ? p * lda + i : i * lda + p] as number) * (B[c.transB ? j * ldb + p : p * ldb + j] as number);
      out[i * c.n + j] = c.alpha * acc + c.beta * (C0[i * ldc + j] as number);
    }
  }
  return out;
}

/** Runs the case on the given thread count (serial: the product is split when threads >= 2). */
function run(c: Case, threads: number, seed = 1): { C: Float32Array; ldc: number; want: Float64Array } {
  const lda = (c.transA ? c.m : c.k) + c.pad;
  const ldb = (c.transB ? c.k : c.n) + c.pad;
  const ldc = c.n + c.pad;
  const A = values((c.transA ? c.k : c.m) * lda, seed);
  const B = values((c.transB ? c.n : c.k) * ldb, seed + 1);
  const C = values(c.m * ldc, seed + 2);
  const C0 = C.slice();
  configureEngine({ threads });
  expect(nativeSgemm({ ...c, A, lda, B, ldb, C, ldc, serial: true })).toBe(true);
  return { C, ldc, want: reference(c, A, lda, B, ldb, C0, ldc) };
}

const rowCases: Case[] = [
  { m: 4096, n: 32, k: 32, transA: false, transB: false, alpha: 1, beta: 0, pad: 0 }, // a convolution tap
  { m: 5461, n: 16, k: 32, transA: false, transB: true, alpha: 1, beta: 1, pad: 0 }, // accumulating tap, odd rows
  { m: 6001, n: 24, k: 9, transA: true, transB: false, alpha: 0.5, beta: 0, pad: 2 }, // im2col-shaped, strided
  { m: 1000, n: 40, k: 40, transA: true, transB: true, alpha: -2, beta: 0.25, pad: 1 },
];
const depthCases: Case[] = [
  { m: 16, n: 32, k: 5461, transA: true, transB: false, alpha: 1, beta: 1, pad: 0 }, // a filter gradient per tap
  { m: 32, n: 32, k: 4096, transA: true, transB: false, alpha: 1, beta: 0, pad: 0 },
  { m: 9, n: 16, k: 8001, transA: false, transB: true, alpha: 0.5, beta: 2, pad: 3 },
  { m: 60, n: 20, k: 1200, transA: false, transB: false, alpha: 1, beta: 0.5, pad: 1 },
];

describe('splitKind', () => {
  it('splits by rows with 128+ rows, by depth for small outputs with a long k, else not', () => {
    expect(splitKind(4096, 32, 32)).toBe('rows');
    expect(splitKind(128, 64, 128)).toBe('rows');
    expect(splitKind(127, 64, 256)).toBe(null); // 127 rows, short k
    expect(splitKind(16, 32, 5461)).toBe('depth');
    expect(splitKind(64, 64, 1024)).toBe('depth'); // 4096 outputs, the largest split by depth
    expect(splitKind(65, 64, 1024)).toBe(null);
    expect(splitKind(16, 16, 1023)).toBe(null); // k too short to halve
    expect(splitKind(1000, 32, 16)).toBe(null); // 512000 multiply-adds: not worth a hand-off
    expect(splitKind(128, 10, 512)).toBe(null); // a 10-class output layer
    expect(1000 * 32 * 16).toBeLessThan(SPLIT_MIN_WORK);
  });
});

describe.runIf(native)('split products on the native BLAS', () => {
  for (const c of rowCases) {
    it(`by rows: ${c.m} x ${c.n} x ${c.k}${c.transA ? ' Aᵀ' : ''}${c.transB ? ' Bᵀ' : ''}, alpha ${c.alpha}, beta ${c.beta}: the same bits as one call`, () => {
      const one = run(c, 1);
      const two = run(c, 2);
      expect(splitKind(c.m, c.n, c.k)).toBe('rows');
      expect(Array.from(two.C)).toEqual(Array.from(one.C)); // padding columns of C included: untouched
      let maxErr = 0;
      for (let i = 0; i < c.m; i++) for (let j = 0; j < c.n; j++) maxErr = Math.max(maxErr, Math.abs((two.C[i * two.ldc + j] as number) - (two.want[i * c.n + j] as number)));
      expect(maxErr).toBeLessThan(1e-4 * Math.sqrt(c.k) * Math.max(1, Math.abs(c.alpha)));
    });
  }

  for (const c of depthCases) {
    it(`by depth: ${c.m} x ${c.n} x ${c.k}${c.transA ? ' Aᵀ' : ''}${c.transB ? ' Bᵀ' : ''}, alpha ${c.alpha}, beta ${c.beta}: float32 rounding of one call, the same on every run`, () => {
      const one = run(c, 1);
      const two = run(c, 2);
      const again = run(c, 2);
      expect(splitKind(c.m, c.n, c.k)).toBe('depth');
      expect(Array.from(again.C)).toEqual(Array.from(two.C));
      let maxRel = 0;
      for (let i = 0; i < c.m; i++) {
        for (let j = 0; j < c.n; j++) {
          const w = two.want[i * c.n + j] as number;
          const scale = Math.sqrt(c.k) * Math.abs(c.alpha) + Math.abs(c.beta);
          maxRel = Math.max(maxRel, Math.abs((two.C[i * two.ldc + j] as number) - w) / scale, Math.abs((one.C[i * one.ldc + j] as number) - w) / scale);
        }
        for (let j = c.n; j < two.ldc; j++) expect(two.C[i * two.ldc + j]).toBe(one.C[i * one.ldc + j]);
      }
      expect(maxRel).toBeLessThan(1e-5);
    });
  }

  it.skipIf(splitOff)('the helper worker computes second halves (addresses and offsets as on this thread)', async () => {
    // long halves (a few hundred microseconds each), so the worker has time to claim its half
    const c: Case = { m: 20000, n: 32, k: 32, transA: false, transB: true, alpha: 1, beta: 1, pad: 1 };
    const d: Case = { m: 16, n: 32, k: 40000, transA: true, transB: false, alpha: 1, beta: 1, pad: 0 };
    const want = run(c, 1).C;
    const wantD = run(d, 2).C;
    const inputs = (x: Case, seed: number): Parameters<typeof nativeSgemm>[0] => {
      const lda = (x.transA ? x.m : x.k) + x.pad;
      const ldb = (x.transB ? x.k : x.n) + x.pad;
      const ldc = x.n + x.pad;
      return { ...x, A: values((x.transA ? x.k : x.m) * lda, seed), lda, B: values((x.transB ? x.n : x.k) * ldb, seed + 1), ldb, C: values(x.m * ldc, seed + 2), ldc, serial: true };
    };
    configureEngine({ threads: 2 });
    const before = splitWorkerHalves();
    // the worker starts asynchronously; until it runs, this thread computes both halves
    const t0 = performance.now();
    while (splitWorkerHalves() < before + 4 && performance.now() - t0 < 30_000) {
      const a = inputs(c, 1);
      const b = inputs(d, 1);
      nativeSgemm(a);
      nativeSgemm(b);
      expect(Array.from(a.C)).toEqual(Array.from(want));
      expect(Array.from(b.C)).toEqual(Array.from(wantD));
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(splitWorkerHalves()).toBeGreaterThanOrEqual(before + 4);
  }, 60_000);

  it('splitSgemm declines small products, other libraries and libraries without addresses', () => {
    const lib = nativeLib()!;
    const A = values(1024 * 64, 1);
    const B = values(64 * 64, 2);
    const C = values(1024 * 64, 3);
    const small = { m: 256, n: 64, k: 8, alpha: 1, A, lda: 8, transA: false, B, ldb: 64, transB: false, beta: 0, C, ldc: 64 };
    expect(splitSgemm(lib, small)).toBe(false);
    const big = { ...small, m: 1024, n: 16, k: 64, lda: 64, ldb: 16, ldc: 16 };
    expect(splitSgemm({ ...lib, flavour: 'generic' }, big)).toBe(false);
    expect(splitSgemm({ ...lib, address: null }, big)).toBe(false);
    expect(splitSgemm(lib, big)).toBe(!splitOff);
  });

  it('bad operands are rejected with a BasisError before any half runs', () => {
    configureEngine({ threads: 2 });
    const A = values(4096 * 32, 1);
    const B = values(32 * 32, 2);
    const C = values(4096 * 32, 3);
    const before = C.slice();
    const args = { m: 4096, n: 32, k: 32, A, lda: 32, transA: false, B, ldb: 32, transB: false, C, ldc: 32, serial: true };
    expect(() => nativeSgemm({ ...args, C: C.subarray(0, 4095 * 32) })).toThrow(BasisError);
    expect(() => nativeSgemm({ ...args, ldc: 16 })).toThrow(/leading dimension of C/);
    expect(() => nativeSgemm({ ...args, B: B.subarray(1) })).toThrow(/B needs 1024 elements/);
    expect(() => nativeSgemm({ ...args, m: -1 })).toThrow(/m must be a non-negative integer/);
    expect(() => nativeSgemm({ ...args, k: Number.NaN })).toThrow(BasisError);
    expect(Array.from(C)).toEqual(Array.from(before));
  });
});
