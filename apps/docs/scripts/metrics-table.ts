// Tables generated from the libraries themselves: the metric invariances (@basis/align's registry)
// and the activation/intertwiner-group table (@basis/symmetry's symmetryTable, computed at build time).
import { FAMILIES, INVARIANCES, listMetrics, type MetricDefinition } from '@basis/align';
import { symmetryTable, type SymmetryTableRow } from '@basis/symmetry';

const fmt = (x: number): string =>
  x === Infinity ? '∞' : x === -Infinity ? '−∞' : Math.abs(x - Math.PI) < 1e-12 ? 'π' : Math.abs(x - Math.PI / 2) < 1e-12 ? 'π/2' : String(x);
const esc = (s: string): string => s.replace(/\|/g, '\\|').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Markdown table: one row per registered metric (its family, kind, range), one column per
 * invariance kind (✓ = invariant), then cost class, widths, symmetry, fewest rows and the title
 * (with the metric's aliases).
 */
export function metricsTable(defs: readonly MetricDefinition[] = listMetrics()): string {
  const head = ['metric id', 'family', 'kind', 'range', ...INVARIANCES, 'cost class', 'widths', 'symmetric', 'min rows', 'what it is'];
  const rows = defs.map((d) => [
    `\`${d.id}\``,
    d.family,
    d.kind,
    `[${fmt(d.range[0])}, ${fmt(d.range[1])}]`,
    ...INVARIANCES.map((inv) => (d.invariances.includes(inv) ? '✓' : '·')),
    d.costClass,
    d.widths,
    d.symmetric ? 'yes' : 'no',
    String(d.minRows),
    esc(d.title) + (d.aliases !== undefined && d.aliases.length > 0 ? ` (alias: ${d.aliases.map((a) => `\`${a}\``).join(', ')})` : ''),
  ]);
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n') + '\n';
}

/** Short names of the invariances in the family table. */
const SHORT: Readonly<Record<(typeof INVARIANCES)[number], string>> = {
  rotation: 'rotation',
  permutation: 'permutation',
  'isotropic-scale': 'scale',
  'unit-positive-scale': 'unit scale',
  translation: 'translation',
  'invertible-linear': 'invertible linear',
};

/**
 * Markdown table of the registry grouped by survey family (the order of `FAMILIES`): each metric's
 * kind, what it is invariant to (also at particular option values), cost class and aliases.
 */
export function familiesTable(defs: readonly MetricDefinition[] = listMetrics()): string {
  const out = ['| family | metric | kind | invariant to | cost class |', '| --- | --- | --- | --- | --- |'];
  const list = (inv: readonly (typeof INVARIANCES)[number][]): string => INVARIANCES.filter((i) => inv.includes(i)).map((i) => SHORT[i]).join(', ') || 'none';
  for (const f of FAMILIES) {
    const members = defs.filter((d) => d.family === f);
    if (members.length === 0) continue;
    members.forEach((d, k) => {
      const at = (d.invariancesAt ?? []).map((a) => `; at ${Object.entries(a.options).map(([n, v]) => `${n} = ${String(v)}`).join(', ')}: ${list(a.invariances)}`).join('');
      const alias = d.aliases !== undefined && d.aliases.length > 0 ? ` (= ${d.aliases.map((a) => `\`${a}\``).join(', ')})` : '';
      out.push(`| ${k === 0 ? `**${f}**` : ''} | \`${d.id}\`${alias} | ${d.kind} | ${esc(list(d.invariances) + at)} | ${d.costClass} |`);
    });
  }
  return out.join('\n') + '\n';
}

/** Markdown list of each metric's options (name, type, default, description). */
export function metricOptions(defs: readonly MetricDefinition[] = listMetrics()): string {
  const out: string[] = [];
  for (const d of defs) {
    if (d.options === undefined || d.options.length === 0) continue;
    const range = (o: NonNullable<MetricDefinition['options']>[number]): string => {
      const lo = o.min !== undefined ? `>= ${o.min}` : o.exclusiveMin !== undefined ? `> ${o.exclusiveMin}` : undefined;
      const hi = o.max !== undefined ? `<= ${o.max}` : undefined;
      const both = [lo, hi].filter((x) => x !== undefined);
      return both.length === 0 ? '' : `, ${esc(both.join(' and '))}`;
    };
    out.push(`- \`${d.id}\`: ${d.options.map((o) => `\`${o.name}\` (${o.type}, default \`${JSON.stringify(o.default)}\`${range(o)}): ${esc(o.description)}`).join('; ')}`);
  }
  return out.join('\n') + '\n';
}

/** Markdown table of @basis/symmetry's activation/intertwiner-group table, computed (not copied). */
export function activationTable(rows: readonly SymmetryTableRow[] = symmetryTable()): string {
  const e = (x: number | null): string => (x === null ? '—' : x.toExponential(1));
  const out = ['| activation | σ(x) | intertwiner group | φ(A) | probe finds | worst ‖σ(Ax) − φ(A)σ(x)‖ | agree |', '| --- | --- | --- | --- | --- | --- | --- |'];
  for (const r of rows) out.push(`| \`${r.id}\` | ${esc(r.formula)} | ${esc(r.declared)} | ${esc(r.phi)} | ${esc(r.probed)} | ${e(r.actionError)} | ${r.agree ? '✓' : '✗'} |`);
  return out.join('\n') + '\n';
}
