// The gallery: one page per report in gallery-data/<id>/ (result.json + figures/*.svg),
// written by `pnpm --filter docs gallery` (scripts/gallery-run.ts) and committed, so the site builds
// offline in seconds. Recipe reports show the paper-vs-basis table of their claim checks; the
// `basis demo --quick` report shows its training, symmetry and barrier tables.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BasisError } from '@basis/tensor';
import { columnFormat } from '@basis/experiments/numbers';
import { escapeMd, escapeMdText } from './cli-reference.js';

/** One claim of a recipe report (the ClaimCheck of @basis/experiments' recipe contract). */
interface Check {
  claim: string;
  paper: string;
  measured: string;
  verdict: string;
  change: string;
}

/** What a gallery page was built from. */
export interface GalleryEntry {
  id: string;
  title: string;
  kind: 'recipe' | 'demo';
  figures: string[];
  checks: number;
  page: string;
  profile: string;
  /** Date the report's run started (YYYY-MM-DD), '' when not recorded. */
  started: string;
  /** First 12 hex digits of the recipe hash, '' when not recorded. */
  hash: string;
  verdicts: string[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One number in prose: 3 significant digits (tables use one format per column instead). */
const num = (v: unknown, digits = 3): string => (typeof v !== 'number' || !Number.isFinite(v) ? escapeMdText(String(v)) : columnFormat([v], digits).format(v));

/** Verdicts as counts (`3 held, 1 inconclusive`): short enough that the index fits the page. */
export function verdictCounts(verdicts: readonly string[]): string {
  if (verdicts.length === 0) return '—';
  const counts = new Map<string, number>();
  for (const v of verdicts) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([v, n]) => `${n} ${v}`).join(', ');
}

/** A markdown table; numbers with one format per column (the reports' `columnFormat`), text escaped once. */
function table(columns: string[], rows: unknown[][], links: ReadonlySet<number> = new Set()): string {
  const formats = columns.map((_, j) => columnFormat(rows.map((r) => r[j])));
  const cell = (v: unknown, j: number, linked = false): string => {
    if (typeof v === 'number') return formats[j]?.format(v) ?? String(v);
    const s = String(v).replace(/\n/g, ' ');
    return linked ? s : escapeMdText(s);
  };
  return [`| ${columns.map((c) => escapeMdText(c)).join(' | ')} |`, `| ${columns.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map((v, j) => cell(v, j, links.has(j))).join(' | ')} |`)].join('\n');
}

function checksOf(result: Record<string, unknown>, file: string): Check[] | undefined {
  const raw = result['checks'] ?? (isObj(result['result']) ? result['result']['checks'] : undefined);
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) throw new BasisError('BAD_FILE', `${file}: "checks" must be an array of claim checks`);
  return raw.map((c, i) => {
    if (!isObj(c) || typeof c['claim'] !== 'string' || typeof c['measured'] !== 'string' || typeof c['verdict'] !== 'string') {
      throw new BasisError('BAD_FILE', `${file}: checks[${i}] needs string fields claim, paper, measured and verdict`);
    }
    return { claim: c['claim'], paper: typeof c['paper'] === 'string' ? c['paper'] : '', measured: c['measured'], verdict: c['verdict'], change: typeof c['change'] === 'string' ? c['change'] : '' };
  });
}

function demoSections(r: Record<string, unknown>, file: string): string[] {
  const training = r['training'];
  const conn = r['connectivity'];
  const sym = r['symmetry'];
  if (!Array.isArray(training) || !isObj(conn) || !isObj(conn['curves']) || !isObj(sym)) {
    throw new BasisError('BAD_FILE', `${file}: neither a recipe report (no "checks") nor a basis demo report (training, symmetry, connectivity.curves)`);
  }
  const out: string[] = [];
  out.push('## Training', '', table(['seed', 'test accuracy (%)', 'test loss'], training.map((t: Record<string, unknown>) => [t['seed'], (t['testAccuracy'] as number) * 100, t['testLoss']])), '');
  out.push(
    '## Symmetry spec, verified',
    '',
    `Random group elements applied to the weights changed the outputs by at most ${num(sym['worstOutputError'], 3)} (relative, float32) while the hidden features moved exactly by the group element (worst error ${num(sym['worstFeatureError'], 3)}).`,
    '',
  );
  const curves = conn['curves'] as Record<string, { barrier: { loss: Record<string, number>; error: Record<string, number> } }>;
  out.push(
    '## Interpolation barriers',
    '',
    table(
      ['path', 'loss barrier (max − linear)', 'error barrier (points)'],
      Object.entries(curves).map(([k, c]) => [k, c.barrier.loss['maxMinusLinear'], 100 * (c.barrier.error['maxMinusLinear'] as number)]),
    ),
    '',
  );
  return out;
}

/**
 * Renders `gallery/index.md` and `gallery/<id>.md` for every folder of `dataDir` holding a
 * result.json, and copies the figures to `<publicDir>/gallery/<id>/`.
 */
export async function renderGallery(dataDir: string, docsDir: string, publicDir: string): Promise<GalleryEntry[]> {
  const pagesDir = join(docsDir, 'gallery');
  const figOut = join(publicDir, 'gallery');
  await rm(pagesDir, { recursive: true, force: true });
  await rm(figOut, { recursive: true, force: true });
  await mkdir(pagesDir, { recursive: true });
  const ids = existsSync(dataDir) ? (await readdir(dataDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort() : [];
  const entries: GalleryEntry[] = [];
  for (const id of ids) {
    if (!/^[A-Za-z0-9._-]+$/.test(id)) throw new BasisError('BAD_FILE', `gallery-data/${id}: folder names must be recipe ids (letters, digits, . _ -)`);
    const file = join(dataDir, id, 'result.json');
    if (!existsSync(file)) continue;
    let result: unknown;
    try {
      result = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      throw new BasisError('BAD_FILE', `${file}: not valid JSON (${(e as Error).message})`);
    }
    if (!isObj(result)) throw new BasisError('BAD_FILE', `${file}: expected a JSON object`);
    const figDir = join(dataDir, id, 'figures');
    const figures = existsSync(figDir) ? (await readdir(figDir)).filter((f) => f.endsWith('.svg')).sort() : [];
    await mkdir(join(figOut, id), { recursive: true });
    for (const f of figures) await copyFile(join(figDir, f), join(figOut, id, f));
    const hasReport = existsSync(join(dataDir, id, 'report.html'));
    if (hasReport) await copyFile(join(dataDir, id, 'report.html'), join(figOut, id, 'report.html'));
    const checks = checksOf(result, file);
    const kind = checks === undefined ? 'demo' : 'recipe';
    const title = typeof result['title'] === 'string' ? result['title'] : kind === 'demo' ? 'basis demo --quick: two MNIST MLPs' : id;
    const source = typeof result['source'] === 'string' ? result['source'] : '';
    const profile = typeof result['profile'] === 'string' ? result['profile'] : 'quick';
    const started = typeof result['started'] === 'string' ? result['started'].slice(0, 10) : '';
    const hash = typeof result['recipeHash'] === 'string' ? result['recipeHash'].slice(0, 12) : '';
    const seconds = typeof result['seconds'] === 'number' ? result['seconds'] : undefined;
    // the page title from the front matter (raw text, JSON-quoted for YAML), the heading escaped for markdown: each escaped once
    const lines = ['---', `title: ${JSON.stringify(`${id}: ${title}`)}`, '---', '', `# ${escapeMdText(id)}: ${escapeMdText(title)}`, ''];
    if (source !== '') lines.push(`Source: ${escapeMdText(source)}.`, '');
    lines.push(
      kind === 'demo'
        ? 'The `basis demo --quick` report (MLP 784-128-128-10, 2 epochs). Regenerate with `pnpm --filter docs gallery`.'
        : `The ${profile} profile of recipe \`${id}\` (\`basis reproduce ${id} --profile ${profile}\`)${profile === 'quick' ? ', a smoke run too small to decide the claims' : ''}. Run ${started === '' ? '(date not recorded)' : `on ${started}`}${seconds === undefined ? '' : `, ${Math.round(seconds)} s`}; recipe hash ${hash === '' ? '(not recorded)' : `\`${hash}\``}. Regenerate with \`pnpm --filter docs gallery ${id}\`.`,
      '',
    );
    if (checks !== undefined) {
      lines.push('## Paper vs basis', '', table(['claim', 'paper', `basis (${profile} run)`, 'verdict', 'what would change it'], checks.map((c) => [c.claim, c.paper === '' ? '—' : c.paper, c.measured, c.verdict, c.change === '' ? '—' : c.change])), '');
      const notes = result['notes'];
      if (Array.isArray(notes) && notes.length > 0) lines.push('## Notes', '', ...notes.map((n) => `- ${escapeMdText(String(n))}`), '');
    } else {
      lines.push(...demoSections(result, file));
    }
    if (figures.length > 0) {
      lines.push('## Figures', '');
      for (const f of figures) lines.push(`<figure class="gallery-figure"><img src="/gallery/${id}/${f}" alt="${escapeMd(f.replace(/\.svg$/, ''))}"><figcaption>${escapeMd(f.replace(/\.svg$/, ''))}</figcaption></figure>`, '');
    }
    if (hasReport) lines.push(`The full self-contained report: <a href="/gallery/${id}/report.html" target="_blank">report.html</a>.`, '');
    await writeFile(join(pagesDir, `${id}.md`), lines.join('\n'));
    entries.push({ id, title, kind, figures, checks: checks?.length ?? 0, page: `gallery/${id}.md`, profile: kind === 'demo' ? 'quick' : profile, started, hash, verdicts: (checks ?? []).map((c) => c.verdict) });
  }
  const index = [
    '# Gallery of reproduced experiments',
    '',
    'Each page is one experiment, rendered from the committed outputs in `apps/docs/gallery-data/`',
    '(regenerate them with `pnpm --filter docs gallery`, which runs `basis demo --quick` and `basis reproduce <id> --profile standard` for every recipe;',
    'a test fails when a recipe changed after its committed report). Quick-profile reports are smoke runs, too small to decide a claim.',
    '',
    entries.length === 0
      ? 'No reports yet: run `pnpm --filter docs gallery`.'
      : table(
          ['report', 'profile', 'run', 'verdicts'],
          entries.map((e) => [
            `[${escapeMdText(`${e.id}: ${e.title}`)}](./${e.id})`,
            e.kind === 'demo' ? `${e.profile} (demo)` : e.profile,
            [e.started, e.hash === '' ? '' : `recipe ${e.hash}`].filter((x) => x !== '').join(', ') || '—',
            verdictCounts(e.verdicts),
          ]),
          new Set([0]),
        ),
    '',
  ].join('\n');
  await writeFile(join(pagesDir, 'index.md'), index);
  return entries;
}
