// Public API of the model area (browser-safe): model specs, high-level training with recipes,
// evaluation, the default recipes. Node-only parts (data specs, run directories) are in `./node.ts`.
export { MODEL_ARCHS, WIDTH_LIST_ARCHS, buildModel, checkModelSpec, type ModelArch, type ModelIo, type ModelSpec } from './spec.js';
export {
  checkDataFits,
  evaluateModel,
  resolveRecipe,
  trainModel,
  type EpochSummary,
  type Evaluation,
  type ResolvedRecipe,
  type TrainModelOptions,
  type TrainModelResult,
  type TrainRecipe,
} from './train-model.js';
export { DATASET_NAMES, RECIPES, checkDataSpec, type DataSpec, type IdxFiles, type Recipe } from './recipes.js';
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
