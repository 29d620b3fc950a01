// Quick runs of the S003, S004 and S001 recipes through the real run context. All recipes share one
// run directory, so the base model family (identical jobs) is trained once and reused.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@basis/tensor/backend';
import { renderSvg } from '../report.js';
import { createRunContext } from '../runner/context.js';
import { runRecipe } from '../runner/run.js';
import type { ExperimentRecipe, RecipeResult } from './types.js';
import { e003_1 } from './e003-1.js';
import { e003_2 } from './e003-2.js';
import { e003_3 } from './e003-3.js';
import { e003_4 } from './e003-4.js';
import { e003_5 } from './e003-5.js';
import { e003_6 } from './e003-6.js';
import { e003_7 } from './e003-7.js';
import { e004_1 } from './e004-1.js';
import { e004_2 } from './e004-2.js';
import { e004_3 } from './e004-3.js';
import { v001_1 } from './v001-1.js';
import { v001_2 } from './v001-2.js';
import { v001_3 } from './v001-3.js';
import { v001_4 } from './v001-4.js';

const dir = mkdtempSync(join(tmpdir(), 'basis-e003-recipes-'));
const log: string[] = [];

beforeAll(async () => {
  await selectBackend('wasm');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  console.log(log.join('\n'));
});

async function runQuick<C>(r: ExperimentRecipe<C>): Promise<RecipeResult> {
  const ctx = await createRunContext({ dir, recipeId: r.id, profile: 'quick', seed: 0, backend: 'wasm' });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const tensors0 = tf.memory().numTensors;
  try {
    const res = await r.run(ctx, r.checkConfig(r.profiles.quick));
    const cpu = process.cpuUsage(cpu0);
    const leaked = tf.memory().numTensors - tensors0;
    log.push(`${r.id}: ${((performance.now() - t0) / 1000).toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s main-thread CPU, trained ${ctx.stats.trained}, reused ${ctx.stats.reused}, tensors left ${leaked}`);
    expect(leaked).toBeLessThanOrEqual(0);
    for (const c of res.checks) log.push(`  [${c.verdict}] ${c.claim}\n      ${c.measured}`);
    return res;
  } finally {
    await ctx.close();
  }
}

function finiteDeep(v: unknown, path = 'data'): void {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`${path} is ${v}`);
  } else if (Array.isArray(v)) v.forEach((x, i) => finiteDeep(x, `${path}[${i}]`));
  else if (ArrayBuffer.isView(v)) Array.from(v as Float64Array).forEach((x, i) => finiteDeep(x, `${path}[${i}]`));
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) finiteDeep(x, `${path}.${k}`);
}

/** The common contract: computed verdicts with stated criteria, finite estimates and data, the expected figures (which render). */
async function expectWellFormed(res: RecipeResult, figureIds: string[]): Promise<void> {
  expect(res.checks.length).toBeGreaterThan(0);
  for (const c of res.checks) {
    expect(['held', 'not held', 'inconclusive']).toContain(c.verdict);
    expect(c.claim.length).toBeGreaterThan(10);
    expect(c.measured).toMatch(/Criterion: /);
    expect(c.criterion?.length ?? 0).toBeGreaterThan(10);
    expect(c.change?.length ?? 0).toBeGreaterThan(5);
    for (const e of Object.values(c.estimates ?? {})) {
      for (const x of [e.mean, e.lo, e.hi]) expect(Number.isFinite(x)).toBe(true);
      expect(e.lo).toBeLessThanOrEqual(e.mean + 1e-12);
      expect(e.hi).toBeGreaterThanOrEqual(e.mean - 1e-12);
    }
  }
  expect(res.figures.map((f) => f.id)).toEqual(figureIds);
  for (const f of res.figures) {
    expect(f.rows.length).toBeGreaterThan(0);
    expect(await renderSvg(f.spec)).toMatch(/<svg[\s\S]*<path/);
  }
  expect(res.notes.some((n) => n.includes('[OPEN]'))).toBe(true);
  finiteDeep(res.data);
  expect(() => JSON.stringify(res)).not.toThrow();
}

describe('S003 recipes (quick)', () => {
  it('E003-1: rotation penalties', async () => {
    const res = await runQuick(e003_1);
    await expectWellFormed(res, ['rotation-penalty']);
    const trials = (res.data as { trials: Array<{ kind: string; before: number; transformed: number }> }).trials;
    // before any fine-tuning the identity transform changes nothing; G_ReLU and orthogonal ones break the model
    for (const t of trials.filter((x) => x.kind === 'identity')) expect(t.transformed).toBeCloseTo(t.before, 6);
    for (const t of trials.filter((x) => x.kind !== 'identity')) expect(t.transformed).toBeLessThan(t.before);
  }, 300_000);

  it('E003-2: stitching classes', async () => {
    const res = await runQuick(e003_2);
    await expectWellFormed(res, ['stitching-penalty']);
    expect(res.checks).toHaveLength(5);
    const cells = (res.data as { cells: Array<{ kind: string; penalty: number }> }).cells;
    // identity stitching between independent models is far worse than affine stitching
    const mean = (k: string): number => cells.filter((c) => c.kind === k).reduce((a, c) => a + c.penalty, 0) / cells.filter((c) => c.kind === k).length;
    expect(mean('identity')).toBeGreaterThan(mean('affine') + 0.2);
  }, 300_000);

  it('E003-3: LeakyReLU slope sweep', async () => {
    const res = await runQuick(e003_3);
    await expectWellFormed(res, ['penalty-vs-slope']);
    expect(res.figures[0]!.rows).toHaveLength(8); // 2 classes x 4 slopes
  }, 300_000);

  it('E003-4: G_ReLU-Procrustes below orthogonal Procrustes, paper Table 2 copied', async () => {
    const res = await runQuick(e003_4);
    await expectWellFormed(res, ['similarity-by-layer']);
    expect(res.checks[0]!.paper).toContain('0.6208 ± 0.008');
    expect(res.checks[0]!.paper).toContain('0.5825 ± 0.019');
    // group inclusion holds by construction
    expect(res.checks[2]!.verdict).toBe('held');
  }, 300_000);

  it('E003-5: CKA and G_ReLU-CKA heatmaps for an MLP and a residual MLP', async () => {
    const res = await runQuick(e003_5);
    await expectWellFormed(res, ['mlp-cka-linear-unbiased', 'mlp-grelu-cka', 'resmlp-cka-linear-unbiased', 'resmlp-grelu-cka']);
    expect(res.checks).toHaveLength(4);
    expect(res.figures[2]!.rows).toHaveLength(25); // 5 ReLU layers of the residual MLP, squared
  }, 300_000);

  it('E003-6: class-selective units against the rotation fraction', async () => {
    const res = await runQuick(e003_6);
    await expectWellFormed(res, ['selectivity-vs-alpha']);
    expect(res.checks).toHaveLength(3);
    const curves = (res.data as { curves: Array<{ model: number; post: number[]; pre: number[] }> }).curves;
    // alpha = 0 is the unrotated representation: every draw of Q on a model gives the same count there
    for (const c of curves) expect([c.post[0], c.pre[0]]).toEqual([curves.find((x) => x.model === c.model)!.post[0], curves.find((x) => x.model === c.model)!.pre[0]]);
    expect(new Set(curves.map((c) => c.model)).size).toBe(3);
  }, 300_000);

  it('E003-7: same function, different hidden representations', async () => {
    const res = await runQuick(e003_7);
    await expectWellFormed(res, ['representation-change']);
    // these are identities of Prop. 3.4 (float64): they must hold
    expect(res.checks.slice(0, 3).map((c) => c.verdict)).toEqual(['held', 'held', 'held']);
  }, 300_000);

  it('E003-4 through runRecipe: report.html with the paper table, result.json, figure files', async () => {
    const out = join(dir, 'E003-4-report');
    const r = await runRecipe('E003-4', { profile: 'quick', out, cacheDir: dir, workers: 2, backend: 'wasm' });
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('0.6208 ± 0.008');
    expect(html).toContain('G_ReLU-Procrustes similarity is below orthogonal Procrustes similarity at every layer');
    expect(existsSync(join(out, 'figures', 'similarity-by-layer.svg'))).toBe(true);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as { id: string; checks: unknown[] };
    expect(result.id).toBe('E003-4');
    expect(result.checks).toHaveLength(r.checks.length);
  }, 300_000);
});

describe('S004 recipes (quick)', () => {
  it('E004-1: LLFC co-occurs with LMC', async () => {
    const res = await runQuick(e004_1);
    await expectWellFormed(res, ['llfc-by-layer', 'barrier-vs-llfc']);
    const pairs = (res.data as { pairs: Array<{ condition: string }> }).pairs;
    expect([...new Set(pairs.map((p) => p.condition))]).toEqual(['spawn-0', 'spawn-1', 'independent', 'weight-matched']);
  }, 300_000);

  it('E004-2: weak additivity and commutativity', async () => {
    const res = await runQuick(e004_2);
    await expectWellFormed(res, ['weak-additivity', 'commutativity']);
  }, 300_000);

  it('E004-3: matching enforces commutativity', async () => {
    const res = await runQuick(e004_3);
    await expectWellFormed(res, ['commutativity']);
    expect(res.checks).toHaveLength(2);
  }, 300_000);
});

describe('S001 validation recipes (quick)', () => {
  it('V001-1: LLC oracles', async () => {
    const res = await runQuick(v001_1);
    await expectWellFormed(res, ['toy-lambda', 'oracles']);
    // the toy curve uses the exact 1-D radial volume: it must match the closed form
    expect(res.checks[0]!.verdict).toBe('held');
  }, 300_000);

  it('V001-2: degeneracy census against width and training time', async () => {
    const res = await runQuick(v001_2);
    await expectWellFormed(res, ['low-variance-vs-width', 'synchronisation']);
    expect(res.checks).toHaveLength(3);
  }, 300_000);

  it('V001-3: N_eff against width and eps', async () => {
    const res = await runQuick(v001_3);
    await expectWellFormed(res, ['n-eff']);
    expect(res.checks).toHaveLength(5);
  }, 300_000);

  it('V001-4: interaction basis vs neuron basis', async () => {
    const res = await runQuick(v001_4);
    await expectWellFormed(res, ['dimensions', 'sparsity']);
    // the last hidden layer feeds a linear 10-way readout: at most 10 directions survive
    expect(res.checks[0]!.measured).toContain('d_out = 10');
    expect(res.checks[3]!.verdict).toBe('held');
  }, 300_000);
});
