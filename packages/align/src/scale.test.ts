// Property tests of the registry at extreme scales (issue 16, "scale-safe metrics"): for every
// registered metric, inputs scaled together or one at a time by 10^e, e drawn uniformly from
// [-300, 300] (a log-uniform scale). Metrics that declare isotropic-scale invariance must give
// the unscaled value; the others must change exactly as their definition says.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BasisError, Matrix, createRng, type Rng } from '@basis/tensor';
import { compareLayers, listMetrics, metric, type MetricDefinition } from './index.js';

function gaussian(rows: number, cols: number, rng: Rng): Matrix {
  const m = new Matrix(rows, cols);
  for (let k = 0; k < m.data.length; k++) m.data[k] = rng.normal();
  return m;
}

/** X (40 x w) and a noisy mix of it with one more unit, Y (40 x (w + 1)); as in registry.test.ts. */
function pairFor(seed: number, w: number): { X: Matrix; Y: Matrix } {
  const rng = createRng(seed);
  const N = 40;
  const X = gaussian(N, w, rng);
  const Y = gaussian(N, w + 1, rng);
  for (let i = 0; i < N; i++) for (let j = 0; j < w; j++) Y.set(i, j, Y.get(i, j) * 0.5 + X.get(i, j) * (j + 1));
  return { X, Y };
}

function times(M: Matrix, c: number): Matrix {
  const out = M.clone();
  for (let k = 0; k < out.data.length; k++) out.data[k] = (out.data[k] as number) * c;
  return out;
}

type Which = 'both' | 'X' | 'Y';

function scaledPair(X: Matrix, Y: Matrix, which: Which, c: number): [Matrix, Matrix] {
  return [which === 'Y' ? X.clone() : times(X, c), which === 'X' ? Y.clone() : times(Y, c)];
}

const SEED = fc.integer({ min: 1, max: 2 ** 31 - 1 });
const WIDTH = fc.integer({ min: 2, max: 6 });
// the exponent of the scale: uniform over [-300, 300], with the ends drawn on purpose
const EXPONENT = fc.oneof(fc.double({ min: -300, max: 300, noNaN: true }), fc.constantFrom(-300, 300, -19, 19));
const WHICH = fc.constantFrom<Which>('both', 'X', 'Y');
const RUNS = 12;

const invariant = (d: MetricDefinition) => d.invariances.includes('isotropic-scale');
const close = (v: number, want: number, tol: number) => Math.abs(v - want) <= tol * Math.max(1, Math.abs(want));

describe('isotropic scale from 1e-300 to 1e300 (both inputs, and each alone)', () => {
  for (const d of listMetrics().filter(invariant)) {
    it(`${d.id} (declares isotropic-scale invariance) gives the unscaled value`, () => {
      fc.assert(
        fc.property(SEED, WIDTH, EXPONENT, WHICH, (seed, w, e, which) => {
          const { X, Y } = pairFor(seed, w);
          const base = metric(d.id, X, Y).value;
          const v = metric(d.id, ...scaledPair(X, Y, which, 10 ** e)).value;
          expect(close(v, base, 1e-12), `${which} x 1e${e}: ${v}, unscaled ${base}`).toBe(true);
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('the registry holds exactly these metrics without isotropic-scale invariance, each tested below', () => {
    expect(listMetrics().filter((d) => !invariant(d)).map((d) => d.id)).toEqual(['procrustes.euclidean', 'linear.cv', 'shape.partial_whitening', 'rsm.norm', 'stat.magnitude', 'stat.uniformity']);
  });

  it('rsm.norm and stat.magnitude are homogeneous: both inputs x c give c times the value, one alone the closed form from the unscaled parts', () => {
    fc.assert(
      fc.property(SEED, WIDTH, EXPONENT, WHICH, (seed, w, e, which) => {
        const { X, Y } = pairFor(seed, w);
        const c = 10 ** e;
        for (const id of ['rsm.norm', 'stat.magnitude']) {
          const base = metric(id, X, Y).value;
          const v = metric(id, ...scaledPair(X, Y, which, c)).value;
          if (which === 'both') {
            expect(close(v / c, base, 1e-9), `${id} both x 1e${e}: ${v}, want ${c * base}`).toBe(true);
            continue;
          }
          // |f(X)| and |f(Y)| alone (against an all-zero input) and, for the RSM norm, the cosine between D and D'
          const a = metric(id, X, times(Y, 0)).value;
          const b = metric(id, times(X, 0), Y).value;
          const rho = id === 'stat.magnitude' ? 1 : (a * a + b * b - base * base) / (2 * a * b);
          const t = which === 'X' ? c * a : a;
          const u = which === 'Y' ? c * b : b;
          const m = Math.max(t, u);
          const want = m * Math.sqrt(Math.max(0, (t / m) ** 2 + (u / m) ** 2 - 2 * (t / m) * (u / m) * rho));
          expect(close(v / m, want / m, 1e-8), `${id} ${which} x 1e${e}: ${v}, want ${want}`).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('stat.uniformity: both inputs x c is the parameter t -> t c²; every scale gives a value in [0, ln N]', () => {
    fc.assert(
      fc.property(SEED, WIDTH, EXPONENT, WHICH, (seed, w, e, which) => {
        const { X, Y } = pairFor(seed, w);
        const c = 10 ** e;
        const v = metric('stat.uniformity', ...scaledPair(X, Y, which, c)).value;
        expect(v >= 0 && v <= Math.log(40) + 1e-12, `${which} x 1e${e}: ${v}`).toBe(true);
        if (which === 'both' && Math.abs(e) <= 150) {
          const want = metric('stat.uniformity', X, Y, { t: 2 * c * c }).value;
          expect(close(v, want, 1e-9), `both x 1e${e}: ${v}, want ${want}`).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
    // far apart (exp(-2 D²) underflows) or all at one point, both inputs look alike
    const { X, Y } = pairFor(4, 3);
    expect(metric('stat.uniformity', times(X, 1e200), times(Y, 1e200)).value).toBe(0);
    expect(metric('stat.uniformity', times(X, 1e-200), times(Y, 1e-200)).value).toBe(0);
  });

  it('shape.partial_whitening: scaling both inputs by c is alpha -> alpha c / (alpha c + 1 - alpha); the ends are Procrustes and CCA', () => {
    fc.assert(
      fc.property(SEED, WIDTH, EXPONENT, WHICH, (seed, w, e, which) => {
        const { X, Y } = pairFor(seed, w);
        const c = 10 ** e;
        const v = metric('shape.partial_whitening', ...scaledPair(X, Y, which, c)).value;
        expect(v >= 0 && v <= Math.PI / 2, `${which} x 1e${e}: ${v}`).toBe(true);
        if (which !== 'both') return;
        // phi(cX) = 0.5 c Xc + 0.5 U Vᵀ is proportional to alpha' Xc + (1 - alpha') U Vᵀ
        const alpha = c / (c + 1);
        expect(close(v, metric('shape.partial_whitening', X, Y, { alpha }).value, 1e-9), `both x 1e${e}: ${v}, alpha' = ${alpha}`).toBe(true);
      }),
      { numRuns: RUNS },
    );
    const { X, Y } = pairFor(3, 4);
    const at = (c: number) => metric('shape.partial_whitening', times(X, c), times(Y, c)).value;
    expect(close(at(1e200), metric('procrustes.angular', X, Y).value, 1e-12)).toBe(true);
    expect(close(at(1e-200), metric('shape.partial_whitening', X, Y, { alpha: 0 }).value, 1e-12)).toBe(true);
    expect(Math.abs(at(1e-3) - at(1e3))).toBeGreaterThan(1e-6);
  });

  it('procrustes.euclidean scales as its closed form sqrt(|cx Xc|² + |cy Yc|² - 2 cx cy |Xcᵀ Yc|_*)', () => {
    fc.assert(
      fc.property(SEED, WIDTH, EXPONENT, WHICH, (seed, w, e, which) => {
        const { X, Y } = pairFor(seed, w);
        const c = 10 ** e;
        const base = metric('procrustes.euclidean', X, Y).value;
        const v = metric('procrustes.euclidean', ...scaledPair(X, Y, which, c)).value;
        if (which === 'both') {
          expect(close(v / c, base, 1e-9), `both x 1e${e}: ${v}, want ${c * base}`).toBe(true);
          return;
        }
        // |Xc|, |Yc| and the nuclear norm from the unscaled data
        const nx = metric('procrustes.euclidean', X, times(Y, 0)).value;
        const ny = metric('procrustes.euclidean', times(X, 0), Y).value;
        const sim = metric('procrustes.similarity', X, Y).value;
        const t = which === 'X' ? c * nx : nx;
        const u = which === 'Y' ? c * ny : ny;
        const m = Math.max(t, u);
        const want = m * Math.sqrt(Math.max(0, (t / m) ** 2 + (u / m) ** 2 - 2 * (t / m) * (u / m) * sim));
        expect(close(v / m, want / m, 1e-8), `${which} x 1e${e}: ${v}, want ${want}`).toBe(true);
        // and so it changes: the value is unscaled only at c = 1 (or at the other root of a quadratic)
        if (Math.abs(e) >= 1) expect(Math.abs(v - base)).toBeGreaterThan(1e-6 * base);
      }),
      { numRuns: 2 * RUNS },
    );
  });

  it('linear.cv (raw-scale ridge penalties) is invariant to the scale of Y, and X reaches the OLS and the shrinkage limits', () => {
    fc.assert(
      fc.property(SEED, WIDTH, EXPONENT, WHICH, (seed, w, e, which) => {
        const { X, Y } = pairFor(seed, w);
        const v = metric('linear.cv', ...scaledPair(X, Y, which, 10 ** e)).value;
        expect(v).toBeGreaterThanOrEqual(-1);
        expect(v).toBeLessThanOrEqual(1);
        // scaling Y scales the fit and the LOO criterion uniformly: same penalty, same correlations
        if (which === 'Y') expect(close(v, metric('linear.cv', X, Y).value, 1e-9), `Y x 1e${e}`).toBe(true);
        // beyond 1e±100 the penalties are negligible (OLS) or dominant (shrinkage limit)
        if (which !== 'Y' && Math.abs(e) >= 100) {
          const limit = metric('linear.cv', times(X, e > 0 ? 1e200 : 1e-200), Y).value;
          expect(close(v, limit, 1e-9), `${which} x 1e${e}: ${v}, limit ${limit}`).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
    // the scale of X does matter: both limits differ from the unscaled value for some input
    let changed = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const { X, Y } = pairFor(seed, 2 + (seed % 5));
      const base = metric('linear.cv', X, Y).value;
      if (Math.abs(metric('linear.cv', times(X, 1e-200), Y).value - base) > 1e-6) changed |= 1;
      if (Math.abs(metric('linear.cv', times(X, 1e200), Y).value - base) > 1e-6) changed |= 2;
    }
    expect(changed).toBe(3);
  });

  it('audits (memoised per-layer work, prepare hooks) are scale-safe too', () => {
    const { X, Y } = pairFor(5, 4);
    const ids = ['cka.linear', 'cka.linear.unbiased', 'procrustes.similarity', 'permutation.similarity', 'svcca', 'grelu.procrustes'];
    const plain = compareLayers({ x: X }, { y: Y }, ids).values;
    const wild = compareLayers({ x: times(X, 1e300) }, { y: times(Y, 1e-300) }, ids).values;
    for (const id of ids) expect(close(wild[id]![0]![0]!, plain[id]![0]![0]!, 1e-9), id).toBe(true);
  });
});

describe('issue 16 probe cases: finite inputs at extreme scales', () => {
  const { X, Y } = pairFor(16, 5);
  const at = (id: string, which: Which, c: number) => metric(id, ...scaledPair(X, Y, which, c)).value;
  const error = (f: () => unknown): BasisError => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(BasisError);
      return e as BasisError;
    }
    throw new Error('no error');
  };
  const cases: [id: string, which: Which, c: number][] = [
    ['cka.linear.unbiased', 'both', 1e50], // was 0: xx * yy overflowed
    ['procrustes.cv', 'both', 1e-100], // was 1: a held-out correlation divided by sqrt(0)
    ['svcca', 'both', 1e300], // squared singular values overflowed in the 99% variance cut
    ['rsa.spearman', 'both', 1e300],
    ['knn.mutual', 'both', 1e300],
    ['procrustes.similarity', 'X', 1e300], // was 0: |Xc|² overflowed
    ['cka.linear', 'both', 1e100], // was NOT_CONVERGED "produced NaN; this is a bug"
    ['permutation.similarity', 'both', 1e200], // was "C[0, 0] is NaN" for an input with no NaN
    ['procrustes.cv', 'both', 1e200], // was "A[0, 0] is -Infinity"
    ['permutation.cv', 'both', 1e200], // was NOT_CONVERGED
    ['cca.mean_rho', 'both', 1e-300], // was RANK_DEFICIENT "every column is constant"
    ['rsa.spearman', 'Y', 1e-300], // was RANK_DEFICIENT
  ];
  for (const [id, which, c] of cases) {
    it(`${id}, ${which === 'both' ? 'both inputs' : `${which} alone`} x ${c}`, () => {
      const base = metric(id, X, Y).value;
      expect(close(at(id, which, c), base, 1e-12)).toBe(true);
    });
  }
  it('procrustes.euclidean x 1e200 is 1e200 times the distance (was "A[0, 0] is Infinity")', () => {
    expect(close(at('procrustes.euclidean', 'both', 1e200) / 1e200, metric('procrustes.euclidean', X, Y).value, 1e-9)).toBe(true);
  });
  it('linear.cv x 1e200 is a value (was "x[0] is NaN" / NOT_CONVERGED)', () => {
    for (const which of ['both', 'X', 'Y'] as const) expect(Math.abs(at('linear.cv', which, 1e200))).toBeLessThanOrEqual(1);
  });
  it('a distance beyond the float64 range is an INVALID_ARGUMENT naming the cause, not NaN or a bug', () => {
    // centred already; orthogonal columns, so the distance is sqrt(8) 1.7e308
    const a = new Matrix(4, 1, Float64Array.of(1.7e308, -1.7e308, 1.7e308, -1.7e308));
    const b = new Matrix(4, 1, Float64Array.of(1.7e308, 1.7e308, -1.7e308, -1.7e308));
    const e = error(() => metric('procrustes.euclidean', a, b));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/exceeds the largest float64/);
  });
});
