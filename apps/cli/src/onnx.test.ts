// ONNX files through the real binary: every command that takes a MODEL reads model.onnx with no
// --arch (eval, activations, symmetry check/apply, match, interpolate, llfc, stitch, degeneracy),
// `basis export` writes onnx, pt and safetensors that load back (and, when Debian's python3-torch
// is there, into the original PyTorch module with strict=True), and its usage errors.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpy } from '@basis/tensor';
import { readArrayFile } from '@basis/tensor/node';
import { fixturePath } from '@basis/test-utils';
import { basis } from './test-helpers.js';

const exec = promisify(execFile);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'basis-cli-onnx-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const file = (name: string): string => fixturePath(`models/pytorch/${name}`);

describe('basis on ONNX files', () => {
  it('eval, symmetry check and activations read model.onnx without --arch', async () => {
    const ev = await basis('eval', file('cnn-bn.onnx'), '--n', '50', '--json');
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stderr).toMatch(/onnx: pytorch 1\.13.*\d+ ONNX nodes/);
    expect((JSON.parse(ev.stdout) as { results: { n: number }[] }).results[0]!.n).toBe(50);
    const chk = await basis('symmetry', 'check', file('rescnn.onnx'), '--inputs', '16', '--json', '--quiet');
    expect(chk.code, chk.stderr).toBe(0);
    expect((JSON.parse(chk.stdout) as { report: { ok: boolean } }).report.ok).toBe(true);
    const acts = join(dir, 'acts');
    const ac = await basis('activations', file('mlp.onnx'), '--n', '20', '--out', acts, '--quiet');
    expect(ac.code, ac.stderr).toBe(0);
    expect((await readdir(acts)).filter((f) => f.endsWith('.npy')).length).toBeGreaterThan(1);
    const bad = await basis('eval', file('mlp.onnx'), '--arch', 'mlp');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/\.onnx file holds its own graph/);
  }, 240_000);

  it('a planted permutation of an ONNX model is recovered by match, with no barrier on the path back', async () => {
    const perm = join(dir, 'perm');
    const ap = await basis('symmetry', 'apply', file('cnn.onnx'), '--scale-sigma', '0', '--seed', '3', '--out', perm, '--quiet');
    expect(ap.code, ap.stderr).toBe(0);
    const aligned = join(dir, 'aligned');
    const m = await basis('match', file('cnn.onnx'), perm, '--n', '20', '--out', aligned, '--json', '--quiet');
    expect(m.code, m.stderr).toBe(0);
    expect((JSON.parse(m.stdout) as { functionalError: number }).functionalError).toBeLessThan(1e-5);
    const ip = await basis('interpolate', file('cnn.onnx'), aligned, '--match', 'none', '--repair', 'none', '--points', '5', '--n', '50', '--json', '--quiet');
    expect(ip.code, ip.stderr).toBe(0);
    const rec = (JSON.parse(ip.stdout) as { records: { naive: { barrier: { loss: { maxMinusMean: number } } } } }).records.naive;
    expect(rec.barrier.loss.maxMinusMean).toBeLessThan(1e-3);
  }, 240_000);

  it('llfc, stitch and degeneracy run on ONNX models', async () => {
    const ll = await basis('llfc', file('mlp.onnx'), file('mlp.onnx'), '--match', 'none', '--n', '50', '--json', '--quiet');
    expect(ll.code, ll.stderr).toBe(0);
    const st = await basis('stitch', file('mlp.onnx'), file('mlp.onnx'), '--layer', '1', '--kind', 'identity', '--epochs', '1', '--n', '50', '--json', '--quiet');
    expect(st.code, st.stderr).toBe(0);
    const dg = await basis('degeneracy', file('mlp.onnx'), '--data', 'gaussian:64', '--eps', '1e-2', '--json', '--quiet');
    expect(dg.code, dg.stderr).toBe(0);
  }, 240_000);

  it('export: onnx, pt and safetensors of an ONNX model, a checkpoint and an export read back to the same logits', async () => {
    const outs: Record<string, string> = {};
    for (const format of ['onnx', 'pt', 'safetensors']) {
      const out = join(dir, `mlp-out.${format}`);
      const r = await basis('export', file('mlp.onnx'), '--format', format, '--out', out, '--json');
      expect(r.code, r.stderr).toBe(0);
      const res = JSON.parse(r.stdout) as { format: string; out: string; parameters: number; tensors: number };
      expect(res).toMatchObject({ format, out, parameters: 12894, tensors: 6 });
      outs[format] = out;
    }
    // the exported ONNX evaluates like the original; the state_dicts load with the architecture
    const e1 = await basis('eval', file('mlp.onnx'), '--n', '100', '--json', '--quiet');
    const e2 = await basis('eval', outs['onnx']!, '--n', '100', '--json', '--quiet');
    const e3 = await basis('eval', outs['pt']!, '--arch', 'mlp', '--width', '16,12', '--n', '100', '--json', '--quiet');
    for (const e of [e1, e2, e3]) expect(e.code, e.stderr).toBe(0);
    const acc = (o: { stdout: string }) => (JSON.parse(o.stdout) as { results: { accuracy: number; loss: number }[] }).results[0];
    expect(acc(e2)).toEqual(acc(e1));
    expect(acc(e3)).toEqual(acc(e1));
    // a checkpoint directory exported to ONNX
    const perm = join(dir, 'perm-mlp');
    expect((await basis('symmetry', 'apply', file('mlp.onnx'), '--seed', '1', '--out', perm, '--quiet')).code).toBe(0);
    const r = await basis('export', perm, '--out', join(dir, 'perm.onnx'), '--quiet');
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'perm.onnx'))).toBe(true);
  }, 240_000);

  it('export: usage errors', async () => {
    const a = await basis('export', file('mlp.onnx'), '--format', 'tflite');
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--format must be one of onnx, pt, safetensors/);
    const b = await basis('export', file('mlp.onnx'), '--format', 'onnx', '--out', join(dir, 'x.pt'));
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/extension of pt/);
    const c = await basis('export', file('mlp.pt'));
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/--arch/);
    const d = await basis('export', join(dir, 'missing.onnx'), '--out', join(dir, 'y.onnx'));
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/BAD_FILE.*no such file/);
  });

  it('export --format pt of a BatchNormalization-preserving ONNX file loads into the PyTorch module with strict=True', async () => {
    let torch = false;
    try {
      await exec('/usr/bin/python3', ['-c', 'import torch'], { timeout: 120_000 });
      torch = true;
    } catch {
      // no python3-torch here: the cross-check needs it
    }
    if (!torch) return;
    const pt = join(dir, 'cnn-bn.pt');
    const r = await basis('export', file('cnn-bn.onnx'), '--format', 'pt', '--out', pt, '--quiet');
    expect(r.code, r.stderr).toBe(0);
    const out = join(dir, 'cnn-bn.logits.npy');
    await exec('/usr/bin/python3', [file('make_models.py'), 'forward', 'cnn', pt, file('cnn.x.npy'), out], { timeout: 240_000 });
    const got = (await readArrayFile(out)).data as Float32Array;
    const want = readNpy(new Uint8Array(await import('node:fs/promises').then((f) => f.readFile(file('cnn.logits.npy'))))).data as Float32Array;
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs((got[i] as number) - (want[i] as number)));
    expect(worst).toBeLessThan(1e-5);
  }, 240_000);
});
