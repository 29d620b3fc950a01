// @basis/connectivity: a model and a permuted, rescaled copy of it; weight matching undoes the
// symmetry exactly, and interpolating two independently trained models crosses a barrier.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createRng } from '@basis/tensor';
import { act, sampleAssignment } from '@basis/symmetry';
import { datasetToTensors, gaussianMixture, inferSpec, initParams, mlp, splitDataset, toFloat64, trainModel } from '@basis/zoo';
import { interpolationCurve, weightMatching } from '@basis/connectivity';

await tf.setBackend('cpu');
const graph = mlp({ inputDim: 8, width: 16, depth: 2, classes: 3 });
const spec = inferSpec(graph);

// 1. Planted: B is A moved by a random group element. Matching recovers A's weights.
const A0 = toFloat64(initParams(graph, createRng(0)));
const B0 = act(A0, spec, sampleAssignment(spec, createRng(1)));
const { params: aligned } = weightMatching(A0, B0, spec);
const err = Math.max(...Object.keys(A0).map((k) => A0[k]!.data.reduce((m, v, i) => Math.max(m, Math.abs(v - (aligned[k]!.data[i] as number))), 0)));
console.log('planted permutation recovered:', err < 1e-9);

// 2. Two models trained from different seeds: the barrier before and after matching.
const { train, test } = splitDataset(gaussianMixture({ n: 600, numClasses: 3, dim: 8, separation: 3, seed: 2 }), { testFraction: 0.25, seed: 0 });
const recipe = { epochs: 8, batchSize: 32, optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9 } } as const;
const [A, B] = await Promise.all([0, 1].map(async (seed) => toFloat64((await trainModel({ graph, train, recipe: { ...recipe, seed } })).params)));
const { x } = datasetToTensors(test);
const data = { x, labels: test.labels };
const lambdas = [0, 0.25, 0.5, 0.75, 1];
const naive = await interpolationCurve(graph, A!, B!, data, { lambdas });
const matched = await interpolationCurve(graph, A!, weightMatching(A!, B!, spec).params, data, { lambdas });
console.log('loss barrier naive:', naive.barrier.loss.maxMinusLinear.toFixed(3), 'matched:', matched.barrier.loss.maxMinusLinear.toFixed(3));
console.log('matching lowers the barrier:', matched.barrier.loss.maxMinusLinear < naive.barrier.loss.maxMinusLinear);
x.dispose();
