// @basis/symmetry: an activation's intertwiner group, and a group element that moves the weights
// of a ReLU network without changing what it computes.
import { Matrix, createRng, matmul, randn } from '@basis/tensor';
import { act, denseChainSpec, probeActivation, sampleAssignment } from '@basis/symmetry';

console.log('relu:', probeActivation((x) => Math.max(0, x)).group); // permutations x positive scalings
console.log('tanh:', probeActivation(Math.tanh).group); // permutations x sign flips
console.log('SiLU:', probeActivation((x) => x / (1 + Math.exp(-x))).group); // permutations only

// A 6-16-3 ReLU MLP in float64: weights are PyTorch-style [out, in] matrices.
const rng = createRng(0);
const params = { w1: randn(16, 6, rng), b1: { shape: [16], data: randn(1, 16, rng).data }, w2: randn(3, 16, rng) };
const spec = denseChainSpec([{ weight: 'w1', bias: 'b1' }, { weight: 'w2' }], [16], { kind: 'positive-monomial', activation: 'relu' });
const asMatrix = (t: { shape: readonly number[]; data: ArrayLike<number> }): Matrix =>
  Matrix.fromArray(t.shape[0] as number, t.data.length / (t.shape[0] as number), t.data);
const hidden = (p: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>, X: Matrix): Matrix => {
  const W1 = asMatrix(p['w1']!), b1 = p['b1']!.data;
  const H = matmul(X, W1.transpose());
  return Matrix.fromArray(H.rows, H.cols, H.data.map((v, k) => Math.max(0, v + (b1[k % H.cols] as number))));
};
const output = (p: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>, X: Matrix): Matrix => matmul(hidden(p, X), asMatrix(p['w2']!).transpose());

const moved = act(params, spec, sampleAssignment(spec, createRng(1))); // permute and rescale the 16 hidden units
const X = randn(50, 6, rng);
const maxDiff = (a: Matrix, b: Matrix): number => a.data.reduce((m, v, k) => Math.max(m, Math.abs(v - (b.data[k] as number))), 0);
console.log('outputs equal:', maxDiff(output(params, X), output(moved, X)) < 1e-10);
console.log('hidden units changed:', maxDiff(hidden(params, X), hidden(moved, X)) > 0.1);
