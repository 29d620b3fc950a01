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
  loadTrainConfigFile,
  runTrainingPreset,
  saveCheckpoint,
  trainModelResumable,
  TrainPool,
  trainResumable,
  trainSeeds,
  type CheckpointEntry,
  type CheckpointWriterOptions,
  type RunTrainingPresetOptions,
  type TrainJob,
  type TrainJobOptions,
  type TrainJobResult,
  type TrainModelResumableOptions,
  type TrainModelResumableResult,
  type TrainPoolOptions,
  type TrainResumableOptions,
  type TrainResumableResult,
  type TrainSeedsOptions,
} from './train/node-index.js';

// model
export {
  loadDataSpec,
  loadModel,
  loadOnnxFile,
  saveModel,
  type LoadedModel,
  type SaveModelOptions,
} from './model/node-index.js';
