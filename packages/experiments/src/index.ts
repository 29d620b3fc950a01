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
