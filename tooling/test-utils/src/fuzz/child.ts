// A campaign worker: runs cases [from, to) of one format and reports each over IPC (see campaign.ts).
import { pathToFileURL } from 'node:url';
import { GC_EVERY, makeCase, runCase, type FuzzTarget } from './engine.js';

const [modulePath, format, from, to, seed, maxBytes] = process.argv.slice(2) as [string, string, string, string, string, string];
const mod = (await import(pathToFileURL(modulePath).href)) as { targets: FuzzTarget[] };
const target = mod.targets.find((t) => t.format === format);
if (target === undefined) throw new Error(`no fuzz target '${format}' in ${modulePath}`);
const send = (m: unknown) => new Promise<void>((resolve) => process.send?.(m, () => resolve()));
for (let id = Number(from); id < Number(to); id++) {
  const c = makeCase(target, Number(seed), id);
  await send({ t: 'start', id, kind: c.kind });
  await send({ t: 'result', r: runCase(target, c, Number(maxBytes), id % GC_EVERY === 0) });
}
await send({ t: 'done', peakRss: process.resourceUsage().maxRSS * 1024 });
process.disconnect?.();
