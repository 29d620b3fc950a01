// Seeded fuzzing of file readers: the engine (cases, mutators, in-process runs) and the campaign
// runner behind `pnpm fuzz` (watched child processes).
export {
  CRAFTED_EVERY,
  FuzzRng,
  GENERIC_MUTATORS,
  collectGarbage,
  concatBytes,
  emptyReport,
  formatReports,
  fuzzInProcess,
  hash32,
  makeCase,
  mib,
  record,
  runCase,
  type CaseResult,
  type Crafted,
  type FuzzCase,
  type FuzzReport,
  type FuzzSettings,
  type FuzzTarget,
  type Mutator,
} from './engine.js';
export { fuzzCommand, parseFuzzArgs, runCampaign, type CampaignSettings } from './campaign.js';
