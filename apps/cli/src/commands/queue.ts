// `basis worker` (runs queued jobs until stopped) and `basis queue status|retry|clear`.
import { BasisError } from '@basis/tensor';
import type { CommandContext } from '../context.js';
import { formatTable } from '../table.js';

/** Flags naming the queue: `--queue` (a URL, `env:NAME`, or empty for BASIS_QUEUE) and `--name`. */
export interface QueueFlags {
  /** The `--queue` value; '' (flag without a value) or undefined read BASIS_QUEUE. */
  queue?: string;
  name?: string;
}

/**
 * Replaces, in place, the password of every redis:// or rediss:// URL among `argv` by `***`
 * (`--queue redis://:pw@host` and `--queue=…`): lock files record the command line
 * (`process.argv`) and errors about a held lock echo it. Returns how many were masked.
 */
export function maskQueueArgv(argv: string[]): number {
  let n = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const m = a.replace(/(rediss?:\/\/[^:/@\s]*:)[^@\s]+@/g, '$1***@');
    if (m !== a) {
      argv[i] = m;
      n++;
    }
  }
  return n;
}

/**
 * `basis worker --queue URL [--concurrency N] [--lock S] [--name Q]`: takes jobs until SIGTERM or
 * SIGINT. The first signal lets the running jobs finish, a second one releases them back to the
 * queue (their checkpoints let another worker resume). Returns the exit code.
 */
export async function runWorkerCommand(ctx: CommandContext, flags: QueueFlags & { concurrency: number; lock: number }): Promise<number> {
  const { startWorker } = await import('@basis/experiments/node');
  const { concurrency, lock: lockSeconds } = flags;
  const t0 = performance.now();
  const worker = await startWorker({
    queue: flags.queue === '' ? undefined : flags.queue,
    ...(flags.name === undefined ? {} : { name: flags.name }),
    concurrency,
    lockSeconds,
    onLog: (line) => ctx.info(`basis worker: ${line}`),
  });
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      ctx.info(`basis worker: ${sig}: finishing the running job${concurrency === 1 ? '' : 's'}, then stopping (send it again to release ${concurrency === 1 ? 'it' : 'them'} back to the queue at once)`);
      void worker.stop();
    } else {
      ctx.info(`basis worker: ${sig} again: releasing the running job${concurrency === 1 ? '' : 's'} back to the queue`);
      void worker.stop({ release: true });
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await worker.done;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  const s = worker.stats;
  const seconds = (performance.now() - t0) / 1000;
  ctx.result({ queue: worker.target.display, name: worker.name, seconds, ...s }, () => `basis worker stopped after ${seconds.toFixed(0)} s: ${s.trained} trained, ${s.reused} already in the store, ${s.failed} failed, ${s.released} released`);
  return 0;
}

/** `basis queue status|retry|clear`. */
export async function runQueueCommand(ctx: CommandContext, action: string, flags: QueueFlags & { force: boolean }): Promise<number> {
  const { queueClear, queueRetry, queueStatus } = await import('@basis/experiments/node');
  const o = { queue: flags.queue === '' ? undefined : flags.queue, ...(flags.name === undefined ? {} : { name: flags.name }) };
  if (action === 'status') {
    const s = await queueStatus(o);
    ctx.result(s, () => {
      const rows = Object.entries(s.kinds).map(([k, c]) => [k, String(c.waiting), String(c.active), String(c.delayed), String(c.completed), String(c.failed)]);
      const lines = [
        `queue '${s.name}' at ${s.queue}: ${s.workers} worker connection${s.workers === 1 ? '' : 's'}`,
        formatTable([['kind', 'waiting', 'running', 'delayed', 'completed', 'failed'], ...(rows.length > 0 ? rows : [['(empty)', '0', '0', '0', '0', '0']])]),
      ];
      for (const f of s.failed.slice(0, 20)) lines.push(`failed ${f.kind} ${f.label} after ${f.attempts} attempt${f.attempts === 1 ? '' : 's'}: ${f.reason}`);
      if (s.failed.length > 20) lines.push(`... and ${s.failed.length - 20} more failed jobs (--json lists them all)`);
      return lines.join('\n');
    });
    return 0;
  }
  if (action === 'retry') {
    const r = await queueRetry(o);
    ctx.result(r, () => `${r.retried} failed job${r.retried === 1 ? '' : 's'} back in the queue`);
    return 0;
  }
  if (action === 'clear') {
    const r = await queueClear({ ...o, force: flags.force });
    ctx.result(r, () => `removed ${r.removed} job${r.removed === 1 ? '' : 's'} from the queue (models already in the store are kept)`);
    return 0;
  }
  throw new BasisError('USAGE', `unknown queue action '${action}': use status, retry or clear`);
}
