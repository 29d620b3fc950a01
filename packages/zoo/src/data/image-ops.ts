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
  const x1 = x0 + 1;
  const y1 = y0 + 1;
  const inX0 = x0 >= 0 && x0 < W;
  const inY0 = y0 >= 0 && y0 < H;
  const v00 = inY0 && inX0 ? src[off + y0 * W + x0]! : 0;
  if (fx === 0 && fy === 0) return v00;
  const inX1 = x1 >= 0 && x1 < W;
  const inY1 = y1 >= 0 && y1 < H;
  const v01 = inY0 && inX1 ? src[off + y0 * W + x1]! : 0;
  const v10 = inY1 && inX0 ? src[off + y1 * W + x0]! : 0;
  const v11 = inY1 && inX1 ? src[off + y1 * W + x1]! : 0;
  return (1 - fy) * ((1 - fx) * v00 + fx * v01) + fy * ((1 - fx) * v10 + fx * v11);
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

let scratchPlane = new Float64Array(0);
let scratchLine = new Float64Array(0);

/**
 * Separable convolution of a plane with `kernel` along rows then columns, in float64.
 * `mode` 'clamp' repeats the edge pixels (a constant image stays constant); 'zero' pads with 0.
 * Each line is copied once into a padded buffer, so the inner loop has no bounds checks.
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
  const K = kernel.length;
  if (scratchPlane.length < H * W) scratchPlane = new Float64Array(H * W);
  if (scratchLine.length < Math.max(H, W) + 2 * r) scratchLine = new Float64Array(Math.max(H, W) + 2 * r);
  const tmp = scratchPlane;
  const line = scratchLine;
  const clamp = mode === 'clamp';
  // rows: src -> tmp
  for (let y = 0; y < H; y++) {
    const base = off + y * W;
    for (let x = 0; x < W; x++) line[r + x] = src[base + x] as number;
    const lo = clamp ? line[r]! : 0;
    const hi = clamp ? line[r + W - 1]! : 0;
    for (let k = 0; k < r; k++) {
      line[k] = lo;
      line[r + W + k] = hi;
    }
    for (let x = 0; x < W; x++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += kernel[k]! * line[x + k]!;
      tmp[y * W + x] = acc;
    }
  }
  // columns: tmp -> dst
  for (let x = 0; x < W; x++) {
    for (let y = 0; y < H; y++) line[r + y] = tmp[y * W + x]!;
    const lo = clamp ? line[r]! : 0;
    const hi = clamp ? line[r + H - 1]! : 0;
    for (let k = 0; k < r; k++) {
      line[k] = lo;
      line[r + H + k] = hi;
    }
    for (let y = 0; y < H; y++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += kernel[k]! * line[y + k]!;
      dst[dOff + y * W + x] = acc;
    }
  }
}
