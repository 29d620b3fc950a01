import { nativeGemv } from './engine/blas.js';
import { BasisError } from './errors.js';
import { float64Buffer } from './memory.js';

/** Anything indexable by position with a length: arrays and every typed array. */
export type NumericArrayLike = ArrayLike<number>;

/**
 * A dense row-major float64 matrix: `data[i * cols + j]` is entry (i, j).
 *
 * Matrices are plain values: operations return new matrices and never mutate their inputs,
 * except the explicitly in-place methods (`set`, `fill`).
 *
 * @example
 * ```ts
 * import { Matrix } from '@basis/tensor';
 * const a = Matrix.from([[1, 2], [3, 4]]);
 * a.get(1, 0); // 3
 * a.transpose().toArray(); // [[1, 3], [2, 4]]
 * ```
 */
export class Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;

  /**
   * Wraps `data` (not copied) as a `rows x cols` matrix; allocates zeros when `data` is omitted.
   * Throws `INVALID_ARGUMENT` for negative or non-integer sizes and `SHAPE_MISMATCH` when the
   * length is not `rows * cols`.
   */
  constructor(rows: number, cols: number, data?: Float64Array) {
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
      throw new BasisError(
        'INVALID_ARGUMENT',
        `Matrix sizes must be non-negative integers, got ${rows} x ${cols}`,
      );
    }
    if (data !== undefined && data.length !== rows * cols) {
      throw new BasisError(
        'SHAPE_MISMATCH',
        `Matrix data has length ${data.length} but ${rows} x ${cols} needs ${rows * cols}`,
      );
    }
    this.rows = rows;
    this.cols = cols;
    this.data = data ?? float64Buffer(rows * cols);
  }

  /** A `rows x cols` matrix of zeros. */
  static zeros(rows: number, cols: number): Matrix {
    return new Matrix(rows, cols);
  }

  /** The `n x n` identity. */
  static identity(n: number): Matrix {
    const m = new Matrix(n, n);
    for (let i = 0; i < n; i++) m.data[i * n + i] = 1;
    return m;
  }

  /** A matrix with `values` on its diagonal (square, `values.length` on a side). */
  static diag(values: NumericArrayLike): Matrix {
    const n = values.length;
    const m = new Matrix(n, n);
    for (let i = 0; i < n; i++) m.data[i * n + i] = values[i] as number;
    return m;
  }

  /**
   * From nested rows, e.g. `[[1, 2], [3, 4]]`. Every row must have the same length.
   * An empty outer array gives a 0 x 0 matrix.
   */
  static from(rows: ReadonlyArray<NumericArrayLike>): Matrix {
    const r = rows.length;
    const c = r === 0 ? 0 : (rows[0] as NumericArrayLike).length;
    const m = new Matrix(r, c);
    for (let i = 0; i < r; i++) {
      const row = rows[i] as NumericArrayLike;
      if (row.length !== c) {
        throw new BasisError(
          'SHAPE_MISMATCH',
          `Row ${i} has ${row.length} entries but row 0 has ${c}; nested rows must be rectangular`,
        );
      }
      for (let j = 0; j < c; j++) m.data[i * c + j] = Number(row[j]);
    }
    return m;
  }

  /**
   * From a flat array of `rows * cols` values (copied and converted to float64).
   * `order` is `'C'` (row-major, default) or `'F'` (column-major).
   */
  static fromArray(
    rows: number,
    cols: number,
    values: NumericArrayLike,
    order: 'C' | 'F' = 'C',
  ): Matrix {
    if (values.length !== rows * cols) {
      throw new BasisError(
        'SHAPE_MISMATCH',
        `Got ${values.length} values for a ${rows} x ${cols} matrix (needs ${rows * cols})`,
      );
    }
    const m = new Matrix(rows, cols);
    if (order === 'C') {
      for (let k = 0; k < values.length; k++) m.data[k] = Number(values[k]);
    } else {
      for (let j = 0; j < cols; j++)
        for (let i = 0; i < rows; i++) m.data[i * cols + j] = Number(values[j * rows + i]);
    }
    return m;
  }

  /** A column vector (`n x 1`). */
  static column(values: NumericArrayLike): Matrix {
    return Matrix.fromArray(values.length, 1, values);
  }

  /** Shape as `[rows, cols]`. */
  get shape(): [number, number] {
    return [this.rows, this.cols];
  }

  /** Number of entries. */
  get size(): number {
    return this.rows * this.cols;
  }

  /** Entry (i, j); no bounds check beyond the typed array's. */
  get(i: number, j: number): number {
    return this.data[i * this.cols + j] as number;
  }

  /** Sets entry (i, j) in place. */
  set(i: number, j: number, v: number): void {
    this.data[i * this.cols + j] = v;
  }

  /** A deep copy. */
  clone(): Matrix {
    return new Matrix(this.rows, this.cols, this.data.slice());
  }

  /** The transpose (a new matrix). */
  transpose(): Matrix {
    const { rows: r, cols: c, data: a } = this;
    const t = new Matrix(c, r);
    const out = t.data;
    const B = 32;
    for (let i0 = 0; i0 < r; i0 += B) {
      const i1 = Math.min(i0 + B, r);
      for (let j0 = 0; j0 < c; j0 += B) {
        const j1 = Math.min(j0 + B, c);
        for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[j * r + i] = a[i * c + j] as number;
      }
    }
    return t;
  }

  /** Row i as a new Float64Array. */
  row(i: number): Float64Array {
    return this.data.slice(i * this.cols, (i + 1) * this.cols);
  }

  /** Column j as a new Float64Array. */
  col(j: number): Float64Array {
    const out = new Float64Array(this.rows);
    for (let i = 0; i < this.rows; i++) out[i] = this.data[i * this.cols + j] as number;
    return out;
  }

  /** The diagonal as a new Float64Array of length `min(rows, cols)`. */
  diagonal(): Float64Array {
    const n = Math.min(this.rows, this.cols);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.data[i * this.cols + i] as number;
    return out;
  }

  /** Rows `[r0, r1)` and columns `[c0, c1)` as a new matrix. */
  slice(r0: number, r1: number, c0 = 0, c1 = this.cols): Matrix {
    if (r0 < 0 || r1 > this.rows || r0 > r1 || c0 < 0 || c1 > this.cols || c0 > c1) {
      throw new BasisError(
        'INVALID_ARGUMENT',
        `slice [${r0}, ${r1}) x [${c0}, ${c1}) is outside a ${this.rows} x ${this.cols} matrix`,
      );
    }
    const out = new Matrix(r1 - r0, c1 - c0);
    for (let i = r0; i < r1; i++) {
      out.data.set(this.data.subarray(i * this.cols + c0, i * this.cols + c1), (i - r0) * (c1 - c0));
    }
    return out;
  }

  /** Nested number arrays (row-major). */
  toArray(): number[][] {
    const out: number[][] = [];
    for (let i = 0; i < this.rows; i++) out.push(Array.from(this.data.subarray(i * this.cols, (i + 1) * this.cols)));
    return out;
  }

  /** True when every entry is finite (no NaN, no ±Infinity). */
  isFinite(): boolean {
    const a = this.data;
    for (let k = 0; k < a.length; k++) if (!Number.isFinite(a[k])) return false;
    return true;
  }

  /** Fills every entry with `v` in place and returns this matrix. */
  fill(v: number): this {
    this.data.fill(v);
    return this;
  }
}

/** Anything basis accepts where a matrix is expected: a `Matrix` or nested rows. */
export type MatrixLike = Matrix | ReadonlyArray<NumericArrayLike>;

/** Converts a `MatrixLike` to a `Matrix` (no copy for a `Matrix`). */
export function asMatrix(m: MatrixLike): Matrix {
  return m instanceof Matrix ? m : Matrix.from(m);
}

/** Entries from which {@link assertFinite} screens with the native BLAS (below, the FFI call costs more than the loop). */
const NATIVE_SCREEN_MIN = 1 << 16;

/**
 * Validating front door shared by every numeric function: throws `NON_FINITE_INPUT` naming
 * the first offending entry.
 *
 * @example
 * ```ts
 * assertFinite(Matrix.from([[1, NaN]]), 'X'); // throws BasisError NON_FINITE_INPUT: X[0, 1] is NaN ...
 * ```
 */
export function assertFinite(m: Matrix, name = 'matrix'): void {
  const a = m.data;
  // Native screen for large matrices: one dgemv of column sums at memory speed; a NaN or Inf entry
  // makes its column's sum non-finite in any order, so finite sums prove every entry finite (an
  // overflow of finite entries falls through to the exact screen below)
  if (a.length >= NATIVE_SCREEN_MIN && a.length === m.rows * m.cols) {
    const sums = new Float64Array(m.cols);
    if (nativeGemv({ rows: m.rows, cols: m.cols, A: a, aOff: 0, lda: m.cols, trans: true, x: new Float64Array(m.rows).fill(1), y: sums })) {
      let finite = true;
      for (let j = 0; j < sums.length; j++) if (!Number.isFinite(sums[j] as number)) finite = false;
      if (finite) return;
    }
  }
  // Fast screen: x * 0 is 0 for every finite x and NaN for ±Inf and NaN, so the sum is NaN
  // exactly when some entry is not finite (four accumulators, no branch per entry).
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n4 = a.length - (a.length % 4);
  for (let k = 0; k < n4; k += 4) {
    s0 += (a[k] as number) * 0;
    s1 += (a[k + 1] as number) * 0;
    s2 += (a[k + 2] as number) * 0;
    s3 += (a[k + 3] as number) * 0;
  }
  for (let k = n4; k < a.length; k++) s0 += (a[k] as number) * 0;
  if (s0 + s1 + s2 + s3 === 0) return;
  for (let k = 0; k < a.length; k++) {
    const v = a[k] as number;
    if (!Number.isFinite(v)) {
      const i = Math.floor(k / Math.max(1, m.cols));
      const j = k - i * m.cols;
      throw new BasisError(
        'NON_FINITE_INPUT',
        `${name}[${i}, ${j}] is ${v}; remove or impute non-finite values before calling this function`,
        { details: { name, row: i, col: j, value: v } },
      );
    }
  }
}

/** Throws `TOO_SMALL` when the matrix has no entries. */
export function assertNonEmpty(m: Matrix, name = 'matrix'): void {
  if (m.rows === 0 || m.cols === 0) {
    throw new BasisError('TOO_SMALL', `${name} is empty (${m.rows} x ${m.cols})`);
  }
}

/** Throws `SHAPE_MISMATCH` unless the matrix is square. */
export function assertSquare(m: Matrix, name = 'matrix'): void {
  if (m.rows !== m.cols) {
    throw new BasisError('SHAPE_MISMATCH', `${name} must be square, got ${m.rows} x ${m.cols}`);
  }
}
