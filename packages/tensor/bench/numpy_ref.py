"""Times the numpy/scipy counterparts of the @basis/tensor benchmarks; prints JSON {name: seconds}.

Used by bench/run.ts when a python3 with numpy (and scipy for LAP) is available.
Threads: whatever numpy's BLAS uses by default on this machine (reported in the output).
"""
import json
import sys
import time

import numpy as np

cpu = {}


def best(fn, reps, name=None):
    times = []
    cpus = []
    for _ in range(reps):
        t = time.perf_counter()
        c = time.process_time()
        fn()
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    if name is not None:
        cpu[name] = min(cpus)
    return min(times)

only = set(sys.argv[1].split(",")) if len(sys.argv) > 1 and sys.argv[1] else None
rng = np.random.default_rng(0)
out = {}
def want(name):
    return only is None or name in only

if want("matmul-1024"):
    a = rng.standard_normal((1024, 1024)); b = rng.standard_normal((1024, 1024))
    out["matmul-1024"] = best(lambda: a @ b, 5, "matmul-1024")
if want("crossprod-10000x1024"):
    x = rng.standard_normal((10000, 1024)); y = rng.standard_normal((10000, 1024))
    out["crossprod-10000x1024"] = best(lambda: x.T @ y, 3, "crossprod-10000x1024")
if want("svd-1024"):
    a = rng.standard_normal((1024, 1024))
    out["svd-1024"] = best(lambda: np.linalg.svd(a, full_matrices=False), 3, "svd-1024")
for n in (256, 512, 1024):
    name = f"eigh-{n}"
    if want(name):
        a = rng.standard_normal((n, n)); s = (a + a.T) / 2
        out[name] = best(lambda: np.linalg.eigh(s), 3 if n == 1024 else 5, name)
try:
    from scipy.optimize import linear_sum_assignment
    for n in (1024, 2048):
        name = f"lap-{n}"
        if want(name):
            c = rng.random((n, n))
            out[name] = best(lambda: linear_sum_assignment(c), 3, name)
except ImportError:
    pass
info = {"numpy": np.__version__}
try:
    import scipy
    info["scipy"] = scipy.__version__
except ImportError:
    pass
print(json.dumps({"times": out, "cpu": cpu, "info": info}))
