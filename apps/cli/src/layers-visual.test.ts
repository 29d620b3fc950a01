// `basis compare --layers` writes one HTML heatmap per metric in the reports' figure style (issue 17:
// one heatmap): opened in headless Chromium, it has a colour bar with 5+ ticks on a fixed scale, no
// clipped text and no console errors. Skipped, saying why, when no Chromium is installed.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng, matrixToNpy, randn } from '@basis/tensor';
import { artifactDir, figureProblems, findChromium, launchChromium, openPage, serveDirectory } from '@basis/test-utils/browser';
import { basis } from './test-helpers.js';

const chromium = findChromium();
if (chromium === undefined) console.warn('layers-visual.test: skipped, no Chromium (apt-get install -y chromium, or set BASIS_CHROMIUM)');
const dir = mkdtempSync(join(tmpdir(), 'basis-layers-visual-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(chromium === undefined)('compare --layers HTML', () => {
  it('is the one Vega-Lite heatmap: colour bar 0..1 in 5 ticks, nothing clipped, no console errors', async () => {
    const rng = createRng(3);
    mkdirSync(join(dir, 'model-a'));
    mkdirSync(join(dir, 'model-b'));
    const shared = randn(80, 6, rng);
    for (const [k, m] of [randn(80, 5, rng), shared, randn(80, 7, rng)].entries()) writeFileSync(join(dir, 'model-a', `dense${k} (a long layer name).npy`), matrixToNpy(m));
    for (const [k, m] of [shared, randn(80, 4, rng)].entries()) writeFileSync(join(dir, 'model-b', `dense${k}.npy`), matrixToNpy(m));
    const out = join(dir, 'out');
    const r = await basis('compare', '--layers', join(dir, 'model-a'), join(dir, 'model-b'), '--metric', 'cka.linear,procrustes.angular', '--out', out, '--quiet');
    expect(r.code, r.stderr).toBe(0);
    const server = await serveDirectory(out);
    const browser = await launchChromium();
    try {
      const shots = await artifactDir('cli');
      for (const [id, ticks] of [['cka.linear', ['0', '0.25', '0.5', '0.75', '1']], ['procrustes.angular', ['0', '0.393', '0.785', '1.18', '1.57']]] as const) {
        const { page, errors } = await openPage(browser, `${server.url}/${id}.html`);
        expect(await figureProblems(page)).toEqual([]);
        expect(await page.$$eval('.role-legend-label text', (ts) => ts.map((t) => t.textContent))).toEqual(ticks);
        expect(await page.locator('.mark-rect.role-mark path').count()).toBe(6);
        await page.screenshot({ path: join(shots, `compare-layers-${id}.png`), fullPage: true });
        expect(errors).toEqual([]);
        await page.close();
      }
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
