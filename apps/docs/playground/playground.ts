// The playground's logic, framework-free (the Vue component in .vitepress/theme only renders it).
// It runs the library packages unchanged in the browser: @basis/zoo trains two tiny MLPs on a bundled
// subset of MNIST, @basis/align compares their layers, @basis/symmetry moves one model by a random
// group element, @basis/connectivity matches the two and measures the interpolation barrier.
import * as tf from '@tensorflow/tfjs-core';
import { BasisError, createRng, type Matrix } from '@basis/tensor';
import { compareLayers, metric } from '@basis/align';
import { act, sampleAssignment } from '@basis/symmetry';
import { captureActivations, datasetToTensors, forward, inferSpec, mlp, mnistFromClassArrays, paramsToTensors, splitDataset, toFloat64, trainModel, type ModelGraph } from '@basis/zoo';
import { interpolationCurve, weightMatching, type BarrierRecord } from '@basis/connectivity';
import { heatmap, heatmapDomain, lineChart, renderSvg } from '@basis/experiments';

/** Metrics shown as layer x layer heatmaps. */
export const PLAYGROUND_METRICS = ['cka.linear', 'procrustes.similarity', 'permutation.similarity'] as const;

/** Settings of one playground run. */
export interface PlaygroundOptions {
  /** Hidden width of both MLPs (784-w-w-10). */
  width: number;
  /** Training epochs. */
  epochs: number;
  /** Seeds of the two models. */
  seeds: readonly [number, number];
  /** Where the site serves the tfjs wasm binaries (a URL prefix ending in '/'). */
  wasmPath: string;
  /** URL of the bundled digits (digits.bin, class-major uint8 28x28 images). */
  digitsUrl: string;
  /** Digits per class in digits.bin. */
  perClass: number;
  onStatus?: (message: string) => void;
}

/** Everything a run measured. */
export interface PlaygroundResult {
  backend: string;
  trainN: number;
  testN: number;
  accuracy: [number, number];
  seconds: { train: number; total: number };
  layers: string[];
  heatmaps: Record<string, number[][]>;
  symmetry: { maxOutputDiff: number; maxOutput: number; sameIndexCorrelation: number; cka: number; greluProcrustes: number };
  curves: { naive: BarrierRecord; matched: BarrierRecord };
}

type Params64 = Record<string, { shape: number[]; data: Float64Array }>;

/** Selects the wasm backend (wasm files served from `wasmPath`), falling back to the pure-JS cpu backend. */
export async function initBackend(wasmPath: string): Promise<string> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(wasmPath);
  try {
    if (await tf.setBackend('wasm')) {
      await tf.ready();
      return tf.getBackend();
    }
  } catch {
    // fall through to cpu
  }
  await import('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu');
  await tf.ready();
  return tf.getBackend();
}

/** Decodes digits.bin into the 10 per-class pixel arrays (values 0..1) that @basis/zoo reads. */
export function decodeDigits(bytes: Uint8Array, perClass: number): Float32Array[] {
  if (!Number.isInteger(perClass) || perClass < 2) throw new BasisError('CONFIG_INVALID', `perClass must be an integer >= 2, got ${perClass}`);
  if (bytes.length !== perClass * 10 * 784) throw new BasisError('BAD_FILE', `digits.bin has ${bytes.length} bytes, expected ${perClass * 10 * 784} (${perClass} digits per class, 28x28)`);
  return Array.from({ length: 10 }, (_, k) => {
    const out = new Float32Array(perClass * 784);
    for (let i = 0; i < out.length; i++) out[i] = (bytes[k * perClass * 784 + i] as number) / 255;
    return out;
  });
}

function maxAbsDiff(a: Float32Array | Float64Array, b: Float32Array | Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** Mean correlation of unit i of X with unit i of Y (no matching): high when the units are the same. */
function sameIndexCorrelation(X: Matrix, Y: Matrix): number {
  let sum = 0;
  let counted = 0;
  for (let j = 0; j < X.cols; j++) {
    let mx = 0, my = 0;
    for (let i = 0; i < X.rows; i++) {
      mx += X.get(i, j);
      my += Y.get(i, j);
    }
    mx /= X.rows;
    my /= X.rows;
    let sxy = 0, sxx = 0, syy = 0;
    for (let i = 0; i < X.rows; i++) {
      const dx = X.get(i, j) - mx, dy = Y.get(i, j) - my;
      sxy += dx * dy;
      sxx += dx * dx;
      syy += dy * dy;
    }
    if (sxx > 0 && syy > 0) {
      sum += sxy / Math.sqrt(sxx * syy);
      counted++;
    }
  }
  return counted === 0 ? 0 : sum / counted;
}

function logits(graph: ModelGraph, p: Params64, x: tf.Tensor): Float32Array {
  return tf.tidy(() => forward(graph, paramsToTensors(p), x).output.dataSync() as Float32Array);
}

/** The whole playground run: train, audit, act with a symmetry, interpolate before and after matching. */
export async function runPlayground(o: PlaygroundOptions): Promise<PlaygroundResult> {
  for (const [k, v, min] of [['width', o.width, 2], ['epochs', o.epochs, 1]] as const) {
    if (!Number.isInteger(v) || v < min || v > 256) throw new BasisError('CONFIG_INVALID', `${k} must be an integer in [${min}, 256], got ${v}`);
  }
  if (o.seeds[0] === o.seeds[1]) throw new BasisError('CONFIG_INVALID', 'the two seeds must differ');
  const say = o.onStatus ?? (() => undefined);
  const t0 = performance.now();
  say('starting the tfjs backend');
  const backend = await initBackend(o.wasmPath);

  say('loading the bundled digits');
  const res = await fetch(o.digitsUrl);
  if (!res.ok) throw new BasisError('BAD_FILE', `could not load ${o.digitsUrl}: HTTP ${res.status}`);
  const all = mnistFromClassArrays(decodeDigits(new Uint8Array(await res.arrayBuffer()), o.perClass), { normalize: 'standard' });
  const { train, test } = splitDataset(all, { testFraction: 0.25, seed: 0 });
  const graph = mlp({ width: o.width, depth: 2 });
  const spec = inferSpec(graph);

  const models: Params64[] = [];
  const accuracy: number[] = [];
  const tt = performance.now();
  for (const seed of o.seeds) {
    say(`training model ${models.length === 0 ? 'A' : 'B'} (seed ${seed}, ${graph.name}, ${train.n} digits)`);
    const r = await trainModel({
      graph,
      train,
      test,
      recipe: { epochs: o.epochs, batchSize: 32, seed, optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 } },
      onProgress: (e) => {
        if (e.kind === 'epoch') say(`model ${models.length === 0 ? 'A' : 'B'}: epoch ${e.record.epoch}/${o.epochs}`);
      },
    });
    models.push(toFloat64(r.params));
    if (r.final.testAccuracy === null) throw new BasisError('INVALID_ARGUMENT', 'training returned no test accuracy');
    accuracy.push(r.final.testAccuracy);
  }
  const trainSeconds = (performance.now() - tt) / 1000;
  const [A, B] = models as [Params64, Params64];

  const { x: x4, y } = datasetToTensors(test);
  y.dispose();
  const x = tf.reshape(x4, [test.n, 784]);
  x4.dispose();
  try {
    say('comparing every pair of layers');
    const points = graph.nodes.slice(0, -1).map((n) => n.name);
    const layers = points.map((p) => `${p} (${graph.nodes.find((n) => n.name === p)?.op === 'activation' ? 'post' : 'pre'})`);
    const [ca, cb] = await Promise.all([captureActivations(graph, paramsToTensors(A), x, { points }), captureActivations(graph, paramsToTensors(B), x, { points })]);
    const audit = compareLayers(ca, cb, [...PLAYGROUND_METRICS]);

    say('applying a random symmetry to model A');
    const moved = act(A, spec, sampleAssignment(spec, createRng(o.seeds[0] + 100), { scaleSigma: 0.5 })) as Params64;
    const la = logits(graph, A, x);
    const lm = logits(graph, moved, x);
    const hidden = points.find((p) => graph.nodes.find((n) => n.name === p)?.op === 'activation') as string;
    const cm = await captureActivations(graph, paramsToTensors(moved), x, { points: [hidden] });
    const ha = ca[hidden] as Matrix;
    const hm = cm[hidden] as Matrix;
    const symmetry = {
      maxOutputDiff: maxAbsDiff(la, lm),
      maxOutput: la.reduce((m, v) => Math.max(m, Math.abs(v)), 0),
      sameIndexCorrelation: sameIndexCorrelation(ha, hm),
      cka: metric('cka.linear', ha, hm).value,
      greluProcrustes: metric('grelu.procrustes', ha, hm).value,
    };

    say('interpolating before and after weight matching');
    const data = { x, labels: test.labels };
    const lambdas = Array.from({ length: 11 }, (_, i) => i / 10);
    const naive = await interpolationCurve(graph, A, B, data, { lambdas });
    const matched = await interpolationCurve(graph, A, weightMatching(A, B, spec).params, data, { lambdas });
    say('done');
    return {
      backend,
      trainN: train.n,
      testN: test.n,
      accuracy: [accuracy[0] as number, accuracy[1] as number],
      seconds: { train: trainSeconds, total: (performance.now() - t0) / 1000 },
      layers,
      heatmaps: audit.values as Record<string, number[][]>,
      symmetry,
      curves: { naive, matched },
    };
  } finally {
    x.dispose();
  }
}

/**
 * The playground's figures in the one figure style of basis (Vega-Lite, `@basis/experiments`): a
 * heatmap per metric on the fixed scale [0, 1] (shared by the three panels) with a colour bar, and
 * the test loss along the linear path before and after matching, as SVG strings.
 *
 * @example
 * ```ts
 * const { heatmaps, curve } = await playgroundFigures(await runPlayground(opts));
 * ```
 */
export async function playgroundFigures(r: Pick<PlaygroundResult, 'layers' | 'heatmaps' | 'curves'>): Promise<{ heatmaps: Array<{ id: string; svg: string }>; curve: string }> {
  const domain = heatmapDomain(PLAYGROUND_METRICS.flatMap((id) => (r.heatmaps[id] ?? []).flat()));
  const heatmaps = await Promise.all(
    PLAYGROUND_METRICS.map(async (id) => {
      const values = r.heatmaps[id];
      if (values === undefined) throw new BasisError('INVALID_ARGUMENT', `no heatmap for ${id}`);
      const rows = values.flatMap((row, i) => row.map((v, j) => ({ a: r.layers[i] ?? String(i), b: r.layers[j] ?? String(j), value: v })));
      return { id, svg: await renderSvg(heatmap(rows, { a: 'model A layer', b: 'model B layer', title: id, order: r.layers, domain, label: 'similarity' })) };
    }),
  );
  const rows = (
    [
      ['naive', r.curves.naive],
      ['after weight matching', r.curves.matched],
    ] as const
  ).flatMap(([series, c]) => c.lambdas.map((x, i) => ({ x, y: c.loss[i] as number, series })));
  const curve = await renderSvg(lineChart(rows, { x: 'λ (0 = model A, 1 = model B)', y: 'test loss (cross-entropy)', title: 'Test loss along the linear path' }));
  return { heatmaps, curve };
}
