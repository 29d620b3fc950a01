import { readFile, readdir, rmdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { BasisError, engineInfo, isBasisError, parseConfig, threadBudget } from '@basis/tensor';
import { lockDir, pathExists, writeFileAtomic } from '@basis/tensor/node';
import {
  ACTIVATION_FNS,
  DATASET_NAMES,
  MODEL_ARCHS,
  SeedListSchema,
  WIDTH_LIST_ARCHS,
  buildModel,
  defaultTrainSettings,
  parseDataArg,
  parseDataSpec,
  parseModelSpec,
  parseTrainSettings,
  resolveTrainSettings,
  stepsPerEpoch as stepsPerEpochOf,
  withSeed,
  withoutLongWarmup,
  type ActivationFn,
  type DataSpec,
  type ModelArch,
  type ModelGraph,
  type ModelSpec,
  type TrainProgress,
  type TrainSettings,
} from '@basis/zoo';
import { TrainPool, loadDataSpec, loadTrainConfigFile, trainSeeds, type TrainJobResult } from '@basis/zoo/node';
import type { CommandContext } from '../context.js';
import { ProgressBars, formatDuration } from '../progress.js';
import { formatNumber, formatTable } from '../table.js';
import { FlagValueError } from '../cli/declare.js';
import { widthFlag } from './model-args.js';

/** One of `choices`, else `{flag} must be one of a, b, got 'c'`. */
function oneOfFlag<const T extends string>(s: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(s)) throw new FlagValueError(`must be one of ${choices.join(', ')}, got '${s}'`);
  return s as T;
}

/**
 * The parsers of the `basis train` flags that need @basis/zoo's registries and schemas; the
 * command's declaration (cli/commands.ts) applies them when train runs, so zoo stays out of the
 * CLI's start-up. Each throws FlagValueError or a USAGE error (`{flag}` is the flag's name).
 *
 * @example
 * ```ts
 * TRAIN_FLAG_PARSERS.data('modadd:p=59'); // { dataset: 'modadd', p: 59 }
 * ```
 */
export const TRAIN_FLAG_PARSERS = {
  arch: (s: string): ModelArch => oneOfFlag(s, MODEL_ARCHS),
  width: (s: string): number | number[] => widthFlag(s, '{flag}'),
  activation: (s: string): ActivationFn => oneOfFlag(s, ACTIVATION_FNS),
  dataset: (s: string): (typeof DATASET_NAMES)[number] => oneOfFlag(s, DATASET_NAMES),
  data: (s: string): DataSpec => {
    const arg = parseDataArg(s, { flag: '{flag}' });
    if (arg.kind !== 'spec') throw new FlagValueError(`${s}: basis train needs a dataset`);
    return arg.spec;
  },
  seeds: (s: string): (number | string)[] => {
    const given = s.split(',').map((x) => x.trim());
    return asUsage(() => parseConfig(SeedListSchema, given.map((x) => (/^\d+$/.test(x) ? Number(x) : x)), '{flag}'), ' (e.g. --seeds 0,1,2)');
  },
};

/** The parsers above, by flag (for the declaration's types). */
export type TrainFlagParsers = typeof TRAIN_FLAG_PARSERS;

/** Flags of `basis train`, parsed by the command's declaration (cli/commands.ts). */
export interface TrainFlags {
  config?: string;
  arch?: ModelArch;
  width?: number | number[];
  depth?: number;
  activation?: ActivationFn;
  dataset?: (typeof DATASET_NAMES)[number];
  data?: DataSpec;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  optimizer?: 'sgd' | 'adam' | 'adamw';
  weightDecay?: number;
  trainSize?: number;
  testSize?: number;
  seeds?: (number | string)[];
  checkpoints?: number[];
  workers?: number;
  spawnSteps?: number;
  out: string;
  resume: boolean;
  /** `--queue`: train the seeds on `basis worker` processes through this Redis queue ('' = BASIS_QUEUE); OUT must be on a filesystem they share. */
  queue?: string;
  /** `--queue-name`: the BullMQ queue (default basis). */
  queueName?: string;
}

/** What `basis train` trains (complete: flags and defaults filled in) and writes to OUT/train.json; every part is parsed. */
export interface TrainConfig {
  model: ModelSpec;
  data: DataSpec;
  train: TrainSettings;
  seeds: (number | string)[];
  /** Spawning: train a shared trunk (OUT/trunk) for this many steps, then fork it into the seeds. */
  spawnSteps?: number;
}

/** A resolved config and whether its training settings are built-in defaults (not from a config file). */
type ResolvedTrainConfig = TrainConfig & { defaultSettings: boolean };

/** USAGE for a CONFIG_INVALID of a flag's value (the message names the flag), other errors as they are. */
function asUsage<T>(f: () => T, hint = ''): T {
  try {
    return f();
  } catch (e) {
    if (isBasisError(e) && e.code === 'CONFIG_INVALID') throw new BasisError('USAGE', `${e.message}${hint}`);
    throw e;
  }
}

/** The model spec of --width/--depth/--activation for `arch` (a width list only for the architectures that take one). */
function modelFromFlags(flags: TrainFlags, arch: ModelArch): ModelSpec {
  const spec: ModelSpec = { arch };
  if (flags.width !== undefined) {
    if (Array.isArray(flags.width) && !(WIDTH_LIST_ARCHS as readonly string[]).includes(arch)) {
      throw new BasisError('USAGE', `--width takes one number for ${arch}; lists such as ${flags.width.join(',')} are for ${WIDTH_LIST_ARCHS.join(', ')}`);
    }
    spec.width = flags.width;
  }
  if (flags.depth !== undefined) spec.depth = flags.depth;
  if (flags.activation !== undefined) spec.activation = flags.activation;
  return spec;
}

/**
 * Merges the config file (if any) with the flags (flags win). The file is parsed once when it is
 * read (`loadTrainConfigFile`); a part that flags change is parsed again as a whole (a part they
 * leave alone is the parsed value itself, which the parsers return as it is).
 */
export async function resolveTrainConfig(flags: TrainFlags, globalSeed: number): Promise<ResolvedTrainConfig> {
  const file = flags.config === undefined ? {} : await loadTrainConfigFile(flags.config);
  let model: ModelSpec = file.model ?? { arch: 'mlp' };
  // --width/--depth/--activation apply to --arch, else to the config's (or the default) architecture
  const fromFlags = modelFromFlags(flags, flags.arch ?? model.arch);
  if (Object.keys(fromFlags).length > 1 || fromFlags.arch !== model.arch || file.model === undefined) {
    model = fromFlags.arch === model.arch ? { ...model, ...fromFlags } : fromFlags;
  }
  model = parseModelSpec(model, flags.config === undefined ? 'model' : 'config.model');
  let data: DataSpec = file.data ?? { dataset: 'mnist' };
  if (flags.data !== undefined) data = flags.data;
  if (flags.dataset !== undefined) data = flags.dataset === data.dataset ? data : { dataset: flags.dataset };
  if (flags.trainSize !== undefined) data = { ...data, trainSize: flags.trainSize };
  if (flags.testSize !== undefined) data = { ...data, testSize: flags.testSize };
  // modular addition: tokens for the transformer, one-hot vectors for the other architectures
  if (data.dataset === 'modadd' && data.encoding === undefined) data = { ...data, encoding: model.arch === 'transformer' ? 'tokens' : 'onehot' };
  data = parseDataSpec(data, 'data');
  if (model.arch === 'transformer' && !(data.dataset === 'modadd' && data.encoding === 'tokens')) {
    throw new BasisError('USAGE', `the transformer trains on token data: use --data modadd (with encoding=tokens), not ${data.dataset}${data.encoding === undefined ? '' : ` with encoding=${data.encoding}`}`);
  }
  const base = file.train ?? defaultTrainSettings(model, data);
  const train: Record<string, unknown> = { ...base };
  if (flags.epochs !== undefined) train.epochs = flags.epochs;
  if (flags.batchSize !== undefined) train.batchSize = flags.batchSize;
  if (flags.optimizer !== undefined) {
    const kind = flags.optimizer;
    const lr = flags.lr ?? (kind === 'sgd' ? 0.05 : 1e-3);
    train.optimizer = kind === 'sgd' ? { kind, lr, momentum: 0.9, nesterov: true } : { kind, lr };
  } else if (flags.lr !== undefined) train.optimizer = { ...(train.optimizer as object), lr: flags.lr };
  if (flags.weightDecay !== undefined) train.weightDecay = flags.weightDecay;
  if (flags.checkpoints !== undefined) train.checkpoints = flags.checkpoints;
  const changed = Object.keys(train).some((k) => train[k] !== (base as unknown as Record<string, unknown>)[k]);
  const settings = changed ? parseTrainSettings(train, 'train') : base;
  const seeds: (number | string)[] = flags.seeds ?? file.seeds ?? [globalSeed];
  const spawnSteps = flags.spawnSteps ?? file.spawnSteps;
  return { model, data, train: settings, seeds, ...(spawnSteps === undefined ? {} : { spawnSteps }), defaultSettings: file.train === undefined };
}


/** One line per seed in the result. */
interface RunSummary {
  seed: number | string;
  dir: string;
  stopped: string;
  resumedFrom: string | null;
  epochs: number;
  steps: number;
  trainLoss: number | null;
  testAccuracy: number | null;
  testLoss: number | null;
  seconds: number;
}

/** The train.json of an earlier run in `out`, or null (none, or unreadable: then it is rewritten). */
async function previousConfig(path: string): Promise<TrainConfig | null> {
  try {
    const v = JSON.parse(await readFile(path, 'utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as TrainConfig) : null;
  } catch {
    return null;
  }
}

/**
 * Refuses a run whose configuration contradicts the train.json already in OUT (which describes
 * every run directory there): model, data, spawnSteps and the recipe must match; with --resume
 * the recipe's epochs and checkpoints may change (the resumed runs check what they allow).
 */
function checkSameConfig(out: string, before: TrainConfig, now: TrainConfig, resume: boolean): void {
  const plain = (v: unknown): unknown => (v === undefined ? null : JSON.parse(JSON.stringify(v)));
  const recipe = (t: TrainSettings): unknown => {
    if (!resume) return plain(t);
    const { epochs: _e, checkpoints: _c, ...rest } = t;
    return plain(rest);
  };
  const fields: [string, unknown, unknown][] = [
    ['model', plain(before.model), plain(now.model)],
    ['data', plain(before.data), plain(now.data)],
    ['train', recipe(before.train), recipe(now.train)],
    ['spawnSteps', plain(before.spawnSteps), plain(now.spawnSteps)],
  ];
  for (const [k, a, b] of fields) {
    if (!isDeepStrictEqual(a, b)) {
      throw new BasisError(
        'USAGE',
        `'${out}' holds runs of another configuration: its train.json has ${k} ${JSON.stringify(a)}, this command asks for ${JSON.stringify(b)}; ` +
          `use the same configuration${resume ? '' : ' (with --resume to continue those runs)'}, or choose another --out`,
        { details: { field: k } },
      );
    }
  }
}

/**
 * `basis train`: trains one model per seed (in parallel on worker threads), one run directory
 * each. OUT is locked for the whole command (one writer per run directory: a second `basis train`
 * into the same OUT fails at once with IO naming the first), and OUT/train.json is written only by
 * the lock holder, never contradicting the runs beside it.
 */
export async function runTrain(ctx: CommandContext, flags: TrainFlags): Promise<number> {
  const resolved = await resolveTrainConfig(flags, ctx.options.seed);
  const out = resolve(flags.out);
  const existed = await pathExists(out);
  const lock = await lockDir(out);
  let wrote = false;
  try {
    const code = await trainLocked(ctx, flags, resolved, out, () => (wrote = true));
    return code;
  } finally {
    await lock.release();
    // a fresh OUT that a failed command left empty is removed again
    if (!existed && !wrote) await rmdir(out).catch(() => undefined);
  }
}

async function trainLocked(ctx: CommandContext, flags: TrainFlags, resolved: ResolvedTrainConfig, out: string, onWrite: () => void): Promise<number> {
  const { defaultSettings: isDefault, ...config } = resolved;
  const dirs = config.seeds.map((s) => join(out, `seed-${String(s)}`));
  const trunkDir = join(out, 'trunk');
  for (const d of config.spawnSteps === undefined ? dirs : [...dirs, trunkDir]) {
    const names = (await pathExists(d)) ? await readdir(d) : [];
    if (names.length > 0 && !flags.resume) {
      throw new BasisError('USAGE', `'${d}' already holds a run; pass --resume to continue it, or choose another --out`);
    }
  }
  const workers = Math.min(config.seeds.length, flags.workers ?? threadBudget());
  if (flags.queue !== undefined && config.spawnSteps !== undefined) throw new BasisError('USAGE', '--spawn-steps cannot be combined with --queue (the trunk and its children train locally); leave out one of them');
  const { train, test } = await loadDataSpec(config.data);
  if (config.model.arch === 'transformer' && config.model.vocab === undefined) {
    // the token vocabulary of the data (modular addition: p + 1 with the '=' token)
    config.model = { ...config.model, vocab: train.meta?.['vocabSize'] as number };
  }
  const graph = buildModel(config.model, { input: train.shape, classes: train.numClasses });
  let recipe = resolveTrainSettings(config.train, 'train');
  const stepsPerEpoch = stepsPerEpochOf(train.n, recipe);
  if (isDefault) {
    // a built-in preset's warm-up longer than this (shortened) run is left out
    const fitted = withoutLongWarmup(config.train, recipe.epochs * stepsPerEpoch);
    if (fitted !== config.train) {
      const steps = recipe.schedule !== null && recipe.schedule.warmup !== undefined ? recipe.schedule.warmup.steps : 0;
      config.train = fitted;
      recipe = resolveTrainSettings(config.train, 'train');
      ctx.info(`(the default recipe's ${steps}-step warm-up is longer than this run of ${recipe.epochs * stepsPerEpoch} steps: training without warm-up)`);
    }
  }
  const stepsPerSeed = recipe.epochs * stepsPerEpoch;
  const spawn = config.spawnSteps;
  if (spawn !== undefined && spawn >= stepsPerSeed) {
    throw new BasisError('CONFIG_INVALID', `spawnSteps is ${spawn} but each run has only ${stepsPerSeed} steps (${recipe.epochs} epochs of ${stepsPerEpoch}); the trunk must stop before the end`, { details: { field: 'spawnSteps' } });
  }
  const trainJson = join(out, 'train.json');
  const before = await previousConfig(trainJson);
  if (before !== null) checkSameConfig(out, before, config, flags.resume);
  // train.json lists every seed trained in OUT; with --resume, changed epochs are recorded once the runs accepted them
  const seedsBefore = before !== null && Array.isArray(before.seeds) ? before.seeds : [];
  const allSeeds = [...seedsBefore, ...config.seeds.filter((s) => !seedsBefore.map(String).includes(String(s)))];
  const record = (train: TrainSettings): string => JSON.stringify({ ...config, train, seeds: allSeeds }, null, 2) + '\n';
  if (before === null || !isDeepStrictEqual(seedsBefore, allSeeds)) {
    onWrite();
    await writeFileAtomic(trainJson, record(before?.train ?? config.train));
  }
  ctx.info(
    `training ${graph.name} on ${train.name} (${train.n} examples; test ${test.n}) for ${recipe.epochs} epochs of batch ${recipe.batchSize}, seeds ${config.seeds.join(', ')}` +
      (flags.queue === undefined ? ` on ${workers} worker thread${workers > 1 ? 's' : ''}` : ' on the workers of the job queue') +
      (spawn === undefined ? '' : `, spawned from a shared trunk of ${spawn} steps (${trunkDir})`),
  );
  // --json: no redrawn bars (only the epoch lines on stderr); --quiet: nothing
  const bars = new ProgressBars(ctx.io.stderr, !ctx.options.quiet, 24, !ctx.options.json);
  const labelWidth = Math.max(...config.seeds.map((s) => `seed ${String(s)}`.length), spawn === undefined ? 0 : 'trunk'.length);
  const label = (seed: number | string | null): string => (seed === null ? 'trunk' : `seed ${String(seed)}`).padEnd(labelWidth);
  const lastEvent = new Map<number | string, number>();
  const progress = (seed: number | string | null) => {
    let detail = '';
    return (e: TrainProgress): void => {
      if (seed !== null) lastEvent.set(seed, performance.now());
      if (e.kind === 'step') bars.update(label(seed), { done: e.step, total: seed === null ? (spawn as number) : stepsPerSeed, detail: `loss ${formatNumber(e.loss, 3)} ${detail}` });
      else if (e.kind === 'epoch') {
        const acc = e.record.metrics?.testAccuracy;
        detail = `epoch ${e.record.epoch}/${recipe.epochs}${acc === undefined ? '' : ` acc ${(100 * acc).toFixed(2)}%`}`;
        bars.log(`${label(seed)}: epoch ${e.record.epoch}/${recipe.epochs}, train loss ${formatNumber(e.record.loss, 4)}${acc === undefined ? '' : `, test accuracy ${(100 * acc).toFixed(2)}%`} (${e.record.seconds.toFixed(1)} s)`);
      }
    };
  };
  if (spawn !== undefined) bars.update(label(null), { done: 0, total: spawn, detail: 'starting' });
  for (const seed of config.seeds) bars.update(label(seed), { done: 0, total: stepsPerSeed, detail: spawn === undefined ? 'starting' : `waiting for the trunk (${spawn} steps)` });
  const ctl = new AbortController();
  const onSignal = (): void => {
    bars.log('interrupted: stopping after the current step (with a checkpoint; rerun with --resume)');
    ctl.abort();
  };
  process.once('SIGINT', onSignal);
  const meta = { data: config.data, model: config.model };
  const t0 = performance.now();
  let results: (QueuedRunResult & { seconds: number })[];
  try {
    if (flags.queue !== undefined) {
      // --queue: every seed is a job for `basis worker` processes, trained into its run directory
      // (on the shared filesystem) by the same code as below
      const raw = await trainOnQueue(ctx, flags, { graph, config, dirs, out, meta, bars, label, stepsPerSeed, signal: ctl.signal });
      results = raw.map((r) => ({ ...r, seconds: (performance.now() - t0) / 1000 }));
    } else {
    // always on worker threads, even for one seed: the calling thread stays free to draw progress
    // and to react to Ctrl-C within one step (a busy training loop would not see the signal)
    const pool = await TrainPool.create({ workers, backend: ctx.options.backend });
    try {
      const progressOf = new Map(config.seeds.map((s) => [s, progress(s)]));
      // the trunk (spawning) uses the seed of the recipe: --seed, or the config's train.seed
      const trunkSeed = config.train.seed ?? ctx.options.seed;
      const raw = await trainSeeds({
        pool,
        graph,
        train,
        test,
        recipe: withSeed(config.train, trunkSeed),
        seeds: config.seeds,
        runDir: (s) => dirs[config.seeds.indexOf(s)] as string,
        meta,
        signal: ctl.signal,
        onProgress: (seed, e) => progressOf.get(seed)!(e),
        ...(spawn === undefined ? {} : { spawnSteps: spawn, trunkDir, onTrunkProgress: progress(null) }),
      });
      results = raw.map((r, i) => ({ ...r, resumedFrom: r.resumedFrom ?? null, seconds: ((lastEvent.get(config.seeds[i] as number | string) ?? performance.now()) - t0) / 1000 }));
    } finally {
      await pool.close();
    }
    }
  } finally {
    process.off('SIGINT', onSignal);
    bars.finish();
  }
  if (before !== null && !isDeepStrictEqual(JSON.parse(JSON.stringify(before.train)), JSON.parse(JSON.stringify(config.train)))) {
    await writeFileAtomic(trainJson, record(config.train));
  }
  const runs: RunSummary[] = results.map((r, i) => ({
    seed: config.seeds[i] as number | string,
    dir: dirs[i] as string,
    stopped: r.stopped,
    resumedFrom: r.resumedFrom,
    epochs: r.history.length,
    steps: r.steps,
    trainLoss: r.final.trainLoss,
    testAccuracy: r.final.testAccuracy,
    testLoss: r.final.testLoss,
    seconds: r.seconds,
  }));
  const seconds = (performance.now() - t0) / 1000;
  ctx.result({ out, graph: graph.name, backend: results[0]?.backend ?? null, config, seconds, runs }, () => {
    const rows: (string | number)[][] = [['seed', 'test accuracy', 'test loss', 'train loss', 'epochs', 'time', 'run directory']];
    for (const r of runs) {
      rows.push([
        String(r.seed),
        r.testAccuracy === null ? '-' : `${(100 * r.testAccuracy).toFixed(2)}%`,
        r.testLoss ?? '-',
        r.trainLoss ?? '-',
        `${r.epochs}${r.stopped === 'completed' ? '' : ` (${r.stopped})`}`,
        formatDuration(r.seconds),
        r.dir,
      ]);
    }
    return `${formatTable(rows, 4)}\n\n${graph.name} on ${train.name}, ${formatDuration(seconds)} in total on ${results[0]?.backend ?? '?'}; each run directory is a checkpoint (model.safetensors + manifest.json) for basis eval, activations and symmetry.`;
  });
  if (ctl.signal.aborted) {
    ctx.info('training was interrupted; rerun the same command with --resume to continue');
    return 130;
  }
  return 0;
}

/** What `basis train` reports of one seed's run (from the pool, or from a queue worker's queue-result.json). */
type QueuedRunResult = Pick<TrainJobResult, 'stopped' | 'history' | 'steps' | 'final' | 'backend'> & { resumedFrom: string | null };

/**
 * `basis train --queue`: one `train-run` job per seed (its content key covers the graph, data,
 * recipe with the seed, run directory and versions), waits for every run directory's
 * queue-result.json, and returns what the workers recorded there. Interrupting stops the wait (the
 * jobs keep running on the workers): the result then says 'aborted'.
 */
async function trainOnQueue(
  ctx: CommandContext,
  flags: TrainFlags,
  o: { graph: ModelGraph; config: TrainConfig; dirs: string[]; out: string; meta: Record<string, unknown>; bars: ProgressBars; label: (seed: number | string | null) => string; stepsPerSeed: number; signal: AbortSignal },
): Promise<QueuedRunResult[]> {
  const { TRAIN_RUN_RESULT, contentHash, createQueueExecutor, openStore, packageVersions, parseStored, stringifyStored } = await import('@basis/experiments/node');
  const tty = (ctx.io.stderr as { isTTY?: boolean }).isTTY === true;
  const executor = await createQueueExecutor({
    ...(flags.queue === undefined || flags.queue === '' ? {} : { queue: flags.queue }),
    ...(flags.queueName === undefined ? {} : { name: flags.queueName }),
    onStatus: (kind, st) => {
      if (!tty && !ctx.options.quiet) o.bars.log(`queue ${kind}: ${st.done}/${st.total} done, ${st.active} running, ${st.waiting} waiting${st.failed > 0 ? `, ${st.failed} failed` : ''}`);
    },
  });
  ctx.info(`seeds ${o.config.seeds.join(', ')} go to the workers of ${executor.description}; run directories in ${o.out} (a folder every worker must see at the same path)`);
  try {
    const versions = await packageVersions();
    const eng = engineInfo() as unknown as Record<string, unknown>;
    const engine = { provider: eng['provider'], library: eng['library'], coreType: eng['coreType'], threads: eng['threads'], blas: process.env['BASIS_BLAS'] ?? null };
    const graph = stringifyStored(o.graph);
    const seedOf = new Map<string, number | string>();
    const jobs = o.config.seeds.map((seed, i) => {
      const recipe = withSeed(o.config.train, seed);
      const runDir = o.dirs[i] as string;
      const key = contentHash({ kind: 'basis.train-run', graph, data: o.config.data, recipe, runDir, meta: o.meta, versions, backend: ctx.options.backend });
      seedOf.set(key, seed);
      const payload = { v: 1 as const, key, label: `seed ${String(seed)}`, graph, data: o.config.data, recipe, runDir, meta: o.meta, versions, backend: ctx.options.backend, engine };
      return { kind: 'train-run' as const, key, label: payload.label, deps: [], artifact: `seed-${String(seed)}/${TRAIN_RUN_RESULT}`, payload };
    });
    try {
      await executor.runJobs(jobs, openStore({ kind: 'dir', root: o.out }), {
        signal: o.signal,
        onWait: (line) => o.bars.log(line),
        onProgress: (key, f) => {
          const seed = seedOf.get(key);
          if (seed !== undefined) o.bars.update(o.label(seed), { done: Math.round(f * o.stepsPerSeed), total: o.stepsPerSeed, detail: f >= 1 ? 'done (queue)' : 'on a queue worker' });
        },
      });
    } catch (e) {
      if (o.signal.aborted) return o.config.seeds.map(() => ({ stopped: 'aborted', history: [], steps: 0, final: { trainLoss: null, testAccuracy: null, testLoss: null }, backend: '?', resumedFrom: null }) as unknown as QueuedRunResult);
      throw e;
    }
    return Promise.all(
      o.dirs.map(async (d) => {
        const r = parseStored(await readFile(join(d, TRAIN_RUN_RESULT), 'utf8')) as QueuedRunResult;
        return { ...r, resumedFrom: r.resumedFrom ?? null };
      }),
    );
  } finally {
    await executor.close();
  }
}
