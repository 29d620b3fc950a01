// Zip writing as PyTorch's writer lays archives out: stored (uncompressed) members whose data
// start on 64-byte boundaries (the padding sits in an 'FB' extra field of the local header), so
// that a reader can map each member's bytes in place.
import { BasisError } from '../errors.js';
import { crc32 } from './crc32.js';
import { SIG_CENTRAL, SIG_EOCD, SIG_LOCAL } from './zip-reader.js';

/**
 * A zip archive of stored members, in the given order, each member's data 64-byte aligned
 * (PyTorch's layout). Archives beyond 4 GiB or 65535 members (zip64) are refused with
 * `INVALID_ARGUMENT`.
 */
export function writeStoredZip(files: [string, Uint8Array][]): Uint8Array {
  const enc = new TextEncoder();
  const parts: { name: Uint8Array; data: Uint8Array; crc: number; offset: number; pad: number }[] = [];
  let offset = 0;
  for (const [n, data] of files) {
    const name = enc.encode(n);
    const natural = offset + 30 + name.length + 4;
    const pad = (64 - (natural % 64)) % 64;
    parts.push({ name, data, crc: crc32(data), offset, pad });
    offset = natural + pad + data.length;
  }
  const cdOffset = offset;
  let cdSize = 0;
  for (const f of parts) cdSize += 46 + f.name.length;
  const total = cdOffset + cdSize + 22;
  if (total > 0xffffffff || parts.length > 0xffff) {
    throw new BasisError('INVALID_ARGUMENT', `the file would be ${total} bytes with ${parts.length} members; writing beyond 4 GiB or 65535 members (zip64) is not supported`);
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  for (const f of parts) {
    let p = f.offset;
    view.setUint32(p, SIG_LOCAL, true);
    view.setUint16(p + 4, 20, true); // version needed to extract: 2.0
    view.setUint16(p + 6, 0x0800, true); // UTF-8 names
    view.setUint16(p + 8, 0, true); // stored
    view.setUint16(p + 10, 0, true); // time 00:00
    view.setUint16(p + 12, 0x21, true); // date 1980-01-01
    view.setUint32(p + 14, f.crc, true);
    view.setUint32(p + 18, f.data.length, true);
    view.setUint32(p + 22, f.data.length, true);
    view.setUint16(p + 26, f.name.length, true);
    view.setUint16(p + 28, 4 + f.pad, true);
    out.set(f.name, p + 30);
    p += 30 + f.name.length;
    out[p] = 0x46; // 'F'
    out[p + 1] = 0x42; // 'B'
    view.setUint16(p + 2, f.pad, true);
    out.fill(0x5a, p + 4, p + 4 + f.pad); // 'Z'
    out.set(f.data, p + 4 + f.pad);
  }
  let p = cdOffset;
  for (const f of parts) {
    view.setUint32(p, SIG_CENTRAL, true);
    view.setUint16(p + 4, 20, true); // made by: 2.0, MS-DOS attributes
    view.setUint16(p + 6, 20, true);
    view.setUint16(p + 8, 0x0800, true);
    view.setUint16(p + 10, 0, true);
    view.setUint16(p + 12, 0, true);
    view.setUint16(p + 14, 0x21, true);
    view.setUint32(p + 16, f.crc, true);
    view.setUint32(p + 20, f.data.length, true);
    view.setUint32(p + 24, f.data.length, true);
    view.setUint16(p + 28, f.name.length, true);
    // extra, comment, disk, attributes: 0
    view.setUint32(p + 42, f.offset, true);
    out.set(f.name, p + 46);
    p += 46 + f.name.length;
  }
  view.setUint32(p, SIG_EOCD, true);
  view.setUint16(p + 8, parts.length, true);
  view.setUint16(p + 10, parts.length, true);
  view.setUint32(p + 12, cdSize, true);
  view.setUint32(p + 16, cdOffset, true);
  return out;
}
