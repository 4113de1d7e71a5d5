using Basin.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Landscape;

/// <summary>Loss and accuracy along a path θ(t), with the barrier over t ∈ [0, 1].</summary>
public sealed record PathProfile(IReadOnlyList<double> Ts, IReadOnlyList<double> Loss, IReadOnlyList<double> Accuracy, LossBarrier Barrier);

/// <summary>The straight line θ(t) = (1 − t)θ_A + tθ_B between two solutions of one architecture.</summary>
public static class Interpolation
{
    /// <summary>Default values of t: 41 points on [−0.5, 1.5] (0 and 1 among them).</summary>
    public static double[] DefaultTs() => Slices.Grid(-0.5, 1.5, 41);

    /// <summary>
    /// L((1 − t)θ_A + tθ_B) on <paramref name="data"/> at each t (which must include 0 and 1), evaluated on <paramref name="a"/> (whose
    /// weights are restored afterwards) along the direction θ_B − θ_A.
    /// </summary>
    public static PathProfile Line(nn.Module<Tensor, Tensor> a, nn.Module<Tensor, Tensor> b, LabeledDataset data, IReadOnlyList<double> ts,
        int chunkSize = 1000, IProgress<SliceProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var scope = torch.NewDisposeScope();
        var d = Directions.Between(a, b);
        using var surface = new LossSurface(a, data, chunkSize);
        var slice = Slices.Line(surface, d, ts, progress, cancellationToken);
        return new PathProfile(slice.Alphas, slice.Loss, slice.Accuracy, LossBarrier.Of(slice.Alphas, slice.Loss));
    }
}
