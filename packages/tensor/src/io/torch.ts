// PyTorch `torch.save` files (the zip format of PyTorch >= 1.6) holding state_dicts: a safe
// reader (own zip directory parser + a whitelisting unpickler) and a writer laid out like PyTorch's.
import { BasisError } from '../errors.js';
import { crc32 } from './crc32.js';
import { ByteBudget, resolveMaxBytes, type ReadOptions } from './limits.js';
import { DTYPE_SIZE, bfloat16ToFloat, halfToFloat, shapeSize, type DType, type NdArray, type TypedArray } from './ndarray.js';
import { decodeElements, encodeElements } from './npy.js';
import { SIG_CENTRAL, SIG_EOCD, SIG_LOCAL, readZipDirectory, u64, zipEntryData, type ZipEntry } from './zip.js';

// ---------------------------------------------------------------------------------------------
// Public types

/** A value of a `torch.save` file that is not a tensor and was left out, with why. */
export interface TorchSkipped {
  /** Dotted name of the entry (as for tensors), e.g. `epoch` or `_metadata`. */
  name: string;
  /** What it is, e.g. `int 3`, `float`, `str`, `None`, `empty list`, `state_dict metadata`. */
  reason: string;
}

/** What {@link readTorch} found in a `torch.save` file. */
export interface TorchContent {
  /**
   * The tensors in file order, by name. A state_dict's names are kept as they are
   * (`layers.0.weight`); values nested in dicts, lists or tuples are named by joining the keys
   * (or list indices) with `.` (`model.layers.0.weight`, `optimizer.state.0.exp_avg`). A file
   * holding a single bare tensor yields one entry named `''`.
   */
  tensors: Map<string, NdArray>;
  /** Non-tensor entries (ints, floats, strings, None, bools, bytes, empty containers, the `_metadata` attribute of a state_dict). */
  skipped: TorchSkipped[];
}

/**
 * Options of {@link readTorch}: `maxBytes` (see {@link ReadOptions}) bounds the inflated
 * members (data.pkl and deflated storages) plus the tensors returned, counted at the file's
 * element sizes. Views can be larger than their storage (stride 0) and deflated members can
 * expand ~1000-fold, so this bounds what a small crafted file can make the reader allocate.
 */
export interface ReadTorchOptions extends ReadOptions {
  maxBytes?: number;
}

const KIND = 'not a valid PyTorch (torch.save) file';

function bad(message: string): BasisError {
  return new BasisError('BAD_FILE', `${KIND}: ${message}`);
}

// ---------------------------------------------------------------------------------------------
// Zip writing, laid out as PyTorch's writer does: stored members whose data start on 64-byte
// boundaries (padding in an 'FB' extra field of the local header), `<root>/version` last.

function writeZip(files: [string, Uint8Array][]): Uint8Array {
  const enc = new TextEncoder();
  const parts: { name: Uint8Array; data: Uint8Array; crc: number; offset: number; pad: number }[] = [];
  let offset = 0;
  for (const [n, data] of files) {
    const name = enc.encode(n);
    const natural = offset + 30 + name.length + 4;
    const pad = (64 - (natural % 64)) % 64;
    parts.push({ name, data, crc: crc32(data), offset, pad });
    offset = natural + pad + data.length;
  }
  const cdOffset = offset;
  let cdSize = 0;
  for (const f of parts) cdSize += 46 + f.name.length;
  const total = cdOffset + cdSize + 22;
  if (total > 0xffffffff || parts.length > 0xffff) {
    throw new BasisError('INVALID_ARGUMENT', `the file would be ${total} bytes with ${parts.length} members; writing beyond 4 GiB or 65535 members (zip64) is not supported`);
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  for (const f of parts) {
    let p = f.offset;
    view.setUint32(p, SIG_LOCAL, true);
    view.setUint16(p + 4, 20, true); // version needed to extract: 2.0
    view.setUint16(p + 6, 0x0800, true); // UTF-8 names
    view.setUint16(p + 8, 0, true); // stored
    view.setUint16(p + 10, 0, true); // time 00:00
    view.setUint16(p + 12, 0x21, true); // date 1980-01-01
    view.setUint32(p + 14, f.crc, true);
    view.setUint32(p + 18, f.data.length, true);
    view.setUint32(p + 22, f.data.length, true);
    view.setUint16(p + 26, f.name.length, true);
    view.setUint16(p + 28, 4 + f.pad, true);
    out.set(f.name, p + 30);
    p += 30 + f.name.length;
    out[p] = 0x46; // 'F'
    out[p + 1] = 0x42; // 'B'
    view.setUint16(p + 2, f.pad, true);
    out.fill(0x5a, p + 4, p + 4 + f.pad); // 'Z'
    out.set(f.data, p + 4 + f.pad);
  }
  let p = cdOffset;
  for (const f of parts) {
    view.setUint32(p, SIG_CENTRAL, true);
    view.setUint16(p + 4, 20, true); // made by: 2.0, MS-DOS attributes
    view.setUint16(p + 6, 20, true);
    view.setUint16(p + 8, 0x0800, true);
    view.setUint16(p + 10, 0, true);
    view.setUint16(p + 12, 0, true);
    view.setUint16(p + 14, 0x21, true);
    view.setUint32(p + 16, f.crc, true);
    view.setUint32(p + 20, f.data.length, true);
    view.setUint32(p + 24, f.data.length, true);
    view.setUint16(p + 28, f.name.length, true);
    // extra, comment, disk, attributes: 0
    view.setUint32(p + 42, f.offset, true);
    out.set(f.name, p + 46);
    p += 46 + f.name.length;
  }
  view.setUint32(p, SIG_EOCD, true);
  view.setUint16(p + 8, parts.length, true);
  view.setUint16(p + 10, parts.length, true);
  view.setUint32(p + 12, cdSize, true);
  view.setUint32(p + 16, cdOffset, true);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The unpickler's values. Python ints are `number` when safe and `bigint` otherwise; floats are
// boxed so that they are never mistaken for ints (sizes, strides, offsets must be ints).

class PyFloat {
  constructor(readonly value: number) {}
}
class PyTuple {
  constructor(readonly items: PyValue[]) {}
}
class PyList {
  constructor(readonly items: PyValue[]) {}
}
class PyDict {
  /** Entries by hash key, in insertion order. */
  readonly entries = new Map<string, [PyValue, PyValue]>();
  /** Instance attributes set by BUILD (an OrderedDict state_dict's `_metadata`). */
  attrs: PyDict | undefined;
  constructor(readonly ordered: boolean) {}
}
/** A whitelisted Python global (class, function or dtype). */
class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualname(): string {
    return `${this.module}.${this.name}`;
  }
}
/** A storage named by a persistent id: `('storage', torch.FloatStorage, key, location, numel)`. */
class StorageRef {
  constructor(
    readonly key: string,
    /** Element type of the storage class (uint8 for `torch.UntypedStorage`). */
    readonly dtype: DType,
    readonly nbytes: number,
  ) {}
}
/** A tensor rebuilt from a storage: element `i` of the row-major result is storage[offset + Σ idx·stride]. */
class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly dtype: DType,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

type PyValue = null | boolean | number | bigint | string | Uint8Array | PyFloat | PyTuple | PyList | PyDict | PyGlobal | StorageRef | TensorRef;

function typeName(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number' || typeof v === 'bigint') return 'int';
  if (typeof v === 'string') return 'str';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof PyFloat) return 'float';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PyList) return 'list';
  if (v instanceof PyDict) return v.ordered ? 'OrderedDict' : 'dict';
  if (v instanceof PyGlobal) return v.qualname;
  if (v instanceof StorageRef) return 'storage';
  return 'tensor';
}

/** Longest dict-key hash accepted (a key built from shared tuples can otherwise grow exponentially). */
const MAX_KEY_CHARS = 1 << 20;
const tupleKeys = new WeakMap<PyTuple, string>();

/** Hash key of a dict key, following Python equality for the hashable values we support. */
function hashKey(k: PyValue, depth = 0): string {
  if (depth > 32) throw bad('data.pkl uses a dict key nested more than 32 deep');
  if (k === null) return 'N';
  if (typeof k === 'boolean') return `i${k ? 1 : 0}`;
  if (typeof k === 'number' || typeof k === 'bigint') return `i${String(k)}`;
  if (typeof k === 'string') return `s${k}`;
  if (k instanceof PyFloat) return Number.isInteger(k.value) ? `i${k.value}` : `f${k.value}`;
  if (k instanceof Uint8Array) {
    if (k.length > MAX_KEY_CHARS / 4) throw bad(`data.pkl uses a bytes dict key of ${k.length} bytes`);
    return `b${Array.from(k).join(',')}`;
  }
  if (k instanceof PyTuple) {
    const cached = tupleKeys.get(k);
    if (cached !== undefined) return cached;
    let key = 't(';
    for (let i = 0; i < k.items.length; i++) {
      key += (i > 0 ? ',' : '') + hashKey(k.items[i] as PyValue, depth + 1);
      if (key.length > MAX_KEY_CHARS) throw bad(`data.pkl uses a dict key (a tuple) longer than ${MAX_KEY_CHARS} characters`);
    }
    key += ')';
    tupleKeys.set(k, key);
    return key;
  }
  if (k instanceof PyGlobal) return `g${k.qualname}`;
  throw bad(`data.pkl uses an unhashable ${typeName(k)} as a dict key`);
}

// ---------------------------------------------------------------------------------------------
// Whitelisted globals.

/** Legacy typed storage classes (what torch.save writes for every dtype that has one). */
const STORAGE_DTYPE = new Map<string, DType>(Object.entries({
  DoubleStorage: 'float64',
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
  UntypedStorage: 'uint8',
}) as [string, DType][]);
const UNSUPPORTED_STORAGE = new Map<string, string>(Object.entries({
  ComplexDoubleStorage: 'complex128',
  ComplexFloatStorage: 'complex64',
  QInt8Storage: 'qint8',
  QUInt8Storage: 'quint8',
  QInt32Storage: 'qint32',
  QUInt4x2Storage: 'quint4x2',
  QUInt2x4Storage: 'quint2x4',
}));
/** `torch.<dtype>` globals (the dtype argument of `_rebuild_tensor_v3`, PyTorch >= 2.1). */
const TORCH_DTYPE = new Map<string, DType>(Object.entries({
  float64: 'float64',
  float32: 'float32',
  float16: 'float16',
  bfloat16: 'bfloat16',
  int64: 'int64',
  int32: 'int32',
  int16: 'int16',
  int8: 'int8',
  uint8: 'uint8',
  bool: 'bool',
  uint16: 'uint16',
  uint32: 'uint32',
  uint64: 'uint64',
}) as [string, DType][]);
const FUNCTIONS = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor_v3',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch._tensor._rebuild_from_type_v2',
  'torch.Tensor',
  'torch.nn.parameter.Parameter',
]);

function resolveGlobal(module: string, name: string, hint: string): PyGlobal {
  const q = `${module}.${name}`;
  if (FUNCTIONS.has(q)) return new PyGlobal(module, name);
  if (module === 'torch') {
    if (STORAGE_DTYPE.has(name) || TORCH_DTYPE.has(name)) return new PyGlobal(module, name);
    const u = UNSUPPORTED_STORAGE.get(name);
    if (u !== undefined) throw bad(`data.pkl holds a ${u} tensor (torch.${name}); basis reads float64/32/16, bfloat16, int64/32/16/8, uint8..uint64 and bool tensors`);
  }
  throw bad(
    `data.pkl refers to the Python global ${q}, which basis does not allow: it reads only tensors, dicts, lists, tuples and plain values (str, int, float, bool, None)${hint}`,
  );
}

// ---------------------------------------------------------------------------------------------
// The unpickler: protocols 2-5, only the opcodes that torch.save writes for such values.

const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT', 0x4b: 'BININT1',
  0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE', 0x53: 'STRING', 0x54: 'BINSTRING',
  0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND', 0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT',
  0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET', 0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST',
  0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT', 0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS',
  0x47: 'BINFLOAT', 0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2', 0x87: 'TUPLE3',
  0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE',
  0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL',
  0x94: 'MEMOIZE', 0x95: 'FRAME', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

const utf8 = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');

function asInt(v: PyValue, what: string): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'number') throw bad(`${what} is a ${typeName(v)}, not an int`);
  return v;
}

function asIntTuple(v: PyValue, what: string): number[] {
  if (!(v instanceof PyTuple)) throw bad(`${what} is a ${typeName(v)}, not a tuple`);
  return v.items.map((x, i) => {
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) throw bad(`${what}[${i}] = ${String(x instanceof PyFloat ? x.value : x)} is not a non-negative integer`);
    return x;
  });
}

/** `_rebuild_tensor_v2/v3`: checks that the view lies inside its storage. */
function rebuildTensor(args: PyValue[], fn: string, v3: boolean): TensorRef {
  const n = args.length;
  if (v3 ? n !== 7 && n !== 8 : n !== 6 && n !== 7) throw bad(`${fn} called with ${n} arguments`);
  const storage = args[0] as PyValue;
  if (!(storage instanceof StorageRef)) throw bad(`${fn}: the storage argument is a ${typeName(storage)}`);
  let dtype = storage.dtype;
  if (v3) {
    const d = args[6] as PyValue;
    const t = d instanceof PyGlobal && d.module === 'torch' ? TORCH_DTYPE.get(d.name) : undefined;
    if (t === undefined) throw bad(`${fn}: the dtype argument is ${typeName(d)}, not a supported torch dtype`);
    dtype = t;
  }
  const offset = asInt(args[1] as PyValue, `${fn}: storage_offset`);
  if (!Number.isSafeInteger(offset) || offset < 0) throw bad(`${fn}: storage_offset ${offset} is negative`);
  const shape = asIntTuple(args[2] as PyValue, `${fn}: size`);
  const stride = asIntTuple(args[3] as PyValue, `${fn}: stride`);
  if (stride.length !== shape.length) throw bad(`${fn}: size (${shape.join(', ')}) and stride (${stride.join(', ')}) differ in length`);
  let numel = 1;
  let last = offset;
  for (let a = 0; a < shape.length; a++) {
    numel *= shape[a] as number;
    last += ((shape[a] as number) - 1) * (stride[a] as number);
  }
  if (numel > Number.MAX_SAFE_INTEGER || last > Number.MAX_SAFE_INTEGER) throw bad(`${fn}: size (${shape.join(', ')}) is too large`);
  const elems = Math.floor(storage.nbytes / DTYPE_SIZE[dtype]);
  if (numel > 0 && last >= elems) {
    throw bad(`tensor of size (${shape.join(', ')}), stride (${stride.join(', ')}) and offset ${offset} needs ${last + 1} ${dtype} elements but its storage '${storage.key}' has ${elems}`);
  }
  return new TensorRef(storage, dtype, offset, shape, stride);
}

/** Calls a whitelisted global (REDUCE / NEWOBJ). */
function call(fn: PyValue, argsValue: PyValue): PyValue {
  if (!(fn instanceof PyGlobal)) throw bad(`data.pkl calls a ${typeName(fn)}`);
  if (!(argsValue instanceof PyTuple)) throw bad(`data.pkl calls ${fn.qualname} with a ${typeName(argsValue)} of arguments`);
  const args = argsValue.items;
  switch (fn.qualname) {
    case 'collections.OrderedDict': {
      const d = new PyDict(true);
      if (args.length === 0) return d;
      const items = args[0] as PyValue;
      if (args.length === 1 && (items instanceof PyList || items instanceof PyTuple)) {
        for (const pair of items.items) {
          if (!(pair instanceof PyTuple || pair instanceof PyList) || pair.items.length !== 2) throw bad('OrderedDict built from something other than (key, value) pairs');
          d.entries.set(hashKey(pair.items[0] as PyValue), [pair.items[0] as PyValue, pair.items[1] as PyValue]);
        }
        return d;
      }
      throw bad(`OrderedDict called with ${args.length} arguments`);
    }
    case 'torch._utils._rebuild_tensor_v2':
      return rebuildTensor(args, fn.name, false);
    case 'torch._utils._rebuild_tensor_v3':
      return rebuildTensor(args, fn.name, true);
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state': {
      const want = fn.name === '_rebuild_parameter' ? 3 : 4;
      if (args.length !== want || !(args[0] instanceof TensorRef)) throw bad(`${fn.name} called with ${args.length} arguments, the first a ${typeName(args[0] ?? null)}`);
      return args[0];
    }
    case 'torch._tensor._rebuild_from_type_v2': {
      // (func, type, args, state): a plain Tensor or Parameter carrying Python attributes
      const [inner, type, innerArgs] = args;
      if (args.length !== 4 || !(type instanceof PyGlobal) || (type.qualname !== 'torch.Tensor' && type.qualname !== 'torch.nn.parameter.Parameter')) {
        throw bad(`_rebuild_from_type_v2 rebuilds a ${type instanceof PyGlobal ? type.qualname : typeName(type ?? null)}; only torch.Tensor and torch.nn.Parameter are read`);
      }
      if (inner instanceof PyGlobal && inner.name === '_rebuild_from_type_v2') throw bad('_rebuild_from_type_v2 nested in itself');
      const t = call(inner as PyValue, innerArgs as PyValue);
      if (!(t instanceof TensorRef)) throw bad('_rebuild_from_type_v2 did not rebuild a tensor');
      return t;
    }
    default:
      throw bad(`data.pkl calls ${fn.qualname}, which is not a function`);
  }
}

interface UnpickleContext {
  /** Size in bytes of the record `data/<key>`, or undefined when missing. */
  storageSize(key: string): number | undefined;
  /** Appended to the message about a forbidden global. */
  hint: string;
}

function unpickle(bytes: Uint8Array, ctx: UnpickleContext): PyValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length;
  let pos = 0;
  let stack: PyValue[] = [];
  const metastack: PyValue[][] = [];
  const memo = new Map<number, PyValue>();
  const storages = new Map<string, StorageRef>();
  const need = (k: number, what: string): void => {
    if (pos + k > n) throw bad(`data.pkl is truncated (${what} at byte ${pos})`);
  };
  const take = (k: number, what: string): Uint8Array => {
    need(k, what);
    const s = bytes.subarray(pos, pos + k);
    pos += k;
    return s;
  };
  const len64 = (): number => {
    need(8, 'length');
    const v = u64(view, pos);
    pos += 8;
    return v;
  };
  const pop = (): PyValue => {
    if (stack.length === 0) throw bad(`data.pkl pops an empty stack at byte ${pos - 1}`);
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length === 0) throw bad(`data.pkl reads an empty stack at byte ${pos - 1}`);
    return stack[stack.length - 1] as PyValue;
  };
  const popMark = (): PyValue[] => {
    const items = stack;
    const prev = metastack.pop();
    if (prev === undefined) throw bad(`data.pkl has no MARK before byte ${pos - 1}`);
    stack = prev;
    return items;
  };
  const line = (what: string): string => {
    const end = bytes.subarray(pos, pos + 1001).indexOf(0x0a) + pos;
    if (end < pos) throw bad(`data.pkl has an unterminated ${what}`);
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const long = (k: number): number | bigint => {
    const b = take(k, 'LONG');
    let v = 0n;
    for (let i = k - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i] as number);
    if (k > 0 && ((b[k - 1] as number) & 0x80) !== 0) v -= 1n << BigInt(8 * k);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const setItems = (d: PyValue, items: PyValue[]): void => {
    if (!(d instanceof PyDict)) throw bad(`data.pkl sets items on a ${typeName(d)}`);
    if (items.length % 2 !== 0) throw bad('data.pkl SETITEMS has an odd number of values');
    for (let i = 0; i < items.length; i += 2) d.entries.set(hashKey(items[i] as PyValue), [items[i] as PyValue, items[i + 1] as PyValue]);
  };
  const append = (l: PyValue, items: PyValue[]): void => {
    if (!(l instanceof PyList)) throw bad(`data.pkl appends to a ${typeName(l)}`);
    // one push per item: spreading 10^5+ arguments overflows the call stack
    for (const item of items) l.items.push(item);
  };
  const persistentLoad = (pid: PyValue): StorageRef => {
    if (!(pid instanceof PyTuple) || pid.items.length !== 5 || pid.items[0] !== 'storage') throw bad(`persistent id ${typeName(pid)} is not ('storage', type, key, location, numel)`);
    const [, type, key, location, numelValue] = pid.items;
    const dtype = type instanceof PyGlobal && type.module === 'torch' ? STORAGE_DTYPE.get(type.name) : undefined;
    if (dtype === undefined) throw bad(`persistent id names storage type ${typeName(type ?? null)}`);
    if (typeof key !== 'string') throw bad(`storage key is a ${typeName(key ?? null)}`);
    if (typeof location !== 'string') throw bad(`storage '${key}' has location ${typeName(location ?? null)}`);
    const numel = asInt(numelValue as PyValue, `storage '${key}' numel`);
    if (!Number.isSafeInteger(numel) || numel < 0) throw bad(`storage '${key}' has numel ${numel}`);
    const nbytes = numel * DTYPE_SIZE[dtype];
    const have = ctx.storageSize(key);
    if (have === undefined) throw bad(`storage '${key}' has no record data/${key} in the archive`);
    if (have !== nbytes) throw bad(`storage '${key}' of ${numel} ${dtype} elements needs ${nbytes} bytes but data/${key} has ${have}`);
    const prev = storages.get(key);
    if (prev !== undefined) {
      if (prev.dtype !== dtype) throw bad(`storage '${key}' is used as both ${prev.dtype} and ${dtype}`);
      return prev;
    }
    const s = new StorageRef(key, dtype, nbytes);
    storages.set(key, s);
    return s;
  };

  while (true) {
    if (pos >= n) throw bad('data.pkl ends without STOP (truncated)');
    const at = pos;
    const op = bytes[pos++] as number;
    switch (op) {
      case 0x80: {
        // PROTO
        const v = take(1, 'PROTO')[0] as number;
        if (v < 2 || v > 5) throw bad(`data.pkl uses pickle protocol ${v} (2-5 are read)`);
        break;
      }
      case 0x95: // FRAME: framing is only a buffering hint
        if (len64() > n - pos) throw bad('data.pkl has a FRAME longer than the file');
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || metastack.length !== 0) throw bad(`data.pkl stops with ${stack.length} values on the stack`);
        return stack[0] as PyValue;
      case 0x28: // MARK
        metastack.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length > 0) stack.pop();
        else popMark();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        need(4, 'BININT');
        stack.push(view.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1
        stack.push(take(1, 'BININT1')[0] as number);
        break;
      case 0x4d: // BININT2
        need(2, 'BININT2');
        stack.push(view.getUint16(pos, true));
        pos += 2;
        break;
      case 0x8a: // LONG1
        stack.push(long(take(1, 'LONG1')[0] as number));
        break;
      case 0x8b: {
        // LONG4
        need(4, 'LONG4');
        const k = view.getInt32(pos, true);
        pos += 4;
        if (k < 0 || k > 1024) throw bad(`data.pkl has a LONG4 of ${k} bytes`);
        stack.push(long(k));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8, 'BINFLOAT');
        stack.push(new PyFloat(view.getFloat64(pos, false)));
        pos += 8;
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8.decode(take(take(1, 'length')[0] as number, 'SHORT_BINUNICODE')));
        break;
      case 0x58: // BINUNICODE
        need(4, 'length');
        pos += 4;
        stack.push(utf8.decode(take(view.getUint32(pos - 4, true), 'BINUNICODE')));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8.decode(take(len64(), 'BINUNICODE8')));
        break;
      case 0x55: // SHORT_BINSTRING (Python 2 str)
        stack.push(latin1.decode(take(take(1, 'length')[0] as number, 'SHORT_BINSTRING')));
        break;
      case 0x54: {
        // BINSTRING
        need(4, 'length');
        const k = view.getInt32(pos, true);
        pos += 4;
        if (k < 0) throw bad('data.pkl has a BINSTRING of negative length');
        stack.push(latin1.decode(take(k, 'BINSTRING')));
        break;
      }
      case 0x43: // SHORT_BINBYTES
        stack.push(take(take(1, 'length')[0] as number, 'SHORT_BINBYTES'));
        break;
      case 0x42: // BINBYTES
        need(4, 'length');
        pos += 4;
        stack.push(take(view.getUint32(pos - 4, true), 'BINBYTES'));
        break;
      case 0x8e: // BINBYTES8
        stack.push(take(len64(), 'BINBYTES8'));
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: {
        // TUPLE3
        const k = op - 0x84;
        if (stack.length < k) throw bad(`data.pkl builds a ${k}-tuple from ${stack.length} values`);
        stack.push(new PyTuple(stack.splice(stack.length - k, k)));
        break;
      }
      case 0x74: {
        // TUPLE
        const items = popMark();
        stack.push(new PyTuple(items));
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push(new PyList([]));
        break;
      case 0x6c: {
        // LIST
        const items = popMark();
        stack.push(new PyList(items));
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict(false));
        break;
      case 0x64: {
        // DICT
        const items = popMark();
        const d = new PyDict(false);
        setItems(d, items);
        stack.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x63: {
        // GLOBAL
        const module = line('GLOBAL module');
        const name = line('GLOBAL name');
        stack.push(resolveGlobal(module, name, ctx.hint));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw bad('data.pkl STACK_GLOBAL without module and name strings');
        stack.push(resolveGlobal(module, name, ctx.hint));
        break;
      }
      case 0x52: // REDUCE
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const fn = pop();
        stack.push(call(fn, args));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const obj = top();
        if (obj instanceof PyDict && state instanceof PyDict) obj.attrs = state;
        else if (!(obj instanceof TensorRef && (state instanceof PyDict || state === null))) throw bad(`data.pkl sets the state of a ${typeName(obj)} from a ${typeName(state)}`);
        break;
      }
      case 0x51: // BINPERSID
        stack.push(persistentLoad(pop()));
        break;
      case 0x71: // BINPUT
        memo.set(take(1, 'BINPUT')[0] as number, top());
        break;
      case 0x72: // LONG_BINPUT
        need(4, 'LONG_BINPUT');
        memo.set(view.getUint32(pos, true), top());
        pos += 4;
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        let idx: number;
        if (op === 0x68) idx = take(1, 'BINGET')[0] as number;
        else {
          need(4, 'LONG_BINGET');
          idx = view.getUint32(pos, true);
          pos += 4;
        }
        if (!memo.has(idx)) throw bad(`data.pkl reads memo slot ${idx}, which was never set`);
        stack.push(memo.get(idx) as PyValue);
        break;
      }
      default: {
        const name = OPCODE_NAMES[op];
        throw bad(`data.pkl uses the pickle opcode ${name ?? `0x${op.toString(16).padStart(2, '0')}`} at byte ${at}, which basis does not read${name === undefined ? ' (not a pickle, or corrupt)' : ''}`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Element copies: on little-endian hosts, dtypes stored as they are held in memory are copied
// wholesale (ten times faster than element by element); the rest goes through npy.ts.

const HOST_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const NATIVE: Partial<Record<DType, new (b: ArrayBuffer) => TypedArray>> = {
  float64: Float64Array,
  float32: Float32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
};

function decode(record: Uint8Array, byteOffset: number, count: number, dtype: DType, little: boolean): TypedArray {
  const Native = NATIVE[dtype];
  if (Native === undefined || !little || !HOST_LITTLE) return decodeElements(record, byteOffset, count, dtype, little);
  return new Native(record.slice(byteOffset, byteOffset + count * DTYPE_SIZE[dtype]).buffer);
}

function encode(data: TypedArray, dtype: DType): Uint8Array {
  const Native = NATIVE[dtype];
  if (Native !== undefined && HOST_LITTLE && data.constructor === Native) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength); // copied by writeZip
  return encodeElements(data, dtype);
}

// ---------------------------------------------------------------------------------------------
// From the unpickled object to named tensors.

function materialise(t: TensorRef, record: Uint8Array, little: boolean): NdArray {
  const { dtype, shape, stride, offset } = t;
  const numel = shapeSize(shape);
  const es = DTYPE_SIZE[dtype];
  if (numel === 0) return { dtype, shape, data: decode(record, 0, 0, dtype, little) };
  let contiguous = true;
  let expect = 1;
  for (let a = shape.length - 1; a >= 0; a--) {
    if ((shape[a] as number) !== 1 && stride[a] !== expect) contiguous = false;
    expect *= shape[a] as number;
  }
  if (contiguous) return { dtype, shape, data: decode(record, offset * es, numel, dtype, little) };
  // strided view: decode the span it touches, then gather in row-major order; a view that
  // touches few elements of a wide span (huge strides) reads them one by one instead, so that
  // many small views of one big storage cost their own size, not the storage's each
  let span = 1;
  for (let a = 0; a < shape.length; a++) span += ((shape[a] as number) - 1) * (stride[a] as number);
  let at: (i: number) => unknown;
  let out: TypedArray;
  if (span <= 4 * numel + 4096) {
    const src = decode(record, offset * es, span, dtype, little);
    const s = src as unknown as { [i: number]: unknown };
    at = (i) => s[i];
    out = new (src.constructor as new (n: number) => TypedArray)(numel);
  } else {
    at = elementReader(record, offset * es, span, dtype, little);
    out = new (decode(record, 0, 0, dtype, little).constructor as new (n: number) => TypedArray)(numel);
  }
  const dst = out as unknown as { [i: number]: unknown };
  const nd = shape.length;
  const inner = shape[nd - 1] as number;
  const innerStride = stride[nd - 1] as number;
  const idx = new Array<number>(nd).fill(0);
  let base = 0;
  for (let k = 0; k < numel; ) {
    for (let j = 0; j < inner; j++) dst[k++] = at(base + j * innerStride);
    for (let a = nd - 2; a >= 0; a--) {
      idx[a] = (idx[a] as number) + 1;
      base += stride[a] as number;
      if ((idx[a] as number) < (shape[a] as number)) break;
      base -= (shape[a] as number) * (stride[a] as number);
      idx[a] = 0;
    }
  }
  return { dtype, shape, data: out };
}

/** Element access to `count` elements of `dtype` at `byteOffset` without decoding them all (for sparse views). */
function elementReader(record: Uint8Array, byteOffset: number, count: number, dtype: DType, little: boolean): (i: number) => number | bigint {
  const view = new DataView(record.buffer, record.byteOffset + byteOffset, count * DTYPE_SIZE[dtype]);
  const one = (i: number): number | bigint => {
    switch (dtype) {
      case 'bool':
      case 'uint8':
        return view.getUint8(i);
      case 'int8':
        return view.getInt8(i);
      case 'int16':
        return view.getInt16(2 * i, little);
      case 'uint16':
        return view.getUint16(2 * i, little);
      case 'int32':
        return view.getInt32(4 * i, little);
      case 'uint32':
        return view.getUint32(4 * i, little);
      case 'int64':
        return view.getBigInt64(8 * i, little);
      case 'uint64':
        return view.getBigUint64(8 * i, little);
      case 'float16':
        return halfToFloat(view.getUint16(2 * i, little));
      case 'bfloat16':
        return bfloat16ToFloat(view.getUint16(2 * i, little));
      case 'float32':
        return view.getFloat32(4 * i, little);
      case 'float64':
        return view.getFloat64(8 * i, little);
    }
  };
  return one;
}

function keyName(k: PyValue): string | undefined {
  if (typeof k === 'string') return k;
  if (typeof k === 'number' || typeof k === 'bigint') return String(k);
  return undefined;
}

function describe(v: PyValue): string {
  if (typeof v === 'number' || typeof v === 'bigint') return `int ${String(v)}`;
  if (typeof v === 'boolean') return `bool ${v ? 'True' : 'False'}`;
  if (v instanceof PyFloat) return `float ${v.value}`;
  if (typeof v === 'string') return v.length <= 40 ? `str '${v}'` : 'str';
  if (v instanceof PyList || v instanceof PyTuple) return `empty ${typeName(v)}`;
  if (v instanceof PyDict) return `empty ${typeName(v)}`;
  return typeName(v);
}

function collect(root: PyValue, budget: number): { refs: [string, TensorRef][]; skipped: TorchSkipped[] } {
  const refs: [string, TensorRef][] = [];
  const skipped: TorchSkipped[] = [];
  const seen = new Set<string>();
  const path = new Set<PyValue>();
  let visits = 0;
  const join = (prefix: string, k: string) => (prefix === '' ? k : `${prefix}.${k}`);
  const walk = (v: PyValue, name: string, depth: number): void => {
    if (++visits > budget) throw bad('data.pkl refers to shared objects so often that flattening it would not end (more values than bytes)');
    if (depth > 64) throw bad(`data.pkl nests containers more than 64 deep (at '${name}')`);
    if (name.length > 65536) throw bad(`data.pkl names a value with more than 65536 characters (at '${name.slice(0, 60)}...')`);
    if (v instanceof TensorRef) {
      if (seen.has(name)) skipped.push({ name, reason: 'duplicate name (a tensor of this name came first)' });
      else {
        seen.add(name);
        refs.push([name, v]);
      }
      return;
    }
    const children: [string, PyValue][] = [];
    if (v instanceof PyDict) {
      if (v.attrs !== undefined) {
        for (const [k] of v.attrs.entries.values()) {
          const attr = keyName(k) ?? typeName(k);
          skipped.push({ name: join(name, attr), reason: attr === '_metadata' ? 'state_dict metadata (module versions)' : `attribute of the ${typeName(v)}` });
        }
      }
      for (const [k, value] of v.entries.values()) {
        const kn = keyName(k);
        if (kn === undefined) {
          skipped.push({ name: join(name, `<${typeName(k)} key>`), reason: `the key is a ${typeName(k)}, not a str or int` });
          continue;
        }
        children.push([join(name, kn), value]);
      }
    } else if (v instanceof PyList || v instanceof PyTuple) {
      v.items.forEach((item, i) => children.push([join(name, String(i)), item]));
    } else {
      skipped.push({ name, reason: describe(v) });
      return;
    }
    if (children.length === 0) {
      skipped.push({ name, reason: describe(v) });
      return;
    }
    if (path.has(v)) throw bad(`data.pkl holds a container that contains itself (at '${name}')`);
    path.add(v);
    for (const [cn, cv] of children) walk(cv, cn, depth + 1);
    path.delete(v);
  };
  if (!(root instanceof TensorRef || root instanceof PyDict || root instanceof PyList || root instanceof PyTuple)) {
    throw bad(`data.pkl holds a ${typeName(root)}, not a state_dict (a dict of tensors)`);
  }
  walk(root, '', 0);
  return { refs, skipped };
}

/**
 * Reads a PyTorch `torch.save` file holding a state_dict (an `OrderedDict` or `dict` of tensors,
 * possibly nested, e.g. `{'model': ..., 'optimizer': ..., 'epoch': 3}`) without Python.
 *
 * Reads the zip format written by PyTorch 1.6 and later: any archive root name (1.x names it
 * after the file, 2.x writes `archive/`), the `byteorder` record of 2.x (big-endian storages
 * included), stored or deflated members, pickle protocols 2-5, and tensors rebuilt by
 * `_rebuild_tensor_v2`, `_rebuild_tensor_v3` (the uint16/32/64 tensors of PyTorch >= 2.3),
 * `_rebuild_parameter(_with_state)` and `_rebuild_from_type_v2` (`nn.Parameter`). Dtypes: float64/32/16, bfloat16, int64/32/16/8,
 * uint8..uint64 and bool; float16/bfloat16 are decoded to `Float32Array` (dtype kept), 64-bit
 * integers are `BigInt64Array`/`BigUint64Array`. Non-contiguous views (transposes, slices,
 * stride-0 expansions) are materialised in row-major order; tensors sharing a storage each get
 * their own copy.
 *
 * The pickle is read by a small unpickler that runs no code: it knows only the opcodes such files
 * use and allows only the globals above (plus `collections.OrderedDict` and the `torch.*Storage`
 * and `torch.<dtype>` names). Any other global (a pickled module, `argparse.Namespace`,
 * `os.system`, ...), the legacy pre-1.6 format, TorchScript archives, truncation, a CRC mismatch,
 * or a view that reaches past its storage raises `BAD_FILE` naming the problem.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * const { tensors, skipped } = readTorch(new Uint8Array(readFileSync('model.pt')));
 * tensors.get('fc.weight')?.shape; // e.g. [10, 784]
 * skipped; // e.g. [{ name: '_metadata', reason: 'state_dict metadata (module versions)' }]
 * ```
 */
export function readTorch(bytes: Uint8Array, opts: ReadTorchOptions = {}): TorchContent {
  if (!(bytes instanceof Uint8Array)) throw new BasisError('INVALID_ARGUMENT', 'readTorch expects the file bytes as a Uint8Array');
  const budget = new ByteBudget(resolveMaxBytes(opts, bytes.length), KIND);
  if (bytes.length >= 2 && bytes[0] === 0x80 && (bytes[1] as number) <= 5) {
    throw bad('this is the legacy (non-zip) torch.save format of PyTorch < 1.6 (or _use_new_zipfile_serialization=False), which basis does not read; re-save it with a newer PyTorch');
  }
  const zip = readZipDirectory(bytes, KIND);
  const first = zip.keys().next().value;
  if (first === undefined) throw bad('the zip archive is empty');
  const slash = first.indexOf('/');
  if (slash <= 0) throw bad(`the first archive member '${first}' is not in a folder; torch.save archives keep everything under <name>/`);
  const root = first.slice(0, slash + 1);
  const member = (e: ZipEntry) => zipEntryData(bytes, e, budget, KIND);
  const small = (e: ZipEntry) => {
    if (e.size > 64) throw bad(`${e.name} holds ${e.size} bytes; a torch.save record of this kind holds a few`);
    return latin1.decode(member(e));
  };
  const pkl = zip.get(`${root}data.pkl`);
  if (pkl === undefined) throw bad(`the archive has no ${root}data.pkl (not a torch.save file)`);
  const version = zip.get(`${root}version`) ?? zip.get(`${root}.data/version`);
  if (version === undefined) throw bad(`the archive has no ${root}version record`);
  if (!/^\s*\d+\s*$/.test(small(version))) throw bad(`${root}version is not a number`);
  let little = true;
  const byteorder = zip.get(`${root}byteorder`);
  if (byteorder !== undefined) {
    const order = small(byteorder).trim();
    if (order !== 'little' && order !== 'big') throw bad(`${root}byteorder is '${order.slice(0, 20)}', not 'little' or 'big'`);
    little = order === 'little';
  }
  const torchScript = zip.has(`${root}constants.pkl`) || [...zip.keys()].some((k) => k.startsWith(`${root}code/`));
  const hint = torchScript
    ? '. This is a TorchScript archive (torch.jit.save); save the weights with torch.save(model.state_dict(), path) instead'
    : '. If the file holds a whole pickled module or custom objects, save model.state_dict() instead';
  const value = unpickle(member(pkl), {
    storageSize: (key) => zip.get(`${root}data/${key}`)?.size,
    hint,
  });
  const { refs, skipped } = collect(value, pkl.size + 1024);
  // count what will be allocated before allocating any of it: the tensors, and the storages
  // that must be inflated (stored ones are read in place)
  let total = 0;
  const counted = new Set<string>();
  for (const [name, t] of refs) {
    let need = shapeSize(t.shape) * DTYPE_SIZE[t.dtype];
    const e = zip.get(`${root}data/${t.storage.key}`) as ZipEntry;
    if (e.method !== 0 && !counted.has(t.storage.key)) {
      counted.add(t.storage.key);
      need += e.size;
    }
    total += need;
    if (total > budget.left) throw budget.error(total, `the tensors (through '${name}') with their inflated storages`);
  }
  const records = new Map<string, Uint8Array>();
  const tensors = new Map<string, NdArray>();
  for (const [name, t] of refs) {
    let record = records.get(t.storage.key);
    if (record === undefined) {
      record = member(zip.get(`${root}data/${t.storage.key}`) as ZipEntry);
      records.set(t.storage.key, record);
    }
    const numel = shapeSize(t.shape);
    budget.take(numel * DTYPE_SIZE[t.dtype], `tensor '${name}'`);
    tensors.set(name, materialise(t, record, little));
  }
  return { tensors, skipped };
}

// ---------------------------------------------------------------------------------------------
// Writing.

const DTYPE_STORAGE: Partial<Record<DType, string>> = {
  float64: 'DoubleStorage',
  float32: 'FloatStorage',
  float16: 'HalfStorage',
  bfloat16: 'BFloat16Storage',
  int64: 'LongStorage',
  int32: 'IntStorage',
  int16: 'ShortStorage',
  int8: 'CharStorage',
  uint8: 'ByteStorage',
  bool: 'BoolStorage',
};

class PickleWriter {
  private chunks: number[] = [];
  private memo = new Map<string, number>();
  private readonly enc = new TextEncoder();
  op(...b: number[]): void {
    for (const x of b) this.chunks.push(x);
  }
  u32(v: number): void {
    this.op(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }
  int(v: number): void {
    if (v >= 0 && v < 0x100) this.op(0x4b, v);
    else if (v >= 0 && v < 0x10000) this.op(0x4d, v & 0xff, v >>> 8);
    else if (v >= -0x80000000 && v < 0x80000000) {
      this.op(0x4a);
      this.u32(v >>> 0);
    } else {
      // LONG1: little-endian two's complement, as short as possible
      let x = BigInt(v);
      const b: number[] = [];
      while (true) {
        const byte = Number(x & 0xffn);
        b.push(byte);
        x >>= 8n;
        if ((x === 0n && (byte & 0x80) === 0) || (x === -1n && (byte & 0x80) !== 0)) break;
      }
      this.op(0x8a, b.length, ...b);
    }
  }
  str(s: string): void {
    const b = this.enc.encode(s);
    this.op(0x58);
    this.u32(b.length);
    for (const x of b) this.chunks.push(x);
  }
  global(module: string, name: string): void {
    const q = `${module}\n${name}\n`;
    const slot = this.memo.get(q);
    if (slot !== undefined) {
      this.op(0x68, slot); // BINGET
      return;
    }
    this.op(0x63);
    for (let i = 0; i < q.length; i++) this.chunks.push(q.charCodeAt(i));
    const id = this.memo.size;
    if (id < 256) {
      this.memo.set(q, id);
      this.op(0x71, id); // BINPUT
    }
  }
  tuple(items: number[]): void {
    if (items.length === 0) return this.op(0x29);
    if (items.length > 3) this.op(0x28);
    for (const v of items) this.int(v);
    this.op(items.length > 3 ? 0x74 : 0x84 + items.length);
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

/**
 * Encodes tensors as a PyTorch `torch.save` file that `torch.load` (PyTorch 1.6 and later) reads
 * as an `OrderedDict` of tensors, i.e. a state_dict for `model.load_state_dict`. The layout is
 * PyTorch's: a zip of stored (uncompressed) members under `archive/` whose data start on 64-byte
 * boundaries, `data.pkl` in pickle protocol 2 (`_rebuild_tensor_v2` with `torch.FloatStorage`
 * etc.), one little-endian storage `data/<i>` per tensor, `byteorder` and `version` records.
 * Dtypes: float64/32/16, bfloat16, int64/32/16/8, uint8 and bool; uint16/32/64 (which need
 * PyTorch >= 2.3) raise `INVALID_ARGUMENT`. Files are limited to 4 GiB (no zip64).
 *
 * @example
 * ```ts
 * const bytes = writeTorch({ 'fc.weight': { dtype: 'float32', shape: [2, 3], data: new Float32Array(6) } });
 * // python: torch.load('model.pt')  ->  OrderedDict([('fc.weight', tensor([[0., 0., 0.], [0., 0., 0.]]))])
 * ```
 */
export function writeTorch(tensors: Map<string, NdArray> | Record<string, NdArray>): Uint8Array {
  const list = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  for (const [name, t] of list) {
    if (typeof name !== 'string') throw new BasisError('INVALID_ARGUMENT', `tensor names must be strings, got ${typeof name}`);
    if (DTYPE_STORAGE[t.dtype] === undefined) {
      throw new BasisError('INVALID_ARGUMENT', `tensor '${name}' is ${t.dtype}, which PyTorch before 2.3 cannot load; convert it to int32 or int64 first`);
    }
    if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new BasisError('INVALID_ARGUMENT', `tensor '${name}' has invalid shape [${String(t.shape)}]`);
    if (shapeSize(t.shape) !== t.data.length) {
      throw new BasisError('SHAPE_MISMATCH', `tensor '${name}': shape [${t.shape.join(', ')}] needs ${shapeSize(t.shape)} values, got ${t.data.length}`);
    }
  }
  const w = new PickleWriter();
  w.op(0x80, 2); // PROTO 2
  w.global('collections', 'OrderedDict');
  w.op(0x29, 0x52); // () REDUCE
  const storages: [string, Uint8Array][] = [];
  for (let start = 0; start < list.length; start += 1000) {
    const batch = list.slice(start, start + 1000);
    w.op(0x28); // MARK
    for (const [name, t] of batch) {
      const key = String(storages.length);
      storages.push([`archive/data/${key}`, encode(t.data, t.dtype)]);
      w.str(name);
      w.global('torch._utils', '_rebuild_tensor_v2');
      w.op(0x28); // MARK (arguments)
      w.op(0x28); // MARK (persistent id)
      w.str('storage');
      w.global('torch', DTYPE_STORAGE[t.dtype] as string);
      w.str(key);
      w.str('cpu');
      w.int(t.data.length);
      w.op(0x74, 0x51); // TUPLE BINPERSID
      w.int(0); // storage_offset
      w.tuple(t.shape);
      const stride = new Array<number>(t.shape.length);
      let s = 1;
      for (let a = t.shape.length - 1; a >= 0; a--) {
        stride[a] = s;
        s *= Math.max(1, t.shape[a] as number);
      }
      w.tuple(stride);
      w.op(0x89); // requires_grad = False
      w.global('collections', 'OrderedDict');
      w.op(0x29, 0x52); // backward_hooks = OrderedDict()
      w.op(0x74, 0x52); // TUPLE REDUCE
    }
    w.op(0x75); // SETITEMS
  }
  w.op(0x2e); // STOP
  const enc = new TextEncoder();
  return writeZip([['archive/data.pkl', w.bytes()], ['archive/byteorder', enc.encode('little')], ...storages, ['archive/version', enc.encode('3\n')]]);
}
