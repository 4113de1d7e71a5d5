using Basin.Data;

namespace Basin.Pruning;

/// <summary>A value with a 95 % interval (bootstrap percentiles).</summary>
public sealed record Interval(double Estimate, double Low, double High);

/// <summary>
/// The pieces of node-space random search ("Random Search as a Baseline for Sparse Neural Network Architecture Search",
/// Rezsa Farahani 2024) that do not train: the seeds of candidate and control masks, the choice of the best candidate,
/// epochs to a threshold, and bootstrap intervals over the control masks.
/// </summary>
public static class NodeSearch
{
    /// <summary>Who a mask is for: a search candidate or a random control.</summary>
    public enum Role { Candidate, Random }

    /// <summary>
    /// The seed of mask <paramref name="index"/> of <paramref name="role"/> at node sparsity <paramref name="sparsity"/>
    /// (SplitMix64 over the base seed, the role, the sparsity's bits and the index): candidates and controls are independent
    /// draws of the same random-mask distribution.
    /// </summary>
    public static long MaskSeed(long seed, double sparsity, Role role, int index)
    {
        ulong x = Mix((ulong)seed ^ (role == Role.Candidate ? 0x43414E44UL : 0x52414E44UL));
        x = Mix(x ^ (ulong)BitConverter.DoubleToInt64Bits(sparsity));
        return unchecked((long)Mix(x ^ (ulong)index));
    }

    /// <summary>The index of the best score: the smallest (or the largest when <paramref name="higherIsBetter"/>), ties to the
    /// lower index; NaN scores are never chosen unless all are NaN (then 0).</summary>
    public static int Best(IReadOnlyList<double> scores, bool higherIsBetter = false)
    {
        if (scores.Count == 0) throw new BasinException("the search needs at least one candidate");
        int best = -1;
        for (int i = 0; i < scores.Count; i++)
        {
            if (double.IsNaN(scores[i])) continue;
            if (best < 0 || (higherIsBetter ? scores[i] > scores[best] : scores[i] < scores[best])) best = i;
        }
        return Math.Max(best, 0);
    }

    /// <summary>
    /// <paramref name="n"/> candidate indices spread evenly over the ranking by score (best first): the candidates at sorted
    /// positions round(i·(K − 1)/(n − 1)), i = 0..n−1 (each once), for the score-versus-outcome diagnostic.
    /// </summary>
    public static int[] SpreadOverScores(IReadOnlyList<double> scores, int n, bool higherIsBetter = false)
    {
        Check.AtLeast(n, 1, "n");
        var order = Enumerable.Range(0, scores.Count)
            .OrderBy(i => double.IsNaN(scores[i]) ? double.PositiveInfinity : higherIsBetter ? -scores[i] : scores[i]).ThenBy(i => i)
            .ToArray();
        if (n >= order.Length) return order;
        if (n == 1) return [order[0]];
        return Enumerable.Range(0, n).Select(i => order[(int)Math.Round(i * (order.Length - 1) / (double)(n - 1),
            MidpointRounding.AwayFromZero)]).Distinct().ToArray();
    }

    /// <summary>Spearman's ρ: Pearson's correlation of the mid-ranks; NaN with fewer than 2 points or no variation.</summary>
    public static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y) =>
        Basin.Robustness.RobustnessStatistics.Pearson(Ranks(x), Ranks(y));

    static double[] Ranks(IReadOnlyList<double> v)
    {
        var order = Enumerable.Range(0, v.Count).OrderBy(i => v[i]).ToArray();
        var ranks = new double[v.Count];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && v[order[end + 1]] == v[order[start]]) end++;
            for (int j = start; j <= end; j++) ranks[order[j]] = (start + end) / 2.0 + 1;
            start = end + 1;
        }
        return ranks;
    }

    /// <summary>The first epoch (1-based) whose train accuracy reaches <paramref name="threshold"/>; null when none does.</summary>
    public static int? EpochsToThreshold(IReadOnlyList<double> trainAccuracy, double threshold)
    {
        for (int i = 0; i < trainAccuracy.Count; i++) if (trainAccuracy[i] >= threshold) return i + 1;
        return null;
    }

    /// <summary>
    /// <paramref name="value"/> − mean(<paramref name="controls"/>) with a 95 % interval from <paramref name="resamples"/>
    /// bootstrap resamples of the controls (percentiles 2.5 and 97.5; seeded, so repeatable). With one control the interval
    /// is the point.
    /// </summary>
    public static Interval MinusMean(double value, IReadOnlyList<double> controls, int resamples = 10_000, long seed = 0)
    {
        var means = BootstrapMeans(controls, resamples, seed);
        return new Interval(value - controls.Average(), value - Percentile(means, 0.975), value - Percentile(means, 0.025));
    }

    /// <summary>The mean of <paramref name="values"/> with a 95 % bootstrap percentile interval.</summary>
    public static Interval Mean(IReadOnlyList<double> values, int resamples = 10_000, long seed = 0)
    {
        var means = BootstrapMeans(values, resamples, seed);
        return new Interval(values.Average(), Percentile(means, 0.025), Percentile(means, 0.975));
    }

    static double[] BootstrapMeans(IReadOnlyList<double> values, int resamples, long seed)
    {
        if (values.Count == 0) throw new BasinException("a bootstrap interval needs at least one value");
        Check.AtLeast(resamples, 1, "resamples");
        var random = SeededRandom.Create(seed);
        var means = new double[resamples];
        for (int b = 0; b < resamples; b++)
        {
            double sum = 0;
            for (int i = 0; i < values.Count; i++) sum += values[random.Next(values.Count)];
            means[b] = sum / values.Count;
        }
        Array.Sort(means);
        return means;
    }

    /// <summary>The q-quantile of sorted values, interpolated linearly.</summary>
    static double Percentile(double[] sorted, double q)
    {
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
