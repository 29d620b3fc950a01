// Public API of the model area (browser-safe): model specs and data specs (their schemas and
// parsers) and state_dict mapping. Training models (settings, presets, config files, trainModel,
// the worker pool) lives in `../train/`. Node-only parts (data loading, model files) are in
// `./node-index.ts`.
export { MODEL_ARCHS, ModelSpecSchema, WIDTH_LIST_ARCHS, buildModel, parseModelSpec, type ModelArch, type ModelIo, type ModelSpec } from './model-spec.js';
export { DATASET_NAMES, DataSpecSchema, parseDataSpec, type DataSpec, type IdxFiles } from './data-spec.js';
export { parseDataArg, type DataArg, type DataArgOptions } from './data-arg.js';
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
