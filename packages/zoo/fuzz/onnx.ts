// Fuzz target of the ONNX reader (decodeOnnx + importOnnx, as loadModel reads an .onnx file):
// samples exported from small zoo models, structure-aware mutations (attributes, dims, operators,
// inputs, node order) re-encoded as valid protobuf, and crafted hostile files (huge declared
// shapes, node floods, deep residual chains, constant-folding bombs, one weight read by many nodes).
import { createRng } from '@basis/tensor';
import { GENERIC_MUTATORS, type FuzzRng, type FuzzTarget, type Mutator } from '@basis/test-utils/fuzz';
import { decodeOnnx, encodeOnnx, exportOnnx, importOnnx, initParams, miniMyrtle, mlp, resnet, transformer, type ModelGraph, type OnnxModel, type OnnxNode } from '../src/index.js';

const generic = (b: Uint8Array, r: FuzzRng) => r.pick(GENERIC_MUTATORS).apply(b, r);

function sample(graph: ModelGraph): Uint8Array {
  return exportOnnx(graph, initParams(graph, createRng(1)));
}

const samples = (): Uint8Array[] => [
  sample(mlp({ width: [6, 5], activation: 'gelu', inputDim: 4, classes: 3 })),
  sample(miniMyrtle(2, { input: [1, 8, 8], classes: 3 })),
  sample(resnet({ widthMultiplier: 1, blocksPerStage: 1, input: [1, 8, 8], classes: 3 })),
  sample(transformer({ vocab: 5, seqLen: 3, dim: 4, heads: 2, mlp: 6, layernorm: true, causal: true, classes: 3 })),
];

const OPS = ['Relu', 'Gemm', 'MatMul', 'Conv', 'Add', 'Mul', 'Reshape', 'Flatten', 'Transpose', 'Softmax', 'Gather', 'Concat', 'Shape', 'Unsqueeze', 'Constant', 'BatchNormalization', 'MaxPool', 'GlobalAveragePool', 'ReduceMean', 'Erf', 'Sqrt', 'Div', 'Pow', 'ConstantOfShape', 'Slice', 'Squeeze', 'Identity', 'LeakyRelu', 'Loop', ''];
const NUMS = [0, 1, -1, 2, 3, -2, 7, 1e9, -1e9, 2 ** 31, 2 ** 53, -(2 ** 53), 0x7fffffff];

/** Edits the decoded model and re-encodes it (valid protobuf, hostile content). */
const structural: Mutator = {
  name: 'onnx-structure',
  apply(b, r) {
    let m: OnnxModel;
    try {
      m = decodeOnnx(b, { maxBytes: 2 ** 24 });
    } catch {
      return generic(b, r);
    }
    const nodes = m.graph.node;
    const node = (): OnnxNode | undefined => (nodes.length === 0 ? undefined : r.pick(nodes));
    const k = r.int(9);
    const n = node();
    if (k === 0 && n !== undefined) n.opType = r.pick(OPS);
    else if (k === 1 && n !== undefined && n.attribute.length > 0) {
      const a = r.pick(n.attribute);
      if (a.ints !== undefined && a.ints.length > 0) a.ints[r.int(a.ints.length)] = r.pick(NUMS);
      else if (a.i !== undefined) a.i = r.pick(NUMS);
      else if (a.f !== undefined) a.f = r.pick([0, -1, 1e30, NaN, Infinity]);
    } else if (k === 2 && m.graph.initializer.length > 0) {
      const t = r.pick(m.graph.initializer);
      if (t.dims.length > 0) t.dims[r.int(t.dims.length)] = r.pick(NUMS.filter((v) => v >= 0));
      else t.dims.push(r.pick([0, 2, 1000]));
    } else if (k === 3 && n !== undefined && n.input.length > 0) {
      const all = [...m.graph.initializer.map((t) => t.name), ...nodes.flatMap((x) => x.output), 'input', 'nope', ''];
      n.input[r.int(n.input.length)] = r.pick(all);
    } else if (k === 4 && nodes.length > 1) nodes.splice(r.int(nodes.length), 1);
    else if (k === 5 && nodes.length > 1) {
      const i = r.int(nodes.length);
      const j = r.int(nodes.length);
      [nodes[i], nodes[j]] = [nodes[j]!, nodes[i]!];
    } else if (k === 6 && n !== undefined) nodes.splice(r.int(nodes.length), 0, { ...n, attribute: [...n.attribute], input: [...n.input], output: [...n.output] });
    else if (k === 7) {
      const v = r.pick([...m.graph.input, ...m.graph.output]);
      if (v.shape !== null && v.shape.length > 0) v.shape[r.int(v.shape.length)] = r.pick([0, 1, 5, 2 ** 31, 'T', null]);
    } else if (k === 8 && m.graph.initializer.length > 0) {
      const t = r.pick(m.graph.initializer);
      if (t.data.length > 0) t.data[r.int(t.data.length)] = r.pick([NaN, Infinity, -Infinity, 1e38, 0]);
    }
    try {
      return encodeOnnx(m);
    } catch {
      return generic(b, r);
    }
  },
};

/** A model with one input [N, d] and the given nodes and initializers. */
function modelWith(nodes: OnnxNode[], inits: OnnxModel['graph']['initializer'], d = 4, out = 'y'): Uint8Array {
  return encodeOnnx({
    irVersion: 7,
    opset: { '': 13 },
    producerName: 'fuzz',
    producerVersion: '',
    graph: { name: 'g', node: nodes, initializer: inits, input: [{ name: 'input', elemType: 1, shape: ['N', d] }], output: [{ name: out, elemType: 1, shape: null }] },
    metadata: {},
  });
}

const node = (opType: string, input: string[], output: string, attribute: OnnxNode['attribute'] = []): OnnxNode => ({ name: output, opType, domain: '', input, output: [output], attribute });

const W4 = { name: 'w', dataType: 1, dims: [4, 4], data: new Float32Array(16).fill(0.1) };

/** A chain of `n` residual blocks y = y + y W: a long fork/join structure. */
function residualChain(n: number): Uint8Array {
  const nodes: OnnxNode[] = [];
  let x = 'input';
  for (let i = 0; i < n; i++) {
    nodes.push(node('MatMul', [x, 'w'], `r${i}`), node('Add', [x, `r${i}`], `a${i}`));
    x = `a${i}`;
  }
  nodes.push(node('Identity', [x], 'y'));
  return modelWith(nodes, [W4]);
}

/** Residual blocks nested `n` deep: every block's body holds the next block. */
function nestedResiduals(n: number): Uint8Array {
  const nodes: OnnxNode[] = [];
  let x = 'input';
  const starts: string[] = [];
  for (let i = 0; i < n; i++) {
    nodes.push(node('MatMul', [x, 'w'], `r${i}`));
    starts.push(x);
    x = `r${i}`;
  }
  for (let i = n - 1; i >= 0; i--) {
    nodes.push(node('Add', [x, starts[i]!], `a${i}`));
    x = `a${i}`;
  }
  nodes.push(node('Identity', [x], 'y'));
  return modelWith(nodes, [W4]);
}

/** Two small constants whose broadcast product is huge. */
function broadcastBomb(side: number): Uint8Array {
  const a = { name: 'a', dataType: 1, dims: [side, 1], data: new Float32Array(side) };
  const b = { name: 'b', dataType: 1, dims: [1, side], data: new Float32Array(side) };
  return modelWith([node('Mul', ['a', 'b'], 'c'), node('Add', ['input', 'c'], 'y')], [a, b]);
}

/** A ConstantOfShape of an enormous shape. */
function constantOfShapeBomb(dims: number[]): Uint8Array {
  const s = { name: 's', dataType: 7, dims: [dims.length], data: Float64Array.from(dims) };
  return modelWith([node('ConstantOfShape', ['s'], 'c'), node('Add', ['input', 'c'], 'y')], [s]);
}

/** One weight read by `n` MatMul nodes (each copy of it is counted). */
function sharedWeight(n: number, d: number): Uint8Array {
  const w = { name: 'w', dataType: 1, dims: [d, d], data: new Float32Array(d * d) };
  const nodes: OnnxNode[] = [];
  let x = 'input';
  for (let i = 0; i < n; i++) {
    nodes.push(node('MatMul', [x, 'w'], `m${i}`));
    x = `m${i}`;
  }
  nodes.push(node('Identity', [x], 'y'));
  return modelWith(nodes, [w], d);
}

/** A tensor declaring far more elements than its bytes hold. */
function hugeDims(dims: number[]): Uint8Array {
  return modelWith([node('Add', ['input', 't'], 'y')], [{ name: 't', dataType: 1, dims, data: new Float32Array(0) }]);
}

/** `n` nodes of nothing. */
function nodeFlood(n: number): Uint8Array {
  const nodes: OnnxNode[] = [];
  let x = 'input';
  for (let i = 0; i < n; i++) {
    nodes.push(node('Relu', [x], `r${i}`));
    x = `r${i}`;
  }
  nodes[nodes.length - 1]!.output[0] = 'y';
  return modelWith(nodes, []);
}

export const onnxTarget: FuzzTarget = {
  format: 'onnx',
  samples,
  mutators: [structural],
  crafted: [
    { name: 'onnx-residual-chain', make: (r) => residualChain(r.range(500, 5000)) },
    { name: 'onnx-nested-residuals', make: (r) => nestedResiduals(r.range(50, 5000)) },
    { name: 'onnx-broadcast-bomb', make: (r) => broadcastBomb(r.range(2000, 40_000)) },
    { name: 'onnx-constant-of-shape-bomb', make: (r) => constantOfShapeBomb([r.pick([1e6, 2 ** 31, 1e12]), r.pick([1, 1000, 1e6])]) },
    { name: 'onnx-shared-weight', make: (r) => sharedWeight(r.range(100, 3000), r.pick([64, 128, 256])) },
    { name: 'onnx-huge-dims', make: (r) => hugeDims(Array.from({ length: r.range(1, 6) }, () => r.pick([2 ** 31, 2 ** 40, 1e6, 0, 1]))) },
    { name: 'onnx-node-flood', make: (r) => nodeFlood(r.range(5000, 50_000)) },
  ],
  read: (b, maxBytes) => importOnnx(b, { maxBytes }),
};
