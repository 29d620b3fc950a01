// D2/D3: local learning coefficient — SGLD estimator with diagnostics, Monte-Carlo and radial
// volume estimators for toy landscapes, Hessian-rank lower bounds.
import * as tf from '@tensorflow/tfjs-core';
import { BasisError, Matrix, createRng, createYielder, eigh, registerGradients, sampleWithoutReplacement, type Rng } from '@basis/tensor';
import { describeGraph, forward, type ModelGraph } from '@basis/zoo';
import type { ParamsLike } from './dense.js';
import { behavioralLossTensor } from './grams.js';
import { checkEnum, checkFiniteArray, checkFiniteTensor, checkOpt } from './util.js';

/** A loss landscape for the SGLD sampler: minibatch loss and gradient at a flat parameter vector. */
export interface LlcTarget {
  /** Number of parameters N. */
  readonly dim: number;
  /** Number of data points n (default nβ = n / log n); use 1 for data-free potentials and set nBeta. */
  readonly n: number;
  /** Loss and gradient at `w` on the minibatch `batch` (row indices; null = the full data set). */
  lossAndGrad(w: Float64Array, batch: Int32Array | null): { loss: number; grad: Float64Array };
}

/** Options of {@link estimateLlc}. */
export interface SgldOptions {
  /** Step size ε (default 1e-4). */
  step?: number;
  /** Localisation strength γ (default 100; 0 = none). */
  gamma?: number;
  /** Inverse temperature times n (default n / log n). */
  nBeta?: number;
  /** Chains (default 4). */
  chains?: number;
  /** Recorded draws per chain (default 1000). */
  draws?: number;
  /** Burn-in steps per chain before the first draw (default 10% of draws). */
  burnin?: number;
  /** Minibatch size (default: the full data). */
  batchSize?: number;
  /** Noise multiplier (default 1; 0 turns SGLD into gradient descent on nβ L + γ/2 ‖w − w*‖²). */
  noiseLevel?: number;
  /** Seed or generator (default seed 0). */
  seed?: number | Rng;
  /** Minibatches averaged for each chain's initial loss L(w*) (default 4; 1 with full batches). */
  initBatches?: number;
  /** Summed ESS below `minEssPerChain · chains` raises the low-ESS warning (default 100). */
  minEssPerChain?: number;
}

/** Per-chain diagnostics of {@link estimateLlc}. */
export interface ChainDiagnostics {
  readonly llc: number;
  readonly initLoss: number;
  /** Loss at every recorded draw. */
  readonly trace: Float64Array;
  /** Mean MALA acceptance probability min(1, α) of the SGLD moves (gradients of consecutive steps). */
  readonly malaAcceptance: number;
  /** Effective sample size of the loss trace (Geyer initial monotone sequence). */
  readonly ess: number;
  /** Largest ‖w − w*‖ seen. */
  readonly maxDistance: number;
  /** Mean of the first and last quarter of the trace (drift check: they should agree). */
  readonly drift: { readonly first: number; readonly last: number };
  /**
   * Geweke-style stationarity z-score: (mean of the last half − mean of the first 10%) over its
   * standard error (each part's variance / its ESS). |z| > 4 means the trace has not settled.
   */
  readonly stationarityZ: number;
  /** Fraction of draws whose scaled rise nβ (L − L(w*)) exceeds λ̂ + 12 √max(λ̂, 1) + 12, far in the Gamma(λ̂, 1) tail (spikes). */
  readonly spikeFraction: number;
}

/** Outcome of the automatic health checks of {@link estimateLlc} (each true flag also adds a warning). */
export interface LlcDiagnosis {
  /** Summed ESS below `minEss` (default 100 per chain): more draws, or a larger step. */
  readonly lowEss: boolean;
  /** Some chain's trace has not settled (|stationarityZ| > 4) or split-R̂ > 1.1. */
  readonly notStationary: boolean;
  /** The loss trace is spiky: more than 0.5% of a chain's draws lie far above the posterior's Gamma(λ̂, 1) tail (see `spikeFraction`). */
  readonly diverged: boolean;
  /** λ̂ ≤ 0 or λ̂ > N/2 beyond its error: the estimate is outside the possible range. */
  readonly outOfRange: boolean;
  /** Mean MALA acceptance below 0.1: the step is too coarse for the local curvature and λ̂ is biased (usually upwards). */
  readonly lowAcceptance: boolean;
  /** Split-R̂ of the loss traces over chains (1 = chains agree; NaN with one chain). */
  readonly rhat: number;
  /** Smallest per-chain ESS. */
  readonly minChainEss: number;
  /** True when no flag is raised. */
  readonly ok: boolean;
}

/** Result of {@link estimateLlc}. */
export interface LlcEstimate {
  /** λ̂ = nβ (E_p[L] − L(w*)), mean over chains. */
  readonly llc: number;
  /** Standard deviation over chains. */
  readonly std: number;
  /** 2 λ̂ (the effective parameter count when the loss is the behavioral loss). */
  readonly effectiveParameters: number;
  /** `eps_eff = E_p[L] − L(w*)`: the loss scale the posterior probes. */
  readonly epsEff: number;
  readonly nBeta: number;
  readonly chains: ChainDiagnostics[];
  /** Summed ESS over chains. */
  readonly ess: number;
  /** Mean MALA acceptance over chains. */
  readonly malaAcceptance: number;
  /** Warnings: λ̂ ≤ 0, λ̂ > N/2, low ESS, unsettled or spiky traces, non-finite loss. */
  readonly warnings: string[];
  /** The health checks behind the warnings, as flags. */
  readonly diagnosis: LlcDiagnosis;
  readonly options: Required<Omit<SgldOptions, 'seed' | 'batchSize'>> & { batchSize: number | null };
}

function geyerEss(x: Float64Array): number {
  const n = x.length;
  if (n < 4) return n;
  let mu = 0;
  for (const v of x) mu += v;
  mu /= n;
  let v0 = 0;
  for (const v of x) v0 += (v - mu) ** 2;
  v0 /= n;
  if (!(v0 > 0)) return n;
  const rho = (lag: number): number => {
    let s = 0;
    for (let t = 0; t + lag < n; t++) s += ((x[t] as number) - mu) * ((x[t + lag] as number) - mu);
    return s / n / v0;
  };
  let sum = 0;
  let prev = Infinity;
  for (let k = 0; 2 * k + 1 < n; k++) {
    let g = rho(2 * k) + rho(2 * k + 1);
    if (g <= 0) break;
    g = Math.min(g, prev);
    prev = g;
    sum += g;
  }
  const tau = -1 + 2 * sum;
  return n / Math.max(tau, 1e-12 + 1 / n);
}

function meanVar(x: ArrayLike<number>, from: number, to: number): { mean: number; v: number } {
  let m = 0;
  for (let t = from; t < to; t++) m += x[t] as number;
  m /= to - from;
  let v = 0;
  for (let t = from; t < to; t++) v += ((x[t] as number) - m) ** 2;
  return { mean: m, v: to - from > 1 ? v / (to - from - 1) : 0 };
}

/** Geweke z: last half against the first 10%, each standard error from its own ESS. */
function stationarityZ(x: Float64Array): number {
  const n = x.length;
  const a = Math.max(2, Math.floor(0.1 * n));
  const b = Math.floor(n / 2);
  if (n < 20) return 0;
  const A = meanVar(x, 0, a);
  const B = meanVar(x, b, n);
  const se2 = A.v / geyerEss(x.subarray(0, a)) + B.v / geyerEss(x.subarray(b));
  if (!(se2 > 0)) return A.mean === B.mean ? 0 : Infinity;
  return (B.mean - A.mean) / Math.sqrt(se2);
}

/**
 * Fraction of draws whose scaled rise `u = nβ (L − L(w*))` exceeds `λ̂ + 12 √max(λ̂, 1) + 12`. At a
 * normal crossing `u` is exactly Gamma(λ, 1) distributed, and near any minimum roughly so; that
 * threshold is far in its tail (probability below 1e-5 for every λ), so draws above it are spikes
 * of an unstable step, not posterior mass.
 */
function spikeFraction(x: Float64Array, l0: number, nBeta: number, llc: number): number {
  const lam = Math.max(llc, 0);
  const thr = lam + 12 * Math.sqrt(Math.max(lam, 1)) + 12;
  let k = 0;
  for (const v of x) if (nBeta * (v - l0) > thr) k++;
  return k / x.length;
}

/** Split-R̂ (Gelman et al.) of several traces: each split in halves; NaN for one short chain. */
function splitRhat(traces: Float64Array[]): number {
  const halves: Float64Array[] = [];
  for (const t of traces) {
    const h = Math.floor(t.length / 2);
    if (h < 2) return NaN;
    halves.push(t.subarray(0, h), t.subarray(t.length - h));
  }
  const m = halves.length;
  const n = halves[0]!.length;
  const stats = halves.map((h) => meanVar(h, 0, h.length));
  const grand = stats.reduce((a, s) => a + s.mean, 0) / m;
  const B = (n / (m - 1)) * stats.reduce((a, s) => a + (s.mean - grand) ** 2, 0);
  const W = stats.reduce((a, s) => a + s.v, 0) / m;
  if (!(W > 0)) return B > 0 ? Infinity : 1;
  return Math.sqrt(((n - 1) / n) * W + B / n) / Math.sqrt(W);
}

function resolveRng(seed: number | Rng | undefined): Rng {
  if (seed === undefined) return createRng(0);
  if (typeof seed === 'number') return createRng(seed);
  return seed;
}

/**
 * What a finished SGLD chain needs to be reused by a later run (the rest of its
 * {@link ChainDiagnostics} is recomputed from these): a JSON-storable checkpoint. A
 * `ChainDiagnostics` is one.
 */
export interface ChainCheckpoint {
  /** Loss at every recorded draw (length = `draws`). */
  readonly trace: ArrayLike<number>;
  readonly initLoss: number;
  /** NaN (or null after a JSON round trip) when the noise is off. */
  readonly malaAcceptance: number | null;
  readonly maxDistance: number;
}

/** Interruption and resumption of {@link estimateLlc} and {@link estimateLlcAsync}. */
export interface SgldRunOptions {
  /**
   * Stops the estimate within one SGLD step of the abort with a `BasisError` (code
   * `INVALID_ARGUMENT`, `details.aborted = true`, `details.finished` = the chains finished so far).
   * In the synchronous {@link estimateLlc} the signal is read at every step but only an abort raised
   * from inside `lossAndGrad` or `onChain` can be seen; use {@link estimateLlcAsync} for Ctrl-C/SIGTERM.
   */
  signal?: AbortSignal;
  /**
   * Chains finished by an earlier run of the same target, `w0` and options, by chain index
   * (`undefined`/`null` = not finished): they are reused as they are and not sampled again, so a
   * resumed estimate equals an uninterrupted one. Whoever stores them must key them by the target,
   * `w0` and every option (a checkpoint of other settings would be reused silently).
   */
  finished?: ReadonlyArray<ChainCheckpoint | null | undefined>;
  /** Called with every newly sampled chain as soon as it is finished (awaited by {@link estimateLlcAsync}): store it to resume. */
  onChain?: (chain: number, result: ChainDiagnostics) => void | Promise<void>;
  /** {@link estimateLlcAsync}: longest stretch of sampling between event-loop turns, in ms (default 50). */
  yieldEveryMs?: number;
}

interface SgldPlan {
  readonly N: number;
  readonly n: number;
  readonly step: number;
  readonly gamma: number;
  readonly nBeta: number;
  readonly chains: number;
  readonly draws: number;
  readonly burnin: number;
  readonly batchSize: number | null;
  readonly noise: number;
  readonly initBatches: number;
  readonly rngs: Rng[];
  readonly finished: Array<ChainCheckpoint | null>;
}

function planSgld(target: LlcTarget, w0: Float64Array, opts: SgldOptions & SgldRunOptions): SgldPlan {
  checkOpt(opts.step, 'step', (v) => Number.isFinite(v) && v > 0, 'a positive number');
  checkOpt(opts.gamma, 'gamma', (v) => Number.isFinite(v) && v >= 0, 'a non-negative number');
  checkOpt(opts.nBeta, 'nBeta', (v) => Number.isFinite(v) && v > 0, 'a positive number');
  checkOpt(opts.chains, 'chains', (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
  checkOpt(opts.draws, 'draws', (v) => Number.isInteger(v) && v >= 2, 'an integer >= 2');
  checkOpt(opts.burnin, 'burnin', (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer');
  checkOpt(opts.batchSize, 'batchSize', (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
  checkOpt(opts.noiseLevel, 'noiseLevel', (v) => Number.isFinite(v) && v >= 0, 'a non-negative number');
  checkOpt(opts.initBatches, 'initBatches', (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
  checkOpt(opts.minEssPerChain, 'minEssPerChain', (v) => Number.isFinite(v) && v >= 0, 'a non-negative number');
  checkOpt(opts.yieldEveryMs, 'yieldEveryMs', (v) => Number.isFinite(v) && v >= 0, 'a non-negative number');
  if (opts.onChain !== undefined && typeof opts.onChain !== 'function') throw new BasisError('CONFIG_INVALID', 'onChain must be a function', { details: { field: 'onChain' } });
  if (!(w0 instanceof Float64Array) || w0.length !== target.dim) throw new BasisError('SHAPE_MISMATCH', `w0 must be a Float64Array of length ${target.dim} (target.dim)`);
  checkFiniteArray(w0, 'w0');
  const n = target.n;
  const chains = opts.chains ?? 4;
  const draws = opts.draws ?? 1000;
  const batchSize = opts.batchSize !== undefined && opts.batchSize < n ? opts.batchSize : null;
  const finished = checkFinished(opts.finished, chains, draws);
  const root = resolveRng(opts.seed);
  return {
    N: target.dim,
    n,
    step: opts.step ?? 1e-4,
    gamma: opts.gamma ?? 100,
    nBeta: opts.nBeta ?? (n > 1 ? n / Math.log(n) : 1),
    chains,
    draws,
    burnin: opts.burnin ?? Math.floor(draws / 10),
    batchSize,
    noise: opts.noiseLevel ?? 1,
    initBatches: batchSize === null ? 1 : (opts.initBatches ?? 4),
    // every chain's stream is forked up front in chain order, so a chain's draws do not depend on
    // which earlier chains were resumed rather than sampled
    rngs: Array.from({ length: chains }, (_, c) => root.fork(`chain-${c}`)),
    finished,
  };
}

function checkFinished(fin: SgldRunOptions['finished'], chains: number, draws: number): Array<ChainCheckpoint | null> {
  const out: Array<ChainCheckpoint | null> = Array.from({ length: chains }, () => null);
  if (fin === undefined) return out;
  if (!Array.isArray(fin)) throw new BasisError('CONFIG_INVALID', 'finished must be an array of chain checkpoints by chain index', { details: { field: 'finished' } });
  if (fin.length > chains) throw new BasisError('CONFIG_INVALID', `finished has ${fin.length} entries but there are only ${chains} chains`, { details: { field: 'finished' } });
  fin.forEach((c: ChainCheckpoint | null | undefined, i) => {
    if (c === undefined || c === null) return;
    const field = `finished[${i}]`;
    const bad = (what: string): never => {
      throw new BasisError('CONFIG_INVALID', `${field}: ${what} (a checkpoint of other settings or a damaged cache entry?)`, { details: { field } });
    };
    if (typeof c !== 'object') bad('not a chain checkpoint');
    const trace = c.trace as unknown;
    if (!(trace instanceof Float64Array || Array.isArray(trace) || ArrayBuffer.isView(trace))) bad('trace is not an array');
    if (c.trace.length !== draws) bad(`trace has ${c.trace.length} draws, this run records ${draws}`);
    const t = Float64Array.from(c.trace);
    for (let k = 0; k < t.length; k++) if (!Number.isFinite(t[k])) bad(`trace[${k}] = ${t[k]} is not finite`);
    if (!Number.isFinite(c.initLoss)) bad(`initLoss = ${c.initLoss} is not finite`);
    if (!(Number.isFinite(c.maxDistance) && c.maxDistance >= 0)) bad(`maxDistance = ${c.maxDistance} is not a non-negative number`);
    const mala = c.malaAcceptance === null ? NaN : c.malaAcceptance;
    if (typeof mala !== 'number' || (!Number.isNaN(mala) && !(mala >= 0 && mala <= 1))) bad(`malaAcceptance = ${String(c.malaAcceptance)} is not in [0, 1]`);
    out[i] = { trace: t, initLoss: c.initLoss, malaAcceptance: mala, maxDistance: c.maxDistance };
  });
  return out;
}

/** The diagnostics of one chain from its checkpoint (pure: a resumed chain gives the same numbers). */
function chainDiagnostics(cp: ChainCheckpoint, nBeta: number): ChainDiagnostics {
  const trace = cp.trace instanceof Float64Array ? cp.trace : Float64Array.from(cp.trace);
  const draws = trace.length;
  let mean = 0;
  for (const v of trace) mean += v;
  mean /= draws;
  const q = Math.max(1, Math.floor(draws / 4));
  let first = 0;
  let last = 0;
  for (let k = 0; k < q; k++) {
    first += trace[k] as number;
    last += trace[draws - 1 - k] as number;
  }
  const l0 = cp.initLoss;
  return {
    llc: nBeta * (mean - l0),
    initLoss: l0,
    trace,
    malaAcceptance: cp.malaAcceptance ?? NaN,
    ess: geyerEss(trace),
    maxDistance: cp.maxDistance,
    drift: { first: first / q, last: last / q },
    stationarityZ: stationarityZ(trace),
    spikeFraction: spikeFraction(trace, l0, nBeta, nBeta * (mean - l0)),
  };
}

/** One SGLD chain as a generator: yields after every step (so a driver can stop or yield there) and returns the finished chain. */
function* sgldChain(target: LlcTarget, w0: Float64Array, p: SgldPlan, c: number): Generator<number, ChainDiagnostics, void> {
  const { N, n, step, gamma, nBeta, draws, burnin, batchSize, initBatches } = p;
  const rng = p.rngs[c]!;
  const sd = Math.sqrt(step) * p.noise;
  const pick = (): Int32Array | null => (batchSize === null ? null : sampleWithoutReplacement(n, batchSize, rng));
  let l0 = 0;
  for (let b = 0; b < initBatches; b++) l0 += target.lossAndGrad(w0, pick()).loss;
  l0 /= initBatches;
  const w = Float64Array.from(w0);
  const trace = new Float64Array(draws);
  let cur = target.lossAndGrad(w, pick());
  let acc = 0;
  let accN = 0;
  let maxDist = 0;
  const logp = (x: Float64Array, loss: number): number => {
    let s = 0;
    for (let i = 0; i < N; i++) s += ((x[i] as number) - (w0[i] as number)) ** 2;
    return -nBeta * loss - 0.5 * gamma * s;
  };
  const drift = (x: Float64Array, g: Float64Array, i: number): number => -nBeta * (g[i] as number) - gamma * ((x[i] as number) - (w0[i] as number));
  const prop = new Float64Array(N);
  for (let t = 0; t < burnin + draws; t++) {
    if (!Number.isFinite(cur.loss)) {
      throw new BasisError('NOT_CONVERGED', `SGLD chain ${c} diverged: the loss became ${cur.loss} at step ${t} (max ‖w − w*‖ = ${maxDist.toPrecision(3)}); lower step (${step}) or raise gamma (${gamma})`);
    }
    if (t >= burnin) trace[t - burnin] = cur.loss;
    for (let i = 0; i < N; i++) prop[i] = (w[i] as number) + 0.5 * step * drift(w, cur.grad, i) + (sd > 0 ? sd * rng.normal() : 0);
    const next = target.lossAndGrad(prop, pick());
    if (t >= burnin && sd > 0 && Number.isFinite(next.loss)) {
      // MALA ratio of this move (the reverse proposal uses the gradient of the next step)
      let fwd = 0;
      let rev = 0;
      for (let i = 0; i < N; i++) {
        fwd += ((prop[i] as number) - (w[i] as number) - 0.5 * step * drift(w, cur.grad, i)) ** 2;
        rev += ((w[i] as number) - (prop[i] as number) - 0.5 * step * drift(prop, next.grad, i)) ** 2;
      }
      const la = logp(prop, next.loss) - logp(w, cur.loss) - rev / (2 * step) + fwd / (2 * step);
      acc += la >= 0 ? 1 : Math.exp(la);
      accN++;
    }
    w.set(prop);
    cur = next;
    let dist = 0;
    for (let i = 0; i < N; i++) dist += ((w[i] as number) - (w0[i] as number)) ** 2;
    maxDist = Math.max(maxDist, Math.sqrt(dist));
    yield t;
  }
  return chainDiagnostics({ trace, initLoss: l0, malaAcceptance: accN === 0 ? NaN : acc / accN, maxDistance: maxDist }, nBeta);
}

function interrupted(p: SgldPlan, c: number, t: number, out: ReadonlyArray<ChainDiagnostics | undefined>): BasisError {
  const done = out.flatMap((x, i) => (x === undefined ? [] : [i]));
  return new BasisError(
    'INVALID_ARGUMENT',
    `the SGLD estimate was interrupted in chain ${c} at step ${t} of ${p.burnin + p.draws}; ${done.length} of ${p.chains} chains are finished (pass them as \`finished\` to resume)`,
    { details: { aborted: true, chain: c, step: t, finished: [...out] } },
  );
}

/** The estimate from all chains (diagnostics, warnings, flags). */
function summarise(p: SgldPlan, out: ChainDiagnostics[], minEssPerChain: number | undefined): LlcEstimate {
  const { N, step, gamma, nBeta, chains } = p;
  const warnings: string[] = [];
  const ls = out.map((c) => c.llc);
  const llc = ls.reduce((a, b) => a + b, 0) / ls.length;
  const std = ls.length > 1 ? Math.sqrt(ls.reduce((a, b) => a + (b - llc) ** 2, 0) / (ls.length - 1)) : 0;
  if (!Number.isFinite(llc)) throw new BasisError('NOT_CONVERGED', `the SGLD estimate is ${llc}: the chains diverged; lower step (${step}) or raise gamma (${gamma})`);
  const minEss = (minEssPerChain ?? 100) * chains;
  const totalEss = out.reduce((a, c) => a + c.ess, 0);
  const rhat = splitRhat(out.map((c) => c.trace));
  const outOfRange = llc <= 0 || llc > 1.1 * (N / 2) + 2 * std;
  if (llc <= 0) warnings.push(`λ̂ = ${llc.toPrecision(3)} <= 0: w0 is not a local minimum of the loss at this scale, or the chains are too short`);
  if (llc > 1.1 * (N / 2) + 2 * std) warnings.push(`λ̂ = ${llc.toPrecision(3)} exceeds N/2 = ${N / 2} by more than 10% + 2 std: the step is too large or the chains have not converged`);
  const lowEss = totalEss < minEss;
  if (lowEss) warnings.push(`low effective sample size: ESS = ${totalEss.toFixed(0)} over ${chains} chains (want >= ${minEss}); use more draws or a larger step`);
  let notStationary = false;
  for (const [c, ch] of out.entries()) {
    if (Math.abs(ch.stationarityZ) > 4) {
      notStationary = true;
      warnings.push(`chain ${c}: the loss trace has not settled (first 10% mean ${ch.drift.first.toPrecision(4)}, last half vs first 10%: z = ${ch.stationarityZ.toFixed(1)}); use more burn-in or a smaller step`);
    }
  }
  if (rhat > 1.1) {
    notStationary = true;
    warnings.push(`the chains disagree: split-R̂ of the loss traces = ${rhat.toFixed(3)} > 1.1; run longer chains`);
  }
  let diverged = false;
  for (const [c, ch] of out.entries()) {
    if (ch.spikeFraction > 0.005) {
      diverged = true;
      warnings.push(`chain ${c}: the loss trace spikes (${(100 * ch.spikeFraction).toFixed(1)}% of draws rise far above the posterior's tail); the step (${step}) is too large`);
    }
  }
  const mala = out.reduce((a, c) => a + c.malaAcceptance, 0) / out.length;
  const lowAcceptance = mala < 0.1;
  if (lowAcceptance) warnings.push(`MALA acceptance ${mala.toFixed(3)} < 0.1: the step (${step}) is too coarse for the local curvature and biases λ̂; use a smaller step`);
  const diagnosis: LlcDiagnosis = { lowEss, notStationary, diverged, outOfRange, lowAcceptance, rhat, minChainEss: Math.min(...out.map((c) => c.ess)), ok: !(lowEss || notStationary || diverged || outOfRange || lowAcceptance) };
  const meanLoss = out.reduce((a, c) => a + (c.llc / nBeta), 0) / out.length;
  return {
    llc,
    std,
    effectiveParameters: 2 * llc,
    epsEff: meanLoss,
    nBeta,
    chains: out,
    ess: totalEss,
    malaAcceptance: out.reduce((a, c) => a + c.malaAcceptance, 0) / out.length,
    warnings,
    diagnosis,
    options: { step, gamma, nBeta, chains, draws: p.draws, burnin: p.burnin, noiseLevel: p.noise, initBatches: p.initBatches, batchSize: p.batchSize, minEssPerChain: minEssPerChain ?? 100 },
  };
}

/**
 * SGLD estimate of the local learning coefficient at `w0` (Lau et al. 2023; seeds-spec D3(b)):
 * samples the tempered, localised posterior `exp(−nβ L(w) − γ/2 ‖w − w0‖²)` with
 * `w ← w − (ε/2)(nβ ∇L_batch(w) + γ (w − w0)) + N(0, ε)` from `w0` in several seeded chains, and
 * returns `λ̂ = nβ (E[L] − L(w0))` with per-chain loss traces, MALA acceptance, ESS and drift.
 * With `noiseLevel: 0` the update is plain gradient descent. Synchronous: to stop it on Ctrl-C or
 * SIGTERM use {@link estimateLlcAsync}; `finished`/`onChain` resume from finished chains here too.
 *
 * @example
 * ```ts
 * const target = { dim: 1, n: 1, lossAndGrad: (w) => ({ loss: w[0] ** 4, grad: Float64Array.of(4 * w[0] ** 3) }) };
 * estimateLlc(target, new Float64Array(1), { nBeta: 100, gamma: 0, step: 1e-3, draws: 5000 }).llc; // ≈ 0.25
 * ```
 */
export function estimateLlc(target: LlcTarget, w0: Float64Array, opts: SgldOptions & SgldRunOptions = {}): LlcEstimate {
  const p = planSgld(target, w0, opts);
  const aborted = (): boolean => opts.signal?.aborted === true;
  const out: Array<ChainDiagnostics | undefined> = p.finished.map((cp) => (cp === null ? undefined : chainDiagnostics(cp, p.nBeta)));
  for (let c = 0; c < p.chains; c++) {
    if (out[c] !== undefined) continue;
    if (aborted()) throw interrupted(p, c, 0, out);
    const gen = sgldChain(target, w0, p, c);
    for (let r = gen.next(); ; r = gen.next()) {
      if (r.done === true) {
        out[c] = r.value;
        break;
      }
      if (aborted()) throw interrupted(p, c, r.value + 1, out);
    }
    void opts.onChain?.(c, out[c]!);
  }
  return summarise(p, out as ChainDiagnostics[], opts.minEssPerChain);
}

/**
 * {@link estimateLlc} that lets the event loop turn every `yieldEveryMs` (default 50 ms) of
 * sampling, so an `AbortSignal` wired to Ctrl-C/SIGTERM stops it within one SGLD step. Each
 * chain is handed to `onChain` as soon as it is finished; pass the stored chains back as
 * `finished` and the resumed estimate equals an uninterrupted one (every chain has its own
 * seeded stream). The same seed gives the same numbers as {@link estimateLlc}.
 *
 * @example
 * ```ts
 * const ctl = new AbortController();
 * process.once('SIGINT', () => ctl.abort());
 * const kept: ChainDiagnostics[] = [];
 * const opts = { nBeta: 100, draws: 5000, seed: 1, signal: ctl.signal, onChain: (c: number, r: ChainDiagnostics) => void (kept[c] = r) };
 * try {
 *   await estimateLlcAsync(target, w0, opts);
 * } catch (e) {
 *   // interrupted: the finished chains are in `kept`; later
 *   await estimateLlcAsync(target, w0, { ...opts, signal: undefined, finished: kept });
 * }
 * ```
 */
export async function estimateLlcAsync(target: LlcTarget, w0: Float64Array, opts: SgldOptions & SgldRunOptions = {}): Promise<LlcEstimate> {
  const p = planSgld(target, w0, opts);
  const aborted = (): boolean => opts.signal?.aborted === true;
  const maybeYield = createYielder(opts.yieldEveryMs ?? 50);
  const out: Array<ChainDiagnostics | undefined> = p.finished.map((cp) => (cp === null ? undefined : chainDiagnostics(cp, p.nBeta)));
  for (let c = 0; c < p.chains; c++) {
    if (out[c] !== undefined) continue;
    await maybeYield();
    if (aborted()) throw interrupted(p, c, 0, out);
    const gen = sgldChain(target, w0, p, c);
    for (let r = gen.next(); ; r = gen.next()) {
      if (r.done === true) {
        out[c] = r.value;
        break;
      }
      await maybeYield();
      if (aborted()) throw interrupted(p, c, r.value + 1, out);
    }
    await opts.onChain?.(c, out[c]!);
  }
  return summarise(p, out as ChainDiagnostics[], opts.minEssPerChain);
}

/** Loss of {@link modelLlcTarget}. */
export type ModelLossKind = 'behavioral-mse' | 'behavioral-kl' | 'mse' | 'cross-entropy';

const MODEL_LOSSES: readonly ModelLossKind[] = ['behavioral-mse', 'behavioral-kl', 'mse', 'cross-entropy'];

/**
 * The SGLD step size ε to give {@link estimateLlc} for a {@link modelLlcTarget} of this loss when
 * none is chosen (the loss defaults to `'behavioral-mse'`, as there): 3e-4 for `'cross-entropy'`
 * (the largest step that settled on MNIST MLPs with γ = 100, 4 chains and minibatches of 512, see
 * `bench/mnist.ts`), 1e-5 for the far stiffer MSE and behavioral losses (not calibrated: check the
 * estimate's `diagnosis`).
 *
 * @example
 * ```ts
 * const { target, w0 } = modelLlcTarget(model, x, { loss: 'cross-entropy', y });
 * estimateLlc(target, w0, { step: defaultLlcStep('cross-entropy') }); // ε = 3e-4
 * ```
 */
export function defaultLlcStep(loss: ModelLossKind = 'behavioral-mse'): number {
  checkEnum(loss, 'loss', MODEL_LOSSES);
  return loss === 'cross-entropy' ? 3e-4 : 1e-5;
}

/** A model as data: graph and parameters at rest (the CLI's checkpoint loader gives this). */
export interface ModelLike {
  readonly graph: ModelGraph;
  readonly params: ParamsLike;
}

/**
 * An {@link LlcTarget} for a model graph through tfjs (float32 forward and backward passes,
 * float64 sampler state). The parameters are the graph's trainable tensors in graph order;
 * buffers stay fixed. `'behavioral-*'` losses compare with the outputs at `model.params`
 * (S001 eq. 6; L(w*) = 0); `'mse'` and `'cross-entropy'` need targets `y` (`[n, k]` values or
 * `[n]` class ids).
 *
 * @example
 * ```ts
 * const { target, w0 } = modelLlcTarget({ graph, params }, x, { loss: 'behavioral-mse' });
 * const est = estimateLlc(target, w0, { step: 1e-4, gamma: 100, draws: 500 });
 * est.effectiveParameters; // N_eff = 2 λ̂_B
 * ```
 */
export function modelLlcTarget(
  model: ModelLike,
  x: tf.Tensor,
  opts: { loss?: ModelLossKind; y?: tf.Tensor } = {},
): { target: LlcTarget; w0: Float64Array; names: string[]; dispose: () => void } {
  registerGradients();
  checkEnum(opts.loss, 'loss', MODEL_LOSSES);
  const kind = opts.loss ?? 'behavioral-mse';
  const desc = describeGraph(model.graph);
  const trainable = desc.params.filter((p) => p.trainable);
  const fixed = desc.params.filter((p) => !p.trainable);
  const names = trainable.map((p) => p.name);
  const sizes = trainable.map((p) => p.shape.reduce((a, b) => a * b, 1));
  const N = sizes.reduce((a, b) => a + b, 0);
  const w0 = new Float64Array(N);
  let o = 0;
  trainable.forEach((p, i) => {
    const v = model.params[p.name];
    if (v === undefined) throw new BasisError('INVALID_ARGUMENT', `missing parameter '${p.name}'`);
    if (v.data.length !== sizes[i]) throw new BasisError('SHAPE_MISMATCH', `parameter '${p.name}' has ${v.data.length} values, the graph needs ${sizes[i]}`);
    w0.set(Array.from(v.data), o);
    o += sizes[i] as number;
  });
  checkFiniteArray(w0, 'parameters');
  const bufs: Record<string, tf.Tensor> = {};
  for (const p of fixed) {
    const v = model.params[p.name];
    if (v !== undefined) bufs[p.name] = tf.tensor(Float32Array.from(v.data), [...v.shape]);
  }
  checkFiniteTensor(x, 'x');
  if (opts.y !== undefined) checkFiniteTensor(opts.y, 'y');
  const n = x.shape[0] as number;
  if ((kind === 'mse' || kind === 'cross-entropy') && opts.y === undefined) throw new BasisError('CONFIG_INVALID', `loss '${kind}' needs targets y`, { details: { field: 'y' } });
  if (opts.y !== undefined && opts.y.shape[0] !== n) throw new BasisError('SHAPE_MISMATCH', `y has ${opts.y.shape[0]} rows but x has ${n}`);
  const toTensors = (w: Float64Array): Record<string, tf.Tensor> => {
    const t: Record<string, tf.Tensor> = { ...bufs };
    let k = 0;
    trainable.forEach((p, i) => {
      const s = sizes[i] as number;
      t[p.name] = tf.tensor(Float32Array.from(w.subarray(k, k + s)), [...p.shape]);
      k += s;
    });
    return t;
  };
  const ref = (() => {
    if (!kind.startsWith('behavioral')) return null;
    const t = toTensors(w0);
    const r = tf.tidy(() => forward(model.graph, t, x).output);
    for (const nm of names) t[nm]!.dispose();
    return r;
  })();
  const target: LlcTarget = {
    dim: N,
    n,
    lossAndGrad(w, batch) {
      let loss = NaN;
      const g = new Float64Array(N);
      tf.tidy(() => {
        const idx = batch === null ? null : tf.tensor1d(batch, 'int32');
        const xb = idx === null ? x : tf.gather(x, idx);
        const rb = ref === null ? null : idx === null ? ref : tf.gather(ref, idx);
        const yb = opts.y === undefined ? null : idx === null ? opts.y : tf.gather(opts.y, idx);
        const t = toTensors(w);
        const vars = names.map((nm) => t[nm]!);
        const f = (...ws: tf.Tensor[]): tf.Scalar => {
          const pt: Record<string, tf.Tensor> = { ...bufs };
          names.forEach((nm, i) => (pt[nm] = ws[i]!));
          const out = forward(model.graph, pt, xb).output;
          if (rb !== null) return behavioralLossTensor(out, rb, kind === 'behavioral-kl' ? 'kl' : 'mse');
          if (kind === 'mse') return tf.div(tf.sum(tf.square(tf.sub(out, yb!))), out.shape[0] as number) as tf.Scalar;
          const lab = yb!.rank === 1 ? tf.oneHot(tf.cast(yb!, 'int32') as tf.Tensor1D, out.shape[1] as number) : yb!;
          return tf.neg(tf.mean(tf.sum(tf.mul(lab, tf.logSoftmax(out)), 1))) as tf.Scalar;
        };
        const { value, grads } = tf.valueAndGrads(f)(vars);
        let k = 0;
        grads.forEach((gt) => {
          g.set(gt.dataSync(), k);
          k += gt.size;
        });
        loss = value.dataSync()[0] as number;
      });
      return { loss, grad: g };
    },
  };
  return {
    target,
    w0,
    names,
    dispose() {
      tf.dispose(Object.values(bufs));
      ref?.dispose();
    },
  };
}

/** Result of the volume estimators. */
export interface VolumeEstimate {
  readonly eps: number[];
  readonly volume: number[];
  /** Sample hits per ε (Monte Carlo) or directions (radial). */
  readonly counts: number[];
  /** Finite-scale λ between consecutive ε (slope of log V against log ε), at their geometric means. */
  readonly lambda: { readonly eps: number; readonly value: number }[];
}

function slopes(eps: number[], vol: number[]): { eps: number; value: number }[] {
  const out: { eps: number; value: number }[] = [];
  for (let k = 0; k + 1 < eps.length; k++) {
    const a = vol[k] as number;
    const b = vol[k + 1] as number;
    if (a > 0 && b > 0) out.push({ eps: Math.sqrt((eps[k] as number) * (eps[k + 1] as number)), value: Math.log(b / a) / Math.log((eps[k + 1] as number) / (eps[k] as number)) });
  }
  return out;
}

function checkEps(eps: readonly number[]): number[] {
  if (!Array.isArray(eps) || eps.length === 0) throw new BasisError('CONFIG_INVALID', 'eps must be a non-empty array of increasing positive numbers', { details: { field: 'eps' } });
  for (let k = 0; k < eps.length; k++) {
    if (!(eps[k]! > 0) || (k > 0 && !(eps[k]! > eps[k - 1]!))) throw new BasisError('CONFIG_INVALID', `eps[${k}] = ${eps[k]}: eps must be increasing positive numbers`, { details: { field: `eps[${k}]` } });
  }
  return [...(eps as readonly number[])];
}

/**
 * What both volume estimators check and set up first: the ε levels, the box radius (default 1),
 * a finite `center` (with at least one coordinate when `nonEmpty`), the generator and L(w*).
 */
function volumeSetup(
  loss: (w: Float64Array) => number,
  center: Float64Array,
  opts: { eps: readonly number[]; radius?: number; seed?: number | Rng },
  nonEmpty: boolean,
): { eps: number[]; radius: number; rng: Rng; l0: number } {
  const eps = checkEps(opts.eps);
  checkOpt(opts.radius, 'radius', (v) => v > 0, 'a positive number');
  checkFiniteArray(center, 'center');
  if (nonEmpty && center.length < 1) throw new BasisError('TOO_SMALL', 'center must have at least one coordinate');
  return { eps, radius: opts.radius ?? 1, rng: resolveRng(opts.seed), l0: loss(center) };
}

/**
 * Monte-Carlo volume estimator (D3(a)): `V̂(ε) = vol(B) #{L(w) − L(w*) < ε} / M` for M points
 * uniform in the box `w* ± radius`, and the finite-scale λ as log-log slopes. Exact in the limit;
 * for N ≤ ~6. Aim for ≥ 100 hits per ε (see `counts`).
 *
 * @example
 * ```ts
 * volumeMonteCarlo((w) => w[0] ** 2, new Float64Array(3), { eps: [1e-3, 1e-2], samples: 1e5 }).lambda; // ≈ 0.5
 * ```
 */
export function volumeMonteCarlo(
  loss: (w: Float64Array) => number,
  center: Float64Array,
  opts: { eps: readonly number[]; radius?: number; samples?: number; seed?: number | Rng },
): VolumeEstimate {
  checkOpt(opts.samples, 'samples', (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
  const { eps, radius: r, rng, l0 } = volumeSetup(loss, center, opts, false);
  const M = opts.samples ?? 100000;
  const N = center.length;
  const counts = new Array<number>(eps.length).fill(0);
  const w = new Float64Array(N);
  for (let s = 0; s < M; s++) {
    for (let i = 0; i < N; i++) w[i] = (center[i] as number) + rng.uniformRange(-r, r);
    const dl = loss(w) - l0;
    for (let k = 0; k < eps.length; k++) if (dl < eps[k]!) counts[k]!++;
  }
  const box = (2 * r) ** N;
  const volume = counts.map((c) => (box * c) / M);
  return { eps, volume, counts, lambda: slopes(eps, volume) };
}

function unitBallVolume(N: number): number {
  let v = N % 2 === 0 ? 1 : 2;
  for (let k = N % 2 === 0 ? 2 : 3; k <= N; k += 2) v *= (2 * Math.PI) / k;
  return v;
}

/**
 * Radial volume estimator for star-shaped sub-level sets (the loss increases along every ray
 * from `center`): `V(ε) = vol(B^N) E_u[r_ε(u)^N]` with `r_ε(u)` the ray's exit from
 * `{L − L(w*) < ε} ∩ box`, found by bisection. Resolves very small ε (where uniform sampling
 * sees no hits); in one dimension it is exact (rays ±1). `lambda` holds log-log slopes between
 * consecutive ε; {@link finiteScaleLambda} gives the local derivative.
 *
 * @example
 * ```ts
 * const f = (w: Float64Array) => 1e-4 * w[0] ** 2 + w[0] ** 4;
 * finiteScaleLambda(f, new Float64Array(1), 1e-12); // 0.500
 * ```
 */
export function volumeRadial(
  loss: (w: Float64Array) => number,
  center: Float64Array,
  opts: { eps: readonly number[]; radius?: number; directions?: number; seed?: number | Rng },
): VolumeEstimate {
  checkOpt(opts.directions, 'directions', (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
  const { eps, radius: box, rng, l0 } = volumeSetup(loss, center, opts, true);
  const N = center.length;
  const dirs: Float64Array[] = [];
  if (N === 1) dirs.push(Float64Array.of(1), Float64Array.of(-1));
  else {
    const K = opts.directions ?? 2000;
    for (let k = 0; k < K; k++) {
      const u = new Float64Array(N);
      let s = 0;
      for (let i = 0; i < N; i++) {
        u[i] = rng.normal();
        s += (u[i] as number) ** 2;
      }
      s = Math.sqrt(s);
      for (let i = 0; i < N; i++) u[i] = (u[i] as number) / s;
      dirs.push(u);
    }
  }
  const w = new Float64Array(N);
  const at = (u: Float64Array, t: number): number => {
    for (let i = 0; i < N; i++) w[i] = (center[i] as number) + t * (u[i] as number);
    return loss(w) - l0;
  };
  const sums = new Array<number>(eps.length).fill(0);
  for (const u of dirs) {
    let tmax = Infinity;
    for (let i = 0; i < N; i++) if (u[i] !== 0) tmax = Math.min(tmax, box / Math.abs(u[i] as number));
    for (let k = 0; k < eps.length; k++) {
      const e = eps[k]!;
      let rr: number;
      if (at(u, tmax) < e) rr = tmax;
      else {
        let lo = 0;
        let hi = tmax;
        for (let it = 0; it < 200 && hi - lo > 1e-15 * hi; it++) {
          const mid = 0.5 * (lo + hi);
          if (at(u, mid) < e) lo = mid;
          else hi = mid;
        }
        rr = 0.5 * (lo + hi);
      }
      sums[k]! += rr ** N;
    }
  }
  const vb = N === 1 ? 2 : unitBallVolume(N);
  const volume = sums.map((s) => (vb * s) / dirs.length);
  return { eps, volume, counts: eps.map(() => dirs.length), lambda: slopes(eps, volume) };
}

/**
 * Finite-scale learning coefficient `λ(ε) = ε d/dε log V(ε)` (S001 eq. 8) by a central difference
 * in log ε (half-width `h`, default 0.01) of the radial volume with common directions.
 *
 * @example
 * ```ts
 * finiteScaleLambda((w) => 1e-4 * w[0] ** 2 + w[0] ** 4, new Float64Array(1), 1e-4); // 0.251
 * ```
 */
export function finiteScaleLambda(
  loss: (w: Float64Array) => number,
  center: Float64Array,
  eps: number,
  opts: { radius?: number; directions?: number; seed?: number | Rng; h?: number } = {},
): number {
  checkOpt(eps, 'eps', (v) => v > 0, 'a positive number');
  checkOpt(opts.h, 'h', (v) => v > 0 && v < 1, 'a number in (0, 1)');
  const h = opts.h ?? 0.01;
  const v = volumeRadial(loss, center, { ...opts, eps: [eps * Math.exp(-h), eps * Math.exp(h)] });
  return Math.log((v.volume[1] as number) / (v.volume[0] as number)) / (2 * h);
}

/**
 * Float64 Hessian by central differences of a gradient function: `H_ij = (g(w + h e_j) − g(w − h e_j))_i / 2h`,
 * symmetrised. `2N` gradient evaluations.
 *
 * @example
 * ```ts
 * hessianFiniteDifference((w) => Float64Array.of(2 * w[0], 0), new Float64Array(2)).toArray(); // [[2, 0], [0, 0]]
 * ```
 */
export function hessianFiniteDifference(grad: (w: Float64Array) => Float64Array, w: Float64Array, opts: { h?: number } = {}): Matrix {
  checkOpt(opts.h, 'h', (v) => v > 0, 'a positive number');
  checkFiniteArray(w, 'w');
  const h = opts.h ?? 1e-5;
  const N = w.length;
  const H = new Matrix(N, N);
  const x = Float64Array.from(w);
  for (let j = 0; j < N; j++) {
    x[j] = (w[j] as number) + h;
    const gp = grad(x);
    x[j] = (w[j] as number) - h;
    const gm = grad(x);
    x[j] = w[j] as number;
    for (let i = 0; i < N; i++) H.data[i * N + j] = ((gp[i] as number) - (gm[i] as number)) / (2 * h);
  }
  for (let i = 0; i < N; i++) {
    for (let j = i + 1; j < N; j++) {
      const v = 0.5 * ((H.data[i * N + j] as number) + (H.data[j * N + i] as number));
      H.data[i * N + j] = v;
      H.data[j * N + i] = v;
    }
  }
  return H;
}

/**
 * Gauss-Newton Hessian of the MSE behavioral loss at the reference, `H = (2/n) Σ_x J_θ(x)ᵀ J_θ(x)`
 * (S001 eq. 10 with the factor 2 of erratum 8), from per-sample output gradients through tfjs
 * (`n · d_out` backward passes: for small models). Parameter order: trainable tensors in graph
 * order, row-major.
 *
 * @example
 * ```ts
 * const H = ggnHessian({ graph, params }, x);
 * hessianRankBound(H).lowerBound; // λ ≥ rank(H)/2
 * ```
 */
export function ggnHessian(model: ModelLike, x: tf.Tensor): Matrix {
  registerGradients();
  const { target: _t, w0, names, dispose } = modelLlcTarget(model, x);
  void _t;
  const desc = describeGraph(model.graph);
  const N = w0.length;
  const n = x.shape[0] as number;
  const H = new Float64Array(N * N);
  const params: Record<string, tf.Tensor> = {};
  for (const p of desc.params) {
    const v = model.params[p.name]!;
    params[p.name] = tf.tensor(Float32Array.from(v.data), [...v.shape]);
  }
  const vars = names.map((nm) => params[nm]!);
  try {
    for (let r = 0; r < n; r++) {
      const xr = tf.slice(x, r, 1);
      const k = tf.tidy(() => forward(model.graph, params, xr).output.shape[1] as number);
      for (let o = 0; o < k; o++) {
        const g = tf.tidy(() => {
          const f = (...ws: tf.Tensor[]): tf.Scalar => {
            const pt = { ...params };
            names.forEach((nm, i) => (pt[nm] = ws[i]!));
            const out = forward(model.graph, pt, xr).output;
            return tf.sum(tf.slice(out, [0, o], [1, 1])) as tf.Scalar;
          };
          const gs = tf.grads(f)(vars);
          return tf.concat(gs.map((t) => tf.reshape(t, [-1])));
        });
        const gv = g.dataSync();
        g.dispose();
        for (let i = 0; i < N; i++) {
          const a = gv[i] as number;
          if (a === 0) continue;
          for (let j = i; j < N; j++) H[i * N + j] = (H[i * N + j] as number) + a * (gv[j] as number);
        }
      }
      xr.dispose();
    }
  } finally {
    tf.dispose(Object.values(params));
    dispose();
  }
  for (let i = 0; i < N; i++) for (let j = i; j < N; j++) H[j * N + i] = H[i * N + j] = (2 * (H[i * N + j] as number)) / n;
  return new Matrix(N, N, H);
}

/**
 * Hessian-rank lower bound on the LLC (D2, D3(c)): `λ ≥ rank_tol(H)/2`, with eigenvalues above
 * `rtol · λ_max` (default 1e-6) counted as non-zero.
 *
 * @example
 * ```ts
 * hessianRankBound(Matrix.diag([2, 1, 0])); // { rank: 2, lowerBound: 1, ... }
 * ```
 */
export function hessianRankBound(H: Matrix, opts: { rtol?: number } = {}): { rank: number; lowerBound: number; eigenvalues: Float64Array; nullity: number } {
  checkOpt(opts.rtol, 'rtol', (v) => v >= 0 && v < 1, 'a number in [0, 1)');
  if (!(H instanceof Matrix) || H.rows !== H.cols) throw new BasisError('SHAPE_MISMATCH', 'H must be a square Matrix');
  const ev = eigh(H, { vectors: false, symmetryTol: 1e-6 }).values;
  const top = Math.max(...Array.from(ev, Math.abs));
  const tol = (opts.rtol ?? 1e-6) * top;
  const rank = Array.from(ev).filter((v) => v > tol).length;
  return { rank, lowerBound: rank / 2, eigenvalues: ev, nullity: H.rows - rank };
}

/**
 * A regular LLC oracle: the behavioural loss of linear regression with N parameters at its
 * minimiser w₀, `L(w) = mean_r (x_rᵀ (w - w₀))²` over n seeded Gaussian inputs; its learning
 * coefficient is λ = N/2. `batch` selects rows (minibatch SGLD).
 *
 * @example
 * ```ts
 * const { target, w0 } = regressionTarget(1000, 10, 3);
 * estimateLlc(target, w0, { seed: 1 }).llc; // ≈ 5
 * ```
 */
export function regressionTarget(n: number, N: number, seed: number): { target: LlcTarget; w0: Float64Array } {
  if (!Number.isSafeInteger(n) || n < 1 || !Number.isSafeInteger(N) || N < 1) {
    throw new BasisError('INVALID_ARGUMENT', `regressionTarget: n and N must be positive integers, got n = ${n}, N = ${N}`);
  }
  const rng = createRng(seed);
  const X = new Matrix(n, N, Float64Array.from({ length: n * N }, () => rng.normal()));
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
