// Public API of the linalg area: float64 dense linear algebra on `Matrix`.
export { add, crossprod, frobeniusNorm, gram, matmul, matvec, scale, sub, trace } from './basic.js';
export { eigh, type EighOptions, type EighResult } from './eigh.js';
export { generalizedEigenvalues } from './generalized.js';
export { svd, singularValues, type SvdOptions, type SvdResult } from './svd.js';
export { qr, qrDeferred, qrPivoted, qrR, type QrDeferred, type QrOptions, type QrResult, type QrPivotedResult } from './qr.js';
export { determinant, solve } from './lu.js';
export { maxProductGram } from './max-product.js';
export { lstsq, pinv, rank, type LstsqOptions, type LstsqResult, type RankTolerance } from './lstsq.js';
export {
  cholesky,
  invSqrtmSpd,
  sqrtmSpd,
  type InvSqrtmOptions,
  type SqrtmOptions,
  type SymmetricOptions,
} from './spd.js';
export {
  haarOrthogonal,
  orthogonalPower,
  type HaarOptions,
  type NormalSource,
  type OrthogonalPowerOptions,
} from './orthogonal.js';
export { pow2ScaledCopy } from './validate.js';
