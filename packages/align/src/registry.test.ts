import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BasisError, Matrix, createRng, haarOrthogonal, matmul, readNpyMatrix, type Rng } from '@basis/tensor';
import { closeScaled, fixtureBytes, fixtureJson, metricCases, thrownCode as code } from '@basis/test-utils';
import { COST_CLASSES, FAMILIES, INVARIANCES, compare, getMetric, listMetrics, metric, resolveOptions, type Invariance } from './index.js';
import { N2_METRICS } from './cost.js';

// Tolerances of the fixtures README: closed forms 1e-9, iterative / OT / CV 1e-6 (times max(1, |want|)).
const LOOSE = new Set(['cka.rbf', 'svcca', 'pwcca', 'softmatch', 'linear.cv', 'procrustes.cv', 'permutation.cv']);
const tolerance = (id: string) => (LOOSE.has(id) ? 1e-6 : 1e-9);

describe('golden values from the reference fixtures', () => {
  for (const c of metricCases()) {
    const X = readNpyMatrix(fixtureBytes(`metrics/${c}/X.npy`));
    const Y = readNpyMatrix(fixtureBytes(`metrics/${c}/Y.npy`));
    const expected = fixtureJson<Record<string, number | string>>(`metrics/${c}/expected.json`);
    for (const d of listMetrics().filter((m) => m.id in expected)) {
      const want = expected[d.id];
      it(`${c} ${d.id}`, () => {
        expect(typeof want).toBe('number');
        const got = metric(d.id, X, Y).value;
        expect(closeScaled(got, want as number, tolerance(d.id)), `got ${got}, want ${want}`).toBe(true);
      });
    }
    const details = fixtureJson<{ reverse_direction?: Record<string, number> }>(`metrics/${c}/details.json`);
    for (const [key, want] of Object.entries(details.reverse_direction ?? {})) {
      const id = key.startsWith('pwcca') ? 'pwcca' : key.startsWith('linear.cv') ? 'linear.cv' : undefined;
      if (id === undefined) continue;
      it(`${c} ${key} (reverse direction)`, () => {
        const got = metric(id, Y, X).value;
        expect(closeScaled(got, want, tolerance(id)), `got ${got}, want ${want}`).toBe(true);
      });
    }
  }
  it('every fixture metric id is registered', () => {
    const ids = new Set(listMetrics().map((d) => d.id));
    const expected = fixtureJson<Record<string, unknown>>('metrics/kornblith-100x10/expected.json');
    for (const key of Object.keys(expected)) if (key !== 'case') expect(ids.has(key), key).toBe(true);
  });
});

describe('descriptors: family, cost class, aliases', () => {
  it('every metric names a survey family and a cost class; the N x N ones are the N² class of the cost model', () => {
    for (const d of listMetrics()) {
      expect(FAMILIES, d.id).toContain(d.family);
      expect(COST_CLASSES, d.id).toContain(d.costClass);
      if (N2_METRICS.has(d.id)) expect(d.costClass, d.id).toBe('N²·d');
    }
    expect(getMetric('cca.mean_rho').family).toBe('cca');
    expect(getMetric('knn.mutual').costClass).toBe('N²·d');
  });
  it('aliases are unique, never shadow an id, and resolve to their metric (nbs = procrustes.similarity)', () => {
    const ids = listMetrics().map((d) => d.id);
    const aliases = listMetrics().flatMap((d) => d.aliases ?? []);
    expect(new Set([...ids, ...aliases]).size).toBe(ids.length + aliases.length);
    expect(getMetric('nbs')).toBe(getMetric('procrustes.similarity'));
    expect(resolveOptions('nbs')).toEqual({});
    const X = readNpyMatrix(fixtureBytes('metrics/kornblith-100x10/X.npy'));
    const Y = readNpyMatrix(fixtureBytes('metrics/kornblith-100x10/Y.npy'));
    const r = metric('nbs', X, Y);
    expect(r.id).toBe('procrustes.similarity');
    expect(r.value).toBe(metric('procrustes.similarity', X, Y).value);
    expect(() => getMetric('bures')).toThrow(/aliases: nbs \(= procrustes\.similarity\)/);
  });
});

function transform(kind: Invariance, Y: Matrix, rng: Rng): Matrix {
  const n = Y.rows;
  const d = Y.cols;
  const out = Y.clone();
  switch (kind) {
    case 'rotation':
      return matmul(Y, haarOrthogonal(d, rng));
    case 'permutation': {
      const perm = Array.from({ length: d }, (_, j) => d - 1 - j);
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out.set(i, j, Y.get(i, perm[j] as number));
      return out;
    }
    case 'isotropic-scale':
      // a large change of scale, so that scale-dependent metrics (fixed ridge penalties) move
      for (let k = 0; k < out.data.length; k++) out.data[k] = (out.data[k] as number) * 0.02;
      return out;
    case 'unit-positive-scale': {
      const s = Array.from({ length: d }, () => Math.exp(rng.normal()));
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out.set(i, j, Y.get(i, j) * (s[j] as number));
      return out;
    }
    case 'translation': {
      const v = Array.from({ length: d }, () => 5 * rng.normal());
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out.set(i, j, Y.get(i, j) + (v[j] as number));
      return out;
    }
    case 'invertible-linear': {
      const A = new Matrix(d, d);
      for (let k = 0; k < A.data.length; k++) A.data[k] = rng.normal();
      for (let j = 0; j < d; j++) A.set(j, j, A.get(j, j) + 3);
      return matmul(Y, A);
    }
  }
}

function gaussian(rows: number, cols: number, rng: Rng): Matrix {
  const m = new Matrix(rows, cols);
  for (let k = 0; k < m.data.length; k++) m.data[k] = rng.normal();
  return m;
}

function pairFor(seed: number, w: number): { X: Matrix; Y: Matrix; rng: Rng } {
  const rng = createRng(seed);
  const N = 40;
  const X = gaussian(N, w, rng);
  // Y: a noisy mix of X (so that values are informative) plus an independent unit
  const Y = gaussian(N, w + 1, rng);
  for (let i = 0; i < N; i++) for (let j = 0; j < w; j++) Y.set(i, j, Y.get(i, j) * 0.5 + X.get(i, j) * (j + 1));
  return { X, Y, rng };
}

// each metric at its default options, and at every option setting with its own declared
// invariances (invariancesAt, e.g. shape.partial_whitening at alpha = 0 and 1, gulp at lambda = 0)
const settings = listMetrics().flatMap((d) => [
  { d, label: d.id, options: {} as Record<string, unknown>, invariances: d.invariances },
  ...(d.invariancesAt ?? []).map((a) => ({ d, label: `${d.id} ${JSON.stringify(a.options)}`, options: a.options as Record<string, unknown>, invariances: a.invariances })),
]);

describe('declared invariances hold (for both arguments)', () => {
  for (const { d, label, options, invariances } of settings) {
    for (const inv of invariances) {
      it(`${label} is invariant to ${inv}`, () => {
        fc.assert(
          fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 2, max: 6 }), (seed, w) => {
            const { X, Y, rng } = pairFor(seed, w);
            const base = metric(d.id, X, Y, options).value;
            const same = (v: number) => Math.abs(v - base) <= 1e-8 * Math.max(1, Math.abs(base));
            return same(metric(d.id, X, transform(inv, Y, rng), options).value) && same(metric(d.id, transform(inv, X, rng), Y, options).value);
          }),
          { numRuns: 15 },
        );
      });
    }
  }
});

describe('undeclared invariances are violated (some input and argument changes the value)', () => {
  for (const { d, label, options, invariances } of settings) {
    for (const inv of INVARIANCES.filter((i) => !invariances.includes(i))) {
      it(`${label} is not invariant to ${inv}`, () => {
        let changed = false;
        for (let seed = 1; seed <= 10 && !changed; seed++) {
          const { X, Y, rng } = pairFor(seed, 2 + (seed % 5));
          const base = metric(d.id, X, Y, options).value;
          const moved = [metric(d.id, X, transform(inv, Y, rng), options).value, metric(d.id, transform(inv, X, rng), Y, options).value];
          changed = moved.some((v) => Math.abs(v - base) > 1e-6);
        }
        expect(changed).toBe(true);
      });
    }
  }
  it('invariancesAt settings are valid options of their metric', () => {
    for (const { d, options } of settings) expect(() => resolveOptions(d.id, options), d.id).not.toThrow();
  });
});

describe('cross-validated metrics', () => {
  it('report their 5 fold scores, mean and spread', () => {
    const X = readNpyMatrix(fixtureBytes('metrics/kornblith-100x10/X.npy'));
    const Y = readNpyMatrix(fixtureBytes('metrics/kornblith-100x10/Y.npy'));
    const details = fixtureJson<Record<string, { fold_scores?: number[] }>>('metrics/kornblith-100x10/details.json');
    for (const id of ['linear.cv', 'procrustes.cv', 'permutation.cv']) {
      const r = metric(id, X, Y);
      expect(r.folds?.scores).toHaveLength(5);
      expect(r.folds?.mean).toBe(r.value);
      expect(r.folds?.std).toBeGreaterThan(0);
      const want = details[id]?.fold_scores;
      if (want !== undefined) expect(r.folds?.scores).toBeAllclose(want, { rtol: 1e-6, atol: 1e-6 });
    }
    expect(metric('cka.linear', X, Y).folds).toBeUndefined();
  });
});

describe('identities and ranges', () => {
  it('a matrix is perfectly similar to itself', () => {
    const X = gaussian(30, 5, createRng(7));
    for (const d of listMetrics()) {
      const v = metric(d.id, X, X).value;
      // ridge shrinkage keeps linear.cv just below 1 even for identical inputs
      const tol = d.id === 'linear.cv' ? 1e-6 : 1e-12;
      expect(Math.abs(v - (d.kind === 'similarity' ? 1 : 0)), d.id).toBeLessThanOrEqual(tol);
    }
  });
  it('values stay inside the declared range and symmetric metrics are symmetric', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e9 }), (seed) => {
        const rng = createRng(seed);
        const X = gaussian(12, 3, rng);
        const Y = gaussian(12, 4, rng);
        for (const d of listMetrics()) {
          const v = metric(d.id, X, Y).value;
          if (v < d.range[0] - 1e-12 || v > d.range[1] + 1e-12) return false;
          if (d.symmetric && Math.abs(metric(d.id, Y, X).value - v) > 1e-9 * Math.max(1, Math.abs(v))) return false;
        }
        return true;
      }),
      { numRuns: 30 },
    );
  });
});

describe('bad input gives BasisError, never NaN', () => {
  const X = gaussian(10, 3, createRng(1));
  it('rejects NaN and Inf', () => {
    const bad = X.clone();
    bad.set(2, 1, NaN);
    expect(code(() => metric('cka.linear', bad, X))).toBe('NON_FINITE_INPUT');
    bad.set(2, 1, Infinity);
    expect(code(() => metric('procrustes.similarity', X, bad))).toBe('NON_FINITE_INPUT');
  });
  it('rejects mismatched rows, too few rows and empty matrices', () => {
    expect(code(() => metric('cka.linear', X, gaussian(9, 3, createRng(2))))).toBe('SHAPE_MISMATCH');
    expect(code(() => metric('cka.linear', X.slice(0, 2), X.slice(0, 2)))).toBe('TOO_SMALL');
    expect(code(() => metric('cka.linear.unbiased', X.slice(0, 3), X.slice(0, 3)))).toBe('TOO_SMALL');
    expect(code(() => metric('cka.linear', new Matrix(10, 0), X))).toBe('TOO_SMALL');
  });
  it('constant inputs: RANK_DEFICIENT, or the documented defined value, never NaN', () => {
    const constant = new Matrix(10, 3).fill(2.5);
    const X20 = gaussian(20, 3, createRng(4));
    // k-NN: ties between identical rows are broken by input index, a defined value
    expect(metric('knn.mutual', new Matrix(20, 3).fill(2.5), X20).value).toBeGreaterThanOrEqual(0);
    expect(code(() => metric('knn.mutual', constant, X))).toBe('TOO_SMALL');
    // correlation-based metrics: a zero-variance unit correlates 0 with everything (fixtures README);
    // maxmatch never matches a zero-variance unit; a constant regressor explains nothing (linreg.r2)
    const zeroCorrelation = new Set(['permcorr', 'softmatch', 'linear.cv', 'procrustes.cv', 'permutation.cv', 'corrmatch.soft', 'maxmatch', 'linreg.r2']);
    // uncentred metrics: a constant (non-zero) input is a valid representation; an all-zero one is not
    const uncentred = new Set(['cosine.aligned', 'eos']);
    for (const id of uncentred) {
      expect(Number.isFinite(metric(id, constant, X).value), id).toBe(true);
      expect(code(() => metric(id, new Matrix(10, 3), X)), id).toBe('RANK_DEFICIENT');
    }
    // survey measures on row geometry (exact values in metrics/survey-pairwise.test.ts): rows that are
    // all the same point are a valid input of the RSM norm, the row statistics and the imd graph; the
    // knn.* ids need N >= k + 2 = 12 rows
    const definedOnConstant = new Set(['rsm.norm', 'stat.magnitude', 'stat.concentricity', 'stat.uniformity', 'imd']);
    for (const id of definedOnConstant) expect(Number.isFinite(metric(id, constant, X).value), id).toBe(true);
    const knn = new Set(['knn.jaccard', 'knn.second_order_cosine', 'knn.rank', 'knn.rank_jaccard']);
    for (const id of knn) expect(code(() => metric(id, constant, X)), id).toBe('TOO_SMALL');
    for (const d of listMetrics().filter((m) => m.id !== 'knn.mutual' && !uncentred.has(m.id) && !definedOnConstant.has(m.id) && !knn.has(m.id))) {
      if (d.id === 'procrustes.euclidean') {
        // the distance of the centred data: constant X centres to 0, leaving Y's norm
        let ss = 0;
        const m = X.clone();
        for (let j = 0; j < 3; j++) {
          let mu = 0;
          for (let i = 0; i < 10; i++) mu += X.get(i, j) / 10;
          for (let i = 0; i < 10; i++) ss += (m.get(i, j) - mu) ** 2;
        }
        expect(metric(d.id, constant, X).value).toBeCloseTo(Math.sqrt(ss), 12);
      } else if (zeroCorrelation.has(d.id)) {
        expect(metric(d.id, constant, X).value, d.id).toBe(0);
      } else {
        expect(code(() => metric(d.id, constant, X)), d.id).toBe('RANK_DEFICIENT');
      }
    }
  });
  it('rejects unknown metric ids with the list of known ones', () => {
    expect(() => getMetric('cka.nope')).toThrow(/known metrics: cka.linear/);
    expect(() => compare(X, X, [])).toThrow(BasisError);
  });
});
