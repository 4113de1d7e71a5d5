#!/usr/bin/env python3
"""The PyTorch side of `bench ... resnet-ops`: forward + backward time of each layer shape of Basin's small ResNet.

For every convolution and batch norm of the network at batch 128 (28x28 inputs), times the layer's forward pass and
the backward pass of a fixed output gradient (median over repeats) and prints one JSON line per layer.
"""
import argparse, json, time
import torch
import torch.nn as nn

# name, kind, in channels, out channels, kernel, stride, input side
LAYERS = [
    ("conv1 1-16 3x3", "conv", 1, 16, 3, 1, 28), ("bn 16 @28", "bn", 16, 16, 0, 1, 28),
    ("block conv 16-16 3x3", "conv", 16, 16, 3, 1, 28), ("conv 16-32 3x3 s2", "conv", 16, 32, 3, 2, 28),
    ("conv 32-32 3x3", "conv", 32, 32, 3, 1, 14), ("downsample 16-32 1x1 s2", "conv", 16, 32, 1, 2, 28),
    ("bn 32 @14", "bn", 32, 32, 0, 1, 14), ("conv 32-64 3x3 s2", "conv", 32, 64, 3, 2, 14),
    ("conv 64-64 3x3", "conv", 64, 64, 3, 1, 7), ("downsample 32-64 1x1 s2", "conv", 32, 64, 1, 2, 14),
    ("bn 64 @7", "bn", 64, 64, 0, 1, 7),
]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=128)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    for name, kind, cin, cout, k, stride, side in LAYERS:
        layer = nn.Conv2d(cin, cout, k, stride, k // 2, bias=False) if kind == "conv" else nn.BatchNorm2d(cin)
        layer.train()
        x = torch.rand(a.batch_size, cin, side, side, requires_grad=True)
        grad = torch.rand_like(layer(x))
        fwd, bwd = [], []
        for r in range(a.repeats + 5):
            t0 = time.perf_counter()
            y = layer(x)
            t1 = time.perf_counter()
            y.backward(grad)
            t2 = time.perf_counter()
            x.grad = None
            layer.zero_grad(set_to_none=True)
            if r >= 5:
                fwd.append(t1 - t0)
                bwd.append(t2 - t1)
        fwd.sort(); bwd.sort()
        print(json.dumps({"layer": name, "forwardMs": 1000 * fwd[len(fwd) // 2], "backwardMs": 1000 * bwd[len(bwd) // 2]}))


if __name__ == "__main__":
    main()
