import { BasisError } from '../errors.js';
import { Matrix } from '../matrix.js';
import type { MatrixLike, NumericArrayLike } from '../matrix.js';
import { gemm, matmulData, matmulInto } from './gemm.js';
import { checkedMatrix, checkedVector } from './validate.js';

/**
 * Matrix product `A B` in float64: packed, cache-blocked panels and a register-tiled kernel
 * (WebAssembly SIMD when available, JavaScript otherwise); the summation order is fixed by the
 * shapes, so results are deterministic. An empty inner dimension gives zeros.
 *
 * `out` (optional): an `A.rows x B.cols` Matrix that receives the product (its previous contents
 * are overwritten, never read) and is returned, so that a loop of products of one shape allocates
 * nothing; the values are the same as without it. It must not share memory with A or B
 * (`INVALID_ARGUMENT`); a different shape is `SHAPE_MISMATCH`.
 *
 * @example
 * ```ts
 * matmul([[1, 2], [3, 4]], [[5], [6]]).toArray(); // [[17], [39]]
 * const C = new Matrix(2, 1);
 * matmul([[1, 2], [3, 4]], [[1], [1]], C); // C is [[3], [7]] (and is returned)
 * ```
 */
export function matmul(A: MatrixLike, B: MatrixLike, out?: Matrix): Matrix {
  const a = checkedMatrix(A, 'A', { allowEmpty: true });
  const b = checkedMatrix(B, 'B', { allowEmpty: true });
  if (out === undefined) return matmulOfFinite(a, b);
  checkInner(a, b);
  if (!(out instanceof Matrix)) throw new BasisError('INVALID_ARGUMENT', `matmul(A, B, out): out must be a Matrix, got ${out === null ? 'null' : typeof out}`);
  if (out.rows !== a.rows || out.cols !== b.cols || out.data.length !== a.rows * b.cols) {
    throw new BasisError('SHAPE_MISMATCH', `matmul(A, B, out) needs out to be ${a.rows} x ${b.cols} (A.rows x B.cols), got ${out.rows} x ${out.cols}`);
  }
  if (overlaps(out.data, a.data) || overlaps(out.data, b.data)) {
    throw new BasisError('INVALID_ARGUMENT', 'matmul(A, B, out): out shares memory with A or B; pass a separate output matrix');
  }
  matmulInto(out.data, a.data, b.data, a.rows, a.cols, b.cols);
  return out;
}

/** True when two typed arrays view overlapping bytes of one buffer. */
function overlaps(x: Float64Array, y: Float64Array): boolean {
  if (x.buffer !== y.buffer || x.byteLength === 0 || y.byteLength === 0) return false;
  return x.byteOffset < y.byteOffset + y.byteLength && y.byteOffset < x.byteOffset + x.byteLength;
}

/**
 * Cross product `Xᵀ Y` of two matrices with the same rows (e.g. N samples x features): the
 * `X.cols x Y.cols` matrix of column dot products, accumulated over row blocks of X and Y read in
 * place (packed panels, no transposed copy).
 *
 * @example
 * ```ts
 * crossprod([[1, 2], [3, 4]], [[1], [1]]).toArray(); // [[4], [6]]
 * ```
 */
export function crossprod(X: MatrixLike, Y: MatrixLike): Matrix {
  return crossprodOfFinite(checkedMatrix(X, 'X', { allowEmpty: true }), checkedMatrix(Y, 'Y', { allowEmpty: true }));
}

/** SHAPE_MISMATCH unless `A.cols === B.rows`. */
function checkInner(a: Matrix, b: Matrix): void {
  if (a.cols !== b.rows) {
    throw new BasisError(
      'SHAPE_MISMATCH',
      `matmul(A, B) needs A.cols === B.rows, got A ${a.rows} x ${a.cols} and B ${b.rows} x ${b.cols}`,
    );
  }
}

/**
 * {@link matmul} of two Matrix values whose entries the caller has proven finite: the shapes are
 * checked, the finiteness screen (for a large operand one more read of it) is skipped. Internal to
 * basis' packages (`@basis/tensor/internal`), not on the package's face.
 *
 * @example
 * ```ts
 * matmulOfFinite(Matrix.from([[1, 2]]), Matrix.from([[3], [4]])).toArray(); // [[11]]
 * ```
 */
export function matmulOfFinite(a: Matrix, b: Matrix): Matrix {
  checkInner(a, b);
  return new Matrix(a.rows, b.cols, matmulData(a.data, b.data, a.rows, a.cols, b.cols));
}

/**
 * {@link crossprod} of two Matrix values whose entries the caller has proven finite: the shapes
 * are checked, the finiteness screen (for a large operand one more read of it) is skipped.
 * Internal to basis' packages (`@basis/tensor/internal`), not on the package's face.
 *
 * @example
 * ```ts
 * crossprodOfFinite(Matrix.from([[1, 2], [3, 4]]), Matrix.from([[1], [1]])).toArray(); // [[4], [6]]
 * ```
 */
export function crossprodOfFinite(x: Matrix, y: Matrix): Matrix {
  if (x.rows !== y.rows) {
    throw new BasisError(
      'SHAPE_MISMATCH',
      `crossprod(X, Y) needs the same number of rows, got X ${x.rows} x ${x.cols} and Y ${y.rows} x ${y.cols}`,
    );
  }
  const out = new Matrix(x.cols, y.cols);
  gemm(out.data, x.cols, y.cols, x.rows, x.data, true, y.data, false);
  return out;
}

/**
 * Gram matrix `Xᵀ X` (`X.cols x X.cols`, exactly symmetric: only the upper half is computed and
 * then mirrored).
 *
 * @example
 * ```ts
 * gram([[1, 2], [3, 4]]).toArray(); // [[10, 14], [14, 20]]
 * ```
 */
export function gram(X: MatrixLike): Matrix {
  const x = checkedMatrix(X, 'X', { allowEmpty: true });
  const p = x.cols;
  const out = new Matrix(p, p);
  gemm(out.data, p, p, x.rows, x.data, true, x.data, false, true);
  return out;
}

/**
 * Matrix-vector product `A x` as a new Float64Array of length `A.rows`.
 *
 * @example
 * ```ts
 * matvec([[1, 2], [3, 4]], [1, 1]); // Float64Array [3, 7]
 * ```
 */
export function matvec(A: MatrixLike, x: NumericArrayLike): Float64Array {
  const a = checkedMatrix(A, 'A', { allowEmpty: true });
  const v = checkedVector(x, 'x');
  if (v.length !== a.cols) {
    throw new BasisError('SHAPE_MISMATCH', `matvec(A, x) needs x.length === A.cols, got ${v.length} and ${a.rows} x ${a.cols}`);
  }
  const out = new Float64Array(a.rows);
  const d = a.data;
  const c = a.cols;
  for (let i = 0; i < a.rows; i++) {
    let s = 0;
    const r = i * c;
    for (let j = 0; j < c; j++) s += (d[r + j] as number) * (v[j] as number);
    out[i] = s;
  }
  return out;
}

function sameShape(a: Matrix, b: Matrix, op: string): void {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new BasisError('SHAPE_MISMATCH', `${op} needs equal shapes, got ${a.rows} x ${a.cols} and ${b.rows} x ${b.cols}`);
  }
}

/**
 * Entry-wise sum `A + B` (equal shapes).
 *
 * @example
 * ```ts
 * add([[1, 2]], [[3, 4]]).toArray(); // [[4, 6]]
 * ```
 */
export function add(A: MatrixLike, B: MatrixLike): Matrix {
  const a = checkedMatrix(A, 'A', { allowEmpty: true });
  const b = checkedMatrix(B, 'B', { allowEmpty: true });
  sameShape(a, b, 'add(A, B)');
  const out = new Matrix(a.rows, a.cols);
  for (let k = 0; k < out.data.length; k++) out.data[k] = (a.data[k] as number) + (b.data[k] as number);
  return out;
}

/**
 * Entry-wise difference `A - B` (equal shapes).
 *
 * @example
 * ```ts
 * sub([[3, 4]], [[1, 2]]).toArray(); // [[2, 2]]
 * ```
 */
export function sub(A: MatrixLike, B: MatrixLike): Matrix {
  const a = checkedMatrix(A, 'A', { allowEmpty: true });
  const b = checkedMatrix(B, 'B', { allowEmpty: true });
  sameShape(a, b, 'sub(A, B)');
  const out = new Matrix(a.rows, a.cols);
  for (let k = 0; k < out.data.length; k++) out.data[k] = (a.data[k] as number) - (b.data[k] as number);
  return out;
}

/**
 * Scalar multiple `alpha A` (alpha must be finite).
 *
 * @example
 * ```ts
 * scale([[1, -2]], 3).toArray(); // [[3, -6]]
 * ```
 */
export function scale(A: MatrixLike, alpha: number): Matrix {
  const a = checkedMatrix(A, 'A', { allowEmpty: true });
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) {
    throw new BasisError('NON_FINITE_INPUT', `scale factor must be a finite number, got ${String(alpha)}`);
  }
  const out = new Matrix(a.rows, a.cols);
  for (let k = 0; k < out.data.length; k++) out.data[k] = alpha * (a.data[k] as number);
  return out;
}

/**
 * Frobenius norm `sqrt(sum A_ij^2)`, computed with scaling so that it neither overflows nor
 * underflows. 0 for an empty matrix.
 *
 * @example
 * ```ts
 * frobeniusNorm([[3, 4]]); // 5
 * ```
 */
export function frobeniusNorm(A: MatrixLike): number {
  const a = checkedMatrix(A, 'A', { allowEmpty: true });
  return frobeniusData(a.data);
}

/** Scaled Frobenius norm of a raw array (internal). */
export function frobeniusData(d: Float64Array): number {
  let mx = 0;
  for (let k = 0; k < d.length; k++) {
    const v = Math.abs(d[k] as number);
    if (v > mx) mx = v;
  }
  if (mx === 0) return 0;
  let s = 0;
  for (let k = 0; k < d.length; k++) {
    const v = (d[k] as number) / mx;
    s += v * v;
  }
  return mx * Math.sqrt(s);
}

/**
 * Trace (sum of the diagonal) of a square matrix.
 *
 * @example
 * ```ts
 * trace([[1, 2], [3, 4]]); // 5
 * ```
 */
export function trace(A: MatrixLike): number {
  const a = checkedMatrix(A, 'A', { allowEmpty: true });
  if (a.rows !== a.cols) throw new BasisError('SHAPE_MISMATCH', `trace needs a square matrix, got ${a.rows} x ${a.cols}`);
  let s = 0;
  for (let i = 0; i < a.rows; i++) s += a.data[i * a.cols + i] as number;
  return s;
}
