import { INVARIANCES, estimateCompare, getMetric, listMetrics, metric, resolveOptions, type Invariance, type MetricResult, type ResolvedOptions } from '@basis/align';
import { engineInfo } from '@basis/tensor';
import { readMatrixFile } from '@basis/tensor/node';
import type { CommandContext } from '../context.js';
import { ProgressBars, formatDuration } from '../progress.js';
import { checkMemoryBudget, defaultMemoryBudget, describeEstimate, formatSeconds } from '../resources.js';
import { formatNumber, formatTable } from '../table.js';

/** The metrics a comparison computes: ids as given (aliases allowed) and each one's options, resolved (defaults filled in, values checked). */
export interface MetricSelection {
  ids: string[];
  options: Record<string, ResolvedOptions>;
}

/**
 * Resolves `--metric` (undefined: every metric) and `--options` together, once: each metric's
 * options are checked against its schema and completed with defaults (CONFIG_INVALID otherwise),
 * an unknown id is INVALID_ARGUMENT, and options for a metric that is not computed must still name
 * a known metric.
 *
 * @example
 * ```ts
 * selectMetrics(['knn.mutual'], { 'knn.mutual': { k: 5 } }); // { ids: ['knn.mutual'], options: { 'knn.mutual': { k: 5 } } }
 * ```
 */
export function selectMetrics(metric: readonly string[] | undefined, options: Record<string, Record<string, unknown>>): MetricSelection {
  const ids = metric === undefined ? listMetrics().map((d) => d.id) : [...metric];
  const resolved: Record<string, ResolvedOptions> = {};
  for (const id of ids) resolved[id] = resolveOptions(id, options[id]);
  for (const id of Object.keys(options)) if (!ids.includes(id)) getMetric(id);
  return { ids, options: resolved };
}

/**
 * `basis compare A B`: metrics between two activation matrices read from npy/npz/safetensors.
 * Before any metric runs, the time and peak memory are estimated from the shapes (the metrics'
 * calibrated cost models); above the memory budget (`--max-memory`, default half of this
 * machine's memory) it refuses with USAGE. Progress: one line per metric with the elapsed time
 * (a redrawn bar on a terminal); nothing with --quiet or --json.
 */
export async function runCompare(ctx: CommandContext, a: string, b: string, opts: { metrics: MetricSelection; maxMemory?: number }): Promise<void> {
  const { ids, options } = opts.metrics;
  const budget = opts.maxMemory === undefined ? defaultMemoryBudget() : opts.maxMemory;
  const [X, Y] = await Promise.all([readMatrixFile(a), readMatrixFile(b)]);
  ctx.info(`comparing ${a} (${X.rows} x ${X.cols}) with ${b} (${Y.rows} x ${Y.cols})`);
  const estimate = X.rows === Y.rows ? estimateCompare(X, Y, ids, options) : null;
  if (estimate !== null) {
    ctx.info(describeEstimate(estimate, budget));
    checkMemoryBudget(estimate, budget, opts.maxMemory !== undefined);
  }
  const bars = new ProgressBars(ctx.io.stderr, !ctx.options.quiet && !ctx.options.json);
  const t0 = performance.now();
  const results: MetricResult[] = [];
  try {
    for (const [i, id] of ids.entries()) {
      const est = estimate?.metrics[i]?.seconds;
      bars.update('metrics', { done: i, total: ids.length, detail: `${id}${est === undefined ? '' : ` (about ${formatSeconds(est)})`}, elapsed ${formatDuration((performance.now() - t0) / 1000)}` });
      const t = performance.now();
      const r = metric(id, X, Y, options[id]);
      results.push(r);
      const now = performance.now();
      bars.log(`  [${i + 1}/${ids.length}] ${id} = ${formatNumber(r.value, 6)} in ${formatSeconds((now - t) / 1000)} (elapsed ${formatSeconds((now - t0) / 1000)})`);
    }
    bars.update('metrics', { done: ids.length, total: ids.length, detail: `done, elapsed ${formatDuration((performance.now() - t0) / 1000)}` });
  } finally {
    bars.finish();
  }
  const json = {
    a: { source: a, shape: [X.rows, X.cols] },
    b: { source: b, shape: [Y.rows, Y.cols] },
    metrics: Object.fromEntries(
      results.map((r) => [r.id, { value: r.value, kind: r.kind, options: r.options, precision: r.precision, ...(r.folds ? { folds: r.folds } : {}) }]),
    ),
    // the engine that computed every value (one record for the whole comparison)
    engine: engineInfo(),
    // what was estimated before starting, and what it took
    resources: { estimatedSeconds: estimate?.seconds ?? null, estimatedPeakBytes: estimate?.peakBytes ?? null, budgetBytes: Number.isFinite(budget) ? budget : null, seconds: (performance.now() - t0) / 1000 },
  };
  ctx.result(json, () =>
    formatTable([['metric', 'value', 'kind'], ...results.map((r) => [r.id, r.value, r.kind])], 10),
  );
}

/** One-letter codes of the invariances in `basis compare --list` (the fixtures README's letters, D for per-unit scaling). */
export const INVARIANCE_LETTERS: Readonly<Record<Invariance, string>> = {
  rotation: 'O',
  permutation: 'P',
  'isotropic-scale': 'S',
  'unit-positive-scale': 'D',
  translation: 'T',
  'invertible-linear': 'L',
};

/**
 * `basis compare --list`: the metric registry as a table (id, family, kind, invariances, cost
 * class), its aliases, and what the invariance letters mean; with --json every descriptor field.
 */
export function runCompareList(ctx: CommandContext): void {
  const defs = listMetrics();
  const rows = defs.map((d) => ({
    id: d.id,
    family: d.family,
    kind: d.kind,
    range: [d.range[0], d.range[1]],
    invariances: [...d.invariances],
    costClass: d.costClass,
    widths: d.widths,
    symmetric: d.symmetric,
    minRows: d.minRows,
    aliases: [...(d.aliases ?? [])],
    options: (d.options ?? []).map((o) => ({ name: o.name, type: o.type, default: o.default })),
    title: d.title,
  }));
  ctx.result(rows, () => {
    const letters = (inv: readonly Invariance[]) => INVARIANCES.filter((i) => inv.includes(i)).map((i) => INVARIANCE_LETTERS[i]).join('') || '-';
    const table = formatTable([
      ['id', 'family', 'kind', 'invariances', 'cost class', 'options'],
      ...rows.map((r) => [r.id, r.family, r.kind, letters(r.invariances), r.costClass, r.options.map((o) => `${o.name}=${JSON.stringify(o.default)}`).join(' ') || '-']),
    ]);
    const aliases = rows.flatMap((r) => r.aliases.map((a) => `${a} = ${r.id}`));
    return [
      table,
      '',
      `invariances: ${INVARIANCES.map((i) => `${INVARIANCE_LETTERS[i]} ${i}`).join(', ')} (of either input)`,
      'cost class: N·d² = feature-space products (memory ~ N·d), N²·d = N x N matrices (memory ~ N²)',
      ...(aliases.length > 0 ? [`aliases: ${aliases.join(', ')}`] : []),
    ].join('\n');
  });
}
