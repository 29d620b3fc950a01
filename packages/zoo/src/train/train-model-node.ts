// Node-only training of models: into a run directory with resume, the training presets end to
// end, and train config files.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BasisError } from '@basis/tensor';
import { lockDir, writeFileAtomic, type DirLock } from '@basis/tensor/node';
import { buildModel } from '../model/model-spec.js';
import { loadDataSpec } from '../model/node.js';
import { CHECKPOINT_FILES, encodeCheckpoint } from './checkpoint.js';
import { findLatestCheckpoint, trainResumable, type TrainResumableResult } from './node.js';
import type { TrainingPreset } from './presets.js';
import { parseTrainConfigFile, type TrainConfigFile } from './train-config.js';
import { prepareModelTraining, trainModel, type TrainModelOptions, type TrainModelResult } from './train-model.js';

/**
 * Options of {@link trainModelResumable}: those of `trainModel` plus the run directory.
 *
 * @example
 * ```ts
 * const opts: TrainModelResumableOptions = { graph, train, test, recipe, runDir: 'runs/mlp/seed-0' };
 * ```
 */
export interface TrainModelResumableOptions extends Omit<TrainModelOptions, 'save' | 'start'> {
  runDir: string;
  /** Where to start when `runDir` holds no checkpoint yet (a spawned child: the trunk's state; see `trainSeeds`). */
  start?: TrainModelOptions['start'];
  /** Free-form data stored in every manifest (e.g. the data spec). */
  meta?: Record<string, unknown>;
  /** Called after each checkpoint is written. */
  onSave?: (path: string) => void;
}

/**
 * What {@link trainModelResumable} returns.
 *
 * @example
 * ```ts
 * const r = await trainModelResumable(opts);
 * r.resumedFrom; // null for a fresh run
 * ```
 */
export interface TrainModelResumableResult extends TrainModelResult {
  runDir: string;
  resumedFrom: string | null;
  skipped: TrainResumableResult['skipped'];
}

/**
 * {@link trainModel} into a run directory: checkpoints go to `runDir/step-NNNNNNNNN/` (at the
 * recipe's epoch fractions, every epoch, on abort and at the end) and a run that is started again
 * resumes from the latest complete one, ending with bit-identical weights (same backend). When the
 * run completes, the final model is also written to `runDir/model.safetensors` and
 * `runDir/manifest.json` (without optimizer state), so `runDir` itself is a checkpoint directory
 * that {@link loadModel} and the CLI read. The manifest holds the graph IR and the recipe.
 *
 * @example
 * ```ts
 * const r = await trainModelResumable({ graph, train, test, recipe: TRAINING_PRESETS.mlpMnist.train, runDir: 'runs/mlp/seed-0' });
 * const again = await loadModel('runs/mlp/seed-0'); // same weights as r.params
 * ```
 */
export async function trainModelResumable(opts: TrainModelResumableOptions): Promise<TrainModelResumableResult> {
  const { runDir, meta, onSave, start, ...rest } = opts;
  if (typeof runDir !== 'string' || runDir === '') throw new BasisError('CONFIG_INVALID', 'trainModelResumable: runDir must be a directory path', { details: { field: 'runDir' } });
  const p = prepareModelTraining(rest);
  let lock: DirLock | undefined;
  try {
    // held until the final model is exported (trainResumable's own lock is then nested)
    lock = await lockDir(runDir, { cleanDepth: 0 });
    const r = await trainResumable({
      ...p.trainOptions,
      runDir,
      checkpoints: { at: p.recipe.checkpoints },
      graph: opts.graph,
      meta: { recipe: p.recipe, train: opts.train.name, test: opts.test?.name ?? null, ...(meta ?? {}) },
      ...(onSave === undefined ? {} : { onSave: (path: string) => onSave(path) }),
      ...(start === undefined ? {} : { start }),
    });
    const summary = p.summarize(r);
    if (r.stopped === 'completed') await exportFinalModel(runDir);
    return { ...summary, runDir, resumedFrom: r.resumedFrom, skipped: r.skipped };
  } finally {
    p.dispose();
    await lock?.release();
  }
}

/** Copies the latest checkpoint of a run directory (without optimizer state) to the run directory itself. */
async function exportFinalModel(runDir: string): Promise<void> {
  const latest = await findLatestCheckpoint(runDir);
  if (latest === null) throw new BasisError('BAD_FILE', `run directory '${runDir}' holds no complete checkpoint after training`);
  const files = encodeCheckpoint({ ...latest.checkpoint, optimizer: null });
  await writeFileAtomic(join(runDir, CHECKPOINT_FILES.params), files.params);
  await writeFileAtomic(join(runDir, CHECKPOINT_FILES.manifest), files.manifest);
}

/**
 * Options of {@link runTrainingPreset}.
 *
 * @example
 * ```ts
 * await runTrainingPreset(TRAINING_PRESETS.mlpMnist, { seed: 3, runDir: 'runs/mlp-3' } satisfies RunTrainingPresetOptions);
 * ```
 */
export interface RunTrainingPresetOptions {
  /** Override the preset's seed. */
  seed?: number | string;
  /** Train into this run directory (resumable); default: in memory. */
  runDir?: string;
  onProgress?: TrainModelOptions['onProgress'];
  signal?: AbortSignal;
}

/**
 * Loads a training preset's data, builds its model and trains it (see {@link trainModelResumable} for `runDir`).
 *
 * @example
 * ```ts
 * const r = await runTrainingPreset(TRAINING_PRESETS.miniMyrtleFashion);
 * console.log(r.final.testAccuracy, r.history.map((h) => h.seconds));
 * ```
 */
export async function runTrainingPreset(preset: TrainingPreset, opts: RunTrainingPresetOptions = {}): Promise<TrainModelResult> {
  const { train, test } = await loadDataSpec(preset.data, 'preset.data');
  const graph = buildModel(preset.model, { input: train.shape, classes: train.numClasses }, 'preset.model');
  const settings = opts.seed === undefined ? preset.train : { ...preset.train, seed: opts.seed };
  const common = {
    graph,
    train,
    test,
    recipe: settings,
    ...(opts.onProgress === undefined ? {} : { onProgress: opts.onProgress }),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  };
  if (opts.runDir !== undefined) return trainModelResumable({ ...common, runDir: opts.runDir, meta: { data: preset.data, model: preset.model } });
  return trainModel(common);
}

/**
 * Reads and parses a train config file (`basis train --config FILE`): IO when it cannot be read,
 * CONFIG_INVALID when it is not JSON or a field is bad (named from `config`, e.g.
 * `config.train.optimizer.lr must be > 0, got 0`).
 *
 * @example
 * ```ts
 * const file = await loadTrainConfigFile('train.json'); // { model?, data?, train?, seeds?, spawnSteps? }
 * ```
 */
export async function loadTrainConfigFile(path: string): Promise<TrainConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new BasisError('IO', `cannot read config '${path}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new BasisError('CONFIG_INVALID', `config '${path}' is not valid JSON: ${(e as Error).message}`, { details: { field: 'config' } });
  }
  return parseTrainConfigFile(raw, 'config');
}
