// The Python values the torch.save unpickler builds. Python ints are `number` when safe and
// `bigint` otherwise; floats are boxed so that they are never mistaken for ints (sizes, strides,
// offsets must be ints). Storages and tensors are references into the archive's records.
import type { DType } from './ndarray.js';
import { torchFileError } from './torch-error.js';


export class PyFloat {
  constructor(readonly value: number) {}
}
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}
export class PyList {
  constructor(readonly items: PyValue[]) {}
}
export class PyDict {
  /** Entries by hash key, in insertion order. */
  readonly entries = new Map<string, [PyValue, PyValue]>();
  /** Instance attributes set by BUILD (an OrderedDict state_dict's `_metadata`). */
  attrs: PyDict | undefined;
  constructor(readonly ordered: boolean) {}
}
/** A whitelisted Python global (class, function or dtype). */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualname(): string {
    return `${this.module}.${this.name}`;
  }
}
/** A storage named by a persistent id: `('storage', torch.FloatStorage, key, location, numel)`. */
export class StorageRef {
  constructor(
    readonly key: string,
    /** Element type of the storage class (uint8 for `torch.UntypedStorage`). */
    readonly dtype: DType,
    readonly nbytes: number,
  ) {}
}
/** A tensor rebuilt from a storage: element `i` of the row-major result is storage[offset + Σ idx·stride]. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly dtype: DType,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

export type PyValue = null | boolean | number | bigint | string | Uint8Array | PyFloat | PyTuple | PyList | PyDict | PyGlobal | StorageRef | TensorRef;

export function typeName(v: PyValue): string {
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
export function hashKey(k: PyValue, depth = 0): string {
  if (depth > 32) throw torchFileError('data.pkl uses a dict key nested more than 32 deep');
  if (k === null) return 'N';
  if (typeof k === 'boolean') return `i${k ? 1 : 0}`;
  if (typeof k === 'number' || typeof k === 'bigint') return `i${String(k)}`;
  if (typeof k === 'string') return `s${k}`;
  if (k instanceof PyFloat) return Number.isInteger(k.value) ? `i${k.value}` : `f${k.value}`;
  if (k instanceof Uint8Array) {
    if (k.length > MAX_KEY_CHARS / 4) throw torchFileError(`data.pkl uses a bytes dict key of ${k.length} bytes`);
    return `b${Array.from(k).join(',')}`;
  }
  if (k instanceof PyTuple) {
    const cached = tupleKeys.get(k);
    if (cached !== undefined) return cached;
    let key = 't(';
    for (let i = 0; i < k.items.length; i++) {
      key += (i > 0 ? ',' : '') + hashKey(k.items[i] as PyValue, depth + 1);
      if (key.length > MAX_KEY_CHARS) throw torchFileError(`data.pkl uses a dict key (a tuple) longer than ${MAX_KEY_CHARS} characters`);
    }
    key += ')';
    tupleKeys.set(k, key);
    return key;
  }
  if (k instanceof PyGlobal) return `g${k.qualname}`;
  throw torchFileError(`data.pkl uses an unhashable ${typeName(k)} as a dict key`);
}
