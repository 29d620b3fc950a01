import { describe, expect, it } from 'vitest';
import { thrownCode, thrownCodeAsync, thrownError, thrownErrorAsync } from './errors.js';

/** A BasisError as @basis/tensor builds one (test-utils does not depend on tensor). */
const basisError = (code: string, message: string): Error => Object.assign(new Error(message), { name: 'BasisError', code });
const bad = (): never => {
  throw basisError('TOO_SMALL', 'needs at least 2 rows, got 1');
};
const other = (): never => {
  throw new RangeError('boom');
};
/** Anything named BasisError with a string code counts (a copy of the module elsewhere). */
const foreign = (): never => {
  throw basisError('IO', 'from elsewhere');
};

describe('thrown error helpers', () => {
  it('give the code, or code and message, of a BasisError', () => {
    expect(thrownCode(bad)).toBe('TOO_SMALL');
    expect(thrownError(bad)).toBe('TOO_SMALL: needs at least 2 rows, got 1');
    expect(thrownCode(foreign)).toBe('IO');
    expect(thrownError(foreign)).toBe('IO: from elsewhere');
  });

  it('say when nothing or something else was thrown', () => {
    expect(thrownCode(() => 1)).toBe('no error');
    expect(thrownError(() => 1)).toBe('no error');
    expect(thrownCode(other)).toBe('not a BasisError: RangeError: boom');
    expect(thrownError(other)).toBe('not a BasisError: RangeError: boom');
  });

  it('await a function or a promise', async () => {
    expect(await thrownCodeAsync(async () => bad())).toBe('TOO_SMALL');
    expect(await thrownCodeAsync(Promise.reject(basisError('IO', 'gone')))).toBe('IO');
    expect(await thrownErrorAsync(async () => bad())).toBe('TOO_SMALL: needs at least 2 rows, got 1');
    expect(await thrownErrorAsync(Promise.resolve(3))).toBe('no error');
    expect(await thrownCodeAsync(async () => other())).toBe('not a BasisError: RangeError: boom');
  });
});
