// A seeded fuzzer for the file readers of basis. Each case is a pure function of (format, seed,
// index): a valid sample mutated (truncation, byte flips, length lies, cut/duplicated ranges, or a
// format-aware mutation that keeps checksums valid so the parser behind them is reached) or one of
// the target's crafted hostile inputs (deep nesting, decompression bombs, huge declared sizes).
// A reader passes a case when it returns or throws a BasisError of an accepted code; anything else
// (a TypeError, a RangeError from a stack overflow, a hang, an allocation past the budget) is
// reported with the case id, which reproduces it exactly.
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';

/** A deterministic PRNG (mulberry32 over a 32-bit state). */
export class FuzzRng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** 32-bit FNV-1a of a string (case seeds). */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The byte arrays one after the other, in one new array (for building crafted files).
 *
 * @example
 * ```ts
 * concatBytes([Uint8Array.of(1), Uint8Array.of(2, 3)]); // Uint8Array [1, 2, 3]
 * ```
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A mutation of a file's bytes. */
export interface Mutator {
  name: string;
  apply(bytes: Uint8Array, rng: FuzzRng): Uint8Array;
}

/** A crafted hostile input (built deterministically from the case's rng). */
export interface Crafted {
  name: string;
  make(rng: FuzzRng): Uint8Array;
}

/** One reader under test. */
export interface FuzzTarget {
  /** Format name, e.g. `npz`. */
  format: string;
  /** Valid files to mutate (built once). */
  samples(): Uint8Array[];
  /** Format-aware mutations (e.g. mutate a zip member and re-zip it with a valid CRC). */
  mutators?: Mutator[];
  /** Crafted hostile inputs; one case in `craftedEvery` is one of them. */
  crafted?: Crafted[];
  /** Reads the bytes the way basis does (with `maxBytes` as its budget). */
  read(bytes: Uint8Array, maxBytes: number): unknown;
  /** Error codes that count as a clean rejection (default: BAD_FILE). */
  accept?: readonly string[];
}

const LIES = [0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/** Mutations that know nothing about the format. */
export const GENERIC_MUTATORS: Mutator[] = [
  { name: 'truncate', apply: (b, r) => b.slice(0, r.int(b.length + 1)) },
  {
    name: 'flip',
    apply: (b, r) => {
      const c = b.slice();
      const n = r.range(1, 8);
      for (let i = 0; i < n && c.length > 0; i++) {
        const at = r.int(c.length);
        c[at] = (c[at] as number) ^ (1 << r.int(8));
      }
      return c;
    },
  },
  {
    name: 'byte',
    apply: (b, r) => {
      const c = b.slice();
      if (c.length > 0) c[r.int(c.length)] = r.pick([0, 0xff, 0x7f, 0x80, r.int(256)]);
      return c;
    },
  },
  {
    name: 'length-lie',
    apply: (b, r) => {
      const c = b.slice();
      const width = r.pick([2, 4, 8]);
      if (c.length < width) return c;
      const at = r.int(c.length - width + 1);
      const v = new DataView(c.buffer);
      const little = r.next() < 0.8;
      const value = r.next() < 0.7 ? r.pick(LIES) : r.next() < 0.5 ? b.length + r.range(-4, 4) : r.int(2 ** 32);
      if (width === 2) v.setUint16(at, value & 0xffff, little);
      else if (width === 4) v.setUint32(at, value >>> 0, little);
      else v.setBigUint64(at, r.next() < 0.3 ? 0xffffffffffffffffn : BigInt(value >>> 0) * (r.next() < 0.5 ? 1n : 0x100000000n), little);
      return c;
    },
  },
  {
    name: 'cut',
    apply: (b, r) => {
      if (b.length === 0) return b;
      const at = r.int(b.length);
      const k = r.range(1, Math.max(1, Math.min(256, b.length - at)));
      const c = new Uint8Array(b.length - k);
      c.set(b.subarray(0, at));
      c.set(b.subarray(at + k), at);
      return c;
    },
  },
  {
    name: 'duplicate',
    apply: (b, r) => {
      if (b.length === 0) return b;
      const at = r.int(b.length);
      const k = r.range(1, Math.min(512, b.length - at));
      const to = r.int(b.length + 1);
      const c = new Uint8Array(b.length + k);
      c.set(b.subarray(0, to));
      c.set(b.subarray(at, at + k), to);
      c.set(b.subarray(to), to + k);
      return c;
    },
  },
  {
    name: 'splice-random',
    apply: (b, r) => {
      const c = b.slice();
      const k = r.range(1, 64);
      const at = r.int(Math.max(1, c.length));
      c.set(r.bytes(Math.min(k, Math.max(0, c.length - at))), at);
      return c;
    },
  },
  { name: 'random', apply: (b, r) => r.bytes(r.int(Math.min(4096, b.length + 64))) },
];

/** A generated case. */
export interface FuzzCase {
  id: number;
  kind: string;
  bytes: Uint8Array;
}

/** A full GC before one case in this many (a GC costs more than most cases). */
export const GC_EVERY = 25;

/** One crafted case in this many. */
export const CRAFTED_EVERY = 10;

const sampleCache = new WeakMap<FuzzTarget, Uint8Array[]>();

/** Case `id` of `target` under `seed`: the same bytes every time. */
export function makeCase(target: FuzzTarget, seed: number, id: number): FuzzCase {
  const rng = new FuzzRng(hash32(`${target.format}:${seed}:${id}`));
  const crafted = target.crafted ?? [];
  if (crafted.length > 0 && id % CRAFTED_EVERY === 0) {
    const c = crafted[(id / CRAFTED_EVERY) % crafted.length] as Crafted;
    return { id, kind: `crafted:${c.name}`, bytes: c.make(rng) };
  }
  let samples = sampleCache.get(target);
  if (samples === undefined) {
    samples = target.samples();
    sampleCache.set(target, samples);
  }
  const mutators = [...GENERIC_MUTATORS, ...(target.mutators ?? []), ...(target.mutators ?? [])];
  let bytes = rng.pick(samples);
  const kinds: string[] = [];
  const n = rng.next() < 0.25 ? rng.range(2, 3) : 1;
  for (let k = 0; k < n; k++) {
    const m = rng.pick(mutators);
    try {
      bytes = m.apply(bytes, rng);
      kinds.push(m.name);
    } catch {
      // a format-aware mutator that cannot parse an already mutated file leaves it as it is
      kinds.push(`${m.name}(skipped)`);
    }
  }
  return { id, kind: kinds.join('+'), bytes };
}

/** What one case did. */
export interface CaseResult {
  id: number;
  kind: string;
  outcome: 'ok' | 'rejected' | 'crash' | 'wrong-code';
  code?: string;
  message?: string;
  ms: number;
  /** ArrayBuffer bytes the case left allocated (after a GC before it; garbage included). */
  arrayBytes: number;
  /** Growth of the process's peak RSS above its RSS before the case (0 when the peak did not move). */
  rssJump: number;
}

let gcFn: (() => void) | undefined | null;
/** `gc()` when it can be had (exposed on demand). */
export function collectGarbage(): void {
  if (gcFn === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    } catch {
      gcFn = null;
    }
  }
  gcFn?.();
}

/** Runs one case in this process. */
export function runCase(target: FuzzTarget, c: FuzzCase, maxBytes: number, gc = true): CaseResult {
  if (gc) collectGarbage();
  const before = process.memoryUsage();
  const peakBefore = process.resourceUsage().maxRSS * 1024;
  const t0 = performance.now();
  let outcome: CaseResult['outcome'] = 'ok';
  let code: string | undefined;
  let message: string | undefined;
  try {
    target.read(c.bytes, maxBytes);
  } catch (e) {
    const err = e as { name?: unknown; code?: unknown; message?: unknown };
    message = String(err?.message ?? e).slice(0, 300);
    if (e instanceof Error && err.name === 'BasisError' && typeof err.code === 'string') {
      const c = err.code;
      code = c;
      outcome = (target.accept ?? ['BAD_FILE']).includes(c) ? 'rejected' : 'wrong-code';
    } else {
      code = err instanceof Error ? err.name : typeof e;
      outcome = 'crash';
    }
  }
  const ms = performance.now() - t0;
  const after = process.memoryUsage().arrayBuffers;
  const peakAfter = process.resourceUsage().maxRSS * 1024;
  return {
    id: c.id,
    kind: c.kind,
    outcome,
    ...(code === undefined ? {} : { code }),
    ...(message === undefined ? {} : { message }),
    ms,
    arrayBytes: Math.max(0, after - before.arrayBuffers),
    rssJump: peakAfter > peakBefore ? peakAfter - before.rss : 0,
  };
}

/** Totals over a run of cases of one format. */
export interface FuzzReport {
  format: string;
  cases: number;
  ok: number;
  rejected: number;
  crashes: number;
  wrongCodes: number;
  hangs: number;
  /** Cases slower than `slowMs`. */
  slow: number;
  /** Cases whose allocation (array bytes or peak-RSS growth) exceeded the allowance. */
  overBudget: number;
  maxMs: number;
  maxArrayBytes: number;
  maxRssJump: number;
  /** Peak RSS of the process that ran the cases. */
  peakRss: number;
  seconds: number;
  /** The failures (crash, wrong code, hang, over budget: up to 100; slow: the first 10), for reproduction. */
  failures: (Pick<CaseResult, 'id' | 'kind' | 'outcome' | 'code' | 'message' | 'ms' | 'arrayBytes' | 'rssJump'> & { why: string })[];
}

/** Settings of a run. */
export interface FuzzSettings {
  seed: number;
  /** The budget given to the reader. */
  maxBytes: number;
  /** A case slower than this counts as slow (a hang when it never ends; the campaign kills it). */
  slowMs: number;
  /** Most a case may allocate: by default 2 × maxBytes + 64 MiB (the input, its output, transient copies). */
  allowance?: number;
}

export function emptyReport(format: string): FuzzReport {
  return { format, cases: 0, ok: 0, rejected: 0, crashes: 0, wrongCodes: 0, hangs: 0, slow: 0, overBudget: 0, maxMs: 0, maxArrayBytes: 0, maxRssJump: 0, peakRss: 0, seconds: 0, failures: [] };
}

/** Adds one case's result to a report. */
export function record(report: FuzzReport, r: CaseResult, s: FuzzSettings): void {
  const allowance = s.allowance ?? 2 * s.maxBytes + 64 * 2 ** 20;
  report.cases++;
  if (r.outcome === 'ok') report.ok++;
  else if (r.outcome === 'rejected') report.rejected++;
  else if (r.outcome === 'crash') report.crashes++;
  else report.wrongCodes++;
  const slow = r.ms > s.slowMs;
  if (slow) report.slow++;
  const over = r.arrayBytes > allowance || r.rssJump > allowance;
  if (over) report.overBudget++;
  report.maxMs = Math.max(report.maxMs, r.ms);
  report.maxArrayBytes = Math.max(report.maxArrayBytes, r.arrayBytes);
  report.maxRssJump = Math.max(report.maxRssJump, r.rssJump);
  const why = r.outcome === 'crash' || r.outcome === 'wrong-code' ? r.outcome : over ? 'over budget' : slow ? 'slow' : '';
  // crashes, wrong codes and over-budget cases are always listed (up to 100); slow ones only while few are
  const listed = why === 'slow' ? report.failures.length < 10 : report.failures.length < 100;
  if (why !== '' && listed) {
    const { id, kind, outcome, code, message, ms, arrayBytes, rssJump } = r;
    report.failures.push({ id, kind, outcome, ...(code === undefined ? {} : { code }), ...(message === undefined ? {} : { message }), ms, arrayBytes, rssJump, why });
  }
}

/**
 * Runs cases `from` .. `to - 1` of `target` in this process (the test-suite mode; the campaign
 * runs the same cases in watched child processes, which also catch hangs and fatal crashes).
 *
 * @example
 * ```ts
 * const r = fuzzInProcess(npzTarget, { from: 0, to: 300, seed: 1, maxBytes: 32 * 2 ** 20, slowMs: 2000 });
 * expect(r.crashes).toBe(0);
 * ```
 */
export function fuzzInProcess(target: FuzzTarget, s: FuzzSettings & { from: number; to: number; gc?: boolean }): FuzzReport {
  const report = emptyReport(target.format);
  const t0 = performance.now();
  for (let id = s.from; id < s.to; id++) record(report, runCase(target, makeCase(target, s.seed, id), s.maxBytes, (s.gc ?? true) && id % GC_EVERY === 0), s);
  report.seconds = (performance.now() - t0) / 1000;
  report.peakRss = process.resourceUsage().maxRSS * 1024;
  return report;
}

/** A byte count in MiB for tables. */
export const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** One line per format. */
export function formatReports(reports: FuzzReport[], s: FuzzSettings): string {
  const head = ['format', 'cases', 'ok', 'rejected', 'crashes', 'wrong code', 'hangs', 'slow', 'over budget', 'max case', 'max alloc/case', 'peak RSS', 'time'];
  const rows = reports.map((r) => [
    r.format,
    String(r.cases),
    String(r.ok),
    String(r.rejected),
    String(r.crashes),
    String(r.wrongCodes),
    String(r.hangs),
    String(r.slow),
    String(r.overBudget),
    `${r.maxMs.toFixed(0)} ms`,
    mib(Math.max(r.maxArrayBytes, r.maxRssJump)),
    mib(r.peakRss),
    `${r.seconds.toFixed(1)} s`,
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(w[i] as number) : c.padStart(w[i] as number))).join('  ');
  const out = [line(head), ...rows.map(line)];
  out.push(`(seed ${s.seed}; readers given maxBytes = ${mib(s.maxBytes)}; over budget = a case allocating more than ${mib(s.allowance ?? 2 * s.maxBytes + 64 * 2 ** 20)}; slow = over ${s.slowMs} ms)`);
  for (const r of reports) {
    for (const f of r.failures) out.push(`  ${r.format} case ${f.id} (${f.kind}): ${f.why}${f.code === undefined ? '' : ` ${f.code}`}, ${f.ms.toFixed(0)} ms, ${mib(Math.max(f.arrayBytes, f.rssJump))}${f.message === undefined ? '' : `: ${f.message.slice(0, 160)}`}`);
  }
  return out.join('\n');
}
