import { describe, expect, it } from 'vitest';
import { BasisError, Matrix, createRng, matmul, solve } from '@basis/tensor';
import type { ModelGraph } from '@basis/zoo';
import { denseChain, denseGrams, forwardDense } from './dense.js';
import { integratedGradientEdges, interactionBasis, interactionBasisMlp, localInteractionBasisMlp, offDiagonalRatio, transformFeatures } from './interaction-basis.js';
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

describe('local interaction basis (LIB, App. A / arXiv 2405.10928)', () => {
  const mlp3: ModelGraph = {
    format: 'basis.model',
    version: 1,
    name: 'mlp3',
    input: [6],
    nodes: [
      { op: 'dense', name: 'a', units: 5 },
      { op: 'activation', name: 'a.act', fn: 'identity' },
      { op: 'dense', name: 'b', units: 5 },
      { op: 'activation', name: 'b.act', fn: 'tanh' },
      { op: 'dense', name: 'c', units: 4 },
      { op: 'activation', name: 'c.act', fn: 'tanh' },
      { op: 'dense', name: 'd', units: 3 },
    ],
  };
  const r = createRng(31);
  const p = params64({
    'a.weight': randMat(5, 6, r),
    'a.bias': Float64Array.from({ length: 5 }, () => 0.2 * r.normal()),
    'b.weight': randMat(5, 5, r, 0.6),
    'b.bias': Float64Array.from({ length: 5 }, () => 0.2 * r.normal()),
    'c.weight': randMat(4, 5, r, 0.6),
    'c.bias': Float64Array.from({ length: 4 }, () => 0.2 * r.normal()),
    'd.weight': randMat(3, 4, r),
    'd.bias': new Float64Array(3),
  });
  const X = randMat(300, 6, r);

  it('deep linear network 6-5-5-4: every transition is diagonal, ±1 under sqrt (App. A derives this for the LIB)', () => {
    const dims = [6, 5, 5, 4];
    const g = linearNet(dims);
    const r2 = createRng(12);
    const pl = params64(Object.fromEntries(dims.slice(1).map((u, i) => [`fc${i}.weight`, randMat(u, dims[i]!, r2)])));
    const X0 = randMat(500, 6, r2);
    for (const scaling of ['sqrt', 'inv_sqrt'] as const) {
      const lib = localInteractionBasisMlp(g, pl, X0, { scaling });
      expect(lib.summary.map((s) => s.s)).toEqual([4, 4, 4, 4]);
      for (const E of lib.edges) {
        if (scaling === 'sqrt') {
          expect(offDiagonalRatio(E)).toBeLessThan(1e-9);
          for (const v of E.diagonal()) expect(Math.abs(Math.abs(v) - 1)).toBeLessThan(1e-8);
        } else {
          // under 'inv_sqrt' the M̃ eigenvalues invert from layer to layer (Λ^l = 1/Λ^{l+1}), so the
          // descending order reverses: each transition is monomial (one entry per row and column)
          const top = Math.max(...E.data.map(Math.abs));
          for (let i = 0; i < E.rows; i++) expect(E.row(i).filter((v) => Math.abs(v) > 1e-9 * top).length).toBe(1);
          for (let j = 0; j < E.cols; j++) expect(E.col(j).filter((v) => Math.abs(v) > 1e-9 * top).length).toBe(1);
        }
      }
    }
  });

  it('M^l is the Gram of the Jacobian of the next layer\'s basis coordinates (brute force per sample)', () => {
    const lib = localInteractionBasisMlp(mlp3, p, X);
    const layers = denseChain(mlp3, p);
    const fw = forwardDense(layers, X);
    for (let l = 0; l < 4; l++) {
      const C = lib.layers[l + 1]!.basis.C; // s x d_{l+1}
      const W = layers[l]!.W;
      const d = W.cols;
      const M = new Matrix(d, d);
      for (let t = 0; t < X.rows; t++) {
        const J = new Matrix(C.rows, d); // C diag(σ') W
        for (let a = 0; a < C.rows; a++) for (let j = 0; j < d; j++) {
          let v = 0;
          for (let i = 0; i < W.rows; i++) v += C.get(a, i) * fw.deriv[l]!.get(t, i) * W.get(i, j);
          J.set(a, j, v);
        }
        const JtJ = matmul(J.transpose(), J);
        for (let k = 0; k < M.data.length; k++) M.data[k] = (M.data[k] as number) + (JtJ.data[k] as number) / X.rows;
      }
      const ref = interactionBasis(fw.post[l]!, M);
      const got = lib.layers[l]!.basis;
      expect(got.dims).toEqual(ref.dims);
      expect(maxDiffUpToSign(transformFeatures(got, fw.post[l]!), transformFeatures(ref, fw.post[l]!))).toBeLessThan(1e-9 * Math.max(...transformFeatures(ref, fw.post[l]!).data.map(Math.abs)));
    }
    // under 'sqrt', C^{l+1}ᵀ C^{l+1} is M^{l+1} on the data span, so the local and non-local bases coincide
    // until two nonlinear layers follow (the per-sample product of gates no longer factorises)
    const nl = interactionBasisMlp(mlp3, p, X);
    const same = (l: number) => maxDiffUpToSign(transformFeatures(lib.layers[l]!.basis, fw.post[l]!), transformFeatures(nl.layers[l]!.basis, fw.post[l]!));
    expect(same(3)).toBeLessThan(1e-8);
    expect(same(2)).toBeLessThan(1e-8);
    expect(same(1)).toBeGreaterThan(1e-3);
  });

  it('transformed activations are invariant to an invertible change of a layer basis (values, not matrices; full rank and rank-deficient)', () => {
    const rr = createRng(5);
    // rank-deficient inputs (rank 4 of 6): erratum 14 — matrices differ, values agree
    const Xlow = matmul(randMat(300, 4, rr), randMat(4, 6, rr));
    for (const Xin of [X, Xlow]) {
      for (const scaling of ['sqrt', 'inv_sqrt'] as const) {
        const base = localInteractionBasisMlp(mlp3, p, Xin, { scaling });
        // input layer: x -> R x and W^0 -> W^0 R^{-1}
        const R = randMat(6, 6, rr);
        const Rinv = solve(R, Matrix.identity(6));
        const pIn = { ...p, 'a.weight': { shape: [5, 6], data: matmul(Matrix.fromArray(5, 6, p['a.weight']!.data), Rinv).data } };
        const XR = matmul(Xin, R.transpose());
        const moved = localInteractionBasisMlp(mlp3, pIn, XR, { scaling });
        const a0 = transformFeatures(base.layers[0]!.basis, Xin);
        const b0 = transformFeatures(moved.layers[0]!.basis, XR);
        expect(b0.cols).toBe(a0.cols);
        expect(maxDiffUpToSign(a0, b0) / Math.max(...a0.data.map(Math.abs))).toBeLessThan(1e-8);
        // hidden linear layer 'a.act': f -> S f (W^0 -> S W^0, b^0 -> S b^0, W^1 -> W^1 S^{-1})
        const S = randMat(5, 5, rr);
        const Sinv = solve(S, Matrix.identity(5));
        const W0 = Matrix.fromArray(5, 6, p['a.weight']!.data);
        const b0v = Matrix.column(Float64Array.from(p['a.bias']!.data));
        const W1 = Matrix.fromArray(5, 5, p['b.weight']!.data);
        const pH = { ...p, 'a.weight': { shape: [5, 6], data: matmul(S, W0).data }, 'a.bias': { shape: [5], data: matmul(S, b0v).data }, 'b.weight': { shape: [5, 5], data: matmul(W1, Sinv).data } };
        const movedH = localInteractionBasisMlp(mlp3, pH, Xin, { scaling });
        const F1 = forwardDense(denseChain(mlp3, p), Xin).post[1]!;
        const F1s = forwardDense(denseChain(mlp3, pH), Xin).post[1]!;
        const a1 = transformFeatures(base.layers[1]!.basis, F1);
        const b1 = transformFeatures(movedH.layers[1]!.basis, F1s);
        expect(maxDiffUpToSign(a1, b1) / Math.max(...a1.data.map(Math.abs))).toBeLessThan(1e-8);
        // downstream layers are untouched
        const F2 = forwardDense(denseChain(mlp3, p), Xin).post[2]!;
        expect(maxDiffUpToSign(transformFeatures(base.layers[2]!.basis, F2), transformFeatures(movedH.layers[2]!.basis, F2))).toBeLessThan(1e-8);
      }
    }
  });

  it('rejects bad input with BasisError codes', () => {
    const bad = X.clone();
    bad.data[7] = Infinity;
    expect(() => localInteractionBasisMlp(mlp3, p, bad)).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
    expect(() => localInteractionBasisMlp(mlp3, p, randMat(10, 4, r))).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    expect(() => localInteractionBasisMlp(mlp3, p, X, { scaling: 'x' as 'sqrt' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('integrated-gradient edges (rib squared formula)', () => {
  it('linear transitions: edge = What² · mean ĥ², exactly complete for every quadrature', () => {
    const dims = [5, 4, 4, 3];
    const g = linearNet(dims);
    const r = createRng(41);
    const p = params64(Object.fromEntries(dims.slice(1).map((u, i) => [`fc${i}.weight`, randMat(u, dims[i]!, r)])));
    const X = randMat(120, 5, r);
    const nb = interactionBasisMlp(g, p, X);
    const fw = forwardDense(denseChain(g, p), X);
    for (const method of ['gradient', 'trapezoidal', 'gauss-legendre'] as const) {
      const ig = integratedGradientEdges(g, p, X, nb, { method, intervals: 4 });
      ig.edges.forEach((E, l) => {
        const H = transformFeatures(nb.layers[l]!.basis, fw.post[l]!);
        const What = nb.edges[l]!;
        for (let i = 0; i < E.rows; i++) for (let j = 0; j < E.cols; j++) {
          let m2 = 0;
          for (let t = 0; t < H.rows; t++) m2 += H.get(t, j) ** 2 / H.rows;
          expect(Math.abs(E.get(i, j) - What.get(i, j) ** 2 * m2)).toBeLessThan(1e-9 * Math.max(1, E.get(i, j)));
        }
        expect(ig.completeness[l]).toBeLessThan(1e-10);
      });
    }
  });

  it('nonlinear transitions: Gauss-Legendre is complete (Σ_j IG_ij = ĝ_i(ĥ) − ĝ_i(0)), the trapezoid converges O(h²), the point gradient is not complete', () => {
    const g: ModelGraph = {
      format: 'basis.model',
      version: 1,
      name: 'tanh',
      input: [4],
      nodes: [
        { op: 'dense', name: 'a', units: 5 },
        { op: 'activation', name: 'a.act', fn: 'tanh' },
        { op: 'dense', name: 'b', units: 3 },
      ],
    };
    const r = createRng(43);
    const p = params64({ 'a.weight': randMat(5, 4, r), 'a.bias': Float64Array.from([0.3, -0.2, 0.1, 0.5, -0.4]), 'b.weight': randMat(3, 5, r), 'b.bias': new Float64Array(3) });
    const X = randMat(80, 4, r);
    const nb = interactionBasisMlp(g, p, X);
    const gl = integratedGradientEdges(g, p, X, nb, { method: 'gauss-legendre', intervals: 24 });
    expect(gl.completeness[0]).toBeLessThan(1e-9);
    const t8 = integratedGradientEdges(g, p, X, nb, { method: 'trapezoidal', intervals: 8 }).completeness[0]!;
    const t32 = integratedGradientEdges(g, p, X, nb, { method: 'trapezoidal', intervals: 32 }).completeness[0]!;
    expect(t32).toBeLessThan(t8 / 8); // ~16x for O(h²)
    expect(integratedGradientEdges(g, p, X, nb).completeness[0]).toBeGreaterThan(1e-3);
    for (const E of gl.edges) for (const v of E.data) expect(v).toBeGreaterThanOrEqual(0);
    expect(() => integratedGradientEdges(g, p, X, nb, { method: 'simpson' as 'gradient' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => integratedGradientEdges(g, p, X, nb, { intervals: 0 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
