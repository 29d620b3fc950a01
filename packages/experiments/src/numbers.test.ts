import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BasisError } from '@basis/tensor';
import { columnFormat, formatColumns } from './numbers.js';

describe('one number format per column', () => {
  it('a column never mixes 87.5000, 88 and 86.1000 (the demo table defect)', () => {
    const f = columnFormat([87.5, 88, 86.1]);
    expect([87.5, 88, 86.1].map(f.format)).toEqual(['87.50', '88.00', '86.10']);
  });

  it('never puts 8.03e-4 beside 0.0070 (one notation per column)', () => {
    const f = columnFormat([8.03e-4, 0.007]);
    expect([8.03e-4, 0.007].map(f.format)).toEqual(['0.000803', '0.007000']);
    // spanning more than 5 orders of magnitude: scientific for the whole column
    const g = columnFormat([1e-7, 0.5]);
    expect([1e-7, 0.5].map(g.format)).toEqual(['1.000e-7', '5.000e-1']);
  });

  it('integers stay integers; non-finite values and nulls print as themselves', () => {
    expect(columnFormat([1, 20, 300]).format(20)).toBe('20');
    expect(columnFormat([0.5, NaN]).format(NaN)).toBe('NaN');
    expect(formatColumns([['a', 1.5, null], ['b', 2, 3]])).toEqual([['a', '1.500', '–'], ['b', '2.000', '3']]);
  });

  it('rejects a bad number of significant digits', () => {
    expect(() => columnFormat([1], 0)).toThrow(BasisError);
    expect(() => columnFormat([1], 1.5)).toThrow(/significant digits/);
  });

  it('property: every cell of a column has the same decimals and notation, and reads back close to its value', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e8, max: 1e8, noNaN: true }), { minLength: 1, maxLength: 12 }), (xs) => {
        const f = columnFormat(xs);
        const cells = xs.map(f.format);
        const shape = (s: string): string => (s.includes('e') ? `e${s.split('e')[0]!.split('.')[1]?.length ?? 0}` : `f${s.split('.')[1]?.length ?? 0}`);
        expect(new Set(cells.map(shape)).size).toBe(1);
        const max = Math.max(...xs.map(Math.abs));
        xs.forEach((x, i) => expect(Math.abs(Number(cells[i]) - x)).toBeLessThanOrEqual(Math.max(1e-3 * max, 1e-300)));
      }),
    );
  });
});
