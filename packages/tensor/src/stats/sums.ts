import { nativeGemv } from '../engine/blas.js';
import { BasisError } from '../errors.js';
import { wasmRowPairDots, wasmRowSquaresDots } from '../linalg/wasm-kernels.js';
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

/**
 * The sum of squares of each row of X and its dot product with v (`||x_i||²` and `x_i · v`) in
 * one read of X: a WebAssembly SIMD kernel on blocks of rows where WebAssembly is available (in
 * Node and browsers, whichever linear-algebra engine is in use), otherwise one JavaScript pass.
 * Each row is summed in a fixed order (blocks of eight entries, then the rest), so results are the
 * same on every engine and run; they agree with other summation orders to rounding. Like
 * {@link rowDotsOf} it does not screen its inputs: a NaN or Inf entry gives a non-finite square sum
 * (and dot) for its row, and squares beyond the float64 range overflow to Infinity or underflow to
 * 0, which callers that need them check. Throws `SHAPE_MISMATCH` when `v.length` differs from `X.cols`.
 *
 * @example
 * ```ts
 * const { squares, dots } = rowSquaresAndDotsOf(Matrix.from([[1, 2], [3, 4]]), [1, -1]);
 * // squares: Float64Array [5, 25], dots: Float64Array [-1, -1]
 * ```
 */
export function rowSquaresAndDotsOf(X: MatrixLike, v: ArrayLike<number>): { squares: Float64Array; dots: Float64Array } {
  const { rows: n, cols: d, data: a } = asMatrix(X);
  if (v.length !== d) throw new BasisError('SHAPE_MISMATCH', `rowSquaresAndDotsOf(X, v) needs v.length === X.cols, got ${v.length} and ${n} x ${d}`);
  const squares = new Float64Array(n);
  const dots = new Float64Array(n);
  if (n === 0 || d === 0) return { squares, dots };
  const w = v instanceof Float64Array ? v : Float64Array.from(v);
  if (!wasmRowSquaresDots(a, n, d, w, squares, dots)) rowSquaresDotsJs(a, n, d, w, squares, dots);
  return { squares, dots };
}

/**
 * {@link rowSquaresAndDotsOf}'s JavaScript route, in the WebAssembly kernel's order (so the two
 * agree bit for bit): per row, eight partial sums over blocks of eight entries (the kernel's four
 * accumulators of two lanes), combined as the kernel does (accumulators `(a0 + a1) + (a2 + a3)`
 * lane by lane, then lane 0 + lane 1), then the tail in order.
 */
function rowSquaresDotsJs(a: Float64Array, n: number, d: number, w: Float64Array, squares: Float64Array, dots: Float64Array): void {
  const d8 = d - (d % 8);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    // accumulator j, lane l holds entries k with k % 8 === 2j + l
    let q0 = 0, q1 = 0, q2 = 0, q3 = 0, q4 = 0, q5 = 0, q6 = 0, q7 = 0;
    let p0 = 0, p1 = 0, p2 = 0, p3 = 0, p4 = 0, p5 = 0, p6 = 0, p7 = 0;
    let k = 0;
    for (; k < d8; k += 8) {
      const x0 = a[o + k] as number;
      const x1 = a[o + k + 1] as number;
      const x2 = a[o + k + 2] as number;
      const x3 = a[o + k + 3] as number;
      const x4 = a[o + k + 4] as number;
      const x5 = a[o + k + 5] as number;
      const x6 = a[o + k + 6] as number;
      const x7 = a[o + k + 7] as number;
      q0 += x0 * x0;
      q1 += x1 * x1;
      q2 += x2 * x2;
      q3 += x3 * x3;
      q4 += x4 * x4;
      q5 += x5 * x5;
      q6 += x6 * x6;
      q7 += x7 * x7;
      p0 += x0 * (w[k] as number);
      p1 += x1 * (w[k + 1] as number);
      p2 += x2 * (w[k + 2] as number);
      p3 += x3 * (w[k + 3] as number);
      p4 += x4 * (w[k + 4] as number);
      p5 += x5 * (w[k + 5] as number);
      p6 += x6 * (w[k + 6] as number);
      p7 += x7 * (w[k + 7] as number);
    }
    // lanes: 0 = entries 0, 2, 4, 6 (accumulators 0..3), 1 = entries 1, 3, 5, 7
    let q = (q0 + q2 + (q4 + q6)) + (q1 + q3 + (q5 + q7));
    let p = (p0 + p2 + (p4 + p6)) + (p1 + p3 + (p5 + p7));
    for (; k < d; k++) {
      const x = a[o + k] as number;
      q += x * x;
      p += x * (w[k] as number);
    }
    squares[i] = q;
    dots[i] = p;
  }
}

/**
 * Row by row, the dot product of the i-th rows of A and B and each row's sum of squares
 * (`a_i · b_i`, `||a_i||²`, `||b_i||²`) in one read of both: for cosines of paired rows. Rows of
 * different widths are compared zero-padded (the dot runs over the common leading columns, each sum
 * of squares over its whole row). A WebAssembly SIMD kernel on blocks of rows where WebAssembly is
 * available, otherwise one JavaScript pass in the same order (bit-identical: per row, blocks of
 * eight common entries, then the common tail, then each row's remaining entries). No screening of
 * the inputs: a NaN or Inf entry gives non-finite results for its row, and squares beyond the
 * float64 range overflow to Infinity or underflow to 0, which callers that need them check.
 * Throws `SHAPE_MISMATCH` when A and B have different row counts.
 *
 * @example
 * ```ts
 * const { dots, squaresA, squaresB } = rowPairDotsOf(Matrix.from([[1, 2], [3, 4]]), Matrix.from([[2, 0], [1, 1]]));
 * // dots: Float64Array [2, 7], squaresA: [5, 25], squaresB: [4, 2]
 * ```
 */
export function rowPairDotsOf(A: MatrixLike, B: MatrixLike): { dots: Float64Array; squaresA: Float64Array; squaresB: Float64Array } {
  const a = asMatrix(A);
  const b = asMatrix(B);
  if (a.rows !== b.rows) throw new BasisError('SHAPE_MISMATCH', `rowPairDotsOf(A, B) needs the same number of rows, got ${a.rows} x ${a.cols} and ${b.rows} x ${b.cols}`);
  const n = a.rows;
  const dots = new Float64Array(n);
  const squaresA = new Float64Array(n);
  const squaresB = new Float64Array(n);
  if (n === 0 || a.cols + b.cols === 0) return { dots, squaresA, squaresB };
  if (!wasmRowPairDots(a.data, a.cols, b.data, b.cols, n, dots, squaresA, squaresB)) rowPairDotsJs(a.data, a.cols, b.data, b.cols, n, dots, squaresA, squaresB);
  return { dots, squaresA, squaresB };
}

/**
 * {@link rowPairDotsOf}'s JavaScript route, in the WebAssembly kernel's order (so the two agree bit
 * for bit): per row, eight partial sums of each kind over blocks of eight common entries (the
 * kernel's four accumulators of two lanes) combined as the kernel does, then the common tail in
 * order, then the remaining entries of the wider row.
 */
function rowPairDotsJs(a: Float64Array, da: number, b: Float64Array, db: number, n: number, dots: Float64Array, squaresA: Float64Array, squaresB: Float64Array): void {
  const c = Math.min(da, db);
  const c8 = c - (c % 8);
  for (let i = 0; i < n; i++) {
    const oa = i * da;
    const ob = i * db;
    // accumulator j, lane l holds entries k with k % 8 === 2j + l
    let d0 = 0, d1 = 0, d2 = 0, d3 = 0, d4 = 0, d5 = 0, d6 = 0, d7 = 0;
    let p0 = 0, p1 = 0, p2 = 0, p3 = 0, p4 = 0, p5 = 0, p6 = 0, p7 = 0;
    let q0 = 0, q1 = 0, q2 = 0, q3 = 0, q4 = 0, q5 = 0, q6 = 0, q7 = 0;
    let k = 0;
    for (; k < c8; k += 8) {
      const x0 = a[oa + k] as number, x1 = a[oa + k + 1] as number, x2 = a[oa + k + 2] as number, x3 = a[oa + k + 3] as number;
      const x4 = a[oa + k + 4] as number, x5 = a[oa + k + 5] as number, x6 = a[oa + k + 6] as number, x7 = a[oa + k + 7] as number;
      const y0 = b[ob + k] as number, y1 = b[ob + k + 1] as number, y2 = b[ob + k + 2] as number, y3 = b[ob + k + 3] as number;
      const y4 = b[ob + k + 4] as number, y5 = b[ob + k + 5] as number, y6 = b[ob + k + 6] as number, y7 = b[ob + k + 7] as number;
      d0 += x0 * y0; d1 += x1 * y1; d2 += x2 * y2; d3 += x3 * y3; d4 += x4 * y4; d5 += x5 * y5; d6 += x6 * y6; d7 += x7 * y7;
      p0 += x0 * x0; p1 += x1 * x1; p2 += x2 * x2; p3 += x3 * x3; p4 += x4 * x4; p5 += x5 * x5; p6 += x6 * x6; p7 += x7 * x7;
      q0 += y0 * y0; q1 += y1 * y1; q2 += y2 * y2; q3 += y3 * y3; q4 += y4 * y4; q5 += y5 * y5; q6 += y6 * y6; q7 += y7 * y7;
    }
    // lanes: 0 = entries 0, 2, 4, 6 (accumulators 0..3), 1 = entries 1, 3, 5, 7
    let d = (d0 + d2 + (d4 + d6)) + (d1 + d3 + (d5 + d7));
    let p = (p0 + p2 + (p4 + p6)) + (p1 + p3 + (p5 + p7));
    let q = (q0 + q2 + (q4 + q6)) + (q1 + q3 + (q5 + q7));
    for (; k < c; k++) {
      const x = a[oa + k] as number;
      const y = b[ob + k] as number;
      d += x * y;
      p += x * x;
      q += y * y;
    }
    for (let t = c; t < da; t++) p += (a[oa + t] as number) * (a[oa + t] as number);
    for (let t = c; t < db; t++) q += (b[ob + t] as number) * (b[ob + t] as number);
    dots[i] = d;
    squaresA[i] = p;
    squaresB[i] = q;
  }
}
