import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { BasisError, createRng } from '@basis/tensor';
import { act, sampleAssignment, type SymmetrySpec } from '@basis/symmetry';
import { miniMyrtle, mlp, resmlp, resnet, transformer } from './architectures.js';
import { checkModelSymmetry, graphForwardFn } from './check.js';
import { forward } from './forward.js';
import { describeGraph, type ModelGraph } from './ir.js';
import { initParams, paramsToTensors, toFloat64 } from './params.js';
import { inferSpec } from './infer-spec.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof BasisError ? e.code : `not-a-BasisError: ${String(e)}`;
  }
  return undefined;
}

function batch(graph: ModelGraph, n: number, seed: number): tf.Tensor {
  const rng = createRng(seed);
  const size = graph.input.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n * size }, () => rng.normal()), [n, ...graph.input]);
}

const small = {
  mlp: mlp({ width: 12, depth: 2, inputDim: 6, classes: 3 }),
  resmlp: resmlp({ width: 8, blocks: 2, hidden: 5, inputDim: 6, classes: 3 }),
  myrtle: miniMyrtle(3, { input: [2, 8, 8], classes: 3 }),
  resnet: resnet({ blocksPerStage: 1, input: [1, 8, 8], classes: 3 }),
};

describe('graph IR', () => {
  it('infers parameter shapes in PyTorch layout and counts parameters', () => {
    const d = describeGraph(mlp({ width: 512, depth: 2 }));
    expect(d.params.map((p) => [p.name, p.shape.join('x')])).toEqual([
      ['layers.0.weight', '512x784'],
      ['layers.0.bias', '512'],
      ['layers.2.weight', '512x512'],
      ['layers.2.bias', '512'],
      ['layers.4.weight', '10x512'],
      ['layers.4.bias', '10'],
    ]);
    expect(d.parameterCount).toBe(784 * 512 + 512 + 512 * 512 + 512 + 5130);
    const m = describeGraph(miniMyrtle(16));
    expect(m.output).toEqual([10]);
    expect(m.params.find((p) => p.name === 'layers.0.weight')!.shape).toEqual([16, 1, 3, 3]);
    expect(m.params.find((p) => p.name === 'layers.1.running_var')!.trainable).toBe(false);
    expect(m.nodes.find((n) => n.name === 'layers.7')!.shape).toEqual([32, 14, 14]);
    const r = describeGraph(resnet());
    expect(r.nodes.filter((n) => n.op === 'residual').length).toBe(9);
    expect(r.parameterCount).toBeGreaterThan(250_000);
    expect(r.nodes.find((n) => n.name === 'layer2.0.conv1')!.cut).toBe(false);
  });

  it('rejects malformed graphs with the path of the bad field', () => {
    const g = mlp({ width: 4, inputDim: 3 });
    expect(() => describeGraph({ ...g, nodes: [{ op: 'dense', name: 'a', units: 0 }] })).toThrow(/graph\.nodes\[0\]\.units/);
    expect(() => describeGraph({ ...g, nodes: [{ op: 'dense', name: 'a', units: 2 }, { op: 'dense', name: 'a', units: 2 }] })).toThrow(/used twice/);
    expect(() => describeGraph({ ...g, nodes: [{ op: 'conv2d', name: 'c', filters: 2, kernel: 3 }] })).toThrow(/\[C, H, W\]/);
    expect(() => describeGraph({ ...g, nodes: [{ op: 'activation', name: 'x', fn: 'swish' as never }] })).toThrow(/graph\.nodes\[0\]\.fn/);
    expect(() => describeGraph({ ...g, input: [0] })).toThrow(/graph\.input\[0\]/);
    expect(() => describeGraph({ ...g, version: 2 as 1 })).toThrow(/graph\.version/);
    expect(() => describeGraph({ ...g, nodes: [{ op: 'residual', name: 'r', body: [{ op: 'dense', name: 'd', units: 5 }] }] })).toThrow(/projection shortcut/);
    expect(code(() => describeGraph({ ...g, nodes: [] }))).toBe('CONFIG_INVALID');
    expect(code(() => mlp({ width: -1 }))).toBe('CONFIG_INVALID');
  });

  it('initialisation is seeded and PyTorch-like', () => {
    const g = small.mlp;
    const a = initParams(g, createRng(1));
    const b = initParams(g, createRng(1));
    const c = initParams(g, createRng(2));
    expect(a).toEqual(b);
    expect(a['layers.0.weight']!.data).not.toEqual(c['layers.0.weight']!.data);
    const bound = 1 / Math.sqrt(6);
    for (const v of a['layers.0.weight']!.data) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
    const m = initParams(small.myrtle, createRng(0));
    expect(Array.from(m['layers.1.weight']!.data)).toEqual([1, 1, 1]);
    expect(Array.from(m['layers.1.running_var']!.data)).toEqual([1, 1, 1]);
  });
});

describe('forward pass', () => {
  it('matches a float64 hand computation for an MLP', () => {
    const g = small.mlp;
    const p = initParams(g, createRng(3));
    const x = batch(g, 4, 4);
    const got = tf.tidy(() => forward(g, paramsToTensors(p), x).output.arraySync()) as number[][];
    const X = x.arraySync() as number[][];
    const layer = (h: number[][], w: string, relu: boolean): number[][] => {
      const W = p[`${w}.weight`]!;
      const B = p[`${w}.bias`]!;
      const [o, i] = W.shape as [number, number];
      return h.map((row) =>
        Array.from({ length: o }, (_, r) => {
          let s = B.data[r] as number;
          for (let j = 0; j < i; j++) s += (W.data[r * i + j] as number) * (row[j] as number);
          return relu ? Math.max(s, 0) : s;
        }),
      );
    };
    const want = layer(layer(layer(X, 'layers.0', true), 'layers.2', true), 'layers.4', false);
    expect(got.flat()).toBeAllclose(want.flat(), { rtol: 1e-5, atol: 1e-6 });
  });

  for (const [name, g] of Object.entries(small)) {
    it(`${name}: f>l(f≤l(x)) = f(x) at every cut; inside residual blocks is not a cut`, () => {
      const p = paramsToTensors(initParams(g, createRng(5)));
      const x = batch(g, 3, 6);
      tf.tidy(() => {
        const full = forward(g, p, x).output.dataSync();
        for (let l = 0; l < g.nodes.length - 1; l++) {
          const h = forward(g, p, x, { to: l }).output;
          const y = forward(g, p, h, { from: l }).output.dataSync();
          expect(Array.from(y)).toBeAllclose(Array.from(full), { rtol: 1e-6, atol: 1e-6 });
        }
      });
      const inner = describeGraph(g).nodes.find((n) => !n.cut);
      if (inner !== undefined) expect(code(() => forward(g, p, x, { to: inner.name }))).toBe('INVALID_ARGUMENT');
    });
  }

  it('captures node outputs as [N, C, H, W] and checks inputs', () => {
    const g = small.myrtle;
    const p = paramsToTensors(initParams(g, createRng(7)));
    const x = batch(g, 2, 8);
    const r = forward(g, p, x, { capture: ['layers.2', 'layers.11'] });
    expect(r.captures['layers.2']!.shape).toEqual([2, 3, 8, 8]);
    expect(r.captures['layers.11']!.shape).toEqual([2, 6]);
    expect(code(() => forward(g, p, x, { capture: ['nope'] }))).toBe('INVALID_ARGUMENT');
    expect(code(() => forward(g, p, tf.zeros([2, 1, 8, 8])))).toBe('SHAPE_MISMATCH');
    expect(code(() => forward(g, {}, x))).toBe('INVALID_ARGUMENT');
  });

  it('batchnorm training mode normalises with batch statistics and updates running stats as PyTorch does', () => {
    const g: ModelGraph = { format: 'basis.model', version: 1, name: 'bn', input: [2], nodes: [{ op: 'batchnorm', name: 'bn' }] };
    const p = paramsToTensors(initParams(g, createRng(0)));
    const x = tf.tensor([[1, 2], [3, 6], [5, 10]]);
    const r = forward(g, p, x, { training: true });
    // mean (3, 6), biased var (8/3, 32/3), unbiased (4, 16)
    expect(Array.from(r.buffers['bn.running_mean']!.dataSync())).toBeAllclose([0.3, 0.6], { rtol: 1e-6 });
    expect(Array.from(r.buffers['bn.running_var']!.dataSync())).toBeAllclose([0.9 + 0.4, 0.9 + 1.6], { rtol: 1e-6 });
    const y = r.output.arraySync() as number[][];
    expect(y.map((row) => row[0])).toBeAllclose([-2 / Math.sqrt(8 / 3 + 1e-5), 0, 2 / Math.sqrt(8 / 3 + 1e-5)], { rtol: 1e-5 });
    expect(code(() => forward(g, p, tf.tensor([[1, 2]]), { training: true }))).toBe('TOO_SMALL');
  });
});

describe('inferred symmetry specs', () => {
  it('groups follow the activations, norms, pools and residual streams', () => {
    expect(inferSpec(small.mlp).groups['layers.0']!.kind).toBe('positive-monomial');
    expect(Object.keys(inferSpec(small.mlp).groups)).toEqual(['layers.0', 'layers.2']);
    expect(inferSpec(mlp({ width: 4, inputDim: 3, activation: 'tanh' })).groups['layers.0']!.kind).toBe('signed-permutation');
    expect(inferSpec(mlp({ width: 4, inputDim: 3, activation: 'identity' })).groups['layers.0']!.kind).toBe('invertible');
    expect(inferSpec(mlp({ width: 4, inputDim: 3, activation: 'gelu' })).groups['layers.0']!.kind).toBe('permutation');
    const rbf = inferSpec(mlp({ width: 4, inputDim: 3, activation: 'rbf' })).groups['layers.0']!;
    expect(rbf).toMatchObject({ kind: 'signed-permutation', phi: 'abs' });
    const r = inferSpec(small.resmlp);
    expect(r.groups['in']).toMatchObject({ kind: 'positive-monomial', note: 'residual stream tied across blocks.0, blocks.1' });
    expect(r.axes['blocks.1.fc2.weight']).toEqual([{ group: 'in', role: 'out' }, { group: 'blocks.1.fc1', role: 'in' }]);
    const rr = inferSpec(resmlp({ width: 4, inputDim: 3, activation: 'rbf' }));
    expect(rr.groups['in']!.kind).toBe('permutation');
    const m = inferSpec(small.myrtle);
    expect(m.axes['layers.0.weight']).toEqual([{ group: 'layers.0', role: 'perm' }, null, null, null]);
    expect(m.axes['layers.1.weight']).toEqual([{ group: 'layers.0', role: 'out' }]);
    expect(m.groups['layers.3']!.kind).toBe('positive-monomial');
    const t = inferSpec(miniMyrtle(2, { input: [1, 8, 8], activation: 'tanh' }));
    expect(t.groups['layers.0']!.kind).toBe('signed-permutation');
    expect(t.groups['layers.3']!.kind).toBe('permutation'); // max pooling after tanh keeps no sign flips
    const res = inferSpec(small.resnet);
    expect(res.groups['layer2.0.stream']).toMatchObject({ kind: 'positive-monomial' });
    expect(res.axes['layer2.0.downsample.0.weight']![0]).toEqual({ group: 'layer2.0.stream', role: 'perm' });
  });

  const cases: Array<[string, ModelGraph]> = [
    ...(['relu', 'leaky_relu', 'tanh', 'sigmoid', 'identity', 'rbf', 'polynomial', 'gelu'] as const).map(
      (a) => [`mlp ${a}`, mlp({ width: 5, depth: 2, inputDim: 4, classes: 3, activation: a })] as [string, ModelGraph],
    ),
    ['resmlp relu', small.resmlp],
    ['resmlp tanh', resmlp({ width: 5, blocks: 2, inputDim: 4, classes: 3, activation: 'tanh' })],
    ['resmlp rbf', resmlp({ width: 5, blocks: 2, inputDim: 4, classes: 3, activation: 'rbf' })],
    ['resmlp without post-activation', resmlp({ width: 5, blocks: 2, inputDim: 4, classes: 3, postActivation: false })],
    ['minimyrtle', small.myrtle],
    ['minimyrtle tanh', miniMyrtle(2, { input: [1, 8, 8], classes: 3, activation: 'tanh' })],
    ['resnet', small.resnet],
  ];
  for (const [name, g] of cases) {
    it(`${name}: the inferred spec passes verifySpec in float32 (outputs and every feature to 1e-5)`, async () => {
      const params = initParams(g, createRng(11), { scheme: 'pytorch' });
      // non-trivial batchnorm statistics, so the 'perm' roles are exercised
      for (const [k, v] of Object.entries(params)) if (k.endsWith('running_var') || k.endsWith('running_mean')) v.data.forEach((_, i) => (v.data[i] = k.endsWith('var') ? 0.5 + ((i * 7) % 5) / 5 : ((i * 3) % 4) / 4 - 0.4));
      const x = batch(g, 4, 12);
      const { report } = await checkModelSymmetry(g, params, x, { seed: 2, trials: 2 });
      expect(report.ok).toBe(true);
      expect(report.worstOutputError).toBeLessThan(1e-5);
      expect(report.features.length).toBeGreaterThan(2);
    });
  }

  it('a spec with the residual stream untied is caught with NOT_A_SYMMETRY', async () => {
    const g = small.resmlp;
    const params = toFloat64(initParams(g, createRng(1)));
    const spec = inferSpec(g, { features: false });
    // give block 1's output its own group instead of the stream's
    const untied: SymmetrySpec = {
      ...spec,
      groups: { ...spec.groups, rogue: { kind: 'permutation', size: 8 } },
      axes: { ...spec.axes, 'blocks.1.fc2.weight': [{ group: 'rogue', role: 'out' }, { group: 'blocks.1.fc1', role: 'in' }], 'blocks.1.fc2.bias': [{ group: 'rogue', role: 'out' }] },
    };
    const x = batch(g, 4, 3);
    await expect(import('@basis/symmetry').then((m) => m.verifySpec(graphForwardFn(g, x), params, untied, { tol: 1e-5 }))).rejects.toThrow(/group 'rogue'|group 'in'/);
    // and the inferred one really moves the weights while keeping the function
    const moved = act(params, spec, sampleAssignment(spec, createRng(3)));
    expect(moved['in.weight']!.data).not.toEqual(params['in.weight']!.data);
  });
});

describe('transformer', () => {
  const g = transformer({ vocab: 7, seqLen: 3, dim: 8, heads: 2, mlp: 12, classes: 5 });
  const gl = transformer({ vocab: 7, seqLen: 3, dim: 8, heads: 2, mlp: 12, classes: 5, layernorm: true, layers: 2, causal: true });
  const tokens = tf.tensor2d([[0, 3, 6], [2, 2, 5], [6, 1, 0], [4, 4, 4]], [4, 3], 'int32');

  it('shapes, forward, cuts and token validation', () => {
    const d = describeGraph(g);
    expect(d.params.find((p) => p.name === 'embed.weight')!.shape).toEqual([7, 8]);
    expect(d.params.find((p) => p.name === 'blocks.0.attn.mha.q.weight')!.shape).toEqual([8, 8]);
    expect(d.output).toEqual([5]);
    const p = paramsToTensors(initParams(g, createRng(1)));
    tf.tidy(() => {
      const y = forward(g, p, tokens).output;
      expect(y.shape).toEqual([4, 5]);
      for (let l = 0; l < g.nodes.length - 1; l++) {
        const h = forward(g, p, tokens, { to: l }).output;
        expect(Array.from(forward(g, p, h, { from: l }).output.dataSync())).toBeAllclose(Array.from(y.dataSync()), { rtol: 1e-6, atol: 1e-6 });
      }
    });
    expect(code(() => forward(g, p, tf.tensor2d([[0, 1, 7]], [1, 3], 'int32')))).toBe('INVALID_ARGUMENT');
    expect(() => transformer({ vocab: 7, seqLen: 3, dim: 8, heads: 3 })).toThrow(/divide/);
  });

  it('causal attention: later tokens do not change earlier positions', () => {
    const p = paramsToTensors(initParams(gl, createRng(2)));
    const a = forward(gl, p, tf.tensor2d([[1, 2, 3]], [1, 3], 'int32'), { capture: ['blocks.0.attn'] }).captures['blocks.0.attn']!;
    const b = forward(gl, p, tf.tensor2d([[1, 2, 6]], [1, 3], 'int32'), { capture: ['blocks.0.attn'] }).captures['blocks.0.attn']!;
    const av = a.arraySync() as number[][][];
    const bv = b.arraySync() as number[][][];
    expect(av[0]![1]).toBeAllclose(bv[0]![1]!, { atol: 1e-6 });
    expect(relDiff(av[0]![2]!, bv[0]![2]!)).toBeGreaterThan(1e-3);
  });

  it('the stream is one group across blocks (GL without layernorm, permutations with it); heads are block permutations; the spec verifies', async () => {
    const s = inferSpec(g);
    expect(s.groups['embed']).toMatchObject({ kind: 'invertible' });
    expect(s.groups['blocks.0.attn.mha.heads']).toMatchObject({ kind: 'block-permutation', blockSize: 4 });
    expect(s.groups['blocks.0.mlp.fc1']!.kind).toBe('positive-monomial');
    expect(inferSpec(gl).groups['embed']!.kind).toBe('permutation');
    for (const graph of [g, gl]) {
      const { report } = await checkModelSymmetry(graph, initParams(graph, createRng(4)), tokens, { seed: 1 });
      expect(report.ok).toBe(true);
      expect(report.worstOutputError).toBeLessThan(1e-5);
    }
  });
});

function relDiff(a: number[], b: number[]): number {
  let n = 0;
  let d = 0;
  a.forEach((v, i) => {
    n = Math.max(n, Math.abs(v - (b[i] as number)));
    d = Math.max(d, Math.abs(b[i] as number));
  });
  return n / d;
}
