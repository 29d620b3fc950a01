import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { Matrix, createRng } from '@basis/tensor';
import { behavioralLossFromOutputs } from './grams.js';
import type { ModelGraph } from '@basis/zoo';
import { defaultLlcStep, estimateLlc, finiteScaleLambda, ggnHessian, hessianFiniteDifference, hessianRankBound, modelLlcTarget, regressionTarget, volumeMonteCarlo, volumeRadial, type LlcTarget } from './llc.js';
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
    const { target, w0 } = regressionTarget(1000, 10, 3);
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
    const { target, w0 } = regressionTarget(100, 4, 5);
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
    expect(() => estimateLlc(t, new Float64Array(1), { step: -1 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/step/) as string }));
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


/**
 * Reduced-rank regression y = B A x (A: h x m, B: n x h, no biases) fitted to targets drawn
 * independently of x (true rank r = 0), with the element-mean squared error, as in devinterp's
 * tests/slt/rrr_test.py. The closed form is Aoyagi & Watanabe (2005), "Stochastic complexities of
 * reduced rank regression in Bayesian estimation", Neural Networks 18(7), Main Theorem, with r = 0
 * (M = m inputs, N = n outputs, H = h):
 *   case 2, M + H < N:  λ = M H / 2;   case 3, N + H < M:  λ = N H / 2;   case 4, M + N < H:  λ = M N / 2;
 *   case 1 (otherwise): λ = (2MN + 2HN + 2MH − N² − M² − H²) / 8, plus 1/8 when M + H + N is odd.
 */
function rrrTruth(m: number, h: number, n: number): number {
  if (m + h < n) return (m * h) / 2;
  if (n + h < m) return (h * n) / 2;
  if (m + n < h) return (m * n) / 2;
  const base = 2 * m * n + 2 * h * n + 2 * m * h - n * n - m * m - h * h;
  return ((m + h + n) % 2 === 1 ? base + 1 : base) / 8;
}

function rrrTarget(m: number, h: number, n: number, rows: number, seed: number): { target: LlcTarget; fit: () => Float64Array } {
  const rng = createRng(seed);
  const X = randMat(rows, m, rng).data;
  const Y = randMat(rows, n, rng).data;
  const dim = h * m + n * h;
  // full-batch loss through the sufficient statistics Sxx = XᵀX, Sxy = XᵀY, tr YᵀY (cost independent of rows)
  const Sxx = new Float64Array(m * m);
  const Sxy = new Float64Array(m * n);
  let Syy = 0;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < m; j++) {
      const xj = X[r * m + j] as number;
      for (let k = 0; k < m; k++) Sxx[j * m + k] = (Sxx[j * m + k] as number) + xj * (X[r * m + k] as number);
      for (let i = 0; i < n; i++) Sxy[j * n + i] = (Sxy[j * n + i] as number) + xj * (Y[r * n + i] as number);
    }
    for (let i = 0; i < n; i++) Syy += (Y[r * n + i] as number) ** 2;
  }
  const oB = h * m;
  const P = new Float64Array(n * m);
  const dP = new Float64Array(n * m);
  const lossAndGrad = (w: Float64Array, batch: Int32Array | null): { loss: number; grad: Float64Array } => {
    if (batch !== null) throw new Error('rrrTarget is full-batch');
    // w = [A (h x m) row-major, B (n x h) row-major]; P = B A; loss = element mean of (P x − y)², as torch's F.mse_loss
    for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
      let v = 0;
      for (let a = 0; a < h; a++) v += (w[oB + i * h + a] as number) * (w[a * m + j] as number);
      P[i * m + j] = v;
    }
    let quad = 0;
    let cross = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        let ps = 0;
        for (let k = 0; k < m; k++) ps += (P[i * m + k] as number) * (Sxx[k * m + j] as number);
        quad += ps * (P[i * m + j] as number);
        cross += (P[i * m + j] as number) * (Sxy[j * n + i] as number);
        dP[i * m + j] = (2 * (ps - (Sxy[j * n + i] as number))) / (rows * n);
      }
    }
    const grad = new Float64Array(dim);
    for (let a = 0; a < h; a++) for (let j = 0; j < m; j++) {
      let v = 0;
      for (let i = 0; i < n; i++) v += (w[oB + i * h + a] as number) * (dP[i * m + j] as number);
      grad[a * m + j] = v;
    }
    for (let i = 0; i < n; i++) for (let a = 0; a < h; a++) {
      let v = 0;
      for (let j = 0; j < m; j++) v += (dP[i * m + j] as number) * (w[a * m + j] as number);
      grad[oB + i * h + a] = v;
    }
    return { loss: (quad - 2 * cross + Syy) / (rows * n), grad };
  };
  const target: LlcTarget = { dim, n: rows, lossAndGrad };
  // the fitted reference: Adam from a small random start (devinterp trains 5000 Adam steps at lr 0.01)
  const fit = (): Float64Array => {
    const w = Float64Array.from({ length: dim }, () => 0.3 * rng.normal());
    const m1 = new Float64Array(dim);
    const m2 = new Float64Array(dim);
    for (let t = 1; t <= 3000; t++) {
      const { grad } = lossAndGrad(w, null);
      const lr = t > 2000 ? 1e-3 : 1e-2;
      for (let k = 0; k < dim; k++) {
        const g = grad[k] as number;
        m1[k] = 0.9 * (m1[k] as number) + 0.1 * g;
        m2[k] = 0.999 * (m2[k] as number) + 0.001 * g * g;
        w[k] = (w[k] as number) - (lr * ((m1[k] as number) / (1 - 0.9 ** t))) / (Math.sqrt((m2[k] as number) / (1 - 0.999 ** t)) + 1e-8);
      }
    }
    return w;
  };
  return { target, fit };
}

describe('LLC acceptance against closed forms (devinterp tests/slt)', () => {
  it('reduced-rank regression: the Aoyagi-Watanabe λ is recovered within devinterp\'s relative tolerance 0.3', () => {
    // devinterp: 3 chains x 2000 draws, lr 6e-5, localisation 1, nβ = n / log n (n = batch = 1000)
    const cases: [number, number, number][] = [
      [5, 3, 5], // case 1, odd: λ = 6.125... (M+H+N = 13)
      [5, 4, 5], // case 1, even
      [4, 3, 8], // case 2
      [8, 3, 4], // case 3
      [3, 8, 4], // case 4
    ];
    const got = cases.map(([m, h, n]) => {
      const { target, fit } = rrrTarget(m, h, n, 1000, 42 + m + 10 * h + 100 * n);
      const est = estimateLlc(target, fit(), { step: 6e-5, gamma: 1, chains: 3, draws: 2000, burnin: 0, seed: 42 });
      return { m, h, n, truth: rrrTruth(m, h, n), llc: est.llc, std: est.std };
    });
    const report = got.map((g) => `(${g.m}, ${g.h}, ${g.n}): λ̂ = ${g.llc.toFixed(3)} ± ${g.std.toFixed(3)} vs ${g.truth}`).join('; ');
    for (const g of got) expect(Math.abs(g.llc / g.truth - 1), report).toBeLessThan(0.3);
  }, 120_000);

  it('closed forms of the RRR cases match the formula as printed (guards the test oracle itself)', () => {
    expect(rrrTruth(5, 3, 5)).toBeCloseTo((1 + 50 + 30 + 30 - 25 - 25 - 9) / 8, 12);
    expect(rrrTruth(5, 4, 5)).toBeCloseTo((50 + 40 + 40 - 25 - 25 - 16) / 8, 12);
    expect(rrrTruth(4, 3, 8)).toBe(6);
    expect(rrrTruth(8, 3, 4)).toBe(6);
    expect(rrrTruth(3, 8, 4)).toBe(6);
  });

  it('normal crossing w^{2k}: the volume estimators give λ = 1/(2k) for k = 1, 2, 3 (Monte Carlo and radial)', () => {
    for (const k of [1, 2, 3]) {
      const f = (w: Float64Array) => (w[0] as number) ** (2 * k);
      const eps = [1e-6, 1e-5, 1e-4, 1e-3];
      const mc = volumeMonteCarlo(f, new Float64Array(1), { eps, samples: 200000, seed: k });
      expect(Math.min(...mc.counts)).toBeGreaterThanOrEqual(100);
      for (const l of mc.lambda) expect(Math.abs(l.value - 1 / (2 * k))).toBeLessThan(0.03);
      const rad = volumeRadial(f, new Float64Array(1), { eps });
      for (const l of rad.lambda) expect(l.value).toBeCloseTo(1 / (2 * k), 9);
      // and a product crossing w1^{2k} w2^{2k}... is left to the D2 oracle 3 above; here the 2-D sum w1^2 + w2^{2k}: λ = 1/2 + 1/(2k)
      const g = (w: Float64Array) => (w[0] as number) ** 2 + (w[1] as number) ** (2 * k);
      const mc2 = volumeMonteCarlo(g, new Float64Array(2), { eps: [1e-3, 1e-2, 1e-1], samples: 400000, seed: 10 + k });
      expect(Math.min(...mc2.counts)).toBeGreaterThanOrEqual(100);
      for (const l of mc2.lambda) expect(Math.abs(l.value - (0.5 + 1 / (2 * k)))).toBeLessThan(0.05);
    }
  });

  it('normal crossing w^{2k} by SGLD: the truth lies within 3.5 standard deviations over chains (devinterp sampler_accuracy_test)', () => {
    for (const k of [1, 2, 3]) {
      const truth = 1 / (2 * k);
      const est = estimateLlc(monomials([k]), new Float64Array(1), { nBeta: 100, gamma: 0, step: 4e-4, chains: 10, draws: 5000, burnin: 500, seed: 7 });
      expect(Math.abs(est.llc - truth), `k = ${k}: λ̂ = ${est.llc.toFixed(4)} ± ${est.std.toFixed(4)}`).toBeLessThan(3.5 * est.std);
      expect(Math.abs(est.llc - truth)).toBeLessThan(0.25 * truth);
      expect(est.diagnosis.diverged).toBe(false);
    }
  });
});

describe('LLC diagnostics', () => {
  it('flags low ESS, unsettled traces and spikes, and passes a healthy run', () => {
    const t = monomials([1]);
    const healthy = estimateLlc(t, new Float64Array(1), { nBeta: 100, gamma: 0, step: 2e-3, chains: 4, draws: 4000, burnin: 400, seed: 3 });
    expect(healthy.diagnosis, healthy.warnings.join('; ')).toMatchObject({ ok: true, lowEss: false, notStationary: false, diverged: false, outOfRange: false });
    expect(healthy.diagnosis.rhat).toBeLessThan(1.05);
    // tiny step: strongly autocorrelated, still climbing from w* -> low ESS and not settled
    const slow = estimateLlc(t, new Float64Array(1), { nBeta: 100, gamma: 0, step: 1e-6, chains: 2, draws: 400, burnin: 0, seed: 3 });
    expect(slow.diagnosis.lowEss).toBe(true);
    expect(slow.diagnosis.notStationary).toBe(true);
    expect(slow.diagnosis.ok).toBe(false);
    expect(slow.warnings.some((w) => /effective sample size/.test(w))).toBe(true);
    expect(slow.warnings.some((w) => /not settled|disagree/.test(w))).toBe(true);
    // a landscape with rare huge excursions: the spike check fires
    const spiky: LlcTarget = {
      dim: 1,
      n: 1,
      lossAndGrad(w) {
        const x = w[0] as number;
        const bump = Math.abs(x) > 0.15 ? 50 : 0; // a plateau wall the sampler sometimes crosses
        return { loss: x * x + bump, grad: Float64Array.of(2 * x) };
      },
    };
    const sp = estimateLlc(spiky, new Float64Array(1), { nBeta: 100, gamma: 0, step: 2e-3, chains: 2, draws: 3000, burnin: 100, seed: 1 });
    expect(sp.diagnosis.diverged).toBe(true);
    // MALA acceptance of a well-resolved chain is high (the low-acceptance flag fired at 0.089 on an MNIST MLP at ε = 1e-3, bench/mnist.ts)
    expect(healthy.malaAcceptance).toBeGreaterThan(0.5);
    expect(healthy.diagnosis.lowAcceptance).toBe(false);
    // a diverging chain is an error, not a silent NaN
    const blow: LlcTarget = { dim: 1, n: 1, lossAndGrad: (w) => ({ loss: -Math.exp((w[0] as number) ** 2 * 50), grad: Float64Array.of(-100 * (w[0] as number) * Math.exp((w[0] as number) ** 2 * 50)) }) };
    expect(() => estimateLlc(blow, Float64Array.of(0.5), { nBeta: 10, gamma: 0, step: 1e-2, chains: 1, draws: 200 })).toThrow(expect.objectContaining({ code: 'NOT_CONVERGED' }));
  });
});

describe('behavioural KL and cross-entropy targets (softmax regression: λ = (k − 1)(d + 1)/2)', () => {
  // 4 inputs, 3 classes: N = 15 parameters; softmax ignores a common shift of the logits, so the
  // d + 1 = 5 directions that add the same vector to every row of [W b] are free: λ = (15 − 5)/2 = 5
  const g: ModelGraph = { format: 'basis.model', version: 1, name: 'softmax', input: [4], nodes: [{ op: 'dense', name: 'fc', units: 3 }] };
  const rng = createRng(17);
  const W = randMat(3, 4, rng, 0.8);
  const b = Float64Array.from([0.2, -0.1, 0.3]);
  const params = params64({ 'fc.weight': W, 'fc.bias': b });
  const n = 400;
  const X = randMat(n, 4, rng);
  const logits = (w: Float64Array): Matrix => {
    const out = new Matrix(n, 3);
    for (let r = 0; r < n; r++) for (let i = 0; i < 3; i++) {
      let v = w[12 + i] as number;
      for (let j = 0; j < 4; j++) v += (w[i * 4 + j] as number) * X.get(r, j);
      out.set(r, i, v);
    }
    return out;
  };
  const labels = Int32Array.from({ length: n }, (_, r) => {
    const z = [0, 1, 2].map((i) => b[i]! + [0, 1, 2, 3].reduce((a, j) => a + W.get(i, j) * X.get(r, j), 0));
    const p = z.map((v) => Math.exp(v - Math.max(...z)));
    const u = rng.uniform() * p.reduce((a, c) => a + c, 0);
    return u < p[0]! ? 0 : u < p[0]! + p[1]! ? 1 : 2;
  });

  it('loss values match float64 references and gradients match finite differences', () => {
    const x = tf.tensor2d(Float32Array.from(X.data), [n, 4]);
    const y = tf.tensor1d(labels, 'int32');
    const kl = modelLlcTarget({ graph: g, params }, x, { loss: 'behavioral-kl' });
    const ce = modelLlcTarget({ graph: g, params }, x, { loss: 'cross-entropy', y });
    const w = Float64Array.from(kl.w0, (v, i) => v + 0.3 * Math.sin(i + 1));
    expect(kl.target.lossAndGrad(kl.w0, null).loss).toBeCloseTo(0, 6);
    expect(Math.max(...Array.from(kl.target.lossAndGrad(kl.w0, null).grad, Math.abs))).toBeLessThan(1e-5);
    const ref = behavioralLossFromOutputs(logits(w), logits(kl.w0), 'kl');
    expect(Math.abs(kl.target.lossAndGrad(w, null).loss / ref - 1)).toBeLessThan(1e-4);
    const Z = logits(w);
    let ceRef = 0;
    for (let r = 0; r < n; r++) {
      const row = Z.row(r);
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
      ceRef += lse - row[labels[r]!]!;
    }
    expect(Math.abs(ce.target.lossAndGrad(w, null).loss / (ceRef / n) - 1)).toBeLessThan(1e-5);
    for (const tg of [kl, ce]) {
      const { grad } = tg.target.lossAndGrad(w, null);
      for (const k of [0, 5, 13]) {
        const h = 1e-2;
        const wp = Float64Array.from(w);
        const wm = Float64Array.from(w);
        wp[k] = wp[k]! + h;
        wm[k] = wm[k]! - h;
        const fd = (tg.target.lossAndGrad(wp, null).loss - tg.target.lossAndGrad(wm, null).loss) / (2 * h);
        expect(Math.abs(grad[k]! - fd)).toBeLessThan(2e-3 * Math.max(1, Math.abs(fd)));
      }
      // minibatches are the same loss on the chosen rows
      const batch = Int32Array.from([3, 7, 11, 200]);
      expect(tg.target.lossAndGrad(w, batch).loss).toBeGreaterThan(0);
    }
    const xbad = tf.tensor2d([[0, 1, 2, 3], [0, Infinity, 0, 0]]);
    expect(() => modelLlcTarget({ graph: g, params }, xbad)).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT', message: expect.stringMatching(/row 1/) as string }));
    expect(() => modelLlcTarget({ graph: g, params }, x, { loss: 'cross-entropy' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    xbad.dispose();
    kl.dispose();
    ce.dispose();
    tf.dispose([x, y]);
  });

  it('defaultLlcStep: 3e-4 for the cross-entropy, 1e-5 for the stiffer MSE and behavioral losses; an unknown loss is CONFIG_INVALID', () => {
    expect(defaultLlcStep('cross-entropy')).toBe(3e-4);
    for (const loss of ['behavioral-mse', 'behavioral-kl', 'mse'] as const) expect(defaultLlcStep(loss)).toBe(1e-5);
    expect(defaultLlcStep()).toBe(defaultLlcStep('behavioral-mse'));
    expect(() => defaultLlcStep('hinge' as never)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/loss must be one of/) as string }));
  });

  it('SGLD recovers λ = 5 on the behavioural KL and on the cross-entropy at its fitted minimum', () => {
    const x = tf.tensor2d(Float32Array.from(X.data), [n, 4]);
    const y = tf.tensor1d(labels, 'int32');
    const kl = modelLlcTarget({ graph: g, params }, x, { loss: 'behavioral-kl' });
    const estKl = estimateLlc(kl.target, kl.w0, { gamma: 1, step: 3e-3, chains: 2, draws: 600, burnin: 100, seed: 4 });
    expect(Math.abs(estKl.llc / 5 - 1), `KL: λ̂ = ${estKl.llc}`).toBeLessThan(0.2);
    expect(estKl.effectiveParameters).toBeLessThan(15); // N_eff < N: the shift directions are free
    const ce = modelLlcTarget({ graph: g, params }, x, { loss: 'cross-entropy', y });
    // fit the maximum-likelihood weights by full-batch gradient descent
    const w = Float64Array.from(ce.w0);
    for (let t = 0; t < 300; t++) {
      const { grad } = ce.target.lossAndGrad(w, null);
      for (let k = 0; k < w.length; k++) w[k] = w[k]! - 2 * grad[k]!;
    }
    expect(Math.max(...Array.from(ce.target.lossAndGrad(w, null).grad, Math.abs))).toBeLessThan(1e-3);
    const estCe = estimateLlc(ce.target, w, { gamma: 1, step: 3e-3, chains: 2, draws: 600, burnin: 100, seed: 5 });
    expect(Math.abs(estCe.llc / 5 - 1), `CE: λ̂ = ${estCe.llc}`).toBeLessThan(0.2);
    kl.dispose();
    ce.dispose();
    tf.dispose([x, y]);
  }, 240_000); // about 20 s on an idle core; CI runs every package's tests at once on 2 cores
});
