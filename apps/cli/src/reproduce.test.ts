// `basis reproduce` on the built binary: --list, usage and config errors, a tiny E000-1 run whose
// second run reuses every model, and Ctrl-C that exits 130 keeping the finished work.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { artifactDir, figureProblems, findChromium, launchChromium, openPage, serveDirectory } from '@basis/test-utils/browser';
import { BIN, TINY_E000_1, basis } from './test-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'basis-cli-reproduce-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('basis reproduce', () => {
  it('--list names every experiment', async () => {
    const r = await basis('reproduce', '--list', '--json');
    expect(r.code).toBe(0);
    const ids = (JSON.parse(r.stdout) as Array<{ id: string }>).map((x) => x.id);
    for (const id of ['E000-1', 'E000-2', 'E000-3', 'E000-4', 'E002-1', 'E002-2', 'E002-3', 'E002-4', 'E002-5', 'E003-6']) expect(ids).toContain(id);
  });

  it('usage and configuration errors', async () => {
    const none = await basis('reproduce', '--quiet');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/name an experiment/);
    const unknown = await basis('reproduce', 'E999-9', '--quick', '--out', join(dir, 'u'));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/CONFIG_INVALID.*unknown experiment id 'E999-9'; valid ids: E000-1/);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'widths: [16, 8]\n');
    const r = await basis('reproduce', 'E000-1', '--quick', '--config', bad, '--out', join(dir, 'b'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/CONFIG_INVALID.*E000-1\.widths\[1\] must be larger than the width before it/);
    const badProfile = await basis('reproduce', 'E000-1', '--profile', 'huge', '--out', join(dir, 'p'));
    expect(badProfile.code).toBe(2);
    expect(badProfile.stderr).toMatch(/--profile must be quick, standard or full, got 'huge'/);
    const both = await basis('reproduce', 'E000-1', '--quick', '--profile', 'standard', '--out', join(dir, 'p'));
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--quick and --profile standard contradict each other/);
    const other = join(dir, 'other.yaml');
    writeFileSync(other, TINY_E000_1);
    const mismatch = await basis('reproduce', 'E002-1', '--config', other);
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(/describes experiment E000-1/);
  });

  it('runs an experiment from a YAML file, writes the report, and reuses the cache on a second run', async () => {
    const cfg = join(dir, 'tiny.yaml');
    writeFileSync(cfg, TINY_E000_1);
    const out = join(dir, 'e1');
    const first = await basis('reproduce', '--config', cfg, '--out', out, '--json', '--workers', '2');
    expect(first.code).toBe(0);
    const s = JSON.parse(first.stdout) as { id: string; report: string; verdicts: Array<{ verdict: string }>; trained: number; reused: number };
    expect(s.id).toBe('E000-1');
    expect(s.trained).toBe(4);
    expect(s.verdicts.length).toBe(2);
    const html = readFileSync(s.report, 'utf8');
    expect(html).toContain('Paper versus basis');
    expect(existsSync(join(out, 'figures', 'permcorr-vs-width.svg'))).toBe(true);
    expect(first.stderr).toMatch(/E000-1: models trained 4\/4/);
    // 2 seed pairs, each compared trained and untrained: 4 pairs of models
    expect(first.stderr).toMatch(/E000-1: pairs compared 4\/4/);
    // off a terminal every stage reports its steps as they finish, with elapsed time and an estimate
    expect(first.stderr).toMatch(/E000-1: pairs compared 1\/4 \(\d+s, about \d+s left\)/);
    // the report in Chromium: figures pass the visual checks (no clipped text, hidden series, ...)
    if (findChromium() === undefined) console.warn('reproduce.test: report not opened in a browser (no Chromium: apt-get install -y chromium, or set BASIS_CHROMIUM)');
    else {
      const server = await serveDirectory(out);
      const browser = await launchChromium();
      try {
        const { page, errors } = await openPage(browser, `${server.url}/report.html`);
        expect(await page.locator('figure.plot svg').count()).toBeGreaterThan(0);
        expect(await figureProblems(page)).toEqual([]);
        expect(await page.locator('#configuration table.config').count()).toBe(1);
        await page.screenshot({ path: join(await artifactDir('cli'), 'reproduce-E000-1-report.png'), fullPage: true });
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
        await server.close();
      }
    }
    const second = await basis('reproduce', '--config', cfg, '--out', out, '--json');
    const t = JSON.parse(second.stdout) as { trained: number; reused: number; verdicts: unknown };
    expect(t.trained).toBe(0);
    expect(t.reused).toBe(4);
    expect(t.verdicts).toEqual(s.verdicts);
  }, 240_000);

  it('Ctrl-C stops training, exits 130 and keeps the checkpoints for a resume', async () => {
    const cfg = join(dir, 'long.yaml');
    writeFileSync(cfg, TINY_E000_1.replace('epochs: 1', 'epochs: 200'));
    const out = join(dir, 'e2');
    const child = spawn(process.execPath, [BIN, 'reproduce', '--config', cfg, '--out', out, '--cache', join(dir, 'cache2'), '--workers', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const models = join(dir, 'cache2', 'models');
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    // interrupt once training has written its first checkpoints (step 0 of each model)
    const poll = setInterval(() => {
      const started = existsSync(models) && readdirSync(models).some((k) => readdirSync(join(models, k)).some((f) => f.startsWith('step-')));
      if (started) {
        clearInterval(poll);
        setTimeout(() => child.kill('SIGINT'), 500);
      }
    }, 200);
    const code = await exited;
    clearInterval(poll);
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupted/);
    const ckpts = readdirSync(models).flatMap((k) => readdirSync(join(models, k)).filter((f) => f.startsWith('step-')));
    expect(ckpts.length).toBeGreaterThan(0);
    // no model finished: none has its summary (the marker of a complete model)
    expect(readdirSync(models).filter((k) => existsSync(join(models, k, 'summary.json')))).toEqual([]);
    // the write locks (output folder, model folders) were released on the way out
    expect(existsSync(join(out, '.basis.lock'))).toBe(false);
    expect(readdirSync(models).filter((k) => existsSync(join(models, k, '.basis.lock')))).toEqual([]);
  }, 240_000);
});
