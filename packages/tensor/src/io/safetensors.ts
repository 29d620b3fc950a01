import { BasisError } from '../errors.js';
import { parseJsonBounded } from './json.js';
import { ByteBudget, resolveMaxBytes, type ReadOptions } from './limits.js';
import { DTYPE_SIZE, checkFileShape, shapeSize, type DType, type NdArray } from './ndarray.js';
import { IN_MEMORY_SIZE, decodeElements, encodeElements } from './npy.js';

const ST_TO_DTYPE: Record<string, DType | undefined> = {
  BOOL: 'bool',
  I8: 'int8',
  U8: 'uint8',
  I16: 'int16',
  U16: 'uint16',
  I32: 'int32',
  U32: 'uint32',
  I64: 'int64',
  U64: 'uint64',
  F16: 'float16',
  BF16: 'bfloat16',
  F32: 'float32',
  F64: 'float64',
};

const DTYPE_TO_ST: Record<DType, string> = {
  bool: 'BOOL',
  int8: 'I8',
  uint8: 'U8',
  int16: 'I16',
  uint16: 'U16',
  int32: 'I32',
  uint32: 'U32',
  int64: 'I64',
  uint64: 'U64',
  float16: 'F16',
  bfloat16: 'BF16',
  float32: 'F32',
  float64: 'F64',
};

/** Largest header accepted, as the reference implementation does (100 MB). */
const MAX_HEADER = 100_000_000;

/** The tensors and string metadata of a safetensors file. */
export interface SafetensorsContent {
  tensors: Map<string, NdArray>;
  metadata: Record<string, string>;
}

/** A value for messages, at most 80 characters. */
function brief(v: unknown): string {
  const t = JSON.stringify(v) ?? String(v);
  return t.length > 80 ? `${t.slice(0, 77)}...` : t;
}

function bad(message: string): BasisError {
  return new BasisError('BAD_FILE', `not a valid safetensors file: ${message}`);
}

/**
 * Parses a safetensors file: u64 little-endian header length, a JSON header mapping names to
 * `{dtype, shape, data_offsets}` (plus optional `__metadata__` of strings), then the raw
 * little-endian bytes. All 13 dtypes are read (F16/BF16 decoded to float32, I64/U64 kept as
 * BigInt). Offsets are validated to lie inside the buffer, cover it exactly without overlap,
 * and match each tensor's shape; anything else raises `BAD_FILE`.
 *
 * @example
 * ```ts
 * const { tensors, metadata } = readSafetensors(bytes);
 * tensors.get('layers.0.weight')?.shape; // e.g. [512, 784]
 * ```
 */
export function readSafetensors(bytes: Uint8Array, opts: ReadOptions = {}): SafetensorsContent {
  if (!(bytes instanceof Uint8Array)) throw new BasisError('INVALID_ARGUMENT', 'readSafetensors expects the file bytes as a Uint8Array');
  const budget = new ByteBudget(resolveMaxBytes(opts, bytes.length), 'not a valid safetensors file');
  if (bytes.length < 8) throw bad(`only ${bytes.length} bytes (truncated)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > MAX_HEADER) throw bad(`header length ${n} exceeds the 100 MB limit`);
  if (8 + n > bytes.length) throw bad(`header of ${n} bytes runs past the end of the file (${bytes.length} bytes)`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch (e) {
    throw bad(`header is not valid UTF-8 (${(e as Error).message})`);
  }
  // the format nests two levels (name -> {dtype, shape, data_offsets}); a deep one is crafted
  const header = parseJsonBounded(text, 'not a valid safetensors file: header', 16);
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw bad('header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: DType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('__metadata__ is not an object');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') throw bad(`__metadata__.${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (typeof value !== 'object' || value === null) throw bad(`entry '${name}' is not an object`);
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = typeof info.dtype === 'string' ? ST_TO_DTYPE[info.dtype] : undefined;
    if (dtype === undefined) throw bad(`tensor '${name}' has unsupported dtype ${brief(info.dtype)}`);
    const shape = checkFileShape(info.shape, `tensor '${name}'`);
    const off = info.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)) {
      throw bad(`tensor '${name}' has invalid data_offsets ${brief(off)}`);
    }
    const [begin, end] = off as [number, number];
    if (begin > end || end > dataLen) throw bad(`tensor '${name}' offsets [${begin}, ${end}) lie outside the ${dataLen} data bytes`);
    const want = shapeSize(shape) * DTYPE_SIZE[dtype];
    if (end - begin !== want) throw bad(`tensor '${name}' of shape [${shape.join(', ')}] ${DTYPE_TO_ST[dtype]} needs ${want} bytes, offsets give ${end - begin}`);
    entries.push({ name, dtype, shape, begin, end });
  }
  // offsets must tile the data buffer exactly
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const e of sorted) {
    if (e.begin !== pos) throw bad(`tensor '${e.name}' starts at ${e.begin}, expected ${pos} (gap or overlap)`);
    pos = e.end;
  }
  if (pos !== dataLen) throw bad(`tensors cover ${pos} of ${dataLen} data bytes`);
  let held = 0;
  for (const e of entries) held += shapeSize(e.shape) * IN_MEMORY_SIZE[e.dtype];
  budget.take(held, `the ${entries.length} tensors`);
  const tensors = new Map<string, NdArray>();
  for (const e of entries) {
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: decodeElements(bytes, dataStart + e.begin, shapeSize(e.shape), e.dtype, true) });
  }
  return { tensors, metadata };
}

/**
 * Encodes tensors (and optional string metadata) as a safetensors file laid out like the
 * reference implementation: tensors ordered by decreasing dtype size, then by name; header JSON
 * padded with spaces to a multiple of 8 bytes.
 *
 * @example
 * ```ts
 * const bytes = writeSafetensors(new Map([['w', { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) }]]), { format: 'pt' });
 * ```
 */
export function writeSafetensors(tensors: Map<string, NdArray> | Record<string, NdArray>, metadata?: Record<string, string>): Uint8Array {
  const list = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  for (const [name, t] of list) {
    if (name === '__metadata__') throw new BasisError('INVALID_ARGUMENT', "'__metadata__' is reserved and cannot name a tensor");
    if (shapeSize(t.shape) !== t.data.length) {
      throw new BasisError('SHAPE_MISMATCH', `tensor '${name}': shape [${t.shape.join(', ')}] needs ${shapeSize(t.shape)} values, got ${t.data.length}`);
    }
  }
  list.sort(([na, a], [nb, b]) => DTYPE_SIZE[b.dtype] - DTYPE_SIZE[a.dtype] || (na < nb ? -1 : na > nb ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') throw new BasisError('INVALID_ARGUMENT', `metadata '${k}' must be a string`);
    header['__metadata__'] = metadata;
  }
  const bodies: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of list) {
    const body = encodeElements(t.data, t.dtype);
    header[name] = { dtype: DTYPE_TO_ST[t.dtype], shape: t.shape, data_offsets: [offset, offset + body.length] };
    offset += body.length;
    bodies.push(body);
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hb = enc.encode(json);
  if (hb.length % 8 !== 0) {
    json += ' '.repeat(8 - (hb.length % 8));
    hb = enc.encode(json);
  }
  const out = new Uint8Array(8 + hb.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const b of bodies) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}
