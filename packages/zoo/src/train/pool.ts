// A pool of worker threads that train models, one tfjs backend per worker: several seeds of a
// recipe train at once (about 1.8x the throughput of one thread on 2 cores). The workers share
// the engine's thread budget: each computes with max(1, floor(budget / workers)) provider threads.
import type { Worker } from 'node:worker_threads';
import { BasisError, limitThreads, threadBudget, workerEngine, type BasisErrorCode, type WorkerEngineSettings } from '@basis/tensor';
import type { ActiveBackend, BackendPreference } from '@basis/tensor/backend';
import { fromWireError, lockDir, startWorkers, toShared, watchWorker, workerScript, type DirLock } from '@basis/tensor/node';
import type { ClassificationDataset } from '../data/types.js';
import { isList } from './validate.js';
import type { TrainProgress } from './loop.js';
import type { FromTrainWorker, ToTrainWorker, TrainJob, WireJob, WireResult } from './train-job.js';
import { parseTrainSettings, stepsPerEpoch, withSeed } from './train-settings.js';

export type { TrainJob } from './train-job.js';

/**
 * Options of {@link TrainPool.create}.
 *
 * @example
 * ```ts
 * const pool = await TrainPool.create({ workers: 2, backend: 'wasm' } satisfies TrainPoolOptions);
 * ```
 */
export interface TrainPoolOptions {
  /**
   * Worker threads (default: the engine's thread budget, `threadBudget()`: `BASIS_THREADS` or
   * every core). Each worker computes with `max(1, floor(budget / workers))` BLAS threads.
   */
  workers?: number;
  /** Backend each worker selects (`selectBackend`; default `'auto'`: tensorflow > wasm > cpu). */
  backend?: BackendPreference;
}

/**
 * Per-job options of {@link TrainPool.run}.
 *
 * @example
 * ```ts
 * await pool.run(job, { onProgress: (e) => e.kind === 'epoch' && console.log(e.record) });
 * ```
 */
export interface TrainJobOptions {
  /** Progress events of this job (step events are sent only when this is given). */
  onProgress?: (event: TrainProgress) => void;
  /** Aborts the job after its current step (with an abort checkpoint when it has a run directory). */
  signal?: AbortSignal;
}

/**
 * What a pool job returns: the `trainModel` result (`resumedFrom` set for jobs with a run directory).
 *
 * @example
 * ```ts
 * const r: TrainJobResult = await pool.run(job);
 * r.final.testAccuracy;
 * ```
 */
export type TrainJobResult = WireResult;

/** Copies typed arrays into shared memory once per dataset, so that every worker reads the same bytes. */
const shared = new WeakMap<ClassificationDataset, ClassificationDataset>();

function sharedDataset(ds: ClassificationDataset): ClassificationDataset {
  let s = shared.get(ds);
  if (s === undefined) {
    s = { ...ds, x: toShared(ds.x), labels: toShared(ds.labels), sourceIndex: toShared(ds.sourceIndex) };
    shared.set(ds, s);
  }
  return s;
}

interface Slot {
  worker: Worker;
  backend: ActiveBackend;
  busy: boolean;
  dead?: boolean;
}

/** What a worker reports when it is ready. */
interface Ready {
  backend: ActiveBackend;
  engine: WorkerEngineSettings;
}

interface Pending {
  id: number;
  job: WireJob;
  opts: TrainJobOptions;
  resolve: (r: TrainJobResult) => void;
  reject: (e: Error) => void;
  slot?: Slot;
  /** Already rejected (its callback threw); the worker still has to report the end of the job. */
  settled?: boolean;
}

/**
 * A pool of worker threads training models, one tfjs backend per worker (selected by each worker
 * with `selectBackend`). Jobs queue and go to the first free worker; each worker trains one job at
 * a time. Dataset arrays are copied into shared memory once and read by every worker in place.
 * Results are the same as `trainModel` in the calling thread on the same backend (bit-identical
 * weights; with the native engine, at the same BLAS thread count: the workers use their share of
 * the thread budget, {@link TrainPool.engine}). Errors in a job reject its promise with the same
 * `BasisError` code and message.
 *
 * Threads: every worker configures the engine (`configureEngine`) with the calling thread's
 * provider and `max(1, floor(budget / workers))` threads before its first job, so a pool never
 * uses more threads than the budget. System BLAS libraries keep one thread count per process
 * (shared by all worker threads), so while jobs run the pool also holds the process-wide count at
 * that share (`limitThreads`); when the pool is idle the calling thread gets its own count back.
 * Works from the built package (`dist/train/train-worker.js`) and from TypeScript sources (tests,
 * benchmarks: the worker registers tsx).
 *
 * @example
 * ```ts
 * import { TrainPool } from '@basis/zoo/node';
 * const pool = await TrainPool.create({ workers: 2, backend: 'wasm' });
 * try {
 *   const [a, b] = await Promise.all([0, 1].map((seed) => pool.run({ graph, train, test, recipe: { ...recipe, seed } })));
 * } finally {
 *   await pool.close();
 * }
 * ```
 */
export class TrainPool {
  private readonly queue: Pending[] = [];
  private readonly active = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;
  /** Releases the process-wide thread cap while jobs run. */
  private release: (() => void) | null = null;

  private constructor(
    private readonly slots: Slot[],
    /** Engine settings every worker applied (provider request and threads per worker). */
    readonly engine: WorkerEngineSettings,
  ) {
    for (const s of slots) this.listen(s);
  }

  /** Starts the workers and waits until each has initialised its engine and backend. */
  static async create(opts: TrainPoolOptions = {}): Promise<TrainPool> {
    const n = opts.workers ?? threadBudget();
    if (!Number.isInteger(n) || n < 1) throw new BasisError('INVALID_ARGUMENT', `workers must be a positive integer, got ${String(n)}`);
    const backend = opts.backend ?? 'auto';
    const engine = workerEngine(n);
    const script = workerScript(import.meta.url, 'train-worker');
    // the workers set the (process-wide) BLAS thread count as they start: hold it at their share meanwhile
    const release = limitThreads(engine.threads);
    const workers = startWorkers(script, n);
    try {
      const ready = await Promise.all(
        workers.map(
          (w) =>
            new Promise<Ready>((resolve, reject) => {
              const onMsg = (m: FromTrainWorker): void => {
                if (m.type === 'ready') resolve({ backend: m.backend, engine: m.engine });
                else if (m.type === 'init-error') reject(new BasisError((m.code ?? 'BACKEND_UNAVAILABLE') as BasisErrorCode, m.message));
                else return;
                w.off('message', onMsg);
                w.off('error', onErr);
              };
              const onErr = (e: Error): void => reject(new BasisError('BACKEND_UNAVAILABLE', `a training worker failed to start: ${e.message}`, { cause: e }));
              w.on('message', onMsg);
              w.once('error', onErr);
              w.postMessage({ type: 'init', backend, engine } satisfies ToTrainWorker);
            }),
        ),
      );
      return new TrainPool(
        workers.map((worker, i) => ({ worker, backend: (ready[i] as Ready).backend, busy: false })),
        engine,
      );
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    } finally {
      release();
    }
  }

  /** Number of workers. */
  get size(): number {
    return this.slots.length;
  }

  /** The backend of each worker. */
  get backends(): ActiveBackend[] {
    return this.slots.map((s) => s.backend);
  }

  /**
   * Queues a job; resolves with its result when a worker has trained it. A job with `runDir` first
   * takes that directory's write lock (on this thread, so Ctrl-C and exit release it): another
   * process writing there makes the job fail at once with IO naming it.
   */
  run(given: TrainJob, opts: TrainJobOptions = {}): Promise<TrainJobResult> {
    if (this.closed) return Promise.reject(new BasisError('INVALID_ARGUMENT', 'the training pool is closed'));
    let job: TrainJob;
    try {
      // the settings are parsed here, before anything is sent (a parsed value passes as it is);
      // the worker trusts them
      job = { ...given, recipe: parseTrainSettings(given.recipe, 'recipe') };
    } catch (e) {
      return Promise.reject(e as Error);
    }
    if (job.runDir === undefined) return this.enqueue(job, opts);
    return lockDir(job.runDir, { cleanDepth: 0 }).then(async (lock) => {
      try {
        return await this.enqueue(job, opts);
      } finally {
        await lock.release();
      }
    });
  }

  private enqueue(job: TrainJob, opts: TrainJobOptions): Promise<TrainJobResult> {
    if (this.closed) return Promise.reject(new BasisError('INVALID_ARGUMENT', 'the training pool is closed'));
    const wire: WireJob = {
      graph: job.graph,
      train: sharedDataset(job.train),
      ...(job.test === undefined ? {} : { test: sharedDataset(job.test) }),
      recipe: job.recipe,
      ...(job.initial === undefined ? {} : { initial: job.initial }),
      ...(job.runDir === undefined ? {} : { runDir: job.runDir }),
      ...(job.meta === undefined ? {} : { meta: job.meta }),
      ...(job.maxSteps === undefined ? {} : { maxSteps: job.maxSteps }),
      ...(job.start === undefined ? {} : { start: job.start }),
      steps: opts.onProgress !== undefined,
      abort: new Int32Array(new SharedArrayBuffer(4)),
    };
    return new Promise<TrainJobResult>((resolve, reject) => {
      const p: Pending = { id: this.nextId++, job: wire, opts, resolve, reject };
      if (opts.signal?.aborted) {
        reject(new BasisError('INVALID_ARGUMENT', 'the job was aborted before it started'));
        return;
      }
      opts.signal?.addEventListener(
        'abort',
        () => {
          const i = this.queue.indexOf(p);
          if (i >= 0) {
            this.queue.splice(i, 1);
            reject(new BasisError('INVALID_ARGUMENT', 'the job was aborted before it started'));
          } else Atomics.store(wire.abort, 0, 1);
        },
        { once: true },
      );
      this.queue.push(p);
      this.pump();
    });
  }

  /** Stops every worker (running jobs are rejected). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new BasisError('INVALID_ARGUMENT', 'the training pool was closed before the job finished');
    for (const p of [...this.queue, ...this.active.values()]) p.reject(err);
    this.queue.length = 0;
    this.active.clear();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.holdThreads();
  }

  /** Caps the process-wide BLAS threads at the workers' share while jobs run; releases the cap when idle. */
  private holdThreads(): void {
    const busy = !this.closed && this.active.size > 0;
    if (busy && this.release === null) this.release = limitThreads(this.engine.threads);
    else if (!busy && this.release !== null) {
      this.release();
      this.release = null;
    }
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.busy || this.queue.length === 0) continue;
      const p = this.queue.shift() as Pending;
      slot.busy = true;
      p.slot = slot;
      this.active.set(p.id, p);
      this.holdThreads();
      slot.worker.postMessage({ type: 'job', id: p.id, job: p.job } satisfies ToTrainWorker);
    }
    this.holdThreads();
  }

  private listen(slot: Slot): void {
    slot.worker.on('message', (m: FromTrainWorker) => {
      if (m.type === 'ready' || m.type === 'init-error') return;
      const p = this.active.get(m.id);
      if (p === undefined) return;
      if (m.type === 'progress') {
        if (p.settled === true) return;
        try {
          p.opts.onProgress?.(m.event);
        } catch (e) {
          // an exception in the caller's callback stops the job (the worker stays busy until it reports)
          p.settled = true;
          Atomics.store(p.job.abort, 0, 1);
          p.reject(e instanceof Error ? e : new Error(String(e)));
        }
        return;
      }
      this.active.delete(p.id);
      slot.busy = false;
      if (p.settled !== true) {
        if (m.type === 'done') p.resolve(m.result);
        else p.reject(fromWireError(m, 'training worker'));
      }
      this.pump();
    });
    const fail = (e: Error): void => {
      for (const p of [...this.active.values()]) {
        if (p.slot === slot) {
          this.active.delete(p.id);
          if (p.settled !== true) p.reject(e);
        }
      }
      slot.busy = true; // never reuse a dead worker
      slot.dead = true;
      if (this.slots.every((s) => s.dead === true)) for (const p of this.queue.splice(0)) p.reject(e);
      this.pump();
    };
    watchWorker(slot.worker, 'a training worker', () => this.closed, fail);
  }
}

/**
 * Options of {@link trainSeeds}.
 *
 * @example
 * ```ts
 * const opts: TrainSeedsOptions = { graph, train, test, recipe, seeds: [0, 1, 2], runDir: (s) => `runs/mlp/seed-${s}` };
 * // spawning: one shared trunk of 100 steps (seed recipe.seed), then one child per seed
 * const spawned: TrainSeedsOptions = { ...opts, spawnSteps: 100, trunkDir: 'runs/mlp/trunk' };
 * ```
 */
export interface TrainSeedsOptions extends Omit<TrainJob, 'runDir' | 'maxSteps' | 'start'> {
  seeds: readonly (number | string)[];
  /** A run directory per seed (resumable); default: in memory only. */
  runDir?: (seed: number | string) => string;
  /**
   * Spawning: train one shared trunk for this many steps first (initialisation and data order from
   * `recipe.seed`, default 0), then fork it into one child per seed: each child starts from the
   * trunk's weights and optimizer state at that step and continues with its own data order (the
   * rest of the epoch reshuffled by its seed). Must be between 1 and the run's total steps - 1.
   */
  spawnSteps?: number;
  /** Run directory of the trunk (resumable; needed with `runDir` so that an interrupted spawn resumes). */
  trunkDir?: string;
  /** Progress of the trunk. */
  onTrunkProgress?: (event: TrainProgress) => void;
  /** An existing pool to use (it stays open); otherwise one is created with `workers`/`backend` and closed. */
  pool?: TrainPool;
  workers?: number;
  backend?: BackendPreference;
  onProgress?: (seed: number | string, event: TrainProgress) => void;
  signal?: AbortSignal;
}

/** Validates `spawnSteps` against the run length; returns it (or undefined). */
function checkSpawn(opts: TrainSeedsOptions): number | undefined {
  const k = opts.spawnSteps;
  const bad = (message: string): never => {
    throw new BasisError('CONFIG_INVALID', `spawnSteps ${message}`, { details: { field: 'spawnSteps' } });
  };
  if (k === undefined) {
    if (opts.trunkDir !== undefined) throw new BasisError('CONFIG_INVALID', 'trunkDir is given without spawnSteps', { details: { field: 'trunkDir' } });
    return undefined;
  }
  if (!Number.isSafeInteger(k) || k < 1) bad(`must be a positive integer, got ${String(k)}`);
  const r = opts.recipe; // parsed by trainSeeds
  const total = r.epochs * stepsPerEpoch(opts.train.n, r);
  if (k >= total) bad(`is ${k} but the run has only ${total} steps (${r.epochs} epochs); the trunk must stop before the end`);
  if (opts.runDir !== undefined && opts.trunkDir === undefined) throw new BasisError('CONFIG_INVALID', 'spawning with run directories needs trunkDir (where the shared trunk is checkpointed)', { details: { field: 'trunkDir' } });
  return k;
}

/**
 * Trains one model per seed of `recipe` on a {@link TrainPool} (by default as many workers as the
 * engine's thread budget allows, `threadBudget()`, at most one per seed), in parallel; results in seed order. A failing seed rejects the whole call
 * (the others are aborted).
 *
 * With `spawnSteps: k` the seeds share a trunk: it is trained once for k steps (seed
 * `recipe.seed`; checkpointed in `trunkDir`), then every seed resumes from its state at step k
 * with its own data order (weights and optimizer state identical at step k, different afterwards;
 * each child is reproducible). With run directories, each child's directory starts with the
 * trunk's state as its step-k checkpoint, and a rerun resumes the trunk and the children where
 * they stopped. If `signal` aborts the trunk, no child starts and every entry of the result is the
 * trunk's (aborted) result. Every run directory (and `trunkDir`) is locked for writing before
 * anything trains (`lockDir` of @basis/tensor/node): a folder another process writes makes the call
 * fail at once with IO naming that process.
 *
 * @example
 * ```ts
 * import { trainSeeds } from '@basis/zoo/node';
 * const runs = await trainSeeds({ graph, train, test, recipe: TRAINING_PRESETS.mlpMnist.train, seeds: [0, 1], backend: 'wasm' });
 * runs.map((r) => r.final.testAccuracy); // [0.959, 0.961]
 * // two children forked after 50 shared steps
 * const kids = await trainSeeds({ graph, train, recipe, seeds: [1, 2], spawnSteps: 50 });
 * ```
 */
export async function trainSeeds(opts: TrainSeedsOptions): Promise<TrainJobResult[]> {
  const { seeds, runDir, trunkDir } = opts;
  if (!isList(seeds) || seeds.length === 0) throw new BasisError('CONFIG_INVALID', 'seeds must list at least one seed', { details: { field: 'seeds' } });
  opts = { ...opts, recipe: parseTrainSettings(opts.recipe, 'recipe') };
  const spawnSteps = checkSpawn(opts);
  // every run directory is locked before anything trains: a folder in use fails the whole call at once
  const locks: DirLock[] = [];
  try {
    for (const d of [...(trunkDir === undefined || spawnSteps === undefined ? [] : [trunkDir]), ...(runDir === undefined ? [] : seeds.map((s) => runDir(s)))]) {
      locks.push(await lockDir(d, { cleanDepth: 0 }));
    }
    return await trainSeedsLocked(opts, spawnSteps);
  } finally {
    for (const l of locks.reverse()) await l.release();
  }
}

async function trainSeedsLocked(opts: TrainSeedsOptions, spawnSteps: number | undefined): Promise<TrainJobResult[]> {
  const { seeds, runDir, pool: given, workers, backend, onProgress, signal, spawnSteps: _k, trunkDir, onTrunkProgress, ...job } = opts;
  const pool = given ?? (await TrainPool.create({ workers: Math.min(workers ?? threadBudget(), seeds.length), ...(backend === undefined ? {} : { backend }) }));
  const ctl = new AbortController();
  const onAbort = (): void => ctl.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted === true) ctl.abort();
  try {
    let fork: Pick<TrainJob, 'initial' | 'start'> = {};
    if (spawnSteps !== undefined) {
      const trunk = await pool.run(
        { ...job, maxSteps: spawnSteps, ...(trunkDir === undefined ? {} : { runDir: trunkDir }) },
        { signal: ctl.signal, ...(onTrunkProgress === undefined ? {} : { onProgress: onTrunkProgress }) },
      );
      if (trunk.stopped === 'aborted') return seeds.map(() => trunk);
      fork = { initial: trunk.params, start: { state: trunk.result.state, optimizer: trunk.result.optimizer, history: trunk.result.epochs } };
    }
    const settled = await Promise.allSettled(
      seeds.map((seed) =>
        pool
          .run(
            { ...job, ...fork, recipe: withSeed(job.recipe, seed), ...(runDir === undefined ? {} : { runDir: runDir(seed) }) },
            { signal: ctl.signal, ...(onProgress === undefined ? {} : { onProgress: (e: TrainProgress) => onProgress(seed, e) }) },
          )
          .catch((e: unknown) => {
            ctl.abort(); // the other seeds stop after their current step
            throw e;
          }),
      ),
    );
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return settled.map((r) => (r as PromiseFulfilledResult<TrainJobResult>).value);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (given === undefined) await pool.close();
  }
}
