import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, serveDirectory, type StaticServer } from './browser.js';
import type { Browser } from 'playwright-core';

describe('browser harness', () => {
  let dir: string;
  let server: StaticServer;
  let browser: Browser;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'basis-browser-'));
    await writeFile(join(dir, 'ok.html'), '<html><body><svg><rect width="3" height="3"/></svg></body></html>');
    await writeFile(join(dir, 'bad.html'), '<html><body><script>console.error("boom"); undefinedFn();</script></body></html>');
    server = await serveDirectory(dir);
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a clean page with no errors and sees its SVG', async () => {
    const { page, errors } = await openPage(browser, `${server.url}/ok`);
    expect(await page.locator('svg rect').count()).toBe(1);
    expect(errors).toEqual([]);
  });

  it('collects console errors and uncaught exceptions', async () => {
    const { errors } = await openPage(browser, `${server.url}/bad.html`);
    expect(errors.some((e) => e.includes('boom'))).toBe(true);
    expect(errors.some((e) => e.startsWith('pageerror'))).toBe(true);
  });

  it('refuses paths outside the root and 404s missing files', async () => {
    const res = await fetch(`${server.url}/missing.html`);
    expect(res.status).toBe(404);
  });
});
