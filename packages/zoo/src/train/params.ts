// Named parameters <-> plain arrays: the bridge between live tfjs variables and files.
import { Tensor, Variable, tensor, tidy, variable, type DataType } from '@tensorflow/tfjs-core';
import { BasisError, type NdArray } from '@basis/tensor';
import { invalid, show } from './validate.js';

/**
 * Named trainable (and non-trainable) parameters, PyTorch-style names such as `layers.0.weight`.
 *
 * @example
 * ```ts
 * const params: NamedVariables = { 'layers.0.weight': tf.variable(w0), 'layers.0.bias': tf.variable(b0) };
 * ```
 */
export type NamedVariables = Record<string, Variable>;

/** Checks that `params` is a non-empty record of distinct tfjs variables. */
export function checkParams(params: unknown, field: string): NamedVariables {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    invalid(field, `must be an object mapping parameter names to tf.Variable, got ${show(params)}`);
  }
  const entries = Object.entries(params as Record<string, unknown>);
  if (entries.length === 0) invalid(field, 'must hold at least one parameter');
  const seen = new Map<Variable, string>();
  for (const [name, value] of entries) {
    if (!(value instanceof Variable)) invalid(`${field}['${name}']`, `must be a tf.Variable, got ${value instanceof Tensor ? 'a plain tf.Tensor (wrap it with tf.variable)' : show(value)}`);
    const v = value as Variable; // (instanceof narrows to Variable<any>)
    if (v.isDisposed) invalid(`${field}['${name}']`, 'is a disposed variable');
    const other = seen.get(v);
    if (other !== undefined) invalid(`${field}['${name}']`, `is the same variable as '${other}'; give each parameter its own variable`);
    seen.set(v, name);
  }
  return params as NamedVariables;
}

function dtypeOf(t: Tensor, what: string): 'float32' | 'int32' | 'bool' {
  if (t.dtype === 'float32' || t.dtype === 'int32' || t.dtype === 'bool') return t.dtype;
  throw new BasisError('INVALID_ARGUMENT', `${what} has dtype ${t.dtype}; only float32, int32 and bool tensors can be saved`);
}

/**
 * A copy of a tensor's values as an {@link NdArray} (async read; float32, int32 or bool).
 *
 * @example
 * ```ts
 * const a = await tensorToNdArray(tf.ones([2, 3])); // { dtype: 'float32', shape: [2, 3], data: Float32Array(6) }
 * ```
 */
export async function tensorToNdArray(t: Tensor, what = 'tensor'): Promise<NdArray> {
  const dtype = dtypeOf(t, what);
  const values = await t.data();
  const data = dtype === 'float32' ? Float32Array.from(values as Float32Array) : dtype === 'int32' ? Int32Array.from(values as Int32Array) : Uint8Array.from(values as Uint8Array);
  return { dtype, shape: [...t.shape], data };
}

/** Values of an NdArray as a typed array of the given tfjs dtype (floats convert to float32). */
function valuesFor(a: NdArray, dtype: DataType, what: string): Float32Array | Int32Array | Uint8Array {
  const isFloat = a.dtype === 'float32' || a.dtype === 'float64' || a.dtype === 'float16' || a.dtype === 'bfloat16';
  if (dtype === 'float32' && isFloat) return a.data instanceof Float32Array ? a.data : Float32Array.from(a.data as Float64Array);
  if (dtype === 'int32' && a.dtype === 'int32') return a.data as Int32Array;
  if (dtype === 'bool' && (a.dtype === 'bool' || a.dtype === 'uint8')) return a.data as Uint8Array;
  throw new BasisError('SHAPE_MISMATCH', `${what}: the array has dtype ${a.dtype} but the variable is ${dtype}`);
}

/**
 * A new tensor holding an NdArray (float16/bfloat16/float64 become float32); the caller disposes it.
 *
 * @example
 * ```ts
 * const t = ndArrayToTensor({ dtype: 'float64', shape: [2], data: Float64Array.of(1, 2) }); // float32 [1, 2]
 * ```
 */
export function ndArrayToTensor(a: NdArray, what = 'array'): Tensor {
  const dtype: DataType = a.dtype === 'int32' ? 'int32' : a.dtype === 'bool' ? 'bool' : 'float32';
  return tensor(valuesFor(a, dtype, what), a.shape, dtype);
}

/**
 * Copies the values of every parameter (async reads; the variables stay untouched).
 *
 * @example
 * ```ts
 * const saved = await readParams(params); // Map { 'layers.0.weight' => { dtype, shape, data }, ... }
 * ```
 */
export async function readParams(params: NamedVariables): Promise<Map<string, NdArray>> {
  checkParams(params, 'params');
  const out = new Map<string, NdArray>();
  for (const [name, v] of Object.entries(params)) out.set(name, await tensorToNdArray(v, `parameter '${name}'`));
  return out;
}

/**
 * Assigns saved values to existing variables. Every variable must get a value of its exact shape
 * (and a compatible dtype); extra arrays are an error unless `allowExtra`, missing ones unless
 * `allowMissing` (for warm starts from a partial checkpoint).
 *
 * @example
 * ```ts
 * assignParams(params, checkpoint.params); // restores the weights in place
 * ```
 */
export function assignParams(
  params: NamedVariables,
  arrays: ReadonlyMap<string, NdArray> | Record<string, NdArray>,
  opts: { allowMissing?: boolean; allowExtra?: boolean } = {},
): void {
  checkParams(params, 'params');
  const map: ReadonlyMap<string, NdArray> = arrays instanceof Map ? (arrays as ReadonlyMap<string, NdArray>) : new Map(Object.entries(arrays as Record<string, NdArray>));
  if (!opts.allowExtra) {
    const extra = [...map.keys()].filter((k) => !(k in params));
    if (extra.length > 0) throw new BasisError('SHAPE_MISMATCH', `the saved arrays hold parameters the model lacks: ${extra.slice(0, 10).join(', ')}; is this checkpoint of another architecture?`);
  }
  const missing = Object.keys(params).filter((k) => !map.has(k));
  if (missing.length > 0 && !opts.allowMissing) throw new BasisError('SHAPE_MISMATCH', `the saved arrays lack parameters: ${missing.slice(0, 10).join(', ')}`);
  // check everything before touching any variable
  for (const [name, v] of Object.entries(params)) {
    const a = map.get(name);
    if (a === undefined) continue;
    if (a.shape.length !== v.shape.length || a.shape.some((d, i) => d !== v.shape[i])) {
      throw new BasisError('SHAPE_MISMATCH', `parameter '${name}' has shape [${v.shape.join(', ')}] but the saved array has [${a.shape.join(', ')}]`);
    }
    valuesFor(a, v.dtype, `parameter '${name}'`);
  }
  for (const [name, v] of Object.entries(params)) {
    const a = map.get(name);
    if (a === undefined) continue;
    tidy(() => v.assign(tensor(valuesFor(a, v.dtype, name), a.shape, v.dtype)));
  }
}

/**
 * New variables holding saved arrays (trainable unless listed in `nonTrainable`). The caller owns
 * and disposes them.
 *
 * @example
 * ```ts
 * const fork = variablesFromArrays(await readParams(params)); // an independent copy
 * ```
 */
export function variablesFromArrays(
  arrays: ReadonlyMap<string, NdArray> | Record<string, NdArray>,
  opts: { nonTrainable?: readonly string[] } = {},
): NamedVariables {
  const entries = arrays instanceof Map ? [...(arrays as ReadonlyMap<string, NdArray>).entries()] : Object.entries(arrays as Record<string, NdArray>);
  const out: NamedVariables = {};
  for (const [name, a] of entries) {
    const t = ndArrayToTensor(a, `array '${name}'`);
    out[name] = variable(t, !(opts.nonTrainable ?? []).includes(name));
    t.dispose();
  }
  return out;
}

/**
 * Independent copies of variables (same values, same `trainable` flags), e.g. to fork a run.
 *
 * @example
 * ```ts
 * const copy = cloneVariables(params); // train `copy` without touching `params`
 * ```
 */
export function cloneVariables(params: NamedVariables): NamedVariables {
  checkParams(params, 'params');
  const out: NamedVariables = {};
  for (const [name, v] of Object.entries(params)) out[name] = variable(v, v.trainable);
  return out;
}
