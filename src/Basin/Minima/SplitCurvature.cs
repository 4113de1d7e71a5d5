using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Minima;

/// <summary>
/// The two matrices that decide the second-order type of the split line, at the small network:
/// B = Σ_n g_n σ''(z_{r,n}) x̃_n x̃_nᵀ with g_n = ∂L/∂a_{r,n} = v*ᵀδ_n (the gradient with respect to the unit's output), and
/// M = Σ_n δ_n σ'(z_{r,n}) x̃_nᵀ, where x̃_n = [a^(l−1)(x_n); 1] and δ_n = ∂L/∂(pre-activations of layer l+1), 1/N included.
/// B is (n_{l−1}+1)², M is n_{l+1} × (n_{l−1}+1). At a critical point v*ᵀM = 0 (it is ∂L/∂u_r), but M need not vanish.
/// <see cref="MaxDerivativeRatio"/> is max_n σ'(z_{r,n}) / σ'(0): near 0 the unit is saturated on all data and B ≈ 0.
/// </summary>
public sealed record SplitCurvature(double[,] B, double[,] M, double[] Incoming, double[] Outgoing, double MaxDerivativeRatio)
{
    public static SplitCurvature At(SmoothNet net, FitData data, int layer, int unit)
    {
        net.CheckUnit(layer, unit);
        using var scope = torch.NewDisposeScope();
        var theta = net.ThetaTensor();
        var trace = net.Trace(theta, data.Inputs, upToLayer: layer);
        var input = trace.Activations[layer - 1];
        var z = trace.Pre[layer - 1].select(1, unit - 1);
        // δ: the loss as a function of layer l+1's pre-activations, differentiated there.
        var next = net.Trace(theta, data.Inputs, upToLayer: layer + 1).Pre[layer].detach().requires_grad_(true);
        var rest = NetLoss.OfOutputs(net.ForwardFrom(theta, next, layer + 1), data);
        var delta = torch.autograd.grad([rest], [next])[0];
        var v = torch.tensor(NeuronSplit.Outgoing(net, layer, unit), dtype: float64);
        var g = delta.matmul(v);
        var (d1, d2) = net.Derivatives(z);
        var xt = torch.cat([input, torch.ones(input.shape[0], 1, dtype: float64)], dim: 1);
        var b = xt.t().matmul(xt.mul(g.mul(d2).unsqueeze(1)));
        var m = delta.t().matmul(xt.mul(d1.unsqueeze(1)));
        var (d0, _) = net.Derivatives(torch.zeros(1, dtype: float64));
        double ratio = d1.max().item<double>() / d0.item<double>();
        return new SplitCurvature(ToArray(b), ToArray(m), NeuronSplit.Incoming(net, layer, unit), NeuronSplit.Outgoing(net, layer, unit), ratio);
    }

    static double[,] ToArray(Tensor t)
    {
        int rows = (int)t.shape[0], cols = (int)t.shape[1];
        var flat = t.contiguous().data<double>().ToArray();
        var a = new double[rows, cols];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) a[i, j] = flat[i * cols + j];
        return a;
    }

    /// <summary>uᵀBu.</summary>
    public double QuadraticB(double[] u) => Quadratic(B, u, u);

    /// <summary>ηᵀMu.</summary>
    public double Mixed(double[] eta, double[] u) => Quadratic(M, eta, u);

    /// <summary>‖v*ᵀM‖ (zero at a critical point: it is the gradient with respect to the unit's incoming weights).</summary>
    public double OutgoingTimesMNorm()
    {
        double s = 0;
        for (int j = 0; j < M.GetLength(1); j++)
        {
            double c = 0;
            for (int i = 0; i < M.GetLength(0); i++) c += Outgoing[i] * M[i, j];
            s += c * c;
        }
        return Math.Sqrt(s);
    }

    /// <summary>‖M‖ (Frobenius).</summary>
    public double MNorm() => Frobenius(M);

    /// <summary>‖(I − v̂v̂ᵀ)M‖: the part of M that v*ᵀM = 0 does not force to zero; it decides whether M = 0.</summary>
    public double MOrthogonalNorm()
    {
        double vv = Outgoing.Sum(x => x * x);
        int k = M.GetLength(0), c = M.GetLength(1);
        var p = (double[,])M.Clone();
        if (vv > 0)
            for (int j = 0; j < c; j++)
            {
                double dot = 0;
                for (int i = 0; i < k; i++) dot += Outgoing[i] * M[i, j];
                for (int i = 0; i < k; i++) p[i, j] -= Outgoing[i] * dot / vv;
            }
        return Frobenius(p);
    }

    static double Frobenius(double[,] a)
    {
        double s = 0;
        foreach (var x in a) s += x * x;
        return Math.Sqrt(s);
    }

    static double Quadratic(double[,] a, double[] left, double[] right)
    {
        if (left.Length != a.GetLength(0) || right.Length != a.GetLength(1))
            throw new BasinException($"vectors of sizes {left.Length} and {right.Length} do not fit a {a.GetLength(0)}×{a.GetLength(1)} matrix");
        double s = 0;
        for (int i = 0; i < left.Length; i++) for (int j = 0; j < right.Length; j++) s += left[i] * a[i, j] * right[j];
        return s;
    }
}
