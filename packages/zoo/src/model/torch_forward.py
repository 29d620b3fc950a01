"""Test peer of state-dict.test.ts: builds a PyTorch module from a basis model graph (JSON IR),
loads a state_dict written by basis with load_state_dict(strict=True), runs the forward pass in
eval mode and writes the output. Usage: torch_forward.py graph.json model.pt x.npy out.npy [graph2.json ...]

Covers the node kinds of the MLP, ResMLP, MiniMyrtle and ResNet architectures: dense, conv2d,
batchnorm, activation, maxpool/avgpool, globalavgpool, flatten, residual.
"""
import json
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Graph(nn.Module):
    def __init__(self, graph):
        super().__init__()
        self.graph = graph
        self.root = nn.ModuleDict()
        self.shapes = {}
        self._build(graph["nodes"], list(graph["input"]))

    def _put(self, name, module):
        parts = name.split(".")
        d = self.root
        for p in parts[:-1]:
            if p not in d:
                d[p] = nn.ModuleDict()
            d = d[p]
        d[parts[-1]] = module

    def _get(self, name):
        d = self.root
        for p in name.split("."):
            d = d[p]
        return d

    def _build(self, nodes, shape):
        for n in nodes:
            op = n["op"]
            if op == "dense":
                self._put(n["name"], nn.Linear(shape[-1], n["units"], bias=n.get("bias", True)))
                shape = [n["units"]]
            elif op == "conv2d":
                k, s = n["kernel"], n.get("stride", 1)
                pad = n.get("padding", "same")
                p = (k - 1) // 2 if pad == "same" else 0 if pad == "valid" else pad
                self._put(n["name"], nn.Conv2d(shape[0], n["filters"], k, stride=s, padding=p, bias=n.get("bias", True)))
                shape = [n["filters"], (shape[1] + 2 * p - k) // s + 1, (shape[2] + 2 * p - k) // s + 1]
            elif op == "batchnorm":
                cls = nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d
                self._put(n["name"], cls(shape[0], eps=n.get("eps", 1e-5), momentum=n.get("momentum", 0.1)))
            elif op in ("maxpool", "avgpool"):
                k, s, p = n["size"], n.get("stride", n["size"]), n.get("padding", 0)
                shape = [shape[0], (shape[1] + 2 * p - k) // s + 1, (shape[2] + 2 * p - k) // s + 1]
            elif op == "globalavgpool":
                shape = [shape[0]]
            elif op == "flatten":
                shape = [int(np.prod(shape))]
            elif op == "residual":
                out = self._build(n["body"], shape)
                if n.get("shortcut"):
                    self._build(n["shortcut"], shape)
                shape = out
            elif op == "activation":
                pass
            else:
                raise ValueError("unsupported op " + op)
        return shape

    def _act(self, n, x):
        fn = n["fn"]
        if fn == "relu":
            return F.relu(x)
        if fn == "leaky_relu":
            return F.leaky_relu(x, n.get("slope", 0.01))
        if fn == "tanh":
            return torch.tanh(x)
        if fn == "sigmoid":
            return torch.sigmoid(x)
        if fn == "gelu":
            return F.gelu(x)
        if fn == "identity":
            return x
        raise ValueError("unsupported activation " + fn)

    def _run(self, nodes, x):
        for n in nodes:
            op = n["op"]
            if op in ("dense", "conv2d", "batchnorm"):
                x = self._get(n["name"])(x)
            elif op == "activation":
                x = self._act(n, x)
            elif op == "maxpool":
                x = F.max_pool2d(x, n["size"], n.get("stride", n["size"]), n.get("padding", 0))
            elif op == "avgpool":
                x = F.avg_pool2d(x, n["size"], n.get("stride", n["size"]))
            elif op == "globalavgpool":
                x = x.mean(dim=(2, 3))
            elif op == "flatten":
                x = torch.flatten(x, 1)
            elif op == "residual":
                b = self._run(n["body"], x)
                s = self._run(n["shortcut"], x) if n.get("shortcut") else x
                x = b + s
        return x

    def forward(self, x):
        return self._run(self.graph["nodes"], x)


def main():
    args = sys.argv[1:]
    for i in range(0, len(args), 4):
        run(*args[i : i + 4])


def run(graph_path, pt_path, x_path, out_path):
    with open(graph_path) as f:
        graph = json.load(f)
    model = Graph(graph)
    state = torch.load(pt_path)
    # state_dict keys of the ModuleDict tree are prefixed by "root."
    model.root.load_state_dict(state, strict=True)
    model.eval()
    x = torch.from_numpy(np.load(x_path))
    with torch.no_grad():
        y = model(x).numpy().astype(np.float32)
    np.save(out_path, y)


if __name__ == "__main__":
    main()
