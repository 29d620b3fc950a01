import { readFile, readdir, rmdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { BasisError, engineInfo, isBasisError, threadBudget } from '@basis/tensor';
import { lockDir, pathExists, writeFileAtomic } from '@basis/tensor/node';
import {
  RECIPES,
  buildModel,
  checkDataSpec,
  checkModelSpec,
  resolveRecipe,
  DATASET_NAMES,
  type DataSpec,
  type ModelGraph,
  type ModelSpec,
  type TrainProgress,
  type TrainRecipe,
} from '@basis/zoo';
import { TrainPool, loadDataSpec, trainSeeds, type TrainJobResult } from '@basis/zoo/node';
import type { CommandContext } from '../context.js';
import { ProgressBars, formatDuration } from '../progress.js';
import { formatNumber, formatTable } from '../table.js';
import { choiceFlag, intFlag, numFlag, specFromFlags, type ModelFlags } from './model-args.js';

/** Flags of `basis train` (raw strings from the command line). */
export interface TrainFlags extends ModelFlags {
  config?: string;
  epochs?: string;
  batchSize?: string;
  lr?: string;
  optimizer?: string;
  weightDecay?: string;
  trainSize?: string;
  testSize?: string;
  seeds?: string;
  checkpoints?: string;
  workers?: string;
  data?: string;
  spawnSteps?: string;
  out: string;
  resume: boolean;
  /** `--queue`: train the seeds on `basis worker` processes through this Redis queue ('' = BASIS_QUEUE); OUT must be on a filesystem they share. */
  queue?: string;
  /** `--queue-name`: the BullMQ queue (default basis). */
  queueName?: string;
}

/** A training configuration file (and what `basis train` writes to OUT/train.json). */
export interface TrainConfig {
  model: ModelSpec;
  data: DataSpec;
  train: TrainRecipe;
  seeds: (number | string)[];
  /** Spawning: train a shared trunk (OUT/trunk) for this many steps, then fork it into the seeds. */
  spawnSteps?: number;
}

/** A resolved config and whether its recipe is a built-in default (not from a config file). */
type ResolvedTrainConfig = TrainConfig & { defaultRecipe: boolean };

const CONFIG_KEYS = ['model', 'data', 'train', 'seeds', 'spawnSteps', 'description', 'target'];

function invalid(field: string, message: string): never {
  throw new BasisError('CONFIG_INVALID', `${field} ${message}`, { details: { field } });
}

async function readConfig(path: string): Promise<Partial<TrainConfig>> {
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
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) invalid('config', 'must be a JSON object { model, data, train, seeds }');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!CONFIG_KEYS.includes(k)) invalid(`config.${k}`, `is not a known field; allowed: model, data, train, seeds, spawnSteps`);
  const out: Partial<TrainConfig> = {};
  if (o.model !== undefined) out.model = checkModelSpec(o.model, 'config.model');
  if (o.data !== undefined) out.data = checkDataSpec(o.data, 'config.data');
  if (o.train !== undefined) {
    resolveRecipe(o.train, 'config.train');
    out.train = o.train as TrainRecipe;
  }
  if (o.seeds !== undefined) out.seeds = checkSeeds(o.seeds, 'config.seeds');
  if (o.spawnSteps !== undefined) {
    if (typeof o.spawnSteps !== 'number' || !Number.isSafeInteger(o.spawnSteps) || o.spawnSteps < 1) invalid('config.spawnSteps', `must be a positive integer, got ${JSON.stringify(o.spawnSteps)}`);
    out.spawnSteps = o.spawnSteps;
  }
  return out;
}

function checkSeeds(v: unknown, field: string): (number | string)[] {
  if (!Array.isArray(v) || v.length === 0) invalid(field, 'must be a non-empty list of seeds');
  const seeds = v.map((s, i) => {
    if (!(typeof s === 'string' ? /^[A-Za-z0-9_.-]+$/.test(s) : Number.isSafeInteger(s) && (s as number) >= 0)) invalid(`${field}[${i}]`, `must be a non-negative integer or a name, got ${JSON.stringify(s)}`);
    return s as number | string;
  });
  if (new Set(seeds.map(String)).size !== seeds.length) invalid(field, 'lists a seed twice');
  return seeds;
}

/** The default recipe for a model and dataset: the matching default recipe, else a generic SGD one (AdamW for the transformer). */
function defaultRecipe(model: ModelSpec, data: DataSpec): TrainRecipe {
  if (model.arch === 'mlp' && data.dataset === 'mnist') return RECIPES.mlpMnist.train;
  if (model.arch === 'minimyrtle' && data.dataset === 'fashion') return RECIPES.miniMyrtleFashion.train;
  if (model.arch === 'transformer') return { epochs: 10, batchSize: 128, optimizer: { kind: 'adamw', lr: 1e-3, weightDecay: 0.1 }, schedule: { kind: 'cosine' } };
  return { epochs: 5, batchSize: 128, optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true }, schedule: { kind: 'cosine' }, weightDecay: 5e-4 };
}

const NUMERIC_DATA_KEYS = new Set(['p', 'trainFraction', 'testFraction', 'n', 'classes', 'dim', 'separation', 'std', 'trainSize', 'testSize']);

/**
 * Parses `--data`: `mnist`, `fashion`, `idx:DIR`, `idx:TRAIN_IMAGES,TRAIN_LABELS[,TEST_IMAGES,TEST_LABELS]`,
 * `modadd[:p=97,trainFraction=0.3,encoding=tokens]`, `gaussian[:n=2000,classes=3,dim=10,separation=3,std=1]`
 * (options are DataSpec fields; also `seed=`, `testFraction=`, `source=` for idx).
 */
export function parseDataFlag(v: string): DataSpec {
  const usage = (why: string): never => {
    throw new BasisError('USAGE', `--data ${why} (e.g. --data idx:train-images.gz,train-labels.gz or --data modadd:p=97)`);
  };
  const colon = v.indexOf(':');
  const name = colon < 0 ? v : v.slice(0, colon);
  const rest = colon < 0 ? '' : v.slice(colon + 1);
  if (!(DATASET_NAMES as readonly string[]).includes(name)) usage(`must start with one of ${DATASET_NAMES.join(', ')}, got '${name}'`);
  const spec: Record<string, unknown> = { dataset: name };
  const parts = rest === '' ? [] : rest.split(',').map((x) => x.trim());
  if (name === 'idx') {
    const files = parts.filter((x) => !x.includes('='));
    for (const kv of parts.filter((x) => x.includes('='))) {
      const [k, val] = kv.split('=') as [string, string];
      spec[k] = NUMERIC_DATA_KEYS.has(k) ? Number(val) : val;
    }
    if (files.length === 1) spec.dir = files[0];
    else if (files.length === 2 || files.length === 4) {
      spec.train = { images: files[0], labels: files[1] };
      if (files.length === 4) spec.test = { images: files[2], labels: files[3] };
    } else usage(`idx: needs a folder, or 2 files (train images, labels) or 4 (then test images, labels); got ${files.length}`);
  } else {
    for (const kv of parts) {
      const eq = kv.indexOf('=');
      if (eq <= 0) usage(`${name}: options are key=value pairs, got '${kv}'`);
      const k = kv.slice(0, eq);
      const val = kv.slice(eq + 1);
      spec[k] = NUMERIC_DATA_KEYS.has(k) ? Number(val) : k === 'seed' && /^\d+$/.test(val) ? Number(val) : val;
    }
  }
  try {
    return checkDataSpec(spec, '--data');
  } catch (e) {
    if (isBasisError(e)) throw new BasisError('USAGE', e.message);
    throw e;
  }
}

/** Merges the config file (if any) with the flags (flags win) and validates the result. */
export async function resolveTrainConfig(flags: TrainFlags, globalSeed: number): Promise<ResolvedTrainConfig> {
  const file = flags.config === undefined ? {} : await readConfig(flags.config);
  let model: ModelSpec = file.model ?? { arch: 'mlp' };
  // --width/--depth/--activation apply to --arch, else to the config's (or the default) architecture
  const fromFlags = specFromFlags({ ...flags, arch: flags.arch ?? model.arch }) as ModelSpec;
  model = fromFlags.arch === model.arch ? { ...model, ...fromFlags } : fromFlags;
  model = checkModelSpec(model, flags.config === undefined ? 'model' : 'config.model');
  let data: DataSpec = file.data ?? { dataset: 'mnist' };
  if (flags.data !== undefined && flags.dataset !== undefined) throw new BasisError('USAGE', 'give --data or --dataset, not both');
  if (flags.data !== undefined) data = parseDataFlag(flags.data);
  if (flags.dataset !== undefined) {
    const d = choiceFlag(flags.dataset, '--dataset', DATASET_NAMES);
    data = d === data.dataset ? data : { dataset: d };
  }
  if (flags.trainSize !== undefined) data = { ...data, trainSize: intFlag(flags.trainSize, '--train-size', 10) };
  if (flags.testSize !== undefined) data = { ...data, testSize: intFlag(flags.testSize, '--test-size', 10) };
  // modular addition: tokens for the transformer, one-hot vectors for the other architectures
  if (data.dataset === 'modadd' && data.encoding === undefined) data = { ...data, encoding: model.arch === 'transformer' ? 'tokens' : 'onehot' };
  data = checkDataSpec(data, 'data');
  if (model.arch === 'transformer' && !(data.dataset === 'modadd' && data.encoding === 'tokens')) {
    throw new BasisError('USAGE', `the transformer trains on token data: use --data modadd (with encoding=tokens), not ${data.dataset}${data.encoding === undefined ? '' : ` with encoding=${data.encoding}`}`);
  }
  const train: Record<string, unknown> = { ...(file.train ?? defaultRecipe(model, data)) };
  if (flags.epochs !== undefined) train.epochs = intFlag(flags.epochs, '--epochs', 1);
  if (flags.batchSize !== undefined) train.batchSize = intFlag(flags.batchSize, '--batch-size', 1);
  if (flags.optimizer !== undefined) {
    const kind = choiceFlag(flags.optimizer, '--optimizer', ['sgd', 'adam', 'adamw'] as const);
    const lr = flags.lr === undefined ? (kind === 'sgd' ? 0.05 : 1e-3) : numFlag(flags.lr, '--lr', { gt: 0 });
    train.optimizer = kind === 'sgd' ? { kind, lr, momentum: 0.9, nesterov: true } : { kind, lr };
  } else if (flags.lr !== undefined) train.optimizer = { ...(train.optimizer as object), lr: numFlag(flags.lr, '--lr', { gt: 0 }) };
  if (flags.weightDecay !== undefined) train.weightDecay = numFlag(flags.weightDecay, '--weight-decay', { ge: 0 });
  if (flags.checkpoints !== undefined) train.checkpoints = flags.checkpoints.split(',').map((s) => numFlag(s.trim(), '--checkpoints', { ge: 0 }));
  resolveRecipe(train, 'train');
  let seeds: (number | string)[] = file.seeds ?? [globalSeed];
  if (flags.seeds !== undefined) {
    seeds = flags.seeds.split(',').map((s) => s.trim());
    try {
      seeds = checkSeeds(
        seeds.map((s) => (/^\d+$/.test(String(s)) ? Number(s) : s)),
        '--seeds',
      );
    } catch (e) {
      if (isBasisError(e)) throw new BasisError('USAGE', `${e.message} (e.g. --seeds 0,1,2)`);
      throw e;
    }
  }
  const spawnSteps = flags.spawnSteps !== undefined ? intFlag(flags.spawnSteps, '--spawn-steps', 1) : file.spawnSteps;
  return { model, data, train: train as unknown as TrainRecipe, seeds, ...(spawnSteps === undefined ? {} : { spawnSteps }), defaultRecipe: file.train === undefined };
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
  const recipe = (t: TrainRecipe): unknown => {
    if (!resume) return plain(t);
    const { epochs: _e, checkpoints: _c, ...rest } = t as TrainRecipe & { checkpoints?: unknown };
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
  const { defaultRecipe: isDefault, ...config } = resolved;
  const dirs = config.seeds.map((s) => join(out, `seed-${String(s)}`));
  const trunkDir = join(out, 'trunk');
  for (const d of config.spawnSteps === undefined ? dirs : [...dirs, trunkDir]) {
    const names = (await pathExists(d)) ? await readdir(d) : [];
    if (names.length > 0 && !flags.resume) {
      throw new BasisError('USAGE', `'${d}' already holds a run; pass --resume to continue it, or choose another --out`);
    }
  }
  const workers = Math.min(config.seeds.length, flags.workers === undefined ? threadBudget() : intFlag(flags.workers, '--workers', 1));
  if (flags.queue !== undefined && config.spawnSteps !== undefined) throw new BasisError('USAGE', '--spawn-steps cannot be combined with --queue (the trunk and its children train locally); leave out one of them');
  const { train, test } = await loadDataSpec(config.data);
  if (config.model.arch === 'transformer' && config.model.vocab === undefined) {
    // the token vocabulary of the data (modular addition: p + 1 with the '=' token)
    config.model = { ...config.model, vocab: train.meta?.['vocabSize'] as number };
  }
  const graph = buildModel(config.model, { input: train.shape, classes: train.numClasses });
  let recipe = resolveRecipe(config.train, 'train');
  const stepsPerEpoch = recipe.dropLast ? Math.floor(train.n / recipe.batchSize) : Math.ceil(train.n / recipe.batchSize);
  const warmup = recipe.schedule !== null && 'warmup' in recipe.schedule ? recipe.schedule.warmup : undefined;
  if (isDefault && warmup !== undefined && warmup.steps >= recipe.epochs * stepsPerEpoch) {
    // the built-in recipe's warm-up is longer than this (shortened) run: leave it out
    const { warmup: _w, ...schedule } = recipe.schedule as Exclude<typeof recipe.schedule, null>;
    config.train = { ...config.train, schedule: schedule as TrainRecipe['schedule'] };
    recipe = resolveRecipe(config.train, 'train');
    ctx.info(`(the default recipe's ${warmup.steps}-step warm-up is longer than this run of ${recipe.epochs * stepsPerEpoch} steps: training without warm-up)`);
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
  const record = (train: TrainRecipe): string => JSON.stringify({ ...config, train, seeds: allSeeds }, null, 2) + '\n';
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
        recipe: { ...config.train, seed: trunkSeed },
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
      const recipe = { ...o.config.train, seed } as TrainRecipe;
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
