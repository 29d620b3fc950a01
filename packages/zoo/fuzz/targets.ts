// Fuzz targets of the @basis/zoo readers: IDX files (raw and gzipped) and checkpoint manifests
// (read as loadModel reads a checkpoint directory: manifest, weights, graph, parameters).
import { BasisError, isBasisError } from '@basis/tensor';
import { GENERIC_MUTATORS, type FuzzRng, type FuzzTarget, type Mutator } from '@basis/test-utils/fuzz';
import { checkGraphParams, decodeCheckpoint, decodeIdx, describeGraph, importStateDict, type ModelGraph } from '../src/index.js';
import { encodeIdx, gunzip } from '../src/data/idx.js';
import { checkpointSample, deepArray, gz, gzipAround, idxGzBomb, idxNanShape, idxWithHeader, manifestWith } from './crafted.js';
import { onnxTarget } from './onnx.js';

const generic = (b: Uint8Array, r: FuzzRng) => r.pick(GENERIC_MUTATORS).apply(b, r);

const idxSamples = (): Uint8Array[] => [
  encodeIdx({ dtype: 'uint8', shape: [3, 4, 4], data: new Uint8Array(48).map((_, i) => i * 5) }),
  encodeIdx({ dtype: 'uint8', shape: [7], data: Uint8Array.of(0, 1, 2, 3, 4, 5, 9) }),
  encodeIdx({ dtype: 'int16', shape: [2, 3], data: Int16Array.of(-1, 2, -3, 4, -5, 6) }),
  encodeIdx({ dtype: 'float32', shape: [2, 2], data: Float32Array.of(0.5, -1, 2, 1e30) }),
  encodeIdx({ dtype: 'float64', shape: [3], data: Float64Array.of(1, 2, 3) }),
  encodeIdx({ dtype: 'int32', shape: [1, 1, 1, 2], data: Int32Array.of(7, -7) }),
];

/** Rewrites the IDX header: type code, dimension count, one dimension. */
const idxHeader = (b: Uint8Array, r: FuzzRng): Uint8Array => {
  if (b.length < 8) return generic(b, r);
  const c = b.slice();
  const v = new DataView(c.buffer);
  const k = r.int(3);
  if (k === 0) c[2] = r.pick([0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e, 0x0a, 0xff]);
  else if (k === 1) c[3] = r.pick([0, 1, 2, 3, 4, 61, 255]);
  else {
    const dims = Math.max(1, Math.min(c[3] as number, Math.floor((c.length - 4) / 4)));
    v.setUint32(4 + 4 * r.int(dims), r.pick([0, 1, 2, 0x7fffffff, 0xffffffff, r.int(2 ** 32)]), false);
  }
  return c;
};

/** Decodes, and checks that the result is consistent (a shape whose product is not the data length is a bug). */
function readIdx(b: Uint8Array, maxBytes: number): unknown {
  const a = decodeIdx(b, 'fuzz', { maxBytes });
  let n = 1;
  for (const d of a.shape) n *= d;
  if (!Number.isSafeInteger(n) || n !== a.data.length) throw new Error(`decodeIdx returned shape [${a.shape.join(', ')}] with ${a.data.length} values`);
  return a;
}

export const idxTarget: FuzzTarget = {
  format: 'idx',
  samples: idxSamples,
  mutators: [{ name: 'idx-header', apply: idxHeader }],
  crafted: [
    { name: 'idx-nan-shape-248-bytes', make: () => idxNanShape() },
    { name: 'idx-huge-count', make: (r) => idxWithHeader(0x08, [r.pick([2 ** 31, 2 ** 32 - 1, 60000 * 1000])], new Uint8Array(r.int(300))) },
    { name: 'idx-huge-dims', make: (r) => idxWithHeader(r.pick([0x08, 0x0e]), Array.from({ length: r.range(2, 64) }, () => r.pick([0, 1, 0xffffffff, 65536])), new Uint8Array(r.int(64))) },
    { name: 'idx-255-dims', make: () => idxWithHeader(0x08, new Array<number>(255).fill(1), new Uint8Array(1)) },
  ],
  read: readIdx,
};

export const idxGzTarget: FuzzTarget = {
  format: 'idx.gz',
  samples: () => idxSamples().map(gz),
  mutators: [
    // mutate the IDX inside and re-gzip (valid CRC and length), or lie in the trailer
    // (the sample is unpacked with a small budget: the fuzzer itself must not allocate what a mutated trailer claims)
    { name: 'gz-inner', apply: (b, r) => gz(r.next() < 0.5 ? idxHeader(gunzip(b, 'sample', { maxBytes: 2 ** 20 }), r) : generic(gunzip(b, 'sample', { maxBytes: 2 ** 20 }), r)) },
    {
      name: 'gz-trailer-lie',
      apply: (b, r) => {
        const c = b.slice();
        if (c.length >= 8) new DataView(c.buffer).setUint32(c.length - r.pick([8, 4]), r.pick([0, 1, 0xffffffff, r.int(2 ** 32)]), true);
        return c;
      },
    } satisfies Mutator,
  ],
  crafted: [
    { name: 'idx-gz-bomb', make: (r) => idxGzBomb(r.range(100, 2600)) },
    { name: 'idx-gz-bomb-isize-lie', make: (r) => idxGzBomb(r.range(40, 1000), r.pick([0, 100, 0xffffffff])) },
    { name: 'idx-gz-nan-shape', make: () => gz(idxNanShape()) },
    { name: 'idx-gz-truncated-stream', make: (r) => gzipAround(gz(idxWithHeader(0x08, [1000], new Uint8Array(1000))).subarray(10, 10 + r.range(1, 20)), 0, 1008) },
  ],
  read: readIdx,
};

const sample = checkpointSample();

/** Replaces one value of the manifest JSON with something hostile. */
const manifestValue: Mutator = {
  name: 'manifest-value',
  apply(b, r) {
    let obj: unknown;
    try {
      obj = JSON.parse(new TextDecoder().decode(b));
    } catch {
      return generic(b, r);
    }
    // walk to a random node
    let parent: Record<string, unknown> | unknown[] | null = null;
    let key: string | number = '';
    let node = obj;
    for (let depth = 0; depth < 8 && typeof node === 'object' && node !== null && r.next() < 0.8; depth++) {
      const keys = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
      if (keys.length === 0) break;
      parent = node as Record<string, unknown>;
      key = r.pick(keys as (string | number)[]);
      node = (node as Record<string | number, unknown>)[key];
    }
    const marker = '"@@FUZZ@@"';
    const value = r.pick([
      () => deepArray(r.range(100, 50_000)),
      () => {
        const n = r.range(100, 20_000);
        return '{"a":'.repeat(n) + '1' + '}'.repeat(n);
      },
      () => r.pick(['1e308', '-1', '0', '9007199254740993', '1.5', '"x"', 'null', 'true', '[]', '{}']),
      () => `[${new Array<string>(r.range(1, 100_000)).fill('1').join(',')}]`,
      () => `"${'x'.repeat(r.range(1, 100_000))}"`,
    ])();
    if (parent === null) return new TextEncoder().encode(value);
    (parent as Record<string | number, unknown>)[key] = '@@FUZZ@@';
    return new TextEncoder().encode(JSON.stringify(obj).replace(marker, value));
  },
};

/** Reads a manifest as loadModel reads a checkpoint directory (the sample weights beside it). */
function readManifest(b: Uint8Array): unknown {
  try {
    const ck = decodeCheckpoint({ manifest: b, params: sample.params }, 'fuzz');
    const graph = ck.manifest.graph as ModelGraph | null;
    if (graph === null) throw new BasisError('BAD_FILE', 'no graph');
    describeGraph(graph);
    checkGraphParams(graph, importStateDict(graph, ck.params));
    return JSON.stringify(ck.manifest); // what saving a derived model or printing does
  } catch (e) {
    if (isBasisError(e) && e.code !== 'BAD_FILE') throw new BasisError('BAD_FILE', e.message, { cause: e });
    throw e;
  }
}

export const manifestTarget: FuzzTarget = {
  format: 'manifest',
  samples: () => [new TextEncoder().encode(sample.manifest)],
  mutators: [manifestValue],
  crafted: [
    { name: 'manifest-deep-graph', make: (r) => new TextEncoder().encode(manifestWith('graph', deepArray(r.range(10_000, 200_000)))) },
    { name: 'manifest-deep-graph-field', make: (r) => new TextEncoder().encode(manifestWith(r.pick(['graph.format', 'graph.input', 'graph.name', 'graph.meta', 'meta', 'history', 'training']), deepArray(r.range(10_000, 100_000)))) },
    {
      name: 'manifest-deep-objects',
      make: (r) => {
        const n = r.range(1000, 50_000);
        return new TextEncoder().encode(manifestWith('meta', '{"a":'.repeat(n) + '1' + '}'.repeat(n)));
      },
    },
    { name: 'manifest-huge-units', make: (r) => new TextEncoder().encode(manifestWith('graph.input', `[${r.pick(['1e9', '4294967296', '9007199254740991', '1e308'])}]`)) },
  ],
  read: (b) => readManifest(b),
};

/** Every target of this package. */
export const targets: FuzzTarget[] = [idxTarget, idxGzTarget, manifestTarget, onnxTarget];
