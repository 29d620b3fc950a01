import { zipSync } from 'fflate';
import { BasisError } from '../errors.js';
import { ByteBudget, resolveMaxBytes, type ReadOptions } from './limits.js';
import type { NdArray } from './ndarray.js';
import { readNpy, writeNpy } from './npy.js';
import { readZipDirectory, zipEntryData } from './zip-reader.js';

const KIND = 'not a valid .npz file';

/**
 * Parses an `.npz` archive (numpy's `savez`/`savez_compressed`: a zip of `.npy` members) into a
 * map from array name (member name without `.npy`) to array. Every member is checked against
 * its CRC-32 (a mismatch is `BAD_FILE` naming the member, as numpy's `Bad CRC-32`), deflated
 * members are inflated only up to their declared size, and everything decoded counts against
 * `opts.maxBytes` (see {@link ReadOptions}) before it is allocated.
 *
 * @example
 * ```ts
 * const arrays = readNpz(bytes);
 * arrays.get('acts')?.shape;
 * ```
 */
export function readNpz(bytes: Uint8Array, opts: ReadOptions = {}): Map<string, NdArray> {
  if (!(bytes instanceof Uint8Array)) throw new BasisError('INVALID_ARGUMENT', 'readNpz expects the file bytes as a Uint8Array');
  const budget = new ByteBudget(resolveMaxBytes(opts, bytes.length), KIND);
  const entries = readZipDirectory(bytes, KIND);
  if (entries.size === 0) throw new BasisError('BAD_FILE', `${KIND}: the archive is empty`);
  const out = new Map<string, NdArray>();
  for (const [name, entry] of entries) {
    if (!name.endsWith('.npy')) continue;
    const data = zipEntryData(bytes, entry, budget, KIND);
    try {
      // the decoded array counts too; an inflated member is garbage once decoded
      out.set(name.slice(0, -4), readNpy(data, { budget }));
    } catch (e) {
      if (e instanceof BasisError) throw new BasisError('BAD_FILE', `.npz member '${name}': ${e.message}`, { cause: e, ...(e.details === undefined ? {} : { details: { ...e.details, member: name } }) });
      throw e;
    }
  }
  return out;
}

/** Encodes arrays as an `.npz` archive (deflate-compressed when `compress` is true). */
export function writeNpz(arrays: Map<string, NdArray> | Record<string, NdArray>, opts: { compress?: boolean } = {}): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  for (const [name, arr] of arrays instanceof Map ? arrays : Object.entries(arrays)) files[`${name}.npy`] = writeNpy(arr);
  return zipSync(files, { level: opts.compress === true ? 6 : 0 });
}
