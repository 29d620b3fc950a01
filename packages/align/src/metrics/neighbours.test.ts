import { describe, expect, it } from 'vitest';
import { Matrix, readNpyMatrix } from '@basis/tensor';
import { fixtureBytes } from '@basis/test-utils';
import { metric } from '../index.js';

// Reference values from an independent implementation: scipy.spatial.distance.pdist(.., 'correlation')
// with scipy.stats.spearmanr for RSA, and numpy stable argsort of squared distances for k = 10.
const REFERENCE: Record<string, { rsa: number; knn: number }> = {
  'kornblith-100x10': { rsa: 0.4724396737630472, knn: 0.289 },
  'relu-500x32': { rsa: 0.802547610248, knn: 0.4514 },
  'widths-300x20x12': { rsa: 0.47938578973383966, knn: 0.25 },
};

describe('RSA and mutual k-NN against scipy/numpy on the fixture inputs', () => {
  for (const [c, want] of Object.entries(REFERENCE)) {
    it(c, () => {
      const X = readNpyMatrix(fixtureBytes(`metrics/${c}/X.npy`));
      const Y = readNpyMatrix(fixtureBytes(`metrics/${c}/Y.npy`));
      expect(Math.abs(metric('rsa.spearman', X, Y).value - want.rsa)).toBeLessThan(1e-9);
      expect(Math.abs(metric('knn.mutual', X, Y).value - want.knn)).toBeLessThan(1e-12);
    });
  }
  it('mutual k-NN needs k + 2 inputs', () => {
    const X = Matrix.from(Array.from({ length: 11 }, (_, i) => [i, i * i]));
    expect(() => metric('knn.mutual', X, X)).toThrow(/k = 10 needs at least 12 rows/);
    expect(metric('knn.mutual', X, X, { k: 3 }).value).toBe(1);
  });
});

describe('argsortFloat64 (the radix argsort behind the RSA ranks)', () => {
  it('equals a stable comparison argsort, with negatives, -0, duplicates and infinities', async () => {
    const fc = (await import('fast-check')).default;
    const { argsortFloat64 } = await import('./neighbours.js');
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double({ noNaN: true }), fc.constantFrom(0, -0, 1, -1, 1e-300, -1e-300, Infinity, -Infinity)), { maxLength: 300 }),
        (xs) => {
          const v = Float64Array.from(xs);
          const want = Array.from(v.keys()).sort((a, b) => {
            const x = (v[a] as number) + 0;
            const y = (v[b] as number) + 0;
            return x < y ? -1 : x > y ? 1 : a - b;
          });
          expect(Array.from(argsortFloat64(v).order)).toEqual(want);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('N x N measures at scale extremes (Gram screen with exact re-ranking)', () => {
  it('knn.mutual and rsa.spearman are unchanged by exact power-of-two scalings, down to 2^-450 and up to 2^1000', () => {
    const X = readNpyMatrix(fixtureBytes('metrics/relu-500x32/X.npy'));
    const Y = readNpyMatrix(fixtureBytes('metrics/relu-500x32/Y.npy'));
    const base = { knn: metric('knn.mutual', X, Y).value, rsa: metric('rsa.spearman', X, Y).value, rbf: metric('cka.rbf', X, Y).value };
    for (const e of [-450, -300, 300, 1000]) {
      const s = 2 ** e;
      const Xs = new Matrix(X.rows, X.cols, X.data.map((v) => v * s));
      expect(metric('knn.mutual', Xs, Y).value).toBe(base.knn);
      expect(metric('rsa.spearman', Xs, Y).value).toBe(base.rsa);
      expect(Math.abs(metric('cka.rbf', Xs, Y).value - base.rbf)).toBeLessThan(1e-12);
    }
  });

  it('knn.mutual finds planted neighbourhoods exactly, also when rows sit far from the origin', () => {
    // 50 tight clusters of 11 points: every point's 10 nearest neighbours are its own cluster
    const n = 550;
    const d = 8;
    const X = new Matrix(n, d);
    const Y = new Matrix(n, d);
    for (let i = 0; i < n; i++) {
      const c = Math.floor(i / 11);
      for (let k = 0; k < d; k++) {
        const jitter = Math.sin(i * 7.1 + k * 3.3) * 1e-3;
        X.data[i * d + k] = 1e6 + c * ((k % 3) + 1) + jitter; // a large offset: cancellation in the Gram form
        Y.data[i * d + k] = -c * ((k % 2) + 2) + jitter;
      }
    }
    expect(metric('knn.mutual', X, Y).value).toBe(1);
  });
});
