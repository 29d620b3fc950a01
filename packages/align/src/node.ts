// Node-only entry of @basis/align (`@basis/align/node`): all-pairs audits on worker threads.
// The main entry stays free of node: imports so that it runs in browsers.
import type { Worker } from 'node:worker_threads';
import { BasisError, limitThreads, threadBudget, workerEngine, type Matrix, type WorkerEngineSettings } from '@basis/tensor';
import { fromWireError, startWorkers, toShared, watchWorker, workerScript } from '@basis/tensor/node';
import { auditCell, auditResult, prepareAudit, type AuditProgress, type LayerAudit, type Layers, type PreparedAudit } from './audit.js';
import type { FromWorker, ToWorker, WireLayer } from './audit-worker.js';
import type { CacheTree } from './prep.js';
import type { ResolvedOptions } from './types.js';

/** Options of {@link compareLayersParallel}. */
export interface ParallelAuditOptions {
  /** Called after every (metric, layer pair) cell: cells done, total, and which cell finished. */
  onProgress?: AuditProgress;
  /** Per-metric options, as for `compareLayers`. */
  options?: Record<string, Record<string, unknown>>;
  /**
   * Worker threads to use for large audits (default: the engine's thread budget, `threadBudget()`,
   * never more than the cells left). 1 or less runs the whole audit in the calling thread, exactly
   * as `compareLayers`. With more, every cell (in the calling thread too) is computed with the
   * workers' share of the BLAS threads, `max(1, floor(budget / workers))`.
   */
  workers?: number;
  /**
   * Estimated serial seconds below which the audit stays in the calling thread (default
   * {@link DEFAULT_MIN_SECONDS}): starting the workers costs about 0.3 s (about 1 s when running
   * from TypeScript sources), and each worker then compiles the kernels it runs afresh, so small
   * audits are faster in-process. 0 always uses workers; `Infinity` never does.
   */
  minSeconds?: number;
}

/** The result of {@link compareLayersParallel}: a `LayerAudit` plus how it was computed. */
export interface ParallelLayerAudit extends LayerAudit {
  /** Worker threads the audit used; 0 when it ran entirely in the calling thread. */
  workers: number;
}

/** Default {@link ParallelAuditOptions.minSeconds}. */
export const DEFAULT_MIN_SECONDS = 3;

/**
 * Default {@link ParallelAuditOptions.workers}: the engine's thread budget (`threadBudget()`:
 * `BASIS_THREADS`, the CLI's `--threads`, or every core).
 */
function defaultAuditWorkers(): number {
  return threadBudget();
}

interface Cell {
  m: number;
  i: number;
  j: number;
}

/**
 * {@link compareLayers} for Node, on worker threads when the work is large. The values are
 * identical to `compareLayers` at the same BLAS thread count: the same kernels run on the same
 * float64 data (on the WebAssembly engine, always identical; with a native BLAS, results differ by
 * ~1e-14 relative across thread counts, so with more than one worker every cell runs with the
 * workers' share of the thread budget, whether or not the workers are started, and
 * `audit.engine.threads` says which). Per-layer work
 * that metrics memoise (centring, Gram norms, the range bases of CCA/SVCCA/PWCCA) is computed once
 * per layer by one worker and shared with the others through shared memory, as `compareLayers`
 * computes it once per layer.
 *
 * How it decides: it first computes, in the calling thread, two cells of each metric in turn and
 * times the second (the first one pays for JIT compilation and kernel set-up). As soon as the
 * measured times predict that the rest of the audit needs at least `minSeconds`, the remaining
 * cells are spread over `workers` threads
 * that read the layers from shared memory (one copy, not one per worker); otherwise the audit
 * simply continues serially. Progress is reported for every cell, in completion order (serial
 * order while in the calling thread). Errors raised by a metric in a worker are rethrown as the
 * same `BasisError` (code and message) and stop every worker.
 *
 * @example
 * ```ts
 * import { compareLayersParallel } from '@basis/align/node';
 * const audit = await compareLayersParallel(layersOfSeed0, layersOfSeed1, ['cka.linear', 'procrustes.similarity'], {
 *   onProgress: (done, total) => process.stderr.write(`\r${done}/${total}`),
 * });
 * audit.values['cka.linear'][2][2]; // same number compareLayers gives
 * audit.workers;                     // 0 if the audit was small enough to run in-process
 * ```
 */
export async function compareLayersParallel(
  layersA: Layers,
  layersB: Layers,
  metrics?: readonly string[],
  opts: ParallelAuditOptions = {},
): Promise<ParallelLayerAudit> {
  const minSeconds = opts.minSeconds ?? DEFAULT_MIN_SECONDS;
  if (!(minSeconds >= 0)) throw new BasisError('INVALID_ARGUMENT', `minSeconds must be a non-negative number of seconds, got ${minSeconds}`);
  const maxWorkers = opts.workers ?? defaultAuditWorkers();
  if (!Number.isInteger(maxWorkers)) throw new BasisError('INVALID_ARGUMENT', `workers must be an integer, got ${maxWorkers}`);
  const p = prepareAudit(layersA, layersB, metrics, opts.options);
  // in the calling thread with its own threads: exactly compareLayers
  if (maxWorkers <= 1) return auditOnThreads(p, 1, minSeconds, undefined, opts.onProgress);
  // Every cell, in the calling thread or on a worker, is computed with the workers' share of the
  // BLAS threads (process-wide in the native libraries), so the values do not depend on whether
  // the timing-based decision below chose the workers (results differ by ~1e-14 across thread counts).
  const engine = workerEngine(Math.min(maxWorkers, p.total));
  const release = limitThreads(engine.threads);
  try {
    return await auditOnThreads(p, maxWorkers, minSeconds, engine, opts.onProgress);
  } finally {
    release();
  }
}

/** The audit, calibrating and then running in-process or on the workers (`engine`: their settings). */
async function auditOnThreads(p: PreparedAudit, maxWorkers: number, minSeconds: number, engine: WorkerEngineSettings | undefined, onProgress: AuditProgress | undefined): Promise<ParallelLayerAudit> {
  const values: Record<string, number[][]> = {};
  for (const d of p.defs) values[d.id] = p.A.map(() => new Array<number>(p.B.length).fill(Number.NaN));
  let done = 0;
  const record = (c: Cell, v: number) => {
    const d = p.defs[c.m] as PreparedAudit['defs'][number];
    (values[d.id] as number[][])[c.i]![c.j] = v;
    done++;
    onProgress?.(done, p.total, { metric: d.id, a: (p.A[c.i] as [string, Matrix])[0], b: (p.B[c.j] as [string, Matrix])[0] });
  };
  const inProcess = (c: Cell): number => {
    const d = p.defs[c.m] as PreparedAudit['defs'][number];
    const [na, x] = p.A[c.i] as [string, Matrix];
    const [nb, y] = p.B[c.j] as [string, Matrix];
    return auditCell(d, x, y, p.resolved[d.id] as ResolvedOptions, na, nb);
  };

  // Calibrate: for one metric after another, compute two cells in-process and time the second
  // (the first pays one-time costs: JIT compilation, kernel set-up), until the cells left are
  // predicted to take at least minSeconds.
  const pairs = p.A.length * p.B.length;
  const second: Cell = p.B.length > 1 ? { m: 0, i: 0, j: 1 } : { m: 0, i: 1, j: 0 };
  const calibrated = new Set<number>();
  let predicted = 0;
  if (maxWorkers > 1 && minSeconds > 0 && minSeconds !== Infinity && pairs > 1) {
    for (let m = 0; m < p.defs.length && predicted < minSeconds; m++) {
      record({ m, i: 0, j: 0 }, inProcess({ m, i: 0, j: 0 }));
      const t0 = performance.now();
      record({ ...second, m }, inProcess({ ...second, m }));
      predicted += ((performance.now() - t0) / 1000) * (pairs - 2);
      calibrated.add(m);
    }
  }
  const isCalibration = (c: Cell) => calibrated.has(c.m) && ((c.i === 0 && c.j === 0) || (c.i === second.i && c.j === second.j));
  const rest: Cell[] = [];
  // pair-major: consecutive cells of a pair share its centred cross product on the thread that computes them
  for (let i = 0; i < p.A.length; i++) {
    for (let j = 0; j < p.B.length; j++) {
      for (let m = 0; m < p.defs.length; m++) if (!isCalibration({ m, i, j })) rest.push({ m, i, j });
    }
  }
  const workers = Math.min(maxWorkers, rest.length);
  const parallel = workers > 1 && minSeconds !== Infinity && (minSeconds === 0 || predicted >= minSeconds);
  if (!parallel || engine === undefined) {
    for (const c of rest) record(c, inProcess(c));
    return { ...auditResult(p, values), workers: 0 };
  }
  await runOnWorkers(p, rest, workers, engine, record);
  return { ...auditResult(p, values), workers };
}

/** Copies a layer into shared memory (unless it already lives there). */
function wire([name, m]: [string, Matrix]): WireLayer {
  return { name, rows: m.rows, cols: m.cols, data: toShared(m.data) };
}

/**
 * Runs `cells` on `count` workers. Phase 1 (when some metric declares per-layer work): every layer
 * is prepared once, by one worker, and the memoised results are shared with all workers through
 * shared memory. Phase 2: the cells, handed out one by one to whichever worker is free.
 */
function runOnWorkers(p: PreparedAudit, cells: Cell[], count: number, engine: WorkerEngineSettings, record: (c: Cell, v: number) => void): Promise<void> {
  const script = workerScript(import.meta.url, 'audit-worker');
  const init: ToWorker = { type: 'init', A: p.A.map(wire), B: p.B.map(wire), ids: p.defs.map((d) => d.id), options: p.resolved, engine };
  const prepTasks: { side: 'A' | 'B'; i: number }[] = p.defs.some((d) => d.prepare !== undefined)
    ? [...p.A.map((_, i) => ({ side: 'A' as const, i })), ...p.B.map((_, i) => ({ side: 'B' as const, i }))]
    : [];
  return new Promise<void>((resolve, reject) => {
    const pool: Worker[] = startWorkers(script, count);
    const caches = { A: p.A.map((): CacheTree => []), B: p.B.map((): CacheTree => []) };
    let nextPrep = 0;
    let prepared = 0;
    let next = 0;
    let finished = 0;
    let settled = false;
    const inflight = new Map<Worker, number>();
    const stop = (err?: Error) => {
      if (settled) return;
      settled = true;
      for (const w of pool) void w.terminate();
      if (err === undefined) resolve();
      else reject(err);
    };
    const feed = (w: Worker) => {
      if (prepared < prepTasks.length) {
        if (nextPrep < prepTasks.length) w.postMessage({ type: 'prepare', ...(prepTasks[nextPrep++] as { side: 'A' | 'B'; i: number }) } satisfies ToWorker);
        return; // cells start once every layer is prepared
      }
      // the cells of one layer pair go to one worker together (consecutive in `cells`): they share
      // the pair's centred cross product there
      if (next < cells.length) {
        const first = cells[next] as Cell;
        while (next < cells.length && (cells[next] as Cell).i === first.i && (cells[next] as Cell).j === first.j) {
          const c = cells[next++] as Cell;
          w.postMessage({ type: 'task', m: c.m, i: c.i, j: c.j } satisfies ToWorker);
          inflight.set(w, (inflight.get(w) ?? 0) + 1);
        }
      }
    };
    // keep at least two cells in flight per worker, to hide the message round trip
    const topUp = (w: Worker) => {
      if (prepared < prepTasks.length) return;
      while ((inflight.get(w) ?? 0) < 2 && next < cells.length) feed(w);
    };
    const startCells = () => {
      for (const w of pool) {
        w.postMessage({ type: 'caches', A: caches.A, B: caches.B } satisfies ToWorker);
        topUp(w);
      }
    };
    for (const w of pool) {
      w.on('message', (msg: FromWorker) => {
        if (settled) return;
        if (msg.type === 'error') {
          stop(fromWireError(msg, 'audit worker'));
          return;
        }
        if (msg.type === 'prepared') {
          caches[msg.side][msg.i] = msg.cache;
          if (++prepared === prepTasks.length) startCells();
          else feed(w);
          return;
        }
        try {
          record({ m: msg.m, i: msg.i, j: msg.j }, msg.value);
        } catch (e) {
          // an exception from the caller's onProgress stops the audit like a metric error
          stop(e instanceof Error ? e : new Error(String(e)));
          return;
        }
        inflight.set(w, (inflight.get(w) ?? 1) - 1);
        if (++finished === cells.length) stop();
        else topUp(w);
      });
      watchWorker(w, 'an audit worker', () => settled, stop);
      w.postMessage(init);
      if (prepTasks.length === 0) topUp(w);
      else feed(w);
    }
  });
}
