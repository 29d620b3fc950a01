// loadModel / saveModel: checkpoint directories, run directories, bare .safetensors and .pt files,
// and BAD_FILE for everything missing, truncated, corrupt or of another architecture.
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@basis/tensor';
import { writeSafetensorsFile, writeTorchFile } from '@basis/tensor/node';
import { initParams } from '../graph/index.js';
import { checkpointDirName, saveCheckpoint, loadCheckpoint } from '../train/node.js';
import { loadModel, saveModel } from './load.js';
import { buildModel } from './model-spec.js';
import { exportStateDict } from './state-dict.js';
import { thrownErrorAsync } from '@basis/test-utils';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'basis-load-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const graph = buildModel({ arch: 'minimyrtle', width: 2 }, { input: [1, 8, 8], classes: 3 });
const params = initParams(graph, createRng(4));

describe('saveModel / loadModel', () => {
  it('round trips a checkpoint directory, a run directory (latest step) and weights files', async () => {
    const dir = join(root, 'm');
    await saveModel(dir, { graph, params, meta: { note: 'planted' } });
    const m = await loadModel(dir);
    expect(m.graph).toEqual(graph);
    expect(m.manifest?.meta).toEqual({ note: 'planted' });
    for (const k of Object.keys(params)) expect(m.params[k]!.data).toEqual(params[k]!.data);
    // a run directory holding only step checkpoints: the latest one
    const run = join(root, 'run');
    const ckpt = await loadCheckpoint(dir);
    await saveCheckpoint(join(run, checkpointDirName(3)), ckpt);
    expect((await loadModel(run)).path).toMatch(/step-000000003$/);
    // bare files need the graph
    await writeTorchFile(join(root, 'm.pt'), exportStateDict(graph, params));
    await writeSafetensorsFile(join(root, 'm.safetensors'), exportStateDict(graph, params, { numBatchesTracked: false }));
    for (const f of ['m.pt', 'm.safetensors']) {
      const w = await loadModel(join(root, f), { graph });
      expect(w.manifest).toBeNull();
      for (const k of Object.keys(params)) expect(w.params[k]!.data).toEqual(params[k]!.data);
      expect(await thrownErrorAsync(loadModel(join(root, f)))).toMatch(/^BAD_FILE: .*holds no model graph; give the architecture/);
    }
  });

  it('BAD_FILE: missing, not a checkpoint, truncated, corrupt graph, other architecture', async () => {
    expect(await thrownErrorAsync(loadModel(join(root, 'nope')))).toMatch(/^BAD_FILE: .*nope: no such file or directory/);
    expect(await thrownErrorAsync(loadModel(root))).toMatch(/^BAD_FILE: .*not a checkpoint directory/);
    const dir = join(root, 'bad');
    await saveModel(dir, { graph, params });
    await truncate(join(dir, 'model.safetensors'), 100);
    expect(await thrownErrorAsync(loadModel(dir))).toMatch(/^BAD_FILE: .*truncated/);
    const dir2 = join(root, 'bad2');
    await saveModel(dir2, { graph, params });
    const manifest = JSON.parse(await readFile(join(dir2, 'manifest.json'), 'utf8')) as { graph: { nodes: unknown[] } };
    manifest.graph.nodes = [];
    await writeFile(join(dir2, 'manifest.json'), JSON.stringify(manifest));
    expect(await thrownErrorAsync(loadModel(dir2))).toMatch(/^BAD_FILE: .*model graph is invalid: graph\.nodes: must be a non-empty array/);
    const other = buildModel({ arch: 'minimyrtle', width: 3 }, { input: [1, 8, 8], classes: 3 });
    expect(await thrownErrorAsync(loadModel(join(root, 'm.pt'), { graph: other }))).toMatch(/^BAD_FILE: .*m\.pt: parameter 'layers\.0\.weight' has shape \[2, 1, 3, 3\] in the state_dict but minimyrtle-3 needs \[3, 1, 3, 3\]/);
    await writeFile(join(root, 'junk.pt'), 'not a zip');
    expect(await thrownErrorAsync(loadModel(join(root, 'junk.pt'), { graph }))).toMatch(/^BAD_FILE: /);
    expect(await thrownErrorAsync(saveModel(join(root, 'x'), { graph, params: { ...params, 'layers.0.weight': { shape: [1], data: new Float32Array(1) } } }))).toMatch(/^SHAPE_MISMATCH/);
  });
});
