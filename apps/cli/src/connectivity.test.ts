import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basis } from './test-helpers.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'basis-cli-conn-'));
const runs = join(dir, 'runs');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  const r = await basis('train', '--arch', 'mlp', '--width', '16', '--depth', '1', '--dataset', 'mnist', '--train-size', '600', '--test-size', '200', '--epochs', '2', '--batch-size', '32', '--seeds', '0,1', '--out', runs, '--quiet');
  expect(r.code, r.stderr).toBe(0);
}, 180_000);

describe('connectivity and degeneracy commands', () => {
  const a = (): string => join(runs, 'seed-0');
  const b = (): string => join(runs, 'seed-1');

  it('interpolate: barrier record naive and after weight matching, JSON + CSV + SVG + HTML', async () => {
    const out = join(dir, 'lmc');
    const r = await basis('interpolate', a(), b(), '--match', 'weight', '--points', '5', '--n', '200', '--out', out, '--json', '--quiet');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { records: Record<string, { lambdas: number[]; barrier: { loss: { maxMinusLinear: number } } }> };
    expect(Object.keys(j.records)).toEqual(['naive', 'weight']);
    expect(j.records['naive']!.lambdas).toEqual([0, 0.25, 0.5, 0.75, 1]);
    for (const f of ['interpolate.json', 'interpolation-loss.csv', 'interpolation-loss.svg', 'interpolate.html']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(readFileSync(join(out, 'interpolate.html'), 'utf8')).toContain('<svg');
  }, 180_000);

  it('match writes a functionally identical aligned copy; llfc and stitch report', async () => {
    const out = join(dir, 'b-aligned');
    const m = await basis('match', a(), b(), '--out', out, '--json', '--quiet');
    expect(m.code, m.stderr).toBe(0);
    const mj = JSON.parse(m.stdout) as { functionalError: number; sweeps: number };
    expect(mj.functionalError).toBeLessThan(1e-5);
    expect(existsSync(join(out, 'model.safetensors'))).toBe(true);
    const l = await basis('llfc', a(), out, '--match', 'none', '--n', '100', '--json', '--quiet');
    expect(l.code, l.stderr).toBe(0);
    expect((JSON.parse(l.stdout) as { layers: unknown[] }).layers.length).toBeGreaterThan(0);
    const s = await basis('stitch', a(), a(), '--layer', 'layers.1', '--kind', 'identity', '--n', '200', '--json', '--quiet');
    expect(s.code, s.stderr).toBe(0);
    expect((JSON.parse(s.stdout) as { penalty: number }).penalty).toBe(0);
  }, 180_000);

  it('degeneracy runs on a checkpoint', async () => {
    const r = await basis('degeneracy', a(), '--data', 'gaussian:64', '--json', '--quiet');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().startsWith('{')).toBe(true);
  }, 180_000);

  it('usage and file errors', async () => {
    expect((await basis('stitch', a(), b())).code).toBe(2);
    expect((await basis('stitch', a(), b(), '--layer', 'layers.1', '--kind', 'rank:x')).code).toBe(2);
    expect((await basis('match', a(), b())).code).toBe(2);
    const missing = await basis('interpolate', join(dir, 'nope'), b());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/BAD_FILE/);
  }, 180_000);
});
