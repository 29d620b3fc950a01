import { describe, expect, it } from 'vitest';
import { allclose, closeScaled } from './allclose.js';
import { fixtureJson, metricCases } from './fixtures.js';

describe('allclose', () => {
  it('passes within relative and absolute tolerance', () => {
    expect(allclose([1, 2], [1 + 1e-12, 2]).ok).toBe(true);
    expect(allclose([0], [1e-12], { atol: 1e-11 }).ok).toBe(true);
    expect(allclose([1], [1.1], { rtol: 0.05 }).ok).toBe(false);
  });
  it('never passes NaN, not even against NaN', () => {
    expect(allclose([NaN], [NaN]).ok).toBe(false);
    expect(allclose([1, NaN], [1, 2], { atol: Infinity }).ok).toBe(false);
    expect(closeScaled(NaN, 1, 1)).toBe(false);
  });
  it('rejects length and shape mismatches', () => {
    expect(allclose([1, 2], [1]).ok).toBe(false);
    const a = { rows: 2, cols: 3, data: new Float64Array(6) };
    const b = { rows: 3, cols: 2, data: new Float64Array(6) };
    expect(allclose(a, b).ok).toBe(false);
  });
  it('works as a matcher and reports the worst entry', () => {
    expect([1, 2, 3]).toBeAllclose([1, 2, 3 + 1e-10], { rtol: 1e-9 });
    expect(() => expect([1, 2, 3]).toBeAllclose([1, 2.5, 3])).toThrow(/entry 1/);
  });
  it('infinite values pass only when equal', () => {
    expect(allclose([Infinity], [Infinity]).ok).toBe(true);
    expect(allclose([Infinity], [-Infinity]).ok).toBe(false);
  });
});

describe('fixtures', () => {
  it('finds the copied fixture cases inside the repository', () => {
    expect(metricCases()).toContain('kornblith-100x10');
    const lin = fixtureJson<Record<string, { file?: string }>>('linalg/expected.json');
    expect(lin['svd-gauss-40x25']?.file).toBe('svd-gauss-40x25.npy');
  });
});
