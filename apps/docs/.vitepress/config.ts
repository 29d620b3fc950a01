import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type DefaultTheme } from 'vitepress';

const DOCS = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Sidebar entries for the generated pages of a folder (`reference/api`, `gallery`). */
function generated(dir: string, label: (name: string) => string): DefaultTheme.SidebarItem[] {
  const abs = join(DOCS, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs)
    .filter((f) => f.endsWith('.md') && f !== 'index.md')
    .sort()
    .map((f) => ({ text: label(f.replace(/\.md$/, '')), link: `/${dir}/${f.replace(/\.md$/, '')}` }));
}

const PACKAGES = ['tensor', 'align', 'symmetry', 'zoo', 'connectivity', 'degeneracy', 'experiments'];

export default defineConfig({
  title: 'basis',
  description: 'Symmetries, alignment and connectivity of neural-network representations, in TypeScript.',
  lang: 'en-GB',
  cleanUrls: true,
  lastUpdated: false,
  srcExclude: ['generated/**', 'gallery-data/**', 'README.md', 'node_modules/**', 'reports/**'],
  head: [['link', { rel: 'icon', href: 'data:,' }]],
  // attrs off: generated tables and API text contain braces such as {±1} that are not attribute lists
  markdown: { theme: { light: 'github-light', dark: 'github-dark' }, attrs: { disable: true } },
  themeConfig: {
    nav: [
      { text: 'Guide', link: '/guide/getting-started' },
      { text: 'Packages', link: '/packages/tensor' },
      { text: 'Playground', link: '/playground' },
      { text: 'Gallery', link: '/gallery/' },
      { text: 'CLI', link: '/reference/cli' },
      { text: 'API', link: '/reference/api/' },
    ],
    sidebar: [
      { text: 'Guide', items: [{ text: 'Getting started', link: '/guide/getting-started' }, { text: 'Compute engine', link: '/guide/compute-engine' }, { text: 'Run directories and resources', link: '/guide/runs-and-resources' }, { text: 'Config files', link: '/guide/config-files' }, { text: 'Use your PyTorch model', link: '/guide/pytorch' }, { text: 'Running on many machines', link: '/guide/many-machines' }, { text: 'Choosing a measure', link: '/guide/choosing-a-measure' }, { text: 'Playground', link: '/playground' }] },
      { text: 'Packages', items: PACKAGES.map((p) => ({ text: `@basis/${p}`, link: `/packages/${p}` })) },
      { text: 'Gallery', collapsed: false, items: [{ text: 'All reports', link: '/gallery/' }, ...generated('gallery', (n) => n)] },
      { text: 'Reference', items: [{ text: 'CLI', link: '/reference/cli' }, { text: 'API', link: '/reference/api/', collapsed: true, items: generated('reference/api', (n) => `@basis/${n.replace('-', '/')}`) }] },
    ],
    search: { provider: 'local' },
    outline: { level: [2, 3] },
    footer: { message: 'basis: MIT licensed. The CLI and API references are generated from the code at build time.' },
  },
  vite: {
    // Workspace packages from their TypeScript sources, as in the repository's tests.
    resolve: { conditions: ['@basis/source'] },
    ssr: { resolve: { conditions: ['@basis/source'], externalConditions: ['@basis/source'] } },
    // vega's Node build asks for the optional native `canvas` package, which the site never needs (the
    // playground renders its figures to SVG strings in the browser)
    build: { chunkSizeWarningLimit: 4000, rollupOptions: { external: ['canvas'] } },
    server: { fs: { allow: [join(DOCS, '..', '..')] } },
  },
});
