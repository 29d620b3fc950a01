/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Real-browser testing for basis: headless Debian Chromium driven by playwright-core, and a
 * static file server on 127.0.0.1. Used by the report tests (@basis/experiments) and the docs
 * site tests (apps/docs).
 *
 * Never downloads a browser: it uses `BASIS_CHROMIUM`, else `/usr/bin/chromium`
 * (`apt-get install -y chromium`, done by `.ci/run`). When no browser is found,
 * {@link findChromium} returns `undefined` and {@link launchChromium} throws with the fix.
 *
 * @example
 * ```ts
 * const server = await serveDirectory('dist');
 * const browser = await launchChromium();
 * const { page, errors } = await openPage(browser, `${server.url}/index.html`);
 * expect(errors).toEqual([]);
 * await page.screenshot({ path: 'shot.png' });
 * await browser.close(); await server.close();
 * ```
 */
import { existsSync } from 'node:fs';
import { readFile, stat, mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Flags that keep Debian's Chromium quiet and offline in a container. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Path of a usable Chromium executable, or `undefined`. */
export function findChromium(): string | undefined {
  const candidates = [process.env.BASIS_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((p): p is string => typeof p === 'string' && p.length > 0 && existsSync(p));
}

/** Launches headless Chromium; throws a clear error naming the fix when none is installed. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (executablePath === undefined) {
    throw new Error(
      'No Chromium found: install it with `apt-get install -y chromium` (as .ci/run does) or set BASIS_CHROMIUM',
    );
  }
  return chromium.launch({ executablePath, args: CHROMIUM_FLAGS, headless: true });
}

/** A page plus every console error and uncaught page error seen since it opened. */
export interface OpenedPage {
  page: Page;
  errors: string[];
}

/** Opens `url` in a new page, collecting console errors and page errors; waits for `load`. */
export async function openPage(browser: Browser, url: string, timeoutMs = 60_000): Promise<OpenedPage> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('requestfailed', (req) => errors.push(`requestfailed: ${req.url()} ${req.failure()?.errorText ?? ''}`));
  await page.goto(url, { waitUntil: 'load', timeout: timeoutMs });
  return { page, errors };
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.ico': 'image/x-icon',
};

/** A running static server. */
export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `root` on 127.0.0.1 (a free port). `/x/` serves `x/index.html`; `/x` falls back to
 * `x.html` (VitePress clean URLs). Paths escaping `root` get 403.
 */
export async function serveDirectory(root: string): Promise<StaticServer> {
  const base = resolve(root);
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      let file = normalize(join(base, path));
      if (file !== base && !file.startsWith(base + sep)) {
        res.writeHead(403).end();
        return;
      }
      const tries = path.endsWith('/') ? [join(file, 'index.html')] : [file, `${file}.html`, join(file, 'index.html')];
      for (const candidate of tries) {
        try {
          if ((await stat(candidate)).isFile()) {
            file = candidate;
            const body = await readFile(file);
            res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' });
            res.end(body);
            return;
          }
        } catch {
          // try the next candidate
        }
      }
      // Browsers ask for /favicon.ico on their own; a missing one is not a page error.
      if (path === '/favicon.ico') res.writeHead(204).end();
      else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    })();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((ok, bad) => server.close((e) => (e ? bad(e) : ok()))),
  };
}

/** Directory where browser tests save screenshots: `<repo>/test-artifacts/<sub>` (git-ignored). */
export async function artifactDir(sub: string): Promise<string> {
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const dir = join(repo, 'test-artifacts', sub);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** What {@link figureProblems} looks at: the SVG figures matched by `selector` (Vega output and report figures by default). */
export const FIGURE_SELECTOR = 'svg.marks, figure.plot svg, .plot svg';

/**
 * Checks the rendered figures of a page against the figure style of basis and returns every
 * problem found (empty when all is well):
 * - clipped text: a text box (axis, legend, title) reaching outside its SVG, or a label cut short with `…`;
 * - axis titles more than 16 px away from their labels; labels of a discrete axis thinned out;
 * - hidden series: two line paths with identical coordinates in one plot, unless the figure (its
 *   caption or the plot's own text) says that series coincide or overlap;
 * - heatmaps (a colour gradient legend, or 5+ distinct cell colours) without a colour bar of at least 5 labelled ticks;
 * - legends of line charts whose swatches do not show a line's own colour and dash;
 * - interval bands (areas) as opaque as their lines, or not named in the caption.
 *
 * @example
 * ```ts
 * const { page } = await openPage(browser, url);
 * expect(await figureProblems(page)).toEqual([]);
 * ```
 */
export async function figureProblems(page: Page, selector = FIGURE_SELECTOR): Promise<string[]> {
  return page.evaluate((sel) => {
    const problems: string[] = [];
    const all = [...document.querySelectorAll<SVGSVGElement>(sel)];
    const svgs = all.filter((s, i) => all.indexOf(s) === i && s.parentElement?.closest('svg') === null);
    svgs.forEach((svg, k) => {
      const holder = svg.closest('figure, .plot, [data-testid]');
      const name = `${holder?.id !== undefined && holder.id !== '' ? holder.id : (svg.getAttribute('aria-label') ?? '').slice(0, 40) || `figure ${k + 1}`}`;
      const box = svg.getBoundingClientRect();
      if (box.width < 40 || box.height < 40) return;
      const caption = (holder?.querySelector('figcaption')?.textContent ?? '') + ' ' + (svg.textContent ?? '');
      // 1. text inside the SVG's bounds, never truncated
      for (const t of svg.querySelectorAll('text')) {
        const s = (t.textContent ?? '').trim();
        if (s === '') continue;
        const r = t.getBoundingClientRect();
        if (r.width === 0 && r.height === 0) continue;
        if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1) {
          problems.push(`${name}: text "${s}" is clipped (outside the SVG's ${Math.round(box.width)}x${Math.round(box.height)} box)`);
        }
        if (s.endsWith('…')) problems.push(`${name}: label "${s}" is truncated`);
      }
      // 1b. axis titles sit next to their labels (the demo's "model B" title sat far below them)
      for (const axis of svg.querySelectorAll('.role-axis')) {
        const title = axis.querySelector('.role-axis-title text');
        const labels = [...axis.querySelectorAll('.role-axis-label text')].map((t) => t.getBoundingClientRect()).filter((r) => r.width > 0);
        if (title === null || labels.length === 0) continue;
        const t = title.getBoundingClientRect();
        const lb = { left: Math.min(...labels.map((r) => r.left)), right: Math.max(...labels.map((r) => r.right)), top: Math.min(...labels.map((r) => r.top)), bottom: Math.max(...labels.map((r) => r.bottom)) };
        const gap = t.top >= lb.bottom - 2 ? t.top - lb.bottom : t.right <= lb.left + 2 ? lb.left - t.right : lb.top - t.bottom;
        if (gap > 16) problems.push(`${name}: axis title "${(title.textContent ?? '').trim()}" sits ${Math.round(gap)} px away from its labels`);
      }
      // 1c. a discrete axis (layers, groups) labels every position: none thinned out for overlapping
      for (const axis of svg.querySelectorAll('.role-axis')) {
        if (!/discrete scale/.test(axis.getAttribute('aria-label') ?? '')) continue;
        const hidden = [...axis.querySelectorAll('.role-axis-label text')].filter((t) => t.getAttribute('opacity') === '0').map((t) => t.textContent ?? '');
        if (hidden.length > 0) problems.push(`${name}: discrete axis labels hidden: ${hidden.join(', ')}`);
      }
      // 2. no two lines with identical coordinates, unless the figure says so
      const lines = [...svg.querySelectorAll<SVGPathElement>('.mark-line path')];
      const seen = new Map<string, number>();
      for (const p of lines) {
        const d = p.getAttribute('d') ?? '';
        if (d !== '') seen.set(d, (seen.get(d) ?? 0) + 1);
      }
      const dup = [...seen.values()].filter((n) => n > 1).length;
      if (dup > 0 && !/coincide|overlap|identical/i.test(caption)) problems.push(`${name}: ${dup} line(s) hidden under another with identical coordinates, and the figure does not say so`);
      // 3. heatmaps carry a colour bar with at least 5 labelled ticks
      const gradient = svg.querySelector('.role-legend-gradient, linearGradient') !== null;
      const cellFills = new Set([...svg.querySelectorAll('.mark-rect.role-mark path, .mark-rect.role-mark rect')].map((e) => e.getAttribute('fill') ?? ''));
      if (gradient || cellFills.size >= 5) {
        const ticks = svg.querySelectorAll('.role-legend-label text').length;
        if (!gradient) problems.push(`${name}: a heatmap without a colour bar`);
        else if (ticks < 5) problems.push(`${name}: colour bar with ${ticks} labelled tick(s), fewer than 5`);
      }
      // 4. line legends show the line's own colour and dash
      if (lines.length > 1) {
        const styles = new Set(lines.map((p) => `${p.getAttribute('stroke') ?? ''}|${p.getAttribute('stroke-dasharray') ?? ''}`));
        for (const sym of svg.querySelectorAll<SVGPathElement>('.role-legend-symbol path')) {
          const st = `${sym.getAttribute('stroke') ?? ''}|${sym.getAttribute('stroke-dasharray') ?? ''}`;
          if (!styles.has(st)) problems.push(`${name}: legend swatch (stroke ${st}) matches no line's colour and dash`);
        }
      }
      // 5. bands lighter than lines, and named in the caption
      const areas = [...svg.querySelectorAll<SVGPathElement>('.mark-area path')];
      if (areas.length > 0) {
        const opaque = areas.filter((a) => Number(a.getAttribute('fill-opacity') ?? a.getAttribute('opacity') ?? '1') > 0.5).length;
        if (opaque > 0) problems.push(`${name}: ${opaque} interval band(s) as opaque as a line`);
        if (!/band|interval/i.test(holder?.querySelector('figcaption')?.textContent ?? caption)) problems.push(`${name}: interval bands not named in the caption`);
      }
    });
    return problems;
  }, selector);
}
