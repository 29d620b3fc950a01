// `basis degeneracy`, `basis interaction-basis` and `basis llc`: S001 degeneracy analysis of a
// model. The caller loads the checkpoint and passes it in (`LoadedModel`).
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  approximateSyncBlocks,
  bestBipartition,
  defaultLlcStep,
  denseChain,
  estimateLlc,
  firingPatterns,
  freeDirections,
  ggnHessian,
  hessianRankBound,
  interactionBasisMlp,
  interactionSparsity,
  localInteractionBasisMlp,
  layeredAdjacency,
  layerGrams,
  modelLlcTarget,
  type ModelLossKind,
  type SgldOptions,
} from '@basis/degeneracy';
import { BasisError, Matrix, createRng, type NdArray } from '@basis/tensor';
import { selectBackend } from '@basis/tensor/backend';
import { lockDir, readMatrixFile, withDirLock, writeFileAtomic, writeSafetensorsFile } from '@basis/tensor/node';
import { forward, paramsToTensors, parseDataArg, type ModelGraph } from '@basis/zoo';
import { loadDataSpec } from '@basis/zoo/node';
import { lineChart, renderSvg, toCsv } from '@basis/experiments';
import type { CommandContext } from '../context.js';

/** A model as the checkpoint loader returns it. */
export interface LoadedModel {
  graph: ModelGraph;
  params: Record<string, { shape: readonly number[]; data: Float32Array | Float64Array }>;
  /** The checkpoint manifest (its `meta.data` records the training data spec, used for `--data mnist`). */
  manifest?: { meta?: Record<string, unknown> | null } | null;
}

/** How the command gets its model: already loaded, or a loader for `modelPath`. */
export interface ModelSource {
  model?: LoadedModel;
  load?: (path: string) => Promise<LoadedModel>;
}

async function getModel(modelPath: string, src: ModelSource): Promise<LoadedModel> {
  if (src.model !== undefined) return src.model;
  if (src.load !== undefined) return src.load(modelPath);
  throw new BasisError('USAGE', `no model loader was given for '${modelPath}'`);
}

/**
 * Inputs for the analysis, from `--data` in the grammar of `parseDataArg` (@basis/zoo) with a
 * bare count: a dataset (`mnist[:N]`, `fashion:N`, `idx:DIR,N`, ...: the first N test examples,
 * default 1000, normalised as the checkpoint's training data was when the spec does not say —
 * its manifest's `meta.data.normalize`, else 'standard' as `basis train` does), `gaussian[:N]`
 * (standard normal inputs of the model's input shape, default 512, seeded by --seed; a
 * `gaussian` with mixture options is the dataset), or an array file (`.npy`, `file.npz:key`,
 * `file.safetensors:name`; rows = inputs). Non-finite values are NON_FINITE_INPUT.
 */
async function loadInputs(spec: string, model: LoadedModel, seed: number): Promise<{ x: tf.Tensor; n: number; labels: Int32Array | null }> {
  const graph = model.graph;
  const size = graph.input.reduce((a, b) => a * b, 1);
  const arg = parseDataArg(spec, { count: true, files: true });
  if (arg.kind === 'spec') {
    const noise = arg.spec.dataset === 'gaussian' && Object.keys(arg.spec).length === 1;
    const n = arg.count ?? (noise ? 512 : 1000);
    if (!(n >= 2)) throw new BasisError('USAGE', `--data ${spec}: need at least 2 inputs`);
    if (noise) {
      const rng = createRng(seed);
      return { x: tf.tensor(Float32Array.from({ length: n * size }, () => rng.normal()), [n, ...graph.input]), n, labels: null };
    }
    const recorded = (model.manifest?.meta?.['data'] ?? null) as { dataset?: unknown; normalize?: unknown } | null;
    const image = arg.spec.dataset === 'mnist' || arg.spec.dataset === 'fashion' || arg.spec.dataset === 'idx';
    const normalize = recorded !== null && typeof recorded === 'object' && recorded.normalize !== undefined ? recorded.normalize : 'standard';
    const dataSpec = image && arg.spec.normalize === undefined ? { ...arg.spec, normalize: normalize as 'standard' } : arg.spec;
    const { test } = await loadDataSpec(dataSpec, '--data');
    const per = test.shape.reduce((a, b) => a * b, 1);
    if (per !== size) throw new BasisError('SHAPE_MISMATCH', `--data ${arg.spec.dataset} gives ${per} inputs but the model takes [${graph.input.join(', ')}]`);
    const k = Math.min(n, test.n);
    return { x: tf.tensor(test.x.subarray(0, k * per), [k, ...graph.input]), n: k, labels: test.labels.subarray(0, k) };
  }
  const X = await readMatrixFile(arg.path);
  if (X.cols !== size) throw new BasisError('SHAPE_MISMATCH', `--data ${spec} has ${X.cols} columns but the model takes ${size} inputs`);
  if (X.rows < 2) throw new BasisError('TOO_SMALL', `--data ${spec} has ${X.rows} row(s); the analysis needs at least 2 inputs`);
  for (let k = 0; k < X.data.length; k++) {
    if (!Number.isFinite(X.data[k] as number)) throw new BasisError('NON_FINITE_INPUT', `--data ${spec} holds ${X.data[k]} at row ${Math.floor(k / X.cols)}, column ${k % X.cols}; remove the non-finite rows`);
  }
  return { x: tf.tensor(Float32Array.from(X.data), [X.rows, ...graph.input]), n: X.rows, labels: null };
}

function inputMatrix(x: tf.Tensor): Matrix {
  return Matrix.fromArray(x.shape[0] as number, x.size / (x.shape[0] as number), x.dataSync());
}

function isMlp(graph: ModelGraph, params: LoadedModel['params']): boolean {
  try {
    denseChain(graph, params);
    return true;
  } catch {
    return false;
  }
}

const fmt = (v: number) => (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toFixed(4) : v.toExponential(2));

/** Options of {@link runDegeneracy}. */
export interface DegeneracyCommandOptions extends ModelSource {
  /** Input spec (see loadInputs). */
  data: string;
  /** Noise scales for the free-direction counts (default [1e-6, 1e-4, 1e-2]). */
  eps?: number[];
  /** Approximate-synchronisation threshold (default 0.01). */
  tau?: number;
  /** Folder for report.json (optional). */
  out?: string;
}

/**
 * `basis degeneracy MODEL --data SPEC`: per-layer report of the S001 measures — G/M/K spectra,
 * free directions at each ε, firing patterns (exact and approximate synchronised blocks, dead
 * and always-on units, Σ s_a²), and for MLPs the interaction basis sizes, interaction sparsity
 * and the best 2-way module split.
 */
export async function runDegeneracy(ctx: CommandContext, modelPath: string, opts: DegeneracyCommandOptions): Promise<void> {
  const model = await getModel(modelPath, opts);
  const { graph, params } = model;
  const eps = opts.eps ?? [1e-6, 1e-4, 1e-2];
  for (const e of eps) if (!(e > 0)) throw new BasisError('USAGE', `--eps values must be positive, got ${e}`);
  const backend = await selectBackend(ctx.options.backend);
  const { x, n } = await loadInputs(opts.data, model, ctx.options.seed);
  ctx.info(`degeneracy of ${modelPath} (${graph.name}) on ${n} inputs, backend ${backend.name}`);
  const t = paramsToTensors(params);
  try {
    const t0 = performance.now();
    const grams = layerGrams(graph, t, x);
    const acts = graph.nodes.filter((nd) => nd.op === 'activation' && (nd.fn === 'relu' || nd.fn === 'leaky_relu'));
    const firing: Record<string, unknown>[] = [];
    for (const a of acts) {
      const idx = graph.nodes.findIndex((nd) => nd.name === a.name);
      const pre = graph.nodes[idx - 1];
      if (pre === undefined) continue;
      const P = tf.tidy(() => forward(graph, t, x, { to: pre.name }).output);
      if (P.rank !== 2) {
        P.dispose();
        continue;
      }
      const Pm = inputMatrix(P);
      P.dispose();
      const fopts = a.op === 'activation' && a.fn === 'leaky_relu' ? ({ activation: 'leaky_relu', slope: a.slope ?? 0.01 } as const) : ({ activation: 'relu' } as const);
      const rep = firingPatterns(Pm, fopts);
      const approx = approximateSyncBlocks(Pm, { ...fopts, tau: opts.tau ?? 0.01 });
      firing.push({
        layer: a.name,
        units: rep.d,
        blocks: rep.blocks.length,
        synchronisedBlocks: rep.blocks.filter((b) => b.units.length > 1).length,
        dead: rep.dead.length,
        alwaysOn: rep.alwaysOn.length,
        sumSizeSquared: rep.sumSizeSquared,
        sumRankSquared: rep.sumRankSquared,
        excess: rep.excess,
        approximateBlocks: approx.filter((b) => b.units.length > 1).length,
        approximateUnitsInBlocks: approx.filter((b) => b.units.length > 1).reduce((s, b) => s + b.units.length, 0),
      });
    }
    let ib: Record<string, unknown> | null = null;
    if (isMlp(graph, params)) {
      const X = inputMatrix(x);
      const nb = interactionBasisMlp(graph, params, X, { tol: 1e-6 });
      const layers = denseChain(graph, params);
      const sparsity = nb.edges.map((E, l) => ({ layer: layers[l]!.name, interactionBasis: interactionSparsity(E, 1e-2), neuronBasis: interactionSparsity(layers[l]!.W, 1e-2) }));
      let modules: Record<string, unknown> | null = null;
      const A = layeredAdjacency(nb.edges);
      if (A.rows >= 2 && A.rows <= 600) {
        const part = bestBipartition(A, eps[Math.floor(eps.length / 2)]!, { minSize: Math.max(1, Math.floor(A.rows / 10)) });
        modules = { cost: part.cost, sizes: part.sizes, method: part.method };
      }
      const lib = localInteractionBasisMlp(graph, params, X, { tol: 1e-6 });
      const localSparsity = lib.edges.map((E, l) => ({ layer: layers[l]!.name, interactionBasis: interactionSparsity(E, 1e-2) }));
      ib = { summary: nb.summary, sparsity, modules, local: { summary: lib.summary, sparsity: localSparsity } };
    }
    const seconds = (performance.now() - t0) / 1000;
    const layers = grams.map((l) => ({
      layer: l.layer,
      dim: l.dim,
      next: l.next,
      spectra: { G: Array.from(l.spectra.G), M: Array.from(l.spectra.M), K: l.spectra.K === null ? null : Array.from(l.spectra.K) },
      free: eps.map((e) => freeDirections(l, e)),
    }));
    const report = { model: modelPath, graph: graph.name, n, backend: backend.name, precision: 'tfjs float32 features and gradients, float64 accumulation and linear algebra', eps, layers, firing, interactionBasis: ib, seconds };
    if (opts.out !== undefined) {
      const out = opts.out;
      await withDirLock(out, { cleanDepth: 0 }, () => writeFileAtomic(join(out, 'report.json'), JSON.stringify(report, null, 2) + '\n'));
    }
    ctx.result(report, () => {
      const lines = [`${graph.name} on ${n} inputs (${seconds.toFixed(1)} s)`, 'layer            dim  rank G(>1e-6)  λmax(G)   λmin(G)   ' + eps.map((e) => `free@${e.toExponential(0)}`).join('  ')];
      for (const l of layers) {
        const G = l.spectra.G;
        const rk = G.filter((v) => v > 1e-6 * (G[0] ?? 0)).length;
        lines.push(`${l.layer.padEnd(16)} ${String(l.dim).padStart(4)}  ${String(rk).padStart(12)}  ${fmt(G[0] ?? 0).padStart(8)}  ${fmt(G[G.length - 1] ?? 0).padStart(8)}   ${l.free.map((f) => String(f.fromActivations).padStart(9)).join('  ')}`);
      }
      for (const f of firing) lines.push(`firing ${String(f['layer'])}: ${String(f['synchronisedBlocks'])} synchronised blocks, ${String(f['dead'])} dead, ${String(f['alwaysOn'])} always-on, Σs² = ${String(f['sumRankSquared'])}, approx blocks ${String(f['approximateBlocks'])}`);
      if (ib !== null) {
        const loc = (ib['local'] as { summary: { s: number }[] }).summary;
        (ib['summary'] as { name: string; d: number; r: number; s: number }[]).forEach((s, i) => lines.push(`interaction basis ${s.name}: d ${s.d} -> r ${s.r} -> s ${s.s} (local: s ${loc[i]?.s ?? '-'})`));
      }
      return lines.join('\n');
    });
  } finally {
    tf.dispose([x, ...Object.values(t)]);
  }
}

/** Options of {@link runInteractionBasis}. */
export interface InteractionBasisCommandOptions extends ModelSource {
  data: string;
  out: string;
  scaling?: 'sqrt' | 'inv_sqrt';
  center?: boolean;
  tol?: number;
  /** `'non-local'` (Sec. 6, output Jacobians; default) or `'local'` (LIB, App. A: Jacobians of the next layer's basis). */
  variant?: 'non-local' | 'local';
}

/**
 * `basis interaction-basis MODEL --data SPEC --out DIR`: the interaction basis of every layer of an
 * MLP, written as `DIR/interaction-basis.safetensors` (float64: `C.<layer>` the basis, `s x d`,
 * `fhat = C f`; `Cpinv.<layer>` its pseudo-inverse; `edges.<l>` the data-averaged transition from
 * layer l's basis to layer l+1's, `s_{l+1} x s_l`; `incoming.<l>` = `W^l (C^l)⁺`, the next
 * preactivations in layer l's coordinates; metadata: format, variant, scaling, center, n) and
 * `DIR/summary.json` (d, r, s and the reductions per layer).
 */
export async function runInteractionBasis(ctx: CommandContext, modelPath: string, opts: InteractionBasisCommandOptions): Promise<void> {
  const model = await getModel(modelPath, opts);
  const { graph, params } = model;
  await selectBackend(ctx.options.backend);
  const { x, n } = await loadInputs(opts.data, model, ctx.options.seed);
  const X = inputMatrix(x);
  x.dispose();
  const variant = opts.variant ?? 'non-local';
  const nb = (variant === 'local' ? localInteractionBasisMlp : interactionBasisMlp)(graph, params, X, {
    ...(opts.scaling === undefined ? {} : { scaling: opts.scaling }),
    ...(opts.center === undefined ? {} : { center: opts.center }),
    ...(opts.tol === undefined ? {} : { tol: opts.tol }),
  });
  const arr = (m: Matrix): NdArray => ({ dtype: 'float64', shape: [m.rows, m.cols], data: m.data });
  const tensors: Record<string, NdArray> = {};
  for (const l of nb.layers) {
    tensors[`C.${l.name}`] = arr(l.basis.C);
    tensors[`Cpinv.${l.name}`] = arr(l.basis.Cpinv);
  }
  nb.edges.forEach((E, l) => (tensors[`edges.${l}`] = arr(E)));
  nb.incoming.forEach((E, l) => (tensors[`incoming.${l}`] = arr(E)));
  const summary = { model: modelPath, n, variant, scaling: opts.scaling ?? 'sqrt', center: opts.center ?? false, layers: nb.summary, edges: nb.edges.map((E, l) => ({ from: nb.layers[l]!.name, to: nb.layers[l + 1]!.name, shape: [E.rows, E.cols], sparsity: interactionSparsity(E, 1e-2) })) };
  // one writer per output folder: the bases and their summary come from one run
  await withDirLock(opts.out, { cleanDepth: 0 }, async () => {
    await writeSafetensorsFile(join(opts.out, 'interaction-basis.safetensors'), tensors, { format: 'basis.interaction-basis', variant, scaling: opts.scaling ?? 'sqrt', center: String(opts.center ?? false), n: String(n) });
    await writeFileAtomic(join(opts.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  });
  ctx.result(summary, () => nb.summary.map((s) => `${s.name.padEnd(16)} d ${s.d} -> r ${s.r} (−${s.activationReduction}) -> s ${s.s} (−${s.jacobianReduction})`).join('\n') + `\nwrote ${join(opts.out, 'interaction-basis.safetensors')}`);
}

/** Options of {@link runLlc}: the sampler's are {@link estimateLlc}'s (the step defaults to `defaultLlcStep(loss)`). */
export interface LlcCommandOptions extends ModelSource, Pick<SgldOptions, 'step' | 'gamma' | 'nBeta' | 'chains' | 'draws' | 'burnin' | 'batchSize'> {
  data: string;
  loss?: ModelLossKind;
  /** Also compute the GGN Hessian-rank lower bound on the first `hessianN` inputs (0 = skip; default 0). */
  hessianN?: number;
  out?: string;
}

/**
 * `basis llc MODEL --data SPEC`: SGLD estimate of the (behavioral by default) local learning
 * coefficient with per-chain diagnostics (ESS, MALA acceptance, stationarity z, split-R̂, spikes and
 * the warnings they raise), N_eff = 2 λ̂ and eps_eff; with `--out DIR` also `llc.json`, the loss traces
 * per chain as `llc-traces.csv`, their plot `llc-traces.svg` and its Vega-Lite spec `llc-traces.vl.json`.
 */
export async function runLlc(ctx: CommandContext, modelPath: string, opts: LlcCommandOptions): Promise<void> {
  const model = await getModel(modelPath, opts);
  await selectBackend(ctx.options.backend);
  const { x, n, labels } = await loadInputs(opts.data, model, ctx.options.seed);
  const loss = opts.loss ?? 'behavioral-mse';
  const y = loss === 'cross-entropy' && labels !== null ? tf.tensor1d(labels, 'int32') : undefined;
  const tg = modelLlcTarget(model, x, { loss, ...(y === undefined ? {} : { y }) });
  try {
    ctx.info(`llc of ${modelPath}: N = ${tg.target.dim} parameters, n = ${n}, loss ${loss}`);
    const t0 = performance.now();
    const { data: _data, loss: _loss, hessianN: _hessianN, out: _out, model: _model, load: _load, ...sgld } = opts;
    const est = estimateLlc(tg.target, tg.w0, { seed: ctx.options.seed, ...sgld, step: opts.step ?? defaultLlcStep(loss) });
    let hessian: { rank: number; lowerBound: number; n: number } | null = null;
    if ((opts.hessianN ?? 0) > 0) {
      const k = Math.min(opts.hessianN!, n);
      const xs = tf.slice(x, 0, k);
      const b = hessianRankBound(ggnHessian(model, xs));
      xs.dispose();
      hessian = { rank: b.rank, lowerBound: b.lowerBound, n: k };
    }
    const seconds = (performance.now() - t0) / 1000;
    const result = {
      model: modelPath,
      parameters: tg.target.dim,
      n,
      loss,
      llc: est.llc,
      std: est.std,
      effectiveParameters: est.effectiveParameters,
      epsEff: est.epsEff,
      nBeta: est.nBeta,
      ess: est.ess,
      malaAcceptance: est.malaAcceptance,
      chains: est.chains.map((c) => ({ llc: c.llc, initLoss: c.initLoss, ess: c.ess, malaAcceptance: c.malaAcceptance, maxDistance: c.maxDistance, drift: c.drift, stationarityZ: c.stationarityZ, spikeFraction: c.spikeFraction })),
      hessian,
      diagnosis: est.diagnosis,
      warnings: est.warnings,
      options: est.options,
      seconds,
    };
    if (opts.out !== undefined) {
      // one writer per output folder (released at the end of this block)
      const lock = await lockDir(opts.out, { cleanDepth: 0 });
      try {
        const rows = est.chains.flatMap((c, ci) => Array.from(c.trace, (v, t) => [ci, t, v]));
        await writeFileAtomic(join(opts.out, 'llc-traces.csv'), toCsv(['chain', 'draw', 'loss'], rows));
        // at most ~500 points per chain in the plot (every k-th draw)
        const every = Math.max(1, Math.ceil(est.options.draws / 500));
        const points = est.chains.flatMap((c, ci) => Array.from(c.trace, (v, t) => ({ x: t, y: v, series: `chain ${ci}` })).filter((_, t) => t % every === 0));
        const spec = lineChart(points, { x: 'draw (after burn-in)', y: `${loss} loss`, title: `SGLD loss traces: λ̂ = ${est.llc.toPrecision(4)} ± ${est.std.toPrecision(2)}, ESS ${est.ess.toFixed(0)}`, width: 520, height: 260 });
        // lines only: thousands of points make the markers unreadable
        const layer = (spec as { layer: { mark: unknown }[] }).layer;
        for (const l of layer) l.mark = { type: 'line', strokeWidth: 1 };
        await writeFileAtomic(join(opts.out, 'llc-traces.vl.json'), JSON.stringify(spec) + '\n');
        await writeFileAtomic(join(opts.out, 'llc-traces.svg'), await renderSvg(spec));
        await writeFileAtomic(join(opts.out, 'llc.json'), JSON.stringify(result, null, 2) + '\n');
      } finally {
        await lock.release();
      }
    }
    ctx.result(result, () =>
      [
        `λ̂ = ${est.llc.toFixed(4)} ± ${est.std.toFixed(4)} (${est.chains.length} chains), N_eff = 2λ̂ = ${est.effectiveParameters.toFixed(2)} of N = ${tg.target.dim}`,
        `nβ = ${est.nBeta.toFixed(2)}, eps_eff = ${est.epsEff.toExponential(3)}, ESS = ${est.ess.toFixed(0)}, split-R̂ = ${est.diagnosis.rhat.toFixed(3)}, MALA acceptance = ${est.malaAcceptance.toFixed(3)}`,
        `diagnosis: ${est.diagnosis.ok ? 'ok' : (['lowEss', 'notStationary', 'diverged', 'lowAcceptance', 'outOfRange'] as const).filter((k) => est.diagnosis[k]).join(', ')}`,
        ...(opts.out === undefined ? [] : [`wrote ${join(opts.out, 'llc.json')}, llc-traces.csv, llc-traces.svg`]),
        ...(hessian === null ? [] : [`Hessian-rank bound: rank ${hessian.rank} on ${hessian.n} inputs -> λ ≥ ${hessian.lowerBound}`]),
        ...est.warnings.map((w) => `warning: ${w}`),
      ].join('\n'),
    );
  } finally {
    tg.dispose();
    x.dispose();
    y?.dispose();
  }
}
