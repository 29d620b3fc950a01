// `pnpm fuzz` for @basis/zoo: 10^4 cases per reader (idx, idx.gz, checkpoint manifests, onnx) in watched
// child processes; prints crashes, hangs, over-budget allocations, peak memory and time per format.
//   pnpm --filter @basis/zoo fuzz -- --cases 1000 --format idx.gz --seed 7
import { fileURLToPath } from 'node:url';
import { fuzzCommand } from '@basis/test-utils/fuzz';

await fuzzCommand(fileURLToPath(new URL('./targets.ts', import.meta.url)), { cases: 10_000, seed: 1, formats: ['idx', 'idx.gz', 'manifest', 'onnx'] });
