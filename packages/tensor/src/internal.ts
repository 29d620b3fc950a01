// Entry point `@basis/tensor/internal`: helpers for basis' own packages (align, zoo, ...) that are
// not part of the public API (undocumented; they may change without a changeset). Everything here
// trusts a precondition the public functions check, for callers that established it already.
export { crossprodOfFinite, matmulOfFinite } from './linalg/basic.js';
export { polarFactorOfFinite } from './linalg/svd.js';
