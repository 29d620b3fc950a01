// The figure style in a real browser: a report holding one figure of every kind, built from the
// situations that went wrong in the reports (issue 19: E002-1's nine series with long names and
// bands over three layers, the demo's coinciding interpolation curves, similarity heatmaps between
// 0.51 and 0.62, loss and error barriers), opened in headless Chromium and checked by
// `figureProblems` (no clipped or truncated text, no hidden series, colour bars with 5+ ticks,
// legends showing each line's colour and dash, light bands named in the caption). A page drawn the
// old way is checked too, so the checks themselves are known to fail when they should.
// Screenshots: test-artifacts/experiments/. Skipped, saying why, when no Chromium is installed.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactDir, figureProblems, findChromium, launchChromium, openPage, serveDirectory, type StaticServer } from '@basis/test-utils/browser';
import { barChart, heatmap, lineChart, renderReport, renderSvg, type Figure, type VegaLiteSpec } from './report.js';

const chromium = findChromium();
if (chromium === undefined) console.warn('report.visual.test: skipped, no Chromium (apt-get install -y chromium, or set BASIS_CHROMIUM)');

const SERIES = ['linear.cv', 'procrustes.cv', 'permutation.cv', 'linear.cv (untrained)', 'procrustes.cv (untrained)', 'permutation.cv (untrained)', 'softmatch', 'softmatch (untrained)', 'permutation.cv chance (rotated basis)'];
const hierarchy = SERIES.flatMap((series, k) => [1, 2, 3].map((x) => ({ x, y: 0.2 + 0.07 * k + 0.01 * x, lo: 0.18 + 0.07 * k, hi: 0.24 + 0.07 * k + 0.01 * x, series })));
const curves = ['naive', 'weight matching', 'activation matching'].flatMap((series, k) => Array.from({ length: 11 }, (_, i) => ({ x: i / 10, y: k === 0 ? 0.1 + 1.6 * (i / 10) * (1 - i / 10) : 0.1 + 0.05 * Math.sin(Math.PI * (i / 10)), series })));
const layers = ['dense0 (pre)', 'relu0 (post)', 'dense1 (pre)', 'relu1 (post)', 'logits (pre)'];
const heat = layers.flatMap((a, i) => layers.map((b, j) => ({ a, b, value: 0.51 + (0.11 * ((i * 5 + j) % 7)) / 6 })));
const barriers = ['naive', 'weight matching', 'activation matching'].flatMap((group, k) => [
  { group, series: 'loss barrier (cross-entropy)', value: [0.41, 0.03, 0.03][k]! },
  { group, series: 'error barrier (error rate)', value: [0.02, 0.001, 0.001][k]! },
]);

const figures: Figure[] = [
  { id: 'hierarchy', title: 'Alignment across the hierarchy', caption: 'Nine series over three layers; bands: 95% t intervals over pairs.', spec: lineChart(hierarchy, { x: 'layer (1 = first hidden)', y: 'score', band: true }), rows: hierarchy },
  { id: 'curves', title: 'Test loss along the linear path', caption: 'λ = 0 is model A, λ = 1 model B.', spec: lineChart(curves, { x: 'λ (0 = model A, 1 = model B)', y: 'test loss (cross-entropy)' }), rows: curves },
  { id: 'heatmap', title: 'cka.linear', caption: 'Every layer of A against every layer of B.', spec: heatmap(heat, { a: 'model A layer', b: 'model B layer', title: 'cka.linear', order: layers, label: 'similarity' }), rows: heat },
  { id: 'barriers', title: 'Barriers', caption: 'Loss and error in separate panels.', spec: barChart(barriers, { x: 'path', y: 'barrier', split: true }), rows: barriers },
];

/** The same situations drawn the old way: truncated legend labels, per-plot colour range with two ticks, a line hidden under another. */
async function oldStylePage(): Promise<string> {
  const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: { legend: { labelLimit: 60 } } };
  const line = await renderSvg({ ...base, width: 300, height: 200, data: { values: [...hierarchy, ...curves.filter((c) => c.series !== 'naive').map((c) => ({ ...c, series: c.series === 'weight matching' ? 'activation matching' : 'weight matching' }))] }, layer: [{ mark: { type: 'area', opacity: 0.9 }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color: { field: 'series', type: 'nominal' } } }, { mark: 'line', encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, color: { field: 'series', type: 'nominal' } } }] } as unknown as VegaLiteSpec);
  const heatOld = await renderSvg({ ...base, data: { values: heat }, mark: 'rect', encoding: { x: { field: 'b', type: 'ordinal' }, y: { field: 'a', type: 'ordinal' }, color: { field: 'value', type: 'quantitative', legend: { tickCount: 2, values: [0.55, 0.6] } } } } as unknown as VegaLiteSpec);
  return `<!doctype html><html><body><figure id="old-line" class="plot">${line}<figcaption>Old line chart.</figcaption></figure><figure id="old-heatmap" class="plot">${heatOld}<figcaption>Old heatmap.</figcaption></figure></body></html>`;
}

let dir: string;
let server: StaticServer;
let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'basis-style-'));
  const { html } = await renderReport({ title: 'The figure style: one of every kind', subtitle: 'visual test', sections: [{ heading: 'Figures', figures }], config: { seed: 0 } });
  await writeFile(join(dir, 'style.html'), html);
  await writeFile(join(dir, 'old.html'), await oldStylePage());
  server = await serveDirectory(dir);
  if (chromium !== undefined) browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(chromium === undefined)('figures in Chromium', () => {
  it('every figure of the style passes the visual checks, with no console errors', async () => {
    const { page, errors } = await openPage(browser!, `${server.url}/style.html`);
    expect(await page.locator('figure.plot svg').count()).toBe(figures.length);
    expect(await figureProblems(page)).toEqual([]);
    // the legend of the nine series shows every name in full
    const legend = await page.$$eval('#hierarchy .role-legend-label text', (ts) => ts.map((t) => t.textContent));
    expect(legend).toEqual(expect.arrayContaining(SERIES));
    await page.screenshot({ path: join(await artifactDir('experiments'), 'style-sheet.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the checks catch the old defects: truncated legend, a 2-tick colour bar, a hidden series, opaque bands', async () => {
    const { page } = await openPage(browser!, `${server.url}/old.html`);
    const problems = await figureProblems(page);
    expect(problems.some((p) => /old-line: label ".*…" is truncated/.test(p))).toBe(true);
    expect(problems.some((p) => /old-heatmap: colour bar with 2 labelled tick\(s\)/.test(p))).toBe(true);
    expect(problems.some((p) => /old-line: 1 line\(s\) hidden under another/.test(p))).toBe(true);
    expect(problems.some((p) => /old-line: \d+ interval band\(s\) as opaque as a line/.test(p))).toBe(true);
    expect(problems.some((p) => /old-line: interval bands not named in the caption/.test(p))).toBe(true);
    await page.close();
  });
});
