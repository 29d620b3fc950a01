import { BasisError } from '../errors.js';
import { RotationLog } from './rotations.js';
import { EPS } from './validate.js';

/**
 * Implicit QL with shifts on the symmetric tridiagonal (d, e) (e[i] couples i and i+1), after
 * EISPACK tql2. Rotations are accumulated into the columns of V (row-major n x n) when given.
 * Eigenvalues are left unsorted in d.
 */
export function tql(d: Float64Array, e: Float64Array, n: number, V: Float64Array | null): void {
  e[n - 1] = 0;
  // Small problems (divide-and-conquer leaves) need only a small rotation buffer.
  const log = V === null ? null : new RotationLog(V, n, n, Math.min(16384, 4 * n * n + 64));
  let f = 0;
  let tst1 = 0;
  const maxIter = 60;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l] as number) + Math.abs(e[l] as number));
    let m = l;
    while (m < n - 1) {
      if (Math.abs(e[m] as number) <= EPS * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > maxIter) {
          throw new BasisError('NOT_CONVERGED', `eigh: QL iteration did not converge for eigenvalue ${l} after ${maxIter} sweeps`);
        }
        let g = d[l] as number;
        const el = e[l] as number;
        let p = ((d[l + 1] as number) - g) / (2 * el);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = el / (p + r);
        d[l + 1] = el * (p + r);
        const dl1 = d[l + 1] as number;
        let h = g - (d[l] as number);
        for (let i = l + 2; i < n; i++) d[i] = (d[i] as number) - h;
        f += h;
        p = d[m] as number;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1] as number;
        let s = 0;
        let s2 = 0;
        if (log) log.beginChain(true, l, m - l);
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          const ei = e[i] as number;
          g = c * ei;
          h = c * p;
          r = Math.hypot(p, ei);
          e[i + 1] = s * r;
          s = ei / r;
          c = p / r;
          p = c * (d[i] as number) - s * g;
          d[i + 1] = h + s * (c * g + s * (d[i] as number));
          if (log) log.push(c, -s);
        }
        p = (-s * s2 * c3 * el1 * (e[l] as number)) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l] as number) > EPS * tst1);
    }
    d[l] = (d[l] as number) + f;
    e[l] = 0;
  }
  if (log) log.finish();
}
