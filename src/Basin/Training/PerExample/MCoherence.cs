using Basin.Native;
using Basin.Data;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Training.PerExample;

/// <summary>
/// m-coherence of per-example gradients ("Coherent Gradients", Chatterjee 2020; Chatterjee &amp; Zielinski 2022):
/// m·α = ‖Σ_i g_i‖² / Σ_i ‖g_i‖², with α = ‖(1/m)Σ g_i‖² / ((1/m)Σ ‖g_i‖²) the coherence of m examples.
/// 1 for orthogonal gradients of equal norm, m for identical ones, below 1 when they cancel (it lies in [0, m]); the gradient is the
/// concatenation of all trainable parameters. Computed in float64.
/// </summary>
public static class MCoherence
{
    /// <summary>m-coherence of per-example gradients given per parameter as [m, ...] (as from <see cref="PerExampleGradients"/>).</summary>
    public static double Of(IReadOnlyList<Tensor> perExample)
    {
        if (perExample.Count == 0) throw new BasinException("m-coherence needs at least one parameter's gradients");
        long m = perExample[0].shape[0];
        if (m < 1 || perExample.Any(g => g.dim() < 1 || g.shape[0] != m))
            throw new BasinException("m-coherence needs gradients of the same m ≥ 1 examples for every parameter");
        // Summed parameter by parameter; on one flattened matrix (OfGroups) the sums run in another order and can differ
        // in the last bit, so each form keeps its own order and the values stay as they were.
        using var scope = NewDisposeScope();
        double sumNorms = 0, normOfSum = 0;
        foreach (var g in perExample)
        {
            var g64 = g.detach().to_type(ScalarType.Float64).reshape(m, -1);
            sumNorms += g64.pow(Scalars.Two).sum().ToDouble();
            normOfSum += g64.sum(dim: 0).pow(Scalars.Two).sum().ToDouble();
        }
        if (sumNorms == 0) throw new BasinException("m-coherence is undefined: every per-example gradient is zero");
        return normOfSum / sumNorms;
    }

    /// <summary>
    /// Mean m-coherence of consecutive groups of <paramref name="m"/> rows of <paramref name="g"/> [n, P] (float64, squared
    /// row norms [n] given); a short last group counts only when alone, all-zero groups are skipped (NaN if all are).
    /// </summary>
    public static double OfGroups(Tensor g, Tensor squaredNorms, int m)
    {
        if (m < 1) throw new BasinException($"the m-coherence group size must be at least 1, got {m}");
        long n = g.shape[0];
        var coherences = new List<double>();
        for (long start = 0; start + m <= n || (start == 0 && n > 0); start += m)
        {
            long size = Math.Min(m, n - start);
            using var scope = NewDisposeScope();
            double sumOfNorms = squaredNorms.narrow(0, start, size).sum().ToDouble();
            if (sumOfNorms > 0) coherences.Add(g.narrow(0, start, size).sum([0]).pow(Scalars.Two).sum().ToDouble() / sumOfNorms);
            if (size < m) break;
        }
        return coherences.Count > 0 ? coherences.Average() : double.NaN;
    }

    /// <summary>m-coherence of the cross-entropy gradients of the first <paramref name="m"/> examples of <paramref name="data"/>, in eval
    /// mode.</summary>
    public static double Measure(Classifier model, LabeledDataset data, int m)
    {
        if (m < 1 || m > data.Count) throw new BasinException($"m-coherence needs 1 ≤ m ≤ {data.Count} examples, got {m}");
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var scope = NewDisposeScope();
            var x = data.Inputs.narrow(0, 0, m);
            var y = data.Labels.narrow(0, 0, m);
            return Of(PerExampleGradients.Compute(model, x, y));
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}

/// <summary>The m-coherence of one training batch's per-example gradients, measured at the weights the step started from.</summary>
public sealed record GradientCoherence(int Epoch, long Step, int Examples, double Value) : TrainingEvent;
