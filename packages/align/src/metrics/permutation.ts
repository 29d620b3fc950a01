import type { Matrix} from '@basis/tensor';
import { center, crossprod, linearSumAssignment } from '@basis/tensor';
import { assertNotConstant } from '../validate.js';
import { chordToAngle, scaled, sumSquares } from '../util.js';
import type { MetricDefinition } from '../types.js';

interface Matched {
  similarity: number;
  residual: number;
}

/**
 * Best unit-to-unit matching of centred, Frobenius-normalised X and Y: the assignment maximising
 * `sum_i S[i, pi(i)]` with `S = Xnᵀ Yn` (rectangular when widths differ), and the residual
 * `||Xn P - Yn||_F` over the zero-padded matrices (unmatched columns count with their own norm).
 */
function matched(X: Matrix, Y: Matrix, metric: string): Matched {
  const Xc = center(X).centred;
  const Yc = center(Y).centred;
  const sx = sumSquares(Xc);
  const sy = sumSquares(Yc);
  assertNotConstant(sx, 'X', metric);
  assertNotConstant(sy, 'Y', metric);
  const Xn = scaled(Xc, Math.sqrt(sx));
  const Yn = scaled(Yc, Math.sqrt(sy));
  const S = crossprod(Xn, Yn);
  const { rowInd, colInd } = linearSumAssignment(S, { maximize: true });
  let similarity = 0;
  const usedX = new Uint8Array(X.cols);
  const usedY = new Uint8Array(Y.cols);
  let r2 = 0;
  const n = X.rows;
  for (let k = 0; k < rowInd.length; k++) {
    const i = rowInd[k] as number;
    const j = colInd[k] as number;
    usedX[i] = 1;
    usedY[j] = 1;
    similarity += S.get(i, j);
    for (let t = 0; t < n; t++) {
      const d = (Xn.data[t * X.cols + i] as number) - (Yn.data[t * Y.cols + j] as number);
      r2 += d * d;
    }
  }
  for (let i = 0; i < X.cols; i++) if (!usedX[i]) for (let t = 0; t < n; t++) r2 += (Xn.data[t * X.cols + i] as number) ** 2;
  for (let j = 0; j < Y.cols; j++) if (!usedY[j]) for (let t = 0; t < n; t++) r2 += (Yn.data[t * Y.cols + j] as number) ** 2;
  return { similarity: Math.max(-1, Math.min(1, similarity)), residual: Math.sqrt(r2) };
}

const shared = {
  widths: 'rectangular-assignment',
  minRows: 3,
  symmetric: true,
  invariances: ['permutation', 'isotropic-scale', 'translation'],
} as const;

export const permutationSimilarity: MetricDefinition = {
  ...shared,
  id: 'permutation.similarity',
  title: 'Best one-to-one unit matching: max over assignments of sum S[i, pi(i)], S = Xnᵀ Yn',
  kind: 'similarity',
  range: [-1, 1],
  compute: (X, Y) => matched(X, Y, 'permutation.similarity').similarity,
};

export const permutationAngular: MetricDefinition = {
  ...shared,
  id: 'permutation.angular',
  title: 'Permutation angular distance arccos(permutation.similarity), radians',
  kind: 'distance',
  range: [0, Math.PI],
  compute: (X, Y) => chordToAngle(matched(X, Y, 'permutation.angular').residual),
};
