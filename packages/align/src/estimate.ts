// Resource estimates of a comparison or an audit before it starts: time and peak memory from the
// shapes and the metrics' calibrated cost models (cost.ts).
import { BasisError, isList } from '@basis/tensor';
import { getMetric, listMetrics, resolveOptions } from './registry.js';
import type { MetricCost } from './types.js';

/** A matrix shape: rows (inputs) and columns (units). */
export interface Shape {
  rows: number;
  cols: number;
}

/**
 * What a comparison or an audit is expected to cost.
 *
 * @example
 * ```ts
 * const e = estimateCompare({ rows: 20000, cols: 2048 }, { rows: 20000, cols: 2048 });
 * e.peakBytes; // ~1.4e10: cka.rbf's N x N kernels dominate
 * ```
 */
export interface ResourceEstimate {
  /** Estimated wall-clock seconds of all the work (on the workers' share when `workers` > 1). */
  seconds: number;
  /** Estimated peak memory: inputs, per-matrix work kept for reuse, and the largest working set. */
  peakBytes: number;
  /** Bytes of the input matrices themselves (float64). */
  inputBytes: number;
  /** Per metric: estimated seconds (all layer pairs) and its largest working memory beyond the inputs. */
  metrics: { id: string; seconds: number; bytes: number }[];
}

// Per-matrix work that metrics memoise on their inputs (each an N x d float64 copy kept while the
// matrix lives): which metrics use which (prep.ts).
const MEMO_KINDS: readonly [string, (id: string) => boolean][] = [
  ['centred', (id) => !id.startsWith('grelu.') && !['linear.cv', 'procrustes.cv', 'permutation.cv', 'cosine.aligned', 'eos'].includes(id)],
  ['unit-normalised', (id) => id.startsWith('grelu.') || id === 'permcorr' || id === 'softmatch'],
  ['range basis', (id) => id.startsWith('cca.') || id === 'pwcca' || ['shape.partial_whitening', 'maxmatch', 'linreg.r2', 'gulp'].includes(id)],
  ['span basis', (id) => id === 'svcca'],
  ['polar factor', (id) => id === 'shape.partial_whitening'],
  ['uncentred basis', (id) => id === 'eos'],
];

function memoCopies(ids: readonly string[]): number {
  return MEMO_KINDS.filter(([, uses]) => ids.some(uses)).length;
}

function checkShapeArg(s: Shape, what: string): void {
  if (typeof s !== 'object' || s === null || !Number.isSafeInteger(s.rows) || !Number.isSafeInteger(s.cols) || s.rows < 1 || s.cols < 1) {
    throw new BasisError('INVALID_ARGUMENT', `${what} must be a shape { rows, cols } of positive integers, got ${JSON.stringify(s)}`);
  }
}

function costOf(id: string, n: number, dx: number, dy: number, options: Record<string, Record<string, unknown>>): MetricCost {
  const d = getMetric(id);
  if (d.cost === undefined) return { seconds: 0, bytes: 0 };
  return d.cost(n, dx, dy, resolveOptions(id, options[id]));
}

/**
 * Estimated time and peak memory of an all-pairs audit (`compareLayers` /
 * `compareLayersParallel`) from the layer shapes alone, before any work: the seconds of every
 * (metric, layer pair) cell divided among `workers`, and a peak of the inputs, the per-layer work
 * the metrics keep for reuse (centred and normalised copies, range bases: N x d each), and the
 * largest working set of one cell times the cells running at once.
 *
 * @example
 * ```ts
 * import { estimateAudit } from '@basis/align';
 * const e = estimateAudit([{ rows: 5000, cols: 512 }, { rows: 5000, cols: 512 }], [{ rows: 5000, cols: 256 }], ['cka.linear', 'rsa.spearman']);
 * console.log(`${e.seconds.toFixed(0)} s, ${(e.peakBytes / 2 ** 30).toFixed(1)} GiB`);
 * ```
 */
export function estimateAudit(
  layersA: readonly Shape[],
  layersB: readonly Shape[],
  metrics?: readonly string[],
  opts: { options?: Record<string, Record<string, unknown>>; workers?: number } = {},
): ResourceEstimate {
  if (!isList(layersA) || layersA.length === 0 || !isList(layersB) || layersB.length === 0) {
    throw new BasisError('TOO_SMALL', 'estimateAudit: both models need at least one layer shape');
  }
  layersA.forEach((s, i) => checkShapeArg(s, `layersA[${i}]`));
  layersB.forEach((s, i) => checkShapeArg(s, `layersB[${i}]`));
  const n = layersA[0]!.rows;
  for (const s of [...layersA, ...layersB]) {
    if (s.rows !== n) throw new BasisError('SHAPE_MISMATCH', `estimateAudit: every layer must have the same rows (inputs); got ${s.rows} and ${n}`);
  }
  const ids = metrics ?? listMetrics().map((d) => d.id);
  if (ids.length === 0) throw new BasisError('INVALID_ARGUMENT', 'no metric ids given');
  const options = opts.options ?? {};
  const workers = opts.workers ?? 1;
  if (!Number.isSafeInteger(workers) || workers < 1) throw new BasisError('INVALID_ARGUMENT', `estimateAudit: workers must be a positive integer, got ${String(opts.workers)}`);
  const per = ids.map((id) => {
    let seconds = 0;
    let bytes = 0;
    for (const a of layersA) {
      for (const b of layersB) {
        const c = costOf(id, n, a.cols, b.cols, options);
        seconds += c.seconds;
        bytes = Math.max(bytes, c.bytes);
      }
    }
    return { id, seconds, bytes };
  });
  const cols = [...layersA, ...layersB].reduce((s, l) => s + l.cols, 0);
  const inputBytes = 8 * n * cols;
  // each metric's measured working set already holds one such copy: the others add to the peak
  const kept = Math.max(0, memoCopies(ids) - 1) * inputBytes;
  const cells = ids.length * layersA.length * layersB.length;
  const atOnce = Math.min(workers, cells);
  const largest = Math.max(...per.map((p) => p.bytes));
  return { seconds: per.reduce((s, p) => s + p.seconds, 0) / atOnce, peakBytes: inputBytes + kept + atOnce * largest, inputBytes, metrics: per };
}

/**
 * Estimated time and peak memory of `compare(X, Y, ids)` from the shapes alone (see
 * {@link estimateAudit}; a comparison is an audit of one layer pair).
 *
 * @example
 * ```ts
 * import { estimateCompare } from '@basis/align';
 * const e = estimateCompare({ rows: 20000, cols: 2048 }, { rows: 20000, cols: 2048 });
 * if (e.peakBytes > 8 * 2 ** 30) console.error('needs more than 8 GiB');
 * e.metrics.find((m) => m.id === 'cka.rbf')!.bytes; // the N x N kernels
 * ```
 */
export function estimateCompare(x: Shape, y: Shape, metrics?: readonly string[], options: Record<string, Record<string, unknown>> = {}): ResourceEstimate {
  checkShapeArg(x, 'x');
  checkShapeArg(y, 'y');
  return estimateAudit([x], [y], metrics, { options });
}
