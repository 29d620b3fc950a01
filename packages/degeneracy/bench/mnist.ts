/**
 * Degeneracy numbers for MNIST MLPs (seeds-spec 2.2 V001-2..4; issue 7's "numbers for an MNIST MLP").
 * Not a test. Run nice'd from packages/degeneracy:
 *
 *   nice -n 10 npx tsx --conditions=@basis/source bench/mnist.ts [train] [census] [llc]
 *
 * - `train`: MLP 784-w-w-10 (ReLU) for w in {32, 64, 128}, 3 epochs of the mlpMnist recipe
 *   (SGD + Nesterov, cosine, batch 128) on the 8,000 / 2,000 MNIST split, cached under
 *   $BASIS_BENCH_DIR (default /tmp/basis-degeneracy-bench).
 * - `census`: for each width, on 1,000 test digits (float64 engine): top eigenvalues and effective
 *   ranks of G^l and K^l, free directions at several ε, firing patterns (synchronised blocks, dead and
 *   always-on units, approximate blocks), the non-local and local interaction bases (r, s per layer)
 *   and the interaction sparsity of their transitions against the neuron basis.
 * - `llc`: calibration sweep of the SGLD step on the w = 64 model (cross-entropy training loss,
 *   n = 8,000, nβ = n / log n, γ = 100, batch 512), then the LLC against width with the calibrated step,
 *   with ESS, R̂ and the diagnosis flags.
 *
 * Writes bench-results/degeneracy-mnist.json at the repository root (merged per stage) and prints a
 * summary. CPU seconds (process.cpuUsage) and the load average are recorded beside wall time.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { Matrix } from '@basis/tensor';
import { selectBackend } from '@basis/tensor/backend';
import { TRAINING_PRESETS, buildModel, trainModel, type ModelGraph } from '@basis/zoo';
import { loadDataSpec, loadModel, saveModel } from '@basis/zoo/node';
import {
  approximateSyncBlocks,
  denseChain,
  denseGrams,
  estimateLlc,
  firingPatterns,
  freeDirections,
  interactionBasisMlp,
  interactionSparsity,
  localInteractionBasisMlp,
  modelLlcTarget,
  type LlcEstimate,
} from '../src/index.js';
import { eigh } from '@basis/tensor';

const stages = new Set(process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['train', 'census', 'llc']);
const WIDTHS = [32, 64, 128];
const cacheDir = process.env['BASIS_BENCH_DIR'] ?? '/tmp/basis-degeneracy-bench';
const outFile = fileURLToPath(new URL('../../../bench-results/degeneracy-mnist.json', import.meta.url));
const backend = await selectBackend('wasm');
const data = await loadDataSpec({ dataset: 'mnist', normalize: 'standard' });
const results: Record<string, unknown> = existsSync(outFile) ? (JSON.parse(readFileSync(outFile, 'utf8')) as Record<string, unknown>) : {};

const mine = new Set<string>();
/** Merges this run's stages into the file (other stages may be running in parallel processes). */
function save(): void {
  mkdirSync(join(outFile, '..'), { recursive: true });
  const onDisk = existsSync(outFile) ? (JSON.parse(readFileSync(outFile, 'utf8')) as Record<string, unknown>) : {};
  for (const k of Object.keys(results)) if (mine.has(k)) onDisk[k] = results[k];
  writeFileSync(outFile, JSON.stringify({ ...onDisk, date: new Date().toISOString(), node: process.versions.node, cpuModel: cpus()[0]?.model ?? 'unknown', backend: backend.name }, null, 2) + '\n');
}

function timed<T>(fn: () => T): { value: T; seconds: number; cpuSeconds: number; loadAverage: number[] } {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const value = fn();
  const c = process.cpuUsage(c0);
  return { value, seconds: (performance.now() - t0) / 1000, cpuSeconds: (c.user + c.system) / 1e6, loadAverage: loadavg() };
}

const modelDir = (w: number): string => join(cacheDir, `mlp-784-${w}-${w}-10`);

async function trained(w: number): Promise<{ graph: ModelGraph; params: Record<string, { shape: readonly number[]; data: Float32Array }> }> {
  if (!existsSync(join(modelDir(w), 'manifest.json'))) throw new Error(`no trained model for width ${w}; run the 'train' stage first`);
  const m = await loadModel(modelDir(w));
  return { graph: m.graph, params: m.params as Record<string, { shape: readonly number[]; data: Float32Array }> };
}

if (stages.has('train')) {
  const train: Record<string, unknown> = {};
  for (const w of WIDTHS) {
    const graph = buildModel({ arch: 'mlp', width: w, depth: 2 }, { input: data.train.shape, classes: 10 });
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const r = await trainModel({ graph, train: data.train, test: data.test, recipe: { ...TRAINING_PRESETS.mlpMnist.train, epochs: 3 } });
    const c = process.cpuUsage(c0);
    await saveModel(modelDir(w), { graph: r.graph, params: r.params });
    train[String(w)] = { testAccuracy: r.final.testAccuracy, testLoss: r.final.testLoss, trainLoss: r.final.trainLoss, seconds: (performance.now() - t0) / 1000, cpuSeconds: (c.user + c.system) / 1e6, loadAverage: loadavg() };
    console.log(`w = ${w}: test accuracy ${(100 * (r.final.testAccuracy ?? 0)).toFixed(2)}% after 3 epochs`);
  }
  mine.add('train');
  results['train'] = { recipe: 'mlpMnist with epochs = 3', split: '8,000 train / 2,000 test digits, standardised', models: train };
  save();
}

/** Top values, participation-ratio effective rank (Σλ)²/Σλ², and the count above 1e-6 λ_max. */
function spectrum(values: ArrayLike<number>): { top: number[]; effectiveRank: number; rankAbove1e6: number; dim: number } {
  const v = Array.from(values, (x) => Math.max(x, 0));
  const s = v.reduce((a, b) => a + b, 0);
  const s2 = v.reduce((a, b) => a + b * b, 0);
  return { top: v.slice(0, 5).map((x) => Number(x.toPrecision(4))), effectiveRank: Number(((s * s) / s2).toFixed(2)), rankAbove1e6: v.filter((x) => x > 1e-6 * (v[0] ?? 0)).length, dim: v.length };
}

if (stages.has('census')) {
  const census: Record<string, unknown> = {};
  const nIn = 1000;
  const X = Matrix.fromArray(nIn, 784, data.test.x.subarray(0, nIn * 784));
  const censusWidths = (process.env['BASIS_CENSUS_WIDTHS'] ?? WIDTHS.join(',')).split(',').map(Number);
  for (const w of censusWidths) {
    const { graph, params } = await trained(w);
    const layers = denseChain(graph, params);
    const run = timed(() => {
      const g = denseGrams(layers, X);
      const names = ['input', 'hidden 1', 'hidden 2', 'output'];
      const perLayer = g.G.map((G, l) => {
        const gs = eigh(G, { vectors: false }).values;
        const K = l < g.K.length ? g.K[l]! : null;
        const ks = K === null ? null : eigh(K, { vectors: false }).values;
        const lay = { dim: G.rows, spectra: { G: gs, K: ks } };
        return {
          layer: names[l],
          G: spectrum(gs),
          K: ks === null ? null : spectrum(ks),
          free: [1e-6, 1e-4, 1e-2, 1e-1].map((e) => {
            const f = freeDirections(lay, e);
            return { eps: e, lowVarianceDirections: f.lowVarianceDirections, fromActivations: f.fromActivations, lowJacobianDirections: f.lowJacobianDirections, fromJacobians: f.fromJacobians };
          }),
        };
      });
      const firing = [0, 1].map((l) => {
        const rep = firingPatterns(g.forward.pre[l]!);
        const approx = approximateSyncBlocks(g.forward.pre[l]!, { tau: 0.01 }).filter((b) => b.units.length > 1);
        return {
          layer: names[l + 1],
          units: rep.d,
          dead: rep.dead.length,
          alwaysOn: rep.alwaysOn.length,
          synchronisedBlocks: rep.blocks.filter((b) => b.units.length > 1).map((b) => ({ size: b.units.length, kind: b.kind, rank: b.rank })),
          sumRankSquared: rep.sumRankSquared,
          excess: rep.excess,
          approximateBlocks: approx.map((b) => ({ size: b.units.length, diameter: Number(b.diameter.toFixed(4)), residual: Number(b.residual.toPrecision(3)) })),
        };
      });
      const ib = (which: 'non-local' | 'local') => {
        const nb = which === 'local' ? localInteractionBasisMlp(graph, params, X, { tol: 1e-6 }) : interactionBasisMlp(graph, params, X, { tol: 1e-6 });
        return {
          summary: nb.summary,
          sparsity: nb.edges.map((E, l) => ({ layer: layers[l]!.name, interactionBasis: Number(interactionSparsity(E, 1e-2).toFixed(4)), neuronBasis: Number(interactionSparsity(layers[l]!.W, 1e-2).toFixed(4)) })),
        };
      };
      return { layers: perLayer, firing, interactionBasis: { nonLocal: ib('non-local'), local: ib('local') } };
    });
    census[String(w)] = { n: nIn, ...run.value, seconds: run.seconds, cpuSeconds: run.cpuSeconds, loadAverage: run.loadAverage };
    console.log(`census w = ${w}: ${run.seconds.toFixed(1)} s`);
    for (const l of run.value.layers) console.log(`  ${l.layer}: G top ${l.G.top.join(', ')}, eff. rank ${l.G.effectiveRank}, rank>1e-6 ${l.G.rankAbove1e6}/${l.G.dim}; K ${l.K === null ? '-' : `top ${l.K.top.join(', ')}, eff. rank ${l.K.effectiveRank}`}`);
    for (const f of run.value.firing) console.log(`  firing ${f.layer}: dead ${f.dead}, always-on ${f.alwaysOn}, blocks ${f.synchronisedBlocks.length}, approx ${f.approximateBlocks.length}`);
    for (const k of ['nonLocal', 'local'] as const) console.log(`  IB ${k}: ${run.value.interactionBasis[k].summary.map((s) => `${s.d}->${s.r}->${s.s}`).join(' | ')}; sparsity@1e-2 ${run.value.interactionBasis[k].sparsity.map((q) => `${q.interactionBasis} (neuron ${q.neuronBasis})`).join(', ')}`);
    for (const l of run.value.layers) console.log(`  free ${l.layer}: ${l.free.map((f) => `ε=${f.eps}: #λG<ε ${f.lowVarianceDirections} -> ${f.fromActivations}, #μK<ε ${f.lowJacobianDirections ?? '-'} -> ${f.fromJacobians ?? '-'}`).join('; ')}`);
    writeFileSync(join(cacheDir, `census-${w}.json`), JSON.stringify(census[String(w)], null, 2) + '\n');
  }
  mine.add('census');
  results['census'] = census;
  save();
}

function llcSummary(est: LlcEstimate, t: { seconds: number; cpuSeconds: number; loadAverage: number[] }): Record<string, unknown> {
  return {
    llc: est.llc,
    std: est.std,
    epsEff: est.epsEff,
    nBeta: est.nBeta,
    ess: est.ess,
    chainEss: est.chains.map((c) => Number(c.ess.toFixed(1))),
    rhat: est.diagnosis.rhat,
    stationarityZ: est.chains.map((c) => Number(c.stationarityZ.toFixed(2))),
    malaAcceptance: est.malaAcceptance,
    diagnosis: est.diagnosis,
    warnings: est.warnings,
    options: est.options,
    seconds: t.seconds,
    cpuSeconds: t.cpuSeconds,
    loadAverage: t.loadAverage,
  };
}

if (stages.has('llc')) {
  const n = data.train.n;
  const x = tf.tensor2d(data.train.x, [n, 784]);
  const y = tf.tensor1d(data.train.labels, 'int32');
  const base = { gamma: 100, batchSize: 512, seed: 0 };
  // 1. calibration sweep (devinterp's guidance: the largest step whose loss traces settle, without
  //    spikes or divergence); BASIS_LLC_STEP skips it
  const sweep: Record<string, unknown>[] = [];
  const fixed = process.env['BASIS_LLC_STEP'];
  let chosen = fixed === undefined ? NaN : Number(fixed);
  if (fixed === undefined) {
    const m = await trained(64);
    const tg = modelLlcTarget(m, x, { loss: 'cross-entropy', y });
    for (const step of [1e-5, 3e-5, 1e-4, 3e-4, 1e-3]) {
      let rec: Record<string, unknown>;
      try {
        const t = timed(() => estimateLlc(tg.target, tg.w0, { ...base, step, chains: 2, draws: 600, burnin: 100 }));
        rec = { step, ...llcSummary(t.value, t) };
        console.log(`sweep step ${step}: λ̂ = ${t.value.llc.toFixed(1)} ± ${t.value.std.toFixed(1)}, ESS ${t.value.ess.toFixed(0)}, R̂ ${t.value.diagnosis.rhat.toFixed(3)}, ok ${t.value.diagnosis.ok} (${t.seconds.toFixed(0)} s)`);
      } catch (e) {
        rec = { step, error: (e as Error).message };
        console.log(`sweep step ${step}: ${(e as Error).message}`);
      }
      sweep.push(rec);
      mine.add('llcSweep');
  results['llcSweep'] = { model: 'mlp-784-64-64-10', loss: 'cross-entropy', n, ...base, chains: 2, draws: 600, burnin: 100, runs: sweep };
      save();
    }
    tg.dispose();
    // walking up the settled, non-diverging steps, the largest one before λ̂ jumps by more than 25%
    // (the estimate should be stable under a step change, seeds-spec D3(b)); smaller steps whose
    // traces have not settled are biased low (localisation relaxes in ~2/(εγ) steps)
    const settled = sweep.filter((r) => r['error'] === undefined && (r['diagnosis'] as { ok: boolean }).ok);
    chosen = (settled[0]?.['step'] as number | undefined) ?? 1e-5;
    for (let k = 1; k < settled.length; k++) {
      if (Math.abs((settled[k]!['llc'] as number) / (settled[k - 1]!['llc'] as number) - 1) > 0.25) break;
      chosen = settled[k]!['step'] as number;
    }
  }
  console.log(`calibrated step: ${chosen}`);
  // 2. LLC against width with the calibrated step
  const width: Record<string, unknown> = {};
  for (const w of WIDTHS) {
    const m = await trained(w);
    const tg = modelLlcTarget(m, x, { loss: 'cross-entropy', y });
    const t = timed(() => estimateLlc(tg.target, tg.w0, { ...base, step: chosen, chains: 4, draws: 1000, burnin: 200 }));
    width[String(w)] = { parameters: tg.target.dim, ...llcSummary(t.value, t) };
    console.log(`w = ${w} (N = ${tg.target.dim}): λ̂ = ${t.value.llc.toFixed(1)} ± ${t.value.std.toFixed(1)}, ESS ${t.value.ess.toFixed(0)} (chains ${t.value.chains.map((c) => c.ess.toFixed(0)).join(', ')}), R̂ ${t.value.diagnosis.rhat.toFixed(3)}, warnings: ${t.value.warnings.length} (${t.seconds.toFixed(0)} s, cpu ${t.cpuSeconds.toFixed(0)} s)`);
    tg.dispose();
    mine.add('llcWidth');
  results['llcWidth'] = { loss: 'cross-entropy', n, ...base, step: chosen, chains: 4, draws: 1000, burnin: 200, widths: width };
    save();
  }
  tf.dispose([x, y]);
}

if (stages.has('llc-behavioral')) {
  // step sweep for the behavioural MSE loss (the CLI's default loss) on 1,000 test digits, w = 32
  const n = 1000;
  const x = tf.tensor2d(data.test.x.subarray(0, n * 784), [n, 784]);
  const m = await trained(32);
  const tg = modelLlcTarget(m, x, { loss: 'behavioral-mse' });
  const runs: Record<string, unknown>[] = [];
  for (const step of [1e-6, 3e-6, 1e-5, 3e-5, 1e-4]) {
    let rec: Record<string, unknown>;
    try {
      const t = timed(() => estimateLlc(tg.target, tg.w0, { gamma: 100, batchSize: 512, seed: 0, step, chains: 2, draws: 500, burnin: 100 }));
      rec = { step, ...llcSummary(t.value, t) };
      console.log(`behavioral sweep step ${step}: λ̂ = ${t.value.llc.toFixed(1)} ± ${t.value.std.toFixed(1)}, ESS ${t.value.ess.toFixed(0)}, R̂ ${t.value.diagnosis.rhat.toFixed(3)}, ok ${t.value.diagnosis.ok}, warnings ${t.value.warnings.length} (${t.seconds.toFixed(0)} s)`);
    } catch (e) {
      rec = { step, error: (e as Error).message };
      console.log(`behavioral sweep step ${step}: ${(e as Error).message}`);
    }
    runs.push(rec);
    mine.add('llcBehavioralSweep');
  results['llcBehavioralSweep'] = { model: 'mlp-784-32-32-10', loss: 'behavioral-mse', n, gamma: 100, batchSize: 512, chains: 2, draws: 500, burnin: 100, runs };
    save();
  }
  tg.dispose();
  x.dispose();
}
