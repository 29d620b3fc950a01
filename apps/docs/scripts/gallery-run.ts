// `pnpm --filter docs gallery`: runs `basis demo --quick` and `basis reproduce <id> --profile standard`
// for every recipe the CLI offers (one shared run cache, so common models train once), into
// apps/docs/gallery-data/<id>/ (result.json, report.html, figures/*.svg), then renders the gallery
// pages. Commit gallery-data/ afterwards: the site build only reads it, and gallery-stale.test.ts
// fails when a recipe changed after its report. `pnpm --filter docs gallery E002-1 demo` reruns only
// the named reports; GALLERY_PROFILE=quick uses the quick profile instead (CI smoke, too small to decide).
// GALLERY_CACHE=DIR keeps the run cache in DIR (kept afterwards): an interrupted regeneration then
// resumes from the models and results it finished, and later runs reuse them.
import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BasisError } from '@basis/tensor';
import { COMMANDS } from '@basis/cli';
import { cliBin } from './cli-reference.js';
import { renderGallery } from './gallery.js';
import { TIMINGS_FILE, writeTimings } from './timings.js';

const run = promisify(execFile);
const DOCS = join(dirname(fileURLToPath(import.meta.url)), '..');
const DATA = join(DOCS, 'gallery-data');

async function basis(args: string[]): Promise<string> {
  process.stderr.write(`$ basis ${args.join(' ')}\n`);
  const t = performance.now();
  const { stdout } = await run(process.execPath, [cliBin(), ...args], { maxBuffer: 1 << 26 });
  process.stderr.write(`  done in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
  return stdout;
}

/** Recipe ids offered by `basis reproduce --list --json` (empty when the CLI has no reproduce command yet). */
async function recipeIds(): Promise<string[]> {
  if (!COMMANDS.some((c) => c.name === 'reproduce')) {
    process.stderr.write('basis has no `reproduce` command yet: the gallery holds the demo report only\n');
    return [];
  }
  const list: unknown = JSON.parse(await basis(['reproduce', '--list', '--json']));
  if (!Array.isArray(list) || list.some((r) => typeof (r as { id?: unknown })?.id !== 'string')) {
    throw new BasisError('BAD_FILE', 'basis reproduce --list --json did not print a list of { id, title, source }');
  }
  return list.map((r: { id: string }) => r.id);
}

/** Copies the committed parts of one report (result.json, report.html, figures/*.svg). */
async function keep(from: string, id: string): Promise<void> {
  const to = join(DATA, id);
  await rm(to, { recursive: true, force: true });
  await mkdir(join(to, 'figures'), { recursive: true });
  for (const f of ['result.json', 'report.html']) if (existsSync(join(from, f))) await cp(join(from, f), join(to, f));
  if (existsSync(join(from, 'figures'))) {
    for (const f of await readdir(join(from, 'figures'))) if (f.endsWith('.svg')) await cp(join(from, 'figures', f), join(to, 'figures', f));
  }
}

const only = process.argv.slice(2);
const profile = process.env['GALLERY_PROFILE'] ?? 'standard';
if (!['quick', 'standard', 'full'].includes(profile)) throw new BasisError('CONFIG_INVALID', `GALLERY_PROFILE must be quick, standard or full, got '${profile}'`);
const work = join(tmpdir(), `basis-gallery-${process.pid}`);
await mkdir(work, { recursive: true });
const cacheEnv = process.env['GALLERY_CACHE'];
const cache = cacheEnv === undefined || cacheEnv === '' ? join(work, 'cache') : resolve(cacheEnv);
try {
  const ids = ['demo', ...(await recipeIds())].filter((id) => only.length === 0 || only.includes(id));
  for (const id of ids) {
    const out = join(work, id);
    await basis(id === 'demo' ? ['demo', '--quick', '--out', out] : ['reproduce', id, '--profile', profile, '--out', out, '--cache', cache]);
    await keep(out, id);
  }
  const entries = await renderGallery(DATA, DOCS, join(DOCS, 'public'));
  // the run times `basis reproduce` fits its estimates to (commit it with the reports)
  process.stderr.write(`timings: ${await writeTimings(DATA)} recorded runs → ${TIMINGS_FILE}\n`);
  process.stderr.write(`gallery: ${entries.map((e) => e.id).join(', ')}\n`);
} finally {
  await rm(work, { recursive: true, force: true });
}
