// The checkpoint format (browser-safe: bytes in, bytes out; the Node file helpers live in node.ts).
// A checkpoint is a directory of three files: model.safetensors (parameters), optimizer.safetensors
// (optimizer slots, optional) and manifest.json (everything else), the manifest recording the size
// and CRC-32 of the other two so that a truncated or mixed-up checkpoint is detected.
import { getBackend, version_core } from '@tensorflow/tfjs-core';
import { BasisError, MAX_JSON_DEPTH, crc32, engineInfo, isBasisError, jsonDepth, readSafetensors, writeSafetensors, type EngineInfo, type NdArray } from '@basis/tensor';
import { checkTrainState, type CheckpointReason, type EpochRecord, type TrainConfigRecord, type TrainSnapshot, type TrainState } from './loop.js';
import type { OptimizerState } from './optimizers.js';

/**
 * File names inside a checkpoint directory.
 *
 * @example
 * ```ts
 * join(dir, CHECKPOINT_FILES.params); // '.../model.safetensors'
 * ```
 */
export const CHECKPOINT_FILES = Object.freeze({
  manifest: 'manifest.json',
  params: 'model.safetensors',
  optimizer: 'optimizer.safetensors',
} as const);

/**
 * The `format` tag and version of manifests written by this code.
 *
 * @example
 * ```ts
 * manifest.format === CHECKPOINT_FORMAT; // 'basis-checkpoint'
 * ```
 */
export const CHECKPOINT_FORMAT = 'basis-checkpoint';
/**
 * Manifest schema version.
 *
 * @example
 * ```ts
 * manifest.version === CHECKPOINT_VERSION; // 1
 * ```
 */
export const CHECKPOINT_VERSION = 1;

/**
 * Size and checksum of a file of the checkpoint, as recorded in the manifest.
 *
 * @example
 * ```ts
 * manifest.files.params; // { name: 'model.safetensors', bytes: 1352, crc32: '9a0c3f1e' }
 * ```
 */
export interface CheckpointFileInfo {
  name: string;
  bytes: number;
  /** CRC-32 (IEEE) as 8 lowercase hex digits. */
  crc32: string;
}

/**
 * The JSON manifest of a checkpoint.
 *
 * @example
 * ```ts
 * const m = (await loadCheckpoint(dir)).manifest;
 * m.step; m.epoch; m.metrics.eval?.testAcc; m.packages['@tensorflow/tfjs-core'];
 * ```
 */
export interface CheckpointManifest {
  format: typeof CHECKPOINT_FORMAT;
  version: typeof CHECKPOINT_VERSION;
  /** Optimizer steps done. */
  step: number;
  /** Epochs done (fractional). */
  epoch: number;
  reasons: CheckpointReason[];
  /** Seed of the data-order stream (= state.seed). */
  seed: number | string;
  /** Resumable loop state, including the data-order generator state. */
  state: TrainState;
  /** Training configuration (optimizer, schedule, batch size, ...), or null when unknown. */
  training: TrainConfigRecord | null;
  /** Free-form model description given by the caller (e.g. the graph IR), or null. */
  graph: unknown;
  metrics: { loss: number | null; eval: Record<string, number> | null };
  /** Completed epochs so far. */
  history: EpochRecord[];
  /** Optimizer kind and update count, or null when no optimizer state is stored. */
  optimizer: { kind: OptimizerState['kind']; step: number } | null;
  /** Versions of the packages that wrote it (`@tensorflow/tfjs-core`, `@basis/zoo`, ...). */
  packages: Record<string, string>;
  /** tfjs backend the weights were computed on (bit-identity holds per backend). */
  backend: string | null;
  /**
   * The compute engine of the thread that wrote it (`engineInfo()`: provider, library, core type,
   * threads; bit-identity holds per backend and engine); null in manifests written before it was recorded.
   */
  engine: EngineInfo | null;
  /** ISO time of writing. */
  createdAt: string;
  /** Free-form caller data, or null. */
  meta: Record<string, unknown> | null;
  files: { params: CheckpointFileInfo; optimizer: CheckpointFileInfo | null };
}

/**
 * A checkpoint in memory: manifest, parameters and optional optimizer state.
 *
 * @example
 * ```ts
 * const ckpt = checkpointFromSnapshot(snapshot, { graph: model.graph });
 * const files = encodeCheckpoint(ckpt);
 * ```
 */
export interface Checkpoint {
  manifest: CheckpointManifest;
  params: Map<string, NdArray>;
  optimizer: OptimizerState | null;
}

/**
 * Encoded checkpoint files: manifest text and safetensors bytes.
 *
 * @example
 * ```ts
 * const { manifest, params, optimizer } = encodeCheckpoint(ckpt);
 * ```
 */
export interface CheckpointFiles {
  manifest: string;
  params: Uint8Array;
  optimizer: Uint8Array | null;
}

/**
 * CRC-32 (IEEE 802.3, as zlib) of bytes, as the 8 lowercase hex digits a manifest records.
 *
 * @example
 * ```ts
 * crc32Hex(new TextEncoder().encode('123456789')); // 'cbf43926'
 * ```
 */
export function crc32Hex(bytes: Uint8Array): string {
  return crc32(bytes).toString(16).padStart(8, '0');
}

/**
 * Builds a checkpoint from a training snapshot, adding the caller's graph description, free-form
 * metadata and package versions (tfjs-core, the backend and the compute engine are recorded automatically).
 *
 * @example
 * ```ts
 * checkpoints: { at: [0, 0.5], save: (snap) => store(encodeCheckpoint(checkpointFromSnapshot(snap, { graph }))) }
 * ```
 */
export function checkpointFromSnapshot(
  snap: TrainSnapshot,
  extra: { graph?: unknown; meta?: Record<string, unknown>; packages?: Record<string, string> } = {},
): Checkpoint {
  let backend: string | null;
  try {
    backend = getBackend() ?? null;
  } catch {
    backend = null;
  }
  const graph = extra.graph === undefined ? null : extra.graph;
  if (graph !== null) {
    try {
      JSON.stringify(graph);
    } catch (e) {
      throw new BasisError('CONFIG_INVALID', `graph must be JSON-serialisable: ${(e as Error).message}`, { cause: e });
    }
  }
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    step: snap.step,
    epoch: snap.epoch,
    reasons: [...snap.reasons],
    seed: snap.state.seed,
    state: snap.state,
    training: snap.training,
    graph,
    metrics: snap.metrics,
    history: snap.history,
    optimizer: { kind: snap.optimizer.kind, step: snap.optimizer.step },
    packages: { '@tensorflow/tfjs-core': version_core, ...(extra.packages ?? {}) },
    backend,
    engine: engineInfo(),
    createdAt: new Date().toISOString(),
    meta: extra.meta ?? null,
    files: { params: { name: CHECKPOINT_FILES.params, bytes: 0, crc32: '' }, optimizer: null },
  };
  return { manifest, params: snap.params, optimizer: snap.optimizer };
}

/**
 * Encodes a checkpoint into its three files; the manifest's `files` entries are filled in with the
 * sizes and CRC-32s of the safetensors files.
 *
 * @example
 * ```ts
 * const files = encodeCheckpoint(ckpt);
 * files.manifest; // JSON text
 * ```
 */
export function encodeCheckpoint(ckpt: Checkpoint): CheckpointFiles {
  const m = ckpt.manifest;
  const params = writeSafetensors(ckpt.params, { format: 'pt', producer: 'basis', step: String(m.step) });
  let optimizer: Uint8Array | null = null;
  if (ckpt.optimizer !== null) {
    optimizer = writeSafetensors(ckpt.optimizer.slots, { producer: 'basis', kind: ckpt.optimizer.kind, step: String(ckpt.optimizer.step) });
  }
  const manifest: CheckpointManifest = {
    ...m,
    optimizer: ckpt.optimizer === null ? null : { kind: ckpt.optimizer.kind, step: ckpt.optimizer.step },
    files: {
      params: { name: CHECKPOINT_FILES.params, bytes: params.length, crc32: crc32Hex(params) },
      optimizer: optimizer === null ? null : { name: CHECKPOINT_FILES.optimizer, bytes: optimizer.length, crc32: crc32Hex(optimizer) },
    },
  };
  return { manifest: JSON.stringify(manifest, null, 2) + '\n', params, optimizer };
}

function bad(where: string, message: string): never {
  throw new BasisError('BAD_FILE', `${where}: ${message}`, { details: { path: where } });
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fileInfo(v: unknown, where: string, field: string): CheckpointFileInfo {
  if (!isObj(v) || typeof v.name !== 'string' || v.name.includes('/') || v.name.includes('\\') || !Number.isSafeInteger(v.bytes) || typeof v.crc32 !== 'string' || !/^[0-9a-f]{8}$/.test(v.crc32)) {
    bad(where, `manifest field ${field} must be { name, bytes, crc32 } with a plain file name and 8 hex digits`);
  }
  return { name: v.name, bytes: v.bytes as number, crc32: v.crc32 };
}

/**
 * Parses and validates a manifest; anything malformed (not JSON, wrong format tag, missing or
 * mistyped fields) raises BAD_FILE naming `where` and the field.
 *
 * @example
 * ```ts
 * const m = parseCheckpointManifest(await readFile(path, 'utf8'), path);
 * ```
 */
export function parseCheckpointManifest(text: string | Uint8Array, where = 'manifest.json'): CheckpointManifest {
  let raw: unknown;
  let source: string;
  try {
    source = typeof text === 'string' ? text : new TextDecoder('utf-8', { fatal: true }).decode(text);
  } catch (e) {
    bad(where, `the manifest is not valid UTF-8 (${(e as Error).message}); the checkpoint is truncated or corrupt`);
  }
  // nesting is bounded before parsing: every later walk of the graph (validation, messages,
  // JSON.stringify) recurses, and a 10^4-deep array would overflow the stack
  if (jsonDepth(source, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) bad(where, `the manifest nests arrays or objects more than ${MAX_JSON_DEPTH} deep; the checkpoint is corrupt or crafted`);
  try {
    raw = JSON.parse(source);
  } catch (e) {
    bad(where, `the manifest is not valid JSON (${(e as Error).message}); the checkpoint is truncated or corrupt`);
  }
  if (!isObj(raw)) bad(where, 'the manifest is not a JSON object');
  if (raw.format !== CHECKPOINT_FORMAT) bad(where, `manifest format is ${JSON.stringify(raw.format)}, expected '${CHECKPOINT_FORMAT}'`);
  if (raw.version !== CHECKPOINT_VERSION) bad(where, `manifest version ${JSON.stringify(raw.version)} is not supported (this code reads version ${CHECKPOINT_VERSION})`);
  if (!Number.isSafeInteger(raw.step) || (raw.step as number) < 0) bad(where, 'manifest field step must be an integer >= 0');
  if (typeof raw.epoch !== 'number' || !Number.isFinite(raw.epoch) || raw.epoch < 0) bad(where, 'manifest field epoch must be a number >= 0');
  let state: TrainState;
  try {
    state = checkTrainState(raw.state, 'state');
  } catch (e) {
    if (isBasisError(e)) bad(where, `manifest field ${e.message}`);
    throw e;
  }
  if (state.step !== raw.step) bad(where, `manifest step ${String(raw.step)} differs from state.step ${state.step}`);
  if (!Array.isArray(raw.reasons) || !raw.reasons.every((r) => typeof r === 'string')) bad(where, 'manifest field reasons must be a list of strings');
  if (raw.training !== null && !isObj(raw.training)) bad(where, 'manifest field training must be an object or null');
  if (!isObj(raw.metrics)) bad(where, 'manifest field metrics must be an object');
  if (!Array.isArray(raw.history)) bad(where, 'manifest field history must be a list');
  if (!isObj(raw.packages)) bad(where, 'manifest field packages must be an object');
  if (raw.meta !== null && raw.meta !== undefined && !isObj(raw.meta)) bad(where, 'manifest field meta must be an object or null');
  let optimizer: CheckpointManifest['optimizer'] = null;
  if (raw.optimizer !== null) {
    const o = raw.optimizer;
    if (!isObj(o) || (o.kind !== 'sgd' && o.kind !== 'adam' && o.kind !== 'adamw') || !Number.isSafeInteger(o.step)) bad(where, "manifest field optimizer must be { kind: 'sgd' | 'adam' | 'adamw', step } or null");
    optimizer = { kind: o.kind as OptimizerState['kind'], step: o.step as number };
  }
  if (!isObj(raw.files)) bad(where, 'manifest field files must be an object');
  const files = {
    params: fileInfo(raw.files.params, where, 'files.params'),
    optimizer: raw.files.optimizer === null ? null : fileInfo(raw.files.optimizer, where, 'files.optimizer'),
  };
  if ((files.optimizer === null) !== (optimizer === null)) bad(where, 'manifest fields optimizer and files.optimizer disagree');
  return {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    step: raw.step as number,
    epoch: raw.epoch,
    reasons: raw.reasons as CheckpointReason[],
    seed: state.seed,
    state,
    training: raw.training as TrainConfigRecord | null,
    graph: raw.graph ?? null,
    metrics: raw.metrics as CheckpointManifest['metrics'],
    history: raw.history as EpochRecord[],
    optimizer,
    packages: raw.packages as Record<string, string>,
    backend: typeof raw.backend === 'string' ? raw.backend : null,
    engine: isObj(raw.engine) && (raw.engine.provider === 'native' || raw.engine.provider === 'wasm') ? (raw.engine as unknown as EngineInfo) : null,
    createdAt: typeof raw.createdAt === 'string' ? raw.createdAt : '',
    meta: (raw.meta as Record<string, unknown> | null | undefined) ?? null,
    files,
  };
}

function readSt(bytes: Uint8Array, name: string, where: string): ReturnType<typeof readSafetensors> {
  try {
    return readSafetensors(bytes);
  } catch (e) {
    if (isBasisError(e)) bad(where, `${name}: ${e.message}`);
    throw e;
  }
}

function checkBytes(bytes: Uint8Array, info: CheckpointFileInfo, where: string): void {
  if (bytes.length !== info.bytes) bad(where, `${info.name} has ${bytes.length} bytes but the manifest records ${info.bytes}; the checkpoint is truncated or was overwritten`);
  const c = crc32Hex(bytes);
  if (c !== info.crc32) bad(where, `${info.name} has CRC-32 ${c} but the manifest records ${info.crc32}; the file is corrupt`);
}

/**
 * Decodes and verifies a checkpoint from its files: the manifest is validated, the safetensors
 * files must have the recorded sizes and CRC-32s, and the optimizer file must agree with the
 * manifest. Any defect raises BAD_FILE naming `where`.
 *
 * @example
 * ```ts
 * const ckpt = decodeCheckpoint({ manifest: text, params: modelBytes, optimizer: optBytes }, dir);
 * ```
 */
export function decodeCheckpoint(
  files: { manifest: string | Uint8Array; params: Uint8Array; optimizer?: Uint8Array | null },
  where = 'checkpoint',
): Checkpoint {
  const manifest = parseCheckpointManifest(files.manifest, where);
  checkBytes(files.params, manifest.files.params, where);
  const params = readSt(files.params, manifest.files.params.name, where).tensors;
  let optimizer: OptimizerState | null = null;
  const oi = manifest.files.optimizer;
  if (oi !== null) {
    if (files.optimizer === undefined || files.optimizer === null) bad(where, `${oi.name} is missing`);
    checkBytes(files.optimizer, oi, where);
    const content = readSt(files.optimizer, oi.name, where);
    const step = Number(content.metadata.step);
    if (content.metadata.kind !== manifest.optimizer!.kind || step !== manifest.optimizer!.step) {
      bad(where, `${oi.name} holds a ${String(content.metadata.kind)} state at step ${String(content.metadata.step)}, the manifest says ${manifest.optimizer!.kind} at ${manifest.optimizer!.step}`);
    }
    optimizer = { kind: manifest.optimizer!.kind, step, slots: content.tensors };
  }
  return { manifest, params, optimizer };
}
