// Public API of the model area (browser-safe): model specs, data specs and training settings (their
// schemas and parsers), high-level training, evaluation, the training presets, state_dict mapping.
// Node-only parts (data loading, run directories, the worker pool) are in `./node-index.ts`.
export { MODEL_ARCHS, ModelSpecSchema, WIDTH_LIST_ARCHS, buildModel, parseModelSpec, type ModelArch, type ModelIo, type ModelSpec } from './model-spec.js';
export { DATASET_NAMES, DataSpecSchema, parseDataSpec, type DataSpec, type IdxFiles } from './data-spec.js';
export { parseDataArg, type DataArg, type DataArgOptions } from './data-arg.js';
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
export {
  exportStateDict,
  formatStateDictReport,
  importStateDict,
  mapStateDict,
  withTorchNames,
  type ExportStateDictOptions,
  type ImportStateDictOptions,
  type StateDictImport,
  type StateDictReport,
  type StateDictReportEntry,
  type TorchNames,
} from './state-dict.js';
export { compileKeyMap, matchByStructure, parseKeyMapRule, type GraphGroup, type KeyMap, type KeyMapRule, type ModuleEntry, type StructureMatch } from './state-dict-map.js';
