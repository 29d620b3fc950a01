import { unzipSync, zipSync } from 'fflate';
import { BasisError } from '../errors.js';
import type { NdArray } from './ndarray.js';
import { readNpy, writeNpy } from './npy.js';

/**
 * Parses an `.npz` archive (numpy's `savez`/`savez_compressed`: a zip of `.npy` members) into a
 * map from array name (member name without `.npy`) to array.
 *
 * @example
 * ```ts
 * const arrays = readNpz(bytes);
 * arrays.get('acts')?.shape;
 * ```
 */
export function readNpz(bytes: Uint8Array): Map<string, NdArray> {
  if (!(bytes instanceof Uint8Array)) throw new BasisError('INVALID_ARGUMENT', 'readNpz expects the file bytes as a Uint8Array');
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    throw new BasisError('BAD_FILE', `not a valid .npz (zip) file: ${(e as Error).message}`);
  }
  const out = new Map<string, NdArray>();
  for (const [name, data] of Object.entries(files)) {
    if (!name.endsWith('.npy')) continue;
    try {
      out.set(name.slice(0, -4), readNpy(data));
    } catch (e) {
      if (e instanceof BasisError) throw new BasisError('BAD_FILE', `.npz member '${name}': ${e.message}`);
      throw e;
    }
  }
  if (out.size === 0 && Object.keys(files).length === 0) throw new BasisError('BAD_FILE', 'not a valid .npz file: the archive is empty');
  return out;
}

/** Encodes arrays as an `.npz` archive (deflate-compressed when `compress` is true). */
export function writeNpz(arrays: Map<string, NdArray> | Record<string, NdArray>, opts: { compress?: boolean } = {}): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  for (const [name, arr] of arrays instanceof Map ? arrays : Object.entries(arrays)) files[`${name}.npy`] = writeNpy(arr);
  return zipSync(files, { level: opts.compress === true ? 6 : 0 });
}
