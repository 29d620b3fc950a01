// Text on the docs pages is escaped exactly once (issue 19: a gallery page title showed `&gt;`, the
// CLI reference showed `x =&gt; ...` in code) and the CLI reference fits 1400 px (help text wrapped).
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { escapeMdText, HELP_COLUMNS, wrapHelp } from './scripts/cli-reference.js';
import { renderGallery, verdictCounts } from './scripts/gallery.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('markdown text escaping', () => {
  it('backslash-escapes markdown and HTML punctuation instead of writing entities', () => {
    expect(escapeMdText('Linear > Procrustes > Permutation')).toBe('Linear \\> Procrustes \\> Permutation');
    expect(escapeMdText('a <b> & c_d *e*')).toBe('a \\<b\\> \\& c\\_d \\*e\\*');
    expect(escapeMdText('x {{ y }}')).toBe('x {\u200b{ y }}');
    expect(escapeMdText('no entities here')).not.toMatch(/&\w+;/);
  });

  it('keeps code spans verbatim (markdown-it escapes them once itself)', () => {
    expect(escapeMdText('Symmetries: `probe --fn "x => ..."` or `check MODEL` > 1')).toBe('Symmetries: `probe --fn "x => ..."` or `check MODEL` \\> 1');
  });
});

describe('gallery pages', () => {
  it('take their title from the front matter (raw text) and escape the heading once', async () => {
    const root = await mkdtemp(join(tmpdir(), 'basis-docs-esc-'));
    dirs.push(root);
    const data = join(root, 'gallery-data');
    await mkdir(join(data, 'E002-1'), { recursive: true });
    await writeFile(join(data, 'E002-1', 'result.json'), JSON.stringify({ title: 'Convergence (Linear > Procrustes & "Permutation")', checks: [{ claim: 'a < b', measured: 'x', verdict: 'held' }] }));
    await renderGallery(data, root, join(root, 'public'));
    const page = await readFile(join(root, 'gallery', 'E002-1.md'), 'utf8');
    expect(page.startsWith('---\ntitle: "E002-1: Convergence (Linear > Procrustes & \\"Permutation\\")"\n---\n')).toBe(true);
    expect(page).toContain('# E002-1: Convergence (Linear \\> Procrustes \\& "Permutation")');
    expect(page).not.toMatch(/&(gt|lt|amp);/);
    const index = await readFile(join(root, 'gallery', 'index.md'), 'utf8');
    expect(index).toContain('[E002-1: Convergence (Linear \\> Procrustes \\& "Permutation")](./E002-1)');
  });
});

describe('gallery index', () => {
  it('summarises verdicts as counts, so the table fits the page', () => {
    expect(verdictCounts(['held', 'held', 'inconclusive', 'held'])).toBe('3 held, 1 inconclusive');
    expect(verdictCounts([])).toBe('—');
  });
});

describe('CLI reference help blocks', () => {
  it(`wrap at ${HELP_COLUMNS} columns, continuation lines under the description`, () => {
    const line = `  --threads <n>     threads of the compute engine (system BLAS/LAPACK): a number or all (default: BASIS_THREADS, else every core; worker pools share them, one per worker when they run several jobs)`;
    const out = wrapHelp(line).split('\n');
    expect(out.length).toBeGreaterThan(2);
    for (const l of out) expect(l.length).toBeLessThanOrEqual(HELP_COLUMNS);
    for (const l of out.slice(1)) expect(l.startsWith(' '.repeat(20)) && l[20] !== ' ').toBe(true);
    expect(out.join(' ').replace(/\s+/g, ' ')).toBe(line.replace(/\s+/g, ' '));
    expect(wrapHelp('short line')).toBe('short line');
    // a long word moves left under the description column, or breaks after a comma
    const long = wrapHelp(`  --data <spec>              mnist, fashion or idx files: ${'idx:TRAIN_IMAGES,TRAIN_LABELS[,TEST_IMAGES,TEST_LABELS]'}`).split('\n');
    for (const l of long) expect(l.length).toBeLessThanOrEqual(HELP_COLUMNS);
    expect(long.map((l) => l.trim()).join(' ').replace(/, /g, ',')).toContain('idx:TRAIN_IMAGES,TRAIN_LABELS[,TEST_IMAGES,TEST_LABELS]');
    // and one longer than any line breaks after a comma
    const files = wrapHelp(`  --data <spec>              idx:train-images-idx3-ubyte.gz,train-labels-idx1-ubyte.gz,t10k-images-idx3-ubyte.gz,t10k-labels-idx1-ubyte.gz`).split('\n');
    for (const l of files) expect(l.length).toBeLessThanOrEqual(HELP_COLUMNS);
    expect(files.join('').replace(/\s+/g, '')).toBe('--data<spec>idx:train-images-idx3-ubyte.gz,train-labels-idx1-ubyte.gz,t10k-images-idx3-ubyte.gz,t10k-labels-idx1-ubyte.gz');
    expect(files.length).toBeGreaterThan(1);
  });
});
