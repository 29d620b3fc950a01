import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BasisError, createRng, haarOrthogonal, matmul } from '@basis/tensor';
import { GroupElement } from './elements.js';

const permArb = (n: number) => fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n });

describe('GroupElement', () => {
  it('monomial convention: (A x)_i = scale[i] x[src[i]]', () => {
    const A = GroupElement.monomial([2, 0, 1], [1, 2, -3]);
    expect(A.toMatrix().toArray()).toEqual([
      [0, 0, 1],
      [2, 0, 0],
      [0, -3, 0],
    ]);
    const t = A.applyToAxis({ shape: [3], data: Float64Array.from([10, 20, 30]) }, 0);
    expect(Array.from(t.data)).toEqual([30, 20, -60]);
    expect(A.kind).toBe('monomial');
    expect(GroupElement.permutation([1, 0]).kind).toBe('permutation');
    expect(GroupElement.diagonal([2, 3]).kind).toBe('positive-diagonal');
    expect(GroupElement.diagonal([1, -1]).kind).toBe('sign-diagonal');
    expect(GroupElement.monomial([1, 0], [-1, 1]).kind).toBe('signed-permutation');
    expect(GroupElement.monomial([1, 0], [2, 1]).kind).toBe('positive-monomial');
  });

  it('compose, inverse and transpose agree with dense matrix algebra (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }).chain((n) => fc.tuple(permArb(n), permArb(n), fc.array(fc.double({ min: 0.1, max: 5, noNaN: true }), { minLength: n, maxLength: n }), fc.array(fc.double({ min: -5, max: -0.1, noNaN: true }), { minLength: n, maxLength: n }))), ([p, q, s, t]) => {
        const A = GroupElement.monomial(p, s);
        const B = GroupElement.monomial(q, t);
        expect(A.compose(B).toMatrix().data).toBeAllclose(matmul(A.toMatrix(), B.toMatrix()).data, { atol: 1e-12 });
        expect(A.inverse().compose(A).isIdentity(1e-12)).toBe(true);
        expect(A.compose(A.inverse()).isIdentity(1e-12)).toBe(true);
        expect(A.transpose().toMatrix().data).toBeAllclose(A.toMatrix().transpose().data, { atol: 0 });
      }),
      { numRuns: 60 },
    );
  });

  it('dense elements: orthogonal detection, inverse, composition with monomials', () => {
    const Q = GroupElement.dense(haarOrthogonal(5, createRng(1)));
    expect(Q.kind).toBe('orthogonal');
    expect(Q.inverse().compose(Q).isIdentity(1e-12)).toBe(true);
    const M = GroupElement.dense([
      [2, 1],
      [0, 1],
    ]);
    expect(M.kind).toBe('invertible');
    expect(M.inverse().toMatrix().toArray()).toEqual([
      [0.5, -0.5],
      [0, 1],
    ]);
    const P = GroupElement.permutation([4, 3, 2, 1, 0]);
    expect(P.compose(Q).toMatrix().data).toBeAllclose(matmul(P.toMatrix(), Q.toMatrix()).data, { atol: 1e-14 });
  });

  it('applies along any axis with repeat (A ⊗ I) and matches a dense product', () => {
    const rng = createRng(3);
    const A = GroupElement.dense(haarOrthogonal(3, rng));
    // tensor of shape [2, 6, 2]; axis 1 holds 3 units x repeat 2
    const data = Float64Array.from({ length: 24 }, () => rng.normal());
    const t = { shape: [2, 6, 2], data };
    const out = A.applyToAxis(t, 1, 2);
    const a = A.toMatrix();
    for (let o = 0; o < 2; o++)
      for (let i = 0; i < 3; i++)
        for (let r = 0; r < 2; r++)
          for (let k = 0; k < 2; k++) {
            let s = 0;
            for (let j = 0; j < 3; j++) s += a.get(i, j) * (data[o * 12 + (j * 2 + r) * 2 + k] as number);
            expect(out.data[o * 12 + (i * 2 + r) * 2 + k]).toBeCloseTo(s, 13);
          }
    // monomial path gives the same as its dense matrix
    const P = GroupElement.monomial([2, 0, 1], [1, 3, 0.5]);
    expect(P.applyToAxis(t, 1, 2).data).toBeAllclose(GroupElement.dense(P.toMatrix()).applyToAxis(t, 1, 2).data, { atol: 1e-15 });
  });

  it('JSON round trip', () => {
    const A = GroupElement.monomial([1, 2, 0], [0.5, 2, -1]);
    expect(GroupElement.fromJSON(JSON.parse(JSON.stringify(A.toJSON())) as ReturnType<typeof A.toJSON>).distance(A)).toBe(0);
    const Q = GroupElement.dense(haarOrthogonal(3, createRng(2)));
    expect(GroupElement.fromJSON(JSON.parse(JSON.stringify(Q.toJSON())) as ReturnType<typeof Q.toJSON>).distance(Q)).toBe(0);
  });

  it('rejects bad input with BasisError codes', () => {
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof BasisError ? e.code : 'not-a-BasisError';
      }
      return undefined;
    };
    expect(code(() => GroupElement.permutation([0, 0]))).toBe('INVALID_ARGUMENT');
    expect(code(() => GroupElement.permutation([0, 2]))).toBe('INVALID_ARGUMENT');
    expect(code(() => GroupElement.permutation([]))).toBe('TOO_SMALL');
    expect(code(() => GroupElement.monomial([0, 1], [1]))).toBe('SHAPE_MISMATCH');
    expect(code(() => GroupElement.monomial([0, 1], [1, 0]))).toBe('RANK_DEFICIENT');
    expect(code(() => GroupElement.diagonal([1, NaN]))).toBe('NON_FINITE_INPUT');
    expect(code(() => GroupElement.dense([[1, 2], [2, 4]]))).toBe('RANK_DEFICIENT');
    expect(code(() => GroupElement.dense([[1, 2, 3], [2, 4, 5]]))).toBe('SHAPE_MISMATCH');
    expect(code(() => GroupElement.dense([[Infinity]]))).toBe('NON_FINITE_INPUT');
    const A = GroupElement.permutation([1, 0]);
    expect(code(() => A.compose(GroupElement.identity(3)))).toBe('SHAPE_MISMATCH');
    expect(code(() => A.applyToAxis({ shape: [3], data: new Float64Array(3) }, 0))).toBe('SHAPE_MISMATCH');
    expect(code(() => A.applyToAxis({ shape: [2], data: new Float64Array(2) }, 1))).toBe('SHAPE_MISMATCH');
    expect(code(() => A.applyToAxis({ shape: [2], data: Float64Array.from([1, NaN]) }, 0))).toBe('NON_FINITE_INPUT');
    expect(code(() => A.applyToAxis({ shape: [2], data: new Float64Array(3) }, 0))).toBe('SHAPE_MISMATCH');
    expect(code(() => GroupElement.dense([[2, 0], [0, 1]]).permutationPart())).toBe('INVALID_ARGUMENT');
  });
});
