// The model commands on the real binary with tiny models: train (two seeds in parallel, resume,
// config files), eval (clean and OOD), activations -> compare --layers, symmetry check / apply, and
// the error codes for bad configs and missing or corrupt checkpoints.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadCheckpoint, loadModel, writeIdxFile } from '@basis/zoo/node';
import { ProgressBars } from './progress.js';
import { BIN, basis } from './test-helpers.js';
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
    expect(usage.stderr).toMatch(/--arch must be one of mlp, resmlp, minimyrtle, resnet, cnn, transformer/);
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

/** Parameters of a checkpoint or run directory, by name. */
async function weights(path: string): Promise<Record<string, Float32Array>> {
  const m = await loadModel(path);
  return Object.fromEntries(Object.entries(m.params).map(([k, v]) => [k, v.data as Float32Array]));
}

describe('basis train: IDX files, modular addition, spawning', () => {
  it('--data idx:TRAIN_IMAGES,TRAIN_LABELS,TEST_IMAGES,TEST_LABELS trains on tiny generated files', async () => {
    // 8x8 images: class 0 bright on the left half, class 1 on the right, with seeded noise
    const make = (n: number, seed: number): { images: Uint8Array; labels: Uint8Array } => {
      const images = new Uint8Array(n * 64);
      const labels = new Uint8Array(n);
      let s = seed;
      for (let i = 0; i < n; i++) {
        labels[i] = i % 2;
        for (let p = 0; p < 64; p++) {
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
          const bright = (p % 8 < 4) === (i % 2 === 0);
          images[i * 64 + p] = (bright ? 150 : 30) + (s >>> 26);
        }
      }
      return { images, labels };
    };
    const files: string[] = [];
    for (const [name, n, seed, gzip] of [['train', 300, 1, true], ['test', 100, 2, false]] as const) {
      const { images, labels } = make(n, seed);
      const im = join(dir, `${name}-images${gzip ? '.gz' : ''}`);
      const lb = join(dir, `${name}-labels${gzip ? '.gz' : ''}`);
      await writeIdxFile(im, { dtype: 'uint8', shape: [n, 8, 8], data: images }, { gzip });
      await writeIdxFile(lb, { dtype: 'uint8', shape: [n], data: labels }, { gzip });
      files.push(im, lb);
    }
    const out = join(dir, 'idx');
    const r = await basis('train', '--arch', 'mlp', '--width', '8', '--depth', '1', '--data', `idx:${files.join(',')},source=idx`, '--epochs', '3', '--batch-size', '32', '--out', out, '--json', '--quiet');
    expect(r.code, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as TrainOut & { config: { data: unknown } };
    expect(o.config.data).toEqual({ dataset: 'idx', source: 'idx', train: { images: files[0], labels: files[1] }, test: { images: files[2], labels: files[3] } });
    expect(o.runs[0]!.testAccuracy).toBeGreaterThan(0.9);
    // eval reloads the same files from the manifest
    const ev = await basis('eval', join(out, 'seed-0'), '--json', '--quiet');
    expect(ev.code, ev.stderr).toBe(0);
    expect((JSON.parse(ev.stdout) as { results: { n: number; accuracy: number }[] }).results[0]).toMatchObject({ n: 100, accuracy: o.runs[0]!.testAccuracy });
    // a bad spec and a missing file
    const [bad, missing] = await Promise.all([
      basis('train', '--data', 'idx:a,b,c', '--out', join(dir, 'idx-bad')),
      basis('train', '--data', `idx:${join(dir, 'nope.gz')},${files[1]}`, '--out', join(dir, 'idx-missing')),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--data idx: needs a folder, or 2 files/);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/\[IO\].*nope\.gz/);
  });

  it('--arch transformer --data modadd: tokens and vocabulary from the data; an MLP gets one-hot pairs', async () => {
    const out = join(dir, 'modadd');
    const [t, m, wrong] = await Promise.all([
      basis('train', '--arch', 'transformer', '--width', '16', '--data', 'modadd:p=7,trainFraction=0.5', '--epochs', '1', '--batch-size', '8', '--out', join(out, 't'), '--json', '--quiet'),
      basis('train', '--arch', 'mlp', '--width', '16', '--depth', '1', '--data', 'modadd:p=7', '--epochs', '1', '--batch-size', '8', '--out', join(out, 'm'), '--json', '--quiet'),
      basis('train', '--arch', 'transformer', '--dataset', 'mnist', '--out', join(out, 'x')),
    ]);
    expect(t.code, t.stderr).toBe(0);
    const tm = JSON.parse(readFileSync(join(out, 't', 'seed-0', 'manifest.json'), 'utf8')) as { graph: { name: string; tokens: { vocab: number } }; meta: { data: unknown; model: unknown } };
    expect(tm.graph.tokens.vocab).toBe(8);
    expect(tm.meta.data).toEqual({ dataset: 'modadd', p: 7, trainFraction: 0.5, encoding: 'tokens' });
    expect(m.code, m.stderr).toBe(0);
    expect((JSON.parse(m.stdout) as { config: { data: unknown } }).config.data).toEqual({ dataset: 'modadd', p: 7, encoding: 'onehot' });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/the transformer trains on token data: use --data modadd/);
  });

  it('--spawn-steps: one trunk, children identical to it at step k, different after, reproducible', async () => {
    const args = ['train', ...TINY, '--seeds', '1,2', '--spawn-steps', '7'];
    const out = join(dir, 'spawn');
    const r = await basis(...args, '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/spawned from a shared trunk of 7 steps/);
    expect(readdirSync(join(out, 'trunk'))).toEqual(['step-000000007']);
    const trunk = await loadCheckpoint(join(out, 'trunk', 'step-000000007'));
    const kids = await Promise.all([1, 2].map((s) => loadCheckpoint(join(out, `seed-${s}`, 'step-000000007'))));
    for (const k of kids) for (const [name, a] of trunk.params) expect(k.params.get(name)!.data).toEqual(a.data);
    const [w1, w2] = await Promise.all([weights(join(out, 'seed-1')), weights(join(out, 'seed-2'))]);
    expect(w1['layers.0.weight']).not.toEqual(w2['layers.0.weight']);
    // the same command into another folder gives the same children; --resume of a finished spawn changes nothing
    const again = join(dir, 'spawn-again');
    const [r2, r3] = await Promise.all([basis(...args, '--out', again, '--quiet'), basis(...args, '--out', out, '--resume', '--json', '--quiet')]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r3.code, r3.stderr).toBe(0);
    expect(await weights(join(again, 'seed-2'))).toEqual(w2);
    expect(await weights(join(out, 'seed-1'))).toEqual(w1);
    const cfg = join(dir, 'spawn.json');
    writeFileSync(cfg, JSON.stringify({ spawnSteps: 0 }));
    const bad = await basis('train', ...TINY, '--config', cfg, '--out', join(dir, 'spawn-bad'));
    expect(bad.stderr).toMatch(/\[CONFIG_INVALID\]: config\.spawnSteps must be a positive integer/);
    const late = await basis(...args.slice(0, -1), '1000', '--out', join(dir, 'spawn-late'));
    expect(late.stderr).toMatch(/\[CONFIG_INVALID\]: spawnSteps is 1000 but each run has only 38 steps/);
  });
});

describe('basis train: Ctrl-C and resume', () => {
  it('SIGINT after the first checkpoint stops cleanly (exit 130, checkpoints intact); --resume ends bit-identical to an uninterrupted run', async () => {
    const args = ['train', '--arch', 'mlp', '--width', '64', '--depth', '2', '--dataset', 'mnist', '--epochs', '4', '--batch-size', '32', '--checkpoints', '0.02', '--json'];
    const out = join(dir, 'sigint');
    const child = spawn(process.execPath, [BIN, ...args, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exit = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const run = join(out, 'seed-0');
    const t0 = Date.now();
    while (!(existsSync(run) && readdirSync(run).some((n) => /^step-\d+$/.test(n)))) {
      if (Date.now() - t0 > 120_000 || child.exitCode !== null) throw new Error(`no checkpoint appeared: ${stderr}`);
      await new Promise((res) => setTimeout(res, 25));
    }
    child.kill('SIGINT');
    const code = await exit;
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/interrupted: stopping after the current step/);
    const steps = readdirSync(run).filter((n) => /^step-\d+$/.test(n));
    expect(steps.length).toBeGreaterThanOrEqual(2); // the 0.02-epoch checkpoint and the abort checkpoint
    for (const s of steps) await loadCheckpoint(join(run, s)); // every written checkpoint verifies
    expect(existsSync(join(run, 'model.safetensors'))).toBe(false); // not finished
    // the write locks of OUT and of the run directory were released on the way out
    expect(readdirSync(out).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(readdirSync(run).filter((n) => n.startsWith('.'))).toEqual([]);
    const last = await loadCheckpoint(join(run, steps.at(-1)!));
    expect(last.manifest.step).toBeLessThan(4 * 250);
    // resume, and an uninterrupted run for comparison
    const [resumed, full] = await Promise.all([basis(...args, '--out', out, '--resume', '--quiet'), basis(...args, '--out', join(dir, 'sigint-full'), '--quiet')]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(full.code, full.stderr).toBe(0);
    expect((JSON.parse(resumed.stdout) as TrainOut).runs[0]!.resumedFrom).toMatch(/step-\d+$/);
    expect(await weights(run)).toEqual(await weights(join(dir, 'sigint-full', 'seed-0')));
  });

  it('SIGTERM releases the lock; after kill -9 the stale lock is taken over with one notice and --resume continues', async () => {
    const args = ['train', '--arch', 'mlp', '--width', '16', '--depth', '1', '--dataset', 'mnist', '--train-size', '2000', '--test-size', '200', '--epochs', '6', '--batch-size', '32', '--checkpoints', '0.02'];
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      const out = join(dir, `kill-${signal}`);
      const child = spawn(process.execPath, [BIN, ...args, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exit = new Promise<NodeJS.Signals | null>((res) => child.on('exit', (_c, s) => res(s)));
      const run = join(out, 'seed-0');
      const t0 = Date.now();
      while (!(existsSync(run) && readdirSync(run).some((n) => /^step-\d+$/.test(n)))) {
        if (Date.now() - t0 > 120_000 || child.exitCode !== null) throw new Error(`no checkpoint appeared: ${stderr}`);
        await new Promise((res) => setTimeout(res, 25));
      }
      child.kill(signal);
      expect(await exit).toBe(signal);
      const locks = [out, run].filter((d) => existsSync(join(d, '.basis.lock')));
      if (signal === 'SIGTERM') expect(locks, stderr).toEqual([]);
      else expect(locks).toContain(out); // kill -9 leaves its lock behind
      const again = await basis(...args, '--out', out, '--resume', '--json');
      expect(again.code, again.stderr).toBe(0);
      const notices = again.stderr.split('\n').filter((l) => /took over the lock/.test(l));
      expect(notices.length, again.stderr).toBe(signal === 'SIGKILL' ? locks.length : 0);
      if (signal === 'SIGKILL') expect(notices[0]).toMatch(new RegExp(`basis: took over the lock of '.*' left by a process that is no longer running \\(PID ${child.pid} on `));
      expect(readdirSync(out).filter((n) => n.startsWith('.'))).toEqual([]);
      await loadCheckpoint(join(run, readdirSync(run).filter((n) => /^step-\d+$/.test(n)).at(-1)!));
    }
  }, 300_000);
});

/** A writable that records what is written, optionally pretending to be a terminal. */
function sink(tty: boolean): Writable & { text: string; isTTY?: boolean; columns?: number } {
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      w.text += chunk.toString();
      cb();
    },
  }) as Writable & { text: string; isTTY?: boolean; columns?: number };
  w.text = '';
  if (tty) {
    w.isTTY = true;
    w.columns = 60;
  }
  return w;
}

describe('progress bars', () => {
  it('on a terminal: bars redrawn in place (cursor up, clear line), clipped to the width; log lines above them', () => {
    const out = sink(true);
    const bars = new ProgressBars(out, true, 10);
    bars.update('seed 0', { done: 0, total: 4, detail: 'starting' });
    bars.update('seed 1', { done: 4, total: 4, detail: 'x'.repeat(100) }); // done: drawn at once
    bars.log('seed 1: epoch 1/1');
    bars.finish();
    expect(out.text).toContain('\x1b[2Kseed 0 ░░░░░░░░░░   0% starting');
    expect(out.text).toContain('seed 1 ██████████ 100% xxx');
    expect(out.text).toContain('\x1b[2A'); // moved up over the two bars
    expect(out.text).toContain('seed 1: epoch 1/1\n');
    const ESC = String.fromCharCode(27);
    for (const line of out.text.split('\n')) expect(line.split(ESC).map((p) => p.replace(/^\[\d*[AK]/, '')).join('').length).toBeLessThan(60);
  });
  it('off a terminal (pipes, logs) and with --json: only plain log lines; --quiet: nothing', () => {
    const pipe = sink(false);
    const json = sink(true);
    const quiet = sink(true);
    for (const [out, bars] of [
      [pipe, new ProgressBars(pipe, true)],
      [json, new ProgressBars(json, true, 24, false)],
      [quiet, new ProgressBars(quiet, false)],
    ] as const) {
      bars.update('seed 0', { done: 1, total: 2, detail: 'loss 0.5' });
      bars.update('seed 0', { done: 2, total: 2, detail: 'loss 0.4' });
      bars.log('seed 0: epoch 1/1');
      bars.finish();
      expect(out.text.includes(String.fromCharCode(27)) || out.text.includes('█')).toBe(false);
    }
    expect(pipe.text).toBe('seed 0: epoch 1/1\n');
    expect(json.text).toBe('seed 0: epoch 1/1\n');
    expect(quiet.text).toBe('');
  });
});

describe('basis train flags are parsed at the door, each by its schema in the declaration', () => {
  it('a bad value is a USAGE error naming the flag, before OUT is created', async () => {
    const out = join(dir, 'never');
    const cases: [string[], RegExp][] = [
      [['--epochs', '0'], /--epochs must be an integer >= 1, got '0'/],
      [['--batch-size', 'x'], /--batch-size must be an integer >= 1, got 'x'/],
      [['--lr', '0'], /--lr must be a number > 0, got '0'/],
      [['--weight-decay', '-1'], /--weight-decay must be a number >= 0, got '-1'/],
      [['--optimizer', 'rmsprop'], /--optimizer must be one of sgd, adam, adamw, got 'rmsprop'/],
      [['--checkpoints', '0,x'], /--checkpoints must be a number >= 0, got 'x'/],
      [['--train-size', '5'], /--train-size must be an integer >= 10, got '5'/],
      [['--workers', '0'], /--workers must be an integer >= 1, got '0'/],
      [['--spawn-steps', '1.5'], /--spawn-steps must be an integer >= 1, got '1\.5'/],
      [['--width', '64,,2'], /--width '64,,2' has an empty entry at position 2/],
      [['--arch', 'resmlp', '--width', '64,32'], /--width takes one number for resmlp; lists such as 64,32 are for mlp, resnet, cnn/],
      [['--activation', 'nope'], /--activation must be one of relu, leaky_relu, .*, got 'nope'/],
      [['--dataset', 'cifar'], /--dataset must be one of mnist, fashion, idx, modadd, gaussian, got 'cifar'/],
      [['--data', 'cifar'], /--data must start with one of mnist, fashion, idx, modadd, gaussian, got 'cifar'/],
      [['--data', 'modadd:p=59', '--dataset', 'mnist'], /give --data or --dataset, not both/],
      [['--seeds', '1,,2'], /--seeds\[1\] must be a non-negative integer or a name, got "" \(e\.g\. --seeds 0,1,2\)/],
    ];
    const results = await Promise.all(cases.map(([flags]) => basis('train', ...flags, '--out', out)));
    results.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^basis: error \[USAGE\]: /);
      expect(r.stderr).toMatch(cases[i]![1]);
    });
    expect(existsSync(out)).toBe(false);
  });
});
