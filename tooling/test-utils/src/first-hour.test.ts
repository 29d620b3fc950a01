// The first hour of a new user (issue 19): the README lists every package and nothing as "Planned",
// says that the browser tests need Chromium, and its set-up command is the one .ci/run runs; the
// set-up command puts a `basis` launcher on the PATH; `pnpm test` prints a line per package as its
// tests finish (tooling/scripts/test-progress.mjs).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'basis-first-hour-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Every workspace package: [name, folder]. */
function packages(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const group of ['packages', 'apps', 'tooling']) {
    for (const d of readdirSync(join(REPO, group))) {
      const pj = join(REPO, group, d, 'package.json');
      if (existsSync(pj)) out.push([(JSON.parse(readFileSync(pj, 'utf8')) as { name: string }).name, `${group}/${d}`]);
    }
  }
  return out;
}

describe('README', () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  it('lists every workspace package in its package table, and nothing as planned', () => {
    const table = readme.slice(readme.indexOf('## Packages'), readme.indexOf('## Command line'));
    for (const [name, dir] of packages()) expect(table, `${name} (${dir})`).toContain(`(\`${dir}\`)`);
    expect(readme).not.toMatch(/Planned/);
  });
  it('says the browser tests need Chromium, and its set-up command is the one .ci/run runs', () => {
    expect(readme).toMatch(/Chromium/);
    expect(readme).toContain('sh tooling/scripts/setup.sh && npm install -g pnpm@10.34.8 && pnpm install --frozen-lockfile && pnpm test');
    const ci = readFileSync(join(REPO, '.ci', 'run'), 'utf8');
    expect(ci).toMatch(/^sh tooling\/scripts\/setup\.sh$/m);
    expect(ci.trimEnd().endsWith('pnpm test')).toBe(true);
    expect(readme).toMatch(/## What you can do in 5 minutes/);
  });
});

describe('setup.sh', () => {
  it('writes an executable `basis` launcher for this checkout, and never fails', () => {
    const bin = join(tmp, 'bin');
    const r = spawnSync('sh', [join(REPO, 'tooling', 'scripts', 'setup.sh')], {
      env: { ...process.env, BASIS_SETUP_NATIVE: 'skip', BASIS_SETUP_REDIS: 'skip', BASIS_SETUP_BROWSER: 'skip', BASIS_BIN_DIR: bin, PATH: `${bin}:${process.env.PATH ?? ''}` },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`'basis' is on the PATH (${bin}/basis)`);
    const launcher = readFileSync(join(bin, 'basis'), 'utf8');
    expect(launcher).toContain(`REPO='${REPO.replace(/\/$/, '')}'`);
    expect(launcher).toContain('exec node "$REPO/apps/cli/bin/basis.js" "$@"');
    expect(statSync(join(bin, 'basis')).mode & 0o111).not.toBe(0);
    expect(spawnSync('sh', ['-n', join(bin, 'basis')]).status).toBe(0);
    // a foreign file of that name is left alone
    writeFileSync(join(bin, 'basis'), '#!/bin/sh\necho mine\n');
    const again = spawnSync('sh', [join(REPO, 'tooling', 'scripts', 'setup.sh')], { env: { ...process.env, BASIS_SETUP_NATIVE: 'skip', BASIS_SETUP_REDIS: 'skip', BASIS_SETUP_BROWSER: 'skip', BASIS_BIN_DIR: bin }, encoding: 'utf8' });
    expect(again.status).toBe(0);
    expect(readFileSync(join(bin, 'basis'), 'utf8')).toContain('echo mine');
  });
});

describe('pnpm test progress', () => {
  it('prints one line per package report as it is written, while the command runs, and keeps its exit code', () => {
    const root = join(tmp, 'ws');
    for (const p of ['packages/a', 'apps/b']) {
      mkdirSync(join(root, p, 'reports'), { recursive: true });
      writeFileSync(join(root, p, 'package.json'), '{}');
    }
    const report = (passed: number, failed: number): string => JSON.stringify({ numTotalTests: passed + failed, numPassedTests: passed, numFailedTests: failed, numPendingTests: 0, numTodoTests: 0, startTime: 1000, success: failed === 0, testResults: [{ endTime: 63_000 }] });
    // the "turbo run" stand-in writes one report, waits, writes the other, then fails
    const script = `const fs=require('fs');fs.writeFileSync('packages/a/reports/vitest.json',${JSON.stringify(report(12, 0))});setTimeout(()=>{fs.writeFileSync('apps/b/reports/vitest.json',${JSON.stringify(report(3, 1))});setTimeout(()=>process.exit(3),1500)},1500);`;
    const r = spawnSync(process.execPath, [join(REPO, 'tooling', 'scripts', 'test-progress.mjs'), '--', process.execPath, '-e', script], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(3);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^✓ packages\/a: 12 passed, 0 failed in 1m02s \(at \d+s\)$/);
    expect(lines[1]).toMatch(/^✗ apps\/b: 3 passed, 1 failed in 1m02s \(at \d+s\)$/);
  });
});
