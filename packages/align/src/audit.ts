import { BasisError, asMatrix, engineInfo, type EngineInfo, type Matrix, type MatrixLike } from '@basis/tensor';
import { getMetric, listMetrics, resolveOptions } from './registry.js';
import type { MetricDefinition, ResolvedOptions } from './types.js';
import { validatePair } from './validate.js';

/** Named layers: an object `{ name: matrix }` or `[name, matrix]` pairs (order is kept). */
export type Layers = Record<string, MatrixLike> | ReadonlyArray<readonly [string, MatrixLike]>;

/** Layer x layer matrices of metric values from {@link compareLayers}. */
export interface LayerAudit {
  /** Layer names of the first model (rows of every matrix). */
  layersA: string[];
  /** Layer names of the second model (columns). */
  layersB: string[];
  /** Metric ids, in the order computed. */
  metrics: string[];
  /** For each metric id, `values[id][i][j]` = metric(layer i of A, layer j of B). */
  values: Record<string, number[][]>;
  /** Options each metric was computed with (defaults filled in). */
  options: Record<string, ResolvedOptions>;
  /** Arithmetic of every value. */
  precision: 'float64';
  /**
   * The compute engine that produced the values (`engineInfo()`: provider, library, core type,
   * threads), recorded once per audit. Values are bit-identical for the same provider, core type
   * and thread count.
   */
  engine: EngineInfo;
}

/** Progress of an audit: pairs done out of the total (a pair = one metric on one layer pair). */
export type AuditProgress = (done: number, total: number, current: { metric: string; a: string; b: string }) => void;

function named(layers: Layers, which: string): [string, Matrix][] {
  const list = Array.isArray(layers) ? (layers as ReadonlyArray<readonly [string, MatrixLike]>) : Object.entries(layers as Record<string, MatrixLike>);
  if (list.length === 0) throw new BasisError('TOO_SMALL', `${which} has no layers`);
  const seen = new Set<string>();
  return list.map(([name, m]) => {
    if (seen.has(name)) throw new BasisError('INVALID_ARGUMENT', `${which} has two layers named '${name}'`);
    seen.add(name);
    return [name, asMatrix(m)];
  });
}

/** Validated inputs of an audit (shared by {@link compareLayers} and the Node worker pool). */
export interface PreparedAudit {
  A: [string, Matrix][];
  B: [string, Matrix][];
  defs: MetricDefinition[];
  resolved: Record<string, ResolvedOptions>;
  /** Number of (metric, layer pair) cells. */
  total: number;
}

/**
 * Names, validates and resolves the inputs of an audit: every layer once (rows, size,
 * finiteness) and every metric's options, before any work.
 */
export function prepareAudit(
  layersA: Layers,
  layersB: Layers,
  metrics: readonly string[] | undefined,
  options: Record<string, Record<string, unknown>> | undefined,
): PreparedAudit {
  const A = named(layersA, 'layersA');
  const B = named(layersB, 'layersB');
  const ids = metrics ?? listMetrics().map((d) => d.id);
  if (ids.length === 0) throw new BasisError('INVALID_ARGUMENT', 'no metric ids given');
  const defs = ids.map((id) => getMetric(id));
  const resolved = Object.fromEntries(ids.map((id) => [id, resolveOptions(id, options?.[id])]));
  const rows = (A[0] as [string, Matrix])[1].rows;
  for (const [name, m] of [...A, ...B]) {
    if (m.rows !== rows) {
      throw new BasisError('SHAPE_MISMATCH', `layer '${name}' has ${m.rows} rows but '${(A[0] as [string, Matrix])[0]}' has ${rows}; every layer must hold the same inputs`);
    }
  }
  const minRows = Math.max(...defs.map((d) => d.minRows));
  for (const [name, m] of A) validatePair(m, m, minRows, `layer '${name}'`);
  for (const [name, m] of B) validatePair(m, m, minRows, `layer '${name}'`);
  return { A, B, defs, resolved, total: defs.length * A.length * B.length };
}

/** One cell of an audit: metric `d` between layer `na` (x) of A and `nb` (y) of B. */
export function auditCell(d: MetricDefinition, x: Matrix, y: Matrix, options: ResolvedOptions, na: string, nb: string): number {
  const v = d.compute(x, y, options);
  if (!Number.isFinite(v)) throw new BasisError('NOT_CONVERGED', `${d.id} produced ${v} for layers '${na}' and '${nb}'; this is a bug in basis`);
  return v;
}

/** The {@link LayerAudit} of prepared inputs and their value matrices (engine: the calling thread's unless given). */
export function auditResult(p: PreparedAudit, values: Record<string, number[][]>, engine: EngineInfo = engineInfo()): LayerAudit {
  return { layersA: p.A.map(([n]) => n), layersB: p.B.map(([n]) => n), metrics: p.defs.map((d) => d.id), values, options: p.resolved, precision: 'float64', engine };
}

/**
 * All-pairs audit: every metric between every layer of model A and every layer of model B (all
 * captured on the same N inputs). Per-layer work — centring, normalisation, range bases, Gram
 * norms — is computed once per layer and reused across pairs. Progress goes to `onProgress`.
 * This runs in the calling thread; in Node, `compareLayersParallel` from `@basis/align/node`
 * spreads large audits over worker threads and gives identical values.
 *
 * @example
 * ```ts
 * import { compareLayers } from '@basis/align';
 * const audit = compareLayers({ l1: A1, l2: A2 }, { l1: B1, l2: B2 }, ['cka.linear'], {
 *   onProgress: (done, total) => console.error(`${done}/${total}`),
 * });
 * audit.values['cka.linear'][1][1]; // CKA between layer l2 of A and layer l2 of B
 * ```
 */
export function compareLayers(
  layersA: Layers,
  layersB: Layers,
  metrics?: readonly string[],
  opts: { onProgress?: AuditProgress; options?: Record<string, Record<string, unknown>> } = {},
): LayerAudit {
  const p = prepareAudit(layersA, layersB, metrics, opts.options);
  let done = 0;
  const values: Record<string, number[][]> = {};
  for (const d of p.defs) values[d.id] = p.A.map(() => new Array<number>(p.B.length).fill(Number.NaN));
  // pair by pair, every metric of a pair in a row: the metrics that need the pair's centred cross
  // product share one (see centredCross)
  p.A.forEach(([na, x], i) =>
    p.B.forEach(([nb, y], j) => {
      for (const d of p.defs) {
        (values[d.id] as number[][])[i]![j] = auditCell(d, x, y, p.resolved[d.id] as ResolvedOptions, na, nb);
        done++;
        opts.onProgress?.(done, p.total, { metric: d.id, a: na, b: nb });
      }
    }),
  );
  return auditResult(p, values);
}
