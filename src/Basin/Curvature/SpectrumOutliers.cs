using Basin.Flatness;
namespace Basin.Curvature;

/// <summary>
/// Counts the outliers above the bulk of a Hessian spectrum (Sagun et al. 2017: after training, a bulk near
/// zero plus about one outlier per class). Rule: among the given top eigenvalues (largest first), find the
/// largest ratio λ_i/λ_{i+1} between consecutive positive eigenvalues; if it is at least
/// <c>minGapRatio</c>, the i eigenvalues above that gap are the outliers, otherwise there are none. The last
/// eigenvalue given is taken as part of the bulk, so ask for more eigenvalues (say 2–3× the class count) than
/// outliers you expect; eigenvalues at or below zero always belong to the bulk.
/// </summary>
public static class SpectrumOutliers
{
    public static int Count(IReadOnlyList<double> topEigenvalues, double minGapRatio = 2.0)
    {
        var sorted = topEigenvalues.OrderByDescending(v => v).ToArray();
        int best = 0;
        double bestRatio = minGapRatio;
        for (int i = 0; i + 1 < sorted.Length && sorted[i + 1] > 0; i++)
        {
            double ratio = sorted[i] / sorted[i + 1];
            if (ratio >= bestRatio) { bestRatio = ratio; best = i + 1; }
        }
        return best;
    }
}
