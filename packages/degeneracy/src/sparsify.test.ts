import { describe, expect, it } from 'vitest';
import { Matrix, createRng, haarOrthogonal } from '@basis/tensor';
import type { ModelGraph } from '@basis/zoo';
import { forwardDense, type DenseLayer } from './dense.js';
import { interactionBasisMlp } from './interaction-basis.js';
import { bestBipartition, constrainedLoss, gammaFraction, layeredAdjacency, modularityCost } from './modularity.js';
import { forwardSparse, interactionGraph, interactionSparsity, sparsifyMlp } from './sparsify.js';
import { maxDiff, params64, randMat } from './test-helpers.js';

function constructed() {
  const rng = createRng(21);
  const W1 = randMat(6, 3, rng);
  const b1 = Float64Array.from({ length: 6 }, () => rng.normal() * 0.3);
  for (const [dup, src] of [
    [4, 0],
    [5, 1],
  ]) {
    for (let j = 0; j < 3; j++) W1.set(dup!, j, W1.get(src!, j));
    b1[dup!] = b1[src!]!;
  }
  const W2 = randMat(4, 6, rng, 0.3);
  const b2 = Float64Array.from([100, 100, 100, 0]); // units 0-2 share the always-on gate
  const W3 = randMat(2, 4, rng);
  const layers: DenseLayer[] = [
    { name: 'l1', activationNode: 'a1', W: W1, b: b1, act: 'relu' },
    { name: 'l2', activationNode: 'a2', W: W2, b: b2, act: 'relu' },
    { name: 'l3', activationNode: null, W: W3, b: Float64Array.of(0.1, 0.2), act: 'identity' },
  ];
  return { layers, X: randMat(200, 3, rng) };
}

describe('sparsifying reparameterisation (D7)', () => {
  it('keeps outputs on D (gated form), and zeros at least the predicted counts', () => {
    const { layers, X } = constructed();
    const res = sparsifyMlp(layers, X);
    const y0 = forwardDense(layers, X).post[3]!;
    const y1 = forwardSparse(res, X);
    expect(maxDiff(y0.data, y1.data)).toBeLessThan(1e-9);
    // step 1 on layer 1 (rank 4 of 6): the incoming weights of layer 2 get 4 x 2 zeros
    expect(res.layers[1]!.zeros.step1).toBe(8);
    // step 2 on layer 2: the always-on block {0,1,2} gets an identity block: 3·2 off-diagonal zeros
    expect(res.layers[1]!.blocks.some((b) => b.length === 3)).toBe(true);
    expect(res.layers[1]!.zeros.step2).toBeGreaterThanOrEqual(6);
    expect(res.layers[1]!.zeros.total).toBeGreaterThanOrEqual(8 + 6);
    expect(res.sparsity[1]!.sparse).toBeGreaterThan(res.sparsity[1]!.neuron);
    const g = interactionGraph(res.layers.map((l) => l.W));
    expect(g.nodes).toEqual([3, 6, 4, 2]);
    expect(g.edges.length).toBe(res.layers.reduce((s, l) => s + l.W.data.length, 0) - res.layers.reduce((s, l) => s + l.zeros.total, 0));
  });

  it('interaction sparsity improves on a network that is sparse in a rotated basis', () => {
    // a linear network whose layers are diagonal in hidden rotated bases: dense in the neuron basis
    const rng = createRng(8);
    const Q1 = haarOrthogonal(4, rng);
    const Q2 = haarOrthogonal(4, rng);
    const mm = (A: Matrix, B: Matrix) => {
      const o = new Matrix(A.rows, B.cols);
      for (let i = 0; i < A.rows; i++) for (let j = 0; j < B.cols; j++) for (let t = 0; t < A.cols; t++) o.set(i, j, o.get(i, j) + A.get(i, t) * B.get(t, j));
      return o;
    };
    const W1 = mm(Q1.transpose(), Matrix.diag([3, 2, 1.5, 1]));
    const W2 = mm(mm(Q2.transpose(), Matrix.diag([1, 2, 0.5, 1.2])), Q1);
    const g: ModelGraph = {
      format: 'basis.model',
      version: 1,
      name: 'rot',
      input: [4],
      nodes: [
        { op: 'dense', name: 'a', units: 4, bias: false },
        { op: 'dense', name: 'b', units: 4, bias: false },
      ],
    };
    const nb = interactionBasisMlp(g, params64({ 'a.weight': W1, 'b.weight': W2 }), randMat(300, 4, rng));
    const ib = interactionSparsity(nb.edges[0]!, 1e-6);
    expect(interactionSparsity(W2, 1e-6)).toBe(0);
    expect(ib).toBeGreaterThanOrEqual(0.75 - 1e-12); // diagonal 4 x 4
  });
});

describe('modularity (D8)', () => {
  it('γ is log-additive (eq. 35) and clipped', () => {
    const eps = 1e-6;
    const h = Math.sqrt(eps);
    const wA1 = 1e-2;
    const wA2 = 3e-2;
    const wB = h * (wA1 / h) * (wA2 / h);
    expect(gammaFraction(wB, eps)).toBeCloseTo(gammaFraction(wA1, eps) + gammaFraction(wA2, eps), 12);
    expect(gammaFraction(2, eps)).toBe(1);
    expect(gammaFraction(1e-4, eps)).toBe(0);
    expect(() => gammaFraction(1, 2)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(constrainedLoss(0.1, Matrix.from([[1, 2]]), Matrix.from([[1, 0]]))).toBeCloseTo(4.1, 12);
    expect(constrainedLoss(0, Matrix.from([[1, 2]]), Matrix.from([[1, 0]]), [1, 0.5])).toBeCloseTo(1, 12);
  });

  it('two disconnected modules: the true split costs 0 and is found (exhaustive and spectral)', () => {
    const rng = createRng(2);
    // layers 4 -> 4 -> 2 where units {0,1} and {2,3} never mix, outputs 0 <- {0,1}, 1 <- {2,3}
    const W1 = randMat(4, 4, rng);
    for (const [i, j] of [
      [0, 2],
      [0, 3],
      [1, 2],
      [1, 3],
      [2, 0],
      [2, 1],
      [3, 0],
      [3, 1],
    ]) W1.set(i!, j!, 0);
    const W2 = Matrix.from([
      [1, -2, 0, 0],
      [0, 0, 0.5, 1],
    ]);
    const A = layeredAdjacency([W1, W2]);
    const truth = [0, 0, 1, 1, 0, 0, 1, 1, 0, 1];
    expect(modularityCost(A, truth, 1e-4)).toBe(0);
    expect(modularityCost(A, [0, 1, 1, 1, 0, 0, 1, 1, 0, 1], 1e-4)).toBeGreaterThan(0);
    const ex = bestBipartition(A, 1e-4, { minSize: 3 });
    expect(ex.method).toBe('exhaustive');
    expect(ex.cost).toBe(0);
    const same = (l: Int32Array) => Array.from(l).every((v, i) => (v === l[0]) === (truth[i] === truth[0]));
    expect(same(ex.labels)).toBe(true);
    const sp = bestBipartition(A, 1e-4, { minSize: 3, method: 'spectral' });
    expect(sp.cost).toBe(0);
    expect(same(sp.labels)).toBe(true);
    expect(() => bestBipartition(A, 1e-4, { minSize: 6 })).toThrow(expect.objectContaining({ code: 'TOO_SMALL' }));
  });
});
