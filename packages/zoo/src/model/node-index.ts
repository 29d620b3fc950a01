// Node-only API of the model area.
export {
  loadDataSpec,
  loadTrainConfigFile,
  runTrainingPreset,
  trainModelResumable,
  type RunTrainingPresetOptions,
  type TrainModelResumableOptions,
  type TrainModelResumableResult,
} from './node.js';
export {
  TrainPool,
  trainSeeds,
  type TrainJob,
  type TrainJobOptions,
  type TrainJobResult,
  type TrainPoolOptions,
  type TrainSeedsOptions,
} from './pool.js';
export { loadModel, saveModel, type LoadedModel, type SaveModelOptions } from './load.js';
export { loadOnnxFile } from './load-onnx.js';
