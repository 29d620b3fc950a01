// Everything the site build generates before `vitepress build` (run by the docs `build` script, so
// `turbo build` regenerates it): the CLI reference from the binary's --help, the API reference from
// TSDoc (TypeDoc), the metric table from @basis/align's registry, the gallery pages from
// gallery-data/, the config files' JSON Schemas (public/schemas/, also committed), the playground's
// digits and the tfjs wasm binaries.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiReference } from './api-reference.js';
import { copyWasm, writeDigits } from './assets.js';
import { cliReference } from './cli-reference.js';
import { writeConfigSchemas } from './config-schemas.js';
import { renderGallery } from './gallery.js';
import { activationTable, familiesTable, metricOptions, metricsTable } from './metrics-table.js';

const DOCS = join(dirname(fileURLToPath(import.meta.url)), '..');
const PUBLIC = join(DOCS, 'public');
const t0 = performance.now();
const say = (what: string): void => void process.stderr.write(`generate: ${what} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);

await mkdir(join(DOCS, 'generated'), { recursive: true });
await mkdir(join(DOCS, 'reference'), { recursive: true });
await writeFile(join(DOCS, 'generated', 'metrics-table.md'), metricsTable());
await writeFile(join(DOCS, 'generated', 'metric-options.md'), metricOptions());
await writeFile(join(DOCS, 'generated', 'metric-families.md'), familiesTable());
await writeFile(join(DOCS, 'generated', 'activation-table.md'), activationTable());
say('metric table (@basis/align registry) and activation table (@basis/symmetry)');
const schemas = await writeConfigSchemas();
say(`config JSON Schemas (${schemas.join(', ')})`);
const cli = cliReference();
const api = await apiReference();
await writeFile(join(DOCS, 'reference', 'cli.md'), cli.markdown);
say(`CLI reference (${cli.commands.length} commands) and API reference (${api.pages.length} pages)`);
const gallery = await renderGallery(join(DOCS, 'gallery-data'), DOCS, PUBLIC);
say(`gallery (${gallery.length} reports: ${gallery.map((g) => g.id).join(', ') || 'none'})`);
await copyWasm(PUBLIC);
const digits = await writeDigits(PUBLIC);
say(`assets (tfjs wasm, ${digits.n} digits)`);
