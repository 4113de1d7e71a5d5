using Basin.Native;
using Basin.Data;
using Basin.Curvature;
using Basin.Flatness;
using Basin.Models;
using Basin.Training.PerExample;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Measures;

/// <summary>Gradient noise and m-coherence of a set of per-example gradients.</summary>
public sealed record GradientStatisticsResult(double Noise, double MCoherence, int Examples, int Group);

/// <summary>
/// Statistics of the per-example gradients g_n = ∇_θ ℓ(f_θ(x_n), y_n) over all parameters at the trained weights:
/// gradient noise = Tr Cov(g) = (1/n)Σ‖g_n‖² − ‖ḡ‖² (the population covariance of the per-example gradients), and
/// m-coherence (<see cref="MCoherence.OfGroups"/>) averaged over consecutive groups of m examples.
/// The per-example gradients are <see cref="Training.PerExample.PerExampleGradients.Exact"/>: one backward pass per example.
/// </summary>
public static class GradientStatistics
{
    public static GradientStatisticsResult Compute(Classifier model, LabeledDataset data, int group,
        CancellationToken cancellationToken = default)
    {
        if (group < 1) throw new BasinException($"the m-coherence group size must be at least 1, got {group}");
        using var scope = torch.NewDisposeScope();
        var g = PerExampleGradients(model, data, cancellationToken);          // [n, P] float64
        long n = g.shape[0];
        var norms = g.pow(Scalars.Two).sum(1);
        double meanNorm = norms.mean().ToDouble();
        double meanGradNorm = g.mean([0]).pow(Scalars.Two).sum().ToDouble();
        double noise = meanNorm - meanGradNorm;
        return new GradientStatisticsResult(noise, MCoherence.OfGroups(g, norms, group), (int)n, (int)Math.Min(group, n));
    }

    /// <summary>One row per example: the flattened gradient of its loss by every parameter, float64 [n, P]; in eval mode.</summary>
    public static Tensor PerExampleGradients(Classifier model, LabeledDataset data, CancellationToken cancellationToken = default)
    {
        using var eval = new EvalMode(model);
        using var grad = torch.enable_grad();
        var dtype = model.parameters().First(p => p.requires_grad).dtype;
        FisherRao.CheckLabels(data.Labels, model.ClassCount);
        using var scope = torch.NewDisposeScope();
        var perParameter = Training.PerExample.PerExampleGradients.Exact(model, data.Inputs.to_type(dtype), data.Labels, cancellationToken);
        return Training.PerExample.PerExampleGradients.Flatten(perParameter).to_type(ScalarType.Float64).MoveToOuterDisposeScope();
    }
}
