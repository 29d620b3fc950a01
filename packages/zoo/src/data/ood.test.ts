import { beforeAll, describe, expect, it } from 'vitest';
import {
  addGaussianNoise,
  adjustContrast,
  applyOod,
  blurImages,
  classificationDataset,
  crossDataset,
  elasticDeform,
  getOodCondition,
  invertImages,
  listOodConditions,
  normalizeImages,
  occludeImages,
  oodBattery,
  rotateImages,
  sampleSubset,
  translateImages,
  type ClassificationDataset,
} from '../index.js';
import { loadCrossDataset, loadMnistAll } from '../node.js';
import { toyImages } from './test-helpers.js';
import { thrownCode } from '@basis/test-utils';

function meanAbsDiff(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += Math.abs(a[k]! - b[k]!);
  return s / a.length;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]! - b[k]!));
  return m;
}

function sum(a: Float32Array, from = 0, to = a.length): number {
  let s = 0;
  for (let k = from; k < to; k++) s += a[k]!;
  return s;
}

function correlation(a: Float32Array, b: Float32Array): number {
  const n = a.length;
  const ma = sum(a) / n;
  const mb = sum(b) / n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let k = 0; k < n; k++) {
    ab += (a[k]! - ma) * (b[k]! - mb);
    aa += (a[k]! - ma) ** 2;
    bb += (b[k]! - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

/** Constant grey 28 x 28 images. */
function grey(n: number, v = 0.5): ClassificationDataset {
  return toyImages(n, { H: 28, W: 28, fill: () => v });
}

let digits: ClassificationDataset;
let fakeOther: ClassificationDataset;
beforeAll(async () => {
  digits = sampleSubset(await loadMnistAll(), { size: 60, seed: 11 });
  // a stand-in for Fashion-MNIST: 28 x 28 stripes from another "source"
  const x = new Float32Array(80 * 784);
  for (let i = 0; i < 80; i++) for (let k = 0; k < 784; k++) x[i * 784 + k] = ((k + i) % 28) / 27;
  fakeOther = classificationDataset({ name: 'stripes', source: 'fashion-mnist', x, shape: [1, 28, 28], labels: Array.from({ length: 80 }, (_, i) => i % 10), numClasses: 10, normalization: { kind: 'unit' } });
});

describe('the battery', () => {
  it('lists at least 12 (here 17) uniquely named conditions covering every required kind', () => {
    const list = listOodConditions();
    expect(list.length).toBe(17);
    expect(new Set(list.map((c) => c.name)).size).toBe(17);
    for (const f of ['noise', 'rotation', 'inversion', 'blur', 'elastic', 'cross-dataset']) expect(list.some((c) => c.family === f)).toBe(true);
    expect(list.filter((c) => c.family === 'noise').length).toBeGreaterThanOrEqual(3);
    expect(list.filter((c) => c.family === 'rotation').length).toBeGreaterThanOrEqual(3);
    expect(list.filter((c) => c.family === 'blur').length).toBe(2);
    expect(getOodCondition('rotate-45').params).toEqual({ degrees: 45 });
    expect(thrownCode(() => getOodCondition('rotate-46'))).toBe('INVALID_ARGUMENT');
    expect(() => getOodCondition('fog')).toThrow(/valid names: noise-0.1, noise-0.2/);
  });
  it('every condition changes the images, keeps shape, range and labels, and is reproducible by seed', () => {
    for (const c of listOodConditions()) {
      const opts = { seed: 3, other: fakeOther };
      const a = applyOod(digits, c.name, opts);
      const b = applyOod(digits, c.name, opts);
      expect(a.name).toBe(`${digits.name}/ood:${c.name}`);
      expect(a.n).toBe(digits.n);
      expect(a.shape).toEqual([1, 28, 28]);
      expect(a.normalization).toEqual({ kind: 'unit' });
      expect((a.meta['ood'] as { condition: string }).condition).toBe(c.name);
      expect(maxAbsDiff(a.x, b.x), c.name).toBe(0);
      expect(meanAbsDiff(a.x, digits.x), c.name).toBeGreaterThan(0.005);
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of a.x) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      expect(lo, c.name).toBeGreaterThanOrEqual(0);
      expect(hi, c.name).toBeLessThanOrEqual(1 + 1e-6);
      if (c.family !== 'cross-dataset') expect(Array.from(a.labels)).toEqual(Array.from(digits.labels));
      const other = applyOod(digits, c.name, { ...opts, seed: 4 });
      if (c.random) expect(maxAbsDiff(a.x, other.x), c.name).toBeGreaterThan(0);
      else expect(maxAbsDiff(a.x, other.x), c.name).toBe(0);
    }
  });
  it('oodBattery applies all conditions (cross-dataset only with another dataset)', () => {
    const small = sampleSubset(digits, { size: 10, seed: 0 });
    expect(oodBattery(small).length).toBe(16);
    const all = oodBattery(small, { other: fakeOther, seed: 1 });
    expect(all.map((r) => r.condition.name)).toEqual(listOodConditions().map((c) => c.name));
    expect(oodBattery(small, { conditions: ['invert', 'blur-1'] }).map((r) => r.dataset.name)).toEqual([`${small.name}/ood:invert`, `${small.name}/ood:blur-1`]);
    expect(thrownCode(() => oodBattery(small, { conditions: ['cross-dataset'] }))).toBe('CONFIG_INVALID');
    expect(thrownCode(() => oodBattery(small, { conditions: [] }))).toBe('CONFIG_INVALID');
  });
  it('works in any normalisation: standardised inputs give the same images, re-standardised', () => {
    const z = normalizeImages(digits, 'standard');
    for (const name of ['invert', 'rotate-30', 'noise-0.2', 'elastic-mild']) {
      const viaZ = normalizeImages(applyOod(z, name, { seed: 2 }), 'unit');
      const direct = applyOod(digits, name, { seed: 2 });
      expect(applyOod(z, name, { seed: 2 }).normalization.kind).toBe('standard');
      expect(maxAbsDiff(viaZ.x, direct.x), name).toBeLessThan(1e-5);
    }
  });
  it('validates its inputs', () => {
    const vectors = classificationDataset({ x: [0, 1, 2, 3], shape: [4], labels: [0] });
    expect(thrownCode(() => applyOod(vectors, 'invert'))).toBe('SHAPE_MISMATCH');
    expect(thrownCode(() => applyOod({ ...digits, x: Float32Array.from(digits.x, (v, k) => (k === 5 ? NaN : v)) }, 'invert'))).toBe('NON_FINITE_INPUT');
    expect(thrownCode(() => applyOod(digits, 'cross-dataset'))).toBe('CONFIG_INVALID');
    expect(thrownCode(() => applyOod(digits, 'invert', { sed: 1 } as never))).toBe('CONFIG_INVALID');
    expect(thrownCode(() => rotateImages(digits, NaN))).toBe('NON_FINITE_INPUT');
    expect(thrownCode(() => blurImages(digits, 0))).toBe('INVALID_ARGUMENT');
    expect(thrownCode(() => addGaussianNoise(digits, { std: -1 }))).toBe('INVALID_ARGUMENT');
    expect(thrownCode(() => occludeImages(digits, { size: 29 }))).toBe('INVALID_ARGUMENT');
  });
});

describe('each transform does what it says', () => {
  it('rotation by 90° four times (and 180° twice) is the identity; 90° maps (y, x) to (x, W-1-y)', () => {
    let r = digits;
    for (let k = 0; k < 4; k++) r = rotateImages(r, 90);
    expect(maxAbsDiff(r.x, digits.x)).toBeLessThan(1e-6);
    expect(maxAbsDiff(rotateImages(rotateImages(digits, 180), 180).x, digits.x)).toBeLessThan(1e-6);
    const once = rotateImages(digits, 90);
    for (const [y, x] of [[3, 7], [20, 1], [14, 14]] as const) expect(once.x[y * 28 + x]).toBeCloseTo(digits.x[x * 28 + (27 - y)]!, 6);
    // counter-clockwise as displayed: a bright pixel right of the centre moves above it
    const dot = toyImages(1, { H: 5, W: 5, fill: (_i, _c, y, x) => (y === 2 && x === 4 ? 1 : 0) });
    const rot = rotateImages(dot, 90);
    expect(rot.x[0 * 5 + 2]).toBeCloseTo(1, 6);
    expect(sum(rot.x)).toBeCloseTo(1, 6);
  });
  it('small rotations are bilinear and nearly invertible, and keep the ink', () => {
    const back = rotateImages(rotateImages(digits, 15), -15);
    expect(correlation(back.x, digits.x)).toBeGreaterThan(0.9);
    expect(correlation(rotateImages(digits, 15).x, digits.x)).toBeLessThan(0.9);
    const r = rotateImages(digits, 30);
    expect(Math.abs(sum(r.x) / sum(digits.x) - 1)).toBeLessThan(0.05);
  });
  it('inversion twice is the identity and maps p to 1 - p', () => {
    const inv = invertImages(digits);
    for (const k of [0, 400, 5000]) expect(inv.x[k]).toBeCloseTo(1 - digits.x[k]!, 6);
    expect(maxAbsDiff(invertImages(inv).x, digits.x)).toBeLessThan(1e-6);
    expect(applyOod(digits, 'invert').x).toEqual(inv.x);
  });
  it('Gaussian noise has the stated standard deviation', () => {
    const noisy = addGaussianNoise(digits, { std: 0.2, seed: 5, clip: false });
    let s = 0;
    let q = 0;
    for (let k = 0; k < digits.x.length; k++) {
      const d = noisy.x[k]! - digits.x[k]!;
      s += d;
      q += d * d;
    }
    const n = digits.x.length;
    expect(Math.abs(s / n)).toBeLessThan(0.003);
    expect(Math.sqrt(q / n - (s / n) ** 2)).toBeCloseTo(0.2, 2);
    // the named condition on mid-grey images (clipping is 5 std away)
    const g = grey(20);
    const named = applyOod(g, 'noise-0.1', { seed: 1 });
    let q2 = 0;
    for (let k = 0; k < g.x.length; k++) q2 += (named.x[k]! - 0.5) ** 2;
    expect(Math.sqrt(q2 / g.x.length)).toBeCloseTo(0.1, 2);
  });
  it('blur keeps constant images and the ink, smooths more with a larger sigma', () => {
    const g = grey(2, 0.3);
    expect(maxAbsDiff(blurImages(g, 2).x, g.x)).toBeLessThan(1e-6);
    const b1 = applyOod(digits, 'blur-1');
    const b2 = applyOod(digits, 'blur-2');
    expect(Math.abs(sum(b1.x) / sum(digits.x) - 1)).toBeLessThan(0.01);
    const variance = (a: Float32Array) => {
      const m = sum(a) / a.length;
      return a.reduce((s, v) => s + (v - m) ** 2, 0) / a.length;
    };
    expect(variance(b1.x)).toBeLessThan(variance(digits.x));
    expect(variance(b2.x)).toBeLessThan(variance(b1.x));
  });
  it('elastic deformation moves ink locally (stronger alpha, larger change)', () => {
    const mild = applyOod(digits, 'elastic-mild', { seed: 1 });
    const strong = applyOod(digits, 'elastic-strong', { seed: 1 });
    expect(correlation(mild.x, digits.x)).toBeGreaterThan(0.6);
    expect(meanAbsDiff(strong.x, digits.x)).toBeGreaterThan(meanAbsDiff(mild.x, digits.x));
    expect(Math.abs(sum(mild.x) / sum(digits.x) - 1)).toBeLessThan(0.15);
    expect(maxAbsDiff(elasticDeform(digits, { alpha: 0, sigma: 4 }).x, digits.x)).toBe(0);
  });
  it('contrast scales deviations from the image mean', () => {
    const c = adjustContrast(digits, 0.3);
    for (let i = 0; i < 3; i++) {
      const o = i * 784;
      const m = sum(digits.x, o, o + 784) / 784;
      expect(sum(c.x, o, o + 784) / 784).toBeCloseTo(m, 5);
      expect(c.x[o + 400]).toBeCloseTo(m + 0.3 * (digits.x[o + 400]! - m), 5);
    }
  });
  it('salt-and-pepper hits the stated fraction of pixels, half black and half white', () => {
    const g = applyOod(grey(30), 'salt-pepper-0.1', { seed: 2 });
    let zeros = 0;
    let ones = 0;
    for (const v of g.x) {
      if (v === 0) zeros++;
      else if (v === 1) ones++;
      else expect(v).toBeCloseTo(0.5, 6);
    }
    const n = g.x.length;
    expect((zeros + ones) / n).toBeCloseTo(0.1, 2);
    expect(zeros / (zeros + ones)).toBeCloseTo(0.5, 1);
  });
  it('occlusion blacks out exactly one 10 x 10 square per image', () => {
    const g = applyOod(grey(20), 'occlusion-10', { seed: 3 });
    for (let i = 0; i < 20; i++) {
      const rows = new Set<number>();
      const cols = new Set<number>();
      let count = 0;
      for (let k = 0; k < 784; k++) {
        if (g.x[i * 784 + k] === 0) {
          count++;
          rows.add(Math.floor(k / 28));
          cols.add(k % 28);
        }
      }
      expect(count).toBe(100);
      expect(rows.size).toBe(10);
      expect(cols.size).toBe(10);
    }
  });
  it('translation shifts exactly, with black fill', () => {
    const t = applyOod(digits, 'translate-4');
    for (const [y, x] of [[10, 10], [27, 27], [4, 4]] as const) expect(t.x[y * 28 + x]).toBe(digits.x[(y - 4) * 28 + (x - 4)]);
    for (let k = 0; k < 28; k++) expect(t.x[2 * 28 + k]).toBe(0);
    const back = translateImages(translateImages(digits, 2, -1), -2, 1);
    expect(back.x[14 * 28 + 14]).toBe(digits.x[14 * 28 + 14]);
  });
  it('cross-dataset takes images and labels from the other dataset, reproducibly', () => {
    const c = crossDataset(digits, fakeOther, { seed: 1 });
    expect(c.n).toBe(digits.n);
    expect(c.meta['crossSource']).toBe('fashion-mnist');
    for (let r = 0; r < c.n; r++) {
      const i = c.sourceIndex[r]!;
      expect(c.labels[r]).toBe(fakeOther.labels[i]);
      expect(c.x[r * 784 + 5]).toBeCloseTo(fakeOther.x[i * 784 + 5]!, 6);
    }
    expect(new Set(c.sourceIndex).size).toBe(c.n);
    const z = crossDataset(normalizeImages(digits, 'standard'), fakeOther, { seed: 1 });
    expect(z.normalization.kind).toBe('standard');
    expect(thrownCode(() => crossDataset(digits, sampleSubset(fakeOther, { size: 10 })))).toBe('TOO_SMALL');
    expect(thrownCode(() => crossDataset(digits, toyImages(100)))).toBe('SHAPE_MISMATCH');
  });
  it('loadCrossDataset gives MNIST digits for a Fashion-MNIST dataset and refuses other sources', async () => {
    const fashionLike = fakeOther; // source 'fashion-mnist'
    const other = await loadCrossDataset(fashionLike);
    expect(other.source).toBe('mnist');
    expect(other.n).toBe(10000);
    const ood = applyOod(sampleSubset(fashionLike, { size: 20, seed: 0 }), 'cross-dataset', { other });
    expect(ood.meta['crossSource']).toBe('mnist');
    await expect(loadCrossDataset({ ...toyImages(3), source: 'idx' })).rejects.toThrow(/no counterpart for source 'idx'/);
  });
});
