import { tensor2d, type Tensor, type Tensor2D } from '@tensorflow/tfjs-core';
import { BasisError } from '../errors.js';
import { Matrix } from '../matrix.js';

/**
 * A tfjs 2-D tensor holding the matrix (float32: tfjs has no float64; values are rounded).
 * The caller owns (and must dispose) the tensor.
 *
 * @example
 * ```ts
 * const t = matrixToTensor(Matrix.from([[1, 2], [3, 4]]));
 * t.shape; // [2, 2]
 * t.dispose();
 * ```
 */
export function matrixToTensor(m: Matrix): Tensor2D {
  return tensor2d(Float32Array.from(m.data), [m.rows, m.cols], 'float32');
}

/**
 * A float64 Matrix with the values of a rank-2 tensor (rank 1 → one column, rank 0 → 1 x 1).
 * Reads synchronously (`dataSync`); the tensor is not disposed.
 */
export function tensorToMatrix(t: Tensor): Matrix {
  return fromValues(t, t.dataSync() as ArrayLike<number>);
}

/** Like {@link tensorToMatrix} but reads asynchronously (`data()`), which GPU backends prefer. */
export async function tensorToMatrixAsync(t: Tensor): Promise<Matrix> {
  return fromValues(t, (await t.data()) as ArrayLike<number>);
}

function fromValues(t: Tensor, values: ArrayLike<number>): Matrix {
  const shape = t.shape;
  if (shape.length > 2) {
    throw new BasisError('SHAPE_MISMATCH', `a Matrix needs a tensor of rank <= 2, got shape [${shape.join(', ')}]; reshape it first`);
  }
  const rows = shape.length === 0 ? 1 : (shape[0] as number);
  const cols = shape.length === 2 ? (shape[1] as number) : 1;
  return Matrix.fromArray(rows, cols, values);
}
