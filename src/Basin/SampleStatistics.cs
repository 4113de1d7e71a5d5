namespace Basin;

/// <summary>Summaries of a sample of numbers, stated once for every study and comparison.</summary>
public static class SampleStatistics
{
    /// <summary>The sample standard deviation (divisor n − 1); NaN for fewer than two values.</summary>
    public static double StandardDeviation(IReadOnlyList<double> xs)
    {
        ArgumentNullException.ThrowIfNull(xs);
        if (xs.Count < 2) return double.NaN;
        double mean = xs.Average();
        return Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (xs.Count - 1));
    }
}
