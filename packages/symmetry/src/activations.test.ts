import { describe, expect, it } from 'vitest';
import { thrownCode as codeOf } from '@basis/test-utils';
import { createRng, haarOrthogonal } from '@basis/tensor';
import {
  ACTIVATION_IDS,
  activationGroup,
  getActivation,
  inIntertwinerGroup,
  listActivations,
  phiByLemma,
  phiOf,
  sampleIntertwiner,
} from './activations.js';
import { GroupElement } from './elements.js';
import { actionDefect, intertwinerResidual, probeActivation, symmetryTable } from './intertwiner.js';

const closedForm = listActivations().filter((a) => a.group !== null);

describe('activation registry (S003 Table 1 + tanh)', () => {
  it('has the Table-1 rows with their groups and φ', () => {
    expect(ACTIVATION_IDS).toEqual(['identity', 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'rbf', 'polynomial', 'gelu', 'silu', 'softplus']);
    expect(getActivation('identity').group).toBe('invertible');
    expect(getActivation('sigmoid').group).toBe('permutation');
    expect(getActivation('relu').group).toBe('positive-monomial');
    expect(getActivation('leaky_relu', { slope: 0.3 }).group).toBe('positive-monomial');
    expect(getActivation('leaky_relu', { slope: 1 }).group).toBe('invertible');
    expect(getActivation('rbf').phi).toBe('abs');
    expect(getActivation('polynomial', { degree: 3 }).phi).toEqual({ power: 3 });
    expect(getActivation('tanh').group).toBe('signed-permutation');
    expect(getActivation('gelu').group).toBeNull();
  });

  for (const act of closedForm) {
    it(`${act.formula}: σ(Ax) = φ(A)σ(x), φ is a homomorphism, Lemma 3.1 agrees`, () => {
      const rng = createRng(`row-${act.formula}`);
      for (let t = 0; t < 5; t++) {
        const n = 2 + rng.int(6);
        const A = sampleIntertwiner(act, n, rng);
        const B = sampleIntertwiner(act, n, rng);
        expect(inIntertwinerGroup(act, A)).toBe(true);
        const pA = phiOf(act, A);
        expect(actionDefect(act.fn, A, pA, rng)).toBeLessThan(1e-12);
        const lhs = phiOf(act, A.compose(B)).toMatrix().data;
        expect(lhs).toBeAllclose(pA.compose(phiOf(act, B)).toMatrix().data, { rtol: 1e-12, atol: 1e-12 });
        expect(phiOf(act, A.inverse()).toMatrix().data).toBeAllclose(pA.inverse().toMatrix().data, { rtol: 1e-12, atol: 1e-12 });
        expect(phiByLemma(act.fn, A).data).toBeAllclose(pA.toMatrix().data, { rtol: 1e-10, atol: 1e-12 });
      }
    });
  }

  it('a Haar orthogonal A fails for ReLU (residual > 0.1) and passes for identity', () => {
    const rng = createRng(5);
    const Q = haarOrthogonal(5, rng);
    const relu = intertwinerResidual(getActivation('relu').fn, Q, { samples: 2000, rng });
    expect(relu.residual).toBeGreaterThan(0.1);
    const id = intertwinerResidual(getActivation('identity').fn, Q, { samples: 2000, rng });
    expect(id.residual).toBeLessThan(1e-12);
    expect(id.B.data).toBeAllclose(Q.data, { atol: 1e-12 });
    for (const a of closedForm) {
      const r = intertwinerResidual(a.fn, Q, { rng }).residual;
      if (a.group === 'invertible') expect(r).toBeLessThan(1e-12);
      else expect(r, a.formula).toBeGreaterThan(a.id === 'relu' || a.id === 'leaky_relu' ? 0.1 : 0.01); // sigmoid is nearly linear near 0
    }
  });

  it('membership predicates reject elements outside the group', () => {
    const relu = getActivation('relu');
    expect(inIntertwinerGroup(relu, GroupElement.monomial([1, 0], [2, 0.5]))).toBe(true);
    expect(inIntertwinerGroup(relu, GroupElement.monomial([1, 0], [-2, 0.5]))).toBe(false);
    expect(inIntertwinerGroup(relu, GroupElement.dense(haarOrthogonal(2, createRng(1))))).toBe(false);
    const sig = getActivation('sigmoid');
    expect(inIntertwinerGroup(sig, GroupElement.permutation([1, 0]))).toBe(true);
    expect(inIntertwinerGroup(sig, GroupElement.diagonal([2, 1]))).toBe(false);
    const rbf = getActivation('rbf');
    expect(inIntertwinerGroup(rbf, GroupElement.monomial([1, 0], [-1, 1]))).toBe(true);
    expect(inIntertwinerGroup(rbf, GroupElement.monomial([1, 0], [-2, 1]))).toBe(false);
    expect(inIntertwinerGroup(getActivation('identity'), GroupElement.dense([[1, 2], [3, 4]]))).toBe(true);
  });

  it('rejects bad parameters and unknown ids', () => {
    expect(codeOf(() => getActivation('swish'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => getActivation('leaky_relu', { slope: -0.5 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => getActivation('leaky_relu', { slope: NaN }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => getActivation('polynomial', { degree: 2.5 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => activationGroup(getActivation('gelu'), 3))).toBe('INVALID_ARGUMENT');
  });
});

describe('numeric intertwiner test and probe', () => {
  it('probe classifies every registered activation as its closed form says', () => {
    for (const a of closedForm) {
      const r = probeActivation(a.fn, { seed: 3 });
      expect(r.group, a.formula).toBe(a.group);
      expect(r.phi, a.formula).toEqual(a.phi);
    }
  });

  it('GELU, SiLU and softplus keep only permutations; |x| gets monomials with φ = |A|; 2x gets GL', () => {
    for (const id of ['gelu', 'silu', 'softplus']) {
      const r = probeActivation(getActivation(id).fn);
      expect(r.group, id).toBe('permutation');
      expect(r.families['positive-scale'].residual).toBeGreaterThan(1e-3);
      expect(r.families.sign.residual).toBeGreaterThan(1e-3);
    }
    const abs = probeActivation(Math.abs);
    expect(abs.group).toBe('monomial');
    expect(abs.phi).toBe('abs');
    expect(probeActivation((x) => 2 * x).group).toBe('invertible');
    expect(probeActivation((x) => x + 1).group).toBe('permutation');
  });

  it('LeakyReLU slope sweep: G_ReLU below 1, GL at 1 (S003 App. D.3)', () => {
    for (const slope of [0, 0.01, 0.3, 0.9, 1]) {
      const r = probeActivation(getActivation('leaky_relu', { slope }).fn);
      expect(r.group).toBe(slope === 1 ? 'invertible' : 'positive-monomial');
    }
  });

  it('a zero function or non-finite outputs are rejected', () => {
    expect(codeOf(() => probeActivation(() => 0))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => probeActivation((x) => 1 / (x - x)))).toBe('NON_FINITE_INPUT');
    expect(codeOf(() => probeActivation('x => x' as unknown as (x: number) => number))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => intertwinerResidual(Math.tanh, [[1, 2, 3]]))).toBe('SHAPE_MISMATCH');
    expect(codeOf(() => intertwinerResidual(Math.tanh, [[NaN]]))).toBe('NON_FINITE_INPUT');
    expect(codeOf(() => intertwinerResidual(Math.tanh, [[1, 0], [0, 1]], { samples: 3 }))).toBe('TOO_SMALL');
    expect(codeOf(() => probeActivation(Math.tanh, { n: 1 }))).toBe('TOO_SMALL');
  });

  it('a constant activation fits with a singular B, so it is not declared a symmetry', () => {
    const r = intertwinerResidual(() => 1, haarOrthogonal(3, createRng(2)), { samples: 200 });
    expect(r.residual).toBeLessThan(1e-12);
    expect(r.inverseCondition).toBeLessThan(1e-8);
  });

  it('the computed table agrees with the closed forms in every row', () => {
    const rows = symmetryTable({ seed: 1 });
    expect(rows.length).toBe(11);
    for (const r of rows) {
      expect(r.agree, r.formula).toBe(true);
      if (r.actionError !== null) {
        expect(r.actionError).toBeLessThan(1e-12);
        expect(r.homomorphismError!).toBeLessThan(1e-12);
        expect(r.lemmaError!).toBeLessThan(1e-10);
      }
      if (r.declared === 'GL_n(R)') expect(r.orthogonalResidual).toBeLessThan(1e-12);
      else expect(r.orthogonalResidual).toBeGreaterThan(0.01);
    }
  });
});
