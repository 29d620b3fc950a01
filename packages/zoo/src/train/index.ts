// Public API of the training area (browser-safe: tfjs-core and @basis/tensor only): the training
// loop, optimizers, schedules, checkpoint encoding, and training models (settings, presets, train
// config files, trainModel). Node-only parts (checkpoint files, run directories, the worker pool)
// are in `./node-index.ts`.
// registerGradients lives in @basis/tensor (tfjs area) since connectivity and degeneracy need it too
export {
  createOptimizer,
  frozenNames,
  gradsByName,
  isOptimizer,
  resolveOptimizerConfig,
  type AdamConfig,
  type ApplyInfo,
  type ApplyOptions,
  type FreezeSpec,
  type Optimizer,
  type OptimizerConfig,
  type OptimizerState,
  type ResolvedOptimizerConfig,
  type SgdConfig,
} from './optimizers.js';
export {
  createSchedule,
  isSchedule,
  resolveScheduleConfig,
  type ResolvedScheduleConfig,
  type Schedule,
  type ScheduleConfig,
  type ScheduleDefaults,
  type WarmupConfig,
} from './schedules.js';
export {
  assignParams,
  cloneVariables,
  readParams,
  variablesFromArrays,
  type NamedVariables,
} from './params.js';
export {
  checkTrainState,
  train,
  type TrainBatch,
  type CheckpointPlan,
  type CheckpointReason,
  type EpochRecord,
  type EvalFn,
  type LossFn,
  type LossOutput,
  type StepContext,
  type StepRecord,
  type TrainConfigRecord,
  type TrainData,
  type TrainOptions,
  type TrainProgress,
  type TrainResult,
  type TrainSnapshot,
  type TrainStart,
  type TrainState,
} from './loop.js';
export {
  CHECKPOINT_FILES,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  checkpointFromSnapshot,
  decodeCheckpoint,
  encodeCheckpoint,
  parseCheckpointManifest,
  type Checkpoint,
  type CheckpointFileInfo,
  type CheckpointFiles,
  type CheckpointManifest,
} from './checkpoint.js';
export {
  TrainSettingsSchema,
  parseTrainSettings,
  resolveTrainSettings,
  stepsPerEpoch,
  withSeed,
  withoutLongWarmup,
  type ResolvedTrainSettings,
  type TrainSettings,
} from './train-settings.js';
export { TRAINING_PRESETS, defaultTrainSettings, type TrainingPreset } from './presets.js';
export { SeedListSchema, TrainConfigFileSchema, parseTrainConfigFile, type TrainConfigFile } from './train-config.js';
export {
  checkDataFits,
  evaluateModel,
  trainModel,
  type EpochSummary,
  type Evaluation,
  type TrainModelOptions,
  type TrainModelResult,
} from './train-model.js';
