// @basis/zoo/node: Node-only loaders (file system access), listed name by name. Everything in
// `@basis/zoo` works here too.

// data
export {
  loadCrossDataset,
  loadFashionMnist,
  loadIdxDataset,
  loadMnist,
  loadMnistAll,
  loadMnistIdx,
  readIdxFile,
  writeIdxFile,
  type LoadFashionMnistOptions,
  type LoadIdxDatasetOptions,
  type LoadMnistAllOptions,
  type LoadMnistIdxOptions,
  type LoadMnistOptions,
} from './data/node.js';

// train
export {
  checkpointDirName,
  checkpointWriter,
  findLatestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  saveCheckpoint,
  trainResumable,
  type CheckpointEntry,
  type CheckpointWriterOptions,
  type TrainResumableOptions,
  type TrainResumableResult,
} from './train/node.js';

// model
export {
  loadDataSpec,
  loadModel,
  loadOnnxFile,
  loadTrainConfigFile,
  runTrainingPreset,
  saveModel,
  trainModelResumable,
  TrainPool,
  trainSeeds,
  type LoadedModel,
  type RunTrainingPresetOptions,
  type SaveModelOptions,
  type TrainJob,
  type TrainJobOptions,
  type TrainJobResult,
  type TrainModelResumableOptions,
  type TrainModelResumableResult,
  type TrainPoolOptions,
  type TrainSeedsOptions,
} from './model/node-index.js';
