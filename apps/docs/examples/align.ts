// @basis/align: the same representation, seen through metrics with different invariances.
import { createRng, haarOrthogonal, matmul, permutation, randn, Matrix } from '@basis/tensor';
import { listMetrics, metric } from '@basis/align';

const rng = createRng(1);
const X = randn(300, 8, rng); // activations: 300 inputs x 8 units
const rotated = matmul(X, haarOrthogonal(8, rng)); // Y = X Q
const perm = permutation(8, rng);
const permuted = Matrix.fromArray(300, 8, Array.from({ length: 300 * 8 }, (_, k) => X.get(Math.floor(k / 8), perm[k % 8] as number)));

for (const id of ['cka.linear', 'procrustes.similarity', 'permutation.similarity']) {
  const r = metric(id, X, rotated).value;
  const p = metric(id, X, permuted).value;
  console.log(`${id}: rotated ${r.toFixed(3)}, permuted ${p.toFixed(3)}`);
}
const rotationInvariant = listMetrics().filter((d) => d.invariances.includes('rotation')).map((d) => d.id);
console.log('rotation-invariant metrics include cka.linear:', rotationInvariant.includes('cka.linear'));
