import { describe, expect, it } from 'vitest';
import { thrownCode as code } from '@basis/test-utils';
import { Matrix, createRng, randn } from '@basis/tensor';
import { compare, compareLayers, listMetrics, metric, resolveOptions } from './index.js';

const rng = createRng(12);
const X = randn(40, 4, rng);
const Y = randn(40, 5, rng);

describe('metric options', () => {
  it('every option default is valid and results carry the resolved options', () => {
    for (const d of listMetrics()) {
      const r = metric(d.id, X, Y);
      expect(Object.keys(r.options).sort()).toEqual((d.options ?? []).map((o) => o.name).sort());
    }
    expect(metric('linear.cv', X, Y).options).toEqual({ alphas: [1e-3, 1e-2, 1e-1, 1, 10, 100, 1e3], folds: 5 });
  });
  it('options change the value as documented', () => {
    expect(metric('knn.mutual', X, Y, { k: 3 }).value).not.toBe(metric('knn.mutual', X, Y).value);
    expect(metric('cka.rbf', X, Y, { bandwidth: 2 }).value).not.toBe(metric('cka.rbf', X, Y).value);
    const cv4 = metric('procrustes.cv', X, Y, { folds: 4 });
    expect(cv4.folds?.scores).toHaveLength(4);
    const oneAlpha = metric('linear.cv', X, Y, { alphas: [1e3] }).value;
    expect(oneAlpha).not.toBe(metric('linear.cv', X, Y, { alphas: [1e-3] }).value);
  });
  it('grelu.procrustes with center: false is S003 Def. 5.2 literally: not translation-invariant', () => {
    const n = X.rows;
    const scale = [2, 0.5, 3, 1.5];
    const perm = [2, 0, 3, 1];
    const Z = new Matrix(n, 4);
    for (let i = 0; i < n; i++) for (let j = 0; j < 4; j++) Z.set(i, j, Math.max(0, X.get(i, perm[j] as number)) * (scale[j] as number));
    const R = new Matrix(n, 4, Z.data.map((v) => Math.max(0, v)));
    const relu = new Matrix(n, 4, X.data.map((v) => Math.max(0, v)));
    expect(metric('grelu.procrustes', relu, R, { center: false }).value).toBeCloseTo(1, 12);
    const shifted = new Matrix(n, 4, R.data.map((v, k) => v + (k % 4) + 1));
    expect(metric('grelu.procrustes', relu, shifted, { center: false }).value).toBeLessThan(0.99);
    expect(metric('grelu.procrustes', relu, shifted).value).toBeCloseTo(1, 12);
  });
  it('resolved options are recognised and not resolved again, only for the metric they were resolved for', () => {
    const r = resolveOptions('knn.mutual', { k: 3 });
    expect(resolveOptions('knn.mutual', r)).toBe(r);
    expect(resolveOptions('knn.mutual', { ...r })).not.toBe(r); // a copy is checked again
    expect(resolveOptions('knn.mutual', { ...r })).toEqual(r);
    const cv = resolveOptions('procrustes.cv', { folds: 4 });
    expect(() => resolveOptions('knn.mutual', cv)).toThrow(/knn.mutual has no option 'folds'/);
    const nbs = resolveOptions('nbs');
    expect(resolveOptions('procrustes.similarity', nbs)).toBe(nbs); // an alias resolves for its metric
    expect(metric('knn.mutual', X, Y, r).value).toBe(metric('knn.mutual', X, Y, { k: 3 }).value);
    expect(Object.isFrozen(r)).toBe(true);
  });
  it('unknown options, wrong types and out-of-range values are CONFIG_INVALID', () => {
    expect(code(() => resolveOptions('cka.linear', { k: 3 }))).toBe('CONFIG_INVALID');
    expect(() => resolveOptions('knn.mutual', { kk: 3 })).toThrow(/options are k/);
    expect(code(() => metric('knn.mutual', X, Y, { k: 2.5 }))).toBe('CONFIG_INVALID');
    expect(code(() => metric('knn.mutual', X, Y, { k: 0 }))).toBe('CONFIG_INVALID');
    expect(code(() => metric('cka.rbf', X, Y, { bandwidth: 0 }))).toBe('CONFIG_INVALID');
    expect(code(() => metric('linear.cv', X, Y, { alphas: [] }))).toBe('CONFIG_INVALID');
    expect(code(() => metric('linear.cv', X, Y, { alphas: [1, NaN] }))).toBe('CONFIG_INVALID');
    expect(code(() => metric('grelu.procrustes', X, Y, { center: 'yes' }))).toBe('CONFIG_INVALID');
    expect(code(() => metric('procrustes.cv', X.slice(0, 9), Y.slice(0, 9), { folds: 5 }))).toBe('TOO_SMALL');
    expect(code(() => compare(X, Y, ['cka.linear'], { 'cka.linear': { nope: 1 } }))).toBe('CONFIG_INVALID');
  });
  it('compareLayers passes options and reports them', () => {
    const a = compareLayers({ x: X }, { y: Y }, ['knn.mutual'], { options: { 'knn.mutual': { k: 3 } } });
    expect(a.options['knn.mutual']).toEqual({ k: 3 });
    expect(a.values['knn.mutual']![0]![0]).toBe(metric('knn.mutual', X, Y, { k: 3 }).value);
  });
});
