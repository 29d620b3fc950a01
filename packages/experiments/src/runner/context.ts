// The run context of the experiment runner (Node only): a run directory that caches trained
// models and JSON results by content hash, a training pool that trains several models at once,
// progress and interruption. A second run reuses everything; an interrupted run resumes from the
// last checkpoint of each unfinished model and keeps every finished one.
import { setMaxListeners } from 'node:events';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BasisError, createRng, isBasisError, threadBudget, type Matrix } from '@basis/tensor';
import { cleanTempFiles, lockDir, pathExists, writeFileAtomic, type DirLock, type DirLockOwner } from '@basis/tensor/node';
import type { BackendPreference } from '@basis/tensor/backend';
import {
  buildModel,
  parseDataSpec,
  parseModelSpec,
  describeGraph,
  initParams,
  parseTrainSettings,
  resolveTrainSettings,
  withSeed,
  toFloat64,
  type ModelGraph,
  type ParamDict,
  type TrainModelResult,
  type TrainSettings,
} from '@basis/zoo';
import { TrainPool, listCheckpoints, loadCheckpoint, loadModel, type TrainJobResult } from '@basis/zoo/node';
import type { CachedModel, Profile, RunContext } from '../recipes/types.js';
import { checkKeys, checkList, checkObject, invalid, show } from './check.js';
import { loadData } from './data.js';
import type { EvalJobTask, EvalTask, TaskModel } from './eval-task.js';
import type { CaptureTask, CompareTask, Executor, TrainTask } from './executor.js';
import type { ModelJob } from './model-job.js';
import { contentHash, parseStored, stringifyStored } from './json.js';
import {
  activeTfBackend,
  captureActivationsOf,
  captureKey,
  captureOf,
  checkCompareSpec,
  compareCaptured,
  compareMemoKey,
  memoHash,
  untrainedParams,
  type CaptureSpec,
  type CompareSpec,
  type CompareValues,
  type ModelRef,
} from './stages.js';

export type { ModelJob } from './model-job.js';

/**
 * Validates a {@link ModelJob} (CONFIG_INVALID naming the field, e.g. `jobs[1].recipe.optimizer.lr`).
 *
 * @example
 * ```ts
 * checkModelJob({ data: { dataset: 'mnist' }, model: { arch: 'mlp', width: 16 }, recipe: { epochs: 1, batchSize: 32, optimizer: { kind: 'sgd', lr: 0.1 } } }, 'job');
 * ```
 */
export function checkModelJob(v: unknown, field = 'job'): ModelJob {
  const o = checkObject(v, field);
  checkKeys(o, ['data', 'model', 'recipe', 'seed', 'init', 'label'], field);
  const data = parseDataSpec(o.data, `${field}.data`);
  const model = parseModelSpec(o.model, `${field}.model`);
  const recipe = parseTrainSettings(o.recipe, `${field}.recipe`);
  const out: ModelJob = { data, model, recipe };
  if (o.seed !== undefined) {
    if (!(typeof o.seed === 'string' || (typeof o.seed === 'number' && Number.isSafeInteger(o.seed) && o.seed >= 0))) invalid(`${field}.seed`, `must be a non-negative integer or a string, got ${show(o.seed)}`);
    out.seed = o.seed;
  }
  if (o.init !== undefined) {
    const i = checkObject(o.init, `${field}.init`);
    if ('from' in i) {
      checkKeys(i, ['from', 'layers'], `${field}.init`);
      if (typeof i.from !== 'string' || !/^[0-9a-f]{64}$/.test(i.from)) invalid(`${field}.init.from`, `must be the key of a cached model (64 hex digits), got ${show(i.from)}`);
      const layers = i.layers === undefined ? undefined : checkList(i.layers, `${field}.init.layers`, (x, f) => (typeof x === 'string' && x !== '' ? x : invalid(f, `must be a parameter or node name, got ${show(x)}`)));
      out.init = { from: i.from, ...(layers === undefined ? {} : { layers }) };
    } else if ('params' in i) {
      checkKeys(i, ['params'], `${field}.init`);
      const p = checkObject(i.params, `${field}.init.params`);
      for (const [k, a] of Object.entries(p)) {
        const e = checkObject(a, `${field}.init.params.${k}`);
        if (!Array.isArray(e.shape) || !(Array.isArray(e.data) || ArrayBuffer.isView(e.data))) invalid(`${field}.init.params.${k}`, 'must be { shape, data }');
        for (const x of Array.from(e.data as ArrayLike<number>)) if (!Number.isFinite(x)) invalid(`${field}.init.params.${k}.data`, 'holds a non-finite value');
      }
      out.init = { params: p as Record<string, { shape: number[]; data: ArrayLike<number> }> };
    } else invalid(`${field}.init`, 'must be { from: key, layers? } or { params }');
  }
  if (o.label !== undefined) {
    if (typeof o.label !== 'string') invalid(`${field}.label`, `must be a string, got ${show(o.label)}`);
    out.label = o.label;
  }
  return out;
}

/**
 * Options of {@link createRunContext}.
 *
 * @example
 * ```ts
 * const opts: RunContextOptions = { dir: 'runs/E000-1', recipeId: 'E000-1', profile: 'quick', seed: 0 };
 * ```
 */
export interface RunContextOptions {
  /** Run directory (created); the cache lives in `dir/models` and `dir/cache`. */
  dir: string;
  /** Recipe id: `cached()` keys are hashed together with it. */
  recipeId: string;
  profile: Profile;
  /** Base seed of the run (default 0). */
  seed?: number;
  /** Progress callback: stage, done, total. */
  onProgress?: (stage: string, done: number, total: number) => void;
  /** Interrupts training after the current step (finished models and memoised values stay on disk). */
  signal?: AbortSignal;
  /** Training worker threads (default: the engine's thread budget, `threadBudget()`: BASIS_THREADS or every core; at most the models waiting to train). */
  workers?: number;
  /** Backend of the training workers (default 'auto'). */
  backend?: BackendPreference;
  /** Extra values hashed into every model key (default: the versions of @basis/zoo, @basis/experiments and tfjs-core). */
  versions?: Record<string, string>;
  /**
   * Called once when a model this run needs is being trained by another process sharing the cache
   * (this run then waits for it and uses its result); default: one line on stderr.
   */
  onWait?: (line: string) => void;
  /**
   * Who trains the missing models (default: the local worker-thread pool). A queue executor
   * (`createQueueExecutor`) sends them to `basis worker` processes; `dir` must then be a folder
   * every worker reaches at the same absolute path (the shared artifact store).
   */
  executor?: Executor;
}

/**
 * Counters of a run context (what was trained, loaded, computed, reused).
 *
 * @example
 * ```ts
 * const { trained, reused } = ctx.stats; // 0 and 12 on a second run
 * ```
 */
export interface RunStats {
  /** Models trained (to completion) in this run (by this process or, with a queue executor, by workers). */
  trained: number;
  /** Of `trained`, the models that queue workers trained (0 with the local pool). */
  remote: number;
  /** Models served from the cache. */
  reused: number;
  /** Models whose training resumed from a checkpoint of an interrupted run. */
  resumed: number;
  /** `cached()` values computed / read back. */
  computed: number;
  memoHits: number;
}

/**
 * A {@link RunContext} with its counters and `close()` (stops the training workers).
 *
 * @example
 * ```ts
 * const ctx: NodeRunContext = await createRunContext({ dir: 'runs/x', recipeId: 'X', profile: 'quick' });
 * ctx.modelKey(job); // the 64-hex cache key of a job
 * await ctx.close();
 * ```
 */
export interface NodeRunContext extends RunContext {
  readonly stats: RunStats;
  /** The versions hashed into model keys. */
  readonly versions: Record<string, string>;
  /** The key a job would be cached under (validated first). */
  modelKey(job: Record<string, unknown>): string;
  close(): Promise<void>;
}

let versionsPromise: Promise<Record<string, string>> | undefined;

/**
 * Versions of the packages whose code produces a model or a result: @basis/experiments, @basis/zoo
 * and @tensorflow/tfjs-core (read from their package.json files once per process).
 *
 * @example
 * ```ts
 * (await packageVersions())['@basis/zoo']; // '0.0.0'
 * ```
 */
export function packageVersions(): Promise<Record<string, string>> {
  versionsPromise ??= (async () => {
    const out: Record<string, string> = {};
    const own = new URL('../../package.json', import.meta.url);
    const read = async (path: string | URL): Promise<{ name?: string; version?: string } | null> => {
      try {
        return JSON.parse(await readFile(path, 'utf8')) as { name?: string; version?: string };
      } catch {
        return null;
      }
    };
    const me = await read(own);
    if (me?.name === '@basis/experiments' && typeof me.version === 'string') out[me.name] = me.version;
    for (const name of ['@basis/zoo', '@tensorflow/tfjs-core']) {
      let dir = dirname(fileURLToPath(import.meta.url));
      for (;;) {
        const pkg = await read(join(dir, 'node_modules', ...name.split('/'), 'package.json'));
        if (pkg?.name === name && typeof pkg.version === 'string') {
          out[name] = pkg.version;
          break;
        }
        const up = dirname(dir);
        if (up === dir) break;
        dir = up;
      }
    }
    return out;
  })();
  return versionsPromise;
}


/** What the cache stores beside a trained model: the training summary without parameters and optimizer state. */
interface StoredSummary {
  key: string;
  job: ModelJob;
  versions: Record<string, string>;
  result: Omit<TrainModelResult, 'params' | 'graph' | 'result'> & { result: Omit<TrainModelResult['result'], 'optimizer'> };
  checkpoints: Array<{ step: number; epoch: number; path: string }>;
}

const SUMMARY = 'summary.json';

/**
 * Creates the {@link RunContext} of one recipe run in `opts.dir`:
 * - `models(jobs)`: each job (a {@link ModelJob}) is keyed by the sha256 of its canonical JSON and the
 *   package versions; a finished model lives in `dir/models/<key>/` (a zoo run directory with its
 *   step checkpoints, `model.safetensors`, `manifest.json` and `summary.json`, the last written
 *   atomically once the model is complete). Missing models train at once on a zoo `TrainPool`
 *   (one worker per core); an interrupted model resumes from its latest checkpoint. A model's folder
 *   is locked while it trains (`lockDir`): runs in several processes may share one cache, and a run
 *   that needs a model another process is training waits for it and loads it.
 * - Temporary files of killed writers are removed when the context is created.
 * - `cached(key, compute)`: JSON memo in `dir/cache/<hash>.json` (atomic writes; typed arrays and
 *   NaN survive the round trip).
 * - `progress`, `signal`: passed through; training stops after the current step on abort.
 * Call `close()` when done (stops the workers).
 *
 * @example
 * ```ts
 * import { createRunContext } from '@basis/experiments/node';
 * const ctx = await createRunContext({ dir: 'runs/E000-1', recipeId: 'E000-1', profile: 'quick' });
 * try {
 *   const [a, b] = await ctx.models([job0, job1]);
 *   const score = await ctx.cached({ what: 'permcorr', a: a.key, b: b.key }, () => compute(a, b));
 * } finally {
 *   await ctx.close();
 * }
 * ```
 */
export async function createRunContext(opts: RunContextOptions): Promise<NodeRunContext> {
  if (typeof opts.dir !== 'string' || opts.dir === '') throw new BasisError('CONFIG_INVALID', 'run context: dir must be a folder path', { details: { field: 'dir' } });
  if (typeof opts.recipeId !== 'string' || opts.recipeId === '') throw new BasisError('CONFIG_INVALID', 'run context: recipeId must be a non-empty string', { details: { field: 'recipeId' } });
  if (opts.profile !== 'quick' && opts.profile !== 'standard' && opts.profile !== 'full') throw new BasisError('CONFIG_INVALID', `run context: profile must be 'quick', 'standard' or 'full', got ${show(opts.profile)}`, { details: { field: 'profile' } });
  const seed = opts.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new BasisError('CONFIG_INVALID', `run context: seed must be a non-negative integer, got ${show(opts.seed)}`, { details: { field: 'seed' } });
  if (opts.workers !== undefined && (!Number.isInteger(opts.workers) || opts.workers < 1)) throw new BasisError('CONFIG_INVALID', `run context: workers must be a positive integer, got ${show(opts.workers)}`, { details: { field: 'workers' } });
  const dir = opts.dir;
  const modelsDir = join(dir, 'models');
  const memoDir = join(dir, 'cache');
  await mkdir(modelsDir, { recursive: true });
  await mkdir(memoDir, { recursive: true });
  // leftovers of writers that were killed (temp files tagged with a PID no longer running); the
  // cache may be shared by several runs, so files of live writers stay
  await cleanTempFiles(dir, 3);
  const onWait = opts.onWait ?? ((line: string) => void process.stderr.write(`basis: ${line}\n`));
  const versions = opts.versions ?? (await packageVersions());
  // one internal signal linked to the caller's: every queued training job listens to it
  const ctl = new AbortController();
  setMaxListeners(0, ctl.signal);
  const forward = (): void => ctl.abort();
  if (opts.signal?.aborted === true) ctl.abort();
  else opts.signal?.addEventListener('abort', forward, { once: true });
  const signal = ctl.signal;
  const onProgress = opts.onProgress ?? (() => undefined);
  const stats: RunStats = { trained: 0, remote: 0, reused: 0, resumed: 0, computed: 0, memoHits: 0 };
  let pool: TrainPool | null = null;
  let poolSize = 0;
  let closed = false;

  const keyOf = (job: ModelJob): string => {
    const { label: _label, ...rest } = job;
    void _label;
    return contentHash({ kind: 'basis.experiments.model', job: rest, versions });
  };

  let active = 0;
  const maxWorkers = opts.workers ?? threadBudget();

  /** The training pool, sized for `want` models at once (recreated larger when idle and too small). */
  async function getPool(want: number): Promise<TrainPool> {
    const size = Math.max(1, Math.min(maxWorkers, want));
    if (pool !== null && (size <= poolSize || active > 0)) return pool;
    if (pool !== null) await pool.close();
    poolSize = size;
    pool = await TrainPool.create({ workers: size, ...(opts.backend === undefined ? {} : { backend: opts.backend }) });
    return pool;
  }

  async function load(key: string): Promise<CachedModel | null> {
    const mdir = join(modelsDir, key);
    let summary: StoredSummary;
    try {
      summary = parseStored(await readFile(join(mdir, SUMMARY), 'utf8')) as StoredSummary;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      // a damaged summary: retrain (the checkpoints let training resume)
      await rm(join(mdir, SUMMARY), { force: true });
      return null;
    }
    if (summary.key !== key) return null;
    let m: Awaited<ReturnType<typeof loadModel>>;
    let optimizer: TrainModelResult['result']['optimizer'] | null;
    try {
      m = await loadModel(mdir);
      const last = summary.checkpoints.at(-1);
      optimizer = last === undefined ? null : (await loadCheckpoint(join(mdir, last.path))).optimizer;
    } catch (e) {
      // damaged model files: forget the summary so the model is trained again (from its checkpoints when they are intact)
      if (isBasisError(e) && (e.code === 'BAD_FILE' || e.code === 'IO')) {
        await rm(join(mdir, SUMMARY), { force: true });
        return null;
      }
      throw e;
    }
    const result = {
      ...summary.result,
      graph: m.graph,
      params: m.params,
      result: { ...summary.result.result, optimizer },
    } as TrainModelResult;
    return {
      key,
      graph: m.graph,
      params: toFloat64(m.params),
      result,
      dir: mdir,
      cached: true,
      checkpoints: summary.checkpoints.map((c) => ({ ...c, path: join(mdir, c.path) })),
    };
  }

  async function initialFor(job: ModelJob, graph: ModelGraph, field: string): Promise<ParamDict | undefined> {
    if (job.init === undefined) return undefined;
    if ('params' in job.init) {
      const out: ParamDict = {};
      for (const [k, v] of Object.entries(job.init.params)) out[k] = { shape: [...v.shape], data: Float32Array.from(v.data) };
      return out;
    }
    const srcDir = join(modelsDir, job.init.from);
    if (!(await pathExists(join(srcDir, SUMMARY)))) {
      throw new BasisError('CONFIG_INVALID', `${field}.init.from: no finished model with key ${job.init.from} in ${modelsDir}; train it first (ctx.models) and pass its key`, { details: { field: `${field}.init.from` } });
    }
    const src = await loadModel(srcDir);
    if (job.init.layers === undefined) return src.params;
    const recipe = resolveTrainSettings(job.seed === undefined ? job.recipe : withSeed(job.recipe, job.seed, `${field}.seed`), `${field}.recipe`);
    const fresh = initParams(graph, createRng(recipe.seed).fork('init'), { scheme: recipe.init });
    const names = describeGraph(graph).params.map((p) => p.name);
    for (const l of job.init.layers) {
      const hit = names.filter((n) => n === l || n.startsWith(`${l}.`));
      if (hit.length === 0) invalid(`${field}.init.layers`, `names '${l}', which is neither a parameter nor a node of ${graph.name}; parameters: ${names.join(', ')}`);
      for (const n of hit) {
        const p = src.params[n];
        if (p === undefined) throw new BasisError('SHAPE_MISMATCH', `${field}.init.from: the source model has no parameter '${n}'`);
        fresh[n] = { shape: [...p.shape], data: Float32Array.from(p.data) };
      }
    }
    return fresh;
  }

  /**
   * The write lock of a model's folder. The cache may be shared by runs in several processes: when
   * another process on this host trains the same model, wait for it (its result is then loaded).
   */
  async function lockModel(key: string, mdir: string, label: string): Promise<DirLock> {
    let said = false;
    for (;;) {
      try {
        return await lockDir(mdir, { cleanDepth: 1 });
      } catch (e) {
        const holder = isBasisError(e) ? (e.details?.['holder'] as DirLockOwner | undefined) : undefined;
        if (holder === undefined || holder.host !== hostname()) throw e;
        if (signal.aborted) throw new BasisError('INVALID_ARGUMENT', `the run was interrupted while waiting for model ${label}`, { details: { aborted: true } });
        if (!said) {
          onWait(`model ${label} (${key.slice(0, 12)}) is being trained by another process sharing the cache (PID ${holder.pid}: ${holder.command}); waiting for it`);
          said = true;
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  async function train(key: string, job: ModelJob, field: string, progress: (f: number) => void): Promise<CachedModel> {
    const mdir = join(modelsDir, key);
    const lock = await lockModel(key, mdir, job.label ?? key.slice(0, 12));
    try {
      // another process may have finished it while this one waited
      const done = await load(key);
      if (done !== null) {
        stats.reused++;
        return done;
      }
      return await trainLocked(key, mdir, job, field, progress);
    } finally {
      await lock.release();
    }
  }

  async function trainLocked(key: string, mdir: string, job: ModelJob, field: string, progress: (f: number) => void): Promise<CachedModel> {
    const { train: trainSet, test } = await loadData(job.data, `${field}.data`);
    const graph = buildModel(job.model, { input: trainSet.shape, classes: trainSet.numClasses }, `${field}.model`);
    const recipe: TrainSettings = job.seed === undefined ? job.recipe : withSeed(job.recipe, job.seed, `${field}.seed`);
    const epochs = recipe.epochs;
    const initial = await initialFor(job, graph, field);
    const resumed = (await listCheckpoints(mdir)).length > 0;
    await mkdir(mdir, { recursive: true });
    await writeFileAtomic(join(mdir, 'job.json'), stringifyStored({ key, job, versions }, 2));
    const p = pool ?? (await getPool(1));
    const r: TrainJobResult = await p.run(
      { graph, train: trainSet, test, recipe, ...(initial === undefined ? {} : { initial }), runDir: mdir, meta: { cacheKey: key, job } },
      {
        signal,
        onProgress: (e) => {
          if (e.kind === 'step') progress(Math.min(1, e.step / e.totalSteps));
          else if (e.kind === 'epoch') progress(Math.min(1, e.record.epoch / epochs));
        },
      },
    );
    if (r.stopped !== 'completed') {
      throw new BasisError('INVALID_ARGUMENT', `training of ${job.label ?? key.slice(0, 12)} was interrupted (${r.stopped}); run again to resume from its last checkpoint`, { details: { aborted: true } });
    }
    if (resumed) stats.resumed++;
    const checkpoints: StoredSummary['checkpoints'] = [];
    for (const c of await listCheckpoints(mdir)) {
      const ck = await loadCheckpoint(c.path);
      checkpoints.push({ step: c.step, epoch: ck.manifest.epoch, path: c.path.slice(mdir.length + 1) });
    }
    const { params, graph: _g, result: raw, ...rest } = r;
    void _g;
    const { optimizer: _o, ...rawRest } = raw;
    void _o;
    const summary: StoredSummary = { key, job, versions, result: { ...rest, result: rawRest }, checkpoints };
    await writeFileAtomic(join(mdir, SUMMARY), stringifyStored(summary));
    stats.trained++;
    return {
      key,
      graph,
      params: toFloat64(params),
      result: r,
      dir: mdir,
      cached: false,
      checkpoints: checkpoints.map((c) => ({ ...c, path: join(mdir, c.path) })),
    };
  }

  // The local executor: the worker-thread pool of this process. Its models are handed back to
  // `models()` through `localResults` (no reload from disk).
  const localResults = new Map<string, CachedModel>();
  const fieldOf = new Map<string, string>();
  // the models models() returned, by key (the local comparisons capture them without reloading)
  const known = new Map<string, CachedModel>();

  /** A model of a comparison: one this context served, or one of the run cache (CONFIG_INVALID when absent). */
  async function modelOf(key: string, field: string): Promise<CachedModel> {
    const m = known.get(key) ?? (await load(key));
    if (m === null) throw new BasisError('CONFIG_INVALID', `${field}: no finished model with key ${key} in ${modelsDir}; train it first (ctx.models) and pass its key`, { details: { field } });
    known.set(key, m);
    return m;
  }

  /** The activations of one capture, computed in this process. */
  async function captureLocal(c: CaptureSpec, field: string): Promise<Record<string, Matrix>> {
    const ref: ModelRef = c.model;
    if ('key' in ref) {
      const m = await modelOf(ref.key, `${field}.key`);
      return captureActivationsOf(m.graph, m.params, c);
    }
    const like = await modelOf(ref.untrained.like, `${field}.untrained.like`);
    return captureActivationsOf(like.graph, untrainedParams(like.graph, ref.untrained.seed), c);
  }
  /** A memoised value (`cache/<hash>.json`), or undefined when absent or damaged (computed again). */
  async function readMemo<V>(h: string): Promise<{ v: V } | undefined> {
    try {
      return { v: (parseStored(await readFile(join(memoDir, `${h}.json`), 'utf8')) as { value: V }).value };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && !(e instanceof SyntaxError)) throw e;
      return undefined;
    }
  }

  /**
   * The memo of each distinct hash of `hashes`, read once: `results[i]` for those found (a memo
   * hit each), `missing` the first index of each absent one, `firstOf` the first index of each hash.
   */
  async function lookUpMemos<V>(hashes: readonly string[]): Promise<{ results: Array<{ v: V } | undefined>; missing: number[]; firstOf: Map<string, number> }> {
    const results: Array<{ v: V } | undefined> = hashes.map(() => undefined);
    const missing: number[] = [];
    const firstOf = new Map<string, number>();
    for (let i = 0; i < hashes.length; i++) {
      const h = hashes[i]!;
      if (firstOf.has(h)) continue;
      firstOf.set(h, i);
      const v = await readMemo<V>(h);
      if (v === undefined) missing.push(i);
      else {
        results[i] = v;
        stats.memoHits++;
      }
    }
    return { results, missing, firstOf };
  }

  /** An executor's `onProgress` that counts each job once, when it finishes, after `done` earlier steps of `stage`. */
  function finishedOnce(stage: string, done: number, total: number): (key: string, fraction: number) => void {
    const finished = new Set<string>();
    return (k, f) => {
      if (f >= 1 && !finished.has(k)) {
        finished.add(k);
        onProgress(stage, done + finished.size, total);
      }
    };
  }

  /** Reads back the memos of the jobs an executor reported done (its workers wrote them); IO when one is absent. */
  async function readBackMemos<V>(results: Array<{ v: V } | undefined>, missing: readonly number[], hashes: readonly string[], what: (i: number) => string): Promise<void> {
    for (const i of missing) {
      const path = join(memoDir, `${hashes[i]!}.json`);
      const v = await readMemo<V>(hashes[i]!);
      if (v === undefined) throw new BasisError('IO', `${executor.description} reported ${what(i)} as done, but ${path} does not exist`, { details: { path } });
      results[i] = v;
      stats.computed++;
    }
  }

  const localExecutor: Executor = {
    kind: 'local',
    description: `local pool (up to ${maxWorkers} worker thread${maxWorkers === 1 ? '' : 's'})`,
    async train(tasks, _env, hooks) {
      await getPool(tasks.length);
      active++;
      let settled: Array<PromiseSettledResult<void>>;
      try {
        settled = await Promise.allSettled(
          tasks.map((t) =>
            train(t.key, t.job, fieldOf.get(t.key) ?? 'job', (f) => hooks.onProgress(t.key, f)).then((m) => {
              localResults.set(m.key, m);
              hooks.onProgress(t.key, 1);
            }),
          ),
        );
      } finally {
        active--;
      }
      const failed = settled.find((s) => s.status === 'rejected');
      if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    },
    async close() {
      // the pool belongs to the run context (closed by ctx.close())
    },
  };
  const executor = opts.executor ?? localExecutor;

  const ctx: NodeRunContext = {
    profile: opts.profile,
    seed,
    dir,
    signal,
    stats,
    versions,
    modelKey(job) {
      return keyOf(checkModelJob(job));
    },
    progress(stage, done, total) {
      onProgress(stage, done, total);
    },
    async models(jobs) {
      if (closed) throw new BasisError('INVALID_ARGUMENT', 'the run context is closed');
      if (!Array.isArray(jobs) || jobs.length === 0) throw new BasisError('CONFIG_INVALID', 'models: jobs must list at least one model', { details: { field: 'jobs' } });
      const checked = jobs.map((j, i) => checkModelJob(j, `jobs[${i}]`));
      const keys = checked.map(keyOf);
      // Each distinct job once: load what the cache has, train the rest on the pool.
      const first = new Map<string, number>();
      keys.forEach((k, i) => {
        if (!first.has(k)) first.set(k, i);
      });
      const models = new Map<string, CachedModel>();
      const missing: string[] = [];
      for (const k of first.keys()) {
        const m = await load(k);
        if (m === null) missing.push(k);
        else models.set(k, m);
      }
      stats.reused += models.size;
      const reused = models.size;
      const total = first.size;
      if (missing.length > 0) {
        if (signal.aborted) throw new BasisError('INVALID_ARGUMENT', 'the run was interrupted before training started', { details: { aborted: true } });
        const frac = new Map<string, number>(missing.map((k) => [k, 0]));
        const report = (): void => onProgress('models trained', reused + [...frac.values()].reduce((a, b) => a + b, 0), total);
        report();
        const tasks: TrainTask[] = missing.map((k) => {
          const i = first.get(k)!;
          const job = checked[i]!;
          fieldOf.set(k, `jobs[${i}]`);
          const from = job.init !== undefined && 'from' in job.init ? job.init.from : undefined;
          return { key: k, job, label: job.label ?? k.slice(0, 12), deps: from !== undefined && missing.includes(from) ? [from] : [] };
        });
        try {
          await executor.train(
            tasks,
            { dir: resolve(dir), versions, ...(opts.backend === undefined ? {} : { backend: opts.backend }) },
            {
              signal,
              onWait,
              onProgress: (k, f) => {
                frac.set(k, f);
                report();
              },
            },
          );
          for (const k of missing) {
            let m = localResults.get(k) ?? null;
            if (m === null) {
              // trained elsewhere (queue workers): read back from the shared store
              m = await load(k);
              if (m === null) throw new BasisError('IO', `${executor.description} reported model ${k.slice(0, 12)} as trained, but ${join(modelsDir, k)} holds no complete model`, { details: { path: join(modelsDir, k) } });
              stats.trained++;
              stats.remote++;
            }
            models.set(k, m);
          }
        } finally {
          for (const k of missing) {
            localResults.delete(k);
            fieldOf.delete(k);
          }
        }
      } else onProgress('models trained', total, total);
      for (const [k, m] of models) known.set(k, m);
      return keys.map((k) => models.get(k)!);
    },
    async compare(specs, copts = {}) {
      if (closed) throw new BasisError('INVALID_ARGUMENT', 'the run context is closed');
      if (!Array.isArray(specs) || specs.length === 0) throw new BasisError('CONFIG_INVALID', 'compare: specs must list at least one comparison', { details: { field: 'specs' } });
      const stage = copts.stage ?? 'comparisons';
      const checked = specs.map((sp, i) => checkCompareSpec(sp, `specs[${i}]`));
      const hashes = checked.map((sp) => memoHash(opts.recipeId, compareMemoKey(sp), versions));
      // each distinct comparison once: the memo first, then this process or the executor
      const { results, missing, firstOf } = await lookUpMemos<CompareValues>(hashes);
      const total = firstOf.size;
      let done = total - missing.length;
      onProgress(stage, done, total);
      if (missing.length > 0) {
        if (signal.aborted) throw new BasisError('INVALID_ARGUMENT', 'the run was interrupted before the comparisons', { details: { aborted: true } });
        const tfBackend = activeTfBackend();
        const capKey = (sp: CompareSpec, side: 'a' | 'b'): string => captureKey(captureOf(sp, side), versions, tfBackend);
        if (executor.stages !== undefined) {
          const captures = new Map<string, CaptureTask>();
          const compares: CompareTask[] = missing.map((i) => {
            const sp = checked[i]!;
            const label = sp.label ?? `comparison ${i}`;
            for (const side of ['a', 'b'] as const) {
              const k = capKey(sp, side);
              const ref = sp[side];
              if (!captures.has(k)) captures.set(k, { key: k, label: 'key' in ref ? `model ${ref.key.slice(0, 12)}` : `untrained ${ref.untrained.like.slice(0, 12)} seed ${ref.untrained.seed}`, capture: captureOf(sp, side) });
            }
            return { key: hashes[i]!, label, spec: sp, a: capKey(sp, 'a'), b: capKey(sp, 'b') };
          });
          await executor.stages([...captures.values()], compares, { dir: resolve(dir), versions, recipeId: opts.recipeId, tfBackend, ...(opts.backend === undefined ? {} : { backend: opts.backend }) }, { signal, onWait, onProgress: finishedOnce(stage, done, total) });
          await readBackMemos(results, missing, hashes, (i) => `comparison ${checked[i]!.label ?? i}`);
        } else {
          // this process: each capture once, dropped when no remaining comparison needs it
          const uses = new Map<string, number>();
          for (const i of missing) for (const side of ['a', 'b'] as const) uses.set(capKey(checked[i]!, side), (uses.get(capKey(checked[i]!, side)) ?? 0) + 1);
          const acts = new Map<string, Promise<Record<string, Matrix>>>();
          const get = (sp: CompareSpec, side: 'a' | 'b', field: string): Promise<Record<string, Matrix>> => {
            const k = capKey(sp, side);
            let p = acts.get(k);
            if (p === undefined) {
              p = captureLocal(captureOf(sp, side), field);
              acts.set(k, p);
            }
            return p;
          };
          const release = (sp: CompareSpec, side: 'a' | 'b'): void => {
            const k = capKey(sp, side);
            const n = (uses.get(k) ?? 1) - 1;
            uses.set(k, n);
            if (n <= 0) acts.delete(k);
          };
          for (const i of missing) {
            if (signal.aborted) throw new BasisError('INVALID_ARGUMENT', 'the run was interrupted during the comparisons; finished ones are kept', { details: { aborted: true } });
            const sp = checked[i]!;
            const A = await get(sp, 'a', `specs[${i}].a`);
            const B = await get(sp, 'b', `specs[${i}].b`);
            const v = compareCaptured(sp, A, B);
            release(sp, 'a');
            release(sp, 'b');
            await writeFileAtomic(join(memoDir, `${hashes[i]!}.json`), stringifyStored({ recipe: opts.recipeId, key: compareMemoKey(sp), value: v }));
            stats.computed++;
            results[i] = { v };
            onProgress(stage, ++done, total);
          }
        }
      }
      // duplicates of a comparison share its value
      return checked.map((_, i) => (results[i] ?? results[firstOf.get(hashes[i]!)!])!.v);
    },
    async evaluate<S, V>(task: EvalTask<S, V>, specs: ReadonlyArray<S>, eopts: { stage?: string } = {}): Promise<V[]> {
      if (closed) throw new BasisError('INVALID_ARGUMENT', 'the run context is closed');
      if (task === null || typeof task !== 'object' || typeof task.kind !== 'string' || typeof task.run !== 'function') throw new BasisError('CONFIG_INVALID', 'evaluate: task must be an evaluation task (kind, check, memoKey, models, label, run)', { details: { field: 'task' } });
      if (!Array.isArray(specs) || specs.length === 0) throw new BasisError('CONFIG_INVALID', `evaluate ${task.kind}: specs must list at least one evaluation`, { details: { field: 'specs' } });
      const stage = eopts.stage ?? `${task.kind} evaluations`;
      const checked = specs.map((sp, i) => task.check(sp, `specs[${i}]`));
      const keys = checked.map((sp) => task.memoKey(sp));
      const hashes = keys.map((k) => memoHash(opts.recipeId, k, versions));
      const { results, missing, firstOf } = await lookUpMemos<V>(hashes);
      const total = firstOf.size;
      let done = total - missing.length;
      onProgress(stage, done, total);
      if (missing.length > 0) {
        if (signal.aborted) throw new BasisError('INVALID_ARGUMENT', `the run was interrupted before the ${task.kind} evaluations`, { details: { aborted: true } });
        if (executor.evaluate !== undefined) {
          // the models must be in the store before a worker looks for them (a wrong key fails here, once)
          for (const i of missing) {
            for (const k of task.models(checked[i]!)) {
              if (!known.has(k) && !(await pathExists(join(modelsDir, k, SUMMARY)))) {
                throw new BasisError('CONFIG_INVALID', `specs[${i}]: no finished model with key ${k} in ${modelsDir}; train it first (ctx.models) and pass its key`, { details: { field: `specs[${i}]` } });
              }
            }
          }
          const jobs: EvalJobTask[] = missing.map((i) => ({ kind: task.kind, key: hashes[i]!, label: task.label(checked[i]!), spec: checked[i]! }));
          await executor.evaluate(jobs, { dir: resolve(dir), versions, recipeId: opts.recipeId, tfBackend: activeTfBackend(), ...(opts.backend === undefined ? {} : { backend: opts.backend }) }, { signal, onWait, onProgress: finishedOnce(stage, done, total) });
          await readBackMemos(results, missing, hashes, (i) => `${task.kind} evaluation ${task.label(checked[i]!)}`);
        } else {
          for (const i of missing) {
            if (signal.aborted) throw new BasisError('INVALID_ARGUMENT', `the run was interrupted during the ${task.kind} evaluations; finished ones are kept`, { details: { aborted: true } });
            const sp = checked[i]!;
            const models = new Map<string, TaskModel>();
            for (const k of task.models(sp)) models.set(k, await modelOf(k, `specs[${i}]`));
            const value = await task.run(sp, (k) => {
              const m = models.get(k);
              if (m === undefined) throw new BasisError('INVALID_ARGUMENT', `evaluate ${task.kind}: the task read model ${k.slice(0, 12)}, which its models() does not list`);
              return m;
            });
            await writeFileAtomic(join(memoDir, `${hashes[i]!}.json`), stringifyStored({ recipe: opts.recipeId, key: keys[i], value }));
            stats.computed++;
            results[i] = { v: value };
            onProgress(stage, ++done, total);
          }
        }
      }
      // duplicates of an evaluation share its value
      return checked.map((_, i) => (results[i] ?? results[firstOf.get(hashes[i]!)!])!.v);
    },
    async cached<T>(key: unknown, compute: () => Promise<T> | T): Promise<T> {
      const h = memoHash(opts.recipeId, key, versions);
      const path = join(memoDir, `${h}.json`);
      try {
        const stored = parseStored(await readFile(path, 'utf8')) as { key: unknown; value: T };
        stats.memoHits++;
        return stored.value;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && !(e instanceof SyntaxError)) throw e;
      }
      const value = await compute();
      await writeFileAtomic(path, stringifyStored({ recipe: opts.recipeId, key, value }));
      stats.computed++;
      return value;
    },
    async close() {
      closed = true;
      opts.signal?.removeEventListener('abort', forward);
      known.clear();
      const p = pool;
      pool = null;
      if (p !== null) await p.close();
    },
  };
  return ctx;
}
