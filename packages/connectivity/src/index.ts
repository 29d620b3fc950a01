// @basis/connectivity public API: matching through symmetry specs, interpolation and barriers, LLFC.
export {
  activationMatching,
  costMatrix,
  mergeModels,
  unfold,
  weightMatching,
  type ActivationMatchingOptions,
  type FeaturePairs,
  type MatchOptions,
  type MatchResult,
  type MatchSolver,
  type MergeResult,
  type WeightMatchingOptions,
} from './matching.js';
export { activationMatchingOn, captureFeatures, type ActivationMatchingOnOptions, type CapturedFeatures } from './activation-matching.js';
export {
  barrierOf,
  evaluate,
  evaluateFn,
  interpolationCurve,
  lerpParams,
  repair,
  resetBatchNorm,
  type Barrier,
  type BarrierRecord,
  type EvalResult,
  type InterpolationOptions,
  type LabelledData,
  type Params,
  type Params64,
  type RepairMode,
} from './interpolate.js';
export { llfc, type CommutativityLayer, type LlfcLayer, type LlfcOptions, type LlfcReport, type Summary, type WeakAdditivityLayer } from './llfc.js';
export { stitch, type StitchKind, type StitchOptions, type StitchResult } from './stitch.js';
