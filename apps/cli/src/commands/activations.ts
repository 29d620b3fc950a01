import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { BasisError, createRng } from '@basis/tensor';
import { selectBackend } from '@basis/tensor/backend';
import { withDirLock, writeFileAtomic, writeNpyFile } from '@basis/tensor/node';
import { captureActivations, defaultCapturePoints, describeGraph, paramsToTensors, type CaptureView } from '@basis/zoo';
import type { CommandContext } from '../context.js';
import { formatTable } from '../table.js';
import { openModel, testSet, type ModelArgs } from './model-args.js';

/** Flags of `basis activations`. */
export interface ActivationsOptions {
  margs: ModelArgs;
  out: string;
  /** Capture points as given ('all' for every node); checked against the model's nodes once it is read. */
  points?: string[] | 'all';
  view: CaptureView;
  n: number;
  maxRows?: number;
}

/** A capture point as a file name (node names are safe: letters, digits, `_`, `.`, `-`). */
function fileName(point: string): string {
  return `${point}.npy`;
}

/**
 * `basis activations MODEL --out DIR`: the activations of the first N test inputs at each capture
 * point, one float32 .npy per point (rows = inputs, or inputs x positions in the channel view),
 * plus activations.json describing them. DIR is ready for `basis compare --layers`.
 */
export async function runActivations(ctx: CommandContext, model: string, flags: ActivationsOptions): Promise<void> {
  const { view, n, maxRows } = flags;
  const m = await openModel(model, flags.margs, (t) => ctx.info(t));
  const desc = describeGraph(m.graph);
  const names = desc.nodes.map((d) => d.name);
  let points = defaultCapturePoints(m.graph);
  if (flags.points !== undefined) {
    points = flags.points === 'all' ? names : flags.points;
    for (const p of points) {
      if (!names.includes(p)) throw new BasisError('USAGE', `--points: '${p}' is not a node of ${m.graph.name}; capture points: ${names.join(', ')}`);
    }
  }
  const data = await testSet(m.data, n);
  await selectBackend(ctx.options.backend);
  const params = paramsToTensors(m.params);
  const x = tf.tensor(data.x, [data.n, ...m.graph.input], 'float32');
  let acts: Awaited<ReturnType<typeof captureActivations>>;
  try {
    acts = await captureActivations(m.graph, params, x, {
      points,
      view,
      ...(maxRows === undefined ? {} : { maxRows, rng: createRng(ctx.options.seed) }),
    });
  } finally {
    x.dispose();
    Object.values(params).forEach((t) => t.dispose());
  }
  const out = resolve(flags.out);
  const files: { point: string; file: string; rows: number; cols: number }[] = [];
  const info = { model: m.path, graph: m.graph.name, dataset: data.name, n: data.n, view, seed: ctx.options.seed, maxRows: maxRows ?? null, files };
  // one writer per output folder: the .npy files and activations.json always come from one capture
  await withDirLock(out, { cleanDepth: 0 }, async () => {
    for (const p of points) {
      const mat = acts[p]!;
      const file = fileName(p);
      await writeNpyFile(join(out, file), { dtype: 'float32', shape: [mat.rows, mat.cols], data: Float32Array.from(mat.data) });
      files.push({ point: p, file, rows: mat.rows, cols: mat.cols });
    }
    await writeFileAtomic(join(out, 'activations.json'), JSON.stringify(info, null, 2) + '\n');
  });
  const rowCounts = [...new Set(files.map((f) => f.rows))];
  if (rowCounts.length > 1) {
    ctx.info(`note: the files hold different numbers of rows (${rowCounts.join(', ')}: the ${view} view of feature maps of different sizes), so basis compare --layers cannot pair all of them; use --view pooled or flat, or --points with maps of one size`);
  }
  ctx.info(`captured ${points.length} points of ${m.graph.name} on ${data.n} inputs of ${data.name} (${view} view) into ${out}`);
  ctx.result({ out, ...info }, () => {
    const rows: (string | number)[][] = [['capture point', 'rows', 'units', 'file']];
    for (const f of files) rows.push([f.point, String(f.rows), String(f.cols), join(out, f.file)]);
    return `${formatTable(rows)}\n\ncompare two models' folders with: basis compare --layers ${out} OTHER_DIR`;
  });
}
