// `@basis/test-utils/bench`: the shared pieces of the packages' `pnpm bench` scripts — the Python
// peers and how each side computes (BLAS, core type, threads), side-by-side and acceptance tables,
// timing, and bench-results/ files.
export { BLAS_ENV_VARS, blasEnvironment, blasEnvironmentLine, engineTag, findPythons, peerSummary, peerTag, primaryBlas, probePeer, threadEnv, type EngineLike, type PeerBlas, type PeerInfo, type PythonCandidate } from './peers.js';
export { TIE, fmtRatio, fmtSeconds, formatAcceptance, formatTable, rowRatio, rowVerdict, type AcceptanceRow, type Measure } from './table.js';
export { RESULTS_DIR, benchHeader, benchThreads, codeVersion, cpuPressure, headerLine, loadAverage, loadSpan, loadSpanText, startBench, writeBenchResult, type BenchHeader, type LoadSpan } from './report.js';
export { cpuSeconds, timeBest } from './timing.js';
export { NumpyPeers, type NumpyPeerRun } from './numpy-peers.js';
export { PythonWorker } from './worker.js';
