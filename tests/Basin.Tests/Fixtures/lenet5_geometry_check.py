#!/usr/bin/python3
"""Reference geometry numbers for the PyTorch LeNet-5 fixture (documentation only; tests never run Python).

Run with Debian's python3-torch (PyTorch 1.13):

    /usr/bin/python3 lenet5_geometry_check.py

Loads lenet5_pytorch.safetensors into the PyTorch LeNet-5 of make_lenet5_fixture.py, converts it to float64, and
measures on the 4 inputs of lenet5_pytorch_io.safetensors with labels [3, 1, 4, 1] (eval mode, mean cross-entropy).
Every number comes from full Hessians built by torch.autograd.functional.hessian, independently of Basin's
closed forms and Hessian-vector products:

  kappa_fc3        relative flatness κ_Tr(fc3) = Σ_{s,t} <W_s,W_t> Tr(H_{s,t}), H = ∂²L/∂W² of fc3.weight
  trace_fc3        Tr(H) of fc3.weight
  top5_fc3         the 5 largest eigenvalues of that H
  kappa_lambda_fc3 κ_λ = Σ_s ‖W_s‖² λ_max(H_{s,s})
  kappa_fc3_normf  κ_Tr(fc3) in normalized features (φ_j/σ_j, σ_j the population std over the 4 inputs; σ_j = 0 → 1)
  kappa_conv1      κ_Tr(conv1) with the weight read as 6 × 25 (H of conv1.weight)
  trace_conv1      Tr(H) of conv1.weight
The values are pasted into tests/Basin.Tests/Curvature/PyTorchCrossCheckTests.cs.
"""
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_lenet5_fixture import IO, WEIGHTS, LeNet5, read_safetensors  # noqa: E402

LABELS = [3, 1, 4, 1]


def functional_loss(model, name, x, y):
    """The mean cross-entropy as a function of one parameter tensor, the others fixed."""
    params = dict(model.named_parameters())

    def loss(w):
        def fwd(inp):
            p = {k: (w if k == name else v) for k, v in params.items()}
            h = F.max_pool2d(F.relu(F.conv2d(inp, p["conv1.weight"], p["conv1.bias"], padding=2)), 2)
            h = F.max_pool2d(F.relu(F.conv2d(h, p["conv2.weight"], p["conv2.bias"])), 2)
            h = torch.flatten(h, 1)
            h = F.relu(F.linear(h, p["fc1.weight"], p["fc1.bias"]))
            h = F.relu(F.linear(h, p["fc2.weight"], p["fc2.bias"]))
            return F.linear(h, p["fc3.weight"], p["fc3.bias"])
        return F.cross_entropy(fwd(x), y)

    return loss, params[name].detach()


def layer_hessian(model, name, x, y):
    loss, w = functional_loss(model, name, x, y)
    h = torch.autograd.functional.hessian(loss, w)
    d = w.shape[0]
    m = w.numel() // d
    return h.reshape(d, m, d, m), w.reshape(d, m)


def kappa(h, w):
    t = torch.diagonal(h, dim1=1, dim2=3).sum(-1)  # T[s,t] = Σ_k H[(s,k),(t,k)]
    return (w @ w.T * t).sum().item()


def main():
    torch.set_default_dtype(torch.float64)
    model = LeNet5()
    model.load_state_dict({k: v.double() for k, v in read_safetensors(WEIGHTS).items()}, strict=True)
    model = model.double().eval()
    x = read_safetensors(IO)["input"].double()
    y = torch.tensor(LABELS)

    h, w = layer_hessian(model, "fc3.weight", x, y)
    d, m = w.shape
    flat = h.reshape(d * m, d * m)
    eig = torch.linalg.eigvalsh(flat).flip(0)
    kappa_lambda = sum((w[s] @ w[s]).item() * torch.linalg.eigvalsh(h[s, :, s, :])[-1].item() for s in range(d))

    with torch.no_grad():
        phi = F.relu(model.fc2(F.relu(model.fc1(torch.flatten(F.max_pool2d(F.relu(model.conv2(
            F.max_pool2d(F.relu(model.conv1(x)), 2))), 2), 1)))))
    mean = phi.mean(0)
    var = (phi.square().mean(0) - mean.square()).clamp_min(0)
    constant = var <= mean.square() * 1e-12 + 1e-300
    sigma = torch.where(constant, torch.ones_like(var), var.sqrt())
    # H' = D⁻¹ H D⁻¹ on the input index, W' = W D.
    h_norm = h / sigma.reshape(1, m, 1, 1) / sigma.reshape(1, 1, 1, m)
    kappa_normf = kappa(h_norm, w * sigma.reshape(1, m))

    hc, wc = layer_hessian(model, "conv1.weight", x, y)
    dc, mc = wc.shape
    print(f"kappa_fc3        = {kappa(h, w)!r}")
    print(f"trace_fc3        = {torch.trace(flat).item()!r}")
    print(f"top5_fc3         = {[v.item() for v in eig[:5]]!r}")
    print(f"kappa_lambda_fc3 = {kappa_lambda!r}")
    print(f"kappa_fc3_normf  = {kappa_normf!r}")
    print(f"kappa_conv1      = {kappa(hc, wc)!r}")
    print(f"trace_conv1      = {torch.trace(hc.reshape(dc * mc, dc * mc)).item()!r}")
    print(f"constant features (sigma=0) among 84: {int(constant.sum())}")


if __name__ == "__main__":
    main()
