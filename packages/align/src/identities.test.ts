import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Matrix, corrMatrix, createRng, exactTransport, randn, type Rng } from '@basis/tensor';
import { StreamingLinearCka, listMetrics, metric } from './index.js';

const pair = (seed: number, n = 30, dx = 4, dy = 5): { X: Matrix; Y: Matrix; Z: Matrix; rng: Rng } => {
  const rng = createRng(seed);
  return { X: randn(n, dx, rng), Y: randn(n, dy, rng), Z: randn(n, dx, rng), rng };
};

describe('identities between metrics', () => {
  it('cos(procrustes.angular) = procrustes.similarity and cos(permutation.angular) = permutation.similarity', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), (seed) => {
        const { X, Y } = pair(seed);
        const ok1 = Math.abs(Math.cos(metric('procrustes.angular', X, Y).value) - metric('procrustes.similarity', X, Y).value) < 1e-12;
        const ok2 = Math.abs(Math.cos(metric('permutation.angular', X, Y).value) - metric('permutation.similarity', X, Y).value) < 1e-12;
        return ok1 && ok2;
      }),
      { numRuns: 40 },
    );
  });
  it('the angular metrics satisfy the triangle inequality', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), (seed) => {
        const { X, Y, Z } = pair(seed, 25, 4, 4);
        return ['procrustes.angular', 'permutation.angular'].every((id) => {
          const xy = metric(id, X, Y).value;
          const yz = metric(id, Y, Z).value;
          const xz = metric(id, X, Z).value;
          return xz <= xy + yz + 1e-12;
        });
      }),
      { numRuns: 40 },
    );
  });
  it('procrustes.euclidean² = ||Xc||² + ||Yc||² - 2 ||Xcᵀ Yc||_* (closed form, well-separated inputs)', () => {
    const { X, Y } = pair(3);
    const c = (A: Matrix) => {
      const m = A.clone();
      for (let j = 0; j < A.cols; j++) {
        let mu = 0;
        for (let i = 0; i < A.rows; i++) mu += A.get(i, j) / A.rows;
        for (let i = 0; i < A.rows; i++) m.set(i, j, A.get(i, j) - mu);
      }
      return m;
    };
    const fro2 = (A: Matrix) => A.data.reduce((s, v) => s + v * v, 0);
    const sim = metric('procrustes.similarity', X, Y).value; // nuclear norm of normalised cross product
    const nuc = sim * Math.sqrt(fro2(c(X)) * fro2(c(Y)));
    const want = Math.sqrt(fro2(c(X)) + fro2(c(Y)) - 2 * nuc);
    expect(metric('procrustes.euclidean', X, Y).value).toBeCloseTo(want, 10);
  });
  it('for equal widths, softmatch equals permcorr (an optimal transport plan is a permutation)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), (seed) => {
        const { X, Z } = pair(seed, 30, 5, 5);
        // softmatch takes the assignment shortcut for equal widths: check it against the transport
        // problem solved in full (uniform masses, cost 1 - C), and against permcorr
        const C = corrMatrix(X, Z).corr;
        const cost = new Matrix(5, 5, C.data.map((v) => 1 - v));
        const { plan } = exactTransport(new Float64Array(5).fill(0.2), new Float64Array(5).fill(0.2), cost);
        let full = 0;
        for (let k = 0; k < 25; k++) full += (plan.data[k] as number) * (C.data[k] as number);
        const soft = metric('softmatch', X, Z).value;
        return Math.abs(soft - full) < 1e-10 && Math.abs(soft - metric('permcorr', X, Z).value) < 1e-10;
      }),
      { numRuns: 25 },
    );
  });
  it('one streaming batch equals cka.linear', () => {
    const { X, Y } = pair(9, 40);
    const s = new StreamingLinearCka();
    s.update(X, Y);
    expect(s.value()).toBeCloseTo(metric('cka.linear', X, Y).value, 13);
  });
});

describe('degenerate but valid inputs stay finite and scale-free', () => {
  it('tiny (1e-6) and huge (1e6) scales give the same values for scale-invariant metrics', () => {
    const { X, Y } = pair(21, 40, 3, 4);
    const scaled = (A: Matrix, c: number) => new Matrix(A.rows, A.cols, A.data.map((v) => v * c));
    for (const d of listMetrics().filter((m) => m.invariances.includes('isotropic-scale'))) {
      const base = metric(d.id, X, Y).value;
      for (const c of [1e-6, 1e6]) {
        const v = metric(d.id, scaled(X, c), scaled(Y, c)).value;
        expect(Math.abs(v - base), `${d.id} at scale ${c}`).toBeLessThanOrEqual(1e-8 * Math.max(1, Math.abs(base)));
      }
    }
  });
  it('more units than inputs (d >= N) and N = 4 give finite values', () => {
    const { X, Y } = pair(5, 12, 20, 15);
    for (const d of listMetrics()) {
      if (d.minRows > 12) continue;
      expect(Number.isFinite(metric(d.id, X, Y).value), d.id).toBe(true);
    }
    const small = pair(6, 4, 3, 3);
    // (k-neighbour metrics need N > k rows: knn.mutual, knn.* and imd at their default k)
    for (const d of listMetrics().filter((m) => m.minRows <= 4 && !m.id.endsWith('.cv') && !(m.options ?? []).some((o) => o.name === 'k'))) {
      expect(Number.isFinite(metric(d.id, small.X, small.Y).value), d.id).toBe(true);
    }
  });
});
