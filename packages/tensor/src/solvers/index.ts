// Public API of the solvers area: exact assignment, exact and entropic optimal transport.
export {
  linearSumAssignment,
  type LinearSumAssignmentOptions,
  type LinearSumAssignmentResult,
} from './lsap.js';
export { exactTransport, type ExactTransportOptions, type ExactTransportResult } from './transport.js';
export {
  sinkhorn,
  sinkhornBalance,
  type SinkhornOptions,
  type SinkhornResult,
  type SinkhornBalanceOptions,
  type SinkhornBalanceResult,
} from './sinkhorn.js';
