// PyTorch `torch.save` files (the zip format of PyTorch >= 1.6) holding state_dicts: a safe reader
// and a writer laid out like PyTorch's. The parts live beside this file: zip-reader.ts and
// zip-writer.ts (the archive), torch-unpickler.ts and torch-pickler.ts (data.pkl),
// pickle-values.ts (what the unpickler builds), torch-storage.ts (storage records <-> arrays).
// This file flattens the unpickled object into named tensors and back.
import { BasisError } from '../errors.js';
import { ByteBudget, resolveMaxBytes, type ReadOptions } from './limits.js';
import { DTYPE_SIZE, shapeSize, type NdArray } from './ndarray.js';
import { PyDict, PyFloat, PyList, PyTuple, TensorRef, typeName, type PyValue } from './pickle-values.js';
import { TORCH_KIND, torchFileError as bad } from './torch-error.js';
import { DTYPE_STORAGE, pickleStateDict } from './torch-pickler.js';
import { encodeStorage, materialise } from './torch-storage.js';
import { unpickle } from './torch-unpickler.js';
import { readZipDirectory, zipEntryData, type ZipEntry } from './zip-reader.js';
import { writeStoredZip } from './zip-writer.js';

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

const latin1 = new TextDecoder('latin1');

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
  const budget = new ByteBudget(resolveMaxBytes(opts, bytes.length), TORCH_KIND);
  if (bytes.length >= 2 && bytes[0] === 0x80 && (bytes[1] as number) <= 5) {
    throw bad('this is the legacy (non-zip) torch.save format of PyTorch < 1.6 (or _use_new_zipfile_serialization=False), which basis does not read; re-save it with a newer PyTorch');
  }
  const zip = readZipDirectory(bytes, TORCH_KIND);
  const first = zip.keys().next().value;
  if (first === undefined) throw bad('the zip archive is empty');
  const slash = first.indexOf('/');
  if (slash <= 0) throw bad(`the first archive member '${first}' is not in a folder; torch.save archives keep everything under <name>/`);
  const root = first.slice(0, slash + 1);
  const member = (e: ZipEntry) => zipEntryData(bytes, e, budget, TORCH_KIND);
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
  const storages = list.map(([, t], i): [string, Uint8Array] => [`archive/data/${i}`, encodeStorage(t.data, t.dtype)]);
  const enc = new TextEncoder();
  return writeStoredZip([['archive/data.pkl', pickleStateDict(list)], ['archive/byteorder', enc.encode('little')], ...storages, ['archive/version', enc.encode('3\n')]]);
}
