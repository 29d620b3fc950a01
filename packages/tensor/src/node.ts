// Node-only file helpers (`@basis/tensor/node`): reading arrays from paths and atomic writes.
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BasisError } from './errors.js';
import type { Matrix } from './matrix.js';
import { ndarrayToMatrix, type NdArray } from './io/ndarray.js';
import { readNpy, writeNpy } from './io/npy.js';
import { readNpz } from './io/npz.js';
import { readSafetensors, writeSafetensors } from './io/safetensors.js';
import type { ReadOptions } from './io/limits.js';
import { readTorch, writeTorch, type ReadTorchOptions, type TorchContent } from './io/torch.js';

const EXTENSIONS = ['.npy', '.npz', '.safetensors'] as const;

/** Splits `path[:key]` where path ends with a supported extension. */
export function parseArraySpec(spec: string): { path: string; key: string | undefined; kind: 'npy' | 'npz' | 'safetensors' } {
  for (const ext of EXTENSIONS) {
    const i = spec.lastIndexOf(ext + ':');
    if (i >= 0 && i + ext.length + 1 < spec.length) return { path: spec.slice(0, i + ext.length), key: spec.slice(i + ext.length + 1), kind: ext.slice(1) as 'npy' };
    if (spec.endsWith(ext)) return { path: spec, key: undefined, kind: ext.slice(1) as 'npy' };
  }
  throw new BasisError(
    'INVALID_ARGUMENT',
    `cannot tell the format of '${spec}': use file.npy, file.npz[:key] or file.safetensors[:key]`,
  );
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new BasisError('IO', `cannot read '${path}': ${why}`, { cause: e });
  }
}

function pick(map: Map<string, NdArray>, key: string | undefined, path: string): NdArray {
  if (key === undefined) {
    if (map.size === 1) return map.values().next().value as NdArray;
    throw new BasisError('INVALID_ARGUMENT', `'${path}' holds ${map.size} arrays; choose one with ${path}:KEY (keys: ${[...map.keys()].slice(0, 20).join(', ')})`);
  }
  const arr = map.get(key);
  if (arr === undefined) throw new BasisError('INVALID_ARGUMENT', `'${path}' has no array '${key}' (keys: ${[...map.keys()].slice(0, 20).join(', ')})`);
  return arr;
}

/**
 * Reads one array from `file.npy`, `file.npz[:key]` or `file.safetensors[:key]` (the key may be
 * omitted when the archive holds exactly one array). `opts.maxBytes` bounds what the file may
 * decode to (see {@link ReadOptions}; default `BASIS_MAX_BYTES`, else 16 × the file size and at
 * least 256 MiB).
 *
 * @example
 * ```ts
 * import { readArrayFile } from '@basis/tensor/node';
 * const w = await readArrayFile('model.safetensors:layers.0.weight');
 * ```
 */
export async function readArrayFile(spec: string, opts: ReadOptions = {}): Promise<NdArray> {
  const { path, key, kind } = parseArraySpec(spec);
  const bytes = await readBytes(path);
  if (kind === 'npy') {
    if (key !== undefined) throw new BasisError('INVALID_ARGUMENT', `'${path}' is a single-array .npy file; drop ':${key}'`);
    return readNpy(bytes, opts);
  }
  if (kind === 'npz') return pick(readNpz(bytes, opts), key, path);
  return pick(readSafetensors(bytes, opts).tensors, key, path);
}

/** Reads one 2-D array (rows = inputs, columns = units) as a float64 Matrix; see {@link readArrayFile}. */
export async function readMatrixFile(spec: string, opts: ReadOptions = {}): Promise<Matrix> {
  return ndarrayToMatrix(await readArrayFile(spec, opts), spec);
}

/**
 * Whether something exists at `path` (file, folder or anything `stat` can see); false on any
 * error, such as a missing parent folder or no permission.
 *
 * @example
 * ```ts
 * if (await pathExists('out/train.json')) console.log('resuming');
 * ```
 */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes bytes atomically: to a temporary file in the same directory, then renamed over `path`,
 * so readers never see a half-written file and an interrupted write leaves the old file intact.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  // the writer's PID in the name lets cleanTempFiles remove leftovers of dead writers at any time
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new BasisError('IO', `cannot write '${path}': ${(e as Error).message}`, { cause: e });
  }
}

/** Writes an array as `.npy`, atomically. */
export async function writeNpyFile(path: string, arr: NdArray): Promise<void> {
  await writeFileAtomic(path, writeNpy(arr));
}

/** Writes tensors (and optional string metadata) as safetensors, atomically. */
export async function writeSafetensorsFile(
  path: string,
  tensors: Map<string, NdArray> | Record<string, NdArray>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, writeSafetensors(tensors, metadata));
}

/** Reads a PyTorch `torch.save` file (a state_dict); see {@link readTorch}. */
export async function readTorchFile(path: string, opts: ReadTorchOptions = {}): Promise<TorchContent> {
  return readTorch(await readBytes(path), opts);
}

/** Writes tensors as a PyTorch `torch.save` file (an OrderedDict state_dict), atomically. */
export async function writeTorchFile(path: string, tensors: Map<string, NdArray> | Record<string, NdArray>): Promise<void> {
  await writeFileAtomic(path, writeTorch(tensors));
}

export { LOCK_FILE, cleanTempFiles, lockDir, readDirLock, setLockNoticeHandler, withDirLock, type DirLock, type DirLockOwner, type LockDirOptions } from './lock.js';
export { fromWireError, startWorkers, toShared, toWireError, watchWorker, workerScript, type ShareableArray, type WireError, type WorkerScript } from './worker-threads.js';
