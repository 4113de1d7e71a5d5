#!/usr/bin/python3
"""Makes the PyTorch interchange fixture for Basin's LeNet-5 (documentation only; tests never run Python).

Run with Debian's python3-torch (PyTorch 1.13, which has no safetensors package, so the format is
written by hand: 8-byte little-endian header length, JSON header padded with spaces to a multiple of 8,
raw little-endian tensor bytes):

    /usr/bin/python3 make_lenet5_fixture.py          # writes the two fixture files next to this script
    /usr/bin/python3 make_lenet5_fixture.py check F  # loads weights file F (e.g. one Basin wrote) into the
                                                     # PyTorch LeNet-5 and compares its logits with the fixture's

lenet5_pytorch.safetensors     the state_dict after a few SGD steps on random data (so it is not the init)
lenet5_pytorch_io.safetensors  "input" [4,1,28,28] float32 and PyTorch's eval-mode "logits" [4,10] for it
"""
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
WEIGHTS = os.path.join(HERE, "lenet5_pytorch.safetensors")
IO = os.path.join(HERE, "lenet5_pytorch_io.safetensors")
DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}
NP_DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64}


class LeNet5(nn.Module):
    def __init__(self, classes=10, channels=1):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def write_safetensors(path, tensors):
    # Compact JSON in insertion order, padded with spaces: byte-identical to what Basin's SafeTensors.Write produces.
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().cpu().numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    js = json.dumps(header, separators=(",", ":")).encode("utf-8")
    js += b" " * (-len(js) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(js)))
        f.write(js)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        arr = np.frombuffer(data[b:end], dtype=NP_DTYPES[e["dtype"]]).reshape(e["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


def make():
    torch.manual_seed(1234)
    model = LeNet5()
    x = torch.randn(64, 1, 28, 28)
    y = torch.randint(0, 10, (64,))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for _ in range(5):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    model.eval()
    g = torch.Generator().manual_seed(99)
    batch = 2 * torch.randn(4, 1, 28, 28, generator=g)
    with torch.no_grad():
        logits = model(batch)
    write_safetensors(WEIGHTS, model.state_dict())
    write_safetensors(IO, {"input": batch, "logits": logits})
    print("logits", logits)


def check(path):
    model = LeNet5()
    model.load_state_dict(read_safetensors(path), strict=True)
    model.eval()
    io = read_safetensors(IO)
    with torch.no_grad():
        logits = model(io["input"])
    print("max |logits - fixture logits| =", (logits - io["logits"]).abs().max().item())


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        check(sys.argv[2])
    else:
        make()
