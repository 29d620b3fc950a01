// ONNX graph -> basis model graph IR. Three stages:
// 1. every ONNX node becomes a "micro op" on per-example values (batch axis dropped, PyTorch
//    layout) or, when all its inputs are constants, is folded (Constant/Shape/Gather/Unsqueeze/
//    Concat/Slice/... chains that PyTorch emits for view/flatten/reshape); bias Adds fuse into the
//    Gemm/MatMul/Conv before them;
// 2. patterns are recognised: the attention block (q/k/v projections, head split, scaled scores,
//    optional additive causal mask, softmax, weighted sum, head merge, output projection), layer norm
//    decomposed into ReduceMean/Sub/Pow/Sqrt/Div (opset < 17), and every elementwise region with one
//    input and one output (Relu, Div/Erf/Add/Mul for GELU, Sigmoid/Mul for SiLU, ...) is evaluated on
//    probe values and identified as one of the graph's activation functions;
// 3. the DAG is laid out as the IR's sequence with residual blocks: an Add of two tensors computed
//    from the same tensor is a residual block whose longer branch is the body.
import { BasisError, ByteBudget, resolveMaxBytes } from '@basis/tensor';
import { describeGraph, type ActivationFn, type GraphNode, type ModelGraph } from '../graph/ir.js';
import type { ParamDict } from '../graph/params.js';
import { decodeOnnxBudget, type OnnxAttribute, type OnnxModel, type OnnxNode, type OnnxTensor } from './proto.js';
import type { ReadOptions } from '@basis/tensor';

/**
 * What {@link importOnnx} did: the producer, how many ONNX nodes were folded or mapped, which IR
 * node each group of ONNX nodes became and what was dropped.
 *
 * @example
 * ```ts
 * const { report } = importOnnx(bytes);
 * report.mapping.find((m) => m.node === 'layers.0'); // { node: 'layers.0', op: 'dense', onnx: ['Gemm_0'] }
 * ```
 */
export interface OnnxImportReport {
  producer: string;
  opset: number;
  /** ONNX nodes in the file. */
  onnxNodes: number;
  /** Nodes evaluated at import (constants, shape arithmetic). */
  folded: number;
  /** One entry per IR node: the ONNX nodes it came from. */
  mapping: { node: string; op: GraphNode['op']; onnx: string[] }[];
  /** Operators dropped without changing the logits (Identity, Dropout, Cast) and the output Softmax. */
  dropped: string[];
  /** True when a final Softmax/LogSoftmax was dropped: the imported model outputs logits. */
  outputSoftmax: boolean;
}

/**
 * A model read from ONNX: the graph IR, its parameters (PyTorch layout, float32), the report.
 *
 * @example
 * ```ts
 * const { graph, params } = importOnnx(bytes);
 * ```
 */
export interface OnnxImport {
  graph: ModelGraph;
  params: ParamDict;
  report: OnnxImportReport;
}

const BATCH = -987654321;
const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

interface Const {
  kind: 'const';
  dims: number[];
  data: Float32Array | Float64Array;
  /** The initializer it comes from (kept through Transpose/Identity/Cast folds), for naming. */
  origin: string;
}

interface Run {
  kind: 'run';
  id: number;
  /** Per-example shape (batch axis dropped). */
  shape: number[];
  ints: boolean;
  op: Op | null;
}

type Val = Const | Run;

interface Op {
  kind: string;
  nodes: OnnxNode[];
  inputs: Run[];
  out: Run;
  /** Position in the graph (topological). */
  seq: number;
  dead?: boolean;
  [k: string]: unknown;
}

function nodeLabel(n: OnnxNode): string {
  return `node '${n.name === '' ? n.output[0] ?? '?' : n.name}' (${n.opType})`;
}

function fail(n: OnnxNode | null, what: string, nearest?: string): never {
  const where = n === null ? '' : `${nodeLabel(n)}: `;
  throw new BasisError('BAD_FILE', `ONNX import: ${where}${what}${nearest === undefined ? '' : `; nearest supported form: ${nearest}`}`, {
    details: n === null ? {} : { node: n.name, opType: n.opType, unsupported: true },
  });
}

const SUPPORTED =
  'Gemm, MatMul(+Add), Conv (group 1), BatchNormalization, LayerNormalization, Relu, LeakyRelu, Tanh, Sigmoid, Softplus, Gelu, SiLU (Sigmoid*x), Add (bias or residual), Flatten, Reshape, GlobalAveragePool, AveragePool, MaxPool, ReduceMean over H,W, Gather (embedding, one position), Softmax at the output, the attention block of the zoo transformer';

const NEAREST: Record<string, string> = {
  ConvTranspose: 'Conv (basis has no transposed convolution)',
  Concat: 'a residual Add (basis graphs sum branches; they do not concatenate them)',
  Split: 'separate Gemm/MatMul layers',
  Resize: 'MaxPool/AveragePool with kernel = stride (basis does not upsample)',
  Upsample: 'MaxPool/AveragePool with kernel = stride (basis does not upsample)',
  HardSigmoid: 'Sigmoid',
  HardSwish: 'Silu (x * Sigmoid(x))',
  Elu: 'LeakyRelu or Softplus',
  Selu: 'LeakyRelu or Softplus',
  PRelu: 'LeakyRelu with a fixed slope',
  Clip: 'Relu (ReLU6 clips at 6; use nn.ReLU)',
  InstanceNormalization: 'BatchNormalization or LayerNormalization',
  GroupNormalization: 'BatchNormalization or LayerNormalization',
  LSTM: 'the attention block of the zoo transformer',
  GRU: 'the attention block of the zoo transformer',
  RNN: 'the attention block of the zoo transformer',
  If: 'a graph without control flow (export in eval mode with fixed shapes)',
  Loop: 'a graph without control flow (export in eval mode with fixed shapes)',
  Dropout: 'export in eval mode (model.eval()), which removes Dropout',
  LogSoftmax: 'Softmax or LogSoftmax only as the last operator',
  Softmax: 'Softmax only as the last operator, or inside the attention block',
  Transpose: 'Flatten/Reshape (basis reads layout changes only for flattening and the attention head split)',
  MatMul: 'MatMul of a tensor with a constant weight (a Linear layer), or the attention block',
  ReduceMean: 'GlobalAveragePool (x.mean((2, 3))), or a mean over positions of a sequence',
  Pad: 'Conv with symmetric padding',
};

function nearest(op: string): string {
  return NEAREST[op] ?? `one of the supported operators: ${SUPPORTED}`;
}

function attr(n: OnnxNode, name: string): OnnxAttribute | undefined {
  return n.attribute.find((a) => a.name === name);
}
function attrInt(n: OnnxNode, name: string, dflt: number): number {
  const a = attr(n, name);
  return a?.i ?? dflt;
}
function attrFloat(n: OnnxNode, name: string, dflt: number): number {
  const a = attr(n, name);
  return a?.f ?? dflt;
}
function attrInts(n: OnnxNode, name: string): number[] | undefined {
  return attr(n, name)?.ints;
}

/** A float32 attribute back to the short decimal it was written from (0.009999999776 -> 0.01). */
function short(v: number): number {
  const s = Number(v.toPrecision(7));
  return Math.fround(s) === Math.fround(v) ? s : v;
}

function numel(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function constOf(t: OnnxTensor): Const {
  return { kind: 'const', dims: [...t.dims], data: t.data, origin: t.name };
}

function scalarOf(c: Const): number | undefined {
  return c.data.length === 1 ? (c.data[0] as number) : undefined;
}

function intsOf(c: Const, n: OnnxNode): number[] {
  return Array.from(c.data, (v) => {
    if (!Number.isFinite(v)) fail(n, `a shape or index value ${v}`);
    return v;
  });
}

/** numpy broadcasting of two shapes (undefined when incompatible). */
function broadcast(a: readonly number[], b: readonly number[]): number[] | undefined {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(Math.max(x, y));
  }
  return out;
}

function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = (s[i + 1] as number) * (dims[i + 1] as number);
  return s;
}

/** Elementwise binary op on constants with broadcasting. */
function constBinary(a: Const, b: Const, f: (x: number, y: number) => number, n: OnnxNode, budget: ByteBudget): Const {
  const dims = broadcast(a.dims, b.dims);
  if (dims === undefined) fail(n, `shapes [${a.dims.join(', ')}] and [${b.dims.join(', ')}] do not broadcast`);
  const size = numel(dims);
  budget.take(size * 8, `the constant computed by ${nodeLabel(n)}`);
  const out = new Float64Array(size);
  const st = strides(dims);
  const sa = strides(a.dims);
  const sb = strides(b.dims);
  for (let k = 0; k < size; k++) {
    let ia = 0;
    let ib = 0;
    let rem = k;
    for (let i = 0; i < dims.length; i++) {
      const idx = Math.floor(rem / (st[i] as number));
      rem -= idx * (st[i] as number);
      const ai = i - (dims.length - a.dims.length);
      const bi = i - (dims.length - b.dims.length);
      if (ai >= 0 && a.dims[ai] !== 1) ia += idx * (sa[ai] as number);
      if (bi >= 0 && b.dims[bi] !== 1) ib += idx * (sb[bi] as number);
    }
    const x = a.data[ia] as number;
    const y = b.data[ib] as number;
    if (x === BATCH || y === BATCH) fail(n, 'arithmetic on the batch size', 'export with a fixed batch size or with dynamic_axes only on the batch of the input');
    out[k] = f(x, y);
  }
  return { kind: 'const', dims, data: a.data instanceof Float32Array && b.data instanceof Float32Array ? Float32Array.from(out) : out, origin: '' };
}

function transposeConst(c: Const, perm: readonly number[], budget: ByteBudget): Const {
  if (perm.length !== c.dims.length || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new BasisError('BAD_FILE', `ONNX import: transpose permutation [${perm.join(', ')}] of a constant of rank ${c.dims.length}`);
  }
  const dims = perm.map((p) => c.dims[p] as number);
  const size = numel(dims);
  budget.take(size * 8, 'a transposed constant');
  const out = new (c.data.constructor as Float64ArrayConstructor)(size);
  const sIn = strides(c.dims);
  const sOut = strides(dims);
  for (let k = 0; k < size; k++) {
    let rem = k;
    let src = 0;
    for (let i = 0; i < dims.length; i++) {
      const idx = Math.floor(rem / (sOut[i] as number));
      rem -= idx * (sOut[i] as number);
      src += idx * (sIn[perm[i] as number] as number);
    }
    out[k] = c.data[src] as number;
  }
  return { kind: 'const', dims, data: out, origin: c.origin };
}

function normAxis(axis: number, rank: number, n: OnnxNode): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) fail(n, `axis ${axis} is outside a tensor of rank ${rank}`);
  return a;
}

/** Resolves a Reshape target for a runtime value: the per-example output shape. */
function reshapeTarget(n: OnnxNode, inShape: readonly number[], target: readonly number[], batch: number | null): number[] {
  if (target.length === 0) fail(n, 'a reshape to a scalar');
  const full = [BATCH, ...inShape];
  const t0 = target[0] as number;
  const batchFirst = t0 === 0 || t0 === BATCH || (batch !== null && t0 === batch) || (t0 === -1 && !target.slice(1).includes(-1));
  if (!batchFirst) fail(n, `a reshape to [${target.map((v) => (v === BATCH ? 'N' : v)).join(', ')}] that does not keep the batch axis first`, 'Reshape(x, [N, -1]) or Flatten(x, axis=1)');
  const rest = target.slice(1).map((v, i) => (v === 0 ? (full[i + 1] ?? fail(n, 'a 0 (copy) dimension past the input rank')) : v === BATCH ? fail(n, 'the batch size used inside a reshape', 'Reshape(x, [N, -1])') : v));
  const total = numel(inShape);
  const minus = rest.filter((v) => v === -1).length;
  if (minus > 1) fail(n, 'a reshape with two -1 dimensions');
  if (rest.some((v) => v < -1 || v === 0 || !Number.isInteger(v))) fail(n, `reshape target [${target.join(', ')}]`);
  const known = rest.filter((v) => v !== -1).reduce((a, b) => a * b, 1);
  if (minus === 1) {
    if (total % known !== 0) fail(n, `cannot reshape [${inShape.join(', ')}] to [${target.join(', ')}]`);
    return rest.map((v) => (v === -1 ? total / known : v));
  }
  if (known !== total) fail(n, `cannot reshape [${inShape.join(', ')}] (per example) to [${rest.join(', ')}]`);
  return rest;
}

interface Ctx {
  vals: Map<string, Val>;
  ops: Op[];
  /** Readers of each runtime value. */
  users: Map<Run, Set<Op>>;
  budget: ByteBudget;
  nextId: number;
  batch: number | null;
  folded: number;
  dropped: string[];
}

function run(ctx: Ctx, shape: number[], ints = false): Run {
  return { kind: 'run', id: ctx.nextId++, shape, ints, op: null };
}

function addOp(ctx: Ctx, kind: string, n: OnnxNode, inputs: Run[], shape: number[], extra: Record<string, unknown> = {}): Run {
  const out = run(ctx, shape);
  const op: Op = { kind, nodes: [n], inputs, out, seq: ctx.ops.length, ...extra };
  out.op = op;
  ctx.ops.push(op);
  for (const i of inputs) use(ctx, i, op);
  return out;
}

function use(ctx: Ctx, v: Run, op: Op): void {
  let s = ctx.users.get(v);
  if (s === undefined) ctx.users.set(v, (s = new Set()));
  s.add(op);
}

function getVal(ctx: Ctx, n: OnnxNode, name: string | undefined): Val | undefined {
  if (name === undefined || name === '') return undefined;
  const v = ctx.vals.get(name);
  if (v === undefined) fail(n, `input '${name}' is not produced by any earlier node, initializer or graph input (are the nodes out of order?)`);
  return v;
}

function needConst(ctx: Ctx, n: OnnxNode, i: number, what: string): Const {
  const v = getVal(ctx, n, n.input[i]);
  if (v === undefined) fail(n, `missing ${what}`);
  if (v.kind !== 'const') fail(n, `${what} is computed at run time; basis needs it as a constant (an initializer)`, nearest(n.opType));
  return v;
}

/** Folds a node whose inputs are all constants; false when it has a runtime input. */
function fold(ctx: Ctx, n: OnnxNode): boolean {
  const ins = n.input.map((name) => getVal(ctx, n, name));
  if (n.opType !== 'Constant' && ins.some((v) => v !== undefined && v.kind === 'run')) {
    // Shape of a runtime value is a constant too
    if (n.opType === 'Shape' && ins[0]?.kind === 'run') {
      const r = ins[0];
      let dims = [BATCH, ...r.shape];
      const start = attr(n, 'start')?.i;
      const end = attr(n, 'end')?.i;
      if (start !== undefined || end !== undefined) dims = dims.slice(start ?? 0, end ?? dims.length);
      set(ctx, n, { kind: 'const', dims: [dims.length], data: Float64Array.from(dims), origin: '' });
      return true;
    }
    if (n.opType === 'Size' && ins[0]?.kind === 'run') fail(n, 'the element count of a batch', 'a fixed shape');
    return false;
  }
  const c = ins as (Const | undefined)[];
  const get = (i: number): Const => c[i] ?? fail(n, `missing input ${i}`);
  let out: Const;
  switch (n.opType) {
    case 'Constant': {
      const a = n.attribute[0];
      if (a === undefined) fail(n, 'a Constant without a value');
      if (a.t !== undefined) out = constOf(a.t);
      else if (a.name === 'value_float') out = { kind: 'const', dims: [], data: Float32Array.of(a.f ?? 0), origin: '' };
      else if (a.name === 'value_int') out = { kind: 'const', dims: [], data: Float64Array.of(a.i ?? 0), origin: '' };
      else if (a.name === 'value_floats') out = { kind: 'const', dims: [a.floats?.length ?? 0], data: Float32Array.from(a.floats ?? []), origin: '' };
      else if (a.name === 'value_ints') out = { kind: 'const', dims: [a.ints?.length ?? 0], data: Float64Array.from(a.ints ?? []), origin: '' };
      else fail(n, `a Constant with attribute '${a.name}'`, 'a Constant holding a tensor');
      break;
    }
    case 'Identity':
    case 'Cast':
      out = get(0);
      break;
    case 'Shape':
      out = { kind: 'const', dims: [get(0).dims.length], data: Float64Array.from(get(0).dims), origin: '' };
      break;
    case 'Gather': {
      const d = get(0);
      const idx = get(1);
      const axis = normAxis(attrInt(n, 'axis', 0), d.dims.length, n);
      const outer = numel(d.dims.slice(0, axis));
      const inner = numel(d.dims.slice(axis + 1));
      const len = d.dims[axis] as number;
      const ix = intsOf(idx, n).map((i) => (i < 0 ? i + len : i));
      if (ix.some((i) => i < 0 || i >= len)) fail(n, `an index outside 0..${len - 1}`);
      ctx.budget.take(outer * ix.length * inner * 8, `the constant computed by ${nodeLabel(n)}`);
      const data = new (d.data.constructor as Float64ArrayConstructor)(outer * ix.length * inner);
      for (let o = 0; o < outer; o++) for (let j = 0; j < ix.length; j++) for (let k = 0; k < inner; k++) data[(o * ix.length + j) * inner + k] = d.data[(o * len + (ix[j] as number)) * inner + k] as number;
      out = { kind: 'const', dims: [...d.dims.slice(0, axis), ...idx.dims, ...d.dims.slice(axis + 1)], data, origin: '' };
      break;
    }
    case 'Unsqueeze': {
      const d = get(0);
      const axes = n.input[1] !== undefined && n.input[1] !== '' ? intsOf(get(1), n) : (attrInts(n, 'axes') ?? []);
      const rank = d.dims.length + axes.length;
      const norm = axes.map((a) => normAxis(a, rank, n)).sort((x, y) => x - y);
      const dims = [...d.dims];
      for (const a of norm) dims.splice(a, 0, 1);
      out = { ...d, dims };
      break;
    }
    case 'Squeeze': {
      const d = get(0);
      const axes = n.input[1] !== undefined && n.input[1] !== '' ? intsOf(get(1), n) : attrInts(n, 'axes');
      const drop = new Set(axes === undefined ? d.dims.flatMap((v, i) => (v === 1 ? [i] : [])) : axes.map((a) => normAxis(a, d.dims.length, n)));
      out = { ...d, dims: d.dims.filter((_, i) => !drop.has(i)) };
      break;
    }
    case 'Concat': {
      const parts = c.map((_, i) => get(i));
      const axis = normAxis(attrInt(n, 'axis', 0), parts[0]?.dims.length ?? 1, n);
      if (parts.some((p) => p.dims.length !== 1) || axis !== 0) {
        fail(n, 'a Concat of constants of rank > 1', 'shape arithmetic on 1-D shape vectors');
      }
      const data = Float64Array.from(parts.flatMap((p) => Array.from(p.data)));
      out = { kind: 'const', dims: [data.length], data, origin: '' };
      break;
    }
    case 'Slice': {
      const d = get(0);
      if (d.dims.length !== 1) fail(n, 'a Slice of a constant of rank > 1', 'shape arithmetic on 1-D shape vectors');
      const starts = n.input[1] !== undefined ? intsOf(get(1), n) : (attrInts(n, 'starts') ?? [0]);
      const ends = n.input[2] !== undefined ? intsOf(get(2), n) : (attrInts(n, 'ends') ?? [d.data.length]);
      const steps = n.input[4] !== undefined && n.input[4] !== '' ? intsOf(get(4), n) : [1];
      if (steps[0] !== 1) fail(n, 'a strided Slice of a shape');
      const len = d.data.length;
      const clamp = (v: number): number => Math.max(0, Math.min(len, v < 0 ? v + len : v));
      const data = Float64Array.from(Array.from(d.data).slice(clamp(starts[0] ?? 0), clamp(ends[0] ?? len)));
      out = { kind: 'const', dims: [data.length], data, origin: '' };
      break;
    }
    case 'Reshape': {
      const d = get(0);
      const t = intsOf(get(1), n);
      const dims = t.map((v, i) => (v === 0 ? (d.dims[i] as number) : v));
      const minus = dims.indexOf(-1);
      if (minus >= 0) dims[minus] = d.data.length / numel(dims.filter((v) => v !== -1));
      if (numel(dims) !== d.data.length) fail(n, `cannot reshape a constant of ${d.data.length} values to [${t.join(', ')}]`);
      out = { ...d, dims };
      break;
    }
    case 'Transpose': {
      const d = get(0);
      const perm = attrInts(n, 'perm') ?? d.dims.map((_, i) => d.dims.length - 1 - i);
      out = transposeConst(d, perm, ctx.budget);
      break;
    }
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div':
    case 'Pow': {
      const f = { Add: (x: number, y: number) => x + y, Sub: (x: number, y: number) => x - y, Mul: (x: number, y: number) => x * y, Div: (x: number, y: number) => x / y, Pow: (x: number, y: number) => x ** y }[n.opType];
      out = constBinary(get(0), get(1), f, n, ctx.budget);
      break;
    }
    case 'Sqrt':
    case 'Neg':
    case 'Reciprocal': {
      const d = get(0);
      const f = n.opType === 'Sqrt' ? Math.sqrt : n.opType === 'Neg' ? (x: number) => -x : (x: number) => 1 / x;
      out = { kind: 'const', dims: d.dims, data: d.data.map((x) => f(x)), origin: '' };
      break;
    }
    case 'ConstantOfShape': {
      const dims = intsOf(get(0), n);
      if (dims.some((v) => v === BATCH)) fail(n, 'a tensor the size of the batch', 'a fixed shape');
      const a = attr(n, 'value')?.t;
      const v = a === undefined ? 0 : (a.data[0] ?? 0);
      if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) fail(n, `a shape [${dims.join(', ')}]`);
      ctx.budget.take(numel(dims) * 8, `the constant computed by ${nodeLabel(n)}`);
      out = { kind: 'const', dims, data: new Float64Array(numel(dims)).fill(v), origin: '' };
      break;
    }
    default:
      fail(n, `an operator on constants that basis does not evaluate`, 'the constant it computes saved as an initializer (torch.onnx.export with do_constant_folding=True)');
  }
  ctx.folded++;
  set(ctx, n, out);
  return true;
}

function set(ctx: Ctx, n: OnnxNode, v: Val): void {
  const name = n.output[0];
  if (name === undefined || name === '') fail(n, 'a node without an output');
  ctx.vals.set(name, v);
}

/** A constant that broadcasts as a per-channel vector of length c along axis `axis` of a per-example shape of rank `rank`. */
/** A float32 copy of a constant's values, counted against the budget (one weight may feed many nodes). */
function f32(ctx: Ctx, data: Float32Array | Float64Array, n: OnnxNode, scale = 1): Float32Array {
  ctx.budget.take(data.length * 4, `the weights of ${nodeLabel(n)}`);
  return scale === 1 ? Float32Array.from(data) : Float32Array.from(data, (v) => v * scale);
}

function channelVector(k: Const, c: number, axis: number, rank: number): Float32Array | undefined {
  if (k.data.length !== c) return undefined;
  // full rank = rank + 1 (batch); k broadcasts from the right
  const dims = [...k.dims];
  while (dims.length > 0 && dims[0] === 1 && dims.length > rank - axis) dims.shift();
  const want = rank - axis; // the channel dimension followed by (rank - axis - 1) ones
  if (dims.length !== want && !(dims.length === 1 && want === 1)) return undefined;
  if (dims[0] !== c || dims.slice(1).some((d) => d !== 1)) return undefined;
  return Float32Array.from(k.data);
}

function convert(ctx: Ctx, n: OnnxNode, uses: Map<string, number>): void {
  if (n.domain !== '' && n.domain !== 'ai.onnx') fail(n, `an operator of the domain '${n.domain}'`, nearest(n.opType));
  if (fold(ctx, n)) return;
  const ins = n.input.map((name) => getVal(ctx, n, name));
  const r = (i: number): Run => {
    const v = ins[i];
    if (v === undefined || v.kind !== 'run') fail(n, `input ${i} must be a tensor computed from the model input`);
    return v;
  };
  const out = (v: Run): void => set(ctx, n, v);
  const unary = (fn: string, extra: Record<string, unknown> = {}): void => {
    const a = r(0);
    out(addOp(ctx, 'unary', n, [a], [...a.shape], { fn, ...extra }));
  };
  switch (n.opType) {
    case 'Identity':
    case 'Cast':
      ctx.dropped.push(nodeLabel(n));
      out(r(0));
      return;
    case 'Dropout':
      ctx.dropped.push(nodeLabel(n));
      out(r(0));
      return;
    case 'Pad': {
      // PyTorch writes nn.AvgPool2d(k, stride) as a Pad of zeros followed by AveragePool
      const a = r(0);
      const pads = n.input[1] !== undefined && n.input[1] !== '' ? intsOf(needConst(ctx, n, 1, 'the pads'), n) : (attrInts(n, 'pads') ?? []);
      const mode = attr(n, 'mode')?.s ?? 'constant';
      if (pads.every((p) => p === 0) && mode === 'constant') {
        ctx.dropped.push(nodeLabel(n));
        out(a);
        return;
      }
      fail(n, `a separate Pad [${pads.join(', ')}] (mode ${mode})`, 'the pads attribute of Conv or MaxPool (nn.Conv2d(..., padding=p), nn.MaxPool2d(k, s, p))');
      return;
    }
    case 'Relu':
      return unary('relu');
    case 'LeakyRelu':
      return unary('leaky', { alpha: attrFloat(n, 'alpha', 0.01) });
    case 'Tanh':
      return unary('tanh');
    case 'Sigmoid':
      return unary('sigmoid');
    case 'Softplus':
      return unary('softplus');
    case 'Erf':
      return unary('erf');
    case 'Exp':
      return unary('exp');
    case 'Sqrt':
      return unary('sqrt');
    case 'Neg':
      return unary('neg');
    case 'Reciprocal':
      return unary('recip');
    case 'Gelu': {
      const approx = attr(n, 'approximate')?.s ?? 'none';
      if (approx !== 'none') fail(n, `Gelu with approximate='${approx}'`, "Gelu with approximate='none' (nn.GELU())");
      return unary('gelu');
    }
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div':
    case 'Pow': {
      const a = ins[0];
      const b = ins[1];
      if (a === undefined || b === undefined) fail(n, 'a binary operator with a missing input');
      const bop = n.opType.toLowerCase();
      if (a.kind === 'run' && b.kind === 'run') {
        const shape = broadcast(a.shape, b.shape);
        if (shape === undefined) fail(n, `shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] (per example) do not broadcast`);
        out(addOp(ctx, 'bin', n, [a, b], shape, { bop }));
        return;
      }
      const run0 = (a.kind === 'run' ? a : b) as Run;
      const k = (a.kind === 'const' ? a : b) as Const;
      const constFirst = a.kind === 'const';
      if (bop === 'add') {
        const p = run0.op;
        // bias of a preceding Gemm/MatMul/Conv
        if (p !== null && !p.dead && (p.kind === 'dense' || p.kind === 'conv') && p['b'] === undefined && (uses.get(p.nodes[0]?.output[0] ?? '') ?? 0) === 1) {
          const rank = run0.shape.length;
          const c = p.kind === 'dense' ? (run0.shape[rank - 1] as number) : (run0.shape[0] as number);
          const vec = channelVector(k, c, p.kind === 'dense' ? rank - 1 : 0, rank);
          if (vec !== undefined) {
            p['b'] = vec;
            p['bName'] = k.origin;
            p.nodes.push(n);
            out(run0);
            return;
          }
        }
        // a learned positional embedding added to a sequence
        const dims = [...k.dims];
        while (dims.length > run0.shape.length && dims[0] === 1) dims.shift();
        if (!run0.ints && run0.shape.length === 2 && sameShape(dims, run0.shape) && k.data.length > 1 && p !== null && (p.kind === 'embedding' || p.kind === 'positional_src')) {
          out(addOp(ctx, 'positional', n, [run0], [...run0.shape], { W: f32(ctx, k.data, n), wName: k.origin }));
          return;
        }
      }
      const kd = k.dims.length === run0.shape.length + 1 && k.dims[0] === 1 ? k.dims.slice(1) : k.dims;
      const shape = kd.length > run0.shape.length ? undefined : broadcast(run0.shape, kd);
      if (shape === undefined || !sameShape(shape, run0.shape)) {
        fail(n, `a constant of shape [${k.dims.join(', ')}] that changes the shape of [N, ${run0.shape.join(', ')}]`);
      }
      out(addOp(ctx, 'binc', n, [run0], [...run0.shape], { bop, c: k, constFirst }));
      return;
    }
    case 'Gemm': {
      const a = r(0);
      if (a.shape.length !== 1) fail(n, `Gemm on a per-example shape [${a.shape.join(', ')}]`, 'Flatten before the Linear layer');
      if (attrInt(n, 'transA', 0) !== 0) fail(n, 'Gemm with transA = 1', 'Gemm(x, W, b) with transA = 0');
      const B = needConst(ctx, n, 1, 'the weight B');
      if (B.dims.length !== 2) fail(n, `a weight of shape [${B.dims.join(', ')}]`);
      const alpha = attrFloat(n, 'alpha', 1);
      const beta = attrFloat(n, 'beta', 1);
      let W = attrInt(n, 'transB', 0) === 1 ? B : transposeConst(B, [1, 0], ctx.budget);
      W = { ...W, origin: B.origin };
      const [units, inDim] = W.dims as [number, number];
      if (inDim !== a.shape[0]) fail(n, `a weight of shape [${B.dims.join(', ')}] for an input of width ${a.shape[0]}`);
      const w = f32(ctx, W.data, n, alpha);
      let b: Float32Array | undefined;
      let bName = '';
      if (n.input[2] !== undefined && n.input[2] !== '') {
        const C = needConst(ctx, n, 2, 'the bias C');
        if (C.data.length !== units) fail(n, `a bias of shape [${C.dims.join(', ')}] for ${units} units`, 'Gemm with a bias of shape [units]');
        b = f32(ctx, C.data, n, beta);
        bName = C.origin;
      }
      out(addOp(ctx, 'dense', n, [a], [units], { W: w, wName: B.origin, ...(b === undefined ? {} : { b, bName }) }));
      return;
    }
    case 'MatMul': {
      const a = ins[0];
      const b = ins[1];
      if (a?.kind === 'run' && b?.kind === 'run') {
        const sa = a.shape;
        const sb = b.shape;
        if (sa.length < 2 || sa.length !== sb.length || sa[sa.length - 1] !== sb[sb.length - 2] || !sameShape(sa.slice(0, -2), sb.slice(0, -2))) {
          fail(n, `MatMul of per-example shapes [${sa.join(', ')}] and [${sb.join(', ')}]`, nearest('MatMul'));
        }
        out(addOp(ctx, 'matmul2', n, [a, b], [...sa.slice(0, -1), sb[sb.length - 1] as number]));
        return;
      }
      const xa = r(0);
      const B = needConst(ctx, n, 1, 'the weight');
      if (B.dims.length !== 2) fail(n, `a MatMul weight of shape [${B.dims.join(', ')}]`, 'MatMul with a 2-D weight [in, out]');
      if (B.dims[0] !== xa.shape[xa.shape.length - 1]) fail(n, `a weight [${B.dims.join(', ')}] for an input [${xa.shape.join(', ')}]`);
      const W = transposeConst(B, [1, 0], ctx.budget);
      const units = W.dims[0] as number;
      out(addOp(ctx, 'dense', n, [xa], [...xa.shape.slice(0, -1), units], { W: f32(ctx, W.data, n), wName: B.origin }));
      return;
    }
    case 'Conv': {
      const a = r(0);
      if (a.shape.length !== 3) fail(n, `a convolution of per-example shape [${a.shape.join(', ')}]`, 'Conv on [N, C, H, W] images (nn.Conv2d)');
      const Wc = needConst(ctx, n, 1, 'the weight');
      if (Wc.dims.length !== 4) fail(n, `a weight of shape [${Wc.dims.join(', ')}]`, 'Conv with a [F, C, k, k] weight (nn.Conv2d)');
      const group = attrInt(n, 'group', 1);
      if (group !== 1) fail(n, `a grouped convolution (group = ${group})`, 'Conv with group = 1');
      const [f, c, kh, kw] = Wc.dims as [number, number, number, number];
      if (c !== a.shape[0]) fail(n, `a weight for ${c} input channels on an input of ${a.shape[0]}`);
      if (kh !== kw) fail(n, `a ${kh}x${kw} kernel`, 'Conv with a square kernel');
      const dil = attrInts(n, 'dilations') ?? [1, 1];
      if (dil.some((d) => d !== 1)) fail(n, `dilations [${dil.join(', ')}]`, 'Conv with dilation 1');
      const st = attrInts(n, 'strides') ?? [1, 1];
      if (st[0] !== st[1]) fail(n, `strides [${st.join(', ')}]`, 'Conv with equal strides');
      const stride = st[0] ?? 1;
      const autoPad = attr(n, 'auto_pad')?.s ?? 'NOTSET';
      let padding: number;
      if (autoPad === 'VALID') padding = 0;
      else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
        if (stride !== 1 || kh % 2 === 0) fail(n, `auto_pad ${autoPad} with stride ${stride} and kernel ${kh}`, 'Conv with explicit symmetric pads');
        padding = (kh - 1) / 2;
      } else {
        const pads = attrInts(n, 'pads') ?? [0, 0, 0, 0];
        if (pads.some((p) => p !== pads[0])) fail(n, `asymmetric pads [${pads.join(', ')}]`, 'Conv with the same padding on every side');
        padding = pads[0] ?? 0;
      }
      const [, h, w] = a.shape as [number, number, number];
      const ho = Math.floor((h + 2 * padding - kh) / stride) + 1;
      const wo = Math.floor((w + 2 * padding - kh) / stride) + 1;
      if (ho < 1 || wo < 1) fail(n, `a ${kh}x${kh} kernel that does not fit a ${h}x${w} input`);
      let b: Float32Array | undefined;
      let bName = '';
      if (n.input[2] !== undefined && n.input[2] !== '') {
        const B = needConst(ctx, n, 2, 'the bias');
        if (B.data.length !== f) fail(n, `a bias of ${B.data.length} values for ${f} filters`);
        b = f32(ctx, B.data, n);
        bName = B.origin;
      }
      out(addOp(ctx, 'conv', n, [a], [f, ho, wo], { W: f32(ctx, Wc.data, n), wName: Wc.origin, filters: f, kernel: kh, stride, padding, ...(b === undefined ? {} : { b, bName }) }));
      return;
    }
    case 'BatchNormalization': {
      const a = r(0);
      if (attrInt(n, 'training_mode', 0) !== 0 || n.output.filter((o) => o !== '').length > 1) fail(n, 'a BatchNormalization in training mode', 'export in eval mode (model.eval())');
      if (a.shape.length === 2) fail(n, 'a batch norm over a sequence', 'LayerNormalization');
      const cs = [1, 2, 3, 4].map((i) => needConst(ctx, n, i, ['scale', 'bias', 'mean', 'var'][i - 1] as string));
      const ch = a.shape[0] as number;
      if (cs.some((k) => k.data.length !== ch)) fail(n, `parameters of ${cs[0]?.data.length} values for ${ch} channels`);
      const eps = attrFloat(n, 'epsilon', 1e-5);
      const momentum = 1 - attrFloat(n, 'momentum', 0.9);
      out(
        addOp(ctx, 'bn', n, [a], [...a.shape], {
          scale: f32(ctx, cs[0]!.data, n),
          bias: f32(ctx, cs[1]!.data, n),
          mean: f32(ctx, cs[2]!.data, n),
          var: f32(ctx, cs[3]!.data, n),
          eps: short(eps),
          momentum: short(momentum),
          wName: cs[0]!.origin,
        }),
      );
      return;
    }
    case 'LayerNormalization': {
      const a = r(0);
      const axis = normAxis(attrInt(n, 'axis', -1), a.shape.length + 1, n);
      if (axis !== a.shape.length) fail(n, `a layer norm over axis ${axis}`, 'LayerNormalization over the last axis (nn.LayerNorm(d))');
      const d = a.shape[a.shape.length - 1] as number;
      const sc = needConst(ctx, n, 1, 'the scale');
      const bi = n.input[2] !== undefined && n.input[2] !== '' ? needConst(ctx, n, 2, 'the bias') : undefined;
      if (sc.data.length !== d || (bi !== undefined && bi.data.length !== d)) fail(n, `parameters of ${sc.data.length} values for width ${d}`);
      out(addOp(ctx, 'ln', n, [a], [...a.shape], { w: f32(ctx, sc.data, n), b: bi === undefined ? new Float32Array(d) : f32(ctx, bi.data, n), eps: short(attrFloat(n, 'epsilon', 1e-5)), wName: sc.origin }));
      return;
    }
    case 'Flatten': {
      const a = r(0);
      const axis = normAxis(attrInt(n, 'axis', 1), a.shape.length + 1, n);
      if (axis !== 1) fail(n, `Flatten with axis ${axis}`, 'Flatten(x, axis=1) (torch.flatten(x, 1))');
      out(addOp(ctx, 'reshape', n, [a], [numel(a.shape)]));
      return;
    }
    case 'Reshape': {
      const a = r(0);
      const t = intsOf(needConst(ctx, n, 1, 'the target shape'), n);
      out(addOp(ctx, 'reshape', n, [a], reshapeTarget(n, a.shape, t, ctx.batch)));
      return;
    }
    case 'Squeeze':
    case 'Unsqueeze': {
      const a = r(0);
      const axes = n.input[1] !== undefined && n.input[1] !== '' ? intsOf(needConst(ctx, n, 1, 'the axes'), n) : attrInts(n, 'axes');
      let shape: number[];
      if (n.opType === 'Squeeze') {
        const rank = a.shape.length + 1;
        const drop = new Set((axes ?? a.shape.flatMap((v, i) => (v === 1 ? [i + 1] : []))).map((ax) => normAxis(ax, rank, n)));
        if (drop.has(0)) fail(n, 'a Squeeze of the batch axis');
        shape = a.shape.filter((v, i) => {
          if (drop.has(i + 1) && v !== 1) fail(n, `Squeeze of axis ${i + 1}, which has size ${v}`);
          return !drop.has(i + 1);
        });
      } else {
        const full = [BATCH, ...a.shape];
        const norm = (axes ?? []).map((ax) => normAxis(ax, full.length + (axes ?? []).length, n)).sort((p, q) => p - q);
        for (const ax of norm) full.splice(ax, 0, 1);
        if (full[0] !== BATCH) fail(n, 'an Unsqueeze in front of the batch axis');
        shape = full.slice(1);
      }
      out(addOp(ctx, 'reshape', n, [a], shape));
      return;
    }
    case 'Transpose': {
      const a = r(0);
      const perm = attrInts(n, 'perm') ?? [a.shape.length, ...a.shape.map((_, i) => a.shape.length - 1 - i)];
      if (perm[0] !== 0) {
        fail(
          n,
          `Transpose with perm [${perm.join(', ')}], which moves the batch axis (nn.MultiheadAttention and sequence-first layouts do this)`,
          'attention written as separate q, k, v, o nn.Linear layers on [N, T, d], as the zoo transformer (see the guide "Use your PyTorch model")',
        );
      }
      const p = perm.slice(1).map((v) => v - 1);
      out(addOp(ctx, 'transpose', n, [a], p.map((i) => a.shape[i] as number), { perm: p }));
      return;
    }
    case 'GlobalAveragePool': {
      const a = r(0);
      if (a.shape.length !== 3) fail(n, `GlobalAveragePool of per-example shape [${a.shape.join(', ')}]`);
      out(addOp(ctx, 'gap', n, [a], [a.shape[0] as number, 1, 1]));
      return;
    }
    case 'ReduceMean': {
      const a = r(0);
      const rank = a.shape.length + 1;
      const axesRaw = n.input[1] !== undefined && n.input[1] !== '' ? intsOf(needConst(ctx, n, 1, 'the axes'), n) : (attrInts(n, 'axes') ?? a.shape.map((_, i) => i + 1));
      const axes = axesRaw.map((ax) => normAxis(ax, rank, n) - 1).sort((p, q) => p - q);
      if (axes.includes(-1)) fail(n, 'a mean over the batch', nearest('ReduceMean'));
      const keep = attrInt(n, 'keepdims', 1) === 1;
      const shape = keep ? a.shape.map((v, i) => (axes.includes(i) ? 1 : v)) : a.shape.filter((_, i) => !axes.includes(i));
      out(addOp(ctx, 'mean', n, [a], shape, { axes, keep }));
      return;
    }
    case 'MaxPool':
    case 'AveragePool': {
      const a = r(0);
      if (a.shape.length !== 3) fail(n, `${n.opType} of per-example shape [${a.shape.join(', ')}]`);
      const k = attrInts(n, 'kernel_shape') ?? fail(n, 'no kernel_shape');
      const st = attrInts(n, 'strides') ?? [1, 1];
      const pads = attrInts(n, 'pads') ?? [0, 0, 0, 0];
      const ceil = attrInt(n, 'ceil_mode', 0);
      const dil = attrInts(n, 'dilations') ?? [1, 1];
      const autoPad = attr(n, 'auto_pad')?.s ?? 'NOTSET';
      const size = k[0] as number;
      const stride = st[0] as number;
      const pad = pads[0] ?? 0;
      const max = n.opType === 'MaxPool';
      const torchName = max ? 'nn.MaxPool2d(k, stride, padding)' : 'nn.AvgPool2d(k, stride) without padding';
      if (k.length !== 2 || k[1] !== size || st.length !== 2 || st[1] !== stride || !(stride >= 1) || !(size >= 1)) fail(n, `${n.opType} with kernel [${k.join(', ')}] and strides [${st.join(', ')}]`, `a square window with equal strides (${torchName})`);
      if (dil.some((d) => d !== 1) || (autoPad !== 'NOTSET' && autoPad !== 'VALID')) fail(n, `${n.opType} with dilations [${dil.join(', ')}] or auto_pad ${autoPad}`, torchName);
      if (pads.some((p) => p !== pad) || pad < 0 || 2 * pad > size || (!max && pad !== 0)) fail(n, `${n.opType} with pads [${pads.join(', ')}]`, max ? 'MaxPool with the same padding on every side, at most half the window' : 'AveragePool without padding');
      const [, h, w] = a.shape as [number, number, number];
      if (h + 2 * pad < size || w + 2 * pad < size) fail(n, `a ${size}x${size} window on a ${h}x${w} input`);
      const outH = Math.floor((h + 2 * pad - size) / stride) + 1;
      const outW = Math.floor((w + 2 * pad - size) / stride) + 1;
      if (ceil === 1 && (Math.ceil((h + 2 * pad - size) / stride) + 1 !== outH || Math.ceil((w + 2 * pad - size) / stride) + 1 !== outW)) {
        fail(n, `ceil_mode on a ${h}x${w} input that the windows do not tile`, `${n.opType} with ceil_mode = 0`);
      }
      out(addOp(ctx, max ? 'maxpool' : 'avgpool', n, [a], [a.shape[0] as number, outH, outW], { size, stride, padding: pad }));
      return;
    }
    case 'Softmax':
    case 'LogSoftmax': {
      const a = r(0);
      const axis = normAxis(attrInt(n, 'axis', -1), a.shape.length + 1, n);
      if (axis !== a.shape.length) fail(n, `${n.opType} over axis ${axis}`, `${n.opType} over the last axis`);
      out(addOp(ctx, 'softmax', n, [a], [...a.shape], { log: n.opType === 'LogSoftmax' }));
      return;
    }
    case 'Gather': {
      const data = ins[0];
      const idx = ins[1];
      if (data?.kind === 'const' && idx?.kind === 'run') {
        if (attrInt(n, 'axis', 0) !== 0 || data.dims.length !== 2) fail(n, 'a Gather that is not an embedding lookup', 'Gather(weight [vocab, d], token ids) (nn.Embedding)');
        if (!idx.ints) fail(n, 'an embedding lookup of float values', 'integer token ids as the model input');
        if (idx.shape.length !== 1) fail(n, `token ids of per-example shape [${idx.shape.join(', ')}]`, 'token ids [N, T]');
        out(addOp(ctx, 'embedding', n, [idx], [idx.shape[0] as number, data.dims[1] as number], { W: f32(ctx, data.data, n), vocab: data.dims[0], wName: data.origin }));
        return;
      }
      if (data?.kind === 'run' && idx?.kind === 'const') {
        const axis = normAxis(attrInt(n, 'axis', 0), data.shape.length + 1, n);
        const i = scalarOf(idx);
        if (axis !== 1 || data.shape.length !== 2 || idx.dims.length !== 0 || i === undefined) fail(n, 'a Gather that does not pick one position of a sequence', 'x[:, i] on a [N, T, d] sequence');
        const T = data.shape[0] as number;
        if (!(i >= -T && i < T)) fail(n, `position ${i} of a sequence of length ${T}`);
        out(addOp(ctx, 'token', n, [data], [data.shape[1] as number], { index: i }));
        return;
      }
      fail(n, 'a Gather of runtime values', 'Gather(weight [vocab, d], token ids) or x[:, i]');
      return;
    }
    default:
      fail(n, 'an operator basis does not import', nearest(n.opType));
  }
}

// ---- pattern passes ----

function consumers(ctx: Ctx, v: Run): Op[] {
  return [...(ctx.users.get(v) ?? [])].filter((o) => !o.dead);
}

/** Replaces the ops of `group` (whose only outside input is `input`) by `op` producing `exit`. */
function replace(ctx: Ctx, group: Op[], input: Run, exit: Run, kind: string, extra: Record<string, unknown>, outputs: ReadonlySet<Run>): Op {
  const set = new Set(group);
  for (const o of group) {
    if (o.out === exit) continue;
    if (outputs.has(o.out)) fail(o.nodes[0]!, `an intermediate result of a ${kind} pattern is a graph output`);
    for (const c of consumers(ctx, o.out)) {
      if (!set.has(c)) fail(c.nodes[0]!, `reads an intermediate result of a ${kind} pattern`, 'the pattern as PyTorch exports it, with no other reader of its inner tensors');
    }
  }
  for (const o of group) o.dead = true;
  const ordered = [...group].sort((a, b) => a.seq - b.seq);
  const op: Op = { kind, nodes: ordered.flatMap((o) => o.nodes), inputs: [input], out: exit, seq: ordered[ordered.length - 1]!.seq, ...extra };
  exit.op = op;
  ctx.ops.push(op);
  use(ctx, input, op);
  return op;
}

function isScalarConst(o: Op): boolean {
  return o.kind === 'binc' && (o['c'] as Const).data.length === 1;
}

/** Layer norm as PyTorch exports it below opset 17: (x - mean) / sqrt(var + eps) * w + b. */
function layerNormPass(ctx: Ctx, outputs: ReadonlySet<Run>): void {
  for (const m1 of [...ctx.ops]) {
    if (m1.dead || m1.kind !== 'mean') continue;
    const x = m1.inputs[0]!;
    const last = x.shape.length - 1;
    if ((m1['axes'] as number[]).join() !== String(last) || m1['keep'] !== true) continue;
    const sub = consumers(ctx, m1.out).find((o) => o.kind === 'bin' && o['bop'] === 'sub' && o.inputs[0] === x && o.inputs[1] === m1.out);
    if (sub === undefined) continue;
    const d = sub.out;
    const dUses = consumers(ctx, d);
    const sq = dUses.find((o) => (o.kind === 'binc' && o['bop'] === 'pow' && scalarOf(o['c'] as Const) === 2 && !o['constFirst']) || (o.kind === 'bin' && o['bop'] === 'mul' && o.inputs[0] === d && o.inputs[1] === d));
    const div = dUses.find((o) => o.kind === 'bin' && o['bop'] === 'div' && o.inputs[0] === d);
    if (sq === undefined || div === undefined) continue;
    const m2 = consumers(ctx, sq.out)[0];
    if (m2?.kind !== 'mean' || (m2['axes'] as number[]).join() !== String(last)) continue;
    const addEps = consumers(ctx, m2.out)[0];
    if (addEps?.kind !== 'binc' || addEps['bop'] !== 'add' || !isScalarConst(addEps)) continue;
    const sqrt = consumers(ctx, addEps.out)[0];
    if (sqrt?.kind !== 'unary' || sqrt['fn'] !== 'sqrt' || div.inputs[1] !== sqrt.out) continue;
    const group = [m1, sub, sq, m2, addEps, sqrt, div];
    const dim = x.shape[last] as number;
    let w: Float32Array = new Float32Array(dim).fill(1);
    let b: Float32Array = new Float32Array(dim);
    let exit = div.out;
    let wName = '';
    const mul = consumers(ctx, exit);
    if (mul.length === 1 && mul[0]!.kind === 'binc' && mul[0]!['bop'] === 'mul') {
      const vec = channelVector(mul[0]!['c'] as Const, dim, last, x.shape.length);
      if (vec !== undefined) {
        w = vec;
        wName = (mul[0]!['c'] as Const).origin;
        group.push(mul[0]!);
        exit = mul[0]!.out;
        const add = consumers(ctx, exit);
        if (add.length === 1 && add[0]!.kind === 'binc' && add[0]!['bop'] === 'add') {
          const bv = channelVector(add[0]!['c'] as Const, dim, last, x.shape.length);
          if (bv !== undefined) {
            b = bv;
            group.push(add[0]!);
            exit = add[0]!.out;
          }
        }
      }
    }
    replace(ctx, group, x, exit, 'ln', { w, b, eps: short(scalarOf(addEps['c'] as Const) as number), wName }, outputs);
  }
}

/** Follows a chain backwards through transposes and scalar scalings: the composed permutation and scale. */
function peel(v: Run, group: Op[]): { v: Run; perm: number[] | null; scale: number } {
  let perm: number[] | null = null;
  let scale = 1;
  let cur = v;
  for (;;) {
    const o = cur.op;
    if (o === null || o.dead) break;
    if (o.kind === 'transpose') {
      const p = o['perm'] as number[];
      perm = perm === null ? p : perm.map((i) => p[i] as number);
    } else if (isScalarConst(o) && (o['bop'] === 'mul' || (o['bop'] === 'div' && !o['constFirst']))) {
      const c = scalarOf(o['c'] as Const) as number;
      scale *= o['bop'] === 'mul' ? c : 1 / c;
    } else break;
    group.push(o);
    cur = o.inputs[0]!;
  }
  return { v: cur, perm, scale };
}

/** The head split of one projection: dense(x) -> reshape [T, h, dh] -> transposes `want`. */
function headSplit(v: Run, want: string, group: Op[]): { dense: Op; h: number; dh: number; scale: number } | null {
  const p = peel(v, group);
  if (p.perm === null || p.perm.join() !== want) return null;
  const rs = p.v.op;
  if (rs === null || rs.kind !== 'reshape' || rs.out.shape.length !== 3) return null;
  group.push(rs);
  const p2 = peel(rs.inputs[0]!, group);
  if (p2.perm !== null) return null;
  const dense = p2.v.op;
  if (dense === null || dense.kind !== 'dense' || dense.out.shape.length !== 2) return null;
  group.push(dense);
  const [T, h, dh] = rs.out.shape as [number, number, number];
  if (dense.out.shape[0] !== T || dense.out.shape[1] !== h * dh) return null;
  return { dense, h, dh, scale: p.scale * p2.scale };
}

function attentionPass(ctx: Ctx, outputs: ReadonlySet<Run>): void {
  for (const sm of [...ctx.ops]) {
    if (sm.dead || sm.kind !== 'softmax' || sm['log'] === true || sm.out.shape.length !== 3) continue;
    const group: Op[] = [sm];
    let cur = sm.inputs[0]!;
    let mask: Const | null = null;
    let scale = 1;
    // optional additive mask and scaling between the scores and the softmax
    for (;;) {
      const o = cur.op;
      if (o === null) break;
      if (o.kind === 'binc' && o['bop'] === 'add' && !isScalarConst(o) && mask === null) mask = o['c'] as Const;
      else if (isScalarConst(o) && (o['bop'] === 'mul' || (o['bop'] === 'div' && !o['constFirst']))) {
        const c = scalarOf(o['c'] as Const) as number;
        scale *= o['bop'] === 'mul' ? c : 1 / c;
      } else break;
      group.push(o);
      cur = o.inputs[0]!;
    }
    const qk = cur.op;
    if (qk === null || qk.kind !== 'matmul2') continue;
    group.push(qk);
    const q = headSplit(qk.inputs[0]!, '1,0,2', group);
    const k = headSplit(qk.inputs[1]!, '1,2,0', group);
    const sc = consumers(ctx, sm.out);
    const av = sc.length === 1 && sc[0]!.kind === 'matmul2' && sc[0]!.inputs[0] === sm.out ? sc[0]! : undefined;
    if (q === null || k === null || av === undefined) continue;
    group.push(av);
    const v = headSplit(av.inputs[1]!, '1,0,2', group);
    if (v === null) continue;
    // merge: transpose [1, 0, 2] -> reshape [T, d] -> dense
    const tr = consumers(ctx, av.out)[0];
    if (tr?.kind !== 'transpose' || (tr['perm'] as number[]).join() !== '1,0,2') continue;
    const rs = consumers(ctx, tr.out)[0];
    if (rs?.kind !== 'reshape' || rs.out.shape.length !== 2) continue;
    const o = consumers(ctx, rs.out)[0];
    if (o?.kind !== 'dense') continue;
    group.push(tr, rs, o);
    const x = q.dense.inputs[0]!;
    const node = sm.nodes[0]!;
    if (k.dense.inputs[0] !== x || v.dense.inputs[0] !== x) fail(node, 'an attention whose queries, keys and values read different tensors', 'self-attention (q, k and v projections of one tensor)');
    const [T, d] = x.shape as [number, number];
    const { h, dh } = q;
    if (k.h !== h || v.h !== h || h * dh !== d || rs.out.shape[1] !== d || o.out.shape[1] !== d) fail(node, 'an attention block whose head split does not match its width', 'the zoo transformer block');
    const total = scale * q.scale * k.scale;
    if (v.scale !== 1 || Math.abs(total * Math.sqrt(dh) - 1) > 1e-4) fail(node, `attention scores scaled by ${total}, not 1/sqrt(${dh})`, 'scaled dot-product attention (scores / sqrt(head width))');
    let causal = false;
    if (mask !== null) {
      const dims = [...mask.dims];
      while (dims.length > 2 && dims[0] === 1) dims.shift();
      if (dims.length !== 2 || dims[0] !== T || dims[1] !== T) fail(node, `an attention mask of shape [${mask.dims.join(', ')}]`, 'an additive causal mask [T, T]');
      for (let i = 0; i < T; i++) {
        for (let j = 0; j < T; j++) {
          const m = mask.data[i * T + j] as number;
          const ok = j <= i ? m === 0 : m <= -1e4;
          if (!ok) fail(node, 'an attention mask that is not causal (0 on and below the diagonal, a large negative value above)', 'an additive causal mask or none');
        }
      }
      causal = true;
    }
    const bias = (op: Op): Float32Array => (op['b'] as Float32Array | undefined) ?? new Float32Array(d);
    replace(ctx, group, x, o.out, 'attention', { heads: h, causal, parts: { q: q.dense, k: k.dense, v: v.dense, o }, bias }, outputs);
  }
}

// elementwise regions -> activation functions

/** Where elementwise regions are evaluated: dense on [-6, 6], sparse out to ±40 (so ReLU6-like clipping cannot pass as ReLU). */
const PROBES = Float64Array.from([...Array.from({ length: 41 }, (_, i) => -6 + (12 * i) / 40), -40, -20, -10, -8, 7, 8, 10, 20, 40]);

function evalUnary(fn: string, x: number, alpha: number): number {
  switch (fn) {
    case 'relu':
      return Math.max(0, x);
    case 'leaky':
      return x >= 0 ? x : alpha * x;
    case 'tanh':
      return Math.tanh(x);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
    case 'softplus':
      return Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0);
    case 'erf':
      return erf(x);
    case 'exp':
      return Math.exp(x);
    case 'sqrt':
      return Math.sqrt(x);
    case 'neg':
      return -x;
    case 'recip':
      return 1 / x;
    case 'gelu':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
  }
  return NaN;
}

/** erf to ~1e-13 (series / continued fraction). */
function erf(x: number): number {
  const a = Math.abs(x);
  let r: number;
  if (a < 3) {
    let term = a;
    let sum = a;
    for (let k = 1; k < 200; k++) {
      term *= (-a * a) / k;
      const t = term / (2 * k + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    // continued fraction for erfc
    let f = 0;
    for (let k = 60; k >= 1; k--) f = k / 2 / (a + f);
    r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f);
  }
  return x < 0 ? -r : r;
}

const CANDIDATES: { fn: ActivationFn; f: (x: number) => number; degree?: number }[] = [
  { fn: 'identity', f: (x) => x },
  { fn: 'relu', f: (x) => Math.max(0, x) },
  { fn: 'tanh', f: Math.tanh },
  { fn: 'sigmoid', f: (x) => 1 / (1 + Math.exp(-x)) },
  { fn: 'softplus', f: (x) => Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0) },
  { fn: 'gelu', f: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)) },
  { fn: 'silu', f: (x) => x / (1 + Math.exp(-x)) },
  { fn: 'rbf', f: (x) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI) },
  ...[2, 3, 4, 5].map((d) => ({ fn: 'polynomial' as ActivationFn, f: (x: number) => x ** d, degree: d })),
];

function rootOf(v: Run, memo: Map<Run, Run>): Run {
  const m = memo.get(v);
  if (m !== undefined) return m;
  const o = v.op;
  let r = v;
  if (o !== null && !o.dead) {
    if (o.kind === 'unary' || isScalarConst(o)) r = rootOf(o.inputs[0]!, memo);
    else if (o.kind === 'bin' && sameShape(o.inputs[0]!.shape, o.inputs[1]!.shape)) {
      const a = rootOf(o.inputs[0]!, memo);
      const b = rootOf(o.inputs[1]!, memo);
      if (a === b) r = a;
    }
  }
  memo.set(v, r);
  return r;
}

function isElementwise(o: Op, memo: Map<Run, Run>): boolean {
  if (o.dead) return false;
  if (o.kind === 'unary' || isScalarConst(o)) return true;
  return o.kind === 'bin' && rootOf(o.out, memo) !== o.out;
}

function activationPass(ctx: Ctx, outputs: ReadonlySet<Run>): void {
  const memo = new Map<Run, Run>();
  // the regions: the elementwise ops grouped by the value they are computed from
  const regions = new Map<Run, Op[]>();
  for (const o of [...ctx.ops].sort((a, b) => a.seq - b.seq)) {
    if (!isElementwise(o, memo)) continue;
    const root = rootOf(o.out, memo);
    const list = regions.get(root);
    if (list === undefined) regions.set(root, [o]);
    else list.push(o);
  }
  for (const [root, region] of regions) {
    const inRegion = new Set(region);
    const exits = region.filter((o) => outputs.has(o.out) || consumers(ctx, o.out).some((c) => !inRegion.has(c)));
    const node = (exits[0] ?? region[region.length - 1]!).nodes[0]!;
    if (exits.length !== 1) fail(node, `an elementwise computation with ${exits.length} results used elsewhere`, 'one activation function per layer');
    const exit = exits[0]!;
    // evaluate the region on probe values
    const values = new Map<Run, Float64Array>([[root, PROBES]]);
    for (const o of region) {
      const ins = o.inputs.map((i) => values.get(i) ?? fail(o.nodes[0]!, 'an elementwise computation that reads a tensor from outside the layer'));
      const a = ins[0]!;
      let y: Float64Array;
      if (o.kind === 'unary') y = a.map((x) => evalUnary(o['fn'] as string, x, (o['alpha'] as number | undefined) ?? 0.01));
      else {
        const bop = o['bop'] as string;
        const b = o.kind === 'bin' ? ins[1]! : new Float64Array(a.length).fill(scalarOf(o['c'] as Const) as number);
        const [p, q] = o.kind === 'binc' && o['constFirst'] === true ? [b, a] : [a, b];
        y = p.map((x, i) => {
          const z = q[i] as number;
          return bop === 'add' ? x + z : bop === 'sub' ? x - z : bop === 'mul' ? x * z : bop === 'div' ? x / z : x ** z;
        });
      }
      values.set(o.out, y);
    }
    const got = values.get(exit.out)!;
    const close = (f: (x: number) => number): boolean => PROBES.every((x, i) => Math.abs((got[i] as number) - f(x)) <= 2e-6 * (1 + Math.abs(f(x))));
    let node2: Record<string, unknown> | null = null;
    if (region.length === 1 && region[0]!.kind === 'unary' && region[0]!['fn'] === 'leaky') {
      node2 = { fn: 'leaky_relu', slope: short(region[0]!['alpha'] as number) };
    } else {
      for (const c of CANDIDATES) {
        if (close(c.f)) {
          node2 = { fn: c.fn, ...(c.degree === undefined ? {} : { degree: c.degree }) };
          break;
        }
      }
      if (node2 === null) {
        const slope = -(got[PROBES.indexOf(-1.5)] ?? NaN) / 1.5;
        if (slope >= 0 && Number.isFinite(slope) && close((x) => (x >= 0 ? x : slope * x))) node2 = { fn: 'leaky_relu', slope };
      }
    }
    if (node2 === null) {
      const ops = [...new Set(region.flatMap((o) => o.nodes.map((n) => n.opType)))].join(', ');
      fail(node, `an elementwise function (${ops}) that is none of relu, leaky_relu, tanh, sigmoid, softplus, gelu, silu, rbf, polynomial`, 'one of those activations (GELU with approximate="none")');
    }
    replace(ctx, region, root, exit.out, 'act', node2, outputs);
  }
}

// ---- layout into the IR ----

interface Emit {
  names: Set<string>;
  params: ParamDict;
  mapping: OnnxImportReport['mapping'];
  emitted: Set<Op>;
  forks: Map<Op, Run>;
  depth: Map<Run, number>;
  counter: number;
}

function sanitize(s: string): string {
  const t = s.replace(/^[^A-Za-z0-9_]+/, '').replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/[._-]+$/, '');
  return NAME_RE.test(t) ? t : '';
}

function uniqueName(e: Emit, candidates: string[], fallback: string, suffixes: string[]): string {
  for (const c of candidates) {
    if (c !== '' && NAME_RE.test(c) && !e.names.has(c) && suffixes.every((s) => e.params[`${c}.${s}`] === undefined)) return c;
  }
  let base = sanitize(fallback) || 'node';
  if (e.names.has(base)) {
    let k = 1;
    while (e.names.has(`${base}_${k}`)) k++;
    base = `${base}_${k}`;
  }
  return base;
}

function stem(initName: unknown, suffix: string): string {
  if (typeof initName !== 'string' || initName === '') return '';
  if (initName.endsWith(`.${suffix}`)) return initName.slice(0, -suffix.length - 1);
  return '';
}

/**
 * The module path of a scoped node name as PyTorch writes them (`/layer1/layer1.0/conv1/Conv` ->
 * `layer1.0.conv1`, op `Conv`), or null for other names.
 */
function scopeOf(name: string): { path: string; op: string } | null {
  const m = /^\/(?:(.*)\/)?([A-Za-z]+(?:_\d+)?)$/.exec(name);
  if (m === null) return null;
  // each component names a module relative to its parent's scope, and repeats the parent when it is
  // an item of a container (/stages.1/stages.1.0/shortcut/shortcut.0 is stages.1.0.shortcut.0)
  const parts: string[] = [];
  for (const part of (m[1] ?? '').split('/')) {
    if (part === '') continue;
    const last = parts[parts.length - 1];
    if (last !== undefined && part.startsWith(`${last}.`)) parts[parts.length - 1] = part;
    else parts.push(part);
  }
  return { path: parts.join('.'), op: m[2] as string };
}

/** ONNX nodes per module path (scoped names only). */
let scopeSizes = new Map<string, number>();

/**
 * A node name for the IR: a layer (`module`), or an operator that is all its module computes
 * (`nn.ReLU()` at `/1/Relu`), gets the module path; other operators path.op (`layer1.0.relu_1`).
 */
function nodeName(op: Op, module = false): string {
  const n = op.nodes[op.nodes.length - 1]!;
  if (n.name === '') return `${n.opType}_${n.output[0] ?? ''}`;
  const sc = scopeOf(n.name);
  if (sc === null) return n.name;
  const own = op.nodes.filter((m) => scopeOf(m.name)?.path === sc.path).length;
  if (sc.path !== '' && (module || scopeSizes.get(sc.path) === own)) return sc.path;
  return sc.path === '' ? sc.op.toLowerCase() : `${sc.path}.${sc.op.toLowerCase()}`;
}

function emitOp(e: Emit, op: Op, shapeIn: readonly number[]): GraphNode[] {
  const onnxNames = op.nodes.map((n) => n.name || n.opType);
  const put = (node: GraphNode, params: Record<string, { shape: number[]; data: Float32Array }>): GraphNode[] => {
    e.names.add(node.name);
    for (const [k, v] of Object.entries(params)) e.params[`${node.name}.${k}`] = v;
    e.mapping.push({ node: node.name, op: node.op, onnx: onnxNames });
    return [node];
  };
  const first = op.nodes[0]!;
  switch (op.kind) {
    case 'dense': {
      const W = op['W'] as Float32Array;
      const b = op['b'] as Float32Array | undefined;
      const units = op.out.shape[op.out.shape.length - 1] as number;
      const name = uniqueName(e, [stem(op['bName'], 'bias'), stem(op['wName'], 'weight')], nodeName(op, true), ['weight', 'bias']);
      return put({ op: 'dense', name, units, ...(b === undefined ? { bias: false } : {}) }, { weight: { shape: [units, W.length / units], data: W }, ...(b === undefined ? {} : { bias: { shape: [units], data: b } }) });
    }
    case 'conv': {
      const W = op['W'] as Float32Array;
      const b = op['b'] as Float32Array | undefined;
      const f = op['filters'] as number;
      const k = op['kernel'] as number;
      const name = uniqueName(e, [stem(op['wName'], 'weight'), stem(op['bName'], 'bias')], nodeName(op, true), ['weight', 'bias']);
      const c = shapeIn[0] as number;
      return put(
        { op: 'conv2d', name, filters: f, kernel: k, stride: op['stride'] as number, padding: op['padding'] as number, ...(b === undefined ? { bias: false } : {}) },
        { weight: { shape: [f, c, k, k], data: W }, ...(b === undefined ? {} : { bias: { shape: [f], data: b } }) },
      );
    }
    case 'bn': {
      const c = (op['scale'] as Float32Array).length;
      const name = uniqueName(e, [stem(op['wName'], 'weight')], nodeName(op, true), ['weight', 'bias', 'running_mean', 'running_var']);
      const mom = op['momentum'] as number;
      return put(
        { op: 'batchnorm', name, eps: op['eps'] as number, ...(mom > 0 && mom <= 1 && Math.abs(mom - 0.1) > 1e-7 ? { momentum: mom } : {}) },
        {
          weight: { shape: [c], data: op['scale'] as Float32Array },
          bias: { shape: [c], data: op['bias'] as Float32Array },
          running_mean: { shape: [c], data: op['mean'] as Float32Array },
          running_var: { shape: [c], data: op['var'] as Float32Array },
        },
      );
    }
    case 'ln': {
      const w = op['w'] as Float32Array;
      const name = uniqueName(e, [stem(op['wName'], 'weight')], nodeName(op, true), ['weight', 'bias']);
      return put({ op: 'layernorm', name, eps: op['eps'] as number }, { weight: { shape: [w.length], data: w }, bias: { shape: [w.length], data: op['b'] as Float32Array } });
    }
    case 'act': {
      if (op['fn'] === 'identity') return [];
      const name = uniqueName(e, [], nodeName(op), []);
      return put({ op: 'activation', name, fn: op['fn'] as ActivationFn, ...(op['slope'] === undefined ? {} : { slope: op['slope'] as number }), ...(op['degree'] === undefined ? {} : { degree: op['degree'] as number }) }, {});
    }
    case 'maxpool':
    case 'avgpool': {
      const size = op['size'] as number;
      const stride = op['stride'] as number;
      const pad = op['padding'] as number;
      return put({ op: op.kind, name: uniqueName(e, [], nodeName(op), []), size, ...(stride !== size ? { stride } : {}), ...(pad !== 0 ? { padding: pad } : {}) }, {});
    }
    case 'gap':
      return put({ op: 'globalavgpool', name: uniqueName(e, [], nodeName(op), []) }, {});
    case 'mean': {
      const axes = (op['axes'] as number[]).join();
      if ((shapeIn.length === 3 && axes === '1,2') || (shapeIn.length === 2 && axes === '0' && op['keep'] !== true)) {
        return put({ op: 'globalavgpool', name: uniqueName(e, [], nodeName(op), []) }, {});
      }
      return fail(first, `a ReduceMean over per-example axes [${axes}] of [${shapeIn.join(', ')}]`, nearest('ReduceMean'));
    }
    case 'reshape': {
      if (sameShape(op.out.shape, shapeIn)) return [];
      const src = op.inputs[0]!.op;
      // the [C, 1, 1] of a global average pool flattened: the IR's globalavgpool already gives [C]
      if (op.out.shape.length === 1 && shapeIn.length === 3 && shapeIn[1] === 1 && shapeIn[2] === 1 && (src?.kind === 'gap' || src?.kind === 'mean')) return [];
      if (shapeIn.length === 3 && op.out.shape.length === 1) return put({ op: 'flatten', name: uniqueName(e, [], nodeName(op), []) }, {});
      return fail(first, `a reshape of [N, ${shapeIn.join(', ')}] to [N, ${op.out.shape.join(', ')}]`, 'Flatten(x, axis=1) after the convolutions, or the head split of the zoo attention block');
    }
    case 'embedding': {
      const W = op['W'] as Float32Array;
      const dim = op.out.shape[1] as number;
      const name = uniqueName(e, [stem(op['wName'], 'weight')], nodeName(op), ['weight']);
      return put({ op: 'embedding', name, dim }, { weight: { shape: [W.length / dim, dim], data: W } });
    }
    case 'positional': {
      const W = op['W'] as Float32Array;
      const wn = op['wName'] as string;
      const name = uniqueName(e, [stem(wn, 'weight'), sanitize(wn) === wn ? wn : ''], nodeName(op), ['weight']);
      return put({ op: 'positional', name }, { weight: { shape: [...op.out.shape], data: W } });
    }
    case 'token':
      return put({ op: 'token', name: uniqueName(e, [], nodeName(op), []), index: op['index'] as number }, {});
    case 'attention': {
      const parts = op['parts'] as Record<'q' | 'k' | 'v' | 'o', Op>;
      const bias = op['bias'] as (o: Op) => Float32Array;
      const stems = (['q', 'k', 'v', 'o'] as const).map((m) => stem(parts[m]['bName'], 'bias') || stem(parts[m]['wName'], 'weight'));
      const prefix = stems.every((s, i) => s.endsWith(`.${'qkvo'[i]}`)) ? stems.map((s) => s.slice(0, -2)) : [];
      const common = prefix.length === 4 && prefix.every((p) => p === prefix[0]) ? (prefix[0] as string) : '';
      const name = uniqueName(e, [common], nodeName(op), ['q.weight', 'k.weight', 'v.weight', 'o.weight']);
      const d = shapeIn[1] as number;
      const ps: Record<string, { shape: number[]; data: Float32Array }> = {};
      for (const m of ['q', 'k', 'v', 'o'] as const) {
        ps[`${m}.weight`] = { shape: [d, d], data: parts[m]['W'] as Float32Array };
        ps[`${m}.bias`] = { shape: [d], data: bias(parts[m]) };
      }
      return put({ op: 'attention', name, heads: op['heads'] as number, ...(op['causal'] === true ? { causal: true } : {}) }, ps);
    }
    case 'softmax':
      return fail(first, `${first.opType} inside the network`, nearest(first.opType === 'LogSoftmax' ? 'LogSoftmax' : 'Softmax'));
    case 'matmul2':
      return fail(first, 'a product of two computed tensors outside an attention block', nearest('MatMul'));
    case 'transpose':
      return fail(first, 'a transpose outside an attention block', nearest('Transpose'));
    case 'unary':
    case 'binc':
    case 'bin':
      return fail(first, `an elementwise ${first.opType} that basis cannot express here (a per-channel scale or offset, or a product of two branches)`, 'BatchNormalization, a bias of a Linear/Conv layer, or a residual Add');
    default:
      return fail(first, 'an operator basis does not import', nearest(first.opType));
  }
}

/** The value a node reads on its primary path (a residual sum: the tensor its branches fork from). */
function up(e: Emit, v: Run): Run | null {
  const o = v.op;
  if (o === null) return null;
  return e.forks.get(o) ?? o.inputs[0]!;
}

/**
 * Depths along the primary path and the fork of every residual sum (the lowest common ancestor of
 * its two inputs), computed in graph order.
 */
function computeForks(e: Emit, ops: readonly Op[], input: Run, isJoin: (o: Op) => boolean): void {
  e.depth.set(input, 0);
  for (const o of ops) {
    if (o.dead) continue;
    if (isJoin(o)) {
      let a: Run | null = o.inputs[0]!;
      let b: Run | null = o.inputs[1]!;
      while (a !== null && b !== null && a !== b) {
        const da = e.depth.get(a) ?? -1;
        const db = e.depth.get(b) ?? -1;
        if (da < 0 || db < 0) break;
        if (da >= db) a = up(e, a);
        else b = up(e, b);
      }
      if (a === null || b === null || a !== b) fail(o.nodes[0]!, 'an Add of two tensors that do not come from one input', 'a residual Add of two branches of one tensor');
      e.forks.set(o, a);
      e.depth.set(o.out, (e.depth.get(a) as number) + 1);
    } else {
      const d = e.depth.get(o.inputs[0]!);
      if (d !== undefined) e.depth.set(o.out, d + 1);
    }
  }
}

const MAX_NESTING = 64;

function layout(e: Emit, to: Run, from: Run, isJoin: (o: Op) => boolean, level: number): GraphNode[] {
  // collect the chain backwards, then emit forwards (names follow the order of the graph)
  const chain: Op[] = [];
  let cur = to;
  while (cur !== from) {
    const o = cur.op;
    if (o === null) fail(null, 'the output does not depend on the input through one chain of layers');
    if (e.emitted.has(o)) fail(o.nodes[0]!, 'a tensor read by two branches that do not join in a residual Add', 'a residual block (body + shortcut summed by one Add)');
    e.emitted.add(o);
    chain.push(o);
    cur = up(e, cur)!;
  }
  chain.reverse();
  const nodes: GraphNode[] = [];
  for (const o of chain) {
    if (isJoin(o)) {
      const n = o.nodes[0]!;
      if (level >= MAX_NESTING) fail(n, `residual blocks nested more than ${MAX_NESTING} deep`);
      const fork = e.forks.get(o)!;
      const df = e.depth.get(fork) as number;
      const la = (e.depth.get(o.inputs[0]!) as number) - df;
      const lb = (e.depth.get(o.inputs[1]!) as number) - df;
      const [bodyEnd, shortEnd] = la >= lb ? [o.inputs[0]!, o.inputs[1]!] : [o.inputs[1]!, o.inputs[0]!];
      const body = layout(e, bodyEnd, fork, isJoin, level + 1);
      const shortcut = layout(e, shortEnd, fork, isJoin, level + 1);
      if (body.length === 0) fail(n, 'an Add of a tensor with itself', 'a residual Add whose body has layers');
      // the block's name: the Add's ONNX name unless generic, else the dotted path its body's node
      // names share (layer1.0 for layer1.0.conv1, layer1.0.bn1, ...), else res<k>
      const names = [...body, ...shortcut].map((b) => b.name);
      let p = names[0] ?? '';
      for (const s of names) while (!s.startsWith(p)) p = p.slice(0, -1);
      const cut = p.lastIndexOf('.');
      const cand = cut > 0 ? p.slice(0, cut) : '';
      // an Add named by a writer that names nodes (basis' exporter) wins over generic names (Add_12)
      const own = sanitize(n.name) === n.name && !/^[A-Za-z]+_\d+$/.test(n.name) ? n.name : '';
      const scope = scopeOf(n.name)?.path ?? '';
      const finalName = uniqueName(e, [own, scope, cand], `res${e.counter++}`, []);
      e.names.add(finalName);
      nodes.push({ op: 'residual', name: finalName, body, ...(shortcut.length > 0 ? { shortcut } : {}) });
      e.mapping.push({ node: finalName, op: 'residual', onnx: [n.name || n.opType] });
    } else {
      nodes.push(...emitOp(e, o, o.inputs[0]!.shape));
    }
  }
  return nodes;
}

/**
 * One line per fact of an ONNX import report, for printing: producer, opset, node counts, what was
 * folded and dropped.
 *
 * @example
 * ```ts
 * formatOnnxReport(importOnnx(bytes).report);
 * // 'onnx: pytorch 1.13.0, opset 13, 9 ONNX nodes -> 5 graph nodes (2 folded)'
 * ```
 */
export function formatOnnxReport(r: OnnxImportReport): string {
  const lines = [`onnx: ${r.producer === '' ? 'unknown producer' : r.producer}, opset ${r.opset}, ${r.onnxNodes} ONNX nodes -> ${r.mapping.length} graph nodes (${r.folded} folded)`];
  for (const d of r.dropped) lines.push(`  dropped ${d}`);
  return lines.join('\n');
}

/**
 * Options of {@link importOnnx}.
 *
 * @example
 * ```ts
 * importOnnx(bytes, { maxBytes: 2 ** 30, name: 'my-cnn' } satisfies ImportOnnxOptions);
 * ```
 */
export interface ImportOnnxOptions extends ReadOptions {
  /** Name of the imported graph (default: the ONNX graph's name unless generic, else `fallbackName`). */
  name?: string;
  /** Name when the file's graph name is empty or generic (`torch_jit`, `main_graph`); default `onnx-model`. */
  fallbackName?: string;
}

/**
 * Reads an ONNX model into the basis graph IR and its parameters (float32, PyTorch layout).
 * Parameter names come from the ONNX initializers where they are PyTorch names (`0.weight`,
 * `layer1.0.conv1.weight`), so a model exported by `torch.onnx.export` keeps its state_dict
 * names; shape arithmetic is folded, bias Adds join their layers, decomposed GELU/SiLU/layer norm
 * and the zoo transformer's attention block are recognised, and a final Softmax is dropped (the
 * model then outputs logits; the report says so). An operator the IR cannot express raises
 * BAD_FILE naming the node, its operator and the nearest supported form; a truncated or corrupt
 * file raises BAD_FILE too (bounded by `maxBytes`, see {@link decodeOnnx}).
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * const { graph, params, report } = importOnnx(new Uint8Array(await readFile('cnn.onnx')));
 * graph.nodes.map((n) => n.op); // ['conv2d', 'batchnorm', 'activation', ..., 'dense']
 * ```
 */
export function importOnnx(source: Uint8Array | OnnxModel, opts: ImportOnnxOptions = {}): OnnxImport {
  const budget = new ByteBudget(resolveMaxBytes(opts, source instanceof Uint8Array ? source.length : 0), 'ONNX import');
  const model = source instanceof Uint8Array ? decodeOnnxBudget(source, budget) : source;
  const g = model.graph;
  const opset = model.opset[''] ?? 0;
  const initNames = new Set(g.initializer.map((t) => t.name));
  const runtimeInputs = g.input.filter((v) => !initNames.has(v.name));
  if (runtimeInputs.length !== 1) {
    fail(null, `the graph has ${runtimeInputs.length} inputs (${runtimeInputs.map((v) => v.name).join(', ') || 'none'}); basis models take one input tensor`);
  }
  const inp = runtimeInputs[0]!;
  if (inp.shape === null || inp.shape.length < 2) fail(null, `input '${inp.name}' has no static shape [N, ...]; export with a fixed example shape`);
  const perExample = inp.shape.slice(1).map((d, i) => {
    if (typeof d !== 'number' || !(d >= 1)) fail(null, `input '${inp.name}' has a dynamic dimension ${i + 1} (${String(d)}); only the batch axis may be dynamic`);
    return d;
  });
  const ints = [6, 7, 2, 3, 4, 5, 12, 13].includes(inp.elemType);
  if (!ints && inp.elemType !== 1 && inp.elemType !== 11 && inp.elemType !== 10) fail(null, `input '${inp.name}' has ONNX element type ${inp.elemType}; basis models take float images/vectors or integer token ids`);
  if (perExample.length !== 1 && perExample.length !== 3) fail(null, `input '${inp.name}' has shape [N, ${perExample.join(', ')}]; basis models take [N, d] vectors, [N, C, H, W] images or [N, T] token ids`);
  if (g.output.length !== 1) fail(null, `the graph has ${g.output.length} outputs; basis reads models with one output (the logits)`);
  const ctx: Ctx = { vals: new Map(), ops: [], users: new Map(), budget, nextId: 0, batch: typeof inp.shape[0] === 'number' ? inp.shape[0] : null, folded: 0, dropped: [] };
  for (const t of g.initializer) ctx.vals.set(t.name, constOf(t));
  const input = run(ctx, perExample, ints);
  ctx.vals.set(inp.name, input);
  const uses = new Map<string, number>();
  for (const n of g.node) for (const i of n.input) uses.set(i, (uses.get(i) ?? 0) + 1);
  scopeSizes = new Map();
  for (const n of g.node) {
    const sc = scopeOf(n.name);
    if (sc !== null && n.opType !== 'Constant') scopeSizes.set(sc.path, (scopeSizes.get(sc.path) ?? 0) + 1);
  }
  for (const o of g.output) uses.set(o.name, (uses.get(o.name) ?? 0) + 1);
  for (const n of g.node) convert(ctx, n, uses);
  const outName = g.output[0]!.name;
  const outVal = ctx.vals.get(outName);
  if (outVal === undefined) fail(null, `the graph output '${outName}' is not computed by any node`);
  if (outVal.kind !== 'run') fail(null, `the graph output '${outName}' is a constant, not computed from the input`);
  let output: Run = outVal;
  let outputSoftmax: string | null = null;
  if (output.op?.kind === 'softmax') {
    outputSoftmax = output.op.nodes[0]!.opType;
    ctx.dropped.push(`${nodeLabel(output.op.nodes[0]!)} at the output (basis models output logits)`);
    output.op.dead = true;
    output = output.op.inputs[0]!;
  }
  const outputs = new Set<Run>([output]);
  attentionPass(ctx, outputs);
  layerNormPass(ctx, outputs);
  activationPass(ctx, outputs);
  const e: Emit = { names: new Set(), params: {}, mapping: [], emitted: new Set(), forks: new Map(), depth: new Map(), counter: 0 };
  const isJoin = (o: Op): boolean => o.kind === 'bin' && o['bop'] === 'add' && o.inputs[0] !== o.inputs[1];
  // `layout` walks the primary path; it sees every op that feeds the output
  for (const o of ctx.ops) if (!o.dead && o.kind === 'bin' && o['bop'] === 'add' && !isJoin(o)) fail(o.nodes[0]!, 'an Add of a tensor with itself', 'a residual Add whose body has layers');
  const ordered = ctx.ops.filter((o) => !o.dead).sort((a, b) => a.seq - b.seq);
  computeForks(e, ordered, input, isJoin);
  const nodes = layout(e, output, input, isJoin, 0);
  if (nodes.length === 0) fail(null, 'the graph computes nothing basis can represent (its output is its input)');
  if (input.ints && nodes[0]?.op !== 'embedding') fail(null, 'a model that takes integer inputs but does not start with an embedding (Gather) lookup', 'nn.Embedding as the first layer of a token model');
  const emb = nodes[0]?.op === 'embedding' ? (e.params[`${nodes[0].name}.weight`]?.shape[0] as number) : undefined;
  const name = opts.name ?? (/^(torch[-_]jit|main_graph|graph|)$/i.test(g.name) ? (opts.fallbackName ?? 'onnx-model') : g.name);
  const graph: ModelGraph = {
    format: 'basis.model',
    version: 1,
    name,
    input: perExample,
    nodes,
    ...(emb === undefined ? {} : { tokens: { vocab: emb } }),
    meta: { architecture: 'onnx', producer: `${model.producerName} ${model.producerVersion}`.trim(), opset, ...(outputSoftmax === null ? {} : { outputSoftmax }) },
  };
  let desc: ReturnType<typeof describeGraph>;
  try {
    desc = describeGraph(graph);
  } catch (err) {
    throw new BasisError('BAD_FILE', `ONNX import: the graph read from the file is not a valid basis graph: ${(err as Error).message}`, { cause: err });
  }
  const params: ParamDict = {};
  for (const p of desc.params) {
    const v = e.params[p.name];
    if (v === undefined || v.data.length !== numel(p.shape)) throw new BasisError('BAD_FILE', `ONNX import: parameter '${p.name}' is missing or has the wrong size`);
    for (let k = 0; k < v.data.length; k++) {
      if (!Number.isFinite(v.data[k] as number)) throw new BasisError('BAD_FILE', `ONNX import: parameter '${p.name}' holds ${v.data[k]} at flat index ${k}`);
    }
    params[p.name] = { shape: [...p.shape], data: v.data };
  }
  return {
    graph,
    params,
    report: {
      producer: `${model.producerName} ${model.producerVersion}`.trim(),
      opset,
      onnxNodes: g.node.length,
      folded: ctx.folded,
      mapping: e.mapping,
      dropped: ctx.dropped,
      outputSoftmax: outputSoftmax !== null,
    },
  };
}
