// Resource budgets of the CLI: parsing --max-memory, the default budget (a fraction of this
// machine's memory), and the refusal of work whose estimated peak exceeds it.
import { totalmem } from 'node:os';
import type { ResourceEstimate } from '@basis/align';
import { BasisError } from '@basis/tensor';
import { formatDuration } from './progress.js';

/** Fraction of the machine's total memory that `--max-memory` defaults to. */
export const DEFAULT_MEMORY_FRACTION = 0.5;

const UNITS: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, kb: 2 ** 10, kib: 2 ** 10, m: 2 ** 20, mb: 2 ** 20, mib: 2 ** 20, g: 2 ** 30, gb: 2 ** 30, gib: 2 ** 30, t: 2 ** 40, tb: 2 ** 40, tib: 2 ** 40 };

/**
 * Parses a memory size: bytes, a number with a unit (K, M, G, T, with or without B/iB; all
 * powers of 1024), a percentage of this machine's memory (`75%`), or `none` (no limit).
 *
 * @example
 * ```ts
 * parseMemorySize('8G'); // 8589934592
 * parseMemorySize('512MiB'); // 536870912
 * parseMemorySize('none'); // Infinity
 * ```
 */
export function parseMemorySize(v: string, flag = '--max-memory', total = totalmem()): number {
  const s = v.trim().toLowerCase();
  if (s === 'none' || s === 'off') return Infinity;
  const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(s);
  if (pct !== null) {
    const p = Number(pct[1]);
    if (p > 0) return (p / 100) * total;
  }
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(s);
  if (m !== null && m[2]! in UNITS) {
    const bytes = Number(m[1]) * UNITS[m[2]!]!;
    if (bytes > 0 && Number.isFinite(bytes)) return bytes;
  }
  throw new BasisError('USAGE', `${flag} must be a size such as 8G, 512M, 75% (of this machine's memory) or none, got '${v}'`);
}

/** The default memory budget: {@link DEFAULT_MEMORY_FRACTION} of this machine's total memory. */
export function defaultMemoryBudget(total = totalmem()): number {
  return DEFAULT_MEMORY_FRACTION * total;
}

/** Bytes as `1.5 GiB`, `320 MiB`, `12 KiB`. */
export function formatBytes(b: number): string {
  if (!Number.isFinite(b)) return 'unlimited';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  let x = b;
  while (x >= 1024 && u < units.length - 1) {
    x /= 1024;
    u++;
  }
  return `${x >= 100 || u === 0 ? Math.round(x) : x.toFixed(1)} ${units[u]}`;
}

/** Seconds for progress lines: `0.03s` below a second (`<0.01s` below that), else {@link formatDuration}. */
export function formatSeconds(s: number): string {
  if (!(s >= 0)) return '?';
  if (s < 0.01) return '<0.01s';
  if (s < 1) return `${s.toFixed(2)}s`;
  return formatDuration(s);
}

/** One line describing an estimate against the budget. */
export function describeEstimate(e: ResourceEstimate, budget: number): string {
  return `estimate: about ${formatSeconds(e.seconds)} of computing on one core, peak memory about ${formatBytes(e.peakBytes)} (inputs ${formatBytes(e.inputBytes)}; budget ${formatBytes(budget)}, --max-memory)`;
}

/**
 * Throws USAGE when the estimated peak exceeds the budget, naming the metrics that need the most
 * memory and how to proceed.
 */
export function checkMemoryBudget(e: ResourceEstimate, budget: number, budgetWasGiven: boolean): void {
  if (e.peakBytes <= budget) return;
  const top = [...e.metrics].sort((a, b) => b.bytes - a.bytes).slice(0, 3).filter((m) => m.bytes > 0);
  const total = totalmem();
  throw new BasisError(
    'USAGE',
    `this needs an estimated ${formatBytes(e.peakBytes)} of memory at its peak, more than the budget of ${formatBytes(budget)}` +
      (budgetWasGiven ? ' (--max-memory)' : ` (--max-memory; default ${Math.round(100 * DEFAULT_MEMORY_FRACTION)}% of this machine's ${formatBytes(total)})`) +
      `; the largest working sets: ${top.map((m) => `${m.id} ${formatBytes(m.bytes)}`).join(', ')}. ` +
      'Leave those metrics out (--metric), use fewer rows, or raise the budget (e.g. --max-memory ' +
      `${Math.ceil((1.1 * e.peakBytes) / 2 ** 30)}G) if the machine has the memory.`,
    { details: { peakBytes: e.peakBytes, budget } },
  );
}
