// `basis reproduce` stops within seconds on SIGTERM, also in the middle of a long computation on
// the main thread (stitching, which once ignored SIGTERM for minutes: its training loop resolved
// every await as a microtask, so the signal listener never ran), exits 143 and keeps every
// finished model in the cache; the estimate is printed before the run starts.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, basis } from './test-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'basis-cli-signal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** E003-2 with 3 tiny models and long stitching (many epochs), so a signal lands while it stitches. */
const config = (epochs: number, classes: string[]): string =>
  JSON.stringify({
    experiment: 'E003-2',
    profile: 'quick',
    config: {
      family: { data: { dataset: 'mnist', trainSize: 1000, testSize: 300 }, model: { arch: 'mlp', width: 16, depth: 2 }, train: { epochs: 1, batchSize: 64, optimizer: { kind: 'adam', lr: 1e-3 } }, seeds: [0, 1, 2] },
      stitching: { classes, epochs, trainInputs: 1000, testInputs: 300 },
    },
  });

interface Stopped {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Seconds from the signal to the exit. */
  latency: number;
  stderr: string;
}

/** Starts `basis reproduce` and sends `sig` `delayMs` after `when` (stderr so far) first holds (polled every 100 ms). */
async function stopWhen(args: string[], when: (stderr: string) => boolean, sig: NodeJS.Signals, delayMs: number): Promise<Stopped> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let sent = 0;
  child.stdout.resume();
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const poll = setInterval(() => {
    if (sent !== 0 || !when(stderr)) return;
    sent = -1;
    clearInterval(poll);
    setTimeout(() => {
      sent = performance.now();
      child.kill(sig);
    }, delayMs);
  }, 100);
  const r = await exited;
  clearInterval(poll);
  return { ...r, latency: sent > 0 ? (performance.now() - sent) / 1000 : NaN, stderr };
}

/** Whether some model folder under `cache` holds a step checkpoint. */
const checkpointed = (cache: string): boolean => {
  const models = join(cache, 'models');
  return existsSync(models) && readdirSync(models).some((k) => existsSync(join(models, k)) && readdirSync(join(models, k)).some((f) => f.startsWith('step-')));
};

describe('basis reproduce and signals', () => {
  it('SIGTERM during stitching stops it within seconds (exit 143), keeping the trained models and releasing the locks', async () => {
    const cfg = join(dir, 'stitch.json');
    writeFileSync(cfg, config(400, ['affine', 'grelu', 'rank-1']));
    const out = join(dir, 'e1');
    const cache = join(dir, 'cache');
    const s = await stopWhen(['reproduce', '--config', cfg, '--out', out, '--cache', cache, '--workers', '2'], (e) => /models trained 3\/3/.test(e), 'SIGTERM', 1500);
    expect(s.stderr).toMatch(/estimated run time: ~\d+ (s|min)/);
    expect(s.latency, s.stderr).toBeLessThan(8); // 5 s grace at most, plus process exit
    expect(s.code, s.stderr).toBe(143);
    expect(s.stderr).toMatch(/interrupted \(SIGTERM\)/);
    const models = join(cache, 'models');
    expect(readdirSync(models).filter((k) => existsSync(join(models, k, 'summary.json'))).length).toBe(3);
    expect(existsSync(join(out, '.basis.lock'))).toBe(false);
    expect(readdirSync(models).filter((k) => existsSync(join(models, k, '.basis.lock')))).toEqual([]);
    // the finished models are reused: a short stitching run now trains nothing
    const cfg2 = join(dir, 'short.json');
    writeFileSync(cfg2, config(1, ['affine', 'grelu', 'rank-1']));
    const again = await basis('reproduce', '--config', cfg2, '--out', join(dir, 'e2'), '--cache', cache, '--json');
    expect(again.code, again.stderr).toBe(0);
    const j = JSON.parse(again.stdout) as { trained: number; reused: number; estimatedSeconds: number };
    expect(j.trained).toBe(0);
    expect(j.reused).toBe(3);
    expect(j.estimatedSeconds).toBeGreaterThan(0);
  }, 300_000);

  it('SIGTERM in the middle of a stitch stops it gracefully: no cut-off, the finished stitches are kept and reused, and stderr says how far it got', async () => {
    const cfg = join(dir, 'graceful.json');
    // identity and permutation stitches train nothing (they finish at once); affine trains for long
    writeFileSync(cfg, config(400, ['identity', 'permutation', 'affine', 'grelu', 'rank-1']));
    const out = join(dir, 'g1');
    const cache = join(dir, 'cache-graceful');
    const memos = (): string[] => (existsSync(join(cache, 'cache')) ? readdirSync(join(cache, 'cache')).filter((f) => readFileSync(join(cache, 'cache', f), 'utf8').includes('"stitch-cell"')) : []);
    const s = await stopWhen(['reproduce', '--config', cfg, '--out', out, '--cache', cache, '--workers', '2'], () => memos().length >= 2, 'SIGTERM', 300);
    expect(s.code, s.stderr).toBe(143);
    expect(s.latency, s.stderr).toBeLessThan(5);
    expect(s.stderr).not.toMatch(/still running/);
    expect(s.stderr).toMatch(/stitching was interrupted in pair 0-1 after 2 of its 10 stitches \(0 of 3 pairs finished\)/);
    expect(s.stderr).toMatch(/stitching \(affine\) at layers\.\d was interrupted while training the stitching layer \(after training step \d+\)/);
    expect(memos()).toHaveLength(2);
    // a rerun with the same settings starts from the two finished stitches (their memo files are
    // read, not rewritten) and is stopped in the third one again (8 s leaves time to load the data)
    const before = new Map(memos().map((f) => [f, statSync(join(cache, 'cache', f)).mtimeMs]));
    const s2 = await stopWhen(['reproduce', '--config', cfg, '--out', join(dir, 'g2'), '--cache', cache, '--workers', '2'], (e) => /models trained 3\/3/.test(e), 'SIGTERM', 8000);
    expect(s2.code, s2.stderr).toBe(143);
    expect(s2.stderr).toMatch(/after 2 of its 10 stitches/);
    expect(s2.stderr).not.toMatch(/still running/);
    for (const [f, t] of before) expect(statSync(join(cache, 'cache', f)).mtimeMs).toBe(t);
  }, 300_000);

  it('SIGTERM while models train stops within seconds and keeps their checkpoints', async () => {
    const cfg = join(dir, 'train.json');
    writeFileSync(cfg, config(1, ['affine', 'grelu', 'rank-1']).replace('"epochs":1,"batchSize"', '"epochs":100,"batchSize"'));
    const cache = join(dir, 'cache-train');
    const s = await stopWhen(['reproduce', '--config', cfg, '--out', join(dir, 'e3'), '--cache', cache, '--workers', '2'], () => checkpointed(cache), 'SIGTERM', 500);
    expect(s.latency, s.stderr).toBeLessThan(8);
    expect(s.code, s.stderr).toBe(143);
    const models = join(cache, 'models');
    const ckpts = readdirSync(models).flatMap((k) => readdirSync(join(models, k)).filter((f) => f.startsWith('step-')));
    expect(ckpts.length).toBeGreaterThan(0);
    expect(readdirSync(models).filter((k) => existsSync(join(models, k, '.basis.lock')))).toEqual([]);
  }, 300_000);
});
