import { describe, expect, it } from 'vitest';
import { checkBool, checkInt, checkKeys, checkList, checkNum, checkObject, checkOneOf, invalid, isList, show } from './validation.js';

/** The CONFIG_INVALID message and field a call throws. */
function failure(f: () => unknown): { message: string; field: unknown } {
  try {
    f();
  } catch (e) {
    const err = e as { code: string; message: string; details?: { field?: unknown } };
    expect(err.code).toBe('CONFIG_INVALID');
    return { message: err.message, field: err.details?.field };
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('config checkers', () => {
  it('accept valid values and return them', () => {
    expect(checkObject({ a: 1 }, 'c')).toEqual({ a: 1 });
    expect(checkNum(0.5, 'c.tol', { gt: 0, le: 1 })).toBe(0.5);
    expect(checkInt(3, 'c.epochs', 1)).toBe(3);
    expect(checkInt(5, 'c.k', 1, 5)).toBe(5);
    expect(checkBool(false, 'c.center')).toBe(false);
    expect(checkList([16, 32], 'c.widths', (w, f) => checkInt(w, f, 2), 2)).toEqual([16, 32]);
    expect(checkOneOf('mnist', 'c.data', ['mnist', 'fashion'] as const)).toBe('mnist');
    expect(() => checkKeys({ widths: [8] }, ['widths', 'seeds'], 'c')).not.toThrow();
  });

  it('name the field path and what is wrong', () => {
    expect(failure(() => checkObject([1], 'config'))).toEqual({ message: 'config must be an object, got an array of length 1', field: 'config' });
    expect(failure(() => checkKeys({ seed: 1 }, ['seeds'], 'config')).message).toBe('config.seed is not a known option; allowed: seeds');
    expect(failure(() => checkNum(Number.NaN, 'c.lr')).message).toBe('c.lr must be a finite number, got NaN');
    expect(failure(() => checkNum(Infinity, 'c.lr')).message).toMatch(/finite number, got Infinity/);
    expect(failure(() => checkNum(0, 'c.lr', { gt: 0 })).message).toBe('c.lr must be > 0, got 0');
    expect(failure(() => checkNum(2, 'c.p', { le: 1 })).message).toBe('c.p must be <= 1, got 2');
    expect(failure(() => checkNum(-1, 'c.p', { ge: 0 })).message).toBe('c.p must be >= 0, got -1');
    expect(failure(() => checkNum(1, 'c.p', { lt: 1 })).message).toBe('c.p must be < 1, got 1');
    expect(failure(() => checkInt(1.5, 'c.w', 2)).message).toBe('c.w must be an integer >= 2, got 1.5');
    expect(failure(() => checkInt(9, 'c.k', 1, 5)).message).toBe('c.k must be an integer in [1, 5], got 9');
    expect(failure(() => checkBool('yes', 'c.b')).message).toBe("c.b must be true or false, got 'yes'");
    expect(failure(() => checkList([4, 1.5], 'c.widths', (w, f) => checkInt(w, f, 2))).field).toBe('c.widths[1]');
    expect(failure(() => checkList([], 'c.widths', (w) => w, 1)).message).toBe('c.widths must list at least 1 item, got 0');
    expect(failure(() => checkList('x', 'c.widths', (w) => w)).message).toBe("c.widths must be a list, got 'x'");
    expect(failure(() => checkOneOf('rain', 'c.data', ['mnist'])).message).toBe("c.data must be one of mnist, got 'rain'");
    expect(failure(() => invalid('c.x', 'is wrong')).field).toBe('c.x');
  });

  it('describe values briefly', () => {
    expect([show('a'), show(1), show(null), show(undefined), show(2n), show([1, 2]), show(new Float32Array(2)), show(() => 1), show({})]).toEqual([
      "'a'", '1', 'null', 'undefined', '2n', 'an array of length 2', 'a Float32Array', 'a function', 'object',
    ]);
  });
});

describe('isList', () => {
  it('is true for arrays only (not typed arrays, strings, objects with a length)', () => {
    expect(isList([])).toBe(true);
    expect(isList([1, 2])).toBe(true);
    expect(isList(new Float64Array(2))).toBe(false);
    expect(isList('ab')).toBe(false);
    expect(isList({ length: 2 })).toBe(false);
    expect(isList(null)).toBe(false);
  });
});
