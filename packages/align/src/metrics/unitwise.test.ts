import { describe, expect, it } from 'vitest';
import { Matrix, createRng, randn } from '@basis/tensor';
import { metric } from '../registry.js';

/** X with column j multiplied by scales[j]. */
function scaleColumns(X: Matrix, scales: number[]): Matrix {
  const out = X.clone();
  for (let i = 0; i < X.rows; i++) for (let j = 0; j < X.cols; j++) out.set(i, j, X.get(i, j) * scales[j]!);
  return out;
}

describe('unit-wise metrics under extreme per-unit scales', () => {
  it('grelu.procrustes, permcorr and softmatch are unchanged when units are scaled by 1e-150 .. 1e150 within one layer (no overflow of reciprocal norms)', () => {
    const rng = createRng(21);
    const X = randn(60, 4, rng);
    const Y = randn(60, 4, rng);
    for (let k = 0; k < Y.data.length; k++) Y.data[k] = Y.data[k]! * 0.3 + X.data[k]!;
    const Xs = scaleColumns(X, [1e-150, 1, 1e150, 3e-100]);
    const Ys = scaleColumns(Y, [1e150, 1e-150, 1, 1e-10]);
    for (const id of ['grelu.procrustes', 'permcorr', 'softmatch']) {
      const want = metric(id, X, Y).value;
      const got = metric(id, Xs, Ys).value;
      expect(Number.isFinite(got)).toBe(true);
      expect(got).toBeCloseTo(want, 12);
    }
    // and it does respond to the data (a shuffled Y is less similar)
    const shuffled = new Matrix(60, 4, Y.data.slice().reverse());
    expect(metric('grelu.procrustes', X, shuffled).value).toBeLessThan(metric('grelu.procrustes', X, Y).value - 0.05);
  });
});

describe('unitMatchingResidual', () => {
  it('divides by the norms, so subnormal columns (whose reciprocal norm overflows) stay finite', async () => {
    const { unitMatchingResidual } = await import('../util.js');
    const A = Matrix.from([[3e-310, 1], [4e-310, -1]]);
    const norms = new Float64Array([5e-310, Math.SQRT2]);
    expect(1 / 5e-310).toBe(Infinity); // what multiplying by reciprocals would have met
    const same = unitMatchingResidual(A, A, Int32Array.from([0, 1]), Int32Array.from([0, 1]), norms, norms);
    expect(same).toBe(0);
    // swapped matching: || [0.6, 0.8] - [1, -1]/sqrt2 ||² twice
    const swapped = unitMatchingResidual(A, A, Int32Array.from([0, 1]), Int32Array.from([1, 0]), norms, norms);
    const d2 = (0.6 - Math.SQRT1_2) ** 2 + (0.8 + Math.SQRT1_2) ** 2;
    expect(swapped).toBeCloseTo(Math.sqrt(2 * d2), 3); // subnormal inputs carry few bits
    // a zero column counts as zero
    const Z = Matrix.from([[0, 1], [0, -1]]);
    expect(unitMatchingResidual(Z, Z, Int32Array.from([1]), Int32Array.from([1]), new Float64Array([0, Math.SQRT2]), new Float64Array([0, Math.SQRT2]))).toBe(0);
  });
});
