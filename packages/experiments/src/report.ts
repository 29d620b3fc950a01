import { renderSvg, specFields, specNotes, type FigureRows, type VegaLiteSpec } from './figure-style.js';
import { formatColumns } from './numbers.js';

export { barChart, heatmap, lineChart, renderSvg, type VegaLiteSpec } from './figure-style.js';

/** One figure of a report: its Vega-Lite spec and the data behind it. */
export interface Figure {
  /** File-safe id (`interpolation-loss`), used for the .svg/.json/.csv files. */
  id: string;
  title: string;
  /** What the figure shows and how to read it (name any interval bands here). */
  caption: string;
  spec: VegaLiteSpec;
  /** Rows of the figure's data (also written as CSV). */
  rows: FigureRows;
}

/** A table of a report. Numbers are printed with one format per column (see `columnFormat`). */
export interface Table {
  id: string;
  title: string;
  caption?: string;
  columns: string[];
  rows: Array<Array<string | number | null>>;
}

/** A self-contained report: sections of text, figures and tables, plus the configuration that produced it. */
export interface Report {
  title: string;
  subtitle?: string;
  sections: Array<{ heading: string; text?: string; figures?: Figure[]; tables?: Table[] }>;
  /** The exact configuration and versions (shown as a table, with the full JSON one click away). */
  config: Record<string, unknown>;
}

/** Rows as CSV (RFC 4180 quoting). */
export function toCsv(columns: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | boolean | null>>): string {
  const cell = (v: string | number | boolean | null): string => {
    if (v === null) return '';
    const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns.map(cell).join(','), ...rows.map((r) => r.map(cell).join(','))].join('\n') + '\n';
}

/**
 * A figure's rows as CSV. The header names each column as the figure's axes do, with their units
 * (`λ (0 = model A, 1 = model B)`, `test loss (cross-entropy)`), where the figure style recorded them.
 *
 * @example
 * ```ts
 * figureCsv({ id: 'f', title: 'T', caption: '', spec: lineChart(rows, { x: 'λ', y: 'test loss' }), rows }); // 'λ,test loss,series\n...'
 * ```
 */
export function figureCsv(f: Figure): string {
  const cols = [...new Set(f.rows.flatMap((r) => Object.keys(r)))];
  const titles = specFields(f.spec);
  return toCsv(cols.map((c) => titles[c] ?? c), f.rows.map((r) => cols.map((c) => r[c] ?? null)));
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A configuration value as one readable table cell (scalars as they are, short lists joined). */
function configCell(v: unknown): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : String(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) {
    if (v.every((x) => x === null || ['string', 'number', 'boolean'].includes(typeof x))) return v.map((x) => configCell(x)).join(', ');
    return `${v.length} entries (in the full JSON)`;
  }
  return JSON.stringify(v);
}

/**
 * The configuration as rows of (setting, value): nested objects become dotted paths (`training.epochs`),
 * lists of scalars one comma-separated cell, deeper structures (a model graph's nodes) a count
 * pointing to the full JSON.
 *
 * @example
 * ```ts
 * configRows({ training: { epochs: 2, seeds: [0, 1] } }); // [['training.epochs', '2'], ['training.seeds', '0, 1']]
 * ```
 */
export function configRows(config: Record<string, unknown>, depth = 3): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const walk = (v: unknown, path: string, d: number): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && d < depth && Object.keys(v).length > 0) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, path === '' ? k : `${path}.${k}`, d + 1);
      return;
    }
    out.push([path, configCell(v)]);
  };
  walk(config, '', 0);
  return out;
}

/**
 * Renders a report as one self-contained HTML page (inline SVG figures, tables, the
 * configuration; no scripts, fonts or network), and returns it with every figure's SVG so they
 * can be written beside it. Table numbers use one format per column; figure captions get the
 * notes of the figure style (fixed colour scales, series that coincide); the configuration is a
 * table of settings with the full JSON in a collapsed `<details>` block.
 *
 * @example
 * ```ts
 * const { html, svgs } = await renderReport(report);
 * ```
 */
export async function renderReport(report: Report): Promise<{ html: string; svgs: Record<string, string> }> {
  const svgs: Record<string, string> = {};
  const parts: string[] = [];
  for (const s of report.sections) {
    parts.push(`<section><h2>${esc(s.heading)}</h2>`);
    if (s.text !== undefined) for (const p of s.text.split(/\n\n+/)) parts.push(`<p>${esc(p)}</p>`);
    for (const f of s.figures ?? []) {
      const svg = await renderSvg(f.spec);
      svgs[f.id] = svg;
      const notes = specNotes(f.spec).filter((n) => !f.caption.includes(n));
      parts.push(`<figure id="${esc(f.id)}" class="plot">${svg}<figcaption><b>${esc(f.title)}.</b> ${esc(f.caption)}${notes.map((n) => ` ${esc(n.endsWith('.') ? n : `${n}.`)}`).join('')}</figcaption></figure>`);
    }
    for (const t of s.tables ?? []) parts.push(tableHtml(t));
    parts.push('</section>');
  }
  const css = `body{font-family:system-ui,sans-serif;max-width:1040px;margin:2em auto;padding:0 1em;color:#222}h1{margin-bottom:0}
.sub{color:#666;margin-top:.2em}section{margin:2em 0}figure{display:inline-block;margin:1em 1em 1em 0;vertical-align:top;max-width:100%;overflow-x:auto}
figcaption{font-size:.85em;color:#444;max-width:520px}table{border-collapse:collapse;margin:1em 0;font-size:.9em}
caption{text-align:left;margin-bottom:.4em}th,td{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.config td:first-child{font-family:ui-monospace,monospace;font-size:.95em;white-space:nowrap}details{margin:1em 0}summary{cursor:pointer;color:#245}
pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:.8em}`;
  const config = configRows(report.config);
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(report.title)}</title><style>${css}</style></head>
<body><h1>${esc(report.title)}</h1>${report.subtitle === undefined || report.subtitle.trim() === '' ? '' : `<p class="sub">${esc(report.subtitle)}</p>`}
${parts.join('\n')}
<section id="configuration"><h2>Configuration and versions</h2>
<table class="config"><thead><tr><th>setting</th><th>value</th></tr></thead><tbody>${config.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</tbody></table>
<details><summary>Full configuration (JSON)</summary><pre>${esc(JSON.stringify(report.config, null, 2))}</pre></details></section>
</body></html>
`;
  return { html, svgs };
}

/** One report table as HTML, numbers formatted per column. */
function tableHtml(t: Table): string {
  const cells = formatColumns(t.rows);
  const out = [`<table id="${esc(t.id)}"><caption><b>${esc(t.title)}.</b>${t.caption === undefined ? '' : ' ' + esc(t.caption)}</caption>`];
  out.push(`<thead><tr>${t.columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>`);
  t.rows.forEach((r, i) => out.push(`<tr>${r.map((v, j) => `<td class="${typeof v === 'number' ? 'num' : ''}">${esc(cells[i]?.[j] ?? '')}</td>`).join('')}</tr>`));
  out.push('</tbody></table>');
  return out.join('');
}
