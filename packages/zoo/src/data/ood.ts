// The out-of-distribution battery for image models. Every transform works in the unit pixel
// scale (0 = black background, 1 = white), whatever the dataset's normalisation, and returns the
// result in the dataset's own normalisation, so a model sees OOD inputs preprocessed exactly like
// its training data.
import { BasisError, sampleWithoutReplacement, type Rng } from '@basis/tensor';
import { convolveSeparable, gaussianKernel, rotatePlane, sampleBilinear } from './image-ops.js';
import { fromUnit, toUnit } from './normalize.js';
import type { ClassificationDataset, Dataset, SeedLike } from './types.js';
import { assertClassification, assertImages, checkInt, checkNumber, checkOptions, describe, toRng } from './validate.js';

/**
 * Kinds of OOD condition.
 *
 * @example
 * ```ts
 * listOodConditions().filter((c) => c.family === ('rotation' satisfies OodFamily));
 * ```
 */
export type OodFamily =
  | 'noise'
  | 'rotation'
  | 'inversion'
  | 'blur'
  | 'elastic'
  | 'contrast'
  | 'impulse'
  | 'occlusion'
  | 'translation'
  | 'cross-dataset';

/**
 * A named, parameterised OOD condition of the battery.
 *
 * @example
 * ```ts
 * const c = getOodCondition('rotate-30'); // { family: 'rotation', params: { degrees: 30 }, random: false, ... }
 * ```
 */
export interface OodCondition {
  /** Name used by {@link applyOod}, e.g. `noise-0.2`. */
  readonly name: string;
  readonly family: OodFamily;
  /** The condition's fixed parameters. */
  readonly params: Readonly<Record<string, number>>;
  /** Whether the condition draws random numbers (reproducible by seed). */
  readonly random: boolean;
  /** Whether it needs `opts.other`, the dataset to take images from (cross-dataset). */
  readonly needsOther: boolean;
  readonly description: string;
}

const CONDITION_LIST: OodCondition[] = [
  ...[0.1, 0.2, 0.4].map((std) => ({ name: `noise-${std}`, family: 'noise' as const, params: { std }, random: true, needsOther: false, description: `additive Gaussian noise, std ${std} in the 0..1 pixel scale, clipped to [0, 1]` })),
  ...[15, 30, 45, 90].map((degrees) => ({ name: `rotate-${degrees}`, family: 'rotation' as const, params: { degrees }, random: false, needsOther: false, description: `rotation by ${degrees}° counter-clockwise about the image centre, bilinear, zero fill` })),
  { name: 'invert', family: 'inversion', params: {}, random: false, needsOther: false, description: 'inverted contrast: p -> 1 - p' },
  ...[1, 2].map((sigma) => ({ name: `blur-${sigma}`, family: 'blur' as const, params: { sigma }, random: false, needsOther: false, description: `Gaussian blur, sigma ${sigma} px (kernel radius ${Math.ceil(3 * sigma)}), edge pixels repeated` })),
  { name: 'elastic-mild', family: 'elastic', params: { alpha: 34, sigma: 4 }, random: true, needsOther: false, description: 'elastic deformation (Simard et al. 2003): uniform displacement fields smoothed by a Gaussian of sigma 4 px, scaled by alpha 34, bilinear' },
  { name: 'elastic-strong', family: 'elastic', params: { alpha: 60, sigma: 3 }, random: true, needsOther: false, description: 'elastic deformation with alpha 60, sigma 3 px (larger, less smooth displacements)' },
  { name: 'contrast-0.3', family: 'contrast', params: { factor: 0.3 }, random: false, needsOther: false, description: 'contrast reduced to 30% about each image’s mean: p -> m + 0.3 (p - m)' },
  { name: 'salt-pepper-0.1', family: 'impulse', params: { p: 0.1 }, random: true, needsOther: false, description: 'impulse noise: each pixel becomes 0 or 1 (equally likely) with probability 0.1' },
  { name: 'occlusion-10', family: 'occlusion', params: { size: 10 }, random: true, needsOther: false, description: 'a 10 x 10 black square at a uniformly random position inside the image (cutout)' },
  { name: 'translate-4', family: 'translation', params: { dx: 4, dy: 4 }, random: false, needsOther: false, description: 'shift by 4 px right and 4 px down, zero fill' },
  { name: 'cross-dataset', family: 'cross-dataset', params: {}, random: true, needsOther: true, description: 'images of another dataset of the same shape (Fashion-MNIST for MNIST models and back), drawn by seed without replacement, in this dataset’s normalisation; labels are the other dataset’s' },
];
const CONDITIONS: readonly OodCondition[] = Object.freeze(CONDITION_LIST);

/**
 * The conditions of the OOD battery (17: Gaussian noise ×3, rotation ×4, inversion, blur ×2,
 * elastic ×2, contrast, salt-and-pepper, occlusion, translation, cross-dataset), in a fixed order.
 *
 * @example
 * ```ts
 * listOodConditions().map((c) => c.name); // ['noise-0.1', 'noise-0.2', ..., 'cross-dataset']
 * ```
 */
export function listOodConditions(): readonly OodCondition[] {
  return CONDITIONS;
}

/**
 * One condition by name; `INVALID_ARGUMENT` listing the valid names for an unknown one.
 *
 * @example
 * ```ts
 * getOodCondition('blur-2').params.sigma; // 2
 * ```
 */
export function getOodCondition(name: string): OodCondition {
  const c = CONDITIONS.find((k) => k.name === name);
  if (c === undefined) {
    throw new BasisError('INVALID_ARGUMENT', `unknown OOD condition ${describe(name)}; valid names: ${CONDITIONS.map((k) => k.name).join(', ')}`);
  }
  return c;
}

/** Applies `f(u, offset, out)` to every image plane in the unit scale; returns a new dataset. */
function mapPlanes<D extends Dataset>(
  ds: D,
  fn: string,
  suffix: string,
  f: (u: Float32Array, off: number, out: Float32Array, H: number, W: number, image: number, channel: number) => void,
  opts: { perImage?: (image: number) => void } = {},
): D {
  const [C, H, W] = assertImages(ds, fn);
  const plane = H * W;
  const u = toUnit(ds, C, plane);
  const out = new Float32Array(u.length);
  for (let i = 0; i < ds.n; i++) {
    opts.perImage?.(i);
    for (let c = 0; c < C; c++) f(u, (i * C + c) * plane, out, H, W, i, c);
  }
  return { ...ds, name: `${ds.name}/${suffix}`, x: fromUnit(out, ds.normalization, C, plane) };
}

function clip01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/**
 * Options of {@link addGaussianNoise}.
 *
 * @example
 * ```ts
 * addGaussianNoise(test, { std: 0.3, seed: 2, clip: false } satisfies NoiseOptions);
 * ```
 */
export interface NoiseOptions {
  /** Noise standard deviation in the 0..1 pixel scale. */
  std: number;
  /** Seed (default 0). */
  seed?: SeedLike;
  /** Clip the result to [0, 1] (default true). */
  clip?: boolean;
}

/**
 * Adds Gaussian noise of standard deviation `std` (unit pixel scale) to every pixel, clipped to
 * [0, 1] unless `clip: false`.
 *
 * @example
 * ```ts
 * const noisy = addGaussianNoise(test, { std: 0.2, seed: 1 });
 * ```
 */
export function addGaussianNoise<D extends Dataset>(ds: D, opts: NoiseOptions): D {
  const fn = 'addGaussianNoise';
  checkOptions(opts, ['std', 'seed', 'clip'], fn);
  const std = checkNumber(opts?.std, `${fn}: std`, { min: 0 });
  const clip = opts.clip ?? true;
  const rng = toRng(opts.seed);
  return mapPlanes(ds, fn, `noise(${std})`, (u, off, out, H, W) => {
    for (let k = 0; k < H * W; k++) {
      const v = u[off + k]! + std * rng.normal();
      out[off + k] = clip ? clip01(v) : v;
    }
  });
}

/**
 * Rotates every image by `degrees` counter-clockwise (as displayed) about its centre, with
 * bilinear interpolation and zero (black) fill. Multiples of 90° on square images are exact
 * pixel permutations.
 *
 * @example
 * ```ts
 * const r = rotateImages(test, 30);
 * ```
 */
export function rotateImages<D extends Dataset>(ds: D, degrees: number): D {
  const d = checkNumber(degrees, 'rotateImages: degrees');
  return mapPlanes(ds, 'rotateImages', `rotate(${d})`, (u, off, out, H, W) => rotatePlane(u, off, out, off, H, W, d));
}

/**
 * Inverts contrast: `p -> 1 - p` in the unit pixel scale (applying it twice is the identity).
 *
 * @example
 * ```ts
 * const inv = invertImages(test);
 * ```
 */
export function invertImages<D extends Dataset>(ds: D): D {
  return mapPlanes(ds, 'invertImages', 'invert', (u, off, out, H, W) => {
    for (let k = 0; k < H * W; k++) out[off + k] = 1 - u[off + k]!;
  });
}

/**
 * Gaussian blur with standard deviation `sigma` pixels (separable kernel of radius
 * `ceil(3 sigma)`, edge pixels repeated, so constant images stay constant).
 *
 * @example
 * ```ts
 * const blurred = blurImages(test, 1.5);
 * ```
 */
export function blurImages<D extends Dataset>(ds: D, sigma: number): D {
  const s = checkNumber(sigma, 'blurImages: sigma', { min: 0, minExclusive: true });
  const kernel = gaussianKernel(s);
  return mapPlanes(ds, 'blurImages', `blur(${s})`, (u, off, out, H, W) => convolveSeparable(u, off, out, off, H, W, kernel, 'clamp'));
}

/**
 * Options of {@link elasticDeform}.
 *
 * @example
 * ```ts
 * elasticDeform(test, { alpha: 34, sigma: 4, seed: 0 } satisfies ElasticOptions);
 * ```
 */
export interface ElasticOptions {
  /** Displacement scale in pixels (Simard et al. use 34 for MNIST). */
  alpha: number;
  /** Smoothness of the displacement field: Gaussian sigma in pixels (Simard et al.: 4). */
  sigma: number;
  /** Seed (default 0). */
  seed?: SeedLike;
}

/**
 * Elastic deformation (Simard, Steinkraus and Platt 2003): per image, two fields of U(-1, 1)
 * values are smoothed by a Gaussian of `sigma` px (zero padding), scaled by `alpha`, and the
 * image is resampled at the displaced positions (bilinear, zero fill). All channels of an image
 * share one field.
 *
 * @example
 * ```ts
 * const warped = elasticDeform(test, { alpha: 34, sigma: 4, seed: 0 });
 * ```
 */
export function elasticDeform<D extends Dataset>(ds: D, opts: ElasticOptions): D {
  const fn = 'elasticDeform';
  checkOptions(opts, ['alpha', 'sigma', 'seed'], fn);
  const alpha = checkNumber(opts?.alpha, `${fn}: alpha`, { min: 0 });
  const sigma = checkNumber(opts.sigma, `${fn}: sigma`, { min: 0, minExclusive: true });
  const rng = toRng(opts.seed);
  const kernel = gaussianKernel(sigma);
  const [, H, W] = assertImages(ds, fn);
  const raw = new Float64Array(H * W);
  const fx = new Float64Array(H * W);
  const fy = new Float64Array(H * W);
  const field = (dst: Float64Array): void => {
    for (let k = 0; k < raw.length; k++) raw[k] = 2 * rng.uniform() - 1;
    convolveSeparable(raw, 0, dst, 0, H, W, kernel, 'zero');
    for (let k = 0; k < dst.length; k++) dst[k]! *= alpha;
  };
  return mapPlanes(
    ds,
    fn,
    `elastic(${alpha},${sigma})`,
    (u, off, out) => {
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) out[off + y * W + x] = sampleBilinear(u, off, H, W, x + fx[y * W + x]!, y + fy[y * W + x]!);
    },
    {
      perImage: () => {
        field(fx);
        field(fy);
      },
    },
  );
}

/**
 * Scales contrast about each image's (per-channel) mean: `p -> m + factor (p - m)`; `factor` 1 is
 * the identity, 0 a flat image.
 *
 * @example
 * ```ts
 * const low = adjustContrast(test, 0.3);
 * ```
 */
export function adjustContrast<D extends Dataset>(ds: D, factor: number): D {
  const f = checkNumber(factor, 'adjustContrast: factor', { min: 0 });
  return mapPlanes(ds, 'adjustContrast', `contrast(${f})`, (u, off, out, H, W) => {
    let m = 0;
    for (let k = 0; k < H * W; k++) m += u[off + k]!;
    m /= H * W;
    for (let k = 0; k < H * W; k++) out[off + k] = clip01(m + f * (u[off + k]! - m));
  });
}

/**
 * Impulse (salt-and-pepper) noise: each pixel independently becomes 0 or 1 (equally likely) with
 * probability `p`.
 *
 * @example
 * ```ts
 * const sp = saltAndPepper(test, { p: 0.1, seed: 0 });
 * ```
 */
export function saltAndPepper<D extends Dataset>(ds: D, opts: { p: number; seed?: SeedLike }): D {
  const fn = 'saltAndPepper';
  checkOptions(opts, ['p', 'seed'], fn);
  const p = checkNumber(opts?.p, `${fn}: p`, { min: 0, max: 1 });
  const rng = toRng(opts.seed);
  return mapPlanes(ds, fn, `salt-pepper(${p})`, (u, off, out, H, W) => {
    for (let k = 0; k < H * W; k++) {
      const r = rng.uniform();
      out[off + k] = r < p ? (r < p / 2 ? 0 : 1) : u[off + k]!;
    }
  });
}

/**
 * Occludes a `size x size` square (value `fill`, default 0 = black) at a uniformly random position
 * fully inside each image; all channels share the square.
 *
 * @example
 * ```ts
 * const occ = occludeImages(test, { size: 10, seed: 0 });
 * ```
 */
export function occludeImages<D extends Dataset>(ds: D, opts: { size: number; seed?: SeedLike; fill?: number }): D {
  const fn = 'occludeImages';
  checkOptions(opts, ['size', 'seed', 'fill'], fn);
  const [, H, W] = assertImages(ds, fn);
  const size = checkInt(opts?.size, `${fn}: size`, 1, Math.min(H, W));
  const fill = checkNumber(opts.fill ?? 0, `${fn}: fill`, { min: 0, max: 1 });
  const rng = toRng(opts.seed);
  let top = 0;
  let left = 0;
  return mapPlanes(
    ds,
    fn,
    `occlusion(${size})`,
    (u, off, out) => {
      out.set(u.subarray(off, off + H * W), off);
      for (let y = top; y < top + size; y++) out.fill(fill, off + y * W + left, off + y * W + left + size);
    },
    {
      perImage: () => {
        top = rng.int(H - size + 1);
        left = rng.int(W - size + 1);
      },
    },
  );
}

/**
 * Shifts every image by `dx` pixels right and `dy` pixels down (negative values shift left/up),
 * with zero fill. Integer shifts copy pixels exactly; fractional ones interpolate bilinearly.
 *
 * @example
 * ```ts
 * const shifted = translateImages(test, 4, 4);
 * ```
 */
export function translateImages<D extends Dataset>(ds: D, dx: number, dy: number): D {
  const x0 = checkNumber(dx, 'translateImages: dx');
  const y0 = checkNumber(dy, 'translateImages: dy');
  return mapPlanes(ds, 'translateImages', `translate(${x0},${y0})`, (u, off, out, H, W) => {
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) out[off + y * W + x] = sampleBilinear(u, off, H, W, x - x0, y - y0);
  });
}

/**
 * `ds.n` images of another dataset with the same per-example shape (e.g. Fashion-MNIST for an
 * MNIST model), drawn by seed without replacement and re-expressed in `ds`'s normalisation. The
 * labels and class names are `other`'s (they are not comparable with `ds`'s classes).
 *
 * @example
 * ```ts
 * const fashionForMnist = crossDataset(mnistTest, fashionTest, { seed: 0 });
 * ```
 */
export function crossDataset(ds: ClassificationDataset, other: ClassificationDataset, opts: { seed?: SeedLike } = {}): ClassificationDataset {
  const fn = 'crossDataset';
  checkOptions(opts, ['seed'], fn);
  const [C, H, W] = assertImages(ds, fn);
  assertClassification(other, `${fn}: other`);
  const [C2, H2, W2] = assertImages(other, `${fn}: other`);
  if (C !== C2 || H !== H2 || W !== W2) {
    throw new BasisError('SHAPE_MISMATCH', `${fn}: other has images of shape [${C2}, ${H2}, ${W2}] but '${ds.name}' has [${C}, ${H}, ${W}]; use a dataset of the same image size`);
  }
  if (other.n < ds.n) throw new BasisError('TOO_SMALL', `${fn}: other ('${other.name}') has ${other.n} images but ${ds.n} are needed; pass a larger dataset or a subset of '${ds.name}'`);
  const rng = toRng(opts.seed);
  const idx = sampleWithoutReplacement(other.n, ds.n, rng);
  const plane = H * W;
  const size = C * plane;
  const u0 = toUnit(other, C, plane);
  const u = new Float32Array(ds.n * size);
  const labels = new Int32Array(ds.n);
  const sourceIndex = new Int32Array(ds.n);
  for (let r = 0; r < ds.n; r++) {
    const i = idx[r]!;
    u.set(u0.subarray(i * size, (i + 1) * size), r * size);
    labels[r] = other.labels[i]!;
    sourceIndex[r] = other.sourceIndex[i]!;
  }
  return {
    ...ds,
    name: `${ds.name}/cross(${other.source})`,
    x: fromUnit(u, ds.normalization, C, plane),
    labels,
    numClasses: other.numClasses,
    classNames: other.classNames,
    sourceIndex,
    meta: { ...ds.meta, crossSource: other.source, crossName: other.name, labelsFrom: other.source },
  };
}

/**
 * Options of {@link applyOod} and {@link oodBattery}.
 *
 * @example
 * ```ts
 * applyOod(test, 'cross-dataset', { seed: 1, other: fashionTest } satisfies OodOptions);
 * ```
 */
export interface OodOptions {
  /** Seed of random conditions (default 0); each condition forks its own stream from it. */
  seed?: SeedLike;
  /** The dataset to draw images from for `cross-dataset` (same image shape). */
  other?: ClassificationDataset;
}

/**
 * Applies one named OOD condition (see {@link listOodConditions}) to an image dataset. The same
 * dataset, condition and seed always give the same images. The result is named
 * `<name>/ood:<condition>`, keeps the labels (except `cross-dataset`, whose labels are
 * `other`'s) and the normalisation, and records the condition in `meta.ood`.
 *
 * @example
 * ```ts
 * const rotated = applyOod(test, 'rotate-30');
 * const noisy = applyOod(test, 'noise-0.2', { seed: 1 });
 * const fashion = applyOod(mnistTest, 'cross-dataset', { other: fashionTest, seed: 1 });
 * ```
 */
export function applyOod(ds: ClassificationDataset, condition: string, opts: OodOptions = {}): ClassificationDataset {
  const fn = 'applyOod';
  checkOptions(opts, ['seed', 'other'], fn);
  const c = getOodCondition(condition);
  assertClassification(ds, fn);
  assertImages(ds, fn);
  const base = toRng(opts.seed);
  const rng: Rng = base.fork(`ood:${c.name}`);
  const p = c.params;
  let out: ClassificationDataset;
  switch (c.family) {
    case 'noise':
      out = addGaussianNoise(ds, { std: p.std!, seed: rng });
      break;
    case 'rotation':
      out = rotateImages(ds, p.degrees!);
      break;
    case 'inversion':
      out = invertImages(ds);
      break;
    case 'blur':
      out = blurImages(ds, p.sigma!);
      break;
    case 'elastic':
      out = elasticDeform(ds, { alpha: p.alpha!, sigma: p.sigma!, seed: rng });
      break;
    case 'contrast':
      out = adjustContrast(ds, p.factor!);
      break;
    case 'impulse':
      out = saltAndPepper(ds, { p: p.p!, seed: rng });
      break;
    case 'occlusion':
      out = occludeImages(ds, { size: Math.min(p.size!, ds.shape[1]!, ds.shape[2]!), seed: rng });
      break;
    case 'translation':
      out = translateImages(ds, p.dx!, p.dy!);
      break;
    case 'cross-dataset':
      if (opts.other === undefined) {
        throw new BasisError('CONFIG_INVALID', `${fn}: condition 'cross-dataset' needs opts.other, the dataset to take images from (e.g. Fashion-MNIST for MNIST); in Node, loadCrossDataset(ds) from '@basis/zoo/node' loads it`);
      }
      out = crossDataset(ds, opts.other, { seed: rng });
      break;
  }
  const seed = opts.seed === undefined ? 0 : typeof opts.seed === 'object' ? 'rng' : opts.seed;
  return { ...out, name: `${ds.name}/ood:${c.name}`, meta: { ...out.meta, ood: { condition: c.name, family: c.family, params: { ...p }, seed } } };
}

/**
 * The whole battery: every condition (or the listed ones) applied to `ds`, in the order of
 * {@link listOodConditions}. `cross-dataset` is included when `opts.other` is given (and is an
 * error when listed explicitly without it). Holds one copy of `ds` per condition in memory.
 *
 * @example
 * ```ts
 * for (const { condition, dataset } of oodBattery(test, { seed: 0, other: fashionTest })) {
 *   console.log(condition.name, dataset.n);
 * }
 * ```
 */
export function oodBattery(
  ds: ClassificationDataset,
  opts: OodOptions & { conditions?: readonly string[] } = {},
): { condition: OodCondition; dataset: ClassificationDataset }[] {
  checkOptions(opts, ['seed', 'other', 'conditions'], 'oodBattery');
  const names = opts.conditions ?? CONDITIONS.filter((c) => !c.needsOther || opts.other !== undefined).map((c) => c.name);
  if (!Array.isArray(names) || names.length === 0) throw new BasisError('CONFIG_INVALID', `oodBattery: conditions must be a non-empty list of names, got ${describe(opts.conditions)}`);
  const conditions = names.map(getOodCondition);
  const { conditions: _c, ...rest } = opts;
  return conditions.map((condition) => ({ condition, dataset: applyOod(ds, condition.name, rest) }));
}
