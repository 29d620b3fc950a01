// Pixel normalisation: raw 0..255, unit 0..1, and per-channel standardisation.
import { BasisError } from '@basis/tensor';
import type { Dataset, Normalization, NormalizeOption } from './types.js';
import { assertImages, checkFiniteArray, checkNumber, describe, isList } from './validate.js';

/**
 * Mean pixel value of the 60,000 MNIST training images in the unit scale (p/255): the constant
 * torchvision examples use, `0.1307`.
 *
 * @example
 * ```ts
 * const z = (0.5 - MNIST_MEAN) / MNIST_STD;
 * ```
 */
export const MNIST_MEAN = 0.1307;
/**
 * Standard deviation of the MNIST training pixels in the unit scale, `0.3081`; see {@link MNIST_MEAN}.
 *
 * @example
 * ```ts
 * const z = (0.5 - MNIST_MEAN) / MNIST_STD;
 * ```
 */
export const MNIST_STD = 0.3081;
/**
 * Mean pixel value of the 60,000 Fashion-MNIST training images in the unit scale, `0.2860`.
 *
 * @example
 * ```ts
 * normalizeImages(ds, { mean: FASHION_MNIST_MEAN, std: FASHION_MNIST_STD });
 * ```
 */
export const FASHION_MNIST_MEAN = 0.286;
/**
 * Standard deviation of the Fashion-MNIST training pixels in the unit scale, `0.3530`.
 *
 * @example
 * ```ts
 * const z = (0.5 - FASHION_MNIST_MEAN) / FASHION_MNIST_STD;
 * ```
 */
export const FASHION_MNIST_STD = 0.353;

const STANDARD: Record<string, { mean: number; std: number }> = {
  mnist: { mean: MNIST_MEAN, std: MNIST_STD },
  'fashion-mnist': { mean: FASHION_MNIST_MEAN, std: FASHION_MNIST_STD },
};

function perChannel(v: number | readonly number[], c: number, name: string, positive: boolean): number[] {
  const arr = typeof v === 'number' ? Array.from({ length: c }, () => v) : isList(v) ? [...v] : null;
  if (arr === null) throw new BasisError('CONFIG_INVALID', `normalize.${name} must be a number or an array of ${c} numbers, got ${describe(v)}`);
  if (arr.length !== c) throw new BasisError('SHAPE_MISMATCH', `normalize.${name} has ${arr.length} entries but the images have ${c} channel(s); give one value per channel`);
  arr.forEach((x, i) => checkNumber(x, `normalize.${name}[${i}]`, positive ? { min: 0, minExclusive: true } : {}));
  return arr;
}

/**
 * Turns a {@link NormalizeOption} into a {@link Normalization} for images of `channels`
 * channels from `source` (`'standard'` needs a source with documented constants: `mnist` or
 * `fashion-mnist`; otherwise pass `{ mean, std }`, e.g. from {@link computeImageStats}).
 *
 * @example
 * ```ts
 * resolveNormalization('standard', 'mnist', 1); // { kind: 'standard', mean: [0.1307], std: [0.3081] }
 * ```
 */
export function resolveNormalization(opt: NormalizeOption | undefined, source: string, channels: number): Normalization {
  if (opt === undefined || opt === 'unit') return { kind: 'unit' };
  if (opt === 'raw') return { kind: 'raw' };
  if (opt === 'standard') {
    const s = STANDARD[source];
    if (s === undefined) {
      throw new BasisError('CONFIG_INVALID', `normalize 'standard' has no documented constants for source '${source}' (only mnist, fashion-mnist); pass { mean, std }, e.g. from computeImageStats(ds)`);
    }
    return { kind: 'standard', mean: Array.from({ length: channels }, () => s.mean), std: Array.from({ length: channels }, () => s.std) };
  }
  if (typeof opt === 'object' && opt !== null && 'mean' in opt && 'std' in opt) {
    const keys = Object.keys(opt).filter((k) => k !== 'mean' && k !== 'std');
    if (keys.length > 0) throw new BasisError('CONFIG_INVALID', `normalize: unknown key '${keys[0]}'; use { mean, std }`);
    return { kind: 'standard', mean: perChannel(opt.mean, channels, 'mean', false), std: perChannel(opt.std, channels, 'std', true) };
  }
  throw new BasisError('CONFIG_INVALID', `normalize must be 'unit', 'raw', 'standard' or { mean, std }, got ${describe(opt)}`);
}

/** Affine map x = a[c] * u + b[c] from unit values u to stored values, per channel. */
function coefficients(norm: Normalization, channels: number): { a: Float64Array; b: Float64Array } {
  const a = new Float64Array(channels);
  const b = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    if (norm.kind === 'raw') a[c] = 255;
    else if (norm.kind === 'unit') a[c] = 1;
    else if (norm.kind === 'standard') {
      const m = norm.mean[c];
      const s = norm.std[c];
      if (m === undefined || s === undefined) throw new BasisError('SHAPE_MISMATCH', `normalization lists ${norm.mean.length} channel means but the images have ${channels} channels`);
      a[c] = 1 / s;
      b[c] = -m / s;
    } else throw new BasisError('INVALID_ARGUMENT', `normalization 'none' has no pixel scale; this is not image data`);
  }
  return { a, b };
}

/** Per-channel `x = a[c] * p + b[c]` for a 0..255 pixel `p` in the given normalisation. Internal. */
export function pixelCoefficients(norm: Normalization, channels: number): { a: Float64Array; b: Float64Array } {
  const { a, b } = coefficients(norm, channels);
  for (let c = 0; c < channels; c++) a[c]! /= 255;
  if (norm.kind === 'raw') a.fill(1);
  return { a, b };
}

/**
 * Float32 values of 0..255 pixels (`n * C * plane` values, channel-major per image) in the
 * given normalisation. Internal builder used by the loaders.
 */
export function pixelsToValues(pixels: Uint8Array, norm: Normalization, channels: number, plane: number): Float32Array {
  const { a, b } = coefficients(norm, channels);
  const out = new Float32Array(pixels.length);
  for (let base = 0; base < pixels.length; base += channels * plane) {
    for (let c = 0; c < channels; c++) {
      const ac = (a[c] as number) / 255;
      const bc = b[c] as number;
      const o = base + c * plane;
      for (let k = 0; k < plane; k++) out[o + k] = ac * (pixels[o + k] as number) + bc;
    }
  }
  return out;
}

/** The dataset's inputs in the unit scale (copy). Internal helper of the OOD battery. */
export function toUnit(ds: Dataset, channels: number, plane: number): Float32Array {
  const { a, b } = coefficients(ds.normalization, channels);
  const out = new Float32Array(ds.x.length);
  const x = ds.x;
  for (let base = 0; base < x.length; base += channels * plane) {
    for (let c = 0; c < channels; c++) {
      const ia = 1 / (a[c] as number);
      const bc = b[c] as number;
      const o = base + c * plane;
      for (let k = 0; k < plane; k++) out[o + k] = (x[o + k]! - bc) * ia;
    }
  }
  return out;
}

/** Maps unit-scale values (in place) into the given normalisation. Internal helper. */
export function fromUnit(u: Float32Array, norm: Normalization, channels: number, plane: number): Float32Array {
  const { a, b } = coefficients(norm, channels);
  if (norm.kind === 'unit') return u;
  for (let base = 0; base < u.length; base += channels * plane) {
    for (let c = 0; c < channels; c++) {
      const ac = a[c] as number;
      const bc = b[c] as number;
      const o = base + c * plane;
      for (let k = 0; k < plane; k++) u[o + k] = ac * u[o + k]! + bc;
    }
  }
  return u;
}

/**
 * Re-expresses an image dataset in another normalisation (values are converted through the unit
 * scale, so any normalisation can be turned into any other). `'standard'` uses the documented
 * constants of the dataset's source ({@link MNIST_MEAN}/{@link MNIST_STD},
 * {@link FASHION_MNIST_MEAN}/{@link FASHION_MNIST_STD}); `{ mean, std }` gives explicit ones.
 *
 * @example
 * ```ts
 * const z = normalizeImages(train, 'standard');            // (p/255 - 0.1307) / 0.3081
 * const u = normalizeImages(z, 'unit');                    // back to 0..1
 * const own = normalizeImages(u, computeImageStats(u));    // standardised by its own statistics
 * ```
 */
export function normalizeImages<D extends Dataset>(ds: D, target: NormalizeOption): D {
  const [C, H, W] = assertImages(ds, 'normalizeImages');
  const norm = resolveNormalization(target, ds.source, C);
  const u = toUnit(ds, C, H * W);
  const x = fromUnit(u, norm, C, H * W);
  checkFiniteArray(x, 'normalizeImages: result');
  return { ...ds, x, normalization: norm };
}

/**
 * Per-channel mean and standard deviation (population, float64 accumulation) of an image
 * dataset's pixels in the unit scale, ready to pass to {@link normalizeImages}.
 *
 * @example
 * ```ts
 * const stats = computeImageStats(train); // { mean: [0.13...], std: [0.30...] }
 * const z = normalizeImages(test, stats);  // test standardised by train statistics
 * ```
 */
export function computeImageStats(ds: Dataset): { mean: number[]; std: number[] } {
  const [C, H, W] = assertImages(ds, 'computeImageStats');
  const plane = H * W;
  const u = toUnit(ds, C, plane);
  const sum = new Float64Array(C);
  const sq = new Float64Array(C);
  for (let base = 0; base < u.length; base += C * plane) {
    for (let c = 0; c < C; c++) {
      let s = 0;
      let q = 0;
      const o = base + c * plane;
      for (let k = 0; k < plane; k++) {
        const v = u[o + k]!;
        s += v;
        q += v * v;
      }
      sum[c]! += s;
      sq[c]! += q;
    }
  }
  const count = ds.n * plane;
  const mean = Array.from(sum, (s) => s / count);
  const std = Array.from(sq, (q, c) => Math.sqrt(Math.max(q / count - mean[c]! ** 2, 0)));
  if (std.some((s) => s === 0)) throw new BasisError('RANK_DEFICIENT', `computeImageStats: a channel of '${ds.name}' is constant (std 0); standardising it would divide by zero`);
  return { mean, std };
}

/** Documented standardisation constants of a source, if any. Internal. */
export function standardConstants(source: string): { mean: number; std: number } | undefined {
  return STANDARD[source];
}
