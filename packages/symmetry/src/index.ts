// @basis/symmetry public API: intertwiner groups, group elements, symmetry specs and their action.
export { GroupElement, orthogonalityDefect, type ElementKind, type GroupElementJSON } from './elements.js';
export {
  GROUP_KINDS,
  applyPhi,
  groupDimension,
  groupLabel,
  hasPermutations,
  hasScaling,
  hasSigns,
  isMember,
  isMonomialGroup,
  membershipDefect,
  phiFixedSubgroup,
  sampleElement,
  transformClassDimension,
  type GroupDecl,
  type GroupKind,
  type PhiRule,
  type SampleOptions,
} from './groups.js';
export {
  ACTIVATION_IDS,
  activationGroup,
  activationGroupLabel,
  getActivation,
  inIntertwinerGroup,
  listActivations,
  phiByLemma,
  phiOf,
  sampleIntertwiner,
  type Activation,
  type ActivationParams,
} from './activations.js';
export {
  actionDefect,
  intertwinerResidual,
  probeActivation,
  symmetryTable,
  type IntertwinerFit,
  type IntertwinerOptions,
  type ProbeFamily,
  type ProbeOptions,
  type ProbeResult,
  type SymmetryTableRow,
} from './intertwiner.js';
export {
  SpecBuilder,
  denseChainSpec,
  groupUsage,
  parseSpec,
  specToJSON,
  validateSpec,
  type AxisRole,
  type AxisRoleKind,
  type DenseLayerNames,
  type FeatureRole,
  type SymmetrySpec,
} from './spec.js';
export {
  act,
  actTrusted,
  checkSpecShapes,
  composeAssignments,
  invertAssignment,
  sampleAssignment,
  transformFeature,
  type ActOptions,
  type Assignment,
} from './action.js';
export { verifySpec, type CheckResult, type ForwardFn, type ForwardOutput, type VerifyOptions, type VerifyReport } from './verify.js';
export { canonicalize, fractionalRotation, type CanonicalOptions, type CanonicalResult } from './canonical.js';
export { applyAxisMap, relativeError, shapeSize, toParams, toTensor, type AxisMap, type Params, type Tensor, type TensorLike } from './tensor.js';
