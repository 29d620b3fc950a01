// Internal front-door helpers shared by the linalg functions (not exported from the package).
import { nativeMaxAbs } from '../engine/blas.js';
import { float64Buffer } from '../memory.js';
import { BasisError } from '../errors.js';
import { show } from '../validation.js';
import { Matrix, asMatrix, assertFinite, assertNonEmpty, assertSquare } from '../matrix.js';
import type { MatrixLike, NumericArrayLike } from '../matrix.js';

/** Machine epsilon of float64, 2^-52 (the fixtures' rank-tolerance unit). */
export const EPS = 2 ** -52;

/** Converts, then checks that the matrix is finite (NON_FINITE_INPUT) and non-empty (TOO_SMALL). */
export function checkedMatrix(m: MatrixLike, name: string, opts: { allowEmpty?: boolean } = {}): Matrix {
  if (!(m instanceof Matrix) && !Array.isArray(m)) {
    throw new BasisError('INVALID_ARGUMENT', `${name} must be a Matrix or nested rows, got ${typeof m}`);
  }
  const a = asMatrix(m);
  if (opts.allowEmpty !== true) assertNonEmpty(a, name);
  assertFinite(a, name);
  return a;
}

/** `checkedMatrix` plus SHAPE_MISMATCH unless square. */
export function checkedSquare(m: MatrixLike, name: string): Matrix {
  const a = checkedMatrix(m, name);
  assertSquare(a, name);
  return a;
}

/** A right-hand side: a matrix, or a vector (treated as one column; `vector` is then true). */
export function checkedRhs(b: MatrixLike | NumericArrayLike, name: string): { mat: Matrix; vector: boolean } {
  if (b instanceof Matrix) return { mat: checkedMatrix(b, name), vector: false };
  const arr = b as ArrayLike<unknown>;
  if (arr === null || typeof arr !== 'object' || typeof arr.length !== 'number') {
    throw new BasisError('INVALID_ARGUMENT', `${name} must be a Matrix, nested rows or a vector`);
  }
  if (arr.length > 0 && typeof arr[0] === 'number') {
    const mat = Matrix.column(b as NumericArrayLike);
    assertNonEmpty(mat, name);
    assertFinite(mat, name);
    return { mat, vector: true };
  }
  return { mat: checkedMatrix(b as MatrixLike, name), vector: false };
}

/** Validates a finite vector argument (array or typed array) and copies it to a Float64Array. */
export function checkedVector(x: NumericArrayLike, name: string): Float64Array {
  if (x === null || typeof x !== 'object' || typeof x.length !== 'number') {
    throw new BasisError('INVALID_ARGUMENT', `${name} must be an array of numbers`);
  }
  const out = Float64Array.from(x);
  for (let i = 0; i < out.length; i++) {
    const v = out[i] as number;
    if (!Number.isFinite(v)) {
      throw new BasisError('NON_FINITE_INPUT', `${name}[${i}] is ${v}; remove or impute non-finite values`, {
        details: { name, index: i, value: v },
      });
    }
  }
  return out;
}

/** Throws INVALID_ARGUMENT unless `v` is undefined or a finite number satisfying `ok`. */
export function checkOption(v: unknown, name: string, ok: (x: number) => boolean, what: string): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) {
    throw new BasisError('INVALID_ARGUMENT', `option ${name} must be ${what}, got ${show(v)}`);
  }
}

/** Entries from which {@link maxAbs} asks the native BLAS (`idamax`). */
const NATIVE_MAX_MIN = 1 << 15;

/** Largest absolute entry (the native BLAS's `idamax` for long arrays when the engine has one). */
export function maxAbs(a: Float64Array): number {
  if (a.length >= NATIVE_MAX_MIN) {
    const r = nativeMaxAbs(a);
    if (r !== null) return r;
  }
  let m = 0;
  for (let k = 0; k < a.length; k++) {
    const v = Math.abs(a[k] as number);
    if (v > m) m = v;
  }
  return m;
}

/**
 * Symmetry check used by eigh / cholesky / matrix functions: accepts a relative asymmetry
 * `max|S_ij - S_ji| <= tol * max|S|` and returns the symmetrised copy `(S + Sᵀ)/2`;
 * larger asymmetry is an INVALID_ARGUMENT naming the worst pair.
 */
export function symmetrised(s: Matrix, name: string, tol: number): Float64Array {
  return symmetrisedMax(s, name, tol).data;
}

/**
 * {@link symmetrised}, also returning the largest |entry| of the copy, written into `out` when
 * given (length n²). One pass over the input: the asymmetry, max|S| and max|copy| are found
 * while copying.
 */
export function symmetrisedMax(s: Matrix, name: string, tol: number, out?: Float64Array): { data: Float64Array; maxOut: number } {
  const n = s.rows;
  const a = s.data;
  const data = out ?? float64Buffer(n * n);
  let maxIn = 0;
  let worst = 0;
  let wi = 0;
  let wj = 0;
  // 32 x 32 tiles (row i0.. of the lower triangle against column block j0..): the transposed
  // reads stay in cache. Same arithmetic per entry as an untiled loop; the worst pair is the
  // first in (i, j) order on ties, as an untiled loop would report it.
  const T = 32;
  for (let i = 0; i < n; i++) {
    const x = a[i * n + i] as number;
    data[i * n + i] = x;
    const ax = Math.abs(x);
    if (ax > maxIn) maxIn = ax;
  }
  let maxOut = maxIn;
  for (let i0 = 0; i0 < n; i0 += T) {
    const i1 = Math.min(i0 + T, n);
    for (let j0 = 0; j0 <= i0; j0 += T) {
      for (let i = i0; i < i1; i++) {
        const j1 = Math.min(j0 + T, i);
        const ri = i * n;
        for (let j = j0; j < j1; j++) {
          const x = a[ri + j] as number;
          const y = a[j * n + i] as number;
          const d = Math.abs(x - y);
          if (d >= worst && d > 0 && (d > worst || i < wi || (i === wi && j < wj))) {
            worst = d;
            wi = i;
            wj = j;
          }
          const ax = Math.abs(x);
          const ay = Math.abs(y);
          if (ax > maxIn) maxIn = ax;
          if (ay > maxIn) maxIn = ay;
          const v = 0.5 * x + 0.5 * y;
          const av = Math.abs(v);
          if (av > maxOut) maxOut = av;
          data[ri + j] = v;
          data[j * n + i] = v;
        }
      }
    }
  }
  const scale = maxIn;
  if (worst > tol * scale) {
    throw new BasisError(
      'INVALID_ARGUMENT',
      `${name} is not symmetric: |${name}[${wi}, ${wj}] - ${name}[${wj}, ${wi}]| = ${worst} exceeds ` +
        `${tol} * max|${name}| = ${tol * scale}; pass a symmetric matrix (e.g. (S + Sᵀ)/2) or raise symmetryTol`,
      { details: { name, row: wi, col: wj, asymmetry: worst } },
    );
  }
  return { data, maxOut };
}

/** Default relative symmetry tolerance. */
export const DEFAULT_SYMMETRY_TOL = 1e-8;

/**
 * A power of two close to `m` (> 0), clamped to [2^-1000, 2^1000]: scaling by it is exact, so
 * decompositions of well-scaled inputs (e.g. diagonal ones) return exact values.
 */
export function pow2Near(m: number): number {
  const e = Math.max(-1000, Math.min(1000, Math.floor(Math.log2(m))));
  return 2 ** e;
}

/**
 * A copy scaled by an exact power of two to a largest entry of order 1, and that power
 * (`data * scale` is the input exactly). Scale-invariant computations on it cannot overflow or
 * underflow for inputs of any finite scale.
 *
 * @example
 * ```ts
 * pow2ScaledCopy(Float64Array.of(3e300, -1e300)); // { data: [~1.33, ~-0.44], scale: 2^997 }
 * ```
 */
export function pow2ScaledCopy(src: Float64Array): { data: Float64Array; scale: number } {
  const top = maxAbs(src);
  const scale = top === 0 ? 1 : pow2Near(top);
  const data = float64Buffer(src.length);
  // x * (1 / scale) is x / scale exactly (1 / scale is a power of two, so both are the correctly
  // rounded quotient), and one pass instead of a copy and a division pass
  const inv = 1 / scale;
  for (let k = 0; k < data.length; k++) data[k] = (src[k] as number) * inv;
  return { data, scale };
}
