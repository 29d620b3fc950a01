// PyTorch state_dict import/export: exact round trips through torch.save files and safetensors for
// every zoo architecture, dtype conversion, ignored buffers, errors naming the parameter, and (when
// /usr/bin/python3 has torch) the same outputs as the same network built in PyTorch from the file.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, floatToHalf, halfToFloat, readSafetensors, readTorch, writeSafetensors, writeTorch, type NdArray } from '@basis/tensor';
import { readArrayFile, writeNpyFile, writeTorchFile } from '@basis/tensor/node';
import { describeGraph, forward, initParams, paramsToTensors, type ModelGraph, type ParamDict } from '../graph/index.js';
import { buildModel, type ModelSpec } from './model-spec.js';
import { exportStateDict, importStateDict } from './state-dict.js';
import { thrownError } from '@basis/test-utils';

const run = promisify(execFile);
let root: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'basis-sd-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const SPECS: [ModelSpec, number[]][] = [
  [{ arch: 'mlp', width: 32, depth: 2 }, [1, 28, 28]],
  [{ arch: 'resmlp', width: 16, depth: 2, hidden: 24 }, [1, 28, 28]],
  [{ arch: 'minimyrtle', width: 4 }, [1, 12, 12]],
  [{ arch: 'resnet', width: 1, depth: 1 }, [1, 8, 8]],
  [{ arch: 'transformer', width: 8, depth: 1, heads: 2, vocab: 7, seqLen: 3, layernorm: true }, [3]],
];

/** Seeded parameters with batchnorm buffers moved away from their initial values. */
function paramsOf(graph: ModelGraph): ParamDict {
  const rng = createRng(9);
  const p = initParams(graph, rng);
  for (const [k, v] of Object.entries(p)) {
    if (k.endsWith('.running_mean')) v.data.forEach((_, i) => (v.data[i] = rng.normal() * 0.2));
    if (k.endsWith('.running_var')) v.data.forEach((_, i) => (v.data[i] = 0.5 + rng.uniform()));
    if (k.endsWith('bn1.weight') || /layers\.1\.weight$/.test(k)) v.data.forEach((_, i) => (v.data[i] = 0.5 + rng.uniform()));
  }
  return p;
}

function bitEqual(a: ParamDict, b: ParamDict): void {
  expect(Object.keys(b)).toEqual(Object.keys(a));
  for (const k of Object.keys(a)) {
    expect(b[k]!.shape).toEqual(a[k]!.shape);
    expect(new Uint32Array(b[k]!.data.buffer, b[k]!.data.byteOffset, b[k]!.data.length)).toEqual(new Uint32Array(a[k]!.data.buffer, a[k]!.data.byteOffset, a[k]!.data.length));
  }
}

describe('importStateDict / exportStateDict', () => {
  for (const [spec, input] of SPECS) {
    it(`${spec.arch}: exact round trip through torch.save and safetensors`, () => {
      const graph = buildModel(spec, { input, classes: spec.arch === 'transformer' ? 7 : 10 });
      const params = paramsOf(graph);
      const sd = exportStateDict(graph, params);
      const bn = describeGraph(graph).nodes.filter((n) => n.op === 'batchnorm');
      expect([...sd.keys()].filter((k) => k.endsWith('num_batches_tracked'))).toHaveLength(bn.length);
      for (const n of bn) expect(sd.get(`${n.name}.num_batches_tracked`)).toMatchObject({ dtype: 'int64', shape: [] });
      bitEqual(params, importStateDict(graph, readTorch(writeTorch(sd)).tensors));
      bitEqual(params, importStateDict(graph, readSafetensors(writeSafetensors(sd)).tensors));
    });
  }

  it("transformer: nn.MultiheadAttention names (in_proj_weight = [q; k; v], out_proj) round-trip exactly", () => {
    const graph = buildModel({ arch: 'transformer', width: 8, depth: 1, heads: 2, vocab: 7, seqLen: 3 }, { input: [3], classes: 7 });
    const params = paramsOf(graph);
    const sd = exportStateDict(graph, params, { attention: 'mha' });
    const att = describeGraph(graph).nodes.find((n) => n.op === 'attention')!.name;
    const w = sd.get(`${att}.in_proj_weight`)!;
    expect(w.shape).toEqual([24, 8]);
    expect(sd.get(`${att}.in_proj_bias`)!.shape).toEqual([24]);
    expect(sd.has(`${att}.out_proj.weight`) && sd.has(`${att}.out_proj.bias`)).toBe(true);
    expect([...sd.keys()].some((k) => /\.(q|k|v|o)\.(weight|bias)$/.test(k))).toBe(false);
    // rows 8..15 are k's weight
    expect(Array.from(w.data as Float32Array).slice(8 * 8, 16 * 8)).toEqual(Array.from(params[`${att}.k.weight`]!.data));
    bitEqual(params, importStateDict(graph, readTorch(writeTorch(sd)).tensors));
    bitEqual(params, importStateDict(graph, exportStateDict(graph, params)));
    const bad = new Map(sd).set(`${att}.in_proj_weight`, { dtype: 'float32', shape: [23, 8], data: new Float32Array(184) });
    expect(thrownError(() => importStateDict(graph, bad))).toMatch(/^SHAPE_MISMATCH: '.*in_proj_weight' has shape \[23, 8\]/);
    expect(thrownError(() => exportStateDict(graph, params, { attention: 'fused' as never }))).toMatch(/^INVALID_ARGUMENT: attention must be/);
  });

  it('converts float64 / float16 / bfloat16, strips module. prefixes, ignores num_batches_tracked', () => {
    const graph = buildModel({ arch: 'minimyrtle', width: 2 }, { input: [1, 8, 8], classes: 3 });
    const params = paramsOf(graph);
    const sd = exportStateDict(graph, params, { dtype: 'float64', numBatchesTracked: 17 });
    expect(sd.get('layers.1.num_batches_tracked')!.data).toEqual(BigInt64Array.of(17n));
    const wrapped = new Map([...sd].map(([k, v]) => [`module.${k}`, v]));
    bitEqual(params, importStateDict(graph, wrapped));
    // float16 / bfloat16 files (written by safetensors, decoded by the reader) become their float32 values
    const w = params['layers.0.weight']!;
    for (const dtype of ['float16', 'bfloat16'] as const) {
      const low = new Map(sd).set('layers.0.weight', { dtype, shape: [...w.shape], data: Float32Array.from(w.data) });
      const h = importStateDict(graph, readSafetensors(writeSafetensors(low)).tensors)['layers.0.weight']!;
      expect(h.data).toBeInstanceOf(Float32Array);
      if (dtype === 'float16') expect(Array.from(h.data)).toEqual(Array.from(w.data, (v) => halfToFloat(floatToHalf(v))));
      expect(Math.max(...Array.from(h.data, (v, i) => Math.abs(v - w.data[i]!)))).toBeLessThan(1e-2);
    }
    const odd = importStateDict(graph, new Map([...sd].map(([k, v]) => [`model.${k}`, v])), { prefix: 'model.' });
    bitEqual(params, odd);
  });

  it('errors name the parameter: missing / extra / wrong shape / integer / non-finite', () => {
    const graph = buildModel({ arch: 'mlp', width: 8, depth: 1 }, { input: [4], classes: 3 });
    const sd = exportStateDict(graph, paramsOf(graph));
    const without = new Map(sd);
    without.delete('layers.2.bias');
    expect(thrownError(() => importStateDict(graph, without))).toMatch(/^BAD_FILE: the state_dict lacks 'layers\.2\.bias' \(shape \[3\]\)/);
    const extra = new Map(sd).set('layers.9.weight', { dtype: 'float32', shape: [1], data: new Float32Array(1) });
    expect(thrownError(() => importStateDict(graph, extra))).toMatch(/^BAD_FILE: the state_dict holds 'layers\.9\.weight', which mlp-8-relu does not have/);
    expect(Object.keys(importStateDict(graph, extra, { allowExtra: true }))).toHaveLength(4);
    const wide = new Map(sd).set('layers.0.weight', { dtype: 'float32', shape: [16, 4], data: new Float32Array(64) });
    expect(thrownError(() => importStateDict(graph, wide))).toMatch(/^SHAPE_MISMATCH: parameter 'layers\.0\.weight' has shape \[16, 4\] in the state_dict but mlp-8-relu needs \[8, 4\]/);
    const ints = new Map(sd).set('layers.0.bias', { dtype: 'int64', shape: [8], data: new BigInt64Array(8) } as NdArray);
    expect(thrownError(() => importStateDict(graph, ints))).toMatch(/^BAD_FILE: state_dict entry 'layers\.0\.bias' has dtype int64/);
    const nan = new Map(sd).set('layers.0.bias', { dtype: 'float64', shape: [8], data: Float64Array.of(0, 0, 1e300, 0, 0, 0, 0, 0) });
    expect(thrownError(() => importStateDict(graph, nan))).toMatch(/^NON_FINITE_INPUT: parameter 'layers\.0\.bias' holds Infinity at flat index 2 \(1e\+300 overflows float32\)/);
    expect(thrownError(() => exportStateDict(graph, { ...paramsOf(graph), 'x.weight': { shape: [1], data: [0] } }))).toMatch(/^INVALID_ARGUMENT: parameter 'x\.weight' does not belong/);
  });
});

async function hasTorch(): Promise<boolean> {
  try {
    await run('/usr/bin/python3', ['-c', 'import torch'], { timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!(await hasTorch()))('PyTorch loads exported state_dicts (strict) and computes the same outputs', () => {
  it('mlp, resmlp, minimyrtle, resnet', async () => {
    const script = fileURLToPath(new URL('./torch_forward.py', import.meta.url));
    const cases = await Promise.all(
      SPECS.filter(([s]) => s.arch !== 'transformer').map(async ([spec, input], i) => {
        const graph = buildModel(spec, { input, classes: 10 });
        const params = paramsOf(graph);
        const dir = join(root, `torch-${i}`);
        await mkdir(dir);
        await writeTorchFile(join(dir, 'model.pt'), exportStateDict(graph, params));
        await writeFile(join(dir, 'graph.json'), JSON.stringify(graph));
        const rng = createRng(i);
        const n = 5;
        const shape = [n, ...graph.input];
        const x = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
        await writeNpyFile(join(dir, 'x.npy'), { dtype: 'float32', shape, data: x });
        return { spec, graph, params, dir, x, shape };
      }),
    );
    await run('/usr/bin/python3', [script, ...cases.flatMap((c) => ['graph.json', 'model.pt', 'x.npy', 'y.npy'].map((f) => join(c.dir, f)))], { timeout: 120_000 });
    for (const c of cases) {
      const theirs = (await readArrayFile(join(c.dir, 'y.npy'))).data as Float32Array;
      const t = paramsToTensors(c.params);
      const ours = tf.tidy(() => forward(c.graph, t, tf.tensor(c.x, c.shape)).output.dataSync() as Float32Array);
      Object.values(t).forEach((v) => v.dispose());
      const scale = Math.max(...Array.from(ours, Math.abs));
      const err = Math.max(...Array.from(ours, (v, k) => Math.abs(v - theirs[k]!)));
      expect(theirs.length, c.spec.arch).toBe(50);
      expect(err / scale, c.spec.arch).toBeLessThan(1e-5);
    }
  });
});
