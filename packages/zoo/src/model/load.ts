// Node-only: loading and saving trained models (checkpoint directories, run directories, bare
// .safetensors or PyTorch .pt files).
import { readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { BasisError, createRng, isBasisError, readSafetensors, readTorch, type NdArray } from '@basis/tensor';
import { checkGraphParams, describeGraph, type ModelGraph, type ParamDict } from '../graph/index.js';
import { CHECKPOINT_FILES, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, type Checkpoint, type CheckpointManifest } from '../train/checkpoint.js';
import { findLatestCheckpoint, loadCheckpoint, saveCheckpoint } from '../train/node.js';
import { loadOnnxFile } from './load-onnx.js';
import type { LoadedModel } from './loaded-model.js';
import { importStateDict, mapStateDict, withTorchNames } from './state-dict.js';
import type { KeyMap } from './state-dict-map.js';

export type { LoadedModel } from './loaded-model.js';

/**
 * Options of {@link loadModel}.
 *
 * @example
 * ```ts
 * const opts: LoadModelOptions = { graph, keyMap: ['^backbone\\.='] };
 * ```
 */
export interface LoadModelOptions {
  /** The architecture of a bare weights file (a checkpoint's manifest holds its own). */
  graph?: ModelGraph;
  /** Explicit renames of a bare weights file's keys (see {@link mapStateDict}). */
  keyMap?: KeyMap;
}

function badFile(path: string, message: string, cause?: unknown): BasisError {
  return new BasisError('BAD_FILE', `${path}: ${message}`, { ...(cause === undefined ? {} : { cause }), details: { path } });
}

function checkedGraph(raw: unknown, where: string): ModelGraph {
  if (raw === null || raw === undefined) throw badFile(where, 'the manifest records no model graph; pass the architecture (e.g. --arch) to read the weights');
  try {
    describeGraph(raw as ModelGraph);
  } catch (e) {
    if (isBasisError(e)) throw badFile(where, `the manifest's model graph is invalid: ${e.message}`, e);
    throw e;
  }
  return raw as ModelGraph;
}

function paramsOf(graph: ModelGraph, tensors: ReadonlyMap<string, NdArray>, where: string): ParamDict {
  try {
    const params = importStateDict(graph, tensors);
    checkGraphParams(graph, params);
    return params;
  } catch (e) {
    if (isBasisError(e) && e.code !== 'BAD_FILE') throw badFile(where, e.message, e);
    throw e;
  }
}

/**
 * Reads a trained model. `path` may be
 * - a checkpoint directory (`manifest.json` + `model.safetensors`, as written by
 *   {@link trainModelResumable}, `saveModel` or any `step-*` checkpoint), whose manifest holds the graph;
 * - a run directory without a final model: its latest complete checkpoint;
 * - a `.safetensors` file or a PyTorch `.pt`/`.pth` state_dict, with `graph` given. Its names
 *   need not be the graph's: they are resolved by {@link mapStateDict} (key map, prefixes, then
 *   structure; a .pt file's entry order is PyTorch's module order, a safetensors file has none),
 *   the returned graph keeps the file's names for export (`meta.torch`), and `report` says how
 *   every entry was used;
 * - an `.onnx` file (graph and weights in one file; `graph` must not be given), read by
 *   {@link importOnnx}, with `onnx` reporting how its nodes became the graph's.
 * A missing path or a truncated/corrupt/mismatched file raises BAD_FILE naming it.
 *
 * @example
 * ```ts
 * const m = await loadModel('runs/mlp/seed-0');
 * const o = await loadModel('model.onnx');
 * const t = await loadModel('model.pt', { graph: buildModel({ arch: 'mlp', width: [64, 32] }, { input: [784], classes: 10 }) });
 * console.log(formatStateDictReport(t.report!)); // 0.weight -> layers.0.weight (structure), ...
 * ```
 */
export async function loadModel(path: string, opts: LoadModelOptions = {}): Promise<LoadedModel> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw badFile(path, code === 'ENOENT' ? 'no such file or directory' : (e as Error).message, e);
  }
  if (isDir) {
    let ckpt: Checkpoint;
    let where = path;
    try {
      await stat(join(path, CHECKPOINT_FILES.manifest));
      ckpt = await loadCheckpoint(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        if (isBasisError(e) && e.code !== 'BAD_FILE') throw badFile(path, e.message, e);
        throw e;
      }
      const latest = await findLatestCheckpoint(path);
      if (latest === null) throw badFile(path, `not a checkpoint directory: no ${CHECKPOINT_FILES.manifest} and no complete step-* checkpoint inside`);
      ckpt = latest.checkpoint;
      where = latest.path;
    }
    const graph = opts.graph ?? checkedGraph(ckpt.manifest.graph, where);
    return { graph, params: paramsOf(graph, ckpt.params, where), manifest: ckpt.manifest, path: where };
  }
  const ext = extname(path).toLowerCase();
  if (ext === '.onnx') {
    if (opts.graph !== undefined) throw badFile(path, 'an .onnx file holds its own graph; leave out the architecture (--arch)');
    return loadOnnxFile(path);
  }
  if (opts.graph === undefined) throw badFile(path, 'a bare weights file holds no model graph; give the architecture (e.g. --arch mlp --width 512) or use a checkpoint directory');
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    throw badFile(path, (e as Error).message, e);
  }
  let tensors: Map<string, NdArray>;
  try {
    if (ext === '.safetensors') tensors = readSafetensors(bytes).tensors;
    else if (ext === '.pt' || ext === '.pth' || ext === '.bin') tensors = readTorch(bytes).tensors;
    else throw badFile(path, `unknown weights file type '${ext}'; use .safetensors, .pt or .pth`);
  } catch (e) {
    if (isBasisError(e) && e.code !== 'BAD_FILE') throw badFile(path, e.message, e);
    throw e;
  }
  const graph = opts.graph;
  let imported: ReturnType<typeof mapStateDict>;
  try {
    imported = mapStateDict(graph, tensors, { order: ext === '.safetensors' ? 'names' : 'file', ...(opts.keyMap === undefined ? {} : { keyMap: opts.keyMap }) });
    checkGraphParams(graph, imported.params);
  } catch (e) {
    if (isBasisError(e) && e.code !== 'BAD_FILE' && e.code !== 'CONFIG_INVALID') throw badFile(path, e.message, e);
    throw e;
  }
  return { graph: withTorchNames(graph, imported.torchNames), params: imported.params, manifest: null, path, report: imported.report };
}

/**
 * Options of {@link saveModel}.
 *
 * @example
 * ```ts
 * await saveModel('models/permuted', { graph, params, base: loaded.manifest, meta: { derivedFrom: 'runs/a' } } satisfies SaveModelOptions);
 * ```
 */
export interface SaveModelOptions {
  graph: ModelGraph;
  params: ParamDict;
  /** A manifest to carry over (training configuration, history, metrics), e.g. of the model this one derives from. */
  base?: CheckpointManifest | null;
  /** Free-form data merged into the manifest's `meta`. */
  meta?: Record<string, unknown>;
}

/**
 * Writes a model as a checkpoint directory (`manifest.json` with the graph IR + `model.safetensors`,
 * no optimizer state), atomically, replacing `dir` if it exists; {@link loadModel} and the CLI read it.
 * Parameters are checked against the graph first.
 *
 * @example
 * ```ts
 * const m = await loadModel('runs/a');
 * await saveModel('models/a-copy', { graph: m.graph, params: m.params, base: m.manifest });
 * ```
 */
export async function saveModel(dir: string, opts: SaveModelOptions): Promise<void> {
  const { graph, params } = opts;
  checkGraphParams(graph, params);
  const arrays = new Map<string, NdArray>();
  for (const p of describeGraph(graph).params) {
    const a = params[p.name] as ParamDict[string];
    arrays.set(p.name, { dtype: 'float32', shape: [...p.shape], data: a.data instanceof Float32Array ? a.data : Float32Array.from(a.data) });
  }
  const b = opts.base ?? null;
  const state = b?.state ?? { seed: 0, step: 0, epoch: 0, batchInEpoch: 0, rng: createRng(0).state(), forks: [], epochLoss: { sum: 0, count: 0 }, n: 1, batchSize: 1, dropLast: false };
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    step: state.step,
    epoch: b?.epoch ?? 0,
    reasons: b?.reasons ?? [],
    seed: state.seed,
    state,
    training: b?.training ?? null,
    graph,
    metrics: b?.metrics ?? { loss: null, eval: null },
    history: b?.history ?? [],
    optimizer: null,
    packages: b?.packages ?? {},
    backend: b?.backend ?? null,
    engine: b?.engine ?? null,
    createdAt: new Date().toISOString(),
    meta: { ...(b?.meta ?? {}), ...(opts.meta ?? {}) },
    files: { params: { name: CHECKPOINT_FILES.params, bytes: 0, crc32: '' }, optimizer: null },
  };
  const ckpt: Checkpoint = { manifest, params: arrays, optimizer: null };
  await saveCheckpoint(dir, ckpt);
}
