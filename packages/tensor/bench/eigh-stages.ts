/**
 * CPU seconds of the stages of `eigh` with eigenvectors, old path (unblocked reduction, Q formed
 * explicitly, implicit QL with the rotations accumulated into Q) beside the current one
 * (blocked reduction, tridiagonal divide and conquer, blocked back-transformation Q Z), on
 * random symmetric matrices. Run from packages/tensor:
 *
 *   nice -n 10 npx tsx --conditions=@basis/source bench/eigh-stages.ts [256,512,1024]
 *
 * Each stage is timed on its own (best of REPS runs after WARM warm-ups) with process.cpuUsage.
 */
import { loadavg } from 'node:os';
import { createRng } from '@basis/tensor';
import { formQ, tridiagonalize } from '../src/linalg/eigh.js';
import { applyReflectorsLeft } from '../src/linalg/householder.js';
import { tridiagonalizeBlocked } from '../src/linalg/tridiag-blocked.js';
import { tridiagEigDC } from '../src/linalg/tridiag-dc.js';
import { tql } from '../src/linalg/tridiag-ql.js';

const REPS = 3;
const WARM = 2; // warm-up runs per size (JIT)
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const sizes = (process.argv[2] ?? '256,512,1024').split(',').map(Number);
const rows: string[][] = [['n', 'old: tridiag', 'formQ', 'QL+vectors', 'total', 'new: blocked tridiag', 'D&C', 'back-transform', 'total']];
for (const n of sizes) {
  const rng = createRng(n);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = rng.normal();
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
  const best = new Array<number>(6).fill(Infinity);
  for (let r = 0; r < WARM + REPS; r++) {
    const t: number[] = [cpu()];
    const d0 = new Float64Array(n), e0 = new Float64Array(n), b0 = new Float64Array(n);
    const w0 = tridiagonalize(a.slice(), n, d0, e0, b0);
    t.push(cpu());
    const Q = formQ(w0, n, b0);
    t.push(cpu());
    tql(d0, e0, n, Q);
    t.push(cpu());
    const d = new Float64Array(n), e = new Float64Array(n), b = new Float64Array(n);
    const w = tridiagonalizeBlocked(a, n, d, e, b);
    t.push(cpu());
    const Z = tridiagEigDC(d, e, n);
    t.push(cpu());
    applyReflectorsLeft(Z, n, n, n - 2, 1, w, (j) => j * n + j + 1, b);
    t.push(cpu());
    if (r < WARM) continue;
    for (let k = 0; k < 6; k++) best[k] = Math.min(best[k] as number, (t[k + 1] as number) - (t[k] as number));
  }
  const f = (x: number): string => x.toFixed(3);
  const [t1, t2, t3, t4, t5, t6] = best as [number, number, number, number, number, number];
  rows.push([String(n), f(t1), f(t2), f(t3), f(t1 + t2 + t3), f(t4), f(t5), f(t6), f(t4 + t5 + t6)]);
}
const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
for (const r of rows) console.log(r.map((c, j) => c.padStart(widths[j]!)).join('  '));
console.log(`CPU seconds, best of ${REPS}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
