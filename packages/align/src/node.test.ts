import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BasisError, Matrix, configureEngine, createRng, engineInfo, randn, workerEngine } from '@basis/tensor';
import { compareLayers, type AuditProgress } from './index.js';
import { compareLayersParallel } from './node.js';

const rng = createRng(31);
const A: [string, Matrix][] = [
  ['a0', randn(120, 6, rng)],
  ['a1', randn(120, 9, rng)],
  ['a2', randn(120, 4, rng)],
];
const B: Record<string, Matrix> = { b0: randn(120, 7, rng), b1: A[1]![1].clone(), b2: randn(120, 5, rng) };
const IDS = ['cka.linear', 'procrustes.angular', 'cca.mean_rho', 'permcorr', 'softmatch', 'knn.mutual', 'linear.cv', 'pwcca'];
const OPTIONS = { 'knn.mutual': { k: 4 }, 'linear.cv': { folds: 4 } };

function progressLog(): { seen: Set<string>; totals: Set<number>; last: number[]; cb: AuditProgress } {
  const seen = new Set<string>();
  const totals = new Set<number>();
  const last: number[] = [];
  return {
    seen,
    totals,
    last,
    cb: (done, total, c) => {
      seen.add(`${c.metric}|${c.a}|${c.b}`);
      totals.add(total);
      last.push(done);
    },
  };
}

describe('compareLayersParallel', () => {
  it('on worker threads gives exactly the serial values and reports every cell', async () => {
    const serial = compareLayers(A, B, IDS, { options: OPTIONS });
    const log = progressLog();
    const par = await compareLayersParallel(A, B, IDS, { options: OPTIONS, workers: 2, minSeconds: 0, onProgress: log.cb });
    expect(par.workers).toBe(2);
    expect(par.values).toEqual(serial.values); // bit-identical numbers
    expect(par.layersA).toEqual(serial.layersA);
    expect(par.layersB).toEqual(serial.layersB);
    expect(par.metrics).toEqual(serial.metrics);
    expect(par.options).toEqual(serial.options);
    const total = IDS.length * 9;
    expect(log.totals).toEqual(new Set([total]));
    expect(log.seen.size).toBe(total);
    expect(log.last).toEqual(Array.from({ length: total }, (_, k) => k + 1));
  });

  it('calibrates on two cells per metric in-process, then hands the rest to the workers', async () => {
    const log = progressLog();
    const one = { only: B['b0']! }; // a single layer in B: the second calibration cell is (a1, only)
    const par = await compareLayersParallel(A, one, ['cka.linear', 'permcorr'], { workers: 2, minSeconds: 1e-9, onProgress: log.cb });
    expect(par.workers).toBe(2);
    expect(par.values).toEqual(compareLayers(A, one, ['cka.linear', 'permcorr']).values);
    expect(log.seen.size).toBe(6);
    expect(log.last).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('falls back to the calling thread for small work, with the same values and progress', async () => {
    const log = progressLog();
    const par = await compareLayersParallel(A, B, ['cka.linear', 'permcorr'], { onProgress: log.cb });
    expect(par.workers).toBe(0);
    expect(par.values).toEqual(compareLayers(A, B, ['cka.linear', 'permcorr']).values);
    expect(log.last).toEqual(Array.from({ length: 18 }, (_, k) => k + 1));
    const one = await compareLayersParallel(A, B, ['cka.linear'], { workers: 1, minSeconds: 0 });
    expect(one.workers).toBe(0);
    const never = await compareLayersParallel(A, B, ['cka.linear'], { minSeconds: Infinity });
    expect(never.workers).toBe(0);
    expect(never.values).toEqual(one.values);
  });

  it('rethrows a metric error from a worker as the same BasisError', async () => {
    const withConstant = { ...B, flat: new Matrix(120, 3).fill(1.5) };
    let serialError: unknown;
    try {
      compareLayers(A, withConstant, ['cka.linear']);
    } catch (e) {
      serialError = e;
    }
    expect(serialError).toBeInstanceOf(BasisError);
    const err = await compareLayersParallel(A, withConstant, ['cka.linear'], { workers: 2, minSeconds: 0 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BasisError);
    expect((err as BasisError).code).toBe((serialError as BasisError).code);
    expect((err as BasisError).message).toBe((serialError as BasisError).message);
  });

  it('computes every cell with the workers\' share of the BLAS threads, workers or not, records the engine and restores the threads', async () => {
    const before = engineInfo();
    const big = (seed: number): [string, Matrix][] => {
      const r = createRng(seed);
      return [0, 1].map((i) => [`l${i}`, randn(800, 60, r)] as [string, Matrix]);
    };
    const ids = ['cca.mean_rho', 'svcca', 'procrustes.similarity'];
    const par = await compareLayersParallel(big(1), big(2), ids, { workers: 2, minSeconds: 0 });
    const inProcess = await compareLayersParallel(big(1), big(2), ids, { workers: 2, minSeconds: Infinity });
    expect(par.workers).toBe(2);
    expect(inProcess.workers).toBe(0);
    // bit-identical whatever the timing-based choice (threads matter on a native BLAS)
    expect(inProcess.values).toEqual(par.values);
    const share = workerEngine(2).threads;
    expect(par.engine.provider).toBe(before.provider);
    expect(par.engine.threads).toBe(before.provider === 'native' ? share : 1);
    expect(inProcess.engine).toEqual(par.engine);
    const previous = before.threads;
    configureEngine({ threads: share });
    try {
      expect(compareLayers(big(1), big(2), ids).values).toEqual(par.values);
    } finally {
      configureEngine({ threads: previous });
    }
    // the process-wide count is the caller's again
    expect(engineInfo().threads).toBe(before.threads);
    // one worker: the calling thread's own threads, exactly compareLayers
    const one = await compareLayersParallel(big(1), big(2), ids, { workers: 1 });
    expect(one.engine).toEqual(before);
    expect(one.values).toEqual(compareLayers(big(1), big(2), ids).values);
  }, 240_000);

  it('validates before starting any worker', async () => {
    await expect(compareLayersParallel({ a: randn(50, 2, rng) }, { b: randn(40, 2, rng) }, undefined, { minSeconds: 0 })).rejects.toThrow(/same inputs/);
    await expect(compareLayersParallel(A, B, ['nope'], { minSeconds: 0 })).rejects.toThrow(/unknown metric/);
    await expect(compareLayersParallel(A, B, ['cka.linear'], { minSeconds: -1 })).rejects.toThrow(BasisError);
    await expect(compareLayersParallel(A, B, ['cka.linear'], { workers: 1.5 })).rejects.toThrow(BasisError);
  });
});

describe('entry points', () => {
  it('the main entry (index.ts and what it imports) has no node: imports, so it stays browser-safe', () => {
    const seen = new Set<string>();
    const nodeImports: string[] = [];
    const visit = (url: URL) => {
      if (seen.has(url.href)) return;
      seen.add(url.href);
      const src = readFileSync(url, 'utf8');
      for (const [, spec] of src.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/g)) {
        if (spec === undefined) continue;
        if (spec.startsWith('node:')) nodeImports.push(`${url.pathname}: ${spec}`);
        else if (spec.startsWith('.')) visit(new URL(spec.replace(/\.js$/, '.ts'), url));
      }
    };
    visit(new URL('./index.ts', import.meta.url));
    expect(seen.size).toBeGreaterThan(10);
    expect(nodeImports).toEqual([]);
  });
});
