// The error a call throws, for tests of bad input that check many calls in a row.

/** `code: message` of a BasisError (recognised by name and code, across module copies), else undefined. */
function basisErrorOf(e: unknown): { code: string; message: string } | undefined {
  const err = e as { name?: unknown; code?: unknown; message?: unknown } | null;
  if (typeof e === 'object' && err !== null && err.name === 'BasisError' && typeof err.code === 'string') {
    return { code: err.code, message: typeof err.message === 'string' ? err.message : '' };
  }
  return undefined;
}

/** What a call left behind: the thrown value, or NOTHING when it returned. */
const NOTHING = Symbol('no error');

function caught(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return NOTHING;
}

async function caughtAsync(f: (() => Promise<unknown>) | Promise<unknown>): Promise<unknown> {
  try {
    await (typeof f === 'function' ? f() : f);
  } catch (e) {
    return e;
  }
  return NOTHING;
}

function describeThrown(e: unknown, withMessage: boolean): string {
  if (e === NOTHING) return 'no error';
  const b = basisErrorOf(e);
  if (b === undefined) return `not a BasisError: ${String(e)}`;
  return withMessage ? `${b.code}: ${b.message}` : b.code;
}

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
  return describeThrown(caught(f), false);
}

/**
 * `code: message` of the `BasisError` that `f` throws, for tests that pin the message too; otherwise
 * as {@link thrownCode}.
 *
 * @example
 * ```ts
 * expect(thrownError(() => importStateDict(model, {}))).toMatch(/^SHAPE_MISMATCH: parameter/);
 * ```
 */
export function thrownError(f: () => unknown): string {
  return describeThrown(caught(f), true);
}

/**
 * {@link thrownCode} for asynchronous work: awaits `f()` (or the promise itself).
 *
 * @example
 * ```ts
 * expect(await thrownCodeAsync(() => loadMnist({ dir: 'nope' }))).toBe('IO');
 * ```
 */
export async function thrownCodeAsync(f: (() => Promise<unknown>) | Promise<unknown>): Promise<string> {
  return describeThrown(await caughtAsync(f), false);
}

/**
 * {@link thrownError} for asynchronous work: awaits `f()` (or the promise itself).
 *
 * @example
 * ```ts
 * expect(await thrownErrorAsync(loadModel('nope'))).toMatch(/^BAD_FILE: .*no such file/);
 * ```
 */
export async function thrownErrorAsync(f: (() => Promise<unknown>) | Promise<unknown>): Promise<string> {
  return describeThrown(await caughtAsync(f), true);
}
