// Survey measures of the alignment and subspace kind (shape.partial_whitening, cosine.aligned,
// maxmatch, corrmatch.soft, linreg.r2, eos, gulp): identities with other ids that the fixtures
// README states, option checks, asymmetry, degenerate inputs.
import { describe, expect, it } from 'vitest';
import { Matrix, createRng, matmul, readNpyMatrix, type Rng } from '@basis/tensor';
import { fixtureBytes, fixtureJson, metricCases, thrownCode as code } from '@basis/test-utils';
import { metric, resolveOptions } from '../index.js';
import { canonicalCorrelations } from './cca.js';
import { linregR2Kernel } from './subspace.js';
import { centred, spanBasis } from '../prep.js';

function gaussian(rows: number, cols: number, rng: Rng): Matrix {
  const m = new Matrix(rows, cols);
  for (let k = 0; k < m.data.length; k++) m.data[k] = rng.normal();
  return m;
}

const load = (c: string) => ({
  X: readNpyMatrix(fixtureBytes(`metrics/${c}/X.npy`)),
  Y: readNpyMatrix(fixtureBytes(`metrics/${c}/Y.npy`)),
});

describe('identities of the fixtures README, on every public case', () => {
  for (const c of metricCases()) {
    const { X, Y } = load(c);
    it(`${c}: shape.partial_whitening at alpha = 1 is procrustes.angular; at alpha = 0 arccos(sum rho / sqrt(r_x r_y))`, () => {
      expect(metric('shape.partial_whitening', X, Y, { alpha: 1 }).value).toBeCloseTo(metric('procrustes.angular', X, Y).value, 12);
      const rho = canonicalCorrelations(X, Y);
      const rx = canonicalCorrelations(X, X).length;
      const ry = canonicalCorrelations(Y, Y).length;
      const want = Math.acos(Math.min(1, rho.reduce((s, v) => s + v, 0) / Math.sqrt(rx * ry)));
      // arccos near 1 loses digits (rotated case): compare the cosines
      expect(Math.cos(metric('shape.partial_whitening', X, Y, { alpha: 0 }).value)).toBeCloseTo(Math.cos(want), 10);
    });
    it(`${c}: gulp at lambda = 0 is sqrt(r_x + r_y - 2 sum rho²)`, () => {
      const rho = canonicalCorrelations(X, Y);
      const rx = canonicalCorrelations(X, X).length;
      const ry = canonicalCorrelations(Y, Y).length;
      const d2 = rx + ry - 2 * rho.reduce((s, v) => s + v * v, 0);
      expect(metric('gulp', X, Y, { lambda: 0 }).value ** 2).toBeCloseTo(d2, 9);
    });
    it(`${c}: nbs is procrustes.similarity`, () => {
      expect(metric('nbs', X, Y).value).toBe(metric('procrustes.similarity', X, Y).value);
    });
    it(`${c}: corrmatch.soft equals permcorr when the best partners are mutual (dx = dy)`, () => {
      const e = fixtureJson<Record<string, number>>(`metrics/${c}/expected.json`);
      if (X.cols === Y.cols && Math.abs((e['corrmatch.soft'] as number) - (e['permcorr'] as number)) < 1e-12) {
        expect(metric('corrmatch.soft', X, Y).value).toBeCloseTo(metric('permcorr', X, Y).value, 12);
      }
      // each unit's best partner is at least as good as its matched one (equal widths: every unit is matched)
      if (X.cols === Y.cols) expect(metric('corrmatch.soft', X, Y).value).toBeGreaterThanOrEqual(metric('permcorr', X, Y).value - 1e-12);
    });
  }
});

describe('asymmetry and one-sided invariances', () => {
  const rng = createRng(11);
  const X = gaussian(60, 5, rng);
  const Y = gaussian(60, 7, rng);
  for (let i = 0; i < 60; i++) for (let j = 0; j < 5; j++) Y.set(i, j, Y.get(i, j) + 2 * X.get(i, j));
  it('linreg.r2 is X -> Y: not symmetric, and invariant to an invertible map of X only', () => {
    const v = metric('linreg.r2', X, Y).value;
    expect(Math.abs(metric('linreg.r2', Y, X).value - v)).toBeGreaterThan(1e-3);
    const A = gaussian(5, 5, rng);
    for (let j = 0; j < 5; j++) A.set(j, j, A.get(j, j) + 3);
    expect(metric('linreg.r2', matmul(X, A), Y).value).toBeCloseTo(v, 12);
    const B = gaussian(7, 7, rng);
    for (let j = 0; j < 7; j++) B.set(j, j, B.get(j, j) + 3);
    expect(Math.abs(metric('linreg.r2', X, matmul(Y, B)).value - v)).toBeGreaterThan(1e-6);
  });
  it('linreg.r2 on the QR route: the squares of Qᵀ Yc from the QR factors (dormqr) equal the formed residual of the Q route to 1e-12', () => {
    const Xb = gaussian(1200, 150, rng);
    const Yb = gaussian(1200, 60, rng);
    for (let i = 0; i < 1200; i++) for (let j = 0; j < 60; j++) Yb.set(i, j, Yb.get(i, j) + 0.5 * Xb.get(i, j % 150));
    const viaFactors = linregR2Kernel(Xb, Yb);
    // the same layer object once its QR basis Q has been formed: the factors are gone, the residual is formed
    const X2 = new Matrix(1200, 150, Float64Array.from(Xb.data));
    void spanBasis(centred(X2), 'X', 'linreg.r2').Q;
    const viaQ = linregR2Kernel(X2, Yb);
    expect(viaFactors).toBeGreaterThan(0.1);
    expect(Math.abs(viaFactors - viaQ)).toBeLessThan(1e-12);
  });
  it('linreg.r2 is 1 for an exact linear fit and 0 for a constant regressor; a constant target is RANK_DEFICIENT', () => {
    const A = gaussian(5, 3, rng);
    expect(metric('linreg.r2', X, matmul(X, A)).value).toBeLessThanOrEqual(1);
    expect(metric('linreg.r2', X, matmul(X, A)).value).toBeCloseTo(1, 14);
    expect(metric('linreg.r2', new Matrix(60, 2).fill(3), Y).value).toBe(0);
    expect(code(() => metric('linreg.r2', X, new Matrix(60, 2).fill(3)))).toBe('RANK_DEFICIENT');
  });
  it('eos is not translation invariant (uncentred) but invariant to any invertible map', () => {
    const v = metric('eos', X, Y).value;
    const A = gaussian(5, 5, rng);
    for (let j = 0; j < 5; j++) A.set(j, j, A.get(j, j) + 3);
    expect(metric('eos', matmul(X, A), Y).value).toBeCloseTo(v, 12);
  });
});

describe('options', () => {
  it('defaults and range checks', () => {
    expect(resolveOptions('shape.partial_whitening')).toEqual({ alpha: 0.5 });
    expect(resolveOptions('maxmatch')).toEqual({ epsilon: 0.25 });
    expect(resolveOptions('gulp')).toEqual({ lambda: 1e-2 });
    for (const [id, opts] of [
      ['shape.partial_whitening', { alpha: 1.5 }],
      ['shape.partial_whitening', { alpha: -0.1 }],
      ['shape.partial_whitening', { alpha: '0.5' }],
      ['maxmatch', { epsilon: 0 }],
      ['maxmatch', { epsilon: 2 }],
      ['gulp', { lambda: -1 }],
      ['gulp', { lambda: Number.NaN }],
      ['eos', { k: 3 }],
    ] as const) {
      expect(code(() => resolveOptions(id, opts)), `${id} ${JSON.stringify(opts)}`).toBe('CONFIG_INVALID');
    }
  });
  it('maxmatch grows with epsilon and matches everything at epsilon = 1', () => {
    const { X, Y } = load('kornblith-100x10');
    const values = [0.25, 0.5, 0.8, 0.95, 1].map((epsilon) => metric('maxmatch', X, Y, { epsilon }).value);
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1] as number);
    expect(values[values.length - 1]).toBe(1);
  });
  it('shape.partial_whitening moves monotonically between its two ends on the fixture', () => {
    const { X, Y } = load('kornblith-100x10');
    const v = [0, 0.5, 1].map((alpha) => metric('shape.partial_whitening', X, Y, { alpha }).value);
    expect(v.every((x) => x >= 0 && x <= Math.PI / 2)).toBe(true);
  });
});

describe('degenerate inputs: defined values, never NaN', () => {
  const rng = createRng(5);
  const X = gaussian(40, 6, rng);
  const Y = gaussian(40, 4, rng);
  it('cosine.aligned leaves out zero rows, and needs one row that is non-zero on both sides', () => {
    const Xz = X.clone();
    const Yz = Y.clone();
    for (let j = 0; j < 6; j++) Xz.set(3, j, 0);
    for (let j = 0; j < 4; j++) Yz.set(7, j, 0);
    const v = metric('cosine.aligned', Xz, Yz).value;
    expect(Number.isFinite(v)).toBe(true);
    const only = new Matrix(40, 6);
    for (let j = 0; j < 6; j++) only.set(7, j, 1);
    expect(code(() => metric('cosine.aligned', only, Yz))).toBe('RANK_DEFICIENT');
  });
  it('a zero-variance unit, a dead unit and a duplicated unit give finite values for every measure', () => {
    const Xd = X.clone();
    for (let i = 0; i < 40; i++) {
      Xd.set(i, 1, 2.5);
      Xd.set(i, 2, 0);
      Xd.set(i, 3, Xd.get(i, 0));
    }
    for (const id of ['shape.partial_whitening', 'cosine.aligned', 'maxmatch', 'corrmatch.soft', 'linreg.r2', 'eos', 'gulp']) {
      for (const [a, b] of [[Xd, Y], [Y, Xd], [Xd, Xd]] as const) expect(Number.isFinite(metric(id, a, b).value), id).toBe(true);
    }
    expect(metric('maxmatch', Xd, Xd).value).toBeCloseTo(4 / 6, 15); // the two constant units never match
  });
  it('extreme magnitudes: scale-invariant measures keep their value at 1e-200 and 1e200', () => {
    for (const id of ['cosine.aligned', 'maxmatch', 'corrmatch.soft', 'linreg.r2', 'eos', 'gulp']) {
      const v = metric(id, X, Y).value;
      for (const c of [1e-200, 1e200]) {
        const Xs = X.clone();
        for (let k = 0; k < Xs.data.length; k++) Xs.data[k] = (Xs.data[k] as number) * c;
        expect(metric(id, Xs, Y).value, `${id} x ${c}`).toBeCloseTo(v, 10);
      }
    }
    for (const alpha of [0, 1]) {
      const v = metric('shape.partial_whitening', X, Y, { alpha }).value;
      const Xs = X.clone();
      for (let k = 0; k < Xs.data.length; k++) Xs.data[k] = (Xs.data[k] as number) * 1e250;
      expect(metric('shape.partial_whitening', Xs, Y, { alpha }).value).toBeCloseTo(v, 10);
    }
  });
});
