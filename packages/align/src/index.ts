// @basis/align public API.
export { compare, getMetric, listMetrics, metric } from './registry.js';
export { INVARIANCES, type Invariance, type MetricDefinition, type MetricResult } from './types.js';
export { compareLayers, type AuditProgress, type LayerAudit, type Layers } from './audit.js';
export { StreamingLinearCka } from './streaming.js';
export { permutationTest, type PermutationTestResult } from './nulls.js';
