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

    /// <summary>
    /// Hutchinson's estimate after deflation by a Krylov sketch (the idea of Hutch++, Meyer, Musco, Musco &amp; Woodruff 2021,
    /// with a Lanczos sketch): <paramref name="sketchSteps"/> Lanczos steps give an orthonormal basis Q with
    /// tr(QᵀHQ) = Σ α_j exactly, and the rest, tr((I − QQᵀ) H (I − QQᵀ)), is the mean of zᵀHz over Rademacher probes
    /// z projected off Q (drawn independently of the sketch's start, so the estimate is unbiased). Its variance is that
    /// of the deflated operator: far smaller than Hutchinson's when a few large eigenvalues carry most of ‖H‖_F, as
    /// in trained networks. Probes stop once the standard error is at most <paramref name="relativeStandardError"/>
    /// times |estimate| or at most <paramref name="absoluteStandardError"/> (after <paramref name="minProbes"/>), or at
    /// <paramref name="maxProbes"/>. A sketch that spans the whole space gives the exact trace with no probe.
    /// </summary>
    public static Estimate Deflated(ICurvatureProduct op, int sketchSteps, double relativeStandardError = 0.01, int minProbes = 10,
        int maxProbes = 1000, long seed = 0, double absoluteStandardError = 0, CancellationToken cancellationToken = default)
    {
        if (sketchSteps < 1) throw new BasinException($"the trace's sketch needs at least 1 Lanczos step, got {sketchSteps}");
        if (maxProbes < 2) throw new BasinException($"the trace estimate needs at least 2 probes, got {maxProbes}");
        using var scope = torch.NewDisposeScope();
        long start = op.ProductCount;
        var basis = new List<Tensor[]>();
        int steps = (int)Math.Min(sketchSteps, op.Dimension);
        var run = Lanczos.Run(op, steps, seed, cancellationToken, minSteps: steps, keepBasis: basis);
        double sketch = run.Alpha.Sum();
        if (basis.Count >= op.Dimension) return new Estimate(sketch, 0, 0, op.ProductCount - start);
        // The probes' stream is independent of the sketch's start vector (drawn from the seed itself).
        using var generator = new torch.Generator(unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + 0x632BE59BD9B4E019UL));
        int least = Math.Max(2, Math.Min(minProbes, maxProbes));
        var stats = MonteCarlo.Until(s => s.Count >= least && (s.StandardError <= absoluteStandardError
            || s.StandardError <= relativeStandardError * Math.Abs(sketch + s.Mean)), maxProbes, () =>
        {
            var z = ParamVectors.Rademacher(op.Shapes, op.DType, generator);
            ParamVectors.Orthogonalize(z, basis);
            return ParamVectors.Dot(z, op.Apply(z));
        }, cancellationToken);
        return new Estimate(sketch + stats.Mean, stats.StandardError, stats.Count, op.ProductCount - start);
    }

    /// <summary>The exact trace from <paramref name="op"/>'s diagonal, one product per dimension (small sets only).</summary>
    public static double Exact(ICurvatureProduct op, CancellationToken cancellationToken = default)
    {
        using var scope = torch.NewDisposeScope();
        using var full = CurvatureMatrix.Full(op, cancellationToken);
        return full.trace().ToDouble();
    }
}
