// The native LAPACK path against basis' WebAssembly kernels, in one process: every case runs
// twice, once on the native provider with the crossover forced to 0 (every size goes to LAPACK)
// and once with `configureEngine({ blas: 'off' })`, and the engine is restored afterwards.
//
// Crossover (smallest size sent to LAPACK, LAPACK_CROSSOVER) measured with both paths forced,
// 2 cores under load from other jobs (noisy): eigh and SVD are faster natively from n = 4 on
// (e.g. eigh 8 x 8: 34 µs vs 130 µs; SVD 8 x 8: 61 µs vs 226 µs, 1 thread); QR from ~16,
// solve from ~24, Cholesky and the determinant from ~32 (below, the FFI call and LAPACK's set-up
// cost more than the whole WebAssembly kernel).
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { fixtureBytes, fixtureJson, thrownCode } from '@basis/test-utils';
import { isBasisError } from '../errors.js';
import { readNpyMatrix } from '../index.js';
import { Matrix } from '../matrix.js';
import { matmul } from '../linalg/basic.js';
import { eigh } from '../linalg/eigh.js';
import { lstsq, pinv, rank } from '../linalg/lstsq.js';
import { determinant, solve } from '../linalg/lu.js';
import { qr, qrPivoted } from '../linalg/qr.js';
import { cholesky, invSqrtmSpd, sqrtmSpd } from '../linalg/spd.js';
import { svd } from '../linalg/svd.js';
import { columnsSignNormalised, gaussian, maxAbsDiff, orthDefect, randomOrthogonal, rngFor, usvt } from '../linalg/test-helpers.js';
import { configureEngine, engineInfo, nativeLib } from './engine.js';
import { LAPACK_CROSSOVER, SCRATCH_KEEP_BYTES, lapackGeqrf, lapackGesdd, lapackGesv, lapackOrmqrT, lapackPotrf, lapackQR, lapackSize, lapackSyevd, nativeFor, scratch, setLapackCrossover } from './lapack.js';
import type * as Engine from './engine.js';
import { NATIVE_CALL_STACK_BYTES, type NativeLib } from './native.js';

// A switch that makes the native dsyevd / dgesdd report non-convergence (info > 0) after
// computing, to test the NOT_CONVERGED mapping and the SVD's fallback to WebAssembly.
const sabotage = vi.hoisted(() => ({ dsyevd: false, dgesdd: false }));
vi.mock('./engine.js', async (importOriginal) => {
  const real = await importOriginal<typeof Engine>();
  const wrapped = new WeakMap<NativeLib, NativeLib>();
  const failing = (f: (...a: unknown[]) => void, key: 'dsyevd' | 'dgesdd', infoArg: number, lworkArg: number) =>
    (...a: unknown[]): void => {
      f(...a);
      const lw = a[lworkArg] as Int32Array | BigInt64Array;
      if (sabotage[key] && Number(lw[0]) !== -1) {
        const info = a[infoArg] as Int32Array | BigInt64Array;
        if (info instanceof BigInt64Array) info[0] = 3n;
        else info[0] = 3;
        (a[5] as Float64Array).fill(NaN); // W / S: poisoned, must not be used
      }
    };
  return {
    ...real,
    nativeLib: (): NativeLib | null => {
      const lib = real.nativeLib();
      if (lib === null) return null;
      let w = wrapped.get(lib);
      if (w === undefined) {
        w = { ...lib, fn: { ...lib.fn, dsyevd: failing(lib.fn.dsyevd, 'dsyevd', 10, 7), dgesdd: failing(lib.fn.dgesdd, 'dgesdd', 13, 11) } };
        wrapped.set(lib, w);
      }
      return w;
    },
  };
});

type Path = 'native' | 'wasm';

/**
 * The library the native runs use: the one BASIS_BLAS names when it names one (so that
 * `BASIS_BLAS=/path/to/libopenblas64.so.0` runs this file on an ILP64 build), else 'auto'.
 */
const nativeRequest = ((): string => {
  const r = engineInfo().requested;
  return r === 'off' ? 'auto' : r;
})();

/** Can a native library be loaded here at all (koffi + a system BLAS/LAPACK)? */
function probeNative(): boolean {
  const before = engineInfo();
  const ok = configureEngine({ blas: nativeRequest }).provider === 'native';
  restore(before);
  return ok;
}

function restore(e: ReturnType<typeof engineInfo>): void {
  configureEngine({ blas: e.requested });
  if (e.provider === 'native' && e.threads > 0) configureEngine({ threads: e.threads });
}

/** Runs `f` on the chosen path (native: every size goes to LAPACK), restoring the engine. */
function on<T>(path: Path, f: () => T): T {
  const before = engineInfo();
  const prev = setLapackCrossover(path === 'native' ? 'always' : 'default');
  try {
    configureEngine({ blas: path === 'native' ? nativeRequest : 'off' });
    if (path === 'native') expect(engineInfo().provider).toBe('native');
    return f();
  } finally {
    setLapackCrossover(prev);
    restore(before);
  }
}

/** `f` on both paths: [native, wasm]. */
function both<T>(f: () => T): [T, T] {
  return [on('native', f), on('wasm', f)];
}

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>, scale: number): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d / Math.max(scale, Number.MIN_VALUE);
}

function symmetric(seed: string, n: number): Matrix {
  const g = gaussian(rngFor(seed), n, n);
  const S = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) S.set(i, j, g.get(i, j) + g.get(j, i));
  return S;
}

function spd(seed: string, n: number): Matrix {
  const g = gaussian(rngFor(seed), n, n + 3);
  const S = matmul(g, g.transpose());
  for (let i = 0; i < n; i++) S.set(i, i, S.get(i, i) + 0.1);
  return S;
}

function scaled(A: Matrix, c: number): Matrix {
  return new Matrix(A.rows, A.cols, A.data.map((x) => x * c));
}

const haveNative = probeNative();

describe('crossover and dispatch', () => {
  it('lapackSize is n for square and the flop-shape cube root for rectangular problems', () => {
    expect(lapackSize(10, 10)).toBe(10);
    expect(lapackSize(80, 10)).toBeCloseTo(20, 12);
    expect(lapackSize(10, 80)).toBeCloseTo(20, 12);
  });

  it('nativeFor follows the crossover and setLapackCrossover restores it', () => {
    const prev = setLapackCrossover('never');
    try {
      expect(nativeFor('eigh', 1e9)).toBeNull();
      setLapackCrossover({ eigh: 10 });
      expect(nativeFor('eigh', 9)).toBeNull();
      expect(nativeFor('eigh', 10)).toBe(nativeLib());
      expect(nativeFor('svd', 10)).toBeNull();
      expect(setLapackCrossover('default')).toEqual({ ...Object.fromEntries(Object.keys(LAPACK_CROSSOVER).map((k) => [k, Infinity])), eigh: 10 });
      expect(nativeFor('qr', LAPACK_CROSSOVER.qr - 1)).toBeNull();
      expect(nativeFor('qr', LAPACK_CROSSOVER.qr)).toBe(nativeLib());
    } finally {
      setLapackCrossover(prev);
    }
    expect(setLapackCrossover(prev)).toEqual(prev);
  });

  it('with BASIS_BLAS=off no kernel is native, whatever the crossover', () => {
    on('wasm', () => {
      setLapackCrossover('always');
      try {
        expect(nativeFor('eigh', 1000)).toBeNull();
      } finally {
        setLapackCrossover('default');
      }
    });
  });
});

describe.skipIf(!haveNative)('native LAPACK vs WebAssembly', () => {
  let before: ReturnType<typeof engineInfo>;
  beforeAll(() => {
    before = engineInfo();
  });
  afterAll(() => {
    restore(before);
  });
  afterEach(() => {
    sabotage.dsyevd = false;
    sabotage.dgesdd = false;
    // every test leaves the engine as it found it
    expect(engineInfo().requested).toBe(before.requested);
  });

  describe('eigh (dsyevd)', () => {
    it('values to 1e-12 relative and vectors to the sign convention, sizes 1..120', () => {
      for (const n of [1, 2, 3, 5, 17, 40, 120]) {
        const S = symmetric(`eigh-${n}`, n);
        const [a, b] = both(() => eigh(S));
        const top = Math.abs(b.values[0] as number) + Math.abs(b.values[n - 1] as number);
        expect(maxRel(a.values, b.values, top)).toBeLessThan(1e-12);
        // random spectra are well separated: the sign-normalised vectors agree entrywise
        expect(maxAbsDiff(a.vectors, b.vectors)).toBeLessThan(1e-9);
        expect(columnsSignNormalised(a.vectors)).toBe(true);
        expect(orthDefect(a.vectors)).toBeLessThan(1e-13 * Math.max(1, n / 10));
        expect(maxAbsDiff(usvt(a.vectors, a.values, a.vectors), S) / top).toBeLessThan(1e-13 * Math.max(1, n / 10));
        const [va, vb] = both(() => eigh(S, { vectors: false }).values);
        expect(maxRel(va, vb, top)).toBeLessThan(1e-12);
        expect(maxRel(va, a.values, top)).toBeLessThan(1e-13);
        for (let j = 1; j < n; j++) expect(a.values[j] as number).toBeLessThanOrEqual(a.values[j - 1] as number);
      }
    });

    it('a planted spectrum with repeated eigenvalues: values exact to rounding, eigenspaces spanned', () => {
      const n = 30;
      const Q = randomOrthogonal(rngFor('planted-eigh'), n);
      const want = Array.from({ length: n }, (_, i) => (i < 5 ? 7 : i < 12 ? 2 : i < 20 ? -1e-3 : -4));
      const S = usvt(Q, want, Q);
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) S.set(i, j, S.get(j, i));
      const [a, b] = both(() => eigh(S));
      expect(maxRel(a.values, want, 7)).toBeLessThan(1e-13);
      expect(maxRel(b.values, want, 7)).toBeLessThan(1e-13);
      // the projector onto each eigenspace is basis-free: both paths give the same one
      for (const [lo, hi] of [[0, 5], [5, 12], [12, 20], [20, 30]] as const) {
        const pa = a.vectors.slice(0, n, lo, hi);
        const pb = b.vectors.slice(0, n, lo, hi);
        expect(maxAbsDiff(matmul(pa, pa.transpose()), matmul(pb, pb.transpose()))).toBeLessThan(1e-12);
      }
      expect(columnsSignNormalised(a.vectors)).toBe(true);
    });

    it('diagonal and zero matrices give exact values; extreme scales from 1e-300 to 1e300', () => {
      const D = new Matrix(6, 6);
      [3, -1, 0.5, 8, 0, -2].forEach((v, i) => D.set(i, i, v));
      const [a, b] = both(() => eigh(D));
      expect(Array.from(a.values)).toEqual([8, 3, 0.5, 0, -1, -2]);
      expect(Array.from(a.values)).toEqual(Array.from(b.values));
      expect(a.vectors.data).toEqual(b.vectors.data);
      const [za, zb] = both(() => eigh(new Matrix(5, 5)));
      expect(za.vectors.data).toEqual(zb.vectors.data);
      expect(Array.from(za.values)).toEqual([0, 0, 0, 0, 0]);
      const S = symmetric('eigh-scale', 25);
      const ref = on('native', () => eigh(S));
      for (const c of [1e-300, 1e-170, 1e170, 1e300, 2 ** -1000, 2 ** 1000]) {
        const [x, y] = both(() => eigh(scaled(S, c)));
        for (const r of [x, y]) {
          expect(maxRel(r.values.map((v) => v / c), ref.values, Math.abs(ref.values[0] as number))).toBeLessThan(1e-13);
          expect(maxAbsDiff(r.vectors, ref.vectors)).toBeLessThan(1e-10);
        }
      }
    });

    it('the same errors on the same bad inputs', () => {
      const asym = symmetric('asym', 4);
      asym.set(0, 1, asym.get(0, 1) + 1);
      const bad: [string, () => unknown][] = [
        ['SHAPE_MISMATCH', () => eigh([[1, 2, 3]])],
        ['TOO_SMALL', () => eigh(new Matrix(0, 0))],
        ['NON_FINITE_INPUT', () => eigh([[1, NaN], [NaN, 1]])],
        ['NON_FINITE_INPUT', () => eigh([[Infinity]])],
        ['INVALID_ARGUMENT', () => eigh(asym)],
        ['INVALID_ARGUMENT', () => sqrtmSpd(symmetric('indefinite', 6))],
        ['RANK_DEFICIENT', () => invSqrtmSpd([[1, 0], [0, 0]], { singular: 'error' })],
      ];
      for (const [code, f] of bad) expect(both(() => thrownCode(f))).toEqual([code, code]);
    });

    it('sqrtmSpd and invSqrtmSpd agree across paths', () => {
      const S = spd('sqrtm', 20);
      const [a, b] = both(() => sqrtmSpd(S));
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-12 * Math.sqrt(Math.max(...S.data)));
      expect(maxAbsDiff(matmul(a, a), S)).toBeLessThan(1e-11 * Math.max(...S.data));
      const [c, d] = both(() => invSqrtmSpd(S));
      expect(maxAbsDiff(c, d) / Math.max(...d.data.map(Math.abs))).toBeLessThan(1e-10);
    });

    it('dsyevd not converging (info > 0) is NOT_CONVERGED', () => {
      on('native', () => {
        sabotage.dsyevd = true;
        try {
          expect(thrownCode(() => eigh(symmetric('nc', 8)))).toBe('NOT_CONVERGED');
          expect(thrownCode(() => eigh(symmetric('nc', 8), { vectors: false }))).toBe('NOT_CONVERGED');
        } finally {
          sabotage.dsyevd = false;
        }
      });
    });
  });

  describe('svd (dgesdd)', () => {
    const shapes = [[1, 1], [1, 7], [7, 1], [4, 4], [10, 4], [4, 10], [33, 33], [60, 17], [17, 60], [200, 30], [30, 200]] as const;

    it('values to 1e-12 relative, vectors to the sign convention, tall, square and wide', () => {
      for (const [m, n] of shapes) {
        const A = gaussian(rngFor(`svd-${m}x${n}`), m, n);
        const [a, b] = both(() => svd(A));
        const s1 = b.s[0] as number;
        expect(maxRel(a.s, b.s, s1)).toBeLessThan(1e-12);
        expect(maxAbsDiff(a.U, b.U)).toBeLessThan(1e-9);
        expect(maxAbsDiff(a.V, b.V)).toBeLessThan(1e-9);
        expect(columnsSignNormalised(a.U)).toBe(true);
        expect(maxAbsDiff(usvt(a.U, a.s, a.V), A) / s1).toBeLessThan(1e-14 * Math.max(m, n));
        expect(orthDefect(a.U)).toBeLessThan(1e-14 * Math.max(m, n));
        expect(orthDefect(a.V)).toBeLessThan(1e-14 * Math.max(m, n));
        const [sa, sb] = both(() => svd(A, { computeUV: false }).s);
        expect(maxRel(sa, sb, s1)).toBeLessThan(1e-12);
        expect(maxRel(sa, a.s, s1)).toBeLessThan(1e-13);
      }
    });

    it('a planted rank-deficient matrix: rank, pinv and lstsq (minimum norm, residuals, s) agree', () => {
      const rng = rngFor('svd-planted');
      const U = randomOrthogonal(rng, 40).slice(0, 40, 0, 6);
      const V = randomOrthogonal(rng, 25).slice(0, 25, 0, 6);
      const want = [50, 10, 3, 1, 1e-3, 1e-6];
      const A = usvt(U, want, V);
      const [a, b] = both(() => svd(A));
      expect(maxRel(a.s.subarray(0, 6), want, 50)).toBeLessThan(1e-13);
      for (let j = 6; j < 25; j++) expect(a.s[j] as number).toBeLessThan(1e-13 * 50);
      expect(columnsSignNormalised(a.U)).toBe(true);
      expect(maxAbsDiff(a.U.slice(0, 40, 0, 6), b.U.slice(0, 40, 0, 6))).toBeLessThan(1e-8);
      expect(both(() => rank(A))).toEqual([6, 6]);
      expect(both(() => rank(A, { rtol: 1e-5 }))).toEqual([5, 5]);
      const [pa, pb] = both(() => pinv(A, { rtol: 1e-9 }));
      // pinv's largest entries are ~1/s_6 = 1e6 and carry s_6's singular vectors, which rounding
      // perturbs by ~eps * s_1 / s_6 = 1e-14 * 5e7 relative: the paths agree to ~10x that.
      expect(maxAbsDiff(pa, pb) / Math.max(...pb.data.map(Math.abs))).toBeLessThan(10 * 2.2e-16 * (50 / 1e-6));
      const B = gaussian(rng, 40, 3);
      const [la, lb] = both(() => lstsq(A, B));
      expect([la.rank, la.rank]).toEqual([lb.rank, 6]);
      // x carries components divided by s_6 = 1e-6: both paths agree to ~eps * s_1 / s_6 (as pinv)
      expect(maxAbsDiff(la.x, lb.x) / Math.max(...lb.x.data.map(Math.abs))).toBeLessThan(10 * 2.2e-16 * (50 / 1e-6));
      expect(maxRel(la.residuals, lb.residuals, Math.max(...lb.residuals))).toBeLessThan(1e-9);
      expect(maxRel(la.s, lb.s, 50)).toBeLessThan(1e-12);
    });

    it('extreme scales (x 1e±170, 1e±300): values scale exactly, vectors unchanged', () => {
      for (const [m, n] of [[40, 10], [12, 12], [8, 20]] as const) {
        const A = gaussian(rngFor(`svd-scale-${m}x${n}`), m, n);
        const ref = on('native', () => svd(A));
        for (const c of [1e-300, 1e-170, 1e170, 1e300]) {
          const [x, y] = both(() => svd(scaled(A, c)));
          for (const r of [x, y]) {
            expect(maxRel(r.s.map((v) => v / c), ref.s, ref.s[0] as number)).toBeLessThan(1e-13);
            expect(maxAbsDiff(r.U, ref.U)).toBeLessThan(1e-10);
            expect(maxAbsDiff(r.V, ref.V)).toBeLessThan(1e-10);
          }
        }
      }
    });

    it('zero matrix and identical errors on bad inputs', () => {
      const [za, zb] = both(() => svd(new Matrix(5, 3)));
      expect(za.U.data).toEqual(zb.U.data);
      expect(za.V.data).toEqual(zb.V.data);
      expect(Array.from(za.s)).toEqual([0, 0, 0]);
      const bad: [string, () => unknown][] = [
        ['TOO_SMALL', () => svd(new Matrix(0, 3))],
        ['TOO_SMALL', () => svd(new Matrix(3, 0))],
        ['NON_FINITE_INPUT', () => svd([[1, NaN]])],
        ['NON_FINITE_INPUT', () => svd([[-Infinity, 1], [2, 3]], { computeUV: false })],
        ['NON_FINITE_INPUT', () => lstsq([[1, 2], [3, Infinity]], [1, 2])],
        ['SHAPE_MISMATCH', () => lstsq([[1, 2], [3, 4]], [1, 2, 3])],
      ];
      for (const [code, f] of bad) expect(both(() => thrownCode(f))).toEqual([code, code]);
    });

    it('falls back to the WebAssembly kernel when dgesdd does not converge', () => {
      const A = gaussian(rngFor('svd-fallback'), 20, 12);
      // the reference: basis' SVD kernel, with its matrix products on the native BLAS as in the fallback
      const wasm = on('native', () => {
        setLapackCrossover({ svd: Infinity, svdValues: Infinity });
        return svd(A);
      });
      const fell = on('native', () => {
        sabotage.dgesdd = true;
        try {
          return [svd(A), svd(A, { computeUV: false }).s] as const;
        } finally {
          sabotage.dgesdd = false;
        }
      });
      expect(fell[0].U.data).toEqual(wasm.U.data);
      expect(fell[0].V.data).toEqual(wasm.V.data);
      expect(Array.from(fell[0].s)).toEqual(Array.from(wasm.s));
      expect(Array.from(fell[1])).toEqual(Array.from(on('wasm', () => svd(A, { computeUV: false }).s)));
      expect(maxAbsDiff(fell[0].U, on('wasm', () => svd(A)).U)).toBeLessThan(1e-12);
    });

    it('property: small random shapes agree across paths', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.nat(), (m, n, seed) => {
          const A = gaussian(rngFor(seed), m, n);
          const [a, b] = both(() => svd(A));
          const s1 = Math.max(b.s[0] as number, Number.MIN_VALUE);
          expect(maxRel(a.s, b.s, s1)).toBeLessThan(1e-12);
          expect(maxAbsDiff(usvt(a.U, a.s, a.V), A) / s1).toBeLessThan(1e-13);
          expect(columnsSignNormalised(a.U)).toBe(true);
        }),
        { numRuns: 25 },
      );
    });
  });

  describe('qr (dgeqrf + dorgqr)', () => {
    it('thin and complete: the unique factorisation (R_ii >= 0) matches, Q R = A', () => {
      for (const [m, n] of [[1, 1], [5, 1], [1, 5], [6, 6], [30, 8], [8, 30], [70, 70]] as const) {
        const A = gaussian(rngFor(`qr-${m}x${n}`), m, n);
        for (const mode of ['thin', 'complete'] as const) {
          const [a, b] = both(() => qr(A, { mode }));
          expect(a.Q.shape).toEqual(b.Q.shape);
          expect(a.R.shape).toEqual(b.R.shape);
          const k = Math.min(m, n);
          // Q's first k columns and R are unique; a complete Q's extra columns only span the complement
          expect(maxAbsDiff(a.Q.slice(0, m, 0, k), b.Q.slice(0, m, 0, k))).toBeLessThan(1e-12);
          expect(maxAbsDiff(a.R, b.R)).toBeLessThan(1e-12 * Math.max(m, n));
          expect(maxAbsDiff(matmul(a.Q, a.R), A)).toBeLessThan(1e-13 * Math.max(m, n));
          expect(orthDefect(a.Q)).toBeLessThan(1e-14 * Math.max(m, n));
          for (let i = 0; i < a.R.rows; i++) {
            if (i < k) expect(a.R.get(i, i)).toBeGreaterThanOrEqual(0);
            for (let j = 0; j < Math.min(i, n); j++) expect(a.R.get(i, j)).toBe(0);
          }
        }
      }
    });

    it.skipIf(nativeLib() === null)('dormqr (Qᵀ C in place) checks C against the factors before the call', () => {
      const lib = nativeLib()!;
      const a = Float64Array.from(gaussian(rngFor('ormqr'), 30, 8).transpose().data); // column-major 30 x 8
      const { factors } = lapackGeqrf(lib, a, 30, 8);
      const c = new Float64Array(30 * 3).fill(1);
      lapackOrmqrT(lib, factors, c, 3);
      // Qᵀ is orthogonal: each column keeps its length
      for (let j = 0; j < 3; j++) expect(c.subarray(j * 30, (j + 1) * 30).reduce((s, v) => s + v * v, 0)).toBeCloseTo(30, 10);
      expect(thrownCode(() => lapackOrmqrT(lib, factors, new Float64Array(30 * 3 - 1), 3))).toBe('INVALID_ARGUMENT');
      expect(thrownCode(() => lapackOrmqrT(lib, factors, c, -1))).toBe('INVALID_ARGUMENT');
    });

    it('rank-deficient and extreme-scale inputs', () => {
      const A = gaussian(rngFor('qr-def'), 9, 5);
      for (let i = 0; i < 9; i++) A.set(i, 2, 0);
      const [a] = both(() => qr(A));
      expect(maxAbsDiff(matmul(a.Q, a.R), A)).toBeLessThan(1e-13);
      expect(orthDefect(a.Q)).toBeLessThan(1e-13);
      const B = gaussian(rngFor('qr-scale'), 20, 12);
      const ref = on('native', () => qr(B));
      for (const c of [1e-300, 1e-170, 1e170, 1e300]) {
        const [x, y] = both(() => qr(scaled(B, c)));
        for (const r of [x, y]) {
          expect(maxAbsDiff(r.Q, ref.Q)).toBeLessThan(1e-12);
          expect(maxAbsDiff(scaled(r.R, 1 / c), ref.R)).toBeLessThan(1e-12);
        }
      }
      expect(both(() => thrownCode(() => qr([[1, NaN]])))).toEqual(['NON_FINITE_INPUT', 'NON_FINITE_INPUT']);
      expect(both(() => thrownCode(() => qr(new Matrix(0, 2))))).toEqual(['TOO_SMALL', 'TOO_SMALL']);
    });

    it('qrPivoted stays on the WebAssembly kernel (first-on-ties pivoting): identical on both paths', () => {
      const A = gaussian(rngFor('qrp'), 12, 9);
      A.set(0, 3, 5);
      const [a, b] = both(() => qrPivoted(A));
      expect(Array.from(a.perm)).toEqual(Array.from(b.perm));
      expect(a.R.data).toEqual(b.R.data);
      expect(a.Q.data).toEqual(b.Q.data);
    });
  });

  describe('solve (dgesv), determinant (dgetrf), cholesky (dpotrf)', () => {
    it('solve agrees for vector and matrix right-hand sides', () => {
      for (const n of [1, 3, 10, 60]) {
        const A = gaussian(rngFor(`solve-${n}`), n, n);
        const B = gaussian(rngFor(`solve-b-${n}`), n, 4);
        const [a, b] = both(() => solve(A, B));
        expect(maxAbsDiff(a, b) / Math.max(...b.data.map(Math.abs))).toBeLessThan(1e-11);
        expect(maxAbsDiff(matmul(A, a), B)).toBeLessThan(1e-12 * n);
        const rhs = Array.from(B.col(1));
        const [x, y] = both(() => solve(A, rhs));
        expect(maxRel(x, y, Math.max(...y.map(Math.abs)))).toBeLessThan(1e-11);
        expect(maxRel(x, a.col(1), Math.max(...y.map(Math.abs)))).toBeLessThan(1e-13);
      }
    });

    it("OpenBLAS' threaded LU (dgetrf_parallel, ~540 KB of stack per recursion level) fits koffi's call stack", () => {
      // koffi's default 2 MiB call stack made a 60 x 60 dgesv on 2 threads crash the process (SIGSEGV);
      // a crash here fails the file ("worker exited unexpectedly"), so the sizes below are the test
      on('native', () => {
        const before = engineInfo().threads;
        configureEngine({ threads: 2 });
        try {
          for (const n of [30, 60, 200, 600]) {
            const A = gaussian(rngFor(`lu-stack-${n}`), n, n);
            const B = gaussian(rngFor(`lu-stack-b-${n}`), n, 3);
            const x = solve(A, B);
            expect(maxAbsDiff(matmul(A, x), B)).toBeLessThan(1e-9 * n);
            if (n <= 60) expect(Number.isFinite(determinant(A))).toBe(true); // larger determinants overflow
          }
        } finally {
          configureEngine({ threads: before });
        }
      });
      expect(NATIVE_CALL_STACK_BYTES).toBe(16 * 1024 * 1024);
    });

    it('RANK_DEFICIENT on the same pivot, with the same tolerance, for singular and nearly singular A', () => {
      const details = (f: () => unknown): unknown => {
        try {
          f();
        } catch (e) {
          if (isBasisError(e)) return [e.code, (e.details as { pivot: number }).pivot, (e.details as { tol: number }).tol];
          throw e;
        }
        return 'ok';
      };
      const rng = rngFor('singular');
      const L = gaussian(rng, 8, 3);
      const low = matmul(L, gaussian(rng, 3, 8)); // rank 3
      const exact = new Matrix(4, 4, Float64Array.from([1, 2, 3, 4, 2, 4, 6, 8, 0, 1, 0, 1, 5, 0, 1, 2])); // rows 0, 1 parallel
      const zero = new Matrix(3, 3);
      for (const A of [low, exact, zero]) {
        const [a, b] = both(() => details(() => solve(A, new Float64Array(A.rows).fill(1))));
        expect(a).toEqual(b);
        expect((a as unknown[])[0]).toBe('RANK_DEFICIENT');
      }
      expect(both(() => thrownCode(() => solve([[1, 2], [3, 4]], [1, 2, 3])))).toEqual(['SHAPE_MISMATCH', 'SHAPE_MISMATCH']);
      expect(both(() => thrownCode(() => solve([[1, 2, 3]], [1])))).toEqual(['SHAPE_MISMATCH', 'SHAPE_MISMATCH']);
      expect(both(() => thrownCode(() => solve([[1, NaN], [0, 1]], [1, 2])))).toEqual(['NON_FINITE_INPUT', 'NON_FINITE_INPUT']);
      expect(both(() => thrownCode(() => solve([[1, 0], [0, 1]], [1, Infinity])))).toEqual(['NON_FINITE_INPUT', 'NON_FINITE_INPUT']);
    });

    it('determinant agrees (relative 1e-12), is exactly 0 at an exactly zero pivot, keeps the sign', () => {
      for (const n of [1, 2, 7, 40]) {
        const A = gaussian(rngFor(`det-${n}`), n, n);
        const [a, b] = both(() => determinant(A));
        expect(Math.abs(a - b) / Math.abs(b)).toBeLessThan(1e-12);
      }
      expect(both(() => determinant([[1, 2], [2, 4]]))).toEqual([0, 0]);
      expect(both(() => determinant([[0, 1], [1, 0]]))).toEqual([-1, -1]);
      expect(both(() => determinant([[2, 0, 0], [0, 3, 0], [0, 0, 4]]))).toEqual([24, 24]);
    });

    it('cholesky agrees; not positive definite names the same first pivot', () => {
      for (const n of [1, 4, 33]) {
        const S = spd(`chol-${n}`, n);
        const [a, b] = both(() => cholesky(S));
        const top = Math.sqrt(Math.max(...S.data));
        expect(maxAbsDiff(a, b) / top).toBeLessThan(1e-12);
        expect(maxAbsDiff(matmul(a, a.transpose()), S) / (top * top)).toBeLessThan(1e-14 * n);
        for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(a.get(i, j)).toBe(0);
      }
      const pivotOf = (f: () => unknown): unknown => {
        try {
          f();
        } catch (e) {
          if (isBasisError(e)) return [e.code, (e.details as { pivot?: number } | undefined)?.pivot];
          throw e;
        }
        return 'ok';
      };
      const S = spd('chol-bad', 10);
      S.set(6, 6, -1);
      // exactly singular in floating point: pivot 1 is 4 - 2 * 2 = 0
      const semi = new Matrix(3, 3, Float64Array.from([1, 2, 3, 2, 4, 6, 3, 6, 10]));
      const asym = spd('asym', 4);
      asym.set(0, 1, asym.get(0, 1) + 1);
      for (const [M, want] of [
        [S, ['RANK_DEFICIENT', 6]],
        [semi, ['RANK_DEFICIENT', 1]],
        [new Matrix(3, 3, Float64Array.from([-1, 0, 0, 0, 1, 0, 0, 0, 1])), ['RANK_DEFICIENT', 0]],
        [asym, ['INVALID_ARGUMENT', undefined]],
      ] as const) {
        expect(both(() => pivotOf(() => cholesky(M)))).toEqual([want, want]);
      }
      // the failing pivot's value (the Schur complement LAPACK leaves on the diagonal) is reported too
      const valueOf = (M: Matrix): number => {
        try {
          cholesky(M);
        } catch (e) {
          if (isBasisError(e)) return (e.details as { value: number }).value;
          throw e;
        }
        return NaN;
      };
      const [va, vb] = both(() => valueOf(S));
      expect(vb).toBeLessThan(0);
      expect(Math.abs(va - vb)).toBeLessThan(1e-12 * Math.max(...S.data));
      expect(both(() => thrownCode(() => cholesky([[1, NaN], [NaN, 1]])))).toEqual(['NON_FINITE_INPUT', 'NON_FINITE_INPUT']);
      expect(both(() => thrownCode(() => cholesky([[1, 2, 3]])))).toEqual(['SHAPE_MISMATCH', 'SHAPE_MISMATCH']);
      expect(both(() => thrownCode(() => cholesky(new Matrix(0, 0))))).toEqual(['TOO_SMALL', 'TOO_SMALL']);
    });
  });

  describe('golden fixtures on both paths', () => {
    it('eigh, svd and qr fixtures hold at 1e-9 on the native path and on WebAssembly', () => {
      const expected = fixtureJson<Record<string, { eigenvalues_desc?: number[]; singular_values?: number[]; rank?: number }>>('linalg/expected.json');
      for (const path of ['native', 'wasm'] as const) {
        on(path, () => {
          for (const name of ['eigh-sym-40', 'eigh-repeated-12']) {
            const want = expected[name]!.eigenvalues_desc!;
            const { values, vectors } = eigh(readNpyMatrix(fixtureBytes(`linalg/${name}.npy`)));
            expect(values).toBeAllclose(want, { rtol: 0, atol: 1e-9 * Math.max(1, ...want.map(Math.abs)) });
            expect(orthDefect(vectors)).toBeLessThan(1e-13);
          }
          for (const name of ['svd-gauss-40x25', 'svd-illcond-30x30', 'svd-rankdef-20x12']) {
            const want = expected[name]!.singular_values!;
            const A = readNpyMatrix(fixtureBytes(`linalg/${name}.npy`));
            expect(svd(A).s).toBeAllclose(want, { rtol: 0, atol: 1e-9 * Math.max(1, ...want) });
            expect(rank(A)).toBe(expected[name]!.rank);
            const { Q, R } = qr(A);
            expect(maxAbsDiff(matmul(Q, R), A)).toBeLessThan(1e-12 * Math.max(1, ...want));
          }
        });
      }
    });
  });

  describe('reused scratch buffers (workspaces, destroyed copies)', () => {
    it('a result survives later calls of other sizes, and repeated calls are bit-identical', () => {
      on('native', () => {
        const A = gaussian(rngFor('scratch-a'), 60, 60);
        const S = symmetric('scratch-s', 50);
        const r1 = svd(A);
        const e1 = eigh(S);
        const snap = [r1.U.data.slice(), r1.V.data.slice(), r1.s.slice(), e1.vectors.data.slice(), e1.values.slice()];
        // other shapes (tall, wide, larger and smaller) through the same slots
        for (const [m, n] of [[90, 30], [30, 90], [120, 120], [7, 7]] as const) {
          svd(gaussian(rngFor(`scratch-${m}x${n}`), m, n));
          eigh(symmetric(`scratch-e${m}`, m));
        }
        expect([r1.U.data, r1.V.data, r1.s, e1.vectors.data, e1.values]).toEqual(snap);
        const r2 = svd(A);
        const e2 = eigh(S);
        expect([r2.U.data, r2.V.data, r2.s, e2.vectors.data, e2.values]).toEqual(snap);
      });
    });

    it('scratch gives exact lengths, reuses a slot that fits and keeps at most SCRATCH_KEEP_BYTES', () => {
      const a = scratch('u', 1000);
      expect(a.length).toBe(1000);
      const b = scratch('u', 10);
      expect(b.length).toBe(10);
      expect(b.buffer).toBe(a.buffer);
      const huge = scratch('u', SCRATCH_KEEP_BYTES / 8 + 1); // too large to keep
      expect(huge.length).toBe(SCRATCH_KEEP_BYTES / 8 + 1);
      expect(scratch('u', 10).buffer).not.toBe(huge.buffer);
    });
  });

  describe('boundary checks (a wrong size throws instead of crashing the process)', () => {
    const lib = (): NativeLib => nativeLib() as NativeLib;
    it('every wrapper rejects short buffers and bad dimensions before calling LAPACK', () => {
      on('native', () => {
        const L = lib();
        expect(thrownCode(() => lapackSyevd(L, new Float64Array(8), 3, true))).toBe('INVALID_ARGUMENT');
        expect(thrownCode(() => lapackSyevd(L, new Float64Array(9), -1, true))).toBe('INVALID_ARGUMENT');
        expect(thrownCode(() => lapackSyevd(L, new Float64Array(9), 2.5, true))).toBe('INVALID_ARGUMENT');
        expect(thrownCode(() => lapackGesdd(L, new Float64Array(5), 2, 3, true))).toBe('INVALID_ARGUMENT');
        expect(thrownCode(() => lapackQR(L, new Float64Array(5), 3, 2, false))).toBe('INVALID_ARGUMENT');
        expect(thrownCode(() => lapackGesv(L, new Float64Array(4), 2, new Float64Array(3), 2))).toBe('INVALID_ARGUMENT');
        expect(thrownCode(() => lapackPotrf(L, new Float64Array(3), 2))).toBe('INVALID_ARGUMENT');
        expect(thrownCode(() => lapackSyevd(L, Float64Array.from([1, NaN, NaN, 1]), 2, true))).toBe('NON_FINITE_INPUT');
        if (!L.int64) expect(thrownCode(() => lapackSyevd(L, new Float64Array(1), 2 ** 31, false))).toBe('INVALID_ARGUMENT');
      });
    });
  });
});
