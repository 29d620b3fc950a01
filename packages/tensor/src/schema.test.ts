// The schema builders and parseConfig: messages name the field and say what was expected (the
// wording of the hand-written checkers), the first issue in schema order is reported (an unknown
// key of the same object first), parsed values are frozen copies that pass again untouched.
import fc from 'fast-check';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { at, boolean, finite, integer, isParsed, list, markParsed, object, oneOf, optional, parseConfig, seed, text } from './schema.js';

const message = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return `${(e as { code: string }).code}: ${(e as Error).message}`;
  }
  return 'no error';
};

const Spec = v.pipe(
  object({
    name: text('a name'),
    size: integer(1, 10),
    rate: optional(finite({ gt: 0, le: 1 })),
    on: optional(boolean()),
    kind: optional(oneOf(['a', 'b'], { quoted: true })),
    widths: optional(v.union([integer(1), list(integer(1), 'widths', { min: 1 })], () => 'must be a width or a list of widths')),
    seed: optional(seed()),
    inner: optional(object({ x: integer(0) })),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (dataset.typed && dataset.value.on === true && dataset.value.rate === undefined) addIssue({ message: 'needs rate', path: [at(dataset.value, 'on')] });
  }),
);

describe('parseConfig', () => {
  it('words each problem like the checkers, with the path of the bad field', () => {
    const ok = { name: 'n', size: 3 };
    expect(message(() => parseConfig(Spec, 3, 'cfg'))).toBe('CONFIG_INVALID: cfg must be an object, got 3');
    expect(message(() => parseConfig(Spec, { ...ok, size: 11 }, 'cfg'))).toBe('CONFIG_INVALID: cfg.size must be an integer in [1, 10], got 11');
    expect(message(() => parseConfig(Spec, { ...ok, size: 2.5 }, 'cfg'))).toBe('CONFIG_INVALID: cfg.size must be an integer in [1, 10], got 2.5');
    expect(message(() => parseConfig(Spec, { ...ok, rate: 0 }, 'cfg'))).toBe('CONFIG_INVALID: cfg.rate must be > 0, got 0');
    expect(message(() => parseConfig(Spec, { ...ok, rate: Number.NaN }, 'cfg'))).toBe('CONFIG_INVALID: cfg.rate must be a finite number, got NaN');
    expect(message(() => parseConfig(Spec, { ...ok, rate: Infinity }, 'cfg'))).toBe('CONFIG_INVALID: cfg.rate must be a finite number, got Infinity');
    expect(message(() => parseConfig(Spec, { ...ok, on: 1 }, 'cfg'))).toBe('CONFIG_INVALID: cfg.on must be true or false, got 1');
    expect(message(() => parseConfig(Spec, { ...ok, kind: 'c' }, 'cfg'))).toBe("CONFIG_INVALID: cfg.kind must be 'a' or 'b', got 'c'");
    expect(message(() => parseConfig(Spec, { ...ok, seed: -1 }, 'cfg'))).toBe('CONFIG_INVALID: cfg.seed must be a non-negative integer or a string, got -1');
    expect(message(() => parseConfig(Spec, { size: 3 }, 'cfg'))).toBe('CONFIG_INVALID: cfg.name is required: a name');
    expect(message(() => parseConfig(Spec, { ...ok, name: '' }, 'cfg'))).toBe("CONFIG_INVALID: cfg.name must be a name, got ''");
    expect(message(() => parseConfig(Spec, { ...ok, inner: { x: -1 } }, 'cfg'))).toBe('CONFIG_INVALID: cfg.inner.x must be an integer >= 0, got -1');
    expect(message(() => parseConfig(Spec, { ...ok, on: true }, 'cfg'))).toBe('CONFIG_INVALID: cfg.on needs rate');
    // a union reports the issue inside the option that matched the type (not its own message)
    expect(message(() => parseConfig(Spec, { ...ok, widths: [4, 0] }, 'cfg'))).toBe('CONFIG_INVALID: cfg.widths[1] must be an integer >= 1, got 0');
    expect(message(() => parseConfig(Spec, { ...ok, widths: 'x' }, 'cfg'))).toBe('CONFIG_INVALID: cfg.widths must be a width or a list of widths');
  });

  it('reports an unknown key of the same or an enclosing object before other problems', () => {
    expect(message(() => parseConfig(Spec, { size: 3, nmae: 'n' }, 'cfg'))).toBe('CONFIG_INVALID: cfg.nmae is not a known option; allowed: name, size, rate, on, kind, widths, seed, inner');
    expect(message(() => parseConfig(Spec, { name: 'n', size: 3, inner: { x: -1 }, extra: 1 }, 'cfg'))).toMatch(/^CONFIG_INVALID: cfg\.extra is not a known option/);
    // a deeper unknown key does not hide an earlier field's problem
    expect(message(() => parseConfig(Spec, { name: 'n', size: 0, inner: { x: 1, y: 2 } }, 'cfg'))).toBe('CONFIG_INVALID: cfg.size must be an integer in [1, 10], got 0');
  });

  it('returns a frozen copy with only the given fields; a parsed value passes again as it is', () => {
    const raw = { name: 'n', size: 3, rate: undefined, inner: { x: 1 } };
    const p = parseConfig(Spec, raw, 'cfg');
    expect(p).toEqual({ name: 'n', size: 3, inner: { x: 1 } });
    expect('rate' in p).toBe(false);
    expect(p).not.toBe(raw);
    expect(Object.isFrozen(p) && Object.isFrozen(p.inner)).toBe(true);
    expect(isParsed(Spec, p)).toBe(true);
    expect(isParsed(Spec, raw)).toBe(false);
    expect(parseConfig(Spec, p, 'cfg')).toBe(p);
    // another schema does not trust it
    expect(isParsed(object({ name: text() }), p)).toBe(false);
    const marked = markParsed(Spec, { name: 'm', size: 1 });
    expect(parseConfig(Spec, marked, 'cfg')).toBe(marked);
    expect(Object.isFrozen(marked)).toBe(true);
  });

  it('parsing is idempotent and integer(min, max) accepts exactly the integers in range', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -20, max: 20 }), fc.double({ min: -20, max: 20 }), fc.constantFrom(Number.NaN, Infinity, '3', null)), (x) => {
        const inRange = typeof x === 'number' && Number.isInteger(x) && x >= 1 && x <= 10;
        const r = message(() => parseConfig(Spec, { name: 'n', size: x }, 'c'));
        expect(r === 'no error').toBe(inRange);
        if (inRange) {
          const p = parseConfig(Spec, { name: 'n', size: x }, 'c');
          expect(parseConfig(Spec, { ...p }, 'c')).toEqual(p);
        } else expect(r).toMatch(/^CONFIG_INVALID: c\.size must be an integer in \[1, 10\], got /);
      }),
    );
  });
});
