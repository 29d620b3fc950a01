// Pure kernels on single image planes (H x W, row-major, unit-scale values). Internal.

/** Bilinear sample at (sx, sy) (column, row; pixel centres at integers); zero outside the image. */
export function sampleBilinear(src: Float32Array, off: number, H: number, W: number, sx: number, sy: number): number {
  let x0 = Math.floor(sx);
  let y0 = Math.floor(sy);
  let fx = sx - x0;
  let fy = sy - y0;
  // snap coordinates that are integers up to rounding, so that exact grid maps (90° rotations,
  // integer shifts) copy pixels exactly
  if (fx < 1e-9) fx = 0;
  else if (fx > 1 - 1e-9) {
    x0++;
    fx = 0;
  }
  if (fy < 1e-9) fy = 0;
  else if (fy > 1 - 1e-9) {
    y0++;
    fy = 0;
  }
  const at = (y: number, x: number): number => (y >= 0 && y < H && x >= 0 && x < W ? src[off + y * W + x]! : 0);
  if (fx === 0 && fy === 0) return at(y0, x0);
  return (
    (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) +
    fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1))
  );
}

/** Rotates a plane by `degrees` counter-clockwise (as displayed, rows downwards) about its centre. */
export function rotatePlane(src: Float32Array, off: number, dst: Float32Array, dOff: number, H: number, W: number, degrees: number): void {
  const t = (degrees * Math.PI) / 180;
  const c = Math.cos(t);
  const s = Math.sin(t);
  const cx = (W - 1) / 2;
  const cy = (H - 1) / 2;
  for (let y = 0; y < H; y++) {
    const dy = y - cy;
    for (let x = 0; x < W; x++) {
      const dx = x - cx;
      dst[dOff + y * W + x] = sampleBilinear(src, off, H, W, cx + dx * c - dy * s, cy + dx * s + dy * c);
    }
  }
}

/** A normalised 1-d Gaussian kernel of radius ceil(3 sigma). */
export function gaussianKernel(sigma: number): Float64Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    k[i + r] = v;
    sum += v;
  }
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  return k;
}

/**
 * Separable convolution of a plane with `kernel` along rows then columns, in float64.
 * `mode` 'clamp' repeats the edge pixels (a constant image stays constant); 'zero' pads with 0.
 */
export function convolveSeparable(
  src: ArrayLike<number>,
  off: number,
  dst: Float32Array | Float64Array,
  dOff: number,
  H: number,
  W: number,
  kernel: Float64Array,
  mode: 'clamp' | 'zero',
): void {
  const r = (kernel.length - 1) / 2;
  const tmp = new Float64Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) {
        let xx = x + k;
        if (xx < 0 || xx >= W) {
          if (mode === 'zero') continue;
          xx = xx < 0 ? 0 : W - 1;
        }
        s += kernel[k + r]! * (src[off + y * W + xx] as number);
      }
      tmp[y * W + x] = s;
    }
  }
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) {
        let yy = y + k;
        if (yy < 0 || yy >= H) {
          if (mode === 'zero') continue;
          yy = yy < 0 ? 0 : H - 1;
        }
        s += kernel[k + r]! * tmp[yy * W + x]!;
      }
      dst[dOff + y * W + x] = s;
    }
  }
}
