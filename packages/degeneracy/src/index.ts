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
  offDiagonalRatio,
  transformFeatures,
  type InteractionBasisOptions,
  type LayerBasis,
  type NetworkBasis,
  type NetworkBasisLayer,
} from './interaction-basis.js';
