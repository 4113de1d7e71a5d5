using Basin.Native;
using Basin.Data;
using Basin.Curvature;
using Basin.Flatness;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Measures;

/// <summary>Gradient noise and m-coherence of a set of per-example gradients.</summary>
public sealed record GradientStatisticsResult(double Noise, double MCoherence, int Examples, int Group);

/// <summary>
/// Statistics of the per-example gradients g_n = ∇_θ ℓ(f_θ(x_n), y_n) over all parameters at the trained weights:
/// gradient noise = Tr Cov(g) = (1/n)Σ‖g_n‖² − ‖ḡ‖² (the population covariance of the per-example gradients), and
/// m-coherence (Chatterjee &amp; Zielinski 2022) = ‖Σ_{n∈G} g_n‖² / Σ_{n∈G}‖g_n‖² averaged over consecutive groups G
/// of m examples (1 for orthogonal equal-norm gradients, m for identical ones).
/// The per-example gradients come from one backward pass per example (simple and exact; the per-example machinery of
/// the training methods would make this faster).
/// </summary>
public static class GradientStatistics
{
    public static GradientStatisticsResult Compute(Classifier model, LabeledDataset data, int group, CancellationToken cancellationToken = default)
    {
        if (group < 1) throw new BasinException($"the m-coherence group size must be at least 1, got {group}");
        using var scope = torch.NewDisposeScope();
        var g = PerExampleGradients(model, data, cancellationToken);          // [n, P] float64
        long n = g.shape[0];
        var norms = g.pow(Scalars.Two).sum(1);
        double meanNorm = norms.mean().ToDouble();
        double meanGradNorm = g.mean([0]).pow(Scalars.Two).sum().ToDouble();
        double noise = meanNorm - meanGradNorm;
        var coherences = new List<double>();
        for (long start = 0; start + group <= n || (start == 0 && n > 0); start += group)
        {
            long size = Math.Min(group, n - start);
            var block = g.narrow(0, start, size);
            double denom = norms.narrow(0, start, size).sum().ToDouble();
            if (denom > 0) coherences.Add(block.sum([0]).pow(Scalars.Two).sum().ToDouble() / denom);
            if (size < group) break;
        }
        return new GradientStatisticsResult(noise, coherences.Count > 0 ? coherences.Average() : double.NaN, (int)n, (int)Math.Min(group, n));
    }

    /// <summary>One row per example: the flattened gradient of that example's loss by every parameter, float64 [n, P].</summary>
    public static Tensor PerExampleGradients(Classifier model, LabeledDataset data, CancellationToken cancellationToken = default)
    {
        using var eval = new EvalMode(model);
        using var grad = torch.enable_grad();
        var parameters = model.parameters().Where(p => p.requires_grad).Cast<Tensor>().ToArray();
        var dtype = parameters[0].dtype;
        FisherRao.CheckLabels(data.Labels, model.ClassCount);
        var rows = new Tensor[data.Count];
        for (long i = 0; i < data.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = torch.NewDisposeScope();
            var x = data.Inputs.narrow(0, i, 1).to_type(dtype);
            var y = data.Labels.narrow(0, i, 1);
            var loss = nn.functional.cross_entropy(model.forward(x), y);
            var g = torch.autograd.grad([loss], parameters, null, false, false, true);
            var flat = torch.cat(g.Select((t, j) => (t is null || t.IsInvalid ? torch.zeros_like(parameters[j]) : t).reshape(-1)).ToArray());
            rows[i] = flat.to_type(ScalarType.Float64).MoveToOuterDisposeScope();
        }
        var all = torch.stack(rows);
        foreach (var r in rows) r.Dispose();
        return all;
    }
}
