import { describe, expect, it } from 'vitest';
import { formatTable } from './table.js';

describe('terminal tables', () => {
  it('print one number format per column: no 87.5000 beside 88, no 8.03e-4 beside 0.0070', () => {
    const out = formatTable(
      [
        ['run', 'accuracy (%)', 'barrier'],
        ['a', 87.5, 8.03e-4],
        ['b', 88, 0.007],
        ['c', 86.1, 0.0031],
      ],
      4,
    ).split('\n');
    expect(out[2]).toBe('a           87.50  0.000803');
    expect(out[3]).toBe('b           88.00  0.007000');
    expect(out[4]).toBe('c           86.10  0.003100');
  });

  it('keeps integer columns as integers and text as it is', () => {
    expect(formatTable([['k', 'n'], ['x', 3], ['y', 120]])).toBe('k  n\n-  ---\nx    3\ny  120');
  });
});
