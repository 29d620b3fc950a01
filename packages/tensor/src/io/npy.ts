import { BasisError } from '../errors.js';
import type { Matrix } from '../matrix.js';
import { ByteBudget, resolveMaxBytes, type ReadOptions } from './limits.js';
import {
  DTYPE_SIZE,
  checkFileShape,
  floatToBfloat16,
  floatToHalf,
  halfToFloat,
  ndarrayToMatrix,
  shapeSize,
  type DType,
  type NdArray,
  type TypedArray,
} from './ndarray.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const NPY_KIND: Record<string, DType | undefined> = {
  b1: 'bool',
  '?': 'bool',
  i1: 'int8',
  u1: 'uint8',
  i2: 'int16',
  u2: 'uint16',
  i4: 'int32',
  u4: 'uint32',
  i8: 'int64',
  u8: 'uint64',
  f2: 'float16',
  f4: 'float32',
  f8: 'float64',
};

const NPY_DESCR: Partial<Record<DType, string>> = {
  bool: '|b1',
  int8: '|i1',
  uint8: '|u1',
  int16: '<i2',
  uint16: '<u2',
  int32: '<i4',
  uint32: '<u4',
  int64: '<i8',
  uint64: '<u8',
  float16: '<f2',
  float32: '<f4',
  float64: '<f8',
};

/** Bytes per element once decoded (float16/bfloat16 become float32). */
export const IN_MEMORY_SIZE: Record<DType, number> = { ...DTYPE_SIZE, float16: 4, bfloat16: 4 };

function bad(message: string): BasisError {
  return new BasisError('BAD_FILE', `not a valid .npy file: ${message}`);
}

/** Parses the Python-literal header dict of an .npy file without evaluating anything. */
function parseHeader(text: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!text.trimStart().startsWith('{')) throw bad('header is not a dictionary');
  if (descr === null) {
    if (/['"]descr['"]\s*:\s*\[/.test(text)) throw bad('structured (record) dtypes are not supported');
    throw bad("header has no 'descr' string");
  }
  if (fortran === null) throw bad("header has no 'fortran_order' flag");
  if (shape === null) throw bad("header has no 'shape' tuple");
  const dims = (shape[1] as string)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      if (!/^\d+L?$/.test(s)) throw bad(`shape entry '${s}' is not a non-negative integer`);
      return Number(s.replace('L', ''));
    });
  return { descr: descr[1] as string, fortran: fortran[1] === 'True', shape: checkFileShape(dims, '.npy') };
}

/** Reads `count` elements of `dtype` from `bytes` at `offset` into the in-memory typed array. */
export function decodeElements(bytes: Uint8Array, offset: number, count: number, dtype: DType, little: boolean): TypedArray {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * DTYPE_SIZE[dtype]);
  switch (dtype) {
    case 'bool':
    case 'uint8':
      return bytes.slice(offset, offset + count);
    case 'int8':
      return new Int8Array(bytes.slice(offset, offset + count).buffer);
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(2 * i, little);
      return out;
    }
    case 'uint16': {
      const out = new Uint16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getUint16(2 * i, little);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, little);
      return out;
    }
    case 'uint32': {
      const out = new Uint32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getUint32(4 * i, little);
      return out;
    }
    case 'int64': {
      const out = new BigInt64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getBigInt64(8 * i, little);
      return out;
    }
    case 'uint64': {
      const out = new BigUint64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getBigUint64(8 * i, little);
      return out;
    }
    case 'float16': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, little));
      return out;
    }
    case 'bfloat16': {
      const out = new Float32Array(count);
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) u[i] = view.getUint16(2 * i, little) << 16;
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, little);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, little);
      return out;
    }
  }
}

/** Writes the in-memory values as little-endian bytes of `dtype`. */
export function encodeElements(data: TypedArray, dtype: DType): Uint8Array {
  const count = data.length;
  const out = new Uint8Array(count * DTYPE_SIZE[dtype]);
  const view = new DataView(out.buffer);
  const num = (k: number) => Number(data[k]);
  for (let i = 0; i < count; i++) {
    switch (dtype) {
      case 'bool':
        out[i] = num(i) !== 0 ? 1 : 0;
        break;
      case 'uint8':
        view.setUint8(i, num(i));
        break;
      case 'int8':
        view.setInt8(i, num(i));
        break;
      case 'int16':
        view.setInt16(2 * i, num(i), true);
        break;
      case 'uint16':
        view.setUint16(2 * i, num(i), true);
        break;
      case 'int32':
        view.setInt32(4 * i, num(i), true);
        break;
      case 'uint32':
        view.setUint32(4 * i, num(i), true);
        break;
      case 'int64':
        view.setBigInt64(8 * i, BigInt.asIntN(64, typeof data[i] === 'bigint' ? (data[i] as bigint) : BigInt(Math.trunc(num(i)))), true);
        break;
      case 'uint64':
        view.setBigUint64(8 * i, BigInt.asUintN(64, typeof data[i] === 'bigint' ? (data[i] as bigint) : BigInt(Math.trunc(num(i)))), true);
        break;
      case 'float16':
        view.setUint16(2 * i, floatToHalf(num(i)), true);
        break;
      case 'bfloat16':
        view.setUint16(2 * i, floatToBfloat16(num(i)), true);
        break;
      case 'float32':
        view.setFloat32(4 * i, num(i), true);
        break;
      case 'float64':
        view.setFloat64(8 * i, num(i), true);
        break;
    }
  }
  return out;
}

/** Reverses the axes of a C-order array of shape `shape` (used for Fortran-order files). */
function reverseAxes(data: TypedArray, shape: number[]): TypedArray {
  const nd = shape.length;
  if (nd < 2) return data;
  const n = data.length;
  const out = new (data.constructor as new (n: number) => TypedArray)(n);
  // data is C-order with dims rs = reversed(shape); out is C-order with dims shape, out[i0..] = data[..i0]
  const rs = [...shape].reverse();
  const strides = new Array<number>(nd);
  let s = 1;
  for (let a = nd - 1; a >= 0; a--) {
    strides[a] = s;
    s *= rs[a] as number;
  }
  const idx = new Array<number>(nd).fill(0);
  for (let k = 0; k < n; k++) {
    // idx is the multi-index in `shape`; source offset uses reversed index
    let src = 0;
    for (let a = 0; a < nd; a++) src += (idx[a] as number) * (strides[nd - 1 - a] as number);
    (out as unknown as { [i: number]: unknown })[k] = (data as unknown as { [i: number]: unknown })[src];
    for (let a = nd - 1; a >= 0; a--) {
      idx[a] = (idx[a] as number) + 1;
      if ((idx[a] as number) < (shape[a] as number)) break;
      idx[a] = 0;
    }
  }
  return out;
}

/**
 * Parses an `.npy` file (format versions 1.0, 2.0 and 3.0; bool, int8..uint64, float16/32/64;
 * little- or big-endian; C or Fortran order) into a row-major {@link NdArray}. Truncated or corrupt
 * input raises `BAD_FILE`; sizes are checked against the bytes before anything is allocated.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * const arr = readNpy(new Uint8Array(readFileSync('acts.npy')));
 * arr.shape; // e.g. [1000, 512]
 * ```
 */
export function readNpy(bytes: Uint8Array, opts: ReadOptions & { /** @internal a budget shared with an enclosing reader (.npz) */ budget?: ByteBudget } = {}): NdArray {
  if (!(bytes instanceof Uint8Array)) throw new BasisError('INVALID_ARGUMENT', 'readNpy expects the file bytes as a Uint8Array');
  const budget = opts.budget ?? new ByteBudget(resolveMaxBytes(opts, bytes.length), 'not a valid .npy file');
  if (bytes.length < 10) throw bad(`only ${bytes.length} bytes (truncated)`);
  for (let i = 0; i < 6; i++) if (bytes[i] !== MAGIC[i]) throw bad('missing the \\x93NUMPY magic string');
  const major = bytes[6] as number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw bad('truncated header length');
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    throw bad(`unsupported format version ${major}.${bytes[7]}`);
  }
  if (start + headerLen > bytes.length) throw bad(`header of ${headerLen} bytes runs past the end of the file (${bytes.length} bytes)`);
  const headerBytes = bytes.subarray(start, start + headerLen);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(headerBytes);
  const { descr, fortran, shape } = parseHeader(text);
  const order = descr[0];
  const code = order === '<' || order === '>' || order === '|' || order === '=' ? descr.slice(1) : descr;
  const dtype = NPY_KIND[code];
  if (dtype === undefined) throw bad(`unsupported dtype '${descr}' (supported: bool, int8..uint64, float16, float32, float64)`);
  const little = order !== '>';
  const count = shapeSize(shape);
  const offset = start + headerLen;
  const need = count * DTYPE_SIZE[dtype];
  if (offset + need > bytes.length) {
    throw bad(`shape [${shape.join(', ')}] of ${descr} needs ${need} data bytes but the file has ${bytes.length - offset} (truncated)`);
  }
  // float16 is held as float32; a Fortran-order array is copied once more to reorder it
  const held = count * IN_MEMORY_SIZE[dtype];
  budget.take(fortran && shape.length > 1 ? 2 * held : held, `the array of shape [${shape.join(', ')}] ${descr}`);
  let data = decodeElements(bytes, offset, count, dtype, little);
  if (fortran) data = reverseAxes(data, shape);
  return { dtype, shape, data };
}

/** Reads a 2-D `.npy` file as a float64 Matrix (1-D → one column; more dimensions → SHAPE_MISMATCH). */
export function readNpyMatrix(bytes: Uint8Array): Matrix {
  return ndarrayToMatrix(readNpy(bytes), '.npy array');
}

/**
 * Encodes an array as an `.npy` file (format 1.0, or 2.0 for very long headers; little-endian,
 * C order, header padded to 64 bytes as numpy does). bfloat16 has no numpy dtype and is rejected.
 *
 * @example
 * ```ts
 * const bytes = writeNpy({ dtype: 'float64', shape: [2, 2], data: new Float64Array([1, 2, 3, 4]) });
 * ```
 */
export function writeNpy(arr: NdArray): Uint8Array {
  const descr = NPY_DESCR[arr.dtype];
  if (descr === undefined) {
    throw new BasisError('INVALID_ARGUMENT', `dtype ${arr.dtype} has no .npy equivalent; convert to float32 or use safetensors`);
  }
  const shape = arr.shape;
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new BasisError('INVALID_ARGUMENT', `invalid shape [${shape.join(', ')}]`);
  if (shapeSize(shape) !== arr.data.length) {
    throw new BasisError('SHAPE_MISMATCH', `shape [${shape.join(', ')}] needs ${shapeSize(shape)} values, got ${arr.data.length}`);
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let major = 1;
  let pre = 10;
  if (header.length + 1 + pre > 65535) {
    major = 2;
    pre = 12;
  }
  header += ' '.repeat((64 - ((pre + header.length + 1) % 64)) % 64) + '\n';
  const body = encodeElements(arr.data, arr.dtype);
  const out = new Uint8Array(pre + header.length + body.length);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[pre + i] = header.charCodeAt(i);
  out.set(body, pre + header.length);
  return out;
}

/** Encodes a Matrix as a float64 `.npy` file. */
export function matrixToNpy(m: Matrix): Uint8Array {
  return writeNpy({ dtype: 'float64', shape: [m.rows, m.cols], data: m.data });
}
