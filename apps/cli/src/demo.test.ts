import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../bin/basis.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'basis-cli-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('basis demo', () => {
  it('--quick --json: trains, audits, writes the report; stdout holds only the JSON summary', async () => {
    const out = join(dir, 'demo');
    const { stdout, stderr } = await run(process.execPath, [BIN, 'demo', '--quick', '--json', '--out', out], { timeout: 240_000 });
    const r = JSON.parse(stdout) as { report: string; testAccuracy: number[]; lossBarrier: { naive: number; weightMatching: number }; symmetry: { worstOutputError: number } };
    expect(r.testAccuracy.every((a) => a > 0.85)).toBe(true);
    expect(r.lossBarrier.weightMatching).toBeLessThan(r.lossBarrier.naive);
    expect(r.symmetry.worstOutputError).toBeLessThan(1e-5);
    expect(existsSync(r.report)).toBe(true);
    const html = readFileSync(r.report, 'utf8');
    expect(html).toContain('Linear mode connectivity');
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(7);
    expect(stderr).toMatch(/connectivity: weight matching/);
  }, 240_000);

  it('rejects bad flags with a usage error', async () => {
    try {
      await run(process.execPath, [BIN, 'demo', '--width', '1', '--out', join(dir, 'x')], { timeout: 60_000 });
      throw new Error('should fail');
    } catch (e) {
      const err = e as { code?: number; stderr?: string };
      expect(err.code).toBe(2);
      expect(err.stderr).toMatch(/--width must be an integer >= 2/);
    }
  });
});
