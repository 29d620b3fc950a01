// The API reference, generated from the TSDoc of every package's public entry points with TypeDoc
// and typedoc-plugin-markdown (one markdown page per entry point, under reference/api/).
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, posix, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Application, type TypeDocOptions } from 'typedoc';
import type { PluginOptions } from 'typedoc-plugin-markdown';
import { BasisError } from '@basis/tensor';

const DOCS = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Every public entry point (package export) documented in the API reference. */
export const API_ENTRIES = [
  '@basis/tensor',
  '@basis/tensor/backend',
  '@basis/tensor/node',
  '@basis/align',
  '@basis/align/node',
  '@basis/symmetry',
  '@basis/zoo',
  '@basis/zoo/node',
  '@basis/connectivity',
  '@basis/degeneracy',
  '@basis/experiments',
  '@basis/experiments/node',
] as const;

/** File-name slug of an entry point: `@basis/zoo/node` → `zoo-node`. */
export const entrySlug = (entry: string): string => entry.replace(/^@basis\//, '').replace(/\//g, '-');

/**
 * Runs TypeDoc over {@link API_ENTRIES} and writes `reference/api/<slug>.md` plus an index.
 * Each entry is a one-line module `export * from '<entry>'` tagged with `@module <entry>`, so the
 * pages are named by import path and hold exactly what the entry exports.
 */
export async function apiReference(): Promise<{ pages: string[]; warnings: number }> {
  const entryDir = join(DOCS, '.api');
  const out = join(DOCS, 'reference', 'api');
  await rm(entryDir, { recursive: true, force: true });
  await rm(out, { recursive: true, force: true });
  await mkdir(entryDir, { recursive: true });
  const entryPoints: string[] = [];
  for (const e of API_ENTRIES) {
    const f = join(entryDir, `${entrySlug(e)}.ts`);
    await writeFile(f, `/**\n * Public API of \`${e}\`.\n * @module ${e}\n */\nexport * from '${e}';\n`);
    entryPoints.push(f);
  }
  await writeFile(
    join(entryDir, 'tsconfig.json'),
    JSON.stringify({ extends: '../../../tsconfig.base.json', compilerOptions: { noEmit: true, lib: ['ES2023', 'DOM'] }, include: ['*.ts'] }, null, 2),
  );
  const options: Partial<TypeDocOptions & PluginOptions> = {
    entryPoints,
    tsconfig: join(entryDir, 'tsconfig.json'),
    plugin: ['typedoc-plugin-markdown'],
    out,
    name: 'API reference',
    readme: 'none',
    entryFileName: 'index.md',
    outputFileStrategy: 'modules',
    hidePageHeader: true,
    hideBreadcrumbs: true,
    useCodeBlocks: false,
    parametersFormat: 'table',
    excludePrivate: true,
    excludeInternal: true,
    excludeExternals: false,
    disableSources: true,
    sort: ['kind', 'alphabetical'],
    validation: { notExported: false, invalidLink: false, rewrittenLink: false, notDocumented: false, unusedMergeModuleWith: false, invalidPath: false },
    logLevel: 'Error',
    skipErrorChecking: true,
  };
  const app = await Application.bootstrapWithPlugins(options);
  const project = await app.convert();
  if (project === undefined) throw new BasisError('BAD_FILE', 'TypeDoc could not convert the packages (see the errors above)');
  await app.generateOutputs(project);
  const pages = await flatten(out);
  return { pages, warnings: app.logger.warningCount };
}

/**
 * Moves TypeDoc's `@basis/x/node.md` layout to flat `x-node.md` files (no `@` in URLs) and
 * rewrites the relative links between pages accordingly.
 */
async function flatten(out: string): Promise<string[]> {
  const files = (await readdir(out, { recursive: true })).filter((f) => f.endsWith('.md')).map((f) => f.split(sep).join('/'));
  const target = (rel: string): string => (rel === 'index.md' ? 'index.md' : `${entrySlug(rel.replace(/\.md$/, ''))}.md`);
  const contents = new Map<string, string>();
  for (const rel of files) {
    const text = await readFile(join(out, rel), 'utf8');
    const from = posix.dirname(rel);
    const fixed = text.replace(/\]\(([^)#\s]+\.md)(#[^)\s]*)?\)/g, (m, link: string, hash: string | undefined) => {
      if (/^[a-z]+:/.test(link)) return m;
      const resolved = posix.normalize(posix.join(from, link));
      return `](./${target(resolved)}${hash ?? ''})`;
    });
    contents.set(target(rel), fixed);
  }
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  for (const [name, text] of contents) await writeFile(join(out, name), text);
  return [...contents.keys()].map((f) => `reference/api/${f}`);
}
