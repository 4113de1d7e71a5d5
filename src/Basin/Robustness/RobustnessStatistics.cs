namespace Basin.Robustness;

/// <summary>Agreement of two models' per-sample correctness: the fraction of equal outcomes and Cohen's κ.</summary>
public sealed record Agreement(double Fraction, double Kappa);

/// <summary>
/// The statistics the robustness analyses use, on plain arrays: per-sample agreement and Cohen's κ (method similarity),
/// Jaccard overlap of failure sets and Pearson correlation (benchmark redundancy), the Mann–Whitney AUC (does a score
/// predict a flip), medians and quartiles.
/// </summary>
public static class RobustnessStatistics
{
    /// <summary>Agreement of two equally long outcome vectors; κ = (p_o − p_e)/(1 − p_e), NaN when p_e = 1.</summary>
    public static Agreement Agree(IReadOnlyList<bool> a, IReadOnlyList<bool> b)
    {
        if (a.Count != b.Count || a.Count == 0) throw new BasinException($"agreement needs two equally long, non-empty outcome lists " +
            $"({a.Count} and {b.Count})");
        int same = 0, ta = 0, tb = 0;
        for (int i = 0; i < a.Count; i++)
        {
            if (a[i] == b[i]) same++;
            if (a[i]) ta++;
            if (b[i]) tb++;
        }
        double n = a.Count, po = same / n, pa = ta / n, pb = tb / n;
        double pe = pa * pb + (1 - pa) * (1 - pb);
        return new Agreement(po, pe == 1 ? double.NaN : (po - pe) / (1 - pe));
    }

    /// <summary>|A ∩ B| / |A ∪ B| of the positions where each list is true; NaN when both are empty.</summary>
    public static double Jaccard(IReadOnlyList<bool> a, IReadOnlyList<bool> b)
    {
        if (a.Count != b.Count) throw new BasinException($"Jaccard needs two equally long lists ({a.Count} and {b.Count})");
        int both = 0, either = 0;
        for (int i = 0; i < a.Count; i++)
        {
            if (a[i] && b[i]) both++;
            if (a[i] || b[i]) either++;
        }
        return either == 0 ? double.NaN : (double)both / either;
    }

    /// <summary>Pearson's correlation; NaN with fewer than 2 points or a constant list.</summary>
    public static double Pearson(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count) throw new BasinException($"Pearson needs two equally long lists ({x.Count} and {y.Count})");
        int n = x.Count;
        if (n < 2) return double.NaN;
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++)
        {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        return sxx == 0 || syy == 0 ? double.NaN : sxy / Math.Sqrt(sxx * syy);
    }

    /// <summary>
    /// P(score of a positive > score of a negative) + ½ P(equal): the area under the ROC curve of <paramref name="score"/>
    /// for predicting <paramref name="positive"/>, from mid-ranks. NaN scores are left out; NaN without both classes.
    /// </summary>
    public static double Auc(IReadOnlyList<double> score, IReadOnlyList<bool> positive)
    {
        if (score.Count != positive.Count) throw new BasinException($"AUC needs as many scores as labels ({score.Count} and " +
            $"{positive.Count})");
        var items = Enumerable.Range(0, score.Count).Where(i => !double.IsNaN(score[i])).OrderBy(i => score[i]).ToArray();
        long pos = items.Count(i => positive[i]), neg = items.Length - pos;
        if (pos == 0 || neg == 0) return double.NaN;
        double rankSum = 0;
        for (int start = 0; start < items.Length;)
        {
            int end = start;
            while (end + 1 < items.Length && score[items[end + 1]] == score[items[start]]) end++;
            double midRank = (start + end) / 2.0 + 1;
            for (int j = start; j <= end; j++) if (positive[items[j]]) rankSum += midRank;
            start = end + 1;
        }
        return (rankSum - pos * (pos + 1) / 2.0) / ((double)pos * neg);
    }

    /// <summary>The q-quantile (linear interpolation between order statistics) of the non-NaN values; NaN when none.</summary>
    public static double Quantile(IEnumerable<double> values, double q)
    {
        var v = values.Where(x => !double.IsNaN(x)).Order().ToArray();
        if (v.Length == 0) return double.NaN;
        double pos = q * (v.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, v.Length - 1);
        return v[lo] + (pos - lo) * (v[hi] - v[lo]);
    }
}
