// JSON helpers of the run cache: a canonical form (sorted keys) for content hashes, and an
// encoding that keeps typed arrays and non-finite numbers (plain JSON turns NaN into null and a
// Float64Array into an object of indices, both silently).
import { createHash } from 'node:crypto';
import { BasisError } from '@basis/tensor';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Converts a value to plain JSON data, tagging what JSON cannot hold (`$f64`, `$f32`, `$i32`, `$num`). */
function encode(v: unknown, path: string, seen: Set<object>): Json {
  if (v === null) return null;
  switch (typeof v) {
    case 'boolean':
    case 'string':
      return v;
    case 'number':
      return Number.isFinite(v) ? (Object.is(v, -0) ? 0 : v) : { $num: String(v) };
    case 'undefined':
      return null;
    case 'bigint':
    case 'function':
    case 'symbol':
      throw new BasisError('INVALID_ARGUMENT', `${path} is a ${typeof v}, which cannot be stored as JSON`);
    case 'object':
      break; // typed arrays, arrays and plain objects below
  }
  if (v instanceof Float64Array || v instanceof Float32Array || v instanceof Int32Array) {
    const tag = v instanceof Float64Array ? '$f64' : v instanceof Float32Array ? '$f32' : '$i32';
    return { [tag]: Array.from(v, (x) => (Number.isFinite(x) ? x : String(x))) };
  }
  if (ArrayBuffer.isView(v)) throw new BasisError('INVALID_ARGUMENT', `${path} is a ${v.constructor.name}; only Float64Array, Float32Array and Int32Array can be stored`);
  const o = v as object;
  if (seen.has(o)) throw new BasisError('INVALID_ARGUMENT', `${path} refers back to itself; a cached value must be a tree`);
  seen.add(o);
  try {
    if (Array.isArray(o)) return o.map((x, i) => encode(x, `${path}[${i}]`, seen));
    if (o instanceof Map || o instanceof Set) throw new BasisError('INVALID_ARGUMENT', `${path} is a ${o.constructor.name}; use a plain object or array`);
    const out: Record<string, Json> = {};
    for (const k of Object.keys(o).sort()) {
      const x = (o as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = encode(x, `${path}.${k}`, seen);
    }
    return out;
  } finally {
    seen.delete(o);
  }
}

function decode(v: Json): unknown {
  if (Array.isArray(v)) return v.map(decode);
  if (v === null || typeof v !== 'object') return v;
  const keys = Object.keys(v);
  if (keys.length === 1) {
    const k = keys[0] as string;
    const x = v[k];
    if (k === '$num' && typeof x === 'string') return Number(x);
    if ((k === '$f64' || k === '$f32' || k === '$i32') && Array.isArray(x)) {
      const nums = x.map((e) => (typeof e === 'string' ? Number(e) : (e as number)));
      return k === '$f64' ? Float64Array.from(nums) : k === '$f32' ? Float32Array.from(nums) : Int32Array.from(nums);
    }
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = decode(v[k] as Json);
  return out;
}

/**
 * Serialises a value to JSON text with sorted keys, keeping typed arrays and NaN/±Infinity
 * (tagged objects that {@link parseStored} turns back). Throws INVALID_ARGUMENT for values JSON
 * cannot represent (functions, bigints, cycles, Maps).
 *
 * @example
 * ```ts
 * parseStored(stringifyStored({ x: new Float64Array([1, NaN]) })); // { x: Float64Array [1, NaN] }
 * ```
 */
export function stringifyStored(v: unknown, indent?: number): string {
  return JSON.stringify(encode(v, 'value', new Set()), null, indent);
}

/**
 * Parses text written by {@link stringifyStored}.
 *
 * @example
 * ```ts
 * const v = parseStored(text) as { x: Float64Array };
 * ```
 */
export function parseStored(text: string): unknown {
  return decode(JSON.parse(text) as Json);
}

/**
 * A stable content hash (hex sha256 of the canonical JSON, keys sorted) of a JSON-like value;
 * object key order does not matter, array order does.
 *
 * @example
 * ```ts
 * contentHash({ a: 1, b: 2 }) === contentHash({ b: 2, a: 1 }); // true
 * ```
 */
export function contentHash(v: unknown): string {
  return createHash('sha256').update(stringifyStored(v)).digest('hex');
}
