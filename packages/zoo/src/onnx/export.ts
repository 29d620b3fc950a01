// basis model graph IR -> ONNX (opset 13, which every ONNX Runtime and Netron read). Parameters
// become initializers under their basis (PyTorch-style) names; each IR node becomes the ONNX
// operators PyTorch would export for the equivalent module, with the IR node's name on the last of
// them, so `importOnnx` reads the file back to the same graph and parameters.
import { BasisError } from '@basis/tensor';
import { describeGraph, type GraphNode, type ModelGraph } from '../graph/ir.js';
import { checkGraphParams } from '../graph/params.js';
import { encodeOnnx, ONNX_DTYPES, type OnnxAttribute, type OnnxModel, type OnnxNode, type OnnxTensor } from './proto.js';

/**
 * Options of {@link exportOnnx}.
 *
 * @example
 * ```ts
 * exportOnnx(graph, params, { outputSoftmax: true } satisfies ExportOnnxOptions);
 * ```
 */
export interface ExportOnnxOptions {
  /**
   * Append a Softmax to the logits (default: only when the graph was imported from an ONNX file
   * that ended with one, `graph.meta.outputSoftmax`).
   */
  outputSoftmax?: boolean;
  /** Name of the input tensor (default `input`). */
  inputName?: string;
  /** Name of the output tensor (default `logits`, or `probabilities` after a Softmax). */
  outputName?: string;
}

/**
 * The ONNX opset the exporter writes (13: read by every ONNX Runtime release since 1.6 and by Netron).
 *
 * @example
 * ```ts
 * decodeOnnx(exportOnnx(graph, params)).opset['']; // ONNX_EXPORT_OPSET
 * ```
 */
export const ONNX_EXPORT_OPSET = 13;

const aInt = (name: string, i: number): OnnxAttribute => ({ name, type: 2, i });
const aInts = (name: string, ints: number[]): OnnxAttribute => ({ name, type: 7, ints });
const aFloat = (name: string, f: number): OnnxAttribute => ({ name, type: 1, f });

class Builder {
  nodes: OnnxNode[] = [];
  inits: OnnxTensor[] = [];
  private k = 0;
  constructor(private readonly params: Readonly<Record<string, { shape: readonly number[]; data: ArrayLike<number> }>>) {}

  tmp(): string {
    return `t${this.k++}`;
  }

  /** A parameter as an initializer (once), by its basis name. */
  param(name: string): string {
    if (!this.inits.some((t) => t.name === name)) {
      const p = this.params[name];
      if (p === undefined) throw new BasisError('INVALID_ARGUMENT', `parameter '${name}' is missing`);
      this.inits.push({ name, dataType: ONNX_DTYPES.FLOAT, dims: [...p.shape], data: Float32Array.from(p.data) });
    }
    return name;
  }

  floatConst(values: number[] | Float32Array, dims: number[]): string {
    const name = `onnx::const_${this.k++}`;
    this.inits.push({ name, dataType: ONNX_DTYPES.FLOAT, dims, data: Float32Array.from(values) });
    return name;
  }

  intConst(values: number[], dims: number[]): string {
    const name = `onnx::const_${this.k++}`;
    this.inits.push({ name, dataType: ONNX_DTYPES.INT64, dims, data: Float64Array.from(values) });
    return name;
  }

  op(opType: string, inputs: string[], attrs: OnnxAttribute[] = [], name = '', output?: string): string {
    const out = output ?? this.tmp();
    this.nodes.push({ name: name === '' ? `${opType}_${this.nodes.length}` : name, opType, domain: '', input: inputs, output: [out], attribute: attrs });
    return out;
  }

  /** `x Wᵀ (+ b)` for a weight [out, in] on the last axis of a sequence: MatMul with the transposed weight, then Add. */
  linear3(x: string, w: string, b: string | null, name: string): string {
    const wt = this.op('Transpose', [this.param(w)], [aInts('perm', [1, 0])], `${name}/weight.T`);
    const y = this.op('MatMul', [x, wt], [], b === null ? name : `${name}/MatMul`);
    return b === null ? y : this.op('Add', [y, this.param(b)], [], name);
  }
}

function emitActivation(b: Builder, node: Extract<GraphNode, { op: 'activation' }>, x: string): string {
  const n = node.name;
  switch (node.fn) {
    case 'relu':
      return b.op('Relu', [x], [], n);
    case 'leaky_relu':
      return b.op('LeakyRelu', [x], [aFloat('alpha', node.slope ?? 0.01)], n);
    case 'sigmoid':
      return b.op('Sigmoid', [x], [], n);
    case 'tanh':
      return b.op('Tanh', [x], [], n);
    case 'softplus':
      return b.op('Softplus', [x], [], n);
    case 'identity':
      return b.op('Identity', [x], [], n);
    case 'gelu': {
      // as PyTorch exports nn.GELU() at opset 13: x * 0.5 * (1 + erf(x / sqrt 2))
      const d = b.op('Div', [x, b.floatConst([Math.SQRT2], [])], [], `${n}/Div`);
      const e = b.op('Erf', [d], [], `${n}/Erf`);
      const a = b.op('Add', [e, b.floatConst([1], [])], [], `${n}/Add`);
      const m = b.op('Mul', [x, a], [], `${n}/Mul`);
      return b.op('Mul', [m, b.floatConst([0.5], [])], [], n);
    }
    case 'silu': {
      const s = b.op('Sigmoid', [x], [], `${n}/Sigmoid`);
      return b.op('Mul', [x, s], [], n);
    }
    case 'rbf': {
      const sq = b.op('Mul', [x, x], [], `${n}/Square`);
      const h = b.op('Mul', [sq, b.floatConst([-0.5], [])], [], `${n}/Half`);
      const e = b.op('Exp', [h], [], `${n}/Exp`);
      return b.op('Mul', [e, b.floatConst([1 / Math.sqrt(2 * Math.PI)], [])], [], n);
    }
    case 'polynomial':
      return b.op('Pow', [x, b.floatConst([node.degree ?? 2], [])], [], n);
  }
}

function emit(b: Builder, nodes: readonly GraphNode[], x0: string, shapes: ReadonlyMap<string, readonly number[]>, inShape: readonly number[]): string {
  let x = x0;
  let shape = inShape;
  for (const node of nodes) {
    const n = node.name;
    const p = (s: string): string => b.param(`${n}.${s}`);
    switch (node.op) {
      case 'dense':
        if (shape.length === 1) x = b.op('Gemm', node.bias === false ? [x, p('weight')] : [x, p('weight'), p('bias')], [aInt('transB', 1)], n);
        else x = b.linear3(x, `${n}.weight`, node.bias === false ? null : `${n}.bias`, n);
        break;
      case 'conv2d': {
        const k = node.kernel;
        const pad = node.padding ?? 'same';
        const padN = pad === 'same' ? (k - 1) / 2 : pad === 'valid' ? 0 : pad;
        const s = node.stride ?? 1;
        x = b.op('Conv', node.bias === false ? [x, p('weight')] : [x, p('weight'), p('bias')], [aInts('dilations', [1, 1]), aInt('group', 1), aInts('kernel_shape', [k, k]), aInts('pads', [padN, padN, padN, padN]), aInts('strides', [s, s])], n);
        break;
      }
      case 'batchnorm':
        x = b.op('BatchNormalization', [x, p('weight'), p('bias'), p('running_mean'), p('running_var')], [aFloat('epsilon', node.eps ?? 1e-5), aFloat('momentum', 1 - (node.momentum ?? 0.1))], n);
        break;
      case 'layernorm': {
        // as PyTorch exports nn.LayerNorm below opset 17
        const m = b.op('ReduceMean', [x], [aInts('axes', [-1]), aInt('keepdims', 1)], `${n}/ReduceMean`);
        const d = b.op('Sub', [x, m], [], `${n}/Sub`);
        const sq = b.op('Pow', [d, b.floatConst([2], [])], [], `${n}/Pow`);
        const v = b.op('ReduceMean', [sq], [aInts('axes', [-1]), aInt('keepdims', 1)], `${n}/ReduceMean_1`);
        const ve = b.op('Add', [v, b.floatConst([node.eps ?? 1e-5], [])], [], `${n}/Add`);
        const sd = b.op('Sqrt', [ve], [], `${n}/Sqrt`);
        const z = b.op('Div', [d, sd], [], `${n}/Div`);
        const y = b.op('Mul', [z, p('weight')], [], `${n}/Mul`);
        x = b.op('Add', [y, p('bias')], [], n);
        break;
      }
      case 'activation':
        x = emitActivation(b, node, x);
        break;
      case 'maxpool':
      case 'avgpool': {
        const st = node.stride ?? node.size;
        const pad = node.op === 'maxpool' ? (node.padding ?? 0) : 0;
        x = b.op(node.op === 'maxpool' ? 'MaxPool' : 'AveragePool', [x], [aInts('kernel_shape', [node.size, node.size]), aInts('pads', [pad, pad, pad, pad]), aInts('strides', [st, st])], n);
        break;
      }
      case 'globalavgpool':
        if (shape.length === 3) {
          const g = b.op('GlobalAveragePool', [x], [], n);
          x = b.op('Flatten', [g], [aInt('axis', 1)], `${n}/Flatten`);
        } else x = b.op('ReduceMean', [x], [aInts('axes', [1]), aInt('keepdims', 0)], n);
        break;
      case 'flatten':
        x = b.op('Flatten', [x], [aInt('axis', 1)], n);
        break;
      case 'transform': {
        const wt = b.op('Transpose', [p('weight')], [aInts('perm', [1, 0])], `${n}/weight.T`);
        x = b.op('MatMul', [x, wt], [], n);
        break;
      }
      case 'embedding':
        x = b.op('Gather', [p('weight'), x], [aInt('axis', 0)], n);
        break;
      case 'positional':
        x = b.op('Add', [x, p('weight')], [], n);
        break;
      case 'token':
        x = b.op('Gather', [x, b.intConst([node.index], [])], [aInt('axis', 1)], n);
        break;
      case 'attention': {
        const [T, d] = shape as [number, number];
        const h = node.heads;
        const dh = d / h;
        const split = (m: string, perm: number[]): string => {
          const y = b.linear3(x, `${n}.${m}.weight`, `${n}.${m}.bias`, `${n}.${m}`);
          const r = b.op('Reshape', [y, b.intConst([0, T, h, dh], [4])], [], `${n}/${m}/Reshape`);
          return b.op('Transpose', [r], [aInts('perm', perm)], `${n}/${m}/Transpose`);
        };
        const q = split('q', [0, 2, 1, 3]);
        const k = split('k', [0, 2, 3, 1]);
        const v = split('v', [0, 2, 1, 3]);
        let s = b.op('MatMul', [q, k], [], `${n}/scores`);
        s = b.op('Div', [s, b.floatConst([Math.sqrt(dh)], [])], [], `${n}/scale`);
        if (node.causal === true) {
          const mask = new Float32Array(T * T);
          for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e9;
          s = b.op('Add', [s, b.floatConst(mask, [T, T])], [], `${n}/mask`);
        }
        const att = b.op('Softmax', [s], [aInt('axis', -1)], `${n}/Softmax`);
        const av = b.op('MatMul', [att, v], [], `${n}/weighted`);
        const tr = b.op('Transpose', [av], [aInts('perm', [0, 2, 1, 3])], `${n}/merge`);
        const rs = b.op('Reshape', [tr, b.intConst([0, T, d], [3])], [], `${n}/merge/Reshape`);
        x = b.linear3(rs, `${n}.o.weight`, `${n}.o.bias`, `${n}.o`);
        break;
      }
      case 'residual': {
        const body = emit(b, node.body, x, shapes, shape);
        const short = node.shortcut === undefined || node.shortcut.length === 0 ? x : emit(b, node.shortcut, x, shapes, shape);
        x = b.op('Add', [body, short], [], n);
        break;
      }
    }
    shape = shapes.get(n) ?? shape;
  }
  return x;
}

/**
 * Writes a model (any zoo architecture, or one imported from ONNX or PyTorch) as an ONNX file
 * (opset 13): parameters become initializers under their names, each node the operators PyTorch
 * exports for the same module (Gemm, Conv, BatchNormalization, the opset-13 decompositions of
 * layer norm, GELU and SiLU, the attention block as MatMul/Reshape/Transpose/Softmax). The batch
 * axis of the input is dynamic (`N`). The file runs in ONNX Runtime and reads back with
 * {@link importOnnx} to the same parameters and outputs. Parameters are checked against the graph
 * first (SHAPE_MISMATCH / INVALID_ARGUMENT / NON_FINITE_INPUT naming the parameter).
 *
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * const m = await loadModel('runs/mlp/seed-0');
 * await writeFile('mlp.onnx', exportOnnx(m.graph, m.params));
 * ```
 */
export function exportOnnx(graph: ModelGraph, params: Readonly<Record<string, { shape: readonly number[]; data: ArrayLike<number> }>>, opts: ExportOnnxOptions = {}): Uint8Array {
  const desc = describeGraph(graph);
  checkGraphParams(graph, params);
  const b = new Builder(params);
  const shapes = new Map(desc.nodes.map((n) => [n.name, n.shape]));
  const inputName = opts.inputName ?? 'input';
  const meta = graph.meta ?? {};
  const softmax = opts.outputSoftmax ?? (meta['outputSoftmax'] === 'Softmax' || meta['outputSoftmax'] === 'LogSoftmax' || meta['outputSoftmax'] === true);
  const softmaxOp = meta['outputSoftmax'] === 'LogSoftmax' && opts.outputSoftmax === undefined ? 'LogSoftmax' : 'Softmax';
  const outputName = opts.outputName ?? (softmax ? 'probabilities' : 'logits');
  if (inputName === outputName) throw new BasisError('INVALID_ARGUMENT', `the input and output names must differ, both are '${inputName}'`);
  let y = emit(b, graph.nodes, inputName, shapes, graph.input);
  if (softmax) y = b.op(softmaxOp, [y], [aInt('axis', -1)], 'output.softmax');
  // the last node writes the graph output
  const last = b.nodes[b.nodes.length - 1];
  if (last === undefined || last.output[0] !== y) throw new BasisError('INVALID_ARGUMENT', `${graph.name} computes nothing (its output is its input)`);
  last.output[0] = outputName;
  const model: OnnxModel = {
    irVersion: 7,
    opset: { '': ONNX_EXPORT_OPSET },
    producerName: 'basis',
    producerVersion: '',
    graph: {
      name: graph.name,
      node: b.nodes,
      initializer: b.inits,
      input: [{ name: inputName, elemType: graph.tokens === undefined ? ONNX_DTYPES.FLOAT : ONNX_DTYPES.INT64, shape: ['N', ...graph.input] }],
      output: [{ name: outputName, elemType: ONNX_DTYPES.FLOAT, shape: ['N', ...desc.output] }],
    },
    metadata: { 'basis.graph.name': graph.name },
  };
  return encodeOnnx(model);
}
