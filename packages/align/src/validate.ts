import { BasisError, Matrix, assertFinite } from '@basis/tensor';
import { columnMoments, provenFinite } from './moments.js';

/**
 * The front door of every metric: X and Y are N x dx and N x dy matrices over the same N inputs.
 * Throws `SHAPE_MISMATCH` for different row counts, `TOO_SMALL` for fewer than `minRows` rows or
 * no columns, `NON_FINITE_INPUT` for NaN/Inf. `screen`: see `MetricDefinition.screen`.
 */
export function validatePair(X: Matrix, Y: Matrix, minRows: number, metric: string, screen?: 'moments'): void {
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
  // one read per input gives the column sums (a dgemv on the native engine, the column-moment pass
  // on WebAssembly; both reused by the metrics) and proves the entries finite when every sum is;
  // otherwise the exact check names the bad entry (or finds an overflow). A metric that needs the
  // column moments of both inputs anyway (screen 'moments') takes the proof from their sums: one
  // read of each input fewer (a non-finite entry makes its moments non-finite, which no metric uses
  // once the exact check has thrown)
  if (screen === 'moments') {
    columnMoments(X);
    columnMoments(Y);
  }
  if (!provenFinite(X)) assertFinite(X, 'X');
  if (!provenFinite(Y)) assertFinite(Y, 'Y');
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
