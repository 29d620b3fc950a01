// Resource estimates of basis compare: the estimate line, per-metric progress with elapsed time,
// the refusal above --max-memory (and above the default budget) before any work, size parsing.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { estimateCompare } from '@basis/align';
import { createRng, matrixToNpy, randn } from '@basis/tensor';
import { DEFAULT_MEMORY_FRACTION, checkMemoryBudget, formatBytes, formatSeconds, parseMemorySize } from './resources.js';
import { basis } from './test-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'basis-resources-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const rng = createRng(3);
writeFileSync(join(dir, 'a.npy'), matrixToNpy(randn(200, 12, rng)));
writeFileSync(join(dir, 'b.npy'), matrixToNpy(randn(200, 9, rng)));

describe('parseMemorySize / formatBytes', () => {
  it('reads sizes with units, percentages and none; rejects the rest with USAGE', () => {
    expect(parseMemorySize('8G')).toBe(8 * 2 ** 30);
    expect(parseMemorySize('512MiB')).toBe(512 * 2 ** 20);
    expect(parseMemorySize('1.5gb')).toBe(1.5 * 2 ** 30);
    expect(parseMemorySize('4096')).toBe(4096);
    expect(parseMemorySize('50%', '--max-memory', 1000)).toBe(500);
    expect(parseMemorySize('none')).toBe(Infinity);
    for (const bad of ['', 'lots', '-1G', '0', '0%', '8X', 'G']) expect(() => parseMemorySize(bad)).toThrow(/--max-memory must be a size such as 8G/);
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(12 * 2 ** 30)).toBe('12.0 GiB');
    expect(formatBytes(300 * 2 ** 20)).toBe('300 MiB');
    expect(formatSeconds(0.004)).toBe('<0.01s');
    expect(formatSeconds(0.25)).toBe('0.25s');
    expect(formatSeconds(75)).toBe('1m15s');
  });
  it('checkMemoryBudget names the largest working sets and the way out', () => {
    const e = estimateCompare({ rows: 30000, cols: 64 }, { rows: 30000, cols: 64 }, ['cka.linear', 'cka.rbf', 'rsa.spearman']);
    expect(() => checkMemoryBudget(e, 2 ** 30, true)).toThrow(/needs an estimated [\d.]+ GiB of memory at its peak, more than the budget of 1.0 GiB \(--max-memory\); the largest working sets: cka\.rbf [\d.]+ GiB, rsa\.spearman/);
    expect(() => checkMemoryBudget(e, Infinity, true)).not.toThrow();
  });
});

describe('basis compare: estimate, progress, budget', () => {
  it('prints the estimate and one progress line per metric with the elapsed time; nothing with --quiet or --json', async () => {
    const r = await basis('compare', join(dir, 'a.npy'), join(dir, 'b.npy'), '--metric', 'cka.linear,procrustes.similarity');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/estimate: about (<0\.01|[\d.]+)s of computing on one core, peak memory about [\d.]+ (KiB|MiB) \(inputs 32\.8 KiB; budget [\d.]+ GiB, --max-memory\)/);
    expect(r.stderr).toMatch(/\[1\/2\] cka\.linear = 0\.\d+ in (<0\.01|[\d.]+)s \(elapsed (<0\.01|[\d.]+)s\)/);
    expect(r.stderr).toMatch(/\[2\/2\] procrustes\.similarity = /);
    const q = await basis('compare', join(dir, 'a.npy'), join(dir, 'b.npy'), '--metric', 'cka.linear', '--quiet');
    expect(q.stderr).toBe('');
    const j = await basis('compare', join(dir, 'a.npy'), join(dir, 'b.npy'), '--metric', 'cka.linear', '--json');
    expect(j.stderr).not.toMatch(/\[1\/1\]/);
    const out = JSON.parse(j.stdout) as { resources: { estimatedPeakBytes: number; estimatedSeconds: number; budgetBytes: number } };
    expect(out.resources.estimatedPeakBytes).toBeGreaterThan(8 * 200 * 21);
    expect(out.resources.budgetBytes).toBeCloseTo(DEFAULT_MEMORY_FRACTION * totalmem(), -3);
  });

  it('refuses above --max-memory before computing (USAGE, exit 2); a larger budget lets it run', async () => {
    const r = await basis('compare', join(dir, 'a.npy'), join(dir, 'b.npy'), '--metric', 'cka.rbf,cka.linear', '--max-memory', '100K');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^basis: error \[USAGE\]: this needs an estimated [\d.]+ (KiB|MiB) of memory at its peak, more than the budget of 100 KiB \(--max-memory\); the largest working sets: cka\.rbf/m);
    expect(r.stderr).not.toMatch(/\[1\/2\]/); // nothing was computed
    const ok = await basis('compare', join(dir, 'a.npy'), join(dir, 'b.npy'), '--metric', 'cka.rbf,cka.linear', '--max-memory', '1G', '--quiet');
    expect(ok.code, ok.stderr).toBe(0);
    const bad = await basis('compare', join(dir, 'a.npy'), join(dir, 'b.npy'), '--max-memory', 'lots');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--max-memory must be a size/);
  });

  it('the default budget (half the memory) refuses an N x N metric on many rows at once, without allocating it', async () => {
    // rows chosen so that cka.rbf's N x N kernels exceed half of this machine's memory
    const need = DEFAULT_MEMORY_FRACTION * totalmem();
    let n = 20000;
    while (estimateCompare({ rows: n, cols: 2 }, { rows: n, cols: 2 }, ['cka.rbf']).peakBytes < 1.2 * need) n = Math.ceil(n * 1.2);
    const big = join(dir, 'big');
    mkdirSync(big);
    writeFileSync(join(big, 'x.npy'), matrixToNpy(randn(n, 2, rng)));
    const t0 = performance.now();
    const r = await basis('compare', join(big, 'x.npy'), join(big, 'x.npy'), '--metric', 'cka.rbf');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\[USAGE\]: this needs an estimated .* \(--max-memory; default 50% of this machine's [\d.]+ GiB\); the largest working sets: cka\.rbf/);
    expect(performance.now() - t0).toBeLessThan(60_000);
    // and the layer audit too
    const layers = await basis('compare', '--layers', big, big, '--metric', 'cka.rbf', '--out', join(dir, 'audit'));
    expect(layers.code).toBe(2);
    expect(layers.stderr).toMatch(/\[USAGE\]: this needs an estimated/);
  }, 120_000);
});
