import { compare, getMetric, listMetrics, resolveOptions } from '@basis/align';
import { engineInfo } from '@basis/tensor';
import { readMatrixFile } from '@basis/tensor/node';
import type { CommandContext } from '../context.js';
import { formatTable } from '../table.js';

/** `basis compare A B`: metrics between two activation matrices read from npy/npz/safetensors. */
export async function runCompare(
  ctx: CommandContext,
  a: string,
  b: string,
  opts: { metric: string | undefined; options: Record<string, Record<string, unknown>> },
): Promise<void> {
  const ids =
    opts.metric === undefined
      ? listMetrics().map((d) => d.id)
      : opts.metric
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0);
  for (const id of ids) resolveOptions(id, opts.options[id]);
  for (const id of Object.keys(opts.options)) if (!ids.includes(id)) getMetric(id);
  const [X, Y] = await Promise.all([readMatrixFile(a), readMatrixFile(b)]);
  ctx.info(`comparing ${a} (${X.rows} x ${X.cols}) with ${b} (${Y.rows} x ${Y.cols})`);
  const results = compare(X, Y, ids, opts.options);
  const json = {
    a: { source: a, shape: [X.rows, X.cols] },
    b: { source: b, shape: [Y.rows, Y.cols] },
    metrics: Object.fromEntries(
      results.map((r) => [r.id, { value: r.value, kind: r.kind, options: r.options, precision: r.precision, ...(r.folds ? { folds: r.folds } : {}) }]),
    ),
    // the engine that computed every value (one record for the whole comparison)
    engine: engineInfo(),
  };
  ctx.result(json, () =>
    formatTable([['metric', 'value', 'kind'], ...results.map((r) => [r.id, r.value, r.kind])], 10),
  );
}
