// Interrupting and resuming the SGLD estimator (issue 15): an abort stops it within one SGLD step,
// finished chains are handed out as they finish, and a run resumed from them gives exactly the
// numbers of an uninterrupted run.
import { describe, expect, it } from 'vitest';
import { BasisError } from '@basis/tensor';
import { estimateLlc, estimateLlcAsync, regressionTarget, type ChainDiagnostics, type LlcEstimate, type LlcTarget } from './llc.js';

/** The regression oracle (λ = N/2) with a call counter. */
function counted(n = 200, N = 6, seed = 3): { target: LlcTarget; w0: Float64Array; calls: () => number } {
  const { target, w0 } = regressionTarget(n, N, seed);
  let k = 0;
  return {
    w0,
    calls: () => k,
    target: {
      dim: target.dim,
      n: target.n,
      lossAndGrad(w, batch) {
        k++;
        return target.lossAndGrad(w, batch);
      },
    },
  };
}

const OPTS = { nBeta: 50, gamma: 10, step: 1e-3, chains: 4, draws: 300, burnin: 30, batchSize: 64, seed: 7 } as const;

/** Everything an estimate reports, for exact comparison (typed arrays as plain arrays). */
function plain(e: LlcEstimate): unknown {
  return JSON.parse(JSON.stringify({ ...e, chains: e.chains.map((c) => ({ ...c, trace: Array.from(c.trace) })) }));
}

/** A chain as a JSON cache would give it back (typed array → array, NaN → null). */
function roundTrip(c: ChainDiagnostics): ChainDiagnostics {
  return JSON.parse(JSON.stringify({ ...c, trace: Array.from(c.trace) })) as ChainDiagnostics;
}

describe('estimateLlcAsync: interrupt and resume', () => {
  it('gives exactly the numbers of estimateLlc for the same seed', async () => {
    const { target, w0 } = counted();
    const a = estimateLlc(target, w0, OPTS);
    const b = await estimateLlcAsync(target, w0, { ...OPTS, yieldEveryMs: 0 });
    expect(plain(b)).toEqual(plain(a));
    expect(a.llc).toBeGreaterThan(1.5); // a real estimate (λ = 3 for N = 6, lowered by γ)
  });

  it('an abort stops within one SGLD step, keeps the finished chains, and resuming equals an uninterrupted run', async () => {
    const ref = counted();
    const full = await estimateLlcAsync(ref.target, ref.w0, OPTS);
    // loss evaluations per chain: 4 minibatches for L(w*), the start, one per step
    const perChain = 4 + 1 + OPTS.burnin + OPTS.draws;
    expect(ref.calls()).toBe(OPTS.chains * perChain);

    const run = counted();
    const ctl = new AbortController();
    const kept: ChainDiagnostics[] = [];
    let callsAtAbort = -1;
    // abort from a timer-driven callback (as a SIGINT listener would) part-way through chain 2
    let stepInChain2 = 0;
    const target: LlcTarget = {
      dim: run.target.dim,
      n: run.target.n,
      lossAndGrad(w, b) {
        if (kept.length === 2 && ++stepInChain2 === 100) {
          setImmediate(() => {
            callsAtAbort = run.calls();
            ctl.abort();
          });
        }
        return run.target.lossAndGrad(w, b);
      },
    };
    const err = await estimateLlcAsync(target, run.w0, { ...OPTS, signal: ctl.signal, yieldEveryMs: 0, onChain: (c, r) => void (kept[c] = roundTrip(r)) }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BasisError);
    const be = err as BasisError;
    expect(be.code).toBe('INVALID_ARGUMENT');
    expect(be.details).toMatchObject({ aborted: true, chain: 2 });
    expect(be.message).toMatch(/interrupted in chain 2 .* 2 of 4 chains are finished/);
    // stopped within one step of the abort: at most one more loss evaluation after the listener ran
    expect(callsAtAbort).toBeGreaterThan(0);
    expect(run.calls() - callsAtAbort).toBeLessThanOrEqual(1);
    expect(kept.filter((c) => c !== undefined)).toHaveLength(2);
    expect((be.details as { finished: unknown[] }).finished.filter((c) => c !== undefined)).toHaveLength(2);

    // resume: chains 0 and 1 come from the checkpoints (not sampled again), 2 and 3 are sampled
    const before = run.calls();
    const resumed = await estimateLlcAsync(run.target, run.w0, { ...OPTS, finished: kept, onChain: (c, r) => void (kept[c] = r) });
    expect(run.calls() - before).toBe(2 * perChain);
    expect(plain(resumed)).toEqual(plain(full));
    // and the synchronous form resumes the same way
    expect(plain(estimateLlc(run.target, run.w0, { ...OPTS, finished: kept.slice(0, 3).map(roundTrip) }))).toEqual(plain(full));
  });

  it('a timer can stop the async form on a long chain (the synchronous form never lets it run)', async () => {
    const { target, w0 } = counted(2000, 20, 1);
    const ctl = new AbortController();
    const t0 = performance.now();
    setTimeout(() => ctl.abort(), 30);
    const err = await estimateLlcAsync(target, w0, { ...OPTS, draws: 1_000_000, burnin: 0, signal: ctl.signal }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', details: { aborted: true, chain: 0 } });
    expect(performance.now() - t0).toBeLessThan(5000);
    // already aborted: nothing is sampled
    const none = counted();
    await expect(estimateLlcAsync(none.target, none.w0, { ...OPTS, signal: AbortSignal.abort() })).rejects.toMatchObject({ details: { aborted: true, step: 0 } });
    expect(() => estimateLlc(none.target, none.w0, { ...OPTS, signal: AbortSignal.abort() })).toThrow(/interrupted in chain 0 at step 0/);
    expect(none.calls()).toBe(0);
  });

  it('rejects checkpoints that cannot belong to this run', () => {
    const { target, w0 } = counted();
    const good = estimateLlc(target, w0, { ...OPTS, chains: 1 }).chains[0]!;
    const bad = (finished: unknown[], re: RegExp): void => {
      expect(() => estimateLlc(target, w0, { ...OPTS, finished: finished as ChainDiagnostics[] })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(re) as string }));
    };
    bad([good, good, good, good, good], /5 entries but there are only 4 chains/);
    bad([{ ...good, trace: good.trace.subarray(1) }], /trace has 299 draws, this run records 300/);
    bad([{ ...good, trace: Float64Array.from(good.trace, (v, i) => (i === 5 ? NaN : v)) }], /trace\[5\] = NaN/);
    bad([{ ...good, initLoss: Infinity }], /initLoss/);
    bad([{ ...good, malaAcceptance: 2 }], /malaAcceptance/);
    bad([{ ...good, maxDistance: -1 }], /maxDistance/);
    bad([{ ...good, trace: 'abc' }], /trace is not an array/);
    expect(() => estimateLlc(target, w0, { ...OPTS, finished: 'x' as unknown as ChainDiagnostics[] })).toThrow(/finished must be an array/);
    expect(() => estimateLlc(target, w0, { ...OPTS, yieldEveryMs: -1 })).toThrow(/yieldEveryMs/);
    // a valid checkpoint with holes is accepted
    expect(estimateLlc(target, w0, { ...OPTS, finished: [undefined, roundTrip(good)] }).chains).toHaveLength(4);
  });
});
