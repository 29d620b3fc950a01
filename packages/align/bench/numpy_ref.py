"""numpy/scipy implementations of a few @basis/align metrics, written from the fixtures README
definitions, timed on the same shapes as bench/run.ts; prints JSON {"<metric>@<N>x<d>": seconds}."""
import json
import sys
import time

import numpy as np
from scipy.optimize import linear_sum_assignment

def center(a):
    return a - a.mean(0)

def cka_linear(x, y):
    x, y = center(x), center(y)
    return np.linalg.norm(x.T @ y) ** 2 / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y))

def procrustes_similarity(x, y):
    x, y = center(x), center(y)
    x, y = x / np.linalg.norm(x), y / np.linalg.norm(y)
    return np.linalg.svd(x.T @ y, compute_uv=False).sum()

def permutation_similarity(x, y):
    x, y = center(x), center(y)
    s = (x / np.linalg.norm(x)).T @ (y / np.linalg.norm(y))
    r, c = linear_sum_assignment(s, maximize=True)
    return s[r, c].sum()

def cca_mean_rho(x, y):
    qx = np.linalg.svd(center(x), full_matrices=False)[0]
    qy = np.linalg.svd(center(y), full_matrices=False)[0]
    return np.clip(np.linalg.svd(qx.T @ qy, compute_uv=False), 0, 1).mean()

def permcorr(x, y):
    x, y = center(x), center(y)
    c = (x / np.linalg.norm(x, axis=0)).T @ (y / np.linalg.norm(y, axis=0))
    r, k = linear_sum_assignment(c, maximize=True)
    return c[r, k].mean()

METRICS = {"cka.linear": cka_linear, "procrustes.similarity": procrustes_similarity,
           "permutation.similarity": permutation_similarity, "cca.mean_rho": cca_mean_rho, "permcorr": permcorr}
shapes = [tuple(int(v) for v in s.split("x")) for s in sys.argv[1].split(",")]
rng = np.random.default_rng(0)
out = {}
for n, d in shapes:
    x = rng.standard_normal((n, d)); y = x @ rng.standard_normal((d, d)) + rng.standard_normal((n, d))
    for name, f in METRICS.items():
        f(x, y)
        best = min((lambda t0: (f(x, y), time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(3))
        out[f"{name}@{n}x{d}"] = best
print(json.dumps(out))
