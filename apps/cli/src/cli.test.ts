import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { INVARIANCES, compareLayers, listMetrics, metric } from '@basis/align';
import { INVARIANCE_LETTERS } from './commands/compare.js';
import { Matrix, createRng, matrixToNpy, randn, writeNpz, writeSafetensors } from '@basis/tensor';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../bin/basis.js', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real built binary (optionally with extra environment variables first). */
async function basis(...argv: [Record<string, string>, ...string[]] | string[]): Promise<Outcome> {
  const env = typeof argv[0] === 'object' ? { ...process.env, ...argv[0] } : process.env;
  const args = (typeof argv[0] === 'object' ? argv.slice(1) : argv) as string[];
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { timeout: 60_000, env });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

/** A minimal NPY 1.0 float64 C-order file. */
function npy(rows: number, cols: number, values: number[]): Buffer {
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const body = Buffer.alloc(8 * values.length);
  values.forEach((v, k) => body.writeDoubleLE(v, 8 * k));
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), body]);
}

describe('basis binary', () => {
  it('--help lists the commands and global flags', async () => {
    const r = await basis('--help');
    expect(r.code).toBe(0);
    for (const s of ['info', 'compare', '--backend', '--seed', '--json', '--quiet']) expect(r.stdout).toContain(s);
  });
  it('--version prints the package version', async () => {
    const r = await basis('--version');
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as { version: string };
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(pkg.version);
  });
  it('info --json prints only JSON with the active backend', async () => {
    const r = await basis('info', '--json', '--backend', 'cpu');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as { backend: { name: string }; threads: number; candidates: unknown };
    expect(info.backend.name).toBe('cpu');
    expect(info.threads).toBeGreaterThan(0);
  });
  it('compare prints every metric for the bundled example', async () => {
    const r = await basis('compare', join(EXAMPLES, 'a.npy'), join(EXAMPLES, 'b.npy'), '--json', '--quiet');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { metrics: Record<string, { value: number }> };
    const cka = out.metrics['cka.linear']?.value ?? NaN;
    expect(cka).toBeGreaterThan(0.5);
    expect(cka).toBeLessThanOrEqual(1);
    expect(Object.keys(out.metrics).length).toBeGreaterThanOrEqual(7);
  });
  it('compare --options passes metric options and reports them', async () => {
    const r = await basis('compare', join(EXAMPLES, 'a.npy'), join(EXAMPLES, 'b.npy'), '--metric', 'knn.mutual,linear.cv', '--options', '{"knn.mutual":{"k":3},"linear.cv":{"folds":4}}', '--json', '--quiet');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { metrics: Record<string, { options: Record<string, unknown>; folds?: { scores: number[] } }> };
    expect(out.metrics['knn.mutual']?.options).toEqual({ k: 3 });
    expect(out.metrics['linear.cv']?.folds?.scores).toHaveLength(4);
    const bad = await basis('compare', join(EXAMPLES, 'a.npy'), join(EXAMPLES, 'b.npy'), '--options', '{"knn.mutual":{"k":0}}');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('[CONFIG_INVALID]');
    const notJson = await basis('compare', join(EXAMPLES, 'a.npy'), join(EXAMPLES, 'b.npy'), '--options', '{k:3}');
    expect(notJson.code).toBe(2);
  });
  it('compare reads file.npz:key and file.safetensors:key (float32) inputs; mismatched rows fail clearly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'basis-formats-'));
    const rng = createRng(5);
    const X = randn(40, 4, rng);
    const Y = randn(40, 6, rng);
    const f32 = new Float32Array(Y.data);
    writeFileSync(join(dir, 'a.npz'), writeNpz({ acts: { dtype: 'float64', shape: [40, 4], data: X.data }, other: { dtype: 'float64', shape: [2], data: new Float64Array(2) } }));
    writeFileSync(join(dir, 'b.safetensors'), writeSafetensors({ 'blocks.2': { dtype: 'float32', shape: [40, 6], data: f32 } }));
    const r = await basis('compare', join(dir, 'a.npz') + ':acts', join(dir, 'b.safetensors') + ':blocks.2', '--metric', 'cka.linear,procrustes.similarity', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { metrics: Record<string, { value: number; options: unknown; precision: string }> };
    const Yf = new Matrix(40, 6, Float64Array.from(f32));
    expect(out.metrics['cka.linear']!.value).toBe(metric('cka.linear', X, Yf).value);
    expect(out.metrics['procrustes.similarity']!.precision).toBe('float64');
    expect(out.metrics['cka.linear']!.options).toEqual({});
    writeFileSync(join(dir, 'short.npy'), matrixToNpy(randn(30, 4, rng)));
    const bad = await basis('compare', join(dir, 'a.npz') + ':acts', join(dir, 'short.npy'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/\[SHAPE_MISMATCH\].*40 rows.*30/);
    const ambiguous = await basis('compare', join(dir, 'a.npz'), join(dir, 'short.npy'));
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toMatch(/holds 2 arrays/);
    rmSync(dir, { recursive: true, force: true });
  });
  it('compare --metric selects metrics and prints a table', async () => {
    const r = await basis('compare', join(EXAMPLES, 'a.npy'), join(EXAMPLES, 'a.npy'), '--metric', 'cka.linear,procrustes.angular');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/cka\.linear\s+1\b/);
    expect(r.stdout).toMatch(/procrustes\.angular\s+(0|\d\.\d+e-1\d)\s/);
    expect(r.stdout).not.toContain('permutation');
  });
  it('compare --list prints the registry: id, family, kind, invariances, cost class; --json every field', async () => {
    const r = await basis('compare', '--list');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^id\s+family\s+kind\s+invariances\s+cost class\s+options$/);
    for (const d of listMetrics()) {
      const letters = INVARIANCES.filter((i) => d.invariances.includes(i)).map((i) => INVARIANCE_LETTERS[i]).join('') || '-';
      const row = lines.find((l) => l.startsWith(`${d.id} `));
      expect(row, d.id).toBeDefined();
      expect((row as string).split(/\s+/).slice(1, 5), d.id).toEqual([d.family, d.kind, letters, d.costClass]);
    }
    expect(r.stdout).toContain('aliases: nbs = procrustes.similarity');
    const j = await basis('compare', '--list', '--json');
    const rows = JSON.parse(j.stdout) as { id: string; family: string; invariances: string[]; costClass: string }[];
    expect(rows.map((x) => x.id)).toEqual(listMetrics().map((d) => d.id));
    expect(rows.find((x) => x.id === 'cca.mean_rho')).toMatchObject({ family: 'cca', costClass: 'N·d²' });
    const both = await basis('compare', 'a.npy', '--list');
    expect(both.code).toBe(2);
  });
  it('compare --metric accepts an alias (nbs = procrustes.similarity)', async () => {
    const r = await basis('compare', join(EXAMPLES, 'a.npy'), join(EXAMPLES, 'b.npy'), '--metric', 'nbs', '--json', '--quiet');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { metrics: Record<string, { value: number }> };
    const p = await basis('compare', join(EXAMPLES, 'a.npy'), join(EXAMPLES, 'b.npy'), '--metric', 'procrustes.similarity', '--json', '--quiet');
    expect(out.metrics['procrustes.similarity']?.value).toBe((JSON.parse(p.stdout) as typeof out).metrics['procrustes.similarity']?.value);
  });
});

describe('errors: one line on stderr, exit 2 for usage, 1 for runtime', () => {
  const dir = mkdtempSync(join(tmpdir(), 'basis-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('unknown command, unknown flag, bad flag value, missing argument', async () => {
    for (const args of [['frobnicate'], ['info', '--nope'], ['info', '--backend', 'tpu'], ['compare', 'a.npy'], ['info', '--seed', '-3']]) {
      const r = await basis(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^basis: error \[USAGE\]/);
    }
  });
  it('a truncated file is BAD_FILE, a missing one IO, NaN input NON_FINITE_INPUT (exit 1)', async () => {
    const good = npy(5, 2, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    writeFileSync(join(dir, 'trunc.npy'), good.subarray(0, good.length - 7));
    writeFileSync(join(dir, 'nan.npy'), npy(5, 2, [1, 2, 3, NaN, 5, 6, 7, 8, 9, 10]));
    writeFileSync(join(dir, 'ok.npy'), good);
    const cases: [string[], string][] = [
      [['compare', join(dir, 'trunc.npy'), join(dir, 'ok.npy')], 'BAD_FILE'],
      [['compare', join(dir, 'missing.npy'), join(dir, 'ok.npy')], 'IO'],
      [['compare', join(dir, 'nan.npy'), join(dir, 'ok.npy')], 'NON_FINITE_INPUT'],
      [['compare', join(dir, 'ok.npy'), join(dir, 'ok.npy'), '--metric', 'cka.bogus'], 'INVALID_ARGUMENT'],
    ];
    for (const [args, kind] of cases) {
      const r = await basis(...args);
      expect(r.code, args.join(' ')).toBe(1);
      const errors = r.stderr.trim().split('\n').filter((l) => l.startsWith('basis: error'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(`[${kind}]`);
    }
  });
  it('--json errors keep stdout machine-readable', async () => {
    const r = await basis('compare', join(dir, 'missing.npy'), join(dir, 'missing.npy'), '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'IO' } });
  });
});

describe('compare --layers', () => {
  it('writes audit.json, a CSV and an HTML heatmap per metric for every layer pair', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'basis-layers-'));
    const rng = createRng(1);
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    const shared = randn(60, 5, rng);
    writeFileSync(join(dir, 'a', 'layer2.npy'), matrixToNpy(randn(60, 4, rng)));
    writeFileSync(join(dir, 'a', 'layer10.npy'), matrixToNpy(shared));
    writeFileSync(join(dir, 'b', 'x.npy'), matrixToNpy(shared));
    const out = join(dir, 'out');
    const r = await basis('compare', '--layers', join(dir, 'a'), join(dir, 'b'), '--metric', 'cka.linear,permcorr', '--out', out, '--json', '--quiet');
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { layersA: string[]; values: Record<string, number[][]> };
    expect(res.layersA).toEqual(['layer2', 'layer10']); // natural order
    expect(res.values['cka.linear']![1]![0]).toBeCloseTo(1, 12);
    for (const f of ['audit.json', 'cka.linear.csv', 'cka.linear.html', 'permcorr.csv', 'permcorr.html']) expect(existsSync(join(out, f)), f).toBe(true);
    const csv = readFileSync(join(out, 'cka.linear.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('layer,x');
    expect(Number(csv[2]!.split(',')[1])).toBeCloseTo(1, 12);
    expect(readFileSync(join(out, 'permcorr.html'), 'utf8')).toMatch(/<svg[\s\S]*layer10[\s\S]*<\/svg>/);
  });
  it('spreads a large audit over worker threads (built package) with the in-process values', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'basis-layers-par-'));
    const rng = createRng(2);
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    const A = [randn(300, 12, rng), randn(300, 8, rng)];
    const B = [randn(300, 10, rng), A[0]!.clone(), randn(300, 6, rng)];
    A.forEach((m, k) => writeFileSync(join(dir, 'a', `l${k}.npy`), matrixToNpy(m)));
    B.forEach((m, k) => writeFileSync(join(dir, 'b', `l${k}.npy`), matrixToNpy(m)));
    const out = join(dir, 'out');
    const ids = ['cka.rbf', 'cka.linear', 'permcorr', 'linear.cv'];
    const args = ['compare', '--layers', join(dir, 'a'), join(dir, 'b'), '--metric', ids.join(','), '--out', out, '--json'];
    // BASIS_PARALLEL_MIN_SECONDS=0 makes even this small audit use the worker threads
    const r = await basis({ BASIS_PARALLEL_MIN_SECONDS: '0' }, ...args);
    expect(r.code, r.stderr).toBe(0);
    if (availableParallelism() > 1) expect(r.stderr).toMatch(/computed on \d+ worker threads/);
    const res = JSON.parse(r.stdout) as { values: Record<string, number[][]> };
    const want = compareLayers({ l0: A[0]!, l1: A[1]! }, { l0: B[0]!, l1: B[1]!, l2: B[2]! }, ids);
    expect(res.values).toEqual(want.values); // bit-identical (JSON keeps every float64 exactly)
    expect(res.values['cka.rbf']![0]![1]).toBeCloseTo(1, 12);
    // the default threshold keeps it in-process
    const small = await basis(...args);
    expect(small.code, small.stderr).toBe(0);
    expect(small.stderr).not.toMatch(/worker threads/);
    expect((JSON.parse(small.stdout) as { values: unknown }).values).toEqual(want.values);
    const bad = await basis({ BASIS_PARALLEL_MIN_SECONDS: 'soon' }, ...args);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/BASIS_PARALLEL_MIN_SECONDS/);
  });
  it('fails clearly on a folder without layers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'basis-empty-'));
    const r = await basis('compare', '--layers', dir, dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[TOO_SMALL\].*no \.npy files/);
    rmSync(dir, { recursive: true, force: true });
  });
});
