// One number format per table column: the significant digits are chosen once for the column (from
// its largest magnitude), not per cell, so a column never mixes `87.5000`, `88` and `86.1000`, or
// `8.03e-4` beside `0.0070`. Used by the HTML reports, the CLI's terminal tables and the docs gallery.
import { BasisError } from '@basis/tensor';

/** How one column prints its numbers. */
export interface ColumnFormat {
  /** Digits after the decimal point (fixed notation) or of the mantissa (scientific). */
  decimals: number;
  scientific: boolean;
  /** Formats one cell of the column (non-finite values print as `NaN`, `Infinity`, `-Infinity`); a plain function (`xs.map(f.format)`). */
  format: (v: number) => string;
}

/**
 * Chooses one format for a column of numbers: integers print as integers; otherwise fixed notation
 * with enough decimals that the column's largest magnitude shows `significant` digits (at most 8
 * decimals), or scientific notation with `significant` digits when the column spans values ≥ 1e6,
 * below 1e-3 only, or more than five orders of magnitude.
 *
 * @example
 * ```ts
 * columnFormat([87.5, 88, 86.1]).format(88);        // '88.00'
 * columnFormat([8.03e-4, 0.007]).format(8.03e-4);   // '0.000803'
 * ```
 */
export function columnFormat(values: ReadonlyArray<unknown>, significant = 4): ColumnFormat {
  if (!Number.isInteger(significant) || significant < 1 || significant > 15) throw new BasisError('CONFIG_INVALID', `significant digits must be an integer in [1, 15], got ${String(significant)}`);
  const nums = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const mags = nums.map(Math.abs).filter((a) => a > 0);
  const special = (v: number): string | undefined => (Number.isFinite(v) ? undefined : String(v));
  if (mags.length === 0) return { decimals: 0, scientific: false, format: (v) => special(v) ?? (v === 0 ? '0' : String(v)) };
  const max = Math.max(...mags);
  const min = Math.min(...mags);
  if (nums.every(Number.isInteger) && max < 1e15) return { decimals: 0, scientific: false, format: (v) => special(v) ?? (Number.isInteger(v) ? String(v) : v.toFixed(0)) };
  if (max >= 1e6 || max < 1e-3 || max / min > 1e5) {
    const d = significant - 1;
    return { decimals: d, scientific: true, format: (v) => special(v) ?? v.toExponential(d) };
  }
  const d = Math.min(8, Math.max(0, significant - 1 - Math.floor(Math.log10(max))));
  return { decimals: d, scientific: false, format: (v) => special(v) ?? v.toFixed(d) };
}

/**
 * Formats every cell of a table (rows of cells), one {@link columnFormat} per column; strings and
 * nulls pass through (`null` as `–`).
 *
 * @example
 * ```ts
 * formatColumns([['a', 0.5], ['b', 0.125]]); // [['a', '0.5000'], ['b', '0.1250']]
 * ```
 */
export function formatColumns(rows: ReadonlyArray<ReadonlyArray<string | number | null>>, significant = 4): string[][] {
  const width = Math.max(0, ...rows.map((r) => r.length));
  const formats = Array.from({ length: width }, (_, j) => columnFormat(rows.map((r) => r[j]), significant));
  return rows.map((r) => r.map((v, j) => (v === null ? '–' : typeof v === 'number' ? (formats[j] as ColumnFormat).format(v) : v)));
}
