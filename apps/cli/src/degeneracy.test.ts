import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, writeNpy } from '@basis/tensor';
import { basis } from './test-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'basis-cli-degeneracy-'));
const runs = join(dir, 'runs');
const model = (): string => join(runs, 'seed-0');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  const r = await basis('train', '--arch', 'mlp', '--width', '12', '--depth', '2', '--dataset', 'mnist', '--train-size', '400', '--test-size', '100', '--epochs', '1', '--batch-size', '32', '--seeds', '0', '--out', runs, '--quiet');
  expect(r.code, r.stderr).toBe(0);
}, 180_000);

describe('basis interaction-basis', () => {
  it('writes readable safetensors holding what --help says: C, Cpinv per layer, edges and incoming per transition', async () => {
    for (const variant of ['non-local', 'local']) {
      const out = join(dir, `ib-${variant}`);
      const r = await basis('interaction-basis', model(), '--data', 'mnist:200', '--variant', variant, '--out', out, '--json', '--quiet');
      expect(r.code, r.stderr).toBe(0);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { variant: string; layers: { name: string; d: number; r: number; s: number }[] };
      expect(JSON.parse(r.stdout)).toEqual(summary);
      expect(summary.variant).toBe(variant);
      expect(summary.layers.map((l) => l.name)).toEqual(['input', 'layers.1', 'layers.3', 'layers.4']);
      expect(summary.layers.map((l) => l.d)).toEqual([784, 12, 12, 10]);
      for (const l of summary.layers) expect(l.s).toBeLessThanOrEqual(Math.min(l.r, l.d));
      const st = readSafetensors(new Uint8Array(readFileSync(join(out, 'interaction-basis.safetensors'))));
      expect(st.metadata).toMatchObject({ format: 'basis.interaction-basis', variant, scaling: 'sqrt', center: 'false', n: '200' });
      const names = [...st.tensors.keys()].sort();
      expect(names).toEqual([...summary.layers.flatMap((l) => [`C.${l.name}`, `Cpinv.${l.name}`]), 'edges.0', 'edges.1', 'edges.2', 'incoming.0', 'incoming.1', 'incoming.2'].sort());
      summary.layers.forEach((l, i) => {
        const C = st.tensors.get(`C.${l.name}`)!;
        const P = st.tensors.get(`Cpinv.${l.name}`)!;
        expect(C.dtype).toBe('float64');
        expect(C.shape).toEqual([l.s, l.d]);
        expect(P.shape).toEqual([l.d, l.s]);
        // C C⁺ = I_s: the file holds a basis and its pseudo-inverse, not placeholders
        const c = C.data as Float64Array;
        const p = P.data as Float64Array;
        for (let a = 0; a < l.s; a++) {
          for (let b = 0; b < l.s; b++) {
            let v = 0;
            for (let k = 0; k < l.d; k++) v += (c[a * l.d + k] as number) * (p[k * l.s + b] as number);
            expect(Math.abs(v - (a === b ? 1 : 0))).toBeLessThan(1e-6);
          }
        }
        if (i < 3) {
          expect(st.tensors.get(`edges.${i}`)!.shape).toEqual([summary.layers[i + 1]!.s, l.s]);
          expect(st.tensors.get(`incoming.${i}`)!.shape).toEqual([summary.layers[i + 1]!.d, l.s]);
        }
      });
    }
  }, 180_000);

  it('bad input: missing model, NaN data, bad flags', async () => {
    const missing = await basis('interaction-basis', join(dir, 'nope'), '--out', join(dir, 'x'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/BAD_FILE/);
    const nan = join(dir, 'nan.npy');
    const data = new Float32Array(4 * 784).fill(0.5);
    data[785] = NaN;
    writeFileSync(nan, writeNpy({ dtype: 'float32', shape: [4, 784], data }));
    const r = await basis('interaction-basis', model(), '--data', nan, '--out', join(dir, 'x'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/NON_FINITE_INPUT/);
    expect(r.stderr).toMatch(/row 1, column 1/);
    const wide = join(dir, 'wide.npy');
    writeFileSync(wide, writeNpy({ dtype: 'float32', shape: [4, 10], data: new Float32Array(40) }));
    const w = await basis('interaction-basis', model(), '--data', wide, '--out', join(dir, 'x'));
    expect(w.code).toBe(1);
    expect(w.stderr).toMatch(/SHAPE_MISMATCH/);
    expect((await basis('interaction-basis', model(), '--variant', 'global')).code).toBe(2);
    expect((await basis('interaction-basis', model(), '--scaling', 'cube')).code).toBe(2);
  }, 180_000);
});

describe('basis llc', () => {
  it('estimates with diagnostics and writes the traces, their SVG plot and llc.json', async () => {
    const out = join(dir, 'llc');
    const r = await basis('llc', model(), '--data', 'mnist:200', '--chains', '2', '--draws', '120', '--burnin', '20', '--batch-size', '100', '--out', out, '--json', '--quiet');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as {
      llc: number;
      parameters: number;
      ess: number;
      chains: { ess: number; stationarityZ: number }[];
      diagnosis: { ok: boolean; lowEss: boolean; rhat: number };
      warnings: string[];
      options: { draws: number; chains: number; batchSize: number | null };
    };
    expect(j.parameters).toBe(784 * 12 + 12 + 12 * 12 + 12 + 12 * 10 + 10);
    expect(Number.isFinite(j.llc)).toBe(true);
    expect(j.chains).toHaveLength(2);
    expect(j.options).toMatchObject({ draws: 120, chains: 2, batchSize: 100 });
    expect(typeof j.diagnosis.ok).toBe('boolean');
    // every raised flag comes with a warning
    if (!j.diagnosis.ok) expect(j.warnings.length).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(join(out, 'llc.json'), 'utf8'))).toMatchObject({ llc: j.llc, parameters: j.parameters });
    const csv = readFileSync(join(out, 'llc-traces.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('chain,draw,loss');
    expect(csv).toHaveLength(1 + 2 * 120);
    const svg = readFileSync(join(out, 'llc-traces.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('chain 1');
    // seeded: the same command gives the same estimate
    const again = await basis('llc', model(), '--data', 'mnist:200', '--chains', '2', '--draws', '120', '--burnin', '20', '--batch-size', '100', '--json', '--quiet');
    expect((JSON.parse(again.stdout) as { llc: number }).llc).toBe(j.llc);
  }, 180_000);

  it('bad input: missing model, NaN data, a bad loss', async () => {
    const missing = await basis('llc', join(dir, 'nope'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/BAD_FILE/);
    const nan = join(dir, 'nan2.npy');
    const data = new Float32Array(3 * 784);
    data[0] = Infinity;
    writeFileSync(nan, writeNpy({ dtype: 'float32', shape: [3, 784], data }));
    const r = await basis('llc', model(), '--data', nan);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/NON_FINITE_INPUT/);
    const bad = await basis('llc', model(), '--loss', 'hinge', '--draws', '10');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/CONFIG_INVALID|loss/);
  }, 180_000);
});
