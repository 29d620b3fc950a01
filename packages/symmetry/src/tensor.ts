import { BasisError, Matrix } from '@basis/tensor';

/**
 * A named parameter or feature tensor: a shape and its values in row-major (C) order, float64.
 * Compatible with `@basis/tensor`'s `NdArray` (which adds a dtype) and with PyTorch layouts
 * (`[out, in]` for dense weights, `[out, in, kh, kw]` for conv weights).
 */
export interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** Named parameters of a model, PyTorch-style names such as `layers.0.weight`. */
export type Params = Readonly<Record<string, Tensor>>;

/** Anything accepted where a tensor is expected: a {@link Tensor}, an `NdArray` of floats, or a `Matrix`. */
export type TensorLike = Tensor | { shape: readonly number[]; data: ArrayLike<number> } | Matrix;

/** Number of elements of a shape. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Converts a tensor-like value to a float64 {@link Tensor}, validating its shape, length and values.
 * `what` names the value in error messages.
 */
export function toTensor(t: TensorLike, what: string): Tensor {
  if (t instanceof Matrix) {
    assertFiniteData(t.data, what);
    return { shape: [t.rows, t.cols], data: t.data };
  }
  if (t === null || typeof t !== 'object' || !Array.isArray(t.shape) || t.data === undefined || typeof t.data.length !== 'number') {
    throw new BasisError('INVALID_ARGUMENT', `${what} must be a tensor { shape, data } or a Matrix`);
  }
  for (const d of t.shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new BasisError('SHAPE_MISMATCH', `${what} has an invalid shape [${t.shape.join(', ')}]; dimensions must be non-negative integers`);
    }
  }
  const n = shapeSize(t.shape);
  if (t.data.length !== n) {
    throw new BasisError('SHAPE_MISMATCH', `${what} has shape [${t.shape.join(', ')}] (${n} values) but ${t.data.length} values`);
  }
  const data = t.data instanceof Float64Array ? t.data : Float64Array.from(t.data as ArrayLike<number>);
  assertFiniteData(data, what);
  return { shape: [...(t.shape as readonly number[])], data };
}

/** Throws NON_FINITE_INPUT naming the first NaN/Inf entry of `data`. */
export function assertFiniteData(data: ArrayLike<number>, what: string): void {
  for (let k = 0; k < data.length; k++) {
    const v = data[k] as number;
    if (!Number.isFinite(v)) {
      throw new BasisError('NON_FINITE_INPUT', `${what} holds ${v} at flat index ${k}; remove NaN/Inf values first`);
    }
  }
}

/** Converts every entry of a parameter dictionary with {@link toTensor}. */
export function toParams(params: Readonly<Record<string, TensorLike>>, what = 'params'): Record<string, Tensor> {
  if (params === null || typeof params !== 'object') {
    throw new BasisError('INVALID_ARGUMENT', `${what} must be an object mapping parameter names to tensors`);
  }
  const out: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(params)) out[name] = toTensor(t, `${what}['${name}']`);
  return out;
}

/**
 * The linear map a group element induces on one axis, as a kernel: either a monomial
 * `(M x)_i = scale[i] x[src[i]]` or a dense row-major n x n matrix.
 */
export type AxisMap =
  | { readonly type: 'monomial'; readonly src: Int32Array; readonly scale: Float64Array }
  | { readonly type: 'dense'; readonly n: number; readonly m: Float64Array };

/**
 * Applies `M ⊗ I_repeat` along `axis` of `t`: with the axis index written `i * repeat + r`,
 * `out[..., i*repeat + r, ...] = Σ_j M[i, j] t[..., j*repeat + r, ...]`. `repeat > 1` is the
 * channel-major flattening of a `(C, H, W)` feature map into `C*H*W` features (repeat = H*W),
 * or a block of `repeat` consecutive units (attention heads).
 */
export function applyAxisMap(t: Tensor, axis: number, map: AxisMap, repeat = 1): Tensor {
  const n = map.type === 'monomial' ? map.src.length : map.n;
  const dim = t.shape[axis];
  if (dim === undefined) {
    throw new BasisError('SHAPE_MISMATCH', `axis ${axis} does not exist in a tensor of shape [${t.shape.join(', ')}]`);
  }
  if (dim !== n * repeat) {
    throw new BasisError(
      'SHAPE_MISMATCH',
      `axis ${axis} of a tensor of shape [${t.shape.join(', ')}] has length ${dim}, but the group acts on ${n} units` +
        (repeat > 1 ? ` x ${repeat} (repeat) = ${n * repeat}` : ''),
    );
  }
  let outer = 1;
  for (let a = 0; a < axis; a++) outer *= t.shape[a] as number;
  let inner = 1;
  for (let a = axis + 1; a < t.shape.length; a++) inner *= t.shape[a] as number;
  const L = repeat * inner; // contiguous chunk belonging to one unit index i
  const src = t.data;
  const out = new Float64Array(src.length);
  const stride = n * L;
  if (map.type === 'monomial') {
    for (let o = 0; o < outer; o++) {
      const base = o * stride;
      for (let i = 0; i < n; i++) {
        const s = map.scale[i] as number;
        const from = base + (map.src[i] as number) * L;
        const to = base + i * L;
        for (let k = 0; k < L; k++) out[to + k] = s * (src[from + k] as number);
      }
    }
  } else {
    const m = map.m;
    for (let o = 0; o < outer; o++) {
      const base = o * stride;
      for (let i = 0; i < n; i++) {
        const to = base + i * L;
        for (let j = 0; j < n; j++) {
          const a = m[i * n + j] as number;
          if (a === 0) continue;
          const from = base + j * L;
          for (let k = 0; k < L; k++) out[to + k] = (out[to + k] as number) + a * (src[from + k] as number);
        }
      }
    }
  }
  return { shape: t.shape, data: out };
}

/** `max |a - b| / max(max |b|, floor)`: the relative sup-norm error used by verification. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-300): number {
  let num = 0;
  let den = 0;
  for (let k = 0; k < b.length; k++) {
    const d = Math.abs((a[k] as number) - (b[k] as number));
    if (d > num || Number.isNaN(d)) num = Number.isNaN(d) ? Infinity : d;
    const m = Math.abs(b[k] as number);
    if (m > den) den = m;
  }
  return num / Math.max(den, floor);
}
