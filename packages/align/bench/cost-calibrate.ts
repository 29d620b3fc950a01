// Calibrates the cost model of src/cost.ts on this machine: measures every metric's time and peak
// memory (bench/cost-child.ts, one fresh process per metric and shape) on a few shapes, then fits, per metric,
// non-negative coefficients of the terms its algorithm has (bytes: n(dx+dy), dx·dy+dx²+dy², n², 1 MiB;
// seconds: n(dx+dy), n(dx·dy+dx²+dy²), (dx+dy)³, n²(dx+dy), n² log2 n) by least squares on
// relative error. Prints the fitted table (paste into COEFFS of src/cost.ts) and each shape's
// estimate/measured ratio. Usage: nice -n 19 tsx --conditions=@basis/source bench/cost-calibrate.ts [ids] [--from LOG]
// (CALIBRATE_SHAPES=2000x64x96,... for other shapes)
import { execFile } from 'node:child_process';
import { listMetrics } from '../src/index.js';
import { N2_METRICS, bytesTerms, secondsTerms } from '../src/cost.js';

// CALIBRATE_SHAPES=NxDXxDY,... replaces them (riemann's was fitted with a fifth, 1000x768x512,
// where N < dx + dy takes its N x N route)
const SHAPES: [number, number, number][] = process.env['CALIBRATE_SHAPES']?.split(',').map((s) => s.split('x').map(Number) as [number, number, number]) ?? [
  [2000, 64, 96],
  [2000, 384, 256],
  [4000, 128, 128],
  [3000, 256, 192],
];
const ids = process.argv[2] !== undefined && !process.argv[2].startsWith('--') ? process.argv[2].split(',') : listMetrics().map((d) => d.id);
interface Row { id: string; n: number; dx: number; dy: number; seconds: number; peakBytes: number }
const rows: Row[] = [];
// one fresh process per (metric, shape): the engine keeps workspaces between calls, so a metric run
// after another would borrow memory already mapped; plus `compare` with all of them per shape
const jobs: [string, number, number, number][] = [];
for (const [n, dx, dy] of SHAPES) {
  for (const id of ids) jobs.push([id, n, dx, dy]);
  if (ids.length > 1) jobs.push([ids.join(','), n, dx, dy]);
}
const runOne = ([id, n, dx, dy]: [string, number, number, number]): Promise<void> =>
  new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--conditions=@basis/source', '--import', 'tsx', 'bench/cost-child.ts', id, String(n), String(dx), String(dy)],
      { encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '65536', MALLOC_TRIM_THRESHOLD_: '65536', BASIS_THREADS: '1' } },
      (err, out) => {
        if (err) return reject(err as Error);
        // the child prints each id, then (for several) `compare` with all: keep the last line
        const r = JSON.parse(out.trim().split('\n').at(-1)!) as Row;
        rows.push(r);
        console.error(`${r.id.length > 30 ? 'compare(all)' : r.id} ${n}x${dx}/${dy}: ${r.seconds.toFixed(3)} CPU s, ${(r.peakBytes / 1e6).toFixed(1)} MB`);
        resolve();
      },
    );
  });
// --from LOG: refit from the measurements (stderr) of an earlier run instead of measuring again
const from = process.argv.indexOf('--from');
if (from > 0) {
  const { readFileSync } = await import('node:fs');
  for (const line of readFileSync(process.argv[from + 1]!, 'utf8').split('\n')) {
    const m = /^(\S+) (\d+)x(\d+)\/(\d+): ([\d.]+) CPU s, ([\d.]+) MB$/.exec(line);
    if (m !== null) rows.push({ id: m[1] === 'compare(all)' ? ids.join(',') : m[1]!, n: +m[2]!, dx: +m[3]!, dy: +m[4]!, seconds: +m[5]!, peakBytes: +m[6]! * 1e6 });
  }
} else {
  let next = 0;
  await Promise.all([0, 1].map(async () => {
    while (next < jobs.length) await runOne(jobs[next++]!);
  }));
}

/** Least squares on relative error over every subset of the terms; the best with all coefficients >= 0. */
function nnls(A: number[][], y: number[]): number[] {
  const k = A[0]!.length;
  let best: number[] = new Array<number>(k).fill(0);
  let bestErr = Infinity;
  for (let mask = 1; mask < 1 << k; mask++) {
    const cols = [...Array(k).keys()].filter((j) => mask & (1 << j));
    // normal equations on rows scaled by 1/y (relative error)
    const M = cols.map(() => new Array<number>(cols.length).fill(0));
    const v = new Array<number>(cols.length).fill(0);
    A.forEach((row, i) => {
      const w = 1 / Math.max(y[i]!, 1e-12);
      cols.forEach((a, p) => {
        v[p] = v[p]! + row[a]! * w * y[i]! * w;
        const Mp = M[p]!;
        cols.forEach((b, q) => (Mp[q] = Mp[q]! + row[a]! * w * row[b]! * w));
      });
    });
    const c = solve(M, v);
    if (c === null || c.some((x) => !(x >= 0))) continue;
    const full = new Array<number>(k).fill(0);
    cols.forEach((a, p) => (full[a] = c[p]!));
    const err = A.reduce((s, row, i) => s + (row.reduce((t, x, j) => t + x * full[j]!, 0) / y[i]! - 1) ** 2, 0);
    if (err < bestErr) {
      bestErr = err;
      best = full;
    }
  }
  return best;
}
function solve(M: number[][], v: number[]): number[] | null {
  const n = v.length;
  const a = M.map((r, i) => [...r, v[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    if (Math.abs(a[p]![c]!) < 1e-300) return null;
    [a[c], a[p]] = [a[p]!, a[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / a[c]![c]!;
      for (let j = c; j <= n; j++) a[r]![j]! -= f * a[c]![j]!;
    }
  }
  return a.map((r, i) => r[n]! / r[i]!);
}

const table: string[] = [];
for (const id of ids) {
  const mine = rows.filter((r) => r.id === id);
  const n2 = N2_METRICS.has(id);
  const b = nnls(mine.map((r) => bytesTerms(r.n, r.dx, r.dy, n2)), mine.map((r) => Math.max(r.peakBytes, 1e5)));
  const s = nnls(mine.map((r) => secondsTerms(r.n, r.dx, r.dy, n2)), mine.map((r) => Math.max(r.seconds, 1e-4)));
  const fmt = (v: number[]) => `[${v.map((x) => (x === 0 ? '0' : x.toPrecision(3))).join(', ')}]`;
  table.push(`  '${id}': { bytes: ${fmt(b)}, seconds: ${fmt(s)} },`);
  for (const r of mine) {
    const eb = bytesTerms(r.n, r.dx, r.dy, n2).reduce((t, x, j) => t + x * b[j]!, 0);
    const es = secondsTerms(r.n, r.dx, r.dy, n2).reduce((t, x, j) => t + x * s[j]!, 0);
    console.error(`  ${id} ${r.n}x${r.dx}/${r.dy}: bytes est/measured ${(eb / Math.max(r.peakBytes, 1e5)).toFixed(2)}, seconds ${(es / r.seconds).toFixed(2)}`);
  }
}
console.log(table.join('\n'));
for (const r of rows.filter((x) => x.id.includes(','))) console.log(`// compare(all) ${r.n}x${r.dx}/${r.dy}: ${r.seconds.toFixed(2)} s, peak ${(r.peakBytes / 1e6).toFixed(1)} MB`);
