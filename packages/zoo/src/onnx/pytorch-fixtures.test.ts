// The three models made by PyTorch (tooling/test-utils/fixtures/models/pytorch) as ONNX files:
// each (default export with batchnorm folded into the convolutions, and the BatchNormalization-
// preserving export) loads through loadModel with no architecture given, gives PyTorch's logits to
// 1e-5 relative, has an inferred symmetry spec that verifies, exports back to ONNX with identical
// parameters and outputs, and the exported file gives the same logits in ONNX Runtime.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import { readNpy } from '@basis/tensor';
import { fixtureBytes, fixturePath } from '@basis/test-utils';
import { checkModelSymmetry } from '../graph/check.js';
import { forward } from '../graph/forward.js';
import { paramsToTensors, type ParamDict } from '../graph/params.js';
import type { ModelGraph } from '../graph/ir.js';
import { loadModel } from '../model/load.js';
import { exportOnnx, importOnnx } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  ort.env.wasm.numThreads = 1;
});

function run(graph: ModelGraph, params: ParamDict, x: tf.Tensor): Float32Array {
  return tf.tidy(() => forward(graph, paramsToTensors(params), x).output.dataSync() as Float32Array);
}

function maxRel(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i] as number));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs((got[i] as number) - (want[i] as number)) / scale);
  return worst;
}

const FILES: [string, string, string[]][] = [
  ['mlp', 'mlp.onnx', ['dense', 'activation', 'dense', 'activation', 'dense']],
  ['cnn', 'cnn.onnx', ['conv2d', 'activation', 'maxpool', 'conv2d', 'activation', 'maxpool', 'flatten', 'dense']],
  ['cnn', 'cnn-bn.onnx', ['conv2d', 'batchnorm', 'activation', 'maxpool', 'conv2d', 'batchnorm', 'activation', 'maxpool', 'flatten', 'dense']],
  ['rescnn', 'rescnn.onnx', ['conv2d', 'activation', 'residual', 'activation', 'residual', 'activation', 'globalavgpool', 'dense']],
  ['rescnn', 'rescnn-bn.onnx', ['conv2d', 'batchnorm', 'activation', 'residual', 'activation', 'residual', 'activation', 'globalavgpool', 'dense']],
];

describe('PyTorch-made ONNX files load with PyTorch logits', () => {
  for (const [name, file, ops] of FILES) {
    it(`${file}: logits to 1e-5, the inferred spec verifies, round trip and ONNX Runtime`, async () => {
      const m = await loadModel(fixturePath(`models/pytorch/${file}`));
      expect(m.manifest).toBeNull();
      expect(m.onnx?.producer).toMatch(/pytorch/);
      expect(m.graph.nodes.map((n) => n.op)).toEqual(ops);
      const xa = readNpy(fixtureBytes(`models/pytorch/${name}.x.npy`));
      const want = readNpy(fixtureBytes(`models/pytorch/${name}.logits.npy`)).data as Float32Array;
      const x = tf.tensor(Float32Array.from(xa.data as Float32Array), [...xa.shape]);
      const got = run(m.graph, m.params, x);
      expect(maxRel(got, want)).toBeLessThan(1e-5);
      const check = await checkModelSymmetry(m.graph, m.params, x);
      expect(check.report.ok).toBe(true);
      expect(Object.keys(check.spec.groups).length).toBeGreaterThan(0);
      // export and import: identical parameters and outputs
      const bytes = exportOnnx(m.graph, m.params);
      const back = importOnnx(bytes);
      expect(Object.keys(back.params).sort()).toEqual(Object.keys(m.params).sort());
      for (const [k, v] of Object.entries(m.params)) expect(back.params[k]!.data, k).toEqual(v.data);
      expect(run(back.graph, back.params, x)).toEqual(got);
      // the exported file in ONNX Runtime
      const session = await ort.InferenceSession.create(bytes);
      const res = await session.run({ input: new ort.Tensor('float32', Float32Array.from(xa.data as Float32Array), xa.shape) });
      expect(maxRel(res['logits']!.data as Float32Array, want)).toBeLessThan(1e-5);
      x.dispose();
    });
  }

  it('parameter names are the state_dict names where the exporter kept them', async () => {
    const m = await loadModel(fixturePath('models/pytorch/mlp.onnx'));
    expect(Object.keys(m.params).sort()).toEqual(['0.bias', '0.weight', '2.bias', '2.weight', '4.bias', '4.weight']);
    const bn = await loadModel(fixturePath('models/pytorch/rescnn-bn.onnx'));
    expect(Object.keys(bn.params)).toContain('stages.1.0.shortcut.1.running_var');
  });
});
