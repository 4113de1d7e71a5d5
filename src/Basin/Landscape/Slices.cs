using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Landscape;

/// <summary>How far a slice or curve evaluation has got: <see cref="Done"/> of <see cref="Of"/> points.</summary>
public sealed record SliceProgress(long Done, long Of);

/// <summary>A 1-D slice L(θ + α·d): loss and accuracy at each α.</summary>
public sealed record Slice1D(IReadOnlyList<double> Alphas, IReadOnlyList<double> Loss, IReadOnlyList<double> Accuracy);

/// <summary>A 2-D slice L(θ + α·d₁ + β·d₂): <c>Loss[i][j]</c> is the loss at (α_i, β_j).</summary>
public sealed record Slice2D(IReadOnlyList<double> Alphas, IReadOnlyList<double> Betas, double[][] Loss, double[][] Accuracy);

/// <summary>1-D and 2-D slices of a <see cref="LossSurface"/> ("Visualizing the Loss Landscape of Neural Nets", Li et al. 2018).</summary>
public static class Slices
{
    /// <summary><paramref name="steps"/> evenly spaced values from <paramref name="min"/> to <paramref name="max"/>, both
    /// included.</summary>
    public static double[] Grid(double min, double max, int steps)
    {
        if (!double.IsFinite(min) || !double.IsFinite(max)) throw new BasinException($"the range must be finite, got {min}:{max}");
        if (!(min < max)) throw new BasinException($"the range's minimum must be below its maximum, got {min}:{max}");
        if (steps < 2) throw new BasinException($"a range needs at least 2 steps, got {steps}");
        return Enumerable.Range(0, steps).Select(i => i == steps - 1 ? max : min + (max - min) * i / (steps - 1)).ToArray();
    }

    /// <summary>L(θ + α·d) for each α; NaN losses are recorded, not thrown.</summary>
    public static Slice1D Line(LossSurface surface, IReadOnlyList<Tensor> d, IReadOnlyList<double> alphas,
        IProgress<SliceProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var loss = new double[alphas.Count];
        var accuracy = new double[alphas.Count];
        var directions = new[] { d };
        for (int i = 0; i < alphas.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var p = surface.At([alphas[i]], directions);
            (loss[i], accuracy[i]) = (p.Loss, p.Accuracy);
            progress?.Report(new SliceProgress(i + 1, alphas.Count));
        }
        surface.Restore();
        return new Slice1D(alphas.ToArray(), loss, accuracy);
    }

    /// <summary>L(θ + α·d₁ + β·d₂) on the grid <paramref name="alphas"/> × <paramref name="betas"/>, row by row.</summary>
    public static Slice2D Plane(LossSurface surface, IReadOnlyList<Tensor> d1, IReadOnlyList<Tensor> d2, IReadOnlyList<double> alphas,
        IReadOnlyList<double> betas, IProgress<SliceProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var loss = new double[alphas.Count][];
        var accuracy = new double[alphas.Count][];
        var directions = new[] { d1, d2 };
        long total = (long)alphas.Count * betas.Count, done = 0;
        for (int i = 0; i < alphas.Count; i++)
        {
            loss[i] = new double[betas.Count];
            accuracy[i] = new double[betas.Count];
            for (int j = 0; j < betas.Count; j++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var p = surface.At([alphas[i], betas[j]], directions);
                (loss[i][j], accuracy[i][j]) = (p.Loss, p.Accuracy);
                progress?.Report(new SliceProgress(++done, total));
            }
        }
        surface.Restore();
        return new Slice2D(alphas.ToArray(), betas.ToArray(), loss, accuracy);
    }
}
