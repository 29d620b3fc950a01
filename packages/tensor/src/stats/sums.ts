import { nativeGemv } from '../engine/blas.js';
import { BasisError } from '../errors.js';
import { asMatrix, type MatrixLike } from '../matrix.js';

/** Entries from which column sums (and row dots) go to the native BLAS's dgemv (below, the FFI call costs more). */
const GEMV_SUMS_MIN = 1 << 14;

/**
 * Column sums of X (`1ᵀ X`) in one read of its entries: the native BLAS's `dgemv` when the engine
 * has one (vectorised, at memory speed: about 3 ms for 10000 x 1024 on one core), otherwise one
 * JavaScript pass four rows at a time. No finiteness check: a NaN or Inf entry makes its column's
 * sum non-finite in any summation order, so finite sums prove every entry finite (an overflow of
 * finite entries also gives a non-finite sum, which callers check exactly). The summation order
 * depends on the engine, so the two engines agree to rounding, not bit for bit.
 *
 * @example
 * ```ts
 * columnSumsOf(Matrix.from([[1, 2], [3, 4]])); // Float64Array [4, 6]
 * ```
 */
export function columnSumsOf(X: MatrixLike): Float64Array {
  const { rows: n, cols: d, data: a } = asMatrix(X);
  const s = new Float64Array(d);
  if (n === 0 || d === 0) return s;
  if (n * d >= GEMV_SUMS_MIN && nativeGemv({ rows: n, cols: d, A: a, aOff: 0, lda: d, trans: true, x: new Float64Array(n).fill(1), y: s })) return s;
  return shiftedColumnSums(a, n, d);
}

/**
 * Column sums of `a - 1 shiftᵀ` (n x d, row-major), four rows at a time: sequential reads and a
 * quarter of the accumulator traffic. The order of the additions is fixed, so results are
 * deterministic (also {@link columnSumsOf}'s route without native BLAS). Internal: not on the
 * package's face.
 */
export function shiftedColumnSums(a: Float64Array, n: number, d: number, shift?: Float64Array): Float64Array {
  const s = new Float64Array(d);
  const n4 = n - (n % 4);
  const z = shift ?? new Float64Array(d);
  for (let i = 0; i < n4; i += 4) {
    const r0 = i * d;
    const r1 = r0 + d;
    const r2 = r1 + d;
    const r3 = r2 + d;
    for (let j = 0; j < d; j++) {
      const c = z[j] as number;
      s[j] = (s[j] as number) + ((((a[r0 + j] as number) - c) + ((a[r1 + j] as number) - c)) + (((a[r2 + j] as number) - c) + ((a[r3 + j] as number) - c)));
    }
  }
  for (let i = n4; i < n; i++) {
    const r = i * d;
    for (let j = 0; j < d; j++) s[j] = (s[j] as number) + ((a[r + j] as number) - (z[j] as number));
  }
  return s;
}

/**
 * Row dot products `X v` (the dot product of each row of X with v) in one read of X: the native
 * BLAS's `dgemv` when the engine has one and X is large enough to pay for the call, otherwise one
 * JavaScript pass with four partial sums per row. Like {@link columnSumsOf} it does not screen its
 * inputs (a NaN or Inf entry gives a non-finite dot for its row; callers that must reject such input
 * check it, or have checked it already), so a caller that validated X pays for one pass only. The
 * summation order depends on the engine: the two engines agree to rounding, not bit for bit.
 * Throws `SHAPE_MISMATCH` when `v.length` differs from `X.cols`.
 *
 * @example
 * ```ts
 * rowDotsOf(Matrix.from([[1, 2], [3, 4]]), [1, -1]); // Float64Array [-1, -1]
 * ```
 */
export function rowDotsOf(X: MatrixLike, v: ArrayLike<number>): Float64Array {
  const { rows: n, cols: d, data: a } = asMatrix(X);
  if (v.length !== d) throw new BasisError('SHAPE_MISMATCH', `rowDotsOf(X, v) needs v.length === X.cols, got ${v.length} and ${n} x ${d}`);
  const out = new Float64Array(n);
  if (n === 0 || d === 0) return out;
  const w = v instanceof Float64Array ? v : Float64Array.from(v);
  if (n * d >= GEMV_SUMS_MIN && nativeGemv({ rows: n, cols: d, A: a, aOff: 0, lda: d, trans: false, x: w, y: out })) return out;
  const d4 = d - (d % 4);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let k = 0;
    for (; k < d4; k += 4) {
      s0 += (a[o + k] as number) * (w[k] as number);
      s1 += (a[o + k + 1] as number) * (w[k + 1] as number);
      s2 += (a[o + k + 2] as number) * (w[k + 2] as number);
      s3 += (a[o + k + 3] as number) * (w[k + 3] as number);
    }
    for (; k < d; k++) s0 += (a[o + k] as number) * (w[k] as number);
    out[i] = s0 + s1 + (s2 + s3);
  }
  return out;
}
