// `pnpm fuzz` for @basis/tensor: 10^4 cases per reader (npy, npz, safetensors, pt) in watched
// child processes; prints crashes, hangs, over-budget allocations, peak memory and time per format.
//   pnpm --filter @basis/tensor fuzz -- --cases 1000 --format npz --seed 7
import { fileURLToPath } from 'node:url';
import { formatReports, parseFuzzArgs, runCampaign } from '@basis/test-utils/fuzz';

const args = parseFuzzArgs(process.argv.slice(2), { cases: 10_000, seed: 1, formats: ['npy', 'npz', 'safetensors', 'pt'] });
const settings = { ...args, targetsModule: fileURLToPath(new URL('./targets.ts', import.meta.url)), slowMs: 2000, hangMs: 30_000 };
process.stderr.write(`fuzzing ${args.formats.join(', ')}: ${args.cases} cases each from case ${args.from}, seed ${args.seed}\n`);
const reports = await runCampaign(settings);
console.log(formatReports(reports, settings));
const bad = reports.some((r) => r.crashes + r.wrongCodes + r.hangs + r.overBudget > 0);
process.exitCode = bad ? 1 : 0;
