import { columnFormat } from '@basis/experiments/numbers';

/**
 * Formats rows as an aligned plain-text table (first row = header). Numbers get one format per
 * column (`columnFormat` of @basis/experiments, the one the HTML reports use): the column's largest
 * magnitude shows `digits` significant digits and every cell of the column the same decimals.
 */
export function formatTable(rows: ReadonlyArray<ReadonlyArray<string | number>>, digits = 6): string {
  const width = Math.max(0, ...rows.map((r) => r.length));
  const formats = Array.from({ length: width }, (_, j) => columnFormat(rows.slice(1).map((r) => r[j]), digits));
  const cells = rows.map((r, i) => r.map((c, j) => (typeof c === 'number' ? (i === 0 ? formatNumber(c, digits) : formats[j]!.format(c)) : c)));
  // numbers are right-aligned, text left-aligned
  const numeric = rows.map((r) => r.map((c) => typeof c === 'number'));
  const widths: number[] = [];
  for (const r of cells) r.forEach((c, j) => (widths[j] = Math.max(widths[j] ?? 0, c.length)));
  const line = (r: string[], i: number) =>
    r
      .map((c, j) => (numeric[i]?.[j] === true ? c.padStart(widths[j] ?? 0) : c.padEnd(widths[j] ?? 0)))
      .join('  ')
      .trimEnd();
  const out = cells.map(line);
  if (out.length > 1) out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return out.join('\n');
}

/** A single number with `digits` significant digits, without trailing noise (prose, not tables). */
export function formatNumber(x: number, digits = 6): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e6 || a < 1e-4) return x.toExponential(digits - 1);
  return String(Number(x.toPrecision(digits)));
}
