import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, mkdir, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { isBasisError } from '@basis/tensor';
import { LOCK_FILE, setLockNoticeHandler } from '@basis/tensor/node';
import { CHECKPOINT_FILES, checkpointFromSnapshot, crc32Hex, decodeCheckpoint, encodeCheckpoint } from './checkpoint.js';
import type { TrainOptions, TrainSnapshot } from './loop.js';
import { train } from './loop.js';
import { checkpointDirName, checkpointWriter, findLatestCheckpoint, listCheckpoints, loadCheckpoint, saveCheckpoint, trainResumable, type TrainResumableOptions } from './node.js';
import { bitEqual, blobData, disposeParams, mlpLoss, mlpParams, values } from './test-helpers.js';

let root: string;
let blobs: ReturnType<typeof blobData>;
let dirCount = 0;
const newDir = (): string => join(root, `run-${dirCount++}`);

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'basis-train-'));
  blobs = blobData(96, 4, 3, 5);
});

afterAll(async () => {
  blobs.dispose();
  await rm(root, { recursive: true, force: true });
});

const GRAPH = { kind: 'mlp', sizes: [4, 8, 3], activation: 'relu' };

function options(params: ReturnType<typeof mlpParams>, over: Partial<TrainResumableOptions> = {}): TrainResumableOptions {
  return {
    params,
    lossFn: mlpLoss,
    data: blobs.data,
    epochs: 3,
    batchSize: 16,
    optimizer: { kind: 'adam', lr: 0.01, clipNorm: 1 },
    schedule: { kind: 'cosine', warmup: { steps: 3 } },
    seed: 11,
    runDir: newDir(),
    graph: GRAPH,
    checkpoints: { at: [0, 0.25, 0.5] },
    ...over,
  };
}

/** The `train` options of {@link options} (without the run-directory extras). */
function trainOptions(params: ReturnType<typeof mlpParams>, over: Partial<TrainOptions> = {}): TrainOptions {
  const { runDir: _r, graph: _g, checkpoints: _c, onSave: _s, meta: _m, ...rest } = options(params);
  return { ...rest, ...over } as TrainOptions;
}

async function expectCode(p: Promise<unknown>, code: string, msg?: RegExp | string): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect(isBasisError(e)).toBe(true);
    expect((e as { code: string }).code).toBe(code);
    if (msg !== undefined) expect((e as Error).message).toMatch(msg);
    return;
  }
  throw new Error(`expected a BasisError ${code}`);
}

describe('checkpoint files', () => {
  it('round trip is exact: parameters, optimizer state and manifest', async () => {
    const params = mlpParams(4, 8, 3, 1);
    const opts = options(params);
    const r = await trainResumable(opts);
    expect(r.resumedFrom).toBeNull();
    const entries = await listCheckpoints(opts.runDir);
    // 6 steps per epoch: 0, 0.25 -> 2 (rounded 1.5), 0.5 -> 3, then 6, 12, 18
    expect(entries.map((e) => e.step)).toEqual([0, 2, 3, 6, 12, 18]);
    expect(entries.at(-1)!.path).toBe(join(opts.runDir, checkpointDirName(18)));
    const ckpt = await loadCheckpoint(entries.at(-1)!.path);
    const live = values(params);
    for (const [k, v] of ckpt.params) expect(bitEqual({ k: v.data as Float32Array }, { k: live[k]! })).toBe(true);
    expect([...ckpt.params.keys()].sort()).toEqual(Object.keys(params).sort());
    expect(ckpt.optimizer!.step).toBe(18);
    expect([...ckpt.optimizer!.slots.keys()]).toEqual([...r.optimizer.slots.keys()]);
    for (const [k, v] of r.optimizer.slots) expect(Array.from(ckpt.optimizer!.slots.get(k)!.data as Float32Array)).toEqual(Array.from(v.data as Float32Array));
    const m = ckpt.manifest;
    expect(m.format).toBe('basis-checkpoint');
    expect(m.step).toBe(18);
    expect(m.epoch).toBe(3);
    expect(m.seed).toBe(11);
    expect(m.graph).toEqual(GRAPH);
    expect(m.backend).toBe('cpu');
    expect(m.packages['@tensorflow/tfjs-core']).toBe(tf.version_core);
    expect(m.packages['@basis/zoo']).toMatch(/^\d+\.\d+\.\d+/);
    expect(m.training!.optimizer).toEqual({ kind: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, clipNorm: 1 });
    expect(m.training!.schedule).toMatchObject({ kind: 'cosine', totalSteps: 18 });
    expect(m.history).toHaveLength(3);
    expect(m.state.rng.s).toHaveLength(4);
    const early = await loadCheckpoint(entries[1]!.path);
    expect(early.manifest.reasons).toEqual(['fraction']);
    expect(early.manifest.epoch).toBeCloseTo(2 / 6, 12);
    // no temporary leftovers
    expect((await readdir(opts.runDir)).filter((n) => n.startsWith('.'))).toEqual([]);
    disposeParams(params);
  });

  it('encode/decode in memory is exact and CRC-32 is the standard one', async () => {
    expect(crc32Hex(new TextEncoder().encode('123456789'))).toBe('cbf43926');
    const params = mlpParams(4, 8, 3, 2);
    let snap: TrainSnapshot | undefined;
    await train(trainOptions(params, { checkpoints: { everyEpoch: false, save: (s) => { snap = s; } }, epochs: 1 }));
    const ckpt = checkpointFromSnapshot(snap!, { graph: GRAPH, meta: { note: 'x' } });
    const files = encodeCheckpoint(ckpt);
    const back = decodeCheckpoint(files);
    expect(back.manifest.meta).toEqual({ note: 'x' });
    expect(back.manifest.state).toEqual(snap!.state);
    for (const [k, v] of snap!.params) expect(back.params.get(k)).toEqual(v);
    for (const [k, v] of snap!.optimizer.slots) expect(back.optimizer!.slots.get(k)).toEqual(v);
    disposeParams(params);
  });

  it('saving over an existing checkpoint replaces it atomically', async () => {
    const dir = join(newDir(), 'step-000000001');
    const params = mlpParams(4, 8, 3, 3);
    let snap: TrainSnapshot | undefined;
    await train(trainOptions(params, { maxSteps: 1, checkpoints: { everyEpoch: false, save: (s) => { snap = s; } } }));
    await saveCheckpoint(dir, checkpointFromSnapshot(snap!, { meta: { v: 1 } }));
    await saveCheckpoint(dir, checkpointFromSnapshot(snap!, { meta: { v: 2 } }));
    expect((await loadCheckpoint(dir)).manifest.meta).toEqual({ v: 2 });
    expect((await readdir(join(dir, '..'))).sort()).toEqual(['step-000000001']);
    disposeParams(params);
  });
});

describe('resume', () => {
  it('an interrupted run that resumes ends with bit-identical weights and history', async () => {
    const full = mlpParams(4, 8, 3, 1);
    const a = await trainResumable(options(full));

    const runDir = newDir();
    const part = mlpParams(4, 8, 3, 1);
    const ctl = new AbortController();
    const first = await trainResumable(
      options(part, { runDir, signal: ctl.signal, onProgress: (e) => { if (e.kind === 'step' && e.step === 8) ctl.abort(); } }),
    );
    expect(first.stopped).toBe('aborted');
    expect(first.state.step).toBe(8);
    // the abort checkpoint is on disk
    const latest = await findLatestCheckpoint(runDir);
    expect(latest!.checkpoint.manifest.step).toBe(8);
    expect(latest!.checkpoint.manifest.reasons).toEqual(['abort']);
    disposeParams(part);

    // a new process: fresh variables with another initialisation, restored from the run directory
    const again = mlpParams(4, 8, 3, 99);
    const second = await trainResumable(options(again, { runDir }));
    expect(second.resumedFrom).toBe(join(runDir, checkpointDirName(8)));
    expect(second.stopped).toBe('completed');
    expect(bitEqual(values(full), values(again))).toBe(true);
    expect(second.epochs.map((e) => e.loss)).toEqual(a.epochs.map((e) => e.loss));
    expect((await listCheckpoints(runDir)).map((e) => e.step)).toEqual([0, 2, 3, 6, 8, 12, 18]);

    // resuming a finished run does nothing
    const third = await trainResumable(options(again, { runDir }));
    expect(third.steps).toHaveLength(0);
    expect(bitEqual(values(full), values(again))).toBe(true);
    disposeParams(full);
    disposeParams(again);
  });

  it('skips a damaged latest checkpoint and still reproduces the uninterrupted run', async () => {
    const full = mlpParams(4, 8, 3, 1);
    await trainResumable(options(full));
    const runDir = newDir();
    const part = mlpParams(4, 8, 3, 1);
    await trainResumable(options(part, { runDir, maxSteps: 12 }));
    // a crash while writing step 12 (simulated: its model file is cut short)
    await truncate(join(runDir, checkpointDirName(12), CHECKPOINT_FILES.params), 100);
    // and a stale temporary directory of an interrupted write
    await mkdir(join(runDir, '.step-000000013.tmp-abcdef012345'));
    const r = await trainResumable(options(part, { runDir }));
    expect(r.resumedFrom).toBe(join(runDir, checkpointDirName(6)));
    expect(r.skipped.map((s) => s.path)).toEqual([join(runDir, checkpointDirName(12))]);
    expect(r.skipped[0]!.error).toMatch(/model.safetensors has 100 bytes but the manifest records/);
    expect(bitEqual(values(full), values(part))).toBe(true);
    expect((await readdir(runDir)).filter((n) => n.startsWith('.'))).toEqual([]);
    disposeParams(full);
    disposeParams(part);
  });

  it('refuses to resume with another configuration or seed', async () => {
    const params = mlpParams(4, 8, 3, 1);
    const runDir = newDir();
    await trainResumable(options(params, { runDir, maxSteps: 2 }));
    await expectCode(trainResumable(options(params, { runDir, optimizer: { kind: 'adam', lr: 0.02, clipNorm: 1 } })), 'CONFIG_INVALID', /trainResumable.optimizer differs from the run/);
    await expectCode(trainResumable(options(params, { runDir, batchSize: 8 })), 'CONFIG_INVALID', /trainResumable.batchSize differs/);
    await expectCode(trainResumable(options(params, { runDir, seed: 12 })), 'CONFIG_INVALID', /trainResumable.seed is 12 but the run .* uses seed 11/);
    disposeParams(params);
  });

  it('a run directory written by another process is refused at once (IO naming it); a dead holder is taken over', async () => {
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    try {
      const dir = newDir();
      await mkdir(dir);
      const lock = { pid: other.pid, host: hostname(), started: '2026-12-07T00:00:00.000Z', command: 'basis train --out x', token: 'cd'.repeat(16) };
      await writeFile(join(dir, LOCK_FILE), JSON.stringify(lock));
      const params = mlpParams(4, 8, 3, 1);
      await expectCode(trainResumable(options(params, { runDir: dir })), 'IO', `PID ${other.pid} on ${hostname()}`);
      expect(await listCheckpoints(dir)).toEqual([]);
      other.kill();
      await new Promise((r) => other.once('exit', r));
      const notices: string[] = [];
      setLockNoticeHandler((l) => notices.push(l));
      const r = await trainResumable(options(params, { runDir: dir }));
      expect(r.stopped).toBe('completed');
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatch(/took over the lock .* no longer running/);
      expect(await readdir(dir)).not.toContain(LOCK_FILE);
      disposeParams(params);
    } finally {
      other.kill();
      setLockNoticeHandler((l) => process.stderr.write(`basis: ${l}\n`));
    }
  });

  it('a fork gets its own run directory, starting with a checkpoint at the spawn step', async () => {
    const shared = mlpParams(4, 8, 3, 1);
    const base = await trainResumable(options(shared, { maxSteps: 4 }));
    const forkDir = newDir();
    const p = mlpParams(4, 8, 3, 1);
    tf.tidy(() => { for (const [k, v] of Object.entries(shared)) p[k]!.assign(v); });
    const ctl = new AbortController();
    const start = { state: base.state, optimizer: base.optimizer };
    await trainResumable(options(p, { runDir: forkDir, seed: 21, start, signal: ctl.signal, onProgress: (e) => { if (e.kind === 'step' && e.step === 9) ctl.abort(); } }));
    const steps = (await listCheckpoints(forkDir)).map((e) => e.step);
    expect(steps).toEqual([4, 6, 9]);
    expect((await loadCheckpoint(join(forkDir, checkpointDirName(4)))).manifest.reasons).toEqual(['start']);
    await trainResumable(options(p, { runDir: forkDir, seed: 21, start }));
    // the same fork without interruption
    const q = mlpParams(4, 8, 3, 1);
    tf.tidy(() => { for (const [k, v] of Object.entries(shared)) q[k]!.assign(v); });
    await trainResumable(options(q, { seed: 21, start }));
    expect(bitEqual(values(p), values(q))).toBe(true);
    for (const x of [shared, p, q]) disposeParams(x);
  });
});

describe('damaged and missing checkpoints', () => {
  let good: string;
  beforeAll(async () => {
    const params = mlpParams(4, 8, 3, 1);
    const runDir = newDir();
    await train(trainOptions(params, { maxSteps: 2, checkpoints: { everyEpoch: false, save: checkpointWriter(runDir, { graph: GRAPH }) } }));
    good = join(runDir, checkpointDirName(2));
    disposeParams(params);
  });

  async function damaged(edit: (dir: string) => Promise<void>): Promise<string> {
    const dir = join(newDir(), 'step-000000002');
    await mkdir(dir, { recursive: true });
    for (const f of Object.values(CHECKPOINT_FILES)) await writeFile(join(dir, f), await readFile(join(good, f)));
    await edit(dir);
    return dir;
  }

  it('a missing directory is IO with the path', async () => {
    const missing = join(root, 'nope', 'step-000000001');
    await expectCode(loadCheckpoint(missing), 'IO', missing);
  });

  it('truncated, corrupt, missing or mismatched files are BAD_FILE', async () => {
    const cases: [string, (dir: string) => Promise<void>, RegExp][] = [
      ['truncated model', (d) => truncate(join(d, CHECKPOINT_FILES.params), 50), /model.safetensors has 50 bytes/],
      ['flipped byte', async (d) => {
        const p = join(d, CHECKPOINT_FILES.params);
        const b = await readFile(p);
        b[b.length - 3]! ^= 0xff;
        await writeFile(p, b);
      }, /model.safetensors has CRC-32 [0-9a-f]{8} but the manifest records/],
      ['truncated optimizer', (d) => truncate(join(d, CHECKPOINT_FILES.optimizer), 9), /optimizer.safetensors has 9 bytes/],
      ['missing optimizer', (d) => rm(join(d, CHECKPOINT_FILES.optimizer)), /incomplete checkpoint: optimizer file '.*optimizer.safetensors' is missing/],
      ['missing manifest', (d) => rm(join(d, CHECKPOINT_FILES.manifest)), /incomplete checkpoint: manifest '.*manifest.json' is missing/],
      ['truncated manifest', async (d) => {
        const p = join(d, CHECKPOINT_FILES.manifest);
        await writeFile(p, (await readFile(p, 'utf8')).slice(0, 200));
      }, /manifest is not valid JSON/],
      ['bad manifest field', async (d) => {
        const p = join(d, CHECKPOINT_FILES.manifest);
        const m = JSON.parse(await readFile(p, 'utf8')) as { state: { batchInEpoch: number } };
        m.state.batchInEpoch = -1;
        await writeFile(p, JSON.stringify(m));
      }, /manifest field state.batchInEpoch must be an integer >= 0, got -1/],
      ['wrong format', async (d) => {
        const p = join(d, CHECKPOINT_FILES.manifest);
        await writeFile(p, JSON.stringify({ format: 'other' }));
      }, /manifest format is "other"/],
    ];
    for (const [name, edit, msg] of cases) {
      const dir = await damaged(edit);
      try {
        await loadCheckpoint(dir);
        throw new Error(`${name}: no error`);
      } catch (e) {
        expect(isBasisError(e), name).toBe(true);
        expect((e as { code: string }).code, name).toBe('BAD_FILE');
        expect((e as Error).message, name).toMatch(msg);
        expect((e as Error).message, name).toContain(dir);
      }
    }
  });

  it('findLatestCheckpoint returns null for an empty or absent run directory', async () => {
    expect(await findLatestCheckpoint(join(root, 'absent'))).toBeNull();
    const empty = newDir();
    await mkdir(empty);
    expect(await findLatestCheckpoint(empty)).toBeNull();
  });
});
