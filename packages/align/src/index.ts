// @basis/align public API.
export { compare, getMetric, listMetrics, metric, resolveOptions } from './registry.js';
export {
  COST_CLASSES,
  FAMILIES,
  INVARIANCES,
  type CostClass,
  type Invariance,
  type MetricFamily,
  type MetricCost,
  type MetricDefinition,
  type MetricOption,
  type MetricResult,
  type ResolvedOptions,
} from './types.js';
export { compareLayers, type AuditProgress, type LayerAudit, type Layers } from './audit.js';
export { MinibatchLinearCka, StreamingLinearCka } from './streaming.js';
export { permutationTest, type PermutationTestResult } from './nulls.js';
export { estimateAudit, estimateCompare, type ResourceEstimate, type Shape } from './estimate.js';
