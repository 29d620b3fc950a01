import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { BasisError } from '@basis/tensor';

/** A Vega-Lite specification (JSON). */
export type VegaLiteSpec = TopLevelSpec;

/** One figure of a report: its Vega-Lite spec and the data behind it. */
export interface Figure {
  /** File-safe id (`interpolation-loss`), used for the .svg/.json/.csv files. */
  id: string;
  title: string;
  /** What the figure shows and how to read it. */
  caption: string;
  spec: VegaLiteSpec;
  /** Rows of the figure's data (also written as CSV). */
  rows: Array<Record<string, string | number | boolean | null>>;
}

/** A table of a report. */
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
  /** The exact configuration and versions (shown verbatim at the end). */
  config: Record<string, unknown>;
}

const BASE = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: { font: 'system-ui, sans-serif', view: { stroke: null } } } as const;

/**
 * Line chart of one or more series: `rows` have `x`, `y` and `series` fields (and optional
 * `lo`/`hi` for a confidence band).
 *
 * @example
 * ```ts
 * const spec = lineChart(rows, { x: 'λ', y: 'test loss', title: 'Interpolation' });
 * ```
 */
export function lineChart(rows: Figure['rows'], opts: { x: string; y: string; title?: string; width?: number; height?: number; band?: boolean }): VegaLiteSpec {
  const layers: unknown[] = [];
  if (opts.band === true) {
    layers.push({ mark: { type: 'area', opacity: 0.2 }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color: { field: 'series', type: 'nominal' } } });
  }
  layers.push({
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: opts.x },
      y: { field: 'y', type: 'quantitative', title: opts.y, scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
      tooltip: [{ field: 'series' }, { field: 'x' }, { field: 'y', format: '.4f' }],
    },
  });
  return { ...BASE, ...(opts.title === undefined ? {} : { title: opts.title }), width: opts.width ?? 360, height: opts.height ?? 220, data: { values: rows }, layer: layers } as VegaLiteSpec;
}

/**
 * Heatmap of a layer x layer matrix: `rows` have `a` (row layer), `b` (column layer) and `value`.
 *
 * @example
 * ```ts
 * heatmap(rows, { title: 'cka.linear', a: 'model A', b: 'model B' });
 * ```
 */
export function heatmap(rows: Figure['rows'], opts: { a: string; b: string; title?: string; domain?: [number, number]; order?: string[] }): VegaLiteSpec {
  const sort = opts.order ?? null;
  return {
    ...BASE,
    ...(opts.title === undefined ? {} : { title: opts.title }),
    data: { values: rows },
    width: { step: 34 },
    height: { step: 34 },
    layer: [
      {
        mark: 'rect',
        encoding: {
          x: { field: 'b', type: 'ordinal', title: opts.b, sort },
          y: { field: 'a', type: 'ordinal', title: opts.a, sort },
          color: { field: 'value', type: 'quantitative', scale: { scheme: 'viridis', ...(opts.domain === undefined ? {} : { domain: opts.domain }) }, title: null },
          tooltip: [{ field: 'a' }, { field: 'b' }, { field: 'value', format: '.4f' }],
        },
      },
      { mark: { type: 'text', fontSize: 9 }, encoding: { x: { field: 'b', type: 'ordinal', sort }, y: { field: 'a', type: 'ordinal', sort }, text: { field: 'value', format: '.2f' }, color: { value: 'white' } } },
    ],
  } as VegaLiteSpec;
}

/**
 * Grouped bar chart: `rows` have `group`, `series` and `value`.
 *
 * @example
 * ```ts
 * barChart(rows, { x: 'method', y: 'loss barrier' });
 * ```
 */
export function barChart(rows: Figure['rows'], opts: { x: string; y: string; title?: string }): VegaLiteSpec {
  return {
    ...BASE,
    ...(opts.title === undefined ? {} : { title: opts.title }),
    data: { values: rows },
    width: 360,
    height: 200,
    mark: 'bar',
    encoding: {
      x: { field: 'group', type: 'nominal', title: opts.x, axis: { labelAngle: 0 } },
      xOffset: { field: 'series' },
      y: { field: 'value', type: 'quantitative', title: opts.y },
      color: { field: 'series', type: 'nominal', title: null },
      tooltip: [{ field: 'group' }, { field: 'series' }, { field: 'value', format: '.4f' }],
    },
  } as VegaLiteSpec;
}

/**
 * Renders a Vega-Lite spec to an SVG string, headless (no browser, no canvas, no network).
 *
 * @example
 * ```ts
 * const svg = await renderSvg(lineChart(rows, { x: 'λ', y: 'loss' }));
 * ```
 */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  let view: vega.View;
  try {
    view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  } catch (e) {
    throw new BasisError('CONFIG_INVALID', `invalid Vega-Lite spec: ${(e as Error).message}`);
  }
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
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

/** A figure's rows as CSV. */
export function figureCsv(f: Figure): string {
  const cols = [...new Set(f.rows.flatMap((r) => Object.keys(r)))];
  return toCsv(cols, f.rows.map((r) => cols.map((c) => r[c] ?? null)));
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(v: string | number | null): string {
  if (v === null) return '–';
  if (typeof v === 'string') return esc(v);
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : v.toFixed(4);
}

/**
 * Renders a report as one self-contained HTML page (inline SVG figures, tables, the
 * configuration; no scripts, fonts or network), and returns it with every figure's SVG so they
 * can be written beside it.
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
      parts.push(`<figure id="${esc(f.id)}" class="plot">${svg}<figcaption><b>${esc(f.title)}.</b> ${esc(f.caption)}</figcaption></figure>`);
    }
    for (const t of s.tables ?? []) {
      parts.push(`<table id="${esc(t.id)}"><caption><b>${esc(t.title)}.</b>${t.caption === undefined ? '' : ' ' + esc(t.caption)}</caption>`);
      parts.push(`<thead><tr>${t.columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>`);
      for (const r of t.rows) parts.push(`<tr>${r.map((v) => `<td class="${typeof v === 'number' ? 'num' : ''}">${fmt(v)}</td>`).join('')}</tr>`);
      parts.push('</tbody></table>');
    }
    parts.push('</section>');
  }
  const css = `body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}h1{margin-bottom:0}
.sub{color:#666;margin-top:.2em}section{margin:2em 0}figure{display:inline-block;margin:1em 1em 1em 0;vertical-align:top;max-width:100%}
figcaption{font-size:.85em;color:#444;max-width:460px}table{border-collapse:collapse;margin:1em 0;font-size:.9em}
caption{text-align:left;margin-bottom:.4em}th,td{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:.8em}`;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(report.title)}</title><style>${css}</style></head>
<body><h1>${esc(report.title)}</h1>${report.subtitle === undefined ? '' : `<p class="sub">${esc(report.subtitle)}</p>`}
${parts.join('\n')}
<section><h2>Configuration and versions</h2><pre>${esc(JSON.stringify(report.config, null, 2))}</pre></section>
</body></html>
`;
  return { html, svgs };
}
