// The built site (`pnpm --filter docs build`; turbo runs it before this test) served on 127.0.0.1
// and driven in headless Chromium: every page loads without console errors, local search finds
// "Procrustes", the playground trains two MLPs and draws its plots. Screenshots: test-artifacts/docs/.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactDir, figureProblems, findChromium, launchChromium, openPage, serveDirectory, type StaticServer } from '@basis/test-utils/browser';

const DOCS = dirname(fileURLToPath(import.meta.url));
const DIST = join(DOCS, '.vitepress', 'dist');

interface PlaygroundResult {
  backend: string;
  accuracy: [number, number];
  layers: string[];
  heatmaps: Record<string, number[][]>;
  symmetry: { maxOutputDiff: number; maxOutput: number; sameIndexCorrelation: number; cka: number; greluProcrustes: number };
  curves: { naive: { loss: number[]; barrier: { loss: { maxMinusLinear: number } } }; matched: { loss: number[]; barrier: { loss: { maxMinusLinear: number } } } };
  seconds: { train: number; total: number };
}

/** Every page of the built site as a URL path (`/packages/align`). */
function sitePages(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (!['assets', 'tfjs', 'digits', 'gallery'].includes(e.name) || dir !== DIST) walk(p);
        else if (e.name === 'gallery') walk(p);
      } else if (e.name.endsWith('.html') && e.name !== '404.html' && !(dir.startsWith(join(DIST, 'gallery', '')) && e.name === 'report.html')) {
        out.push('/' + relative(DIST, p).replace(/\\/g, '/').replace(/index\.html$/, '').replace(/\.html$/, ''));
      }
    }
  };
  walk(DIST);
  return out.sort();
}

let server: StaticServer;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let shots: string;

const chromium = findChromium();
if (chromium === undefined) console.warn('site.test: skipped, no Chromium (apt-get install -y chromium, or set BASIS_CHROMIUM)');

beforeAll(async () => {
  if (chromium === undefined) return;
  if (!existsSync(join(DIST, 'index.html'))) throw new Error(`no built site in ${DIST}: run \`pnpm --filter docs build\` first (turbo runs it before this test)`);
  server = await serveDirectory(DIST);
  browser = await launchChromium();
  shots = await artifactDir('docs');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe.skipIf(chromium === undefined)('the built documentation site', () => {
  it('has the pages the sidebar promises', () => {
    const pages = sitePages();
    for (const p of ['/', '/guide/getting-started', '/guide/compute-engine', '/playground', '/reference/cli', '/reference/api/', '/reference/api/align', '/gallery/', '/gallery/demo']) expect(pages).toContain(p);
    for (const pkg of ['tensor', 'align', 'symmetry', 'zoo', 'connectivity', 'degeneracy', 'experiments']) expect(pages).toContain(`/packages/${pkg}`);
  });

  it('loads every page without console errors, failed requests or page errors', { timeout: 240_000 }, async () => {
    const failures: string[] = [];
    const t0 = performance.now();
    const queue = sitePages();
    // two tabs, each reused for its share of the pages (a fresh context per page costs more than the page)
    const visit = async (): Promise<void> => {
      const first = queue.shift();
      if (first === undefined) return;
      const { page, errors } = await openPage(browser, `${server.url}${first}`);
      const bad: string[] = [];
      page.on('response', (r) => {
        if (r.status() >= 400) bad.push(`HTTP ${r.status()}: ${r.url()}`);
      });
      for (let path: string | undefined = first; path !== undefined; path = queue.shift()) {
        if (path !== first) await page.goto(`${server.url}${path}`, { waitUntil: 'load', timeout: 60_000 });
        await page.waitForSelector('.VPContent', { timeout: 30_000 });
        await page.waitForFunction(() => [...document.querySelectorAll('img')].every((i) => i.complete));
        if (['/', '/packages/align', '/reference/cli', '/gallery/demo'].includes(path)) {
          await page.screenshot({ path: join(shots, `page${path === '/' ? '_index' : path.replace(/\//g, '_')}.png`), fullPage: false });
        }
        // VitePress prefetches linked pages; leaving a page aborts those requests (not a failure)
        const real = [...errors.splice(0).filter((e) => !/^requestfailed: .* net::ERR_ABORTED$/.test(e)), ...bad.splice(0)];
        if (real.length > 0) failures.push(`${path}: ${real.join(' | ')}`);
      }
      await page.close();
    };
    await Promise.all([visit(), visit()]);
    console.log(`${sitePages().length} pages in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    expect(failures).toEqual([]);
  });

  it('local search finds "Procrustes"', async () => {
    const { page, errors } = await openPage(browser, `${server.url}/`);
    await page.click('.VPNavBarSearch button');
    await page.fill('#localsearch-input', 'Procrustes');
    await page.waitForSelector('.VPLocalSearchBox .result', { timeout: 30_000 });
    const results = await page.$$eval('.VPLocalSearchBox .result', (els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
    await page.screenshot({ path: join(shots, 'search-procrustes.png') });
    expect(results.length).toBeGreaterThan(3);
    // the align page, where the metric is explained, is among the hits; following it lands on text about Procrustes
    const hit = results.findIndex((t) => t.startsWith('@basis/align >'));
    expect(hit, results.join('\n')).toBeGreaterThanOrEqual(0);
    await page.click(`.VPLocalSearchBox .result[data-index="${hit}"]`);
    await page.waitForURL(/\/(packages|reference\/api)\/align/, { timeout: 30_000 });
    await page.waitForSelector('.VPDoc h1');
    expect(await page.textContent('.VPDoc')).toMatch(/Procrustes/i);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the playground trains two MLPs and draws its heatmaps, the symmetry check and the barrier plot', async () => {
    const { page, errors } = await openPage(browser, `${server.url}/playground`);
    await page.click('[data-testid=train]');
    await page.waitForSelector('.playground[data-state=done], .playground[data-state=error]', { timeout: 110_000 });
    const error = await page.$eval('.playground', (el) => el.querySelector('[data-testid=error]')?.textContent ?? '');
    expect(error).toBe('');
    await page.screenshot({ path: join(shots, 'playground.png'), fullPage: true });
    const r = (await page.evaluate(() => (window as unknown as { basisPlayground: unknown }).basisPlayground)) as PlaygroundResult;
    expect(r.backend).toBe('wasm'); // the wasm binaries were served by the site
    for (const a of r.accuracy) expect(a).toBeGreaterThan(0.6); // 10 classes: chance is 0.1
    // three heatmaps in the reports' figure style: one cell per layer pair, a colour bar from 0 to 1 in 5 ticks
    const cells = await page.$$eval('[data-testid=heatmaps] svg', (svgs) => svgs.map((s) => s.querySelectorAll('.mark-rect.role-mark path').length));
    expect(cells).toEqual([16, 16, 16]);
    const bars = await page.$$eval('[data-testid=heatmaps] svg', (svgs) => svgs.map((s) => [...s.querySelectorAll('.role-legend-label text')].map((t) => t.textContent)));
    expect(bars).toEqual([0, 1, 2].map(() => ['0', '0.25', '0.5', '0.75', '1']));
    // no clipped text, no hidden series, colour bars everywhere (figureProblems), and the loss plot has its y-axis title
    expect(await figureProblems(page, '.playground svg')).toEqual([]);
    expect(await page.$$eval('[data-testid=barrier] .role-axis-title text', (ts) => ts.map((t) => t.textContent))).toEqual(expect.arrayContaining(['test loss (cross-entropy)']));
    for (const m of Object.values(r.heatmaps)) for (const row of m) for (const v of row) expect(Number.isFinite(v) && v > -1.0001 && v < 1.0001).toBe(true);
    // the symmetry: outputs equal to float32 rounding, units moved, invariant metrics unchanged
    expect(r.symmetry.maxOutputDiff / r.symmetry.maxOutput).toBeLessThan(1e-4);
    expect(r.symmetry.sameIndexCorrelation).toBeLessThan(0.5);
    expect(r.symmetry.cka).toBeLessThan(0.999); // linear CKA is not invariant to per-unit scalings
    expect(r.symmetry.greluProcrustes).toBeGreaterThan(0.9999); // G_ReLU-Procrustes is, exactly
    // the barrier plot: two curves of 11 points each
    const paths = await page.$$eval('[data-testid=barrier] .mark-line path', (ps) => ps.map((p) => (p.getAttribute('d') ?? '').split(/[ML]/).filter((s) => s.trim() !== '').length));
    expect(paths).toEqual([11, 11]);
    expect(r.curves.matched.barrier.loss.maxMinusLinear).toBeLessThan(r.curves.naive.barrier.loss.maxMinusLinear);
    expect(errors).toEqual([]);
    console.log(`playground: ${r.backend}, train ${r.seconds.train.toFixed(1)} s, total ${r.seconds.total.toFixed(1)} s, accuracy ${r.accuracy.map((a) => a.toFixed(3)).join('/')}, barrier ${r.curves.naive.barrier.loss.maxMinusLinear.toFixed(3)} -> ${r.curves.matched.barrier.loss.maxMinusLinear.toFixed(3)}`);
    await page.close();
  });
});
