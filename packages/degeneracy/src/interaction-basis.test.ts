import { describe, expect, it } from 'vitest';
import { BasisError, Matrix, createRng, matmul, solve } from '@basis/tensor';
import type { ModelGraph } from '@basis/zoo';
import { denseChain, denseGrams } from './dense.js';
import { interactionBasis, interactionBasisMlp, offDiagonalRatio, transformFeatures } from './interaction-basis.js';
import { maxDiff, maxDiffUpToSign, params64, randMat } from './test-helpers.js';
import { secondMoment } from './util.js';

function linearNet(dims: number[]): ModelGraph {
  return {
    format: 'basis.model',
    version: 1,
    name: 'deep-linear',
    input: [dims[0]!],
    nodes: dims.slice(1).map((u, i) => ({ op: 'dense' as const, name: `fc${i}`, units: u, bias: false })),
  };
}

function offDiag(M: Matrix): number {
  let m = 0;
  for (let i = 0; i < M.rows; i++) for (let j = 0; j < M.cols; j++) if (i !== j) m = Math.max(m, Math.abs(M.get(i, j)));
  return m;
}

describe('interaction basis (D9)', () => {
  const rng = createRng(7);
  const n = 400;
  const d = 6;
  const X = randMat(n, d, rng);
  const B = randMat(d, d, rng);
  const F = matmul(X, B); // generic full-rank features
  const J = randMat(3, d, rng); // a fixed linear readout: M = Jᵀ J (rank 3)
  const M = matmul(J.transpose(), J);

  it('whitens G, diagonalises both Grams in IB coordinates, for both scalings', () => {
    for (const scaling of ['sqrt', 'inv_sqrt'] as const) {
      const b = interactionBasis(F, M, { scaling });
      expect(b.dims).toEqual({ d: 6, r: 6, s: 3 });
      expect(b.reductions).toEqual({ activation: 0, jacobian: 3 });
      const Fh = transformFeatures(b, F);
      const Gh = secondMoment(Fh);
      expect(offDiag(Gh)).toBeLessThan(1e-9 * Math.max(...Gh.diagonal()));
      const expected = Array.from(b.mEigenvalues, (v) => (scaling === 'sqrt' ? v : 1 / v));
      expect(maxDiff(Gh.diagonal(), expected) / Math.max(...expected)).toBeLessThan(1e-9);
      const Mh = matmul(matmul(b.Cpinv.transpose(), M), b.Cpinv);
      expect(offDiag(Mh)).toBeLessThan(1e-9 * Math.max(...Mh.diagonal()));
      expect(b.dims.s).toBeLessThanOrEqual(Math.min(b.dims.r, 3));
    }
  });

  it('transformed activations are invariant to an invertible change of basis (values, not matrices)', () => {
    // full rank and rank-deficient activations (erratum 14)
    const lowRank = matmul(randMat(n, 4, rng), randMat(4, d, rng));
    for (const Fx of [F, lowRank]) {
      for (const scaling of ['sqrt', 'inv_sqrt'] as const) {
        const R = randMat(d, d, rng);
        const FR = matmul(Fx, R.transpose()); // f -> R f
        const Rinv = solve(R, Matrix.identity(d));
        const MR = matmul(matmul(Rinv.transpose(), M), Rinv); // J -> J R^{-1}
        const a = transformFeatures(interactionBasis(Fx, M, { scaling }), Fx);
        const b = transformFeatures(interactionBasis(FR, MR, { scaling }), FR);
        expect(b.cols).toBe(a.cols);
        const scale = Math.max(...a.data.map(Math.abs));
        expect(maxDiffUpToSign(a, b) / scale).toBeLessThan(1e-8);
      }
    }
  });

  it('centring appends the constant feature and keeps the data reproducible', () => {
    const Fs = matmul(X, B).clone();
    for (let r = 0; r < n; r++) Fs.data[r * d] = (Fs.data[r * d] as number) + 5;
    const b = interactionBasis(Fs, M, { center: true });
    expect(b.mean).not.toBeNull();
    expect(b.dims.d).toBe(7);
    const Fh = transformFeatures(b, Fs);
    // reconstruct the (augmented) features on the kept span: C⁺ C acts as the identity on what M sees
    expect(Fh.rows).toBe(n);
    expect(b.dims.s).toBeLessThanOrEqual(4);
  });

  it('deep linear network 6-5-5-4: every layer transition is diagonal (App. A), sizes reduce to the output rank', () => {
    const dims = [6, 5, 5, 4];
    const g = linearNet(dims);
    const r2 = createRng(11);
    const p = params64(Object.fromEntries(dims.slice(1).map((u, i) => [`fc${i}.weight`, randMat(u, dims[i]!, r2)])));
    const X0 = randMat(500, 6, r2);
    for (const scaling of ['sqrt', 'inv_sqrt'] as const) {
      const nb = interactionBasisMlp(g, p, X0, { scaling });
      expect(nb.summary.map((s) => s.s)).toEqual([4, 4, 4, 4]);
      for (let l = 0; l < 3; l++) {
        const E = nb.edges[l]!;
        expect(offDiagonalRatio(E)).toBeLessThan(1e-9);
        if (l < 2 || scaling === 'sqrt') {
          for (const v of E.diagonal()) expect(Math.abs(Math.abs(v) - 1)).toBeLessThan(1e-8);
        } else {
          // ±σ_i² with σ_i = sqrt of the M̃ eigenvalues of the last hidden layer (singular values of the whitened last weight)
          const mu = nb.layers[2]!.basis.mEigenvalues;
          E.diagonal().forEach((v, i) => expect(Math.abs(Math.abs(v) - (mu[i] as number)) / (mu[i] as number)).toBeLessThan(1e-8));
        }
      }
    }
  });

  it('rejects bad input with BasisError codes', () => {
    const bad = F.clone();
    bad.data[3] = NaN;
    expect(() => interactionBasis(bad, M)).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
    expect(() => interactionBasis(F, Matrix.identity(3))).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    expect(() => interactionBasis(Matrix.zeros(1, 3), null)).toThrow(expect.objectContaining({ code: 'TOO_SMALL' }));
    expect(() => interactionBasis(F, M, { scaling: 'cube' as 'sqrt' })).toThrow(/scaling/);
    try {
      interactionBasis(F, M, { tol: -1 });
    } catch (e) {
      expect(e).toBeInstanceOf(BasisError);
      expect((e as BasisError).code).toBe('CONFIG_INVALID');
      expect((e as BasisError).message).toMatch(/tol/);
    }
  });

  it('denseGrams: M^l = W^lᵀ K^l W^l', () => {
    const g: ModelGraph = {
      format: 'basis.model',
      version: 1,
      name: 'mlp',
      input: [4],
      nodes: [
        { op: 'dense', name: 'a', units: 5 },
        { op: 'activation', name: 'a.act', fn: 'relu' },
        { op: 'dense', name: 'b', units: 3 },
      ],
    };
    const r3 = createRng(3);
    const p = params64({ 'a.weight': randMat(5, 4, r3), 'a.bias': Float64Array.from([0.1, -0.2, 0.3, 0, 0.5]), 'b.weight': randMat(3, 5, r3), 'b.bias': new Float64Array(3) });
    const layers = denseChain(g, p);
    const gr = denseGrams(layers, randMat(50, 4, r3));
    for (let l = 0; l < 2; l++) {
      const W = layers[l]!.W;
      const M2 = matmul(matmul(W.transpose(), gr.K[l]!), W);
      expect(maxDiff(M2.data, gr.M[l]!.data)).toBeLessThan(1e-12);
    }
  });
});
