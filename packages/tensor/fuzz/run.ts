// `pnpm fuzz` for @basis/tensor: 10^4 cases per reader (npy, npz, safetensors, pt) in watched
// child processes; prints crashes, hangs, over-budget allocations, peak memory and time per format.
//   pnpm --filter @basis/tensor fuzz -- --cases 1000 --format npz --seed 7
import { fileURLToPath } from 'node:url';
import { fuzzCommand } from '@basis/test-utils/fuzz';

await fuzzCommand(fileURLToPath(new URL('./targets.ts', import.meta.url)), { cases: 10_000, seed: 1, formats: ['npy', 'npz', 'safetensors', 'pt'] });
