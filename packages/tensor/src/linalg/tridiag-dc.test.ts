import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Matrix } from '../matrix.js';
import { eigh } from './eigh.js';
import { DC_LEAF, secularRoots, tridiagEigDC } from './tridiag-dc.js';
import { tql } from './tridiag-ql.js';
import { columnsSignNormalised, gaussian, maxAbs, maxAbsDiff, orthDefect, randomOrthogonal, rngFor, usvt } from './test-helpers.js';

/** Eigenvalues of (d, e) by the implicit QL path (ascending). */
function qlValues(d: Float64Array, e: Float64Array): Float64Array {
  const n = d.length;
  const dd = d.slice();
  const ee = new Float64Array(n);
  ee.set(e.subarray(0, n - 1));
  tql(dd, ee, n, null);
  return dd.sort();
}

interface Check {
  residual: number; // max |T Z - Z Λ| / max|T|
  orth: number; // max |ZᵀZ - I|
  values: Float64Array;
  Z: Float64Array;
}

/** Runs the divide-and-conquer solver on (d, e) and measures residual and orthogonality. */
function runDC(d: Float64Array, e: Float64Array): Check {
  const n = d.length;
  const values = d.slice();
  const Z = tridiagEigDC(values, e.slice(), n);
  let tmax = 0;
  for (let i = 0; i < n; i++) tmax = Math.max(tmax, Math.abs(d[i] as number), i < n - 1 ? Math.abs(e[i] as number) : 0);
  let res = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let tz = (d[i] as number) * (Z[i * n + j] as number);
      if (i > 0) tz += (e[i - 1] as number) * (Z[(i - 1) * n + j] as number);
      if (i < n - 1) tz += (e[i] as number) * (Z[(i + 1) * n + j] as number);
      res = Math.max(res, Math.abs(tz - (values[j] as number) * (Z[i * n + j] as number)));
    }
  }
  const ZM = new Matrix(n, n, Z);
  return { residual: tmax === 0 ? res : res / tmax, orth: orthDefect(ZM), values, Z };
}

function expectGood(c: Check, n: number, tol = 1e-13): void {
  expect(c.residual).toBeLessThanOrEqual(tol * Math.max(1, n));
  expect(c.orth).toBeLessThanOrEqual(tol * Math.max(1, n));
  for (let j = 1; j < n; j++) expect(c.values[j] as number).toBeGreaterThanOrEqual(c.values[j - 1] as number);
}

const sizes = [...Array.from({ length: 40 }, (_, i) => i + 1), 100, 300];

describe('tridiagonal divide and conquer', () => {
  it('1-2-1 matrix: closed-form eigenvalues 2 - 2cos(kπ/(n+1)), orthonormal vectors (n = 1..40, 100, 300)', () => {
    for (const n of sizes) {
      const d = new Float64Array(n).fill(2);
      const e = new Float64Array(Math.max(0, n - 1)).fill(-1);
      const c = runDC(d, e);
      expectGood(c, n);
      const want = Array.from({ length: n }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / (n + 1))).sort((a, b) => a - b);
      expect(c.values).toBeAllclose(want, { rtol: 0, atol: 4e-15 * n });
      // Eigenvector k is sin(i (k+1) π/(n+1)) normalised, up to sign.
      if (n === 300) {
        for (const k of [0, 17, 299]) {
          const s = Math.sqrt(2 / (n + 1));
          const ref = Array.from({ length: n }, (_, i) => s * Math.sin(((i + 1) * (k + 1) * Math.PI) / (n + 1)));
          const sign = Math.sign(c.Z[k] as number) * Math.sign(ref[0] as number);
          for (let i = 0; i < n; i++) expect(Math.abs(sign * (c.Z[i * n + k] as number) - (ref[i] as number))).toBeLessThan(1e-11);
        }
      }
    }
  });

  it('random tridiagonal matrices agree with the QL path (sizes around the leaf threshold)', () => {
    const rng = rngFor('dc-random');
    for (const n of sizes) {
      const d = Float64Array.from({ length: n }, () => rng.normal());
      const e = Float64Array.from({ length: Math.max(0, n - 1) }, () => rng.normal());
      const c = runDC(d, e);
      expectGood(c, n);
      expect(c.values).toBeAllclose(qlValues(d, e), { rtol: 0, atol: 1e-14 * n * 4 });
    }
  });

  it('Clement matrices: closed-form eigenvalues -(n-1), -(n-3), ..., n-1', () => {
    for (const n of [26, 27, 64, 201]) {
      const d = new Float64Array(n);
      const e = Float64Array.from({ length: n - 1 }, (_, i) => Math.sqrt((i + 1) * (n - 1 - i)));
      const c = runDC(d, e);
      expectGood(c, n);
      const want = Array.from({ length: n }, (_, k) => -(n - 1) + 2 * k);
      expect(c.values).toBeAllclose(want, { rtol: 0, atol: 1e-14 * n * n });
    }
  });

  it('Wilkinson matrices W_n⁺ (pairs of nearly equal eigenvalues)', () => {
    for (const n of [21, 41, 101, 301]) {
      const h = (n - 1) / 2;
      const d = Float64Array.from({ length: n }, (_, i) => Math.abs(i - h));
      const e = new Float64Array(n - 1).fill(1);
      const c = runDC(d, e);
      expectGood(c, n);
      const ql = qlValues(d, e);
      expect(c.values).toBeAllclose(ql, { rtol: 0, atol: 1e-14 * n * h });
      // The two largest eigenvalues of W21+ agree to about 1e-13 (a famous near-degeneracy).
      if (n === 21) expect((c.values[20] as number) - (c.values[19] as number)).toBeLessThan(1e-12);
    }
  });

  it('glued Wilkinson matrices (clusters of many nearly equal eigenvalues)', () => {
    for (const glue of [1e-6, 1e-10, 1e-14]) {
      const blocks = 12; // 12 copies of W21+ glued by `glue`: n = 252
      const n = 21 * blocks;
      const d = new Float64Array(n);
      const e = new Float64Array(n - 1);
      for (let b = 0; b < blocks; b++) {
        for (let i = 0; i < 21; i++) {
          d[b * 21 + i] = Math.abs(i - 10);
          if (i < 20) e[b * 21 + i] = 1;
        }
        if (b < blocks - 1) e[b * 21 + 20] = glue;
      }
      const c = runDC(d, e);
      expectGood(c, n);
      expect(c.values).toBeAllclose(qlValues(d, e), { rtol: 0, atol: 1e-12 });
    }
  });

  it('heavy deflation: constant diagonal with tiny couplings, exact zeros, and repeated blocks', () => {
    const rng = rngFor('dc-deflate');
    const n = 200;
    // (a) identical diagonal, couplings at round-off level: almost everything deflates.
    const d = new Float64Array(n).fill(3);
    const e = Float64Array.from({ length: n - 1 }, () => 1e-17 * rng.normal());
    expectGood(runDC(d, e), n);
    // (b) exact zero couplings every 7 entries (the matrix splits into blocks).
    const d2 = Float64Array.from({ length: n }, () => rng.normal());
    const e2 = Float64Array.from({ length: n - 1 }, (_, i) => (i % 7 === 6 ? 0 : rng.normal()));
    const c2 = runDC(d2, e2);
    expectGood(c2, n);
    expect(c2.values).toBeAllclose(qlValues(d2, e2), { rtol: 0, atol: 1e-13 });
    // (c) the same random block repeated (every eigenvalue appears several times) with weak glue.
    const blk = 30;
    const bd = Float64Array.from({ length: blk }, () => rng.normal());
    const be = Float64Array.from({ length: blk - 1 }, () => rng.normal());
    const d3 = new Float64Array(n);
    const e3 = new Float64Array(n - 1);
    for (let i = 0; i < n; i++) d3[i] = bd[i % blk] as number;
    for (let i = 0; i < n - 1; i++) e3[i] = (i % blk) === blk - 1 ? 1e-9 : (be[i % blk] as number);
    const c3 = runDC(d3, e3);
    expectGood(c3, n);
    expect(c3.values).toBeAllclose(qlValues(d3, e3), { rtol: 0, atol: 1e-12 });
    // (d) diagonal matrix (all couplings zero) and the zero matrix.
    const c4 = runDC(Float64Array.from({ length: 50 }, (_, i) => (i * 7) % 11), new Float64Array(49));
    expect(Array.from(c4.values)).toEqual(Array.from({ length: 50 }, (_, i) => (i * 7) % 11).sort((a, b) => a - b));
    expectGood(c4, 50);
    const c5 = runDC(new Float64Array(40), new Float64Array(39));
    expect(Array.from(c5.values)).toEqual(new Array(40).fill(0));
    expectGood(c5, 40);
  });

  it('graded matrices (entries spanning many orders of magnitude)', () => {
    for (const n of [60, 150]) {
      for (const dir of [1, -1]) {
        const g = (i: number): number => 10 ** (dir * (-12 * i) / (n - 1));
        const d = Float64Array.from({ length: n }, (_, i) => g(i));
        const e = Float64Array.from({ length: n - 1 }, (_, i) => 0.5 * Math.sqrt(g(i) * g(i + 1)));
        const c = runDC(d, e);
        expectGood(c, n);
        const top = Math.max(...d);
        expect(c.values).toBeAllclose(qlValues(d, e), { rtol: 0, atol: 1e-14 * n * top });
      }
    }
  });

  it('property: random tridiagonals of random size and scale', () => {
    fc.assert(
      fc.property(fc.integer({ min: DC_LEAF - 3, max: 90 }), fc.nat(), fc.integer({ min: -8, max: 8 }), (n, seed, ex) => {
        const rng = rngFor(`dc-prop-${seed}`);
        const sc = 10 ** ex;
        const d = Float64Array.from({ length: n }, () => sc * rng.normal());
        const e = Float64Array.from({ length: n - 1 }, () => sc * rng.normal());
        const c = runDC(d, e);
        expectGood(c, n);
        expect(c.values).toBeAllclose(qlValues(d, e), { rtol: 0, atol: 1e-14 * n * 4 * sc * 4 });
      }),
      { numRuns: 25 },
    );
  });

  it('secular equation: roots interlace the poles, solve the equation, and match a brute-force solver', () => {
    const rng = rngFor('secular');
    for (const K of [1, 2, 3, 10, 60]) {
      // Distinct sorted poles, some very close together; positive weights.
      const dl = new Float64Array(K);
      let x = 0;
      for (let i = 0; i < K; i++) {
        x += i % 4 === 3 ? 1e-9 : 0.1 + rng.uniform();
        dl[i] = x;
      }
      const z2raw = Float64Array.from({ length: K }, () => 0.01 + rng.uniform());
      let s = 0;
      for (const v of z2raw) s += v;
      const z2 = z2raw.map((v) => v / s);
      const rho = 0.7;
      const lam = new Float64Array(K);
      const delta = new Float64Array(K * K);
      secularRoots(K, dl, z2, rho, lam, delta);
      for (let j = 0; j < K; j++) {
        const lj = lam[j] as number;
        expect(lj).toBeGreaterThan(dl[j] as number);
        expect(lj).toBeLessThanOrEqual(j < K - 1 ? (dl[j + 1] as number) : (dl[K - 1] as number) + rho);
        // delta rows are d_i - lam_j to working accuracy.
        for (let i = 0; i < K; i++) expect(Math.abs((delta[j * K + i] as number) - ((dl[i] as number) - lj))).toBeLessThan(1e-15 * 8 * x);
      }
      // Brute force: eigenvalues of the dense D + rho z zᵀ by the general eigh (QL path).
      const M = new Matrix(K, K);
      for (let i = 0; i < K; i++) {
        for (let k = 0; k < K; k++) M.set(i, k, (i === k ? (dl[i] as number) : 0) + rho * Math.sqrt((z2[i] as number) * (z2[k] as number)));
      }
      const ref = Array.from(eigh(M, { vectors: false }).values).sort((a, b) => a - b);
      expect(lam).toBeAllclose(ref, { rtol: 0, atol: 1e-14 * K * x });
    }
  });
});

function randomSymmetric(seed: string, n: number): Matrix {
  const a = gaussian(rngFor(seed), n, n);
  const s = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s.set(i, j, (a.get(i, j) + a.get(j, i)) / 2);
  return s;
}

function symmetricFrom(Q: Matrix, lam: number[]): Matrix {
  const S = usvt(Q, lam, Q);
  const n = lam.length;
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) S.set(i, j, S.get(j, i));
  return S;
}

/** eigh's decomposition checks plus agreement with the values-only (implicit QL) spectrum. */
function checkEigh(S: Matrix, tol = 1e-13): Float64Array {
  const n = S.rows;
  const { values, vectors } = eigh(S);
  const scale = Math.max(1e-300, maxAbs(S));
  for (let j = 1; j < n; j++) expect(values[j] as number).toBeLessThanOrEqual(values[j - 1] as number);
  expect(maxAbsDiff(usvt(vectors, values, vectors), S) / scale).toBeLessThan(tol * n);
  // Residual ‖S V - V Λ‖ / ‖S‖ (max norm).
  let res = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let sv = 0;
      for (let k = 0; k < n; k++) sv += S.get(i, k) * vectors.get(k, j);
      res = Math.max(res, Math.abs(sv - (values[j] as number) * vectors.get(i, j)));
    }
  }
  expect(res / scale).toBeLessThan(tol * n);
  expect(orthDefect(vectors)).toBeLessThan(tol * n);
  expect(columnsSignNormalised(vectors)).toBe(true);
  expect(values).toBeAllclose(eigh(S, { vectors: false }).values, { rtol: 0, atol: 1e-14 * n * scale });
  return values;
}

describe('eigh on the divide-and-conquer path', () => {
  it('random symmetric matrices around the threshold and at n = 100, 300', () => {
    for (const n of [DC_LEAF - 1, DC_LEAF, DC_LEAF + 1, 33, 40, 100, 300]) checkEigh(randomSymmetric(`dc-eigh-${n}`, n));
  });

  it('identity plus rank one: n-1 repeated eigenvalues (everything but one deflates)', () => {
    const rng = rngFor('dc-i-r1');
    for (const n of [50, 200]) {
      const u = Array.from({ length: n }, () => rng.normal());
      const S = Matrix.identity(n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) S.set(i, j, S.get(i, j) + (u[i] as number) * (u[j] as number));
      const values = checkEigh(S);
      let uu = 0;
      for (const v of u) uu += v * v;
      expect(values[0] as number).toBeCloseTo(1 + uu, 10);
      for (let j = 1; j < n; j++) expect(Math.abs((values[j] as number) - 1)).toBeLessThan(1e-13 * n * uu);
    }
  });

  it('planted clustered spectrum and condition 1e12', () => {
    const rng = rngFor('dc-planted');
    const n = 120;
    const Q = randomOrthogonal(rng, n);
    const clustered = Array.from({ length: n }, (_, i) => (i < 40 ? 5 : i < 60 ? 5 + 1e-10 * i : i < 100 ? -2 : i / n));
    const v1 = checkEigh(symmetricFrom(Q, clustered));
    expect(v1).toBeAllclose([...clustered].sort((a, b) => b - a), { rtol: 0, atol: 1e-13 * n * 5 });
    const ill = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1 : -1) * 10 ** (-12 * (i / (n - 1))));
    const v2 = checkEigh(symmetricFrom(Q, ill));
    expect(v2).toBeAllclose([...ill].sort((a, b) => b - a), { rtol: 0, atol: 1e-14 * n });
  });

  it('is deterministic and keeps the sign convention', () => {
    const S = randomSymmetric('dc-det', 80);
    const a = eigh(S);
    const b = eigh(S.clone());
    expect(a.vectors.data).toEqual(b.vectors.data);
    expect(columnsSignNormalised(a.vectors)).toBe(true);
  });
});
