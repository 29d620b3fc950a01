// `basis queue status|retry|clear`: what the queue holds, per job kind and state; failed jobs back
// into the queue; an emptied queue. Finished work is in the artifact store and is never touched.
import { Queue, type Job } from 'bullmq';
import { BasisError } from '@basis/tensor';
import { DEFAULT_QUEUE_NAME, connectQueue } from './common.js';
import type { QueueTarget } from './url.js';

/** Job states counted by {@link queueStatus}. */
export const JOB_STATES = ['waiting', 'active', 'delayed', 'completed', 'failed'] as const;

/**
 * The state of a queue: counts per job kind and state, the workers connected, and the failed jobs
 * with their reasons.
 *
 * @example
 * ```ts
 * const s = await queueStatus({ queue: 'redis://127.0.0.1:6379' });
 * s.kinds.train?.failed; // 0
 * ```
 */
export interface QueueStatus {
  queue: string;
  name: string;
  /** Counts over every kind. */
  counts: Record<(typeof JOB_STATES)[number], number>;
  /** Counts per job kind (`train`, …). */
  kinds: Record<string, Record<(typeof JOB_STATES)[number], number>>;
  /** Worker connections BullMQ sees (one per running `basis worker` process). */
  workers: number;
  failed: Array<{ id: string; kind: string; label: string; reason: string; attempts: number }>;
}

/**
 * Options of the `queue*` functions: where the queue is and its name.
 *
 * @example
 * ```ts
 * const o: QueueAdminOptions = { queue: 'env:BASIS_QUEUE_URL', name: 'basis' };
 * ```
 */
export interface QueueAdminOptions {
  queue?: string | QueueTarget;
  name?: string;
  connectSeconds?: number;
}

async function withQueue<T>(o: QueueAdminOptions, f: (q: Queue, display: string, name: string) => Promise<T>): Promise<T> {
  const name = o.name ?? DEFAULT_QUEUE_NAME;
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(name)) throw new BasisError('USAGE', `queue name must be 1-100 letters, digits, '_', '.' or '-', got ${JSON.stringify(name)}`);
  const conn = await connectQueue(o.queue, { timeoutMs: (o.connectSeconds ?? 10) * 1000 });
  const q = new Queue(name, { connection: conn.redis });
  q.on('error', () => undefined);
  try {
    return await f(q, conn.target.display, name);
  } finally {
    await q.close().catch(() => undefined);
    await conn.close();
  }
}

const labelOf = (j: Job): string => {
  const l = (j.data as { label?: unknown } | undefined)?.label;
  return typeof l === 'string' ? l : String(j.id);
};

/**
 * Counts the queue's jobs per kind and state and lists the failed ones (at most 10,000 jobs per
 * state are inspected for the per-kind split).
 *
 * @example
 * ```ts
 * const { counts, workers } = await queueStatus({ queue: 'redis://10.0.0.5:6379' });
 * ```
 */
export async function queueStatus(o: QueueAdminOptions = {}): Promise<QueueStatus> {
  return withQueue(o, async (q, display, name) => {
    const raw = await q.getJobCounts(...JOB_STATES);
    const counts = Object.fromEntries(JOB_STATES.map((s) => [s, raw[s] ?? 0])) as QueueStatus['counts'];
    const kinds: QueueStatus['kinds'] = {};
    const failed: QueueStatus['failed'] = [];
    for (const state of JOB_STATES) {
      if (counts[state] === 0) continue;
      const jobs = await q.getJobs([state], 0, 9999);
      for (const j of jobs) {
        if (j === undefined || j === null) continue;
        const k = (kinds[j.name] ??= { waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 });
        k[state]++;
        if (state === 'failed') failed.push({ id: String(j.id), kind: j.name, label: labelOf(j), reason: j.failedReason ?? '', attempts: j.attemptsMade });
      }
    }
    const workers = (await q.getWorkers()).length;
    return { queue: display, name, counts, kinds, workers, failed };
  });
}

/**
 * Puts every failed job back into the queue (after the cause is fixed, e.g. a missing data file on
 * a worker). Returns how many.
 *
 * @example
 * ```ts
 * const { retried } = await queueRetry({ queue: 'redis://10.0.0.5:6379' });
 * ```
 */
export async function queueRetry(o: QueueAdminOptions = {}): Promise<{ retried: number }> {
  return withQueue(o, async (q) => {
    // one pass over the jobs failed now (a job that fails again at once is not retried twice)
    let retried = 0;
    const jobs = await q.getJobs(['failed'], 0, -1);
    for (const j of jobs) {
      if (j === undefined || j === null) continue;
      await j.retry('failed');
      retried++;
    }
    return { retried };
  });
}

/**
 * Removes the queue's jobs: waiting, delayed, completed and failed ones; with `force`, also the
 * active ones (their workers then fail to complete them, harmlessly: their models still land in
 * the store). Models already in the store are kept. Returns the counts removed.
 *
 * @example
 * ```ts
 * await queueClear({ queue: 'redis://10.0.0.5:6379', force: true });
 * ```
 */
export async function queueClear(o: QueueAdminOptions & { force?: boolean } = {}): Promise<{ removed: number; active: number }> {
  return withQueue(o, async (q) => {
    const before = await q.getJobCounts(...JOB_STATES);
    const total = JOB_STATES.reduce((a, s) => a + (before[s] ?? 0), 0);
    const active = before['active'] ?? 0;
    if (active > 0 && o.force !== true) {
      throw new BasisError('USAGE', `${active} job${active === 1 ? ' is' : 's are'} running on workers; stop the submitter first, or pass --force to remove them too (their results still land in the store)`);
    }
    await q.obliterate({ force: true });
    return { removed: total, active };
  });
}
