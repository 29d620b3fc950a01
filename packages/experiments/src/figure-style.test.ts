// The one figure style, checked on the rendered SVG (headless Vega, no browser): each test is one
// of the defects found in the reports (issue 19) and would have caught it.
import { describe, expect, it } from 'vitest';
import { BasisError } from '@basis/tensor';
import { BAND_OPACITY, barChart, coincidentSeries, nearlyCoincidentSeries, colourBarTicks, heatmap, heatmapDomain, isDiscreteAxis, lineChart, renderSvg, specNotes, type FigureRows } from './figure-style.js';

/** Texts of the SVG elements of one Vega role (axis-label, legend-label, axis-title, ...). */
function texts(svg: string, role: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`<g class="mark-text role-${role}"[^>]*>([\\s\\S]*?)</g>`, 'g');
  for (const m of svg.matchAll(re)) for (const t of (m[1] as string).matchAll(/<text[^>]*>([^<]*)<\/text>/g)) out.push(t[1] as string);
  return out;
}

/** A heatmap like the demo's: similarities between 0.51 and 0.62. */
const narrow: FigureRows = ['l1', 'l2', 'l3'].flatMap((a, i) => ['l1', 'l2', 'l3'].map((b, j) => ({ a, b, value: 0.51 + 0.11 * ((i * 3 + j) / 8) })));

/** E002-1's figure: 3 discrete layers, 9 series with long names and bands. */
const hierarchy: FigureRows = ['linear.cv', 'procrustes.cv', 'permutation.cv', 'linear.cv (untrained)', 'procrustes.cv (untrained)', 'permutation.cv (untrained)', 'softmatch', 'softmatch (untrained)', 'permutation.cv chance (rotated basis)'].flatMap((series, k) =>
  [1, 2, 3].map((x) => ({ x, y: 0.2 + 0.07 * k + 0.01 * x, lo: 0.18 + 0.07 * k, hi: 0.24 + 0.07 * k + 0.01 * x, series })),
);

describe('heatmaps', () => {
  it('use a fixed [0, 1] scale for similarities, not the data range (0.51–0.62 drawn purple to yellow)', async () => {
    expect(heatmapDomain(narrow.map((r) => r['value'] as number))).toEqual([0, 1]);
    const svg = await renderSvg(heatmap(narrow, { a: 'model A layer', b: 'model B layer', title: 'cka.linear' }));
    expect(texts(svg, 'legend-label')).toEqual(['0', '0.25', '0.5', '0.75', '1']);
    expect(svg).toContain('colour scale 0–1');
  });

  it('have a colour bar with at least 5 ticks, also on a stated shared range', async () => {
    const svg = await renderSvg(heatmap(narrow.map((r) => ({ ...r, value: 3 * (r['value'] as number) })), { a: 'A', b: 'B', domain: [0, 2], label: 'distance' }));
    expect(texts(svg, 'legend-label').length).toBeGreaterThanOrEqual(5);
    expect(specNotes(heatmap(narrow, { a: 'A', b: 'B', domain: [0, 2] }))[0]).toBe('Colour scale fixed at [0, 2].');
    expect(colourBarTicks([-1, 1])).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(heatmapDomain([-0.2, 0.9])).toEqual([-1, 1]);
    expect(heatmapDomain([3.2, 17.9])).toEqual([3, 18]);
  });

  it('reject rows without their fields and an empty or inverted range', () => {
    expect(() => heatmap([], { a: 'A', b: 'B' })).toThrow(BasisError);
    expect(() => heatmap([{ a: 'x', b: 'y' }], { a: 'A', b: 'B' })).toThrow(/lacks the field 'value'/);
    expect(() => heatmap(narrow, { a: 'A', b: 'B', domain: [1, 0] })).toThrow(/low < high/);
  });
});

describe('line charts', () => {
  it('draw discrete layers on a discrete axis (no ticks at 1.4, 1.8, 2.2)', async () => {
    expect(isDiscreteAxis([1, 2, 3])).toBe(true);
    expect(isDiscreteAxis([0, 0.1, 0.2])).toBe(false);
    expect(isDiscreteAxis([16, 32, 64, 128, 256])).toBe(false);
    const svg = await renderSvg(lineChart(hierarchy, { x: 'layer (1 = first hidden)', y: 'score', band: true }));
    const labels = texts(svg, 'axis-label');
    expect(labels.filter((l) => /^\d+(\.\d+)?$/.test(l) && Number(l) >= 1 && Number(l) <= 3)).toEqual(['1', '2', '3']);
  });

  it('show every legend label in full (no `linear.cv (untrain…`), with the line\'s own colour and dash', async () => {
    const spec = lineChart(hierarchy, { x: 'layer', y: 'score', band: true });
    const svg = await renderSvg(spec);
    const legend = texts(svg, 'legend-label');
    expect(legend).toContain('linear.cv (untrained)');
    expect(legend).toContain('permutation.cv chance (rotated basis)');
    expect(legend.some((l) => l.endsWith('…'))).toBe(false);
    // one swatch per series (bands add none), each a stroke with a dash pattern a line uses
    const swatches = [...svg.matchAll(/<g class="mark-symbol role-legend-symbol"[^>]*>([\s\S]*?)<\/g>/g)].flatMap((m) => [...(m[1] as string).matchAll(/<path[^>]*>/g)].map((p) => p[0]));
    expect(swatches).toHaveLength(9);
    const lineStyles = [...svg.matchAll(/<g class="mark-line role-mark[^"]*"[^>]*>([\s\S]*?)<\/g>/g)].flatMap((m) => [...(m[1] as string).matchAll(/<path[^>]*>/g)].map((p) => `${/ stroke="([^"]+)"/.exec(p[0])?.[1]}|${/stroke-dasharray="([^"]*)"/.exec(p[0])?.[1] ?? ''}`));
    for (const s of swatches) {
      const st = `${/ stroke="([^"]+)"/.exec(s)?.[1]}|${/stroke-dasharray="([^"]*)"/.exec(s)?.[1] ?? ''}`;
      expect(lineStyles).toContain(st);
    }
    expect(new Set(lineStyles).size).toBe(9);
  });

  it('bands are lighter than their lines', async () => {
    const svg = await renderSvg(lineChart(hierarchy.slice(0, 6), { x: 'layer', y: 'score', band: true }));
    const areas = [...svg.matchAll(/<g class="mark-area role-mark[^"]*"[^>]*>([\s\S]*?)<\/g>/g)].flatMap((m) => [...(m[1] as string).matchAll(/ opacity="([^"]+)"/g)].map((o) => Number(o[1])));
    expect(areas.length).toBeGreaterThan(0);
    for (const o of areas) expect(o).toBe(BAND_OPACITY);
  });

  it('name series that coincide (the weight-matching curve hidden under activation matching)', async () => {
    const rows: FigureRows = ['naive', 'weight matching', 'activation matching'].flatMap((series, k) => [0, 0.5, 1].map((x) => ({ x, y: k === 0 ? 1 + x * (1 - x) : 0.3, series })));
    expect(coincidentSeries(rows)).toEqual([['weight matching', 'activation matching']]);
    const spec = lineChart(rows, { x: 'λ', y: 'test loss' });
    expect(specNotes(spec)).toEqual(['weight matching and activation matching coincide (identical values, lines drawn on top of each other)']);
    const svg = await renderSvg(spec);
    expect(svg).toContain('weight matching and activation matching coincide');
    // and the two lines differ in dash, so both stay visible where they overlap
    const dashes = [...svg.matchAll(/<g class="mark-line role-mark[^"]*"[^>]*>([\s\S]*?)<\/g>/g)].flatMap((m) => [...(m[1] as string).matchAll(/<path[^>]*>/g)].map((p) => /stroke-dasharray="([^"]*)"/.exec(p[0])?.[1] ?? ''));
    expect(new Set(dashes).size).toBe(3);
  });

  it('name series that nearly coincide (E002-1: permutation.cv within 0.003 of softmatch)', () => {
    const rows: FigureRows = [1, 2, 3].flatMap((x) => [
      { x, y: 0.65 + 0.01 * x, series: 'permutation.cv' },
      { x, y: 0.652 + 0.01 * x, series: 'softmatch' },
      { x, y: 0.2, series: 'linear.cv (untrained)' },
    ]);
    expect(nearlyCoincidentSeries(rows)).toEqual([['permutation.cv', 'softmatch']]);
    expect(specNotes(lineChart(rows, { x: 'layer', y: 'score' }))).toEqual(['permutation.cv and softmatch nearly coincide (within 1 % of the axis range; their lines overlap)']);
  });

  it('rejects rows without x and y', () => {
    expect(() => lineChart([], { x: 'x', y: 'y' })).toThrow(BasisError);
    expect(() => lineChart([{ x: 1 }], { x: 'x', y: 'y' })).toThrow(/lacks the field 'y'/);
  });
});

describe('bar charts', () => {
  it('put quantities of different units in separate panels (loss 0.41 and error 0.02 on one axis)', async () => {
    const rows: FigureRows = ['naive', 'weight matching'].flatMap((group) => [
      { group, series: 'loss barrier (cross-entropy)', value: group === 'naive' ? 0.41 : 0.05 },
      { group, series: 'error barrier (error rate)', value: group === 'naive' ? 0.02 : 0.001 },
    ]);
    const svg = await renderSvg(barChart(rows, { x: 'path', y: 'barrier', split: true }));
    const titles = texts(svg, 'axis-title');
    expect(titles).toContain('loss barrier (cross-entropy)');
    expect(titles).toContain('error barrier (error rate)');
    expect(titles).not.toContain('barrier');
  });

  it('split series of a unit-less `value` axis into panels by default (recipes that plot alignment beside accuracy)', async () => {
    const rows: FigureRows = ['trained', 'random-init'].flatMap((group) => [
      { group, series: 'perm-corr above trunk', value: 0.6 },
      { group, series: 'identity-stitching accuracy kept', value: 0.97 },
    ]);
    const svg = await renderSvg(barChart(rows, { x: 'trunk', y: 'value' }));
    expect(texts(svg, 'axis-title')).toEqual(expect.arrayContaining(['perm-corr above trunk', 'identity-stitching accuracy kept']));
    expect(texts(svg, 'axis-title')).not.toContain('value');
    const line = await renderSvg(lineChart([0, 1].flatMap((x) => [{ x, y: 0.5, series: 'alignment' }, { x, y: 0.9, series: 'test accuracy' }]), { x: 'epoch', y: 'value' }));
    expect(texts(line, 'axis-title')).toEqual(expect.arrayContaining(['alignment', 'test accuracy']));
  });
});
