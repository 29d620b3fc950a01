// @basis/degeneracy: the interaction basis of a small MLP, and a local learning coefficient by SGLD.
import { createRng, randn } from '@basis/tensor';
import { initParams, mlp, toFloat64 } from '@basis/zoo';
import { estimateLlc, interactionBasisMlp } from '@basis/degeneracy';

const graph = mlp({ inputDim: 6, width: 12, depth: 2, classes: 3 });
const params = toFloat64(initParams(graph, createRng(0)));
const X = randn(200, 6, createRng(1));
const nb = interactionBasisMlp(graph, params, X, { scaling: 'sqrt' });
for (const s of nb.summary) console.log(`${s.name}: width ${s.d}, rank ${s.r}, basis size ${s.s}`);

// The LLC of L(w) = w⁴ at 0 is 1/4 (a degenerate minimum counts as a quarter of a parameter).
const quartic = { dim: 1, n: 1, lossAndGrad: (w: Float64Array) => ({ loss: (w[0] as number) ** 4, grad: Float64Array.of(4 * (w[0] as number) ** 3) }) };
const est = estimateLlc(quartic, new Float64Array(1), { nBeta: 100, gamma: 0, step: 1e-3, draws: 5000, seed: 0 });
console.log('LLC of w^4 within 0.1 of 1/4:', Math.abs(est.llc - 0.25) < 0.1);
