// Public API of the engine area: which provider computes (native BLAS/LAPACK or WebAssembly).
export {
  availableCores,
  configureEngine,
  engineInfo,
  engineSummary,
  parseThreads,
  type BlasRequest,
  type EngineInfo,
} from './engine.js';
export type { NativeFlavour } from './native.js';
