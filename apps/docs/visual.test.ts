// Visual checks in headless Chromium (issue 19): the demo report (re-rendered from the committed
// quick demo result with today's renderer), the docs home, the gallery (titles escaped exactly once,
// also after client-side navigation) and the CLI reference at 1400 px (no horizontal overflow).
// Every figure passes `figureProblems`; no console errors. Screenshots: test-artifacts/visual/.
// Needs the built site (`pnpm --filter docs build`; turbo builds it before the tests) and Chromium
// (skipped, saying so, when none is installed).
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport } from '@basis/experiments';
import { demoReport, type DemoResult } from '@basis/experiments/node';
import { artifactDir, figureProblems, findChromium, launchChromium, openPage, serveDirectory, type StaticServer } from '@basis/test-utils/browser';

const DOCS = dirname(fileURLToPath(import.meta.url));
const DIST = join(DOCS, '.vitepress', 'dist');
const chromium = findChromium();
if (chromium === undefined) console.warn('visual.test: skipped, no Chromium (apt-get install -y chromium, or set BASIS_CHROMIUM)');

let site: StaticServer;
let reports: StaticServer;
let reportDir: string;
let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
let shots: string;

beforeAll(async () => {
  if (chromium === undefined) return;
  if (!existsSync(join(DIST, 'index.html'))) throw new Error(`no built site in ${DIST}: run \`pnpm --filter docs build\` first (turbo runs it before this test)`);
  reportDir = await mkdtemp(join(tmpdir(), 'basis-visual-'));
  const demo = JSON.parse(readFileSync(join(DOCS, 'gallery-data', 'demo', 'result.json'), 'utf8')) as DemoResult;
  await writeFile(join(reportDir, 'demo.html'), (await renderReport(demoReport(demo))).html);
  site = await serveDirectory(DIST);
  reports = await serveDirectory(reportDir);
  browser = await launchChromium();
  shots = await artifactDir('visual');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await reports?.close();
  if (reportDir !== undefined) await rm(reportDir, { recursive: true, force: true });
});

describe.skipIf(chromium === undefined)('what a reader sees', () => {
  it('the demo report: every figure passes the visual checks, the subtitle is complete, the configuration is a table', async () => {
    const { page, errors } = await openPage(browser!, `${reports.url}/demo.html`);
    expect(await page.locator('figure.plot svg').count()).toBeGreaterThanOrEqual(7);
    expect(await figureProblems(page)).toEqual([]);
    const sub = (await page.textContent('p.sub')) ?? '';
    expect(sub).toMatch(/ · \d+ s$/);
    // four heatmaps, each with a colour bar from 0 to 1 in at least 5 ticks
    const bars = await page.$$eval('figure[id^=heatmap-] svg', (svgs) => svgs.map((s) => [...s.querySelectorAll('.role-legend-label text')].map((t) => t.textContent)));
    expect(bars).toHaveLength(4);
    for (const b of bars) expect(b).toEqual(['0', '0.25', '0.5', '0.75', '1']);
    // the barrier figure: loss and error on separate axes
    const titles = await page.$$eval('#barriers .role-axis-title text', (ts) => ts.map((t) => t.textContent));
    expect(titles).toEqual(expect.arrayContaining(['loss barrier (cross-entropy)', 'error barrier (error rate)']));
    expect(await page.locator('#configuration table.config tr').count()).toBeGreaterThan(10);
    expect(await page.locator('#configuration details:not([open]) pre').count()).toBe(1);
    await page.screenshot({ path: join(shots, 'demo-report.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the docs home renders without errors', async () => {
    const { page, errors } = await openPage(browser!, `${site.url}/`);
    await page.waitForSelector('.VPContent');
    expect(await figureProblems(page)).toEqual([]);
    await page.screenshot({ path: join(shots, 'docs-home.png') });
    expect(errors.filter((e) => !/net::ERR_ABORTED$/.test(e))).toEqual([]);
    await page.close();
  });

  it('gallery titles are escaped exactly once: page title, heading and index, also after client-side navigation', async () => {
    const { page, errors } = await openPage(browser!, `${site.url}/gallery/`);
    await page.waitForSelector('.VPDoc h1');
    const visible = (): Promise<string> => page.evaluate(() => `${document.title}\n${document.body.innerText}`);
    expect(await visible()).toContain('E002-1: Convergence across the hierarchy (Linear > Procrustes > Permutation)');
    expect(await visible()).not.toMatch(/&(gt|lt|amp|quot);/);
    // the index table fits the content column (no verdicts cut off at the right)
    expect(await page.$$eval('.vp-doc table', (ts) => ts.filter((t) => t.scrollWidth > t.clientWidth + 1).length)).toBe(0);
    await page.screenshot({ path: join(shots, 'gallery-index.png'), fullPage: true });
    // client-side navigation sets document.title from the page data
    await page.click('.vp-doc a[href$="E002-1"], .vp-doc a[href$="E002-1.html"]');
    await page.waitForURL(/E002-1/);
    await page.waitForFunction(() => document.querySelector('.VPDoc h1')?.textContent?.includes('E002-1') === true);
    expect(await page.title()).toBe('E002-1: Convergence across the hierarchy (Linear > Procrustes > Permutation) | basis');
    expect(await page.textContent('.VPDoc h1')).toContain('(Linear > Procrustes > Permutation)');
    expect(await visible()).not.toMatch(/&(gt|lt|amp|quot);/);
    // and loaded directly
    await page.goto(`${site.url}/gallery/E002-1`, { waitUntil: 'load' });
    expect(await page.title()).toBe('E002-1: Convergence across the hierarchy (Linear > Procrustes > Permutation) | basis');
    const label = await page.getAttribute('.VPDoc h1 .header-anchor', 'aria-label');
    expect(label).not.toMatch(/&(gt|amp);/);
    expect(errors.filter((e) => !/net::ERR_ABORTED$/.test(e))).toEqual([]);
    await page.close();
  });

  it('the CLI reference does not overflow at 1400 px, and its code shows `=>` (not `=&gt;`)', async () => {
    const { page, errors } = await openPage(browser!, `${site.url}/reference/cli`);
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.waitForSelector('.VPDoc h1');
    const overflow = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      blocks: [...document.querySelectorAll('.vp-doc pre')].filter((p) => p.scrollWidth > p.clientWidth + 1).map((p) => (p.textContent ?? '').split('\n').find((l) => l.length > 76) ?? ''),
    }));
    expect(overflow.page).toBeLessThanOrEqual(0);
    expect(overflow.blocks).toEqual([]);
    const text = await page.evaluate(() => document.body.innerText);
    expect(text).not.toMatch(/&(gt|lt|amp|quot);/);
    expect(text).toContain('probe --fn "x => ..."');
    await page.screenshot({ path: join(shots, 'cli-reference-1400.png') });
    expect(errors.filter((e) => !/net::ERR_ABORTED$/.test(e))).toEqual([]);
    await page.close();
  });
});
