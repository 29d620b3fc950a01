// Node-only checkpoint files: atomic checkpoint directories in a run directory, loading with
// verification, finding the latest complete checkpoint, and training that resumes from it.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BasisError, isBasisError } from '@basis/tensor';
import { lockDir } from '@basis/tensor/node';
import {
  CHECKPOINT_FILES,
  checkpointFromSnapshot,
  decodeCheckpoint,
  encodeCheckpoint,
  parseCheckpointManifest,
  type Checkpoint,
} from './checkpoint.js';
import { prepareTraining, train, type CheckpointPlan, type TrainOptions, type TrainResult, type TrainSnapshot, type TrainStart } from './loop.js';
import { assignParams } from './params.js';
import { checkObject, invalid } from './validate.js';

const DIR_RE = /^step-(\d{9,})$/;

/**
 * The name of the checkpoint directory of a step inside a run directory (`step-000000123`), so
 * that names sort by step.
 *
 * @example
 * ```ts
 * checkpointDirName(123); // 'step-000000123'
 * ```
 */
export function checkpointDirName(step: number): string {
  if (!Number.isSafeInteger(step) || step < 0) throw new BasisError('INVALID_ARGUMENT', `step must be an integer >= 0, got ${step}`);
  return `step-${String(step).padStart(9, '0')}`;
}

function ioError(path: string, e: unknown, verb: string): BasisError {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
  return new BasisError('IO', `cannot ${verb} '${path}': ${why}`, { cause: e, details: { path } });
}

async function writeDurable(path: string, bytes: Uint8Array | string): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes a checkpoint directory atomically: the files go to a temporary directory next to `dir`
 * (manifest last), which is then renamed to `dir` (replacing an existing checkpoint there). A
 * crash leaves either the old directory or the new one, never a mix; leftovers are hidden
 * `.<name>.tmp-*` directories that {@link listCheckpoints} ignores.
 *
 * @example
 * ```ts
 * await saveCheckpoint('runs/a/step-000000100', checkpointFromSnapshot(snapshot, { graph }));
 * ```
 */
export async function saveCheckpoint(dir: string, ckpt: Checkpoint): Promise<void> {
  const files = encodeCheckpoint(ckpt);
  const parent = dirname(dir);
  const name = basename(dir);
  const tag = randomBytes(6).toString('hex');
  const tmp = join(parent, `.${name}.tmp-${tag}`);
  try {
    await mkdir(parent, { recursive: true });
    await mkdir(tmp);
    await writeDurable(join(tmp, CHECKPOINT_FILES.params), files.params);
    if (files.optimizer !== null) await writeDurable(join(tmp, CHECKPOINT_FILES.optimizer), files.optimizer);
    await writeDurable(join(tmp, CHECKPOINT_FILES.manifest), files.manifest);
    let old: string | null = null;
    try {
      await rename(tmp, dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      old = join(parent, `.${name}.old-${tag}`);
      await rename(dir, old);
      await rename(tmp, dir);
    }
    if (old !== null) await rm(old, { recursive: true, force: true });
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw isBasisError(e) ? e : ioError(dir, e, 'write checkpoint');
  }
}

async function readOrBad(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new BasisError('BAD_FILE', `incomplete checkpoint: ${what} '${path}' is missing`, { cause: e, details: { path } });
    }
    throw ioError(path, e, 'read');
  }
}

/**
 * Reads and verifies a checkpoint directory. A missing directory raises IO naming the path; a
 * missing, truncated or corrupt file (including a manifest/file mismatch) raises BAD_FILE.
 *
 * @example
 * ```ts
 * const ckpt = await loadCheckpoint('runs/a/step-000000100');
 * assignParams(params, ckpt.params);
 * ```
 */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  try {
    const s = await stat(dir);
    if (!s.isDirectory()) throw new BasisError('BAD_FILE', `'${dir}' is not a checkpoint directory (it is a file)`, { details: { path: dir } });
  } catch (e) {
    if (isBasisError(e)) throw e;
    throw ioError(dir, e, 'open checkpoint');
  }
  const manifestPath = join(dir, CHECKPOINT_FILES.manifest);
  const manifestBytes = await readOrBad(manifestPath, 'manifest');
  const manifest = parseCheckpointManifest(manifestBytes, manifestPath);
  const params = await readOrBad(join(dir, manifest.files.params.name), 'parameter file');
  const optimizer = manifest.files.optimizer === null ? null : await readOrBad(join(dir, manifest.files.optimizer.name), 'optimizer file');
  return decodeCheckpoint({ manifest: manifestBytes, params, optimizer }, dir);
}

/**
 * One checkpoint directory of a run directory, by name (not yet verified).
 *
 * @example
 * ```ts
 * (await listCheckpoints('runs/a')).map((c) => c.step); // [0, 8, 20, 32, 64]
 * ```
 */
export interface CheckpointEntry {
  path: string;
  step: number;
}

/**
 * The checkpoint directories (`step-NNNNNNNNN`) of a run directory, by increasing step; an absent
 * run directory has none.
 *
 * @example
 * ```ts
 * for (const { path, step } of await listCheckpoints('runs/a')) console.log(step, path);
 * ```
 */
export async function listCheckpoints(runDir: string): Promise<CheckpointEntry[]> {
  let names: string[];
  try {
    names = await readdir(runDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw ioError(runDir, e, 'list');
  }
  const out: CheckpointEntry[] = [];
  for (const name of names) {
    const m = DIR_RE.exec(name);
    if (m !== null) out.push({ path: join(runDir, name), step: Number(m[1]) });
  }
  return out.sort((a, b) => a.step - b.step);
}

/**
 * The latest complete checkpoint of a run directory: the highest step whose files all verify.
 * Damaged later checkpoints are skipped and reported; null when there is none.
 *
 * @example
 * ```ts
 * const latest = await findLatestCheckpoint('runs/a');
 * if (latest) console.log(`resuming at step ${latest.checkpoint.manifest.step}`, latest.skipped);
 * ```
 */
export async function findLatestCheckpoint(
  runDir: string,
): Promise<{ path: string; checkpoint: Checkpoint; skipped: { path: string; error: string }[] } | null> {
  const entries = await listCheckpoints(runDir);
  const skipped: { path: string; error: string }[] = [];
  for (let i = entries.length - 1; i >= 0; i--) {
    const { path } = entries[i]!;
    try {
      const checkpoint = await loadCheckpoint(path);
      return { path, checkpoint, skipped };
    } catch (e) {
      if (!isBasisError(e) || (e.code !== 'BAD_FILE' && e.code !== 'IO')) throw e;
      skipped.push({ path, error: e.message });
    }
  }
  return null;
}

let zooVersion: string | null | undefined;

/** The version of @basis/zoo (read once from its package.json). */
async function packageVersions(): Promise<Record<string, string>> {
  if (zooVersion === undefined) {
    try {
      const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { name?: string; version?: string };
      zooVersion = pkg.name === '@basis/zoo' && typeof pkg.version === 'string' ? pkg.version : null;
    } catch {
      zooVersion = null;
    }
  }
  const out: Record<string, string> = { node: process.versions.node };
  if (zooVersion !== null) out['@basis/zoo'] = zooVersion;
  return out;
}

/**
 * Options of {@link checkpointWriter}.
 *
 * @example
 * ```ts
 * const opts: CheckpointWriterOptions = { graph: model.graph, meta: { dataset: 'mnist' } };
 * ```
 */
export interface CheckpointWriterOptions {
  /** Model description stored in each manifest (e.g. the graph IR). */
  graph?: unknown;
  /** Free-form data stored in each manifest. */
  meta?: Record<string, unknown>;
  /** Extra package versions to record. */
  packages?: Record<string, string>;
  /** Called after each checkpoint is written. */
  onSave?: (path: string, snapshot: TrainSnapshot) => void;
}

/**
 * A `checkpoints.save` callback for {@link train} that writes each snapshot atomically to
 * `runDir/step-NNNNNNNNN/`.
 *
 * @example
 * ```ts
 * await train({ ...opts, checkpoints: { at: [0, 0.1, 0.25, 0.5], save: checkpointWriter('runs/a', { graph }) } });
 * ```
 */
export function checkpointWriter(runDir: string, opts: CheckpointWriterOptions = {}): (snapshot: TrainSnapshot) => Promise<void> {
  if (typeof runDir !== 'string' || runDir === '') invalid('checkpointWriter: runDir', 'must be a directory path');
  return async (snapshot) => {
    const packages = { ...(await packageVersions()), ...(opts.packages ?? {}) };
    const path = join(runDir, checkpointDirName(snapshot.step));
    await saveCheckpoint(path, checkpointFromSnapshot(snapshot, { graph: opts.graph, meta: opts.meta, packages }));
    opts.onSave?.(path, snapshot);
  };
}

/**
 * Options of {@link trainResumable}: those of `train` plus the run directory; `checkpoints`
 * chooses when to write (the writer is built in).
 *
 * @example
 * ```ts
 * const opts: TrainResumableOptions = { ...trainOptions, runDir: 'runs/mlp-seed0', checkpoints: { at: [0, 0.5] } };
 * ```
 */
export interface TrainResumableOptions extends Omit<TrainOptions, 'checkpoints' | 'start'> {
  runDir: string;
  /** When to checkpoint (default: every epoch); abort and end checkpoints are always written. */
  checkpoints?: Omit<CheckpointPlan, 'save'>;
  graph?: unknown;
  meta?: Record<string, unknown>;
  /** Where to start when the run directory holds no checkpoint yet (e.g. a fork's spawn point). */
  start?: TrainStart;
  onSave?: (path: string, snapshot: TrainSnapshot) => void;
}

/**
 * What {@link trainResumable} returns.
 *
 * @example
 * ```ts
 * const r = await trainResumable(opts);
 * r.resumedFrom; // 'runs/a/step-000000040' or null for a fresh run
 * ```
 */
export interface TrainResumableResult extends TrainResult {
  runDir: string;
  /** The checkpoint the run continued from, or null. */
  resumedFrom: string | null;
  /** Damaged checkpoints passed over while looking for the latest complete one. */
  skipped: { path: string; error: string }[];
}

const COMPARED = ['n', 'batchSize', 'dropLast', 'stepsPerEpoch', 'optimizer', 'schedule', 'frozen'] as const;

/**
 * Trains with checkpoints in `runDir`, resuming from its latest complete checkpoint when there is
 * one: parameters, optimizer state, data order and history are restored, so an interrupted run
 * that is started again ends with bit-identical weights to an uninterrupted one (same backend).
 * The stored configuration must match (optimizer, resolved schedule, batching, frozen parameters,
 * seed); otherwise CONFIG_INVALID names the field. `epochs` may grow when the schedule's length
 * does not depend on it (a constant or step schedule, or an explicit `totalSteps`). The run
 * directory is locked for writing while training (`lockDir` of @basis/tensor/node): another process
 * writing it makes this fail at once with IO naming that process.
 *
 * @example
 * ```ts
 * const ctl = new AbortController();
 * process.on('SIGINT', () => ctl.abort()); // stops after the current step, with a checkpoint
 * const r = await trainResumable({ params, lossFn, data, epochs: 10, batchSize: 128,
 *   optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 }, schedule: { kind: 'cosine' }, seed: 0,
 *   runDir: 'runs/mlp-0', graph, checkpoints: { at: [0, 0.1, 0.25, 0.5] }, signal: ctl.signal });
 * ```
 */
export async function trainResumable(options: TrainResumableOptions): Promise<TrainResumableResult> {
  checkObject(options, 'trainResumable');
  const { runDir, checkpoints, graph, meta, start, onSave, ...rest } = options;
  if (typeof runDir !== 'string' || runDir === '') invalid('trainResumable.runDir', 'must be a directory path');
  if (checkpoints !== undefined) checkObject(checkpoints, 'trainResumable.checkpoints');
  const save = checkpointWriter(runDir, { graph, meta, onSave });
  const trainOptions: TrainOptions = { ...rest, checkpoints: { ...(checkpoints ?? {}), save } };
  const prepared = prepareTraining(trainOptions);
  await mkdir(runDir, { recursive: true }).catch((e: unknown) => {
    throw ioError(runDir, e, 'create run directory');
  });
  // one writer per run directory (nested when the caller, e.g. TrainPool.run, holds it already)
  const lock = await lockDir(runDir, { cleanDepth: 0 });
  try {
    return await resumeLocked(runDir, trainOptions, prepared, start);
  } finally {
    await lock.release();
  }
}

async function resumeLocked(
  runDir: string,
  trainOptions: TrainOptions,
  prepared: ReturnType<typeof prepareTraining>,
  start: TrainStart | undefined,
): Promise<TrainResumableResult> {
  // remove leftovers of interrupted writes
  for (const name of await readdir(runDir)) {
    if (/^\.step-\d+\.(tmp|old)-[0-9a-f]+$/.test(name)) await rm(join(runDir, name), { recursive: true, force: true });
  }
  const latest = await findLatestCheckpoint(runDir);
  let resumedFrom: string | null = null;
  if (latest !== null) {
    const { manifest } = latest.checkpoint;
    const before = manifest.training;
    if (before !== null) {
      for (const k of COMPARED) {
        const a = JSON.stringify(before[k]);
        const b = JSON.stringify(prepared.training[k]);
        if (a !== b) {
          invalid(`trainResumable.${k}`, `differs from the run in '${runDir}' (${a} there, ${b} now); use the same configuration to resume or a new runDir`);
        }
      }
    }
    if (manifest.state.seed !== prepared.seed) {
      invalid('trainResumable.seed', `is ${JSON.stringify(prepared.seed)} but the run in '${runDir}' uses seed ${JSON.stringify(manifest.state.seed)}; to fork, start a new runDir with start: { state, optimizer }`);
    }
    assignParams(prepared.params, latest.checkpoint.params);
    trainOptions.start = {
      state: manifest.state,
      ...(latest.checkpoint.optimizer !== null ? { optimizer: latest.checkpoint.optimizer } : {}),
      history: manifest.history,
    };
    resumedFrom = latest.path;
  } else if (start !== undefined) {
    // the run directory's first checkpoint is the state it starts from
    trainOptions.start = { ...start, checkpoint: true };
  }
  const result = await train(trainOptions);
  return { ...result, runDir, resumedFrom, skipped: latest?.skipped ?? [] };
}
