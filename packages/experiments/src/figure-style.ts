// The one figure style of basis: every report (demo, reproductions, CLI HTML output), the docs
// gallery and the playground build their figures here, as Vega-Lite specs rendered to SVG.
//
// Rules the specs follow (and the visual tests in Chromium check on the rendered pages):
// - heatmaps: a fixed, labelled colour scale ([0, 1] for similarities, else a stated range shared by
//   the panels of one figure) with a colour bar of at least 5 labelled ticks;
// - one unit per axis: quantities of different units go to separate panels (`split`);
// - discrete axes for discrete positions (layers 1, 2, 3: never ticks at 1.4);
// - legends with full labels (no truncation), each entry showing the line's own colour and dash;
// - overlapping series stay visible (each series has its own dash and marker; series with identical
//   points are named in a note shown under the title and in the caption);
// - interval bands lighter than their lines, never in the legend as swatches.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { BasisError } from '@basis/tensor';

/** A Vega-Lite specification (JSON). */
export type VegaLiteSpec = TopLevelSpec;

/** Rows of a figure's data. */
export type FigureRows = Array<Record<string, string | number | boolean | null>>;

/** Series colours (Tableau 10, reordered so the first pairs contrast strongly). */
export const SERIES_COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'] as const;
/** Dash patterns, one per series (the first solid); combined with the colours, 30 series stay distinct. */
export const SERIES_DASHES: ReadonlyArray<readonly number[]> = [[1, 0], [7, 3], [2, 2], [9, 3, 2, 3], [4, 4], [12, 3, 2, 3, 2, 3]];
/** Marker shapes, one per series. */
export const SERIES_SHAPES = ['circle', 'square', 'triangle-up', 'diamond', 'cross', 'triangle-down', 'triangle-left', 'triangle-right'] as const;
/** Opacity of interval bands (lighter than their lines, which are drawn opaque on top). */
export const BAND_OPACITY = 0.14;
/** Minimum number of labelled ticks on a heatmap's colour bar. */
export const COLOUR_BAR_TICKS = 5;

/** Arial's metrics (Liberation Sans on Linux, Helvetica on macOS): the headless renderer measures text with them. */
const FONT = 'Arial, "Liberation Sans", Helvetica, sans-serif';

// Advance widths (1/1000 em) of Arial/Helvetica for the printable ASCII characters 32..126.
const ARIAL_WIDTHS = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833,
  722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260,
  334, 584,
];

/**
 * Width of `text` in Arial at `fontSize` px (bold about 7 % wider): what a browser draws, within a
 * few per cent. Vega's own estimate without a canvas (0.8 em per character) is 40-60 % too wide,
 * which pushed axis titles far from their labels in the headless SVGs.
 */
export function textWidth(text: string, fontSize: number, bold = false): number {
  let w = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    w += c >= 32 && c <= 126 ? (ARIAL_WIDTHS[c - 32] as number) : 556;
  }
  return (w / 1000) * fontSize * (bold ? 1.07 : 1);
}

// Headless (Node, no canvas): measure text with Arial's metrics instead of Vega's rough estimate.
// In a browser Vega measures on a canvas and this is left alone.
if (typeof (globalThis as { document?: unknown }).document === 'undefined') {
  (vega as unknown as { textMetrics: { width: (item: { fontSize?: number; fontWeight?: string | number }, text: string | string[] | number | null | undefined) => number } }).textMetrics.width = (item, text) => {
    const size = typeof item.fontSize === 'number' ? item.fontSize : 11;
    const bold = item.fontWeight === 'bold' || (typeof item.fontWeight === 'number' && item.fontWeight >= 600);
    return textWidth(Array.isArray(text) ? text.join(' ') : String(text ?? ''), size, bold);
  };
}

/** The shared Vega-Lite config: font, sizes, no truncated labels anywhere. */
export const STYLE_CONFIG = {
  font: FONT,
  view: { stroke: null },
  title: { fontSize: 13, subtitleFontSize: 11, subtitleColor: '#555', anchor: 'start', offset: 8 },
  axis: { labelFontSize: 11, titleFontSize: 12, labelLimit: 0, titlePadding: 6 },
  legend: { labelFontSize: 11, titleFontSize: 11, labelLimit: 0, titleLimit: 0 },
  header: { labelFontSize: 12, labelLimit: 0 },
} as const;

const BASE = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: STYLE_CONFIG, background: 'white', padding: 8 } as const;

/** Column titles (with units) of a figure's data fields (`usermeta.basis.fields`): the figure's CSV header uses them. */
export function specFields(spec: VegaLiteSpec): Record<string, string> {
  const f = (spec as { usermeta?: { basis?: { fields?: unknown } } }).usermeta?.basis?.fields;
  if (f === null || typeof f !== 'object') return {};
  return Object.fromEntries(Object.entries(f as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** Notes a style function attaches to a spec (`usermeta.basis.notes`); reports append them to the caption. */
export function specNotes(spec: VegaLiteSpec): string[] {
  const meta = (spec as { usermeta?: { basis?: { notes?: unknown } } }).usermeta?.basis?.notes;
  return Array.isArray(meta) ? meta.filter((n): n is string => typeof n === 'string') : [];
}

function seriesOf(rows: FigureRows): string[] {
  const out: string[] = [];
  for (const r of rows) {
    const s = r['series'];
    if (s !== undefined && s !== null && !out.includes(String(s))) out.push(String(s));
  }
  return out;
}

function checkRows(rows: FigureRows, what: string, fields: readonly string[]): void {
  if (!Array.isArray(rows) || rows.length === 0) throw new BasisError('CONFIG_INVALID', `${what}: rows must be a non-empty array`);
  rows.forEach((r, i) => {
    if (r === null || typeof r !== 'object') throw new BasisError('CONFIG_INVALID', `${what}: rows[${i}] is not an object`);
    for (const f of fields) if (!(f in r)) throw new BasisError('CONFIG_INVALID', `${what}: rows[${i}] lacks the field '${f}'`);
  });
}

/** Whether x positions are discrete indices (integers, few, close together): drawn on a discrete axis. */
export function isDiscreteAxis(xs: ReadonlyArray<unknown>): boolean {
  const nums = xs.filter((x): x is number => typeof x === 'number');
  if (nums.length !== xs.length || nums.length === 0) return xs.length > 0 && nums.length === 0;
  if (!nums.every(Number.isInteger)) return false;
  const distinct = [...new Set(nums)];
  return distinct.length <= 12 && Math.max(...distinct) - Math.min(...distinct) <= 24;
}

/** Groups of series whose points are identical (each group has two or more names). */
export function coincidentSeries(rows: FigureRows): string[][] {
  const byKey = new Map<string, string[]>();
  for (const s of seriesOf(rows)) {
    const pts = rows
      .filter((r) => String(r['series']) === s)
      .map((r) => `${String(r['x'])}:${String(r['y'])}`)
      .sort()
      .join('|');
    byKey.set(pts, [...(byKey.get(pts) ?? []), s]);
  }
  return [...byKey.values()].filter((g) => g.length > 1);
}

function legendFor(n: number, symbol: 'stroke' | 'square'): Record<string, unknown> {
  return {
    title: null,
    orient: 'bottom',
    direction: 'vertical',
    columns: n > 4 ? 2 : 1,
    labelLimit: 0,
    symbolType: symbol,
    ...(symbol === 'stroke' ? { symbolStrokeWidth: 2.5, symbolSize: 420 } : {}),
    // swatches at full strength (an interval band's opacity must not pale them)
    symbolOpacity: 1,
    encode: { symbols: { update: { opacity: { value: 1 } } } },
    columnPadding: 18,
  };
}

/** Colour, dash and marker scales of the series, in order of first appearance. */
function seriesScales(series: readonly string[]): { colour: Record<string, unknown>; dash: Record<string, unknown>; shape: Record<string, unknown> } {
  return {
    colour: { domain: series, range: series.map((_, i) => SERIES_COLOURS[i % SERIES_COLOURS.length]) },
    dash: { domain: series, range: series.map((_, i) => SERIES_DASHES[i % SERIES_DASHES.length]) },
    shape: { domain: series, range: series.map((_, i) => SERIES_SHAPES[i % SERIES_SHAPES.length]) },
  };
}

/**
 * Whether series go to separate panels: when asked (`split`), or when the value axis has no unit of
 * its own (titled just `value`), since its series then name different quantities.
 */
function splitBySeries(opts: { y: string; split?: boolean }, series: readonly string[]): boolean {
  return series.length > 1 && (opts.split ?? opts.y.trim().toLowerCase() === 'value');
}

/**
 * Pairs of series that nearly coincide: the same x positions, and at every one of them values closer
 * than `tol` times the range of all y values (but not identical: see {@link coincidentSeries}).
 */
export function nearlyCoincidentSeries(rows: FigureRows, tol = 0.01): Array<[string, string]> {
  const ys = rows.map((r) => r['y']).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const span = ys.length > 0 ? Math.max(...ys) - Math.min(...ys) : 0;
  if (!(span > 0)) return [];
  const bySeries = new Map<string, Map<string, number>>();
  for (const r of rows) {
    if (typeof r['y'] !== 'number') continue;
    const s = String(r['series']);
    if (!bySeries.has(s)) bySeries.set(s, new Map());
    bySeries.get(s)!.set(String(r['x']), r['y']);
  }
  const names = [...bySeries.keys()];
  const out: Array<[string, string]> = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const a = bySeries.get(names[i]!)!;
      const b = bySeries.get(names[j]!)!;
      if (a.size !== b.size || a.size === 0) continue;
      let max = 0;
      let same = true;
      for (const [x, v] of a) {
        const w = b.get(x);
        if (w === undefined) {
          same = false;
          break;
        }
        max = Math.max(max, Math.abs(v - w));
      }
      if (same && max > 0 && max < tol * span) out.push([names[i]!, names[j]!]);
    }
  }
  return out;
}

/** Options of {@link lineChart}. */
export interface LineChartOptions {
  /** x axis title, with its unit. */
  x: string;
  /** y axis title, with its unit (one unit per axis: use `split` for series of different units). */
  y: string;
  title?: string;
  width?: number;
  height?: number;
  /** Draw `lo`/`hi` as a light interval band under each line (name the interval in the caption). */
  band?: boolean;
  /** One panel per series, each with its own y axis titled by the series name (series of different units); default: when `y` is just `value`. */
  split?: boolean;
  /** Force a discrete (true) or continuous (false) x axis; default: discrete for few integer positions. */
  discrete?: boolean;
}

/**
 * Line chart of one or more series: `rows` have `x`, `y` and `series` fields (and optional
 * `lo`/`hi` for a confidence band). Each series gets its own colour, dash pattern and marker;
 * series with identical points are named in a note under the title (and in the report caption).
 *
 * @example
 * ```ts
 * const spec = lineChart(rows, { x: 'λ', y: 'test loss', title: 'Interpolation' });
 * ```
 */
export function lineChart(rows: FigureRows, opts: LineChartOptions): VegaLiteSpec {
  checkRows(rows, 'lineChart', ['x', 'y']);
  const series = seriesOf(rows);
  const discrete = opts.discrete ?? isDiscreteAxis(rows.map((r) => r['x']));
  const width = opts.width ?? 380;
  const height = opts.height ?? 230;
  const notes: string[] = [];
  for (const g of coincidentSeries(rows)) notes.push(`${g.join(' and ')} coincide (identical values, lines drawn on top of each other)`);
  for (const [a, b] of nearlyCoincidentSeries(rows)) notes.push(`${a} and ${b} nearly coincide (within 1 % of the axis range; their lines overlap)`);
  const x = discrete
    ? { field: 'x', type: 'ordinal', title: opts.x, sort: 'ascending', axis: { labelAngle: 0 }, scale: { type: 'point', padding: 0.4 } }
    : { field: 'x', type: 'quantitative', title: opts.x, scale: { zero: false, nice: false } };
  const tooltip = [...(series.length > 0 ? [{ field: 'series', title: 'series' }] : []), { field: 'x', title: opts.x }, { field: 'y', title: opts.y, format: '.4~g' }];
  const panel = (name: string | null, ser: readonly string[]): Record<string, unknown> => {
    const sc = seriesScales(series);
    const one = ser.length <= 1;
    // every layer encodes colour with the same legend (a legend set to null in one layer would drop it
    // for all); the legend shows the line's colour and dash (strokeDash is on the line layer only)
    const colour = one
      ? { value: SERIES_COLOURS[Math.max(0, series.indexOf(ser[0] ?? ''))] }
      : { field: 'series', type: 'nominal', title: null, scale: sc.colour, legend: legendFor(ser.length, 'stroke') };
    const dash = one ? { value: [1, 0] } : { field: 'series', type: 'nominal', title: null, scale: sc.dash, legend: legendFor(ser.length, 'stroke') };
    const noLegend = colour;
    const y = { field: 'y', type: 'quantitative', title: name ?? opts.y, scale: { zero: false } };
    const layers: unknown[] = [];
    if (opts.band === true) {
      layers.push({ mark: { type: 'area', opacity: BAND_OPACITY }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: name ?? opts.y }, y2: { field: 'hi' }, color: noLegend, detail: { field: 'series' } } });
    }
    layers.push({ mark: { type: 'line', strokeWidth: 2 }, encoding: { x, y, color: colour, strokeDash: dash } });
    layers.push({ mark: { type: 'point', filled: true, size: 30, opacity: 1 }, encoding: { x, y, color: noLegend, tooltip } });
    return {
      width,
      height,
      ...(name === null ? {} : { transform: [{ filter: { field: 'series', equal: name } }] }),
      layer: layers,
    };
  };
  // the notes go under the title (or in its place, in the subtitle's style, when the figure has none)
  const title =
    opts.title !== undefined
      ? { title: { text: opts.title, ...(notes.length > 0 ? { subtitle: notes } : {}) } }
      : notes.length > 0
        ? { title: { text: notes, fontSize: 11, fontWeight: 'normal', color: '#555' } }
        : {};
  const common = { ...BASE, ...title, data: { values: rows }, usermeta: { basis: { kind: 'line', notes, band: opts.band === true, fields: { x: opts.x, y: opts.y, lo: `${opts.y}: interval low`, hi: `${opts.y}: interval high` } } } };
  if (splitBySeries(opts, series)) {
    return { ...common, hconcat: series.map((s) => panel(s, [s])), resolve: { scale: { y: 'independent' } } } as unknown as VegaLiteSpec;
  }
  return { ...common, ...panel(null, series) } as unknown as VegaLiteSpec;
}

/** Options of {@link heatmap}. */
export interface HeatmapOptions {
  /** Title of the row axis (model A's layers). */
  a: string;
  /** Title of the column axis (model B's layers). */
  b: string;
  title?: string;
  /** Colour scale range; default [0, 1] when every value lies in it, else [-1, 1], else the data's range rounded outwards. Pass the same range to every panel of one figure. */
  domain?: [number, number];
  /** Order of the layers on both axes. */
  order?: string[];
  /** Title of the colour bar (what the colour encodes). */
  label?: string;
}

/** The default colour range of a heatmap: [0, 1], [-1, 1], or the data's range rounded outwards. */
export function heatmapDomain(values: readonly number[]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  if (lo >= 0 && hi <= 1) return [0, 1];
  if (lo >= -1 && hi <= 1) return [-1, 1];
  const span = hi > lo ? hi - lo : Math.max(1, Math.abs(hi));
  const step = 10 ** (Math.floor(Math.log10(span)) - 1);
  const a = Math.floor(lo / step) * step;
  const b = Math.ceil(hi / step) * step;
  return b > a ? [a, b] : [a - step, a + step];
}

/** `n` evenly spaced tick values over `domain` (both ends included), rounded for display. */
export function colourBarTicks(domain: readonly [number, number], n = COLOUR_BAR_TICKS): number[] {
  const [lo, hi] = domain;
  return Array.from({ length: n }, (_, i) => Number((lo + ((hi - lo) * i) / (n - 1)).toPrecision(6)));
}

/**
 * Heatmap of a layer x layer matrix: `rows` have `a` (row layer), `b` (column layer) and `value`.
 * The colour scale is fixed (see {@link HeatmapOptions.domain}) and labelled with a colour bar of
 * at least five ticks; values outside it are clamped (and still printed in their cells).
 *
 * @example
 * ```ts
 * heatmap(rows, { title: 'cka.linear', a: 'model A', b: 'model B' }); // scale [0, 1]
 * ```
 */
export function heatmap(rows: FigureRows, opts: HeatmapOptions): VegaLiteSpec {
  checkRows(rows, 'heatmap', ['a', 'b', 'value']);
  const values = rows.map((r) => r['value']).filter((v): v is number => typeof v === 'number');
  const domain = opts.domain ?? heatmapDomain(values);
  if (!(Number.isFinite(domain[0]) && Number.isFinite(domain[1]) && domain[1] > domain[0])) throw new BasisError('CONFIG_INVALID', `heatmap: domain must be two finite numbers, low < high, got [${String(domain[0])}, ${String(domain[1])}]`);
  const sort = opts.order ?? null;
  const n = Math.max(new Set(rows.map((r) => String(r['a']))).size, 1);
  const step = 34;
  const ticks = colourBarTicks(domain, COLOUR_BAR_TICKS);
  // viridis is light at its top: dark text on the upper 40 %, white below
  const light = domain[0] + 0.6 * (domain[1] - domain[0]);
  const shown = (v: number): string => String(Number(v.toPrecision(3)));
  const range = `${shown(domain[0])}–${shown(domain[1])}`;
  const notes = [`Colour scale fixed at [${shown(domain[0])}, ${shown(domain[1])}].`];
  return {
    ...BASE,
    ...(opts.title === undefined ? {} : { title: { text: opts.title, subtitle: `colour scale ${range}` } }),
    data: { values: rows },
    usermeta: { basis: { kind: 'heatmap', domain, notes, fields: { a: opts.a, b: opts.b, value: opts.label ?? 'value' } } },
    width: { step },
    height: { step },
    encoding: {
      // every layer is labelled (never thinned out): rotated column labels, one per cell
      x: { field: 'b', type: 'ordinal', title: opts.b, sort, axis: { labelAngle: -40, labelAlign: 'right', labelBaseline: 'top', titlePadding: 4, labelOverlap: false } },
      y: { field: 'a', type: 'ordinal', title: opts.a, sort, axis: { labelOverlap: false } },
    },
    layer: [
      {
        mark: 'rect',
        encoding: {
          color: {
            field: 'value',
            type: 'quantitative',
            title: opts.label ?? 'value',
            scale: { scheme: 'viridis', domain, clamp: true },
            legend: { values: ticks, format: '.3~g', gradientLength: Math.max(150, n * step), labelLimit: 0, titleLimit: 0, tickCount: ticks.length },
          },
          tooltip: [{ field: 'a', title: opts.a }, { field: 'b', title: opts.b }, { field: 'value', format: '.4f' }],
        },
      },
      {
        mark: { type: 'text', fontSize: 9 },
        encoding: {
          text: { field: 'value', format: '.2f' },
          color: { condition: { test: `datum.value >= ${light}`, value: '#111' }, value: 'white' },
        },
      },
    ],
  } as VegaLiteSpec;
}

/** Options of {@link barChart}. */
export interface BarChartOptions {
  /** Title of the group axis. */
  x: string;
  /** Title of the value axis, with its unit (one unit per axis: use `split` for series of different units). */
  y: string;
  title?: string;
  /** One panel per series, each with its own value axis titled by the series name (series of different units); default: when `y` is just `value`. */
  split?: boolean;
  width?: number;
}

/**
 * Grouped bar chart: `rows` have `group`, `series` and `value`. With `split`, every series gets
 * its own panel and value axis (e.g. a loss barrier and an error barrier, which have different units).
 *
 * @example
 * ```ts
 * barChart(rows, { x: 'method', y: 'barrier', split: true });
 * ```
 */
export function barChart(rows: FigureRows, opts: BarChartOptions): VegaLiteSpec {
  checkRows(rows, 'barChart', ['group', 'value']);
  const series = seriesOf(rows);
  const sc = seriesScales(series);
  const x = { field: 'group', type: 'nominal', title: opts.x, sort: null, axis: { labelAngle: 0, labelLimit: 0, labelOverlap: false } };
  // wide enough that every group label fits under its bars (none is thinned out)
  const groups = [...new Set(rows.map((r) => String(r['group'])))];
  const fit = groups.length * (Math.max(...groups.map((g) => textWidth(g, 11))) + 14);
  const tooltip = [{ field: 'group', title: opts.x }, ...(series.length > 0 ? [{ field: 'series' }] : []), { field: 'value', format: '.4~g' }];
  const common = { ...BASE, ...(opts.title === undefined ? {} : { title: opts.title }), data: { values: rows }, usermeta: { basis: { kind: 'bar', notes: [], fields: { group: opts.x, value: opts.y } } } };
  if (splitBySeries(opts, series)) {
    return {
      ...common,
      hconcat: series.map((s, i) => ({
        width: Math.max(opts.width ?? 220, Math.ceil(fit)),
        height: 200,
        transform: [{ filter: { field: 'series', equal: s } }],
        mark: 'bar',
        encoding: { x, y: { field: 'value', type: 'quantitative', title: s }, color: { value: SERIES_COLOURS[i % SERIES_COLOURS.length] }, tooltip },
      })),
      resolve: { scale: { y: 'independent' } },
    } as VegaLiteSpec;
  }
  return {
    ...common,
    width: Math.max(opts.width ?? 380, Math.ceil(fit)),
    height: 210,
    mark: 'bar',
    encoding: {
      x,
      ...(series.length > 1 ? { xOffset: { field: 'series', sort: series } } : {}),
      y: { field: 'value', type: 'quantitative', title: opts.y },
      color: series.length > 0 ? { field: 'series', type: 'nominal', title: null, scale: sc.colour, legend: series.length > 1 ? legendFor(series.length, 'square') : null } : { value: SERIES_COLOURS[0] },
      tooltip,
    },
  } as VegaLiteSpec;
}

/**
 * Renders a Vega-Lite spec to an SVG string, headless (no browser, no canvas, no network); works
 * in Node and in the browser (the playground).
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
