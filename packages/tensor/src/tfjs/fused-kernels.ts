// Fused training kernels: batchnorm in training mode (forward in two passes over the data, backward
// in two), the SGD/Adam parameter updates (one pass per parameter) and the batch-mean softmax
// cross-entropy, as tfjs kernels registered for the wasm backend (WebAssembly SIMD passes over the
// heap from wasm-simd.ts where available, else the backend's own kernels or JS loops; no BLAS
// needed, no Node APIs) and, on request, for the cpu backend (JS loops). The ops below run the kernel when the active backend has it and
// otherwise the composed tfjs-core ops they replace, so library code stays backend-agnostic.
//
// A training step of a small CNN ran about 160 element-wise kernels (batch statistics, their
// backward pass, optimizer updates); each costs a pass over the data plus tfjs' per-op overhead.
// The fused kernels accumulate per channel in float64 and round once to float32, so they differ
// from the composed ops by float32 rounding only.
import {
  add,
  div,
  engine,
  getBackend,
  gather,
  getKernel,
  logSoftmax,
  matMul,
  losses,
  moments,
  mul,
  registerGradient,
  registerKernel,
  relu as reluOp,
  sqrt,
  square,
  step,
  cast,
  sub,
  sum,
  unregisterKernel,
  type GradConfig,
  type KernelFunc,
  type NamedAttrMap,
  type Tensor,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { BasisError } from '../errors.js';
import { mergedRows, repeat, residentInputs, simdKernelsFor, type SimdKernels } from './wasm-simd.js';

const BN_TRAIN = 'BasisBatchNormTrain';
const BN_TRAIN_GRAD = 'BasisBatchNormTrainGrad';
const SGD_STEP = 'BasisSgdStep';
const ADAM_STEP = 'BasisAdamStep';
const SOFTMAX_CE = 'BasisSoftmaxCrossEntropy';
const RELU_GRAD = 'BasisReluGrad';
const BASIS_DENSE = 'BasisDense';
const RELU_GRAD_SUMS = 'BasisReluGradSums';
const GATHER_ROWS = 'BasisGatherRows';

// ---------------------------------------------------------------------------------------------
// Backend access: float32 views of inputs and fresh outputs on the wasm heap or the cpu backend.

interface WasmBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}
interface CpuBackend {
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array): TensorInfo;
  data: { get(dataId: object): { values?: unknown } | undefined };
}

/**
 * Allocates `shapes` as float32 outputs, then returns views of `inputs` and the outputs. On wasm the
 * views are taken after the last allocation (an allocation may grow the heap and detach older views).
 */
function io(backend: unknown, inputs: readonly TensorInfo[], shapes: readonly number[][]): { ins: Float32Array[]; outs: Float32Array[]; infos: TensorInfo[] } {
  const w = backend as Partial<WasmBackend>;
  if (typeof w.typedArrayFromHeap === 'function' && typeof w.makeOutput === 'function') {
    const infos = shapes.map((s) => (w as WasmBackend).makeOutput(s, 'float32'));
    const view = (t: TensorInfo): Float32Array => (w as WasmBackend).typedArrayFromHeap(t) as Float32Array;
    return { ins: inputs.map(view), outs: infos.map(view), infos };
  }
  const c = backend as CpuBackend;
  const outs = shapes.map((s) => new Float32Array(s.reduce((a, b) => a * b, 1)));
  const infos = shapes.map((s, i) => c.makeTensorInfo(s, 'float32', outs[i] as Float32Array));
  const view = (t: TensorInfo): Float32Array => {
    const v = c.data.get(t.dataId)?.values;
    if (!(v instanceof Float32Array)) throw new Error(`fused kernel: input of shape [${t.shape.join(', ')}] has no float32 data on this backend`);
    return v;
  };
  return { ins: inputs.map(view), outs, infos };
}

type Args = { inputs: Record<string, TensorInfo | undefined>; backend: unknown; attrs: NamedAttrMap };

function input(args: Args, name: string): TensorInfo {
  const t = args.inputs[name];
  if (t === undefined) throw new Error(`fused kernel: missing input '${name}'`);
  return t;
}

/** Whether the active backend runs `kernel` (else the ops compose tfjs-core ops). */
function hasKernel(kernel: string): boolean {
  return getKernel(kernel, getBackend()) !== undefined;
}

function allFloat32(ts: readonly (Tensor | null | undefined)[]): boolean {
  return ts.every((t) => t === null || t === undefined || t.dtype === 'float32');
}

// ---------------------------------------------------------------------------------------------
// Batchnorm, training mode (statistics over every axis but the last, channel-last layout)

/**
 * The gradients reaching the mean and variance outputs (optional inputs `dMean`, `dVar` of the
 * backward kernel) as per-channel terms of dx: dx += dMean/N + (x − mean)·2·dVar/N, that is
 * `k` (constant) and `b` (coefficient of x − mean), each [C] or null.
 */
function statGrads(views: (t: TensorInfo) => Float32Array, args: Args, rows: number): { kS: Float32Array | null; bS: Float32Array | null; scale: (v: Float32Array | null, c: number, f: number) => number } {
  const dm = args.inputs['dMean'];
  const dv = args.inputs['dVar'];
  return {
    kS: dm === undefined ? null : views(dm),
    bS: dv === undefined ? null : views(dv),
    scale: (v, c, f) => (v === null ? 0 : ((v[c] as number) * f) / rows),
  };
}

/** Outputs y, mean, variance (biased) of x `[..., C]` with per-channel scale and offset. */
function bnTrainKernel(args: Args): TensorInfo[] {
  const scale = input(args, 'scale');
  const offset = input(args, 'offset');
  const { x, eps, C, rows } = bnShape(args);
  const { ins, outs, infos } = io(args.backend, [x, scale, offset], [[...x.shape], [C], [C]]);
  const [X, G, B] = ins as [Float32Array, Float32Array, Float32Array];
  const [Y, M, V] = outs as [Float32Array, Float32Array, Float32Array];
  // pass 1: sums shifted by the first row (stable without a separate pass for the mean)
  const k = new Float64Array(C);
  const s1 = new Float64Array(C);
  const s2 = new Float64Array(C);
  for (let c = 0; c < C; c++) k[c] = X[c] as number;
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < C; c++, i++) {
      const d = (X[i] as number) - (k[c] as number);
      s1[c] = (s1[c] as number) + d;
      s2[c] = (s2[c] as number) + d * d;
    }
  }
  const mean = new Float64Array(C);
  const mul_ = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const m1 = (s1[c] as number) / rows;
    const v = Math.max(0, (s2[c] as number) / rows - m1 * m1);
    const m = (k[c] as number) + m1;
    mean[c] = m;
    M[c] = m;
    V[c] = v;
    mul_[c] = (G[c] as number) / Math.sqrt(Math.fround(v) + eps);
  }
  // pass 2: y = (x - mean) · γ/√(var + ε) + β
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < C; c++, i++) Y[i] = ((X[i] as number) - (mean[c] as number)) * (mul_[c] as number) + (B[c] as number);
  }
  return infos;
}

/** dx, dscale, doffset of the training-mode batchnorm from dy, x, scale and the saved statistics. */
function bnTrainGradKernel(args: Args): TensorInfo[] {
  const dy = input(args, 'dy');
  const scale = input(args, 'scale');
  const mean = input(args, 'mean');
  const variance = input(args, 'variance');
  const { x, eps, C, rows } = bnShape(args);
  const extra = ['dMean', 'dVar'].map((n) => args.inputs[n]).filter((t): t is TensorInfo => t !== undefined);
  const { ins, outs, infos } = io(args.backend, [dy, x, scale, mean, variance, ...extra], [[...x.shape], [C], [C]]);
  const [D, X, G, M, V] = ins as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
  const more = ins.slice(5);
  const st = statGrads((t) => more[extra.indexOf(t)] as Float32Array, args, rows);
  const [DX, DG, DB] = outs as [Float32Array, Float32Array, Float32Array];
  // pass 1: Σ dy and Σ dy·(x − mean) per channel
  const sd = new Float64Array(C);
  const sdx = new Float64Array(C);
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < C; c++, i++) {
      const d = D[i] as number;
      sd[c] = (sd[c] as number) + d;
      sdx[c] = (sdx[c] as number) + d * ((X[i] as number) - (M[c] as number));
    }
  }
  // dx = γ·s·(dy − Σdy/N − (x − mean)·s²·Σdy(x − mean)/N), s = 1/√(var + ε)
  const a = new Float64Array(C);
  const b = new Float64Array(C);
  const k = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const s = 1 / Math.sqrt((V[c] as number) + eps);
    const g = G[c] as number;
    DB[c] = sd[c] as number;
    DG[c] = (sdx[c] as number) * s;
    a[c] = g * s;
    b[c] = (-g * s * s * s * (sdx[c] as number)) / rows + st.scale(st.bS, c, 2);
    k[c] = (-g * s * (sd[c] as number)) / rows + st.scale(st.kS, c, 1);
  }
  // pass 2
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < C; c++, i++) DX[i] = (a[c] as number) * (D[i] as number) + (b[c] as number) * ((X[i] as number) - (M[c] as number)) + (k[c] as number);
  }
  return infos;
}

// On wasm the per-element passes run on the backend's own SIMD kernels, called from inside the
// fused kernel (no engine bookkeeping, no tape): JS loops over the heap measured 5-10x slower than
// wasm's SIMD loops, while the composed ops cost mostly tfjs' per-op overhead and the backward
// pass of the broadcasts (a dozen reductions). Per-channel arithmetic is done in JS on [C] views.

interface WasmCalls {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object): void;
}


/** Runs a kernel of the active backend from inside a kernel (no engine bookkeeping, no tape). */
function backendCall(name: string, inputs: Record<string, TensorInfo>, backend: unknown, attrs: NamedAttrMap = {}): TensorInfo {
  const k = getKernel(name, getBackend());
  if (k === undefined) throw new Error(`kernel ${name} is not registered on ${getBackend()}`);
  return k.kernelFunc({ inputs, backend: backend as never, attrs }) as TensorInfo;
}

/** A [C] float32 tensor on the heap filled from `values`. */
function wasmVector(backend: WasmCalls, values: ArrayLike<number>): TensorInfo {
  const t = backend.makeOutput([values.length], 'float32');
  (backend.typedArrayFromHeap(t) as Float32Array).set(values);
  return t;
}

function wasmF32(backend: WasmCalls, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

// With WebAssembly SIMD (wasm-simd.ts), batchnorm is two passes forward (sums, normalise) and two
// backward (sums, dx), each one SIMD loop over the heap in place; the composed wasm kernels below
// are the fallback (no SIMD, memory not found).

/** Per-channel sums folded over the m merged copies of each channel. */
function foldSums(v: Float64Array, C: number, m: number): Float64Array {
  if (m === 1) return v;
  const out = new Float64Array(C);
  for (let i = 0; i < m; i++) for (let c = 0; c < C; c++) out[c] = (out[c] as number) + (v[i * C + c] as number);
  return out;
}

/** What every batchnorm kernel reads first: `x`, epsilon, `C` channels (the last axis) and `rows` rows of them. */
function bnShape(args: Args): { x: TensorInfo; eps: number; C: number; rows: number } {
  const x = input(args, 'x');
  const C = x.shape[x.shape.length - 1] as number;
  return { x, eps: args.attrs['varianceEpsilon'] as number, C, rows: x.shape.reduce((a, b) => a * b, 1) / C };
}

/**
 * The layout both SIMD batchnorm kernels work in: {@link bnShape}'s, with the rows merged `m` at a
 * time into rows of `L = m·C` floats (mergedRows), and their outputs: one of `x`'s shape, two per
 * channel, and a scratch of `10·L + 1` floats the caller disposes.
 */
function bnSimdLayout(args: Args): ReturnType<typeof bnShape> & { backend: WasmCalls; m: number; L: number; outs: [TensorInfo, TensorInfo, TensorInfo]; scratch: TensorInfo } {
  const sh = bnShape(args);
  const { x, C } = sh;
  const backend = args.backend as WasmCalls;
  const m = mergedRows(sh.rows, C);
  const L = m * C;
  const outs: [TensorInfo, TensorInfo, TensorInfo] = [backend.makeOutput([...x.shape], 'float32'), backend.makeOutput([C], 'float32'), backend.makeOutput([C], 'float32')];
  return { ...sh, backend, m, L, outs, scratch: backend.makeOutput([10 * L + 1], 'float32') };
}

function bnTrainSimd(k: SimdKernels, args: Args): TensorInfo[] {
  const scale = input(args, 'scale');
  const offset = input(args, 'offset');
  const { backend, x, eps, C, rows, m, L, outs, scratch } = bnSimdLayout(args);
  const [y, mean, variance] = outs;
  try {
    // views after the last allocation (an allocation may grow the heap)
    const X = wasmF32(backend, x);
    const S = wasmF32(backend, scratch);
    const shift = S.subarray(0, L);
    const mRep = S.subarray(L, 2 * L);
    const aRep = S.subarray(2 * L, 3 * L);
    const bRep = S.subarray(3 * L, 4 * L);
    // shift by the first row (stable sums of squares without a separate pass for the mean)
    repeat(shift, X.subarray(0, C), C, m);
    const sums = k.sums(k.region(X), null, rows / m, L, k.region(shift), k.region(S.subarray(4 * L)));
    const s1 = foldSums(sums.s1, C, m);
    const s2 = foldSums(sums.s2, C, m);
    const M = wasmF32(backend, mean);
    const V = wasmF32(backend, variance);
    const G = wasmF32(backend, scale);
    const mul_ = new Float32Array(C);
    for (let c = 0; c < C; c++) {
      const m1 = (s1[c] as number) / rows;
      const v = Math.max(0, (s2[c] as number) / rows - m1 * m1);
      M[c] = (shift[c] as number) + m1;
      V[c] = v;
      mul_[c] = (G[c] as number) / Math.sqrt((V[c] as number) + eps);
    }
    repeat(mRep, M, C, m);
    repeat(aRep, mul_, C, m);
    repeat(bRep, wasmF32(backend, offset), C, m);
    k.affine(k.region(X), k.region(wasmF32(backend, y)), rows / m, L, k.region(mRep), k.region(aRep), k.region(bRep));
  } finally {
    backend.disposeData(scratch.dataId);
  }
  return [y, mean, variance];
}

function bnTrainGradSimd(k: SimdKernels, args: Args): TensorInfo[] {
  const dy = input(args, 'dy');
  const scale = input(args, 'scale');
  const mean = input(args, 'mean');
  const variance = input(args, 'variance');
  const { backend, x, eps, C, rows, m, L, outs, scratch } = bnSimdLayout(args);
  const [dx, dgamma, dbeta] = outs;
  try {
    const X = wasmF32(backend, x);
    const D = wasmF32(backend, dy);
    const S = wasmF32(backend, scratch);
    const mRep = S.subarray(0, L);
    const aRep = S.subarray(L, 2 * L);
    const bRep = S.subarray(2 * L, 3 * L);
    const kRep = S.subarray(3 * L, 4 * L);
    repeat(mRep, wasmF32(backend, mean), C, m);
    const sums = k.sums(k.region(X), k.region(D), rows / m, L, k.region(mRep), k.region(S.subarray(4 * L)));
    const sd = foldSums(sums.s1, C, m);
    const sdx = foldSums(sums.s2, C, m);
    const G = wasmF32(backend, scale);
    const V = wasmF32(backend, variance);
    const DG = wasmF32(backend, dgamma);
    const DB = wasmF32(backend, dbeta);
    const st = statGrads((t) => wasmF32(backend, t), args, rows);
    const A = new Float32Array(C);
    const Bc = new Float32Array(C);
    const K = new Float32Array(C);
    for (let c = 0; c < C; c++) {
      const s = 1 / Math.sqrt((V[c] as number) + eps);
      const g = G[c] as number;
      DB[c] = sd[c] as number;
      DG[c] = (sdx[c] as number) * s;
      A[c] = g * s;
      Bc[c] = (-g * s * s * s * (sdx[c] as number)) / rows + st.scale(st.bS, c, 2);
      K[c] = (-g * s * (sd[c] as number)) / rows + st.scale(st.kS, c, 1);
    }
    repeat(aRep, A, C, m);
    repeat(bRep, Bc, C, m);
    repeat(kRep, K, C, m);
    k.backDx(k.region(D), k.region(X), k.region(wasmF32(backend, dx)), rows / m, L, k.region(mRep), k.region(aRep), k.region(bRep), k.region(kRep));
  } finally {
    backend.disposeData(scratch.dataId);
  }
  return [dx, dgamma, dbeta];
}

function bnTrainWasm(args: Args): TensorInfo[] {
  const simdK = simdKernelsFor(args.backend);
  if (simdK !== null && simdK.usable()) return bnTrainSimd(simdK, args);
  const scale = input(args, 'scale');
  const offset = input(args, 'offset');
  const backend = args.backend as WasmCalls;
  const { x, eps, C, rows } = bnShape(args);
  const x2: TensorInfo = { dataId: x.dataId, shape: [rows, C], dtype: 'float32' };
  const s = backendCall('Sum', { x: x2 }, backend, { axis: [0], keepDims: false });
  const mean = wasmVector(backend, Array.from(wasmF32(backend, s), (v) => v / rows));
  backend.disposeData(s.dataId);
  const xc = backendCall('Sub', { a: x2, b: mean }, backend);
  const sq = backendCall('Square', { x: xc }, backend);
  backend.disposeData(xc.dataId);
  const ss = backendCall('Sum', { x: sq }, backend, { axis: [0], keepDims: false });
  backend.disposeData(sq.dataId);
  const variance = wasmVector(backend, Array.from(wasmF32(backend, ss), (v) => v / rows));
  backend.disposeData(ss.dataId);
  const y = backendCall('FusedBatchNorm', { x, mean, variance, offset, scale }, backend, { varianceEpsilon: eps });
  return [y, mean, variance];
}

function bnTrainGradWasm(args: Args): TensorInfo[] {
  const simdK = simdKernelsFor(args.backend);
  if (simdK !== null && simdK.usable()) return bnTrainGradSimd(simdK, args);
  const dy = input(args, 'dy');
  const scale = input(args, 'scale');
  const mean = input(args, 'mean');
  const variance = input(args, 'variance');
  const backend = args.backend as WasmCalls;
  const { x, eps, C, rows } = bnShape(args);
  const x2: TensorInfo = { dataId: x.dataId, shape: [rows, C], dtype: 'float32' };
  const dy2: TensorInfo = { dataId: dy.dataId, shape: [rows, C], dtype: 'float32' };
  const temps: TensorInfo[] = [];
  const tmp = (t: TensorInfo): TensorInfo => {
    temps.push(t);
    return t;
  };
  try {
    const sdyT = tmp(backendCall('Sum', { x: dy2 }, backend, { axis: [0], keepDims: false }));
    const xc = tmp(backendCall('Sub', { a: x2, b: mean }, backend));
    const prod = tmp(backendCall('Multiply', { a: dy2, b: xc }, backend));
    const sdyxT = tmp(backendCall('Sum', { x: prod }, backend, { axis: [0], keepDims: false }));
    // dx = A·dy + B·(x − mean) + K per channel; B·(x − mean) + K as FusedBatchNorm of x − mean
    // with scale B·√(var + ε) (the kernel multiplies by 1/√(var + ε))
    const sd = Float64Array.from(wasmF32(backend, sdyT));
    const sdx = Float64Array.from(wasmF32(backend, sdyxT));
    const G = wasmF32(backend, scale);
    const V = wasmF32(backend, variance);
    const st = statGrads((t) => wasmF32(backend, t), args, rows);
    const A = new Float32Array(C);
    const Bs = new Float32Array(C);
    const K = new Float32Array(C);
    const DG = new Float32Array(C);
    for (let c = 0; c < C; c++) {
      const root = Math.sqrt((V[c] as number) + eps);
      const inv = 1 / root;
      const g = G[c] as number;
      A[c] = g * inv;
      Bs[c] = ((-g * inv * inv * inv * (sdx[c] as number)) / rows + st.scale(st.bS, c, 2)) * root;
      K[c] = (-g * inv * (sd[c] as number)) / rows + st.scale(st.kS, c, 1);
      DG[c] = (sdx[c] as number) * inv;
    }
    const zeros = tmp(wasmVector(backend, new Float32Array(C)));
    const bT = tmp(wasmVector(backend, Bs));
    const kT = tmp(wasmVector(backend, K));
    const aT = tmp(wasmVector(backend, A));
    const u = tmp(backendCall('FusedBatchNorm', { x: xc, mean: zeros, variance, offset: kT, scale: bT }, backend, { varianceEpsilon: eps }));
    const w = tmp(backendCall('Multiply', { a: dy2, b: aT }, backend));
    const dx2 = backendCall('Add', { a: u, b: w }, backend);
    const dx: TensorInfo = { dataId: dx2.dataId, shape: [...x.shape], dtype: 'float32' };
    const dgamma = wasmVector(backend, DG);
    const dbeta = wasmVector(backend, wasmF32(backend, sdyT));
    return [dx, dgamma, dbeta];
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

const bnTrainGradConfig: GradConfig = {
  kernelName: BN_TRAIN,
  inputsToSave: ['x', 'scale'],
  outputsToSave: [false, true, true],
  gradFunc: (dys: Tensor | Tensor[], saved: Tensor[], attrs?: NamedAttrMap) => {
    const [dy, dMean, dVar] = dys as (Tensor | null)[];
    const [x, scale, mean, variance] = saved as [Tensor, Tensor, Tensor, Tensor];
    const eps = attrs?.['varianceEpsilon'] as number;
    const C = x.shape[x.rank - 1] as number;
    const n = x.size / C;
    // computed here, not in the thunks: the tape runs each thunk in its own tidy, which would
    // dispose the other two outputs of the one kernel call
    let parts: Tensor[];
    if (dy === null || dy === undefined) {
      parts = [mul(x, 0), mul(scale, 0), mul(scale, 0)];
      // the statistics are outputs too: d mean/dx = 1/N, d var/dx = 2(x − mean)/N
      if (dMean !== null && dMean !== undefined) parts[0] = add(parts[0] as Tensor, div(dMean, n));
      if (dVar !== null && dVar !== undefined) parts[0] = add(parts[0] as Tensor, mul(sub(x, mean), div(mul(dVar, 2), n)));
    } else {
      // gradients reaching the statistics (tfjs passes them when anything downstream of the
      // statistics is differentiated) fold into the kernel's per-channel terms: no extra passes
      const inputs: Record<string, Tensor> = { dy, x, scale, mean, variance };
      if (dMean !== null && dMean !== undefined) inputs['dMean'] = dMean;
      if (dVar !== null && dVar !== undefined) inputs['dVar'] = dVar;
      parts = engine().runKernel(BN_TRAIN_GRAD, inputs as never, { varianceEpsilon: eps } as never) as unknown as Tensor[];
    }
    const grads = (): Tensor[] => parts;
    return { x: () => grads()[0] as Tensor, scale: () => grads()[1] as Tensor, offset: () => grads()[2] as Tensor };
  },
};

/** Result of {@link batchNormTrain}. */
export interface BatchNormTrainResult {
  /** The normalised, scaled and shifted input (shape of x). */
  y: Tensor;
  /** Per-channel batch mean `[C]`. */
  mean: Tensor;
  /** Per-channel biased batch variance `[C]` (divides by N). */
  variance: Tensor;
}

/**
 * Batchnorm in training mode over every axis but the last (channel-last: `[N, C]`, `[N, H, W, C]`):
 * `y = (x − mean)/√(variance + eps)·gamma + beta` with the batch statistics, which it also returns
 * (the biased variance; PyTorch's running variance uses the unbiased one, `variance·N/(N − 1)`).
 * Differentiable in x, gamma and beta. Runs as one fused kernel on backends that have it (wasm,
 * after `applyWasmKernelFixes`), otherwise as `tf.moments` and element-wise ops; the two agree to
 * float32 rounding.
 *
 * @example
 * ```ts
 * const { y, mean, variance } = batchNormTrain(x, gamma, beta, 1e-5); // x [128, 28, 28, 16], gamma/beta [16]
 * ```
 */
export function batchNormTrain(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): BatchNormTrainResult {
  if (x.rank < 2) throw new BasisError('SHAPE_MISMATCH', `batchNormTrain: x must have a batch axis and a channel axis, got shape [${x.shape.join(', ')}]`);
  const C = x.shape[x.rank - 1] as number;
  for (const [name, t] of [
    ['gamma', gamma],
    ['beta', beta],
  ] as const) {
    if (t.rank !== 1 || t.shape[0] !== C) throw new BasisError('SHAPE_MISMATCH', `batchNormTrain: ${name} must have shape [${C}] (the channels of x), got [${t.shape.join(', ')}]`);
  }
  if (!(eps > 0)) throw new BasisError('INVALID_ARGUMENT', `batchNormTrain: eps must be > 0, got ${eps}`);
  if (x.size === 0) throw new BasisError('TOO_SMALL', 'batchNormTrain: x is empty');
  if (hasKernel(BN_TRAIN) && allFloat32([x, gamma, beta])) {
    const [y, mean, variance] = engine().runKernel(BN_TRAIN, { x, scale: gamma, offset: beta } as never, { varianceEpsilon: eps } as never) as unknown as Tensor[];
    return { y: y as Tensor, mean: mean as Tensor, variance: variance as Tensor };
  }
  return batchNormTrainComposed(x, gamma, beta, eps);
}

/** The composed-ops version of {@link batchNormTrain} (the fallback; tests compare against it). */
export function batchNormTrainComposed(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): BatchNormTrainResult {
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
  const m = moments(x, axes);
  const y = add(mul(div(sub(x, m.mean), sqrt(add(m.variance, eps))), gamma), beta);
  return { y, mean: m.mean, variance: m.variance };
}

// ---------------------------------------------------------------------------------------------
// Optimizer updates

/** Hyper-parameters of one {@link sgdStep}. */
export interface SgdStepOptions {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  /** Factor applied to the gradient first (gradient clipping; default 1). */
  gradScale?: number;
}

/** Hyper-parameters of one {@link adamStep}. */
export interface AdamStepOptions {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  /** AdamW's decoupled decay `p·(1 − lr·weightDecay)` instead of an L2 term in the gradient. */
  decoupled: boolean;
  /** This parameter's update count, counting this update (>= 1): the bias corrections. */
  step: number;
  /** Factor applied to the gradient first (gradient clipping; default 1). */
  gradScale?: number;
}

function sgdKernel(args: Args): TensorInfo[] {
  const p = input(args, 'param');
  const g = input(args, 'grad');
  const buf = args.inputs['buf'];
  const a = args.attrs as unknown as Required<SgdStepOptions> & { first: boolean };
  const n = p.shape.reduce((x, y) => x * y, 1);
  const withBuf = a.momentum !== 0;
  const { ins, outs, infos } = io(args.backend, buf === undefined ? [p, g] : [p, g, buf], withBuf ? [[...p.shape], [...p.shape]] : [[...p.shape]]);
  const [P, G, Bf] = ins as [Float32Array, Float32Array, Float32Array | undefined];
  const [PO, BO] = outs as [Float32Array, Float32Array | undefined];
  const { lr, momentum: mu, weightDecay: wd, gradScale: s, nesterov } = a;
  const keep = 1 - a.dampening;
  for (let i = 0; i < n; i++) {
    const p0 = P[i] as number;
    let d = (G[i] as number) * s + wd * p0;
    if (BO !== undefined) {
      const b = Bf === undefined ? d : mu * (Bf[i] as number) + keep * d;
      const b32 = Math.fround(b);
      BO[i] = b32;
      d = nesterov ? d + mu * b32 : b32;
    }
    PO[i] = p0 - lr * d;
  }
  return infos;
}

function adamKernel(args: Args): TensorInfo[] {
  const p = input(args, 'param');
  const g = input(args, 'grad');
  const m = args.inputs['m'];
  const v = args.inputs['v'];
  const a = args.attrs as unknown as Required<AdamStepOptions>;
  const n = p.shape.reduce((x, y) => x * y, 1);
  const first = m === undefined || v === undefined;
  const { ins, outs, infos } = io(args.backend, first ? [p, g] : [p, g, m, v], [[...p.shape], [...p.shape], [...p.shape]]);
  const [P, G, Mi, Vi] = ins as [Float32Array, Float32Array, Float32Array | undefined, Float32Array | undefined];
  const [PO, MO, VO] = outs as [Float32Array, Float32Array, Float32Array];
  const { lr, beta1: b1, beta2: b2, epsilon: eps, weightDecay: wd, decoupled, gradScale: s, step } = a;
  const l2 = decoupled ? 0 : wd;
  const shrink = decoupled ? 1 - lr * wd : 1;
  const sb2 = Math.sqrt(1 - Math.pow(b2, step));
  const rate = lr / (1 - Math.pow(b1, step));
  for (let i = 0; i < n; i++) {
    const p0 = P[i] as number;
    const gi = (G[i] as number) * s + l2 * p0;
    const mi = Math.fround(Mi === undefined ? (1 - b1) * gi : b1 * (Mi[i] as number) + (1 - b1) * gi);
    const vi = Math.fround(Vi === undefined ? (1 - b2) * gi * gi : b2 * (Vi[i] as number) + (1 - b2) * gi * gi);
    MO[i] = mi;
    VO[i] = vi;
    PO[i] = p0 * shrink - (rate * mi) / (Math.sqrt(vi) / sb2 + eps);
  }
  return infos;
}

/** SGD on wasm: one SIMD pass over the heap (wasm-simd.ts), else the JS pass. */
function sgdWasm(args: Args): TensorInfo[] {
  const k = simdKernelsFor(args.backend);
  if (k === null || !k.usable()) return sgdKernel(args);
  const backend = args.backend as WasmCalls;
  const p = input(args, 'param');
  const g = input(args, 'grad');
  const buf = args.inputs['buf'];
  const a = args.attrs as unknown as Required<SgdStepOptions>;
  const n = p.shape.reduce((x, y) => x * y, 1);
  const withBuf = a.momentum !== 0;
  const pOut = backend.makeOutput([...p.shape], 'float32');
  const bOut = withBuf ? backend.makeOutput([...p.shape], 'float32') : null;
  const r = (t: TensorInfo): ReturnType<SimdKernels['region']> => k.region(wasmF32(backend, t));
  k.sgd(n, r(p), r(g), withBuf && buf !== undefined ? r(buf) : null, r(pOut), bOut === null ? null : r(bOut), a);
  return bOut === null ? [pOut] : [pOut, bOut];
}

/** Adam on wasm: one SIMD pass over the heap (wasm-simd.ts), else the JS pass. */
function adamWasm(args: Args): TensorInfo[] {
  const k = simdKernelsFor(args.backend);
  if (k === null || !k.usable()) return adamKernel(args);
  const backend = args.backend as WasmCalls;
  const p = input(args, 'param');
  const g = input(args, 'grad');
  const m = args.inputs['m'];
  const v = args.inputs['v'];
  const a = args.attrs as unknown as Required<AdamStepOptions>;
  const n = p.shape.reduce((x, y) => x * y, 1);
  const outs = [0, 1, 2].map(() => backend.makeOutput([...p.shape], 'float32')) as [TensorInfo, TensorInfo, TensorInfo];
  const r = (t: TensorInfo): ReturnType<SimdKernels['region']> => k.region(wasmF32(backend, t));
  const first = m === undefined || v === undefined;
  k.adam(n, r(p), r(g), first ? null : r(m), first ? null : r(v), r(outs[0]), r(outs[1]), r(outs[2]), a);
  return outs;
}

/** Whether the active backend runs the optimizer kernels as SIMD passes (any size is then fused). */
function simdUpdates(): boolean {
  return getBackend() === 'wasm' && simdKernelsFor(engine().backend) !== null;
}

/**
 * Parameters up to this many elements update in one JS pass (the fused kernel); larger ones run the
 * composed ops on the backend's SIMD kernels, which beat a JS pass once the per-op overhead (~7 ops)
 * is small beside the data: measured on MLP 784-512-512-10, a JS pass over the 400k-element
 * weights cost 5-8 ms per step more than the composed ops.
 */
const FUSED_UPDATE_MAX = 16384;

function checkSame(what: string, p: Tensor, t: Tensor | null): void {
  if (t !== null && (t.rank !== p.rank || t.shape.some((d, i) => d !== p.shape[i]))) {
    throw new BasisError('SHAPE_MISMATCH', `${what} has shape [${t.shape.join(', ')}], the parameter [${p.shape.join(', ')}]`);
  }
}

/**
 * One SGD update of a parameter, as `torch.optim.SGD`: `g = gradScale·grad + weightDecay·p`;
 * with momentum, `buf = momentum·buf + (1 − dampening)·g` (`buf = g` when `buf` is null, the first
 * step) and `g = nesterov ? g + momentum·buf : buf`; `p − lr·g`. Returns the new parameter and
 * momentum buffer (null without momentum) as new tensors. One fused kernel per call on backends
 * that have it: on wasm one SIMD pass for any size (without SIMD, a JS pass for parameters up to
 * 16,384 elements and composed ops above); the two agree to float32 rounding.
 *
 * @example
 * ```ts
 * const r = sgdStep(p, g, buf, { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 5e-4 });
 * p.assign(r.param); // and keep r.buf for the next step
 * ```
 */
export function sgdStep(param: Tensor, grad: Tensor, buf: Tensor | null, o: SgdStepOptions): { param: Tensor; buf: Tensor | null } {
  checkSame('sgdStep: the gradient', param, grad);
  checkSame('sgdStep: the momentum buffer', param, buf);
  const gradScale = o.gradScale ?? 1;
  if ((param.size <= FUSED_UPDATE_MAX || simdUpdates()) && hasKernel(SGD_STEP) && allFloat32([param, grad, buf])) {
    const inputs: Record<string, Tensor> = buf === null || o.momentum === 0 ? { param, grad } : { param, grad, buf };
    const attrs = { lr: o.lr, momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov, weightDecay: o.weightDecay, gradScale };
    const out = engine().runKernel(SGD_STEP, inputs as never, attrs as never) as unknown as Tensor | Tensor[];
    const outs = Array.isArray(out) ? out : [out];
    return { param: outs[0] as Tensor, buf: o.momentum === 0 ? null : (outs[1] as Tensor) };
  }
  return sgdStepComposed(param, grad, buf, o);
}

/** The composed-ops version of {@link sgdStep} (the fallback; tests compare against it). */
export function sgdStepComposed(param: Tensor, grad: Tensor, buf: Tensor | null, o: SgdStepOptions): { param: Tensor; buf: Tensor | null } {
  const g0 = (o.gradScale ?? 1) !== 1 ? mul(grad, o.gradScale ?? 1) : grad;
  let g = o.weightDecay !== 0 ? add(g0, mul(param, o.weightDecay)) : g0;
  let newBuf: Tensor | null = null;
  if (o.momentum !== 0) {
    newBuf = buf === null ? g.clone() : add(mul(buf, o.momentum), o.dampening === 0 ? g : mul(g, 1 - o.dampening));
    g = o.nesterov ? add(g, mul(newBuf, o.momentum)) : newBuf;
  }
  return { param: sub(param, mul(g, o.lr)), buf: newBuf };
}

/**
 * One Adam/AdamW update of a parameter, as `torch.optim.Adam`/`AdamW`: `g = gradScale·grad`
 * (`+ weightDecay·p` for Adam; AdamW scales `p` by `1 − lr·weightDecay` instead);
 * `m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²` (null m/v: zeros, the first step);
 * `p − lr/(1−β1^t) · m/(√v/√(1−β2^t) + ε)`. Returns new tensors. One fused kernel per call on
 * backends that have it (wasm: one SIMD pass for any size; without SIMD a JS pass up to 16,384
 * elements), else composed ops; the two agree to float32 rounding.
 *
 * @example
 * ```ts
 * const r = adamStep(p, g, m, v, { lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01, decoupled: true, step: 1 });
 * ```
 */
export function adamStep(param: Tensor, grad: Tensor, m: Tensor | null, v: Tensor | null, o: AdamStepOptions): { param: Tensor; m: Tensor; v: Tensor } {
  checkSame('adamStep: the gradient', param, grad);
  checkSame('adamStep: exp_avg', param, m);
  checkSame('adamStep: exp_avg_sq', param, v);
  if (!Number.isSafeInteger(o.step) || o.step < 1) throw new BasisError('INVALID_ARGUMENT', `adamStep: step must be an integer >= 1 (this update's count), got ${o.step}`);
  const gradScale = o.gradScale ?? 1;
  if ((param.size <= FUSED_UPDATE_MAX || simdUpdates()) && hasKernel(ADAM_STEP) && allFloat32([param, grad, m, v])) {
    const inputs: Record<string, Tensor> = m === null || v === null ? { param, grad } : { param, grad, m, v };
    const attrs = { lr: o.lr, beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon, weightDecay: o.weightDecay, decoupled: o.decoupled, step: o.step, gradScale };
    const [p, mo, vo] = engine().runKernel(ADAM_STEP, inputs as never, attrs as never) as unknown as Tensor[];
    return { param: p as Tensor, m: mo as Tensor, v: vo as Tensor };
  }
  return adamStepComposed(param, grad, m, v, o);
}

/** The composed-ops version of {@link adamStep} (the fallback; tests compare against it). */
export function adamStepComposed(param: Tensor, grad: Tensor, m0: Tensor | null, v0: Tensor | null, o: AdamStepOptions): { param: Tensor; m: Tensor; v: Tensor } {
  const g1 = (o.gradScale ?? 1) !== 1 ? mul(grad, o.gradScale ?? 1) : grad;
  const g = !o.decoupled && o.weightDecay !== 0 ? add(g1, mul(param, o.weightDecay)) : g1;
  const base = o.decoupled && o.weightDecay !== 0 ? mul(param, 1 - o.lr * o.weightDecay) : param;
  const m = m0 === null ? mul(g, 1 - o.beta1) : add(mul(m0, o.beta1), mul(g, 1 - o.beta1));
  const v = v0 === null ? mul(square(g), 1 - o.beta2) : add(mul(v0, o.beta2), mul(square(g), 1 - o.beta2));
  const bc1 = 1 - Math.pow(o.beta1, o.step);
  const bc2 = 1 - Math.pow(o.beta2, o.step);
  const denom = add(div(sqrt(v), Math.sqrt(bc2)), o.epsilon);
  return { param: sub(base, mul(div(m, denom), o.lr / bc1)), m, v };
}

// ---------------------------------------------------------------------------------------------
// Relu backward

/** dx = dy · step(x) (step: 1 for x > 0, NaN for NaN, else 0), in one pass. */
function reluGradKernel(args: Args): TensorInfo[] {
  const dy = input(args, 'dy');
  const x = input(args, 'x');
  const { ins, outs, infos } = io(args.backend, [dy, x], [[...x.shape]]);
  const [D, X] = ins as [Float32Array, Float32Array];
  const O = outs[0] as Float32Array;
  for (let i = 0; i < O.length; i++) {
    const v = X[i] as number;
    O[i] = (D[i] as number) * (v > 0 ? 1 : v !== v ? Number.NaN : 0);
  }
  return infos;
}

function reluGradWasm(args: Args): TensorInfo[] {
  const k = simdKernelsFor(args.backend);
  if (k === null || !k.usable()) return reluGradKernel(args);
  const backend = args.backend as WasmCalls;
  const dy = input(args, 'dy');
  const x = input(args, 'x');
  const n = x.shape.reduce((a, b) => a * b, 1);
  const out = backend.makeOutput([...x.shape], 'float32');
  k.reluGrad(n, k.region(wasmF32(backend, dy)), k.region(wasmF32(backend, x)), k.region(wasmF32(backend, out)));
  return [out];
}

const reluGradGradConfig: GradConfig = {
  kernelName: RELU_GRAD,
  inputsToSave: ['x'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const [x] = saved as [Tensor];
    return { dy: () => reluGrad(dy as Tensor, x), x: () => mul(x, 0) };
  },
};

/**
 * The gradient of relu, `dy·step(x)` (1 for x > 0, NaN for NaN inputs, else 0: tfjs' own
 * definition), as one kernel on backends that have it (wasm: one SIMD pass; cpu after
 * `registerFusedKernels`), else `mul(dy, step(x))`.
 *
 * @example
 * ```ts
 * const dx = reluGrad(dy, x); // x the input of relu
 * ```
 */
export function reluGrad(dy: Tensor, x: Tensor): Tensor {
  if (dy.rank === x.rank && dy.shape.every((d, i) => d === x.shape[i]) && hasKernel(RELU_GRAD) && allFloat32([dy, x])) {
    const [out] = engine().runKernel(RELU_GRAD, { dy, x } as never, {} as never) as unknown as Tensor[];
    return out as Tensor;
  }
  return mul(dy, cast(step(x, 0), 'float32'));
}

// ---------------------------------------------------------------------------------------------
// Softmax cross-entropy (mean over the batch)

/**
 * Outputs the mean loss (scalar) and `g = (softmax(z)·Σy − y)/N` per row (the loss's gradient in the
 * logits for dy = 1), from labels y and logits z `[N, K]`, in float64 per row (log-sum-exp shifted by
 * the row maximum). The data are small (a batch of logits): one JS pass beats ~15 tfjs ops.
 */
function softmaxCeKernel(args: Args): TensorInfo[] {
  const y = input(args, 'labels');
  const z = input(args, 'logits');
  const K = z.shape[z.shape.length - 1] as number;
  const N = z.shape.reduce((a, b) => a * b, 1) / K;
  const { ins, outs, infos } = io(args.backend, [y, z], [[], [...z.shape]]);
  const [Y, Z] = ins as [Float32Array, Float32Array];
  const [L, G] = outs as [Float32Array, Float32Array];
  let total = 0;
  for (let r = 0, o = 0; r < N; r++, o += K) {
    let mx = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < K; k++) mx = Math.max(mx, Z[o + k] as number);
    let se = 0;
    for (let k = 0; k < K; k++) se += Math.exp((Z[o + k] as number) - mx);
    const lse = mx + Math.log(se);
    let sy = 0;
    for (let k = 0; k < K; k++) {
      const yk = Y[o + k] as number;
      sy += yk;
      if (yk !== 0) total -= yk * ((Z[o + k] as number) - lse);
    }
    for (let k = 0; k < K; k++) G[o + k] = (Math.exp((Z[o + k] as number) - lse) * sy - (Y[o + k] as number)) / N;
  }
  L[0] = total / N;
  return infos;
}

const softmaxCeGradConfig: GradConfig = {
  kernelName: SOFTMAX_CE,
  inputsToSave: ['logits'],
  outputsToSave: [false, true],
  gradFunc: (dys: Tensor | Tensor[], saved: Tensor[]) => {
    const [dy] = dys as (Tensor | null)[];
    const [logits, g] = saved as [Tensor, Tensor];
    const N = logits.size / (logits.shape[logits.rank - 1] as number);
    return {
      logits: () => (dy === null || dy === undefined ? mul(g, 0) : mul(g, dy)),
      // only when the labels are differentiated (rare): −log softmax(z)/N
      labels: () => (dy === null || dy === undefined ? mul(logits, 0) : mul(logSoftmax(logits), div(dy, -N))),
    };
  },
};

/**
 * Softmax cross-entropy averaged over the batch — `tf.losses.softmaxCrossEntropy(labels, logits)`
 * with its defaults (no weights, no label smoothing), PyTorch's `cross_entropy` with probability
 * targets — for labels and logits `[N, K]` (classes on the last axis). The gradient in the logits
 * is `(softmax·Σlabels − labels)/N` (`softmax − labels` for one-hot or normalised labels, as tfjs).
 * One fused kernel forward and one element-wise op backward on backends that have it (wasm, cpu
 * after `registerFusedKernels`), else the tfjs op; the two agree to float32 rounding.
 *
 * @example
 * ```ts
 * const loss = softmaxCrossEntropyMean(oneHotLabels, logits); // scalar
 * ```
 */
export function softmaxCrossEntropyMean(labels: Tensor, logits: Tensor): Tensor {
  if (logits.rank < 1 || labels.rank !== logits.rank || labels.shape.some((d, i) => d !== logits.shape[i])) {
    throw new BasisError('SHAPE_MISMATCH', `softmaxCrossEntropyMean: labels [${labels.shape.join(', ')}] and logits [${logits.shape.join(', ')}] must have the same shape`);
  }
  if (logits.size === 0) throw new BasisError('TOO_SMALL', 'softmaxCrossEntropyMean: logits are empty');
  if (hasKernel(SOFTMAX_CE) && allFloat32([labels, logits])) {
    const [loss] = engine().runKernel(SOFTMAX_CE, { labels, logits } as never, {} as never) as unknown as Tensor[];
    return loss as Tensor;
  }
  return losses.softmaxCrossEntropy(labels, logits);
}

// ---------------------------------------------------------------------------------------------
// Dense layer: y = act(x Wᵀ + b) as one op forward and one element-wise pass backward

function disposeInfo(backend: unknown, t: TensorInfo): void {
  (backend as { disposeData(dataId: object): void }).disposeData(t.dataId);
}

/**
 * `[N, I] x [O, I]ᵀ (+ [O]) (relu)`: the product by the backend's BatchMatMul (native sgemm on
 * wasm with a BLAS, its own kernel otherwise), then the bias and relu as one WebAssembly SIMD pass
 * over the product in place (the same float32 sum as Add, then Relu), or the backend's Add and Relu
 * kernels where SIMD is unavailable.
 */
function denseKernel(args: Args): TensorInfo[] {
  const x = input(args, 'x');
  const w = input(args, 'weight');
  const bias = args.inputs['bias'];
  const relu = args.attrs['relu'] === true;
  const [N, I] = x.shape as [number, number];
  const O = w.shape[0] as number;
  const product = backendCall('BatchMatMul', { a: { ...x, shape: [1, N, I] }, b: { ...w, shape: [1, O, I] } }, args.backend, { transposeA: false, transposeB: true } as unknown as NamedAttrMap);
  let y: TensorInfo = { ...product, shape: [N, O] };
  const k = simdKernelsFor(args.backend);
  if (k !== null && k.usable() && (bias !== undefined || !relu)) {
    const backend = args.backend as WasmCalls;
    const Y = k.region(wasmF32(backend, y));
    if (bias !== undefined) {
      const B = k.region(wasmF32(backend, bias));
      if (relu) k.biasRelu(Y, Y, N, O, B);
      else k.addRows(Y, Y, N, O, B);
    }
    return [y];
  }
  const step = (next: TensorInfo): void => {
    disposeInfo(args.backend, y);
    y = { ...next, shape: [N, O] };
  };
  try {
    if (bias !== undefined) step(backendCall('Add', { a: y, b: bias }, args.backend));
    if (relu) step(backendCall('Relu', { x: y }, args.backend));
  } catch (e) {
    disposeInfo(args.backend, y);
    throw e;
  }
  return [y];
}

/**
 * The backward pass's element-wise part: with `y` (relu's output), `dz = dy · step(y)` and the
 * column sums of dz (the bias gradient); without, the column sums of dy. Sums in float64, rounded
 * once to float32. Outputs `[dz, db]` or `[db]`.
 */
function reluGradSumsKernel(args: Args): TensorInfo[] {
  const dy = input(args, 'dy');
  const y = args.inputs['y'];
  const [N, O] = dy.shape as [number, number];
  const { ins, outs, infos } = io(args.backend, y === undefined ? [dy] : [dy, y], y === undefined ? [[O]] : [[N, O], [O]]);
  const D = ins[0] as Float32Array;
  const Y = ins[1];
  const Z = Y === undefined ? D : (outs[0] as Float32Array);
  const sums = new Float64Array(O);
  for (let r = 0, o = 0; r < N; r++, o += O) {
    for (let c = 0; c < O; c++) {
      let d = D[o + c] as number;
      if (Y !== undefined) {
        const v = Y[o + c] as number;
        d = Math.fround(d * (v > 0 ? 1 : v !== v ? Number.NaN : 0));
        Z[o + c] = d;
      }
      sums[c] = (sums[c] as number) + d;
    }
  }
  (outs[outs.length - 1] as Float32Array).set(sums);
  return infos;
}

function reluGradSumsWasm(args: Args): TensorInfo[] {
  const k = simdKernelsFor(args.backend);
  if (k === null || !k.usable()) return reluGradSumsKernel(args);
  const backend = args.backend as WasmCalls;
  const dy = input(args, 'dy');
  const y = args.inputs['y'];
  const [N, O] = dy.shape as [number, number];
  const dz = y === undefined ? undefined : backend.makeOutput([N, O], 'float32');
  const db = backend.makeOutput([O], 'float32');
  const scratch = backend.makeOutput([3 * O + 1], 'float32');
  try {
    const S = k.region(wasmF32(backend, scratch));
    const D = k.region(wasmF32(backend, dy));
    const sums = y === undefined || dz === undefined ? k.reluGradSums(D, null, null, N, O, S) : k.reluGradSums(D, k.region(wasmF32(backend, y)), k.region(wasmF32(backend, dz)), N, O, S);
    wasmF32(backend, db).set(sums);
  } finally {
    backend.disposeData(scratch.dataId);
  }
  return dz === undefined ? [db] : [dz, db];
}

const denseGradConfig: GradConfig = {
  kernelName: BASIS_DENSE,
  inputsToSave: ['x', 'weight'],
  outputsToSave: [true],
  gradFunc: (dys: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const dy = dys as Tensor;
    const [x, w, y] = saved as [Tensor, Tensor, Tensor];
    const relu = attrs['relu'] === true;
    let dz: Tensor;
    let db: Tensor;
    if (hasKernel(RELU_GRAD_SUMS) && dy.dtype === 'float32') {
      const outs = engine().runKernel(RELU_GRAD_SUMS, (relu ? { dy, y } : { dy }) as never, {} as never) as unknown as Tensor[];
      dz = relu ? (outs[0] as Tensor) : dy;
      db = outs[outs.length - 1] as Tensor;
    } else {
      dz = relu ? mul(dy, cast(step(y, 0), 'float32')) : dy;
      db = sum(dz, 0);
    }
    // the products tfjs' BatchMatMul gradient runs for x Wᵀ
    return { x: () => matMul(dz, w), weight: () => matMul(dz, x, true, false), bias: () => db };
  },
};

/**
 * A dense layer on a batch, `act(x Wᵀ + b)` — PyTorch's `F.linear` then `relu` — for `x [N, I]`,
 * `weight [O, I]` (PyTorch layout), an optional `bias [O]` and activation `'linear'` or `'relu'`.
 * On backends with the fused kernel (wasm; cpu after `registerFusedKernels`) it is one op forward
 * (the product, then bias and relu in one pass over it) and, backward, one element-wise pass
 * (relu's gradient and the bias gradient together, summed in float64) plus the two products; the
 * values equal the composed ops' (`add(matMul(x, W, false, true), b)`, `relu`) except the bias
 * gradient's float32 rounding. Elsewhere it composes those ops.
 *
 * @example
 * ```ts
 * const h = denseLayer(x, w1, b1, 'relu'); // [N, 512]
 * const logits = denseLayer(h, w2, b2);     // [N, 10]
 * ```
 */
export function denseLayer(x: Tensor, weight: Tensor, bias: Tensor | null = null, activation: 'linear' | 'relu' = 'linear'): Tensor {
  if (activation !== 'linear' && activation !== 'relu') throw new BasisError('INVALID_ARGUMENT', `denseLayer: activation must be 'linear' or 'relu', got '${String(activation)}'`);
  if (x.rank !== 2 || weight.rank !== 2 || x.shape[1] !== weight.shape[1]) {
    throw new BasisError('SHAPE_MISMATCH', `denseLayer: x must be [N, I] and weight [O, I], got x [${x.shape.join(', ')}] and weight [${weight.shape.join(', ')}]`);
  }
  const O = weight.shape[0] as number;
  if (bias !== null && (bias.rank !== 1 || bias.shape[0] !== O)) throw new BasisError('SHAPE_MISMATCH', `denseLayer: bias must be [${O}], got [${bias.shape.join(', ')}]`);
  if (x.size === 0 || weight.size === 0) throw new BasisError('TOO_SMALL', `denseLayer: empty input (x [${x.shape.join(', ')}], weight [${weight.shape.join(', ')}])`);
  const relu = activation === 'relu';
  if (hasKernel(BASIS_DENSE) && allFloat32([x, weight, bias])) {
    const inputs = bias === null ? { x, weight } : { x, weight, bias };
    const [y] = engine().runKernel(BASIS_DENSE, inputs as never, { relu } as never) as unknown as Tensor[];
    return y as Tensor;
  }
  const z = matMul(x, weight, false, true);
  const zb = bias === null ? z : add(z, bias);
  return relu ? reluOp(zb) : zb;
}

// ---------------------------------------------------------------------------------------------
// Gathering rows (a training batch from a dataset kept on the backend)

/** `out[i] = x[indices[i]]` along the first axis, one block copy per row. */
function gatherRowsKernel(args: Args): TensorInfo[] {
  const x = input(args, 'x');
  const idx = args.attrs['indices'] as unknown as ArrayLike<number>;
  const size = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const w = args.backend as Partial<WasmCalls>;
  if (typeof w.typedArrayFromHeap === 'function' && typeof w.makeOutput === 'function') {
    // wasm: copyWithin on the whole heap (a memmove per row, no views made per row)
    const out = w.makeOutput([idx.length, ...x.shape.slice(1)], 'float32');
    const X = w.typedArrayFromHeap(x) as Float32Array;
    const O = w.typedArrayFromHeap(out) as Float32Array;
    const H = new Float32Array(X.buffer);
    const xo = X.byteOffset >>> 2;
    const oo = O.byteOffset >>> 2;
    for (let i = 0; i < idx.length; i++) {
      const r = (idx[i] as number) * size;
      H.copyWithin(oo + i * size, xo + r, xo + r + size);
    }
    return [out];
  }
  const { ins, outs, infos } = io(args.backend, [x], [[idx.length, ...x.shape.slice(1)]]);
  const X = ins[0] as Float32Array;
  const O = outs[0] as Float32Array;
  for (let i = 0; i < idx.length; i++) {
    const r = (idx[i] as number) * size;
    O.set(X.subarray(r, r + size), i * size);
  }
  return infos;
}

/**
 * The rows `indices` of `x` (along the first axis) as a new tensor `[indices.length, ...]` — a
 * training batch from a float32 dataset uploaded once, instead of copying each batch from JS
 * memory onto the backend. One block copy per row on backends with the kernel (wasm; cpu after
 * `registerFusedKernels`), else `tf.gather`.
 *
 * @example
 * ```ts
 * const all = tf.tensor(trainX, [n, 784]); // once
 * const batch = gatherRows(all, [17, 3, 4096]); // [3, 784]
 * ```
 */
export function gatherRows(x: Tensor, indices: ArrayLike<number>): Tensor {
  if (x.rank < 1) throw new BasisError('SHAPE_MISMATCH', 'gatherRows: x must have at least one axis');
  if (indices.length === 0) throw new BasisError('TOO_SMALL', 'gatherRows: no indices');
  const n = x.shape[0] as number;
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i] as number;
    if (!Number.isInteger(r) || r < 0 || r >= n) throw new BasisError('INVALID_ARGUMENT', `gatherRows: index ${String(r)} at position ${i} is not a row of x (0..${n - 1})`);
  }
  if (hasKernel(GATHER_ROWS) && x.dtype === 'float32') {
    const [out] = engine().runKernel(GATHER_ROWS, { x } as never, { indices: Array.from(indices) } as never) as unknown as Tensor[];
    return out as Tensor;
  }
  return gather(x, Array.from(indices), 0);
}

// ---------------------------------------------------------------------------------------------
// Registration

type Kernel = (args: Args) => TensorInfo[];
/** Name, kernel (JS loops), kernel on wasm (when different), label. */
const KERNELS: readonly [string, Kernel, Kernel | undefined, string][] = [
  [BN_TRAIN, bnTrainKernel, bnTrainWasm, 'BatchNormTrain(fused)'],
  [BN_TRAIN_GRAD, bnTrainGradKernel, bnTrainGradWasm, 'BatchNormTrainGrad(fused)'],
  [SGD_STEP, sgdKernel, sgdWasm, 'SgdStep(fused)'],
  [ADAM_STEP, adamKernel, adamWasm, 'AdamStep(fused)'],
  [SOFTMAX_CE, softmaxCeKernel, undefined, 'SoftmaxCrossEntropy(fused)'],
  [RELU_GRAD, reluGradKernel, reluGradWasm, 'ReluGrad(fused)'],
  [BASIS_DENSE, denseKernel, undefined, 'Dense(fused bias/relu)'],
  [RELU_GRAD_SUMS, reluGradSumsKernel, reluGradSumsWasm, 'ReluGradSums(fused)'],
  [GATHER_ROWS, gatherRowsKernel, undefined, 'GatherRows'],
];

let gradientRegistered = false;

/**
 * Registers the fused training kernels (batchnorm, SGD and Adam updates, softmax cross-entropy) for a backend by name —
 * `'wasm'` (done by `applyWasmKernelFixes`) or `'cpu'` — and their gradient (once). Idempotent;
 * returns the kernels' labels. {@link batchNormTrain}, {@link sgdStep}, {@link adamStep} and {@link softmaxCrossEntropyMean} use them
 * on that backend and compose tfjs-core ops elsewhere.
 *
 * @example
 * ```ts
 * registerFusedKernels('cpu'); // ['BatchNormTrain(fused)', 'BatchNormTrainGrad(fused)', 'SgdStep(fused)', 'AdamStep(fused)', 'SoftmaxCrossEntropy(fused)', 'ReluGrad(fused)']
 * ```
 */
export function registerFusedKernels(backendName: string): string[] {
  if (!gradientRegistered) {
    registerGradient(bnTrainGradConfig);
    registerGradient(softmaxCeGradConfig);
    registerGradient(reluGradGradConfig);
    registerGradient(denseGradConfig);
    gradientRegistered = true;
  }
  for (const [name, kernel, onWasm] of KERNELS) {
    if (getKernel(name, backendName) !== undefined) continue;
    const k = backendName === 'wasm' && onWasm !== undefined ? onWasm : kernel;
    const kernelFunc = (args: Args): TensorInfo[] => {
      residentInputs(args.backend, args.inputs);
      return k(args);
    };
    registerKernel({ kernelName: name, backendName, kernelFunc: kernelFunc as unknown as KernelFunc });
  }
  return KERNELS.map(([, , , label]) => label);
}

/**
 * Removes the fused kernels from a backend (its ops then compose tfjs-core ops again).
 *
 * @example
 * ```ts
 * unregisterFusedKernels('cpu');
 * ```
 */
export function unregisterFusedKernels(backendName: string): void {
  for (const [name] of KERNELS) if (getKernel(name, backendName) !== undefined) unregisterKernel(name, backendName);
}
