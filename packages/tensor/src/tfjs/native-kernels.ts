// Training kernels for the tfjs WebAssembly backend that run their products on the native BLAS
// (`cblas_sgemm` through `nativeSgemm`), directly on the tensors' WebAssembly memory (no copies):
// BatchMatMul, _FusedMatMul, Conv2D, FusedConv2D, Conv2DBackpropInput, Conv2DBackpropFilter, and
// Sum/Mean over leading axes; plus three companions that remove copies and scalar loops of the
// wasm backend from a training step (Identity, same-dtype Cast, MaxPoolGrad).
//
// Each kernel wraps the kernel registered before it (stock wasm or basis' fix) and falls back to it
// at call time when the engine is not native (`nativeLib()` is checked per call, so
// `configureEngine({ blas: 'off' })` after registration takes effect at once), and for anything it
// does not cover (other dtypes, NCHW, dilations > 1, shapes tfjs would reject: the fallback raises
// tfjs' own error). Views on the heap are taken after the last allocation of a kernel: an
// allocation may grow the WebAssembly memory and detach older views.
import { backend_util, broadcast_util, engine, getKernel, registerKernel, unregisterKernel, util, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import { nativeSgemm } from '../engine/blas.js';
import { SPLIT_MIN_DEPTH } from '../engine/sgemm-split.js';
import { nativeLib } from '../engine/engine.js';
import { residentInputs, simdKernelsFor } from './wasm-simd.js';

/** The parts of tfjs-backend-wasm's BackendWasm used here. */
interface WasmBackend {
  dataIdMap: { has(dataId: object): boolean };
  disposeData(dataId: object): void;
  incRef(dataId: object): void;
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

type Inputs = Record<string, TensorInfo | undefined>;
interface Args {
  inputs: Inputs;
  backend: WasmBackend;
  attrs: NamedAttrMap;
}
type NativeKernel = (args: Args, fallback: KernelFunc) => TensorInfo;

/**
 * The whole WebAssembly heap as floats and the float offset of `t` in it (malloc aligns to 8
 * bytes, so offsets are whole floats). Take it after the kernel's last allocation.
 */
function heapOf(backend: WasmBackend, t: TensorInfo): { H: Float32Array; off: number } {
  const v = backend.typedArrayFromHeap(t);
  return { H: new Float32Array(v.buffer, 0, v.buffer.byteLength >>> 2), off: v.byteOffset >>> 2 };
}

function f32(backend: WasmBackend, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

/**
 * Products that run faster on one thread than on OpenBLAS' threads. OpenBLAS splits a threaded
 * product over the columns of the row-major output (its m) first and, when there are few of them,
 * over the rows with a barrier per packed block, so thin outputs lose (measured with OpenBLAS
 * 0.3.21, Cooperlake kernels, on 2 Zen 4 cores, one thread vs two, best of 60 calls):
 * - fewer than 128 output columns: 0.2-0.5x at 4096 x 16..64 x 32..144 (a 3x3 convolution's taps
 *   at 16-64 channels), 0.3x at 100352 x 16 x 9, 0.34x at 128 x 10 x 512 (a classifier layer);
 * - a shallow inner dimension: 0.37x at 4096 x 128 x 32, 0.57x at 4096 x 512 x 32, 0.85x at
 *   4096 x 128 x 144; threads win from about 128 x 256 columns x depth (1.35x at 4096 x 256 x 144,
 *   1.39x at 4096 x 128 x 512, 1.4-1.5x on the MLP's 128 x 512 x 512..784 and at 4096 x 512 x 128);
 * - an output of at most 1024 entries with a long k (a filter gradient: each thread streams all of
 *   k for a sliver of the output; 0.5x at 32 x 32 x 4096) or a depth below 12 (packing dominates).
 * Serial calls also wait for no second thread on a busy machine.
 */
export function serialShape(m: number, n: number, k: number): boolean {
  return m * n <= 1024 || k < 12 || n < 128 || k < 64 || n * k < 32768;
}

/** `C = op(A) op(B)` (beta 0) on float views; `k = 0` gives zeros (BLAS would reject lda = 0). */
function sgemm(
  m: number,
  n: number,
  k: number,
  A: Float32Array,
  transA: boolean,
  B: Float32Array,
  transB: boolean,
  C: Float32Array,
  opts: { lda?: number; ldb?: number; ldc?: number; alpha?: number; beta?: number; serial?: boolean } = {},
): void {
  if (m === 0 || n === 0) return;
  if (k === 0) {
    if ((opts.beta ?? 0) === 0) C.fill(0, 0, m * (opts.ldc ?? n));
    return;
  }
  const done = nativeSgemm({
    m,
    n,
    k,
    A,
    lda: opts.lda ?? (transA ? m : k),
    transA,
    B,
    ldb: opts.ldb ?? (transB ? k : n),
    transB,
    C,
    ldc: opts.ldc ?? n,
    alpha: opts.alpha ?? 1,
    beta: opts.beta ?? 0,
    serial: opts.serial ?? serialShape(m, n, k),
  });
  if (!done) throw new Error('native sgemm is not available'); // unreachable: callers check nativeLib() first
}

// ---------------------------------------------------------------------------------------------
// Products

interface MatMulPlan {
  outShape: number[];
  m: number;
  n: number;
  k: number;
  /** Element offsets of each output batch's A and B matrices (broadcast batch dimensions). */
  aOffsets: Int32Array | number[];
  bOffsets: Int32Array | number[];
  /** A's batches stack into one (m * batches) x k operand (B not batched, A untransposed). */
  foldA: boolean;
}

/** Shapes and batch offsets of `op(a) op(b)`, or undefined when tfjs would reject them. */
function planMatMul(a: TensorInfo, b: TensorInfo, transA: boolean, transB: boolean): MatMulPlan | undefined {
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) return undefined;
  const m = (transA ? a.shape[ra - 1] : a.shape[ra - 2]) as number;
  const ka = (transA ? a.shape[ra - 2] : a.shape[ra - 1]) as number;
  const kb = (transB ? b.shape[rb - 1] : b.shape[rb - 2]) as number;
  const n = (transB ? b.shape[rb - 2] : b.shape[rb - 1]) as number;
  if (ka !== kb) return undefined;
  const aOuter = a.shape.slice(0, -2);
  const bOuter = b.shape.slice(0, -2);
  let outer: number[];
  try {
    outer = broadcast_util.assertAndGetBroadcastShape(aOuter, bOuter);
  } catch {
    return undefined;
  }
  const batches = util.sizeFromShape(outer);
  const aSize = m * ka;
  const bSize = ka * n;
  const batchA = util.sizeFromShape(aOuter);
  const batchB = util.sizeFromShape(bOuter);
  let aOffsets: Int32Array | number[];
  let bOffsets: Int32Array | number[];
  if (batchA === batches && batchB === batches) {
    aOffsets = Int32Array.from({ length: batches }, (_, i) => i * aSize);
    bOffsets = Int32Array.from({ length: batches }, (_, i) => i * bSize);
  } else {
    // true broadcasting: walk the output batch index and map it into each operand
    const r = outer.length;
    const pad = (s: number[]): number[] => [...Array<number>(r - s.length).fill(1), ...s];
    const as = pad(aOuter);
    const bs = pad(bOuter);
    const strides = (s: number[], size: number): number[] => {
      const out = new Array<number>(r).fill(0);
      let acc = size;
      for (let d = r - 1; d >= 0; d--) {
        out[d] = s[d] === 1 ? 0 : acc;
        acc *= s[d] as number;
      }
      return out;
    };
    const sa = strides(as, aSize);
    const sb = strides(bs, bSize);
    aOffsets = new Int32Array(batches);
    bOffsets = new Int32Array(batches);
    const idx = new Array<number>(r).fill(0);
    for (let i = 0; i < batches; i++) {
      let oa = 0;
      let ob = 0;
      for (let d = 0; d < r; d++) {
        oa += (idx[d] as number) * (sa[d] as number);
        ob += (idx[d] as number) * (sb[d] as number);
      }
      aOffsets[i] = oa;
      bOffsets[i] = ob;
      for (let d = r - 1; d >= 0; d--) {
        idx[d] = (idx[d] as number) + 1;
        if ((idx[d] as number) < (outer[d] as number)) break;
        idx[d] = 0;
      }
    }
  }
  return { outShape: [...outer, m, n], m, n, k: ka, aOffsets, bOffsets, foldA: batchB === 1 && !transA && batchA === batches };
}

/** Runs a planned product into `out` (already allocated; views taken here). */
function runMatMul(backend: WasmBackend, a: TensorInfo, b: TensorInfo, out: TensorInfo, p: MatMulPlan, transA: boolean, transB: boolean): void {
  const A = f32(backend, a);
  const B = f32(backend, b);
  const C = f32(backend, out);
  const { m, n, k } = p;
  const batches = p.aOffsets.length;
  if (p.foldA || batches === 1) {
    sgemm(m * (p.foldA ? batches : 1), n, k, A, transA, B, transB, C);
    return;
  }
  const aSize = m * k;
  const bSize = k * n;
  const cSize = m * n;
  for (let i = 0; i < batches; i++) {
    const ao = p.aOffsets[i] as number;
    const bo = p.bOffsets[i] as number;
    sgemm(m, n, k, A.subarray(ao, ao + aSize), transA, B.subarray(bo, bo + bSize), transB, C.subarray(i * cSize, (i + 1) * cSize));
  }
}

const batchMatMul: NativeKernel = (args, fallback) => {
  const { inputs, backend, attrs } = args;
  const a = inputs['a'] as TensorInfo;
  const b = inputs['b'] as TensorInfo;
  const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(args) as TensorInfo;
  const p = planMatMul(a, b, transposeA, transposeB);
  if (p === undefined) return fallback(args) as TensorInfo;
  const out = backend.makeOutput(p.outShape, 'float32');
  runMatMul(backend, a, b, out, p, transposeA, transposeB);
  return out;
};

// ---------------------------------------------------------------------------------------------
// Bias and activation epilogue: the wasm backend's own element-wise kernels (XNNPACK, SIMD) on the
// product. (An in-place pass in JS over the heap was measured 3-6x slower than Add + the
// activation kernel for outputs of 64k-260k floats, despite the extra allocations.)

type Activation = 'linear' | 'relu' | 'relu6' | 'elu' | 'leakyrelu' | 'prelu' | 'sigmoid';
const ACTIVATION_KERNELS: Readonly<Record<Activation, string | undefined>> = {
  linear: undefined,
  relu: 'Relu',
  relu6: 'Relu6',
  elu: 'Elu',
  leakyrelu: 'LeakyRelu',
  prelu: 'Prelu',
  sigmoid: 'Sigmoid',
};

/** Calls a kernel registered for 'wasm' directly, as kernels call each other inside a backend. */
function call(name: string, inputs: Record<string, TensorInfo>, backend: WasmBackend, attrs: NamedAttrMap = {}): TensorInfo {
  const k = getKernel(name, 'wasm');
  if (k === undefined) throw new Error(`wasm kernel ${name} is not registered`);
  return k.kernelFunc({ inputs, backend: backend as never, attrs }) as TensorInfo;
}

/** Whether `t` broadcasts against `outShape` without enlarging it (tfjs' broadcasting rules). */
function fitsInto(t: TensorInfo, outShape: number[]): boolean {
  if (t.shape.length > outShape.length) return t.shape.every((d, i) => i >= t.shape.length - outShape.length || d === 1) && fitsInto({ ...t, shape: t.shape.slice(t.shape.length - outShape.length) }, outShape);
  const tail = outShape.slice(outShape.length - t.shape.length);
  return t.shape.every((d, i) => d === 1 || d === tail[i]);
}

/**
 * Whether the prelu weights repeat along the output (their shape, leading 1s dropped, equals the
 * trailing dimensions of the output): the layout the wasm Prelu kernel reads them in.
 */
function periodic(t: TensorInfo, outShape: number[]): boolean {
  const s = [...t.shape];
  while (s.length > 0 && s[0] === 1) s.shift();
  if (s.length > outShape.length) return false;
  const tail = outShape.slice(outShape.length - s.length);
  return s.every((d, i) => d === tail[i]);
}

interface Fused {
  bias: TensorInfo | undefined;
  weights: TensorInfo | undefined;
  activation: Activation;
  alpha: number;
}

/** The bias/activation inputs of a fused kernel, or undefined when not covered here. */
function fusedParts(inputs: Inputs, attrs: NamedAttrMap, outShape: number[]): Fused | undefined {
  const { activation = 'linear', leakyreluAlpha } = attrs as unknown as { activation?: string; leakyreluAlpha?: number };
  if (!Object.prototype.hasOwnProperty.call(ACTIVATION_KERNELS, activation)) return undefined;
  const bias = inputs['bias'] ?? undefined;
  const weights = inputs['preluActivationWeights'] ?? undefined;
  if (bias !== undefined && (bias.dtype !== 'float32' || !fitsInto(bias, outShape))) return undefined;
  if (activation === 'prelu' && (weights === undefined || weights.dtype !== 'float32' || !periodic(weights, outShape))) return undefined;
  return { bias, weights: activation === 'prelu' ? weights : undefined, activation: activation as Activation, alpha: leakyreluAlpha ?? 0.2 };
}

/** Adds the bias and applies the activation to `out` (consumed), returning the result. */
function applyFused(backend: WasmBackend, out: TensorInfo, f: Fused): TensorInfo {
  let y = out;
  const step = (next: TensorInfo): void => {
    backend.disposeData(y.dataId);
    y = next;
  };
  try {
    if (f.bias !== undefined) {
      const withBias = call('Add', { a: y, b: f.bias }, backend);
      // Add broadcasts to the larger shape; fitsInto() kept it the product's
      step(withBias.shape.length === out.shape.length ? withBias : { ...withBias, shape: out.shape });
    }
    const kernel = ACTIVATION_KERNELS[f.activation];
    if (kernel !== undefined) {
      step(
        f.activation === 'prelu'
          ? call(kernel, { x: y, alpha: f.weights as TensorInfo }, backend)
          : call(kernel, { x: y }, backend, f.activation === 'leakyrelu' ? ({ alpha: f.alpha } as unknown as NamedAttrMap) : {}),
      );
    }
    return y;
  } catch (e) {
    backend.disposeData(y.dataId);
    throw e;
  }
}

const fusedMatMul: NativeKernel = (args, fallback) => {
  const { inputs, backend, attrs } = args;
  const a = inputs['a'] as TensorInfo;
  const b = inputs['b'] as TensorInfo;
  const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(args) as TensorInfo;
  const p = planMatMul(a, b, transposeA, transposeB);
  if (p === undefined) return fallback(args) as TensorInfo;
  const f = fusedParts(inputs, attrs, p.outShape);
  if (f === undefined) return fallback(args) as TensorInfo;
  const out = backend.makeOutput(p.outShape, 'float32');
  runMatMul(backend, a, b, out, p, transposeA, transposeB);
  return applyFused(backend, out, f);
};

// ---------------------------------------------------------------------------------------------
// Convolutions (NHWC, dilation 1) through im2col + GEMM

/** Geometry of an NHWC convolution with dilation 1. */
interface ConvGeom {
  b: number;
  h: number;
  w: number;
  c: number;
  fh: number;
  fw: number;
  co: number;
  oh: number;
  ow: number;
  sh: number;
  sw: number;
  top: number;
  left: number;
  bottom: number;
  right: number;
}

type Pad = 'valid' | 'same' | number | backend_util.ExplicitPadding;

interface ConvAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: string;
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * The geometry tfjs gives this convolution, or undefined when not covered (NCHW, dilation > 1,
 * non-4-D shapes, channel mismatch, empty output). A numeric pad is taken as explicit padding, as
 * basis' Conv2D fix does (tfjs-core's numeric padding sizes the output width from the filter
 * height).
 */
function convGeom(xShape: readonly number[], filterShape: readonly number[], attrs: ConvAttrs): ConvGeom | undefined {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') return undefined;
  if (xShape.length !== 4 || filterShape.length !== 4 || xShape[3] !== filterShape[2]) return undefined;
  const d = attrs.dilations ?? 1;
  if (!(typeof d === 'number' ? d === 1 : d.every((v) => v === 1))) return undefined;
  const pad: Pad =
    typeof attrs.pad === 'number'
      ? [
          [0, 0],
          [attrs.pad, attrs.pad],
          [attrs.pad, attrs.pad],
          [0, 0],
        ]
      : attrs.pad;
  let info: backend_util.Conv2DInfo;
  try {
    info = backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number], attrs.strides, 1, pad, attrs.dimRoundingMode, false, 'channelsLast');
  } catch {
    return undefined;
  }
  const g: ConvGeom = {
    b: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    c: info.inChannels,
    fh: info.filterHeight,
    fw: info.filterWidth,
    co: info.outChannels,
    oh: info.outHeight,
    ow: info.outWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
    bottom: info.padInfo.bottom,
    right: info.padInfo.right,
  };
  const dims = Object.values(g);
  if (!dims.every((v) => Number.isInteger(v) && v >= 0) || g.b * g.oh * g.ow * g.fh * g.fw * g.c * g.co === 0) return undefined;
  return g;
}

/** Copies `count` runs of `len` floats (strides in floats) within the heap. */
function copyRows(H: Float32Array, src: number, srcStride: number, dst: number, dstStride: number, count: number, len: number): void {
  for (let i = 0; i < count; i++, src += srcStride, dst += dstStride) {
    if (len >= 16) H.copyWithin(dst, src, src + len);
    else for (let j = 0; j < len; j++) H[dst + j] = H[src + j] as number;
  }
}

/**
 * Stride-1 convolutions run as one product per filter tap on a padded grid: the input is laid out
 * in rows of `wp = w + gh` pixels (`gh` zero pixels, then the image row) and images of `hp = h + gv`
 * such rows (`gv` zero rows, then the image), `gv` and `gh` the larger of the paddings on either
 * side, with `gv` zero rows (and `gh` pixels) after the last image. Flattened to `m` rows of `c`
 * channels, the zeros after one image row (or image) are the padding before the next one too, so
 * each row and image carries one pad instead of two. Output row `q` (the grid position of its
 * window's top-left corner) takes tap (kh, kw) from input row `q + kh * wp + kw`, so each tap is a
 * single GEMM over contiguous rows (`lda = c`) accumulating into the output grid. Rows outside the
 * valid output are computed and dropped (forward) or held at zero (gradients). No patch matrix is
 * built: the only copies are the padding and the crop.
 */
interface Grid {
  hp: number;
  wp: number;
  /** Rows of the grid (images, then the trailing zeros). */
  m: number;
  /** Where the input image sits in each image block of the grid (row, column). */
  xTop: number;
  xLeft: number;
  /** Where the output sits in each image block of the output grid. */
  yTop: number;
  yLeft: number;
  /** The input needs padding (else the input itself is the grid). */
  padded: boolean;
  /** The output is smaller than the grid (else the output itself is the grid). */
  cropped: boolean;
}

/**
 * Rows of the grid processed together: every tap's product runs on the same block of rows, so the
 * block of the output (or gradient) and of the input stays in cache across the taps (about 1 MiB;
 * measured 20-40% faster than whole-grid products, which stream both from memory once per tap).
 */
function chunkRows(c: number, co: number): number {
  return Math.max(1024, Math.min(16384, Math.floor(2 ** 20 / (4 * (c + co)))));
}

function gridOf(g: ConvGeom): Grid | undefined {
  if (g.sh !== 1 || g.sw !== 1) return undefined;
  if (g.h + g.top + g.bottom - g.fh + 1 !== g.oh || g.w + g.left + g.right - g.fw + 1 !== g.ow) return undefined;
  // a window may reach at most one shared pad beyond the image (padding below/right < the filter)
  if (g.bottom >= g.fh || g.right >= g.fw) return undefined;
  const gv = Math.max(g.top, g.bottom);
  const gh = Math.max(g.left, g.right);
  const hp = g.h + gv;
  const wp = g.w + gh;
  const padded = gv > 0 || gh > 0;
  return {
    hp,
    wp,
    m: (g.b * hp + gv) * wp + gh,
    xTop: gv,
    xLeft: gh,
    yTop: gv - g.top,
    yLeft: gh - g.left,
    padded,
    cropped: padded || g.oh !== g.h || g.ow !== g.w,
  };
}

/** Zeroes `H[from, to)` (a loop for short runs, where a call to fill costs more). */
function zero(H: Float32Array, from: number, to: number): void {
  if (to - from >= 32) H.fill(0, from, to);
  else for (let i = from; i < to; i++) H[i] = 0;
}

/**
 * Writes `[b, h, w, c]` at `src` into the grid at `dst` (`grid.m` rows of `c`; image n's block is
 * rows `n * hp * wp ..`), each image at (top, left) of its block, with zeros everywhere else. Only
 * the zeros are written besides the image (it is not zeroed first): each block's rows before the
 * image, per image row the run from the end of its pixels to the start of the next row's, and the
 * rows after the last block.
 */
function toGrid(H: Float32Array, src: number, dst: number, b: number, h: number, w: number, c: number, grid: Grid, top: number, left: number): void {
  const { hp, wp } = grid;
  const row = wp * c;
  const len = w * c;
  for (let n = 0; n < b; n++) {
    const g0 = dst + n * hp * row;
    const first = g0 + top * row + left * c; // the image's first pixel in the grid
    zero(H, g0, first);
    copyRows(H, src + n * h * len, len, first, row, h, len);
    for (let y = 0; y < h - 1; y++) zero(H, first + y * row + len, first + (y + 1) * row);
    zero(H, first + (h - 1) * row + len, g0 + hp * row);
  }
  zero(H, dst + b * hp * row, dst + grid.m * c);
}

/** The inverse of {@link toGrid}: the `[b, h, w, c]` window at (top, left) of each image block. */
function fromGrid(H: Float32Array, src: number, dst: number, b: number, h: number, w: number, c: number, grid: Grid, top: number, left: number): void {
  const { hp, wp } = grid;
  for (let n = 0; n < b; n++) copyRows(H, src + ((n * hp + top) * wp + left) * c, wp * c, dst + n * h * w * c, w * c, h, w * c);
}

/** Heap offsets of a kernel's operands and temporaries, taken after its last allocation. */
function offsets(backend: WasmBackend, ts: TensorInfo[]): { H: Float32Array; at: number[] } {
  const first = heapOf(backend, ts[0] as TensorInfo);
  return { H: first.H, at: ts.map((t, i) => (i === 0 ? first.off : heapOf(backend, t).off)) };
}

/**
 * Allocates float32 temporaries, runs `f`, frees them (also when `f` throws). `owned`: buffers the
 * caller allocated for `f` and keeps afterwards; they are freed only when `f` throws.
 */
function withTemps<T>(backend: WasmBackend, sizes: number[], f: (temps: TensorInfo[]) => T, owned: (TensorInfo | undefined)[] = []): T {
  const temps = sizes.map((n) => backend.makeOutput([n], 'float32'));
  try {
    return f(temps);
  } catch (e) {
    for (const t of owned) if (t !== undefined) backend.disposeData(t.dataId);
    throw e;
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/**
 * Writes the patch matrix of an NHWC input at float offset `p` of the heap `H` (strided
 * convolutions): row `r = (n * oh + oy) * ow + ox`, column `(kh * fw + kw) * c + ci`, holding
 * `x[n, oy*sh + kh - top, ox*sw + kw - left, ci]` (0 in the padding). Each (row, kh) is one run
 * of `fw * c` floats, contiguous in the input too.
 */
function im2col(H: Float32Array, x: number, p: number, g: ConvGeom): void {
  const { b, h, w, c, fh, fw, oh, ow, sh, sw, top, left } = g;
  const run = fw * c;
  let d = p;
  for (let n = 0; n < b; n++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = ox * sw - left;
        const lo = ix0 < 0 ? Math.min(fw, -ix0) * c : 0; // floats of padding on the left
        const hi = Math.max(lo, Math.min(fw, w - ix0) * c); // end of the input part
        for (let kh = 0; kh < fh; kh++, d += run) {
          const iy = oy * sh + kh - top;
          if (iy < 0 || iy >= h) {
            for (let j = 0; j < run; j++) H[d + j] = 0;
            continue;
          }
          for (let j = 0; j < lo; j++) H[d + j] = 0;
          const s = x + ((n * h + iy) * w + ix0) * c;
          if (hi - lo >= 16) H.copyWithin(d + lo, s + lo, s + hi);
          else for (let j = lo; j < hi; j++) H[d + j] = H[s + j] as number;
          for (let j = hi; j < run; j++) H[d + j] = 0;
        }
      }
    }
  }
}

/** The adjoint of {@link im2col}: `dx` (zeroed here) accumulates every patch entry of `dp`. */
function col2im(H: Float32Array, dp: number, dx: number, g: ConvGeom): void {
  const { b, h, w, c, fh, fw, oh, ow, sh, sw, top, left } = g;
  H.fill(0, dx, dx + b * h * w * c);
  const run = fw * c;
  let s = dp;
  for (let n = 0; n < b; n++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = ox * sw - left;
        const lo = ix0 < 0 ? Math.min(fw, -ix0) * c : 0;
        const hi = Math.max(lo, Math.min(fw, w - ix0) * c);
        for (let kh = 0; kh < fh; kh++, s += run) {
          const iy = oy * sh + kh - top;
          if (iy < 0 || iy >= h) continue;
          const d = dx + ((n * h + iy) * w + ix0) * c;
          for (let j = lo; j < hi; j++) H[d + j] = (H[d + j] as number) + (H[s + j] as number);
        }
      }
    }
  }
}

// Grids kept between the kernels of one convolution's training step. The filter gradient needs the
// padded input grid (or, for few channels, the transposed patch matrix) the forward pass built and
// the gridded output gradient the input gradient built just before it (tfjs runs Conv2DBackpropInput, then Conv2DBackpropFilter on the same dy),
// so those are kept instead of rebuilt: forward input grids only while a gradient tape records, at
// most KEEP_MAX grids and KEEP_FLOATS floats in all, each handed out once and dropped as soon as
// its tensor's data is gone. Keys are the data (tfjs never writes a tensor's data after creating
// it; Identity and clone share it) and the grid's geometry.

interface KeptGrid {
  backend: WasmBackend;
  source: object;
  key: string;
  grid: TensorInfo;
  floats: number;
}

const KEEP_MAX = 4;
const KEEP_FLOATS = 1 << 24;
const kept: KeptGrid[] = [];

function gridKey(b: number, h: number, w: number, c: number, grid: Grid, top: number, left: number): string {
  return `${b},${h},${w},${c},${grid.hp},${grid.wp},${grid.m},${top},${left}`;
}

function dropKept(i: number): void {
  const [e] = kept.splice(i, 1);
  if (e !== undefined) e.backend.disposeData(e.grid.dataId);
}

/** Drops grids whose tensor data is gone (or that belong to another backend instance). */
function pruneKept(backend: WasmBackend): void {
  for (let i = kept.length - 1; i >= 0; i--) {
    const e = kept[i] as KeptGrid;
    if (e.backend !== backend || !backend.dataIdMap.has(e.source)) dropKept(i);
  }
}

/** The kept grid of `t` with this geometry, now owned by the caller, or undefined. */
function takeGrid(backend: WasmBackend, t: TensorInfo, key: string): TensorInfo | undefined {
  const i = kept.findIndex((e) => e.backend === backend && e.source === t.dataId && e.key === key);
  if (i < 0) return undefined;
  const [e] = kept.splice(i, 1);
  return e?.grid;
}

/** Keeps `grid` (the grid of `t`; ownership passes to the cache) when it fits, else frees it. */
function keepGrid(backend: WasmBackend, t: TensorInfo, key: string, grid: TensorInfo): void {
  const floats = util.sizeFromShape(grid.shape);
  if (floats > KEEP_FLOATS) {
    backend.disposeData(grid.dataId);
    return;
  }
  const i = kept.findIndex((e) => e.backend === backend && e.source === t.dataId && e.key === key);
  if (i >= 0) dropKept(i);
  kept.push({ backend, source: t.dataId, key, grid, floats });
  let total = kept.reduce((a, e) => a + e.floats, 0);
  while (kept.length > KEEP_MAX || total > KEEP_FLOATS) {
    total -= (kept[0] as KeptGrid).floats;
    dropKept(0);
  }
}

/** The key of a convolution's transposed patch matrix (see {@link im2colT}). */
function colKey(g: ConvGeom): string {
  return `colT:${g.b},${g.h},${g.w},${g.c},${g.fh},${g.fw},${g.oh},${g.ow},${g.sh},${g.sw},${g.top},${g.left}`;
}

/** Grids kept now (for tests). @internal */
export function keptGridCount(): number {
  return kept.length;
}

/** Whether a gradient tape records (the forward pass of a training step). */
function recording(): boolean {
  return (engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth > 0;
}

/**
 * Inputs of at most this many channels (the first layer of a network on grayscale or two-channel
 * images) use the transposed patch matrix instead of per-tap products, which would have an inner
 * dimension of c: a depth-1 product runs at a few GFLOP/s, on one thread, once per tap and block.
 */
const FEW_CHANNELS = 2;

function fewChannels(g: ConvGeom): boolean {
  return g.c <= FEW_CHANNELS && g.fh * g.fw > 1;
}

/** The output columns `[lo, hi)` whose input column `ox·sw + kw − left` lies inside `[0, w)` (filter column `kw`). */
function insideColumns(kw: number, g: ConvGeom): [number, number] {
  const lo = Math.min(g.ow, Math.max(0, Math.ceil((g.left - kw) / g.sw)));
  return [lo, Math.max(lo, Math.min(g.ow, Math.floor((g.w - 1 + g.left - kw) / g.sw) + 1))];
}

/**
 * Writes the transposed patch matrix `Pᵀ` (`K x rows`, K = fh * fw * c, rows = b * oh * ow) at
 * float offset `pt`: row `(kh * fw + kw) * c + ci`, column `(n * oh + oy) * ow + ox`, holding
 * `x[n, oy*sh + kh - top, ox*sw + kw - left, ci]` (0 in the padding). Its rows are runs of the
 * input (contiguous for one channel and stride 1), and the row order is the filter's (HWIO), so
 * `Y = P W` and `dW = Pᵀ dY` are single products.
 */
function im2colT(H: Float32Array, x: number, pt: number, g: ConvGeom): void {
  const { b, h, w, c, fh, fw, oh, ow, sh, sw, top, left } = g;
  const rows = b * oh * ow;
  const step = sw * c;
  for (let kh = 0; kh < fh; kh++) {
    for (let kw = 0; kw < fw; kw++) {
      const [lo, hi] = insideColumns(kw, g);
      for (let ci = 0; ci < c; ci++) {
        let d = pt + ((kh * fw + kw) * c + ci) * rows;
        for (let n = 0; n < b; n++) {
          for (let oy = 0; oy < oh; oy++, d += ow) {
            const iy = oy * sh + kh - top;
            if (iy < 0 || iy >= h) {
              for (let j = 0; j < ow; j++) H[d + j] = 0;
              continue;
            }
            for (let j = 0; j < lo; j++) H[d + j] = 0;
            let src = x + ((n * h + iy) * w + lo * sw + kw - left) * c + ci;
            if (step === 1) H.copyWithin(d + lo, src, src + hi - lo); // one channel, stride 1: a run
            else for (let j = lo; j < hi; j++, src += step) H[d + j] = H[src] as number;
            for (let j = hi; j < ow; j++) H[d + j] = 0;
          }
        }
      }
    }
  }
}

/** The adjoint of {@link im2colT}: `dx` (zeroed here) accumulates every entry of `dPᵀ` at `pt`. */
function col2imT(H: Float32Array, pt: number, dx: number, g: ConvGeom): void {
  const { b, h, w, c, fh, fw, oh, ow, sh, sw, top, left } = g;
  const rows = b * oh * ow;
  const step = sw * c;
  H.fill(0, dx, dx + b * h * w * c);
  for (let kh = 0; kh < fh; kh++) {
    for (let kw = 0; kw < fw; kw++) {
      const [lo, hi] = insideColumns(kw, g);
      for (let ci = 0; ci < c; ci++) {
        let s = pt + ((kh * fw + kw) * c + ci) * rows;
        for (let n = 0; n < b; n++) {
          for (let oy = 0; oy < oh; oy++, s += ow) {
            const iy = oy * sh + kh - top;
            if (iy < 0 || iy >= h) continue;
            let d = dx + ((n * h + iy) * w + lo * sw + kw - left) * c + ci;
            for (let j = lo; j < hi; j++, d += step) H[d] = (H[d] as number) + (H[s + j] as number);
          }
        }
      }
    }
  }
}

/** `out = conv(x, filter)` into an allocated NHWC output. */
function runConv(backend: WasmBackend, x: TensorInfo, filter: TensorInfo, out: TensorInfo, g: ConvGeom): void {
  const { b, c, fh, fw, co } = g;
  pruneKept(backend);
  if (fewChannels(g)) {
    const rows = b * g.oh * g.ow;
    const kd = fh * fw * c;
    // the patch matrix, kept for the filter gradient while a tape records
    const ptKept = recording() ? backend.makeOutput([kd * rows], 'float32') : undefined;
    withTemps(
      backend,
      [ptKept === undefined ? kd * rows : 0],
      ([tmp]) => {
        const { H, at } = offsets(backend, [x, filter, out, ptKept ?? (tmp as TensorInfo)]);
        const [xo, fo, oo, po] = at as [number, number, number, number];
        im2colT(H, xo, po, g);
        sgemm(rows, co, kd, H.subarray(po, po + kd * rows), true, H.subarray(fo, fo + kd * co), false, H.subarray(oo, oo + rows * co));
      },
      [ptKept],
    );
    if (ptKept !== undefined) keepGrid(backend, x, colKey(g), ptKept);
    return;
  }
  const grid = gridOf(g);
  if (grid !== undefined) {
    const { wp, m } = grid;
    const chunk = chunkRows(c, co);
    // the padded input, kept for the filter gradient while a tape records
    const keep = grid.padded && recording();
    const xg = keep ? backend.makeOutput([m * c], 'float32') : undefined;
    withTemps(backend, [grid.padded && !keep ? m * c : 0, grid.cropped ? m * co : 0], ([xt, yg]) => {
      const xp = xg ?? (xt as TensorInfo);
      const { H, at } = offsets(backend, [x, filter, out, xp, yg as TensorInfo]);
      const [xo, fo, oo, xpo, ygo] = at as [number, number, number, number, number];
      const X = grid.padded ? xpo : xo;
      const Y = grid.cropped ? ygo : oo;
      if (grid.padded) toGrid(H, xo, xpo, b, g.h, g.w, c, grid, grid.xTop, grid.xLeft);
      // output rows [r0, r0 + n): tap t reads input rows r0 + off_t.. (the first tap, off 0, sets them)
      for (let r0 = 0; r0 < m; r0 += chunk) {
        for (let t = 0; t < fh * fw; t++) {
          const off = Math.floor(t / fw) * wp + (t % fw);
          const n = Math.min(chunk, m - off - r0);
          if (n <= 0) continue;
          const a = X + (r0 + off) * c;
          const y = Y + r0 * co;
          sgemm(n, co, c, H.subarray(a, a + n * c), false, H.subarray(fo + t * c * co, fo + (t + 1) * c * co), false, H.subarray(y, y + n * co), { beta: t === 0 ? 0 : 1 });
        }
      }
      if (grid.cropped) fromGrid(H, ygo, oo, b, g.oh, g.ow, co, grid, grid.yTop, grid.yLeft);
    }, [xg]);
    if (xg !== undefined) keepGrid(backend, x, gridKey(b, g.h, g.w, c, grid, grid.xTop, grid.xLeft), xg);
    return;
  }
  const rows = b * g.oh * g.ow;
  const kd = fh * fw * c;
  withTemps(backend, [rows * kd], ([P]) => {
    const { H, at } = offsets(backend, [x, filter, out, P as TensorInfo]);
    const [xo, fo, oo, po] = at as [number, number, number, number];
    im2col(H, xo, po, g);
    sgemm(rows, co, kd, H.subarray(po, po + rows * kd), false, H.subarray(fo, fo + kd * co), false, H.subarray(oo, oo + rows * co));
  });
}

const conv2D: NativeKernel = (args, fallback) => {
  const { inputs, backend, attrs } = args;
  const x = inputs['x'] as TensorInfo;
  const filter = inputs['filter'] as TensorInfo;
  const g = x.dtype === 'float32' && filter.dtype === 'float32' ? convGeom(x.shape, filter.shape, attrs as unknown as ConvAttrs) : undefined;
  if (g === undefined) return fallback(args) as TensorInfo;
  const out = backend.makeOutput([g.b, g.oh, g.ow, g.co], 'float32');
  runConv(backend, x, filter, out, g);
  return out;
};

const fusedConv2D: NativeKernel = (args, fallback) => {
  const { inputs, backend, attrs } = args;
  const x = inputs['x'] as TensorInfo;
  const filter = inputs['filter'] as TensorInfo;
  const g = x.dtype === 'float32' && filter.dtype === 'float32' ? convGeom(x.shape, filter.shape, attrs as unknown as ConvAttrs) : undefined;
  if (g === undefined) return fallback(args) as TensorInfo;
  const outShape = [g.b, g.oh, g.ow, g.co];
  const f = fusedParts(inputs, attrs, outShape);
  if (f === undefined) return fallback(args) as TensorInfo;
  const out = backend.makeOutput(outShape, 'float32');
  runConv(backend, x, filter, out, g);
  return applyFused(backend, out, f);
};

/** Checks the output gradient's shape against the geometry. */
function dyFits(dy: TensorInfo, g: ConvGeom): boolean {
  return dy.dtype === 'float32' && dy.shape.length === 4 && dy.shape[0] === g.b && dy.shape[1] === g.oh && dy.shape[2] === g.ow && dy.shape[3] === g.co;
}

/** `dW = Σ_taps` (shifted input)ᵀ dY on the grid (stride 1), else `Pᵀ dY` with the patch matrix P. */
const conv2DBackpropFilter: NativeKernel = (args, fallback) => {
  const { inputs, backend, attrs } = args;
  const x = inputs['x'] as TensorInfo;
  const dy = inputs['dy'] as TensorInfo;
  const filterShape = (attrs as unknown as { filterShape: number[] }).filterShape;
  const g = x.dtype === 'float32' && Array.isArray(filterShape) ? convGeom(x.shape, filterShape, attrs as unknown as ConvAttrs) : undefined;
  if (g === undefined || !dyFits(dy, g)) return fallback(args) as TensorInfo;
  const { b, c, fh, fw, co } = g;
  const out = backend.makeOutput([fh, fw, c, co], 'float32');
  pruneKept(backend);
  if (fewChannels(g)) {
    const rows = b * g.oh * g.ow;
    const kd = fh * fw * c;
    const ptKept = takeGrid(backend, x, colKey(g)); // the forward pass's patch matrix (owned here)
    withTemps(
      backend,
      [ptKept === undefined ? kd * rows : 0],
      ([tmp]) => {
        const { H, at } = offsets(backend, [x, dy, out, ptKept ?? (tmp as TensorInfo)]);
        const [xo, dyo, oo, po] = at as [number, number, number, number];
        if (ptKept === undefined) im2colT(H, xo, po, g);
        sgemm(kd, co, rows, H.subarray(po, po + kd * rows), false, H.subarray(dyo, dyo + rows * co), false, H.subarray(oo, oo + kd * co));
      },
      [ptKept],
    );
    if (ptKept !== undefined) backend.disposeData(ptKept.dataId);
    return out;
  }
  const grid = gridOf(g);
  if (grid !== undefined) {
    const { wp, m } = grid;
    const chunk = chunkRows(c, co);
    // the grids the forward pass and the input gradient built, when kept (owned here from now)
    const xKept = grid.padded ? takeGrid(backend, x, gridKey(b, g.h, g.w, c, grid, grid.xTop, grid.xLeft)) : undefined;
    const dyKept = grid.cropped ? takeGrid(backend, dy, gridKey(b, g.oh, g.ow, co, grid, grid.yTop, grid.yLeft)) : undefined;
    withTemps(backend, [grid.padded && xKept === undefined ? m * c : 0, grid.cropped && dyKept === undefined ? m * co : 0], ([xt, dyt]) => {
      const xp = xKept ?? (xt as TensorInfo);
      const dyg = dyKept ?? (dyt as TensorInfo);
      const { H, at } = offsets(backend, [x, dy, out, xp, dyg]);
      const [xo, dyo, oo, xpo, dygo] = at as [number, number, number, number, number];
      const X = grid.padded ? xpo : xo;
      const D = grid.cropped ? dygo : dyo;
      if (grid.padded && xKept === undefined) toGrid(H, xo, xpo, b, g.h, g.w, c, grid, grid.xTop, grid.xLeft);
      if (grid.cropped && dyKept === undefined) toGrid(H, dyo, dygo, b, g.oh, g.ow, co, grid, grid.yTop, grid.yLeft);
      // dW_t accumulates over chunks of output rows [r0, r0 + n) (input rows r0 + off_t..)
      H.fill(0, oo, oo + fh * fw * c * co);
      for (let r0 = 0; r0 < m; r0 += chunk) {
        for (let t = 0; t < fh * fw; t++) {
          const off = Math.floor(t / fw) * wp + (t % fw);
          const n = Math.min(chunk, m - off - r0);
          if (n <= 0) continue;
          const a = X + (r0 + off) * c;
          const d = D + r0 * co;
          sgemm(c, co, n, H.subarray(a, a + n * c), true, H.subarray(d, d + n * co), false, H.subarray(oo + t * c * co, oo + (t + 1) * c * co), { beta: 1 });
        }
      }
    }, [xKept, dyKept]);
    for (const t of [xKept, dyKept]) if (t !== undefined) backend.disposeData(t.dataId);
    return out;
  }
  const rows = b * g.oh * g.ow;
  const kd = fh * fw * c;
  withTemps(backend, [rows * kd], ([P]) => {
    const { H, at } = offsets(backend, [x, dy, out, P as TensorInfo]);
    const [xo, dyo, oo, po] = at as [number, number, number, number];
    im2col(H, xo, po, g);
    sgemm(kd, co, rows, H.subarray(po, po + rows * kd), true, H.subarray(dyo, dyo + rows * co), false, H.subarray(oo, oo + kd * co));
  });
  return out;
};

/** `dX`: per tap, dY W_tapᵀ accumulated into the shifted grid (stride 1), else `col2im(dY Wᵀ)`. */
const conv2DBackpropInput: NativeKernel = (args, fallback) => {
  const { inputs, backend, attrs } = args;
  const dy = inputs['dy'] as TensorInfo;
  const filter = inputs['filter'] as TensorInfo;
  const inputShape = (attrs as unknown as { inputShape: number[] }).inputShape;
  const g = filter.dtype === 'float32' && Array.isArray(inputShape) ? convGeom(inputShape, filter.shape, attrs as unknown as ConvAttrs) : undefined;
  if (g === undefined || !dyFits(dy, g)) return fallback(args) as TensorInfo;
  const { b, c, fh, fw, co } = g;
  const out = backend.makeOutput([b, g.h, g.w, c], 'float32');
  pruneKept(backend);
  if (fewChannels(g)) {
    const rows = b * g.oh * g.ow;
    const kd = fh * fw * c;
    withTemps(backend, [kd * rows], ([dPT]) => {
      const { H, at } = offsets(backend, [dy, filter, out, dPT as TensorInfo]);
      const [dyo, fo, oo, po] = at as [number, number, number, number];
      // dPᵀ = W dYᵀ (K x rows), then summed back onto the input positions
      sgemm(kd, rows, co, H.subarray(fo, fo + kd * co), false, H.subarray(dyo, dyo + rows * co), true, H.subarray(po, po + kd * rows));
      col2imT(H, po, oo, g);
    });
    return out;
  }
  const grid = gridOf(g);
  if (grid !== undefined) {
    const { wp, m } = grid;
    const chunk = chunkRows(c, co);
    // the gridded output gradient, kept for the filter gradient that follows
    const dyg = grid.cropped ? backend.makeOutput([m * co], 'float32') : undefined;
    withTemps(backend, [0, grid.padded ? m * c : 0], ([dyt, dxp]) => {
      const { H, at } = offsets(backend, [dy, filter, out, dyg ?? (dyt as TensorInfo), dxp as TensorInfo]);
      const [dyo, fo, oo, dygo, dxpo] = at as [number, number, number, number, number];
      const D = grid.cropped ? dygo : dyo;
      const X = grid.padded ? dxpo : oo;
      if (grid.cropped) toGrid(H, dyo, dygo, b, g.oh, g.ow, co, grid, grid.yTop, grid.yLeft);
      // input-gradient rows [q0, q1): tap t adds dY rows q - off_t (the first tap, off 0, sets them)
      for (let q0 = 0; q0 < m; q0 += chunk) {
        const q1 = Math.min(m, q0 + chunk);
        for (let t = 0; t < fh * fw; t++) {
          const off = Math.floor(t / fw) * wp + (t % fw);
          const lo = Math.max(q0, off);
          if (q1 <= lo) continue;
          const d = D + (lo - off) * co;
          const x = X + lo * c;
          sgemm(q1 - lo, c, co, H.subarray(d, d + (q1 - lo) * co), false, H.subarray(fo + t * c * co, fo + (t + 1) * c * co), true, H.subarray(x, x + (q1 - lo) * c), { beta: t === 0 ? 0 : 1 });
        }
      }
      if (grid.padded) fromGrid(H, dxpo, oo, b, g.h, g.w, c, grid, grid.xTop, grid.xLeft);
    }, [dyg]);
    if (dyg !== undefined) keepGrid(backend, dy, gridKey(b, g.oh, g.ow, co, grid, grid.yTop, grid.yLeft), dyg);
    return out;
  }
  const rows = b * g.oh * g.ow;
  const kd = fh * fw * c;
  withTemps(backend, [rows * kd], ([dP]) => {
    const { H, at } = offsets(backend, [dy, filter, out, dP as TensorInfo]);
    const [dyo, fo, oo, po] = at as [number, number, number, number];
    sgemm(rows, kd, co, H.subarray(dyo, dyo + rows * co), false, H.subarray(fo, fo + kd * co), true, H.subarray(po, po + rows * kd));
    col2im(H, po, oo, g);
  });
  return out;
};

// ---------------------------------------------------------------------------------------------
// Reductions over leading or middle axes (the wasm kernels transpose such inputs first, with a
// scalar transpose: batchnorm statistics and bias gradients over N, H, W spent most of a CNN step
// there). `sum_r x[o, r, i]` is `ones[1, red] X_o[red, inner]`, one product per outer index.

/** Outer indices beyond which the per-index products cost more than the wasm kernel's transpose. */
const MAX_OUTER = 4096;

/**
 * Blocks a reduction of `red` rows of `inner` columns is folded into (1 = none). Summing a tall,
 * narrow matrix (a bias gradient: 100k rows of 32) is one product with an output of `inner`
 * entries; viewed as `red / fold` rows of `fold * inner` (the same memory) it is a wider product,
 * and the `fold` partial sums of each column are then added in float64 (in an order fixed by the
 * shape). The fold leaves at least `2 * SPLIT_MIN_DEPTH` rows where the shape allows, so that with
 * two or more threads the product (one-thread, see {@link reductionProduct}) is computed as two
 * halves of its rows on this thread and the helper thread (sgemm-split.ts).
 */
function foldOf(red: number, inner: number): number {
  if (inner >= 1024 || red * inner < 1 << 16) return 1;
  let shallow = 1;
  for (let f = Math.floor(4096 / inner); f >= 2; f--) {
    if (red % f !== 0 || red / f < 16) continue;
    if (red / f >= 2 * SPLIT_MIN_DEPTH) return f;
    if (shallow === 1) shallow = f;
  }
  return shallow;
}

/**
 * The column sums of a reduction run as one-thread products (`serial`): OpenBLAS' threads were
 * no faster on them (a single output row, 1 x 4096 x 784: best of 30 calls 1.2-1.7 ms on two
 * threads vs 1.5-1.7 on one) and on a busy machine much slower (a MiniMyrtle step's four bias
 * gradients took 19 ms on two threads vs 2.9 ms on one, load ~8), while the two-way split of the
 * rows over the helper thread never waits for a thread that is not running.
 */
function reductionProduct(k: number, n: number, O: Float32Array, X: Float32Array, Y: Float32Array, alpha: number): void {
  sgemm(1, n, k, O, false, X, false, Y, { alpha, serial: true });
}

function reduction(mean: boolean): NativeKernel {
  return (args, fallback) => {
    const { inputs, backend, attrs } = args;
    const x = inputs['x'] as TensorInfo;
    const { axis, keepDims } = attrs as unknown as { axis: number | number[]; keepDims?: boolean };
    if (x.dtype !== 'float32') return fallback(args) as TensorInfo;
    let axes: number[];
    try {
      axes = [...new Set(util.parseAxisParam(axis, x.shape))].sort((p, q) => p - q);
    } catch {
      return fallback(args) as TensorInfo;
    }
    const lo = axes[0];
    const hi = (axes[axes.length - 1] ?? -1) + 1;
    // contiguous axes that are not innermost (innermost reductions need no transpose in wasm)
    if (lo === undefined || hi - lo !== axes.length || hi === x.shape.length) return fallback(args) as TensorInfo;
    const size = (from: number, to: number): number => util.sizeFromShape(x.shape.slice(from, to));
    const outer = size(0, lo);
    const red = size(lo, hi);
    const inner = size(hi, x.shape.length);
    if (outer * red * inner === 0 || outer > MAX_OUTER) return fallback(args) as TensorInfo;
    const [outShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
    const out = backend.makeOutput(keepDims === true ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape, 'float32');
    const fold = foldOf(red, inner);
    withTemps(backend, [red / fold, fold > 1 ? fold * inner : 0], ([ones, part]) => {
      const O = f32(backend, ones as TensorInfo);
      O.fill(1);
      const X = f32(backend, x);
      const Y = f32(backend, out);
      const P = f32(backend, part as TensorInfo);
      const alpha = mean ? 1 / red : 1;
      for (let o = 0; o < outer; o++) {
        const Xo = X.subarray(o * red * inner, (o + 1) * red * inner);
        if (fold === 1) {
          reductionProduct(red, inner, O, Xo, Y.subarray(o * inner, (o + 1) * inner), alpha);
          continue;
        }
        // X_o as (red / fold) x (fold * inner): row sums of `fold` interleaved blocks, then added up
        reductionProduct(red / fold, fold * inner, O, Xo, P, alpha);
        for (let i = 0; i < inner; i++) {
          let acc = 0;
          for (let j = i; j < fold * inner; j += inner) acc += P[j] as number;
          Y[o * inner + i] = acc;
        }
      }
    });
    return out;
  };
}

// ---------------------------------------------------------------------------------------------
// Companions: work of the wasm backend that the native training path avoids (exact results).
// - Identity and same-dtype Cast copy the tensor in wasm 4.22; tfjs-core clones every tensor it
//   saves for the backward pass (and basis' gradients cast float32 to float32), so a training step
//   copied each activation several times. They share the data instead (reference counted), as the
//   cpu backend does.
// - MaxPoolGrad is a scalar loop in wasm 4.22 (the largest kernel of a CNN step once the products
//   are native): one WebAssembly SIMD pass over the heap (wasm-simd.ts) when the channels are a
//   multiple of 4, else one pass from JS; first maximum of each window as in tfjs.

function share(x: TensorInfo, backend: WasmBackend): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

const identity: NativeKernel = (args, fallback) => {
  const x = args.inputs['x'] as TensorInfo;
  return x.dtype === 'string' || x.dtype === 'complex64' ? (fallback(args) as TensorInfo) : share(x, args.backend);
};

const cast: NativeKernel = (args, fallback) => {
  const x = args.inputs['x'] as TensorInfo;
  const { dtype } = args.attrs as unknown as { dtype: string };
  return dtype !== x.dtype || x.dtype === 'string' || x.dtype === 'complex64' ? (fallback(args) as TensorInfo) : share(x, args.backend);
};

/** The pooling geometry of a float32 NHWC input, or undefined when tfjs would reject the attributes (its kernel then raises). */
function poolInfo(x: TensorInfo, attrs: NamedAttrMap): backend_util.Conv2DInfo | undefined {
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as { filterSize: number | [number, number]; strides: number | [number, number]; pad: Pad; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
  if (x.dtype !== 'float32' || x.shape.length !== 4) return undefined;
  try {
    return backend_util.computePool2DInfo(x.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  } catch {
    return undefined;
  }
}

/** Whether a pooling is 2x2 windows with stride 2, no padding and every window inside the input. */
function pool2(info: backend_util.Conv2DInfo): boolean {
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, padInfo, dilationHeight, dilationWidth } = info;
  const inside = 2 * info.outHeight <= info.inHeight && 2 * info.outWidth <= info.inWidth; // 'same' on an odd size pads the last window
  return fh === 2 && fw === 2 && sh === 2 && sw === 2 && padInfo.top === 0 && padInfo.left === 0 && dilationHeight === 1 && dilationWidth === 1 && inside;
}

/**
 * MaxPool, 2x2 windows with stride 2 and no padding on float32 NHWC with channels a multiple of 4
 * (MiniMyrtle's and most CNNs' pooling): one WebAssembly SIMD pass, four loads and three maxima per
 * 4 channels (the wasm backend's kernel took 3x as long on a 128 x 28 x 28 x 32 batch). Other
 * poolings run the backend's kernel.
 */
const maxPool: NativeKernel = (args, fallback) => {
  const { inputs, backend, attrs } = args;
  const x = inputs['x'] as TensorInfo;
  if ((x.shape[3] ?? 0) % 4 !== 0) return fallback(args) as TensorInfo;
  const info = poolInfo(x, attrs);
  const simdK = simdKernelsFor(backend);
  if (info === undefined || !pool2(info) || simdK === null || !simdK.usable()) return fallback(args) as TensorInfo;
  const { batchSize: b, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const out = backend.makeOutput([b, oh, ow, c], 'float32');
  simdK.maxPool2(simdK.region(f32(backend, x)), simdK.region(f32(backend, out)), { b, h, w, c, oh, ow });
  return out;
};

const maxPoolGrad: NativeKernel = (args, fallback) => {
  const { inputs, backend, attrs } = args;
  const dy = inputs['dy'] as TensorInfo;
  const x = inputs['input'] as TensorInfo;
  const info = dy.dtype === 'float32' ? poolInfo(x, attrs) : undefined;
  if (info === undefined) return fallback(args) as TensorInfo;
  const { batchSize: b, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const { top, left } = info.padInfo;
  if (dy.shape.length !== 4 || dy.shape[0] !== b || dy.shape[1] !== oh || dy.shape[2] !== ow || dy.shape[3] !== c) return fallback(args) as TensorInfo;
  const out = backend.makeOutput([...x.shape], 'float32');
  const X = f32(backend, x);
  const D = f32(backend, dy);
  const G = f32(backend, out);
  const simdK = c % 4 === 0 ? simdKernelsFor(backend) : null;
  if (simdK !== null && simdK.usable() && pool2(info)) {
    // 2x2 windows, stride 2: straight-line SIMD per window, same first-maximum rule
    simdK.maxPool2(simdK.region(X), simdK.region(D), { b, h, w, c, oh, ow }, { g: simdK.region(G) });
    return out;
  }
  if (simdK !== null && simdK.usable()) {
    // one SIMD pass (4 channels per instruction), same first-maximum rule
    simdK.maxPoolGrad(simdK.region(X), simdK.region(D), simdK.region(G), { b, h, w, c, oh, ow, sh, sw, fh, fw, top, left });
    return out;
  }
  G.fill(0);
  const best = new Float64Array(c);
  const at = new Int32Array(c);
  let o = 0;
  for (let n = 0; n < b; n++) {
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - top;
      const yLo = Math.max(0, y0);
      const yHi = Math.min(h, y0 + fh);
      for (let ox = 0; ox < ow; ox++, o += c) {
        const x0 = ox * sw - left;
        const xLo = Math.max(0, x0);
        const xHi = Math.min(w, x0 + fw);
        best.fill(Number.NEGATIVE_INFINITY);
        at.fill(-1);
        for (let iy = yLo; iy < yHi; iy++) {
          for (let ix = xLo; ix < xHi; ix++) {
            const base = ((n * h + iy) * w + ix) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = X[base + ch] as number;
              if (v > (best[ch] as number)) {
                best[ch] = v;
                at[ch] = base + ch;
              }
            }
          }
        }
        for (let ch = 0; ch < c; ch++) {
          const p = at[ch] as number;
          if (p >= 0) G[p] = (G[p] as number) + (D[o + ch] as number);
        }
      }
    }
  }
  return out;
};

// ---------------------------------------------------------------------------------------------
// Registration

const KERNELS: readonly [string, NativeKernel, string][] = [
  ['BatchMatMul', batchMatMul, 'BatchMatMul(native sgemm)'],
  ['_FusedMatMul', fusedMatMul, '_FusedMatMul(native sgemm)'],
  ['Conv2D', conv2D, 'Conv2D(native sgemm)'],
  ['FusedConv2D', fusedConv2D, 'FusedConv2D(native sgemm)'],
  ['Conv2DBackpropFilter', conv2DBackpropFilter, 'Conv2DBackpropFilter(native sgemm)'],
  ['Conv2DBackpropInput', conv2DBackpropInput, 'Conv2DBackpropInput(native sgemm)'],
  ['Sum', reduction(false), 'Sum(native sgemm, leading axes)'],
  ['Mean', reduction(true), 'Mean(native sgemm, leading axes)'],
  ['Identity', identity, 'Identity(shared data)'],
  ['Cast', cast, 'Cast(same dtype: shared data)'],
  ['MaxPool', maxPool, 'MaxPool(SIMD, 2x2 stride 2)'],
  ['MaxPoolGrad', maxPoolGrad, 'MaxPoolGrad(SIMD/JS)'],
];

let registered: string[] | undefined;

/**
 * Registers the native-BLAS training kernels over the wasm kernels in force (stock or basis'
 * fixes), once, when a native BLAS is in use; returns the names registered (empty on WebAssembly).
 * Each kernel checks the engine per call and runs the kernel it replaced when the engine is not
 * native, so `configureEngine({ blas: 'off' })` later switches them off. Called while the engine
 * is on WebAssembly it registers nothing and may be called again once the engine is native
 * (`applyWasmKernelFixes` calls it once, when it first runs).
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-wasm';
 * registerNativeKernels(); // ['BatchMatMul(native sgemm)', '_FusedMatMul(native sgemm)', 'Conv2D(native sgemm)', ...] with OpenBLAS
 * ```
 */
export function registerNativeKernels(): string[] {
  if (registered !== undefined) return registered;
  if (nativeLib() === null) return [];
  const names: string[] = [];
  for (const [name, kernel, label] of KERNELS) {
    const original = getKernel(name, 'wasm');
    if (original === undefined) continue;
    const fallback = original.kernelFunc;
    unregisterKernel(name, 'wasm');
    registerKernel({
      ...original,
      kernelFunc: (args) => {
        if (nativeLib() === null) return fallback(args);
        residentInputs(args.backend, args.inputs);
        return kernel(args as unknown as Args, fallback);
      },
    });
    names.push(label);
  }
  if (names.length > 0) registered = names;
  return names;
}
