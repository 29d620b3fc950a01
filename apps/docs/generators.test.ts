// The site's generators: the metric table follows the align registry, the CLI reference is the
// command declarations' help, the gallery renders recipe and demo reports and rejects bad ones, the
// playground's digit decoder checks its input.
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { FAMILIES, INVARIANCES, listMetrics } from '@basis/align';
import { BasisError } from '@basis/tensor';
import { familiesTable, metricsTable } from './scripts/metrics-table.js';
import { COMMANDS, flagName, main } from '@basis/cli';
import { cliReference, escapeMd, wrapHelp } from './scripts/cli-reference.js';
import { renderGallery } from './scripts/gallery.js';
import { decodeDigits } from './playground/playground.js';

const dirs: string[] = [];
const tmp = async (): Promise<string> => {
  const d = await mkdtemp(join(tmpdir(), 'basis-docs-'));
  dirs.push(d);
  return d;
};
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('metric table', () => {
  it('has one row per registered metric with a tick exactly where the registry declares an invariance', () => {
    const lines = metricsTable().trim().split('\n').slice(2);
    const defs = listMetrics();
    expect(lines).toHaveLength(defs.length);
    defs.forEach((d, i) => {
      const cells = (lines[i] as string).split(' | ');
      expect(cells[0]).toBe(`| \`${d.id}\``);
      expect(cells[1]).toBe(d.family);
      expect(cells[2]).toBe(d.kind);
      INVARIANCES.forEach((inv, k) => expect(cells[4 + k]).toBe(d.invariances.includes(inv) ? '✓' : '·'));
      expect(cells[4 + INVARIANCES.length]).toBe(d.costClass);
    });
  });
});

describe('family table', () => {
  it('lists every registered metric once, grouped in the order of FAMILIES, with its cost class', () => {
    const lines = familiesTable().trim().split('\n').slice(2);
    const defs = listMetrics();
    expect(lines).toHaveLength(defs.length);
    const order = lines.map((l) => defs.find((d) => l.includes(`| \`${d.id}\``))!);
    expect(new Set(order.map((d) => d.id)).size).toBe(defs.length);
    const rank = order.map((d) => FAMILIES.indexOf(d.family));
    expect(rank).toEqual([...rank].sort((a, b) => a - b));
    order.forEach((d, i) => expect((lines[i] as string).endsWith(`| ${d.costClass} |`)).toBe(true));
    expect(familiesTable()).toContain('at alpha = 0: rotation, permutation, scale, unit scale, translation, invertible linear');
  });
});

describe('CLI reference', () => {
  /** What `basis ...args` prints on stdout (in-process: the binary runs the same `main`). */
  const printed = async (...args: string[]): Promise<string> => {
    let out = '';
    const sink = (write: (s: string) => void) => new Writable({ write: (chunk: Buffer, _e, done) => (write(String(chunk)), done()) });
    const code = await main(args, { stdout: sink((s) => (out += s)), stderr: sink(() => undefined) });
    expect(code, args.join(' ')).toBe(0);
    return out.trimEnd();
  };
  it('is generated from the command declarations and matches what basis --help and basis <command> --help print', async () => {
    const { markdown, commands } = cliReference();
    expect(commands.map((c) => c.name)).toEqual(COMMANDS.map((c) => c.name));
    expect(markdown).toContain('```text\n' + wrapHelp(await printed('--help')) + '\n```');
    for (const c of COMMANDS) {
      const help = await printed(c.name, '--help');
      expect(markdown, c.name).toContain(`## basis ${c.name}\n`);
      expect(markdown, c.name).toContain('```text\n' + wrapHelp(help) + '\n```');
      for (const k of Object.keys(c.options as Record<string, unknown>)) expect(help, `${c.name} ${k}`).toContain(`  ${flagName(k)}`);
      for (const e of c.examples) expect(help, c.name).toContain(e);
    }
  });
  it('lists every command with its arguments and summary', () => {
    const { commands } = cliReference();
    expect(commands.find((c) => c.name === 'symmetry')).toEqual({ name: 'symmetry', usage: 'symmetry <action> [model]', description: COMMANDS.find((c) => c.name === 'symmetry')!.summary });
    expect(commands.find((c) => c.name === 'compare')?.usage).toBe('compare [a] [b]');
  });
  it('escapes what Vue would read as markup', () => {
    expect(escapeMd('compare <a> {{ x }} & y')).toBe('compare &lt;a&gt; &#123;&#123; x }} &amp; y');
  });
});

describe('gallery', () => {
  it('renders a recipe report as its paper-vs-basis table and figures, and an index', async () => {
    const root = await tmp();
    const data = join(root, 'gallery-data');
    await mkdir(join(data, 'E002-1', 'figures'), { recursive: true });
    await writeFile(
      join(data, 'E002-1', 'result.json'),
      JSON.stringify({ id: 'E002-1', title: 'Convergence across the hierarchy', source: 'S002, Fig. 1', profile: 'standard', started: '2026-12-07T04:00:00.000Z', seconds: 95, recipeHash: 'ab'.repeat(32), checks: [{ claim: 'Linear > Procrustes', paper: '0.9 > 0.8', measured: '0.95 > 0.85', verdict: 'held', change: 'the lower bound crossing 0' }], notes: ['standard profile'] }),
    );
    await writeFile(join(data, 'E002-1', 'figures', 'hierarchy.svg'), '<svg xmlns="http://www.w3.org/2000/svg"></svg>');
    const entries = await renderGallery(data, root, join(root, 'public'));
    expect(entries).toEqual([{ id: 'E002-1', title: 'Convergence across the hierarchy', kind: 'recipe', figures: ['hierarchy.svg'], checks: 1, page: 'gallery/E002-1.md', profile: 'standard', started: '2026-12-07', hash: 'abababababab', verdicts: ['held'] }]);
    const page = await readFile(join(root, 'gallery', 'E002-1.md'), 'utf8');
    expect(page).toContain('| Linear \\> Procrustes | 0.9 \\> 0.8 | 0.95 \\> 0.85 | held | the lower bound crossing 0 |');
    expect(page).toMatch(/standard profile.*2026-12-07.*95 s.*`abababababab`/);
    expect(page).toContain('src="/gallery/E002-1/hierarchy.svg"');
    expect(existsSync(join(root, 'public', 'gallery', 'E002-1', 'hierarchy.svg'))).toBe(true);
    expect(await readFile(join(root, 'gallery', 'index.md'), 'utf8')).toContain('[E002-1: Convergence across the hierarchy](./E002-1)');
  });
  it('rejects a result.json that is not JSON, or neither a recipe nor a demo report', async () => {
    const root = await tmp();
    const data = join(root, 'gallery-data');
    await mkdir(join(data, 'x'), { recursive: true });
    await writeFile(join(data, 'x', 'result.json'), '{ not json');
    await expect(renderGallery(data, root, join(root, 'public'))).rejects.toMatchObject({ code: 'BAD_FILE' });
    await writeFile(join(data, 'x', 'result.json'), JSON.stringify({ something: 1 }));
    await expect(renderGallery(data, root, join(root, 'public'))).rejects.toThrow(/neither a recipe report/);
    await writeFile(join(data, 'x', 'result.json'), JSON.stringify({ checks: [{ claim: 1 }] }));
    await expect(renderGallery(data, root, join(root, 'public'))).rejects.toThrow(/checks\[0\] needs string fields/);
  });
  it('renders the committed demo report', async () => {
    const root = await tmp();
    const entries = await renderGallery(join(import.meta.dirname, 'gallery-data'), root, join(root, 'public'));
    const demo = entries.find((e) => e.id === 'demo');
    expect(demo?.kind).toBe('demo');
    expect(demo?.figures.length).toBeGreaterThan(0);
    expect(await readFile(join(root, 'gallery', 'demo.md'), 'utf8')).toMatch(/\| naive \| [\d.]+ \| [\d.]+ \|/);
  });
});

describe('playground digits', () => {
  it('decodes class-major bytes into values in [0, 1] and rejects a wrong size', () => {
    const bytes = new Uint8Array(2 * 10 * 784).map((_, i) => (i % 784 === 0 ? 255 : 0));
    const classes = decodeDigits(bytes, 2);
    expect(classes).toHaveLength(10);
    expect(classes[3]?.[0]).toBe(1);
    expect(classes[3]?.[1]).toBe(0);
    expect(() => decodeDigits(bytes.subarray(1), 2)).toThrow(/expected 15680/);
    expect(() => decodeDigits(bytes, 1)).toThrow(BasisError);
  });
});
