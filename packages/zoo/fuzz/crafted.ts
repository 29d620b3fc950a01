// Crafted hostile IDX files and checkpoint manifests (the cases of issue 16 and neighbours).
import { constants, deflateRawSync, gzipSync } from 'node:zlib';
import { createRng, type NdArray } from '@basis/tensor';
import { concatBytes } from '@basis/test-utils/fuzz';
import { buildModel, encodeCheckpoint, initParams, CHECKPOINT_FILES, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, type Checkpoint, type CheckpointManifest } from '../src/index.js';

/** An IDX header for `shape` of type `code` followed by `data`. */
export function idxWithHeader(code: number, shape: readonly number[], data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + data.length);
  const v = new DataView(out.buffer);
  out[2] = code;
  out[3] = shape.length;
  shape.forEach((d, i) => v.setUint32(4 + 4 * i, d >>> 0, false));
  out.set(data, 4 + 4 * shape.length);
  return out;
}

/**
 * The 248-byte label file of issue 16: 61 dimensions whose product overflows to Infinity and
 * then meets a zero (Infinity × 0 = NaN slipped past the length check; training then ran out of heap).
 */
export function idxNanShape(): Uint8Array {
  const shape = [...new Array<number>(60).fill(0xffffffff), 0];
  return idxWithHeader(0x08, shape);
}

/** A gzip file around `deflated` (raw deflate) with the given trailer. */
export function gzipAround(deflated: Uint8Array, crc: number, isize: number): Uint8Array {
  const out = new Uint8Array(10 + deflated.length + 8);
  out.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
  out.set(deflated, 10);
  const v = new DataView(out.buffer);
  v.setUint32(10 + deflated.length, crc >>> 0, true);
  v.setUint32(14 + deflated.length, isize >>> 0, true);
  return out;
}

let zeroBlock: Uint8Array | undefined;
/** A gzipped IDX uint8 array of `mib` MiB of zeros (a 2.6 MB file for 2600 MiB); `isize` lies when given. */
export function idxGzBomb(mib: number, isize?: number): Uint8Array {
  zeroBlock ??= new Uint8Array(deflateRawSync(new Uint8Array(2 ** 20), { finishFlush: constants.Z_SYNC_FLUSH }));
  const header = idxWithHeader(0x08, [mib, 1024, 1024]);
  const parts: Uint8Array[] = [new Uint8Array(deflateRawSync(header, { finishFlush: constants.Z_SYNC_FLUSH }))];
  for (let i = 0; i < mib; i++) parts.push(zeroBlock);
  parts.push(new Uint8Array(deflateRawSync(new Uint8Array(0))));
  const raw = concatBytes(parts);
  return gzipAround(raw, 0, isize ?? (header.length + mib * 2 ** 20) % 2 ** 32);
}

/** A gzip of `raw` with a correct trailer. */
export const gz = (raw: Uint8Array): Uint8Array => new Uint8Array(gzipSync(raw));

/** A checkpoint of a tiny MLP: manifest text and params bytes (valid). */
export function checkpointSample(): { manifest: string; params: Uint8Array } {
  const graph = buildModel({ arch: 'mlp', width: 6 }, { input: [4], classes: 3 });
  const params = initParams(graph, createRng(0));
  const arrays = new Map<string, NdArray>();
  for (const [k, v] of Object.entries(params)) arrays.set(k, { dtype: 'float32', shape: [...v.shape], data: Float32Array.from(v.data) });
  const state = { seed: 0, step: 0, epoch: 0, batchInEpoch: 0, rng: createRng(0).state(), forks: [], epochLoss: { sum: 0, count: 0 }, n: 1, batchSize: 1, dropLast: false };
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    step: 0,
    epoch: 0,
    reasons: [],
    seed: 0,
    state,
    training: null,
    graph,
    metrics: { loss: null, eval: null },
    history: [],
    optimizer: null,
    packages: {},
    backend: null,
    engine: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    meta: { data: { dataset: 'mnist' } },
    files: { params: { name: CHECKPOINT_FILES.params, bytes: 0, crc32: '' }, optimizer: null },
  } as CheckpointManifest;
  const ckpt: Checkpoint = { manifest, params: arrays, optimizer: null };
  const files = encodeCheckpoint(ckpt);
  return { manifest: files.manifest, params: files.params };
}

/** The sample manifest with the JSON value at `path` (dot-separated keys) replaced by `json`. */
export function manifestWith(path: string, json: string): string {
  const { manifest } = checkpointSample();
  const obj = JSON.parse(manifest) as Record<string, unknown>;
  const keys = path.split('.');
  let o: Record<string, unknown> = obj;
  for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
  o[keys[keys.length - 1] as string] = '@@VALUE@@';
  return JSON.stringify(obj).replace('"@@VALUE@@"', json);
}

/** A JSON array nested `depth` deep. */
export const deepArray = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
