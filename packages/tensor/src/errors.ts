/**
 * The one error class of basis. Library code throws it; only the CLI maps it to exit codes.
 *
 * @example
 * ```ts
 * import { BasisError } from '@basis/tensor';
 * try {
 *   throw new BasisError('SHAPE_MISMATCH', 'X has 10 rows but Y has 12; pass the same inputs to both');
 * } catch (e) {
 *   if (e instanceof BasisError && e.code === 'SHAPE_MISMATCH') console.error(e.message);
 * }
 * ```
 */
export type BasisErrorCode =
  /** Shapes of two inputs are incompatible, or a shape is not what the operation needs. */
  | 'SHAPE_MISMATCH'
  /** An input holds NaN or ±Infinity. */
  | 'NON_FINITE_INPUT'
  /** An input is empty or has too few rows/columns for the operation. */
  | 'TOO_SMALL'
  /** A matrix lacks the rank the operation needs (e.g. Cholesky of a non-positive-definite matrix). */
  | 'RANK_DEFICIENT'
  /** A file is unreadable, truncated, corrupt or of an unsupported layout. */
  | 'BAD_FILE'
  /** A group element does not leave the network function unchanged. */
  | 'NOT_A_SYMMETRY'
  /** A configuration or option value is invalid. */
  | 'CONFIG_INVALID'
  /** An argument value is out of its domain (negative size, unknown name, ...). */
  | 'INVALID_ARGUMENT'
  /** An iterative method did not reach its tolerance within its iteration budget. */
  | 'NOT_CONVERGED'
  /** A problem has no feasible solution (e.g. unbalanced transport marginals). */
  | 'INFEASIBLE'
  /** A requested backend or optional dependency is not available. */
  | 'BACKEND_UNAVAILABLE'
  /** A command-line usage error (unknown flag, missing argument). */
  | 'USAGE'
  /** An I/O error other than a malformed file (missing file, permission denied). */
  | 'IO';

/** All error codes, for exhaustive handling and docs. */
export const BASIS_ERROR_CODES: readonly BasisErrorCode[] = [
  'SHAPE_MISMATCH',
  'NON_FINITE_INPUT',
  'TOO_SMALL',
  'RANK_DEFICIENT',
  'BAD_FILE',
  'NOT_A_SYMMETRY',
  'CONFIG_INVALID',
  'INVALID_ARGUMENT',
  'NOT_CONVERGED',
  'INFEASIBLE',
  'BACKEND_UNAVAILABLE',
  'USAGE',
  'IO',
];

/** Error raised by every basis package: a machine-readable `code` and a message naming the fix. */
export class BasisError extends Error {
  readonly code: BasisErrorCode;
  /** Optional structured details (offending values, paths). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: BasisErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BasisError';
    this.code = code;
    this.details = options?.details;
  }
}

/** Type guard that works across module copies (checks the name and code, not only `instanceof`). */
export function isBasisError(e: unknown): e is BasisError {
  return (
    e instanceof BasisError ||
    (typeof e === 'object' &&
      e !== null &&
      (e as { name?: unknown }).name === 'BasisError' &&
      typeof (e as { code?: unknown }).code === 'string')
  );
}
