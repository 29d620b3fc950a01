// Public API of the stats area.
export {
  applyCentering,
  center,
  columnMeans,
  columnNorms,
  columnSumsAndSquares,
  corrMatrix,
  correlationsFromCross,
  correlationsOfCentred,
  normalizeColumns,
  pearson,
  type ZeroColumnPolicy,
} from './columns.js';
export { kfold, type Fold } from './folds.js';
export { columnSumsOf } from './sums.js';
export {
  bootstrapCI,
  mean,
  permutationPValue,
  regularizedIncompleteBeta,
  std,
  studentTCdf,
  studentTQuantile,
  tInterval,
  type Interval,
} from './intervals.js';
