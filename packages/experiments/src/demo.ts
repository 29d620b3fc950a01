import * as tf from '@tensorflow/tfjs-core';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BasisError, engineInfo, type EngineInfo, type Matrix } from '@basis/tensor';
import { getMetric, listMetrics } from '@basis/align';
import { compareLayersParallel } from '@basis/align/node';
import { activationMatchingOn, evaluate, interpolationCurve, llfc, weightMatching, type BarrierRecord, type LlfcReport } from '@basis/connectivity';
import { TRAINING_PRESETS, captureActivations, checkModelSymmetry, datasetToTensors, inferSpec, mlp, paramsToTensors, toFloat64, trainModel, type ModelGraph } from '@basis/zoo';
import { loadMnist, trainSeeds } from '@basis/zoo/node';
import type { BackendPreference } from '@basis/tensor/backend';
import { withDirLock, writeFileAtomic } from '@basis/tensor/node';
import { heatmapDomain } from './figure-style.js';
import { barChart, figureCsv, heatmap, lineChart, renderReport, type Figure, type Report, type Table } from './report.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Output folder for report.html, result.json and figures/ (created). */
  out: string;
  /** Hidden width of the two MLPs (default 512; quick 128). */
  width?: number;
  /** Training epochs (default: the `TRAINING_PRESETS.mlpMnist` recipe's 10; quick 2). */
  epochs?: number;
  /** Seeds of the two models (default [0, 1]). */
  seeds?: readonly [number, number];
  /** Test inputs used for the representation audit (default 1000; the N x N kernel metrics cost O(N²)). */
  auditN?: number;
  /** A smaller, faster configuration for tests and smoke runs. */
  quick?: boolean;
  /** Progress messages (stage and detail). */
  onProgress?: (stage: string, detail: string) => void;
  /** Train the two models at once on worker threads (default true; false trains in this thread on its backend). */
  parallel?: boolean;
  /** Backend of the training workers (default 'auto'). */
  backend?: BackendPreference;
  /** Versions and backend to record in the report. */
  environment?: Record<string, unknown>;
}

/** Everything the demo measured (also written as result.json). */
export interface DemoResult {
  config: Record<string, unknown>;
  training: Array<{ seed: number; testAccuracy: number; testLoss: number; seconds: number }>;
  symmetry: { groups: Array<{ name: string; kind: string; size: number; worstError: number }>; worstOutputError: number; worstFeatureError: number; features: number };
  /** `engine`: the compute engine of the heatmap audit (provider, library, core type, threads). */
  audit: { layers: string[]; diagonalLayers: string[]; diagonal: Record<string, number[]>; heatmaps: Record<string, number[][]>; seconds: number; engine: EngineInfo };
  connectivity: {
    curves: Record<'naive' | 'weightMatching' | 'activationMatching', BarrierRecord>;
    weightMatching: { sweeps: number; seconds: number; objective: number[] };
    llfc: { before: LlfcReport; after: LlfcReport };
  };
  seconds: number;
  files: string[];
}

/** Seconds as `42 s` or `3 min 05 s`. */
function secs(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(Math.round(s - 60 * m)).padStart(2, '0')} s`;
}

/**
 * Progress over a known number of steps: finished steps are reported with their count, the time
 * since the first step started and an estimate of the time left (mean time per step so far). Fast
 * steps are reported at most every `everyMs` (the last one always). `done(label, count)` sets the
 * count of finished steps (default: one more).
 */
export function stepper(say: (detail: string) => void, total: number, opts: { everyMs?: number; now?: () => number } = {}): { start(label: string): void; done(label: string, count?: number): void } {
  const now = opts.now ?? (() => performance.now());
  const every = opts.everyMs ?? 1500;
  let t0: number | undefined;
  let last = -Infinity;
  let done = 0;
  return {
    start(label) {
      t0 ??= now();
      last = now();
      say(`${label} (step ${done + 1}/${total})`);
    },
    done(label, count) {
      t0 ??= now();
      done = Math.min(total, count ?? done + 1);
      const t = now();
      if (done < total && t - last < every) return;
      last = t;
      const elapsed = (t - t0) / 1000;
      const left = done < total ? `, about ${secs((elapsed / done) * (total - done))} left` : '';
      say(`${label} (${done}/${total}, ${secs(elapsed)}${left})`);
    },
  };
}

/** Metrics shown as full layer x layer heatmaps (the rest are computed on matching layers). */
const HEATMAP_METRICS = ['cka.linear', 'procrustes.similarity', 'grelu.procrustes', 'permcorr'];


/**
 * `basis demo`: trains two MNIST MLPs from different seeds, verifies the inferred symmetry spec
 * functionally, audits their representations with every alignment metric (all metrics on matching
 * layers, layer × layer heatmaps for CKA, Procrustes, G_ReLU-Procrustes and perm-corr), measures
 * the linear-interpolation barrier naively and after weight and activation matching, and LLFC
 * before and after matching; writes a self-contained HTML report with SVG figures, their CSV data
 * and Vega-Lite specs, and result.json. The tfjs backend is whatever the caller selected.
 *
 * @example
 * ```ts
 * import { runDemo } from '@basis/experiments/node';
 * const r = await runDemo({ out: 'basis-demo', onProgress: (s, d) => console.error(s, d) });
 * r.connectivity.curves.weightMatching.barrier.loss.maxMinusLinear;
 * ```
 */
export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  if (typeof opts.out !== 'string' || opts.out.length === 0) throw new BasisError('CONFIG_INVALID', 'demo: out must be a folder path');
  // one writer per output folder: another process writing there fails this at once (IO naming it)
  return withDirLock(opts.out, { cleanDepth: 1 }, () => runDemoLocked(opts));
}

async function runDemoLocked(opts: DemoOptions): Promise<DemoResult> {
  const quick = opts.quick ?? false;
  const width = opts.width ?? (quick ? 128 : 512);
  const recipe = TRAINING_PRESETS.mlpMnist.train;
  const epochs = opts.epochs ?? (quick ? 2 : recipe.epochs);
  const seeds = opts.seeds ?? [0, 1];
  const auditN = opts.auditN ?? (quick ? 500 : 1000);
  for (const [k, v, min] of [['width', width, 2], ['epochs', epochs, 1], ['auditN', auditN, 10]] as const) {
    if (!Number.isInteger(v) || v < min) throw new BasisError('CONFIG_INVALID', `demo: ${k} must be an integer >= ${min}, got ${v}`);
  }
  if (seeds[0] === seeds[1]) throw new BasisError('CONFIG_INVALID', 'demo: the two seeds must differ');
  const say = opts.onProgress ?? (() => undefined);
  const t0 = performance.now();
  const figDir = join(opts.out, 'figures');
  await mkdir(figDir, { recursive: true });

  say('data', 'loading MNIST (the 10,000 digits of the mnist package, 8,000 train / 2,000 test)');
  const split = await loadMnist({ seed: 0, testFraction: 0.2, normalize: 'standard' });
  const trainT = datasetToTensors(split.train, { oneHot: true });
  const testT = datasetToTensors(split.test);
  const xTrain = tf.reshape(trainT.x, [split.train.n, 784]);
  const xTest = tf.reshape(testT.x, [split.test.n, 784]);
  const test = { x: xTest, labels: split.test.labels };
  const graph = mlp({ width, depth: 2 });
  const spec = inferSpec(graph);
  try {
    const models: Array<Record<string, { shape: number[]; data: Float64Array }>> = [];
    const training: DemoResult['training'] = [];
    const ts = performance.now();
    const runs =
      opts.parallel ?? true
        ? (say('train', `${graph.name}, seeds ${seeds.join(' and ')} in parallel on worker threads, ${epochs} epochs`),
          await trainSeeds({
            graph,
            train: split.train,
            test: split.test,
            recipe: { ...recipe, epochs },
            seeds: [...seeds],
            ...(opts.backend === undefined ? {} : { backend: opts.backend }),
            onProgress: (seed, e) => {
              if (e.kind === 'epoch') say('train', `seed ${String(seed)}: epoch ${e.record.epoch}/${epochs}, train loss ${e.record.loss.toFixed(4)}`);
            },
          }))
        : await (async () => {
            const out = [];
            for (const seed of seeds) {
              say('train', `${graph.name}, seed ${seed}, ${epochs} epochs`);
              out.push(await trainModel({ graph, train: split.train, test: split.test, recipe: { ...recipe, epochs, seed } }));
            }
            return out;
          })();
    const trainSeconds = (performance.now() - ts) / 1000;
    for (let k = 0; k < seeds.length; k++) {
      const p = toFloat64((runs[k] as { params: Parameters<typeof toFloat64>[0] }).params);
      const ev = await evaluate(graph, p, test);
      training.push({ seed: seeds[k] as number, testAccuracy: ev.accuracy, testLoss: ev.loss, seconds: trainSeconds });
      models.push(p);
    }
    const [A, B] = models as [Record<string, { shape: number[]; data: Float64Array }>, Record<string, { shape: number[]; data: Float64Array }>];

    say('symmetry', 'inferring and verifying the symmetry spec');
    const probe = tf.slice(xTest, 0, 64);
    const { report: sym } = await checkModelSymmetry(graph, A, probe, { seed: 7 });
    probe.dispose();

    say('audit', `capturing activations on ${auditN} test inputs and comparing every layer pair`);
    const ta = performance.now();
    const auditX = tf.slice(xTest, 0, auditN);
    const points = graph.nodes.slice(0, -1).map((n) => n.name); // every hidden capture point, pre and post activation
    const [ca, cb] = await Promise.all([
      captureActivations(graph, paramsToTensors(A), auditX, { points }),
      captureActivations(graph, paramsToTensors(B), auditX, { points }),
    ]);
    auditX.dispose();
    const layerNames = points.map((p) => (graph.nodes.find((n) => n.name === p)!.op === 'activation' ? `${p} (post)` : `${p} (pre)`));
    // every metric on the post-activation layers (where the theory speaks); fast ones on all pairs
    const postPoints = points.filter((p) => graph.nodes.find((n) => n.name === p)!.op === 'activation');
    const ids = listMetrics().map((d) => d.id);
    const diagonal: Record<string, number[]> = Object.fromEntries(ids.map((id) => [id, [] as number[]]));
    for (const p of postPoints) {
      // one layer pair, every metric: the cells spread over worker threads when the work is large
      const cell = await compareLayersParallel({ [p]: ca[p] as Matrix }, { [p]: cb[p] as Matrix }, ids, {
        onProgress: (done, total, cur) => say('audit', `${p}: ${cur.metric} (${done}/${total})`),
      });
      for (const id of ids) (diagonal[id] as number[]).push((cell.values[id] as number[][])[0]![0] as number);
    }
    const heatStep = stepper((d) => say('audit', d), points.length * points.length * HEATMAP_METRICS.length);
    const heat = await compareLayersParallel(Object.fromEntries(points.map((p) => [p, ca[p] as Matrix])), Object.fromEntries(points.map((p) => [p, cb[p] as Matrix])), HEATMAP_METRICS, {
      onProgress: (done, _total, cur) => heatStep.done(`heatmap cells: ${cur.metric}`, done),
    });
    const auditSeconds = (performance.now() - ta) / 1000;

    // connectivity: 2 matchings, 3 curves of 11 λ each, 2 LLFC passes; one progress line per step with an estimate
    const lambdas = Array.from({ length: 11 }, (_, i) => i / 10);
    const step = stepper((d) => say('connectivity', d), 2 + 3 * lambdas.length + 2);
    step.start('weight matching (coordinate descent through the inferred spec)');
    const tw = performance.now();
    const wm = weightMatching(A, B, spec);
    const wmSeconds = (performance.now() - tw) / 1000;
    step.done(`weight matching: ${wm.sweeps} sweeps`);
    const statX = tf.slice(xTrain, 0, 2000);
    const am = activationMatchingOn(graph, A, B, statX, { spec });
    statX.dispose();
    step.done('activation matching on 2,000 training inputs');
    const curve = (name: string, other: Parameters<typeof interpolationCurve>[2]): Promise<BarrierRecord> =>
      interpolationCurve(graph, A, other, test, { lambdas, onProgress: (k, n) => step.done(`interpolation (${name}): λ ${k}/${n}`) });
    const curves = {
      naive: await curve('naive', B),
      weightMatching: await curve('weight matching', wm.params),
      activationMatching: await curve('activation matching', am.params),
    };
    const llX = tf.slice(xTest, 0, Math.min(500, split.test.n));
    const llfcBefore = await llfc(graph, A, B, llX);
    step.done('LLFC before matching');
    const llfcAfter = await llfc(graph, A, wm.params, llX);
    step.done('LLFC after weight matching');
    llX.dispose();

    const config = {
      data: { source: 'mnist package (10,000 digits)', train: split.train.n, test: split.test.n, normalize: 'standard', split: 'stratified, seed 0' },
      model: graph,
      training: { preset: 'TRAINING_PRESETS.mlpMnist', ...recipe, epochs, seeds },
      audit: { inputs: auditN, points, heatmapMetrics: HEATMAP_METRICS },
      connectivity: { lambdas, split: 'test', matching: ['weight (modulo G_ReLU)', 'activation (correlation)'] },
      environment: opts.environment ?? {},
      // the compute engine of this thread (the audit records its own; training workers use their share of the threads)
      engine: engineInfo(),
    };
    const result: DemoResult = {
      config,
      training,
      symmetry: {
        groups: sym.groups.map((g) => ({ name: g.name, kind: g.kind, size: g.size, worstError: g.worstError })),
        worstOutputError: sym.worstOutputError,
        worstFeatureError: sym.worstFeatureError,
        features: sym.features.length,
      },
      audit: { layers: layerNames, diagonalLayers: postPoints, diagonal, heatmaps: heat.values, seconds: auditSeconds, engine: heat.engine },
      connectivity: { curves, weightMatching: { sweeps: wm.sweeps, seconds: wmSeconds, objective: wm.objective }, llfc: { before: llfcBefore, after: llfcAfter } },
      seconds: 0,
      files: [],
    };
    say('report', `writing ${opts.out}`);
    // the run time is known before the report is rendered (the subtitle states it)
    result.seconds = (performance.now() - t0) / 1000;
    const report = demoReport(result);
    const { html, svgs } = await renderReport(report);
    const files: string[] = [];
    for (const s of report.sections) {
      for (const f of s.figures ?? []) {
        await writeFileAtomic(join(figDir, `${f.id}.svg`), svgs[f.id] as string);
        await writeFileAtomic(join(figDir, `${f.id}.vl.json`), JSON.stringify(f.spec, null, 2));
        await writeFileAtomic(join(figDir, `${f.id}.csv`), figureCsv(f));
        files.push(`figures/${f.id}.svg`, `figures/${f.id}.vl.json`, `figures/${f.id}.csv`);
      }
    }
    await writeFileAtomic(join(opts.out, 'report.html'), html);
    result.files = ['report.html', 'result.json', ...files];
    await writeFileAtomic(join(opts.out, 'result.json'), JSON.stringify(result, null, 2));
    return result;
  } finally {
    tf.dispose([trainT.x, trainT.y, testT.x, testT.y, xTrain, xTest]);
  }
}

/** The demo's report: training, symmetry, audit heatmaps, per-layer metric table, interpolation, LLFC. */
export function demoReport(r: DemoResult): Report {
  const pct = (x: number): number => Math.round(x * 10000) / 100;
  const curves = r.connectivity.curves;
  const PATH_NAMES: Record<string, string> = { naive: 'naive', weightMatching: 'weight matching', activationMatching: 'activation matching' };
  const pathName = (k: string): string => PATH_NAMES[k] ?? k;
  const curveRows = (key: 'loss' | 'error'): Figure['rows'] =>
    (Object.entries(curves) as Array<[string, BarrierRecord]>).flatMap(([name, c]) => c.lambdas.map((l, i) => ({ x: l, y: c[key][i] as number, series: pathName(name) })));
  const layers = r.audit.layers;
  // one colour scale for every heatmap panel: [0, 1] for these similarities (or their shared range)
  const domain = heatmapDomain(Object.values(r.audit.heatmaps).flat(2));
  const heatFigures: Figure[] = Object.entries(r.audit.heatmaps).map(([id, m]) => {
    const rows = m.flatMap((row, i) => row.map((v, j) => ({ a: layers[i] as string, b: layers[j] as string, value: v })));
    const kind = getMetric(id).kind;
    return {
      id: `heatmap-${id}`,
      title: id,
      caption: `${kind === 'similarity' ? 'Similarity' : 'Distance'} between every layer of model A (rows) and model B (columns) on the audit inputs; every heatmap of this report uses the colour scale [${domain.join(', ')}].`,
      spec: heatmap(rows, { a: 'model A layer', b: 'model B layer', title: id, order: layers, domain, label: kind }),
      rows,
    };
  });
  const diagTable: Table = {
    id: 'metrics-by-layer',
    title: 'Every metric on matching layers',
    caption: 'Model A vs model B at the same post-activation layer (rows = metric ids of @basis/align).',
    columns: ['metric', 'kind', ...r.audit.diagonalLayers],
    rows: Object.entries(r.audit.diagonal).map(([id, vals]) => [id, getMetric(id).kind, ...vals]),
  };
  const barrierRows = (Object.entries(curves) as Array<[string, BarrierRecord]>).flatMap(([name, c]) => [
    { group: pathName(name), series: 'loss barrier (cross-entropy)', value: c.barrier.loss.maxMinusLinear },
    { group: pathName(name), series: 'error barrier (error rate)', value: c.barrier.error.maxMinusLinear },
  ]);
  const llfcRows = r.connectivity.llfc.before.layers.map((l, i) => {
    const a = r.connectivity.llfc.after.layers[i]!;
    return [l.layer, l.oneMinusCosAlpha.mean, a.oneMinusCosAlpha.mean, l.oneMinusCosAB.mean, a.oneMinusCosAB.mean];
  });
  const wm = curves.weightMatching.barrier;
  const nv = curves.naive.barrier;
  return {
    title: 'basis demo: two MNIST MLPs, their symmetries, representations and connectivity',
    // rendered once every fact is known: a part that is not (yet) known is left out, never left dangling
    subtitle: [String((r.config['model'] as ModelGraph).name), `seeds ${r.training.map((t) => t.seed).join(' and ')}`, r.seconds > 0 ? `${r.seconds.toFixed(0)} s` : ''].filter((p) => p !== '').join(' · '),
    sections: [
      {
        heading: 'Training',
        text: 'Two networks of the same architecture, trained from different seeds (initialisation and data order) on the same data.',
        tables: [{ id: 'training', title: 'Test accuracy', columns: ['seed', 'test accuracy (%)', 'test loss', 'training wall time, all seeds (s)'], rows: r.training.map((t) => [t.seed, pct(t.testAccuracy), t.testLoss, t.seconds]) }],
      },
      {
        heading: 'Symmetry spec, inferred and verified',
        text: `The spec was inferred from the model graph (each hidden layer carries G_ReLU = permutations x positive scalings) and checked functionally: random group elements were applied to the weights and the outputs stayed equal (worst relative change ${r.symmetry.worstOutputError.toExponential(2)} in float32), while ${r.symmetry.features} hidden features moved exactly by the group element (worst error ${r.symmetry.worstFeatureError.toExponential(2)}). Same function, different weights: this is why alignment must look modulo the group.`,
        tables: [{ id: 'symmetry', title: 'Groups', columns: ['group', 'kind', 'units', 'worst output change'], rows: r.symmetry.groups.map((g) => [g.name, g.kind, g.size, g.worstError]) }],
      },
      {
        heading: 'Representation audit',
        text: 'Activations of both models on the same test inputs, compared layer by layer. Rotation-invariant measures (CKA, Procrustes) see more similarity than the symmetry-aware G_ReLU-Procrustes, which only allows permutations and positive scalings of units.',
        figures: heatFigures,
        tables: [diagTable],
      },
      {
        heading: 'Linear mode connectivity',
        text: `Interpolating the weights directly crosses a loss barrier of ${nv.loss.maxMinusLinear.toFixed(3)} (${(100 * nv.error.maxMinusLinear).toFixed(1)} error points). After weight matching (permutation coordinate descent through the inferred spec, modulo positive scaling) the barrier is ${wm.loss.maxMinusLinear.toFixed(3)} (${(100 * wm.error.maxMinusLinear).toFixed(1)} points): the two solutions lie in one basin up to the network's symmetry.`,
        figures: [
          { id: 'interpolation-loss', title: 'Test loss along the linear path', caption: 'λ = 0 is model A, λ = 1 model B (aligned to A for the matched curves).', spec: lineChart(curveRows('loss'), { x: 'λ (0 = model A, 1 = model B)', y: 'test loss (cross-entropy)' }), rows: curveRows('loss') },
          { id: 'interpolation-error', title: 'Test error along the linear path', caption: 'Error rate (1 - accuracy) of the interpolated models.', spec: lineChart(curveRows('error'), { x: 'λ (0 = model A, 1 = model B)', y: 'test error (error rate)' }), rows: curveRows('error') },
          { id: 'barriers', title: 'Barriers', caption: 'max over λ of E(λ) minus the linear interpolation of the endpoints; loss and error in separate panels (different units).', spec: barChart(barrierRows, { x: 'path', y: 'barrier', split: true }), rows: barrierRows },
        ],
        tables: [
          {
            id: 'barrier-table',
            title: 'Barrier record',
            caption: 'Both definitions (max − mean of endpoints, max − linear interpolation), for loss and error, on the test split.',
            columns: ['method', 'loss: max−mean', 'loss: max−linear', 'error: max−mean', 'error: max−linear', 'λ of max gap'],
            rows: (Object.entries(curves) as Array<[string, BarrierRecord]>).map(([k, c]) => [k, c.barrier.loss.maxMinusMean, c.barrier.loss.maxMinusLinear, c.barrier.error.maxMinusMean, c.barrier.error.maxMinusLinear, c.barrier.loss.argmax]),
          },
        ],
      },
      {
        heading: 'Layerwise linear feature connectivity (LLFC)',
        text: 'E[1 − cos] between the features of the weight-interpolated model (α = 0.5) and the interpolation of the two models\' features; the baseline is E[1 − cos] between the models\' features. LLFC holds where the first is near 0.',
        tables: [{ id: 'llfc', title: 'LLFC before and after weight matching', columns: ['layer', '1−cos_α before', '1−cos_α after', '1−cos(A,B) before', '1−cos(A,B) after'], rows: llfcRows }],
      },
    ],
    config: r.config,
  };
}
