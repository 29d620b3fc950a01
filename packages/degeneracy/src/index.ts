// @basis/degeneracy public API (explicit export list).
export {
  denseChain,
  denseGrams,
  forwardDense,
  type DenseActivation,
  type DenseForward,
  type DenseGrams,
  type DenseLayer,
  type ParamsLike,
} from './dense.js';
export {
  activationGram,
  behavioralLoss,
  behavioralLossFromOutputs,
  behavioralLossTensor,
  freeDirections,
  jacobianGram,
  layerGrams,
  type BehavioralKind,
  type FreeDirectionCounts,
  type LayerGram,
  type LayerGramsOptions,
} from './grams.js';
export {
  approximateSyncBlocks,
  firingPatterns,
  syncResidual,
  type ApproxBlock,
  type FiringOptions,
  type FiringReport,
  type SyncBlock,
} from './firing.js';
export {
  interactionBasis,
  interactionBasisMlp,
  localInteractionBasisMlp,
  offDiagonalRatio,
  transformFeatures,
  type InteractionBasisOptions,
  type LayerBasis,
  type NetworkBasis,
  type NetworkBasisLayer,
} from './interaction-basis.js';
export {
  estimateLlc,
  finiteScaleLambda,
  ggnHessian,
  hessianFiniteDifference,
  hessianRankBound,
  modelLlcTarget,
  volumeMonteCarlo,
  volumeRadial,
  type ChainDiagnostics,
  type LlcDiagnosis,
  type LlcEstimate,
  type LlcTarget,
  type ModelLike,
  type ModelLossKind,
  type SgldOptions,
  type VolumeEstimate,
} from './llc.js';
export {
  forwardSparse,
  interactionGraph,
  interactionSparsity,
  sparsifyMlp,
  type InteractionEdge,
  type SparseLayer,
  type SparsifyResult,
} from './sparsify.js';
export {
  bestBipartition,
  constrainedLoss,
  gammaFraction,
  layeredAdjacency,
  modularityCost,
  type Bipartition,
} from './modularity.js';
