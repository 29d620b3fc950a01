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

interface WasmLikeBackend {
  disposeData(dataId: object): void;
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
  const kernelFunc = make(original);
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
 * Conv2DBackpropFilter is not registered in wasm 4.22 (CNN training throws). NHWC, dilation 1:
 * pad the input explicitly (the forward pass's padding), crop it to the receptive extent, gather
 * the filter taps with strided slices (im2col) and compute `dW = patchesᵀ dy` with the fast
 * matmul. (The wasm Conv3DBackpropFilterV2 kernel would do on a depth-1 view, but it is a scalar
 * loop, ~0.25 GFLOP/s, and its strided path disagrees with the cpu backend.)
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
    const needH = (oh - 1) * sh + fh;
    const needW = (ow - 1) * sw + fw;
    const owned: TensorInfo[] = [];
    try {
      // pad (top/left as the forward pass; bottom/right as far as the receptive extent needs), then crop
      const bottom = Math.max(0, needH - top - h);
      const right = Math.max(0, needW - left - w);
      let xin = x;
      if (top > 0 || left > 0 || bottom > 0 || right > 0) {
        xin = call('PadV2', { x }, backend, { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 });
        owned.push(xin);
      }
      if ((xin.shape[1] as number) !== needH || (xin.shape[2] as number) !== needW) {
        xin = call('Slice', { x: xin }, backend, { begin: [0, 0, 0, 0], size: [b, needH, needW, c] });
        owned.push(xin);
      }
      // im2col: one strided slice of the padded input per filter tap, concatenated along channels
      // (channel index (kh * fw + kw) * c + ci), then dW = patchesᵀ dy on the fast matmul path.
      const taps: TensorInfo[] = [];
      for (let kh = 0; kh < fh; kh++) {
        for (let kw = 0; kw < fw; kw++) {
          const t = call('StridedSlice', { x: xin }, backend, {
            begin: [0, kh, kw, 0],
            end: [b, kh + (oh - 1) * sh + 1, kw + (ow - 1) * sw + 1, c],
            strides: [1, sh, sw, 1],
            beginMask: 0,
            endMask: 0,
            ellipsisMask: 0,
            newAxisMask: 0,
            shrinkAxisMask: 0,
          });
          owned.push(t);
          taps.push(t);
        }
      }
      const patches = taps.length === 1 ? (taps[0] as TensorInfo) : call('Concat', taps as unknown as Inputs, backend, { axis: 3 });
      if (taps.length > 1) owned.push(patches);
      const rows = b * oh * ow;
      const P = call('Reshape', { x: patches }, backend, { shape: [1, rows, fh * fw * c] });
      owned.push(P);
      const D = call('Reshape', { x: dy }, backend, { shape: [1, rows, fo] });
      owned.push(D);
      const Pt = transposeLast2(P, backend);
      owned.push(Pt);
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

let applied: string[] | undefined;

/**
 * Registers basis' fixes of the tfjs wasm backend's kernels (idempotent). Call after the wasm
 * backend package has been imported; returns the names of the fixes in force.
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-wasm';
 * applyWasmKernelFixes(); // ['BatchMatMul(transpose)', 'Conv2DBackpropFilter', 'Conv2DBackpropInput(stride 1)', 'Conv2D(explicit padding)']
 * ```
 */
export function applyWasmKernelFixes(): string[] {
  if (applied !== undefined) return applied;
  const out: string[] = [];
  if (fixBatchMatMul()) out.push('BatchMatMul(transpose)');
  if (fixConv2DBackpropFilter()) out.push('Conv2DBackpropFilter');
  if (fixConv2DBackpropInput()) out.push('Conv2DBackpropInput(stride 1)');
  if (fixConv2DExplicitPad()) out.push('Conv2D(explicit padding)');
  applied = out;
  return out;
}
