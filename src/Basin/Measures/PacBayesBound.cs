namespace Basin.Measures;

/// <summary>
/// The PAC-Bayes bound term of Jiang et al. (2020, measures 48 and 49) with a Gaussian posterior N(w, σ²I) and a
/// prior N(w_ref, σ²I) centred at the initial weights or the origin: ‖w − w_ref‖²/(4σ²) + log(m/σ) + 10. σ is the
/// one PAC-Bayes flatness finds (1/σ² = pac-bayes-flatness), so the bound costs nothing beyond that search. The noise
/// of that search perturbs every parameter, so the distance runs over all parameters (biases included), where the
/// reimplementation of Dziugaite et al. leaves biases out.
/// </summary>
public static class PacBayesBound
{
    public static double Value(double squaredDistance, double sigma, double m) =>
        sigma > 0 && m > 0 ? squaredDistance / (4 * sigma * sigma) + Math.Log(m / sigma) + 10 : double.NaN;

    /// <summary>The same from the stored flatness 1/σ².</summary>
    public static double FromFlatness(double squaredDistance, double flatness, double m) =>
        double.IsPositiveInfinity(flatness) && m > 0 ? double.PositiveInfinity
        : flatness > 0 ? Value(squaredDistance, 1 / Math.Sqrt(flatness), m) : double.NaN;
}
