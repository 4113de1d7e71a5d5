using static TorchSharp.torch;

namespace Basin.Curvature;

/// <summary>The Monte-Carlo loop: draw samples until the mean is known to a relative standard error.</summary>
static class MonteCarlo
{
    /// <summary>
    /// Calls <paramref name="sample"/> (each in its own dispose scope) until SE ≤ <paramref name="relativeStandardError"/>·|mean|
    /// after at least <paramref name="minSamples"/> (and 2) samples, or until <paramref name="maxSamples"/>.
    /// </summary>
    public static RunningMean Until(double relativeStandardError, int minSamples, int maxSamples, Func<double> sample,
        CancellationToken cancellationToken = default) =>
        Until(stats => stats.Reached(relativeStandardError, minSamples), maxSamples, sample, cancellationToken);

    /// <summary>
    /// Calls <paramref name="sample"/> (each in its own dispose scope) until <paramref name="done"/> says the samples so far
    /// are enough, or until <paramref name="maxSamples"/>.
    /// </summary>
    public static RunningMean Until(Func<RunningMean, bool> done, int maxSamples, Func<double> sample,
        CancellationToken cancellationToken = default)
    {
        var stats = new RunningMean();
        while (stats.Count < maxSamples && !done(stats))
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            stats.Add(sample());
        }
        return stats;
    }
}

/// <summary>Mean and standard error accumulated one sample at a time (Welford).</summary>
sealed class RunningMean
{
    double mean, m2;
    public int Count { get; private set; }

    public void Add(double x)
    {
        Count++;
        double d = x - mean;
        mean += d / Count;
        m2 += d * (x - mean);
    }

    public double Mean => mean;
    public double StandardError => Count > 1 ? Math.Sqrt(m2 / (Count - 1) / Count) : double.PositiveInfinity;

    /// <summary>True once at least <paramref name="minSamples"/> are in and SE/|mean| ≤ <paramref name="relative"/>.</summary>
    public bool Reached(double relative, int minSamples) =>
        Count >= Math.Max(2, minSamples) && StandardError <= relative * Math.Abs(mean);
}
