// A tiny WebAssembly assembler shared by basis' hand-assembled kernels (linalg/wasm-kernels.ts:
// f64x2 GEMM and rotations; tfjs/wasm-simd.ts: f32x4 training kernels). Modules are assembled at
// load time from these byte helpers: no binary blob, no build step. Internal to @basis/tensor.

/** The subset of the WebAssembly JS API the kernels use (typed here: lib.dom is not loaded). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
/** See {@link WasmMemory}. */
export interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
/** This runtime's WebAssembly API, or undefined where there is none. */
export const webAssemblyApi = (): WasmApi | undefined => (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** A compiled kernel module with one instance, `kernels`, on a memory kept between calls. */
export interface KeptInstance<K> {
  api: WasmApi;
  module: object;
  memory: WasmMemory;
  kernels: K;
}

/** Binds a module's exports, instantiated on `memory`, as kernels (null when an export is missing). */
export type Instantiate<K> = (api: WasmApi, module: object, memory: WasmMemory) => K | null;

/**
 * Compiles `bytes()` and instantiates it on a one-page memory: the kept instance of a kernel
 * module, or null where WebAssembly (SIMD) is unavailable or an export is missing (the callers
 * then use their JavaScript kernels).
 */
export function keptInstance<K>(bytes: () => Uint8Array, instantiate: Instantiate<K>): KeptInstance<K> | null {
  try {
    const api = webAssemblyApi();
    if (api === undefined) return null;
    const module = new api.Module(bytes());
    const memory = new api.Memory({ initial: 1 });
    const kernels = instantiate(api, module, memory);
    return kernels === null ? null : { api, module, memory, kernels };
  } catch {
    return null; // no WebAssembly SIMD here
  }
}

/** Working memory a kept instance keeps between calls; a larger request gets a temporary instance. */
export const KEEP_BYTES = 64 * 2 ** 20;

/**
 * Kernels on a memory of at least `bytes` bytes: the kept instance with its memory grown to
 * `bytes` (up to {@link KEEP_BYTES}, kept for the next call), else a temporary memory with its own
 * instance (released with it); null when the memory cannot be had (the caller falls back to
 * JavaScript).
 */
export function withMemory<K>(kept: KeptInstance<K>, bytes: number, instantiate: Instantiate<K>): { memory: WasmMemory; kernels: K } | null {
  try {
    if (bytes <= KEEP_BYTES) {
      const have = kept.memory.buffer.byteLength;
      if (have < bytes) kept.memory.grow(Math.ceil((bytes - have) / 65536));
      return kept;
    }
    const memory = new kept.api.Memory({ initial: Math.ceil(bytes / 65536) });
    const kernels = instantiate(kept.api, kept.module, memory);
    return kernels === null ? null : { memory, kernels };
  } catch {
    return null; // out of memory for wasm
  }
}

/** Encoded bytes of an instruction sequence. */
export type Code = number[];

/** Unsigned LEB128. */
export const uleb = (n: number): Code => {
  const out: Code = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
};

/** Signed LEB128. */
export const sleb = (n: number): Code => {
  const out: Code = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};

/** A length-prefixed vector of items. */
export const vec = (items: Code[]): Code => [...uleb(items.length), ...items.flat()];
/** A name (length-prefixed bytes of an ASCII string). */
export const name = (s: string): Code => vec(Array.from(s, (ch) => [ch.charCodeAt(0)]));
/** A module section. */
export const section = (id: number, bytes: Code): Code => [id, ...uleb(bytes.length), ...bytes];

// value types
export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;

// locals, constants, control
export const get = (i: number): Code => [0x20, ...uleb(i)];
export const set = (i: number): Code => [0x21, ...uleb(i)];
export const i32c = (v: number): Code => [0x41, ...sleb(v)];
export const BLOCK = [0x02, 0x40];
export const LOOP = [0x03, 0x40];
export const IF = [0x04, 0x40];
export const ELSE = [0x05];
export const END = [0x0b];
export const br = (d: number): Code => [0x0c, ...uleb(d)];
export const brIf = (d: number): Code => [0x0d, ...uleb(d)];

// i32 arithmetic and comparisons
export const ADD = [0x6a];
export const SUB = [0x6b];
export const MUL = [0x6c];
export const AND = [0x71];
export const EQZ = [0x45];
export const LT_S = [0x48];
export const LT_U = [0x49];
export const GT_S = [0x4a];
export const GE_S = [0x4e];

// f64 scalar
export const F64_ADD = [0xa0];
export const F64_MUL = [0xa2];

/** A SIMD (0xfd-prefixed) instruction with its immediates. */
export const simd = (op: number, ...imm: number[]): Code => [0xfd, ...uleb(op), ...imm];
/** v128.const 0. */
export const V_ZERO = simd(12, ...new Array<number>(16).fill(0));
