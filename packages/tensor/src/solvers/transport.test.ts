import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Matrix } from '../matrix.js';
import { linearSumAssignment } from './lsap.js';
import { exactTransport } from './transport.js';
import type { ExactTransportResult } from './transport.js';
import { randomSimplex, uniformMatrix } from './test-helpers.js';

/**
 * Checks the result against the problem data alone: a feasible plan, a feasible dual and equal
 * objectives (which proves optimality), the reported cost and marginal error.
 */
function expectOptimal(a: ArrayLike<number>, b: ArrayLike<number>, C: Matrix, r: ExactTransportResult, maximize = false): void {
  const { rows: m, cols: n } = C;
  const P = r.plan;
  expect(P.rows).toBe(m);
  expect(P.cols).toBe(n);
  const scale = Math.max(1, ...Array.from(C.data, Math.abs));
  let mass = 0;
  for (let i = 0; i < m; i++) mass += a[i] as number;
  let cost = 0;
  let nnz = 0;
  let merr = 0;
  const colSums = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) {
      const p = P.get(i, j);
      expect(p).toBeGreaterThanOrEqual(0);
      if (p > 0) nnz++;
      s += p;
      colSums[j] = (colSums[j] as number) + p;
      cost += p * C.get(i, j);
      const slack = C.get(i, j) - (r.f[i] as number) - (r.g[j] as number);
      if (maximize) expect(slack).toBeLessThanOrEqual(1e-12 * scale);
      else expect(slack).toBeGreaterThanOrEqual(-1e-12 * scale);
    }
    merr = Math.max(merr, Math.abs(s - (a[i] as number)));
  }
  for (let j = 0; j < n; j++) merr = Math.max(merr, Math.abs((colSums[j] as number) - (b[j] as number)));
  expect(merr).toBeLessThanOrEqual(1e-12 * Math.max(1, mass));
  expect(Math.abs(r.marginalError - merr)).toBeLessThanOrEqual(1e-15 * Math.max(1, mass));
  expect(nnz).toBeLessThanOrEqual(m + n - 1); // a vertex of the transportation polytope
  expect(Math.abs(r.cost - cost)).toBeLessThanOrEqual(1e-12 * scale * Math.max(1, mass));
  let dual = 0;
  for (let i = 0; i < m; i++) dual += (a[i] as number) * (r.f[i] as number);
  for (let j = 0; j < n; j++) dual += (b[j] as number) * (r.g[j] as number);
  expect(Math.abs(dual - r.cost)).toBeLessThanOrEqual(1e-12 * scale * Math.max(1, mass));
}

/**
 * Optimum by enumerating every basis of the transportation polytope: each spanning tree of the
 * complete bipartite graph determines one basic solution (by leaf elimination); the feasible ones
 * are the vertices, and a linear objective attains its optimum at one of them.
 */
function vertexOptimum(a: number[], b: number[], C: Matrix, maximize: boolean): number {
  const m = a.length;
  const n = b.length;
  const E = m * n;
  const k = m + n - 1;
  let best = maximize ? -Infinity : Infinity;
  const chosen: number[] = [];
  const tryTree = (): void => {
    // spanning tree test with union-find
    const par = Array.from({ length: m + n }, (_, i) => i);
    const find = (x: number): number => (par[x] === x ? x : (par[x] = find(par[x] as number)));
    for (const e of chosen) {
      const u = find(Math.floor(e / n));
      const v = find(m + (e % n));
      if (u === v) return;
      par[u] = v;
    }
    // leaf elimination
    const rest = [...a, ...b.map((x) => -x)];
    const arcs = new Set(chosen);
    const deg = new Array<number>(m + n).fill(0);
    for (const e of chosen) {
      const [u, v] = [Math.floor(e / n), m + (e % n)];
      deg[u] = (deg[u] as number) + 1;
      deg[v] = (deg[v] as number) + 1;
    }
    const flow = new Map<number, number>();
    while (arcs.size > 0) {
      let progressed = false;
      for (const e of arcs) {
        const i = Math.floor(e / n);
        const j = m + (e % n);
        if (deg[i] === 1) {
          flow.set(e, rest[i] as number);
          rest[j] = (rest[j] as number) + (rest[i] as number);
        } else if (deg[j] === 1) {
          flow.set(e, -(rest[j] as number));
          rest[i] = (rest[i] as number) + (rest[j] as number);
        } else continue;
        deg[i] = (deg[i] as number) - 1;
        deg[j] = (deg[j] as number) - 1;
        arcs.delete(e);
        progressed = true;
        break;
      }
      if (!progressed) return;
    }
    let obj = 0;
    for (const [e, x] of flow) {
      if (x < -1e-12) return;
      obj += x * C.get(Math.floor(e / n), e % n);
    }
    best = maximize ? Math.max(best, obj) : Math.min(best, obj);
  };
  const rec = (start: number): void => {
    if (chosen.length === k) {
      tryTree();
      return;
    }
    for (let e = start; e <= E - (k - chosen.length); e++) {
      chosen.push(e);
      rec(e + 1);
      chosen.pop();
    }
  };
  rec(0);
  return best;
}

describe('exactTransport', () => {
  it('solves the documented example', () => {
    const r = exactTransport([0.5, 0.5], [0.25, 0.75], [
      [0, 1],
      [1, 0],
    ]);
    expect(r.plan.toArray()).toEqual([
      [0.25, 0.25],
      [0, 0.5],
    ]);
    expect(r.cost).toBe(0.25);
  });

  it('matches the best vertex of the transportation polytope on tiny problems (integer masses, ties)', () => {
    const problem = fc
      .record({ m: fc.integer({ min: 1, max: 4 }), n: fc.integer({ min: 1, max: 4 }), ints: fc.boolean(), maximize: fc.boolean() })
      .filter(({ m, n }) => m * n <= 12)
      .chain(({ m, n, ints, maximize }) =>
        fc.record({
          m: fc.constant(m),
          n: fc.constant(n),
          maximize: fc.constant(maximize),
          ints: fc.constant(ints),
          // masses are the margins of a random integer table: balanced, often with zeros
          table: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: m * n, maxLength: m * n }),
          cost: fc.array(ints ? fc.integer({ min: 0, max: 2 }) : fc.double({ min: -5, max: 5, noNaN: true }), {
            minLength: m * n,
            maxLength: m * n,
          }),
        }),
      )
      .filter(({ table }) => table.some((x) => x > 0));
    fc.assert(
      fc.property(problem, ({ m, n, maximize, ints, table, cost }) => {
        const a = new Array<number>(m).fill(0);
        const b = new Array<number>(n).fill(0);
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            a[i] = (a[i] as number) + (table[i * n + j] as number);
            b[j] = (b[j] as number) + (table[i * n + j] as number);
          }
        const C = Matrix.fromArray(m, n, cost);
        const r = exactTransport(a, b, C, { maximize });
        expectOptimal(a, b, C, r, maximize);
        const want = vertexOptimum(a, b, C, maximize);
        if (ints) expect(r.cost).toBe(want);
        else expect(Math.abs(r.cost - want)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want)));
      }),
      { numRuns: 150, seed: 4242 },
    );
  });

  it('equals LAP / n for uniform square marginals (Birkhoff), with random reals and with ties', () => {
    for (const [n, seed, ties] of [
      [40, 1, false],
      [64, 2, true],
    ] as const) {
      const C = uniformMatrix(n, n, seed);
      if (ties) for (let k = 0; k < C.size; k++) C.data[k] = Math.floor((C.data[k] as number) * 3);
      const u = new Float64Array(n).fill(1 / n);
      const r = exactTransport(u, u, C);
      expectOptimal(u, u, C, r);
      const lap = linearSumAssignment(C).cost / n;
      expect(Math.abs(r.cost - lap)).toBeLessThanOrEqual(1e-12);
      const rm = exactTransport(u, u, C, { maximize: true });
      expectOptimal(u, u, C, rm, true);
      expect(Math.abs(rm.cost - linearSumAssignment(C, { maximize: true }).cost / n)).toBeLessThanOrEqual(1e-12);
    }
  });

  it('solves unequal sizes (20 x 12, marginals 1/20 and 1/12) like the 60 x 60 expanded assignment', () => {
    const C = uniformMatrix(20, 12, 9);
    const a = new Float64Array(20).fill(1 / 20);
    const b = new Float64Array(12).fill(1 / 12);
    const r = exactTransport(a, b, C);
    expectOptimal(a, b, C, r);
    // each row split into 3 copies of mass 1/60, each column into 5: OT = LAP / 60
    const big = new Matrix(60, 60);
    for (let i = 0; i < 60; i++) for (let j = 0; j < 60; j++) big.set(i, j, C.get(Math.floor(i / 3), Math.floor(j / 5)));
    expect(Math.abs(r.cost - linearSumAssignment(big).cost / 60)).toBeLessThanOrEqual(1e-12);
  });

  it('is optimal with exact marginals on larger random problems', () => {
    for (const [m, n, seed] of [
      [100, 80, 3],
      [7, 150, 4],
      [150, 5, 5],
    ] as const) {
      const a = randomSimplex(m, seed);
      const b = randomSimplex(n, seed + 100);
      const C = uniformMatrix(m, n, seed + 200);
      const r = exactTransport(a, b, C);
      expectOptimal(a, b, C, r);
      expect(r.iterations).toBeGreaterThan(0);
    }
  });

  it('handles degenerate inputs: constant costs, zero masses, identical marginals with a zero-diagonal cost', () => {
    const n = 30;
    const u = new Float64Array(n).fill(1 / n);
    const flat = new Matrix(n, n).fill(0.7);
    const r = exactTransport(u, u, flat);
    expectOptimal(u, u, flat, r);
    expect(Math.abs(r.cost - 0.7)).toBeLessThanOrEqual(1e-14);

    const a = randomSimplex(12, 8);
    const D = new Matrix(12, 12);
    for (let i = 0; i < 12; i++) for (let j = 0; j < 12; j++) D.set(i, j, Math.abs(i - j));
    const s = exactTransport(a, a, D);
    expectOptimal(a, a, D, s);
    expect(s.cost).toBe(0);
    for (let i = 0; i < 12; i++) expect(s.plan.get(i, i)).toBe(a[i]);

    const az = new Float64Array([0, 0.5, 0, 0.5, 0]);
    const bz = new Float64Array([0.25, 0, 0.75]);
    const Z = uniformMatrix(5, 3, 10);
    const z = exactTransport(az, bz, Z);
    expectOptimal(az, bz, Z, z);
    for (const i of [0, 2, 4]) expect(Array.from(z.plan.row(i))).toEqual([0, 0, 0]);

    // 1 x n and m x 1 have a single feasible plan
    const row = exactTransport([1], [0.2, 0.3, 0.5], [[3, 1, 2]]);
    expect(Array.from(row.plan.data)).toEqual([0.2, 0.3, 0.5]);
    const col = exactTransport([0.2, 0.8], [1], [[3], [1]]);
    expect(Array.from(col.plan.data)).toEqual([0.2, 0.8]);
  });

  it('accepts masses equal up to rounding and keeps marginal errors below 1e-12', () => {
    const a = randomSimplex(25, 21);
    const b = randomSimplex(31, 22);
    b[3] = (b[3] as number) + 3e-13;
    const C = uniformMatrix(25, 31, 23);
    const r = exactTransport(a, b, C);
    expect(r.marginalError).toBeLessThanOrEqual(1e-12);
  });

  it('is deterministic', () => {
    const u = new Float64Array(30).fill(1 / 30);
    const C = uniformMatrix(30, 30, 31);
    for (let k = 0; k < C.size; k++) C.data[k] = Math.floor((C.data[k] as number) * 2);
    const x = exactTransport(u, u, C);
    const y = exactTransport(u, u, C.clone());
    expect(Array.from(x.plan.data)).toEqual(Array.from(y.plan.data));
    expect(x.iterations).toBe(y.iterations);
  });

  it('rejects bad input with precise codes', () => {
    const C = [
      [1, 2],
      [3, 4],
    ];
    const code = (c: string): Error => expect.objectContaining({ code: c }) as Error;
    expect(() => exactTransport([0.5, 0.5], [1.5, -0.5], C)).toThrow(code('INVALID_ARGUMENT'));
    expect(() => exactTransport([0.5, 0.5], [1.5, -0.5], C)).toThrow(/b\[1\] is -0.5/);
    expect(() => exactTransport([0.5, 0.5], [0.5, 0.6], C)).toThrow(code('INFEASIBLE'));
    expect(() => exactTransport([0, 0], [0, 0], C)).toThrow(code('INFEASIBLE'));
    expect(() => exactTransport([0.5, 0.5], [0.5, 0.5], [[1, NaN], [0, 0]])).toThrow(code('NON_FINITE_INPUT'));
    expect(() => exactTransport([0.5, 0.5], [0.5, 0.5], [[1, Infinity], [0, 0]])).toThrow(code('NON_FINITE_INPUT'));
    expect(() => exactTransport([0.5, NaN], [0.5, 0.5], C)).toThrow(code('NON_FINITE_INPUT'));
    expect(() => exactTransport([1], [0.5, 0.5], C)).toThrow(code('SHAPE_MISMATCH'));
    expect(() => exactTransport([], [], new Matrix(0, 0))).toThrow(code('TOO_SMALL'));
    expect(() => exactTransport([0.5, 0.5], [0.5, 0.5], C, { massTolerance: -1 })).toThrow(code('INVALID_ARGUMENT'));
    expect(() => exactTransport([0.5, 0.5], [0.5, 0.5], C, { maxIter: 0 })).toThrow(code('NOT_CONVERGED'));
  });
});
