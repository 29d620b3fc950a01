// Fuzz targets of the @basis/tensor readers: npy, npz, safetensors and torch.save (.pt). Samples
// are the numpy/PyTorch-written test files plus files written by basis; the format-aware mutators
// keep zip CRCs and length prefixes valid so that the parsers behind them are reached.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { GENERIC_MUTATORS, type Crafted, type FuzzRng, type FuzzTarget, type Mutator } from '@basis/test-utils/fuzz';
import { ByteBudget, readNpy, readNpz, readSafetensors, readTorch, writeNpy, writeNpz, writeSafetensors } from '../src/index.js';
import { readZipDirectory, zipEntryData } from '../src/io/zip-reader.js';
import {
  deepArray,
  npyWithHeader,
  npzBadCrc,
  npzBomb,
  pickleAppends,
  pickleExponentialKey,
  safetensorsWithHeader,
  torchArchive,
  torchPickleBomb,
  torchSample,
  torchStorageBomb,
  torchWideViews,
} from './crafted.js';

const testdata = fileURLToPath(new URL('../src/io/testdata/', import.meta.url));
const files = (ext: string) => readdirSync(testdata).filter((f) => f.endsWith(ext)).map((f) => new Uint8Array(readFileSync(testdata + f)));
const dec = new TextDecoder('latin1');
const generic = (b: Uint8Array, r: FuzzRng) => r.pick(GENERIC_MUTATORS).apply(b, r);
const BIG = ['0', '1', '255', '65536', '2147483647', '4294967296', '9007199254740991', '9007199254740993', '99999999999999999999', '-1', '1e9', ''];

/** Overwrites one size/CRC/offset field of one central-directory entry with an extreme value. */
const zipFieldLie: Mutator = {
  name: 'zip-field-lie',
  apply(b, r) {
    const c = b.slice();
    const v = new DataView(c.buffer);
    const at: number[] = [];
    for (let i = 0; i + 46 <= c.length; i++) if (v.getUint32(i, true) === 0x02014b50) at.push(i);
    const eocd = c.length - 22;
    if (r.next() < 0.2 && eocd >= 0 && v.getUint32(eocd, true) === 0x06054b50) {
      v.setUint32(eocd + r.pick([8, 10, 12, 16]), r.pick([0, 1, 0xffff, 0xffffffff, r.int(2 ** 32)]), true);
      return c;
    }
    if (at.length === 0) return c;
    const p = r.pick(at);
    const field = r.pick([10, 16, 20, 24, 28, 30, 42]);
    const value = r.pick([0, 1, 8, 0xffff, 0xfffffff0, 0xffffffff, r.int(2 ** 32), b.length]);
    if (field === 10 || field === 28 || field === 30) v.setUint16(p + field, value & 0xffff, true);
    else v.setUint32(p + field, value >>> 0, true);
    return c;
  },
};

/** Mutates one member of a zip and re-zips it with a valid CRC (stored or deflated). */
const zipMemberMutation = (mutateMember: (name: string, b: Uint8Array, r: FuzzRng) => Uint8Array): Mutator => ({
  name: 'zip-member',
  apply(b, r) {
    // extract with basis' own bounded reader: a general unzip allocates whatever sizes a mutated
    // directory declares (gigabytes), which would make the fuzzer itself the memory hog
    const files: Record<string, Uint8Array> = {};
    try {
      const budget = new ByteBudget(8 * 2 ** 20, 'fuzz sample');
      for (const [name, e] of readZipDirectory(b, 'fuzz sample')) files[name] = zipEntryData(b, e, budget, 'fuzz sample').slice();
    } catch {
      return b;
    }
    const names = Object.keys(files);
    if (names.length === 0) return b;
    const name = r.pick(names);
    files[name] = mutateMember(name, files[name] as Uint8Array, r);
    return zipSync(files, { level: r.next() < 0.5 ? 0 : 6 });
  },
});

/** Rewrites the header dict of an .npy: shape entries, dtype, order. */
const npyHeader = (b: Uint8Array, r: FuzzRng): Uint8Array => {
  if (b.length < 10 || b[0] !== 0x93) return generic(b, r);
  const major = b[6] === 1 ? 1 : 2;
  const pre = major === 1 ? 10 : 12;
  const hl = major === 1 ? b[8]! | (b[9]! << 8) : new DataView(b.buffer, b.byteOffset).getUint32(8, true);
  let h = dec.decode(b.subarray(pre, pre + hl));
  const data = b.subarray(pre + hl);
  const k = r.int(4);
  if (k === 0) h = h.replace(/\(([^)]*)\)/, () => `(${Array.from({ length: r.range(0, 6) }, () => r.pick(BIG)).join(', ')}${r.next() < 0.5 ? ',' : ''})`);
  else if (k === 1) h = h.replace(/'descr': '[^']*'/, `'descr': '${r.pick(['<f8', '>f8', '<f2', '|b1', '<i8', '<c16', 'O', '<U10', '|V8', "[('a', '<f4')]"])}'`);
  else if (k === 2) h = h.replace(/'fortran_order': (True|False)/, `'fortran_order': ${r.pick(['True', 'False', 'None', '1'])}`);
  else h = h.slice(0, r.int(h.length + 1));
  return npyWithHeader(h.trimEnd(), data, r.next() < 0.8 ? 1 : 2);
};

/** Rewrites one tensor entry of a safetensors header (shape, offsets, dtype), keeping the length prefix right. */
const safetensorsHeader = (b: Uint8Array, r: FuzzRng): Uint8Array => {
  try {
    const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n))) as Record<string, { dtype?: unknown; shape?: unknown; data_offsets?: unknown }>;
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    if (names.length === 0) return generic(b, r);
    const e = header[r.pick(names)]!;
    const big = () => r.pick([0, 1, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53 + 2, -1, 1.5, 1e300, '3', null]);
    const k = r.int(4);
    if (k === 0) e.shape = Array.from({ length: r.range(0, 5) }, big);
    else if (k === 1) e.data_offsets = [big(), big()];
    else if (k === 2) e.dtype = r.pick(['F64', 'F8_E4M3', 'C64', 'BOOL', 7, null]);
    else (header as Record<string, unknown>)[r.pick(names)] = r.pick([null, [], 'x', { dtype: 'F32' }, JSON.parse(deepArray(r.range(2, 40)))]);
    return safetensorsWithHeader(JSON.stringify(header), b.subarray(8 + n));
  } catch {
    return generic(b, r);
  }
};

const npyMutators: Mutator[] = [{ name: 'npy-header', apply: npyHeader }];
const npyCrafted: Crafted[] = [
  { name: 'npy-huge-shape', make: () => npyWithHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }", new Uint8Array(64)) },
  { name: 'npy-zero-and-huge', make: () => npyWithHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 9007199254740991, 9007199254740991), }") },
  { name: 'npy-header-length-lie', make: (r) => npyWithHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8), 2).map((x, i) => (i >= 8 && i < 12 ? r.pick([0xff, 0x7f]) : x)) },
  { name: 'npy-many-dims', make: (r) => npyWithHeader(`{'descr': '<f8', 'fortran_order': True, 'shape': (${Array.from({ length: r.range(65, 5000) }, () => '1').join(', ')}), }`, new Uint8Array(8)) },
  { name: 'npy-long-header', make: (r) => npyWithHeader(`{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': '${'a'.repeat(r.range(1, 2) * 60_000)}'}`, new Uint8Array(8), 2) },
];

export const npyTarget: FuzzTarget = {
  format: 'npy',
  samples: () => [
    ...files('.npy'),
    writeNpy({ dtype: 'float32', shape: [3, 4], data: new Float32Array(12).map((_, i) => i) }),
    writeNpy({ dtype: 'int64', shape: [2, 1, 2], data: new BigInt64Array([1n, -2n, 3n, 2n ** 60n]) }),
  ],
  mutators: npyMutators,
  crafted: npyCrafted,
  read: (b, maxBytes) => readNpy(b, { maxBytes }),
};

export const npzTarget: FuzzTarget = {
  format: 'npz',
  samples: () => [
    ...files('.npz'),
    writeNpz({ a: { dtype: 'float64', shape: [5, 3], data: new Float64Array(15).map((_, i) => i / 7) }, b: { dtype: 'int8', shape: [4], data: Int8Array.of(1, -1, 2, -2) } }, { compress: true }),
    writeNpz({ x: { dtype: 'float32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } }),
  ],
  mutators: [zipFieldLie, zipMemberMutation((_n, b, r) => (r.next() < 0.5 ? npyHeader(b, r) : generic(b, r)))],
  crafted: [
    { name: 'npz-bomb-declared', make: (r) => npzBomb(r.range(100, 2600)) },
    { name: 'npz-bomb-lying-size', make: (r) => npzBomb(r.range(40, 400), 'small') },
    { name: 'npz-bad-crc', make: () => npzBadCrc() },
    { name: 'npz-huge-npy-member', make: (r) => zipSync({ 'x.npy': r.pick(npyCrafted).make(r) }, { level: 6 }) },
    { name: 'npz-many-members', make: (r) => zipSync(Object.fromEntries(Array.from({ length: r.range(100, 1000) }, (_, i) => [`m${i}.npy`, writeNpy({ dtype: 'float64', shape: [64], data: new Float64Array(64) })])), { level: 6 }) },
  ],
  read: (b, maxBytes) => readNpz(b, { maxBytes }),
};

export const safetensorsTarget: FuzzTarget = {
  format: 'safetensors',
  samples: () => [
    ...files('.safetensors'),
    writeSafetensors({ w: { dtype: 'float32', shape: [2, 3], data: new Float32Array(6) }, b: { dtype: 'bfloat16', shape: [3], data: new Float32Array([1, 2, 3]) } }, { format: 'pt' }),
  ],
  mutators: [{ name: 'safetensors-header', apply: safetensorsHeader }],
  crafted: [
    { name: 'st-deep-header', make: (r) => safetensorsWithHeader(`{"a": ${deepArray(r.range(10_000, 200_000))}}`) },
    { name: 'st-deep-shape', make: (r) => safetensorsWithHeader(`{"a": {"dtype": "F32", "shape": ${deepArray(r.range(1000, 100_000))}, "data_offsets": [0, 0]}}`) },
    { name: 'st-header-length-lie', make: (r) => safetensorsWithHeader('{}', new Uint8Array(16), r.pick([2n ** 64n - 1n, 2n ** 53n, 99_999_999n, 100_000_001n])) },
    { name: 'st-huge-shape', make: () => safetensorsWithHeader('{"a": {"dtype": "F64", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}}', new Uint8Array(8)) },
    { name: 'st-many-tensors', make: (r) => safetensorsWithHeader(JSON.stringify(Object.fromEntries(Array.from({ length: r.range(1000, 100_000) }, (_, i) => [`t${i}`, { dtype: 'F32', shape: [0], data_offsets: [0, 0] }])))) },
  ],
  read: (b, maxBytes) => readSafetensors(b, { maxBytes }),
};

export const torchTarget: FuzzTarget = {
  format: 'pt',
  samples: () => [...files('.pt'), torchSample()],
  mutators: [zipFieldLie, zipMemberMutation((_n, b, r) => generic(b, r))],
  crafted: [
    { name: 'pt-appends', make: (r) => torchArchive(pickleAppends(r.pick([100_000, 200_000, 500_000]))) },
    { name: 'pt-pickle-bomb', make: (r) => torchPickleBomb(r.range(100, 2600)) },
    { name: 'pt-storage-bomb', make: (r) => torchStorageBomb(r.range(100, 2600)) },
    { name: 'pt-wide-views', make: (r) => torchWideViews(r.range(100, 2000), 8) },
    { name: 'pt-exponential-key', make: (r) => torchArchive(pickleExponentialKey(r.range(20, 60))) },
    {
      name: 'pt-deep-lists',
      make: (r) => {
        const n = r.range(1000, 100_000);
        return torchArchive(Uint8Array.from([0x80, 2, ...new Array<number>(n).fill(0x5d), ...new Array<number>(n - 1).fill(0x61), 0x2e]));
      },
    },
    { name: 'pt-marks', make: (r) => torchArchive(Uint8Array.from([0x80, 2, ...new Array<number>(r.range(1000, 500_000)).fill(0x28), 0x2e])) },
  ],
  read: (b, maxBytes) => readTorch(b, { maxBytes }),
};

/** Every target of this package (the campaign finds them by format). */
export const targets: FuzzTarget[] = [npyTarget, npzTarget, safetensorsTarget, torchTarget];
