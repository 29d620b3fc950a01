"""Writes the PyTorch test files read by ../torch.test.ts, and torch-expected.json.

Run from this folder with a python3 that has torch (Debian's python3-torch is 1.13):
    /usr/bin/python3 make_torch_fixtures.py

Files (all small; torch.save names the archive root after the file stem, as 1.13 does):
  torch-model.pt       state_dict of Conv2d + BatchNorm2d + Linear after one training step (so
                       running stats and num_batches_tracked are set), plus views: a transpose
                       sharing fc.weight's storage, a strided slice with a storage offset, and
                       a stride-0 expand
  torch-dtypes.pt      a plain dict: float64/32/16, bfloat16, int64/32/16/8, uint8, bool, an
                       empty (0, 3) tensor, 0-d scalars, inf/nan
  torch-checkpoint.pt  nested: {'model': state_dict(keep_vars=True) (nn.Parameter ->
                       _rebuild_parameter), 'optimizer': Adam state after one step, 'epoch',
                       'lr', 'name', 'done', 'note': None}
  torch-protocol4.pt   torch.save(..., pickle_protocol=4): FRAME, SHORT_BINUNICODE, MEMOIZE,
                       STACK_GLOBAL
  torch-namespace.pt   a checkpoint holding argparse.Namespace (a forbidden global)
  torch-deflate.pt     torch-dtypes.pt re-zipped by Python's zipfile with deflate (torch.load
                       reads it; checks the inflate path and a writer without 64-byte alignment)
  torch-2x-big.pt      the layout PyTorch 2.x writes (root 'archive', byteorder record,
                       .data/serialization_id), here with byteorder 'big' and byte-swapped
                       storages, re-zipped by Python's zipfile
"""
import argparse
import io
import json
import math
import struct
import zipfile
from collections import OrderedDict

import torch

torch.manual_seed(0)
expected = {}


def values(t):
    flat = t.detach().contiguous().reshape(-1)
    if t.dtype in (torch.int64,):
        return [str(int(v)) for v in flat.tolist()]
    if t.dtype == torch.bool:
        return [1 if v else 0 for v in flat.tolist()]
    out = []
    for v in flat.to(torch.float64).tolist():
        out.append("nan" if math.isnan(v) else "inf" if v == math.inf else "-inf" if v == -math.inf else v)
    return out


def describe(tensors):
    return {k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape), "values": values(v)} for k, v in tensors.items()}


def flatten(obj, prefix=""):
    """Mirrors readTorch's naming: nested dict keys / list indices joined with '.'."""
    out = OrderedDict()
    join = lambda k: f"{prefix}.{k}" if prefix else str(k)
    if isinstance(obj, torch.Tensor):
        out[prefix] = obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out.update(flatten(v, join(k)))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            out.update(flatten(v, join(i)))
    return out


# --- torch-model.pt
model = torch.nn.Sequential(
    torch.nn.Conv2d(1, 2, 3),
    torch.nn.BatchNorm2d(2),
    torch.nn.ReLU(),
    torch.nn.Flatten(),
    torch.nn.Linear(8, 3),
)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
loss = model(torch.randn(4, 1, 4, 4)).pow(2).mean()
loss.backward()
opt.step()
sd = model.state_dict()
sd["extra.fc_weight_t"] = sd["4.weight"].t()  # non-contiguous, shares 4.weight's storage
sd["extra.slice"] = torch.arange(20, dtype=torch.float32).reshape(4, 5)[1:3, ::2]  # offset 5, stride (5, 2)
sd["extra.expand"] = torch.tensor([1.0, -2.0, 3.5]).expand(2, 3)  # stride (0, 1)
assert not sd["extra.fc_weight_t"].is_contiguous() and sd["extra.slice"].storage_offset() == 5
torch.save(sd, "torch-model.pt")
expected["torch-model.pt"] = {"tensors": describe(sd), "skipped": ["_metadata"]}

# --- torch-dtypes.pt
dtypes = {
    "f64": torch.tensor([[math.pi, -1e-300], [2.0**52 + 1, 0.1]], dtype=torch.float64),
    "f32": torch.tensor([1.5, -0.0, math.inf, -math.inf, math.nan, 3.4e38], dtype=torch.float32),
    "f16": torch.tensor([0.5, -2.0, 65504.0, 6e-8, 1.0 / 3], dtype=torch.float16),
    "bf16": torch.tensor([1.0, -3.140625, 1e30, 2.0**-130], dtype=torch.bfloat16),
    "i64": torch.tensor([1, -2, 2**62 + 1, -(2**63), 2**53 + 1], dtype=torch.int64),
    "i32": torch.tensor([[2**31 - 1, -(2**31)], [0, 7]], dtype=torch.int32),
    "i16": torch.tensor([-32768, 32767, 5], dtype=torch.int16),
    "i8": torch.tensor([-128, 127, 0], dtype=torch.int8),
    "u8": torch.tensor([0, 255, 128], dtype=torch.uint8),
    "bool": torch.tensor([[True, False], [False, True]]),
    "empty": torch.zeros(0, 3),
    "scalar": torch.tensor(2.5),
    "scalar_i64": torch.tensor(-7),
    "cube": torch.arange(24, dtype=torch.float32).reshape(2, 3, 4).permute(2, 0, 1),  # non-contiguous 3-D
}
torch.save(dtypes, "torch-dtypes.pt")
expected["torch-dtypes.pt"] = {"tensors": describe(dtypes), "skipped": []}

# --- torch-checkpoint.pt
small = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.LayerNorm(2))
adam = torch.optim.Adam(small.parameters(), lr=1e-3)
small(torch.randn(5, 3)).sum().backward()
adam.step()
ckpt = {
    "model": small.state_dict(keep_vars=True),  # values are nn.Parameter
    "optimizer": adam.state_dict(),
    "epoch": 3,
    "lr": 0.001,
    "name": "run-1",
    "done": True,
    "note": None,
}
assert isinstance(ckpt["model"]["0.weight"], torch.nn.Parameter)
torch.save(ckpt, "torch-checkpoint.pt")
flat = flatten(ckpt)
expected["torch-checkpoint.pt"] = {
    "tensors": describe(flat),
    "skipped_includes": ["model._metadata", "epoch", "lr", "name", "done", "note", "optimizer.param_groups.0.lr", "optimizer.param_groups.0.betas.0"],
}

# --- torch-protocol4.pt
p4 = OrderedDict([("a", torch.arange(6, dtype=torch.float32).reshape(2, 3)), ("b", torch.tensor([True, False]))])
torch.save(p4, "torch-protocol4.pt", pickle_protocol=4)
expected["torch-protocol4.pt"] = {"tensors": describe(p4), "skipped": []}

# --- torch-namespace.pt
torch.save({"args": argparse.Namespace(lr=0.1), "w": torch.ones(2)}, "torch-namespace.pt")


def rezip(src, dst, root, compression, transform=None, extra=()):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression=compression) as zout:
        old = zin.namelist()[0].split("/")[0]
        for name in zin.namelist():
            data = zin.read(name)
            rel = name[len(old) + 1 :]
            if transform is not None:
                data = transform(rel, data)
            zout.writestr(f"{root}/{rel}", data)
        for rel, data in extra:
            zout.writestr(f"{root}/{rel}", data)


# --- torch-deflate.pt
rezip("torch-dtypes.pt", "torch-deflate.pt", "torch-deflate", zipfile.ZIP_DEFLATED)
assert all(torch.equal(a, b) or (a.isnan().any()) for a, b in zip(torch.load("torch-deflate.pt").values(), dtypes.values()))

# --- torch-2x-big.pt: contiguous tensors, one storage each, keys '0', '1', ... in dict order
big = OrderedDict([
    ("w", torch.tensor([[1.0, -2.5], [3.25, 1e-3]], dtype=torch.float32)),
    ("h", torch.tensor([0.5, -65504.0], dtype=torch.float16)),
    ("n", torch.tensor([2**40 + 3, -1], dtype=torch.int64)),
    ("b", torch.tensor([True, False, True])),
])
buf = io.BytesIO()
torch.save(big, buf)
sizes = {str(i): t.element_size() for i, t in enumerate(big.values())}


def swap(rel, data):
    if rel.startswith("data/") and sizes[rel[5:]] > 1:
        k = sizes[rel[5:]]
        return b"".join(data[i : i + k][::-1] for i in range(0, len(data), k))
    return data


buf.seek(0)
rezip(buf, "torch-2x-big.pt", "archive", zipfile.ZIP_STORED, swap, [("byteorder", b"big"), (".data/serialization_id", b"0123456789012345678901234567890123456789")])
expected["torch-2x-big.pt"] = {"tensors": describe(big), "skipped": []}

with open("torch-expected.json", "w") as f:
    json.dump(expected, f, indent=1)
    f.write("\n")
print("wrote", ", ".join(sorted(expected)), "and torch-namespace.pt")
