// ONNX in and out: exact round trips of every zoo architecture (export, import: the same parameters
// bit for bit and the same outputs), the exported files run in ONNX Runtime (onnxruntime-web) with
// matching outputs, PyTorch-made files (torch.onnx.export, opset 13) import with PyTorch's logits,
// their symmetry specs verify, and unsupported operators, truncated and garbage files are refused
// with BAD_FILE naming the problem.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import { BasisError, createRng, readNpy, type NdArray } from '@basis/tensor';
import { checkModelSymmetry } from '../graph/check.js';
import { describeGraph, type GraphNode, type ModelGraph } from '../graph/ir.js';
import { forward } from '../graph/forward.js';
import { initParams, paramsToTensors, type ParamDict } from '../graph/params.js';
import { miniMyrtle, mlp, resmlp, resnet, transformer } from '../graph/architectures.js';
import { decodeOnnx, encodeOnnx, exportOnnx, importOnnx, type OnnxModel } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  ort.env.wasm.numThreads = 1;
});

const testdata = (name: string): Uint8Array => new Uint8Array(readFileSync(fileURLToPath(new URL(`./testdata/${name}`, import.meta.url))));

/** Seeded parameters with batchnorm/layernorm buffers and affine parameters moved off their initial values. */
function paramsOf(graph: ModelGraph, seed = 3): ParamDict {
  const rng = createRng(seed);
  const p = initParams(graph, rng);
  for (const [k, v] of Object.entries(p)) {
    if (/running_var$/.test(k) || (/\.weight$/.test(k) && v.shape.length === 1)) v.data.forEach((_, i) => (v.data[i] = 0.5 + rng.uniform()));
    else if (/running_mean$/.test(k) || (/\.bias$/.test(k) && v.shape.length === 1)) v.data.forEach((_, i) => (v.data[i] = rng.uniformRange(-0.3, 0.3)));
  }
  return p;
}

function inputOf(graph: ModelGraph, n: number, seed = 5): tf.Tensor {
  const rng = createRng(seed);
  const size = graph.input.reduce((a, b) => a * b, 1);
  if (graph.tokens !== undefined) return tf.tensor(Int32Array.from({ length: n * size }, () => rng.int(graph.tokens!.vocab)), [n, ...graph.input], 'int32');
  return tf.tensor(Float32Array.from({ length: n * size }, () => rng.normal()), [n, ...graph.input], 'float32');
}

function run(graph: ModelGraph, params: ParamDict, x: tf.Tensor): Float32Array {
  return tf.tidy(() => {
    const t = paramsToTensors(params);
    return forward(graph, t, x).output.dataSync() as Float32Array;
  });
}

/** [name, op] of every node, residual bodies and shortcuts inlined. */
function flat(nodes: readonly GraphNode[]): string[] {
  return nodes.flatMap((n) => (n.op === 'residual' ? [`${n.name}:residual`, ...flat(n.body), '|', ...flat(n.shortcut ?? []), ';'] : [`${n.name}:${n.op}`]));
}

function maxRel(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i] as number));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs((got[i] as number) - (want[i] as number)) / scale);
  return worst;
}

async function runOrt(bytes: Uint8Array, graph: ModelGraph, x: tf.Tensor): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  const data = x.dataSync();
  const input =
    graph.tokens !== undefined
      ? new ort.Tensor('int64', BigInt64Array.from(Array.from(data, (v) => BigInt(v))), x.shape)
      : new ort.Tensor('float32', Float32Array.from(data), x.shape);
  const out = await session.run({ [session.inputNames[0] as string]: input });
  return out[session.outputNames[0] as string]!.data as Float32Array;
}

const ZOO: [string, ModelGraph][] = [
  ['mlp, unequal widths, gelu', mlp({ width: [16, 12], activation: 'gelu', inputDim: 20, classes: 5 })],
  ['mlp, leaky_relu', mlp({ width: [9, 7, 5], activation: { fn: 'leaky_relu', slope: 0.2 }, inputDim: 6, classes: 3 })],
  ['mlp, silu', mlp({ width: 8, depth: 2, activation: 'silu', inputDim: 6, classes: 3 })],
  ['mlp, softplus', mlp({ width: 8, depth: 1, activation: 'softplus', inputDim: 6, classes: 3 })],
  ['mlp, tanh', mlp({ width: 8, depth: 1, activation: 'tanh', inputDim: 6, classes: 3 })],
  ['mlp, sigmoid', mlp({ width: 8, depth: 1, activation: 'sigmoid', inputDim: 6, classes: 3 })],
  ['mlp, rbf', mlp({ width: 8, depth: 1, activation: 'rbf', inputDim: 6, classes: 3 })],
  ['mlp, polynomial degree 3', mlp({ width: 8, depth: 1, activation: { fn: 'polynomial', degree: 3 }, inputDim: 6, classes: 3 })],
  ['resmlp', resmlp({ width: 12, blocks: 2, hidden: 10, inputDim: 8, classes: 4 })],
  ['minimyrtle (conv, batchnorm, maxpool, global average pool)', miniMyrtle(3, { input: [1, 12, 12], classes: 4 })],
  ['resnet (projection shortcuts)', resnet({ widthMultiplier: 1, blocksPerStage: 1, input: [2, 8, 8], classes: 4 })],
  ['transformer (layernorm, causal)', transformer({ vocab: 9, seqLen: 4, dim: 8, heads: 2, mlp: 12, layers: 2, layernorm: true, causal: true, classes: 5 })],
  ['transformer (no layernorm, gelu)', transformer({ vocab: 7, seqLen: 3, dim: 8, heads: 4, layers: 1, classes: 7, activation: 'gelu' })],
];

const extra: [string, ModelGraph][] = [
  [
    'avgpool, flatten, batchnorm on vectors, layernorm on vectors',
    {
      format: 'basis.model',
      version: 1,
      name: 'misc',
      input: [2, 8, 8],
      nodes: [
        { op: 'conv2d', name: 'c', filters: 3, kernel: 3, stride: 2, padding: 1 },
        { op: 'avgpool', name: 'p', size: 2 },
        { op: 'flatten', name: 'f' },
        { op: 'dense', name: 'd', units: 6, bias: false },
        { op: 'batchnorm', name: 'bn', eps: 1e-3 },
        { op: 'activation', name: 'a', fn: 'relu' },
        { op: 'dense', name: 'e', units: 5 },
        { op: 'layernorm', name: 'ln' },
        { op: 'dense', name: 'out', units: 3 },
      ],
    },
  ],
  [
    'overlapping and padded pools (nn.MaxPool2d(3, 2, 1), nn.AvgPool2d(2, stride=1))',
    {
      format: 'basis.model',
      version: 1,
      name: 'pools',
      input: [2, 9, 9],
      nodes: [
        { op: 'conv2d', name: 'c', filters: 3, kernel: 3 },
        { op: 'maxpool', name: 'mp', size: 3, stride: 2, padding: 1 },
        { op: 'avgpool', name: 'ap', size: 2, stride: 1 },
        { op: 'flatten', name: 'f' },
        { op: 'dense', name: 'out', units: 3 },
      ],
    },
  ],
];

describe('round trip: exportOnnx then importOnnx', () => {
  for (const [label, graph] of [...ZOO, ...extra]) {
    it(label, async () => {
      const params = paramsOf(graph);
      const bytes = exportOnnx(graph, params);
      const back = importOnnx(bytes);
      // the same nodes, names and parameters, bit for bit
      expect(flat(back.graph.nodes).filter((s) => !s.endsWith(':residual'))).toEqual(flat(graph.nodes).filter((s) => !s.endsWith(':residual')));
      expect(Object.keys(back.params).sort()).toEqual(Object.keys(params).sort());
      for (const [k, v] of Object.entries(params)) {
        expect(back.params[k]!.shape, k).toEqual(v.shape);
        expect(back.params[k]!.data, k).toEqual(Float32Array.from(v.data));
      }
      // identical outputs
      const x = inputOf(graph, 6);
      expect(run(back.graph, back.params, x)).toEqual(run(graph, params, x));
      // a second round trip writes the same bytes
      expect(exportOnnx(back.graph, back.params)).toEqual(bytes);
      // ONNX Runtime runs the file with matching outputs
      const ortOut = await runOrt(bytes, graph, x);
      expect(maxRel(ortOut, run(graph, params, x))).toBeLessThan(1e-5);
      x.dispose();
    });
  }

  it('pool strides and padding are validated by the IR', () => {
    const g = (node: GraphNode): ModelGraph => ({ format: 'basis.model', version: 1, name: 'p', input: [1, 6, 6], nodes: [node] });
    expect(describeGraph(g({ op: 'maxpool', name: 'm', size: 3, stride: 2, padding: 1 })).output).toEqual([1, 3, 3]);
    expect(describeGraph(g({ op: 'avgpool', name: 'a', size: 2, stride: 1 })).output).toEqual([1, 5, 5]);
    expect(() => describeGraph(g({ op: 'maxpool', name: 'm', size: 3, padding: 2 }))).toThrow(/padding: must be an integer in 0\.\.1/);
    expect(() => describeGraph(g({ op: 'avgpool', name: 'a', size: 2, padding: 1 } as GraphNode))).toThrow(/avgpool takes no padding/);
    expect(() => describeGraph(g({ op: 'maxpool', name: 'm', size: 2, stride: 0 }))).toThrow(/stride: must be a positive integer/);
  });

  it('residual blocks keep their names (body prefixes or the Add node name)', () => {
    const g = resnet({ widthMultiplier: 1, blocksPerStage: 1, input: [1, 8, 8], classes: 3 });
    const back = importOnnx(exportOnnx(g, paramsOf(g))).graph;
    expect(back.nodes.filter((n) => n.op === 'residual').map((n) => n.name)).toEqual(g.nodes.filter((n) => n.op === 'residual').map((n) => n.name));
  });

  it('decodeOnnx and encodeOnnx are inverse on the fields basis uses', () => {
    const g = miniMyrtle(2, { input: [1, 8, 8], classes: 3 });
    const bytes = exportOnnx(g, paramsOf(g));
    const m = decodeOnnx(bytes);
    expect(m.opset['']).toBe(13);
    expect(m.producerName).toBe('basis');
    expect(encodeOnnx(m)).toEqual(bytes);
  });

  it('a final Softmax is dropped on import (logits) and written back on export', async () => {
    const g = mlp({ width: 6, depth: 1, inputDim: 4, classes: 3 });
    const params = paramsOf(g);
    const withSoftmax = exportOnnx(g, params, { outputSoftmax: true });
    const back = importOnnx(withSoftmax);
    expect(back.report.outputSoftmax).toBe(true);
    expect(back.report.dropped.join()).toMatch(/Softmax/);
    const x = inputOf(g, 4);
    expect(run(back.graph, back.params, x)).toEqual(run(g, params, x));
    const again = exportOnnx(back.graph, back.params);
    const probs = await runOrt(again, g, x);
    const logits = tf.tidy(() => tf.softmax(tf.tensor(run(g, params, x), [4, 3])).dataSync());
    expect(maxRel(probs, logits)).toBeLessThan(1e-5);
  });
});

/** Reads an .npy test file as numbers. */
function npy(name: string): NdArray {
  return readNpy(testdata(name));
}

describe('PyTorch-made ONNX files (torch.onnx.export, opset 13)', () => {
  it('the zoo transformer (attention pattern, decomposed layernorm, causal mask): PyTorch logits to 1e-5, zoo names', async () => {
    const { graph, params, report } = importOnnx(testdata('transformer.onnx'));
    const zoo = transformer({ vocab: 11, seqLen: 4, dim: 8, heads: 2, mlp: 16, layers: 2, layernorm: true, causal: true, classes: 7 });
    expect(Object.keys(params).sort()).toEqual(describeGraph(zoo).params.map((p) => p.name).sort());
    // the same layers under the same names (the parameter-free token and activation nodes take PyTorch's node names)
    const layers = (nodes: readonly GraphNode[]) => flat(nodes).filter((s) => !s.endsWith(':residual')).map((s) => s.replace(/^.*:(token|activation)$/, '$1'));
    expect(layers(graph.nodes)).toEqual(layers(zoo.nodes));
    expect(report.folded).toBeGreaterThan(0);
    const x = npy('transformer.x.npy');
    const want = npy('transformer.y.npy');
    const xt = tf.tensor(Int32Array.from(x.data as BigInt64Array, (v) => Number(v)), x.shape, 'int32');
    expect(maxRel(run(graph, params, xt), want.data as Float32Array)).toBeLessThan(1e-5);
    const check = await checkModelSymmetry(graph, params, xt);
    expect(check.report.ok).toBe(true);
  });

  it('an MLP with dynamic batch (Shape/Gather/Concat flatten), LayerNorm, GELU, SiLU, LeakyReLU, Softplus, Tanh, Sigmoid, Softmax', async () => {
    const { graph, params, report } = importOnnx(testdata('acts.onnx'));
    const acts = graph.nodes.filter((n): n is Extract<GraphNode, { op: 'activation' }> => n.op === 'activation').map((n) => (n.fn === 'leaky_relu' ? `${n.fn}:${n.slope}` : n.fn));
    expect(acts).toEqual(['gelu', 'silu', 'leaky_relu:0.2', 'softplus', 'tanh', 'sigmoid']);
    expect(graph.nodes.map((n) => n.op)).toContain('layernorm');
    expect(report.outputSoftmax).toBe(true);
    const x = npy('acts.x.npy');
    const want = npy('acts.y.npy');
    const xt = tf.tensor(x.data as Float32Array, x.shape);
    const probs = tf.tidy(() => tf.softmax(tf.tensor(run(graph, params, xt), [x.shape[0] as number, 5])).dataSync());
    expect(maxRel(probs, want.data as Float32Array)).toBeLessThan(1e-5);
    const check = await checkModelSymmetry(graph, params, xt);
    expect(check.report.ok).toBe(true);
  });
});

describe('PyTorch-made pools', () => {
  it('a ResNet stem with nn.MaxPool2d(3, 2, 1) and nn.AvgPool2d(2, stride=1): PyTorch logits to 1e-5', async () => {
    const { graph, params } = importOnnx(testdata('stem.onnx'));
    expect(graph.nodes.filter((n) => n.op === 'maxpool' || n.op === 'avgpool').map((n) => ({ ...n, name: '' }))).toEqual([
      { op: 'maxpool', name: '', size: 3, stride: 2, padding: 1 },
      { op: 'avgpool', name: '', size: 2, stride: 1 },
    ]);
    const x = npy('stem.x.npy');
    const want = npy('stem.y.npy');
    const xt = tf.tensor(x.data as Float32Array, x.shape);
    expect(maxRel(run(graph, params, xt), want.data as Float32Array)).toBeLessThan(1e-5);
    const check = await checkModelSymmetry(graph, params, xt);
    expect(check.report.ok).toBe(true);
  });
});

describe('operators of newer opsets', () => {
  it('LayerNormalization (opset 17) and Gelu (opset 20) read as layernorm and gelu', () => {
    const g = mlp({ width: 6, depth: 1, activation: 'gelu', inputDim: 4, classes: 3 });
    const graph: ModelGraph = { ...g, nodes: [g.nodes[0]!, { op: 'layernorm', name: 'ln', eps: 1e-5 }, g.nodes[1]!, g.nodes[2]!] };
    const params = paramsOf(graph);
    const f32 = (name: string, dims: number[]) => ({ name, dataType: 1, dims, data: Float32Array.from(params[name]!.data) });
    const node = (opType: string, input: string[], output: string, attribute: OnnxModel['graph']['node'][number]['attribute'] = []) => ({ name: output, opType, domain: '', input, output: [output], attribute });
    const m: OnnxModel = {
      irVersion: 9,
      opset: { '': 20 },
      producerName: 'hand',
      producerVersion: '',
      graph: {
        name: 'g',
        node: [
          node('Gemm', ['input', 'layers.0.weight', 'layers.0.bias'], 'layers.0', [{ name: 'transB', type: 2, i: 1 }]),
          node('LayerNormalization', ['layers.0', 'ln.weight', 'ln.bias'], 'ln', [{ name: 'epsilon', type: 1, f: 1e-5 }, { name: 'axis', type: 2, i: -1 }]),
          node('Gelu', ['ln'], 'layers.1'),
          node('Gemm', ['layers.1', 'layers.2.weight', 'layers.2.bias'], 'logits', [{ name: 'transB', type: 2, i: 1 }]),
        ],
        initializer: [f32('layers.0.weight', [6, 4]), f32('layers.0.bias', [6]), f32('ln.weight', [6]), f32('ln.bias', [6]), f32('layers.2.weight', [3, 6]), f32('layers.2.bias', [3])],
        input: [{ name: 'input', elemType: 1, shape: ['N', 4] }],
        output: [{ name: 'logits', elemType: 1, shape: ['N', 3] }],
      },
      metadata: {},
    };
    const back = importOnnx(encodeOnnx(m));
    expect(back.graph.nodes.map((n) => `${n.name}:${n.op}${n.op === 'activation' ? `:${n.fn}` : ''}`)).toEqual(['layers.0:dense', 'ln:layernorm', 'layers.1:activation:gelu', 'layers.2:dense']);
    const x = inputOf(graph, 5);
    expect(run(back.graph, back.params, x)).toEqual(run(graph, params, x));
  });
});

function badFile(f: () => unknown, pattern?: RegExp): BasisError {
  try {
    f();
  } catch (e) {
    if (!(e instanceof BasisError) || e.code !== 'BAD_FILE') throw new Error(`expected BAD_FILE, got ${String(e)}`, { cause: e });
    if (pattern !== undefined) expect(e.message).toMatch(pattern);
    return e;
  }
  throw new Error('expected BAD_FILE, but the read succeeded');
}

/** A small valid model to edit. */
function baseModel(): OnnxModel {
  const g = miniMyrtle(2, { input: [1, 8, 8], classes: 3 });
  return decodeOnnx(exportOnnx(g, paramsOf(g)));
}

describe('refusals', () => {
  it('an unsupported operator names the node, its operator and the nearest supported form', () => {
    const m = baseModel();
    const conv = m.graph.node.find((n) => n.opType === 'Conv')!;
    conv.attribute.push({ name: 'group', type: 2, i: 2 });
    conv.attribute = conv.attribute.filter((a, i, all) => a.name !== 'group' || i === all.length - 1);
    const e = badFile(() => importOnnx(encodeOnnx(m)), /node 'layers\.0' \(Conv\): a grouped convolution \(group = 2\).*nearest supported form: Conv with group = 1/);
    expect(e.details).toMatchObject({ node: 'layers.0', opType: 'Conv', unsupported: true });
    const m2 = baseModel();
    const relu = m2.graph.node.find((n) => n.opType === 'Relu')!;
    relu.opType = 'HardSwish';
    badFile(() => importOnnx(encodeOnnx(m2)), /\(HardSwish\).*nearest supported form: Silu/);
    const m3 = baseModel();
    m3.graph.node.find((n) => n.opType === 'MaxPool')!.opType = 'Resize';
    badFile(() => importOnnx(encodeOnnx(m3)), /\(Resize\).*nearest supported form/);
  });

  it('an elementwise function that is no activation of the IR is refused', () => {
    const m = baseModel();
    const relu = m.graph.node.find((n) => n.opType === 'Relu')!;
    relu.opType = 'Exp';
    badFile(() => importOnnx(encodeOnnx(m)), /elementwise function \(Exp\).*none of relu/);
  });

  it('truncated, garbage and empty files are BAD_FILE', () => {
    const bytes = exportOnnx(mlp({ width: 4, depth: 1, inputDim: 3, classes: 2 }), paramsOf(mlp({ width: 4, depth: 1, inputDim: 3, classes: 2 })));
    for (const n of [1, 7, Math.floor(bytes.length / 2), bytes.length - 1]) badFile(() => importOnnx(bytes.slice(0, n)), /not a valid ONNX file|ONNX import/);
    badFile(() => importOnnx(new Uint8Array(0)), /empty/);
    const rng = createRng(1);
    for (let k = 0; k < 20; k++) badFile(() => importOnnx(Uint8Array.from({ length: 64 + k * 13 }, () => rng.int(256))));
    badFile(() => importOnnx(new TextEncoder().encode('{"format": "basis.model"}')));
  });

  it('decoding is bounded by maxBytes', () => {
    const g = mlp({ width: 64, depth: 1, inputDim: 64, classes: 2 });
    const bytes = exportOnnx(g, paramsOf(g));
    badFile(() => decodeOnnx(bytes, { maxBytes: 4096 }), /maxBytes/);
    expect(decodeOnnx(bytes, { maxBytes: 1 << 20 }).graph.node.length).toBeGreaterThan(0);
  });

  it('external weight files and models with several inputs or outputs are refused', () => {
    const m = baseModel();
    m.graph.input.push({ name: 'extra', elemType: 1, shape: ['N', 3] });
    badFile(() => importOnnx(encodeOnnx(m)), /2 inputs/);
    const m2 = baseModel();
    m2.graph.output.push({ name: m2.graph.node[0]!.output[0]!, elemType: 1, shape: null });
    badFile(() => importOnnx(encodeOnnx(m2)), /2 outputs/);
  });
});
