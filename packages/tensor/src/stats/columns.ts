import { BasisError } from '../errors.js';
import { crossprod } from '../linalg/basic.js';
import { Matrix, assertFinite, asMatrix, type MatrixLike } from '../matrix.js';
import { wasmColumnSumsSquares } from '../linalg/wasm-kernels.js';
import { shiftedColumnSums } from './sums.js';

function shape(X: MatrixLike, name: string, minRows: number): Matrix {
  const m = asMatrix(X);
  if (m.rows < minRows || m.cols === 0) {
    throw new BasisError('TOO_SMALL', `${name} needs at least ${minRows} row(s) and one column, got ${m.rows} x ${m.cols}`);
  }
  return m;
}

function checked(X: MatrixLike, name: string, minRows: number): Matrix {
  const m = shape(X, name, minRows);
  assertFinite(m, name);
  return m;
}

/** 2^k for integer k in [-1074, 1023], exactly (`2 ** k` is exact too, this keeps it explicit). */
const pow2 = (k: number): number => 2 ** k;

/**
 * Sums of squares below this (or not finite) are recomputed with a power-of-two scale: squares of
 * entries under about 2^-485 lose bits to underflow and above 2^511 they overflow.
 */
const TINY_SQUARES = 2 ** -970;

/**
 * Per-column Euclidean norms of `a` (n x d, row-major), free of overflow and underflow: columns
 * whose plain sum of squares `plain[j]` is not finite, tiny or zero are summed again with their own
 * exact power-of-two scale.
 */
function safeNorms(a: Float64Array, n: number, d: number, plain: Float64Array): Float64Array {
  const norms = new Float64Array(d);
  const redo: number[] = [];
  for (let j = 0; j < d; j++) {
    const s = plain[j] as number;
    // 0 may be an all-zero column or squares that underflowed: both are checked below
    if (Number.isFinite(s) && s >= TINY_SQUARES) norms[j] = Math.sqrt(s);
    else redo.push(j);
  }
  if (redo.length === 0) return norms;
  // largest magnitude of each extreme column, then its sum of squares scaled by an exact power of
  // two, so that only the final sqrt rounds (one read pass each, row by row)
  const w = redo.length;
  const mx = new Float64Array(w);
  for (let i = 0; i < n; i++) {
    const r = i * d;
    for (let k = 0; k < w; k++) {
      const j = redo[k] as number;
      const v = Math.abs(a[r + j] as number);
      if (!(v <= (mx[k] as number))) mx[k] = v; // NaN and Infinity are kept, and refused below
    }
  }
  for (let k = 0; k < w; k++) {
    if (!Number.isFinite(mx[k] as number)) {
      throw new BasisError(
        'INVALID_ARGUMENT',
        `column ${redo[k] as number} holds values beyond the float64 range after centring (differences of entries near ±1.8e308); divide the data by a power of two first`,
      );
    }
  }
  const ex = new Float64Array(w);
  const down = new Float64Array(w);
  for (let k = 0; k < w; k++) {
    const e = mx[k] === 0 ? 0 : Math.max(-1022, Math.min(1023, Math.floor(Math.log2(mx[k] as number))));
    ex[k] = e;
    down[k] = pow2(-e);
  }
  const t = new Float64Array(w);
  for (let i = 0; i < n; i++) {
    const r = i * d;
    for (let k = 0; k < w; k++) {
      const j = redo[k] as number;
      const v = (a[r + j] as number) * (down[k] as number);
      t[k] = (t[k] as number) + v * v;
    }
  }
  for (let k = 0; k < w; k++) norms[redo[k] as number] = mx[k] === 0 ? 0 : Math.sqrt(t[k] as number) * pow2(ex[k] as number);
  return norms;
}

/**
 * Column sums and sums of squares of X in one pass over its rows (four at a time: sequential reads,
 * a quarter of the accumulator traffic; the order of the additions is fixed, so results are
 * deterministic), on a WebAssembly SIMD kernel where WebAssembly is available (same values bit for
 * bit as the JavaScript loop it replaces). No finiteness check: a NaN or Inf entry makes its column's sums non-finite (and
 * a finite column sum proves every entry of the column finite), which callers use as a cheap check.
 *
 * @example
 * ```ts
 * const { sums, squares } = columnSumsAndSquares(Matrix.from([[1, 2], [3, 4]]));
 * sums; // Float64Array [4, 6]
 * squares; // Float64Array [10, 20]
 * ```
 */
export function columnSumsAndSquares(X: MatrixLike): { sums: Float64Array; squares: Float64Array } {
  const { rows: n, cols: d, data: a } = asMatrix(X);
  const s = new Float64Array(d);
  const q = new Float64Array(d);
  const n4 = n - (n % 4);
  // the groups of four rows on the WebAssembly SIMD kernel (two columns per step, each column in
  // this loop's order: the same sums bit for bit), else in JavaScript
  const done = wasmColumnSumsSquares(a, n4 / 4, d, s, q);
  for (let i = 0; !done && i < n4; i += 4) {
    const r0 = i * d;
    const r1 = r0 + d;
    const r2 = r1 + d;
    const r3 = r2 + d;
    for (let j = 0; j < d; j++) {
      const v0 = a[r0 + j] as number;
      const v1 = a[r1 + j] as number;
      const v2 = a[r2 + j] as number;
      const v3 = a[r3 + j] as number;
      s[j] = (s[j] as number) + ((v0 + v1) + (v2 + v3));
      q[j] = (q[j] as number) + ((v0 * v0 + v1 * v1) + (v2 * v2 + v3 * v3));
    }
  }
  for (let i = n4; i < n; i++) {
    const r = i * d;
    for (let j = 0; j < d; j++) {
      const v = a[r + j] as number;
      s[j] = (s[j] as number) + v;
      q[j] = (q[j] as number) + v * v;
    }
  }
  return { sums: s, squares: q };
}

/**
 * Column sums of `a` (n x d, row-major) walking rows, so that reads are sequential; each column sums
 * over i in ascending order. A non-finite sum means a non-finite entry or an overflow: the first
 * throws NON_FINITE_INPUT (via {@link assertFinite}), the second sums again scaled by an exact power
 * of two and returns the means directly.
 */
function meansOf(m: Matrix, name: string): Float64Array {
  const { rows: n, cols: d, data: a } = m;
  const mean = shiftedColumnSums(a, n, d);
  let finite = true;
  for (let j = 0; j < d; j++) if (!Number.isFinite(mean[j] as number)) finite = false;
  if (!finite) {
    assertFinite(m, name); // throws on NaN/Inf entries; otherwise the sums overflowed
    let mx = 0;
    for (let k = 0; k < a.length; k++) {
      const v = Math.abs(a[k] as number);
      if (v > mx) mx = v;
    }
    const e = Math.floor(Math.log2(mx));
    const down = pow2(-e);
    mean.fill(0);
    for (let i = 0; i < n; i++) {
      const r = i * d;
      for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (a[r + j] as number) * down;
    }
    const up = pow2(e);
    for (let j = 0; j < d; j++) mean[j] = ((mean[j] as number) / n) * up;
    return mean;
  }
  for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) / n;
  return mean;
}

/** Means with a second pass that corrects the rounding of the first; entries checked finite on the way. */
function correctedMeans(m: Matrix, name: string): Float64Array {
  const { rows: n, cols: d, data: a } = m;
  const mean = meansOf(m, name);
  const corr = shiftedColumnSums(a, n, d, mean);
  let finite = true;
  for (let j = 0; j < d; j++) if (!Number.isFinite(corr[j] as number)) finite = false;
  if (!finite) {
    // entries near the float64 limit: the deviations overflow when summed; sum them scaled by an
    // exact power of two (the correction is tiny, so its own rounding does not matter)
    let mx = 0;
    for (let k = 0; k < a.length; k++) mx = Math.max(mx, Math.abs(a[k] as number));
    const e = Math.floor(Math.log2(mx));
    const down = pow2(-e);
    const c = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const r = i * d;
      for (let j = 0; j < d; j++) c[j] = (c[j] as number) + ((a[r + j] as number) * down - (mean[j] as number) * down);
    }
    for (let j = 0; j < d; j++) corr[j] = ((c[j] as number) / n) * pow2(e) * n;
  }
  for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (corr[j] as number) / n;
  return mean;
}

/** Column means over the rows, with a second pass that corrects the rounding of the first. */
export function columnMeans(X: MatrixLike): Float64Array {
  return correctedMeans(shape(X, 'X', 1), 'X');
}

/**
 * Subtracts each column's mean over the rows (spec P1) and returns the means too, so that held-out
 * data can be centred with training means ({@link applyCentering}), and the Euclidean norms of the
 * centred columns (of the returned entries exactly, overflow- and underflow-safe; summed in the
 * pass that writes them, so they cost nothing extra). Three passes over X in all.
 *
 * @example
 * ```ts
 * const { centred, means, norms } = center(Matrix.from([[1, 2], [3, 6]]));
 * means; // Float64Array [2, 4]
 * centred.toArray(); // [[-1, -2], [1, 2]]
 * norms; // Float64Array [sqrt(2), sqrt(8)]
 * ```
 */
export function center(X: MatrixLike): { centred: Matrix; means: Float64Array; norms: Float64Array } {
  const m = shape(X, 'X', 1);
  const means = correctedMeans(m, 'X');
  const { rows: n, cols: d, data: a } = m;
  const out = new Matrix(n, d);
  const o = out.data;
  const sq = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const r = i * d;
    for (let j = 0; j < d; j++) {
      const v = (a[r + j] as number) - (means[j] as number);
      o[r + j] = v;
      sq[j] = (sq[j] as number) + v * v;
    }
  }
  return { centred: out, means, norms: safeNorms(o, n, d, sq) };
}

function subtractMeans(m: Matrix, means: ArrayLike<number>): Matrix {
  const { rows: n, cols: d, data: a } = m;
  const out = new Matrix(n, d);
  const o = out.data;
  for (let i = 0; i < n; i++) {
    const r = i * d;
    for (let j = 0; j < d; j++) o[r + j] = (a[r + j] as number) - (means[j] as number);
  }
  return out;
}

/** `X - 1 meansᵀ` for given means (e.g. training means applied to test rows). */
export function applyCentering(X: MatrixLike, means: ArrayLike<number>): Matrix {
  const m = checked(X, 'X', 0);
  if (means.length !== m.cols) {
    throw new BasisError('SHAPE_MISMATCH', `X has ${m.cols} columns but ${means.length} means were given`);
  }
  for (let j = 0; j < means.length; j++) {
    if (!Number.isFinite(means[j] as number)) throw new BasisError('NON_FINITE_INPUT', `means[${j}] is ${means[j]}`);
  }
  return subtractMeans(m, means);
}

/**
 * Euclidean norms of the columns of X, free of overflow and underflow (columns with extreme
 * entries are summed again with an exact power-of-two scale). NON_FINITE_INPUT for NaN/Inf.
 *
 * @example
 * ```ts
 * columnNorms(Matrix.from([[3, 1e300], [4, 1e300]])); // Float64Array [5, 1.414...e300]
 * ```
 */
export function columnNorms(X: MatrixLike): Float64Array {
  const m = shape(X, 'X', 1);
  const { rows: n, cols: d, data: a } = m;
  const sq = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const r = i * d;
    for (let j = 0; j < d; j++) {
      const v = a[r + j] as number;
      sq[j] = (sq[j] as number) + v * v;
    }
  }
  for (let j = 0; j < d; j++) if (Number.isNaN(sq[j] as number)) assertFinite(m, 'X');
  for (let j = 0; j < d; j++) if (sq[j] === Infinity) assertFinite(m, 'X'); // an Inf entry, or else an overflow (rescaled below)
  return safeNorms(a, n, d, sq);
}

/** What {@link normalizeColumns} does with a column whose norm is exactly zero. */
export type ZeroColumnPolicy = 'keep-zero' | 'drop' | 'error';

/**
 * Divides each column by its Euclidean norm (spec P2). A zero column (norm exactly 0) is kept as
 * zeros (`'keep-zero'`, default), removed (`'drop'`; `kept` lists the surviving column indices),
 * or rejected (`'error'`, a `RANK_DEFICIENT` BasisError naming the columns).
 *
 * @example
 * ```ts
 * normalizeColumns(Matrix.from([[3, 0], [4, 0]])); // columns [0.6, 0.8] and [0, 0]; zeroColumns [1]
 * ```
 */
export function normalizeColumns(
  X: MatrixLike,
  opts: { zeroPolicy?: ZeroColumnPolicy } = {},
): { normalized: Matrix; norms: Float64Array; zeroColumns: number[]; kept: number[] } {
  const m = shape(X, 'X', 1);
  const policy = opts.zeroPolicy ?? 'keep-zero';
  if (policy !== 'keep-zero' && policy !== 'drop' && policy !== 'error') {
    throw new BasisError('INVALID_ARGUMENT', `zeroPolicy must be 'keep-zero', 'drop' or 'error', got '${String(policy)}'`);
  }
  const { rows: n, cols: d, data: a } = m;
  const norms = columnNorms(m);
  const zeroColumns: number[] = [];
  for (let j = 0; j < d; j++) if (norms[j] === 0) zeroColumns.push(j);
  if (policy === 'error' && zeroColumns.length > 0) {
    throw new BasisError('RANK_DEFICIENT', `column(s) ${zeroColumns.join(', ')} of X are all zero and cannot be normalised`);
  }
  const kept = policy === 'drop' ? [...Array(d).keys()].filter((j) => norms[j] !== 0) : [...Array(d).keys()];
  const out = new Matrix(n, kept.length);
  const o = out.data;
  // a zero column divides by 1 (its entries are all 0, so it stays zero)
  const div = new Float64Array(d);
  for (let j = 0; j < d; j++) div[j] = norms[j] === 0 ? 1 : (norms[j] as number);
  if (kept.length === d) {
    for (let i = 0; i < n; i++) {
      const r = i * d;
      for (let j = 0; j < d; j++) o[r + j] = (a[r + j] as number) / (div[j] as number);
    }
  } else {
    const w = kept.length;
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < w; c++) {
        const j = kept[c] as number;
        o[i * w + c] = (a[i * d + j] as number) / (div[j] as number);
      }
    }
  }
  return { normalized: out, norms, zeroColumns, kept };
}

/**
 * Pearson correlations between the columns of X (N x dx) and of Y (N x dy): the dx x dy matrix
 * `unit(Xc)ᵀ unit(Yc)` (spec P8). A zero-variance column correlates 0 with everything (default) or
 * NaN (`zeroVariance: 'nan'`, explicit opt-in); the zero-variance columns are reported.
 *
 * @example
 * ```ts
 * corrMatrix(X, Y).corr.get(0, 0); // correlation of X's unit 0 with Y's unit 0
 * ```
 */
export function corrMatrix(
  X: MatrixLike,
  Y: MatrixLike,
  opts: { zeroVariance?: 'zero' | 'nan' } = {},
): { corr: Matrix; zeroVarianceX: number[]; zeroVarianceY: number[] } {
  const x = shape(X, 'X', 2);
  const y = shape(Y, 'Y', 2);
  if (x.rows !== y.rows) {
    throw new BasisError('SHAPE_MISMATCH', `X has ${x.rows} rows but Y has ${y.rows}; correlations need the same inputs`);
  }
  const zv = opts.zeroVariance ?? 'zero';
  if (zv !== 'zero' && zv !== 'nan') throw new BasisError('INVALID_ARGUMENT', `zeroVariance must be 'zero' or 'nan', got '${String(zv)}'`);
  const cx = center(x);
  const cy = center(y);
  const corr = correlationsOfCentred(cx.centred, cx.norms, cy.centred, cy.norms);
  const zeroVarianceX: number[] = [];
  const zeroVarianceY: number[] = [];
  for (let i = 0; i < x.cols; i++) if (cx.norms[i] === 0) zeroVarianceX.push(i);
  for (let j = 0; j < y.cols; j++) if (cy.norms[j] === 0) zeroVarianceY.push(j);
  if (zv === 'nan') {
    for (const i of zeroVarianceX) for (let j = 0; j < y.cols; j++) corr.set(i, j, NaN);
    for (const j of zeroVarianceY) for (let i = 0; i < x.cols; i++) corr.set(i, j, NaN);
  }
  return { corr, zeroVarianceX, zeroVarianceY };
}

/**
 * `C[i, j] / (normsX[i] normsY[j])`, clamped to [-1, 1], 0 where either norm is 0: correlations from
 * a centred cross product `Xcᵀ Yc` (not modified; a new matrix is returned) and the centred column
 * norms, however they were obtained. Dividing twice (never by the product) keeps tiny and huge
 * norms from overflowing.
 *
 * @example
 * ```ts
 * correlationsFromCross(Matrix.from([[2, -1]]), Float64Array.of(2), Float64Array.of(1, 4)).toArray(); // [[1, -0.125]]
 * ```
 */
export function correlationsFromCross(C: Matrix, normsX: Float64Array, normsY: Float64Array): Matrix {
  if (C.rows !== normsX.length || C.cols !== normsY.length) {
    throw new BasisError('SHAPE_MISMATCH', `correlationsFromCross: ${normsX.length} and ${normsY.length} norms for a ${C.rows} x ${C.cols} product`);
  }
  const out = C.clone();
  const dy = C.cols;
  const c = out.data;
  for (let i = 0; i < C.rows; i++) {
    const ni = normsX[i] as number;
    for (let j = 0; j < dy; j++) {
      const nj = normsY[j] as number;
      const k = i * dy + j;
      c[k] = ni === 0 || nj === 0 ? 0 : Math.max(-1, Math.min(1, (c[k] as number) / ni / nj));
    }
  }
  return out;
}

/**
 * The dx x dy Pearson matrix of centred data from its column norms (as {@link center} returns them):
 * `Xcᵀ Yc` divided by `norms_x[i] norms_y[j]`, clamped to [-1, 1], 0 where either column is
 * constant. The N x d unit-norm copies are only formed when the products could overflow or lose
 * bits to underflow (column norms beyond about 2^±450); otherwise one product on the engine does it,
 * or none when `cross` (`Xcᵀ Yc`, already formed; not modified) is given.
 *
 * @example
 * ```ts
 * const cx = center(X), cy = center(Y);
 * const C = correlationsOfCentred(cx.centred, cx.norms, cy.centred, cy.norms);
 * ```
 */
export function correlationsOfCentred(Xc: Matrix, normsX: Float64Array, Yc: Matrix, normsY: Float64Array, cross?: Matrix): Matrix {
  if (Xc.rows !== Yc.rows) throw new BasisError('SHAPE_MISMATCH', `X has ${Xc.rows} rows but Y has ${Yc.rows}; correlations need the same inputs`);
  if (normsX.length !== Xc.cols || normsY.length !== Yc.cols) {
    throw new BasisError('SHAPE_MISMATCH', `correlationsOfCentred: ${normsX.length} and ${normsY.length} norms for ${Xc.cols} and ${Yc.cols} columns`);
  }
  const range = (v: Float64Array): [number, number] => {
    let lo = Infinity;
    let hi = 0;
    for (let k = 0; k < v.length; k++) {
      const t = v[k] as number;
      if (t > 0 && t < lo) lo = t;
      if (t > hi) hi = t;
    }
    return [lo, hi];
  };
  const [lx, hx] = range(normsX);
  const [ly, hy] = range(normsY);
  const safe = hx === 0 || hy === 0 || (hx * hy < 2 ** 1000 && lx * ly > 2 ** -900);
  let C: Matrix;
  if (cross !== undefined && (cross.rows !== Xc.cols || cross.cols !== Yc.cols)) {
    throw new BasisError('SHAPE_MISMATCH', `correlationsOfCentred: cross is ${cross.rows} x ${cross.cols}, expected ${Xc.cols} x ${Yc.cols}`);
  }
  if (safe) {
    C = correlationsFromCross(cross ?? crossprod(Xc, Yc), normsX, normsY);
  } else {
    // extreme column scales: unit-norm copies first (every entry then lies in [-1, 1])
    C = crossprod(normalizeColumns(Xc).normalized, normalizeColumns(Yc).normalized);
    for (let k = 0; k < C.data.length; k++) C.data[k] = Math.max(-1, Math.min(1, C.data[k] as number));
  }
  return C;
}

/** Pearson correlation of two equal-length vectors; 0 if either has zero variance. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new BasisError('SHAPE_MISMATCH', `pearson: lengths ${a.length} and ${b.length} differ`);
  if (a.length < 2) throw new BasisError('TOO_SMALL', `pearson needs at least 2 values, got ${a.length}`);
  return corrMatrix(Matrix.fromArray(a.length, 1, a), Matrix.fromArray(b.length, 1, b)).corr.get(0, 0);
}
