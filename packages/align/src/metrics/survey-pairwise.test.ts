// Survey measures on row geometry (rsm.norm, dcor, riemann, knn.*, stat.*, imd): golden values,
// brute-force definitions on small inputs (direct O(N² d) distances, N x N matrices), options,
// degenerate inputs, and the per-layer reuse of neighbour lists in audits.
import { describe, expect, it } from 'vitest';
import { Matrix, createRng, eigh, randn, readNpyMatrix } from '@basis/tensor';
import { closeScaled, fixtureBytes, fixtureJson, metricCases, thrownCode as code } from '@basis/test-utils';
import { compareLayers, getMetric, metric } from '../index.js';
import { compareLayersParallel } from '../node.js';
import { neighbourCounters } from './pairwise.js';
import { setRiemannOneSidedBound } from './rsm.js';

const IDS = [
  'rsm.norm',
  'dcor',
  'riemann',
  'knn.jaccard',
  'knn.second_order_cosine',
  'knn.rank',
  'knn.rank_jaccard',
  'stat.magnitude',
  'stat.concentricity',
  'stat.uniformity',
  'stat.intrinsic_dim',
  'imd',
];
const KNN = IDS.filter((id) => id.startsWith('knn.'));

// ---- brute-force definitions (fixtures README, "Survey measures"), written independently ----
type Rows = number[][];
const rowsOf = (M: Matrix): Rows => M.toArray();
/** A copy of M with f applied to every entry (f gets the entry and its flat index). */
const mapM = (M: Matrix, f: (v: number, k: number) => number): Matrix => new Matrix(M.rows, M.cols, M.data.map(f));
const dist = (a: number[], b: number[]) => Math.sqrt(a.reduce((s, v, k) => s + (v - (b[k] as number)) ** 2, 0));
const dot = (a: number[], b: number[]) => a.reduce((s, v, k) => s + v * (b[k] as number), 0);
const cosv = (a: number[], b: number[]) => {
  const na = Math.sqrt(dot(a, a));
  const nb = Math.sqrt(dot(b, b));
  return na === 0 || nb === 0 ? 0 : dot(a, b) / (na * nb);
};
const distances = (X: Rows) => X.map((a) => X.map((b) => dist(a, b)));
const meanRow = (X: Rows) => (X[0] as number[]).map((_, k) => X.reduce((s, r) => s + (r[k] as number), 0) / X.length);

function knnLists(X: Rows, k: number): number[][] {
  return X.map((a, i) =>
    X.map((b, j) => ({ j, c: cosv(a, b) }))
      .filter((e) => e.j !== i)
      .sort((p, q) => q.c - p.c || p.j - q.j)
      .slice(0, k)
      .map((e) => e.j),
  );
}

function refKnn(id: string, X: Rows, Y: Rows, k: number): number {
  const a = knnLists(X, k);
  const b = knnLists(Y, k);
  const out = X.map((_, i) => {
    const A = a[i] as number[];
    const B = b[i] as number[];
    const shared = A.filter((j) => B.includes(j));
    const jac = shared.length / new Set([...A, ...B]).size;
    let rs = 0;
    for (const j of shared) {
      const r1 = A.indexOf(j) + 1;
      const r2 = B.indexOf(j) + 1;
      rs += 2 / ((1 + Math.abs(r1 - r2)) * (r1 + r2));
    }
    let v = 0;
    for (let t = 1; t <= shared.length; t++) v += 1 / t;
    const rank = shared.length === 0 ? 0 : rs / v;
    const U = [...new Set([...A, ...B])];
    const so = cosv(
      U.map((j) => cosv(X[i] as number[], X[j] as number[])),
      U.map((j) => cosv(Y[i] as number[], Y[j] as number[])),
    );
    return { 'knn.jaccard': jac, 'knn.rank': rank, 'knn.rank_jaccard': jac * rank, 'knn.second_order_cosine': so }[id] as number;
  });
  return out.reduce((s, v) => s + v, 0) / out.length;
}

function doubleCentred(D: number[][]): number[][] {
  const n = D.length;
  const r = D.map((row) => row.reduce((s, v) => s + v, 0) / n);
  const g = r.reduce((s, v) => s + v, 0) / n;
  return D.map((row, i) => row.map((v, j) => v - (r[i] as number) - (r[j] as number) + g));
}

/** `S^-1/2` of a symmetric positive definite matrix. */
function invSqrt(S: Matrix): Matrix {
  const { values, vectors } = eigh(S);
  const n = S.rows;
  const out = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let t = 0; t < n; t++) s += vectors.get(i, t) * vectors.get(j, t) / Math.sqrt(values[t] as number);
    out.set(i, j, s);
  }
  return out;
}

function gramRsm(X: Rows, eps: number): Matrix {
  const m = meanRow(X);
  const Xc = X.map((r) => r.map((v, k) => v - (m[k] as number)));
  const n = X.length;
  const tr = Xc.reduce((s, r) => s + dot(r, r), 0);
  const S = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) S.set(i, j, (dot(Xc[i] as number[], Xc[j] as number[]) * n) / tr + (i === j ? eps : 0));
  return S;
}

function mul(A: Matrix, B: Matrix): Matrix {
  const out = new Matrix(A.rows, B.cols);
  for (let i = 0; i < A.rows; i++) for (let j = 0; j < B.cols; j++) {
    let s = 0;
    for (let t = 0; t < A.cols; t++) s += A.get(i, t) * B.get(t, j);
    out.set(i, j, s);
  }
  return out;
}

function laplacianSpectrum(X: Rows, k: number): number[] {
  const n = X.length;
  const A = X.map(() => new Array<number>(n).fill(0));
  X.forEach((a, i) => {
    const near = X.map((b, j) => ({ j, d: dist(a, b) ** 2 }))
      .filter((e) => e.j !== i)
      .sort((p, q) => p.d - q.d || p.j - q.j)
      .slice(0, k);
    for (const { j } of near) {
      (A[i] as number[])[j] = 1;
      (A[j] as number[])[i] = 1;
    }
  });
  const deg = A.map((r) => r.reduce((s, v) => s + v, 0));
  const L = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) L.set(i, j, (i === j ? 1 : 0) - (A[i] as number[])[j]! / Math.sqrt((deg[i] as number) * (deg[j] as number)));
  return [...eigh(L, { vectors: false }).values];
}

function reference(id: string, Xm: Matrix, Ym: Matrix): number {
  const X = rowsOf(Xm);
  const Y = rowsOf(Ym);
  const n = X.length;
  switch (id) {
    case 'rsm.norm': {
      const D = distances(X);
      const E = distances(Y);
      let s = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s += ((D[i] as number[])[j]! - (E[i] as number[])[j]!) ** 2;
      return Math.sqrt(s);
    }
    case 'dcor': {
      const A = doubleCentred(distances(X));
      const B = doubleCentred(distances(Y));
      const v = (P: number[][], Q: number[][]) => P.reduce((s, r, i) => s + dot(r, Q[i] as number[]), 0) / (n * n);
      return Math.sqrt(v(A, B) / Math.sqrt(v(A, A) * v(B, B)));
    }
    case 'riemann': {
      const W = invSqrt(gramRsm(X, 1e-2));
      const M = mul(mul(W, gramRsm(Y, 1e-2)), W);
      return Math.sqrt([...eigh(M, { vectors: false }).values].reduce((s, mu) => s + Math.log(mu) ** 2, 0));
    }
    case 'stat.magnitude':
      return Math.abs(Math.sqrt(dot(meanRow(X), meanRow(X))) - Math.sqrt(dot(meanRow(Y), meanRow(Y))));
    case 'stat.concentricity': {
      const f = (R: Rows) => R.reduce((s, r) => s + cosv(r, meanRow(R)), 0) / R.length;
      return Math.abs(f(X) - f(Y));
    }
    case 'stat.uniformity': {
      const f = (R: Rows) => Math.log(distances(R).flat().reduce((s, d) => s + Math.exp(-2 * d * d), 0) / (R.length * R.length));
      return Math.abs(f(X) - f(Y));
    }
    case 'stat.intrinsic_dim': {
      const f = (R: Rows) => {
        const D = distances(R);
        const s = D.reduce((acc, row, i) => {
          const [r1, r2] = row.filter((_, j) => j !== i).sort((p, q) => p - q) as [number, number];
          return acc + Math.log(r2 / r1);
        }, 0);
        return R.length / s;
      };
      return Math.abs(f(X) - f(Y));
    }
    case 'imd': {
      const lx = laplacianSpectrum(X, 5);
      const ly = laplacianSpectrum(Y, 5);
      let best = 0;
      for (let m = 0; m < 256; m++) {
        const t = 10 ** (-1 + (2 * m) / 255);
        const h = (l: number[]) => (1e6 / n) * l.reduce((s, v) => s + Math.exp(-t * v), 0);
        best = Math.max(best, Math.exp(-2 * (t + 1 / t)) * Math.abs(h(lx) - h(ly)));
      }
      return best;
    }
    default:
      return refKnn(id, X, Y, 10);
  }
}

describe('survey measures on row geometry: golden values of every public fixture case (1e-9)', () => {
  for (const c of metricCases()) {
    const X = readNpyMatrix(fixtureBytes(`metrics/${c}/X.npy`));
    const Y = readNpyMatrix(fixtureBytes(`metrics/${c}/Y.npy`));
    const expected = fixtureJson<Record<string, number | string>>(`metrics/${c}/expected.json`);
    for (const id of IDS) {
      it(`${c} ${id}`, () => {
        const want = expected[id];
        expect(typeof want, `${id} in ${c}/expected.json`).toBe('number');
        const got = metric(id, X, Y).value;
        expect(closeScaled(got, want as number, 1e-9), `got ${got}, want ${want}`).toBe(true);
      });
    }
  }
});

describe('agree with brute-force definitions (direct distances, N x N matrices)', () => {
  const cases: [string, Matrix, Matrix][] = [];
  const rng = createRng(2026);
  for (let s = 0; s < 4; s++) {
    const X = randn(14 + 5 * s, 3 + s, rng);
    const Y = randn(14 + 5 * s, 5 - (s % 3), rng);
    for (let k = 0; k < Y.data.length; k += 3) Y.data[k] = (Y.data[k] as number) + (X.data[k % X.data.length] as number);
    cases.push([`gaussian ${X.rows}x${X.cols} / ${Y.cols}`, X, Y]);
  }
  // non-negative rows with an offset (uncentred cosines, far from the origin)
  const R = mapM(randn(30, 4, rng), (v) => Math.abs(v) + 3);
  const S = mapM(randn(30, 6, rng), (v) => Math.abs(v) + 0.5);
  cases.push(['offset non-negative 30x4 / 6', R, S]);
  for (const [name, X, Y] of cases) {
    for (const id of IDS) {
      it(`${id} on ${name}`, () => {
        const got = metric(id, X, Y).value;
        const want = reference(id, X, Y);
        // riemann's N x N reference route is itself accurate to ~1e-12 (plain generalised eigenvalues)
        const tol = id === 'riemann' ? 1e-10 : 1e-11;
        expect(closeScaled(got, want, tol), `got ${got}, want ${want}`).toBe(true);
      });
    }
  }
  it('riemann with fewer rows than dx + dy (the N x N Gram route) matches the definition, also at epsilon 1e-3 and with a rank-deficient side', () => {
    const r = createRng(77);
    for (const [n, dx, dy] of [[12, 8, 9], [40, 30, 25], [33, 2, 40]] as const) {
      const X = randn(n, dx, r);
      const Y = randn(n, dy, r);
      for (let k = 0; k < Math.min(X.data.length, Y.data.length); k += 2) Y.data[k] = (Y.data[k] as number) + 2 * (X.data[k] as number);
      const got = metric('riemann', X, Y).value;
      expect(closeScaled(got, reference('riemann', X, Y), 1e-10), `${n}x${dx}/${dy}: ${got}`).toBe(true);
      expect(closeScaled(metric('riemann', Y, X).value, got, 1e-12), 'symmetric').toBe(true);
    }
    // the N x N route at a smaller ridge: mu down to ~1e-4, each ln mu from the side where it is large
    const X = randn(20, 16, r);
    const Y = mapM(randn(20, 16, r), (v, k) => v + (X.data[k] as number));
    const W = invSqrt(gramRsm(rowsOf(X), 1e-3));
    const want = Math.sqrt([...eigh(mul(mul(W, gramRsm(rowsOf(Y), 1e-3)), W), { vectors: false }).values].reduce((s, mu) => s + Math.log(mu) ** 2, 0));
    expect(closeScaled(metric('riemann', X, Y, { epsilon: 1e-3 }).value, want, 1e-9)).toBe(true);
  });

  it('riemann: the e side alone (taken when its error bound is below 1e-13) equals both sides, and the bound sends tiny-mu cases to both', () => {
    const r = createRng(78);
    const value = (X: Matrix, Y: Matrix, eps: number, bound: number): number => {
      const prev = setRiemannOneSidedBound(bound);
      try {
        return metric('riemann', X.clone(), Y.clone(), { epsilon: eps }).value;
      } finally {
        setRiemannOneSidedBound(prev);
      }
    };
    const pairs: [string, Matrix, Matrix][] = [];
    for (const [n, dx, dy] of [[12, 8, 9], [60, 10, 12], [80, 50, 40]] as const) {
      const X = randn(n, dx, r);
      const Y = randn(n, dy, r);
      for (let k = 0; k < Math.min(X.data.length, Y.data.length); k += 2) Y.data[k] = (Y.data[k] as number) + (X.data[k] as number);
      pairs.push([`${n}x${dx}/${dy}`, X, Y]);
    }
    for (const [n, d] of [[200, 24], [40, 30]] as const) {
      // the bench's pairs: Y = X R + noise (no small mu at the default ridge)
      const X = randn(n, d, r);
      const R = randn(d, d, r);
      const E = randn(n, d, r);
      const Y = new Matrix(n, d, E.data.map((v, k) => v + X.row(Math.floor(k / d)).reduce((s, x, t) => s + x * R.get(t, k % d), 0)));
      pairs.push([`X R + E ${n}x${d}`, X, Y]);
    }
    let oneSided = 0;
    for (const [name, X, Y] of pairs) {
      for (const eps of [1e-2, 1e-3]) {
        const both = value(X, Y, eps, -1);
        const one = value(X, Y, eps, Infinity);
        const taken = value(X, Y, eps, 1e-13);
        expect(closeScaled(taken, both, 1e-13), `${name} eps ${eps}: ${taken} vs both sides ${both}`).toBe(true);
        if (taken === one && taken !== both) oneSided++;
      }
    }
    expect(oneSided, 'cases where the e side alone was taken').toBeGreaterThan(0);
    // one direction of Y shrunk 1e-3 at a tiny ridge: mu ~ 1e-6 there, where log1p(e) has lost
    // digits; the bound sends it to both sides
    const X = randn(30, 3, r);
    const Y = mapM(X, (v, k) => (k % 3 === 0 ? 1e-3 * v : v));
    const both = value(X, Y, 1e-9, -1);
    const one = value(X, Y, 1e-9, Infinity);
    expect(Math.abs(one - both) / both, `one-sided ${one}, both ${both}`).toBeGreaterThan(1e-13);
    expect(value(X, Y, 1e-9, 1e-13)).toBe(both);
  });

  it('scale-handling: huge and tiny inputs give the scaled values (exact powers of two), never overflow', () => {
    const X = cases[1]![1];
    const Y = cases[1]![2];
    const big = 2 ** 900;
    const tiny = 2 ** -900;
    const scaled = (M: Matrix, c: number) => mapM(M, (v) => v * c);
    for (const id of IDS) {
      const base = metric(id, X, Y).value;
      const d = getMetric(id);
      for (const c of [big, tiny]) {
        const v = metric(id, scaled(X, c), scaled(Y, c)).value;
        // scale-free ids keep their value; stat.magnitude and rsm.norm scale with c; uniformity and imd depend on the scale
        if (d.invariances.includes('isotropic-scale')) expect(closeScaled(v, base, 1e-12), `${id} x ${c}`).toBe(true);
        else if (id === 'stat.magnitude' || id === 'rsm.norm') expect(closeScaled(v / c, base, 1e-12), `${id} x ${c}`).toBe(true);
        else expect(Number.isFinite(v), `${id} x ${c}`).toBe(true);
      }
    }
  });
  it('close rows: distances are direct, not from the Gram form (pairs of rows 1e-6 apart)', () => {
    // rows come in pairs b_i, b_i + 1e-6 u_i: the Gram form |x|² + |y|² - 2 x·y of a pair's distance
    // keeps ~3 digits, the direct sum all of them
    const base = randn(20, 6, rng);
    const near = (seed: number) => {
      const u = randn(20, 6, createRng(seed));
      const M = new Matrix(40, 6);
      for (let i = 0; i < 20; i++) for (let k = 0; k < 6; k++) {
        M.set(2 * i, k, base.get(i, k));
        M.set(2 * i + 1, k, base.get(i, k) + 1e-6 * u.get(i, k));
      }
      return M;
    };
    const X = near(1);
    const Y = near(2);
    for (const id of ['rsm.norm', 'dcor', 'stat.intrinsic_dim']) {
      const got = metric(id, X, Y).value;
      const want = reference(id, X, Y);
      expect(Math.abs(got - want) / Math.abs(want), `${id}: got ${got}, want ${want}`).toBeLessThan(1e-9);
    }
  });
});

describe('options', () => {
  const rng = createRng(5);
  const X = randn(30, 4, rng);
  const Y = randn(30, 5, rng);
  it('k, t, epsilon: defaults, validation, and the value changes with them', () => {
    for (const id of KNN) {
      expect(metric(id, X, Y).options).toEqual({ k: 10 });
      expect(metric(id, X, Y, { k: 3 }).value).toBeCloseTo(refKnn(id, rowsOf(X), rowsOf(Y), 3), 11);
      expect(code(() => metric(id, X, Y, { k: 0 }))).toBe('CONFIG_INVALID');
      expect(code(() => metric(id, X, Y, { k: 2.5 }))).toBe('CONFIG_INVALID');
      expect(code(() => metric(id, X, Y, { k: 29 }))).toBe('TOO_SMALL'); // N = 30 < k + 2
      const wide = metric(id, X, Y, { k: 28 }).value; // every other row but one
      expect(wide).toBeGreaterThanOrEqual(getMetric(id).range[0]);
      expect(wide).toBeLessThanOrEqual(1);
    }
    expect(metric('imd', X, Y).options).toEqual({ k: 5 });
    expect(code(() => metric('imd', X, Y, { k: 30 }))).toBe('TOO_SMALL');
    expect(metric('imd', X, Y, { k: 29 }).value).toBe(0); // complete graphs on both sides
    expect(metric('stat.uniformity', X, Y).options).toEqual({ t: 2 });
    expect(metric('stat.uniformity', X, Y, { t: 0.5 }).value).not.toBe(metric('stat.uniformity', X, Y).value);
    expect(code(() => metric('stat.uniformity', X, Y, { t: 0 }))).toBe('CONFIG_INVALID');
    expect(metric('riemann', X, Y).options).toEqual({ epsilon: 1e-2 });
    expect(metric('riemann', X, Y, { epsilon: 1 }).value).toBeLessThan(metric('riemann', X, Y).value);
    expect(code(() => metric('riemann', X, Y, { epsilon: -1 }))).toBe('CONFIG_INVALID');
    expect(code(() => metric('dcor', X, Y, { k: 3 }))).toBe('CONFIG_INVALID');
  });
});

describe('degenerate inputs: a defined value or a BasisError, never NaN', () => {
  const rng = createRng(9);
  const X = randn(20, 4, rng);
  it('duplicate rows: stat.intrinsic_dim says which rows (RANK_DEFICIENT); the others stay finite', () => {
    const D = X.clone();
    for (let k = 0; k < 4; k++) D.set(7, k, D.get(3, k));
    expect(code(() => metric('stat.intrinsic_dim', D, X))).toBe('RANK_DEFICIENT');
    expect(() => metric('stat.intrinsic_dim', X, D)).toThrow(/rows 3 and 7 of Y are identical/);
    for (const id of IDS.filter((i) => i !== 'stat.intrinsic_dim')) expect(Number.isFinite(metric(id, D, X).value), id).toBe(true);
  });
  it('zero rows: cosine with a zero vector is 0 (knn.*, stat.concentricity)', () => {
    const Z = X.clone();
    for (const i of [2, 11]) for (let k = 0; k < 4; k++) Z.set(i, k, 0);
    for (const id of [...KNN, 'stat.concentricity']) {
      const v = metric(id, Z, X).value;
      expect(closeScaled(v, reference(id, Z, X), 1e-11), id).toBe(true);
    }
    // all rows zero: every cosine is 0, neighbours are the lowest indices; a mean row of 0
    const zero = new Matrix(20, 4);
    for (const id of KNN) expect(Number.isFinite(metric(id, zero, X).value), id).toBe(true);
    expect(metric('stat.concentricity', zero, zero).value).toBe(0);
    expect(metric('stat.magnitude', zero, X).value).toBeCloseTo(reference('stat.magnitude', zero, X), 14);
  });
  it('constant inputs: the documented value or RANK_DEFICIENT', () => {
    const C = new Matrix(20, 4).fill(2.5);
    // distances all 0: ||D'||, the uniformity ln(1) - f(Y), a kNN graph by index
    expect(metric('rsm.norm', C, X).value).toBeCloseTo(reference('rsm.norm', C, X), 11);
    expect(metric('stat.uniformity', C, X).value).toBeCloseTo(reference('stat.uniformity', C, X), 12);
    expect(metric('stat.magnitude', C, X).value).toBeCloseTo(reference('stat.magnitude', C, X), 12);
    expect(metric('stat.concentricity', C, X).value).toBeCloseTo(reference('stat.concentricity', C, X), 12);
    expect(metric('imd', C, X).value).toBeCloseTo(reference('imd', C, X), 6);
    for (const id of KNN) expect(Number.isFinite(metric(id, C, X).value), id).toBe(true);
    for (const id of ['dcor', 'riemann', 'stat.intrinsic_dim']) expect(code(() => metric(id, C, X)), id).toBe('RANK_DEFICIENT');
  });
  it('values beyond the float64 range: INVALID_ARGUMENT naming the cause', () => {
    const huge = new Matrix(4, 2, Float64Array.of(1.7e308, 1.7e308, -1.7e308, -1.7e308, 1.7e308, -1.7e308, -1.7e308, 1.7e308));
    const zero = new Matrix(4, 2);
    for (const id of ['rsm.norm', 'stat.magnitude']) {
      const M = id === 'stat.magnitude' ? new Matrix(4, 2).fill(1.7e308) : huge;
      expect(code(() => metric(id, M, zero)), id).toBe('INVALID_ARGUMENT');
      expect(() => metric(id, M, zero)).toThrow(/exceeds the largest float64/);
    }
  });
  it('rows that are the same point in Y but not in X: identical kNN graphs give imd exactly 0', () => {
    expect(metric('imd', X, mapM(X, (v) => 3 * v + 1)).value).toBe(0);
  });
});

describe('audits reuse per-layer neighbour lists', () => {
  it('one cosine neighbour computation per layer for all pairs and all knn.* ids; audit values equal single pairs', () => {
    const rng = createRng(12);
    const A = { a0: randn(40, 5, rng), a1: randn(40, 3, rng), a2: randn(40, 6, rng) };
    const B = { b0: randn(40, 4, rng), b1: randn(40, 7, rng) };
    const before = neighbourCounters.cosine;
    const beforeEuclid = neighbourCounters.euclidean;
    const audit = compareLayers(A, B, [...KNN, 'knn.mutual', 'imd', 'stat.intrinsic_dim'], { options: { 'knn.rank': { k: 10 } } });
    expect(neighbourCounters.cosine - before).toBe(5); // 3 + 2 layers, not 6 pairs x 4 ids x 2 sides
    expect(neighbourCounters.euclidean - beforeEuclid).toBe(10); // imd (k = 5) and TwoNN (k = 2), once per layer each
    const afterAudit = neighbourCounters.euclidean;
    for (const id of audit.metrics) {
      Object.values(A).forEach((x, i) =>
        Object.values(B).forEach((y, j) => {
          expect(audit.values[id]![i]![j], `${id} [${i}, ${j}]`).toBe(metric(id, x.clone(), y.clone()).value);
        }),
      );
    }
    // the single-pair calls above ran on fresh copies (nothing memoised): they recomputed
    expect(neighbourCounters.euclidean - afterAudit).toBe(24); // 6 pairs x 2 ids x 2 sides
  });
  it('worker threads (per-layer work prepared once and shared) give the serial values', async () => {
    const rng = createRng(13);
    const A: [string, Matrix][] = [['a0', randn(60, 5, rng)], ['a1', randn(60, 8, rng)]];
    const B: [string, Matrix][] = [['b0', randn(60, 6, rng)], ['b1', A[1]![1].clone()]];
    const serial = compareLayers(A, B, IDS);
    const par = await compareLayersParallel(A, B, IDS, { workers: 2, minSeconds: 0 });
    // bit-identical except where LAPACK's eigh runs with another thread count in the workers (riemann, imd)
    for (const id of IDS) {
      serial.values[id]!.forEach((row, i) =>
        row.forEach((v, j) => {
          const w = par.values[id]![i]![j]!;
          if (id === 'riemann' || id === 'imd') expect(closeScaled(w, v, 1e-10), `${id} [${i}, ${j}]: ${w} vs ${v}`).toBe(true);
          else expect(w, `${id} [${i}, ${j}]`).toBe(v);
        }),
      );
    }
    expect(serial.values['knn.jaccard']![1]![1]).toBe(1);
    expect(serial.values['imd']![1]![1]).toBe(0);
  });
});
