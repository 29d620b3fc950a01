"""PyTorch CPU reference for packages/zoo/bench/run.ts: the same training on the same data.

Usage: torch_ref.py DATA_DIR MODELS EPOCHS [MAX_STEPS]
  EPOCHS: one count for all models, or a comma list, one per model.
  MODELS: comma list of mlp, cnn; data from run.ts as .npy. With MAX_STEPS (a comma list, one per
  model), steps 3..MAX_STEPS are timed and extrapolated to an epoch (quick mode), as
  bench/train-epochs.ts does.
Prints one JSON object: per model the epoch times (wall and process CPU seconds) and test
accuracy, plus torch's version, threads, BLAS and a 1024^3 matmul rate. Threads come from
torch.set_num_threads(BASIS_TORCH_THREADS or 1).
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def mini_myrtle(c):
    def block(i, o, pool):
        layers = [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU()]
        return layers + ([nn.MaxPool2d(2)] if pool else [])

    return nn.Sequential(*block(1, c, False), *block(c, 2 * c, True), *block(2 * c, 2 * c, True), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * c, 10))


def train(kind, X, Y, Xt, Yt, epochs, max_steps=None, batch=128):
    torch.manual_seed(0)
    if kind == "mlp":
        X, Xt = X.reshape(len(X), -1), Xt.reshape(len(Xt), -1)
        model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    else:
        model = mini_myrtle(16)
    n = len(X)
    steps = epochs * math.ceil(n / batch)
    opt = torch.optim.SGD(model.parameters(), lr=0.1 if kind == "mlp" else 0.1, momentum=0.9, nesterov=True, weight_decay=1e-4 if kind == "mlp" else 5e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    out = {"epochs": [], "cpu": [], "extrapolated": max_steps is not None}
    for _ in range(epochs):
        t, c = time.perf_counter(), time.process_time()
        model.train()
        perm = torch.randperm(n)
        for step, i in enumerate(range(0, n, batch)):
            if max_steps is not None and step == 2:
                t, c = time.perf_counter(), time.process_time()
            if max_steps is not None and step == max_steps:
                break
            idx = perm[i : i + batch]
            opt.zero_grad()
            F.cross_entropy(model(X[idx]), Y[idx]).backward()
            opt.step()
            sched.step()
        k = 1 if max_steps is None else math.ceil(n / batch) / (max_steps - 2)
        out["epochs"].append((time.perf_counter() - t) * k)
        out["cpu"].append((time.process_time() - c) * k)
        if max_steps is not None:
            break
    model.eval()
    with torch.no_grad():
        out["testAccuracy"] = (model(Xt).argmax(1) == Yt).float().mean().item()
    return out


def main():
    d, models, epochs = sys.argv[1], sys.argv[2].split(","), [int(v) for v in sys.argv[3].split(",")]
    max_steps = [int(v) for v in sys.argv[4].split(",")] if len(sys.argv) > 4 else None
    torch.set_num_threads(int(os.environ.get("BASIS_TORCH_THREADS", "1")))
    X = torch.from_numpy(np.load(os.path.join(d, "train_x.npy")))
    Y = torch.from_numpy(np.load(os.path.join(d, "train_y.npy"))).long()
    Xt = torch.from_numpy(np.load(os.path.join(d, "test_x.npy")))
    Yt = torch.from_numpy(np.load(os.path.join(d, "test_y.npy"))).long()
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    a @ b
    t = time.perf_counter()
    for _ in range(5):
        a @ b
    gflops = 5 * 2 * 1024**3 / (time.perf_counter() - t) / 1e9
    cfg = torch.__config__.show()
    blas = next((part.split("=", 1)[1] for line in cfg.splitlines() for part in line.replace(",", " ").split() if part.startswith("BLAS_INFO=")), "unknown")
    result = {"info": {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas, "matmulGflops": gflops}}
    for i, m in enumerate(models):
        result[m] = train(m, X, Y, Xt, Yt, epochs[min(i, len(epochs) - 1)], None if max_steps is None else max_steps[i])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
