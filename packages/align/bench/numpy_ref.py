"""numpy/scipy implementations of every @basis/align metric, written from the definitions in the
fixtures README (the same definitions, vectorised the way a numpy user would write them), timed on
the shapes bench/run.ts asks for. Also times the all-pairs audit as a per-pair loop.

usage: numpy_ref.py --serve
  one JSON request per line on stdin, one JSON answer per line on stdout (bench/run.ts times each
  metric on basis and then here, under the same load):
  {"op": "metric", "id": "cka.linear", "n": 10000, "d": 1024, "kn": 2000}
      -> {"seconds": s, "cpu": s}; the pair for (n, d) is drawn once and kept; the N x N kernel
      metrics use its first kn rows
  {"op": "audit", "layers": 6, "n": 2000, "d": 64, "ids": ["cka.linear", ...]}
      -> {"seconds": s, "cpu": s}: the per-pair loop over two models' layers
  {"op": "info"} -> {"numpy": version, "scipy": version}
usage: numpy_ref.py --check FIXTURES   (every implemented metric against FIXTURES/metrics/*/expected.json)
usage: numpy_ref.py SHAPES QUADRATIC_SHAPES [AUDITS [METRICS]]   (one batch, for manual runs)
  SHAPES            comma-separated NxD shapes for the feature-space metrics
  QUADRATIC_SHAPES  comma-separated NxD shapes for the N x N kernel metrics (RBF, max kernel, RDM, k-NN)
  AUDITS            ';'-separated L,N,D,ids: L layers per model of N x D, metric ids separated by '+'
  METRICS           comma-separated metric ids to time (default: all)
prints JSON {"times": {"<metric>@<N>x<D>": seconds, "audit@<L>x<N>x<D>": seconds}, "cpu": {...}, "info": {...}}.
Threads: whatever numpy's BLAS uses (the caller may set OMP_NUM_THREADS / OPENBLAS_NUM_THREADS).
"""
import json
import sys
import time

import numpy as np
import scipy
from scipy.optimize import linear_sum_assignment, linprog
from scipy.spatial.distance import pdist
from scipy.stats import rankdata

from numpy_survey_geometry import SURVEY_GEOMETRY, SURVEY_GEOMETRY_QUADRATIC


def center(a):
    return a - a.mean(0)


def unit(a):
    n = np.linalg.norm(a, axis=0)
    return np.divide(a, n, out=np.zeros_like(a), where=n > 0)


def corr(x, y):
    return unit(center(x)).T @ unit(center(y))


def pad(a, p):
    return a if a.shape[1] == p else np.hstack([a, np.zeros((a.shape[0], p - a.shape[1]))])


def normalised(x, y):
    xc, yc = center(x), center(y)
    return xc / np.linalg.norm(xc), yc / np.linalg.norm(yc)


def cka_linear(x, y):
    x, y = center(x), center(y)
    return np.linalg.norm(x.T @ y) ** 2 / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y))


def hsic1_feature(xc, yc, cross):
    n = xc.shape[0]
    a, b = (xc * xc).sum(1), (yc * yc).sum(1)
    return cross - n / (n - 2) * a @ b + a.sum() * b.sum() / ((n - 1) * (n - 2))


def cka_linear_unbiased(x, y):
    x, y = center(x), center(y)
    xy = hsic1_feature(x, y, np.linalg.norm(x.T @ y) ** 2)
    xx = hsic1_feature(x, x, np.linalg.norm(x.T @ x) ** 2)
    yy = hsic1_feature(y, y, np.linalg.norm(y.T @ y) ** 2)
    return xy / np.sqrt(xx * yy)


def rbf_gram(x):
    d = pdist(x)
    s = 0.5 * np.median(d)
    sq = pdist(x, "sqeuclidean")
    k = np.zeros((x.shape[0], x.shape[0]))
    iu = np.triu_indices(x.shape[0], 1)
    k[iu] = np.exp(-sq / (2 * s * s))
    k = k + k.T
    np.fill_diagonal(k, 1.0)
    return k


def double_centre(k):
    return k - k.mean(0)[None, :] - k.mean(1)[:, None] + k.mean()


def cka_rbf(x, y):
    k, l = double_centre(rbf_gram(x)), double_centre(rbf_gram(y))
    return (k * l).sum() / np.sqrt((k * k).sum() * (l * l).sum())


def procrustes_similarity(x, y):
    x, y = normalised(x, y)
    return np.linalg.svd(x.T @ y, compute_uv=False).sum()


def procrustes_rotation(a, b):
    u, _, vt = np.linalg.svd(a.T @ b)
    return u @ vt


def procrustes_angular(x, y):
    x, y = normalised(x, y)
    p = max(x.shape[1], y.shape[1])
    x, y = pad(x, p), pad(y, p)
    r = np.linalg.norm(x @ procrustes_rotation(x, y) - y)
    return 2 * np.arcsin(min(1.0, r / 2))


def procrustes_euclidean(x, y):
    x, y = center(x), center(y)
    p = max(x.shape[1], y.shape[1])
    x, y = pad(x, p), pad(y, p)
    return np.linalg.norm(x - y @ procrustes_rotation(y, x))


def matched(x, y):
    x, y = normalised(x, y)
    s = x.T @ y
    r, c = linear_sum_assignment(s, maximize=True)
    return s[r, c].sum(), x, y, r, c


def permutation_similarity(x, y):
    return matched(x, y)[0]


def permutation_angular(x, y):
    _, x, y, r, c = matched(x, y)
    res2 = ((x[:, r] - y[:, c]) ** 2).sum() + (np.delete(x, r, 1) ** 2).sum() + (np.delete(y, c, 1) ** 2).sum()
    return 2 * np.arcsin(min(1.0, np.sqrt(res2) / 2))


def range_basis(xc):
    u, s, _ = np.linalg.svd(xc, full_matrices=False)
    rank = int((s > max(xc.shape) * 2.0**-52 * s[0]).sum())
    return u[:, :rank], s


def canonical(x, y):
    qx, _ = range_basis(center(x))
    qy, _ = range_basis(center(y))
    m = min(qx.shape[1], qy.shape[1])
    return np.clip(np.linalg.svd(qx.T @ qy, compute_uv=False)[:m], 0, 1)


def cca_mean_rho(x, y):
    return canonical(x, y).mean()


def cca_mean_rho2(x, y):
    return (canonical(x, y) ** 2).mean()


def keep99(s):
    c = np.cumsum(s**2)
    return int(np.searchsorted(c, 0.99 * c[-1]) + 1)


def svcca(x, y):
    ux, sx = range_basis(center(x))
    uy, sy = range_basis(center(y))
    kx, ky = min(keep99(sx), ux.shape[1]), min(keep99(sy), uy.shape[1])
    return np.clip(np.linalg.svd(ux[:, :kx].T @ uy[:, :ky], compute_uv=False)[: min(kx, ky)], 0, 1).mean()


def pwcca(x, y):
    xc = center(x)
    qx, _ = range_basis(xc)
    qy, _ = range_basis(center(y))
    m = min(qx.shape[1], qy.shape[1])
    u, s, _ = np.linalg.svd(qx.T @ qy)
    h = qx @ u[:, :m]
    a = np.abs(h.T @ xc).sum(1)
    return (a * np.clip(s[:m], 0, 1)).sum() / a.sum()


def permcorr(x, y):
    c = corr(x, y)
    r, k = linear_sum_assignment(c, maximize=True)
    return c[r, k].mean()


def grelu_procrustes(x, y):
    xn, yn = unit(center(x)), unit(center(y))
    s = xn.T @ yn
    r, c = linear_sum_assignment(s, maximize=True)
    delta2 = (xn**2).sum() + (yn**2).sum() - 2 * s[r, c].sum()
    return 1 - np.sqrt(max(delta2, 0)) / (2 * np.sqrt(max(x.shape[1], y.shape[1])))


def max_kernel(xn):
    n = xn.shape[0]
    chunk = max(1, 16_000_000 // (n * xn.shape[1]))  # bounded temporary (chunk x n x d)
    k = np.empty((n, n))
    for i in range(0, n, chunk):
        k[i : i + chunk] = (xn[i : i + chunk, None, :] * xn[None, :, :]).max(-1)
    np.fill_diagonal(k, 0.0)
    return k


def hsic1(k, l):
    n = k.shape[0]
    return ((k * l).sum() + k.sum() * l.sum() / ((n - 1) * (n - 2)) - 2 / (n - 2) * k.sum(0) @ l.sum(0)) / (n * (n - 3))


def grelu_cka(x, y):
    k, l = max_kernel(unit(center(x))), max_kernel(unit(center(y)))
    return hsic1(k, l) / np.sqrt(hsic1(k, k) * hsic1(l, l))


def softmatch(x, y):
    c = corr(x, y)
    dx, dy = c.shape
    if dx == dy and dx > 256:
        # equal widths: an optimal plan is a permutation / d (Birkhoff); HiGHS on d² = 1M variables takes minutes
        r, k = linear_sum_assignment(c, maximize=True)
        return c[r, k].mean()
    a_eq = np.vstack([np.kron(np.eye(dx), np.ones(dy)), np.kron(np.ones(dx), np.eye(dy))])
    b_eq = np.concatenate([np.full(dx, 1 / dx), np.full(dy, 1 / dy)])
    res = linprog((1 - c).ravel(), A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    return float(res.x @ c.ravel())


ALPHAS = [1e-3, 1e-2, 1e-1, 1, 10, 100, 1e3]


def folds(n, k=5):
    sizes = [n // k + (1 if f < n % k else 0) for f in range(k)]
    start = 0
    for s in sizes:
        test = np.arange(start, start + s)
        train = np.concatenate([np.arange(0, start), np.arange(start + s, n)])
        yield train, test
        start += s


def pearson_cols(a, b):
    a, b = center(a), center(b)
    num = (a * b).sum(0)
    den = np.sqrt((a * a).sum(0) * (b * b).sum(0))
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def linear_cv(x, y):
    scores = []
    for tr, te in folds(x.shape[0]):
        mx, my = x[tr].mean(0), y[tr].mean(0)
        xc, yc = x[tr] - mx, y[tr] - my
        n = xc.shape[0]
        u, s, vt = np.linalg.svd(xc, full_matrices=False)
        uty = u.T @ yc
        u2 = u * u
        best, alpha = np.inf, ALPHAS[0]
        for al in ALPHAS:
            f = s**2 / (s**2 + al)
            h = 1 / n + u2 @ f
            e = (yc - u @ (f[:, None] * uty)) / (1 - h)[:, None]
            crit = (e * e).sum()
            if crit < best:
                best, alpha = crit, al
        b = vt.T @ ((s / (s**2 + alpha))[:, None] * uty)
        scores.append(pearson_cols((x[te] - mx) @ b, y[te]).mean())
    return float(np.mean(scores))


def procrustes_cv(x, y):
    p = max(x.shape[1], y.shape[1])
    scores = []
    for tr, te in folds(x.shape[0]):
        mx = x[tr].mean(0)
        q = procrustes_rotation(pad(x[tr] - mx, p), pad(y[tr] - y[tr].mean(0), p))
        scores.append(pearson_cols((pad(x[te] - mx, p) @ q)[:, : y.shape[1]], y[te]).mean())
    return float(np.mean(scores))


def permutation_cv(x, y):
    scores = []
    for tr, te in folds(x.shape[0]):
        r, c = linear_sum_assignment(corr(x[tr], y[tr]), maximize=True)
        scores.append(pearson_cols(x[te][:, r], y[te][:, c]).mean())
    return float(np.mean(scores))


def rsa_spearman(x, y):
    return np.corrcoef(rankdata(pdist(x, "correlation")), rankdata(pdist(y, "correlation")))[0, 1]


def knn_sets(x, k=10):
    d = np.sum(x * x, 1)[:, None] + np.sum(x * x, 1)[None, :] - 2 * x @ x.T
    np.fill_diagonal(d, np.inf)
    return np.argsort(d, axis=1, kind="stable")[:, :k]


def knn_mutual(x, y, k=10):
    a, b = knn_sets(x, k), knn_sets(y, k)
    return float(np.mean([len(np.intersect1d(a[i], b[i], assume_unique=True)) for i in range(x.shape[0])]) / k)


# ---- survey measures (fixtures README, "Survey measures"): alignment and subspace ids ----
def numerical_rank(s, m, n):
    return int((s > max(m, n) * 2.0**-52 * s[0]).sum()) if s.size and s[0] > 0 else 0


def shape_partial_whitening(x, y, alpha=0.5):
    p = max(x.shape[1], y.shape[1])

    def phi(a):
        ac = pad(center(a), p)
        u, s, vt = np.linalg.svd(ac, full_matrices=False)
        r = numerical_rank(s, *ac.shape)
        f = alpha * ac + (1 - alpha) * (u[:, :r] @ vt[:r])
        return f / np.linalg.norm(f)

    a, b = phi(x), phi(y)
    r = np.linalg.norm(a @ procrustes_rotation(a, b) - b)
    return 2 * np.arcsin(min(1.0, r / 2))


def cosine_aligned(x, y):
    p = max(x.shape[1], y.shape[1])
    x, y = pad(x, p), pad(y, p)
    xq = x @ procrustes_rotation(x, y)
    keep = (np.abs(x).max(1) > 0) & (np.abs(y).max(1) > 0)
    cos = (xq * y).sum(1)[keep] / (np.linalg.norm(xq, axis=1) * np.linalg.norm(y, axis=1))[keep]
    return float(cos.mean())


def span_distances(v, w):
    """Distances of the columns of v from the span of the columns of w (numpy lstsq, rcond=None)."""
    if v.shape[1] == 0:
        return np.zeros(0)
    if w.shape[1] == 0:
        return np.linalg.norm(v, axis=0)
    coef = np.linalg.lstsq(w, v, rcond=None)[0]
    return np.linalg.norm(v - w @ coef, axis=0)


def maxmatch(x, y, eps=0.25):
    xc, yc = center(x), center(y)
    nx, ny = np.linalg.norm(xc, axis=0), np.linalg.norm(yc, axis=0)
    j, k = np.flatnonzero(nx > 0), np.flatnonzero(ny > 0)
    while True:
        j2 = j[span_distances(xc[:, j], yc[:, k]) <= eps * nx[j]]
        k2 = k[span_distances(yc[:, k], xc[:, j2]) <= eps * ny[k]]
        stable = len(j2) == len(j) and len(k2) == len(k)
        j, k = j2, k2
        if stable:
            return (len(j) + len(k)) / (x.shape[1] + y.shape[1])


def corrmatch_soft(x, y):
    c = corr(x, y)
    return (c.max(1).mean() + c.max(0).mean()) / 2


def linreg_r2(x, y):
    xc, yc = center(x), center(y)
    if not np.any(xc):
        return 0.0
    q, _ = range_basis(xc)
    b = q.T @ yc
    e = np.linalg.norm(b) ** 2
    return e / (e + np.linalg.norm(yc - q @ b) ** 2)


def eos(x, y):
    ux, _ = range_basis(x)
    uy, _ = range_basis(y)
    return np.linalg.norm(ux.T @ uy) ** 2 / max(x.shape[1], y.shape[1])


def gulp(x, y, lam=1e-2):
    """||H_X - H_Y||_F in the joint column space (no N x N matrix, no cancelling trace formula)."""

    def hat(a):
        ac = center(a)
        u, s, _ = np.linalg.svd(ac, full_matrices=False)
        r = numerical_rank(s, *ac.shape)
        t = s[:r] ** 2 / (s**2).sum()
        return u[:, :r], (t / (t + lam) if lam > 0 else np.ones(r))

    ux, wx = hat(x)
    uy, wy = hat(y)
    p = ux.T @ uy
    rem = uy - ux @ p
    g = rem.T @ rem
    pm = p * wy
    d1 = np.linalg.norm(np.diag(wx) - pm @ p.T) ** 2
    d2 = 2 * np.trace(pm @ g @ pm.T)
    mg = wy[:, None] * g
    d3 = np.trace(mg @ mg)
    return float(np.sqrt(d1 + max(d2, 0) + max(d3, 0)))


SURVEY_ALIGNMENT = {
    "shape.partial_whitening": shape_partial_whitening,
    "cosine.aligned": cosine_aligned,
    "maxmatch": maxmatch,
    "corrmatch.soft": corrmatch_soft,
    "linreg.r2": linreg_r2,
    "eos": eos,
    "gulp": gulp,
}


METRICS = {
    "cka.linear": cka_linear,
    "cka.linear.unbiased": cka_linear_unbiased,
    "cka.rbf": cka_rbf,
    "procrustes.similarity": procrustes_similarity,
    "procrustes.angular": procrustes_angular,
    "procrustes.euclidean": procrustes_euclidean,
    "permutation.similarity": permutation_similarity,
    "permutation.angular": permutation_angular,
    "cca.mean_rho": cca_mean_rho,
    "cca.mean_rho2": cca_mean_rho2,
    "svcca": svcca,
    "pwcca": pwcca,
    "permcorr": permcorr,
    "grelu.procrustes": grelu_procrustes,
    "grelu.cka": grelu_cka,
    "softmatch": softmatch,
    "linear.cv": linear_cv,
    "procrustes.cv": procrustes_cv,
    "permutation.cv": permutation_cv,
    "rsa.spearman": rsa_spearman,
    "knn.mutual": knn_mutual,
}
METRICS.update(SURVEY_ALIGNMENT)
QUADRATIC = {"cka.rbf", "grelu.cka", "rsa.spearman", "knn.mutual"}
METRICS.update(SURVEY_GEOMETRY)
QUADRATIC |= SURVEY_GEOMETRY_QUADRATIC


def pair_of(rng, n, d):
    x = rng.standard_normal((n, d))
    return x, x @ rng.standard_normal((d, d)) + rng.standard_normal((n, d))


CPU = {}

WARM_BELOW = 0.01  # seconds, as bench/run.ts


def warm_up(f):
    """One warm-up run, and two more when it took under WARM_BELOW seconds (as bench/run.ts does)."""
    t0 = time.perf_counter()
    f()
    if time.perf_counter() - t0 < WARM_BELOW:
        f()
        f()


def timed(f, reps, name, stat):
    """stat (min or median) of reps calls' wall seconds; CPU[name], when named, the same stat of their CPU seconds."""
    t, c = [], []
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        f()
        t.append(time.perf_counter() - t0)
        c.append(time.process_time() - c0)
    if name is not None:
        CPU[name] = float(stat(c))
    return float(stat(t))


def best(f, reps, name=None):
    return timed(f, reps, name, min)


def median(f, reps, name=None):
    """Median wall seconds of reps calls (CPU[name]: the median of their CPU seconds), as bench/run.ts
    reports a case whose basis warm-up took under its MEDIAN_BELOW."""
    return timed(f, reps, name, np.median)


def serve():
    rng = np.random.default_rng(0)
    data = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            op = req["op"]
            if op == "info":
                out = {"numpy": np.__version__, "scipy": scipy.__version__}
            elif op == "metric":
                n, d, name = int(req["n"]), int(req["d"]), req["id"]
                if (n, d) not in data:
                    data.clear()  # one shape at a time (10000 x 1024 pairs are 160 MB)
                    data[(n, d)] = pair_of(rng, n, d)
                x, y = data[(n, d)]
                quadratic = name in QUADRATIC
                if quadratic:
                    kn = int(req.get("kn", 2000))
                    x, y = x[:kn], y[:kn]
                f = METRICS[name]
                big = n * d >= 10000 * 1024 or (quadratic and d >= 1024)
                if "median" in req:  # the statistic bench/run.ts chose for this case, on both sides
                    # warm-up calls until req["warm"] seconds and 3 calls, as bench/run.ts
                    warm, calls = 0.0, 0
                    while calls < 3 or warm < float(req.get("warm", 0)):
                        t0 = time.perf_counter()
                        f(x, y)
                        warm += time.perf_counter() - t0
                        calls += 1
                    seconds = median(lambda: f(x, y), int(req["median"]), "last")
                else:
                    if not big:
                        warm_up(lambda: f(x, y))
                    seconds = best(lambda: f(x, y), 1 if big else 3, "last")
                cpu = CPU["last"]
                if big and seconds < 3:  # a quick large case: best of three, as bench/run.ts does
                    again = best(lambda: f(x, y), 2, "last")
                    if again < seconds:
                        seconds, cpu = again, CPU["last"]
                out = {"seconds": seconds, "cpu": cpu}
            elif op == "audit":
                layers, n, d = int(req["layers"]), int(req["n"]), int(req["d"])
                a = [rng.standard_normal((n, d)) for _ in range(layers)]
                b = [rng.standard_normal((n, d)) for _ in range(layers)]
                fs = [METRICS[i] for i in req["ids"]]
                out = {"seconds": best(lambda: [f(x, y) for f in fs for x in a for y in b], 1, "last"), "cpu": CPU["last"]}
            else:
                out = {"error": f"unknown op {op!r}"}
        except Exception as e:  # noqa: BLE001 - reported to the caller, which goes on
            out = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(out), flush=True)


def check(fixtures):
    """Every implemented metric on every case of FIXTURES/metrics against expected.json: prints the
    largest |got - want| / max(1, |want|) per id and exits 1 when one exceeds 1e-9."""
    import os

    worst = {}
    for case in sorted(os.listdir(os.path.join(fixtures, "metrics"))):
        d = os.path.join(fixtures, "metrics", case)
        x, y = np.load(os.path.join(d, "X.npy")), np.load(os.path.join(d, "Y.npy"))
        with open(os.path.join(d, "expected.json")) as f:
            want = json.load(f)
        for name, f in METRICS.items():
            if name in want:
                err = abs(float(f(x, y)) - want[name]) / max(1.0, abs(want[name]))
                worst[name] = max(worst.get(name, 0.0), err)
    for name, err in worst.items():
        print(f"{name:28s} {err:.2e}")
    # the iterative / CV ids of the README are held to 1e-6
    loose = {"cka.rbf", "svcca", "pwcca", "softmatch", "linear.cv", "procrustes.cv", "permutation.cv"}
    sys.exit(1 if any(e > (1e-6 if n in loose else 1e-9) for n, e in worst.items()) else 0)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve()
        return
    if len(sys.argv) > 2 and sys.argv[1] == "--check":
        check(sys.argv[2])
        return
    shapes = [tuple(int(v) for v in s.split("x")) for s in sys.argv[1].split(",") if s]
    quad = [tuple(int(v) for v in s.split("x")) for s in sys.argv[2].split(",") if s] if len(sys.argv) > 2 else []
    audits = [a for a in sys.argv[3].split(";") if a] if len(sys.argv) > 3 else []
    only = set(m for m in sys.argv[4].split(",") if m) if len(sys.argv) > 4 else set()
    rng = np.random.default_rng(0)
    out = {}
    for shapes_, kinds in ((shapes, False), (quad, True)):
        for n, d in shapes_:
            x, y = pair_of(rng, n, d)
            for name, f in METRICS.items():
                if (name in QUADRATIC) != kinds or (only and name not in only):
                    continue
                big = n * d >= 10000 * 1024 or (kinds and d >= 1024)
                if not big:
                    warm_up(lambda: f(x, y))
                out[f"{name}@{n}x{d}"] = best(lambda: f(x, y), 1 if big else 3, f"{name}@{n}x{d}")
                sys.stderr.write(f"  numpy {name}@{n}x{d}: {out[f'{name}@{n}x{d}']:.3f} s\n")
    for spec in audits:
        layers, n, d, ids = spec.split(",")
        layers, n, d = int(layers), int(n), int(d)
        a = [rng.standard_normal((n, d)) for _ in range(layers)]
        b = [rng.standard_normal((n, d)) for _ in range(layers)]
        fs = [METRICS[i] for i in ids.split("+")]
        name = f"audit@{layers}x{n}x{d}"
        out[name] = best(lambda: [f(x, y) for f in fs for x in a for y in b], 1, name)
        sys.stderr.write(f"  numpy {name}: {out[name]:.3f} s\n")
    print(json.dumps({"times": out, "cpu": CPU, "info": {"numpy": np.__version__, "scipy": scipy.__version__}}))


if __name__ == "__main__":
    main()
