// @basis/experiments public API (browser-safe). The demo and recipes that read files live in `@basis/experiments/node`.
export {
  barChart,
  figureCsv,
  heatmap,
  lineChart,
  renderReport,
  renderSvg,
  toCsv,
  type Figure,
  type Report,
  type Table,
  type VegaLiteSpec,
} from './report.js';
export { bootstrapEstimate, difference, estimate, formatEstimate } from './runner/estimate.js';
export { checkInt, checkKeys, checkList, checkNum, checkObject, checkOneOf, invalid, within } from './runner/check.js';
export type { CachedModel, ClaimCheck, Estimate, ExperimentRecipe, Profile, RecipeResult, RunContext, Verdict } from './recipes/types.js';
export { PROFILES } from './recipes/types.js';
export { judge, judgeAll, judgeFlag, pairBootstrap, QUICK_CAVEAT, type Judgement, type Rule } from './recipes/verdict.js';
