// Public API of the tfjs area that needs only @tensorflow/tfjs-core (backend selection lives in
// the `@basis/tensor/backend` subpath, which may load backend packages).
export { matrixToTensor, tensorToMatrix, tensorToMatrixAsync } from './bridge.js';
export { registerGradients } from './gradients.js';
export {
  adamStep,
  adamStepComposed,
  batchNormTrain,
  batchNormTrainComposed,
  registerFusedKernels,
  reluGrad,
  sgdStep,
  sgdStepComposed,
  softmaxCrossEntropyMean,
  unregisterFusedKernels,
  type AdamStepOptions,
  type BatchNormTrainResult,
  type SgdStepOptions,
} from './fused-kernels.js';
