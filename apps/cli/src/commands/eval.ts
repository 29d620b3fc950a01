import { BasisError } from '@basis/tensor';
import { selectBackend } from '@basis/tensor/backend';
import { applyOod, evaluateModel, listOodConditions, paramsToTensors, type ClassificationDataset } from '@basis/zoo';
import { loadCrossDataset } from '@basis/zoo/node';
import type { CommandContext } from '../context.js';
import { formatTable } from '../table.js';
import { openModel, testSet, type ModelArgs } from './model-args.js';

/** Flags of `basis eval`. */
export interface EvalOptions {
  margs: ModelArgs;
  /** OOD conditions: a comma-separated list or 'all'. */
  ood?: string;
  /** Only the first n test examples. */
  n?: number;
  /** Examples per forward pass. */
  batchSize: number;
}

/** `basis eval MODEL`: accuracy and loss on the test set and on OOD conditions. */
export async function runEval(ctx: CommandContext, model: string, flags: EvalOptions): Promise<void> {
  const { n, batchSize } = flags;
  const known = listOodConditions().map((c) => c.name);
  let conditions: string[] = [];
  if (flags.ood !== undefined) {
    conditions = flags.ood === 'all' ? known : flags.ood.split(',').map((s) => s.trim());
    for (const c of conditions) {
      if (!known.includes(c)) throw new BasisError('USAGE', `--ood: unknown condition '${c}'; conditions: ${known.join(', ')} (or 'all')`);
    }
  }
  const m = await openModel(model, flags.margs, (t) => ctx.info(t));
  const test = await testSet(m.data, n);
  await selectBackend(ctx.options.backend);
  const params = paramsToTensors(m.params);
  const rows: { condition: string; dataset: string; n: number; accuracy: number; loss: number }[] = [];
  try {
    const evaluate = (ds: ClassificationDataset, condition: string): void => {
      const e = evaluateModel(m.graph, params, ds, { batchSize });
      rows.push({ condition, dataset: ds.name, n: e.n, accuracy: e.accuracy, loss: e.loss });
    };
    if (flags.ood === undefined || conditions.length > 1) evaluate(test, 'clean');
    let other: ClassificationDataset | undefined;
    for (const c of conditions) {
      if (c === 'cross-dataset') other ??= await loadCrossDataset(test);
      evaluate(applyOod(test, c, { seed: ctx.options.seed, ...(other === undefined ? {} : { other }) }), c);
    }
  } finally {
    Object.values(params).forEach((t) => t.dispose());
  }
  ctx.info(`evaluated ${m.graph.name} from ${m.path} on ${test.name}`);
  ctx.result({ model: m.path, graph: m.graph.name, data: m.data, seed: ctx.options.seed, results: rows }, () => {
    const table: (string | number)[][] = [['condition', 'examples', 'accuracy', 'loss']];
    for (const r of rows) table.push([r.condition, String(r.n), `${(100 * r.accuracy).toFixed(2)}%`, r.loss]);
    return formatTable(table, 4);
  });
}
