"""numpy/scipy weight matching (permutation coordinate descent, Git Re-Basin style) through the same
symmetry-spec table basis uses: for each group, C = sum over the axes it acts on of
unfold(A)^T unfold(B with the other groups applied), solved by scipy's linear_sum_assignment.
Same visiting order rule (a random order per sweep), same stopping rule (a sweep without change).

usage: numpy_ref.py DIR   (DIR holds spec.json, a/<name>.npy, b/<name>.npy)
prints JSON {"seconds": best-of-3, "sweeps": n, "objective": final}.
"""
import json
import os
import sys
import time

import numpy as np
from scipy.optimize import linear_sum_assignment


def load(d, names):
    return {n: np.load(os.path.join(d, n + '.npy')) for n in names}


def unfold(t, axis, units, repeat):
    t = np.moveaxis(t, axis, 0)  # [units*repeat, ...]
    t = t.reshape(units, repeat, -1)
    return t.transpose(1, 2, 0).reshape(-1, units)  # rows x units


def apply_perm(t, axis, perm, repeat):
    t = np.moveaxis(t, axis, 0)
    shape = t.shape
    t = t.reshape(len(perm), repeat, -1)[perm].reshape(shape)
    return np.moveaxis(t, 0, axis)


def act(params, axes, groups, perms, skip=None):
    out = dict(params)
    for name, roles in axes.items():
        t = params[name]
        for axis, r in enumerate(roles):
            if r is None or r['group'] == skip or r['group'] not in perms:
                continue
            t = apply_perm(t, axis, perms[r['group']], r.get('repeat', 1))
        out[name] = t
    return out


def match(spec, A, B, seed=0):
    groups = spec['groups']
    axes = spec['axes']
    usage = {g: [] for g in groups}
    for name, roles in axes.items():
        for axis, r in enumerate(roles):
            if r is not None:
                usage[r['group']].append((name, axis, r.get('repeat', 1)))
    perms = {g: np.arange(d['size']) for g, d in groups.items()}
    rng = np.random.default_rng(seed)
    names = list(groups)
    sweeps = 0
    while sweeps < 100:
        sweeps += 1
        changed = False
        for gi in rng.permutation(len(names)):
            g = names[gi]
            Bx = act(B, axes, groups, perms, skip=g)
            n = groups[g]['size']
            C = np.zeros((n, n))
            for name, axis, repeat in usage[g]:
                C += unfold(A[name], axis, n, repeat).T @ unfold(Bx[name], axis, n, repeat)
            _, col = linear_sum_assignment(C, maximize=True)
            old = C[np.arange(n), perms[g]].sum()
            new = C[np.arange(n), col].sum()
            if new > old + 1e-12 * max(1.0, abs(old)):
                perms[g] = col
                changed = True
        if not changed:
            break
    Bf = act(B, axes, groups, perms)
    obj = sum(float((A[k] * Bf[k]).sum()) for k in axes)
    return sweeps, obj


def main():
    d = sys.argv[1]
    spec = json.load(open(os.path.join(d, 'spec.json')))
    A = load(os.path.join(d, 'a'), spec['axes'].keys())
    B = load(os.path.join(d, 'b'), spec['axes'].keys())
    best = float('inf')
    for _ in range(3):
        t = time.perf_counter()
        sweeps, obj = match(spec, A, B)
        best = min(best, time.perf_counter() - t)
    print(json.dumps({'seconds': best, 'sweeps': sweeps, 'objective': obj, 'numpy': np.__version__}))


if __name__ == '__main__':
    main()
