// Front-door checks of the training area. Every failure is CONFIG_INVALID and names the field
// (e.g. `optimizer.lr must be > 0, got -1`).
import { BasisError } from '@basis/tensor';

/** A short description of a value for messages. */
export function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (typeof v === 'function') return 'a function';
  return typeof v;
}

/** Throws CONFIG_INVALID naming `field`. */
export function invalid(field: string, message: string): never {
  throw new BasisError('CONFIG_INVALID', `${field} ${message}`, { details: { field } });
}

/** A plain object (not null, not an array); CONFIG_INVALID otherwise. */
export function checkObject(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) invalid(field, `must be an object, got ${show(v)}`);
  return v as Record<string, unknown>;
}

/** Rejects keys outside `allowed` (catches typos such as `learningRate` for `lr`). */
export function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], field: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) {
      invalid(`${field}.${k}`, `is not a known option; allowed: ${allowed.join(', ')}`);
    }
  }
}

/** Bounds for {@link checkNum}. */
export interface NumBounds {
  gt?: number;
  ge?: number;
  lt?: number;
  le?: number;
}

/** A finite number within bounds. */
export function checkNum(v: unknown, field: string, b: NumBounds = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) invalid(field, `must be a finite number, got ${show(v)}`);
  if (b.gt !== undefined && !(v > b.gt)) invalid(field, `must be > ${b.gt}, got ${v}`);
  if (b.ge !== undefined && !(v >= b.ge)) invalid(field, `must be >= ${b.ge}, got ${v}`);
  if (b.lt !== undefined && !(v < b.lt)) invalid(field, `must be < ${b.lt}, got ${v}`);
  if (b.le !== undefined && !(v <= b.le)) invalid(field, `must be <= ${b.le}, got ${v}`);
  return v;
}

/** A safe integer >= min. */
export function checkInt(v: unknown, field: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) invalid(field, `must be an integer >= ${min}, got ${show(v)}`);
  return v;
}

/** A boolean. */
export function checkBool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') invalid(field, `must be true or false, got ${show(v)}`);
  return v;
}

/** A function. */
export function checkFn<T>(v: unknown, field: string): T {
  if (typeof v !== 'function') invalid(field, `must be a function, got ${show(v)}`);
  return v as T;
}

/** A seed accepted by `createRng`: a non-negative safe integer or a string. */
export function checkSeed(v: unknown, field: string): number | string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  return invalid(field, `must be a non-negative integer or a string, got ${show(v)}`);
}
