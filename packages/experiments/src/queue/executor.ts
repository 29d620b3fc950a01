// The queue executor: the run context's missing models become BullMQ jobs (one per content key,
// whoever submits it), `basis worker` processes on any number of machines train them into the
// shared artifact store, and the submitter waits for the artifacts. The store, not Redis, is the
// record of finished work: when Redis restarts and loses its jobs, the submitter re-enqueues what
// the store still lacks.
import { Queue, QueueEvents, type Job } from 'bullmq';
import { BasisError, engineInfo } from '@basis/tensor';
import type { ModelJob } from '../runner/context.js';
import { forwardFlops } from '../runner/cost.js';
import type { EvalJobTask } from '../runner/eval-task.js';
import type { CaptureTask, CompareTask, Executor, StageEnv, TrainEnv, TrainHooks, TrainTask } from '../runner/executor.js';
import { stringifyStored } from '../runner/json.js';
import { captureArtifact, memoArtifact } from '../runner/stages.js';
import { DEFAULT_QUEUE_NAME, EVAL_JOB_KINDS, connectQueue, decodeFailure, jobId, type CapturePayload, type ComparePayload, type EvalPayload, type JobKind, type QueueConnection, type TrainPayload } from './common.js';
import { modelArtifact, openStore, type ArtifactStore } from './store.js';
import { maskSecrets, type QueueTarget } from './url.js';

/**
 * Options of {@link createQueueExecutor}.
 *
 * @example
 * ```ts
 * const opts: QueueExecutorOptions = { queue: 'env:BASIS_QUEUE_URL', onStatus: (kind, s) => console.error(kind, s) };
 * ```
 */
export interface QueueExecutorOptions {
  /** `redis://HOST:PORT`, `rediss://USER:PASSWORD@HOST:PORT`, `env:NAME`, or undefined for `BASIS_QUEUE`. */
  queue?: string | QueueTarget;
  /** BullMQ queue name (default 'basis'); workers must listen on the same name. */
  name?: string;
  /** Tries of a job that fails for a reason a retry may fix (default 3); deterministic failures fail once. */
  attempts?: number;
  /**
   * How often the submitter looks at the store and the queue when no queue event arrives, in ms
   * (default 2000). A job that completes or fails wakes it at once (BullMQ's event stream), so
   * dependent jobs are enqueued without waiting for the next look; the periodic look is the safety
   * net for what events cannot tell (a restarted Redis that lost its jobs).
   */
  pollMs?: number;
  /** Seconds to wait for the first connection (default 10). */
  connectSeconds?: number;
  /** State of the jobs of each kind while waiting (after every poll that changed it). */
  onStatus?: (kind: string, status: QueueStatusLine) => void;
}

/**
 * The jobs of one kind of one submission: done (artifact in the store), running on a worker,
 * waiting in the queue (or for a dependency), failed.
 *
 * @example
 * ```ts
 * const s: QueueStatusLine = { total: 12, done: 5, active: 2, waiting: 5, failed: 0 };
 * ```
 */
export interface QueueStatusLine {
  total: number;
  done: number;
  active: number;
  waiting: number;
  failed: number;
}

/** A {@link Executor} backed by a Redis queue, with its connection. */
export interface QueueExecutor extends Executor {
  readonly kind: 'queue';
  readonly target: QueueTarget;
  stages(captures: CaptureTask[], compares: CompareTask[], env: StageEnv, hooks: TrainHooks): Promise<void>;
  evaluate(tasks: EvalJobTask[], env: StageEnv, hooks: TrainHooks): Promise<void>;
  readonly name: string;
  /** Jobs added so far by this executor, re-additions included (a Redis restart that lost jobs makes this grow; two submitters adding one job at once both count it, BullMQ keeps one job per id). */
  readonly enqueued: number;
  /**
   * The generic form of `train`: runs jobs of any kind a worker knows, each done once its
   * `artifact` exists in `store`. `train` is this with `train` jobs of the run cache.
   */
  runJobs(jobs: QueueJob[], store: ArtifactStore, hooks: TrainHooks): Promise<void>;
}

/**
 * One job for {@link QueueExecutor.runJobs}: its kind, content key (the job id), label, the keys of
 * jobs of the same call that must be done first, the artifact that marks it done, and its payload.
 *
 * @example
 * ```ts
 * const j: QueueJob = { kind: 'train-run', key, label: 'seed 1', deps: [], artifact: 'runs/seed-1/summary.json', payload };
 * ```
 */
export interface QueueJob {
  kind: JobKind;
  key: string;
  label: string;
  deps: string[];
  artifact: string;
  payload: unknown;
}

interface Pending {
  task: QueueJob;
  id: string;
  /** Added by this submission (a failure of it is this submission's failure). */
  ours: boolean;
  done: boolean;
  readds: number;
}

/**
 * Connects to the queue and returns an {@link Executor} for `createRunContext({ executor })` or
 * `runRecipe(id, { executor })`. Each missing model becomes a `train` job whose id is its content
 * key (a model two submitters need is trained once); a model whose warm start (`init.from`) is in
 * the same batch is enqueued once that one exists. While waiting it polls the store (the record of
 * finished work) and the queue: a job Redis no longer knows (restart) is enqueued again; a job that
 * failed deterministically rejects with the worker's error code and message (no retries); others
 * are retried `attempts` times by BullMQ. Interrupting (`hooks.signal`) stops the wait; queued jobs
 * stay and their results land in the store for the next run.
 *
 * @example
 * ```ts
 * import { createQueueExecutor, runRecipe } from '@basis/experiments/node';
 * const executor = await createQueueExecutor({ queue: 'redis://10.0.0.5:6379' });
 * try {
 *   await runRecipe('E000-1', { profile: 'standard', out: 'out/E000-1', cacheDir: '/shared/cache', executor });
 * } finally {
 *   await executor.close();
 * }
 * ```
 */
/** Estimated training work of a model job: epochs x forward FLOPs per example (for ordering only). */
export function trainWork(job: ModelJob): number {
  const r = job.recipe as unknown;
  const epochs = typeof r === 'object' && r !== null && typeof (r as { epochs?: unknown }).epochs === 'number' ? (r as { epochs: number }).epochs : 1;
  return epochs * forwardFlops(job.model);
}

export async function createQueueExecutor(opts: QueueExecutorOptions = {}): Promise<QueueExecutor> {
  const name = opts.name ?? DEFAULT_QUEUE_NAME;
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,100}$/.test(name)) throw new BasisError('USAGE', `queue name must be 1-100 letters, digits, '_', '.' or '-', got ${JSON.stringify(name)}`);
  const attempts = opts.attempts ?? 3;
  if (!Number.isInteger(attempts) || attempts < 1) throw new BasisError('USAGE', `attempts must be a positive integer, got ${String(attempts)}`);
  const pollMs = opts.pollMs ?? 2000;
  if (!(pollMs >= 10)) throw new BasisError('USAGE', `pollMs must be at least 10, got ${String(pollMs)}`);
  const connectSeconds = opts.connectSeconds ?? 10;
  let lastError: string | null = null;
  // the wait callback of the train() call in progress: told once when Redis goes away
  let notify: ((line: string) => void) | null = null;
  const conn: QueueConnection = await connectQueue(opts.queue, {
    timeoutMs: connectSeconds * 1000,
    onError: (line) => {
      if (lastError === null) notify?.(`${line}; waiting for the queue to come back (finished models stay in the store)`);
      lastError = line;
    },
  });
  conn.redis.on('ready', () => {
    if (lastError !== null) notify?.(`queue ${conn.target.display} is reachable again: jobs it lost are enqueued again`);
    lastError = null;
  });
  const target = conn.target;
  const queue = new Queue(name, { connection: conn.redis });
  queue.on('error', () => undefined); // reported through the connection's masked error
  // job events (completed, failed, progress) on a connection of their own (BullMQ duplicates it for
  // its blocking reads): they wake the waiting submitter at once instead of at its next look
  const events = new QueueEvents(name, { connection: conn.redis });
  events.on('error', () => undefined);
  const listeners = new Set<(e: { kind: 'done' | 'progress'; jobId: string; data?: unknown }) => void>();
  events.on('completed', ({ jobId }) => listeners.forEach((f) => f({ kind: 'done', jobId })));
  events.on('failed', ({ jobId }) => listeners.forEach((f) => f({ kind: 'done', jobId })));
  events.on('progress', ({ jobId, data }) => listeners.forEach((f) => f({ kind: 'progress', jobId, data })));
  await events.waitUntilReady().catch(() => undefined);
  let enqueued = 0;

  const add = async (p: Pending): Promise<void> => {
    await queue.add(p.task.kind, p.task.payload, {
      jobId: p.id,
      attempts,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
    p.ours = true;
    enqueued++;
  };

  const executor: QueueExecutor = {
    kind: 'queue',
    description: `job queue ${target.display} (queue '${name}')`,
    target,
    name,
    get enqueued() {
      return enqueued;
    },
    async train(tasks: TrainTask[], env: TrainEnv, hooks: TrainHooks): Promise<void> {
      const store = openStore({ kind: 'dir', root: env.dir });
      const eng = engineInfo() as unknown as Record<string, unknown>;
      const engine = { provider: eng['provider'], library: eng['library'], coreType: eng['coreType'], threads: eng['threads'], blas: process.env['BASIS_BLAS'] ?? null };
      const jobs = tasks.map((t): QueueJob => {
        const payload: TrainPayload = {
          v: 1,
          key: t.key,
          job: stringifyStored(t.job),
          label: t.label,
          store: store.spec,
          versions: env.versions,
          ...(env.backend === undefined ? {} : { backend: env.backend }),
          engine,
        };
        return { kind: 'train', key: t.key, label: t.label, deps: t.deps, artifact: modelArtifact(t.key), payload };
      });
      // longest first (LPT): jobs are enqueued, and so taken by the workers, in the order of the
      // list, and a large model started last would leave the other workers idle at the end.
      // Estimated work: epochs x forward cost of the model (the data are shared within a run).
      const work = new Map(tasks.map((t) => [t.key, trainWork(t.job)]));
      jobs.sort((a, b) => (work.get(b.key) as number) - (work.get(a.key) as number));
      await executor.runJobs(jobs, store, hooks);
    },
    async stages(captures: CaptureTask[], compares: CompareTask[], env: StageEnv, hooks: TrainHooks): Promise<void> {
      const store = openStore({ kind: 'dir', root: env.dir });
      const jobs: QueueJob[] = captures.map((c) => {
        const payload: CapturePayload = { v: 1, key: c.key, label: c.label, store: store.spec, versions: env.versions, tfBackend: env.tfBackend, capture: c.capture };
        return { kind: 'capture', key: c.key, label: c.label, deps: [], artifact: captureArtifact(c.key), payload };
      });
      for (const c of compares) {
        const payload: ComparePayload = { v: 1, key: c.key, label: c.label, store: store.spec, versions: env.versions, recipeId: env.recipeId, tfBackend: env.tfBackend, spec: c.spec };
        // a comparison is enqueued once both its captures are in the store
        jobs.push({ kind: 'compare', key: c.key, label: c.label, deps: [...new Set([c.a, c.b])], artifact: memoArtifact(c.key), payload });
      }
      // progress of the comparisons only (captures are their means)
      const of = new Set(compares.map((c) => c.key));
      await executor.runJobs(jobs, store, { ...hooks, onProgress: (k, f) => (of.has(k) ? hooks.onProgress(k, f) : undefined) });
    },
    async evaluate(tasks: EvalJobTask[], env: StageEnv, hooks: TrainHooks): Promise<void> {
      const store = openStore({ kind: 'dir', root: env.dir });
      const jobs = tasks.map((t): QueueJob => {
        if (!(EVAL_JOB_KINDS as readonly string[]).includes(t.kind)) throw new BasisError('CONFIG_INVALID', `evaluation task '${t.kind}' is not a job kind the queue workers run (${EVAL_JOB_KINDS.join(', ')})`);
        const payload: EvalPayload = { v: 1, key: t.key, label: t.label, store: store.spec, versions: env.versions, recipeId: env.recipeId, tfBackend: env.tfBackend, spec: t.spec };
        return { kind: t.kind as JobKind, key: t.key, label: t.label, deps: [], artifact: memoArtifact(t.key), payload };
      });
      await executor.runJobs(jobs, store, hooks);
    },
    async runJobs(tasks: QueueJob[], store: ArtifactStore, hooks: TrainHooks): Promise<void> {
      const where = store.description;
      const pending = new Map<string, Pending>(tasks.map((t) => [t.key, { task: t, id: jobId(t.kind, t.key), ours: false, done: false, readds: 0 }]));
      const wait = hooks.onWait ?? (() => undefined);
      const what = (p: Pending): string => `${p.task.label} (${p.task.key.slice(0, 12)})`;
      let counts = { active: 0, waiting: 0, failed: 0 };
      const countsByKind = new Map<string, { active: number; waiting: number; failed: number }>();
      const bump = (p: Pending, k: 'active' | 'waiting' | 'failed'): void => {
        counts[k]++;
        const c = countsByKind.get(p.task.kind) ?? { active: 0, waiting: 0, failed: 0 };
        c[k]++;
        countsByKind.set(p.task.kind, c);
      };

      /** One look at every unfinished task: the store first (the record of finished work), then the queue. */
      const poll = async (): Promise<void> => {
        counts = { active: 0, waiting: 0, failed: 0 };
        countsByKind.clear();
        for (const p of pending.values()) {
          if (p.done) continue;
          if (await store.has(p.task.artifact)) {
            p.done = true;
            hooks.onProgress(p.task.key, 1);
            continue;
          }
          if (p.task.deps.some((d) => pending.get(d)?.done === false)) {
            bump(p, 'waiting');
            continue;
          }
          const job: Job | undefined = await queue.getJob(p.id);
          const state = job === undefined ? 'unknown' : await job.getState();
          if (job === undefined || state === 'unknown') {
            if (p.ours) wait(`queue ${target.display} no longer holds job ${what(p)}, whose model is not in the store: enqueued again`);
            await add(p);
            bump(p, 'waiting');
            continue;
          }
          if (state === 'failed') {
            if (!p.ours) {
              // a failure left from an earlier submission: this submission tries again
              await job.remove();
              await add(p);
              bump(p, 'waiting');
              continue;
            }
            bump(p, 'failed');
            throw decodeFailure(job.failedReason ?? 'no reason recorded', `${p.task.kind === 'train' ? 'training' : p.task.kind} ${what(p)}`);
          }
          if (state === 'completed') {
            // the worker may have finished between the two looks
            if (await store.has(p.task.artifact)) {
              p.done = true;
              hooks.onProgress(p.task.key, 1);
              continue;
            }
            // completed without its artifact (the store was cleaned since): run it again
            if (p.readds >= 3) throw new BasisError('IO', `job ${what(p)} completed ${p.readds + 1} times on workers but the ${where} never showed ${p.task.artifact}: do the workers see the same folder at the same path?`);
            p.readds++;
            await job.remove();
            await add(p);
            bump(p, 'waiting');
            continue;
          }
          p.ours = true; // also an identical job queued by another submitter: shared
          if (state === 'active') {
            bump(p, 'active');
            const f = typeof job.progress === 'number' ? job.progress : 0;
            if (f > 0 && f < 1) hooks.onProgress(p.task.key, f);
          } else bump(p, 'waiting');
        }
      };

      const byId = new Map([...pending.values()].map((p) => [p.id, p]));
      let wakeUp: (() => void) | null = null;
      // an event that arrived while a look was under way: look again at once
      let woken = false;
      const listener = (e: { kind: 'done' | 'progress'; jobId: string; data?: unknown }): void => {
        const p = byId.get(e.jobId);
        if (p === undefined || p.done) return;
        if (e.kind === 'done') {
          if (wakeUp !== null) wakeUp();
          else woken = true;
        } else if (typeof e.data === 'number' && e.data > 0 && e.data < 1) hooks.onProgress(p.task.key, e.data);
      };
      listeners.add(listener);
      notify = wait;
      let lastLine = '';
      let lastTrouble = '';
      try {
        for (;;) {
          if (hooks.signal.aborted) {
            throw new BasisError('INVALID_ARGUMENT', `interrupted while waiting for the queue ${target.display}; the queued jobs stay there and their results land in the ${where} (run again to collect them)`, { details: { aborted: true } });
          }
          // while Redis is down its commands wait for the reconnection; an interrupt does not
          try {
            await untilAborted(poll(), hooks.signal);
          } catch (e) {
            if (e instanceof BasisError) throw e;
            // a connection error (Redis restarting): finished work is in the store; look again
            const why = maskSecrets(e instanceof Error ? e.message : String(e), target);
            if (why !== lastTrouble) wait(`queue ${target.display}: ${why}; retrying`);
            lastTrouble = why;
            await sleep(Math.max(pollMs, 1000), hooks.signal);
            continue;
          }
          lastTrouble = '';
          if (hooks.signal.aborted) continue;
          const done = [...pending.values()].filter((p) => p.done).length;
          const line = `${done}/${pending.size}/${counts.active}/${counts.waiting}/${counts.failed}`;
          if (line !== lastLine) {
            for (const kind of new Set(tasks.map((t) => t.kind))) {
              const of = [...pending.values()].filter((p) => p.task.kind === kind);
              const c = countsByKind.get(kind) ?? { active: 0, waiting: 0, failed: 0 };
              opts.onStatus?.(kind, { total: of.length, done: of.filter((p) => p.done).length, ...c });
            }
            lastLine = line;
          }
          if (done === pending.size) return;
          if (woken) {
            woken = false;
            continue;
          }
          // until the next look, or a job of this call completes or fails (then a few ms more, so a
          // burst of completions is one look)
          await new Promise<void>((r) => {
            const finish = (): void => {
              clearTimeout(t);
              hooks.signal.removeEventListener('abort', finish);
              wakeUp = null;
              r();
            };
            const t = setTimeout(finish, pollMs);
            hooks.signal.addEventListener('abort', finish, { once: true });
            wakeUp = () => {
              wakeUp = null;
              clearTimeout(t);
              setTimeout(finish, 15);
            };
          });
        }
      } catch (e) {
        if (e instanceof BasisError) throw e;
        throw new BasisError('IO', `job queue ${target.display}: ${maskSecrets(e instanceof Error ? e.message : String(e), target)}`, { cause: e });
      } finally {
        notify = null;
        listeners.delete(listener);
      }
    },
    async close() {
      await events.close().catch(() => undefined);
      await queue.close().catch(() => undefined);
      await conn.close();
    },
  };
  return executor;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((r) => {
    const done = (): void => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      r();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** `p`, or nothing as soon as `signal` aborts (p's rejection is then ignored). */
function untilAborted(p: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.resolve();
  }
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      p.catch(() => undefined);
      resolve();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    // p's own outcome (value or rejection reason, passed on as it is) once the listener is gone
    p.finally(() => signal.removeEventListener('abort', onAbort)).then(resolve, reject);
  });
}
