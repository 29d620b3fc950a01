import { mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { compareLayers, getMetric, listMetrics, resolveOptions } from '@basis/align';
import { BasisError, type Matrix } from '@basis/tensor';
import { readMatrixFile, writeFileAtomic } from '@basis/tensor/node';
import type { CommandContext } from '../context.js';
import { heatmapHtml } from '../heatmap.js';

async function layerFiles(dir: string): Promise<[string, string][]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw new BasisError('IO', `cannot list layer folder '${dir}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : (e as Error).message}`);
  }
  const npy = names.filter((n) => n.endsWith('.npy')).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (npy.length === 0) throw new BasisError('TOO_SMALL', `'${dir}' holds no .npy files (one file per layer, rows = inputs, columns = units)`);
  return npy.map((n) => [n.slice(0, -4), join(dir, n)]);
}

function csv(rowLabels: string[], colLabels: string[], values: number[][]): string {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return [['layer', ...colLabels].map(q).join(','), ...values.map((row, i) => [q(rowLabels[i] as string), ...row.map((v) => String(v))].join(','))].join('\n') + '\n';
}

/** `basis compare --layers DIR_A DIR_B`: all layer pairs -> CSV, JSON and an HTML heatmap per metric. */
export async function runCompareLayers(
  ctx: CommandContext,
  dirA: string,
  dirB: string,
  opts: { metric: string | undefined; out: string; options: Record<string, Record<string, unknown>> },
): Promise<void> {
  const ids = opts.metric === undefined ? listMetrics().map((d) => d.id) : opts.metric.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  for (const id of ids) resolveOptions(id, opts.options[id]);
  const [fa, fb] = await Promise.all([layerFiles(dirA), layerFiles(dirB)]);
  const read = async (files: [string, string][]) => Promise.all(files.map(async ([n, p]) => [n, await readMatrixFile(p)] as [string, Matrix]));
  const [A, B] = await Promise.all([read(fa), read(fb)]);
  ctx.info(`comparing ${A.length} layers of ${dirA} with ${B.length} layers of ${dirB} on ${(A[0] as [string, Matrix])[1].rows} inputs`);
  let last = 0;
  const audit = compareLayers(A, B, ids, {
    options: opts.options,
    onProgress: (done, total) => {
      const pct = Math.floor((100 * done) / total);
      if (pct >= last + 10 || done === total) {
        last = pct;
        ctx.info(`  ${done}/${total} layer pairs (${pct}%)`);
      }
    },
  });
  const out = resolve(opts.out);
  await mkdir(out, { recursive: true });
  const files: Record<string, { csv: string; html: string }> = {};
  for (const id of audit.metrics) {
    const d = getMetric(id);
    const values = audit.values[id] as number[][];
    const base = join(out, id);
    await writeFileAtomic(`${base}.csv`, csv(audit.layersA, audit.layersB, values));
    await writeFileAtomic(
      `${base}.html`,
      heatmapHtml({
        title: `${id}: ${dirA} vs ${dirB}`,
        subtitle: `${d.title} (${d.kind}; ${audit.layersA.length} x ${audit.layersB.length} layer pairs, float64)`,
        rowLabels: audit.layersA,
        colLabels: audit.layersB,
        values,
        rowAxis: dirA,
        colAxis: dirB,
      }),
    );
    files[id] = { csv: `${base}.csv`, html: `${base}.html` };
  }
  const jsonPath = join(out, 'audit.json');
  await writeFileAtomic(jsonPath, JSON.stringify({ a: dirA, b: dirB, ...audit }, null, 2) + '\n');
  ctx.result({ out, json: jsonPath, files, ...audit }, () => `wrote ${audit.metrics.length} metrics x ${audit.layersA.length} x ${audit.layersB.length} layer pairs to ${out} (audit.json, <metric>.csv, <metric>.html)`);
}
