// Storage records of a torch.save archive <-> arrays. On little-endian hosts, dtypes stored as
// they are held in memory are copied wholesale (ten times faster than element by element); the
// rest goes through npy.ts. Strided views (transposes, slices, stride-0 expansions) are gathered
// in row-major order.
import { DTYPE_SIZE, bfloat16ToFloat, halfToFloat, shapeSize, type DType, type NdArray, type TypedArray } from './ndarray.js';
import { decodeElements, encodeElements } from './npy.js';
import type { TensorRef } from './pickle-values.js';

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

/** The bytes of a storage holding `data` (little-endian; a view of `data` where its layout already is). */
export function encodeStorage(data: TypedArray, dtype: DType): Uint8Array {
  const Native = NATIVE[dtype];
  if (Native !== undefined && HOST_LITTLE && data.constructor === Native) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength); // copied by writeStoredZip
  return encodeElements(data, dtype);
}


/** The row-major array of tensor `t`, read from its storage record (contiguous or strided). */
export function materialise(t: TensorRef, record: Uint8Array, little: boolean): NdArray {
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
