// @basis/zoo: data as plain values, a model graph, training, the inferred symmetry spec, activations.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu'; // any tfjs backend: the CLI picks tensorflow > wasm > cpu
import { captureActivations, checkModelSymmetry, datasetToTensors, gaussianMixture, inferSpec, mlp, paramsToTensors, splitDataset, toFloat64, trainModel } from '@basis/zoo';

await tf.setBackend('cpu');
const all = gaussianMixture({ n: 600, numClasses: 4, dim: 8, separation: 5, seed: 0 });
const { train, test } = splitDataset(all, { testFraction: 0.25, seed: 0 });
const graph = mlp({ inputDim: 8, width: 32, depth: 2, classes: 4 }); // 8-32-32-4, ReLU

const run = await trainModel({
  graph,
  train,
  test,
  recipe: { epochs: 10, batchSize: 32, seed: 0, optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9 } },
});
console.log('test accuracy above 90%:', (run.final.testAccuracy ?? 0) > 0.9);

const spec = inferSpec(graph); // one G_ReLU group (permutations x positive scalings) per hidden layer
console.log('groups:', Object.entries(spec.groups).map(([name, g]) => `${name}: ${g.kind}`).join(', '));

const params = toFloat64(run.params);
const { x } = datasetToTensors(test);
const { report } = await checkModelSymmetry(graph, params, x); // act with random elements, compare outputs
console.log('outputs unchanged under the group (float32):', report.worstOutputError < 1e-4);

const acts = await captureActivations(graph, paramsToTensors(params), x, { points: ['layers.1'] });
console.log('activations of layers.1:', `${acts['layers.1']!.rows} x ${acts['layers.1']!.cols}`);
x.dispose();
