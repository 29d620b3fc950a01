// @basis/align public API.
export { compare, getMetric, listMetrics, metric } from './registry.js';
export { INVARIANCES, type Invariance, type MetricDefinition, type MetricResult } from './types.js';
