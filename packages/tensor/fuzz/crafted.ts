// Crafted hostile files for the readers of @basis/tensor: each case the hostile-input probe of
// issue 16 found (and neighbours of it), built in memory in milliseconds. Used by the regression
// tests and, as crafted cases, by the fuzz targets.
import { constants, deflateRawSync } from 'node:zlib';
import { concatBytes } from '@basis/test-utils/fuzz';
import { crc32, writeNpy, writeTorch } from '../src/index.js';

const enc = new TextEncoder();

/** A zip member with every field given (so that sizes and CRCs can lie). */
export interface RawMember {
  name: string;
  /** The bytes stored in the archive (already deflated when method is 8). */
  raw: Uint8Array;
  method: 0 | 8;
  crc: number;
  /** The uncompressed size declared in the headers. */
  size: number;
}

/** A zip archive of the given members, headers exactly as declared. */
export function buildZip(members: readonly RawMember[]): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const m of members) {
    const name = enc.encode(m.name);
    const lh = new Uint8Array(30 + name.length);
    const lv = new DataView(lh.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, m.method, true);
    lv.setUint32(14, m.crc >>> 0, true);
    lv.setUint32(18, m.raw.length, true);
    lv.setUint32(22, m.size >>> 0, true);
    lv.setUint16(26, name.length, true);
    lh.set(name, 30);
    const ch = new Uint8Array(46 + name.length);
    const cv = new DataView(ch.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, m.method, true);
    cv.setUint32(16, m.crc >>> 0, true);
    cv.setUint32(20, m.raw.length, true);
    cv.setUint32(24, m.size >>> 0, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    ch.set(name, 46);
    locals.push(lh, m.raw);
    centrals.push(ch);
    offset += lh.length + m.raw.length;
  }
  const cd = concatBytes(centrals);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, members.length, true);
  ev.setUint16(10, members.length, true);
  ev.setUint32(12, cd.length, true);
  ev.setUint32(16, offset, true);
  return concatBytes([...locals, cd, eocd]);
}

/** A stored member with its true CRC and size. */
export const stored = (name: string, data: Uint8Array): RawMember => ({ name, raw: data, method: 0, crc: crc32(data), size: data.length });
/** A deflated member with its true CRC and size. */
export const deflated = (name: string, data: Uint8Array): RawMember => ({ name, raw: new Uint8Array(deflateRawSync(data)), method: 8, crc: crc32(data), size: data.length });

const MiB = 2 ** 20;
let zeroBlock: Uint8Array | undefined;

/**
 * A raw deflate stream that inflates `prefix` followed by `mib` MiB of zeros: `prefix`, then one
 * sync-flushed (byte-aligned, self-contained) block of 1 MiB of zeros repeated, then a final empty
 * block. ~1 KiB of stream per MiB of output, built without compressing anything big.
 */
export function deflateBomb(mib: number, prefix: Uint8Array = new Uint8Array(0)): Uint8Array {
  zeroBlock ??= new Uint8Array(deflateRawSync(new Uint8Array(MiB), { finishFlush: constants.Z_SYNC_FLUSH }));
  const head = prefix.length > 0 ? new Uint8Array(deflateRawSync(prefix, { finishFlush: constants.Z_SYNC_FLUSH })) : new Uint8Array(0);
  const tail = new Uint8Array(deflateRawSync(new Uint8Array(0)));
  const parts: Uint8Array[] = [head];
  for (let i = 0; i < mib; i++) parts.push(zeroBlock);
  parts.push(tail);
  return concatBytes(parts);
}

/** A .npy header (format 1.0) for `shape` of `descr`, followed by `data`. */
export function npyWithHeader(header: string, data: Uint8Array = new Uint8Array(0), major = 1): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  let h = header;
  h += ' '.repeat((64 - ((pre + h.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(pre + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const v = new DataView(out.buffer);
  if (major === 1) v.setUint16(8, h.length, true);
  else v.setUint32(8, h.length, true);
  out.set(enc.encode(h), pre);
  out.set(data, pre + h.length);
  return out;
}

/** An .npz whose one member inflates to `mib` MiB (a .npy of float64 zeros); `declare` chooses the size the headers claim. */
export function npzBomb(mib: number, declare: 'true' | 'small' = 'true'): Uint8Array {
  const count = (mib * MiB) / 8;
  const header = npyWithHeader(`{'descr': '<f8', 'fortran_order': False, 'shape': (${count},), }`);
  const raw = deflateBomb(mib, header);
  const size = declare === 'true' ? header.length + mib * MiB : 1000;
  return buildZip([{ name: 'x.npy', raw, method: 8, crc: 0, size: size > 0xffffffff ? 0xfffffffe : size }]);
}

/** An .npz of valid members with a flipped data byte (the CRC no longer matches). */
export function npzBadCrc(): Uint8Array {
  const a = writeNpy({ dtype: 'float64', shape: [4], data: new Float64Array([1, 2, 3, 4]) });
  const m = stored('a.npy', a);
  const corrupt = a.slice();
  corrupt[corrupt.length - 1] = (corrupt[corrupt.length - 1] as number) ^ 0x40;
  return buildZip([{ ...m, raw: corrupt }]);
}

// --- torch.save pickles

const P = {
  proto: [0x80, 2],
  mark: [0x28],
  stop: [0x2e],
  global: (m: string, n: string) => [0x63, ...enc.encode(`${m}\n${n}\n`)],
  str: (s: string) => {
    const b = enc.encode(s);
    return [0x58, b.length & 0xff, (b.length >> 8) & 0xff, (b.length >> 16) & 0xff, 0, ...b];
  },
  int: (v: number) => [0x4a, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff],
};

/** A torch.save-like archive: data.pkl and records under `archive/`, stored unless given as members. */
export function torchArchive(pkl: Uint8Array | RawMember, records: (RawMember | [string, Uint8Array])[] = []): Uint8Array {
  const members: RawMember[] = [pkl instanceof Uint8Array ? stored('archive/data.pkl', pkl) : pkl];
  for (const r of records) members.push(Array.isArray(r) ? stored(`archive/${r[0]}`, r[1]) : r);
  members.push(stored('archive/version', enc.encode('3\n')));
  return buildZip(members);
}

/** A pickle whose one APPENDS adds `n` items to a list (200k overflowed the call stack). */
export function pickleAppends(n: number): Uint8Array {
  const body = new Uint8Array(n * 2);
  for (let i = 0; i < n; i++) body.set([0x4b, i & 0xff], 2 * i);
  return Uint8Array.from([...P.proto, 0x5d, 0x28, ...body, 0x65, 0x2e]);
}

/** The tensor pickle of `_rebuild_tensor_v2` on storage `key` (float32, `numel` elements). */
function tensorPickle(key: string, numel: number, size: number[], stride: number[], offset = 0): number[] {
  const tuple = (xs: number[]) => [0x28, ...xs.flatMap(P.int), 0x74];
  return [
    ...P.global('torch._utils', '_rebuild_tensor_v2'),
    0x28,
    ...[0x28, ...P.str('storage'), ...P.global('torch', 'FloatStorage'), ...P.str(key), ...P.str('cpu'), ...P.int(numel), 0x74, 0x51],
    ...P.int(offset),
    ...tuple(size),
    ...tuple(stride),
    0x89,
    ...P.global('collections', 'OrderedDict'),
    0x29,
    0x52,
    0x74,
    0x52,
  ];
}

/** A state_dict pickle of the given (name, tensor pickle) entries. */
function stateDict(entries: [string, number[]][]): Uint8Array {
  return Uint8Array.from([...P.proto, ...P.global('collections', 'OrderedDict'), 0x29, 0x52, 0x28, ...entries.flatMap(([n, t]) => [...P.str(n), ...t]), 0x75, 0x2e]);
}

/** A .pt whose data.pkl is a deflate bomb (`mib` MiB of zeros after a valid opening). */
export function torchPickleBomb(mib: number): Uint8Array {
  const raw = deflateBomb(mib, Uint8Array.from(P.proto));
  return torchArchive({ name: 'archive/data.pkl', raw, method: 8, crc: 0, size: Math.min(0xfffffffe, 2 + mib * MiB) });
}

/** A .pt whose one storage is a deflate bomb of `mib` MiB, viewed by a 1-element tensor. */
export function torchStorageBomb(mib: number): Uint8Array {
  const numel = (mib * MiB) / 4;
  const pkl = stateDict([['w', tensorPickle('0', numel, [1], [1])]]);
  return torchArchive(pkl, [{ name: 'archive/data/0', raw: deflateBomb(mib), method: 8, crc: 0, size: Math.min(0xfffffffe, mib * MiB) }]);
}

/** A .pt with `views` tiny tensors spread over one big stored storage (huge strides). */
export function torchWideViews(views: number, storageMiB: number): Uint8Array {
  const numel = (storageMiB * MiB) / 4;
  const entries: [string, number[]][] = [];
  for (let i = 0; i < views; i++) entries.push([`v${i}`, tensorPickle('0', numel, [2], [numel - 1 - i], i)]);
  return torchArchive(stateDict(entries), [['data/0', new Uint8Array(storageMiB * MiB)]]);
}

/** A dict key that is a tuple of tuples sharing one another (2^depth leaves from a few bytes). */
export function pickleExponentialKey(depth: number): Uint8Array {
  const ops: number[] = [...P.proto, 0x7d, 0x4b, 1, 0x85];
  for (let i = 0; i < depth; i++) ops.push(0x71, i, 0x68, i, 0x86);
  ops.push(0x4e, 0x73, 0x2e);
  return Uint8Array.from(ops);
}

/** A valid torch file (for mutations). */
export function torchSample(): Uint8Array {
  return writeTorch({ a: { dtype: 'float32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) }, b: { dtype: 'int64', shape: [2], data: new BigInt64Array([7n, -8n]) } });
}

// --- safetensors

/** A safetensors file with the given header text and data bytes. */
export function safetensorsWithHeader(header: string, data: Uint8Array = new Uint8Array(0), declared?: bigint): Uint8Array {
  const h = enc.encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, declared ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** A JSON array nested `depth` deep. */
export const deepArray = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
