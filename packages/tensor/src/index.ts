// @basis/tensor public API. Each area keeps an explicit export list in its own index.
export { BasisError, BASIS_ERROR_CODES, isBasisError, type BasisErrorCode } from './errors.js';
export { checkBool, checkInt, checkKeys, checkList, checkNum, checkObject, checkOneOf, invalid, show, type NumBounds } from './config.js';
export {
  Matrix,
  asMatrix,
  assertFinite,
  assertNonEmpty,
  assertSquare,
  type MatrixLike,
  type NumericArrayLike,
} from './matrix.js';
export * from './engine/index.js';
export * from './linalg/index.js';
export * from './solvers/index.js';
export * from './random/index.js';
export * from './stats/index.js';
export { float64Buffer, LARGE_BUFFER_BYTES } from './memory.js';
export * from './io/index.js';
export * from './tfjs/index.js';
export { createYielder, yieldToEventLoop } from './yield.js';
