import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BasisError } from '../errors.js';
import { Matrix } from '../matrix.js';
import { linearSumAssignment, lsapKernel } from './lsap.js';
import { lsapKernelWasm, lsapWasmAvailable, lsapWasmInput, setLsapWasmMode } from './lsap-wasm.js';
import { uniformMatrix, uniformSource } from './test-helpers.js';

/** Best objective over every injective map of the shorter side into the longer one. */
function bruteForce(C: Matrix, maximize: boolean): number {
  const { rows: m, cols: n } = C;
  const short = Math.min(m, n);
  const long = Math.max(m, n);
  const at = (s: number, l: number): number => (m <= n ? C.get(s, l) : C.get(l, s));
  const used = new Array<boolean>(long).fill(false);
  let best = maximize ? -Infinity : Infinity;
  const rec = (s: number, acc: number): void => {
    if (s === short) {
      best = maximize ? Math.max(best, acc) : Math.min(best, acc);
      return;
    }
    for (let l = 0; l < long; l++) {
      if (used[l]) continue;
      used[l] = true;
      rec(s + 1, acc + at(s, l));
      used[l] = false;
    }
  };
  rec(0, 0);
  return short === 0 ? 0 : best;
}

/** Structural checks: sorted distinct rows, distinct columns, consistent maps and cost. */
function checkAssignment(C: Matrix, r: ReturnType<typeof linearSumAssignment>): void {
  const k = Math.min(C.rows, C.cols);
  expect(r.rowInd.length).toBe(k);
  expect(r.colInd.length).toBe(k);
  const seenCols = new Set<number>();
  let sum = 0;
  for (let t = 0; t < k; t++) {
    if (t > 0) expect(r.rowInd[t] as number).toBeGreaterThan(r.rowInd[t - 1] as number);
    const i = r.rowInd[t] as number;
    const j = r.colInd[t] as number;
    expect(j).toBeGreaterThanOrEqual(0);
    expect(j).toBeLessThan(C.cols);
    seenCols.add(j);
    expect(r.rowToCol[i]).toBe(j);
    expect(r.colToRow[j]).toBe(i);
    sum += C.get(i, j);
  }
  expect(seenCols.size).toBe(k);
  expect(r.cost).toBe(sum);
  expect(Array.from(r.rowToCol).filter((j) => j >= 0).length).toBe(k);
  expect(Array.from(r.colToRow).filter((i) => i >= 0).length).toBe(k);
}

/** The raw kernel of each path on a row-major nr x nc cost matrix (nr <= nc). */
function kernelOf(path: 'js' | 'wasm', cost: Float64Array, nr: number, nc: number): ReturnType<typeof lsapKernel> {
  if (path === 'js') return lsapKernel(cost, nr, nc);
  const inp = lsapWasmInput(nr, nc);
  if (inp === null) throw new Error('the WebAssembly LSAP kernel is unavailable');
  for (let i = 0; i < nr; i++) inp.F.set(cost.subarray(i * nc, (i + 1) * nc), inp.off + i * inp.stride);
  return lsapKernelWasm(inp);
}

it('has the WebAssembly kernel available in Node', () => {
  expect(lsapWasmAvailable()).toBe(true);
});

// Every test below runs on both kernels: the JavaScript reference and the WebAssembly one.
describe.each(['js', 'wasm'] as const)('linearSumAssignment (%s kernel)', (path) => {
  beforeAll(() => setLsapWasmMode(path === 'js' ? 'never' : 'always'));
  afterAll(() => setLsapWasmMode('auto'));
  it('solves the documented examples', () => {
    const r = linearSumAssignment([
      [4, 1, 3],
      [2, 0, 5],
      [3, 2, 2],
    ]);
    expect(Array.from(r.rowInd)).toEqual([0, 1, 2]);
    expect(Array.from(r.colInd)).toEqual([1, 0, 2]);
    expect(r.cost).toBe(5);
    const mx = linearSumAssignment(
      [
        [4, 1, 3],
        [2, 0, 5],
      ],
      { maximize: true },
    );
    expect(Array.from(mx.colInd)).toEqual([0, 2]);
    expect(mx.cost).toBe(9);
  });

  it('matches brute force over all assignments (n <= 7, square and rectangular, min and max)', () => {
    const realEntry = fc.double({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true });
    const tieEntry = fc.integer({ min: 0, max: 3 });
    const problem = fc
      .record({
        m: fc.integer({ min: 1, max: 7 }),
        n: fc.integer({ min: 1, max: 7 }),
        ints: fc.boolean(),
        maximize: fc.boolean(),
      })
      .chain(({ m, n, ints, maximize }) =>
        fc.record({
          m: fc.constant(m),
          n: fc.constant(n),
          ints: fc.constant(ints),
          maximize: fc.constant(maximize),
          values: fc.array(ints ? tieEntry : realEntry, { minLength: m * n, maxLength: m * n }),
        }),
      );
    fc.assert(
      fc.property(problem, ({ m, n, ints, maximize, values }) => {
        const C = Matrix.fromArray(m, n, values);
        const r = linearSumAssignment(C, { maximize });
        checkAssignment(C, r);
        const want = bruteForce(C, maximize);
        if (ints) expect(r.cost).toBe(want);
        else expect(Math.abs(r.cost - want)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want)));
      }),
      { numRuns: 400, seed: 20260 },
    );
  });

  it('gives the same optimum for C and its transpose, and for max(C) = -min(-C)', () => {
    const C = uniformMatrix(23, 37, 5);
    const a = linearSumAssignment(C);
    const b = linearSumAssignment(C.transpose());
    expect(Math.abs(a.cost - b.cost)).toBeLessThanOrEqual(1e-12);
    const neg = new Matrix(23, 37, C.data.map((x) => -x));
    expect(Math.abs(linearSumAssignment(C, { maximize: true }).cost + linearSumAssignment(neg).cost)).toBeLessThanOrEqual(
      1e-12,
    );
  });

  it('returns a dual certificate of optimality on larger problems', () => {
    for (const [m, n, seed] of [
      [150, 150, 1],
      [120, 200, 2],
    ] as const) {
      const C = uniformMatrix(m, n, seed);
      const res = kernelOf(path, C.data, m, n);
      expect(res).not.toBeNull();
      if (res === null) return;
      let primal = 0;
      for (let i = 0; i < m; i++) primal += C.get(i, res.col4row[i] as number);
      let dual = 0;
      for (let i = 0; i < m; i++) dual += res.u[i] as number;
      let minSlack = Infinity;
      for (let j = 0; j < n; j++) {
        const vj = res.v[j] as number;
        dual += vj;
        if (m < n) expect(vj).toBeLessThanOrEqual(0); // rectangular dual: v <= 0
        if (res.row4col[j] === -1) expect(vj).toBe(0);
        for (let i = 0; i < m; i++) minSlack = Math.min(minSlack, C.get(i, j) - (res.u[i] as number) - vj);
      }
      expect(minSlack).toBeGreaterThanOrEqual(-1e-12);
      expect(Math.abs(primal - dual)).toBeLessThanOrEqual(1e-10);
      expect(linearSumAssignment(C).cost).toBe(primal);
    }
  });

  it('recovers a planted permutation', () => {
    const n = 60;
    const r = uniformSource(99);
    const perm = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [perm[i], perm[j]] = [perm[j] as number, perm[i] as number];
    }
    const C = uniformMatrix(n, n, 7);
    const S = C.clone();
    for (let i = 0; i < n; i++) {
      C.set(i, perm[i] as number, C.get(i, perm[i] as number) - 5);
      S.set(i, perm[i] as number, S.get(i, perm[i] as number) + 5);
    }
    expect(Array.from(linearSumAssignment(C).colInd)).toEqual(perm);
    expect(Array.from(linearSumAssignment(S, { maximize: true }).colInd)).toEqual(perm);
    // rectangular: the same bonus inside a 60 x 90 matrix
    const W = uniformMatrix(n, 90, 8);
    for (let i = 0; i < n; i++) W.set(i, perm[i] as number, W.get(i, perm[i] as number) - 5);
    expect(Array.from(linearSumAssignment(W).colInd)).toEqual(perm);
    const tall = linearSumAssignment(W.transpose());
    for (let i = 0; i < n; i++) expect(tall.rowToCol[perm[i] as number]).toBe(i);
  });

  describe('deterministic tie-breaking', () => {
    it('gives identical assignments for the same tie-heavy input', () => {
      const r = uniformSource(3);
      const C = new Matrix(40, 40);
      for (let k = 0; k < C.size; k++) C.data[k] = Math.floor(r() * 3);
      const x = linearSumAssignment(C);
      const y = linearSumAssignment(C.clone());
      expect(Array.from(x.colInd)).toEqual(Array.from(y.colInd));
      const xm = linearSumAssignment(C, { maximize: true });
      const ym = linearSumAssignment(C.clone(), { maximize: true });
      expect(Array.from(xm.colInd)).toEqual(Array.from(ym.colInd));
    });

    it('matches the identity on a constant matrix (square, wide and tall)', () => {
      expect(Array.from(linearSumAssignment(new Matrix(5, 5).fill(2)).colInd)).toEqual([0, 1, 2, 3, 4]);
      const wide = linearSumAssignment(new Matrix(3, 5).fill(1));
      expect(Array.from(wide.colInd)).toEqual([0, 1, 2]);
      const tall = linearSumAssignment(new Matrix(5, 3).fill(1), { maximize: true });
      expect(Array.from(tall.rowInd)).toEqual([0, 1, 2]);
      expect(Array.from(tall.colInd)).toEqual([0, 1, 2]);
    });

    it('follows the documented rule on hand-made examples', () => {
      // Optimal cost 1 is reached by [1,0,2], [2,0,1], [1,2,0] and [2,1,0]. Column reduction
      // matches column 0 to row 1 (lowest row with the minimum 0) and column 1 to row 0; column
      // 2's minimum is in row 0, already taken. Row 2's search reaches columns 1 and 2 at equal
      // distance 1 and takes the free column 2.
      const C = [
        [1, 0, 0],
        [0, 1, 1],
        [0, 1, 1],
      ];
      const r = linearSumAssignment(C);
      expect(r.cost).toBe(1);
      expect(Array.from(r.colInd)).toEqual([1, 0, 2]);
      // rectangular (no column reduction): among equal distances the lowest free column wins
      const w = linearSumAssignment([
        [0, 0, 0, 0],
        [5, 1, 1, 1],
      ]);
      expect(Array.from(w.colInd)).toEqual([0, 1]);
      // Row 1 first reaches column 0 (matched to row 0), then columns 1 and 4 at distance 1, both
      // free: the lower index wins although column 4 is scanned first at that point.
      const v = linearSumAssignment([
        [0, 5, 5, 5, 5],
        [0, 1, 9, 9, 1],
      ]);
      expect(Array.from(v.colInd)).toEqual([0, 1]);
    });
  });

  describe('forbidden pairs and bad input', () => {
    it('treats +Infinity (min) and -Infinity (max) as forbidden pairs', () => {
      const r = linearSumAssignment([
        [Infinity, 1, 9],
        [1, Infinity, 9],
      ]);
      expect(Array.from(r.colInd)).toEqual([1, 0]);
      expect(r.cost).toBe(2);
      const s = linearSumAssignment(
        [
          [-Infinity, 1],
          [1, -Infinity],
          [0, 0],
        ],
        { maximize: true },
      );
      expect(s.cost).toBe(2);
      expect(Array.from(s.rowInd)).toEqual([0, 1]);
    });

    it('throws INFEASIBLE when every assignment uses a forbidden pair', () => {
      const cases: { C: number[][]; maximize?: boolean }[] = [
        { C: [[Infinity, Infinity], [1, 2]] },
        { C: [[Infinity, 1], [Infinity, 2]] },
        { C: [[1, Infinity, Infinity], [2, Infinity, Infinity]] },
        { C: [[1, Infinity], [2, Infinity], [3, Infinity]] },
        { C: [[-Infinity, 0], [-Infinity, 1]], maximize: true },
      ];
      for (const { C, maximize } of cases) {
        expect(() => linearSumAssignment(C, { maximize: maximize ?? false })).toThrow(
          expect.objectContaining({ code: 'INFEASIBLE' }),
        );
      }
    });

    it('rejects NaN and unbounded infinities with NON_FINITE_INPUT', () => {
      expect(() => linearSumAssignment([[1, NaN]])).toThrow(/C\[0, 1\] is NaN/);
      expect(() => linearSumAssignment([[1, NaN]])).toThrow(BasisError);
      expect(() => linearSumAssignment([[1, 2], [-Infinity, 0]])).toThrow(
        expect.objectContaining({ code: 'NON_FINITE_INPUT' }),
      );
      expect(() => linearSumAssignment([[Infinity, 0]], { maximize: true })).toThrow(
        expect.objectContaining({ code: 'NON_FINITE_INPUT' }),
      );
      expect(() => linearSumAssignment([[1]], { maximize: 'yes' as unknown as boolean })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    });

    it('returns an empty assignment with cost 0 for an empty matrix', () => {
      for (const [m, n] of [
        [0, 0],
        [0, 4],
        [3, 0],
      ] as const) {
        const r = linearSumAssignment(new Matrix(m, n));
        expect(r.rowInd.length).toBe(0);
        expect(r.colInd.length).toBe(0);
        expect(r.cost).toBe(0);
        expect(Array.from(r.rowToCol)).toEqual(new Array<number>(m).fill(-1));
      }
    });

    it('does not modify its input', () => {
      const C = uniformMatrix(8, 6, 11);
      const copy = C.clone();
      linearSumAssignment(C);
      linearSumAssignment(C, { maximize: true });
      expect(Array.from(C.data)).toEqual(Array.from(copy.data));
    });
  });
});
