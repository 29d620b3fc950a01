// The pickler of torch.save's data.pkl for a state_dict: pickle protocol 2, an OrderedDict of
// tensors rebuilt by `_rebuild_tensor_v2` from legacy typed storages (`torch.FloatStorage`, ...),
// as PyTorch itself writes it.
import type { DType, NdArray } from './ndarray.js';

/** The legacy storage class of each dtype PyTorch before 2.3 loads. */
export const DTYPE_STORAGE: Partial<Record<DType, string>> = {
  float64: 'DoubleStorage',
  float32: 'FloatStorage',
  float16: 'HalfStorage',
  bfloat16: 'BFloat16Storage',
  int64: 'LongStorage',
  int32: 'IntStorage',
  int16: 'ShortStorage',
  int8: 'CharStorage',
  uint8: 'ByteStorage',
  bool: 'BoolStorage',
};

class PickleWriter {
  private chunks: number[] = [];
  private memo = new Map<string, number>();
  private readonly enc = new TextEncoder();
  op(...b: number[]): void {
    for (const x of b) this.chunks.push(x);
  }
  u32(v: number): void {
    this.op(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }
  int(v: number): void {
    if (v >= 0 && v < 0x100) this.op(0x4b, v);
    else if (v >= 0 && v < 0x10000) this.op(0x4d, v & 0xff, v >>> 8);
    else if (v >= -0x80000000 && v < 0x80000000) {
      this.op(0x4a);
      this.u32(v >>> 0);
    } else {
      // LONG1: little-endian two's complement, as short as possible
      let x = BigInt(v);
      const b: number[] = [];
      while (true) {
        const byte = Number(x & 0xffn);
        b.push(byte);
        x >>= 8n;
        if ((x === 0n && (byte & 0x80) === 0) || (x === -1n && (byte & 0x80) !== 0)) break;
      }
      this.op(0x8a, b.length, ...b);
    }
  }
  str(s: string): void {
    const b = this.enc.encode(s);
    this.op(0x58);
    this.u32(b.length);
    for (const x of b) this.chunks.push(x);
  }
  global(module: string, name: string): void {
    const q = `${module}\n${name}\n`;
    const slot = this.memo.get(q);
    if (slot !== undefined) {
      this.op(0x68, slot); // BINGET
      return;
    }
    this.op(0x63);
    for (let i = 0; i < q.length; i++) this.chunks.push(q.charCodeAt(i));
    const id = this.memo.size;
    if (id < 256) {
      this.memo.set(q, id);
      this.op(0x71, id); // BINPUT
    }
  }
  tuple(items: number[]): void {
    if (items.length === 0) return this.op(0x29);
    if (items.length > 3) this.op(0x28);
    for (const v of items) this.int(v);
    this.op(items.length > 3 ? 0x74 : 0x84 + items.length);
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}
/**
 * data.pkl of a state_dict holding `tensors` in order; tensor `i` refers to the storage record
 * `data/<i>`, a contiguous storage of its elements. Every dtype must have a `DTYPE_STORAGE` class.
 */
export function pickleStateDict(tensors: [string, NdArray][]): Uint8Array {
  const w = new PickleWriter();
  w.op(0x80, 2); // PROTO 2
  w.global('collections', 'OrderedDict');
  w.op(0x29, 0x52); // () REDUCE
  for (let start = 0; start < tensors.length; start += 1000) {
    const batch = tensors.slice(start, start + 1000);
    w.op(0x28); // MARK
    batch.forEach(([name, t], b) => {
      const key = String(start + b);
      w.str(name);
      w.global('torch._utils', '_rebuild_tensor_v2');
      w.op(0x28); // MARK (arguments)
      w.op(0x28); // MARK (persistent id)
      w.str('storage');
      w.global('torch', DTYPE_STORAGE[t.dtype] as string);
      w.str(key);
      w.str('cpu');
      w.int(t.data.length);
      w.op(0x74, 0x51); // TUPLE BINPERSID
      w.int(0); // storage_offset
      w.tuple(t.shape);
      const stride = new Array<number>(t.shape.length);
      let s = 1;
      for (let a = t.shape.length - 1; a >= 0; a--) {
        stride[a] = s;
        s *= Math.max(1, t.shape[a] as number);
      }
      w.tuple(stride);
      w.op(0x89); // requires_grad = False
      w.global('collections', 'OrderedDict');
      w.op(0x29, 0x52); // backward_hooks = OrderedDict()
      w.op(0x74, 0x52); // TUPLE REDUCE
    });
    w.op(0x75); // SETITEMS
  }
  w.op(0x2e); // STOP
  return w.bytes();
}
