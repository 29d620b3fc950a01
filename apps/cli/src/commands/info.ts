import { availableParallelism, cpus, totalmem } from 'node:os';
import { engineInfo, threadBudget } from '@basis/tensor';
import { detectBackends, selectBackend } from '@basis/tensor/backend';
import type { CommandContext } from '../context.js';
import { DETERMINISM, engineRows } from '../engine.js';
import { CLI_VERSION } from '../version.js';
import { formatTable } from '../table.js';

/** Rows of a long list: the label on the first, the items joined up to about 100 characters per row. */
function wrapped(label: string, items: readonly string[], width = 100): string[][] {
  const rows: string[][] = [];
  let line = '';
  for (const item of items) {
    if (line !== '' && line.length + item.length + 2 > width) {
      rows.push([rows.length === 0 ? label : '', `${line},`]);
      line = '';
    }
    line = line === '' ? item : `${line}, ${item}`;
  }
  rows.push([rows.length === 0 ? label : '', line]);
  return rows;
}

/** `basis info`: versions, the compute engine, the active backend, threads, which optional backends load. */
export async function runInfo(ctx: CommandContext): Promise<void> {
  const detected = await detectBackends();
  const active = await selectBackend(ctx.options.backend);
  const engine = engineInfo();
  const info = {
    basis: CLI_VERSION,
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    threads: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    engine: { ...engine, threadBudget: threadBudget(), determinism: DETERMINISM },
    backend: active,
    candidates: detected,
  };
  ctx.result(info, () => {
    const rows: (string | number)[][] = [
      ['item', 'value'],
      ['basis', info.basis],
      ['node', info.node],
      ['platform', info.platform],
      ['cpu', info.cpu],
      ['cores', String(info.threads)],
      ['memory (GiB)', String(info.memoryGiB)],
      ...engineRows(engine),
      ['active backend', `${active.name} (${active.package}@${active.version})`],
      ['backend threads', String(active.threads)],
      ...wrapped('kernel fixes', active.fixesApplied.length === 0 ? ['none'] : active.fixesApplied),
    ];
    for (const c of detected.candidates) {
      rows.push([`can load ${c.package}`, c.available ? 'yes' : `no (${c.error ?? 'not installed'})`]);
    }
    return formatTable(rows);
  });
}
