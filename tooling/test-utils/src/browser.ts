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
