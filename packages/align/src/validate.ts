import { BasisError, Matrix, assertFinite } from '@basis/tensor';
import { cached } from './prep.js';

/**
 * The front door of every metric: X and Y are N x dx and N x dy matrices over the same N inputs.
 * Throws `SHAPE_MISMATCH` for different row counts, `TOO_SMALL` for fewer than `minRows` rows or
 * no columns, `NON_FINITE_INPUT` for NaN/Inf.
 */
export function validatePair(X: Matrix, Y: Matrix, minRows: number, metric: string): void {
  if (!(X instanceof Matrix) || !(Y instanceof Matrix)) {
    throw new BasisError('INVALID_ARGUMENT', `${metric}: X and Y must be Matrix values (use Matrix.from for nested arrays)`);
  }
  if (X.rows !== Y.rows) {
    throw new BasisError(
      'SHAPE_MISMATCH',
      `${metric}: X has ${X.rows} rows but Y has ${Y.rows}; rows are inputs and both must hold the same inputs in the same order`,
    );
  }
  if (X.rows < minRows) {
    throw new BasisError('TOO_SMALL', `${metric} needs at least ${minRows} rows (inputs), got ${X.rows}`);
  }
  if (X.cols === 0 || Y.cols === 0) {
    throw new BasisError('TOO_SMALL', `${metric}: X (${X.rows} x ${X.cols}) and Y (${Y.rows} x ${Y.cols}) need at least one column`);
  }
  finiteMaxAbs(X, 'X');
  if (Y !== X) finiteMaxAbs(Y, 'Y');
}

/** Matrices whose max|m| `finiteMaxAbs` has memoised (repeated calls on one input only re-screen). */
const scanned = new WeakSet<Matrix>();

/**
 * Throws `NON_FINITE_INPUT` (naming the first bad entry) unless every entry of `m` is finite, and
 * memoises max|m| for the exact power-of-two prescale of the metrics (`maxAbsOf` in prep.ts): one read
 * pass does both (Math.max propagates NaN, and |±Infinity| is Infinity).
 */
function finiteMaxAbs(m: Matrix, name: string): void {
  if (scanned.has(m)) {
    assertFinite(m, name); // max|m| is memoised already: the cheaper screen suffices
    return;
  }
  const a = m.data;
  let m0 = 0;
  let m1 = 0;
  let m2 = 0;
  let m3 = 0;
  const n4 = a.length - (a.length % 4);
  for (let k = 0; k < n4; k += 4) {
    m0 = Math.max(m0, Math.abs(a[k] as number));
    m1 = Math.max(m1, Math.abs(a[k + 1] as number));
    m2 = Math.max(m2, Math.abs(a[k + 2] as number));
    m3 = Math.max(m3, Math.abs(a[k + 3] as number));
  }
  for (let k = n4; k < a.length; k++) m0 = Math.max(m0, Math.abs(a[k] as number));
  const top = Math.max(m0, m1, m2, m3);
  if (!Number.isFinite(top)) assertFinite(m, name); // locates and reports the bad entry
  cached(m, 'maxAbs', () => top);
  scanned.add(m);
}

/** Throws `RANK_DEFICIENT` when a centred matrix is identically zero (every unit constant). */
export function assertNotConstant(frobeniusSquared: number, name: string, metric: string): void {
  if (!(frobeniusSquared > 0)) {
    throw new BasisError(
      'RANK_DEFICIENT',
      `${metric}: every column of ${name} is constant over the inputs, so the metric is undefined; check that the activations were captured correctly`,
    );
  }
}
