// Front-door checks of user configuration (config files, recipe options, training settings),
// shared by every package: each failure is a CONFIG_INVALID BasisError whose message starts with
// the path of the bad field (`config.train.lr must be > 0, got -1`) and whose details carry it.
import { BasisError } from './errors.js';

/**
 * A short description of a value for messages.
 *
 * @example
 * ```ts
 * show([1, 2]); // 'an array of length 2'
 * ```
 */
export function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (typeof v === 'function') return 'a function';
  return typeof v;
}

/**
 * `Array.isArray` without its narrowing: on a typed `readonly T[]` argument the built-in narrows to
 * `any[]`, while this keeps the element type (for front-door checks of lists from untyped callers).
 *
 * @example
 * ```ts
 * isList([1, 2]); // true
 * isList(new Float64Array(2)); // false
 * ```
 */
export function isList(v: unknown): boolean {
  return Array.isArray(v);
}

/**
 * Throws CONFIG_INVALID naming `field`.
 *
 * @example
 * ```ts
 * invalid('config.seeds', 'must list at least 2 seeds'); // throws
 * ```
 */
export function invalid(field: string, message: string): never {
  throw new BasisError('CONFIG_INVALID', `${field} ${message}`, { details: { field } });
}

/**
 * A plain object (not null, not an array); CONFIG_INVALID otherwise.
 *
 * @example
 * ```ts
 * const o = checkObject(JSON.parse(text), 'config');
 * ```
 */
export function checkObject(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) invalid(field, `must be an object, got ${show(v)}`);
  return v as Record<string, unknown>;
}

/**
 * Rejects keys outside `allowed` (catches typos such as `seed` for `seeds`).
 *
 * @example
 * ```ts
 * checkKeys({ widths: [8] }, ['widths', 'seeds'], 'config');
 * ```
 */
export function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], field: string): void {
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) invalid(`${field}.${k}`, `is not a known option; allowed: ${allowed.join(', ')}`);
}

/** Bounds for {@link checkNum} (strict `gt`/`lt`, inclusive `ge`/`le`). */
export interface NumBounds {
  gt?: number;
  ge?: number;
  lt?: number;
  le?: number;
}

/**
 * A finite number within optional bounds.
 *
 * @example
 * ```ts
 * checkNum(0.5, 'config.tol', { gt: 0, le: 1 });
 * ```
 */
export function checkNum(v: unknown, field: string, b: NumBounds = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) invalid(field, `must be a finite number, got ${show(v)}`);
  if (b.gt !== undefined && !(v > b.gt)) invalid(field, `must be > ${b.gt}, got ${v}`);
  if (b.ge !== undefined && !(v >= b.ge)) invalid(field, `must be >= ${b.ge}, got ${v}`);
  if (b.lt !== undefined && !(v < b.lt)) invalid(field, `must be < ${b.lt}, got ${v}`);
  if (b.le !== undefined && !(v <= b.le)) invalid(field, `must be <= ${b.le}, got ${v}`);
  return v;
}

/**
 * A safe integer in `[min, max]`.
 *
 * @example
 * ```ts
 * checkInt(3, 'config.epochs', 1); // 3
 * ```
 */
export function checkInt(v: unknown, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    invalid(field, `must be an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`}, got ${show(v)}`);
  }
  return v;
}

/**
 * A boolean.
 *
 * @example
 * ```ts
 * checkBool(true, 'config.center'); // true
 * ```
 */
export function checkBool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') invalid(field, `must be true or false, got ${show(v)}`);
  return v;
}

/**
 * A list of `minLength` or more items, each checked by `item` (given its field path).
 *
 * @example
 * ```ts
 * checkList([16, 32], 'config.widths', (w, f) => checkInt(w, f, 2), 2); // [16, 32]
 * ```
 */
export function checkList<T>(v: unknown, field: string, item: (x: unknown, field: string) => T, minLength = 1): T[] {
  if (!Array.isArray(v)) invalid(field, `must be a list, got ${show(v)}`);
  if (v.length < minLength) invalid(field, `must list at least ${minLength} item${minLength === 1 ? '' : 's'}, got ${v.length}`);
  return v.map((x, i) => item(x, `${field}[${i}]`));
}

/**
 * One of the given strings.
 *
 * @example
 * ```ts
 * checkOneOf('mnist', 'config.dataset', ['mnist', 'fashion']);
 * ```
 */
export function checkOneOf<T extends string>(v: unknown, field: string, options: readonly T[]): T {
  if (typeof v !== 'string' || !(options as readonly string[]).includes(v)) invalid(field, `must be one of ${options.join(', ')}, got ${show(v)}`);
  return v as T;
}

