import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BasisError, engineInfo } from '@basis/tensor';
import { runDemo } from './demo.js';

const dir = mkdtempSync(join(tmpdir(), 'basis-demo-test-'));

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('runDemo (tiny profile)', () => {
  it('trains, verifies, audits, interpolates and writes a self-contained report', async () => {
    const stages: string[] = [];
    const details: Record<string, string[]> = {};
    const r = await runDemo({ out: dir, width: 16, epochs: 1, auditN: 60, parallel: false, onProgress: (s, d) => (stages.push(s), (details[s] ??= []).push(d)) });
    expect([...new Set(stages)]).toEqual(['data', 'train', 'symmetry', 'audit', 'connectivity', 'report']);
    // the connectivity stage is never silent: it starts with a line, and its last line counts every step with the time taken
    expect(details['connectivity']![0]).toMatch(/^weight matching .*\(step 1\/37\)$/);
    expect(details['connectivity']!.at(-1)).toMatch(/^LLFC after weight matching \(37\/37, \d+ s\)$/);
    // the heatmap audit reports its cells too (the last line: all of them)
    expect(details['audit']!.at(-1)).toMatch(/^heatmap cells: .*\((\d+)\/\1, \d+ s\)$/);
    for (const t of r.training) expect(t.testAccuracy).toBeGreaterThan(0.7);
    expect(r.symmetry.worstOutputError).toBeLessThan(1e-5);
    expect(r.symmetry.groups.map((g) => g.kind)).toEqual(['positive-monomial', 'positive-monomial']);
    expect(Object.keys(r.audit.diagonal).length).toBeGreaterThanOrEqual(21);
    for (const v of Object.values(r.audit.diagonal).flat()) expect(Number.isFinite(v)).toBe(true);
    const c = r.connectivity.curves;
    expect(c.weightMatching.barrier.loss.maxMinusLinear).toBeLessThan(c.naive.barrier.loss.maxMinusLinear);
    expect(c.naive.loss[0]).toBeCloseTo(c.weightMatching.loss[0]!, 10);
    expect(c.naive.loss.at(-1)).toBeCloseTo(c.weightMatching.loss.at(-1)!, 4); // matched B is the same function as B
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toContain('<script');
    for (const f of r.files) expect(existsSync(join(dir, f)), f).toBe(true);
    const json = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as { seconds: number; config: { engine: { provider: string } }; audit: { engine: { provider: string; threads: number } } };
    expect(json.seconds).toBeGreaterThan(0);
    // provenance: the compute engine of the run and of the audit
    expect(json.config.engine.provider).toBe(engineInfo().provider);
    expect(json.audit.engine).toEqual(r.audit.engine);
    expect(json.audit.engine.threads).toBeGreaterThanOrEqual(1);
    expect(html).toContain('&quot;engine&quot;');
    // the subtitle is rendered once the run time is known: no dangling separator
    expect(html).toMatch(/<p class="sub">mlp-16x16-relu · seeds 0 and 1 · \d+ s<\/p>/);
    // the configuration is a readable table, the full JSON one click away
    expect(html).toMatch(/<table class="config">[\s\S]*<td>training\.epochs<\/td><td>1<\/td>/);
    expect(html).toMatch(/<details><summary>Full configuration \(JSON\)<\/summary><pre>/);
  }, 120_000);

  it('rejects bad options', async () => {
    await expect(runDemo({ out: '' })).rejects.toThrow(BasisError);
    await expect(runDemo({ out: dir, width: 1 })).rejects.toThrow(/width/);
    await expect(runDemo({ out: dir, seeds: [3, 3] })).rejects.toThrow(/seeds/);
  });
});
