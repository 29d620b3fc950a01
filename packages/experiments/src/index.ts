// @basis/experiments public API (browser-safe). The demo and recipes that read files live in `@basis/experiments/node`.
export {
  barChart,
  configRows,
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
export {
  BAND_OPACITY,
  COLOUR_BAR_TICKS,
  SERIES_COLOURS,
  SERIES_DASHES,
  SERIES_SHAPES,
  STYLE_CONFIG,
  coincidentSeries,
  colourBarTicks,
  heatmapDomain,
  isDiscreteAxis,
  nearlyCoincidentSeries,
  specFields,
  specNotes,
  type BarChartOptions,
  type FigureRows,
  type HeatmapOptions,
  type LineChartOptions,
} from './figure-style.js';
export { columnFormat, formatColumns, type ColumnFormat } from './numbers.js';
export { bootstrapEstimate, clusterEstimate, difference, estimate, formatEstimate } from './runner/estimate.js';
export { ascending, between, checkInt, checkKeys, checkList, checkNum, checkObject, checkOneOf, count, crossCheck, distinct, invalid, listOfAtLeast, recipeConfig, type FieldProblem } from './runner/check.js';
export type { CachedModel, ClaimCheck, Estimate, ExperimentRecipe, Profile, RecipeResult, RunContext, Verdict } from './recipes/types.js';
export { PROFILES } from './recipes/types.js';
export { judge, judgeAll, judgeFlag, pairBootstrap, QUICK_CAVEAT, type Judgement, type Rule } from './recipes/verdict.js';
