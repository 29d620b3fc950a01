"""Times the numpy/scipy counterparts of the @basis/tensor benchmarks.

usage: numpy_ref.py NAMES   (comma list: matmul-N, crossprod-NxD, svd-N, eigh-N, lap-N)
prints JSON {"times": {name: seconds}, "cpu": {name: cpu seconds}, "info": {...}}.
usage: numpy_ref.py --serve  one JSON request {"name": NAME} per line on stdin, one answer
{"seconds": s, "cpu": s} (or {"error": ...}) per line on stdout (bench/run.ts times each case on
basis and then here, under the same load).
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


def run_case(rng, name, out):
    """Times one case (warm-up, then best of a few runs) into out[name] and cpu[name]."""
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
            return
        c = rng.random((dims[0], dims[0]))
        out[name] = best(lambda: linear_sum_assignment(c), 3 if dims[0] <= 1024 else 2, name)


def serve():
    rng = np.random.default_rng(0)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            name = json.loads(line)["name"]
            out = {}
            run_case(rng, name, out)
            res = {"seconds": out[name], "cpu": cpu[name]} if name in out else {"error": f"{name}: not available here"}
        except Exception as e:  # noqa: BLE001 - reported to the caller, which goes on
            res = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(res), flush=True)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve()
        return
    rng = np.random.default_rng(0)
    out = {}
    for name in [s for s in sys.argv[1].split(",") if s]:
        run_case(rng, name, out)
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
