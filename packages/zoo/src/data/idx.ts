// The IDX format of the original MNIST files (optionally gzipped), in memory; browser-safe.
//
// Layout: two zero bytes, a type byte (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
// 0x0E float64), a dimension count, then one big-endian uint32 per dimension, then the values in
// row-major order, big-endian.
import { gzipSync } from 'fflate';
import { BasisError, ByteBudget, crc32, inflateBounded, resolveMaxBytes, type NdArray, type ReadOptions } from '@basis/tensor';
import { classificationDataset } from './dataset.js';
import { FASHION_MNIST_CLASS_NAMES, MNIST_CLASS_NAMES } from './names.js';
import { pixelsToValues, resolveNormalization } from './normalize.js';
import type { ClassificationDataset, NormalizeOption } from './types.js';
import { checkOptions, describe } from './validate.js';

type IdxDType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

const TYPE_CODES: Record<number, { dtype: IdxDType; size: number }> = {
  0x08: { dtype: 'uint8', size: 1 },
  0x09: { dtype: 'int8', size: 1 },
  0x0b: { dtype: 'int16', size: 2 },
  0x0c: { dtype: 'int32', size: 4 },
  0x0d: { dtype: 'float32', size: 4 },
  0x0e: { dtype: 'float64', size: 8 },
};
const CODE_OF: Record<IdxDType, number> = { uint8: 0x08, int8: 0x09, int16: 0x0b, int32: 0x0c, float32: 0x0d, float64: 0x0e };

/**
 * True when the bytes start with the gzip magic number.
 *
 * @example
 * ```ts
 * isGzip(encodeIdx(arr, { gzip: true })); // true
 * ```
 */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decompresses a single-member gzip file, checking its header, CRC-32 and length trailer.
 * Throws `BAD_FILE` for truncated or corrupt data, and for data that would inflate past
 * `opts.maxBytes` (default `BASIS_MAX_BYTES`, else 16 × the file size and at least 256 MiB): the
 * output is counted while it is produced, so a decompression bomb stops at the budget.
 *
 * @example
 * ```ts
 * const raw = gunzip(bytes); // bytes of train-images-idx3-ubyte.gz
 * ```
 */
export function gunzip(bytes: Uint8Array, what = 'gzip data', opts: ReadOptions & { /** @internal shared with decodeIdx */ budget?: ByteBudget } = {}): Uint8Array {
  if (!isGzip(bytes)) throw new BasisError('BAD_FILE', `${what}: not gzip data (no 1f 8b magic number)`);
  if (bytes.length < 18) throw new BasisError('BAD_FILE', `${what}: truncated gzip file (${bytes.length} bytes; a gzip file has at least 18)`);
  if (bytes[2] !== 8) throw new BasisError('BAD_FILE', `${what}: unsupported gzip compression method ${bytes[2]} (only deflate, 8)`);
  const budget = opts.budget ?? new ByteBudget(resolveMaxBytes(opts, bytes.length), what);
  const flg = bytes[3]!;
  let p = 10;
  if (flg & 4) p += 2 + (bytes[10]! | (bytes[11]! << 8));
  if (flg & 8) while (p < bytes.length && bytes[p++] !== 0);
  if (flg & 16) while (p < bytes.length && bytes[p++] !== 0);
  if (flg & 2) p += 2;
  if (p + 8 > bytes.length) throw new BasisError('BAD_FILE', `${what}: truncated gzip file (the header runs past the end)`);
  const t = bytes.length - 8;
  const crc = (bytes[t]! | (bytes[t + 1]! << 8) | (bytes[t + 2]! << 16) | (bytes[t + 3]! << 24)) >>> 0;
  const isize = (bytes[t + 4]! | (bytes[t + 5]! << 8) | (bytes[t + 6]! << 16) | (bytes[t + 7]! << 24)) >>> 0;
  // the trailer holds the size mod 2^32, so the true size is at least the trailer's: a trailer above
  // the budget is refused before inflating anything
  if (isize > budget.left) throw budget.error(isize, 'the gzip data (as its length trailer declares)');
  let out: Uint8Array;
  try {
    // the length trailer (size mod 2^32) is only a hint for the first allocation: the output is counted as it comes
    out = inflateBounded(bytes.subarray(p, t), { budget, what: 'the gzip data', fileKind: what, hint: isize });
  } catch (e) {
    if (e instanceof BasisError && e.details?.['limit'] === 'maxBytes') throw e;
    throw new BasisError('BAD_FILE', `${what}: corrupt or truncated gzip data (${(e as Error).message}); download the file again`, { cause: e });
  }
  if (isize !== out.length % 4294967296 || crc32(out) !== crc) {
    throw new BasisError('BAD_FILE', `${what}: gzip checksum or length mismatch (the file is truncated or corrupt); download it again`);
  }
  return out;
}

/**
 * Decodes an IDX file (gzipped or not: gzip is detected by its magic number) into an n-d array:
 * `dtype` uint8/int8/int16/int32/float32/float64, `shape` from the header, values in row-major
 * order. Throws `BAD_FILE` naming the problem for a wrong magic number, an unknown type code, a
 * truncated file or trailing bytes, and before any allocation when the declared shape does not
 * match the data or the array would exceed `opts.maxBytes` (see `ReadOptions` of
 * `@basis/tensor`; gzip output counts too).
 *
 * @example
 * ```ts
 * const images = decodeIdx(bytes); // { dtype: 'uint8', shape: [60000, 28, 28], data: Uint8Array }
 * ```
 */
export function decodeIdx(bytes: Uint8Array, what = 'IDX data', opts: ReadOptions = {}): NdArray {
  if (!(bytes instanceof Uint8Array)) throw new BasisError('INVALID_ARGUMENT', `decodeIdx: expected a Uint8Array, got ${describe(bytes)}`);
  const budget = new ByteBudget(resolveMaxBytes(opts, bytes.length), what);
  const raw = isGzip(bytes) ? gunzip(bytes, what, { budget }) : bytes;
  if (raw.length < 4) throw new BasisError('BAD_FILE', `${what}: truncated IDX file (${raw.length} bytes; the header alone has at least 4)`);
  if (raw[0] !== 0 || raw[1] !== 0) {
    throw new BasisError('BAD_FILE', `${what}: not an IDX file (magic bytes ${raw[0]!.toString(16)} ${raw[1]!.toString(16)}, expected 00 00)`);
  }
  const type = TYPE_CODES[raw[2]!];
  if (type === undefined) throw new BasisError('BAD_FILE', `${what}: unknown IDX type code 0x${raw[2]!.toString(16).padStart(2, '0')} (expected 08, 09, 0b, 0c, 0d or 0e)`);
  const ndim = raw[3]!;
  if (ndim === 0) throw new BasisError('BAD_FILE', `${what}: IDX header declares 0 dimensions`);
  const headerLen = 4 + 4 * ndim;
  if (raw.length < headerLen) throw new BasisError('BAD_FILE', `${what}: truncated IDX header (${raw.length} bytes, ${ndim} dimensions need ${headerLen})`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const shape: number[] = [];
  // the product of the non-zero dimensions must be exact: a huge dimension next to a zero one
  // (or an overflow to Infinity, times 0 = NaN) would otherwise slip past the length check
  let count = 1;
  let nonzero = 1;
  for (let d = 0; d < ndim; d++) {
    const s = view.getUint32(4 + 4 * d, false);
    shape.push(s);
    count *= s;
    nonzero *= Math.max(1, s);
    if (nonzero * type.size > Number.MAX_SAFE_INTEGER) {
      throw new BasisError('BAD_FILE', `${what}: IDX header declares shape [${shape.join(', ')}${d + 1 < ndim ? ', ...' : ''}], far more than the ${raw.length} bytes of the file; the header is corrupt`);
    }
  }
  const need = count * type.size;
  const have = raw.length - headerLen;
  if (have < need) {
    throw new BasisError('BAD_FILE', `${what}: truncated IDX file: shape [${shape.join(', ')}] of ${type.dtype} needs ${need} data bytes but only ${have} follow the header; download the file again`, {
      details: { shape, need, have },
    });
  }
  if (have > need) throw new BasisError('BAD_FILE', `${what}: ${have - need} unexpected bytes after the IDX data of shape [${shape.join(', ')}]; the header or the file is corrupt`);
  budget.take(need, `the IDX array of shape [${shape.join(', ')}]`);
  const o = headerLen;
  let data: NdArray['data'];
  switch (type.dtype) {
    case 'uint8':
      data = raw.slice(o, o + count);
      break;
    case 'int8':
      data = new Int8Array(raw.slice(o, o + count).buffer);
      break;
    case 'int16': {
      const a = new Int16Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getInt16(o + 2 * i, false);
      data = a;
      break;
    }
    case 'int32': {
      const a = new Int32Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getInt32(o + 4 * i, false);
      data = a;
      break;
    }
    case 'float32': {
      const a = new Float32Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getFloat32(o + 4 * i, false);
      data = a;
      break;
    }
    case 'float64': {
      const a = new Float64Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getFloat64(o + 8 * i, false);
      data = a;
      break;
    }
  }
  return { dtype: type.dtype, shape, data };
}

/**
 * Encodes an n-d array as an IDX file (big-endian), gzipped when `gzip: true`. Supported dtypes:
 * uint8, int8, int16, int32, float32, float64; at most 255 dimensions, each below 2^32.
 *
 * @example
 * ```ts
 * const bytes = encodeIdx({ dtype: 'uint8', shape: [2, 28, 28], data: new Uint8Array(1568) }, { gzip: true });
 * decodeIdx(bytes).shape; // [2, 28, 28]
 * ```
 */
export function encodeIdx(arr: NdArray, opts: { gzip?: boolean } = {}): Uint8Array {
  checkOptions(opts, ['gzip'], 'encodeIdx');
  if (typeof arr !== 'object' || arr === null || !Array.isArray(arr.shape) || !ArrayBuffer.isView(arr.data)) {
    throw new BasisError('INVALID_ARGUMENT', `encodeIdx: expected { dtype, shape, data }, got ${describe(arr)}`);
  }
  const code = CODE_OF[arr.dtype as IdxDType];
  if (code === undefined) throw new BasisError('INVALID_ARGUMENT', `encodeIdx: IDX cannot hold dtype '${arr.dtype}'; convert to uint8, int8, int16, int32, float32 or float64`);
  const { shape } = arr;
  if (shape.length === 0 || shape.length > 255) throw new BasisError('SHAPE_MISMATCH', `encodeIdx: IDX needs 1..255 dimensions, got ${shape.length}`);
  let count = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) throw new BasisError('SHAPE_MISMATCH', `encodeIdx: dimension ${d} is not an integer in 0..2^32-1`);
    count *= d;
  }
  if (arr.data.length !== count) throw new BasisError('SHAPE_MISMATCH', `encodeIdx: shape [${shape.join(', ')}] needs ${count} values but data has ${arr.data.length}`);
  const size = TYPE_CODES[code]!.size;
  const headerLen = 4 + 4 * shape.length;
  const out = new Uint8Array(headerLen + count * size);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = shape.length;
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const src = arr.data as ArrayLike<number>;
  const o = headerLen;
  switch (arr.dtype as IdxDType) {
    case 'uint8':
      for (let i = 0; i < count; i++) out[o + i] = src[i]!;
      break;
    case 'int8':
      for (let i = 0; i < count; i++) view.setInt8(o + i, src[i]!);
      break;
    case 'int16':
      for (let i = 0; i < count; i++) view.setInt16(o + 2 * i, src[i]!, false);
      break;
    case 'int32':
      for (let i = 0; i < count; i++) view.setInt32(o + 4 * i, src[i]!, false);
      break;
    case 'float32':
      for (let i = 0; i < count; i++) view.setFloat32(o + 4 * i, src[i]!, false);
      break;
    case 'float64':
      for (let i = 0; i < count; i++) view.setFloat64(o + 8 * i, src[i]!, false);
      break;
  }
  return opts.gzip ? gzipSync(out, { level: 6, mtime: 0 }) : out;
}

/**
 * Options of {@link idxToDataset}.
 *
 * @example
 * ```ts
 * const opts: IdxDatasetOptions = { source: 'fashion-mnist', name: 'fashion/test', normalize: 'standard' };
 * ```
 */
export interface IdxDatasetOptions {
  /** Display name (default `'idx'`). */
  name?: string;
  /**
   * Source tag (default `'idx'`): `'mnist'` or `'fashion-mnist'` give the class names and the
   * documented standardisation constants of that dataset.
   */
  source?: string;
  /** Class names (default: the source's names, or `'0'`, `'1'`, ...). */
  classNames?: readonly string[];
  /** Pixel normalisation (default `'unit'`). */
  normalize?: NormalizeOption;
}

/**
 * An image classification dataset from decoded IDX arrays: images uint8 `[N, H, W]` (one
 * channel) or `[N, C, H, W]`, labels integer `[N]`. Throws `BAD_FILE` for the wrong dtypes or
 * ranks, `SHAPE_MISMATCH` when the counts differ.
 *
 * @example
 * ```ts
 * const train = idxToDataset(decodeIdx(imageBytes), decodeIdx(labelBytes), { source: 'mnist', name: 'mnist/train' });
 * ```
 */
export function idxToDataset(images: NdArray, labels: NdArray, opts: IdxDatasetOptions = {}): ClassificationDataset {
  const fn = 'idxToDataset';
  checkOptions(opts, ['name', 'source', 'classNames', 'normalize'], fn);
  if (images?.dtype !== 'uint8' || !(images.data instanceof Uint8Array)) {
    throw new BasisError('BAD_FILE', `${fn}: images must be unsigned bytes (IDX type 0x08), got ${images?.dtype}; is this a label file?`);
  }
  if (images.shape.length !== 3 && images.shape.length !== 4) {
    throw new BasisError('BAD_FILE', `${fn}: images must have shape [N, H, W] or [N, C, H, W], got [${images.shape.join(', ')}]; is this a label file?`);
  }
  if (labels === undefined || !['uint8', 'int8', 'int16', 'int32'].includes(labels.dtype) || labels.shape.length !== 1) {
    throw new BasisError('BAD_FILE', `${fn}: labels must be a 1-d integer IDX array, got ${labels?.dtype} of shape [${labels?.shape?.join(', ')}]; is this an image file?`);
  }
  const n = images.shape[0]!;
  if (labels.shape[0] !== n) throw new BasisError('SHAPE_MISMATCH', `${fn}: ${n} images but ${labels.shape[0]} labels; pair the images file with its own labels file`);
  if (n === 0) throw new BasisError('TOO_SMALL', `${fn}: the IDX files hold no examples`);
  const per = images.shape.length === 3 ? [1, images.shape[1]!, images.shape[2]!] : images.shape.slice(1);
  if (per.some((d) => d === 0)) throw new BasisError('BAD_FILE', `${fn}: image shape [${per.join(', ')}] has an empty dimension`);
  const source = opts.source ?? 'idx';
  const known = source === 'mnist' ? MNIST_CLASS_NAMES : source === 'fashion-mnist' ? FASHION_MNIST_CLASS_NAMES : undefined;
  const classNames = opts.classNames ?? known;
  let maxLabel = 0;
  const lab = labels.data as ArrayLike<number>;
  for (let i = 0; i < n; i++) {
    if (lab[i]! < 0) throw new BasisError('BAD_FILE', `${fn}: label ${lab[i]} of example ${i} is negative`);
    if (lab[i]! > maxLabel) maxLabel = lab[i]!;
  }
  const numClasses = classNames?.length ?? maxLabel + 1;
  if (maxLabel >= numClasses) throw new BasisError('BAD_FILE', `${fn}: label ${maxLabel} is outside the ${numClasses} classes of '${source}'; is this the right labels file?`);
  const norm = resolveNormalization(opts.normalize, source, per[0]!);
  return classificationDataset({
    name: opts.name ?? source,
    source,
    x: pixelsToValues(images.data, norm, per[0]!, per[1]! * per[2]!),
    shape: per,
    labels: lab,
    numClasses,
    ...(classNames === undefined ? {} : { classNames }),
    normalization: norm,
  });
}
