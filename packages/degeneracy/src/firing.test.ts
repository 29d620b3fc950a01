import { describe, expect, it } from 'vitest';
import { Matrix, createRng } from '@basis/tensor';
import { forwardDense, type DenseLayer } from './dense.js';
import { approximateSyncBlocks, firingPatterns, syncResidual } from './firing.js';
import { maxDiff, randMat } from './test-helpers.js';

/** A 3-10-2 ReLU net with planted blocks: units 0-2 follow sign(x0), 3-4 follow −sign(x0), 5 always on, 6 dead, 7-9 generic. */
function planted(seed: number) {
  const rng = createRng(seed);
  const n = 300;
  const X = new Matrix(n, 3);
  for (let r = 0; r < n; r++) {
    X.set(r, 0, (rng.uniform() < 0.5 ? -1 : 1) * (1 + rng.uniform()));
    X.set(r, 1, rng.uniformRange(-0.1, 0.1));
    X.set(r, 2, rng.uniformRange(-0.1, 0.1));
  }
  const W = Matrix.from([
    [1, 0.3, -0.2],
    [2, -0.4, 0.1],
    [0.5, 0.2, 0.3],
    [-1, 0.5, 0.2],
    [-1.5, -0.3, 0.4],
    [0.3, 0.2, -0.1],
    [0.2, -0.3, 0.1],
    [0.01, 1, 0],
    [0, 0.02, 1],
    [0.02, -1, 1],
  ]);
  const b = Float64Array.from([0, 0, 0, 0, 0, 10, -10, 0, 0, 0]);
  const W2 = randMat(2, 10, rng);
  const layers: DenseLayer[] = [
    { name: 'l1', activationNode: 'a1', W, b, act: 'relu' },
    { name: 'l2', activationNode: null, W: W2, b: Float64Array.from([0.1, -0.1]), act: 'identity' },
  ];
  return { X, layers, rng };
}

describe('firing patterns (D6)', () => {
  it('finds planted synchronised blocks exactly, with dead and always-on units and the counts', () => {
    const { X, layers } = planted(1);
    const fw = forwardDense(layers, X);
    const rep = firingPatterns(fw.pre[0]!);
    const multi = rep.blocks.filter((b) => b.units.length > 1).map((b) => b.units);
    expect(multi).toEqual([
      [0, 1, 2],
      [3, 4],
    ]);
    expect(rep.dead).toEqual([6]);
    expect(rep.alwaysOn).toEqual([5]);
    expect(rep.blocks.find((b) => b.units[0] === 0)!.rank).toBe(3);
    expect(rep.blocks.find((b) => b.units[0] === 6)!.kind).toBe('dead');
    // blocks {0,1,2}, {3,4} and 5 singletons: Σ|S_a|² = 9 + 4 + 5
    expect(rep.sumSizeSquared).toBe(18);
    expect(rep.sumRankSquared).toBe(18);
    expect(rep.excess).toBe(8);
    expect(rep.excessByRank).toBe(8);
  });

  it('positive block-diagonal reparameterisation on synchronised blocks leaves outputs on D unchanged (eqs. 18-19)', () => {
    const { X, layers, rng } = planted(2);
    const rep = firingPatterns(forwardDense(layers, X).pre[0]!);
    const d = 10;
    const C = new Matrix(d, d);
    for (const blk of rep.blocks) for (const i of blk.units) for (const j of blk.units) C.set(i, j, 0.2 + rng.uniform() + (i === j ? 1 : 0));
    const Cinv = (() => {
      // block inverse
      const out = new Matrix(d, d);
      for (const blk of rep.blocks) {
        const k = blk.units.length;
        const Bm = new Matrix(k, k);
        blk.units.forEach((i, a) => blk.units.forEach((j, c) => Bm.set(a, c, C.get(i, j))));
        const inv = invert(Bm);
        blk.units.forEach((i, a) => blk.units.forEach((j, c) => out.set(i, j, inv.get(a, c))));
      }
      return out;
    })();
    const mm = (A: Matrix, B: Matrix): Matrix => {
      const o = new Matrix(A.rows, B.cols);
      for (let i = 0; i < A.rows; i++) for (let j = 0; j < B.cols; j++) {
        let s = 0;
        for (let t = 0; t < A.cols; t++) s += A.get(i, t) * B.get(t, j);
        o.set(i, j, s);
      }
      return o;
    };
    const l1 = layers[0]!;
    const l2 = layers[1]!;
    const bC = Matrix.column(l1.b!);
    const moved: DenseLayer[] = [
      { ...l1, W: mm(C, l1.W), b: mm(C, bC).col(0) },
      { ...l2, W: mm(l2.W, Cinv) },
    ];
    const y0 = forwardDense(layers, X).post[2]!;
    const y1 = forwardDense(moved, X).post[2]!;
    expect(maxDiff(y0.data, y1.data)).toBeLessThan(1e-10);
  });

  it('approximate sync: literal and corrected eq. 20; clustering with tau', () => {
    const { X, layers } = planted(3);
    const P = forwardDense(layers, X).pre[0]!;
    expect(syncResidual(P, [0, 1, 2])).toBe(0);
    expect(syncResidual(P, [0, 1, 2], 'literal')).toBeGreaterThan(0); // the printed form is not 0 on synchronised units
    expect(syncResidual(P, [0, 7])).toBeGreaterThan(0);
    // perturb unit 1 on a few inputs: it leaves the exact block but joins it approximately
    const Q = P.clone();
    let flipped = 0;
    for (let r = 0; r < Q.rows && flipped < 2; r++) {
      if (Q.get(r, 1) > 0) {
        Q.set(r, 1, -0.01);
        flipped++;
      }
    }
    const exact = firingPatterns(Q).blocks.filter((b) => b.units.length > 1).map((b) => b.units);
    expect(exact).toEqual([
      [0, 2],
      [3, 4],
    ]);
    const approx = approximateSyncBlocks(Q, { tau: 0.01 });
    const blk = approx.find((b) => b.units.includes(0))!;
    expect(blk.units).toEqual([0, 1, 2]);
    expect(blk.diameter).toBeCloseTo(2 / 300, 12);
    expect(blk.residual).toBeGreaterThan(0);
    expect(approximateSyncBlocks(Q, { tau: 0 }).filter((b) => b.units.length > 1).map((b) => b.units)).toEqual(exact);
  });

  it('leaky ReLU gates and errors', () => {
    const P = Matrix.from([
      [1, -1],
      [-2, 3],
    ]);
    expect(Array.from(firingPatterns(P, { activation: 'leaky_relu', slope: 0.1 }).gates.data)).toEqual([1, 0.1, 0.1, 1]);
    expect(() => firingPatterns(P, { activation: 'gelu' as 'relu' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => firingPatterns(Matrix.from([[NaN]]))).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
    expect(() => approximateSyncBlocks(P, { tau: 2 })).toThrow(/tau/);
  });
});

function invert(A: Matrix): Matrix {
  const n = A.rows;
  const a = A.clone();
  const inv = Matrix.identity(n);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a.get(r, c)) > Math.abs(a.get(p, c))) p = r;
    for (const m of [a, inv]) for (let j = 0; j < n; j++) {
      const t = m.get(c, j);
      m.set(c, j, m.get(p, j));
      m.set(p, j, t);
    }
    const piv = a.get(c, c);
    for (const m of [a, inv]) for (let j = 0; j < n; j++) m.set(c, j, m.get(c, j) / piv);
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a.get(r, c);
      for (const m of [a, inv]) for (let j = 0; j < n; j++) m.set(r, j, m.get(r, j) - f * m.get(c, j));
    }
  }
  return inv;
}
