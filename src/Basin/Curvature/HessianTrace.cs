using Basin.Flatness;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Curvature;

/// <summary>
/// Hutchinson's estimator of Tr(H): the mean of vᵀHv over Rademacher probes v (E[vvᵀ] = I), stopped once the
/// standard error of the mean is at most <c>relativeStandardError</c>·|mean| (after <c>minProbes</c>).
/// </summary>
public static class HessianTrace
{
    public static Estimate Hutchinson(ICurvatureProduct op, double relativeStandardError = 0.01, int minProbes = 10, int maxProbes = 1000,
        long seed = 0, CancellationToken cancellationToken = default)
    {
        if (maxProbes < 2) throw new BasinException($"the trace estimate needs at least 2 probes, got {maxProbes}");
        using var generator = new torch.Generator(unchecked((ulong)seed));
        long start = op.ProductCount;
        var stats = MonteCarlo.Until(relativeStandardError, minProbes, maxProbes, () =>
        {
            var v = ParamVectors.Rademacher(op.Shapes, op.DType, generator);
            return ParamVectors.Dot(v, op.Apply(v));
        }, cancellationToken);
        return new Estimate(stats.Mean, stats.StandardError, stats.Count, op.ProductCount - start);
    }

    /// <summary>The exact trace from <paramref name="op"/>'s diagonal, one product per dimension (small sets only).</summary>
    public static double Exact(ICurvatureProduct op, CancellationToken cancellationToken = default)
    {
        using var scope = torch.NewDisposeScope();
        using var full = CurvatureMatrix.Full(op, cancellationToken);
        return full.trace().ToDouble();
    }
}
