// The schema pieces of recipe configurations (runner/check.ts): messages start with the field path
// and say what was expected; recipeConfig parses once.
import { describe, expect, it } from 'vitest';
import { integer, isBasisError, object, parseConfig } from '@basis/tensor';
import { between, count, crossCheck, listOfAtLeast, recipeConfig } from './check.js';

function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(isBasisError(e) && e.code === 'CONFIG_INVALID').toBe(true);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('recipe configuration schemas', () => {
  it('count: a finite integer of at least min things', () => {
    const s = count(10, 'inputs');
    expect(parseConfig(s, 10, 'c.inputs')).toBe(10);
    expect(message(() => parseConfig(s, 9, 'c.inputs'))).toBe('c.inputs needs at least 10 inputs, got 9');
    expect(message(() => parseConfig(s, 12.5, 'c.inputs'))).toBe('c.inputs must be an integer, got 12.5');
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, '12', null]) expect(message(() => parseConfig(s, bad, 'c.inputs'))).toMatch(/^c\.inputs must be a finite number, got /);
  });

  it('between: strictly inside an open interval, with the note', () => {
    const s = between(0, 0.5, '(c << 1)');
    expect(parseConfig(s, 0.25, 'c')).toBe(0.25);
    for (const bad of [0, 0.5, -1]) expect(message(() => parseConfig(s, bad, 'c'))).toBe(`c must be in (0, 0.5) (c << 1), got ${bad}`);
    expect(message(() => parseConfig(between(0, 1), Number.NaN, 'tol'))).toBe('tol must be a finite number, got NaN');
  });

  it('listOfAtLeast: a list, long enough, items checked with their index', () => {
    const s = listOfAtLeast(integer(0), 'seeds', 2, 'seeds (a CI needs two runs)');
    expect(parseConfig(s, [0, 1], 'seeds')).toEqual([0, 1]);
    expect(message(() => parseConfig(s, [0], 'seeds'))).toBe('seeds needs at least 2 seeds (a CI needs two runs), got 1');
    expect(message(() => parseConfig(s, 3, 'seeds'))).toBe('seeds must be a list of seeds, got 3');
    expect(message(() => parseConfig(s, [0, -1], 'seeds'))).toBe('seeds[1] must be an integer >= 0, got -1');
  });

  it('crossCheck: runs once every field is valid and reports at the nested field', () => {
    const s = crossCheck(object({ a: object({ n: integer(0) }), m: integer(0) }), (c) => (c.a.n <= c.m ? null : { at: ['a', 'n'], message: `must be <= m (${c.m}), got ${c.a.n}` }));
    expect(parseConfig(s, { a: { n: 1 }, m: 2 }, 'config')).toEqual({ a: { n: 1 }, m: 2 });
    expect(message(() => parseConfig(s, { a: { n: 3 }, m: 2 }, 'config'))).toBe('config.a.n must be <= m (2), got 3');
    // a field's own problem comes first (the cross check needs valid fields)
    expect(message(() => parseConfig(s, { a: { n: 3 }, m: -1 }, 'config'))).toBe('config.m must be an integer >= 0, got -1');
    expect(message(() => parseConfig(s, { a: { n: 3 }, m: 2, x: 1 }, 'config'))).toMatch(/^config\.x is not a known option/);
  });

  it('recipeConfig: checkConfig parses once into a frozen value under the given field', () => {
    const schema = object({ inputs: count(10, 'inputs') });
    const r = recipeConfig(schema, 'X-1');
    expect(r.configSchema).toBe(schema);
    const c = r.checkConfig({ inputs: 20 });
    expect(c).toEqual({ inputs: 20 });
    expect(Object.isFrozen(c)).toBe(true);
    expect(r.checkConfig(c)).toBe(c);
    expect(message(() => r.checkConfig({ inputs: 5 }))).toBe('X-1.inputs needs at least 10 inputs, got 5');
    expect(message(() => r.checkConfig([]))).toMatch(/^X-1 must be an object/);
  });
});
