// Public API of the engine area: which provider computes (native BLAS/LAPACK or WebAssembly).
export {
  availableCores,
  configureEngine,
  engineInfo,
  engineSummary,
  limitThreads,
  parseThreads,
  threadBudget,
  workerEngine,
  type BlasRequest,
  type EngineInfo,
  type WorkerEngineSettings,
} from './engine.js';
export type { NativeFlavour } from './native.js';
