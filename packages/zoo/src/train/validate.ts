// Front-door checks of the training area. Every failure is CONFIG_INVALID and names the field
// (e.g. `optimizer.lr must be > 0, got -1`). The general checkers live in @basis/tensor.
import { invalid, show } from '@basis/tensor';

export { checkBool, checkInt, checkKeys, checkNum, checkObject, invalid, isList, show, type NumBounds } from '@basis/tensor';

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
