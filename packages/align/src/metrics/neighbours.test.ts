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
