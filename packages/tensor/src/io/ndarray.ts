import { BasisError } from '../errors.js';
import { Matrix } from '../matrix.js';

/** Element types basis reads and writes (numpy names; safetensors names map onto them). */
export type DType =
  | 'bool'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float16'
  | 'bfloat16'
  | 'float32'
  | 'float64';

/** The typed array holding each dtype in memory (float16/bfloat16 are decoded to float32). */
export type TypedArray =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/**
 * An n-dimensional array: `dtype`, `shape`, and the values in row-major (C) order. 64-bit
 * integers stay `BigInt64Array`/`BigUint64Array` so that no value above 2^53 loses precision;
 * float16 and bfloat16 are decoded to `Float32Array` (exact) and keep their dtype for writing.
 */
export interface NdArray {
  dtype: DType;
  shape: number[];
  data: TypedArray;
}

/** Bytes per element in a file. */
export const DTYPE_SIZE: Record<DType, number> = {
  bool: 1,
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  uint64: 8,
  float16: 2,
  bfloat16: 2,
  float32: 4,
  float64: 8,
};

/** Number of elements of a shape (1 for a scalar). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Checks a shape read from a file: non-negative safe integers whose product fits the bytes. */
export function checkFileShape(shape: unknown, what: string): number[] {
  if (!Array.isArray(shape)) throw new BasisError('BAD_FILE', `${what}: shape is not a list`);
  if (shape.length > 64) throw new BasisError('BAD_FILE', `${what}: shape has ${shape.length} dimensions (at most 64 are read)`);
  // the product of the non-zero entries must be safe too: [0, 2^52, 2^52] is empty, but code
  // that multiplies trailing dimensions (rows x cols) would overflow
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new BasisError('BAD_FILE', `${what}: shape entry ${typeof d === 'number' ? d : typeof d} is not a non-negative integer`);
    }
    n *= Math.max(1, d);
    if (n > Number.MAX_SAFE_INTEGER) throw new BasisError('BAD_FILE', `${what}: shape [${shape.join(', ')}] is too large`);
  }
  return shape as number[];
}

/** Decodes an IEEE half-precision bit pattern. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f === 0 ? s * Infinity : NaN;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Encodes a number as an IEEE half-precision bit pattern (round to nearest even). */
export function floatToHalf(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00; // rounds to infinity
  if (a < 2 ** -25) return sign; // rounds to zero (2^-25 exactly ties to even = 0)
  if (a < 2 ** -14) {
    // subnormal: multiples of 2^-24
    const m = a / 2 ** -24;
    let r = Math.round(m);
    if (Math.abs(m - Math.trunc(m) - 0.5) === 0 && r % 2 === 1) r -= 1;
    return sign | r;
  }
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e -= 1;
  if (2 ** (e + 1) <= a) e += 1;
  const m = (a / 2 ** e - 1) * 1024;
  let r = Math.floor(m);
  const frac = m - r;
  if (frac > 0.5 || (frac === 0.5 && r % 2 === 1)) r += 1;
  if (r === 1024) {
    r = 0;
    e += 1;
  }
  if (e + 15 >= 31) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | r;
}

/** Decodes a bfloat16 bit pattern (the upper half of a float32). */
export function bfloat16ToFloat(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0] as number;
}

/** Encodes a number as bfloat16 (round to nearest even on the float32 value). */
export function floatToBfloat16(x: number): number {
  f32[0] = x;
  const bits = u32[0] as number;
  if (Number.isNaN(x)) return 0x7fc0;
  const lower = bits & 0xffff;
  let upper = bits >>> 16;
  if (lower > 0x8000 || (lower === 0x8000 && (upper & 1) === 1)) upper += 1;
  return upper & 0xffff;
}

/**
 * A 2-D (or 1-D, as one column; or 0-D, as 1 x 1) array as a float64 `Matrix`. 64-bit integers
 * beyond ±2^53 cannot be represented exactly and raise `INVALID_ARGUMENT`.
 */
export function ndarrayToMatrix(arr: NdArray, name = 'array'): Matrix {
  const { shape } = arr;
  let rows: number;
  let cols: number;
  if (shape.length === 2) [rows, cols] = shape as [number, number];
  else if (shape.length === 1) [rows, cols] = [shape[0] as number, 1];
  else if (shape.length === 0) [rows, cols] = [1, 1];
  else {
    throw new BasisError(
      'SHAPE_MISMATCH',
      `${name} has shape [${shape.join(', ')}]; a matrix needs 2 dimensions (rows = inputs, columns = units). Flatten or pool it first (e.g. reshape to (N, C*H*W) or average over H, W)`,
    );
  }
  const out = new Matrix(rows, cols);
  const d = arr.data;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
    for (let k = 0; k < d.length; k++) {
      const v = d[k] as bigint;
      const n = Number(v);
      if (!Number.isSafeInteger(n)) {
        throw new BasisError('INVALID_ARGUMENT', `${name}[${k}] = ${v} is too large to convert to float64 exactly`);
      }
      out.data[k] = n;
    }
  } else {
    for (let k = 0; k < d.length; k++) out.data[k] = d[k] as number;
  }
  return out;
}

/** A float64 NdArray view of a Matrix (shares no memory). */
export function matrixToNdarray(m: Matrix): NdArray {
  return { dtype: 'float64', shape: [m.rows, m.cols], data: m.data.slice() };
}
