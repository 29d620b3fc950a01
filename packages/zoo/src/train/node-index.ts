// Node-only API of the training area: checkpoint files and resumable runs, training models into a
// run directory, the training presets end to end, train config files, and the worker pool.
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
} from './node.js';
export {
  loadTrainConfigFile,
  runTrainingPreset,
  trainModelResumable,
  type RunTrainingPresetOptions,
  type TrainModelResumableOptions,
  type TrainModelResumableResult,
} from './train-model-node.js';
export {
  TrainPool,
  trainSeeds,
  type TrainJob,
  type TrainJobOptions,
  type TrainJobResult,
  type TrainPoolOptions,
  type TrainSeedsOptions,
} from './pool.js';
