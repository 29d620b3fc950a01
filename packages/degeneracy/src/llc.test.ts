import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { Matrix, createRng } from '@basis/tensor';
import type { ModelGraph } from '@basis/zoo';
import { estimateLlc, finiteScaleLambda, ggnHessian, hessianFiniteDifference, hessianRankBound, modelLlcTarget, volumeMonteCarlo, volumeRadial, type LlcTarget } from './llc.js';
import { params64, randMat } from './test-helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Data-free potential Σ_i w_i^{2 k_i} (sum of monomials): λ = Σ 1/(2 k_i). */
function monomials(ks: number[]): LlcTarget {
  return {
    dim: ks.length,
    n: 1,
    lossAndGrad(w) {
      let loss = 0;
      const grad = new Float64Array(ks.length);
      ks.forEach((k, i) => {
        const x = w[i] as number;
        loss += x ** (2 * k);
        grad[i] = 2 * k * x ** (2 * k - 1);
      });
      return { loss, grad };
    },
  };
}

/** Linear regression y = X w (N = 10) with the behavioral loss at w* (regular: λ = N/2). */
function regression(n: number, N: number, seed: number): { target: LlcTarget; w0: Float64Array } {
  const rng = createRng(seed);
  const X = randMat(n, N, rng);
  const w0 = Float64Array.from({ length: N }, () => rng.normal());
  return {
    w0,
    target: {
      dim: N,
      n,
      lossAndGrad(w, batch) {
        const rows = batch ?? Int32Array.from({ length: n }, (_, i) => i);
        let loss = 0;
        const grad = new Float64Array(N);
        for (const r of rows) {
          let e = 0;
          for (let j = 0; j < N; j++) e += X.get(r, j) * ((w[j] as number) - (w0[j] as number));
          loss += e * e;
          for (let j = 0; j < N; j++) grad[j] = (grad[j] as number) + 2 * e * X.get(r, j);
        }
        for (let j = 0; j < N; j++) grad[j] = (grad[j] as number) / rows.length;
        return { loss: loss / rows.length, grad };
      },
    },
  };
}

describe('volume scaling (D2 oracles, erratum 7)', () => {
  const toy = (w: Float64Array) => 1e-4 * (w[0] as number) ** 2 + (w[0] as number) ** 4; // c = 0.01
  it('L = c²w² + w⁴, c = 0.01: λ(1e-12) = 0.500, λ(1e-8) = 0.362, λ(1e-4) = 0.251', () => {
    const z = new Float64Array(1);
    expect(finiteScaleLambda(toy, z, 1e-12)).toBeCloseTo(0.5, 3);
    expect(finiteScaleLambda(toy, z, 1e-8)).toBeCloseTo(0.362, 3);
    expect(finiteScaleLambda(toy, z, 1e-4)).toBeCloseTo(0.251, 3);
  });

  it('L = w1² in 3-D: λ = 1/2 (Monte Carlo and radial); the cross w1²w2²: λ(ε) = 1/2 − 1/(2 + ln 1/ε)', () => {
    const sq = (w: Float64Array) => (w[0] as number) ** 2;
    const mc = volumeMonteCarlo(sq, new Float64Array(3), { eps: [1e-3, 1e-2, 1e-1], samples: 100000, seed: 1 });
    expect(Math.min(...mc.counts)).toBeGreaterThan(100);
    for (const l of mc.lambda) expect(l.value).toBeCloseTo(0.5, 1);
    expect(finiteScaleLambda(sq, new Float64Array(3), 1e-3, { directions: 4000, seed: 2 })).toBeCloseTo(0.5, 1); // heavy-tailed r³: Monte-Carlo error ~0.02
    const cross = (w: Float64Array) => (w[0] as number) ** 2 * (w[1] as number) ** 2;
    for (const e of [1e-4, 1e-2]) {
      // exact: V = 4 √ε (1 + ½ ln(1/ε)) on [-1, 1]²
      const exactV = 4 * Math.sqrt(e) * (1 + 0.5 * Math.log(1 / e));
      const mcv = volumeMonteCarlo(cross, new Float64Array(2), { eps: [e], samples: 200000, seed: 3 }).volume[0]!;
      expect(Math.abs(mcv / exactV - 1)).toBeLessThan(0.05);
      const lam = finiteScaleLambda(cross, new Float64Array(2), e, { directions: 20000, seed: 4 });
      expect(lam).toBeCloseTo(0.5 - 1 / (2 + Math.log(1 / e)), 1);
    }
    expect(volumeRadial(sq, new Float64Array(1), { eps: [0.25] }).volume[0]).toBeCloseTo(1, 12);
  });

  it('config errors name the field', () => {
    expect(() => volumeMonteCarlo((w) => w[0]!, new Float64Array(1), { eps: [1e-2, 1e-3] })).toThrow(/eps\[1\]/);
    expect(() => volumeMonteCarlo((w) => w[0]!, Float64Array.of(NaN), { eps: [1] })).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
  });
});

describe('SGLD LLC estimator (D3b)', () => {
  it('normal-crossing potentials w^2, w^4, w^6: λ ∈ {1/2, 1/4, 1/6}; a sum of monomials adds', () => {
    for (const [ks, truth] of [
      [[1], 0.5],
      [[2], 0.25],
      [[3], 1 / 6],
      [[1, 2], 0.75],
    ] as [number[], number][]) {
      const est = estimateLlc(monomials(ks), new Float64Array(ks.length), { nBeta: 100, gamma: 0, step: 2e-4, chains: 4, draws: 20000, burnin: 2000, seed: 1 });
      expect(Math.abs(est.llc - truth)).toBeLessThan(Math.max(0.04 * truth * 4, 3.5 * est.std / 2, 0.02));
      expect(est.malaAcceptance).toBeGreaterThan(0.9);
      expect(est.ess).toBeGreaterThan(200);
    }
  });

  it('regular model (linear regression, N = 10): λ̂_B ≈ N/2 within 15%; N_eff ≈ N', () => {
    const { target, w0 } = regression(1000, 10, 3);
    const est = estimateLlc(target, w0, { gamma: 1, step: 5e-4, chains: 2, draws: 3000, burnin: 300, seed: 2 });
    expect(Math.abs(est.llc / 5 - 1)).toBeLessThan(0.15);
    expect(est.effectiveParameters).toBeCloseTo(2 * est.llc, 12);
    expect(est.warnings, est.warnings.join('; ')).toEqual([]);
    expect(est.epsEff).toBeGreaterThan(0);
    // minibatches run and stay in the same range
    const mb = estimateLlc(target, w0, { gamma: 1, step: 5e-4, chains: 2, draws: 1000, burnin: 200, batchSize: 200, seed: 2 });
    expect(mb.llc).toBeGreaterThan(2.5);
    expect(mb.llc).toBeLessThan(8);
  });

  it('noise off equals gradient descent; seeded runs are reproducible', () => {
    const { target, w0 } = regression(100, 4, 5);
    const start = Float64Array.from(w0, (v, i) => v + 0.1 * (i + 1));
    // SGLD from `start` localised at `start` with γ = 0 and no noise = GD with lr = ε nβ / 2
    const est = estimateLlc(target, start, { gamma: 0, step: 1e-3, nBeta: 20, noiseLevel: 0, chains: 1, draws: 50, burnin: 0 });
    const w = Float64Array.from(start);
    const losses: number[] = [];
    for (let t = 0; t < 50; t++) {
      const { loss, grad } = target.lossAndGrad(w, null);
      losses.push(loss);
      for (let i = 0; i < 4; i++) w[i] = (w[i] as number) - 0.5 * 1e-3 * 20 * (grad[i] as number);
    }
    const tr = Array.from(est.chains[0]!.trace);
    for (let t = 0; t < 50; t++) expect(Math.abs(tr[t]! - losses[t]!)).toBeLessThan(1e-12 * Math.max(1, losses[t]!));
    const a = estimateLlc(target, w0, { draws: 200, seed: 9 });
    const b = estimateLlc(target, w0, { draws: 200, seed: 9 });
    const c = estimateLlc(target, w0, { draws: 200, seed: 10 });
    expect(b.llc).toBe(a.llc);
    expect(Array.from(b.chains[1]!.trace)).toEqual(Array.from(a.chains[1]!.trace));
    expect(c.llc).not.toBe(a.llc);
  });

  it('config errors', () => {
    const t = monomials([1]);
    expect(() => estimateLlc(t, new Float64Array(1), { step: -1 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/step/) }));
    expect(() => estimateLlc(t, new Float64Array(1), { chains: 0 })).toThrow(/chains/);
    expect(() => estimateLlc(t, new Float64Array(2))).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    expect(() => estimateLlc(t, Float64Array.of(NaN))).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
  });
});

describe('models through tfjs: behavioral LLC and the Hessian-rank bound', () => {
  const g: ModelGraph = { format: 'basis.model', version: 1, name: 'linreg', input: [9], nodes: [{ op: 'dense', name: 'fc', units: 1 }] };
  const rng = createRng(4);
  const params = params64({ 'fc.weight': randMat(1, 9, rng), 'fc.bias': Float64Array.of(0.3) });
  const X = randMat(400, 9, rng);

  it('regular linear model (N = 10): behavioral SGLD λ̂ ≈ 5, GGN rank 10, and the GGN equals the FD Hessian of L_B', () => {
    const x = tf.tensor2d(Float32Array.from(X.data), [400, 9]);
    const { target, w0, dispose } = modelLlcTarget({ graph: g, params }, x, { loss: 'behavioral-mse' });
    expect(target.lossAndGrad(w0, null).loss).toBe(0);
    const before = tf.memory().numTensors;
    const est = estimateLlc(target, w0, { gamma: 1, step: 5e-4, chains: 2, draws: 800, burnin: 100, seed: 3 });
    expect(tf.memory().numTensors).toBe(before);
    expect(Math.abs(est.llc / 5 - 1)).toBeLessThan(0.2);
    const H = ggnHessian({ graph: g, params }, tf.slice(x, 0, 60));
    const bound = hessianRankBound(H);
    expect(bound.rank).toBe(10);
    expect(bound.lowerBound).toBe(5);
    const sub = modelLlcTarget({ graph: g, params }, tf.slice(x, 0, 60));
    const Hfd = hessianFiniteDifference((w) => sub.target.lossAndGrad(w, null).grad, sub.w0, { h: 1e-2 });
    let err = 0;
    for (let k = 0; k < H.data.length; k++) err = Math.max(err, Math.abs(H.data[k]! - Hfd.data[k]!));
    expect(err / Math.max(...H.data.map(Math.abs))).toBeLessThan(1e-3);
    dispose();
    sub.dispose();
    x.dispose();
  });

  it('a product model f = a b x has a rank-1 GGN: λ ≥ 1/2', () => {
    const pg: ModelGraph = {
      format: 'basis.model',
      version: 1,
      name: 'ab',
      input: [1],
      nodes: [
        { op: 'dense', name: 'a', units: 1, bias: false },
        { op: 'dense', name: 'b', units: 1, bias: false },
      ],
    };
    const pp = params64({ 'a.weight': Matrix.from([[1.5]]), 'b.weight': Matrix.from([[0.8]]) });
    const x = tf.tensor2d([[0.5], [1], [-2], [0.3]]);
    const bound = hessianRankBound(ggnHessian({ graph: pg, params: pp }, x));
    expect(bound).toMatchObject({ rank: 1, lowerBound: 0.5, nullity: 1 });
    x.dispose();
  });
});
