"""Writes the bundled example activations a.npy and b.npy (float64, C order).

a: ReLU features of a random one-hidden-layer network on 200 inputs (32 units).
b: the same features with units permuted, positively rescaled and lightly perturbed, plus
   8 unrelated units: a "second seed" whose representation matches a up to G_ReLU plus noise.
Run: python3 examples/make.py  (numpy >= 1.17; the committed files are the reference).
"""
import numpy as np
from pathlib import Path

rng = np.random.default_rng(20261122)
n, d_in, d = 200, 8, 32
Z = rng.standard_normal((n, d_in))
W = rng.standard_normal((d_in, d)) / np.sqrt(d_in)
b = 0.1 * rng.standard_normal(d)
A = np.maximum(Z @ W + b, 0.0)
perm = rng.permutation(d)
scale = np.exp(0.5 * rng.standard_normal(d))
B = A[:, perm] * scale + 0.05 * rng.standard_normal((n, d))
extra = np.maximum(rng.standard_normal((n, 8)), 0.0)
B = np.concatenate([B, extra], axis=1)
here = Path(__file__).parent
np.save(here / "a.npy", np.ascontiguousarray(A, dtype="<f8"))
np.save(here / "b.npy", np.ascontiguousarray(B, dtype="<f8"))
print("wrote", A.shape, B.shape)
