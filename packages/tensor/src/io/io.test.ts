import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fixtureBytes, fixtureJson } from '@basis/test-utils';
import { BasisError } from '../errors.js';
import { Matrix } from '../matrix.js';
import { readArrayFile, readMatrixFile, writeNpyFile, writeSafetensorsFile } from '../node.js';
import {
  bfloat16ToFloat,
  floatToBfloat16,
  floatToHalf,
  halfToFloat,
  matrixToNpy,
  readNpy,
  readNpyMatrix,
  readNpz,
  readSafetensors,
  writeNpy,
  writeNpz,
  writeSafetensors,
  type DType,
  type NdArray,
} from '../index.js';

const here = fileURLToPath(new URL('./testdata/', import.meta.url));
const bytes = (name: string) => new Uint8Array(readFileSync(join(here, name)));
const expected = JSON.parse(readFileSync(join(here, 'expected.json'), 'utf8')) as Record<string, { shape?: number[]; values?: number[] } & Record<string, unknown>>;
const num = (a: NdArray) => Array.from(a.data as ArrayLike<number | bigint>, Number);

describe('.npy files written by numpy', () => {
  for (const name of readdirSync(here).filter((f) => f.endsWith('.npy'))) {
    it(name, () => {
      const arr = readNpy(bytes(name));
      const want = expected[name]!;
      expect(arr.shape).toEqual(want.shape);
      expect(num(arr)).toEqual(want.values);
    });
  }
  it('keeps int64 exact (BigInt64Array) and converts safe values to float64', () => {
    const arr = readNpy(bytes('i8.npy'));
    expect(arr.dtype).toBe('int64');
    expect(arr.data).toBeInstanceOf(BigInt64Array);
    // -2^53 is not a safe integer (it cannot be told apart from -2^53 - 1 in float64): refused
    expect(() => readNpyMatrix(bytes('i8.npy'))).toThrow(/too large to convert/);
    const safe = writeNpy({ dtype: 'int64', shape: [2], data: new BigInt64Array([2n ** 40n, -5n]) });
    expect(Array.from(readNpyMatrix(safe).data)).toEqual([2 ** 40, -5]);
  });
  it('reads the shared fixtures, and their norms match the expected values', () => {
    const X = readNpyMatrix(fixtureBytes('linalg/svd-gauss-40x25.npy'));
    expect(X.shape).toEqual([40, 25]);
    const want = fixtureJson<Record<string, { frobenius_norm: number }>>('linalg/expected.json')['svd-gauss-40x25']!.frobenius_norm;
    const fro = Math.sqrt(X.data.reduce((s, v) => s + v * v, 0));
    expect(Math.abs(fro - want)).toBeLessThan(1e-12 * want);
  });
});

describe('round trips', () => {
  const cases: [DType, ArrayLike<number | bigint>][] = [
    ['float64', [1.5, -2, 1e300, 5e-324, NaN, Infinity]],
    ['float32', [1.5, -2, 3.25, 0, NaN, -Infinity]],
    ['float16', [1.5, -2, 65504, 0.000061035156, 0, -0.5]],
    ['int32', [1, -2, 2147483647, -2147483648, 0, 7]],
    ['int64', [1n, -2n, 9007199254740993n, -9223372036854775808n, 0n, 7n]],
    ['uint8', [0, 255, 1, 2, 3, 4]],
    ['bool', [1, 0, 1, 1, 0, 0]],
    ['int16', [-32768, 32767, 0, 1, 2, 3]],
  ];
  for (const [dtype, values] of cases) {
    it(`npy and safetensors: ${dtype}`, () => {
      const data = readNpy(writeNpy({ dtype: 'float64', shape: [6], data: new Float64Array(6) })).data; // warm path
      expect(data.length).toBe(6);
      const ctor = { float64: Float64Array, float32: Float32Array, float16: Float32Array, int32: Int32Array, int64: BigInt64Array, uint8: Uint8Array, bool: Uint8Array, int16: Int16Array }[dtype as 'float64'];
      const arr: NdArray = { dtype, shape: [2, 3], data: (ctor as unknown as { from(v: unknown): NdArray['data'] }).from(values) };
      const back = readNpy(writeNpy(arr));
      expect(back.dtype).toBe(dtype);
      expect(back.shape).toEqual([2, 3]);
      expect(num(back).map(String)).toEqual(num(arr).map(String));
      const st = readSafetensors(writeSafetensors({ t: arr }, { k: 'v' }));
      expect(num(st.tensors.get('t')!).map(String)).toEqual(num(arr).map(String));
      expect(st.metadata).toEqual({ k: 'v' });
    });
  }
  it('matrices round-trip through npy and npz bit for bit', () => {
    const m = Matrix.from([
      [Math.PI, -1e-300],
      [2 ** 52 + 1, 0.1],
    ]);
    expect(readNpyMatrix(matrixToNpy(m)).data).toEqual(m.data);
    for (const compress of [false, true]) {
      const z = readNpz(writeNpz({ a: { dtype: 'float64', shape: [2, 2], data: m.data }, b: { dtype: 'int32', shape: [1], data: new Int32Array([4]) } }, { compress }));
      expect(z.get('a')!.data).toEqual(m.data);
      expect(num(z.get('b')!)).toEqual([4]);
    }
  });
  it('half and bfloat16 conversions round to nearest even and invert exactly', () => {
    for (let h = 0; h < 0x10000; h += 7) {
      const x = halfToFloat(h);
      if (Number.isNaN(x)) continue;
      expect(floatToHalf(x)).toBe(h);
      const b = bfloat16ToFloat(h);
      if (!Number.isNaN(b)) expect(floatToBfloat16(b)).toBe(h);
    }
    expect(floatToHalf(1 + 2 ** -11)).toBe(floatToHalf(1)); // tie to even
    expect(floatToHalf(1e6)).toBe(0x7c00);
  });
});

describe('npz and safetensors written by other tools', () => {
  it('reads a numpy savez_compressed archive', () => {
    const z = readNpz(bytes('pair.npz'));
    expect(num(z.get('acts')!)).toEqual(expected['pair.npz']!['acts']);
    expect(num(z.get('labels')!)).toEqual([3, 1, 2]);
  });
  it('reads F32, BF16, F16, I64 tensors and metadata laid out per the specification', () => {
    const { tensors, metadata } = readSafetensors(bytes('model.safetensors'));
    const want = expected['model.safetensors']!;
    for (const name of ['layers.0.weight', 'layers.0.bf16', 'layers.1.half', 'steps']) expect(num(tensors.get(name)!)).toEqual(want[name]);
    expect(tensors.get('layers.0.bf16')!.dtype).toBe('bfloat16');
    expect(metadata).toEqual(want['metadata']);
  });
});

describe('node file helpers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'basis-io-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('read path specs with keys and write atomically', async () => {
    await writeNpyFile(join(dir, 'a.npy'), { dtype: 'float64', shape: [2, 2], data: new Float64Array([1, 2, 3, 4]) });
    await writeSafetensorsFile(join(dir, 'm.safetensors'), { w: { dtype: 'float32', shape: [3], data: new Float32Array([1, 2, 3]) }, v: { dtype: 'float32', shape: [1], data: new Float32Array([9]) } });
    expect((await readMatrixFile(join(dir, 'a.npy'))).toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect((await readMatrixFile(join(dir, 'm.safetensors') + ':w')).shape).toEqual([3, 1]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    writeFileSync(join(dir, 'p.npz'), bytes('pair.npz'));
    expect((await readArrayFile(join(dir, 'p.npz') + ':labels')).shape).toEqual([3]);
  });
  it('names the problem: missing file, unknown key, ambiguous archive, unknown format, >2-D', async () => {
    await expect(readArrayFile(join(dir, 'nope.npy'))).rejects.toMatchObject({ code: 'IO' });
    await expect(readArrayFile(join(dir, 'm.safetensors') + ':x')).rejects.toThrow(/keys: /);
    await expect(readArrayFile(join(dir, 'm.safetensors'))).rejects.toThrow(/holds 2 arrays/);
    await expect(readArrayFile(join(dir, 'data.csv'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    writeFileSync(join(dir, 'cube.npy'), bytes('f4-big-fortran-3d.npy'));
    await expect(readMatrixFile(join(dir, 'cube.npy'))).rejects.toMatchObject({ code: 'SHAPE_MISMATCH' });
  });
});

function expectBadFile(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof BasisError) || e.code !== 'BAD_FILE') throw new Error(`expected BAD_FILE, got ${String(e)}`, { cause: e });
    return;
  }
}

describe('corrupt and truncated files give BAD_FILE, never a crash or a huge allocation', () => {
  const valid = {
    npy: bytes('f8-c.npy'),
    npz: bytes('pair.npz'),
    safetensors: bytes('model.safetensors'),
  };
  const readers = { npy: readNpy, npz: readNpz, safetensors: readSafetensors };
  for (const [kind, file] of Object.entries(valid)) {
    const read = readers[kind as keyof typeof readers];
    it(`${kind}: every truncation`, () => {
      for (let len = 0; len < file.length; len++) {
        let threw = false;
        try {
          read(file.subarray(0, len));
        } catch (e) {
          threw = true;
          expect(e).toBeInstanceOf(BasisError);
          expect((e as BasisError).code).toBe('BAD_FILE');
        }
        // npz members are compressed: a cut archive can never parse; npy/safetensors lose data bytes
        expect(threw, `length ${len}`).toBe(true);
      }
    });
    it(`${kind}: random bytes and random single-byte corruptions`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), (junk) => expectBadFile(() => read(junk))),
        { numRuns: 300 },
      );
      fc.assert(
        fc.property(fc.nat(file.length - 1), fc.integer({ min: 0, max: 255 }), (pos, v) => {
          const copy = file.slice();
          copy[pos] = v;
          expectBadFile(() => read(copy));
        }),
        { numRuns: 400 },
      );
    });
  }
  it('absurd shapes and header lengths are rejected before allocating', () => {
    const header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000, 1000000000000), }";
    const npy = new Uint8Array(10 + header.length + 1);
    npy.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    new DataView(npy.buffer).setUint16(8, header.length + 1, true);
    for (let i = 0; i < header.length; i++) npy[10 + i] = header.charCodeAt(i);
    npy[npy.length - 1] = 10;
    expect(() => readNpy(npy)).toThrow(/truncated|too large/);
    const st = new Uint8Array(16);
    new DataView(st.buffer).setBigUint64(0, 2n ** 62n, true);
    expect(() => readSafetensors(st)).toThrow(/100 MB/);
    const h = new TextEncoder().encode('{"a":{"dtype":"F64","shape":[1e12,1e12],"data_offsets":[0,8]}}');
    const st2 = new Uint8Array(8 + h.length + 8);
    new DataView(st2.buffer).setBigUint64(0, BigInt(h.length), true);
    st2.set(h, 8);
    expect(() => readSafetensors(st2)).toThrow(BasisError);
  });
  it('writers reject inconsistent shapes and reserved names', () => {
    expect(() => writeNpy({ dtype: 'float64', shape: [3], data: new Float64Array(2) })).toThrow(BasisError);
    expect(() => writeNpy({ dtype: 'bfloat16', shape: [1], data: new Float32Array(1) })).toThrow(/safetensors/);
    expect(() => writeSafetensors({ __metadata__: { dtype: 'float32', shape: [1], data: new Float32Array(1) } })).toThrow(BasisError);
  });
});
