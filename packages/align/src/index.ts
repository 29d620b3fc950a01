// @basis/align public API.
export { compare, getMetric, listMetrics, metric } from './registry.js';
export { INVARIANCES, type Invariance, type MetricDefinition, type MetricResult } from './types.js';
export { compareLayers, type AuditProgress, type LayerAudit, type Layers } from './audit.js';
