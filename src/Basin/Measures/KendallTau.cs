namespace Basin.Measures;

/// <summary>
/// Kendall's rank correlation τ-b (Kendall 1945), the version with the tie correction (as scipy.stats.kendalltau):
/// τ_b = (n_c − n_d) / √((n₀ − n_x)(n₀ − n_y)), with n₀ = n(n−1)/2 pairs, n_c/n_d the concordant/discordant pairs,
/// and n_x (n_y) the pairs tied in x (y). Without ties it is the plain τ = (n_c − n_d)/n₀.
/// Pairs with a NaN are left out; +∞ ranks above every finite value and ties with +∞. NaN when the denominator is 0
/// (all x or all y tied) or there are fewer than two usable values.
/// </summary>
public static class KendallTau
{
    public static double TauB(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count) throw new ArgumentException($"x has {x.Count} values, y {y.Count}");
        var idx = Enumerable.Range(0, x.Count).Where(i => !double.IsNaN(x[i]) && !double.IsNaN(y[i])).ToArray();
        long concordant = 0, discordant = 0, tiedX = 0, tiedY = 0, pairs = 0;
        for (int a = 0; a < idx.Length; a++)
            for (int b = a + 1; b < idx.Length; b++)
            {
                int i = idx[a], j = idx[b];
                int sx = Math.Sign(x[i].CompareTo(x[j])), sy = Math.Sign(y[i].CompareTo(y[j]));
                pairs++;
                if (sx == 0) tiedX++;
                if (sy == 0) tiedY++;
                if (sx != 0 && sy != 0)
                {
                    if (sx == sy) concordant++; else discordant++;
                }
            }
        double denominator = Math.Sqrt((double)(pairs - tiedX) * (pairs - tiedY));
        return denominator > 0 ? (concordant - discordant) / denominator : double.NaN;
    }
}
