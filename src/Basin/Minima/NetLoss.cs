using Basin.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Minima;

/// <summary>
/// The loss of a <see cref="SmoothNet"/> on <see cref="FitData"/>, its gradient and its dense Hessian, all in float64.
/// The Hessian is exact (one double-backward pass per row), the full matrix rather than Lanczos: the eigenvalues that
/// decide a split point's type are ~1e-5 of the largest.
/// </summary>
public static class NetLoss
{
    /// <summary>Dense Hessians are built for at most this many parameters.</summary>
    public const int MaxHessianParameters = 2000;

    /// <summary>The scalar loss at the flat parameters <paramref name="theta"/> (differentiable).</summary>
    public static Tensor LossTensor(SmoothNet net, Tensor theta, FitData data)
    {
        if (data.InputSize != net.Sizes[0])
            throw new BasinException($"{net.Describe()} takes {net.Sizes[0]} inputs, the data has {data.InputSize}");
        using var scope = torch.NewDisposeScope();
        return OfOutputs(net.Forward(theta, data.Inputs), data).MoveToOuterDisposeScope();
    }

    /// <summary>The loss of the outputs <paramref name="f"/> [N, K] against the data's targets (differentiable).</summary>
    public static Tensor OfOutputs(Tensor f, FitData data)
    {
        Tensor loss;
        if (data.Loss == FitLoss.Mse)
        {
            if (data.Targets.shape[1] != f.shape[1])
                throw new BasinException($"the network has {f.shape[1]} outputs, the targets have {data.Targets.shape[1]}");
            using var half = (0.5 / data.Count).ToScalar();
            loss = f.sub(data.Targets).pow(Scalars.Two).sum().mul(half);
        }
        else
        {
            long classes = f.shape[1];
            if (classes < 2) throw new BasinException("cross-entropy needs at least 2 outputs");
            var max = data.Targets.max().item<long>();
            var min = data.Targets.min().item<long>();
            if (min < 0 || max >= classes) throw new BasinException($"labels must lie in 0…{classes - 1}, got {min}…{max}");
            loss = nn.functional.cross_entropy(f, data.Targets);
        }
        return loss;
    }

    public static double Loss(SmoothNet net, FitData data)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        return LossTensor(net, net.ThetaTensor(), data).item<double>();
    }

    public static double[] Gradient(SmoothNet net, FitData data) => LossAndGradient(net, data).Gradient;

    public static (double Loss, double[] Gradient) LossAndGradient(SmoothNet net, FitData data)
    {
        using var scope = torch.NewDisposeScope();
        var theta = net.ThetaTensor().requires_grad_(true);
        var loss = LossTensor(net, theta, data);
        var g = torch.autograd.grad([loss], [theta])[0];
        return (loss.item<double>(), g.data<double>().ToArray());
    }

    public static double Norm(IReadOnlyList<double> v) => Math.Sqrt(v.Sum(x => x * x));

    /// <summary>The dense Hessian [P, P] by double backward: row i is ∇(∂L/∂θ_i). Symmetrized (H + Hᵀ)/2 against
    /// rounding.</summary>
    public static double[,] Hessian(SmoothNet net, FitData data)
    {
        int p = net.ParameterCount();
        if (p > MaxHessianParameters)
            throw new BasinException($"the dense Hessian of {p} parameters is too large (at most {MaxHessianParameters}); use a smaller " +
                $"network");
        using var scope = torch.NewDisposeScope();
        var theta = net.ThetaTensor().requires_grad_(true);
        var loss = LossTensor(net, theta, data);
        var g = torch.autograd.grad([loss], [theta], retain_graph: true, create_graph: true)[0];
        var h = new double[p, p];
        using var one = 1.0.ToScalar();
        for (int i = 0; i < p; i++)
        {
            using var inner = torch.NewDisposeScope();
            var e = torch.zeros(p, dtype: float64);
            e.narrow(0, i, 1).fill_(one);
            var row = torch.autograd.grad([g], [theta], [e], retain_graph: true, allow_unused: true)[0];
            if (row is null || row.IsInvalid) continue;
            var r = row.data<double>().ToArray();
            for (int j = 0; j < p; j++) h[i, j] = r[j];
        }
        for (int i = 0; i < p; i++)
            for (int j = i + 1; j < p; j++)
                h[i, j] = h[j, i] = 0.5 * (h[i, j] + h[j, i]);
        return h;
    }

    /// <summary>dᵀ H e, the mixed second derivative ∂²L/∂s∂t of L(θ + s d + t e), by exact double backward.</summary>
    public static double SecondDerivative(SmoothNet net, FitData data, double[] d, double[] e)
    {
        int p = net.ParameterCount();
        if (d.Length != p || e.Length != p) throw new BasinException($"directions must have {p} entries, got {d.Length} and {e.Length}");
        using var scope = torch.NewDisposeScope();
        var theta = net.ThetaTensor().requires_grad_(true);
        var loss = LossTensor(net, theta, data);
        var g = torch.autograd.grad([loss], [theta], retain_graph: true, create_graph: true)[0];
        var dt = torch.tensor(d, dtype: float64);
        var et = torch.tensor(e, dtype: float64);
        var gd = g.dot(dt);
        var hd = torch.autograd.grad([gd], [theta], retain_graph: true, allow_unused: true)[0];
        return hd is null ? 0 : hd.dot(et).item<double>();
    }
}
