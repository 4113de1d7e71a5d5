using Basin.Native;
using Basin.Data;
using Basin.Curvature;
using Basin.Flatness;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Measures;

/// <summary>The radius found by <see cref="WorstCaseSharpness.RadiusAt"/> and the loss increase found at it.</summary>
public sealed record SharpnessRadius(double Radius, double Increase, int Searches);

/// <summary>
/// Worst-case sharpness (Keskar et al. 2017; Jiang et al. 2020): the largest increase of the mean training loss
/// within the ball ‖Δ‖₂ ≤ α over all parameters, searched by projected gradient ascent: Δ₀ = α·g/‖g‖ with g the
/// gradient at θ, then Δ ← Π_α(Δ + (α/2)·g(θ+Δ)/‖g(θ+Δ)‖), keeping the largest increase seen. Gradient ascent
/// finds a lower bound of the true maximum. The model is evaluated in eval mode and restored afterwards.
/// </summary>
public static class WorstCaseSharpness
{
    public static double LossIncrease(Classifier model, LabeledDataset data, double radius, int steps = 5, long seed = 0,
        int chunkSize = 1000, CancellationToken cancellationToken = default)
    {
        if (!(radius >= 0) || double.IsInfinity(radius)) throw new BasinException("sharpness radius must be a finite " +
            $"number ≥ 0, got {radius}");
        if (steps < 0) throw new BasinException($"ascent steps must be ≥ 0, got {steps}");
        using var eval = new EvalMode(model);
        var parameters = model.parameters().Where(p => p.requires_grad).ToArray();
        using var snapshot = WeightSnapshot.Of(parameters);
        try
        {
            var (loss0, g) = LossAndGradient(model, data, parameters, chunkSize);
            if (radius == 0) { ParamVectors.Dispose(g); return 0; }
            using var generator = new torch.Generator(unchecked((ulong)seed));
            double gNorm = ParamVectors.Norm(g);
            var delta = gNorm > 0
                ? ParamVectors.Scale(g, radius / gNorm)
                : ParamVectors.Scale(ParamVectors.Normalize(ParamVectors.Gaussian(g.Select(t => t.shape).ToArray(), g[0].dtype, generator)),
                    radius);
            ParamVectors.Dispose(g);
            double best = double.NegativeInfinity;
            for (int k = 0; ; k++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Set(parameters, snapshot.Values, delta);
                var (loss, grad) = LossAndGradient(model, data, parameters, chunkSize);
                best = Math.Max(best, loss - loss0);
                if (k >= steps) { ParamVectors.Dispose(grad); break; }
                double n = ParamVectors.Norm(grad);
                if (n > 0) ParamVectors.AddInPlace(delta, grad, radius / 2 / n);
                ParamVectors.Dispose(grad);
                double dn = ParamVectors.Norm(delta);
                if (dn > radius)
                {
                    using var shrink = (radius / dn).ToScalar();
                    foreach (var t in delta) t.mul_(shrink);
                }
            }
            ParamVectors.Dispose(delta);
            return best;
        }
        finally
        {
            snapshot.Restore();
        }
    }

    /// <summary>
    /// The radius α at which the ascent's loss increase is <paramref name="target"/>: bracketed by doubling or halving
    /// from 0.01, then bisected in log α (<paramref name="bisectionSteps"/> steps). The measure is 1/α².
    /// </summary>
    public static SharpnessRadius RadiusAt(Classifier model, LabeledDataset data, double target, int steps = 5, int bisectionSteps = 10,
        long seed = 0, int chunkSize = 1000, CancellationToken cancellationToken = default)
    {
        if (!(target > 0)) throw new BasinException($"sharpness loss target must be positive, got {target}");
        int searches = 0;
        double Inc(double r) { searches++; return LossIncrease(model, data, r, steps, seed, chunkSize, cancellationToken); }
        double lo = 0, hi = 0.01, incHi = Inc(hi);
        for (int i = 0; incHi < target && i < 40; i++) { lo = hi; hi *= 2; incHi = Inc(hi); }
        if (incHi < target) return new SharpnessRadius(hi, incHi, searches);
        if (lo == 0)
        {
            for (int i = 0; i < 40 && lo == 0; i++)
            {
                double r = hi / 2, inc = Inc(r);
                if (inc < target) lo = r; else { hi = r; incHi = inc; }
            }
            if (lo == 0) return new SharpnessRadius(hi, incHi, searches);
        }
        for (int i = 0; i < bisectionSteps; i++)
        {
            double mid = Math.Sqrt(lo * hi), inc = Inc(mid);
            if (inc < target) lo = mid; else { hi = mid; incHi = inc; }
        }
        return new SharpnessRadius(hi, incHi, searches);
    }

    static void Set(Tensor[] parameters, IReadOnlyList<Tensor> origin, IReadOnlyList<Tensor> delta)
    {
        using var noGrad = torch.no_grad();
        for (int i = 0; i < parameters.Length; i++)
        {
            parameters[i].copy_(origin[i]);
            parameters[i].add_(delta[i], Scalars.One);
        }
    }

    /// <summary>Mean cross-entropy over the data and its gradient, chunk by chunk.</summary>
    static (double Loss, Tensor[] Gradient) LossAndGradient(Classifier model, LabeledDataset data, Tensor[] parameters, int chunkSize)
    {
        using var grad = torch.enable_grad();
        var acc = parameters.Select(p => torch.zeros_like(p)).ToArray();
        double loss = 0;
        foreach (var chunk in data.Chunks(chunkSize))
        {
            using var scope = torch.NewDisposeScope();
            var x = chunk.Inputs(parameters[0].dtype);
            var y = chunk.Labels();
            FisherRao.CheckLabels(y, model.ClassCount);
            var l = nn.functional.cross_entropy(model.forward(x), y);
            double w = chunk.Weight;
            loss += w * l.ToDouble();
            var g = torch.autograd.grad([l], parameters, null, false, false, true);
            using var weight = w.ToScalar();
            for (int i = 0; i < g.Count; i++)
                if (g[i] is not null && !g[i].IsInvalid) acc[i].add_(g[i], weight);
        }
        return (loss, acc);
    }
}
