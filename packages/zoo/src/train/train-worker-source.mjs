// Source-mode entry of the training worker, used only inside this repository (tests, benchmarks)
// when `@basis/zoo/node` itself runs from TypeScript sources: Node 20 workers ignore `--import` in
// execArgv, so the worker registers tsx (a dev dependency) here and then loads the TypeScript
// worker. Published builds start `dist/train/train-worker.js` directly and never load this file.
import { register } from 'tsx/esm/api';

register();
await import('./train-worker.ts');
