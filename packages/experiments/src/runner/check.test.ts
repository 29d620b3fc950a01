// The schema pieces of recipe configurations (runner/check.ts): messages start with the field path
// and say what was expected; recipeConfig parses once.
import { describe, expect, it } from 'vitest';
import { finite, integer, isBasisError, list, object, oneOf, parseConfig } from '@basis/tensor';
import { ascending, between, count, crossCheck, distinct, listOfAtLeast, recipeConfig } from './check.js';
import { inputsFit, widthsSchema } from '../recipes/common.js';
import { MODE_PAIRS_PROFILES, modePairsEntries, modePairsProblem } from '../recipes/e004-shared.js';

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

  it('crossCheck: a list index in the path is reported as [i]', () => {
    const s = crossCheck(object({ epochs: integer(1), spawn: list(integer(0), 'spawn epochs') }), (c) => {
      const i = c.spawn.findIndex((k) => k >= c.epochs);
      return i < 0 ? null : { at: ['spawn', i], message: `must be below epochs (${c.epochs}), got ${c.spawn[i]}` };
    });
    expect(parseConfig(s, { epochs: 3, spawn: [0, 2] }, 'c')).toEqual({ epochs: 3, spawn: [0, 2] });
    expect(message(() => parseConfig(s, { epochs: 3, spawn: [0, 3] }, 'c'))).toBe('c.spawn[1] must be below epochs (3), got 3');
  });

  it('ascending and distinct: rising numbers, items listed once', () => {
    const rising = ascending(list(finite({ ge: 0 }), 'fractions'), 'fraction');
    expect(parseConfig(rising, [0, 0.5, 1], 'f')).toEqual([0, 0.5, 1]);
    expect(message(() => parseConfig(rising, [0, 0.5, 0.5], 'f'))).toBe('f[2] must be larger than the fraction before it (0.5), got 0.5');
    expect(message(() => parseConfig(rising, [0, Number.NaN], 'f'))).toBe('f[1] must be a finite number, got NaN');
    const once = distinct(list(oneOf(['a', 'b']), 'letters'), 'letter');
    expect(parseConfig(once, ['b', 'a'], 'l')).toEqual(['b', 'a']);
    expect(message(() => parseConfig(once, ['a', 'b', 'a'], 'l'))).toBe('l lists a letter twice');
    expect(message(() => parseConfig(once, ['a', 'c'], 'l'))).toBe("l[1] must be one of a, b, got 'c'");
  });

  it('widthsSchema and inputsFit (recipes/common.ts)', () => {
    const w = widthsSchema(2);
    expect(parseConfig(w, [16, 32], 'w')).toEqual([16, 32]);
    expect(message(() => parseConfig(w, [16], 'w'))).toBe('w needs at least 2 widths, got 1');
    expect(message(() => parseConfig(w, [16, 16], 'w'))).toBe('w[1] must be larger than the width before it (16), got 16');
    expect(message(() => parseConfig(w, [16, 5000], 'w'))).toBe('w[1] must be an integer in [2, 4096], got 5000');
    const fits = inputsFit('X-1');
    expect(fits({ data: { dataset: 'mnist', testSize: 1000 }, inputs: 1000 })).toBeNull();
    expect(fits({ data: { dataset: 'mnist', testSize: 1000 }, inputs: 1001 })).toEqual({ at: ['inputs'], message: 'is 1001 but the test set has 1000 examples (X-1.data.testSize)' });
    expect(fits({ data: { dataset: 'fashion' }, inputs: 10001 })?.message).toMatch(/the test set has 10000 examples/);
  });

  it('mode-pair fields (recipes/e004-shared.ts): the profiles pass, spawn epochs below the training length, two seeds', () => {
    const s = crossCheck(object(modePairsEntries), modePairsProblem);
    for (const p of ['quick', 'standard', 'full'] as const) expect(parseConfig(s, MODE_PAIRS_PROFILES[p], 'config')).toEqual(MODE_PAIRS_PROFILES[p]);
    const q = MODE_PAIRS_PROFILES.quick;
    expect(message(() => parseConfig(s, { ...q, spawnEpochs: [0, 2] }, 'config'))).toBe('config.spawnEpochs[1] must be an integer in [0, 1] (below family.train.epochs), got 2');
    expect(message(() => parseConfig(s, { ...q, family: { ...q.family, seeds: [0] } }, 'config'))).toBe('config.family.seeds needs at least 2 seeds (one independent pair), got 1');
    expect(message(() => parseConfig(s, { ...q, parents: 0 }, 'config'))).toBe('config.parents needs at least 1 parent, got 0');
    expect(message(() => parseConfig(s, { ...q, spawnEpochs: [] }, 'config'))).toBe('config.spawnEpochs must not be empty');
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
