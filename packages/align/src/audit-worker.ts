// Worker thread of `compareLayersParallel` (`@basis/align/node`): computes audit cells on layers
// shared with the parent through SharedArrayBuffers. Per-layer work is memoised on this worker's
// Matrix objects, so it is done at most once per worker and layer. The worker first configures
// the compute engine as the parent says (same provider, its share of the thread budget).
import { parentPort } from 'node:worker_threads';
import { Matrix, configureEngine, type WorkerEngineSettings } from '@basis/tensor';
import { toWireError, type WireError } from '@basis/tensor/node';
import { auditCell } from './audit.js';
import { exportCache, importCache, type CacheTree } from './prep.js';
import { getMetric } from './registry.js';
import type { MetricDefinition, ResolvedOptions } from './types.js';

/** A layer as sent to a worker: its data is a view of a SharedArrayBuffer (not copied). */
export interface WireLayer {
  name: string;
  rows: number;
  cols: number;
  data: Float64Array;
}

/** Parent -> worker messages. */
export type ToWorker =
  | { type: 'init'; A: WireLayer[]; B: WireLayer[]; ids: string[]; options: Record<string, ResolvedOptions>; engine: WorkerEngineSettings }
  | { type: 'task'; m: number; i: number; j: number }
  /** Run every metric's per-layer `prepare` on one layer and send back its memoised work. */
  | { type: 'prepare'; side: 'A' | 'B'; i: number }
  /** Memoised per-layer work computed by the workers, for every layer. */
  | { type: 'caches'; A: CacheTree[]; B: CacheTree[] };

/** Worker -> parent messages. */
export type FromWorker =
  | { type: 'value'; m: number; i: number; j: number; value: number }
  | { type: 'prepared'; side: 'A' | 'B'; i: number; cache: CacheTree }
  | ({ type: 'error' } & WireError);

const port = parentPort;
if (port === null) throw new Error('audit-worker.ts must run in a worker thread');

let A: [string, Matrix][] = [];
let B: [string, Matrix][] = [];
let defs: MetricDefinition[] = [];
let options: Record<string, ResolvedOptions> = {};

const toMatrix = (l: WireLayer): [string, Matrix] => [l.name, new Matrix(l.rows, l.cols, l.data)];

port.on('message', (msg: ToWorker) => {
  try {
    if (msg.type === 'init') {
      configureEngine(msg.engine);
      A = msg.A.map(toMatrix);
      B = msg.B.map(toMatrix);
      defs = msg.ids.map((id) => getMetric(id));
      options = msg.options;
      return;
    }
    if (msg.type === 'prepare') {
      const [, x] = (msg.side === 'A' ? A : B)[msg.i] as [string, Matrix];
      for (const d of defs) {
        try {
          d.prepare?.(x, options[d.id] as ResolvedOptions);
        } catch {
          // only a cache warm-up: a layer the metric rejects fails with the proper message later
        }
      }
      port.postMessage({ type: 'prepared', side: msg.side, i: msg.i, cache: exportCache(x) } satisfies FromWorker);
      return;
    }
    if (msg.type === 'caches') {
      msg.A.forEach((t, i) => importCache((A[i] as [string, Matrix])[1], t));
      msg.B.forEach((t, i) => importCache((B[i] as [string, Matrix])[1], t));
      return;
    }
    const d = defs[msg.m] as MetricDefinition;
    const [na, x] = A[msg.i] as [string, Matrix];
    const [nb, y] = B[msg.j] as [string, Matrix];
    const value = auditCell(d, x, y, options[d.id] as ResolvedOptions, na, nb);
    port.postMessage({ type: 'value', m: msg.m, i: msg.i, j: msg.j, value } satisfies FromWorker);
  } catch (e) {
    port.postMessage({ type: 'error', ...toWireError(e) } satisfies FromWorker);
  }
});
