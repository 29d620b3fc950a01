// @basis/tensor: float64 matrices, exact linear algebra, seeded randomness, errors that say what is wrong.
import { BasisError, Matrix, createRng, haarOrthogonal, matmul, randn, svd } from '@basis/tensor';

const rng = createRng(0); // every random draw comes from an explicit, seeded generator
const X = randn(200, 5, rng); // 200 inputs x 5 units, float64
const Q = haarOrthogonal(5, rng); // a uniformly random rotation
const a = svd(X).s;
const b = svd(matmul(X, Q)).s; // rotating the units leaves the singular values unchanged
console.log('max |s(X) - s(XQ)| < 1e-12:', a.every((v, i) => Math.abs(v - (b[i] as number)) < 1e-12));

const M = Matrix.from([[1, 2], [3, 4]]);
console.log('M[1][0] =', M.get(1, 0));

try {
  svd(Matrix.from([[1, Number.NaN], [0, 1]])); // NaN never slips through: a BasisError names the problem
} catch (e) {
  if (e instanceof BasisError) console.log('rejected with', e.code);
}
