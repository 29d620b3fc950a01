// The ONNX file format (a protobuf `ModelProto`, onnx/onnx.proto) read and written through
// protobufjs' wire-level Reader and Writer (`protobufjs/minimal`). The messages are mapped by hand
// instead of through protobufjs' reflection decoder so that (1) every element the reader creates is
// counted against the shared byte budget before it is allocated (a crafted file of empty repeated
// messages would otherwise grow ~50x in memory), (2) int64 dimensions become checked JS numbers, not
// Long objects, (3) the recursive parts of the schema (sub-graphs of If/Loop, nested type protos) are
// skipped with the library's depth-limited skipType, and (4) no code is generated at run time
// (the minimal build works under a browser's content-security policy).
import pb from 'protobufjs/minimal.js';
import { BasisError, ByteBudget, halfToFloat, bfloat16ToFloat, isBasisError, resolveMaxBytes, type ReadOptions } from '@basis/tensor';

const { Reader, Writer } = pb;
type PbReader = InstanceType<typeof Reader>;
type PbWriter = InstanceType<typeof Writer>;

/**
 * ONNX `TensorProto.DataType` codes that basis reads.
 *
 * @example
 * ```ts
 * decodeOnnx(bytes).graph.initializer[0].dataType === ONNX_DTYPES.FLOAT; // float32 weights
 * ```
 */
export const ONNX_DTYPES = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;

/**
 * A tensor of an ONNX file (an initializer or a constant): floating types as `Float32Array`
 * (double as `Float64Array`), integer and boolean types as `Float64Array` of their values
 * (int64 beyond 2^53 rounded, which only happens for PyTorch's "to the end" slice bounds).
 *
 * @example
 * ```ts
 * const w: OnnxTensor = { name: 'fc.weight', dataType: ONNX_DTYPES.FLOAT, dims: [10, 16], data: new Float32Array(160) };
 * ```
 */
export interface OnnxTensor {
  name: string;
  /** `TensorProto.DataType` code. */
  dataType: number;
  dims: number[];
  data: Float32Array | Float64Array;
}

/**
 * One attribute of a node (the kinds basis reads; graphs and sparse tensors are skipped).
 *
 * @example
 * ```ts
 * const strides: OnnxAttribute = { name: 'strides', type: 7, ints: [2, 2] };
 * ```
 */
export interface OnnxAttribute {
  name: string;
  /** `AttributeProto.AttributeType`: 1 float, 2 int, 3 string, 4 tensor, 6 floats, 7 ints, 8 strings; 0 when absent. */
  type: number;
  f?: number;
  i?: number;
  s?: string;
  t?: OnnxTensor;
  floats?: number[];
  ints?: number[];
  strings?: string[];
  /** True when the attribute holds a sub-graph (If/Loop bodies), which basis does not read. */
  graph?: boolean;
}

/**
 * One node of an ONNX graph.
 *
 * @example
 * ```ts
 * const relu: OnnxNode = { name: 'act', opType: 'Relu', domain: '', input: ['h'], output: ['y'], attribute: [] };
 * ```
 */
export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  input: string[];
  output: string[];
  attribute: OnnxAttribute[];
}

/**
 * A graph input or output: name, element type and shape (a number, a symbolic name, or null when unknown).
 *
 * @example
 * ```ts
 * const input: OnnxValueInfo = { name: 'input', elemType: ONNX_DTYPES.FLOAT, shape: ['N', 1, 28, 28] };
 * ```
 */
export interface OnnxValueInfo {
  name: string;
  elemType: number;
  shape: (number | string | null)[] | null;
}

/**
 * An ONNX graph: nodes in topological order, initializers (the weights), inputs and outputs.
 *
 * @example
 * ```ts
 * const g: OnnxGraph = decodeOnnx(bytes).graph;
 * g.node.length; // operators
 * ```
 */
export interface OnnxGraph {
  name: string;
  node: OnnxNode[];
  initializer: OnnxTensor[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
}

/**
 * A decoded ONNX model (the parts basis uses).
 *
 * @example
 * ```ts
 * const m = decodeOnnx(bytes);
 * m.graph.node.map((n) => n.opType); // ['Gemm', 'Relu', 'Gemm']
 * ```
 */
export interface OnnxModel {
  irVersion: number;
  /** Operator set version by domain (`''` is the default ONNX domain). */
  opset: Record<string, number>;
  producerName: string;
  producerVersion: string;
  graph: OnnxGraph;
  metadata: Record<string, string>;
}

const WHAT = 'not a valid ONNX file';

function bad(message: string): BasisError {
  return new BasisError('BAD_FILE', `${WHAT}: ${message}`);
}

/** Bytes counted per decoded object (a JS object with a few fields, or a short array). */
const OBJ = 96;
/** Bytes counted per number pushed into a JS array. */
const NUM = 16;

class Dec {
  constructor(
    readonly r: PbReader,
    readonly budget: ByteBudget,
  ) {}

  /** Iterates the fields of a length-delimited message (or of the whole buffer when `top`). */
  fields(top: boolean, each: (field: number, wire: number) => void): void {
    const r = this.r;
    const end = top ? r.len : r.uint32() + r.pos;
    if (end > r.len) throw bad(`a message of ${end - r.pos} bytes runs past the end of the file (truncated?)`);
    while (r.pos < end) {
      const tag = r.uint32();
      const field = tag >>> 3;
      const wire = tag & 7;
      if (field === 0) throw bad(`field number 0 at byte ${r.pos}`);
      if (wire === 3 || wire === 4) throw bad(`protobuf groups (wire type ${wire}) at byte ${r.pos}; ONNX files have none`);
      each(field, wire);
    }
    if (r.pos !== end) throw bad(`a message overruns its declared length at byte ${r.pos}`);
  }

  skip(wire: number): void {
    this.r.skipType(wire);
  }

  expect(wire: number, want: number, what: string): void {
    if (wire !== want) throw bad(`${what} has wire type ${wire}, expected ${want}`);
  }

  string(what: string): string {
    const r = this.r;
    const start = r.pos;
    const n = r.uint32();
    if (r.pos + n > r.len) throw bad(`${what} of ${n} bytes runs past the end of the file (truncated?)`);
    this.budget.take(2 * n + OBJ, what);
    r.pos = start;
    return r.string();
  }

  bytes(what: string): Uint8Array {
    const r = this.r;
    const start = r.pos;
    const n = r.uint32();
    if (r.pos + n > r.len) throw bad(`${what} of ${n} bytes runs past the end of the file (truncated?)`);
    r.pos = start;
    return r.bytes(); // a view, not a copy
  }

  int(what: string): number {
    const v = this.r.int64() as unknown as { toNumber(): number } | number;
    const n = typeof v === 'number' ? v : v.toNumber();
    if (!Number.isFinite(n)) throw bad(`${what} is not a number`);
    return n;
  }

  /** Repeated int64: packed (wire 2) or one value (wire 0). */
  ints(wire: number, into: number[], what: string): void {
    if (wire === 0) {
      this.budget.take(NUM, what);
      into.push(this.int(what));
      return;
    }
    this.expect(wire, 2, what);
    const r = this.r;
    const end = r.uint32() + r.pos;
    if (end > r.len) throw bad(`${what} runs past the end of the file (truncated?)`);
    while (r.pos < end) {
      this.budget.take(NUM, what);
      into.push(this.int(what));
    }
    if (r.pos !== end) throw bad(`${what} overruns its declared length`);
  }

  /** Repeated float: packed (wire 2) or one value (wire 5). */
  floats(wire: number, into: number[], what: string): void {
    const r = this.r;
    if (wire === 5) {
      this.budget.take(NUM, what);
      into.push(r.float());
      return;
    }
    this.expect(wire, 2, what);
    const n = r.uint32();
    if (r.pos + n > r.len) throw bad(`${what} runs past the end of the file (truncated?)`);
    if (n % 4 !== 0) throw bad(`${what} holds ${n} bytes, not a whole number of floats`);
    this.budget.take((n / 4) * NUM, what);
    for (let k = 0; k < n / 4; k++) into.push(r.float());
  }

  /** Repeated double: packed (wire 2) or one value (wire 1). */
  doubles(wire: number, into: number[], what: string): void {
    const r = this.r;
    if (wire === 1) {
      this.budget.take(NUM, what);
      into.push(r.double());
      return;
    }
    this.expect(wire, 2, what);
    const n = r.uint32();
    if (r.pos + n > r.len) throw bad(`${what} runs past the end of the file (truncated?)`);
    if (n % 8 !== 0) throw bad(`${what} holds ${n} bytes, not a whole number of doubles`);
    this.budget.take((n / 8) * NUM, what);
    for (let k = 0; k < n / 8; k++) into.push(r.double());
  }
}

const ELEM_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

function tensorFrom(
  d: Dec,
  name: string,
  dataType: number,
  dims: number[],
  raw: Uint8Array | null,
  floatData: number[],
  intData: number[],
  doubleData: number[],
  external: boolean,
): OnnxTensor {
  const label = `tensor '${name}'`;
  if (external) throw bad(`${label} keeps its data in an external file; export with the weights inside the .onnx file (torch.onnx.export(..., external_data=False) or onnx.save(model, path, save_as_external_data=False))`);
  let count = 1;
  for (const v of dims) {
    if (!Number.isSafeInteger(v) || v < 0) throw bad(`${label} has dimension ${v}`);
    count *= v;
  }
  if (!Number.isSafeInteger(count)) throw bad(`${label} has ${count} elements`);
  const size = ELEM_BYTES[dataType];
  if (size === undefined) {
    throw bad(`${label} has data type ${dataType}${dataType === ONNX_DTYPES.STRING ? ' (string)' : ''}; basis reads float, double, float16, bfloat16, integer and bool tensors`);
  }
  const isFloat = dataType === 1 || dataType === 10 || dataType === 16;
  d.budget.take(count * (isFloat ? 4 : 8), `${label} (${count} values)`);
  const out = isFloat ? new Float32Array(count) : new Float64Array(count);
  if (raw !== null && raw.length > 0) {
    if (raw.length !== count * size) throw bad(`${label} of shape [${dims.join(', ')}] needs ${count * size} bytes of raw_data, the file holds ${raw.length}`);
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let k = 0; k < count; k++) {
      const o = k * size;
      switch (dataType) {
        case 1:
          out[k] = v.getFloat32(o, true);
          break;
        case 11:
          out[k] = v.getFloat64(o, true);
          break;
        case 10:
          out[k] = halfToFloat(v.getUint16(o, true));
          break;
        case 16:
          out[k] = bfloat16ToFloat(v.getUint16(o, true));
          break;
        case 2:
        case 9:
          out[k] = v.getUint8(o);
          break;
        case 3:
          out[k] = v.getInt8(o);
          break;
        case 4:
          out[k] = v.getUint16(o, true);
          break;
        case 5:
          out[k] = v.getInt16(o, true);
          break;
        case 6:
          out[k] = v.getInt32(o, true);
          break;
        case 12:
          out[k] = v.getUint32(o, true);
          break;
        case 7:
          out[k] = Number(v.getBigInt64(o, true));
          break;
        case 13:
          out[k] = Number(v.getBigUint64(o, true));
          break;
      }
    }
    return { name, dataType, dims, data: dataType === 11 ? Float64Array.from(out) : out };
  }
  const src = dataType === 1 ? floatData : dataType === 11 ? doubleData : intData;
  if (src.length !== count) throw bad(`${label} of shape [${dims.join(', ')}] holds ${src.length} values`);
  for (let k = 0; k < count; k++) {
    const x = src[k] as number;
    out[k] = dataType === 10 ? halfToFloat(x) : dataType === 16 ? bfloat16ToFloat(x) : x;
  }
  return { name, dataType, dims, data: dataType === 11 ? Float64Array.from(out) : out };
}

function readTensor(d: Dec): OnnxTensor {
  d.budget.take(OBJ, 'a tensor');
  let name = '';
  let dataType = 0;
  const dims: number[] = [];
  let raw: Uint8Array | null = null;
  const floatData: number[] = [];
  const intData: number[] = [];
  const doubleData: number[] = [];
  let external = false;
  d.fields(false, (f, w) => {
    switch (f) {
      case 1:
        d.ints(w, dims, 'tensor dims');
        break;
      case 2:
        d.expect(w, 0, 'tensor data_type');
        dataType = d.r.int32();
        break;
      case 4:
        d.floats(w, floatData, 'float_data');
        break;
      case 5:
        d.ints(w, intData, 'int32_data'); // int32 varints read as int64 give the same values
        break;
      case 7:
        d.ints(w, intData, 'int64_data');
        break;
      case 11:
        d.ints(w, intData, 'uint64_data');
        break;
      case 8:
        d.expect(w, 2, 'tensor name');
        name = d.string('a tensor name');
        break;
      case 9:
        d.expect(w, 2, 'raw_data');
        raw = d.bytes('raw_data');
        break;
      case 10:
        d.doubles(w, doubleData, 'double_data');
        break;
      case 14:
        d.expect(w, 0, 'data_location');
        external = d.r.int32() === 1;
        break;
      default:
        d.skip(w);
    }
  });
  return tensorFrom(d, name, dataType, dims, raw, floatData, intData, doubleData, external);
}

function readAttribute(d: Dec): OnnxAttribute {
  d.budget.take(OBJ, 'an attribute');
  const a: OnnxAttribute = { name: '', type: 0 };
  d.fields(false, (f, w) => {
    switch (f) {
      case 1:
        d.expect(w, 2, 'attribute name');
        a.name = d.string('an attribute name');
        break;
      case 2:
        d.expect(w, 5, 'attribute f');
        a.f = d.r.float();
        break;
      case 3:
        d.expect(w, 0, 'attribute i');
        a.i = d.int('attribute i');
        break;
      case 4:
        d.expect(w, 2, 'attribute s');
        a.s = d.string('an attribute string');
        break;
      case 5:
        d.expect(w, 2, 'attribute t');
        a.t = readTensor(d);
        break;
      case 6:
      case 11:
        a.graph = true;
        d.skip(w);
        break;
      case 7:
        d.floats(w, (a.floats ??= []), 'attribute floats');
        break;
      case 8:
        d.ints(w, (a.ints ??= []), 'attribute ints');
        break;
      case 9:
        d.expect(w, 2, 'attribute strings');
        (a.strings ??= []).push(d.string('an attribute string'));
        break;
      case 20:
        d.expect(w, 0, 'attribute type');
        a.type = d.r.int32();
        break;
      default:
        d.skip(w);
    }
  });
  if (a.type === 0) a.type = a.t !== undefined ? 4 : a.ints !== undefined ? 7 : a.floats !== undefined ? 6 : a.strings !== undefined ? 8 : a.s !== undefined ? 3 : a.i !== undefined ? 2 : a.f !== undefined ? 1 : 0;
  return a;
}

function readNode(d: Dec): OnnxNode {
  d.budget.take(OBJ * 2, 'a node');
  const n: OnnxNode = { name: '', opType: '', domain: '', input: [], output: [], attribute: [] };
  d.fields(false, (f, w) => {
    switch (f) {
      case 1:
        d.expect(w, 2, 'node input');
        n.input.push(d.string('a node input'));
        break;
      case 2:
        d.expect(w, 2, 'node output');
        n.output.push(d.string('a node output'));
        break;
      case 3:
        d.expect(w, 2, 'node name');
        n.name = d.string('a node name');
        break;
      case 4:
        d.expect(w, 2, 'node op_type');
        n.opType = d.string('an op_type');
        break;
      case 5:
        d.expect(w, 2, 'node attribute');
        n.attribute.push(readAttribute(d));
        break;
      case 7:
        d.expect(w, 2, 'node domain');
        n.domain = d.string('a domain');
        break;
      default:
        d.skip(w);
    }
  });
  return n;
}

function readShape(d: Dec): (number | string | null)[] {
  const dims: (number | string | null)[] = [];
  d.fields(false, (f, w) => {
    if (f !== 1) return d.skip(w);
    d.expect(w, 2, 'shape dim');
    d.budget.take(OBJ, 'a shape dimension');
    let v: number | string | null = null;
    d.fields(false, (g, w2) => {
      if (g === 1) {
        d.expect(w2, 0, 'dim_value');
        v = d.int('dim_value');
      } else if (g === 2) {
        d.expect(w2, 2, 'dim_param');
        v = d.string('a dim_param');
      } else d.skip(w2);
    });
    dims.push(v);
  });
  return dims;
}

function readValueInfo(d: Dec): OnnxValueInfo {
  d.budget.take(OBJ, 'a value info');
  const v: OnnxValueInfo = { name: '', elemType: 0, shape: null };
  d.fields(false, (f, w) => {
    if (f === 1) {
      d.expect(w, 2, 'value name');
      v.name = d.string('a value name');
    } else if (f === 2) {
      d.expect(w, 2, 'value type');
      d.fields(false, (g, w2) => {
        if (g !== 1) return d.skip(w2); // sequence/map/optional types: not tensors
        d.expect(w2, 2, 'tensor_type');
        d.fields(false, (h, w3) => {
          if (h === 1) {
            d.expect(w3, 0, 'elem_type');
            v.elemType = d.r.int32();
          } else if (h === 2) {
            d.expect(w3, 2, 'tensor shape');
            v.shape = readShape(d);
          } else d.skip(w3);
        });
      });
    } else d.skip(w);
  });
  return v;
}

function readGraph(d: Dec): OnnxGraph {
  const g: OnnxGraph = { name: '', node: [], initializer: [], input: [], output: [] };
  d.fields(false, (f, w) => {
    switch (f) {
      case 1:
        d.expect(w, 2, 'graph node');
        g.node.push(readNode(d));
        break;
      case 2:
        d.expect(w, 2, 'graph name');
        g.name = d.string('the graph name');
        break;
      case 5:
        d.expect(w, 2, 'graph initializer');
        g.initializer.push(readTensor(d));
        break;
      case 11:
        d.expect(w, 2, 'graph input');
        g.input.push(readValueInfo(d));
        break;
      case 12:
        d.expect(w, 2, 'graph output');
        g.output.push(readValueInfo(d));
        break;
      case 15:
        throw bad('the graph holds sparse initializers, which basis does not read; save the model with dense weights');
      default:
        d.skip(w);
    }
  });
  return g;
}

/**
 * Decodes an ONNX file (a protobuf `ModelProto`) into its graph, initializers and opsets, bounded
 * like every basis reader: each decoded element is counted against `maxBytes` (default
 * `BASIS_MAX_BYTES`, else 16 × the file size and at least 256 MiB) before it is allocated. A
 * truncated, corrupt or over-budget file, external weight data or sparse initializers raise
 * BAD_FILE naming the problem.
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * const m = decodeOnnx(new Uint8Array(await readFile('model.onnx')));
 * m.opset['']; // 13
 * ```
 */
export function decodeOnnx(bytes: Uint8Array, opts: ReadOptions = {}): OnnxModel {
  if (!(bytes instanceof Uint8Array)) throw new BasisError('INVALID_ARGUMENT', 'decodeOnnx expects the file bytes as a Uint8Array');
  return decodeOnnxBudget(bytes, new ByteBudget(resolveMaxBytes(opts, bytes.length), WHAT));
}

/** {@link decodeOnnx} counting against a budget the caller goes on using (the importer's). */
export function decodeOnnxBudget(bytes: Uint8Array, budget: ByteBudget): OnnxModel {
  if (!(bytes instanceof Uint8Array)) throw new BasisError('INVALID_ARGUMENT', 'decodeOnnx expects the file bytes as a Uint8Array');
  if (bytes.length === 0) throw bad('the file is empty');
  const m: OnnxModel = { irVersion: 0, opset: {}, producerName: '', producerVersion: '', graph: { name: '', node: [], initializer: [], input: [], output: [] }, metadata: {} };
  let sawGraph = false;
  try {
    const d = new Dec(Reader.create(bytes), budget);
    d.fields(true, (f, w) => {
      switch (f) {
        case 1:
          d.expect(w, 0, 'ir_version');
          m.irVersion = d.int('ir_version');
          break;
        case 2:
          d.expect(w, 2, 'producer_name');
          m.producerName = d.string('producer_name');
          break;
        case 3:
          d.expect(w, 2, 'producer_version');
          m.producerVersion = d.string('producer_version');
          break;
        case 7:
          d.expect(w, 2, 'graph');
          m.graph = readGraph(d);
          sawGraph = true;
          break;
        case 8: {
          d.expect(w, 2, 'opset_import');
          let domain = '';
          let version = 0;
          d.fields(false, (g, w2) => {
            if (g === 1) {
              d.expect(w2, 2, 'opset domain');
              domain = d.string('an opset domain');
            } else if (g === 2) {
              d.expect(w2, 0, 'opset version');
              version = d.int('opset version');
            } else d.skip(w2);
          });
          m.opset[domain === 'ai.onnx' ? '' : domain] = version;
          break;
        }
        case 14: {
          d.expect(w, 2, 'metadata_props');
          let key = '';
          let value = '';
          d.fields(false, (g, w2) => {
            if (g === 1) {
              d.expect(w2, 2, 'metadata key');
              key = d.string('a metadata key');
            } else if (g === 2) {
              d.expect(w2, 2, 'metadata value');
              value = d.string('a metadata value');
            } else d.skip(w2);
          });
          m.metadata[key] = value;
          break;
        }
        default:
          d.skip(w);
      }
    });
  } catch (e) {
    if (isBasisError(e)) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw bad(/index out of range/i.test(msg) ? `the data ends early (truncated file?): ${msg}` : msg);
  }
  if (!sawGraph) throw bad('no graph (is this an ONNX model file?)');
  if (m.irVersion < 1) throw bad(`ir_version ${m.irVersion}; an ONNX model declares ir_version >= 1`);
  return m;
}

// ---- writing ----

function writeTensor(w: PbWriter, t: OnnxTensor): void {
  w.fork();
  if (t.dims.length > 0) {
    w.uint32((1 << 3) | 2).fork();
    for (const v of t.dims) w.int64(v);
    w.ldelim();
  }
  w.uint32((2 << 3) | 0).int32(t.dataType);
  w.uint32((8 << 3) | 2).string(t.name);
  const n = t.data.length;
  let raw: Uint8Array;
  if (t.dataType === ONNX_DTYPES.FLOAT) {
    raw = new Uint8Array(4 * n);
    const v = new DataView(raw.buffer);
    for (let k = 0; k < n; k++) v.setFloat32(4 * k, t.data[k] as number, true);
  } else if (t.dataType === ONNX_DTYPES.INT64) {
    raw = new Uint8Array(8 * n);
    const v = new DataView(raw.buffer);
    for (let k = 0; k < n; k++) v.setBigInt64(8 * k, BigInt(Math.trunc(t.data[k] as number)), true);
  } else if (t.dataType === ONNX_DTYPES.DOUBLE) {
    raw = new Uint8Array(8 * n);
    const v = new DataView(raw.buffer);
    for (let k = 0; k < n; k++) v.setFloat64(8 * k, t.data[k] as number, true);
  } else throw new BasisError('INVALID_ARGUMENT', `writing tensors of ONNX data type ${t.dataType} is not supported (float, double, int64)`);
  w.uint32((9 << 3) | 2).bytes(raw);
  w.ldelim();
}

function writeAttribute(w: PbWriter, a: OnnxAttribute): void {
  w.fork();
  w.uint32((1 << 3) | 2).string(a.name);
  if (a.f !== undefined) w.uint32((2 << 3) | 5).float(a.f);
  if (a.i !== undefined) w.uint32((3 << 3) | 0).int64(a.i);
  if (a.s !== undefined) w.uint32((4 << 3) | 2).bytes(new TextEncoder().encode(a.s));
  if (a.t !== undefined) {
    w.uint32((5 << 3) | 2);
    writeTensor(w, a.t);
  }
  if (a.floats !== undefined) {
    w.uint32((7 << 3) | 2).fork();
    for (const v of a.floats) w.float(v);
    w.ldelim();
  }
  if (a.ints !== undefined) {
    w.uint32((8 << 3) | 2).fork();
    for (const v of a.ints) w.int64(v);
    w.ldelim();
  }
  w.uint32((20 << 3) | 0).int32(a.type);
  w.ldelim();
}

function writeValueInfo(w: PbWriter, v: OnnxValueInfo): void {
  w.fork();
  w.uint32((1 << 3) | 2).string(v.name);
  w.uint32((2 << 3) | 2).fork(); // TypeProto
  w.uint32((1 << 3) | 2).fork(); // TypeProto.Tensor
  w.uint32((1 << 3) | 0).int32(v.elemType);
  if (v.shape !== null) {
    w.uint32((2 << 3) | 2).fork(); // TensorShapeProto
    for (const dim of v.shape) {
      w.uint32((1 << 3) | 2).fork();
      if (typeof dim === 'number') w.uint32((1 << 3) | 0).int64(dim);
      else if (typeof dim === 'string') w.uint32((2 << 3) | 2).string(dim);
      w.ldelim();
    }
    w.ldelim();
  }
  w.ldelim();
  w.ldelim();
  w.ldelim();
}

/**
 * Encodes an ONNX model (the inverse of {@link decodeOnnx} for the fields basis uses): float
 * tensors as little-endian `raw_data`, int64 and double tensors likewise.
 *
 * @example
 * ```ts
 * const bytes = encodeOnnx(decodeOnnx(original)); // the same graph and weights
 * ```
 */
export function encodeOnnx(m: OnnxModel): Uint8Array {
  const w = Writer.create();
  w.uint32((1 << 3) | 0).int64(m.irVersion);
  if (m.producerName !== '') w.uint32((2 << 3) | 2).string(m.producerName);
  if (m.producerVersion !== '') w.uint32((3 << 3) | 2).string(m.producerVersion);
  w.uint32((7 << 3) | 2).fork();
  const g = m.graph;
  for (const n of g.node) {
    w.uint32((1 << 3) | 2).fork();
    for (const i of n.input) w.uint32((1 << 3) | 2).string(i);
    for (const o of n.output) w.uint32((2 << 3) | 2).string(o);
    if (n.name !== '') w.uint32((3 << 3) | 2).string(n.name);
    w.uint32((4 << 3) | 2).string(n.opType);
    for (const a of n.attribute) {
      w.uint32((5 << 3) | 2);
      writeAttribute(w, a);
    }
    if (n.domain !== '') w.uint32((7 << 3) | 2).string(n.domain);
    w.ldelim();
  }
  w.uint32((2 << 3) | 2).string(g.name);
  for (const t of g.initializer) {
    w.uint32((5 << 3) | 2);
    writeTensor(w, t);
  }
  for (const v of g.input) {
    w.uint32((11 << 3) | 2);
    writeValueInfo(w, v);
  }
  for (const v of g.output) {
    w.uint32((12 << 3) | 2);
    writeValueInfo(w, v);
  }
  w.ldelim();
  for (const [domain, version] of Object.entries(m.opset)) {
    w.uint32((8 << 3) | 2).fork();
    if (domain !== '') w.uint32((1 << 3) | 2).string(domain);
    w.uint32((2 << 3) | 0).int64(version);
    w.ldelim();
  }
  for (const [key, value] of Object.entries(m.metadata)) {
    w.uint32((14 << 3) | 2).fork();
    w.uint32((1 << 3) | 2).string(key);
    w.uint32((2 << 3) | 2).string(value);
    w.ldelim();
  }
  return w.finish();
}
