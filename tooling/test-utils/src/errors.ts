// The error code a call throws, for tests of bad input that check many calls in a row.

/**
 * The `code` of the `BasisError` that `f` throws (recognised by name and code, across module
 * copies), `'not a BasisError: …'` for any other throw, and `'no error'` when `f` returns.
 *
 * @example
 * ```ts
 * expect(thrownCode(() => clusterEstimate([], []))).toBe('TOO_SMALL');
 * ```
 */
export function thrownCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    const err = e as { name?: unknown; code?: unknown } | null;
    if (typeof e === 'object' && err !== null && err.name === 'BasisError' && typeof err.code === 'string') return err.code;
    return `not a BasisError: ${String(e)}`;
  }
  return 'no error';
}
