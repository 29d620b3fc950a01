// @basis/tensor public API. Each area keeps an explicit export list in its own index.
export { BasisError, BASIS_ERROR_CODES, isBasisError, type BasisErrorCode } from './errors.js';
export {
  Matrix,
  asMatrix,
  assertFinite,
  assertNonEmpty,
  assertSquare,
  type MatrixLike,
  type NumericArrayLike,
} from './matrix.js';
