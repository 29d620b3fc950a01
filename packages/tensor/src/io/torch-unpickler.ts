// The unpickler of torch.save's data.pkl: pickle protocols 2-5, only the opcodes that torch.save
// writes for state_dicts, and only whitelisted globals (OrderedDict, tensor and parameter
// rebuilders, storage classes, dtypes). It runs no code.
import { DTYPE_SIZE, type DType } from './ndarray.js';
import { PyDict, PyFloat, PyGlobal, PyList, PyTuple, StorageRef, TensorRef, hashKey, typeName, type PyValue } from './pickle-values.js';
import { torchFileError } from './torch-error.js';
import { u64 } from './zip-reader.js';

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
    if (u !== undefined) throw torchFileError(`data.pkl holds a ${u} tensor (torch.${name}); basis reads float64/32/16, bfloat16, int64/32/16/8, uint8..uint64 and bool tensors`);
  }
  throw torchFileError(
    `data.pkl refers to the Python global ${q}, which basis does not allow: it reads only tensors, dicts, lists, tuples and plain values (str, int, float, bool, None)${hint}`,
  );
}

// The unpickler proper: protocols 2-5.

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
  if (typeof v !== 'number') throw torchFileError(`${what} is a ${typeName(v)}, not an int`);
  return v;
}

function asIntTuple(v: PyValue, what: string): number[] {
  if (!(v instanceof PyTuple)) throw torchFileError(`${what} is a ${typeName(v)}, not a tuple`);
  return v.items.map((x, i) => {
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) throw torchFileError(`${what}[${i}] = ${x instanceof PyFloat ? x.value : typeof x === 'object' && x !== null ? typeName(x) : String(x)} is not a non-negative integer`);
    return x;
  });
}

/** `_rebuild_tensor_v2/v3`: checks that the view lies inside its storage. */
function rebuildTensor(args: PyValue[], fn: string, v3: boolean): TensorRef {
  const n = args.length;
  if (v3 ? n !== 7 && n !== 8 : n !== 6 && n !== 7) throw torchFileError(`${fn} called with ${n} arguments`);
  const storage = args[0] as PyValue;
  if (!(storage instanceof StorageRef)) throw torchFileError(`${fn}: the storage argument is a ${typeName(storage)}`);
  let dtype = storage.dtype;
  if (v3) {
    const d = args[6] as PyValue;
    const t = d instanceof PyGlobal && d.module === 'torch' ? TORCH_DTYPE.get(d.name) : undefined;
    if (t === undefined) throw torchFileError(`${fn}: the dtype argument is ${typeName(d)}, not a supported torch dtype`);
    dtype = t;
  }
  const offset = asInt(args[1] as PyValue, `${fn}: storage_offset`);
  if (!Number.isSafeInteger(offset) || offset < 0) throw torchFileError(`${fn}: storage_offset ${offset} is negative`);
  const shape = asIntTuple(args[2] as PyValue, `${fn}: size`);
  const stride = asIntTuple(args[3] as PyValue, `${fn}: stride`);
  if (stride.length !== shape.length) throw torchFileError(`${fn}: size (${shape.join(', ')}) and stride (${stride.join(', ')}) differ in length`);
  let numel = 1;
  let last = offset;
  for (let a = 0; a < shape.length; a++) {
    numel *= shape[a] as number;
    last += ((shape[a] as number) - 1) * (stride[a] as number);
  }
  if (numel > Number.MAX_SAFE_INTEGER || last > Number.MAX_SAFE_INTEGER) throw torchFileError(`${fn}: size (${shape.join(', ')}) is too large`);
  const elems = Math.floor(storage.nbytes / DTYPE_SIZE[dtype]);
  if (numel > 0 && last >= elems) {
    throw torchFileError(`tensor of size (${shape.join(', ')}), stride (${stride.join(', ')}) and offset ${offset} needs ${last + 1} ${dtype} elements but its storage '${storage.key}' has ${elems}`);
  }
  return new TensorRef(storage, dtype, offset, shape, stride);
}

/** Calls a whitelisted global (REDUCE / NEWOBJ). */
function call(fn: PyValue, argsValue: PyValue): PyValue {
  if (!(fn instanceof PyGlobal)) throw torchFileError(`data.pkl calls a ${typeName(fn)}`);
  if (!(argsValue instanceof PyTuple)) throw torchFileError(`data.pkl calls ${fn.qualname} with a ${typeName(argsValue)} of arguments`);
  const args = argsValue.items;
  switch (fn.qualname) {
    case 'collections.OrderedDict': {
      const d = new PyDict(true);
      if (args.length === 0) return d;
      const items = args[0] as PyValue;
      if (args.length === 1 && (items instanceof PyList || items instanceof PyTuple)) {
        for (const pair of items.items) {
          if (!(pair instanceof PyTuple || pair instanceof PyList) || pair.items.length !== 2) throw torchFileError('OrderedDict built from something other than (key, value) pairs');
          d.entries.set(hashKey(pair.items[0] as PyValue), [pair.items[0] as PyValue, pair.items[1] as PyValue]);
        }
        return d;
      }
      throw torchFileError(`OrderedDict called with ${args.length} arguments`);
    }
    case 'torch._utils._rebuild_tensor_v2':
      return rebuildTensor(args, fn.name, false);
    case 'torch._utils._rebuild_tensor_v3':
      return rebuildTensor(args, fn.name, true);
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state': {
      const want = fn.name === '_rebuild_parameter' ? 3 : 4;
      if (args.length !== want || !(args[0] instanceof TensorRef)) throw torchFileError(`${fn.name} called with ${args.length} arguments, the first a ${typeName(args[0] ?? null)}`);
      return args[0];
    }
    case 'torch._tensor._rebuild_from_type_v2': {
      // (func, type, args, state): a plain Tensor or Parameter carrying Python attributes
      const [inner, type, innerArgs] = args;
      if (args.length !== 4 || !(type instanceof PyGlobal) || (type.qualname !== 'torch.Tensor' && type.qualname !== 'torch.nn.parameter.Parameter')) {
        throw torchFileError(`_rebuild_from_type_v2 rebuilds a ${type instanceof PyGlobal ? type.qualname : typeName(type ?? null)}; only torch.Tensor and torch.nn.Parameter are read`);
      }
      if (inner instanceof PyGlobal && inner.name === '_rebuild_from_type_v2') throw torchFileError('_rebuild_from_type_v2 nested in itself');
      const t = call(inner as PyValue, innerArgs as PyValue);
      if (!(t instanceof TensorRef)) throw torchFileError('_rebuild_from_type_v2 did not rebuild a tensor');
      return t;
    }
    default:
      throw torchFileError(`data.pkl calls ${fn.qualname}, which is not a function`);
  }
}

/** What the unpickler asks of the archive around data.pkl. */
export interface UnpickleContext {
  /** Size in bytes of the record `data/<key>`, or undefined when missing. */
  storageSize(key: string): number | undefined;
  /** Appended to the message about a forbidden global. */
  hint: string;
}

/**
 * Runs the pickle `bytes` (data.pkl of a torch.save archive) and returns the value it builds.
 * Only the opcodes torch.save writes for state_dicts are known and only whitelisted globals may be
 * called; anything else is `BAD_FILE` naming the opcode or global.
 */
export function unpickle(bytes: Uint8Array, ctx: UnpickleContext): PyValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length;
  let pos = 0;
  let stack: PyValue[] = [];
  const metastack: PyValue[][] = [];
  const memo = new Map<number, PyValue>();
  const storages = new Map<string, StorageRef>();
  const need = (k: number, what: string): void => {
    if (pos + k > n) throw torchFileError(`data.pkl is truncated (${what} at byte ${pos})`);
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
    if (stack.length === 0) throw torchFileError(`data.pkl pops an empty stack at byte ${pos - 1}`);
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length === 0) throw torchFileError(`data.pkl reads an empty stack at byte ${pos - 1}`);
    return stack[stack.length - 1] as PyValue;
  };
  const popMark = (): PyValue[] => {
    const items = stack;
    const prev = metastack.pop();
    if (prev === undefined) throw torchFileError(`data.pkl has no MARK before byte ${pos - 1}`);
    stack = prev;
    return items;
  };
  const line = (what: string): string => {
    const end = bytes.subarray(pos, pos + 1001).indexOf(0x0a) + pos;
    if (end < pos) throw torchFileError(`data.pkl has an unterminated ${what}`);
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
    if (!(d instanceof PyDict)) throw torchFileError(`data.pkl sets items on a ${typeName(d)}`);
    if (items.length % 2 !== 0) throw torchFileError('data.pkl SETITEMS has an odd number of values');
    for (let i = 0; i < items.length; i += 2) d.entries.set(hashKey(items[i] as PyValue), [items[i] as PyValue, items[i + 1] as PyValue]);
  };
  const append = (l: PyValue, items: PyValue[]): void => {
    if (!(l instanceof PyList)) throw torchFileError(`data.pkl appends to a ${typeName(l)}`);
    // one push per item: spreading 10^5+ arguments overflows the call stack
    for (const item of items) l.items.push(item);
  };
  const persistentLoad = (pid: PyValue): StorageRef => {
    if (!(pid instanceof PyTuple) || pid.items.length !== 5 || pid.items[0] !== 'storage') throw torchFileError(`persistent id ${typeName(pid)} is not ('storage', type, key, location, numel)`);
    const [, type, key, location, numelValue] = pid.items;
    const dtype = type instanceof PyGlobal && type.module === 'torch' ? STORAGE_DTYPE.get(type.name) : undefined;
    if (dtype === undefined) throw torchFileError(`persistent id names storage type ${typeName(type ?? null)}`);
    if (typeof key !== 'string') throw torchFileError(`storage key is a ${typeName(key ?? null)}`);
    if (typeof location !== 'string') throw torchFileError(`storage '${key}' has location ${typeName(location ?? null)}`);
    const numel = asInt(numelValue as PyValue, `storage '${key}' numel`);
    if (!Number.isSafeInteger(numel) || numel < 0) throw torchFileError(`storage '${key}' has numel ${numel}`);
    const nbytes = numel * DTYPE_SIZE[dtype];
    const have = ctx.storageSize(key);
    if (have === undefined) throw torchFileError(`storage '${key}' has no record data/${key} in the archive`);
    if (have !== nbytes) throw torchFileError(`storage '${key}' of ${numel} ${dtype} elements needs ${nbytes} bytes but data/${key} has ${have}`);
    const prev = storages.get(key);
    if (prev !== undefined) {
      if (prev.dtype !== dtype) throw torchFileError(`storage '${key}' is used as both ${prev.dtype} and ${dtype}`);
      return prev;
    }
    const s = new StorageRef(key, dtype, nbytes);
    storages.set(key, s);
    return s;
  };

  while (true) {
    if (pos >= n) throw torchFileError('data.pkl ends without STOP (truncated)');
    const at = pos;
    const op = bytes[pos++] as number;
    switch (op) {
      case 0x80: {
        // PROTO
        const v = take(1, 'PROTO')[0] as number;
        if (v < 2 || v > 5) throw torchFileError(`data.pkl uses pickle protocol ${v} (2-5 are read)`);
        break;
      }
      case 0x95: // FRAME: framing is only a buffering hint
        if (len64() > n - pos) throw torchFileError('data.pkl has a FRAME longer than the file');
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || metastack.length !== 0) throw torchFileError(`data.pkl stops with ${stack.length} values on the stack`);
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
        if (k < 0 || k > 1024) throw torchFileError(`data.pkl has a LONG4 of ${k} bytes`);
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
        if (k < 0) throw torchFileError('data.pkl has a BINSTRING of negative length');
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
        if (stack.length < k) throw torchFileError(`data.pkl builds a ${k}-tuple from ${stack.length} values`);
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
        if (typeof module !== 'string' || typeof name !== 'string') throw torchFileError('data.pkl STACK_GLOBAL without module and name strings');
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
        else if (!(obj instanceof TensorRef && (state instanceof PyDict || state === null))) throw torchFileError(`data.pkl sets the state of a ${typeName(obj)} from a ${typeName(state)}`);
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
        if (!memo.has(idx)) throw torchFileError(`data.pkl reads memo slot ${idx}, which was never set`);
        stack.push(memo.get(idx) as PyValue);
        break;
      }
      default: {
        const name = OPCODE_NAMES[op];
        throw torchFileError(`data.pkl uses the pickle opcode ${name ?? `0x${op.toString(16).padStart(2, '0')}`} at byte ${at}, which basis does not read${name === undefined ? ' (not a pickle, or corrupt)' : ''}`);
      }
    }
  }
}
