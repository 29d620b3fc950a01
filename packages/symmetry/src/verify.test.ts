import { describe, expect, it } from 'vitest';
import { BasisError, createRng } from '@basis/tensor';
import { act, invertAssignment, sampleAssignment, transformFeature } from './action.js';
import { activationGroup, getActivation, listActivations, type Activation } from './activations.js';
import { phiFixedSubgroup, type GroupDecl } from './groups.js';
import { SpecBuilder, denseChainSpec, type SymmetrySpec } from './spec.js';
import { cnnForward, cnnParams, dense, mlpForward, mlpParams, randTensor, resmlpForward, resmlpParams } from './test-helpers.js';
import { relativeError, type Tensor } from './tensor.js';
import { verifySpec } from './verify.js';

const layersOf = (k: number) => Array.from({ length: k }, (_, i) => ({ weight: `l${i}.weight`, bias: `l${i}.bias` }));

async function rejection(p: Promise<unknown>): Promise<BasisError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof BasisError) return e;
    throw e;
  }
  throw new Error('expected a BasisError');
}

/** Spec of the residual MLP of test-helpers, with the stream group `stream` tied across blocks. */
function resmlpSpec(act: Activation, m: number, blocks: number, stream: GroupDecl): SymmetrySpec {
  const b = new SpecBuilder().group('stream', stream);
  b.out('in.weight', 2, 0, 'stream').out('in.bias', 1, 0, 'stream').in('head.weight', 2, 1, 'stream').feature('stream.0', 'stream', 'phi');
  for (let k = 0; k < blocks; k++) {
    const g = `b${k}.hidden`;
    b.group(g, activationGroup(act, m));
    b.in(`b${k}.fc1.weight`, 2, 1, 'stream');
    b.out(`b${k}.fc1.weight`, 2, 0, g).out(`b${k}.fc1.bias`, 1, 0, g).in(`b${k}.fc2.weight`, 2, 1, g);
    b.out(`b${k}.fc2.weight`, 2, 0, 'stream').out(`b${k}.fc2.bias`, 1, 0, 'stream');
    b.feature(`block.${k}.out`, 'stream', 'phi').feature(`block.${k}.hidden`, g, 'phi');
  }
  return b.build();
}

describe('verifySpec on hand-written float64 models', () => {
  const X = randTensor([24, 5], createRng(1));

  for (const a of listActivations()) {
    it(`MLP with ${a.formula}: outputs unchanged to 1e-10, features move by A / φ(A)`, async () => {
      const widths = [5, 7, 6, 3];
      const params = mlpParams(widths, createRng(`mlp-${a.formula}`));
      const group = a.group === null ? { kind: 'permutation' as const, activation: a.id } : { kind: a.group, phi: a.phi!, activation: a.id };
      const spec = denseChainSpec(layersOf(3), [7, 6], group);
      const report = await verifySpec((p) => mlpForward(p, X, a.fn, 3), params, spec, { seed: 2, tol: 1e-10, trials: 3 });
      expect(report.ok).toBe(true);
      expect(report.worstOutputError).toBeLessThan(1e-10);
      expect(report.features.map((f) => f.name).sort()).toEqual(['hidden.0.post', 'hidden.0.pre', 'hidden.1.post', 'hidden.1.pre']);
      expect(report.worstFeatureError).toBeLessThan(1e-10);
      // the same function, different hidden representations (E003-7)
      const asg = sampleAssignment(spec, createRng(9));
      const moved = act(params, spec, asg);
      const h0 = mlpForward(params, X, a.fn, 3).features['hidden.1.post'] as Tensor;
      const h1 = mlpForward(moved, X, a.fn, 3).features['hidden.1.post'] as Tensor;
      expect(relativeError(h1.data, h0.data)).toBeGreaterThan(1e-3);
      // acting with the inverse restores the parameters
      const back = act(moved, spec, invertAssignment(asg));
      for (const k of Object.keys(params)) expect(back[k]!.data).toBeAllclose(params[k]!.data, { atol: 1e-10, rtol: 1e-10 });
    });
  }

  it('a group that is not the intertwiner group of the activation is caught and named', async () => {
    const relu = getActivation('relu');
    const params = mlpParams([5, 6, 6, 2], createRng(3));
    const spec = new SpecBuilder()
      .group('h0', { kind: 'positive-monomial', size: 6 })
      .group('h1', { kind: 'orthogonal', size: 6 })
      .out('l0.weight', 2, 0, 'h0').out('l0.bias', 1, 0, 'h0').in('l1.weight', 2, 1, 'h0')
      .out('l1.weight', 2, 0, 'h1').out('l1.bias', 1, 0, 'h1').in('l2.weight', 2, 1, 'h1')
      .build();
    const e = await rejection(verifySpec((p) => mlpForward(p, X, relu.fn, 3), params, spec));
    expect(e.code).toBe('NOT_A_SYMMETRY');
    expect(e.message).toContain("group 'h1' (orthogonal");
    expect(e.message).not.toContain("group 'h0'");
    const report = await verifySpec((p) => mlpForward(p, X, relu.fn, 3), params, spec, { throwOnFailure: false });
    expect(report.ok).toBe(false);
    expect(report.offending).toEqual(['h1']);
    expect(report.groups.find((g) => g.name === 'h0')!.worstError).toBeLessThan(1e-12);
    expect(report.groups.find((g) => g.name === 'h1')!.worstError).toBeGreaterThan(1e-3);
  });

  it('a bias left out of the spec breaks the symmetry and names the group', async () => {
    const params = mlpParams([5, 6, 2], createRng(4));
    const spec = new SpecBuilder().group('h', { kind: 'permutation', size: 6 }).out('l0.weight', 2, 0, 'h').in('l1.weight', 2, 1, 'h').build();
    const e = await rejection(verifySpec((p) => mlpForward(p, X, Math.tanh, 2), params, spec));
    expect(e.code).toBe('NOT_A_SYMMETRY');
    expect(e.message).toContain("group 'h'");
  });

  describe('residual MLP (S003 Remark 3.6)', () => {
    const d = 6;
    const m = 6;
    const blocks = 2;
    const relu = getActivation('relu');
    const params = resmlpParams(5, d, m, blocks, 3, createRng(7));
    const fwd = (p: Record<string, Tensor>) => resmlpForward(p, X, relu.fn, blocks);

    it('a tied stream group keeps the output and moves block-end features by A', async () => {
      const spec = resmlpSpec(relu, m, blocks, activationGroup(relu, d));
      const r = await verifySpec(fwd, params, spec, { tol: 1e-10, trials: 3, seed: 5 });
      expect(r.worstOutputError).toBeLessThan(1e-10);
      for (const f of r.features) expect(f.worstError, f.name).toBeLessThan(1e-10);
    });

    it('inside a block the stream transform does not hold; at block ends it does', async () => {
      // declare the inside-block feature as if it belonged to the stream group (block width m = d)
      const base = resmlpSpec(relu, m, blocks, activationGroup(relu, d));
      const wrong: SymmetrySpec = { ...base, features: { ...base.features, 'block.0.hidden': { group: 'stream', transform: 'phi' } } };
      const r = await verifySpec(fwd, params, wrong, { throwOnFailure: false, seed: 1 });
      const inside = r.features.find((f) => f.name === 'block.0.hidden')!;
      const end = r.features.find((f) => f.name === 'block.0.out')!;
      expect(inside.ok).toBe(false);
      expect(inside.worstError).toBeGreaterThan(1e-3);
      expect(end.worstError).toBeLessThan(1e-10);
      expect(r.worstOutputError).toBeLessThan(1e-10);
      expect(r.offending).toEqual(['block.0.hidden']);
    });

    it('untied stream groups across a residual boundary are caught with NOT_A_SYMMETRY', async () => {
      // each block's output gets its own permutation group instead of the shared stream group
      const b = new SpecBuilder().group('s.in', { kind: 'permutation', size: d });
      b.out('in.weight', 2, 0, 's.in').out('in.bias', 1, 0, 's.in').in('b0.fc1.weight', 2, 1, 's.in');
      b.group('s.b0', { kind: 'permutation', size: d });
      b.out('b0.fc2.weight', 2, 0, 's.b0').out('b0.fc2.bias', 1, 0, 's.b0').in('b1.fc1.weight', 2, 1, 's.b0');
      b.group('s.b1', { kind: 'permutation', size: d });
      b.out('b1.fc2.weight', 2, 0, 's.b1').out('b1.fc2.bias', 1, 0, 's.b1').in('head.weight', 2, 1, 's.b1');
      const e = await rejection(verifySpec(fwd, params, b.build()));
      expect(e.code).toBe('NOT_A_SYMMETRY');
      expect(e.message).toMatch(/group 's\.in'/);
      expect(e.message).toMatch(/group 's\.b0'/);
      expect(e.message).toMatch(/group 's\.b1'/);
    });

    it('an RBF stream must be restricted to φ(A) = A (permutations): the full group is caught', async () => {
      const rbf = getActivation('rbf');
      const f = (p: Record<string, Tensor>) => resmlpForward(p, X, rbf.fn, blocks);
      const full = activationGroup(rbf, d);
      const e = await rejection(verifySpec(f, params, resmlpSpec(rbf, m, blocks, full)));
      expect(e.code).toBe('NOT_A_SYMMETRY');
      expect(e.message).toContain("group 'stream'");
      const restricted = phiFixedSubgroup(full);
      expect(restricted.kind).toBe('permutation');
      const r = await verifySpec(f, params, resmlpSpec(rbf, m, blocks, restricted), { tol: 1e-10 });
      expect(r.worstOutputError).toBeLessThan(1e-10);
    });
  });

  describe('small CNN with batchnorm', () => {
    const hw = 4;
    const Xc = randTensor([3, 2, hw, hw], createRng(11));
    const params = cnnParams(2, 4, 3, hw, 3, createRng(12));
    const spec = (() => {
      const b = new SpecBuilder();
      for (const [g, conv, bn, next, c] of [
        ['c1', 'conv1', 'bn1', 'conv2.weight', 4],
        ['c2', 'conv2', 'bn2', 'fc.weight', 3],
      ] as const) {
        b.group(g, { kind: 'positive-monomial', size: c, activation: 'relu' });
        // the conv and the running statistics feed the batchnorm: only permuted; γ and β carry the scale
        b.perm(`${conv}.weight`, 4, 0, g).perm(`${conv}.bias`, 1, 0, g).perm(`${bn}.running_mean`, 1, 0, g).perm(`${bn}.running_var`, 1, 0, g);
        b.out(`${bn}.weight`, 1, 0, g).out(`${bn}.bias`, 1, 0, g);
        if (next === 'fc.weight') b.in(next, 2, 1, g, hw * hw);
        else b.in(next, 4, 1, g);
        b.feature(`${bn}.out`, g, 'A').feature(`${conv}.post`, g, 'phi');
      }
      return b.build();
    })();

    it('random G_ReLU elements keep outputs to 1e-10; channel features move by A (flatten uses repeat = H·W)', async () => {
      const r = await verifySpec((p) => cnnForward(p, Xc), params, spec, { tol: 1e-10, trials: 3, seed: 4 });
      expect(r.ok).toBe(true);
      expect(r.features.length).toBe(4);
      expect(r.worstFeatureError).toBeLessThan(1e-10);
    });

    it('scaling the conv in front of batchnorm instead of γ, β is caught', async () => {
      const wrong: SymmetrySpec = {
        ...spec,
        axes: { ...spec.axes, 'conv1.weight': [{ group: 'c1', role: 'out' }, null, null, null], 'bn1.weight': [{ group: 'c1', role: 'perm' }] },
      };
      const e = await rejection(verifySpec((p) => cnnForward(p, Xc), params, wrong, { groups: ['c1'] }));
      expect(e.code).toBe('NOT_A_SYMMETRY');
      expect(e.message).toContain("group 'c1'");
    });

    it('transformFeature gives the expected channel map', () => {
      const asg = sampleAssignment(spec, createRng(2));
      const f0 = cnnForward(params, Xc).features['conv1.post'];
      const f1 = cnnForward(act(params, spec, asg), Xc).features['conv1.post'];
      expect(f1.data).toBeAllclose(transformFeature(f0, spec, 'conv1.post', asg).data, { rtol: 1e-12, atol: 1e-12 });
    });
  });

  it('rejects bad input', async () => {
    const params = mlpParams([5, 6, 2], createRng(4));
    const spec = denseChainSpec(layersOf(2), [6], { kind: 'permutation' });
    const fwd = (p: Record<string, Tensor>) => mlpForward(p, X, Math.tanh, 2);
    expect((await rejection(verifySpec(fwd, params, spec, { trials: 0 }))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(verifySpec(fwd, params, spec, { tol: -1 }))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(verifySpec(fwd, params, spec, { groups: ['nope'] }))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(verifySpec(fwd, { ...params, 'l0.bias': { shape: [6], data: new Float64Array(6).fill(NaN) } }, spec))).code).toBe('NON_FINITE_INPUT');
    expect((await rejection(verifySpec(() => ({ shape: [1], data: Float64Array.from([NaN]) }), params, spec))).code).toBe('NON_FINITE_INPUT');
    expect((await rejection(verifySpec(fwd, { 'l0.weight': params['l0.weight']! }, spec))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(verifySpec(fwd, { ...params, 'l0.weight': randTensor([6, 5, 1], createRng(1)) }, spec))).code).toBe('SHAPE_MISMATCH');
    expect((await rejection(verifySpec(fwd, { ...params, 'l0.bias': randTensor([5], createRng(1)) }, spec))).code).toBe('SHAPE_MISMATCH');
    expect((await rejection(verifySpec('f' as never, params, spec))).code).toBe('INVALID_ARGUMENT');
  });

  it('accepts async forward functions', async () => {
    const params = mlpParams([5, 6, 2], createRng(4));
    const spec = denseChainSpec(layersOf(2), [6], { kind: 'signed-permutation' });
    const r = await verifySpec((p) => Promise.resolve(mlpForward(p, X, Math.tanh, 2)), params, spec);
    expect(r.ok).toBe(true);
  });
});

describe('block permutations (attention-style heads)', () => {
  // y = Wo · blocksoftmax(Wv x): a per-head nonlinearity; heads may be permuted as blocks only
  const heads = 3;
  const dh = 2;
  const X = randTensor([16, 4], createRng(21));
  const params = { 'v.weight': randTensor([heads * dh, 4], createRng(22)), 'o.weight': randTensor([3, heads * dh], createRng(23)) };
  const forward = (p: Record<string, Tensor>) => {
    const z = dense(X, p['v.weight'] as Tensor);
    const h = new Float64Array(z.data.length);
    for (let n = 0; n < 16; n++)
      for (let b = 0; b < heads; b++) {
        let s = 0;
        for (let r = 0; r < dh; r++) s += Math.exp(z.data[n * heads * dh + b * dh + r] as number);
        for (let r = 0; r < dh; r++) h[n * heads * dh + b * dh + r] = Math.exp(z.data[n * heads * dh + b * dh + r] as number) / s;
      }
    return { output: dense({ shape: [16, heads * dh], data: h }, p['o.weight'] as Tensor) };
  };
  const specOf = (kind: 'block-permutation' | 'permutation') =>
    new SpecBuilder()
      .group('heads', kind === 'block-permutation' ? { kind, size: heads * dh, blockSize: dh } : { kind, size: heads * dh })
      .out('v.weight', 2, 0, 'heads')
      .in('o.weight', 2, 1, 'heads')
      .build();

  it('heads permuted as blocks keep the output; the same group as units is caught', async () => {
    const ok = await verifySpec(forward, params, specOf('block-permutation'), { tol: 1e-12, trials: 4 });
    expect(ok.worstOutputError).toBeLessThan(1e-12);
    const e = await rejection(verifySpec(forward, params, specOf('permutation'), { trials: 4 }));
    expect(e.code).toBe('NOT_A_SYMMETRY');
    expect(e.message).toContain("group 'heads' (permutation, 6 units)");
  });
});
