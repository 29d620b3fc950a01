"""numpy/scipy versions of the survey measures on row geometry (fixtures README, "Survey measures"):
rsm.norm, dcor, riemann, knn.*, stat.*, imd -- written from the definitions the way a numpy user
would: distances by scipy's pdist (computed directly, as the definitions ask), N x N matrices,
scipy.linalg.eigh for the generalised eigenvalues of riemann and numpy's eigvalsh for the imd
Laplacian. Imported by numpy_ref.py (METRICS, QUADRATIC, and its --check against the fixtures).
"""
import numpy as np
import scipy.linalg
from scipy.spatial.distance import pdist, squareform
from scipy.special import logsumexp


def _dist(x):
    return squareform(pdist(x))


def rsm_norm(x, y):
    return float(np.sqrt(2 * ((pdist(x) - pdist(y)) ** 2).sum()))


def _double_centred(d):
    return d - d.mean(0)[None, :] - d.mean(1)[:, None] + d.mean()


def dcor(x, y):
    a, b = _double_centred(_dist(x)), _double_centred(_dist(y))
    return float(np.sqrt((a * b).mean() / np.sqrt((a * a).mean() * (b * b).mean())))


def _gram_rsm(x, eps):
    xc = x - x.mean(0)
    k = xc @ xc.T * (x.shape[0] / (xc * xc).sum())
    return k + eps * np.eye(x.shape[0])


def riemann(x, y, eps=1e-2):
    mu = scipy.linalg.eigh(_gram_rsm(y, eps), _gram_rsm(x, eps), eigvals_only=True)
    return float(np.sqrt((np.log(mu) ** 2).sum()))


def _cosine_knn(x, k):
    n = np.linalg.norm(x, axis=1)
    u = np.divide(x, n[:, None], out=np.zeros_like(x), where=n[:, None] > 0)
    s = u @ u.T
    np.fill_diagonal(s, -np.inf)
    return np.argsort(-s, axis=1, kind="stable")[:, :k], s


def _cos(a, b):
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return 0.0 if na == 0 or nb == 0 else float(a @ b / (na * nb))


def _knn_parts(x, y, k):
    a, _ = _cosine_knn(x, k)
    b, _ = _cosine_knn(y, k)
    harmonic = np.concatenate([[0.0], np.cumsum(1 / np.arange(1, k + 1))])
    jac, rank = [], []
    for i in range(x.shape[0]):
        ra = {j: r + 1 for r, j in enumerate(a[i])}
        rb = {j: r + 1 for r, j in enumerate(b[i])}
        shared = [j for j in a[i] if j in rb]
        m = len(shared)
        jac.append(m / (2 * k - m))
        rs = sum(2 / ((1 + abs(ra[j] - rb[j])) * (ra[j] + rb[j])) for j in shared)
        rank.append(rs / harmonic[m] if m > 0 else 0.0)
    return np.array(jac), np.array(rank), a, b


def knn_jaccard(x, y, k=10):
    return float(_knn_parts(x, y, k)[0].mean())


def knn_rank(x, y, k=10):
    return float(_knn_parts(x, y, k)[1].mean())


def knn_rank_jaccard(x, y, k=10):
    j, r, _, _ = _knn_parts(x, y, k)
    return float((j * r).mean())


def knn_second_order_cosine(x, y, k=10):
    a, _ = _cosine_knn(x, k)
    b, _ = _cosine_knn(y, k)
    nx, ny = np.linalg.norm(x, axis=1), np.linalg.norm(y, axis=1)
    out = []
    for i in range(x.shape[0]):
        u = np.union1d(a[i], b[i])
        cx = x[u] @ x[i]
        cy = y[u] @ y[i]
        cx = np.divide(cx, nx[u] * nx[i], out=np.zeros_like(cx), where=nx[u] * nx[i] > 0)
        cy = np.divide(cy, ny[u] * ny[i], out=np.zeros_like(cy), where=ny[u] * ny[i] > 0)
        out.append(_cos(cx, cy))
    return float(np.mean(out))


def stat_magnitude(x, y):
    return float(abs(np.linalg.norm(x.mean(0)) - np.linalg.norm(y.mean(0))))


def _concentricity(x):
    m = x.mean(0)
    nm = np.linalg.norm(m)
    if nm == 0:
        return 0.0
    n = np.linalg.norm(x, axis=1)
    c = np.divide(x @ m, n * nm, out=np.zeros(x.shape[0]), where=n > 0)
    return float(c.mean())


def stat_concentricity(x, y):
    return abs(_concentricity(x) - _concentricity(y))


def _uniformity(x, t=2.0):
    # ln((1/N²)(N + 2 sum_{i<j} exp(-t D²))) + ln N = log1p((2/N) sum_{i<j} exp(-t D²)), by log-sum-exp
    l = logsumexp(-t * pdist(x, "sqeuclidean")) + np.log(2 / x.shape[0])
    return float(np.logaddexp(0.0, l))


def stat_uniformity(x, y, t=2.0):
    return abs(_uniformity(x, t) - _uniformity(y, t))


def _twonn(x):
    d = _dist(x)
    np.fill_diagonal(d, np.inf)
    r = np.sort(np.partition(d, 1, axis=1)[:, :2], axis=1)
    return x.shape[0] / np.log(r[:, 1] / r[:, 0]).sum()


def stat_intrinsic_dim(x, y):
    return float(abs(_twonn(x) - _twonn(y)))


def _laplacian_spectrum(x, k):
    d = squareform(pdist(x, "sqeuclidean"))
    np.fill_diagonal(d, np.inf)
    nn = np.argsort(d, axis=1, kind="stable")[:, :k]
    n = x.shape[0]
    a = np.zeros((n, n))
    a[np.repeat(np.arange(n), k), nn.ravel()] = 1
    a = np.maximum(a, a.T)
    s = 1 / np.sqrt(a.sum(1))
    return np.linalg.eigvalsh(np.eye(n) - s[:, None] * a * s[None, :]), a


def imd(x, y, k=5):
    lx, ax = _laplacian_spectrum(x, k)
    ly, ay = _laplacian_spectrum(y, k)
    if np.array_equal(ax, ay):
        return 0.0
    t = np.logspace(-1, 1, 256)
    hx = 1e6 * np.exp(-np.outer(t, lx)).mean(1)
    hy = 1e6 * np.exp(-np.outer(t, ly)).mean(1)
    return float((np.exp(-2 * (t + 1 / t)) * np.abs(hx - hy)).max())


SURVEY_GEOMETRY = {
    "rsm.norm": rsm_norm,
    "dcor": dcor,
    "riemann": riemann,
    "knn.jaccard": knn_jaccard,
    "knn.second_order_cosine": knn_second_order_cosine,
    "knn.rank": knn_rank,
    "knn.rank_jaccard": knn_rank_jaccard,
    "stat.magnitude": stat_magnitude,
    "stat.concentricity": stat_concentricity,
    "stat.uniformity": stat_uniformity,
    "stat.intrinsic_dim": stat_intrinsic_dim,
    "imd": imd,
}
# timed on the first 2000 rows in bench/run.ts (riemann here: scipy's N x N generalised eigenproblem)
SURVEY_GEOMETRY_QUADRATIC = set(SURVEY_GEOMETRY) - {"stat.magnitude", "stat.concentricity"}
