// `basis worker`: takes jobs from the Redis queue and runs them into the shared artifact store.
// A train job is trained by the same run-context code as a local run (the local pool of this
// process), so a model trained here is bitwise the model a local run would train with the same
// engine settings. Faults: a worker killed mid-job leaves checkpoints and temp files but never a
// summary (the artifact), and BullMQ hands the job to another worker once its lock expires; a
// deterministic failure fails the job once (UnrecoverableError); on a graceful stop the current job
// finishes, on a second stop it is released (back to the queue, no attempt used).
import { mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { compareLayers } from '@basis/align';
import { BasisError, engineInfo, type Matrix } from '@basis/tensor';
import { LOCK_FILE, pathExists, readDirLock, readMatrixFile, writeFileAtomic } from '@basis/tensor/node';
import { selectBackend, type BackendPreference } from '@basis/tensor/backend';
import { parseDataSpec, parseTrainSettings, toFloat64, type ModelGraph } from '@basis/zoo';
import { TrainPool, loadDataSpec, loadModel } from '@basis/zoo/node';
import { checkModelJob, createRunContext, packageVersions, type ModelJob, type NodeRunContext } from '../runner/context.js';
import { contentHash, parseStored, stringifyStored } from '../runner/json.js';
import type { EvalTask, TaskModel } from '../runner/eval-task.js';
import { MODE_PAIR } from '../recipes/e004-shared.js';
import {
  activeTfBackend,
  captureActivationsOf,
  captureArtifact,
  captureKey,
  captureOf,
  checkCompareSpec,
  compareCaptured,
  compareMemoKey,
  decodeCapture,
  encodeCapture,
  memoArtifact,
  memoHash,
  untrainedParams,
  type CaptureSpec,
} from '../runner/stages.js';
import {
  DEFAULT_QUEUE_NAME,
  EVAL_JOB_KINDS,
  JOB_KINDS,
  TRAIN_RUN_RESULT,
  connectQueue,
  encodeFailure,
  isDeterministicFailure,
  type CapturePayload,
  type ComparePayload,
  type EvalPayload,
  type JobKind,
  type TrainJobOutcome,
  type TrainPayload,
  type TrainRunPayload,
  type CompareRowPayload,
} from './common.js';
import { modelArtifact, openStore } from './store.js';
import { maskSecrets, type QueueTarget } from './url.js';

/**
 * Options of {@link startWorker}.
 *
 * @example
 * ```ts
 * const opts: QueueWorkerOptions = { queue: 'redis://10.0.0.5:6379', concurrency: 2, onLog: (l) => console.error(l) };
 * ```
 */
export interface QueueWorkerOptions {
  queue?: string | QueueTarget;
  /** BullMQ queue name (default 'basis'). */
  name?: string;
  /** Jobs run at once by this process (default 1; each trains on its own worker thread). */
  concurrency?: number;
  /**
   * Seconds a job's lock lasts without renewal (default 30). A worker that dies mid-job (kill -9,
   * a lost machine) holds its job this long; then another worker takes it.
   */
  lockSeconds?: number;
  /** How many times a job may be found stalled (its worker gone) before it fails (default 5). */
  maxStalled?: number;
  /** Seconds to wait for the first connection (default 10). */
  connectSeconds?: number;
  /** One line per event (job started, finished, failed, released; connection trouble), credentials masked. */
  onLog?: (line: string) => void;
}

/**
 * A running queue worker.
 *
 * @example
 * ```ts
 * const w = await startWorker({ queue: 'redis://127.0.0.1:6379' });
 * process.once('SIGTERM', () => void w.stop());
 * await w.done; // after stop(): the current job finished (or was released)
 * ```
 */
export interface QueueWorker {
  readonly target: QueueTarget;
  readonly name: string;
  /**
   * Counters: jobs that made their artifact (`trained`: a model trained, or a capture, comparison or
   * audit row computed), found it in the store already, failed, were released.
   */
  readonly stats: { trained: number; reused: number; failed: number; released: number };
  /**
   * Stops taking jobs. The first call lets the jobs in progress finish; a second call (or
   * `{ release: true }`) interrupts them after the current training step and hands them back to
   * the queue (their checkpoints let the next worker resume).
   */
  stop(opts?: { release?: boolean }): Promise<void>;
  /** Settles once the worker has stopped. */
  readonly done: Promise<void>;
}

/** The run context of one slot (one job at a time) for one store, versions and backend. */
interface Slot {
  busy: boolean;
  ctl: AbortController;
  contexts: Map<string, NodeRunContext>;
  /** Where the progress of the job in this slot goes (0..1). */
  progress: ((fraction: number) => void) | null;
  /** Training pools of `train-run` jobs, per backend. */
  pools: Map<string, TrainPool>;
}

const HEARTBEAT = '.basis.queue-heartbeat';

/**
 * The evaluation tasks (`RunContext.evaluate`) a worker runs, by job kind. A task a recipe declares
 * runs on the workers once it is listed here and its kind is in EVAL_JOB_KINDS (queue/common.ts).
 */
const EVAL_TASKS: ReadonlyMap<string, EvalTask<unknown, unknown>> = new Map<string, EvalTask<unknown, unknown>>([[MODE_PAIR.kind, MODE_PAIR as unknown as EvalTask<unknown, unknown>]]);

/**
 * Starts a worker on the queue: it takes `train` jobs (from `createQueueExecutor` submitters) and
 * trains each model into the run cache the job names (a shared folder: the same absolute path on
 * every machine), `concurrency` at a time. A job whose model is already in the store finishes at
 * once; a job whose payload was made by other package versions fails once (a mixed cluster would
 * break the content keys). While a model trains, a heartbeat file in its folder is touched; a
 * worker on another machine that finds the folder locked by a host whose heartbeat stopped
 * (3 lock periods) takes the lock over.
 *
 * @example
 * ```ts
 * import { startWorker } from '@basis/experiments/node';
 * const w = await startWorker({ queue: 'env:BASIS_QUEUE_URL', concurrency: 1, onLog: (l) => process.stderr.write(l + '\n') });
 * process.once('SIGTERM', () => void w.stop());
 * await w.done;
 * ```
 */
export async function startWorker(opts: QueueWorkerOptions = {}): Promise<QueueWorker> {
  const name = opts.name ?? DEFAULT_QUEUE_NAME;
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,100}$/.test(name)) throw new BasisError('USAGE', `queue name must be 1-100 letters, digits, '_', '.' or '-', got ${JSON.stringify(name)}`);
  const concurrency = opts.concurrency ?? 1;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new BasisError('USAGE', `concurrency must be an integer from 1 to 256, got ${String(opts.concurrency)}`);
  const lockSeconds = opts.lockSeconds ?? 30;
  if (!(Number.isFinite(lockSeconds) && lockSeconds >= 1 && lockSeconds <= 86_400)) throw new BasisError('USAGE', `lock must be from 1 to 86400 seconds, got ${String(opts.lockSeconds)}`);
  const maxStalled = opts.maxStalled ?? 5;
  if (!Number.isSafeInteger(maxStalled) || maxStalled < 0) throw new BasisError('USAGE', `maxStalled must be a non-negative integer, got ${String(opts.maxStalled)}`);
  const log = opts.onLog ?? (() => undefined);
  const conn = await connectQueue(opts.queue, { timeoutMs: (opts.connectSeconds ?? 10) * 1000, onError: log });
  const target = conn.target;
  const mask = (s: string): string => maskSecrets(s, target);
  const versions = await packageVersions();
  const host = hostname();
  const lockMs = Math.round(lockSeconds * 1000);
  const stats = { trained: 0, reused: 0, failed: 0, released: 0 };
  const slots: Slot[] = Array.from({ length: concurrency }, (): Slot => ({ busy: false, ctl: new AbortController(), contexts: new Map(), progress: null, pools: new Map() }));
  let releasing = false;

  /** The engine as it is now, for a job outcome (with BASIS_BLAS as set). */
  const engineNow = (): Record<string, unknown> => ({ ...(engineInfo() as unknown as Record<string, unknown>), blas: process.env['BASIS_BLAS'] ?? null });
  /** A job from another basis version is refused: the versions are part of every artifact's key. */
  const checkVersions = (v: Record<string, string>): void => {
    if (JSON.stringify(sorted(v)) !== JSON.stringify(sorted(versions))) {
      throw new BasisError('CONFIG_INVALID', `the job was submitted by basis with versions ${JSON.stringify(v)}, but this worker runs ${JSON.stringify(versions)}: install the same basis version on every machine (the versions are part of each artifact's key)`);
    }
  };
  /** The job's store and its local folder (training, captures and evaluations read models from it). */
  const localStore = (spec: Parameters<typeof openStore>[0], what: string): { store: ReturnType<typeof openStore>; root: string } => {
    const store = openStore(spec);
    const root = store.localRoot();
    if (root === null) throw new BasisError('CONFIG_INVALID', `${store.description}: ${what} a store with a local folder (a shared directory)`);
    return { store, root };
  };

  async function contextFor(slot: Slot, p: CheckedPayload, root: string): Promise<NodeRunContext> {
    const id = contentHash({ root, versions: p.versions, backend: p.backend ?? 'auto' });
    let ctx = slot.contexts.get(id);
    if (ctx === undefined) {
      ctx = await createRunContext({
        dir: root,
        recipeId: 'basis.queue',
        profile: 'quick',
        workers: 1,
        versions: p.versions,
        signal: slot.ctl.signal,
        ...(p.backend === undefined ? {} : { backend: p.backend }),
        onWait: (line) => log(line),
        onProgress: (_stage, done, total) => slot.progress?.(total > 0 ? done / total : 0),
      });
      slot.contexts.set(id, ctx);
    }
    return ctx;
  }

  async function runTrain(job: Job, token: string | undefined): Promise<TrainJobOutcome> {
    const p = checkPayload(job.data);
    checkVersions(p.versions);
    const { store, root } = localStore(p.store, 'training needs');
    const t0 = performance.now();
    if (await store.has(modelArtifact(p.key))) {
      stats.reused++;
      return { key: p.key, trained: false, host, pid: process.pid, seconds: (performance.now() - t0) / 1000, engine: engineNow() };
    }
    const slot = slots.find((s) => !s.busy);
    if (slot === undefined) throw new BasisError('IO', 'worker: more jobs than slots (a BullMQ concurrency bug)');
    slot.busy = true;
    const mdir = join(root, 'models', p.key);
    let beat: NodeJS.Timeout | undefined;
    try {
      await takeOverForeignLock(mdir, host, lockMs * 3, log);
      const ctx = await contextFor(slot, p, root);
      if (ctx.modelKey(p.job as unknown as Record<string, unknown>) !== p.key) {
        throw new BasisError('CONFIG_INVALID', `job ${p.label}: its key ${p.key.slice(0, 12)} is not the content key of its model job (a damaged or hand-made payload)`);
      }
      const heartbeat = async (): Promise<void> => {
        const now = new Date();
        await utimes(join(mdir, HEARTBEAT), now, now).catch(async () => writeFile(join(mdir, HEARTBEAT), `${host} ${process.pid}\n`).catch(() => undefined));
      };
      await heartbeat().catch(() => undefined);
      beat = setInterval(() => void heartbeat().catch(() => undefined), Math.max(500, Math.floor(lockMs / 3)));
      let lastReport = 0;
      const before = ctx.stats.trained;
      slot.progress = (f) => {
        const now = performance.now();
        if (now - lastReport < 1000 || f >= 1) return;
        lastReport = now;
        void job.updateProgress(f).catch(() => undefined);
      };
      try {
        await ctx.models([{ ...p.job, label: p.label }]);
      } finally {
        slot.progress = null;
      }
      const trained = ctx.stats.trained > before;
      if (trained) stats.trained++;
      else stats.reused++;
      return { key: p.key, trained, host, pid: process.pid, seconds: (performance.now() - t0) / 1000, engine: engineNow() };
    } catch (e) {
      if (slot.ctl.signal.aborted && releasing && token !== undefined) {
        // stopping: hand the job back without using one of its attempts
        stats.released++;
        log(`released ${p.label} (${p.key.slice(0, 12)}) back to the queue; its checkpoints let the next worker resume`);
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      throw e;
    } finally {
      clearInterval(beat);
      await rm(join(mdir, HEARTBEAT), { force: true }).catch(() => undefined);
      slot.busy = false;
    }
  }

  async function runTrainRun(job: Job, token: string | undefined): Promise<TrainJobOutcome> {
    const p = checkRunPayload(job.data);
    checkVersions(p.versions);
    const t0 = performance.now();
    const resultPath = join(p.runDir, TRAIN_RUN_RESULT);
    if (await pathExists(resultPath)) {
      stats.reused++;
      return { key: p.key, trained: false, host, pid: process.pid, seconds: (performance.now() - t0) / 1000, engine: engineNow() };
    }
    const slot = slots.find((s) => !s.busy);
    if (slot === undefined) throw new BasisError('IO', 'worker: more jobs than slots (a BullMQ concurrency bug)');
    slot.busy = true;
    let beat: NodeJS.Timeout | undefined;
    try {
      await mkdir(p.runDir, { recursive: true });
      await takeOverForeignLock(p.runDir, host, lockMs * 3, log);
      const heartbeat = async (): Promise<void> => {
        const now = new Date();
        await utimes(join(p.runDir, HEARTBEAT), now, now).catch(async () => writeFile(join(p.runDir, HEARTBEAT), `${host} ${process.pid}\n`).catch(() => undefined));
      };
      await heartbeat();
      beat = setInterval(() => void heartbeat().catch(() => undefined), Math.max(500, Math.floor(lockMs / 3)));
      const backend = p.backend ?? 'auto';
      let pool = slot.pools.get(backend);
      if (pool === undefined) {
        pool = await TrainPool.create({ workers: 1, backend });
        slot.pools.set(backend, pool);
      }
      const { train, test } = await loadDataSpec(p.data, 'job.data');
      const graph = parseStored(p.graph) as ModelGraph;
      let lastReport = 0;
      const r = await pool.run(
        { graph, train, test, recipe: p.recipe, runDir: p.runDir, meta: p.meta },
        {
          signal: slot.ctl.signal,
          onProgress: (e) => {
            const now = performance.now();
            if (e.kind !== 'step' || now - lastReport < 1000) return;
            lastReport = now;
            void job.updateProgress(Math.min(0.999, e.step / e.totalSteps)).catch(() => undefined);
          },
        },
      );
      if (r.stopped !== 'completed') {
        throw new BasisError('INVALID_ARGUMENT', `training of ${p.label} stopped (${r.stopped}); its run directory keeps the checkpoints`, { details: { aborted: true } });
      }
      const { params: _p, graph: _g, result: _r, ...rest } = r;
      void _p;
      void _g;
      void _r;
      await writeFileAtomic(resultPath, stringifyStored({ key: p.key, label: p.label, ...rest, host, engine: engineNow() }, 2));
      stats.trained++;
      return { key: p.key, trained: true, host, pid: process.pid, seconds: (performance.now() - t0) / 1000, engine: engineNow() };
    } catch (e) {
      if (slot.ctl.signal.aborted && releasing && token !== undefined) {
        stats.released++;
        log(`released ${p.label} back to the queue; its checkpoints let the next worker resume`);
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      throw e;
    } finally {
      clearInterval(beat);
      await rm(join(p.runDir, HEARTBEAT), { force: true }).catch(() => undefined);
      slot.busy = false;
    }
  }

  async function runCompareRow(job: Job): Promise<TrainJobOutcome> {
    const p = checkComparePayload(job.data);
    checkVersions(p.versions);
    const t0 = performance.now();
    if (await pathExists(p.result)) {
      stats.reused++;
      return { key: p.key, trained: false, host, pid: process.pid, seconds: (performance.now() - t0) / 1000, engine: engineNow() };
    }
    const A = await readMatrixFile(p.a.path);
    const B: Array<[string, Matrix]> = [];
    for (const l of p.b) B.push([l.name, await readMatrixFile(l.path)]);
    // the cells of this row as compareLayers computes them (per-layer work memoised within the row)
    const audit = compareLayers([[p.a.name, A]], B, p.metrics, { options: p.options });
    const values = Object.fromEntries(audit.metrics.map((id) => [id, (audit.values[id] as number[][])[0] as number[]]));
    await mkdir(dirname(p.result), { recursive: true });
    await writeFileAtomic(p.result, stringifyStored({ key: p.key, values, options: audit.options, engine: audit.engine, host }));
    stats.trained++;
    return { key: p.key, trained: true, host, pid: process.pid, seconds: (performance.now() - t0) / 1000, engine: engineNow() };
  }

  // forward passes of capture jobs run one at a time on the tfjs backend their submitter used
  let captureChain: Promise<unknown> = Promise.resolve();
  const serial = <T>(f: () => Promise<T>): Promise<T> => {
    const p = captureChain.then(f, f);
    captureChain = p.catch(() => undefined);
    return p;
  };

  async function runCapture(job: Job): Promise<TrainJobOutcome> {
    const p = checkCapturePayload(job.data);
    checkVersions(p.versions);
    const t0 = performance.now();
    const { store, root } = localStore(p.store, 'captures read models from');
    if (captureKey(p.capture, p.versions, p.tfBackend) !== p.key) throw new BasisError('CONFIG_INVALID', `capture ${p.label}: its key ${p.key.slice(0, 12)} is not the content key of its capture (a damaged or hand-made payload)`);
    const artifact = captureArtifact(p.key);
    const outcome = (trained: boolean): TrainJobOutcome => ({ key: p.key, trained, host, pid: process.pid, seconds: (performance.now() - t0) / 1000, engine: engineNow() });
    if (await store.has(artifact)) {
      stats.reused++;
      return outcome(false);
    }
    const modelOf = async (key: string): Promise<Awaited<ReturnType<typeof loadModel>>> => {
      // a model that is not (yet) in the store: IO, retried (the shared folder may lag)
      if (!(await store.has(modelArtifact(key)))) throw new BasisError('IO', `capture ${p.label}: model ${key.slice(0, 12)} is not in the ${store.description} (is it the folder the submitter uses?)`);
      return loadModel(join(root, 'models', key));
    };
    await serial(async () => {
      if (activeTfBackend() !== p.tfBackend) await selectBackend(p.tfBackend as BackendPreference);
      const ref = p.capture.model;
      let acts;
      if ('key' in ref) {
        const m = await modelOf(ref.key);
        acts = await captureActivationsOf(m.graph, toFloat64(m.params), p.capture);
      } else {
        const like = await modelOf(ref.untrained.like);
        acts = await captureActivationsOf(like.graph, untrainedParams(like.graph, ref.untrained.seed), p.capture);
      }
      await store.write(artifact, encodeCapture(acts, p.capture.points));
    });
    stats.trained++;
    return outcome(true);
  }

  async function runCompare(job: Job): Promise<TrainJobOutcome> {
    const p = checkStageComparePayload(job.data);
    checkVersions(p.versions);
    const t0 = performance.now();
    const store = openStore(p.store);
    if (memoHash(p.recipeId, compareMemoKey(p.spec), p.versions) !== p.key) throw new BasisError('CONFIG_INVALID', `comparison ${p.label}: its key ${p.key.slice(0, 12)} is not the memo hash of its spec (a damaged or hand-made payload)`);
    const artifact = memoArtifact(p.key);
    const outcome = (trained: boolean): TrainJobOutcome => ({ key: p.key, trained, host, pid: process.pid, seconds: (performance.now() - t0) / 1000, engine: engineNow() });
    if (await store.has(artifact)) {
      stats.reused++;
      return outcome(false);
    }
    const read = async (side: 'a' | 'b'): Promise<ReturnType<typeof decodeCapture>> => {
      const c: CaptureSpec = captureOf(p.spec, side);
      const path = captureArtifact(captureKey(c, p.versions, p.tfBackend));
      const bytes = await store.read(path);
      // the capture job may have been lost with Redis and not yet redone: IO, retried
      if (bytes === null) throw new BasisError('IO', `comparison ${p.label}: capture ${path} is not in the ${store.description}`);
      return decodeCapture(bytes, c.points, path);
    };
    const values = compareCaptured(p.spec, await read('a'), await read('b'));
    await store.write(artifact, stringifyStored({ recipe: p.recipeId, key: compareMemoKey(p.spec), value: values }));
    stats.trained++;
    return outcome(true);
  }

  async function runEval(job: Job, kind: string): Promise<TrainJobOutcome> {
    const task = EVAL_TASKS.get(kind);
    if (task === undefined) throw new BasisError('CONFIG_INVALID', `no evaluation task '${kind}' in this worker`);
    const p = checkMemoPayload(job.data);
    checkVersions(p.versions);
    const t0 = performance.now();
    const { store, root } = localStore(p.store, 'evaluations read models from');
    const spec = task.check(p.spec, 'spec');
    const memoKey = task.memoKey(spec);
    if (memoHash(p.recipeId, memoKey, p.versions) !== p.key) throw new BasisError('CONFIG_INVALID', `${kind} ${p.label}: its key ${p.key.slice(0, 12)} is not the memo hash of its spec (a damaged or hand-made payload)`);
    const artifact = memoArtifact(p.key);
    const outcome = (trained: boolean): TrainJobOutcome => ({ key: p.key, trained, host, pid: process.pid, seconds: (performance.now() - t0) / 1000, engine: engineNow() });
    if (await store.has(artifact)) {
      stats.reused++;
      return outcome(false);
    }
    const models = new Map<string, TaskModel>();
    for (const key of task.models(spec)) {
      // a model that is not (yet) in the store: IO, retried (the shared folder may lag)
      if (!(await store.has(modelArtifact(key)))) throw new BasisError('IO', `${kind} ${p.label}: model ${key.slice(0, 12)} is not in the ${store.description} (is it the folder the submitter uses?)`);
      const m = await loadModel(join(root, 'models', key));
      models.set(key, { key, graph: m.graph, params: toFloat64(m.params) });
    }
    // forward passes on the submitter's tfjs backend, one job at a time (as captures)
    const value = await serial(async () => {
      if (activeTfBackend() !== p.tfBackend) await selectBackend(p.tfBackend as BackendPreference);
      return task.run(spec, (k) => {
        const m = models.get(k);
        if (m === undefined) throw new BasisError('INVALID_ARGUMENT', `${kind}: the task read model ${k.slice(0, 12)}, which its models() does not list`);
        return m;
      });
    });
    await store.write(artifact, stringifyStored({ recipe: p.recipeId, key: memoKey, value }));
    stats.trained++;
    return outcome(true);
  }

  const worker = new Worker(
    name,
    async (job: Job, token?: string) => {
      const label = typeof (job.data as { label?: unknown })?.label === 'string' ? (job.data as { label: string }).label : job.id ?? '?';
      log(`job ${job.name} ${label} (${String(job.id).slice(0, 18)}…): started (attempt ${job.attemptsMade + 1})`);
      try {
        if (!(JOB_KINDS as readonly string[]).includes(job.name)) throw new BasisError('CONFIG_INVALID', `unknown job kind '${job.name}' (this worker runs: ${JOB_KINDS.join(', ')}); is every machine on the same basis version?`);
        const kind = job.name as JobKind;
        const r =
          kind === 'train' ? await runTrain(job, token) : kind === 'train-run' ? await runTrainRun(job, token) : kind === 'capture' ? await runCapture(job) : kind === 'compare' ? await runCompare(job) : (EVAL_JOB_KINDS as readonly string[]).includes(kind) ? await runEval(job, kind) : await runCompareRow(job);
        log(`job ${job.name} ${label}: ${r.trained ? (kind === 'train' || kind === 'train-run' ? 'trained' : 'computed') : 'already in the store'} (${r.seconds.toFixed(1)} s)`);
        return r;
      } catch (e) {
        if (e instanceof DelayedError) throw e;
        const reason = mask(encodeFailure(e));
        if (isDeterministicFailure(e)) {
          stats.failed++;
          log(`job ${job.name} ${label}: failed (not retried): ${reason}`);
          // the reason (masked) is what crosses the queue; the original stays as the cause
          const err = new UnrecoverableError(reason);
          err.cause = e;
          throw err;
        }
        log(`job ${job.name} ${label}: failed (will be retried if attempts remain): ${reason}`);
        throw new Error(reason, { cause: e });
      }
    },
    { connection: conn.redis, concurrency, lockDuration: lockMs, stalledInterval: Math.max(500, Math.floor(lockMs / 2)), maxStalledCount: maxStalled, autorun: true },
  );
  let lastErr = '';
  worker.on('error', (e: Error) => {
    const line = mask(e.message);
    if (line !== lastErr) log(`queue ${target.display}: ${line}`);
    lastErr = line;
  });
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  let closing: Promise<void> | null = null;
  const finish = async (force: boolean): Promise<void> => {
    await worker.close(force).catch(() => undefined);
    for (const s of slots) for (const c of s.contexts.values()) await c.close().catch(() => undefined);
    for (const s of slots) for (const pl of s.pools.values()) await pl.close().catch(() => undefined);
    await conn.close();
    resolveDone();
  };
  await worker.waitUntilReady();
  log(`worker ${host} (PID ${process.pid}) on queue '${name}' at ${target.display}: up to ${concurrency} job${concurrency === 1 ? '' : 's'} at once, lock ${lockSeconds} s`);
  return {
    target,
    name,
    stats,
    done,
    async stop(o = {}) {
      if (o.release === true || closing !== null) {
        releasing = true;
        for (const s of slots) s.ctl.abort();
        await (closing ?? (closing = finish(false)));
        return;
      }
      closing = finish(false);
      await closing;
    },
  };
}


function checkCapturePayload(d: unknown): CapturePayload {
  const bad = (m: string): never => {
    throw new BasisError('CONFIG_INVALID', `queue job payload: ${m} (submitted by another basis version?)`);
  };
  if (d === null || typeof d !== 'object') bad('not an object');
  const p = d as Partial<CapturePayload>;
  if (p.v !== 1) bad(`unknown payload version ${JSON.stringify(p.v)}`);
  if (typeof p.key !== 'string' || !/^[0-9a-f]{64}$/.test(p.key)) bad('key must be 64 hex digits');
  if (typeof p.label !== 'string') bad('label must be a string');
  if (p.versions === null || typeof p.versions !== 'object') bad('versions missing');
  if (p.store === null || typeof p.store !== 'object') bad('store missing');
  if (typeof p.tfBackend !== 'string' || !['cpu', 'wasm', 'tensorflow'].includes(p.tfBackend)) bad(`tfBackend must be cpu, wasm or tensorflow, got ${JSON.stringify(p.tfBackend)}`);
  const c = p.capture as Partial<CaptureSpec> | undefined;
  if (c === null || typeof c !== 'object') bad('capture missing');
  // the capture is one side of a comparison spec: validated by the same checker
  const spec = checkCompareSpec({ metrics: ['permcorr'], data: c!.data, inputs: c!.inputs, split: c!.split, points: c!.points, a: c!.model, b: c!.model }, 'capture');
  return { ...(p as CapturePayload), capture: captureOf(spec, 'a') };
}

/** The fields a `compare` and an evaluation payload share (both memoise into the run cache). */
function checkMemoPayload(d: unknown): EvalPayload {
  const bad = (m: string): never => {
    throw new BasisError('CONFIG_INVALID', `queue job payload: ${m} (submitted by another basis version?)`);
  };
  if (d === null || typeof d !== 'object') bad('not an object');
  const p = d as Partial<EvalPayload>;
  if (p.v !== 1) bad(`unknown payload version ${JSON.stringify(p.v)}`);
  if (typeof p.key !== 'string' || !/^[0-9a-f]{64}$/.test(p.key)) bad('key must be 64 hex digits');
  if (typeof p.label !== 'string') bad('label must be a string');
  if (typeof p.recipeId !== 'string' || p.recipeId === '') bad('recipeId must be a non-empty string');
  if (p.versions === null || typeof p.versions !== 'object') bad('versions missing');
  if (p.store === null || typeof p.store !== 'object') bad('store missing');
  if (typeof p.tfBackend !== 'string' || !['cpu', 'wasm', 'tensorflow'].includes(p.tfBackend)) bad(`tfBackend must be cpu, wasm or tensorflow, got ${JSON.stringify(p.tfBackend)}`);
  if (p.spec === undefined) bad('spec missing');
  return p as EvalPayload;
}

function checkStageComparePayload(d: unknown): ComparePayload {
  const p = checkMemoPayload(d);
  return { ...p, spec: checkCompareSpec(p.spec, 'spec') };
}

function checkRunPayload(d: unknown): TrainRunPayload {
  const bad = (m: string): never => {
    throw new BasisError('CONFIG_INVALID', `queue job payload: ${m} (submitted by another basis version?)`);
  };
  if (d === null || typeof d !== 'object') bad('not an object');
  const p = d as Partial<TrainRunPayload>;
  if (p.v !== 1) bad(`unknown payload version ${JSON.stringify(p.v)}`);
  if (typeof p.key !== 'string' || !/^[0-9a-f]{64}$/.test(p.key)) bad('key must be 64 hex digits');
  if (typeof p.label !== 'string') bad('label must be a string');
  if (typeof p.graph !== 'string') bad('graph must be its stored JSON text');
  if (typeof p.runDir !== 'string' || !isAbsolute(p.runDir)) bad('runDir must be an absolute folder path');
  if (p.versions === null || typeof p.versions !== 'object') bad('versions missing');
  if (p.meta === null || typeof p.meta !== 'object') bad('meta missing');
  const data = parseDataSpec(p.data, 'job.data');
  const recipe = parseTrainSettings(p.recipe, 'job.recipe');
  return { ...(p as TrainRunPayload), data, recipe };
}

function checkComparePayload(d: unknown): CompareRowPayload {
  const bad = (m: string): never => {
    throw new BasisError('CONFIG_INVALID', `queue job payload: ${m} (submitted by another basis version?)`);
  };
  if (d === null || typeof d !== 'object') bad('not an object');
  const p = d as Partial<CompareRowPayload>;
  if (p.v !== 1) bad(`unknown payload version ${JSON.stringify(p.v)}`);
  if (typeof p.key !== 'string' || !/^[0-9a-f]{64}$/.test(p.key)) bad('key must be 64 hex digits');
  if (typeof p.label !== 'string') bad('label must be a string');
  const layer = (l: unknown, f: string): { name: string; path: string } => {
    const o = l as { name?: unknown; path?: unknown } | null;
    if (o === null || typeof o !== 'object' || typeof o.name !== 'string' || typeof o.path !== 'string' || !isAbsolute(o.path)) return bad(`${f} must be { name, path } with an absolute path`);
    return { name: o.name, path: o.path };
  };
  layer(p.a, 'a');
  if (!Array.isArray(p.b) || p.b.length === 0) bad('b must list at least one layer');
  p.b!.forEach((l, i) => layer(l, `b[${i}]`));
  if (!Array.isArray(p.metrics) || p.metrics.length === 0 || !p.metrics.every((m) => typeof m === 'string')) bad('metrics must list metric ids');
  if (p.options === null || typeof p.options !== 'object') bad('options missing');
  if (typeof p.result !== 'string' || !isAbsolute(p.result)) bad('result must be an absolute file path');
  if (p.versions === null || typeof p.versions !== 'object') bad('versions missing');
  return p as CompareRowPayload;
}

/** Keys of `o` in order (versions compare regardless of key order). */
function sorted(o: Record<string, string>): Array<[string, string]> {
  return Object.entries(o).sort(([a], [b]) => a.localeCompare(b));
}

/** A payload whose job has been parsed and validated. */
type CheckedPayload = Omit<TrainPayload, 'job'> & { job: ModelJob };

function checkPayload(d: unknown): CheckedPayload {
  const bad = (m: string): never => {
    throw new BasisError('CONFIG_INVALID', `queue job payload: ${m} (submitted by another basis version?)`);
  };
  if (d === null || typeof d !== 'object') bad('not an object');
  const p = d as Partial<TrainPayload>;
  if (p.v !== 1) bad(`unknown payload version ${JSON.stringify(p.v)}`);
  if (typeof p.key !== 'string' || !/^[0-9a-f]{64}$/.test(p.key)) bad('key must be 64 hex digits');
  if (typeof p.label !== 'string') bad('label must be a string');
  if (p.versions === null || typeof p.versions !== 'object') bad('versions missing');
  if (p.store === null || typeof p.store !== 'object') bad('store missing');
  if (typeof p.job !== 'string') bad('job must be its stored JSON text');
  let job: unknown;
  try {
    job = parseStored(p.job as string);
  } catch (e) {
    throw new BasisError('CONFIG_INVALID', `queue job payload: job is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  return { ...(p as TrainPayload), job: checkModelJob(job, 'job') };
}

/**
 * When `mdir` is locked by a process on another host whose heartbeat file is older than
 * `staleMs` (or missing and the lock older than that), the lock is stale: that worker died and its
 * queue lock expired, so this worker takes it over. A lock of this host is left to lockDir (it
 * knows whether the PID lives).
 */
export async function takeOverForeignLock(mdir: string, host: string, staleMs: number, log: (line: string) => void): Promise<boolean> {
  const owner = await readDirLock(mdir).catch(() => null);
  if (owner === null || owner.host === host) return false;
  let last = Date.parse(owner.started);
  try {
    last = Math.max(last, (await stat(join(mdir, HEARTBEAT))).mtimeMs);
  } catch {
    // no heartbeat: the lock's age decides
  }
  if (!(Date.now() - last > staleMs)) {
    throw new BasisError('IO', `model folder ${mdir} is being written by ${owner.host} (PID ${owner.pid}), whose heartbeat is ${((Date.now() - last) / 1000).toFixed(0)} s old; retry later`);
  }
  const text = await readFile(join(mdir, LOCK_FILE), 'utf8').catch(() => '');
  if (text.includes(owner.token)) {
    await rm(join(mdir, LOCK_FILE), { force: true });
    log(`took over the lock of ${mdir} from ${owner.host} (PID ${owner.pid}): no heartbeat for ${((Date.now() - last) / 1000).toFixed(0)} s`);
  }
  return true;
}
