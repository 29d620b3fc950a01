// Side-by-side tables of `pnpm bench`: plain text tables, and the acceptance rows of issue 14
// (basis beside its peer at the same thread count, with the provider, core type and threads of
// each side).

/** Seconds with three significant digits (`0.123`, `1.23`, `12.3`, `123`); `-` for none. */
export function fmtSeconds(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '-';
  if (s < 0.01) return s.toFixed(4);
  if (s < 1) return s.toFixed(3);
  if (s < 10) return s.toFixed(2);
  if (s < 100) return s.toFixed(1);
  return s.toFixed(0);
}

/** `1.23x`, or `-` when either side is missing. */
export function fmtRatio(a: number | null | undefined, b: number | null | undefined): string {
  if (a === null || a === undefined || b === null || b === undefined || !(b > 0)) return '-';
  return `${(a / b).toFixed(2)}x`;
}

/** A text table: first row is the header; column 0 left-aligned, the rest right-aligned unless `left` says so. */
export function formatTable(rows: string[][], opts: { left?: number[] } = {}): string {
  const header = rows[0];
  if (header === undefined) return '';
  const left = new Set([0, ...(opts.left ?? [])]);
  const widths = header.map((_, j) => Math.max(...rows.map((r) => (r[j] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, j) => (left.has(j) ? c.padEnd(widths[j] ?? 0) : c.padStart(widths[j] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** One side of an acceptance row: time and what computed it. */
export interface Measure {
  /** Wall seconds (null: not measured, or failed; see note). */
  seconds: number | null;
  /** Provider, core type and threads, e.g. `native Zen 2t`, `numpy-system Zen 2t`, `wasm 1t`. */
  tag: string;
  /** Process CPU seconds, when recorded. */
  cpu?: number;
  note?: string;
}

/** One acceptance row: basis beside its peer at the same thread count. */
export interface AcceptanceRow {
  /** Group heading, e.g. `metrics @10000x1024`, `eigh/svd`, `all-pairs audit`, `training`, `demo`. */
  section: string;
  name: string;
  /** Threads of both sides (the row's setting). */
  threads: number;
  /** basis as found (native engine when a BLAS was found). */
  basis: Measure;
  /** The peer (numpy/scipy or PyTorch on the same BLAS; for the demo: today's WebAssembly-only run). */
  peer: Measure | null;
  /** Goal: basis/peer ≤ maxRatio (1: no slower; 1/3: at least 3× faster). */
  maxRatio: number;
  /** Other variants shown beside (`basis wasm`, `numpy-pyenv`, `stock wasm`, ...). */
  others?: Record<string, Measure>;
}

/** basis/peer, or null when a side is missing. */
export function rowRatio(r: AcceptanceRow): number | null {
  const a = r.basis.seconds;
  const b = r.peer?.seconds;
  return a === null || b === null || b === undefined || !(b > 0) ? null : a / b;
}

/** Ratios up to this factor above the goal are reported as ties (`~`): run-to-run noise on one library. */
export const TIE = 1.05;

/**
 * `ok` when basis/peer ≤ maxRatio, `~` (a tie, not a pass) when within {@link TIE} of it,
 * `MISSED` otherwise, `-` when a side is missing.
 */
export function rowVerdict(r: AcceptanceRow): 'ok' | '~' | 'MISSED' | '-' {
  const q = rowRatio(r);
  return q === null ? '-' : q <= r.maxRatio ? 'ok' : q <= r.maxRatio * TIE ? '~' : 'MISSED';
}

function goal(maxRatio: number): string {
  if (maxRatio === 1) return '<= 1x';
  if (maxRatio < 1) return `>= ${(1 / maxRatio).toFixed(0)}x faster`;
  return `<= ${maxRatio}x`;
}

/** The acceptance table, grouped by section, plus a verdict count. */
export function formatAcceptance(rows: AcceptanceRow[]): string {
  const out: string[] = [];
  const sections = [...new Set(rows.map((r) => r.section))];
  for (const s of sections) {
    const rs = rows.filter((r) => r.section === s);
    const table: string[][] = [['row', 'thr', 'basis (s)', 'basis side', 'peer (s)', 'peer side', 'basis/peer', 'goal', 'verdict', 'cpu ratio', 'also']];
    for (const r of rs) {
      const q = rowRatio(r);
      const also = Object.entries(r.others ?? {})
        .map(([, m]) => `${m.tag}: ${m.seconds === null ? (m.note ?? '-') : fmtSeconds(m.seconds)}${m.seconds !== null && r.basis.seconds !== null ? ` (${fmtRatio(m.seconds, r.basis.seconds)})` : ''}`)
        .join('; ');
      table.push([
        r.name,
        String(r.threads),
        r.basis.seconds === null ? (r.basis.note ?? '-') : fmtSeconds(r.basis.seconds),
        r.basis.tag,
        r.peer === null ? '-' : r.peer.seconds === null ? (r.peer.note ?? '-') : fmtSeconds(r.peer.seconds),
        r.peer?.tag ?? '-',
        q === null ? '-' : `${q.toFixed(2)}x`,
        goal(r.maxRatio),
        rowVerdict(r),
        fmtRatio(r.basis.cpu, r.peer?.cpu),
        also,
      ]);
    }
    out.push(`${s}:`, formatTable(table, { left: [3, 5, 10] }), '');
  }
  const v = rows.map(rowVerdict);
  out.push(
    "'cpu ratio': basis/peer process CPU seconds (all threads; a busy machine inflates wall times more than CPU times); 'also': other variants of either side at the row's threads, with (their time / basis time)",
  );
  out.push(
    `acceptance: ${v.filter((x) => x === 'ok').length} ok, ${v.filter((x) => x === '~').length} within ${Math.round((TIE - 1) * 100)}% of the goal (~), ${v.filter((x) => x === 'MISSED').length} missed, ${v.filter((x) => x === '-').length} without a peer (of ${rows.length} rows)`,
  );
  return out.join('\n');
}
