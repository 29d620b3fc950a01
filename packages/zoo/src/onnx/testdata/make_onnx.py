"""Writes the PyTorch-made ONNX test cases of onnx.test.ts (run with Debian's python3-torch; the
outputs are committed, so the tests need no torch):

- transformer.onnx: the zoo transformer (token + learned positional embedding, 2 pre-layernorm
  blocks of causal multi-head attention and a ReLU MLP, final layernorm, last position, linear
  read-out) written as the PyTorch module the zoo mirrors, with the zoo's parameter names;
- stem.onnx: a ResNet-style stem, conv-BN-ReLU then nn.MaxPool2d(3, 2, 1) (overlapping, padded
  windows) and nn.AvgPool2d(2, stride=1), flatten, linear;
- acts.onnx: an MLP over [N, 1, 4, 4] images flattened by x.view(x.size(0), -1) with a dynamic
  batch (PyTorch emits a Shape/Gather/Unsqueeze/Concat chain), LayerNorm, GELU, SiLU,
  LeakyReLU(0.2), Softplus, Tanh, Sigmoid, and a Softmax at the output.

Each with <name>.x.npy (inputs) and <name>.y.npy (PyTorch's outputs).
Usage: /usr/bin/python3 make_onnx.py OUTDIR
"""
import math
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
OUT = sys.argv[1]


class Attention(nn.Module):
    """The zoo's attention node: q, k, v, o projections, heads split from the width, scores / sqrt(dh)."""

    def __init__(self, d, h, T, causal):
        super().__init__()
        self.h = h
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.causal = causal
        if causal:
            self.register_buffer("mask", torch.triu(torch.full((T, T), -1e9), 1), persistent=False)

    def forward(self, x):
        N, T, d = x.shape
        h, dh = self.h, d // self.h
        q = self.q(x).view(N, T, h, dh).transpose(1, 2)
        k = self.k(x).view(N, T, h, dh).transpose(1, 2)
        v = self.v(x).view(N, T, h, dh).transpose(1, 2)
        s = q @ k.transpose(-2, -1) / math.sqrt(dh)
        if self.causal:
            s = s + self.mask
        a = torch.softmax(s, dim=-1) @ v
        return self.o(a.transpose(1, 2).reshape(N, T, d))


class Block(nn.Module):
    def __init__(self, d, h, m, T):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.ln2 = nn.LayerNorm(d)
        self.attn = nn.Module()
        self.attn.mha = Attention(d, h, T, causal=True)
        self.mlp = nn.Module()
        self.mlp.fc1 = nn.Linear(d, m)
        self.mlp.fc2 = nn.Linear(m, d)

    def forward(self, x):
        x = x + self.attn.mha(self.ln1(x))
        return x + self.mlp.fc2(F.relu(self.mlp.fc1(self.ln2(x))))


class Transformer(nn.Module):
    def __init__(self, vocab=11, T=4, d=8, h=2, m=16, layers=2, classes=7):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.pos = nn.Module()
        self.pos.weight = nn.Parameter(0.1 * torch.randn(T, d))
        self.blocks = nn.ModuleList([Block(d, h, m, T) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(d)
        self.unembed = nn.Linear(d, classes)

    def forward(self, tokens):
        x = self.embed(tokens) + self.pos.weight
        for b in self.blocks:
            x = b(x)
        return self.unembed(self.ln_f(x)[:, -1])


class Acts(nn.Module):
    def __init__(self):
        super().__init__()
        self.l0 = nn.Linear(16, 12)
        self.ln = nn.LayerNorm(12)
        self.l1 = nn.Linear(12, 12)
        self.l2 = nn.Linear(12, 10)
        self.l3 = nn.Linear(10, 10)
        self.l4 = nn.Linear(10, 8)
        self.l5 = nn.Linear(8, 8)
        self.l6 = nn.Linear(8, 5)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        x = F.gelu(self.ln(self.l0(x)))
        x = F.silu(self.l1(x))
        x = F.leaky_relu(self.l2(x), 0.2)
        x = F.softplus(self.l3(x))
        x = torch.tanh(self.l4(x))
        x = torch.sigmoid(self.l5(x))
        return torch.softmax(self.l6(x), dim=1)


class Stem(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 3 * 3, 3)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        x = F.avg_pool2d(x, 2, stride=1)
        return self.fc(torch.flatten(x, 1))


def perturb_norms(m):
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 2)
        if isinstance(mod, (nn.LayerNorm, nn.BatchNorm2d)):
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.2, 0.2)


for name, model, x, dynamic in [
    ("transformer", Transformer(), torch.randint(0, 11, (5, 4)), False),
    ("acts", Acts(), torch.randn(5, 1, 4, 4), True),
    ("stem", Stem(), torch.randn(5, 2, 8, 8), True),
]:
    perturb_norms(model)
    model.eval()
    with torch.no_grad():
        y = model(x)
    np.save(f"{OUT}/{name}.x.npy", x.numpy())
    np.save(f"{OUT}/{name}.y.npy", y.numpy().astype(np.float32))
    kw = {"dynamic_axes": {"input": {0: "N"}, "output": {0: "N"}}} if dynamic else {}
    torch.onnx.export(model, x, f"{OUT}/{name}.onnx", opset_version=13, input_names=["input"], output_names=["output"], **kw)
    print(name, "written")
