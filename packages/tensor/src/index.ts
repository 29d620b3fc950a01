// @basis/tensor public API, name by name and area by area: what is not listed here is internal.
export { BasisError, BASIS_ERROR_CODES, isBasisError, type BasisErrorCode } from './errors.js';
export { checkBool, checkInt, checkKeys, checkList, checkNum, checkObject, checkOneOf, invalid, isList, show, type NumBounds } from './validation.js';
export { at, boolean, finite, integer, isParsed, issueField, list, markParsed, notArray, object, oneOf, optional, parseConfig, quotedList, seed, text, type Bounds, type Schema } from './schema.js';
export {
  Matrix,
  asMatrix,
  assertFinite,
  assertNonEmpty,
  assertSquare,
  type MatrixLike,
  type NumericArrayLike,
} from './matrix.js';
// The engine area: which provider computes (native BLAS/LAPACK or WebAssembly).
export {
  availableCores,
  configureEngine,
  engineInfo,
  engineSummary,
  limitThreads,
  parseThreads,
  threadBudget,
  workerEngine,
  type BlasRequest,
  type EngineInfo,
  type WorkerEngineSettings,
} from './engine/engine.js';
export type { NativeFlavour } from './engine/native.js';
// The linalg area: float64 dense linear algebra on `Matrix`.
export { add, crossprod, frobeniusNorm, gram, matmul, matvec, scale, sub, trace } from './linalg/basic.js';
export { eigh, type EighOptions, type EighResult } from './linalg/eigh.js';
export { generalizedEigenvalues } from './linalg/generalized.js';
export { svd, singularValues, type SvdOptions, type SvdResult } from './linalg/svd.js';
export { qr, qrDeferred, qrPivoted, qrR, type QrDeferred, type QrOptions, type QrResult, type QrPivotedResult } from './linalg/qr.js';
export { determinant, solve } from './linalg/lu.js';
export { maxProductGram } from './linalg/max-product.js';
export { lstsq, pinv, rank, type LstsqOptions, type LstsqResult, type RankTolerance } from './linalg/lstsq.js';
export {
  cholesky,
  invSqrtmSpd,
  sqrtmSpd,
  type InvSqrtmOptions,
  type SqrtmOptions,
  type SymmetricOptions,
} from './linalg/spd.js';
export {
  haarOrthogonal,
  orthogonalPower,
  type HaarOptions,
  type NormalSource,
  type OrthogonalPowerOptions,
} from './linalg/orthogonal.js';
export { pow2ScaledCopy } from './linalg/validate.js';
// The solvers area: exact assignment, exact and entropic optimal transport.
export {
  linearSumAssignment,
  type LinearSumAssignmentOptions,
  type LinearSumAssignmentResult,
} from './solvers/lsap.js';
export { exactTransport, type ExactTransportOptions, type ExactTransportResult } from './solvers/transport.js';
export {
  sinkhorn,
  sinkhornBalance,
  type SinkhornOptions,
  type SinkhornResult,
  type SinkhornBalanceOptions,
  type SinkhornBalanceResult,
} from './solvers/sinkhorn.js';
// The random area: seeded, platform-independent randomness.
export { Rng, createRng, type RngState } from './random/rng.js';
export { portableLog } from './random/portable-log.js';
export {
  lognormalDiagonal,
  permutation,
  rand,
  randn,
  randomSigns,
  sampleWithoutReplacement,
  shuffle,
} from './random/samplers.js';
// The stats area.
export {
  applyCentering,
  center,
  columnMeans,
  columnNorms,
  columnSumsAndSquares,
  corrMatrix,
  correlationsFromCross,
  correlationsOfCentred,
  normalizeColumns,
  pearson,
  type ZeroColumnPolicy,
} from './stats/columns.js';
export { kfold, type Fold } from './stats/folds.js';
export { columnSumsOf, rowDotsOf, rowPairDotsOf, rowSquaresAndDotsOf } from './stats/sums.js';
export {
  bootstrapCI,
  mean,
  permutationPValue,
  regularizedIncompleteBeta,
  std,
  studentTCdf,
  studentTQuantile,
  tInterval,
  type Interval,
} from './stats/intervals.js';
export { float64Buffer, LARGE_BUFFER_BYTES } from './memory.js';
// The io area: array files that round-trip with numpy and PyTorch.
export {
  bfloat16ToFloat,
  floatToBfloat16,
  floatToHalf,
  halfToFloat,
  matrixToNdarray,
  ndarrayToMatrix,
  type DType,
  type NdArray,
  type TypedArray,
} from './io/ndarray.js';
export { crc32 } from './io/crc32.js';
export { inflateBounded, type InflateBoundedOptions } from './io/inflate.js';
export { MAX_JSON_DEPTH, jsonDepth, parseJsonBounded } from './io/json.js';
export {
  ByteBudget,
  DEFAULT_MAX_BYTES_FLOOR,
  DEFAULT_MAX_BYTES_RATIO,
  MAX_BYTES_ENV,
  formatBytes,
  parseByteSize,
  resolveMaxBytes,
  type ReadOptions,
} from './io/limits.js';
export { matrixToNpy, readNpy, readNpyMatrix, writeNpy } from './io/npy.js';
export { readNpz, writeNpz } from './io/npz.js';
export { readSafetensors, writeSafetensors, type SafetensorsContent } from './io/safetensors.js';
export { readTorch, writeTorch, type ReadTorchOptions, type TorchContent, type TorchSkipped } from './io/torch.js';
// The tfjs area that needs only @tensorflow/tfjs-core (backend selection lives in
// the `@basis/tensor/backend` subpath, which may load backend packages).
export { matrixToTensor, tensorToMatrix, tensorToMatrixAsync } from './tfjs/bridge.js';
export { registerGradients } from './tfjs/gradients.js';
export {
  adamStep,
  adamStepComposed,
  batchNormTrain,
  batchNormTrainComposed,
  denseLayer,
  gatherRows,
  registerFusedKernels,
  reluGrad,
  sgdStep,
  sgdStepComposed,
  softmaxCrossEntropyMean,
  unregisterFusedKernels,
  type AdamStepOptions,
  type BatchNormTrainResult,
  type SgdStepOptions,
} from './tfjs/fused-kernels.js';
export { createYielder, yieldToEventLoop } from './yield.js';
