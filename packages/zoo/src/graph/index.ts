// Public API of the graph area: the model graph IR, its forward pass, parameters, architectures and symmetry specs.
export {
  ACTIVATION_FNS,
  cutIndex,
  describeGraph,
  type ActivationFn,
  type GraphDescription,
  type GraphNode,
  type ModelGraph,
  type NodeInfo,
  type ParamInfo,
} from './ir.js';
export { applyActivation, forward, type ForwardOptions, type ForwardResult, type TensorParams } from './forward.js';
export {
  checkGraphParams,
  initParams,
  paramsToTensors,
  tensorsToParams,
  toFloat32,
  toFloat64,
  type InitOptions,
  type ParamArray,
  type ParamDict,
} from './params.js';
export {
  cnn,
  miniMyrtle,
  mlp,
  resmlp,
  resnet,
  transformer,
  type ActivationSpec,
  type CnnOptions,
  type ConvNetOptions,
  type MlpOptions,
  type ResMlpOptions,
  type ResNetOptions,
  type TransformerOptions,
} from './architectures.js';
export { inferSpec, type InferSpecOptions } from './infer-spec.js';
export { checkModelSymmetry, graphForwardFn, type ModelSymmetryCheck } from './check.js';
export { captureActivations, defaultCapturePoints, type CaptureOptions, type CaptureView } from './capture.js';
