import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BasisError, createRng, determinant } from '@basis/tensor';
import { GroupElement } from './elements.js';
import {
  GROUP_KINDS,
  groupDimension,
  isMember,
  membershipDefect,
  phiFixedSubgroup,
  sampleElement,
  transformClassDimension,
  type GroupDecl,
  type GroupKind,
} from './groups.js';
import { fractionalRotation } from './canonical.js';

const decl = (kind: GroupKind, size = 12): GroupDecl => (kind === 'block-permutation' ? { kind, size, blockSize: 2 } : { kind, size });

describe('group kinds', () => {
  it('every sampler draws members of its own group, deterministically by seed', () => {
    for (const kind of GROUP_KINDS) {
      const a = sampleElement(decl(kind), createRng(1));
      const b = sampleElement(decl(kind), createRng(1));
      expect(a.distance(b), kind).toBe(0);
      expect(isMember(decl(kind), a), kind).toBe(true);
      expect(Math.abs(determinant(a.toMatrix()))).toBeGreaterThan(1e-8);
    }
  });

  it('the membership predicates nest as the groups do (property)', () => {
    // kind -> kinds that contain it
    const contains: Record<GroupKind, GroupKind[]> = {
      permutation: ['permutation', 'positive-monomial', 'signed-permutation', 'monomial', 'orthogonal', 'invertible'],
      'block-permutation': ['block-permutation', 'permutation', 'positive-monomial', 'signed-permutation', 'monomial', 'orthogonal', 'invertible'],
      'positive-scale': ['positive-scale', 'positive-monomial', 'monomial', 'invertible'],
      sign: ['sign', 'signed-permutation', 'monomial', 'orthogonal', 'invertible'],
      'positive-monomial': ['positive-monomial', 'monomial', 'invertible'],
      'signed-permutation': ['signed-permutation', 'monomial', 'orthogonal', 'invertible'],
      monomial: ['monomial', 'invertible'],
      orthogonal: ['orthogonal', 'invertible'],
      invertible: ['invertible'],
    };
    fc.assert(
      fc.property(fc.constantFrom(...GROUP_KINDS), fc.integer({ min: 0, max: 1e6 }), (kind, seed) => {
        const el = sampleElement(decl(kind), createRng(seed));
        fc.pre(!(el.isMonomial && (kind === 'permutation' || kind === 'block-permutation') && el.isIdentity())); // a drawn identity permutation lies in every group
        for (const other of GROUP_KINDS) {
          const want = contains[kind].includes(other);
          // a random element of a group lies in a bigger group and (almost surely) not in a smaller one
          expect(isMember(decl(other), el), `${kind} in ${other}`).toBe(want);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('membership explains what is wrong', () => {
    expect(membershipDefect(decl('positive-monomial'), GroupElement.diagonal([1, 1, 1, 1, 1, -2, 1, 1, 1, 1, 1, 1]))).toMatch(/scale -2 at unit 5/);
    expect(membershipDefect(decl('permutation', 3), GroupElement.identity(4))).toMatch(/4 units/);
    expect(membershipDefect(decl('block-permutation'), GroupElement.permutation([1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]))).toMatch(/blocks of 2/);
    expect(membershipDefect(decl('sign', 2), GroupElement.permutation([1, 0]))).toMatch(/diagonal/);
  });

  it('φ-fixed subgroups for residual streams', () => {
    expect(phiFixedSubgroup({ kind: 'signed-permutation', size: 4, phi: 'abs' }).kind).toBe('permutation');
    expect(phiFixedSubgroup({ kind: 'monomial', size: 4, phi: 'abs' }).kind).toBe('positive-monomial');
    expect(phiFixedSubgroup({ kind: 'monomial', size: 4, phi: { power: 3 } }).kind).toBe('signed-permutation');
    expect(phiFixedSubgroup({ kind: 'monomial', size: 4, phi: { power: 2 } }).kind).toBe('permutation');
    expect(phiFixedSubgroup({ kind: 'positive-monomial', size: 4 }).kind).toBe('positive-monomial');
    expect(phiFixedSubgroup({ kind: 'monomial', size: 4, phi: { power: 2 } }).phi).toBe('identity');
    expect(() => phiFixedSubgroup({ kind: 'sign', size: 4, phi: 'abs' })).toThrow(BasisError);
    // the subgroup really is fixed by φ
    for (const [kind, phi] of [['monomial', { power: 3 }], ['monomial', 'abs'], ['signed-permutation', 'abs']] as const) {
      const sub = phiFixedSubgroup({ kind, size: 5, phi });
      const A = sampleElement(sub, createRng(4));
      const phiA = phi === 'abs' ? A.mapEntries(Math.abs) : A.mapEntries((x) => x ** phi.power);
      expect(phiA.distance(A)).toBeLessThan(1e-12);
    }
  });

  it('group and stitching-class dimensions (seeds-spec S8)', () => {
    expect(groupDimension({ kind: 'positive-monomial', size: 5 })).toEqual({ dimension: 5, components: 120 });
    expect(groupDimension({ kind: 'orthogonal', size: 4 })).toEqual({ dimension: 6, components: 2 });
    expect(groupDimension({ kind: 'invertible', size: 3 }).dimension).toBe(9);
    expect(groupDimension({ kind: 'block-permutation', size: 6, blockSize: 2 }).components).toBe(6);
    expect(transformClassDimension({ rank: 1 }, 64)).toBe(127);
    expect(transformClassDimension({ rank: 1 }, 64)).toBeGreaterThan(transformClassDimension('grelu', 64));
    expect(transformClassDimension('affine', 8)).toBe(72);
    expect(() => transformClassDimension({ rank: 9 }, 8)).toThrow(BasisError);
  });

  it('bad declarations are rejected', () => {
    expect(() => sampleElement({ kind: 'block-permutation', size: 5, blockSize: 2 }, createRng(0))).toThrow(/blockSize/);
    expect(() => sampleElement({ kind: 'bogus' as GroupKind, size: 5 }, createRng(0))).toThrow(/unknown kind/);
    expect(() => sampleElement({ kind: 'permutation', size: 0 }, createRng(0))).toThrow(/size/);
    expect(() => sampleElement({ kind: 'orthogonal', size: 3, phi: 'abs' }, createRng(0))).toThrow(/phi/);
    expect(() => sampleElement({ kind: 'positive-scale', size: 3 }, createRng(0), { scaleSigma: -1 })).toThrow(/scaleSigma/);
  });
});

describe('fractional rotations Q^α', () => {
  it('Q^0 = I, Q^1 = Q, Q^a Q^b = Q^(a+b), orthogonal with det 1', () => {
    const Q = fractionalRotation(6, 1, { seed: 3 });
    expect(fractionalRotation(6, 0, { Q }).isIdentity(1e-12)).toBe(true);
    expect(fractionalRotation(6, 1, { seed: 3 }).distance(Q)).toBeLessThan(1e-12);
    const a = fractionalRotation(6, 0.3, { Q });
    const b = fractionalRotation(6, 0.45, { Q });
    expect(a.compose(b).distance(fractionalRotation(6, 0.75, { Q }))).toBeLessThan(1e-10);
    expect(a.kind).toBe('orthogonal');
    expect(determinant(a.toMatrix())).toBeCloseTo(1, 12);
    expect(() => fractionalRotation(0, 0.5)).toThrow(BasisError);
    expect(() => fractionalRotation(3, 0.5, { Q })).toThrow(/units/);
  });
});
