/**
 * The issue-6 acceptance experiment at laptop scale: two MNIST MLPs (784-512-512-10) trained from
 * different seeds; the loss/error barrier of naive interpolation against weight matching and
 * activation matching; LLFC cosines before and after matching; and two MiniMyrtle(8) CNNs, whose
 * midpoint is evaluated with and without BN reset. Writes bench-results/connectivity-mnist.json.
 * Run: pnpm --filter @basis/connectivity exec tsx --conditions=@basis/source bench/mnist-lmc.ts
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng } from '@basis/tensor';
import { selectBackend } from '@basis/tensor/backend';
import { datasetToTensors, forward, inferSpec, initParams, miniMyrtle, mlp, paramsToTensors, train, type ModelGraph } from '@basis/zoo';
import { loadMnist } from '@basis/zoo/node';
import { activationMatchingOn, interpolationCurve, lerpParams, llfc, resetBatchNorm, evaluate, weightMatching } from '@basis/connectivity';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const backend = await selectBackend((process.env['BASIS_BACKEND'] as 'wasm' | 'cpu' | undefined) ?? 'wasm');
console.error(`backend ${backend.name}`);
const { train: trainSet, test: testSet } = await loadMnist({ seed: 0, testFraction: 0.2 });
const tr = datasetToTensors(trainSet, { layout: 'nchw', oneHot: true });
const te = datasetToTensors(testSet, { layout: 'nchw' });
const flatTrain = tf.reshape(tr.x, [trainSet.n, 784]);
const flatTest = tf.reshape(te.x, [testSet.n, 784]);
const test = (flat: boolean) => ({ x: flat ? flatTest : te.x, labels: testSet.labels });

async function fit(g: ModelGraph, seed: number, x: tf.Tensor, epochs: number): Promise<Record<string, { shape: number[]; data: Float64Array }>> {
  const vars: Record<string, tf.Variable> = {};
  for (const [k, t] of Object.entries(paramsToTensors(initParams(g, createRng(seed))))) vars[k] = tf.variable(t, !/running_/.test(k));
  const t0 = performance.now();
  await train({
    params: vars,
    epochs,
    batchSize: 128,
    seed,
    optimizer: { kind: 'adam', lr: 1e-3 },
    data: { n: trainSet.n, getBatch: (idx) => tf.tidy(() => { const i = tf.tensor1d(idx, 'int32'); return { x: tf.gather(x, i), y: tf.gather(tr.y, i) }; }) },
    lossFn: (b, ctx) => {
      const out = forward(g, ctx.params, b.x, { training: true });
      return { loss: tf.losses.softmaxCrossEntropy(b.y, out.output) as tf.Scalar, updates: out.buffers };
    },
  });
  const out: Record<string, { shape: number[]; data: Float64Array }> = {};
  for (const [k, v] of Object.entries(vars)) out[k] = { shape: [...v.shape], data: Float64Array.from(await v.data()) };
  tf.dispose(Object.values(vars));
  console.error(`trained ${g.name} seed ${seed} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return out;
}

const lambdas = Array.from({ length: 11 }, (_, i) => i / 10);
const g = mlp({ width: 512, depth: 2 });
const spec = inferSpec(g);
const A = await fit(g, 0, flatTrain, 5);
const B = await fit(g, 1, flatTrain, 5);
const data = test(true);
const t1 = performance.now();
const wm = weightMatching(A, B, spec);
const wmSeconds = (performance.now() - t1) / 1000;
const statX = tf.slice(flatTrain, 0, 2000);
const am = activationMatchingOn(g, A, B, statX, { spec });
statX.dispose();
const curves = {
  naive: await interpolationCurve(g, A, B, data, { lambdas }),
  weightMatching: await interpolationCurve(g, A, wm.params, data, { lambdas }),
  activationMatching: await interpolationCurve(g, A, am.params, data, { lambdas }),
};
const llfcX = tf.slice(flatTest, 0, 500);
const llfcBefore = await llfc(g, A, B, llfcX);
const llfcAfter = await llfc(g, A, wm.params, llfcX);

// BN models: the midpoint with and without BN reset, after weight matching
const c = miniMyrtle(8);
const cspec = inferSpec(c);
const CA = await fit(c, 0, tr.x, 2);
const CB = await fit(c, 1, tr.x, 2);
const cm = weightMatching(CA, CB, cspec);
const mid = lerpParams(CA, cm.params, 0.5);
const statsX = tf.slice(tr.x, 0, 1000);
const bn = {
  endpoints: [await evaluate(c, CA, test(false)), await evaluate(c, cm.params, test(false))],
  midpointNoReset: await evaluate(c, mid, test(false)),
  midpointBnReset: await evaluate(c, await resetBatchNorm(c, mid, statsX), test(false)),
};
const result = {
  backend: backend.name,
  mlp: {
    graph: g.name,
    trainN: trainSet.n,
    testN: testSet.n,
    weightMatching: { seconds: wmSeconds, sweeps: wm.sweeps, objective: wm.objective },
    curves,
    llfc: {
      before: llfcBefore.layers.map((l) => ({ layer: l.layer, oneMinusCosAlpha: l.oneMinusCosAlpha.mean, oneMinusCosAB: l.oneMinusCosAB.mean })),
      after: llfcAfter.layers.map((l) => ({ layer: l.layer, oneMinusCosAlpha: l.oneMinusCosAlpha.mean, oneMinusCosAB: l.oneMinusCosAB.mean })),
      commutativityBefore: llfcBefore.commutativity,
      commutativityAfter: llfcAfter.commutativity,
    },
  },
  bn,
};
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(join(root, 'bench-results', 'connectivity-mnist.json'), JSON.stringify(result, null, 2));
const b = (r: (typeof curves)['naive']) => `loss barrier ${r.barrier.loss.maxMinusMean.toFixed(4)} (linear ${r.barrier.loss.maxMinusLinear.toFixed(4)}), error barrier ${(100 * r.barrier.error.maxMinusMean).toFixed(2)} pts; endpoint acc ${(100 * r.endpoints.a.accuracy).toFixed(2)} / ${(100 * r.endpoints.b.accuracy).toFixed(2)}`;
console.log(`MLP 784-512-512-10 on MNIST (${trainSet.n} train / ${testSet.n} test), test split, 11 λ:`);
for (const [k, r] of Object.entries(curves)) console.log(`  ${k.padEnd(20)} ${b(r)}`);
console.log(`  weight matching: ${wm.sweeps} sweeps, ${wmSeconds.toFixed(2)} s`);
console.log('  LLFC 1-cos at α=0.5 (before → after weight matching; baseline 1-cos(A,B) before → after):');
llfcBefore.layers.forEach((l, i) => console.log(`    ${l.layer}: ${l.oneMinusCosAlpha.mean.toFixed(4)} → ${llfcAfter.layers[i]!.oneMinusCosAlpha.mean.toFixed(4)}   (${l.oneMinusCosAB.mean.toFixed(4)} → ${llfcAfter.layers[i]!.oneMinusCosAB.mean.toFixed(4)})`));
console.log(`MiniMyrtle(8), matched, midpoint accuracy: no reset ${(100 * bn.midpointNoReset.accuracy).toFixed(2)}%, BN reset ${(100 * bn.midpointBnReset.accuracy).toFixed(2)}% (endpoints ${(100 * bn.endpoints[0]!.accuracy).toFixed(2)} / ${(100 * bn.endpoints[1]!.accuracy).toFixed(2)})`);
