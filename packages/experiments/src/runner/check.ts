// Front-door checks of experiment configurations: the shared checkers of @basis/tensor (every
// failure is a CONFIG_INVALID BasisError whose message starts with the field path, e.g.
// `config.widths[2] must be an integer >= 2, got 1.5`), plus `within` for nested checkers.
import { invalid } from '@basis/tensor';

export { checkBool, checkInt, checkKeys, checkList, checkNum, checkObject, checkOneOf, invalid, show, type NumBounds } from '@basis/tensor';

/**
 * Re-labels CONFIG_INVALID errors thrown by `f` (e.g. a zoo checker called with its own field
 * names) under `field`; other errors pass through.
 *
 * @example
 * ```ts
 * within('config.train', () => resolveTrainSettings(o.train, 'config.train'));
 * ```
 */
export function within<T>(field: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    const err = e as { code?: string; message?: string; details?: { field?: unknown } };
    if (err.code === 'CONFIG_INVALID' && typeof err.message === 'string' && !err.message.startsWith(field)) invalid(field, `is invalid: ${err.message}`);
    throw e;
  }
}
