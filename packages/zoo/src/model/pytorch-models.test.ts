// Models made by PyTorch itself (tooling/test-utils/fixtures/models/pytorch, see its README):
// each loads from .pt and .safetensors without renaming by hand, computes PyTorch's logits,
// passes the symmetry check of its inferred spec, and exports back under PyTorch's names (loaded
// by PyTorch with strict=True when /usr/bin/python3 has torch). Plus the structural mapper's
// rules on synthetic state_dicts: prefixes, key maps, ambiguity, misfits, and a property test.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, isBasisError, readNpy, readSafetensors, readTorch, writeSafetensors, writeTorch, type NdArray } from '@basis/tensor';
import { readArrayFile, readTorchFile, writeTorchFile } from '@basis/tensor/node';
import { fixtureBytes, fixturePath, thrownError } from '@basis/test-utils';
import { checkModelSymmetry, describeGraph, forward, initParams, paramsToTensors, type ModelGraph, type ParamDict } from '../graph/index.js';
import { loadModel } from './load.js';
import { buildModel, type ModelSpec } from './model-spec.js';
import { exportStateDict, formatStateDictReport, mapStateDict, withTorchNames } from './state-dict.js';
import { parseKeyMapRule } from './state-dict-map.js';

const run = promisify(execFile);
let root: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'basis-pt-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The test models and the --arch description of each. */
const MODELS: [name: string, spec: ModelSpec][] = [
  ['mlp', { arch: 'mlp', width: [16, 12] }],
  ['cnn', { arch: 'cnn', width: [4, 8] }],
  ['rescnn', { arch: 'resnet', width: [8, 16], depth: 1 }],
];

const dir = 'models/pytorch';
const graphOf = (spec: ModelSpec): ModelGraph => buildModel(spec, { input: [1, 28, 28], classes: 10 });

function logits(graph: ModelGraph, params: ParamDict, x: NdArray): Float32Array {
  const t = paramsToTensors(params);
  try {
    return tf.tidy(() => forward(graph, t, tf.tensor(Float32Array.from(x.data as Float32Array), [...x.shape])).output.dataSync() as Float32Array);
  } finally {
    Object.values(t).forEach((v) => v.dispose());
  }
}

function relErr(ours: ArrayLike<number>, theirs: ArrayLike<number>): number {
  let scale = 0;
  let err = 0;
  for (let i = 0; i < theirs.length; i++) {
    scale = Math.max(scale, Math.abs(theirs[i] as number));
    err = Math.max(err, Math.abs((ours[i] as number) - (theirs[i] as number)));
  }
  return err / scale;
}

describe('models saved by PyTorch load without renaming by hand', () => {
  for (const [name, spec] of MODELS) {
    it(`${name}: .pt and .safetensors map by structure, logits match PyTorch's, the inferred spec verifies, export restores the names`, async () => {
      const graph = graphOf(spec);
      const x = readNpy(fixtureBytes(`${dir}/${name}.x.npy`));
      const want = readNpy(fixtureBytes(`${dir}/${name}.logits.npy`)).data as Float32Array;
      const pt = await loadModel(fixturePath(`${dir}/${name}.pt`), { graph });
      const st = await loadModel(fixturePath(`${dir}/${name}.safetensors`), { graph });
      const report = pt.report!;
      expect(report.method).toBe('structure');
      const params = describeGraph(graph).params;
      expect(report.entries.filter((e) => e.status === 'renamed')).toHaveLength(params.length);
      expect(report.entries.filter((e) => e.status === 'ignored').every((e) => e.key.endsWith('num_batches_tracked'))).toBe(true);
      expect(formatStateDictReport(report)).toMatch(/renamed/);
      // the same mapping from the order-free safetensors file
      for (const p of params) expect(Array.from(st.params[p.name]!.data), p.name).toEqual(Array.from(pt.params[p.name]!.data));
      expect(st.graph.meta?.['torch']).toEqual(pt.graph.meta?.['torch']);
      const ours = logits(pt.graph, pt.params, x);
      expect(ours.length).toBe(80);
      expect(relErr(ours, want)).toBeLessThan(1e-5);
      // symmetry check of the inferred spec
      const { report: sym } = await checkModelSymmetry(pt.graph, pt.params, tf.tensor(Float32Array.from(x.data as Float32Array), [...x.shape]));
      expect(sym.ok).toBe(true);
      expect(sym.groups.length).toBeGreaterThan(0);
      // export writes the file's own keys (and its num_batches_tracked) back
      const original = (await readTorchFile(fixturePath(`${dir}/${name}.pt`))).tensors;
      const sd = exportStateDict(pt.graph, pt.params);
      expect([...sd.keys()]).toEqual([...original.keys()]);
      for (const [k, v] of sd) expect(v.shape, k).toEqual(original.get(k)!.shape);
      expect([...exportStateDict(pt.graph, pt.params, { names: 'basis' }).keys()].filter((k) => !k.endsWith('num_batches_tracked'))).toEqual(params.map((p) => p.name));
    });
  }
});

async function hasTorch(): Promise<boolean> {
  try {
    await run('/usr/bin/python3', ['-c', 'import torch'], { timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!(await hasTorch()))('exported files load into the original PyTorch modules with strict=True', () => {
  it('mlp, cnn, rescnn (after an edit of the weights, so nothing is read back from the fixtures)', async () => {
    const script = fixturePath(`${dir}/make_models.py`);
    const cases = await Promise.all(
      MODELS.map(async ([name, spec]) => {
        const m = await loadModel(fixturePath(`${dir}/${name}.pt`), { graph: graphOf(spec) });
        const edited: ParamDict = {};
        for (const [k, v] of Object.entries(m.params)) edited[k] = { shape: v.shape, data: Float32Array.from(v.data, (a, i) => (k.endsWith('running_var') ? a : a * (1 + 0.01 * Math.sin(i)))) };
        const file = join(root, `${name}.pt`);
        await writeTorchFile(file, exportStateDict(m.graph, edited));
        return { name, graph: m.graph, edited, file, out: join(root, `${name}.out.npy`) };
      }),
    );
    await run('/usr/bin/python3', [script, 'forward', ...cases.flatMap((c) => [c.name, c.file, fixturePath(`${dir}/${c.name}.x.npy`), c.out])], { timeout: 120_000 });
    for (const c of cases) {
      const theirs = (await readArrayFile(c.out)).data as Float32Array;
      const ours = logits(c.graph, c.edited, readNpy(fixtureBytes(`${dir}/${c.name}.x.npy`)));
      expect(relErr(ours, theirs), c.name).toBeLessThan(1e-5);
    }
  });
});

/** Seeded parameters of a graph, exported, with every key renamed by `rename`. */
function renamedDict(graph: ModelGraph, rename: (k: string) => string, seed = 1): { params: ParamDict; sd: Map<string, NdArray> } {
  const params = initParams(graph, createRng(seed));
  const sd = new Map([...exportStateDict(graph, params)].map(([k, v]) => [rename(k), v]));
  return { params, sd };
}

function sameParams(a: ParamDict, b: ParamDict): void {
  expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
  for (const k of Object.keys(a)) expect(Array.from(b[k]!.data), k).toEqual(Array.from(a[k]!.data));
}

describe('mapStateDict: names, prefixes, key maps, structure', () => {
  const mlpGraph = buildModel({ arch: 'mlp', width: [6, 5] }, { input: [4], classes: 3 });
  const seqName = (k: string): string => k.replace(/^layers\./, '');

  it('an nn.Sequential MLP (0.weight, 2.weight, ...) behind module./model./net. prefixes', () => {
    for (const prefix of ['', 'module.', 'model.', 'net.', 'module.model.']) {
      const { params, sd } = renamedDict(mlpGraph, (k) => prefix + seqName(k));
      const r = mapStateDict(mlpGraph, sd);
      sameParams(params, r.params);
      expect(r.report.prefix).toBe(prefix);
      expect(r.report.method).toBe('structure');
      expect(r.torchNames!.names['layers.2.weight']).toBe(`${prefix}2.weight`);
      // export restores the prefixed names
      expect([...exportStateDict(withTorchNames(mlpGraph, r.torchNames), r.params).keys()]).toEqual([...sd.keys()]);
    }
  });

  it('names the graph has are used as they are; only the rest is matched by structure', () => {
    const { params, sd } = renamedDict(mlpGraph, (k) => (k.startsWith('layers.4') ? k.replace('layers.4', 'head') : k));
    const r = mapStateDict(mlpGraph, sd);
    sameParams(params, r.params);
    const how = Object.fromEntries(r.report.entries.map((e) => [e.key, `${e.status}:${e.via}`]));
    expect(how['layers.0.weight']).toBe('used:name');
    expect(how['head.weight']).toBe('renamed:structure');
  });

  it('features.N / classifier.N CNN layouts, with batchnorm buffers', () => {
    const g = buildModel({ arch: 'cnn', width: [3, 5] }, { input: [1, 8, 8], classes: 4 });
    // layers.0..7 are features (conv, bn, act, pool) x 2; layers.8 flatten, layers.9 dense
    const { params, sd } = renamedDict(g, (k) => k.replace(/^layers\.(\d+)/, (_, n: string) => (Number(n) < 8 ? `features.${n}` : `classifier.${Number(n) - 8}`)), 2);
    for (const order of ['file', 'names'] as const) {
      const shuffled = order === 'names' ? new Map([...sd].reverse()) : sd;
      const r = mapStateDict(g, shuffled, { order });
      sameParams(params, r.params);
      expect(r.torchNames!.numBatchesTracked['layers.1']).toBe('features.1.num_batches_tracked');
    }
  });

  it('key maps: rules in order, a function, and dropping keys', () => {
    const { params, sd } = renamedDict(mlpGraph, (k) => `enc.${k.replace(/^layers\./, 'fc')}`);
    sd.set('enc.aux.weight', { dtype: 'float32', shape: [2], data: new Float32Array(2) });
    const rules = ['^enc\\.=', '^fc(\\d+)=layers.$1', '^aux\\..*='];
    const r = mapStateDict(mlpGraph, sd, { keyMap: rules });
    sameParams(params, r.params);
    expect(r.report.method).toBe('names');
    expect(r.report.entries.find((e) => e.key === 'enc.fc2.bias')).toMatchObject({ param: 'layers.2.bias', status: 'renamed', via: 'key-map' });
    expect(r.report.entries.find((e) => e.key === 'enc.aux.weight')).toMatchObject({ status: 'ignored', note: 'dropped by the key map' });
    const f = mapStateDict(mlpGraph, sd, { keyMap: (k) => (k.includes('aux') ? null : k.replace(/^enc\.fc/, 'layers.')) });
    sameParams(params, f.params);
    expect(parseKeyMapRule('^a(\\d)=b.$1=c').replacement).toBe('b.$1=c');
    expect(thrownError(() => parseKeyMapRule('=x'))).toMatch(/^CONFIG_INVALID: key-map rule '=x' must have the form/);
    expect(thrownError(() => parseKeyMapRule('no-equals'))).toMatch(/^CONFIG_INVALID/);
    expect(thrownError(() => parseKeyMapRule('(unclosed=x'))).toMatch(/^CONFIG_INVALID: key-map rule '\(unclosed=x': '\(unclosed' is not a valid regular expression/);
    expect(thrownError(() => mapStateDict(mlpGraph, sd, { keyMap: ['^enc\\.fc\\d\\.=layers.0.'] }))).toMatch(/^BAD_FILE: two state_dict entries become 'layers\.0\.weight'/);
  });

  it('ambiguity is an error listing the candidates; a key map or the .pt order resolves it', () => {
    // two same-shaped named siblings whose order a safetensors file does not keep
    const g = buildModel({ arch: 'mlp', width: [5, 5, 5] }, { input: [5], classes: 5 });
    const names: Record<string, string> = { 'layers.0': 'inp', 'layers.2': 'alpha', 'layers.4': 'beta', 'layers.6': 'out' };
    const { params, sd } = renamedDict(g, (k) => k.replace(/^layers\.\d+/, (m) => names[m]!));
    const sorted = readSafetensors(writeSafetensors(sd)).tensors;
    const msg = thrownError(() => mapStateDict(g, sorted, { order: 'names' }));
    expect(msg).toMatch(/^BAD_FILE: the state_dict maps onto mlp-5x5x5-relu in more than one way, so basis will not guess: 'layers\.\d' \(bias \[5\], weight \[5, 5\]\) could be 'alpha' or 'beta' or 'inp' or 'out'/);
    expect(msg).toMatch(/safetensors files are sorted by name/);
    // the .pt file keeps module order: unique
    sameParams(params, mapStateDict(g, readTorch(writeTorch(sd)).tensors).params);
    // naming them with a key map resolves it
    const fixed = mapStateDict(g, sorted, { order: 'names', keyMap: ['^alpha\\.=layers.2.', '^beta\\.=layers.4.', '^inp\\.=layers.0.', '^out\\.=layers.6.'] });
    sameParams(params, fixed.params);
  });

  it('misfits name what does not fit: other widths, other module order, missing entries', () => {
    const { sd } = renamedDict(mlpGraph, seqName);
    const other = buildModel({ arch: 'mlp', width: [6, 7] }, { input: [4], classes: 3 });
    expect(thrownError(() => mapStateDict(other, sd))).toMatch(
      /^BAD_FILE: the state_dict's names are not mlp-6x7-relu's and its modules do not fit it by shape: the file has modules 1 x \(bias \[5\], weight \[5, 6\]\) e\.g\. '2'.* mlp-6x7-relu needs .*weight \[7, 6\]\) e\.g\. 'layers\.2'/,
    );
    // a residual block whose shortcut is registered before its body: the .pt order does not line up
    const rg = buildModel({ arch: 'resnet', width: [2, 3], depth: 1 }, { input: [1, 6, 6], classes: 2 });
    const rp = exportStateDict(rg, initParams(rg, createRng(3)));
    const keys = [...rp.keys()];
    const ds = keys.filter((k) => k.includes('downsample'));
    const reordered = new Map<string, NdArray>();
    for (const k of keys) {
      if (k.includes('downsample')) continue;
      if (k === 'layer2.0.conv1.weight') for (const d of ds) reordered.set(`x.${d}`, rp.get(d)!);
      reordered.set(`x.${k}`, rp.get(k)!);
    }
    expect(thrownError(() => mapStateDict(rg, reordered))).toMatch(/^BAD_FILE: the state_dict's modules do not line up with resnet6-2x3's nodes in module order: after \d+ matched node\(s\), 'layer2\.0\.conv1' needs \(weight \[3, 2, 3, 3\]\) but the file's module 'x\.layer2\.0\.downsample\.0' holds \(weight \[3, 2, 1, 1\]\)/);
    const without = new Map(sd);
    without.delete('4.bias');
    expect(thrownError(() => mapStateDict(mlpGraph, without))).toMatch(/^BAD_FILE: the state_dict's names are not .* needs 1 x \(bias \[3\], weight \[3, 5\]\)/);
    expect(thrownError(() => mapStateDict(mlpGraph, sd, { order: 'random' as never }))).toMatch(/^INVALID_ARGUMENT: order must be/);
    expect(thrownError(() => exportStateDict({ ...mlpGraph, meta: { torch: { names: { a: 1 }, numBatchesTracked: {} } } }, initParams(mlpGraph, createRng(1))))).toMatch(/^INVALID_ARGUMENT: .*graph\.meta\.torch must be/);
  });

  it('property: any module names in module order (.pt), and Sequential indices in any entry order (safetensors), map back exactly', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.stringMatching(/^[a-z][a-z_]{0,6}$/), { minLength: 12, maxLength: 12 }),
        fc.integer({ min: 0, max: 1000 }),
        (widths, words, seed) => {
          const g = buildModel({ arch: 'mlp', width: widths }, { input: [3], classes: 2 });
          // arbitrary distinct module names, kept in module order
          const mods = describeGraph(g).params.map((p) => p.node).filter((n, i, a) => a.indexOf(n) === i);
          const label = new Map(mods.map((m, i) => [m, `${words[i]}_${i}`]));
          const { params, sd } = renamedDict(g, (k) => {
            const node = mods.find((m) => k.startsWith(`${m}.`))!;
            return `${label.get(node)}${k.slice(node.length)}`;
          }, seed);
          sameParams(params, mapStateDict(g, sd).params);
          // nn.Sequential indices survive any entry order
          const seq = [...new Map([...sd].map(([k, v]) => [`net.${k.replace(/^[a-z_]+_(\d+)/, (_, i: string) => String(2 * Number(i)))}`, v]))];
          const rng = createRng(seed);
          for (let i = seq.length - 1; i > 0; i--) {
            const j = Math.floor(rng.uniform() * (i + 1));
            [seq[i], seq[j]] = [seq[j]!, seq[i]!];
          }
          sameParams(params, mapStateDict(g, new Map(seq), { order: 'names' }).params);
        },
      ),
      { numRuns: 60, seed: 18 },
    );
  });

  it('property: without module order, same-shaped modules with unnumbered names are an error, never a wrong mapping', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 2, max: 4 }), { minLength: 1, maxLength: 4 }),
        fc.uniqueArray(fc.stringMatching(/^[a-z]{1,5}$/), { minLength: 5, maxLength: 5 }),
        (widths, words) => {
          const g = buildModel({ arch: 'mlp', width: widths }, { input: [3], classes: 2 });
          const mods = describeGraph(g).params.map((p) => p.node).filter((n, i, a) => a.indexOf(n) === i);
          const { params, sd } = renamedDict(g, (k) => {
            const i = mods.findIndex((m) => k.startsWith(`${m}.`));
            return `${words[i]}${k.slice(mods[i]!.length)}`;
          });
          const sorted = readSafetensors(writeSafetensors(sd)).tensors;
          let mapped: ParamDict;
          try {
            mapped = mapStateDict(g, sorted, { order: 'names' }).params;
          } catch (e) {
            expect(isBasisError(e) && e.code === 'BAD_FILE' && /more than one way/.test(e.message)).toBe(true);
            return;
          }
          sameParams(params, mapped);
        },
      ),
      { numRuns: 80, seed: 7 },
    );
  });
});

describe('widths as lists in model specs', () => {
  it('mlp hidden layers, resnet stages, cnn blocks; one number elsewhere', () => {
    const io = { input: [1, 12, 12], classes: 3 };
    expect(describeGraph(buildModel({ arch: 'mlp', width: [7, 5, 3] }, io)).params.map((p) => p.shape.join('x'))).toEqual(['7x144', '7', '5x7', '5', '3x5', '3', '3x3', '3']);
    const r = buildModel({ arch: 'resnet', width: [4, 6, 8], depth: 2 }, io);
    expect(r.name).toBe('resnet14-4x6x8');
    const convs = describeGraph(r).params.filter((p) => p.name.endsWith('conv2.weight')).map((p) => p.shape[0]);
    expect(convs).toEqual([4, 4, 6, 6, 8, 8]);
    expect(describeGraph(r).params.filter((p) => p.name.includes('downsample.0')).map((p) => p.name)).toEqual(['layer2.0.downsample.0.weight', 'layer3.0.downsample.0.weight']);
    // a number is still ResNet-20's width multiplier
    expect(describeGraph(buildModel({ arch: 'resnet', width: 1, depth: 1 }, io)).params.find((p) => p.name === 'fc.weight')!.shape).toEqual([3, 64]);
    const c = buildModel({ arch: 'cnn', width: [2, 3] }, io);
    expect(describeGraph(c).output).toEqual([3]);
    expect(describeGraph(c).params.find((p) => p.name === 'layers.9.weight')!.shape).toEqual([3, 27]);
    expect(buildModel({ arch: 'cnn', width: 5 }, io).name).toBe('cnn-5');
    expect(thrownError(() => buildModel({ arch: 'resmlp', width: [4, 4] }, io))).toMatch(/^CONFIG_INVALID: model\.width may be a list of widths only for mlp, resnet, cnn; resmlp takes one number/);
    expect(thrownError(() => buildModel({ arch: 'cnn', width: [4, 0] }, io))).toMatch(/^CONFIG_INVALID: model\.width\[1\]/);
    expect(thrownError(() => buildModel({ arch: 'cnn', width: [4], depth: 2 }, io))).toMatch(/^CONFIG_INVALID: .*model\.depth is not used by cnn/);
    expect(thrownError(() => buildModel({ arch: 'mlp', width: [] }, io))).toMatch(/^CONFIG_INVALID: model\.width must list at least one hidden width/);
  });
});
