import * as tf from '@tensorflow/tfjs-core';
import { join, resolve } from 'node:path';
import { BasisError } from '@basis/tensor';
import { selectBackend } from '@basis/tensor/backend';
import { activationMatchingOn, interpolationCurve, llfc, stitch, weightMatching, type BarrierRecord, type MatchResult, type RepairMode, type StitchKind } from '@basis/connectivity';
import { figureCsv, lineChart, renderReport, type Figure } from '@basis/experiments';
import { datasetToTensors, describeGraph, forward, inferSpec, paramsToTensors, toFloat32, toFloat64, type ModelGraph } from '@basis/zoo';
import { loadDataSpec, saveModel, type loadModel } from '@basis/zoo/node';
import type { CommandContext } from '../context.js';
import { formatTable } from '../table.js';
import { loadModelArg, type ModelArgs } from './model-args.js';
import { withDirLock, writeFileAtomic } from '@basis/tensor/node';

/** How B is aligned to A. */
export type MatchMethod = 'weight' | 'activation' | 'sinkhorn';

/** Options shared by the connectivity commands, parsed at the door. */
export interface ConnectivityCommandOptions {
  /** Describes bare .pt/.safetensors files A and B (checkpoints ignore it); `dataset`: mnist or fashion (default: the dataset recorded in A's manifest, else mnist). */
  model: ModelArgs;
  /** Test inputs evaluated (>= 10; default all of the test split). */
  n?: number;
  out?: string;
}

type Loaded = Awaited<ReturnType<typeof loadModel>>;

function sameArchitecture(a: Loaded, b: Loaded): void {
  const pa = describeGraph(a.graph).params.map((p) => `${p.name}:${p.shape.join('x')}`).join(',');
  const pb = describeGraph(b.graph).params.map((p) => `${p.name}:${p.shape.join('x')}`).join(',');
  if (pa !== pb) throw new BasisError('SHAPE_MISMATCH', `${a.path} (${a.graph.name}) and ${b.path} (${b.graph.name}) are different architectures; these commands need two models of one architecture`);
}

function datasetOf(a: Loaded, flag: ModelArgs['dataset']): 'mnist' | 'fashion' {
  const meta = a.manifest?.meta as { data?: { dataset?: string }; dataset?: string } | null | undefined;
  const fromManifest = meta?.data?.dataset ?? meta?.dataset;
  const d = flag ?? fromManifest ?? 'mnist';
  if (d !== 'mnist' && d !== 'fashion') throw new BasisError('USAGE', `--dataset must be mnist or fashion, got '${d}'`);
  return d;
}

async function loadPair(ctx: CommandContext, pathA: string, pathB: string, opts: ConnectivityCommandOptions) {
  await selectBackend(ctx.options.backend);
  const [a, b] = await Promise.all([loadModelArg(pathA, opts.model, (t) => ctx.info(t), { archForFilesOnly: true }), loadModelArg(pathB, opts.model, (t) => ctx.info(t), { archForFilesOnly: true })]);
  sameArchitecture(a, b);
  const dataset = datasetOf(a, opts.model.dataset);
  const split = await loadDataSpec({ dataset });
  const n = opts.n === undefined ? split.test.n : Math.min(opts.n, split.test.n);
  const shape = [n, ...a.graph.input];
  const all = datasetToTensors(split.test);
  const x = tf.reshape(tf.slice(all.x, 0, n), shape);
  const trainAll = datasetToTensors(split.train);
  const trainX = tf.reshape(trainAll.x, [split.train.n, ...a.graph.input]);
  tf.dispose([all.x, all.y, trainAll.y]);
  if (trainAll.x !== trainX) trainAll.x.dispose();
  return { a, b, dataset, x, labels: split.test.labels.slice(0, n), trainX, trainLabels: split.train.labels };
}

async function writeOut(out: string | undefined, name: string, json: unknown, figures: Figure[], title: string): Promise<string[]> {
  if (out === undefined) return [];
  const dir = resolve(out);
  // one writer per output folder (a second process writing there fails at once, naming the first)
  return withDirLock(dir, { cleanDepth: 0 }, () => writeOutLocked(dir, name, json, figures, title));
}

async function writeOutLocked(dir: string, name: string, json: unknown, figures: Figure[], title: string): Promise<string[]> {
  const files: string[] = [];
  await writeFileAtomic(join(dir, `${name}.json`), JSON.stringify(json, null, 2));
  files.push(`${name}.json`);
  for (const f of figures) {
    // the one CSV writer of the reports: header with the axis titles and units
    await writeFileAtomic(join(dir, `${f.id}.csv`), figureCsv(f));
    files.push(`${f.id}.csv`);
  }
  if (figures.length > 0) {
    const { html, svgs } = await renderReport({ title, sections: [{ heading: title, figures }], config: { command: name } });
    for (const [id, svg] of Object.entries(svgs)) {
      await writeFileAtomic(join(dir, `${id}.svg`), svg);
      files.push(`${id}.svg`);
    }
    await writeFileAtomic(join(dir, `${name}.html`), html);
    files.push(`${name}.html`);
  }
  return files.map((f) => join(dir, f));
}

type P = Readonly<Record<string, { readonly shape: readonly number[]; readonly data: ArrayLike<number> }>>;

function match(method: MatchMethod, graph: ModelGraph, A: P, B: P, statsX: tf.Tensor): MatchResult {
  const spec = inferSpec(graph);
  if (method === 'activation') return activationMatchingOn(graph, A, B, statsX, { spec });
  return weightMatching(A, B, spec, { solver: method === 'sinkhorn' ? 'sinkhorn' : 'lsap' });
}

/** `basis match A B --method weight|activation|sinkhorn --out B_aligned`. */
export async function runMatch(ctx: CommandContext, pathA: string, pathB: string, opts: ConnectivityCommandOptions & { method: MatchMethod }): Promise<void> {
  if (opts.out === undefined) throw new BasisError('USAGE', 'basis match needs --out DIR for the aligned copy of B');
  const { a, b, x, trainX } = await loadPair(ctx, pathA, pathB, opts);
  try {
    const A = toFloat64(a.params);
    const B = toFloat64(b.params);
    const statsX = tf.slice(trainX, 0, Math.min(2000, trainX.shape[0] as number));
    const t0 = performance.now();
    const r = match(opts.method, a.graph, A, B, statsX);
    statsX.dispose();
    const seconds = (performance.now() - t0) / 1000;
    await withDirLock(resolve(opts.out), { cleanDepth: 0 }, () => saveModel(resolve(opts.out!), { graph: a.graph, params: toFloat32(r.params) }));
    // the aligned model is the same function as B (on at most 64 inputs: --n may give fewer)
    const probe = Math.min(64, x.shape[0] as number);
    const yb = tf.tidy(() => forward(b.graph, paramsToTensors(b.params), tf.slice(x, 0, probe)).output.dataSync());
    const ya = tf.tidy(() => forward(b.graph, paramsToTensors(r.params), tf.slice(x, 0, probe)).output.dataSync());
    let err = 0;
    let scale = 0;
    for (let k = 0; k < yb.length; k++) {
      err = Math.max(err, Math.abs((ya[k] as number) - (yb[k] as number)));
      scale = Math.max(scale, Math.abs(yb[k] as number));
    }
    const summary = { method: opts.method, out: resolve(opts.out), sweeps: r.sweeps, seconds, objective: r.objective, matched: r.matched, functionalError: err / Math.max(scale, 1e-30) };
    ctx.result(summary, () =>
      formatTable([
        ['item', 'value'],
        ['method', opts.method],
        ['groups matched', r.matched.map((m) => `${m.group} (${m.how})`).join(', ')],
        ['sweeps', String(r.sweeps)],
        ['objective', r.objective.length > 0 ? `${r.objective[0]!.toFixed(3)} → ${r.objective.at(-1)!.toFixed(3)}` : '-'],
        ['aligned B = B as a function', `max relative output change ${summary.functionalError.toExponential(2)}`],
        ['time', `${seconds.toFixed(2)} s`],
        ['written', summary.out],
      ]),
    );
  } finally {
    tf.dispose([x, trainX]);
  }
}

function curveFigure(id: string, name: string, records: Record<string, BarrierRecord>, key: 'loss' | 'error'): Figure {
  const rows = Object.entries(records).flatMap(([series, r]) => r.lambdas.map((l, i) => ({ x: l, y: r[key][i] as number, series })));
  return { id, title: `Test ${key} along the linear path`, caption: `λ = 0 is A, λ = 1 is B (${name}).`, spec: lineChart(rows, { x: 'λ', y: `test ${key}` }), rows };
}

/** `basis interpolate A B [--match none|weight|activation] [--lambdas k] [--repair ...]`. */
export async function runInterpolate(ctx: CommandContext, pathA: string, pathB: string, opts: ConnectivityCommandOptions & { match: MatchMethod | 'none'; points: number; repair?: RepairMode }): Promise<void> {
  const { a, b, x, labels, trainX } = await loadPair(ctx, pathA, pathB, opts);
  try {
    const lambdas = Array.from({ length: opts.points }, (_, i) => i / (opts.points - 1));
    const A = toFloat64(a.params);
    let B: Record<string, { shape: readonly number[]; data: Float64Array }> = toFloat64(b.params);
    const statsX = tf.slice(trainX, 0, Math.min(1000, trainX.shape[0] as number));
    const methods: (MatchMethod | 'none')[] = opts.match === 'none' ? ['none'] : ['none', opts.match];
    const records: Record<string, BarrierRecord> = {};
    for (const m of methods) {
      if (m !== 'none') {
        ctx.info(`matching (${m})...`);
        B = match(m, a.graph, A, toFloat64(b.params), statsX).params;
      }
      ctx.info(`interpolating (${m === 'none' ? 'naive' : m}), ${lambdas.length} points on ${labels.length} test inputs...`);
      records[m === 'none' ? 'naive' : m] = await interpolationCurve(a.graph, A, B, { x, labels }, { lambdas, statsX, ...(opts.repair === undefined ? {} : { repair: opts.repair }) });
    }
    statsX.dispose();
    const files = await writeOut(opts.out, 'interpolate', records, [curveFigure('interpolation-loss', a.graph.name, records, 'loss'), curveFigure('interpolation-error', a.graph.name, records, 'error')], `Interpolation ${a.path} → ${b.path}`);
    ctx.result({ records, files }, () =>
      formatTable([
        ['path', 'loss: max−mean', 'loss: max−linear', 'error: max−linear', 'acc A', 'acc B', 'repair'],
        ...Object.entries(records).map(([k, r]) => [k, r.barrier.loss.maxMinusMean, r.barrier.loss.maxMinusLinear, r.barrier.error.maxMinusLinear, r.endpoints.a.accuracy, r.endpoints.b.accuracy, r.repair]),
      ]) + (files.length > 0 ? `\n\nwritten: ${files.join(', ')}` : ''),
    );
  } finally {
    tf.dispose([x, trainX]);
  }
}

/** `basis llfc A B [--match weight] [--alphas 0.5,...]`. */
export async function runLlfc(ctx: CommandContext, pathA: string, pathB: string, opts: ConnectivityCommandOptions & { match: MatchMethod | 'none'; alphas: number[] }): Promise<void> {
  const { a, b, x, trainX } = await loadPair(ctx, pathA, pathB, opts);
  try {
    const A = toFloat64(a.params);
    let B: Record<string, { shape: readonly number[]; data: Float64Array }> = toFloat64(b.params);
    if (opts.match !== 'none') {
      const statsX = tf.slice(trainX, 0, Math.min(2000, trainX.shape[0] as number));
      B = match(opts.match, a.graph, A, B, statsX).params;
      statsX.dispose();
    }
    const sub = tf.slice(x, 0, Math.min(500, x.shape[0] as number));
    const r = await llfc(a.graph, A, B, sub, { alphas: opts.alphas });
    sub.dispose();
    const files = await writeOut(opts.out, 'llfc', r, [], 'LLFC');
    ctx.result({ ...r, files }, () =>
      formatTable([
        ['layer', 'α', '1−cos_α', '1−cos(A,B)', 'c* mean', 'c* CV'],
        ...r.layers.map((l) => [l.layer, l.alpha, l.oneMinusCosAlpha.mean, l.oneMinusCosAB.mean, l.scale.mean, l.scale.cv]),
      ]) +
        '\n\n' +
        formatTable([['ReLU layer', 'α', '1−cos (weak additivity)', 'opposite signs'], ...r.weakAdditivity.map((w) => [w.layer, w.alpha, w.oneMinusCos.mean, w.oppositeSignFraction])]) +
        '\n\n' +
        formatTable([['dense layer', 'commutativity distance'], ...r.commutativity.map((c) => [c.layer, c.distance])]),
    );
  } finally {
    tf.dispose([x, trainX]);
  }
}

/** `basis stitch A B --layer L --kind ...`. */
export async function runStitch(ctx: CommandContext, pathA: string, pathB: string, opts: ConnectivityCommandOptions & { layer: string; kind: StitchKind; epochs: number }): Promise<void> {
  const kind = opts.kind;
  const kindLabel = typeof kind === 'string' ? kind : `rank:${kind.rank}`;
  const { a, b, x, labels, trainX, trainLabels } = await loadPair(ctx, pathA, pathB, opts);
  try {
    ctx.info(`stitching ${a.path} ≤ ${opts.layer} → ${b.path} > ${opts.layer} with a ${kindLabel} layer...`);
    const r = await stitch(a.graph, a.params, b.params, { kind, layer: opts.layer, train: { x: trainX, labels: trainLabels }, test: { x, labels }, epochs: opts.epochs });
    const summary = { kind: kindLabel, layer: opts.layer, penalty: r.penalty, parameters: r.parameters, accuracy: { bottom: r.bottom.accuracy, top: r.top.accuracy, stitched: r.stitched.accuracy, ...(r.stitchedSoft === undefined ? {} : { stitchedSoft: r.stitchedSoft.accuracy }) }, trainLoss: r.trainLoss };
    await writeOut(opts.out, 'stitch', summary, [], 'Stitching');
    ctx.result(summary, () =>
      formatTable([
        ['item', 'value'],
        ['stitching layer', `${kindLabel} at ${opts.layer} (${r.parameters} parameters)`],
        ['accuracy: bottom / top', `${(100 * r.bottom.accuracy).toFixed(2)}% / ${(100 * r.top.accuracy).toFixed(2)}%`],
        ['accuracy: stitched', `${(100 * r.stitched.accuracy).toFixed(2)}%${r.stitchedSoft === undefined ? '' : ` (soft ${(100 * r.stitchedSoft.accuracy).toFixed(2)}%)`}`],
        ['stitching penalty (S003 eq. 4.3)', `${(100 * r.penalty).toFixed(2)} points`],
      ]),
    );
  } finally {
    tf.dispose([x, trainX]);
  }
}
