import { describe, expect, it } from 'vitest';
import { Matrix } from '../matrix.js';
import { sinkhorn, sinkhornBalance } from './sinkhorn.js';
import { exactTransport } from './transport.js';
import { randomSimplex, uniformMatrix } from './test-helpers.js';

function rowSums(P: Matrix): Float64Array {
  const out = new Float64Array(P.rows);
  for (let i = 0; i < P.rows; i++) for (let j = 0; j < P.cols; j++) out[i] = (out[i] as number) + P.get(i, j);
  return out;
}

function colSums(P: Matrix): Float64Array {
  const out = new Float64Array(P.cols);
  for (let i = 0; i < P.rows; i++) for (let j = 0; j < P.cols; j++) out[j] = (out[j] as number) + P.get(i, j);
  return out;
}

const l1 = (x: ArrayLike<number>, y: ArrayLike<number>): number => {
  let s = 0;
  for (let k = 0; k < x.length; k++) s += Math.abs((x[k] as number) - (y[k] as number));
  return s;
};

const entropy = (p: ArrayLike<number>): number => {
  let h = 0;
  for (let k = 0; k < p.length; k++) if ((p[k] as number) > 0) h -= (p[k] as number) * Math.log(p[k] as number);
  return h;
};

const code = (c: string): Error => expect.objectContaining({ code: c }) as Error;

describe('sinkhorn', () => {
  it('converges to the marginals within tol and has the Gibbs form of its potentials', () => {
    const a = randomSimplex(30, 1);
    const b = randomSimplex(40, 2);
    const C = uniformMatrix(30, 40, 3);
    const eps = 0.05;
    const r = sinkhorn(a, b, C, { epsilon: eps, tol: 1e-10 });
    expect(r.converged).toBe(true);
    expect(l1(rowSums(r.plan), a)).toBeLessThanOrEqual(1e-10);
    expect(l1(colSums(r.plan), b)).toBeLessThanOrEqual(1e-13);
    expect(r.marginalError).toBeLessThanOrEqual(1e-10 + 1e-13);
    let cost = 0;
    for (let i = 0; i < 30; i++)
      for (let j = 0; j < 40; j++) {
        const p = r.plan.get(i, j);
        expect(p).toBeGreaterThan(0);
        expect(Math.abs(p - Math.exp(((r.f[i] as number) + (r.g[j] as number) - C.get(i, j)) / eps))).toBeLessThanOrEqual(
          1e-15,
        );
        cost += p * C.get(i, j);
      }
    expect(Math.abs(r.cost - cost)).toBeLessThanOrEqual(1e-14);
    expect(r.iterations).toBeGreaterThan(1);
  });

  it('matches the closed form of a 2 x 2 problem', () => {
    const eps = 0.5;
    const r = sinkhorn([0.5, 0.5], [0.5, 0.5], [[0, 1], [1, 0]], { epsilon: eps, tol: 1e-14 });
    const k = Math.exp(-1 / eps);
    const p = 0.5 / (1 + k);
    expect(r.plan).toBeAllclose(
      Matrix.from([
        [p, 0.5 - p],
        [0.5 - p, p],
      ]),
      { rtol: 0, atol: 1e-13 },
    );
  });

  it('agrees with multiplicative balancing of exp(-C / epsilon)', () => {
    const a = randomSimplex(15, 4);
    const b = randomSimplex(11, 5);
    const C = uniformMatrix(15, 11, 6);
    const eps = 0.2;
    const r = sinkhorn(a, b, C, { epsilon: eps, tol: 1e-13 });
    const K = new Matrix(15, 11, C.data.map((c) => Math.exp(-c / eps)));
    const s = sinkhornBalance(K, { rowSums: a, colSums: b, tol: 1e-13 });
    expect(r.plan).toBeAllclose(s.matrix, { rtol: 1e-9, atol: 1e-14 });
  });

  it('approaches the exact OT cost as epsilon -> 0, within epsilon (H(a) + H(b))', () => {
    const a = randomSimplex(12, 7);
    const b = randomSimplex(9, 8);
    const C = uniformMatrix(12, 9, 9);
    const ot = exactTransport(a, b, C).cost;
    const bound = entropy(a) + entropy(b);
    const gaps: number[] = [];
    for (const eps of [0.3, 0.1, 0.03, 0.01, 0.003]) {
      const r = sinkhorn(a, b, C, { epsilon: eps, tol: 1e-12, maxIter: 100000, requireConvergence: true });
      const gap = r.cost - ot;
      // the plan is feasible up to 1e-12, so its cost cannot beat the exact optimum by more
      expect(gap).toBeGreaterThanOrEqual(-1e-11);
      expect(gap).toBeLessThanOrEqual(eps * bound + 1e-11);
      gaps.push(gap);
    }
    expect(gaps[gaps.length - 1] as number).toBeLessThan(0.05 * (gaps[0] as number));
    expect(gaps[gaps.length - 1] as number).toBeLessThan(0.003 * bound);
  });

  it('stays finite for a tiny epsilon and reports non-convergence instead of NaN', () => {
    const a = randomSimplex(20, 10);
    const b = randomSimplex(20, 11);
    const C = uniformMatrix(20, 20, 12, 100); // costs ~100, epsilon 1e-4: exp(-C/eps) underflows
    const r = sinkhorn(a, b, C, { epsilon: 1e-4, maxIter: 5, tol: 1e-14 });
    expect(r.converged).toBe(false);
    expect(r.iterations).toBe(5);
    expect(Number.isFinite(r.cost)).toBe(true);
    expect(Number.isFinite(r.marginalError)).toBe(true);
    expect(r.plan.isFinite()).toBe(true);
    expect(l1(colSums(r.plan), b)).toBeLessThanOrEqual(1e-12);
    expect(() => sinkhorn(a, b, C, { epsilon: 1e-4, maxIter: 5, tol: 1e-14, requireConvergence: true })).toThrow(
      code('NOT_CONVERGED'),
    );
  });

  it('gives zero rows and columns for zero masses', () => {
    const a = [0.25, 0, 0.75];
    const b = [0, 0.4, 0.6];
    const r = sinkhorn(a, b, uniformMatrix(3, 3, 13), { epsilon: 0.1 });
    expect(r.converged).toBe(true);
    expect(Array.from(r.plan.row(1))).toEqual([0, 0, 0]);
    expect(Array.from(r.plan.col(0))).toEqual([0, 0, 0]);
    expect(r.f[1]).toBe(-Infinity);
    expect(r.g[0]).toBe(-Infinity);
  });

  it('rejects bad input', () => {
    const C = [
      [0, 1],
      [1, 0],
    ];
    const u = [0.5, 0.5];
    expect(() => sinkhorn(u, u, C, { epsilon: 0 })).toThrow(code('INVALID_ARGUMENT'));
    expect(() => sinkhorn(u, u, C, { epsilon: NaN })).toThrow(code('INVALID_ARGUMENT'));
    expect(() => sinkhorn(u, u, C, undefined as unknown as { epsilon: number })).toThrow(code('INVALID_ARGUMENT'));
    expect(() => sinkhorn(u, u, C, { epsilon: 1, maxIter: 0 })).toThrow(code('INVALID_ARGUMENT'));
    expect(() => sinkhorn(u, u, C, { epsilon: 1, tol: -1 })).toThrow(code('INVALID_ARGUMENT'));
    expect(() => sinkhorn([1.5, -0.5], u, C, { epsilon: 1 })).toThrow(code('INVALID_ARGUMENT'));
    expect(() => sinkhorn([0.5, 0.6], u, C, { epsilon: 1 })).toThrow(code('INFEASIBLE'));
    expect(() => sinkhorn(u, u, [[0, NaN], [1, 0]], { epsilon: 1 })).toThrow(code('NON_FINITE_INPUT'));
    expect(() => sinkhorn([1], u, C, { epsilon: 1 })).toThrow(code('SHAPE_MISMATCH'));
    expect(() => sinkhorn([], [], new Matrix(0, 0), { epsilon: 1 })).toThrow(code('TOO_SMALL'));
  });
});

describe('sinkhornBalance', () => {
  it('makes a positive matrix doubly stochastic by diagonal scaling', () => {
    const K = uniformMatrix(25, 25, 20, 0.01);
    const r = sinkhornBalance(K, { tol: 1e-12 });
    expect(r.converged).toBe(true);
    expect(rowSums(r.matrix)).toBeAllclose(new Float64Array(25).fill(1), { rtol: 0, atol: 1e-12 });
    expect(colSums(r.matrix)).toBeAllclose(new Float64Array(25).fill(1), { rtol: 0, atol: 1e-13 });
    for (let i = 0; i < 25; i++)
      for (let j = 0; j < 25; j++)
        expect(r.matrix.get(i, j)).toBeCloseTo((r.rowScale[i] as number) * K.get(i, j) * (r.colScale[j] as number), 15);
  });

  it('matches the 2 x 2 closed form (the cross ratio is invariant)', () => {
    const K = [
      [1, 2],
      [3, 4],
    ];
    const r = sinkhornBalance(K, { tol: 1e-15 });
    const t = Math.sqrt((1 * 4) / (2 * 3)); // p / (1 - p)
    const p = t / (1 + t);
    expect(r.matrix).toBeAllclose(
      Matrix.from([
        [p, 1 - p],
        [1 - p, p],
      ]),
      { rtol: 0, atol: 1e-13 },
    );
  });

  it('leaves a doubly stochastic matrix unchanged and honours target sums on rectangles', () => {
    const J = new Matrix(4, 4).fill(0.25);
    expect(sinkhornBalance(J).matrix).toBeAllclose(J, { rtol: 0, atol: 1e-15 });
    const K = uniformMatrix(6, 9, 21, 0.1);
    const rs = [1, 2, 3, 1, 2, 3];
    const cs = [2, 2, 2, 1, 1, 1, 1, 1, 1];
    const r = sinkhornBalance(K, { rowSums: rs, colSums: cs, tol: 1e-12 });
    expect(rowSums(r.matrix)).toBeAllclose(rs, { rtol: 0, atol: 1e-12 });
    expect(colSums(r.matrix)).toBeAllclose(cs, { rtol: 0, atol: 1e-12 });
    // default targets of a rectangle: rows 1, columns m / n
    const d = sinkhornBalance(uniformMatrix(3, 6, 22, 0.1));
    expect(colSums(d.matrix)).toBeAllclose(new Float64Array(6).fill(0.5), { rtol: 0, atol: 1e-12 });
  });

  it('runs exactly maxIter iterations with tol 0, and reports a matrix without total support', () => {
    const K = uniformMatrix(5, 5, 23, 0.1);
    expect(sinkhornBalance(K, { tol: 0, maxIter: 7 }).iterations).toBe(7);
    const noSupport = [
      [1, 1],
      [0, 1],
    ];
    const r = sinkhornBalance(noSupport, { allowZeros: true, maxIter: 50 });
    expect(r.converged).toBe(false);
    expect(r.matrix.isFinite()).toBe(true);
    expect(() => sinkhornBalance(noSupport, { allowZeros: true, maxIter: 50, requireConvergence: true })).toThrow(
      code('NOT_CONVERGED'),
    );
    // with total support zeros are fine
    const perm = sinkhornBalance(
      [
        [0, 2, 1],
        [3, 0, 1],
        [1, 1, 0],
      ],
      { allowZeros: true, tol: 1e-12 },
    );
    expect(perm.converged).toBe(true);
  });

  it('rejects non-positive entries, zero rows and bad targets', () => {
    expect(() => sinkhornBalance([[1, 0], [1, 1]])).toThrow(code('INVALID_ARGUMENT'));
    expect(() => sinkhornBalance([[1, 0], [1, 1]])).toThrow(/K\[0, 1\] is 0/);
    expect(() => sinkhornBalance([[1, -1], [1, 1]], { allowZeros: true })).toThrow(code('INVALID_ARGUMENT'));
    expect(() => sinkhornBalance([[0, 0], [1, 1]], { allowZeros: true })).toThrow(code('INFEASIBLE'));
    expect(() => sinkhornBalance([[0, 1], [0, 1]], { allowZeros: true })).toThrow(/Column 0/);
    expect(() => sinkhornBalance([[1, Infinity], [1, 1]])).toThrow(code('NON_FINITE_INPUT'));
    expect(() => sinkhornBalance([[1, 2], [3, 4]], { rowSums: [1, 1], colSums: [1, 2] })).toThrow(code('INFEASIBLE'));
    expect(() => sinkhornBalance([[1, 2], [3, 4]], { rowSums: [1, 1, 1] })).toThrow(code('SHAPE_MISMATCH'));
    expect(() => sinkhornBalance(new Matrix(0, 3))).toThrow(code('TOO_SMALL'));
  });
});
