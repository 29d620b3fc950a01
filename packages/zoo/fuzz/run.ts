// `pnpm fuzz` for @basis/zoo: 10^4 cases per reader (idx, idx.gz, checkpoint manifests, onnx) in watched
// child processes; prints crashes, hangs, over-budget allocations, peak memory and time per format.
//   pnpm --filter @basis/zoo fuzz -- --cases 1000 --format idx.gz --seed 7
import { fileURLToPath } from 'node:url';
import { formatReports, parseFuzzArgs, runCampaign } from '@basis/test-utils/fuzz';

const args = parseFuzzArgs(process.argv.slice(2), { cases: 10_000, seed: 1, formats: ['idx', 'idx.gz', 'manifest', 'onnx'] });
const settings = { ...args, targetsModule: fileURLToPath(new URL('./targets.ts', import.meta.url)), slowMs: 2000, hangMs: 30_000 };
process.stderr.write(`fuzzing ${args.formats.join(', ')}: ${args.cases} cases each from case ${args.from}, seed ${args.seed}\n`);
const reports = await runCampaign(settings);
console.log(formatReports(reports, settings));
const bad = reports.some((r) => r.crashes + r.wrongCodes + r.hangs + r.overBudget > 0);
process.exitCode = bad ? 1 : 0;
