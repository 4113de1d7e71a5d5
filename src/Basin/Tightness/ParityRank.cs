namespace Basin.Tightness;

/// <summary>
/// The law of rank(X) for X an m × d matrix of i.i.d. uniform bits over GF(2). A new uniform row raises the rank r
/// unless it falls in the span of the rows so far, which holds 2^r of the 2^d vectors: P(r → r + 1) = 1 − 2^{r−d}.
/// </summary>
public static class ParityRank
{
    /// <summary>P(rank = r) for r = 0..d (exact up to rounding; entries above min(m, d) are 0).</summary>
    public static double[] Distribution(int d, int m)
    {
        Gf2Elimination.CheckDimension(d);
        if (m < 0) throw new BasinException($"sample size m must be ≥ 0, got {m}");
        var p = new double[d + 1];
        p[0] = 1;
        for (int row = 0; row < m; row++)
        {
            var next = new double[d + 1];
            for (int r = 0; r <= d; r++)
            {
                if (p[r] == 0) continue;
                double stay = Math.ScaleB(1.0, r - d);
                next[r] += p[r] * stay;
                if (r < d) next[r + 1] += p[r] * (1 - stay);
            }
            p = next;
        }
        return p;
    }

    /// <summary>P(full rank) of a d × d uniform matrix: Π_{i=1}^{d} (1 − 2^{−i}).</summary>
    public static double FullRankSquare(int d)
    {
        Gf2Elimination.CheckDimension(d);
        double p = 1;
        for (int i = 1; i <= d; i++) p *= 1 - Math.ScaleB(1.0, -i);
        return p;
    }
}
