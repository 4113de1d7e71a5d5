#!/usr/bin/env python3
"""The PyTorch side of bench/Basin.Bench's `curvature` benchmark: PyHessian's algorithms, written in PyTorch.

Loads LeNet-5 weights and examples (safetensors files the C# side wrote), and computes the Hessian of the mean
cross-entropy over all parameters as PyHessian does in its single-batch mode: the gradient is taken once with
create_graph=True and every Hessian-vector product differentiates it again (graph reuse). Top-5 eigenvalues by power
iteration with deflation (Gram-Schmidt against the eigenvectors found; at most 100 iterations, relative tolerance
1e-3, PyHessian's defaults); the trace by Hutchinson with a fixed number of Rademacher probes. Prints one JSON line
with times, products, values and the process's peak RSS (VmHWM). Written for the comparison, not copied.
"""
import argparse, json, struct, time
import numpy as np
import torch
import torch.nn.functional as F

from pytorch_train import LeNet5   # the same LeNet-5 as the training benchmark (this script's folder is on sys.path)


def read_safetensors(path):
    dtypes = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "U8": np.uint8}
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype=dtypes[info["dtype"]]).reshape(info["shape"]).copy())
    return out


def vm_hwm_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--weights", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--top", type=int, default=5)
    p.add_argument("--probes", type=int, default=100)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = LeNet5()
    model.load_state_dict(read_safetensors(a.weights))
    model.eval()
    d = read_safetensors(a.data)
    x, y = d["input"].float(), d["labels"].long()
    params = [q for q in model.parameters() if q.requires_grad]
    products = 0

    start = time.perf_counter()
    loss = F.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, params, create_graph=True)

    def hvp(v):
        nonlocal products
        products += 1
        return torch.autograd.grad(grads, params, grad_outputs=v, retain_graph=True)

    def dot(u, v):
        return sum(torch.sum(a * b) for a, b in zip(u, v))

    def normalize(v):
        s = torch.sqrt(dot(v, v))
        return [t / (s + 1e-6) for t in v]

    def orthogonalize(v, basis):
        for b in basis:
            c = dot(v, b)
            v = [t - c * u for t, u in zip(v, b)]
        return normalize(v)

    eigenvalues, eigenvectors = [], []
    for _ in range(a.top):
        v = normalize([torch.randn_like(q) for q in params])
        value = None
        for _ in range(100):
            v = orthogonalize(v, eigenvectors)
            hv = hvp(v)
            new = dot(hv, v).item()
            v = normalize(hv)
            if value is not None and abs(value - new) / (abs(value) + 1e-6) < 1e-3:
                value = new
                break
            value = new
        eigenvalues.append(value)
        eigenvectors.append(v)
    top_seconds = time.perf_counter() - start
    top_products = products

    products = 0
    start = time.perf_counter()
    loss = F.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    samples = []
    for _ in range(a.probes):
        v = [torch.randint_like(q, high=2) * 2 - 1 for q in params]
        samples.append(dot(hvp(v), v).item())
    trace_seconds = time.perf_counter() - start
    s = np.array(samples)
    print(json.dumps({
        "method": "pytorch-pyhessian", "torch": torch.__version__, "topSeconds": top_seconds, "topProducts": top_products,
        "eigenvalues": sorted(eigenvalues, reverse=True), "traceSeconds": trace_seconds, "traceProducts": products,
        "trace": float(s.mean()), "traceSe": float(s.std(ddof=1) / np.sqrt(len(s))), "vmHwmKb": vm_hwm_kb(),
    }))


if __name__ == "__main__":
    main()
