// Front-door checks shared by the data area. Every message names the value and the fix.
import { BasisError, Rng, createRng, show as describe } from '@basis/tensor';
import type { ClassificationDataset, Dataset, SeedLike } from './types.js';

/** Throws CONFIG_INVALID when `opts` is not a plain object or has keys outside `allowed`. */
export function checkOptions(opts: unknown, allowed: readonly string[], fn: string): void {
  if (opts === undefined) return;
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) {
    throw new BasisError('CONFIG_INVALID', `${fn}: options must be an object, got ${describe(opts)}`);
  }
  for (const k of Object.keys(opts)) {
    if (!allowed.includes(k)) {
      throw new BasisError(
        'CONFIG_INVALID',
        `${fn}: unknown option '${k}'; allowed options are ${allowed.map((a) => `'${a}'`).join(', ')}`,
        { details: { option: k } },
      );
    }
  }
}

// the general helpers live in @basis/tensor (`describe` is its `show`, under the name this area uses)
export { isList, show as describe } from '@basis/tensor';

/** An integer in [min, max]; INVALID_ARGUMENT otherwise. */
export function checkInt(v: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`;
    throw new BasisError('INVALID_ARGUMENT', `${name} must be an integer ${range}, got ${describe(v)}`);
  }
  return v;
}

/** A finite number within the given bounds; NON_FINITE_INPUT for NaN/±Inf, INVALID_ARGUMENT otherwise. */
export function checkNumber(
  v: unknown,
  name: string,
  bounds: { min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean } = {},
): number {
  if (typeof v !== 'number') throw new BasisError('INVALID_ARGUMENT', `${name} must be a number, got ${describe(v)}`);
  if (!Number.isFinite(v)) throw new BasisError('NON_FINITE_INPUT', `${name} must be finite, got ${v}`);
  const { min, max, minExclusive = false, maxExclusive = false } = bounds;
  if (min !== undefined && (minExclusive ? !(v > min) : !(v >= min))) {
    throw new BasisError('INVALID_ARGUMENT', `${name} must be ${minExclusive ? '>' : '>='} ${min}, got ${v}`);
  }
  if (max !== undefined && (maxExclusive ? !(v < max) : !(v <= max))) {
    throw new BasisError('INVALID_ARGUMENT', `${name} must be ${maxExclusive ? '<' : '<='} ${max}, got ${v}`);
  }
  return v;
}

/** Throws NON_FINITE_INPUT naming the first NaN/±Inf entry. */
export function checkFiniteArray(a: ArrayLike<number>, name: string): void {
  for (let i = 0; i < a.length; i++) {
    const v = a[i] as number;
    if (v - v !== 0) {
      throw new BasisError('NON_FINITE_INPUT', `${name}[${i}] is ${v}; remove or replace non-finite values first`, {
        details: { index: i },
      });
    }
  }
}

/** Product of a shape. */
export function shapeProduct(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

/** A per-example shape: a non-empty list of positive integers. */
export function checkShape(shape: unknown, name: string): number[] {
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 1)) {
    throw new BasisError('SHAPE_MISMATCH', `${name} must be a non-empty list of positive integers (e.g. [1, 28, 28] or [784]), got ${JSON.stringify(shape)}`);
  }
  return [...(shape as number[])];
}

/** Turns a seed into a generator (an Rng is used as is and advanced). */
export function toRng(seed: SeedLike | undefined, name = 'seed'): Rng {
  if (seed === undefined) return createRng(0);
  if (seed instanceof Rng) return seed;
  // an Rng from another copy of @basis/tensor (e.g. dist next to src) is accepted by shape
  if (typeof seed === 'object' && seed !== null && typeof (seed as Rng).nextUint32 === 'function' && typeof (seed as Rng).fork === 'function') return seed as Rng;
  if (typeof seed === 'string') return createRng(seed);
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new BasisError('INVALID_ARGUMENT', `${name} must be a non-negative integer, a string or an Rng, got ${describe(seed)}`);
  }
  return createRng(seed);
}

/**
 * Checks that `ds` is a well-formed dataset: consistent lengths and shapes, finite inputs and
 * targets, integer labels in range. Every function of the data area calls it on its inputs.
 * Throws `BasisError` (`INVALID_ARGUMENT`, `SHAPE_MISMATCH`, `TOO_SMALL` or `NON_FINITE_INPUT`).
 *
 * @example
 * ```ts
 * assertDataset(ds, 'myFunction'); // throws with a message naming the problem
 * ```
 */
export function assertDataset(ds: unknown, fn = 'dataset'): asserts ds is Dataset {
  if (typeof ds !== 'object' || ds === null) throw new BasisError('INVALID_ARGUMENT', `${fn}: expected a dataset, got ${describe(ds)}`);
  const d = ds as Partial<Dataset>;
  if (d.kind !== 'classification' && d.kind !== 'regression') {
    throw new BasisError('INVALID_ARGUMENT', `${fn}: expected a dataset with kind 'classification' or 'regression', got ${describe(d.kind)}`);
  }
  if (!(d.x instanceof Float32Array)) throw new BasisError('INVALID_ARGUMENT', `${fn}: dataset.x must be a Float32Array, got ${describe(d.x)}`);
  const shape = checkShape(d.shape, `${fn}: dataset.shape`);
  const n = d.n;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new BasisError('INVALID_ARGUMENT', `${fn}: dataset.n must be a non-negative integer, got ${describe(n)}`);
  if (n === 0) throw new BasisError('TOO_SMALL', `${fn}: dataset '${String(d.name)}' is empty; pass at least one example`);
  const size = shapeProduct(shape);
  if (d.x.length !== n * size) {
    throw new BasisError('SHAPE_MISMATCH', `${fn}: dataset.x has ${d.x.length} values but n=${n} examples of shape [${shape.join(', ')}] need ${n * size}`);
  }
  if (!(d.sourceIndex instanceof Int32Array) || d.sourceIndex.length !== n) {
    throw new BasisError('SHAPE_MISMATCH', `${fn}: dataset.sourceIndex must be an Int32Array of length n=${n}`);
  }
  checkFiniteArray(d.x, `${fn}: dataset.x`);
  if (d.kind === 'classification') {
    const c = d as Partial<ClassificationDataset>;
    if (!(c.labels instanceof Int32Array) || c.labels.length !== n) {
      throw new BasisError('SHAPE_MISMATCH', `${fn}: dataset.labels must be an Int32Array of length n=${n}, got ${describe(c.labels)}${ArrayBuffer.isView(c.labels) ? ` of length ${(c.labels as Int32Array).length}` : ''}`);
    }
    const k = checkInt(c.numClasses, `${fn}: dataset.numClasses`, 1);
    if (!Array.isArray(c.classNames) || c.classNames.length !== k) {
      throw new BasisError('SHAPE_MISMATCH', `${fn}: dataset.classNames must list ${k} names, got ${describe(c.classNames)}`);
    }
    for (let i = 0; i < n; i++) {
      const y = c.labels[i] as number;
      if (y < 0 || y >= k) throw new BasisError('INVALID_ARGUMENT', `${fn}: label ${y} of example ${i} is outside 0..${k - 1}; fix the labels or numClasses`);
    }
  } else {
    const r = d as Partial<Dataset> & { targets?: unknown; targetDim?: unknown };
    const td = checkInt(r.targetDim, `${fn}: dataset.targetDim`, 1);
    if (!(r.targets instanceof Float32Array) || r.targets.length !== n * td) {
      throw new BasisError('SHAPE_MISMATCH', `${fn}: dataset.targets must be a Float32Array of length n*targetDim=${n * td}`);
    }
    checkFiniteArray(r.targets, `${fn}: dataset.targets`);
  }
}

/** Checks that `ds` is a classification dataset. */
export function assertClassification(ds: unknown, fn: string): asserts ds is ClassificationDataset {
  assertDataset(ds, fn);
  if (ds.kind !== 'classification') throw new BasisError('INVALID_ARGUMENT', `${fn}: needs a classification dataset, got a regression dataset '${ds.name}'`);
}

/** Checks an image dataset: per-example shape [C, H, W]; returns [C, H, W]. */
export function assertImages(ds: unknown, fn: string): [number, number, number] {
  assertDataset(ds, fn);
  if (ds.shape.length !== 3) {
    throw new BasisError('SHAPE_MISMATCH', `${fn}: needs images with per-example shape [C, H, W], got [${ds.shape.join(', ')}]; reshape with reshapeDataset(ds, [1, 28, 28])`);
  }
  if (ds.normalization.kind === 'none') {
    throw new BasisError('INVALID_ARGUMENT', `${fn}: dataset '${ds.name}' is not image data (normalization 'none'); image operations need pixel data`);
  }
  return [ds.shape[0] as number, ds.shape[1] as number, ds.shape[2] as number];
}
