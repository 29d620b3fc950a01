"""Describes the Python peer of a basis benchmark: which numpy/scipy/torch, which BLAS library they
loaded, its core type and thread count, under the environment this process was started with (the
benchmark starts the timing script with the same environment and executable).

usage: peer_info.py [torch]     prints one JSON object.

The BLAS is found the way threadpoolctl finds it: the shared libraries mapped into this process
(/proc/self/maps) whose name mentions blas/lapack/mkl/blis, each asked through ctypes for
openblas_get_corename / openblas_get_num_threads / openblas_get_config (also with the scipy_ prefix
and 64_ suffix of the scipy-openblas wheels' builds), or MKL_Get_Max_Threads.
"""
import contextlib
import ctypes
import io
import json
import os
import sys


def mapped_libraries():
    libs = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                parts = line.split()
                if len(parts) < 6 or not parts[-1].startswith("/"):
                    continue
                path = parts[-1]
                base = os.path.basename(path).lower()
                if base.startswith("lib") and any(k in base for k in ("blas", "lapack", "mkl_rt", "libmkl", "blis", "libgomp", "libomp", "libiomp")) and path not in libs:
                    libs.append(path)
    except OSError:
        pass
    return libs


def symbol(lib, name):
    for prefix in ("", "scipy_"):
        for suffix in ("", "64_"):
            try:
                return getattr(lib, prefix + name + suffix)
            except AttributeError:
                continue
    return None


def describe(path):
    try:
        lib = ctypes.CDLL(path, mode=os.RTLD_NOLOAD | ctypes.RTLD_GLOBAL)
    except OSError:
        return None
    out = {"library": os.path.realpath(path)}
    core = symbol(lib, "openblas_get_corename")
    if core is not None:
        core.restype = ctypes.c_char_p
        out["kind"] = "openblas"
        out["coreType"] = core().decode()
        threads = symbol(lib, "openblas_get_num_threads")
        if threads is not None:
            threads.restype = ctypes.c_int
            out["threads"] = threads()
        config = symbol(lib, "openblas_get_config")
        if config is not None:
            config.restype = ctypes.c_char_p
            out["config"] = config().decode()
        return out
    mkl = getattr(lib, "MKL_Get_Max_Threads", None)
    if mkl is not None:
        mkl.restype = ctypes.c_int
        out["kind"] = "mkl"
        out["threads"] = mkl()
        return out
    if "blis" in os.path.basename(path).lower():
        out["kind"] = "blis"
        return out
    return None


def main():
    info = {"python": sys.executable, "pythonVersion": sys.version.split()[0]}
    try:
        import numpy as np

        info["numpy"] = np.__version__
        a = np.ones((64, 64))
        a @ a  # loads and initialises the BLAS
        np.linalg.eigh(a)  # and LAPACK
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            try:
                np.show_config()
            except Exception as e:  # noqa: BLE001 - any failure only loses the text
                print(f"np.show_config() failed: {e}")
        info["numpyConfig"] = buf.getvalue()
    except ImportError as e:
        info["error"] = f"numpy: {e}"
    try:
        import scipy
        import scipy.linalg  # noqa: F401 - loads scipy's BLAS/LAPACK

        info["scipy"] = scipy.__version__
    except ImportError:
        info["scipy"] = None
    if len(sys.argv) > 1 and sys.argv[1] == "torch":
        try:
            import torch

            torch.set_num_threads(int(os.environ.get("BASIS_TORCH_THREADS", "1")))
            t = torch.ones(64, 64)
            t @ t
            cfg = torch.__config__.show()
            blas = next((p.split("=", 1)[1] for line in cfg.splitlines() for p in line.replace(",", " ").split() if p.startswith("BLAS_INFO=")), "unknown")
            info["torch"] = {"version": torch.__version__, "threads": torch.get_num_threads(), "blasInfo": blas, "parallel": torch.__config__.parallel_info(), "config": cfg}
        except ImportError as e:
            info["torch"] = {"error": str(e)}
    blas = []
    seen = set()
    for path in mapped_libraries():
        d = describe(path)
        if d is None or (d["library"], d.get("coreType")) in seen:
            continue
        seen.add((d["library"], d.get("coreType")))
        # which module loaded it: numpy's own copy (numpy.libs), scipy's (scipy.libs) or the system one
        where = "numpy" if "numpy" in d["library"] else "scipy" if "scipy" in d["library"] else "system"
        d["loadedBy"] = where
        blas.append(d)
    # the same library is often mapped under several names (libblas.so.3 -> libopenblasp-r0.3.21.so)
    uniq = {}
    for d in blas:
        uniq.setdefault(d["library"], d)
    info["blas"] = list(uniq.values())
    info["env"] = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY")}
    print(json.dumps(info))


if __name__ == "__main__":
    main()
