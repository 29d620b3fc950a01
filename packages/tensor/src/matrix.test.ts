import { describe, expect, it } from 'vitest';
import { BasisError, Matrix, assertFinite } from './index.js';

describe('Matrix', () => {
  it('round-trips nested arrays and transposes', () => {
    const a = Matrix.from([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(a.shape).toEqual([2, 3]);
    expect(a.get(1, 2)).toBe(6);
    expect(a.transpose().toArray()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    expect(Matrix.fromArray(2, 3, [1, 4, 2, 5, 3, 6], 'F').toArray()).toEqual(a.toArray());
  });
  it('rejects ragged rows, bad sizes and non-finite values with BasisError', () => {
    expect(() => Matrix.from([[1, 2], [3]])).toThrow(BasisError);
    expect(() => new Matrix(-1, 2)).toThrow(/non-negative/);
    expect(() => new Matrix(2, 2, new Float64Array(3))).toThrow(/length 3/);
    expect(() => assertFinite(Matrix.from([[1, NaN]]), 'X')).toThrow(/X\[0, 1\] is NaN/);
  });
  it('slices, reads rows and columns and the diagonal', () => {
    const a = Matrix.fromArray(3, 3, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(a.slice(1, 3, 0, 2).toArray()).toEqual([
      [4, 5],
      [7, 8],
    ]);
    expect(Array.from(a.col(1))).toEqual([2, 5, 8]);
    expect(Array.from(a.row(2))).toEqual([7, 8, 9]);
    expect(Array.from(a.diagonal())).toEqual([1, 5, 9]);
    expect(() => a.slice(0, 4)).toThrow(BasisError);
  });
});
