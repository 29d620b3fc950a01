// Zip reading for the archive formats basis reads (.npz, torch.save .pt). Our own directory
// parser (rather than a general unzip) so that every offset and size is checked against the
// buffer before use, a member is inflated only when needed, never past its declared size nor past
// the reader's byte budget, and every member read is verified against its CRC-32.
import { BasisError } from '../errors.js';
import { crc32 } from './crc32.js';
import { inflateBounded } from './inflate.js';
import type { ByteBudget } from './limits.js';

/** One member of a zip archive, as its central directory describes it. */
export interface ZipEntry {
  name: string;
  flags: number;
  method: number;
  crc: number;
  compSize: number;
  size: number;
  localOffset: number;
}

export const SIG_LOCAL = 0x04034b50;
export const SIG_CENTRAL = 0x02014b50;
export const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;

/** A little-endian u64, clamped to MAX_SAFE_INTEGER (which every bounds check then rejects). */
export function u64(view: DataView, at: number): number {
  const v = view.getBigUint64(at, true);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/**
 * Reads the central directory of a zip archive (zip64 included). `fileKind` prefixes the
 * BAD_FILE messages (`not a valid .npz file`).
 */
export function readZipDirectory(bytes: Uint8Array, fileKind: string): Map<string, ZipEntry> {
  const bad = (m: string) => new BasisError('BAD_FILE', `${fileKind}: ${m}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.length;
  if (len < 22) throw bad(`only ${len} bytes (truncated)`);
  let eocd = -1;
  for (let p = len - 22; p >= Math.max(0, len - 22 - 0xffff); p--) {
    if (view.getUint32(p, true) === SIG_EOCD && p + 22 + view.getUint16(p + 20, true) <= len) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) throw bad('no zip end-of-central-directory record (not a zip archive, or truncated)');
  if (view.getUint16(eocd + 4, true) !== 0 || view.getUint16(eocd + 6, true) !== 0) throw bad('multi-disk zip archives are not supported');
  let count = view.getUint16(eocd + 10, true);
  let cdSize = view.getUint32(eocd + 12, true);
  let cdOffset = view.getUint32(eocd + 16, true);
  let cdLimit = eocd;
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || view.getUint32(loc, true) !== SIG_LOCATOR64) throw bad('zip64 end-of-central-directory locator is missing');
    const at = u64(view, loc + 8);
    if (at + 56 > loc || view.getUint32(at, true) !== SIG_EOCD64) throw bad('zip64 end-of-central-directory record is missing or misplaced');
    count = u64(view, at + 32);
    cdSize = u64(view, at + 40);
    cdOffset = u64(view, at + 48);
    cdLimit = at;
  } else if (eocd >= 20 && view.getUint32(eocd - 20, true) === SIG_LOCATOR64) {
    // writers that always add zip64 records (PyTorch): the central directory ends where they begin
    const at = u64(view, eocd - 12);
    cdLimit = at < eocd - 20 ? at : eocd - 20;
  }
  if (cdOffset + cdSize > cdLimit) throw bad(`central directory [${cdOffset}, ${cdOffset + cdSize}) runs past its end (${cdLimit}); the file is truncated or corrupt`);
  if (count > cdSize / 46) throw bad(`central directory of ${cdSize} bytes cannot hold ${count} entries`);
  const entries = new Map<string, ZipEntry>();
  const names = new TextDecoder('utf-8');
  let p = cdOffset;
  const end = cdOffset + cdSize;
  for (let i = 0; i < count; i++) {
    if (p + 46 > end || view.getUint32(p, true) !== SIG_CENTRAL) throw bad(`central directory entry ${i} is corrupt`);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const next = p + 46 + nameLen + extraLen + commentLen;
    if (next > end) throw bad(`central directory entry ${i} runs past the directory`);
    const entry: ZipEntry = {
      name: names.decode(bytes.subarray(p + 46, p + 46 + nameLen)),
      flags: view.getUint16(p + 8, true),
      method: view.getUint16(p + 10, true),
      crc: view.getUint32(p + 16, true),
      compSize: view.getUint32(p + 20, true),
      size: view.getUint32(p + 24, true),
      localOffset: view.getUint32(p + 42, true),
    };
    // zip64 extended information: the 0xffffffff fields, in this order
    for (let x = p + 46 + nameLen; x + 4 <= p + 46 + nameLen + extraLen; ) {
      const id = view.getUint16(x, true);
      const size = view.getUint16(x + 2, true);
      if (x + 4 + size > p + 46 + nameLen + extraLen) throw bad(`entry '${entry.name}' has a corrupt extra field`);
      if (id === 0x0001) {
        let q = x + 4;
        const take = (): number => {
          if (q + 8 > x + 4 + size) throw bad(`entry '${entry.name}' has a short zip64 extra field`);
          const v = u64(view, q);
          q += 8;
          return v;
        };
        if (entry.size === 0xffffffff) entry.size = take();
        if (entry.compSize === 0xffffffff) entry.compSize = take();
        if (entry.localOffset === 0xffffffff) entry.localOffset = take();
      }
      x += 4 + size;
    }
    if (entries.has(entry.name)) throw bad(`the archive holds '${entry.name}' twice`);
    entries.set(entry.name, entry);
    p = next;
  }
  return entries;
}

/**
 * The bytes of one member: stored members are returned as a view of `bytes` (nothing
 * allocated), deflated ones inflated against `budget` (their declared size is counted before
 * anything is allocated, and the stream may not produce more). The CRC-32 is always verified.
 */
export function zipEntryData(bytes: Uint8Array, e: ZipEntry, budget: ByteBudget, fileKind: string): Uint8Array {
  const bad = (m: string) => new BasisError('BAD_FILE', `${fileKind}: ${m}`, { details: { member: e.name } });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (e.localOffset + 30 > bytes.length || view.getUint32(e.localOffset, true) !== SIG_LOCAL) throw bad(`the local header of '${e.name}' is missing (truncated or corrupt)`);
  if ((e.flags & 1) !== 0) throw bad(`'${e.name}' is encrypted`);
  const start = e.localOffset + 30 + view.getUint16(e.localOffset + 26, true) + view.getUint16(e.localOffset + 28, true);
  if (start + e.compSize > bytes.length) throw bad(`'${e.name}' (${e.compSize} bytes at ${start}) runs past the end of the file (${bytes.length} bytes; truncated)`);
  const raw = bytes.subarray(start, start + e.compSize);
  let data: Uint8Array;
  if (e.method === 0) {
    if (e.compSize !== e.size) throw bad(`stored entry '${e.name}' has compressed size ${e.compSize} but size ${e.size}`);
    data = raw;
  } else if (e.method === 8) {
    // deflate expands at most ~1032:1; a larger claim is corrupt and must not be allocated
    if (e.size > 1032 * e.compSize + 64) throw bad(`deflated entry '${e.name}' claims ${e.size} bytes from ${e.compSize}`);
    data = inflateBounded(raw, { budget, what: `member '${e.name}'`, fileKind, size: e.size });
  } else {
    throw bad(`'${e.name}' uses zip compression method ${e.method} (only stored and deflate are read)`);
  }
  if (crc32(data) !== e.crc) throw bad(`CRC-32 mismatch in '${e.name}' (corrupt data)`);
  return data;
}
