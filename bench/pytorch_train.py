#!/usr/bin/env python3
"""The PyTorch baseline for bench/Basin.Bench: the same training loop in plain PyTorch.

Trains LeNet-5, the small ResNet (16-32-64 channels, as Basin's `resnet`) or an MLP 784-512-512-10 with SGD (momentum 0.9) on random 28x28 inputs for a
fixed number of steps at a given thread count and prints one JSON line with examples/second.
Run by the benchmark in the same session as Basin's loop, so the ratio compares like with like.
"""
import argparse, json, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class LeNet5(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.flatten(1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class Block(nn.Module):
    """Basin's BasicBlock: conv3x3-BN-ReLU-conv3x3-BN plus the shortcut (1x1 conv + BN when the shape changes), ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                           if stride != 1 or cin != cout else None)

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1, self.layer2, self.layer3 = Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(F.relu(self.bn1(self.conv1(x))))))
        return self.fc(x.mean((2, 3)))


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=["lenet5", "resnet", "mlp"], required=True)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = LeNet5() if a.model == "lenet5" else ResNet() if a.model == "resnet" else mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    n = a.batch_size * 50
    xs = torch.rand(n, 1, 28, 28)
    ys = torch.randint(0, 10, (n,))
    model.train()

    def step(i):
        j = (i % 50) * a.batch_size
        x, y = xs[j:j + a.batch_size], ys[j:j + a.batch_size]
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for i in range(a.warmup):
        step(i)
    t0 = time.perf_counter()
    for i in range(a.steps):
        step(i)
    dt = time.perf_counter() - t0
    print(json.dumps({"framework": "pytorch", "version": torch.__version__, "model": a.model,
                      "batch_size": a.batch_size, "threads": a.threads, "steps": a.steps,
                      "examples_per_second": a.steps * a.batch_size / dt}))


if __name__ == "__main__":
    main()
