import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BasisError } from '../errors.js';
import { readTorchFile, writeTorchFile } from '../node.js';
import { bfloat16ToFloat, halfToFloat, readTorch, writeNpz, writeTorch, type DType, type NdArray } from '../index.js';

const here = fileURLToPath(new URL('./testdata/', import.meta.url));
const bytes = (name: string) => new Uint8Array(readFileSync(join(here, name)));
type Want = { dtype: string; shape: number[]; values: (number | string)[] };
const expected = JSON.parse(readFileSync(join(here, 'torch-expected.json'), 'utf8')) as Record<string, { tensors: Record<string, Want>; skipped?: string[]; skipped_includes?: string[] }>;

/** Values as exact strings: int64 as decimal, floats with NaN/±inf/-0 spelled out. */
const show = (v: number | bigint | string): string => {
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return String(v);
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return Object.is(v, -0) ? '-0' : String(v);
};
const shown = (a: NdArray) => Array.from(a.data as ArrayLike<number | bigint>, show);

function expectSame(a: NdArray, b: NdArray, name = ''): void {
  expect(a.dtype, name).toBe(b.dtype);
  expect(a.shape, name).toEqual(b.shape);
  expect(a.data.constructor, name).toBe(b.data.constructor);
  expect(shown(a), name).toEqual(shown(b));
}

function expectBadFile(f: () => unknown, pattern?: RegExp): void {
  let threw = false;
  try {
    f();
  } catch (e) {
    threw = true;
    if (!(e instanceof BasisError) || e.code !== 'BAD_FILE') throw new Error(`expected BAD_FILE, got ${String(e)}`, { cause: e });
    if (pattern !== undefined) expect(e.message).toMatch(pattern);
  }
  expect(threw, 'expected BAD_FILE').toBe(true);
}

/** BAD_FILE or a successful read, but nothing else (for corruptions that may land in unused bytes). */
function badFileOrValid(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof BasisError) || e.code !== 'BAD_FILE') throw new Error(`expected BAD_FILE, got ${String(e)}`, { cause: e });
  }
}

// --- a tiny pickle builder for hand-made (mostly hostile) data.pkl files
const enc = new TextEncoder();
const P = {
  proto: [0x80, 2],
  mark: [0x28],
  stop: [0x2e],
  tuple: [0x74],
  emptyTuple: [0x29],
  reduce: [0x52],
  persid: [0x51],
  setitems: [0x75],
  false: [0x89],
  global: (m: string, n: string) => [0x63, ...enc.encode(`${m}\n${n}\n`)],
  str: (s: string) => {
    const b = enc.encode(s);
    return [0x58, b.length & 0xff, (b.length >> 8) & 0xff, 0, 0, ...b];
  },
  int: (v: number) => [0x4a, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff],
  long1: (v: bigint) => {
    const b: number[] = [];
    for (let x = v; b.length === 0 || x !== 0n; x >>= 8n) b.push(Number(x & 0xffn));
    if ((b[b.length - 1] as number) & 0x80) b.push(0);
    return [0x8a, b.length, ...b];
  },
  ints: (xs: (number | bigint)[]) => [0x28, ...xs.flatMap((x) => (typeof x === 'bigint' ? P.long1(x) : P.int(x))), 0x74],
  emptyOd: () => [...P.global('collections', 'OrderedDict'), 0x29, 0x52],
};
const pk = (...parts: number[][]) => Uint8Array.from(parts.flat());

/** `_rebuild_tensor_v2(('storage', torch.<storage>, key, 'cpu', numel), offset, size, stride, False, OrderedDict())`. */
function tensorPickle(o: { storage?: string; key?: string; numel: number | bigint; offset?: number; size: (number | bigint)[]; stride: (number | bigint)[]; v3dtype?: string }): number[] {
  const pid = pk(P.mark, P.str('storage'), P.global('torch', o.storage ?? 'FloatStorage'), P.str(o.key ?? '0'), P.str('cpu'), typeof o.numel === 'bigint' ? P.long1(o.numel) : P.int(o.numel), P.tuple, P.persid);
  const fn = o.v3dtype === undefined ? '_rebuild_tensor_v2' : '_rebuild_tensor_v3';
  return [
    ...P.global('torch._utils', fn),
    ...P.mark,
    ...pid,
    ...P.int(o.offset ?? 0),
    ...P.ints(o.size),
    ...P.ints(o.stride),
    ...P.false,
    ...P.emptyOd(),
    ...(o.v3dtype === undefined ? [] : P.global('torch', o.v3dtype)),
    ...P.tuple,
    ...P.reduce,
  ];
}
/** An OrderedDict state_dict pickle of (name, tensor-pickle) pairs. */
const stateDictPickle = (entries: [string, number[]][]) => pk(P.proto, P.emptyOd(), P.mark, ...entries.flatMap(([n, t]) => [P.str(n), t]), P.setitems, P.stop);
/** A torch.save-like archive (written by fflate, stored, unaligned). */
function archive(pkl: Uint8Array, records: Record<string, Uint8Array> = {}, root = 'archive'): Uint8Array {
  const files: Record<string, Uint8Array> = { [`${root}/data.pkl`]: pkl };
  for (const [k, v] of Object.entries(records)) files[`${root}/${k}`] = v;
  if (!(`version` in records)) files[`${root}/version`] = enc.encode('3\n');
  return zipSync(files, { level: 0 });
}
const f32bytes = (xs: number[]) => new Uint8Array(new Float32Array(xs).buffer);

describe('torch.save files written by PyTorch 1.13', () => {
  for (const [file, want] of Object.entries(expected)) {
    it(`${file}: names, dtypes, shapes and values`, () => {
      const { tensors, skipped } = readTorch(bytes(file));
      expect([...tensors.keys()]).toEqual(Object.keys(want.tensors));
      for (const [name, w] of Object.entries(want.tensors)) {
        const t = tensors.get(name)!;
        expect(t.dtype, name).toBe(w.dtype);
        expect(t.shape, name).toEqual(w.shape);
        expect(shown(t), name).toEqual(w.values.map(show));
      }
      const names = skipped.map((s) => s.name);
      if (want.skipped !== undefined) expect(names).toEqual(want.skipped);
      for (const n of want.skipped_includes ?? []) expect(names).toContain(n);
    });
  }
  it('decodes float16/bfloat16 to Float32Array and keeps 64-bit integers exact', () => {
    const { tensors } = readTorch(bytes('torch-dtypes.pt'));
    expect(tensors.get('f16')!.data).toBeInstanceOf(Float32Array);
    expect(tensors.get('bf16')!.dtype).toBe('bfloat16');
    expect(tensors.get('i64')!.data).toBeInstanceOf(BigInt64Array);
    expect((tensors.get('i64')!.data as BigInt64Array)[2]).toBe(2n ** 62n + 1n);
    expect(tensors.get('scalar')).toEqual({ dtype: 'float32', shape: [], data: new Float32Array([2.5]) });
    expect(tensors.get('empty')).toEqual({ dtype: 'float32', shape: [0, 3], data: new Float32Array(0) });
    expect(tensors.get('bool')!.data).toEqual(new Uint8Array([1, 0, 0, 1]));
  });
  it('materialises views (a transpose sharing a storage, an offset slice, a stride-0 expand) in row-major order', () => {
    const { tensors } = readTorch(bytes('torch-model.pt'));
    const w = tensors.get('4.weight')!;
    const wt = tensors.get('extra.fc_weight_t')!;
    expect(wt.shape).toEqual([8, 3]);
    for (let i = 0; i < 8; i++) for (let j = 0; j < 3; j++) expect(wt.data[i * 3 + j]).toBe(w.data[j * 8 + i]);
    expect(wt.data.buffer).not.toBe(w.data.buffer);
    expect(Array.from(tensors.get('extra.slice')!.data as Float32Array)).toEqual([5, 7, 9, 10, 12, 14]);
    expect(Array.from(tensors.get('extra.expand')!.data as Float32Array)).toEqual([1, -2, 3.5, 1, -2, 3.5]);
    expect(tensors.get('1.num_batches_tracked')).toEqual({ dtype: 'int64', shape: [], data: new BigInt64Array([1n]) });
  });
  it('reads nn.Parameter values and flattens nested checkpoints, listing what is not a tensor', () => {
    const { tensors, skipped } = readTorch(bytes('torch-checkpoint.pt'));
    expect(tensors.get('model.0.weight')!.shape).toEqual([2, 3]);
    expect(tensors.get('optimizer.state.0.exp_avg')!.shape).toEqual([2, 3]);
    expect(skipped).toContainEqual({ name: 'epoch', reason: 'int 3' });
    expect(skipped).toContainEqual({ name: 'name', reason: "str 'run-1'" });
    expect(skipped).toContainEqual({ name: 'note', reason: 'None' });
    expect(skipped).toContainEqual({ name: 'model._metadata', reason: 'state_dict metadata (module versions)' });
  });
  it('reads the PyTorch 2.x layout (byteorder record, big-endian storages) and deflated re-zips', () => {
    expect(readTorch(bytes('torch-2x-big.pt')).tensors.get('n')!.data).toEqual(new BigInt64Array([2n ** 40n + 3n, -1n]));
    const a = readTorch(bytes('torch-deflate.pt')).tensors;
    const b = readTorch(bytes('torch-dtypes.pt')).tensors;
    for (const [k, v] of b) expectSame(a.get(k)!, v, k);
  });
  it('refuses a checkpoint holding argparse.Namespace, naming the global', () => {
    expectBadFile(() => readTorch(bytes('torch-namespace.pt')), /argparse\.Namespace/);
  });
});

describe('hand-made archives (PyTorch >= 2.1 rebuild functions, odd layouts)', () => {
  it('_rebuild_tensor_v3 with an UntypedStorage and a torch.uint16 dtype (PyTorch >= 2.3)', () => {
    const u16 = new Uint8Array(new Uint16Array([1, 65535, 300]).buffer);
    const pkl = stateDictPickle([['u', tensorPickle({ storage: 'UntypedStorage', numel: 6, size: [3], stride: [1], v3dtype: 'uint16' })]]);
    expect(readTorch(archive(pkl, { 'data/0': u16 })).tensors.get('u')).toEqual({ dtype: 'uint16', shape: [3], data: new Uint16Array([1, 65535, 300]) });
  });
  it('_rebuild_from_type_v2 around a Parameter, a bare tensor, any root name, .data/version', () => {
    const t = tensorPickle({ numel: 2, size: [2], stride: [1] });
    const param = [...P.global('torch._utils', '_rebuild_parameter'), ...P.mark, ...t, 0x88, ...P.emptyOd(), ...P.tuple, ...P.reduce];
    const wrapped = [...P.global('torch._tensor', '_rebuild_from_type_v2'), ...P.mark, ...P.global('torch._utils', '_rebuild_parameter'), ...P.global('torch.nn.parameter', 'Parameter'), ...P.mark, ...t, 0x88, ...P.emptyOd(), ...P.tuple, 0x7d, ...P.tuple, ...P.reduce];
    const data = { 'data/0': f32bytes([1, 2]) };
    for (const body of [param, wrapped]) expect(readTorch(archive(stateDictPickle([['p', body]]), data)).tensors.get('p')!.data).toEqual(new Float32Array([1, 2]));
    const bare = readTorch(archive(pk(P.proto, t, P.stop), { ...data, '.data/version': enc.encode('3\n'), version: enc.encode('3\n') }, 'my model v2'));
    expect([...bare.tensors.keys()]).toEqual(['']);
  });
  it('keeps the first of two tensors that flatten to the same name, and notes the second', () => {
    const t = tensorPickle({ numel: 2, size: [2], stride: [1] });
    const nested = pk(P.proto, [0x7d], P.mark, P.str('a.b'), t, P.str('a'), [0x7d], P.mark, P.str('b'), t, P.setitems, P.setitems, P.stop);
    const { tensors, skipped } = readTorch(archive(nested, { 'data/0': f32bytes([1, 2]) }));
    expect([...tensors.keys()]).toEqual(['a.b']);
    expect(skipped[0]!.name).toBe('a.b');
  });
});

describe('writeTorch', () => {
  const cases: [DType, ArrayLike<number | bigint>][] = [
    ['float64', [Math.PI, -1e-300, 5e-324, NaN, Infinity, -0]],
    ['float32', [1.5, -2, 3.25, 0, NaN, -Infinity]],
    ['float16', [1.5, -2, 65504, 0.000061035156, 0, -0.5]],
    ['bfloat16', [1, -3.140625, 0, 2 ** -130, Infinity, -0]],
    ['int64', [1n, -2n, 9007199254740993n, -9223372036854775808n, 0n, 7n]],
    ['int32', [1, -2, 2147483647, -2147483648, 0, 7]],
    ['int16', [-32768, 32767, 0, 1, 2, 3]],
    ['int8', [-128, 127, 0, 1, 2, 3]],
    ['uint8', [0, 255, 1, 2, 3, 4]],
    ['bool', [1, 0, 1, 1, 0, 0]],
  ];
  const ctor = { float64: Float64Array, float32: Float32Array, float16: Float32Array, bfloat16: Float32Array, int64: BigInt64Array, int32: Int32Array, int16: Int16Array, int8: Int8Array, uint8: Uint8Array, bool: Uint8Array } as Record<string, { from(v: ArrayLike<unknown>): NdArray['data'] }>;
  const all: Record<string, NdArray> = {};
  for (const [dtype, values] of cases) all[dtype] = { dtype, shape: [2, 3], data: ctor[dtype]!.from(values) };
  all['scalar'] = { dtype: 'float32', shape: [], data: new Float32Array([2.5]) };
  all['empty'] = { dtype: 'int64', shape: [0, 3, 2], data: new BigInt64Array(0) };
  all['layers.0.wéight'] = { dtype: 'float32', shape: [1, 1, 1, 2, 1], data: new Float32Array([1, 2]) };

  it('round-trips every dtype, scalars, empty and 5-D tensors bit for bit', () => {
    const back = readTorch(writeTorch(all));
    expect([...back.tensors.keys()]).toEqual(Object.keys(all));
    expect(back.skipped).toEqual([]);
    for (const [k, v] of Object.entries(all)) expectSame(back.tensors.get(k)!, v, k);
  });
  it('round-trips the PyTorch fixtures (views come back contiguous with the same values)', () => {
    for (const file of Object.keys(expected)) {
      const a = readTorch(bytes(file)).tensors;
      const b = readTorch(writeTorch(a)).tensors;
      for (const [k, v] of a) expectSame(b.get(k)!, v, `${file}:${k}`);
    }
  });
  it('round-trips random tensors (property)', () => {
    const dtypeValue: Record<string, fc.Arbitrary<number | bigint>> = {
      float64: fc.double(),
      float32: fc.float(),
      float16: fc.integer({ min: 0, max: 0xffff }).map((h) => halfToFloat(h)).filter((x) => !Number.isNaN(x)),
      bfloat16: fc.integer({ min: 0, max: 0xffff }).map((h) => bfloat16ToFloat(h)).filter((x) => !Number.isNaN(x)),
      int64: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      int32: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      int16: fc.integer({ min: -32768, max: 32767 }),
      int8: fc.integer({ min: -128, max: 127 }),
      uint8: fc.integer({ min: 0, max: 255 }),
      bool: fc.integer({ min: 0, max: 1 }),
    };
    const tensor = fc
      .tuple(fc.constantFrom(...(Object.keys(dtypeValue) as DType[])), fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }))
      .chain(([dtype, shape]) =>
        fc.array(dtypeValue[dtype]!, { minLength: shape.reduce((a, b) => a * b, 1), maxLength: shape.reduce((a, b) => a * b, 1) }).map((v): NdArray => ({ dtype, shape, data: ctor[dtype]!.from(v) })),
      );
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 12 }), tensor, { maxKeys: 5 }), (dict) => {
        const back = readTorch(writeTorch(dict)).tensors;
        expect([...back.keys()]).toEqual(Object.keys(dict));
        for (const [k, v] of Object.entries(dict)) expectSame(back.get(k)!, v, k);
      }),
      { numRuns: 150 },
    );
  });
  it('lays the archive out as PyTorch does: stored members under archive/, data 64-byte aligned, version last', () => {
    const file = writeTorch(all);
    const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
    const names: string[] = [];
    for (let p = 0; view.getUint32(p, true) === 0x04034b50; ) {
      const nameLen = view.getUint16(p + 26, true);
      const extraLen = view.getUint16(p + 28, true);
      expect(view.getUint16(p + 8, true), 'stored').toBe(0);
      const start = p + 30 + nameLen + extraLen;
      expect(start % 64, 'aligned').toBe(0);
      names.push(new TextDecoder().decode(file.subarray(p + 30, p + 30 + nameLen)));
      p = start + view.getUint32(p + 18, true);
    }
    expect(names).toEqual(['archive/data.pkl', 'archive/byteorder', ...Object.keys(all).map((_, i) => `archive/data/${i}`), 'archive/version']);
  });
  it('writes more than 1000 tensors (SETITEMS batches) and sizes beyond 2^16 (BININT) and 2^31 (LONG1)', () => {
    const many: Record<string, NdArray> = {};
    for (let i = 0; i < 2100; i++) many[`t${i}`] = { dtype: 'uint8', shape: [1], data: new Uint8Array([i & 0xff]) };
    const back = readTorch(writeTorch(many)).tensors;
    expect(back.size).toBe(2100);
    expect(back.get('t2099')!.data).toEqual(new Uint8Array([2099 & 0xff]));
    const wide = readTorch(writeTorch({ w: { dtype: 'int8', shape: [70000, 1], data: new Int8Array(70000).fill(-3) } })).tensors.get('w')!;
    expect(wide.shape).toEqual([70000, 1]);
    expect(readTorch(writeTorch({ e: { dtype: 'float32', shape: [2 ** 40, 0], data: new Float32Array(0) } })).tensors.get('e')!.shape).toEqual([2 ** 40, 0]);
  });
  it('rejects dtypes old PyTorch cannot load and inconsistent shapes', () => {
    expect(() => writeTorch({ u: { dtype: 'uint16', shape: [1], data: new Uint16Array(1) } })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => writeTorch({ a: { dtype: 'float32', shape: [3], data: new Float32Array(2) } })).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    expect(() => writeTorch({ a: { dtype: 'float32', shape: [-1], data: new Float32Array(0) } })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
  it('node helpers write and read .pt files atomically', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'basis-torch-'));
    await writeTorchFile(join(dir, 'm.pt'), { w: { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) } });
    expect((await readTorchFile(join(dir, 'm.pt'))).tensors.get('w')!.data).toEqual(new Float32Array([1, 2]));
    expect(readdirSync(dir)).toEqual(['m.pt']);
    await expect(readTorchFile(join(dir, 'nope.pt'))).rejects.toMatchObject({ code: 'IO' });
  });
});

const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { timeout: 60_000 }).status === 0;

describe('writeTorch output loaded by the real torch.load', () => {
  it.skipIf(!hasTorch)('torch.load returns an OrderedDict with the same dtypes, shapes and values (needs /usr/bin/python3 with torch; skipped otherwise)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'basis-torch-'));
    const tensors = new Map([...readTorch(bytes('torch-dtypes.pt')).tensors, ...readTorch(bytes('torch-model.pt')).tensors]);
    writeFileSync(join(dir, 'out.pt'), writeTorch(tensors));
    const script = [
      'import json, math, sys, collections, torch',
      "d = torch.load(sys.argv[1], map_location='cpu')",
      "assert type(d) is collections.OrderedDict, type(d)",
      'def v(x):',
      '    if isinstance(x, bool): return 1 if x else 0',
      '    if isinstance(x, int): return str(x)',
      "    return 'nan' if math.isnan(x) else 'inf' if x == math.inf else '-inf' if x == -math.inf else ('-0' if x == 0 and math.copysign(1, x) < 0 else x)",
      "out = {k: {'dtype': str(t.dtype)[6:], 'shape': list(t.shape), 'contiguous': t.is_contiguous(), 'values': [v(x) for x in (t.reshape(-1).tolist() if t.dtype in (torch.int64, torch.bool) else t.reshape(-1).double().tolist())]} for k, t in d.items()}",
      'print(json.dumps(out))',
    ].join('\n');
    const run = spawnSync('/usr/bin/python3', ['-c', script, join(dir, 'out.pt')], { encoding: 'utf8', timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    const got = JSON.parse(run.stdout) as Record<string, Want & { contiguous: boolean }>;
    expect(Object.keys(got)).toEqual([...tensors.keys()]);
    for (const [k, t] of tensors) {
      expect(got[k]!.dtype, k).toBe(t.dtype);
      expect(got[k]!.shape, k).toEqual(t.shape);
      expect(got[k]!.contiguous, k).toBe(true);
      const vals = got[k]!.values.map((x) => (typeof x === 'number' ? show(x) : x));
      expect(vals, k).toEqual(shown(t));
    }
  }, 180_000);
});

describe('corrupt, truncated and hostile files give BAD_FILE, never a crash, a hang or a huge allocation', () => {
  const valid = { pytorch: bytes('torch-protocol4.pt'), basis: writeTorch({ a: { dtype: 'float32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }, b: { dtype: 'int64', shape: [], data: new BigInt64Array([5n]) } }) };
  for (const [kind, file] of Object.entries(valid)) {
    it(`${kind}-written file: every truncation`, () => {
      for (let len = 0; len < file.length; len++) expectBadFile(() => readTorch(file.subarray(0, len)));
    });
    it(`${kind}-written file: cutting a range out of the middle, and random single-byte corruptions`, () => {
      fc.assert(
        fc.property(fc.nat(file.length - 1), fc.integer({ min: 1, max: 200 }), (at, k) => {
          const cut = new Uint8Array([...file.subarray(0, at), ...file.subarray(Math.min(file.length, at + k))]);
          badFileOrValid(() => readTorch(cut));
        }),
        { numRuns: 300 },
      );
      let caught = 0;
      fc.assert(
        fc.property(fc.nat(file.length - 1), fc.integer({ min: 0, max: 255 }), (pos, v) => {
          const copy = file.slice();
          copy[pos] = v;
          try {
            readTorch(copy);
          } catch (e) {
            if (!(e instanceof BasisError) || e.code !== 'BAD_FILE') throw e;
            caught++;
          }
        }),
        { numRuns: 400 },
      );
      expect(caught).toBeGreaterThan(0);
    });
  }
  it('every storage byte is covered by the CRC check', () => {
    const file = valid.basis.slice();
    const { tensors } = readTorch(file);
    expect(tensors.size).toBe(2);
    const at = file.indexOf(0x40, 64 * 3); // 2.0f = 00 00 00 40: a byte of tensor a's storage
    file[at] = (file[at] as number) ^ 1;
    expectBadFile(() => readTorch(file), /CRC-32 mismatch in 'archive\/data\/0'/);
  });
  it('random bytes, random zip-looking bytes, an npz, a legacy (pre-1.6) pickle, an empty zip', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (junk) => expectBadFile(() => readTorch(junk))), { numRuns: 300 });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (junk) => expectBadFile(() => readTorch(new Uint8Array([0x50, 0x4b, 3, 4, ...junk, 0x50, 0x4b, 5, 6, ...junk.subarray(0, 18)])))),
      { numRuns: 300 },
    );
    expectBadFile(() => readTorch(writeNpz({ a: { dtype: 'float64', shape: [1], data: new Float64Array(1) } })), /not in a folder/);
    expectBadFile(() => readTorch(pk(P.proto, [0x4b, 1], P.stop)), /legacy/);
    expectBadFile(() => readTorch(zipSync({})), /empty/);
  });
  it('a zip without data.pkl, without version, with a bad byteorder', () => {
    expectBadFile(() => readTorch(zipSync({ 'archive/version': enc.encode('3\n'), 'archive/data/0': new Uint8Array(4) }, { level: 0 })), /no archive\/data\.pkl/);
    const pkl = stateDictPickle([]);
    expectBadFile(() => readTorch(zipSync({ 'archive/data.pkl': pkl }, { level: 0 })), /no archive\/version/);
    expectBadFile(() => readTorch(archive(pkl, { byteorder: enc.encode('middle') })), /byteorder/);
    expect(readTorch(archive(pkl)).tensors.size).toBe(0);
  });
  it('forbidden globals are named: os.system, builtins.eval via STACK_GLOBAL, a TorchScript module', () => {
    expectBadFile(() => readTorch(archive(pk(P.proto, P.global('os', 'system'), P.str('echo hi'), [0x85], P.reduce, P.stop))), /os\.system/);
    const stackGlobal = pk(P.proto, [0x8c, 8], [...enc.encode('builtins')], [0x8c, 4], [...enc.encode('eval')], [0x93], P.stop);
    expectBadFile(() => readTorch(archive(stackGlobal)), /builtins\.eval/);
    const script = archive(pk(P.proto, P.global('__torch__', 'Net'), P.stop), { 'constants.pkl': pk(P.proto, P.emptyTuple, P.stop), 'code/__torch__.py': enc.encode('') });
    expectBadFile(() => readTorch(script), /__torch__\.Net.*TorchScript/);
    expectBadFile(() => readTorch(archive(pk(P.proto, P.global('torch', 'ComplexFloatStorage'), P.stop))), /complex64/);
    expectBadFile(() => readTorch(archive(pk(P.proto, P.global('torch', 'constructor'), P.stop))), /torch\.constructor/);
    expectBadFile(() => readTorch(archive(pk(P.proto, P.global('collections', 'OrderedDict'), P.str('x'), [0x85], P.reduce, P.stop))), /OrderedDict/);
    expectBadFile(() => readTorch(archive(pk(P.proto, [0x8f], P.stop))), /EMPTY_SET/);
  });
  it('storages shorter than the view needs, or than their declared numel; missing or retyped storages', () => {
    const four = { 'data/0': f32bytes([1, 2, 3, 4]) };
    expectBadFile(() => readTorch(archive(stateDictPickle([['w', tensorPickle({ numel: 4, size: [3, 3], stride: [3, 1] })]]), four)), /needs 9 float32 elements .* has 4/);
    expectBadFile(() => readTorch(archive(stateDictPickle([['w', tensorPickle({ numel: 4, offset: 3, size: [2], stride: [1] })]]), four)), /needs 5/);
    expectBadFile(() => readTorch(archive(stateDictPickle([['w', tensorPickle({ numel: 6, size: [6], stride: [1] })]]), four)), /needs 24 bytes but data\/0 has 16/);
    expectBadFile(() => readTorch(archive(stateDictPickle([['w', tensorPickle({ key: '7', numel: 4, size: [4], stride: [1] })]]), four)), /no record data\/7/);
    const twice = stateDictPickle([
      ['a', tensorPickle({ numel: 4, size: [4], stride: [1] })],
      ['b', tensorPickle({ storage: 'IntStorage', numel: 4, size: [4], stride: [1] })],
    ]);
    expectBadFile(() => readTorch(archive(twice, four)), /both float32 and int32/);
    expectBadFile(() => readTorch(archive(stateDictPickle([['w', tensorPickle({ numel: 4, size: [2, 2], stride: [2] })]]), four)), /differ in length/);
  });
  it('absurd sizes are rejected before anything is allocated', () => {
    const one = { 'data/0': f32bytes([1]) };
    const huge = (size: (number | bigint)[], stride: (number | bigint)[]) => archive(stateDictPickle([['w', tensorPickle({ numel: 1, size, stride })]]), one);
    expectBadFile(() => readTorch(huge([1e9, 1e9], [0, 0])), /too large/);
    expectBadFile(() => readTorch(huge([2 ** 20, 2 ** 20], [0, 0])), /maxBytes/); // 4 TiB of float32 from 4 bytes
    expectBadFile(() => readTorch(huge([2n ** 70n], [0])), /not a non-negative integer/);
    expectBadFile(() => readTorch(huge([3], [-1])), /not a non-negative integer/);
    expectBadFile(() => readTorch(archive(stateDictPickle([['w', tensorPickle({ numel: 2n ** 60n, size: [1], stride: [1] })]]), one)), /numel/);
    // within the budget, an expand is fine
    expect(readTorch(huge([3, 2], [0, 0])).tensors.get('w')!.data).toEqual(new Float32Array(6).fill(1));
    expectBadFile(() => readTorch(huge([3, 2], [0, 0]), { maxBytes: 20 }), /maxBytes/);
  });
  it('hostile pickles: truncated, no STOP, cycles, exponential sharing, deep nesting, bad memo reads, huge lengths', () => {
    const list = [0x5d];
    expectBadFile(() => readTorch(archive(pk(P.proto, list))), /without STOP/);
    expectBadFile(() => readTorch(archive(pk(P.proto, list, [0x71, 0, 0x68, 0, 0x61], P.stop))), /contains itself/);
    // 20 levels, each a list holding the previous level twice: 2^20 paths from 100 bytes
    const laughs = [...P.proto, 0x4b, 1];
    for (let i = 0; i < 20; i++) laughs.push(0x71, i, 0x30, 0x5d, 0x68, i, 0x61, 0x68, i, 0x61);
    laughs.push(0x2e);
    expectBadFile(() => readTorch(archive(Uint8Array.from(laughs))), /shared objects/);
    const deep = [...P.proto, ...Array<number>(200).fill(0x5d), ...Array<number>(199).fill(0x61), 0x2e];
    expectBadFile(() => readTorch(archive(Uint8Array.from(deep))), /64 deep/);
    const deepKey = [...P.proto, 0x7d, ...P.emptyTuple, ...Array<number>(100_000).fill(0x85), 0x4e, 0x73, 0x2e];
    expectBadFile(() => readTorch(archive(Uint8Array.from(deepKey))), /nested more than 32 deep/);
    expectBadFile(() => readTorch(archive(pk(P.proto, [0x68, 9], P.stop))), /memo slot 9/);
    expectBadFile(() => readTorch(archive(pk(P.proto, [0x58, 0xff, 0xff, 0xff, 0x7f], P.stop))), /truncated/);
    expectBadFile(() => readTorch(archive(pk(P.proto, [0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], P.stop))), /truncated/);
    expectBadFile(() => readTorch(archive(pk(P.proto, [0x74], P.stop))), /no MARK/);
    expectBadFile(() => readTorch(archive(pk(P.proto, P.reduce, P.stop))), /empty stack/);
    expectBadFile(() => readTorch(archive(pk([0x80, 9], P.stop))), /protocol 9/);
    expectBadFile(() => readTorch(archive(pk(P.proto, [0x4b, 1], [0x4b, 2], P.stop))), /2 values on the stack/);
    expectBadFile(() => readTorch(archive(pk(P.proto, [0x4b, 1], P.stop))), /holds a int/);
  });
  it('zip structure: deflate bombs, lying sizes, bad CRC, encryption, duplicate names', () => {
    const pkl = stateDictPickle([]);
    const good = archive(pkl);
    const view = new DataView(good.buffer);
    const eocd = good.length - 22;
    const cd = view.getUint32(eocd + 16, true);
    const patch = (f: (v: DataView, cd: number) => void) => {
      const copy = good.slice();
      f(new DataView(copy.buffer), cd);
      return copy;
    };
    expectBadFile(() => readTorch(patch((v, c) => v.setUint32(c + 24, 0xfffffff0, true))), /compressed size/); // stored size lie
    expectBadFile(() => readTorch(patch((v, c) => (v.setUint16(c + 10, 8, true), v.setUint32(c + 24, 0xfffffff0, true)))), /claims/); // deflate bomb
    expectBadFile(() => readTorch(patch((v, c) => v.setUint32(c + 16, 0x12345678, true))), /CRC/);
    expectBadFile(() => readTorch(patch((v, c) => v.setUint16(c + 8, 1, true))), /encrypted/);
    expectBadFile(() => readTorch(patch((v, c) => v.setUint16(c + 10, 12, true))), /method 12/);
    expectBadFile(() => readTorch(patch((v) => v.setUint16(eocd + 10, 0xfffe, true))), /cannot hold/);
    expectBadFile(() => readTorch(patch((v) => v.setUint32(eocd + 16, 0xffffffff, true))), /zip64/);
    expectBadFile(() => readTorch(patch((v, c) => v.setUint32(c + 42, 0x7fffffff, true))), /local header/);
    // two members of the same name: write 'archive/data.pkX' and rename it in the central directory
    const two = zipSync({ 'archive/data.pkl': pkl, 'archive/data.pkX': pkl, 'archive/version': enc.encode('3\n') }, { level: 0 });
    const start = new DataView(two.buffer).getUint32(two.length - 22 + 16, true);
    for (let i = start; i < two.length; i++) if (two[i] === 0x58 && two[i - 1] === 0x6b && two[i - 2] === 0x70) two[i] = 0x6c;
    expectBadFile(() => readTorch(two), /twice/);
  });
});
