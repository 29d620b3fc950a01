"""Writes the .npy/.npz/.safetensors test files read by ../io.test.ts, and expected.json.

Run from this folder with a python3 that has numpy: python3 make.py
The safetensors file is written byte by byte from the format specification (8-byte little-endian
header length, JSON header padded with spaces to a multiple of 8, raw little-endian data), as the
reference `safetensors` library lays it out, because that library is not installable here.
"""
import json
import struct

import numpy as np

expected = {}

def save(name, arr, **kw):
    np.save(name, arr, **kw)
    expected[name] = {"shape": list(arr.shape), "values": arr.astype(np.float64).ravel(order="C").tolist() if arr.dtype != np.int64 else [int(v) for v in arr.ravel(order="C")]}

a = np.arange(12, dtype="<f8").reshape(3, 4) / 7
save("f8-c.npy", a)
save("f8-fortran.npy", np.asfortranarray(a))
save("f8-big.npy", a.astype(">f8"))
save("f4-big-fortran-3d.npy", np.asfortranarray((np.arange(24, dtype=">f4").reshape(2, 3, 4) - 5) / 3))
save("f2.npy", np.array([[0.5, -2.0, 65504.0], [1e-7, 3.14159, -0.0]], dtype="<f2"))
save("i8.npy", np.array([1, -2, 2**40, -(2**53)], dtype="<i8"))
save("u1.npy", np.array([[0, 255], [7, 128]], dtype="u1"))
save("bool.npy", np.array([True, False, True]))
save("i2-big.npy", np.array([[-300, 5], [12000, -1]], dtype=">i2"))
save("scalar.npy", np.array(2.5))
# format version 2.0 (4-byte header length)
try:
    with open("v2.npy", "wb") as f:
        np.lib.format.write_array(f, a, version=(2, 0))
    expected["v2.npy"] = {"shape": list(a.shape), "values": a.ravel().tolist()}
except Exception as e:  # pragma: no cover
    print("v2 skipped", e)

np.savez_compressed("pair.npz", acts=a, labels=np.array([3, 1, 2], dtype="<i4"))
expected["pair.npz"] = {"acts": a.ravel().tolist(), "labels": [3, 1, 2]}

def safetensors(path, tensors, metadata):
    # tensors: list of (name, dtype string, shape, raw bytes); order as given
    header = {"__metadata__": metadata} if metadata else {}
    offset = 0
    for name, dt, shape, raw in tensors:
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for _, _, _, raw in tensors:
            f.write(raw)

w = (np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5) / 4
bf16 = (w.view(np.uint32) >> 16).astype("<u2")  # exact: these values fit bfloat16
half = np.array([1.5, -0.25, 1024.0, 6.1e-5], dtype="<f2")
safetensors("model.safetensors", [
    ("layers.0.weight", "F32", [2, 3], w.astype("<f4").tobytes()),
    ("layers.0.bf16", "BF16", [2, 3], bf16.tobytes()),
    ("layers.1.half", "F16", [4], half.tobytes()),
    ("steps", "I64", [1], np.array([123456789012], dtype="<i8").tobytes()),
], {"format": "pt", "note": "written by make.py"})
expected["model.safetensors"] = {
    "layers.0.weight": w.astype(np.float64).ravel().tolist(),
    "layers.0.bf16": w.astype(np.float64).ravel().tolist(),
    "layers.1.half": half.astype(np.float64).tolist(),
    "steps": [123456789012],
    "metadata": {"format": "pt", "note": "written by make.py"},
}

with open("expected.json", "w") as f:
    json.dump(expected, f, indent=1)
print("wrote", sorted(expected))
