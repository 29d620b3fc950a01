// The model commands on the real binary with tiny models: train (two seeds in parallel, resume,
// config files), eval (clean and OOD), activations -> compare --layers, symmetry check / apply, and
// the error codes for bad configs and missing or corrupt checkpoints.
import { existsSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basis } from './test-helpers.js';
import { describe, expect, it } from 'vitest';


const dir = mkdtempSync(join(tmpdir(), 'basis-train-cli-'));
const runs = join(dir, 'runs');
const TINY = ['--arch', 'mlp', '--width', '16', '--depth', '1', '--dataset', 'mnist', '--train-size', '600', '--test-size', '200', '--epochs', '2', '--batch-size', '32'];

interface TrainOut {
  runs: { seed: number; dir: string; testAccuracy: number; resumedFrom: string | null; stopped: string }[];
  backend: string;
}

describe('basis train / eval / activations / symmetry on a tiny MLP', () => {
  it('train: two seeds in parallel, one checkpoint directory each; --resume; no overwrite', async () => {
    const r = await basis('train', ...TINY, '--seeds', '0,1', '--out', runs, '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as TrainOut;
    expect(out.runs.map((x) => x.seed)).toEqual([0, 1]);
    expect(r.stderr).toMatch(/seeds 0, 1 on 2 worker threads/);
    expect(r.stderr).toMatch(/seed 0: epoch 2\/2, train loss [\d.]+, test accuracy [\d.]+%/);
    for (const x of out.runs) {
      expect(x.testAccuracy).toBeGreaterThan(0.7);
      expect(existsSync(join(x.dir, 'model.safetensors'))).toBe(true);
      const manifest = JSON.parse(readFileSync(join(x.dir, 'manifest.json'), 'utf8')) as { graph: { name: string; nodes: unknown[] }; seed: number; meta: { data: unknown } };
      expect(manifest.graph.name).toBe('mlp-16-relu');
      expect(manifest.seed).toBe(x.seed);
      expect(manifest.meta.data).toEqual({ dataset: 'mnist', trainSize: 600, testSize: 200 });
    }
    expect(JSON.parse(readFileSync(join(runs, 'train.json'), 'utf8'))).toMatchObject({ model: { arch: 'mlp', width: 16, depth: 1 }, seeds: [0, 1] });
    const again = await basis('train', ...TINY, '--seeds', '0', '--out', runs);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a run; pass --resume/);
    const resumed = await basis('train', ...TINY, '--seeds', '0', '--out', runs, '--resume', '--json', '--quiet');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toBe('');
    const rr = JSON.parse(resumed.stdout) as TrainOut;
    expect(rr.runs[0]!.resumedFrom).toMatch(/step-000000038$/);
    expect(rr.runs[0]!.testAccuracy).toBe(out.runs[0]!.testAccuracy);
  });

  it('eval, activations -> compare --layers, symmetry check and apply', async () => {
    const seed0 = join(runs, 'seed-0');
    const [ev, ood, a0, a1, check] = await Promise.all([
      basis('eval', seed0, '--json', '--quiet'),
      basis('eval', seed0, '--ood', 'rotate-30,noise-0.2', '--n', '300', '--json', '--quiet'),
      basis('activations', seed0, '--out', join(dir, 'acts0'), '--n', '200', '--quiet'),
      basis('activations', join(runs, 'seed-1'), '--out', join(dir, 'acts1'), '--n', '200', '--quiet'),
      basis('symmetry', 'check', seed0, '--json', '--quiet'),
    ]);
    expect(ev.code, ev.stderr).toBe(0);
    const e = JSON.parse(ev.stdout) as { results: { condition: string; n: number; accuracy: number; loss: number }[] };
    expect(e.results).toHaveLength(1);
    expect(e.results[0]).toMatchObject({ condition: 'clean', n: 2000 });
    expect(e.results[0]!.accuracy).toBeGreaterThan(0.7);
    const o = JSON.parse(ood.stdout) as { results: { condition: string; n: number; accuracy: number }[] };
    expect(o.results.map((x) => x.condition)).toEqual(['clean', 'rotate-30', 'noise-0.2']);
    expect(o.results.every((x) => x.n === 300)).toBe(true);
    expect(o.results[1]!.accuracy).toBeLessThan(o.results[0]!.accuracy);
    expect(a0.code, a0.stderr).toBe(0);
    expect(a1.code, a1.stderr).toBe(0);
    expect(a0.stdout).toMatch(/layers\.1\s+200\s+16/);
    const cmp = await basis('compare', '--layers', join(dir, 'acts0'), join(dir, 'acts1'), '--metric', 'cka.linear', '--out', join(dir, 'cmp'), '--quiet');
    expect(cmp.code, cmp.stderr).toBe(0);
    expect(readFileSync(join(dir, 'cmp', 'cka.linear.csv'), 'utf8')).toMatch(/^layer,layers\.1,layers\.2\nlayers\.1,0\.\d+/);
    expect(check.code, check.stderr).toBe(0);
    const c = JSON.parse(check.stdout) as { report: { ok: boolean; groups: { name: string; kind: string; worstError: number }[]; worstFeatureError: number } };
    expect(c.report.ok).toBe(true);
    expect(c.report.groups.map((g) => [g.name, g.kind])).toEqual([['layers.0', 'positive-monomial']]);
    expect(c.report.groups[0]!.worstError).toBeLessThan(1e-5);

    const moved = join(dir, 'moved');
    const ap = await basis('symmetry', 'apply', seed0, '--out', moved, '--seed', '5', '--json', '--quiet');
    expect(ap.code, ap.stderr).toBe(0);
    const a = JSON.parse(ap.stdout) as { outputChange: number; weightChange: number };
    expect(a.outputChange).toBeLessThan(1e-5);
    expect(a.weightChange).toBeGreaterThan(0.1);
    const el = JSON.parse(readFileSync(join(moved, 'symmetry.json'), 'utf8')) as { assignment: Record<string, { src: number[] }> };
    expect([...el.assignment['layers.0']!.src].sort((x, y) => x - y)).toEqual([...Array(16).keys()]);
    const ev2 = await basis('eval', moved, '--json', '--quiet');
    const e2 = JSON.parse(ev2.stdout) as { results: { accuracy: number; loss: number }[] };
    expect(Math.abs(e2.results[0]!.accuracy - e.results[0]!.accuracy)).toBeLessThanOrEqual(0.001);
    expect(Math.abs(e2.results[0]!.loss - e.results[0]!.loss)).toBeLessThan(1e-4);
  });

  it('CONFIG_INVALID names the bad field; BAD_FILE for missing or corrupt checkpoints; usage errors', async () => {
    const cfg = join(dir, 'bad.json');
    writeFileSync(cfg, JSON.stringify({ model: { arch: 'mlp', width: 8 }, train: { epochs: 1, batchSize: 32, optimizer: { kind: 'sgd', lr: 0 } } }));
    const typo = join(dir, 'typo.json');
    writeFileSync(typo, JSON.stringify({ model: { arch: 'mlp' }, data: { dataset: 'mnist', trainsize: 10 } }));
    const corrupt = join(dir, 'corrupt');
    const [bad, bad2, missing, usage, bare] = await Promise.all([
      basis('train', '--config', cfg, '--out', join(dir, 'x')),
      basis('train', '--config', typo, '--out', join(dir, 'x')),
      basis('eval', join(dir, 'nope')),
      basis('train', '--arch', 'vgg'),
      basis('eval', join(runs, 'seed-0', 'model.safetensors')),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^basis: error \[CONFIG_INVALID\]: config\.train\.optimizer\.lr must be > 0, got 0\n$/);
    expect(bad2.stderr).toMatch(/\[CONFIG_INVALID\]: config\.data\.trainsize is not a known option/);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/\[BAD_FILE\].*nope: no such file or directory/);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--arch must be one of mlp, resmlp, minimyrtle, resnet/);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/give its architecture with --arch/);
    // a truncated model file
    const cp = await basis('symmetry', 'apply', join(runs, 'seed-1'), '--out', corrupt, '--quiet');
    expect(cp.code, cp.stderr).toBe(0);
    truncateSync(join(corrupt, 'model.safetensors'), 64);
    const [t, withArch] = await Promise.all([
      basis('symmetry', 'check', corrupt),
      basis('eval', join(runs, 'seed-1', 'model.safetensors'), '--arch', 'mlp', '--width', '16', '--depth', '1', '--n', '50', '--json', '--quiet'),
    ]);
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/\[BAD_FILE\].*truncated/);
    expect(withArch.code, withArch.stderr).toBe(0);
  });
});

describe('basis train on a CNN (Fashion-MNIST, batchnorm)', () => {
  it('trains MiniMyrtle for one short epoch; symmetry check verifies its groups', async () => {
    const out = join(dir, 'cnn');
    const r = await basis('train', '--arch', 'minimyrtle', '--width', '2', '--dataset', 'fashion', '--train-size', '128', '--test-size', '50', '--epochs', '1', '--batch-size', '64', '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/training without warm-up/);
    const check = await basis('symmetry', 'check', join(out, 'seed-0'), '--inputs', '8', '--json', '--quiet');
    expect(check.code, check.stderr).toBe(0);
    const c = JSON.parse(check.stdout) as { report: { ok: boolean; groups: { name: string }[] } };
    expect(c.report.ok).toBe(true);
    expect(c.report.groups.map((g) => g.name)).toEqual(['layers.0', 'layers.3', 'layers.7']);
  });
});
