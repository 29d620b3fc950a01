import { describe, expect, it } from 'vitest';
import { fixtureBytes, fixtureJson, metricCases } from '@basis/test-utils';
import { readNpyMatrix } from '../index.js';
import { Matrix } from '../matrix.js';
import { linearSumAssignment } from './lsap.js';
import { exactTransport } from './transport.js';

interface LsapExpected {
  file: string;
  shape: [number, number];
  min: number;
  max: number;
  pairs: number;
}

const LSAP_CASES = ['lsap-square-50', 'lsap-rect-30x45', 'lsap-ties-50', 'lsap-ties-rect-30x45', 'lsap-small-7x7'];

/** Pearson correlations between the columns of X and Y; a zero-variance column gives 0. */
function corr(X: Matrix, Y: Matrix): Matrix {
  const N = X.rows;
  const standardise = (A: Matrix): Matrix => {
    const Z = new Matrix(N, A.cols);
    for (let j = 0; j < A.cols; j++) {
      let mean = 0;
      for (let i = 0; i < N; i++) mean += A.get(i, j);
      mean /= N;
      let ss = 0;
      for (let i = 0; i < N; i++) ss += (A.get(i, j) - mean) ** 2;
      const norm = Math.sqrt(ss);
      for (let i = 0; i < N; i++) Z.set(i, j, norm > 0 ? (A.get(i, j) - mean) / norm : 0);
    }
    return Z;
  };
  const Xs = standardise(X);
  const Ys = standardise(Y);
  const C = new Matrix(X.cols, Y.cols);
  for (let a = 0; a < X.cols; a++)
    for (let b = 0; b < Y.cols; b++) {
      let s = 0;
      for (let i = 0; i < N; i++) s += Xs.get(i, a) * Ys.get(i, b);
      C.set(a, b, s);
    }
  return C;
}

describe('solver golden values from the fixtures', () => {
  const expected = fixtureJson<Record<string, LsapExpected>>('linalg/expected.json');

  for (const name of LSAP_CASES) {
    it(`LSAP ${name}: min and max objectives`, () => {
      const want = expected[name] as LsapExpected;
      const C = readNpyMatrix(fixtureBytes(`linalg/${want.file}`));
      expect(C.shape).toEqual(want.shape);
      const integer = C.data.every((x) => Number.isInteger(x));
      for (const maximize of [false, true]) {
        const r = linearSumAssignment(C, { maximize });
        expect(r.rowInd.length).toBe(want.pairs);
        const target = maximize ? want.max : want.min;
        if (integer) expect(r.cost).toBe(target);
        else expect(Math.abs(r.cost - target)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(target)));
        // the transposed problem has the same optimum
        const t = linearSumAssignment(C.transpose(), { maximize });
        if (integer) expect(t.cost).toBe(target);
        else expect(Math.abs(t.cost - target)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(target)));
      }
    });
  }

  it('LSAP on a tie-heavy fixture gives the same assignment every time', () => {
    const C = readNpyMatrix(fixtureBytes('linalg/lsap-ties-50.npy'));
    const first = linearSumAssignment(C, { maximize: true });
    for (let k = 0; k < 3; k++) {
      expect(Array.from(linearSumAssignment(C.clone(), { maximize: true }).colInd)).toEqual(Array.from(first.colInd));
    }
  });

  for (const name of metricCases()) {
    it(`metric case ${name}: permcorr (rectangular LSAP max) and softmatch (exact OT) match POT/scipy`, () => {
      const X = readNpyMatrix(fixtureBytes(`metrics/${name}/X.npy`));
      const Y = readNpyMatrix(fixtureBytes(`metrics/${name}/Y.npy`));
      const want = fixtureJson<Record<string, number>>(`metrics/${name}/expected.json`);
      const C = corr(X, Y);
      const dx = C.rows;
      const dy = C.cols;
      const lap = linearSumAssignment(C, { maximize: true });
      const permcorr = lap.cost / Math.min(dx, dy);
      expect(Math.abs(permcorr - (want['permcorr'] as number))).toBeLessThanOrEqual(1e-9);
      // softmatch: minimise <P, 1 - C> over uniform marginals, report <P*, C>
      const D = new Matrix(dx, dy, C.data.map((c) => 1 - c));
      const ot = exactTransport(new Float64Array(dx).fill(1 / dx), new Float64Array(dy).fill(1 / dy), D);
      expect(ot.marginalError).toBeLessThanOrEqual(1e-12);
      let soft = 0;
      for (let k = 0; k < C.size; k++) soft += (ot.plan.data[k] as number) * (C.data[k] as number);
      expect(Math.abs(soft - (want['softmatch'] as number))).toBeLessThanOrEqual(1e-9);
      // maximising <P, C> directly gives the same value
      const otMax = exactTransport(new Float64Array(dx).fill(1 / dx), new Float64Array(dy).fill(1 / dy), C, {
        maximize: true,
      });
      expect(Math.abs(otMax.cost - (want['softmatch'] as number))).toBeLessThanOrEqual(1e-9);
      if (dx === dy) expect(Math.abs(soft - permcorr)).toBeLessThanOrEqual(1e-12);
    });
  }
});
