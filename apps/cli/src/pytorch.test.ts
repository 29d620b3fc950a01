// Models saved by PyTorch (tooling/test-utils/fixtures/models/pytorch) through the real binary:
// loaded with --arch and list widths without renaming by hand (the import report on stderr),
// symmetry check of the inferred spec, a planted permutation (symmetry apply) recovered by match
// with no barrier on the path back, --key-map, and the usage errors of the new flags.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '@basis/test-utils';
import { basis } from './test-helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'basis-cli-pt-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const MODELS: [string, string[]][] = [
  ['mlp', ['--arch', 'mlp', '--width', '16,12']],
  ['cnn', ['--arch', 'cnn', '--width', '4,8']],
  ['rescnn', ['--arch', 'resnet', '--width', '8,16', '--depth', '1']],
];
const file = (name: string): string => fixturePath(`models/pytorch/${name}`);

describe('basis on models saved by PyTorch', () => {
  it('eval: the import report lists every key (renamed by structure, num_batches_tracked ignored)', async () => {
    const r = await basis('eval', file('cnn.pt'), '--arch', 'cnn', '--width', '4,8', '--n', '50', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/state_dict: 16 entries, 0 used by name, 14 renamed, 2 ignored \(names matched by module order and shapes\)/);
    expect(r.stderr).toMatch(/features\.0\.weight {2}-> layers\.0\.weight \(structure\)/);
    expect(r.stderr).toMatch(/classifier\.1\.bias {2}-> layers\.9\.bias \(structure\)/);
    expect(r.stderr).toMatch(/features\.5\.num_batches_tracked {2}ignored: PyTorch batchnorm counter/);
    expect(JSON.parse(r.stdout)).toBeTruthy();
  });

  for (const [name, flags] of MODELS) {
    it(`${name}: symmetry check (.pt and .safetensors), planted permutation recovered by match, no barrier`, async () => {
      for (const ext of ['pt', 'safetensors']) {
        const chk = await basis('symmetry', 'check', file(`${name}.${ext}`), ...flags, '--inputs', '16', '--json');
        expect(chk.code, chk.stderr).toBe(0);
        const rep = JSON.parse(chk.stdout) as { report: { ok: boolean; groups: unknown[] } };
        expect(rep.report.ok).toBe(true);
        expect(rep.report.groups.length).toBeGreaterThan(0);
      }
      const perm = join(dir, `${name}-perm`);
      const ap = await basis('symmetry', 'apply', file(`${name}.pt`), ...flags, '--scale-sigma', '0', '--seed', '7', '--out', perm, '--quiet');
      expect(ap.code, ap.stderr).toBe(0);
      const aligned = join(dir, `${name}-aligned`);
      const m = await basis('match', file(`${name}.pt`), perm, ...flags, '--n', '20', '--out', aligned, '--json', '--quiet');
      expect(m.code, m.stderr).toBe(0);
      expect((JSON.parse(m.stdout) as { functionalError: number }).functionalError).toBeLessThan(1e-5);
      const ip = await basis('interpolate', file(`${name}.pt`), aligned, ...flags, '--match', 'none', '--repair', 'none', '--points', '5', '--n', '50', '--json', '--quiet');
      expect(ip.code, ip.stderr).toBe(0);
      const rec = (JSON.parse(ip.stdout) as { records: { naive: { barrier: { loss: { maxMinusMean: number; maxMinusLinear: number } } } } }).records.naive;
      expect(rec.barrier.loss.maxMinusMean).toBeLessThan(1e-3);
      expect(Math.abs(rec.barrier.loss.maxMinusLinear)).toBeLessThan(1e-3);
    });
  }

  it('--key-map names modules by hand; bad widths and rules are usage errors', async () => {
    const km = await basis('eval', file('mlp.safetensors'), '--arch', 'mlp', '--width', '16,12', '--n', '20', '--key-map', '^0\\.=layers.0.', '--key-map', '^4\\.(.*)$=layers.4.$1', '--json');
    expect(km.code, km.stderr).toBe(0);
    expect(km.stderr).toMatch(/0\.weight {2}-> layers\.0\.weight \(key-map\)/);
    expect(km.stderr).toMatch(/2\.weight {2}-> layers\.2\.weight \(structure\)/);
    const cases: [string[], RegExp][] = [
      [['--arch', 'mlp', '--width', '16,'], /--width '16,' has an empty entry at position 2/],
      [['--arch', 'mlp', '--width', '16,x'], /--width entry 2 must be an integer >= 1, got 'x'/],
      [['--arch', 'resmlp', '--width', '16,12'], /--width takes one number for resmlp; lists such as 16,12 are for mlp, resnet, cnn/],
      [['--arch', 'mlp', '--width', '16,12', '--key-map', 'nothing'], /--key-map: key-map rule 'nothing' must have the form 'regex=replacement'/],
      [['--arch', 'mlp', '--width', '16,12', '--key-map'], /--key-map.*(needs a value|value is missing)/],
    ];
    for (const [args, msg] of cases) {
      const r = await basis('eval', file('mlp.pt'), ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
    const wrong = await basis('eval', file('mlp.pt'), '--arch', 'mlp', '--width', '16,13');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/BAD_FILE.*do not fit it by shape.*Is this file of another architecture or width\?/);
  });
});
