// Hostile IDX files and checkpoint manifests: the crafted cases of issue 16 as regression tests,
// and a few hundred seeded fuzz cases per reader (`pnpm fuzz` runs 10^4 in child processes).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BasisError } from '@basis/tensor';
import { encodeIdx } from './idx.js';
import { fuzzInProcess, runCase } from '@basis/test-utils/fuzz';
import { checkpointSample, deepArray, gz, idxGzBomb, idxNanShape, idxWithHeader, manifestWith } from '../../fuzz/crafted.js';
import { targets } from '../../fuzz/targets.js';
import { decodeIdx } from './idx.js';
import { loadIdxDataset } from './node.js';
import { loadModel } from '../model/load.js';

const MiB = 2 ** 20;

async function badFile(f: () => unknown, pattern?: RegExp): Promise<BasisError> {
  try {
    await f();
  } catch (e) {
    if (!(e instanceof BasisError) || e.code !== 'BAD_FILE') throw new Error(`expected BAD_FILE, got ${String(e)}`, { cause: e });
    if (pattern !== undefined) expect(e.message).toMatch(pattern);
    return e;
  }
  throw new Error('expected BAD_FILE, but the read succeeded');
}

describe('IDX files of issue 16', () => {
  it('the 248-byte label file declaring a NaN count is BAD_FILE before any allocation (it crashed training)', async () => {
    const file = idxNanShape();
    expect(file.length).toBe(248);
    await badFile(() => decodeIdx(file, 'labels'), /far more than the 248 bytes of the file/);
    await badFile(() => decodeIdx(gz(file), 'labels.gz'), /far more than/);
    const dir = mkdtempSync(join(tmpdir(), 'basis-idx-'));
    writeFileSync(join(dir, 'images'), encodeIdx({ dtype: 'uint8', shape: [2, 2, 2], data: new Uint8Array(8) }));
    writeFileSync(join(dir, 'labels'), file);
    await badFile(() => loadIdxDataset({ images: join(dir, 'images'), labels: join(dir, 'labels') }), /labels: IDX header declares shape/);
  });
  it('declared counts are checked against the data before allocating', async () => {
    await badFile(() => decodeIdx(idxWithHeader(0x08, [2 ** 32 - 1], new Uint8Array(10))), /needs 4294967295 data bytes but only 10 follow/);
    await badFile(() => decodeIdx(idxWithHeader(0x0e, [65536, 65536, 65536, 65536], new Uint8Array(10))), /far more than/);
    await badFile(() => decodeIdx(idxWithHeader(0x0e, [65536, 65536, 65536], new Uint8Array(10))), /needs 2251799813685248 data bytes but only 10/);
    expect(decodeIdx(idxWithHeader(0x08, [0, 5])).shape).toEqual([0, 5]);
  });
  it('a 2.6 MB .idx.gz that inflates to 2.6 GB stops at the budget (with a true or a lying length trailer)', () => {
    for (const [file, maxBytes] of [[idxGzBomb(2600), undefined], [idxGzBomb(2600, 100), 16 * MiB]] as const) {
      expect(file.length).toBeLessThan(3 * MiB);
      const r = runCase({ format: 'idx.gz', samples: () => [], read: (b) => decodeIdx(b, 'bomb.idx.gz', maxBytes === undefined ? {} : { maxBytes }) }, { id: 0, kind: 'bomb', bytes: file }, 0);
      expect(r.outcome, r.message).toBe('rejected');
      // a true length trailer is refused before inflating; a lying one when the inflated bytes reach the budget
      const why = maxBytes === undefined ? 'as its length trailer declares\\) needs 2726297616 bytes.*' : 'still inflating after .*\\) needs .*';
      expect(r.message).toMatch(new RegExp(`bomb\\.idx\\.gz: the gzip data \\(${why} more than maxBytes = ${maxBytes ?? 268435456} bytes`));
      expect(Math.max(r.arrayBytes, r.rssJump)).toBeLessThan(600 * MiB);
    }
    expect(() => decodeIdx(idxGzBomb(40), 'x', { maxBytes: 16 * MiB })).toThrow(/maxBytes = 16777216 bytes .*BASIS_MAX_BYTES=8G/);
  });
});

describe('checkpoint manifests of issue 16', () => {
  it("a manifest whose graph holds a 10^4..10^5-deep array is BAD_FILE (it overflowed the stack: INTERNAL)", async () => {
    const { params } = checkpointSample();
    for (const [path, depth] of [['graph', 10_000], ['graph.input', 100_000], ['graph.format', 20_000], ['meta', 10_000]] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'basis-manifest-'));
      writeFileSync(join(dir, 'manifest.json'), manifestWith(path, deepArray(depth)));
      writeFileSync(join(dir, 'model.safetensors'), params);
      await badFile(() => loadModel(dir), /nests arrays or objects more than 128 deep/);
    }
  });
  it('the sample checkpoint loads, and a graph name that is not a string is refused', async () => {
    const { manifest, params } = checkpointSample();
    const dir = mkdtempSync(join(tmpdir(), 'basis-manifest-'));
    writeFileSync(join(dir, 'manifest.json'), manifest);
    writeFileSync(join(dir, 'model.safetensors'), params);
    expect((await loadModel(dir)).graph.name).toMatch(/mlp/);
    writeFileSync(join(dir, 'manifest.json'), manifestWith('graph.name', deepArray(50)));
    await badFile(() => loadModel(dir), /graph\.name: must be a string/);
  });
});

const CASES = Number(process.env['FUZZ_TEST_CASES'] ?? 300);

describe(`seeded fuzzing: ${CASES} cases per reader (crashes, wrong codes, over-budget allocations, slow cases)`, () => {
  for (const target of targets) {
    it(target.format, () => {
      const r = fuzzInProcess(target, { from: 0, to: CASES, seed: 1, maxBytes: 16 * MiB, slowMs: 30_000 });
      const failures = r.failures.map((f) => `case ${f.id} (${f.kind}): ${f.why} ${f.code ?? ''} ${f.message ?? ''}`);
      expect(failures).toEqual([]);
      expect(r.crashes + r.wrongCodes + r.overBudget + r.slow).toBe(0);
      expect(r.rejected).toBeGreaterThan(0);
      expect(r.ok).toBeGreaterThan(0);
    });
  }
});
