// Tables generated from the libraries themselves: the metric invariances (@basis/align's registry)
// and the activation/intertwiner-group table (@basis/symmetry's symmetryTable, computed at build time).
import { INVARIANCES, listMetrics, type MetricDefinition } from '@basis/align';
import { symmetryTable, type SymmetryTableRow } from '@basis/symmetry';

const fmt = (x: number): string =>
  x === Infinity ? '∞' : x === -Infinity ? '−∞' : Math.abs(x - Math.PI) < 1e-12 ? 'π' : Math.abs(x - Math.PI / 2) < 1e-12 ? 'π/2' : String(x);
const esc = (s: string): string => s.replace(/\|/g, '\\|').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Markdown table: one row per registered metric, one column per invariance kind (✓ = invariant). */
export function metricsTable(defs: readonly MetricDefinition[] = listMetrics()): string {
  const head = ['metric id', 'kind', 'range', ...INVARIANCES, 'widths', 'symmetric', 'min rows', 'what it is'];
  const rows = defs.map((d) => [
    `\`${d.id}\``,
    d.kind,
    `[${fmt(d.range[0])}, ${fmt(d.range[1])}]`,
    ...INVARIANCES.map((inv) => (d.invariances.includes(inv) ? '✓' : '·')),
    d.widths,
    d.symmetric ? 'yes' : 'no',
    String(d.minRows),
    esc(d.title),
  ]);
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n') + '\n';
}

/** Markdown list of each metric's options (name, type, default, description). */
export function metricOptions(defs: readonly MetricDefinition[] = listMetrics()): string {
  const out: string[] = [];
  for (const d of defs) {
    if (d.options === undefined || d.options.length === 0) continue;
    out.push(`- \`${d.id}\`: ${d.options.map((o) => `\`${o.name}\` (${o.type}, default \`${JSON.stringify(o.default)}\`): ${esc(o.description)}`).join('; ')}`);
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
