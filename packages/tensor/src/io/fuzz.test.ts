// Hostile inputs: the crafted cases of issue 16 as regression tests, the shared byte budget, and a
// few hundred seeded fuzz cases per reader (`pnpm fuzz` runs 10^4 per reader in child processes).
import { deflateRawSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { fuzzInProcess, runCase, type FuzzTarget } from '@basis/test-utils/fuzz';
import { BasisError } from '../errors.js';
import {
  ByteBudget,
  MAX_BYTES_ENV,
  crc32,
  inflateBounded,
  jsonDepth,
  parseByteSize,
  parseJsonBounded,
  readNpy,
  readNpz,
  readSafetensors,
  readTorch,
  resolveMaxBytes,
  writeNpy,
  writeNpz,
} from '../index.js';
import {
  buildZip,
  deepArray,
  deflateBomb,
  deflated,
  npyWithHeader,
  npzBadCrc,
  npzBomb,
  pickleAppends,
  pickleExponentialKey,
  safetensorsWithHeader,
  stored,
  torchArchive,
  torchPickleBomb,
  torchStorageBomb,
  torchWideViews,
} from '../../fuzz/crafted.js';
import { targets } from '../../fuzz/targets.js';

const MiB = 2 ** 20;

function badFile(f: () => unknown, pattern?: RegExp): BasisError {
  try {
    f();
  } catch (e) {
    if (!(e instanceof BasisError) || e.code !== 'BAD_FILE') throw new Error(`expected BAD_FILE, got ${String(e)}`, { cause: e });
    if (pattern !== undefined) expect(e.message).toMatch(pattern);
    return e;
  }
  throw new Error('expected BAD_FILE, but the read succeeded');
}

/** Runs `read` once the way the fuzzer does and returns its allocation measures. */
function measure(read: (b: Uint8Array) => unknown, bytes: Uint8Array) {
  const t: FuzzTarget = { format: 'x', samples: () => [], read: (b) => read(b) };
  return runCase(t, { id: 0, kind: 'x', bytes }, 0);
}

describe('the byte budget shared by every reader', () => {
  afterEach(() => {
    delete process.env[MAX_BYTES_ENV];
  });
  it('defaults to 16 x the file size and at least 256 MiB; BASIS_MAX_BYTES and maxBytes override it', () => {
    expect(resolveMaxBytes({}, 1000)).toBe(256 * MiB);
    expect(resolveMaxBytes({}, 100 * MiB)).toBe(1600 * MiB);
    process.env[MAX_BYTES_ENV] = '8G';
    expect(resolveMaxBytes({}, 1000)).toBe(8 * 2 ** 30);
    expect(resolveMaxBytes({ maxBytes: 5 }, 1000)).toBe(5);
    process.env[MAX_BYTES_ENV] = 'lots';
    expect(() => resolveMaxBytes({}, 1)).toThrow(/BASIS_MAX_BYTES must be a byte count/);
    expect(() => resolveMaxBytes({ maxBytes: Number.NaN }, 1)).toThrow(/maxBytes must be a non-negative number/);
    expect(() => resolveMaxBytes({ maxBytes: -1 }, 1)).toThrow(/maxBytes/);
  });
  it('parses byte counts with binary suffixes', () => {
    expect(parseByteSize('512M')).toBe(512 * MiB);
    expect(parseByteSize('1.5GiB')).toBe(1.5 * 2 ** 30);
    expect(parseByteSize('123')).toBe(123);
    expect(parseByteSize('inf')).toBe(Infinity);
    expect(() => parseByteSize('-3')).toThrow(BasisError);
  });
  it('an over-budget error says which limit was hit and how to raise it', () => {
    const e = badFile(() => readNpy(writeNpy({ dtype: 'float64', shape: [100], data: new Float64Array(100) }), { maxBytes: 799 }));
    expect(e.message).toMatch(/needs 800 bytes, more than maxBytes = 799 bytes; if the file is trusted, raise the limit with the maxBytes read option or the BASIS_MAX_BYTES environment variable/);
    expect(e.details).toMatchObject({ limit: 'maxBytes', maxBytes: 799, requested: 800 });
    expect(readNpy(writeNpy({ dtype: 'float64', shape: [100], data: new Float64Array(100) }), { maxBytes: 800 }).shape).toEqual([100]);
  });
  it('BASIS_MAX_BYTES applies to every reader', () => {
    process.env[MAX_BYTES_ENV] = '1K';
    const arr = { dtype: 'float64' as const, shape: [200], data: new Float64Array(200) };
    badFile(() => readNpy(writeNpy(arr)), /maxBytes = 1024 bytes/);
    badFile(() => readNpz(writeNpz({ a: arr }, { compress: true })), /maxBytes = 1024 bytes/);
    delete process.env[MAX_BYTES_ENV];
    expect(readNpz(writeNpz({ a: arr }, { compress: true })).get('a')!.shape).toEqual([200]);
  });
  it('ByteBudget counts and refuses past its maximum', () => {
    const b = new ByteBudget(10, 'file');
    b.take(6, 'a');
    expect(b.left).toBe(4);
    expect(() => b.take(5, 'b')).toThrow(/b needs 5 bytes on top of the 6 bytes already read, more than maxBytes = 10 bytes/);
  });
});

describe('bounded inflation', () => {
  const data = new Uint8Array(100_000).map((_, i) => (i * 7) % 251);
  const raw = new Uint8Array(deflateRawSync(data));
  it('inflates exactly the declared size, streamed or in one call, and refuses other lengths', () => {
    for (const big of [false, true]) {
      const input = big ? new Uint8Array(deflateRawSync(new Uint8Array(3 * MiB).map((_, i) => i % 13))) : raw;
      const want = big ? 3 * MiB : data.length;
      expect(inflateBounded(input, { budget: new ByteBudget(Infinity, 'f'), what: 'm', fileKind: 'f', size: want }).length).toBe(want);
      badFile(() => inflateBounded(input, { budget: new ByteBudget(Infinity, 'f'), what: 'm', fileKind: 'f', size: want - 1 }), /more than the \d+ bytes its header declares/);
      badFile(() => inflateBounded(input, { budget: new ByteBudget(Infinity, 'f'), what: 'm', fileKind: 'f', size: want + 1 }), /not the \d+ its header declares/);
    }
    expect(Array.from(inflateBounded(raw, { budget: new ByteBudget(Infinity, 'f'), what: 'm', fileKind: 'f' }))).toEqual(Array.from(data));
  });
  it('stops a bomb of unknown size at the budget, and rejects truncated streams', () => {
    const bomb = deflateBomb(300);
    const r = measure(() => inflateBounded(bomb, { budget: new ByteBudget(16 * MiB, 'f'), what: 'm', fileKind: 'f' }), bomb);
    expect(r.outcome).toBe('rejected');
    expect(r.message).toMatch(/maxBytes = 16777216 bytes/);
    expect(Math.max(r.arrayBytes, r.rssJump)).toBeLessThan(100 * MiB);
    badFile(() => inflateBounded(raw.subarray(0, raw.length >> 1), { budget: new ByteBudget(Infinity, 'f'), what: 'm', fileKind: 'f' }), /does not inflate/);
  });
});

describe('the crafted files of issue 16 give typed errors within the budget', () => {
  it('a 2.6 MB .npz member that inflates to 2.6 GB (declared size, or a lying small one)', () => {
    const declared = npzBomb(2600);
    expect(declared.length).toBeLessThan(3 * MiB);
    const a = measure((b) => readNpz(b), declared);
    expect(a.outcome, a.message).toBe('rejected');
    expect(a.message).toMatch(/member 'x\.npy' once inflated needs 2726297728 bytes .* more than maxBytes = 268435456 bytes .*BASIS_MAX_BYTES/);
    expect(Math.max(a.arrayBytes, a.rssJump)).toBeLessThan(64 * MiB);
    const lying = measure((b) => readNpz(b), npzBomb(2600, 'small'));
    expect(lying.message).toMatch(/inflates to more than the 1000 bytes its header declares/);
    expect(Math.max(lying.arrayBytes, lying.rssJump)).toBeLessThan(64 * MiB);
    // within a budget, the same construction reads (as zeros)
    const ok = npzBomb(20);
    badFile(() => readNpz(ok), /CRC-32 mismatch in 'x\.npy'/); // the crafted CRC is 0
  });
  it('2.6 MB .pt files whose data.pkl or storage inflate to 2.6 GB', () => {
    for (const file of [torchPickleBomb(2600), torchStorageBomb(2600)]) {
      const r = measure((b) => readTorch(b), file);
      expect(r.outcome, r.message).toBe('rejected');
      expect(r.message).toMatch(/more than maxBytes = 268435456 bytes/);
      expect(Math.max(r.arrayBytes, r.rssJump)).toBeLessThan(64 * MiB);
    }
  });
  it('.npz CRC-32 is verified: a flipped data byte is BAD_FILE naming the member (numpy: Bad CRC-32)', () => {
    badFile(() => readNpz(npzBadCrc()), /CRC-32 mismatch in 'a\.npy'/);
    const good = writeNpz({ a: { dtype: 'float64', shape: [3], data: new Float64Array([1, 2, 3]) } }, { compress: true });
    let caught = 0;
    for (let i = 0; i < good.length; i++) {
      const copy = good.slice();
      copy[i] = (copy[i] as number) ^ 0x10;
      try {
        const got = readNpz(copy).get('a');
        // a flip the CRC cannot see must not change the numbers (it landed in an unused header byte)
        if (got !== undefined) expect(Array.from(got.data as Float64Array)).toEqual([1, 2, 3]);
      } catch (e) {
        if (!(e instanceof BasisError) || e.code !== 'BAD_FILE') throw e;
        caught++;
      }
    }
    expect(caught).toBeGreaterThan(good.length / 2);
  });
  it('a .pt pickle that APPENDS 200k (and 1M) items in one step', () => {
    for (const n of [200_000, 1_000_000]) {
      const { tensors, skipped } = readTorch(torchArchive(pickleAppends(n)));
      expect(tensors.size).toBe(0);
      expect(skipped.length).toBe(n);
    }
  });
  it('many small views of one big storage cost their own size, not the storage each', () => {
    const t0 = performance.now();
    const { tensors } = readTorch(torchWideViews(2000, 16));
    expect(tensors.size).toBe(2000);
    expect(Array.from(tensors.get('v7')!.data as Float32Array)).toEqual([0, 0]);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
  it('a dict key of tuples sharing each other (2^30 leaves from 200 bytes: a hang before)', () => {
    badFile(() => readTorch(torchArchive(pickleExponentialKey(30))), /dict key \(a tuple\) longer than/);
    badFile(() => readTorch(torchArchive(pickleExponentialKey(40))), /nested more than 32 deep/);
  });
  it('a safetensors header nested 10^5 deep, or a shape nested 10^4 deep', () => {
    badFile(() => readSafetensors(safetensorsWithHeader(`{"a": ${deepArray(100_000)}}`)), /nests arrays or objects more than 16 deep/);
    badFile(() => readSafetensors(safetensorsWithHeader(`{"a": {"dtype": "F32", "shape": ${deepArray(10_000)}, "data_offsets": [0, 0]}}`)), /more than 16 deep/);
    badFile(() => readSafetensors(safetensorsWithHeader(`{"a": {"dtype": ${deepArray(12)}, "shape": [], "data_offsets": [0, 0]}}`)), /unsupported dtype/);
  });
  it('npy headers declaring huge shapes, or a zero next to huge dimensions', () => {
    badFile(() => readNpy(npyWithHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }", new Uint8Array(64))), /too large/);
    badFile(() => readNpy(npyWithHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 9007199254740991, 9007199254740991), }")), /too large/);
    badFile(() => readNpy(npyWithHeader(`{'descr': '<f8', 'fortran_order': False, 'shape': (${new Array(65).fill(1).join(', ')}), }`, new Uint8Array(8))), /65 dimensions/);
  });
  it('zip members of every reader are CRC-checked and bounded: stored, deflated, lying', () => {
    const npy = writeNpy({ dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) });
    expect(readNpz(buildZip([stored('a.npy', npy)])).get('a')!.shape).toEqual([2]);
    expect(readNpz(buildZip([deflated('a.npy', npy)])).get('a')!.shape).toEqual([2]);
    badFile(() => readNpz(buildZip([{ ...deflated('a.npy', npy), size: npy.length - 1 }])), /more than the \d+ bytes/);
    badFile(() => readNpz(buildZip([{ ...deflated('a.npy', npy), crc: crc32(npy) ^ 1 }])), /CRC-32 mismatch in 'a\.npy'/);
    badFile(() => readNpz(buildZip([deflated('a.npy', npy)]), { maxBytes: npy.length - 1 }), /member 'a\.npy' once inflated needs/);
    badFile(() => readNpz(buildZip([])), /empty/);
  });
});

describe('JSON from files has bounded nesting', () => {
  it('measures depth without recursion, skipping strings', () => {
    expect(jsonDepth('{"a": [[1], "]]]]["], "b": {}}')).toBe(3);
    expect(jsonDepth(deepArray(1_000_000), 10)).toBe(11);
    expect(parseJsonBounded('[1, [2]]', 'x')).toEqual([1, [2]]);
    badFile(() => parseJsonBounded(deepArray(200), 'x'), /more than 128 deep/);
    badFile(() => parseJsonBounded('{', 'x'), /not valid JSON/);
  });
});

const CASES = Number(process.env['FUZZ_TEST_CASES'] ?? 300);

// the readers do not touch the compute engine: the BASIS_BLAS=off run (test:wasm) skips the fuzzing
describe.skipIf(process.env['BASIS_BLAS'] === 'off')(`seeded fuzzing: ${CASES} cases per reader (crashes, wrong codes, over-budget allocations, slow cases)`, () => {
  for (const target of targets) {
    it(target.format, () => {
      const r = fuzzInProcess(target, { from: 0, to: CASES, seed: 1, maxBytes: 16 * MiB, slowMs: 30_000 });
      const failures = r.failures.map((f) => `case ${f.id} (${f.kind}): ${f.why} ${f.code ?? ''} ${f.message ?? ''}`);
      expect(failures).toEqual([]);
      expect(r.crashes + r.wrongCodes + r.overBudget + r.slow).toBe(0);
      expect(r.cases).toBe(CASES);
      expect(r.rejected).toBeGreaterThan(0);
      expect(r.ok).toBeGreaterThan(0);
    });
  }
});
