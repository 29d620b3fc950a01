import { describe, expect, it } from 'vitest';
import { thrownCode as code } from '@basis/test-utils';
import { createRng } from '@basis/tensor';
import { act, composeAssignments, sampleAssignment } from './action.js';
import { canonicalize } from './canonical.js';
import { GroupElement } from './elements.js';
import { SpecBuilder, denseChainSpec, groupUsage, parseSpec, specToJSON, validateSpec } from './spec.js';
import { mlpForward, mlpParams, randTensor } from './test-helpers.js';
import type { Tensor } from './tensor.js';

const layers = [0, 1, 2].map((i) => ({ weight: `l${i}.weight`, bias: `l${i}.bias` }));
const spec = denseChainSpec(layers, [7, 6], { kind: 'positive-monomial', activation: 'relu' });
const relu = (x: number): number => (x > 0 ? x : 0);

describe('symmetry specs', () => {
  it('serialise to JSON and back unchanged', () => {
    const text = specToJSON(spec);
    expect(parseSpec(text)).toEqual(spec);
    expect(Object.keys(spec.groups)).toEqual(['hidden.0', 'hidden.1']);
    expect(spec.axes['l1.weight']).toEqual([
      { group: 'hidden.1', role: 'out' },
      { group: 'hidden.0', role: 'in' },
    ]);
    expect(groupUsage(spec, 'hidden.0').map((u) => `${u.param}:${u.axis}:${u.role.role}`)).toEqual(['l0.weight:0:out', 'l0.bias:0:out', 'l1.weight:1:in']);
  });

  it('validation names the offending entry', () => {
    expect(code(() => parseSpec('{'))).toBe('CONFIG_INVALID');
    expect(code(() => validateSpec({ ...spec, format: 'x' }))).toBe('CONFIG_INVALID');
    expect(code(() => validateSpec({ ...spec, version: 2 }))).toBe('CONFIG_INVALID');
    expect(() => validateSpec({ ...spec, axes: { ...spec.axes, 'l2.weight': [null, { group: 'nope', role: 'in' }] } })).toThrow(/'nope'/);
    expect(() => validateSpec({ ...spec, axes: { ...spec.axes, 'l2.weight': [null, { group: 'hidden.1', role: 'sideways' }] } })).toThrow(/role/);
    expect(() => validateSpec({ ...spec, groups: { ...spec.groups, extra: { kind: 'permutation', size: 3 } } })).toThrow(/'extra' acts on no parameter/);
    expect(() => validateSpec({ ...spec, features: { f: { group: 'hidden.0', transform: 'B' } } })).toThrow(/transform/);
    expect(() => new SpecBuilder().group('o', { kind: 'orthogonal', size: 3 }).perm('w', 2, 0, 'o').build()).toThrow(/monomial/);
    expect(() => new SpecBuilder().group('g', { kind: 'permutation', size: 3 }).out('w', 2, 0, 'g').out('w', 2, 0, 'g')).toThrow(/already/);
    expect(() => new SpecBuilder().group('g', { kind: 'permutation', size: 3 }).out('w', 2, 2, 'g')).toThrow(/not an axis/);
    expect(() => new SpecBuilder().group('g', { kind: 'permutation', size: 3 }).group('g', { kind: 'permutation', size: 3 })).toThrow(/twice/);
    expect(code(() => denseChainSpec(layers.slice(0, 1), [], { kind: 'permutation' }))).toBe('TOO_SMALL');
    expect(code(() => denseChainSpec(layers, [7], { kind: 'permutation' }))).toBe('SHAPE_MISMATCH');
  });

  it('act rejects assignments that do not fit', () => {
    const params = mlpParams([5, 7, 6, 2], createRng(1));
    expect(code(() => act(params, spec, { nope: GroupElement.identity(7) }))).toBe('INVALID_ARGUMENT');
    expect(code(() => act(params, spec, { 'hidden.0': GroupElement.identity(6) }))).toBe('INVALID_ARGUMENT');
    expect(() => act(params, spec, { 'hidden.0': GroupElement.diagonal([1, 1, 1, 1, 1, 1, -1]) })).toThrow(/not in group 'hidden.0'/);
    expect(code(() => act(params, spec, { 'hidden.0': 'x' as unknown as GroupElement }))).toBe('INVALID_ARGUMENT');
    // checkMembership: false lets any element of the right size act (used to test non-symmetries)
    expect(() => act(params, spec, { 'hidden.0': GroupElement.diagonal([1, 1, 1, 1, 1, 1, -1]) }, { checkMembership: false })).not.toThrow();
    expect(code(() => act({ ...params, 'l1.weight': randTensor([6, 8], createRng(1)) }, spec, {}))).toBe('SHAPE_MISMATCH');
  });

  it('act composes: acting with b then a equals acting with a·b; inputs are not modified', () => {
    const params = mlpParams([5, 7, 6, 2], createRng(2));
    const copy = structuredClone(params);
    const a = sampleAssignment(spec, createRng(3));
    const b = sampleAssignment(spec, createRng(4));
    const two = act(act(params, spec, b), spec, a);
    const one = act(params, spec, composeAssignments(a, b));
    for (const k of Object.keys(params)) expect(two[k]!.data).toBeAllclose(one[k]!.data, { rtol: 1e-12, atol: 1e-13 });
    expect(params).toEqual(copy);
  });
});

describe('canonical forms', () => {
  const params = mlpParams([5, 7, 6, 2], createRng(5));
  const X = randTensor([10, 5], createRng(6));

  it('G_ReLU: incoming weights get unit norm, function unchanged, one sweep in forward order', () => {
    const { params: c, sweeps, assignment } = canonicalize(params, spec);
    expect(sweeps).toBe(2); // one sweep that changes things, one that confirms
    for (const [w, b, n, m] of [['l0.weight', 'l0.bias', 7, 5], ['l1.weight', 'l1.bias', 6, 7]] as const) {
      for (let i = 0; i < n; i++) {
        let s = (c[b]!.data[i] as number) ** 2;
        for (let j = 0; j < m; j++) s += (c[w]!.data[i * m + j] as number) ** 2;
        expect(Math.sqrt(s)).toBeCloseTo(1, 12);
      }
    }
    expect(mlpForward(c, X, relu, 3).output.data).toBeAllclose(mlpForward(params, X, relu, 3).output.data, { rtol: 1e-12, atol: 1e-12 });
    expect(Object.keys(assignment).sort()).toEqual(['hidden.0', 'hidden.1']);
  });

  it('planted: a model and any positively rescaled copy have the same canonical form', () => {
    const scaled = act(params, spec, { 'hidden.0': GroupElement.diagonal([2, 0.1, 3, 1, 5, 0.5, 7]), 'hidden.1': GroupElement.diagonal([4, 4, 0.25, 1, 9, 0.3]) });
    const c1 = canonicalize(params, spec).params;
    const c2 = canonicalize(scaled, spec).params;
    for (const k of Object.keys(c1)) expect(c2[k]!.data).toBeAllclose(c1[k]!.data, { rtol: 1e-12, atol: 1e-13 });
  });

  it('signs: tanh units get a positive largest incoming weight; rescaled sign-flipped copies agree', () => {
    const tanhSpec = denseChainSpec(layers, [7, 6], { kind: 'signed-permutation' });
    const flipped = act(params, tanhSpec, { 'hidden.0': GroupElement.diagonal([-1, 1, -1, 1, 1, -1, 1]) });
    const c1 = canonicalize(params, tanhSpec).params;
    const c2 = canonicalize(flipped, tanhSpec).params;
    for (const k of Object.keys(c1)) expect(c2[k]!.data).toBeAllclose(c1[k]!.data, { atol: 1e-14 });
    expect(mlpForward(c2, X, Math.tanh, 3).output.data).toBeAllclose(mlpForward(params, X, Math.tanh, 3).output.data, { rtol: 1e-12, atol: 1e-12 });
  });

  it('leaves dead units and permutation-only groups alone; rejects unknown groups', () => {
    const dead: Record<string, Tensor> = { ...params, 'l0.weight': { shape: [7, 5], data: params['l0.weight']!.data.map((v, k) => (k < 5 ? 0 : v)) }, 'l0.bias': { shape: [7], data: params['l0.bias']!.data.map((v, k) => (k === 0 ? 0 : v)) } };
    const c = canonicalize(dead, spec).params;
    expect(Array.from(c['l0.weight']!.data.slice(0, 5))).toEqual([0, 0, 0, 0, 0]);
    const permSpec = denseChainSpec(layers, [7, 6], { kind: 'permutation' });
    expect(canonicalize(params, permSpec).assignment).toEqual({});
    expect(() => canonicalize(params, spec, { groups: ['x'] })).toThrow(/unknown group/);
  });
});
