import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BasisError } from '../errors.js';
import {
  Rng,
  createRng,
  lognormalDiagonal,
  permutation,
  portableLog,
  rand,
  randn,
  randomSigns,
  sampleWithoutReplacement,
  shuffle,
} from '../index.js';

describe('Rng stream', () => {
  it('is pinned: the first draws of seed 42 never change (platform-independent stream)', () => {
    const g = createRng(42);
    expect([g.uniform(), g.uniform(), g.int(10), g.normal(), g.normal()]).toEqual([
      0.35114567572624, 0.704974746939208, 7, 1.3144511011949738, -0.8008459909641575,
    ]);
    expect(createRng('experiment').nextUint32()).toBe(createRng('experiment').nextUint32());
  });
  it('same seed, same stream; different seeds and forks differ but are reproducible', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (seed) => {
        const a = createRng(seed);
        const b = createRng(seed);
        const c = createRng(seed === 0 ? 1 : seed - 1);
        const xa = Array.from({ length: 8 }, () => a.nextUint32());
        const xb = Array.from({ length: 8 }, () => b.nextUint32());
        const xc = Array.from({ length: 8 }, () => c.nextUint32());
        return xa.join() === xb.join() && xa.join() !== xc.join();
      }),
      { numRuns: 200 },
    );
    const p1 = createRng(7);
    const p2 = createRng(7);
    const f1 = p1.fork('worker');
    const f2 = p2.fork('worker');
    expect(f1.uniform()).toBe(f2.uniform());
    expect(createRng(7).fork('a').uniform()).not.toBe(createRng(7).fork('b').uniform());
    expect(p1.fork('worker').uniform()).not.toBe(createRng(7).fork('worker').uniform());
  });
  it('state() and fromState() resume the stream exactly, including a cached normal', () => {
    const g = createRng(3);
    g.normal();
    const saved = JSON.parse(JSON.stringify(g.state())) as ReturnType<Rng['state']>;
    const next = [g.normal(), g.uniform(), g.normal()];
    const h = Rng.fromState(saved);
    expect([h.normal(), h.uniform(), h.normal()]).toEqual(next);
    expect(() => Rng.fromState({ s: [0, 0, 0, 0], spare: null })).toThrow(BasisError);
  });
  it('uniform draws fill [0, 1) evenly and int(n) is unbiased (chi-square)', () => {
    const g = createRng(11);
    const n = 7;
    const counts = new Array<number>(n).fill(0);
    const draws = 70000;
    let lo = 1;
    let hi = 0;
    for (let i = 0; i < draws; i++) {
      counts[g.int(n)]! += 1;
      const u = g.uniform();
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
    }
    const expected = draws / n;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(22.46); // 99.9% quantile of chi-square with 6 degrees of freedom
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
  });
  it('normal draws have mean 0 and variance 1', () => {
    const g = createRng(5);
    const n = 100000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const z = g.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.015);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.02);
    expect(createRng(1).normal(10, 0)).toBe(10);
  });
  it('rejects bad seeds and arguments', () => {
    expect(() => createRng(-1)).toThrow(BasisError);
    expect(() => createRng(1.5)).toThrow(BasisError);
    expect(() => createRng(NaN)).toThrow(BasisError);
    expect(() => createRng(1).int(0)).toThrow(BasisError);
    expect(() => createRng(1).uniformRange(1, 1)).toThrow(BasisError);
  });
});

describe('portableLog', () => {
  it('matches Math.log to within one ulp over the whole double range', () => {
    const g = createRng(1);
    for (let i = 0; i < 20000; i++) {
      const x = Math.exp((g.uniform() - 0.5) * 1400);
      const a = portableLog(x);
      const b = Math.log(x);
      expect(Math.abs(a - b)).toBeLessThanOrEqual(Number.EPSILON * Math.max(Math.abs(b), 1e-300) * 1.0000001);
    }
    expect(portableLog(1)).toBe(0);
    expect(portableLog(5e-324)).toBeCloseTo(-744.4400719213812, 12);
    expect(portableLog(0)).toBe(-Infinity);
    expect(Number.isNaN(portableLog(-1))).toBe(true);
  });
});

describe('samplers', () => {
  it('permutation is a permutation and uniform over the 6 orders of 3 items', () => {
    const g = createRng(9);
    const counts = new Map<string, number>();
    for (let i = 0; i < 6000; i++) {
      const p = permutation(3, g);
      expect([...p].sort()).toEqual([0, 1, 2]);
      counts.set(p.join(), (counts.get(p.join()) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    for (const c of counts.values()) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });
  it('shapes, signs, positive scales, distinct samples', () => {
    const g = createRng(2);
    expect(randn(3, 4, g).shape).toEqual([3, 4]);
    expect(rand(2, 2, g).data.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(randomSigns(50, g).every((v) => v === 1 || v === -1)).toBe(true);
    expect(lognormalDiagonal(50, g, { sigma: 0.5 }).every((v) => v > 0)).toBe(true);
    const s = sampleWithoutReplacement(10, 10, g);
    expect([...s].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(shuffle([1, 2, 3], createRng(0)).sort()).toEqual([1, 2, 3]);
    expect(() => sampleWithoutReplacement(3, 4, g)).toThrow(BasisError);
    expect(() => lognormalDiagonal(3, g, { sigma: -1 })).toThrow(BasisError);
    expect(() => randn(-1, 2, g)).toThrow(BasisError);
  });
});
