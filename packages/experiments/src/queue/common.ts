// Shared by the submitter (queue executor), the workers and `basis queue`: the connection to
// Redis (credentials masked in every message), the job payloads and how errors cross the queue.
import { Redis } from 'ioredis';
import { BasisError, isBasisError, type BasisErrorCode } from '@basis/tensor';
import type { BackendPreference } from '@basis/tensor/backend';
import type { DataSpec, TrainSettings } from '@basis/zoo';
import type { CaptureSpec, CompareSpec } from '../runner/stages.js';
import type { StoreSpec } from './store.js';
import { maskSecrets, resolveQueueUrl, type QueueTarget } from './url.js';

/** Name of the BullMQ queue when none is given (`--name`). */
export const DEFAULT_QUEUE_NAME = 'basis';

/**
 * Job kinds a worker runs (the BullMQ job name): `train`, a model of a run cache (`basis reproduce
 * --queue`); `capture`, the activations of one model of a run cache at some layers; `compare`, the
 * metrics between two captures, memoised in the run cache (both from `RunContext.compare` of a
 * reproduction); `mode-pair`, the interpolation curve and LLFC of a pair of cached models (an
 * evaluation task of `RunContext.evaluate`, E004-1/2/3), memoised in the run cache; `train-run`, one
 * seed of `basis train --seeds … --queue` into its run directory; `compare-row`, one layer of A
 * against every layer of B (`basis compare --layers … --queue`).
 */
export type JobKind = 'train' | 'capture' | 'compare' | 'mode-pair' | 'train-run' | 'compare-row';

/** Every job kind a worker of this version runs. */
export const JOB_KINDS: readonly JobKind[] = ['train', 'capture', 'compare', 'mode-pair', 'train-run', 'compare-row'];

/** The job kinds that are evaluation tasks (`RunContext.evaluate`): their payload is an {@link EvalPayload}. */
export const EVAL_JOB_KINDS: readonly JobKind[] = ['mode-pair'];

/**
 * The payload of an evaluation job (kind `mode-pair`, …): one evaluation task of
 * `RunContext.evaluate`, computed from the models of the store on the submitter's tfjs backend and
 * memoised as `cache/<key>.json` (the file the local run writes). `key` must be the memo hash of the
 * task's memo key of `spec` under `recipeId` and `versions`.
 *
 * @example
 * ```ts
 * const p: EvalPayload = { v: 1, key, label: 'independent pair 0', store, versions, recipeId: 'E004-1', tfBackend: 'cpu', spec };
 * ```
 */
export interface EvalPayload extends Omit<ComparePayload, 'spec'> {
  /** The task's spec (validated by the task on the worker). */
  spec: unknown;
}

/**
 * The payload of a `capture` job: the activations of one model of the run cache (or an untrained
 * one like it) at some capture points, written to `captures/<key>.safetensors` of the store. The
 * worker runs the forward pass on the submitter's tfjs backend (`tfBackend`), and checks that
 * `key` is the content key of the capture.
 *
 * @example
 * ```ts
 * const p: CapturePayload = { v: 1, key, label: 'model 3fa2…', store: { kind: 'dir', root: '/shared/cache' }, versions, tfBackend: 'cpu', capture };
 * ```
 */
export interface CapturePayload {
  v: 1;
  key: string;
  label: string;
  store: StoreSpec;
  versions: Record<string, string>;
  tfBackend: string;
  capture: CaptureSpec;
}

/**
 * The payload of a `compare` job: one comparison of `RunContext.compare`, read from the two
 * captures of its spec and memoised in the run cache as `cache/<key>.json` (the file the local
 * run writes). `key` must be the memo hash of the spec under `recipeId` and `versions`.
 *
 * @example
 * ```ts
 * const p: ComparePayload = { v: 1, key, label: 'width 16 pair 0-1', store, versions, recipeId: 'E000-1', tfBackend: 'cpu', spec };
 * ```
 */
export interface ComparePayload {
  v: 1;
  key: string;
  label: string;
  store: StoreSpec;
  versions: Record<string, string>;
  recipeId: string;
  tfBackend: string;
  spec: CompareSpec;
}

/**
 * The payload of a `train` job: everything a worker on another machine needs to train one model
 * of a run cache exactly as the submitter's local pool would. The engine settings of the
 * submitter are recorded beside it (`engine`), and the worker records its own in the job result.
 *
 * @example
 * ```ts
 * const p: TrainPayload = { v: 1, key, job: stringifyStored(job), label: 'seed 1', store: { kind: 'dir', root: '/shared/cache' }, versions, engine: { provider: 'native', coreType: 'Haswell', threads: 1 } };
 * ```
 */
export interface TrainPayload {
  v: 1;
  key: string;
  /** The {@link ModelJob} as `stringifyStored` text (typed arrays of warm starts survive the trip). */
  job: string;
  label: string;
  store: StoreSpec;
  versions: Record<string, string>;
  backend?: BackendPreference;
  /** The submitter's compute engine (provider, BLAS core type, threads), recorded for the comparison with local runs. */
  engine: Record<string, unknown>;
}

/**
 * The payload of a `train-run` job: one seed of `basis train`, trained into `runDir` (a folder on
 * the shared filesystem) exactly as the local `trainSeeds` would: the same graph, data, recipe
 * (with the seed) and run-directory metadata. Done once `runDir/queue-result.json` exists.
 *
 * @example
 * ```ts
 * const p: TrainRunPayload = { v: 1, key, label: 'seed 1', graph: stringifyStored(graph), data: { dataset: 'mnist' }, recipe: { ...recipe, seed: 1 }, runDir: '/shared/runs/mlp/seed-1', meta: {}, versions, engine: {} };
 * ```
 */
export interface TrainRunPayload {
  v: 1;
  key: string;
  label: string;
  /** The ModelGraph as `stringifyStored` text. */
  graph: string;
  data: DataSpec;
  recipe: TrainSettings;
  runDir: string;
  meta: Record<string, unknown>;
  versions: Record<string, string>;
  backend?: BackendPreference;
  engine: Record<string, unknown>;
}

/**
 * The payload of a `compare-row` job: one layer of A (an .npy file on the shared filesystem)
 * compared with every layer of B by each metric, exactly as `compareLayers` computes those cells.
 * The row is written to `result` (an absolute path) as JSON: `{ key, values: { [metric]: number[] },
 * options, engine }`.
 *
 * @example
 * ```ts
 * const p: CompareRowPayload = { v: 1, key, label: 'layer0', a: { name: 'layer0', path: '/shared/acts/s0/layer0.npy' }, b: [{ name: 'layer0', path: '/shared/acts/s1/layer0.npy' }], metrics: ['cka.linear'], options: {}, result: '/shared/audit/.basis-queue/<key>.json', versions };
 * ```
 */
export interface CompareRowPayload {
  v: 1;
  key: string;
  label: string;
  a: { name: string; path: string };
  b: Array<{ name: string; path: string }>;
  metrics: string[];
  options: Record<string, Record<string, unknown>>;
  result: string;
  versions: Record<string, string>;
}

/** The artifact of a finished `train-run` job, inside its run directory. */
export const TRAIN_RUN_RESULT = 'queue-result.json';

/**
 * What a worker returns for a finished job (kept by BullMQ as the job's return value).
 *
 * @example
 * ```ts
 * const r: TrainJobOutcome = { key, trained: true, host: 'node-7', pid: 4242, seconds: 12.5, engine: { provider: 'native', threads: 1 } };
 * ```
 */
export interface TrainJobOutcome {
  key: string;
  /** False when the model already existed in the store (another worker, or an earlier run). */
  trained: boolean;
  host: string;
  pid: number;
  seconds: number;
  engine: Record<string, unknown>;
}

/** The BullMQ job id of a task: its kind and content key (one job per artifact, whoever submits it). */
export function jobId(kind: JobKind, key: string): string {
  return `${kind}-${key}`;
}

/** Codes of failures that running the job again cannot fix: the job fails once, without retries. */
const DETERMINISTIC: ReadonlySet<BasisErrorCode> = new Set<BasisErrorCode>(['CONFIG_INVALID', 'USAGE', 'SHAPE_MISMATCH', 'NON_FINITE_INPUT', 'TOO_SMALL', 'NOT_A_SYMMETRY', 'INVALID_ARGUMENT', 'BAD_FILE', 'BACKEND_UNAVAILABLE']);

/**
 * True when `e` is a failure that a retry cannot fix (a BasisError of a configuration, shape or
 * input kind, not an interruption); such a job fails once with its message.
 *
 * @example
 * ```ts
 * isDeterministicFailure(new BasisError('CONFIG_INVALID', 'bad lr')); // true
 * isDeterministicFailure(new BasisError('IO', 'disk full')); // false: retried
 * ```
 */
export function isDeterministicFailure(e: unknown): boolean {
  return isBasisError(e) && DETERMINISTIC.has(e.code) && e.details?.['aborted'] !== true;
}

/** A failure as it is stored in the queue (the job's failedReason): `[CODE] message`. */
export function encodeFailure(e: unknown): string {
  if (isBasisError(e)) return `[${e.code}] ${e.message}`;
  return `[INTERNAL] ${e instanceof Error ? e.message : String(e)}`;
}

/**
 * The BasisError of a failedReason written by {@link encodeFailure} (other reasons, e.g. BullMQ's
 * own "job stalled more than allowable limit", become IO).
 *
 * @example
 * ```ts
 * decodeFailure('[CONFIG_INVALID] jobs[0].recipe.optimizer.lr must be > 0', 'train seed 1').code; // 'CONFIG_INVALID'
 * ```
 */
export function decodeFailure(reason: string, what: string): BasisError {
  const m = /^\[([A-Z_]+)\] ([\s\S]*)$/.exec(reason);
  const known = ['SHAPE_MISMATCH', 'NON_FINITE_INPUT', 'TOO_SMALL', 'RANK_DEFICIENT', 'BAD_FILE', 'NOT_A_SYMMETRY', 'CONFIG_INVALID', 'INVALID_ARGUMENT', 'NOT_CONVERGED', 'INFEASIBLE', 'BACKEND_UNAVAILABLE', 'USAGE', 'IO'];
  if (m !== null && known.includes(m[1]!)) return new BasisError(m[1] as BasisErrorCode, `${what} failed on a queue worker: ${m[2]!}`);
  return new BasisError('IO', `${what} failed on a queue worker: ${m === null ? reason : m[2]!}`);
}

/**
 * An open Redis connection for BullMQ (retries forever while Redis restarts; commands wait for
 * it), with its target for masking.
 *
 * @example
 * ```ts
 * const c = await connectQueue('redis://127.0.0.1:6379');
 * await c.redis.ping();
 * await c.close();
 * ```
 */
export interface QueueConnection {
  readonly target: QueueTarget;
  readonly redis: Redis;
  /** The last connection error (masked), or null while connected. */
  lastError(): string | null;
  close(): Promise<void>;
}

/**
 * Connects to the queue named by `spec` (see `resolveQueueUrl`), waiting at most `timeoutMs`
 * (default 10 s) for the first connection: IO naming the masked URL when Redis cannot be reached
 * or refuses the password. Later disconnections are retried for ever (a restarting Redis).
 *
 * @example
 * ```ts
 * const c = await connectQueue('env:BASIS_QUEUE_URL', { timeoutMs: 5000 });
 * ```
 */
export async function connectQueue(spec: string | QueueTarget | undefined, opts: { timeoutMs?: number; onError?: (line: string) => void } = {}): Promise<QueueConnection> {
  const target = typeof spec === 'object' ? spec : resolveQueueUrl(spec);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  let last: string | null = null;
  const redis = new Redis(target.url, {
    maxRetriesPerRequest: null,
    lazyConnect: true,
    connectTimeout: Math.min(timeoutMs, 10_000),
    retryStrategy: (times) => Math.min(100 * times, 2000),
    ...(target.tls ? { tls: {} } : {}),
  });
  redis.on('error', (e: Error) => {
    const line = maskSecrets(e.message, target);
    if (line !== last) opts.onError?.(`queue ${target.display}: ${line}`);
    last = line;
  });
  redis.on('ready', () => {
    last = null;
  });
  const close = async (): Promise<void> => {
    try {
      await redis.quit();
    } catch {
      redis.disconnect();
    }
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    const attempt = redis.connect().then(() => redis.ping());
    attempt.catch(() => undefined); // settled after a timeout: handled here
    await Promise.race([
      attempt,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(last ?? `no answer within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      }),
    ]);
  } catch (e) {
    redis.disconnect();
    const why = maskSecrets(e instanceof Error ? e.message : String(e), target);
    throw new BasisError('IO', `cannot reach the job queue at ${target.display}: ${why}. Is redis-server running there and reachable from this machine (bind address, firewall, password)?`, { details: { queue: target.display } });
  } finally {
    clearTimeout(timer);
  }
  return { target, redis, lastError: () => last, close };
}
