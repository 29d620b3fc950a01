import { readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { estimateAudit, getMetric } from '@basis/align';
import { compareLayersParallel } from '@basis/align/node';
import { BasisError, threadBudget, type Matrix } from '@basis/tensor';
import { heatmap, heatmapDomain, renderReport, toCsv } from '@basis/experiments';
import { lockDir, readMatrixFile, writeFileAtomic } from '@basis/tensor/node';
import type { CommandContext } from '../context.js';
import { ProgressBars, formatDuration } from '../progress.js';
import { checkMemoryBudget, defaultMemoryBudget, describeEstimate } from '../resources.js';
import type { MetricSelection } from './compare.js';

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

/**
 * `basis compare --layers DIR_A DIR_B`: all layer pairs -> CSV, JSON and an HTML heatmap per metric.
 * Large audits run on worker threads (`compareLayersParallel`; small ones stay in-process);
 * `workers` caps the thread count (default: the engine's thread budget, `--threads`; 1 = in-process), and the environment variable
 * `BASIS_PARALLEL_MIN_SECONDS` overrides the estimated serial time above which workers are used
 * (default 3 s; 0 = always). Time and peak memory are estimated from the layer shapes before any
 * work (`estimateAudit`); above `--max-memory` (default half of this machine's memory) it refuses
 * with USAGE. Progress: the cells done, the metric at work and the elapsed time (a redrawn bar on a
 * terminal, a line per tenth elsewhere). OUT is locked while it is written. With `queue` (a Redis
 * URL, '' for BASIS_QUEUE) each layer of A becomes a `compare-row` job for `basis worker` processes
 * (the layer folders and OUT on a filesystem they share); the values equal the local audit's at the
 * same BLAS thread count.
 */
export async function runCompareLayers(
  ctx: CommandContext,
  dirA: string,
  dirB: string,
  opts: { metrics: MetricSelection; out: string; workers?: number; maxMemory?: number; queue?: string; queueName?: string },
): Promise<void> {
  const { ids } = opts.metrics;
  const options = opts.metrics.options as Record<string, Record<string, unknown>>;
  if (opts.workers !== undefined && !(Number.isSafeInteger(opts.workers) && opts.workers >= 1)) {
    throw new BasisError('USAGE', `--workers must be a positive integer (1 = compute in-process), got '${String(opts.workers)}'`);
  }
  const minSecondsRaw = process.env['BASIS_PARALLEL_MIN_SECONDS'];
  const minSeconds = minSecondsRaw === undefined || minSecondsRaw === '' ? undefined : Number(minSecondsRaw);
  if (minSeconds !== undefined && !(minSeconds >= 0)) {
    throw new BasisError('USAGE', `BASIS_PARALLEL_MIN_SECONDS must be a non-negative number of seconds, got '${minSecondsRaw}'`);
  }
  const budget = opts.maxMemory ?? defaultMemoryBudget();
  const [fa, fb] = await Promise.all([layerFiles(dirA), layerFiles(dirB)]);
  const read = async (files: [string, string][]) => Promise.all(files.map(async ([n, p]) => [n, await readMatrixFile(p)] as [string, Matrix]));
  const [A, B] = await Promise.all([read(fa), read(fb)]);
  ctx.info(`comparing ${A.length} layers of ${dirA} with ${B.length} layers of ${dirB} on ${(A[0] as [string, Matrix])[1].rows} inputs`);
  const shapes = (L: [string, Matrix][]) => L.map(([, m]) => ({ rows: m.rows, cols: m.cols }));
  const rowsAgree = [...A, ...B].every(([, m]) => m.rows === (A[0] as [string, Matrix])[1].rows);
  // memory as if every worker ran its largest cell at once; time as on one core
  const maxWorkers = opts.workers ?? threadBudget();
  if (rowsAgree) {
    const est = estimateAudit(shapes(A), shapes(B), ids, { options });
    const peak = estimateAudit(shapes(A), shapes(B), ids, { options, workers: maxWorkers });
    ctx.info(describeEstimate({ ...est, peakBytes: peak.peakBytes }, budget));
    checkMemoryBudget({ ...est, peakBytes: peak.peakBytes }, budget, opts.maxMemory !== undefined);
  }
  const out = resolve(opts.out);
  const lock = await lockDir(out, { cleanDepth: 0 });
  try {
    const { metrics: _m, ...rest } = opts;
    await auditInto(ctx, dirA, dirB, A, B, ids, out, { ...rest, options, files: { a: fa, b: fb } }, minSeconds);
  } finally {
    await lock.release();
  }
}

async function auditInto(
  ctx: CommandContext,
  dirA: string,
  dirB: string,
  A: [string, Matrix][],
  B: [string, Matrix][],
  ids: string[],
  out: string,
  opts: { options: Record<string, Record<string, unknown>>; workers?: number; queue?: string; queueName?: string; files?: { a: [string, string][]; b: [string, string][] } },
  minSeconds: number | undefined,
): Promise<void> {
  let last = 0;
  const t0 = performance.now();
  const bars = new ProgressBars(ctx.io.stderr, !ctx.options.quiet && !ctx.options.json);
  let result;
  try {
    result = opts.queue !== undefined && opts.files !== undefined ? await auditOnQueue(ctx, ids, out, { ...opts, files: opts.files, queue: opts.queue }, bars) : await compareLayersParallel(A, B, ids, {
      options: opts.options,
      ...(opts.workers === undefined ? {} : { workers: opts.workers }),
      ...(minSeconds === undefined ? {} : { minSeconds }),
      onProgress: (done, total, cell) => {
        const elapsed = formatDuration((performance.now() - t0) / 1000);
        bars.update('cells', { done, total, detail: `${cell.metric} ${cell.a} x ${cell.b}, elapsed ${elapsed}` });
        const pct = Math.floor((100 * done) / total);
        if (pct >= last + 10 || done === total) {
          last = pct;
          bars.log(`  ${done}/${total} cells (${pct}%; a cell = one metric on one layer pair), last ${cell.metric}, elapsed ${elapsed}`);
        }
      },
    });
  } finally {
    bars.finish();
  }
  const { workers, ...audit } = result;
  if (workers > 0) {
    const blas = audit.engine.provider === 'native' ? `, ${audit.engine.threads} BLAS thread${audit.engine.threads === 1 ? '' : 's'} each` : '';
    ctx.info(`  (computed on ${workers} worker threads${blas})`);
  }
  const files: Record<string, { csv: string; html: string }> = {};
  for (const id of audit.metrics) {
    const d = getMetric(id);
    const values = audit.values[id] as number[][];
    const base = join(out, id);
    await writeFileAtomic(`${base}.csv`, toCsv(['layer', ...audit.layersB], values.map((row, i) => [audit.layersA[i] as string, ...row])));
    // the one heatmap of basis (the reports' Vega-Lite style): fixed colour scale, colour bar with 5+ ticks
    const rows = values.flatMap((row, i) => row.map((v, j) => ({ a: audit.layersA[i] as string, b: audit.layersB[j] as string, value: v })));
    const finiteRange = Number.isFinite(d.range[0]) && Number.isFinite(d.range[1]);
    const domain: [number, number] = d.kind === 'similarity' || !finiteRange ? heatmapDomain(values.flat()) : [d.range[0], d.range[1]];
    const { html } = await renderReport({
      title: `${id}: ${dirA} vs ${dirB}`,
      subtitle: `${d.title} (${d.kind}; ${audit.layersA.length} x ${audit.layersB.length} layer pairs, float64)`,
      sections: [
        {
          heading: 'Every layer pair',
          figures: [
            {
              id,
              title: id,
              caption: `${d.kind === 'similarity' ? 'Similarity' : 'Distance'} between every layer of ${dirA} (rows) and ${dirB} (columns); the values are in ${id}.csv.`,
              // axis titles: the folders' names (their full paths are in the caption and the configuration)
              spec: heatmap(rows, { a: basename(dirA) || dirA, b: basename(dirB) || dirB, title: id, domain, label: d.kind }),
              rows,
            },
          ],
        },
      ],
      config: { a: dirA, b: dirB, metric: id, options: audit.options[id] ?? {}, engine: audit.engine },
    });
    await writeFileAtomic(`${base}.html`, html);
    files[id] = { csv: `${base}.csv`, html: `${base}.html` };
  }
  const jsonPath = join(out, 'audit.json');
  await writeFileAtomic(jsonPath, JSON.stringify({ a: dirA, b: dirB, ...audit }, null, 2) + '\n');
  ctx.result({ out, json: jsonPath, files, ...audit }, () => `wrote ${audit.metrics.length} metrics x ${audit.layersA.length} x ${audit.layersB.length} layer pairs to ${out} (audit.json, <metric>.csv, <metric>.html)`);
}

/**
 * `basis compare --layers … --queue`: one `compare-row` job per layer of A (its content key covers
 * the bytes of every layer file, the metrics, their options and the versions), computed by
 * `basis worker` processes into OUT/.basis-queue/<key>.json; the rows are assembled into the audit
 * the local path returns (`workers` is 0: no local worker threads).
 */
async function auditOnQueue(
  ctx: CommandContext,
  ids: string[],
  out: string,
  opts: { options: Record<string, Record<string, unknown>>; queue: string; queueName?: string; files: { a: [string, string][]; b: [string, string][] } },
  bars: ProgressBars,
): Promise<Awaited<ReturnType<typeof compareLayersParallel>>> {
  const { contentHash, createQueueExecutor, openStore, packageVersions, parseStored } = await import('@basis/experiments/node');
  const { createHash } = await import('node:crypto');
  const { readFile } = await import('node:fs/promises');
  const digest = async (p: string): Promise<string> => createHash('sha256').update(await readFile(p)).digest('hex');
  const a = await Promise.all(opts.files.a.map(async ([name, p]) => ({ name, path: resolve(p), sha256: await digest(p) })));
  const b = await Promise.all(opts.files.b.map(async ([name, p]) => ({ name, path: resolve(p), sha256: await digest(p) })));
  const versions = await packageVersions();
  const tty = (ctx.io.stderr as { isTTY?: boolean }).isTTY === true;
  const executor = await createQueueExecutor({
    ...(opts.queue === '' ? {} : { queue: opts.queue }),
    ...(opts.queueName === undefined ? {} : { name: opts.queueName }),
    onStatus: (kind, st) => {
      bars.update(`queue ${kind}`, { done: st.done, total: st.total, detail: `${st.done}/${st.total} rows done, ${st.active} running, ${st.waiting} waiting` });
      if (!tty) bars.log(`  queue ${kind}: ${st.done}/${st.total} rows done, ${st.active} running, ${st.waiting} waiting${st.failed > 0 ? `, ${st.failed} failed` : ''}`);
    },
  });
  ctx.info(`  ${a.length} rows (one per layer of A) go to the workers of ${executor.description}; the layer files and ${out} must be on a filesystem they share`);
  try {
    const jobs = a.map((la) => {
      const key = contentHash({ kind: 'basis.compare-row', a: { name: la.name, sha256: la.sha256 }, b: b.map((l) => ({ name: l.name, sha256: l.sha256 })), metrics: ids, options: opts.options, versions });
      const payload = { v: 1 as const, key, label: la.name, a: { name: la.name, path: la.path }, b: b.map((l) => ({ name: l.name, path: l.path })), metrics: ids, options: opts.options, result: join(out, '.basis-queue', `${key}.json`), versions };
      return { kind: 'compare-row' as const, key, label: la.name, deps: [], artifact: `.basis-queue/${key}.json`, payload };
    });
    const ctl = new AbortController();
    await executor.runJobs(jobs, openStore({ kind: 'dir', root: out }), { signal: ctl.signal, onProgress: () => undefined, onWait: (line) => bars.log(`  ${line}`) });
    const rows = await Promise.all(jobs.map(async (j) => parseStored(await readFile(j.payload.result, 'utf8')) as { values: Record<string, number[]>; options: Awaited<ReturnType<typeof compareLayersParallel>>['options']; engine: Awaited<ReturnType<typeof compareLayersParallel>>['engine'] }));
    const first = rows[0]!;
    return {
      layersA: a.map((l) => l.name),
      layersB: b.map((l) => l.name),
      metrics: ids,
      values: Object.fromEntries(ids.map((id) => [id, rows.map((r) => r.values[id] as number[])])),
      options: first.options,
      precision: 'float64',
      engine: first.engine,
      workers: 0,
    };
  } finally {
    await executor.close();
  }
}
