"""Times the numpy/scipy counterparts of the @basis/tensor benchmarks.

usage: numpy_ref.py NAMES   (comma list: matmul-N, crossprod-NxD, svd-N, eigh-N, lap-N)
prints JSON {"times": {name: seconds}, "cpu": {name: cpu seconds}, "info": {...}}.
Threads: whatever the environment gives numpy's BLAS (bench/run.ts sets OPENBLAS_NUM_THREADS,
OMP_NUM_THREADS and MKL_NUM_THREADS per row).
"""
import json
import sys
import time

import numpy as np

cpu = {}


def best(fn, reps, name):
    fn()  # warm-up, as basis does
    times, cpus = [], []
    for _ in range(reps):
        t, c = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    cpu[name] = cpus[times.index(min(times))]
    return min(times)


def main():
    rng = np.random.default_rng(0)
    out = {}
    for name in [s for s in sys.argv[1].split(",") if s]:
        kind, size = name.split("-", 1)
        dims = [int(v) for v in size.split("x")]
        if kind == "matmul":
            a, b = rng.standard_normal((dims[0], dims[0])), rng.standard_normal((dims[0], dims[0]))
            out[name] = best(lambda: a @ b, 3, name)
        elif kind == "crossprod":
            x, y = rng.standard_normal((dims[0], dims[1])), rng.standard_normal((dims[0], dims[1]))
            out[name] = best(lambda: x.T @ y, 2, name)
        elif kind == "svd":
            a = rng.standard_normal((dims[0], dims[0]))
            out[name] = best(lambda: np.linalg.svd(a, full_matrices=False), 2, name)
        elif kind == "eigh":
            a = rng.standard_normal((dims[0], dims[0]))
            s = (a + a.T) / 2
            out[name] = best(lambda: np.linalg.eigh(s), 3, name)
        elif kind == "lap":
            try:
                from scipy.optimize import linear_sum_assignment
            except ImportError:
                continue
            c = rng.random((dims[0], dims[0]))
            out[name] = best(lambda: linear_sum_assignment(c), 3 if dims[0] <= 1024 else 2, name)
        sys.stderr.write(f"  numpy {name}: {out.get(name, float('nan')):.3f} s\n")
    info = {"numpy": np.__version__}
    try:
        import scipy

        info["scipy"] = scipy.__version__
    except ImportError:
        pass
    print(json.dumps({"times": out, "cpu": cpu, "info": info}))


if __name__ == "__main__":
    main()
