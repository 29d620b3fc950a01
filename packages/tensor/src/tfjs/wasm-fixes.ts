// Kernel fixes for @tensorflow/tfjs-backend-wasm 4.22 (see the toolchain notes): re-registered
// through tfjs-core's kernel registry, composing the backend's own fast kernels.
import {
  backend_util,
  getKernel,
  registerKernel,
  unregisterKernel,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { registerFusedKernels } from './fused-kernels.js';
import { registerNativeKernels } from './native-kernels.js';
import { mergedRows, repeat, residentInputs, simdAvailable, simdKernelsFor } from './wasm-simd.js';

interface WasmLikeBackend {
  disposeData(dataId: object): void;
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

type Inputs = Record<string, TensorInfo>;

/** Calls a kernel registered for 'wasm' directly, as kernels call each other inside a backend. */
function call(name: string, inputs: Inputs, backend: WasmLikeBackend, attrs: NamedAttrMap): TensorInfo {
  const k = getKernel(name, 'wasm');
  if (k === undefined) throw new Error(`wasm kernel ${name} is not registered`);
  return k.kernelFunc({ inputs, backend: backend as never, attrs }) as TensorInfo;
}

function replace(name: string, make: (original: KernelConfig | undefined) => KernelFunc): boolean {
  const original = getKernel(name, 'wasm');
  const made = make(original);
  const kernelFunc: KernelFunc = (args) => {
    residentInputs(args.backend, args.inputs);
    return made(args);
  };
  if (original !== undefined) unregisterKernel(name, 'wasm');
  registerKernel({
    kernelName: name,
    backendName: 'wasm',
    kernelFunc,
    ...(original?.setupFunc === undefined ? {} : { setupFunc: original.setupFunc }),
    ...(original?.disposeFunc === undefined ? {} : { disposeFunc: original.disposeFunc }),
  });
  return true;
}

/**
 * `[B, R, C] -> [B, C, R]` view of a permutation, if it is one: after dropping size-1 axes the
 * permutation keeps a leading block of axes and swaps the two blocks after it (2-D transposes,
 * swapping the last two axes, NHWC <-> NCHW). Returns undefined for other permutations.
 */
function blockSwap(shape: readonly number[], perm: readonly number[]): { B: number; R: number; C: number } | undefined {
  const keep = shape.map((d, i) => (d === 1 ? -1 : i)).filter((i) => i >= 0);
  const rank = new Map(keep.map((axis, j) => [axis, j]));
  const p = perm.filter((a) => shape[a] !== 1).map((a) => rank.get(a) as number);
  const dims = keep.map((a) => shape[a] as number);
  const r = p.length;
  let a = 0;
  while (a < r && p[a] === a) a++;
  if (a >= r - 1) return undefined; // identity: the original kernel copies
  const b = p[a] as number; // the C block is axes b..r-1, the R block a..b-1
  for (let i = 0; i < r - b; i++) if (p[a + i] !== b + i) return undefined;
  for (let i = 0; i < b - a; i++) if (p[a + (r - b) + i] !== a + i) return undefined;
  const prod = (lo: number, hi: number): number => dims.slice(lo, hi).reduce((x, y) => x * y, 1);
  return { B: prod(0, a), R: prod(a, b), C: prod(b, r) };
}

/** `dst[b][j][i] = src[b][i][j]` for `B` matrices of `R x C`, in cache-friendly 16 x 16 tiles. */
function transposeBlocks(src: ArrayLike<number>, dst: { [i: number]: number }, B: number, R: number, C: number): void {
  const T = 16;
  for (let bb = 0; bb < B; bb++) {
    const base = bb * R * C;
    for (let i0 = 0; i0 < R; i0 += T) {
      const i1 = Math.min(i0 + T, R);
      for (let j0 = 0; j0 < C; j0 += T) {
        const j1 = Math.min(j0 + T, C);
        for (let i = i0; i < i1; i++) {
          const row = base + i * C;
          for (let j = j0; j < j1; j++) dst[base + j * R + i] = src[row + j] as number;
        }
      }
    }
  }
}

/**
 * Transpose in wasm 4.22 is a scalar loop with strided writes: a 512 x 784 transpose takes ~7.5 ms
 * (as long as the matmul it feeds). Permutations that swap two blocks of axes (2-D transposes,
 * the last two axes, NHWC <-> NCHW) are done on the wasm heap from JS in 16 x 16 tiles (~0.6 ms);
 * others use the original kernel. Exact (a copy), so results are unchanged.
 */
function fixTranspose(): boolean {
  return replace('Transpose', (original) => {
    if (original === undefined) throw new Error('wasm Transpose is not registered');
    return (args) => {
      const { inputs, backend, attrs } = args as unknown as { inputs: Inputs; backend: WasmLikeBackend; attrs: NamedAttrMap };
      const x = inputs['x'] as TensorInfo;
      const perm = (attrs as unknown as { perm: number[] }).perm;
      const view = x.dtype === 'complex64' || x.dtype === 'string' ? undefined : blockSwap(x.shape, perm);
      if (view === undefined) return original.kernelFunc(args);
      const out = backend.makeOutput(
        perm.map((a) => x.shape[a] as number),
        x.dtype,
      );
      // views taken after makeOutput (an allocation may grow the heap and detach older views)
      transposeBlocks(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), view.B, view.R, view.C);
      return out;
    };
  });
}

/** Swaps the last two axes of a tensor with the wasm Transpose kernel. */
function transposeLast2(x: TensorInfo, backend: WasmLikeBackend): TensorInfo {
  const r = x.shape.length;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return call('Transpose', { x }, backend, { perm });
}

/**
 * BatchMatMul with transposeA/transposeB runs at 1–2 GFLOP/s in wasm 4.22 instead of ~20: transpose
 * the operands explicitly, then run the fast untransposed path.
 */
function fixBatchMatMul(): boolean {
  return replace('BatchMatMul', (original) => {
    if (original === undefined) throw new Error('wasm BatchMatMul is not registered');
    return (args) => {
      const { inputs, backend, attrs } = args as unknown as { inputs: Inputs; backend: WasmLikeBackend; attrs: NamedAttrMap };
      const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
      if (!transposeA && !transposeB) return original.kernelFunc(args);
      const a = inputs['a'] as TensorInfo;
      const b = inputs['b'] as TensorInfo;
      const at = transposeA ? transposeLast2(a, backend) : a;
      const bt = transposeB ? transposeLast2(b, backend) : b;
      try {
        return original.kernelFunc({ ...args, inputs: { a: at, b: bt }, attrs: { ...attrs, transposeA: false, transposeB: false } });
      } finally {
        if (transposeA) backend.disposeData(at.dataId);
        if (transposeB) backend.disposeData(bt.dataId);
      }
    };
  });
}

type Pad = 'valid' | 'same' | number | backend_util.ExplicitPadding;

function explicitPads(pad: Pad): [[number, number], [number, number]] | undefined {
  if (typeof pad === 'number') return [[pad, pad], [pad, pad]];
  if (Array.isArray(pad)) return [pad[1] as [number, number], pad[2] as [number, number]];
  return undefined;
}

/**
 * Writes the transposed im2col matrix of an NHWC input: `dst[k][r]` with filter tap and channel
 * `k = (kh * fw + kw) * c + ci` and output position `r = (n * oh + oy) * ow + ox`, holding
 * `x[n, oy*sh + kh - top, ox*sw + kw - left, ci]` (0 in the padding). Rows are written
 * contiguously, one output row at a time.
 */
function im2colT(
  src: ArrayLike<number>,
  dst: { [i: number]: number; fill(v: number, start?: number, end?: number): unknown },
  g: { b: number; h: number; w: number; c: number; fh: number; fw: number; oh: number; ow: number; sh: number; sw: number; top: number; left: number },
): void {
  const { b, h, w, c, fh, fw, oh, ow, sh, sw, top, left } = g;
  const rows = b * oh * ow;
  for (let kh = 0; kh < fh; kh++) {
    for (let kw = 0; kw < fw; kw++) {
      const tap = (kh * fw + kw) * c;
      // output columns whose input column ox*sw + kw - left lies inside 0..w-1
      const oxLo = Math.min(ow, Math.max(0, Math.ceil((left - kw) / sw)));
      const oxHi = Math.max(oxLo, Math.min(ow, Math.floor((w - 1 + left - kw) / sw) + 1));
      for (let n = 0; n < b; n++) {
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * sh + kh - top;
          const r0 = (n * oh + oy) * ow;
          if (iy < 0 || iy >= h) {
            for (let ci = 0; ci < c; ci++) dst.fill(0, (tap + ci) * rows + r0, (tap + ci) * rows + r0 + ow);
            continue;
          }
          const srcRow = ((n * h + iy) * w + kw - left) * c;
          for (let ci = 0; ci < c; ci++) {
            const d0 = (tap + ci) * rows + r0;
            if (oxLo > 0) dst.fill(0, d0, d0 + oxLo);
            let s0 = srcRow + oxLo * sw * c + ci;
            const step = sw * c;
            for (let ox = oxLo; ox < oxHi; ox++, s0 += step) dst[d0 + ox] = src[s0] as number;
            if (oxHi < ow) dst.fill(0, d0 + oxHi, d0 + ow);
          }
        }
      }
    }
  }
}

/**
 * Conv2DBackpropFilter is not registered in wasm 4.22 (CNN training throws). NHWC, dilation 1:
 * one pass from JS over the wasm heap writes the transposed patch matrix `Pᵀ` (filter taps x
 * output positions, the padding as zeros; see `im2colT`), then `dW = Pᵀ dy` runs on the fast
 * untransposed matmul. (Building P with strided slices, a concat and a transpose cost ~10x the
 * matmul; the wasm Conv3DBackpropFilterV2 kernel on a depth-1 view is a scalar loop, ~0.25
 * GFLOP/s, and its strided path disagrees with the cpu backend.)
 */
function fixConv2DBackpropFilter(): boolean {
  return replace('Conv2DBackpropFilter', () => (args) => {
    const { inputs, backend, attrs } = args as unknown as { inputs: Inputs; backend: WasmLikeBackend; attrs: NamedAttrMap };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
      strides: [number, number] | number;
      pad: Pad;
      dataFormat: 'NHWC' | 'NCHW';
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
      filterShape: [number, number, number, number];
    };
    if (dataFormat === 'NCHW') throw new Error('basis wasm Conv2DBackpropFilter supports NHWC only');
    const x = inputs['x'] as TensorInfo;
    const dy = inputs['dy'] as TensorInfo;
    const [sh, sw] = typeof strides === 'number' ? [strides, strides] : strides;
    const [fh, fw, fi, fo] = filterShape;
    const [oh, ow] = [dy.shape[1] as number, dy.shape[2] as number];
    let top: number;
    let left: number;
    if (pad === 'same' || pad === 'valid') {
      const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, [sh, sw], 1, pad, dimRoundingMode, false);
      top = info.padInfo.top;
      left = info.padInfo.left;
    } else {
      const pads = explicitPads(pad) as [[number, number], [number, number]];
      top = pads[0][0];
      left = pads[1][0];
    }
    const [b, h, w, c] = x.shape as [number, number, number, number];
    const rows = b * oh * ow;
    const owned: TensorInfo[] = [];
    try {
      let xf = x;
      if (x.dtype !== 'float32') {
        xf = call('Cast', { x }, backend, { dtype: 'float32' });
        owned.push(xf);
      }
      const Pt = backend.makeOutput([1, fh * fw * c, rows], 'float32');
      owned.push(Pt);
      im2colT(backend.typedArrayFromHeap(xf), backend.typedArrayFromHeap(Pt) as Float32Array, { b, h, w, c, fh, fw, oh, ow, sh, sw, top, left });
      const D = call('Reshape', { x: dy }, backend, { shape: [1, rows, fo] });
      owned.push(D);
      const W = call('BatchMatMul', { a: Pt, b: D }, backend, { transposeA: false, transposeB: false });
      owned.push(W);
      return call('Reshape', { x: W }, backend, { shape: [fh, fw, fi, fo] });
    } finally {
      for (const t of owned) backend.disposeData(t.dataId);
    }
  });
}

/**
 * Conv2DBackpropInput is a slow scalar loop in wasm 4.22. For stride 1 and dilation 1 it equals a
 * 'valid' convolution of the padded output gradient with the spatially flipped, in/out-swapped
 * filter, which the fast wasm Conv2D kernel computes. Other cases use the original kernel.
 */
function fixConv2DBackpropInput(): boolean {
  return replace('Conv2DBackpropInput', (original) => {
    if (original === undefined) throw new Error('wasm Conv2DBackpropInput is not registered');
    return (args) => {
      const { inputs, backend, attrs } = args as unknown as { inputs: Inputs; backend: WasmLikeBackend; attrs: NamedAttrMap };
      const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as {
        strides: [number, number] | number;
        pad: Pad;
        dataFormat: 'NHWC' | 'NCHW';
        dimRoundingMode?: 'floor' | 'round' | 'ceil';
        inputShape: [number, number, number, number];
      };
      const [sh, sw] = typeof strides === 'number' ? [strides, strides] : strides;
      const dy = inputs['dy'] as TensorInfo;
      const filter = inputs['filter'] as TensorInfo;
      if (sh !== 1 || sw !== 1 || dataFormat === 'NCHW') return original.kernelFunc(args);
      const info = backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], 1, 1, pad, dimRoundingMode, false);
      const fh = info.filterHeight;
      const fw = info.filterWidth;
      const top = fh - 1 - info.padInfo.top;
      const left = fw - 1 - info.padInfo.left;
      const bottom = info.inHeight + fh - 1 - info.outHeight - top;
      const right = info.inWidth + fw - 1 - info.outWidth - left;
      if (top < 0 || left < 0 || bottom < 0 || right < 0) return original.kernelFunc(args);
      const owned: TensorInfo[] = [];
      try {
        const padded = call('PadV2', { x: dy }, backend, { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 });
        owned.push(padded);
        const flipped = call('Reverse', { x: filter }, backend, { dims: [0, 1] });
        owned.push(flipped);
        const swapped = call('Transpose', { x: flipped }, backend, { perm: [0, 1, 3, 2] });
        owned.push(swapped);
        return call('Conv2D', { x: padded, filter: swapped }, backend, {
          strides: [1, 1],
          pad: 'valid',
          dataFormat: 'NHWC',
          dilations: [1, 1],
          dimRoundingMode,
        } as unknown as NamedAttrMap);
      } finally {
        for (const t of owned) backend.disposeData(t.dataId);
      }
    };
  });
}

/**
 * Conv2D with a numeric or explicit padding computes a wrongly shaped result in wasm 4.22 (a 5x3
 * filter with pad 1 on 8x8 gives 6x6 instead of 6x8) and corrupts the wasm heap. Pad explicitly
 * with PadV2, then run the fast 'valid' convolution.
 */
function fixConv2DExplicitPad(): boolean {
  return replace('Conv2D', (original) => {
    if (original === undefined) throw new Error('wasm Conv2D is not registered');
    return (args) => {
      const { inputs, backend, attrs } = args as unknown as { inputs: Inputs; backend: WasmLikeBackend; attrs: NamedAttrMap };
      const pads = explicitPads((attrs as unknown as { pad: Pad }).pad);
      if (pads === undefined || (attrs as unknown as { dataFormat?: string }).dataFormat === 'NCHW') return original.kernelFunc(args);
      const x = inputs['x'] as TensorInfo;
      const padded = call('PadV2', { x }, backend, { paddings: [[0, 0], pads[0], pads[1], [0, 0]], constantValue: 0 });
      try {
        return original.kernelFunc({ ...args, inputs: { ...inputs, x: padded }, attrs: { ...attrs, pad: 'valid' } });
      } finally {
        backend.disposeData(padded.dataId);
      }
    };
  });
}

/**
 * The rows of a bias broadcast: `big` `[..., L]` plus `small` whose shape, leading 1s dropped,
 * is the trailing dimensions of `big` (a layer's bias `[C]` on `[N, H, W, C]` or `[N, C]`), so the
 * sum has `big`'s shape; undefined for any other pair (same shapes included: the wasm kernel's
 * own loop is fast there).
 */
export function biasRows(big: readonly number[], small: readonly number[]): { rows: number; L: number } | undefined {
  const s = [...small];
  while (s.length > 0 && s[0] === 1) s.shift();
  if (s.length === 0 || s.length > big.length || small.length > big.length) return undefined;
  const tail = big.slice(big.length - s.length);
  if (!s.every((d, i) => d === tail[i])) return undefined;
  const L = s.reduce((a, b) => a * b, 1);
  const size = big.reduce((a, b) => a * b, 1);
  if (L === 0 || size === 0 || size === L) return undefined;
  return { rows: size / L, L };
}

/**
 * Add of a tensor and a bias broadcast over its rows (`[..., C] + [C]`, either order: the bias
 * of a convolution or dense layer) runs the wasm kernel's broadcasting loop in 4.22, 1.5-2 ms on
 * 128x28x28x16..32 (about 3x a SIMD pass over the same data): one SIMD pass instead
 * (wasm-simd.ts), float32 sums as the kernel's, bit for bit. Other adds, and runtimes without the
 * SIMD kernels, keep the original kernel.
 */
function fixBiasAdd(): boolean {
  return replace('Add', (original) => {
    if (original === undefined) throw new Error('wasm Add is not registered');
    return (args) => {
      const { inputs, backend } = args as unknown as { inputs: Inputs; backend: WasmLikeBackend };
      const a = inputs['a'] as TensorInfo;
      const b = inputs['b'] as TensorInfo;
      if (a.dtype !== 'float32' || b.dtype !== 'float32') return original.kernelFunc(args);
      const aBig = a.shape.length >= b.shape.length && a.shape.reduce((p, q) => p * q, 1) >= b.shape.reduce((p, q) => p * q, 1);
      const [big, small] = aBig ? [a, b] : [b, a];
      const r = biasRows(big.shape, small.shape);
      const k = r === undefined ? null : simdKernelsFor(backend);
      if (r === undefined || k === null || !k.usable()) return original.kernelFunc(args);
      const m = mergedRows(r.rows, r.L);
      const out = backend.makeOutput([...big.shape], 'float32');
      const rep = m > 1 ? backend.makeOutput([m * r.L], 'float32') : undefined;
      try {
        // views after the last allocation (an allocation may grow the heap)
        const f = (t: TensorInfo): Float32Array => backend.typedArrayFromHeap(t) as Float32Array;
        const bias = rep === undefined ? f(small) : f(rep);
        if (rep !== undefined) repeat(bias, f(small), r.L, m);
        k.addRows(k.region(f(big)), k.region(f(out)), r.rows / m, m * r.L, k.region(bias));
      } catch (e) {
        backend.disposeData(out.dataId);
        throw e;
      } finally {
        if (rep !== undefined) backend.disposeData(rep.dataId);
      }
      return out;
    };
  });
}

let applied: string[] | undefined;

/**
 * Registers basis' fixes of the tfjs wasm backend's kernels (idempotent). Call after the wasm
 * backend package has been imported; returns the names of the fixes in force. When the engine
 * uses a native BLAS (see `engineInfo`), the training products and convolutions run on it too
 * (names ending in `(native ...)`; see `native-kernels.ts`).
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-wasm';
 * applyWasmKernelFixes(); // ['Transpose(block swap)', 'BatchMatMul(transpose)', 'Conv2DBackpropFilter', 'Conv2DBackpropInput(stride 1)', 'Conv2D(explicit padding)', 'Add(SIMD bias rows)', ...]
 * ```
 */
export function applyWasmKernelFixes(): string[] {
  if (applied !== undefined) return applied;
  const out: string[] = [];
  if (fixTranspose()) out.push('Transpose(block swap)');
  if (fixBatchMatMul()) out.push('BatchMatMul(transpose)');
  if (fixConv2DBackpropFilter()) out.push('Conv2DBackpropFilter');
  if (fixConv2DBackpropInput()) out.push('Conv2DBackpropInput(stride 1)');
  if (fixConv2DExplicitPad()) out.push('Conv2D(explicit padding)');
  if (simdAvailable() && fixBiasAdd()) out.push('Add(SIMD bias rows)');
  // with a native BLAS: products and convolutions on cblas_sgemm over the fixed kernels above
  // (which stay the fallback when the engine is switched to WebAssembly later)
  out.push(...registerNativeKernels());
  // fused batchnorm and optimizer updates (JS over the heap; no BLAS needed)
  out.push(...registerFusedKernels('wasm'));
  applied = out;
  return out;
}
