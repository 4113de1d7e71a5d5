using Basin.Flatness;
namespace Basin.Curvature;

/// <summary>
/// Top eigenvalues, largest first, and the number of curvature-vector products spent on them.
/// <see cref="Converged"/> is false when the iteration limit ended the run before the tolerance was met.
/// </summary>
public sealed record EigenvalueResult(IReadOnlyList<double> Values, long Products, bool Converged);

/// <summary>Outliers above the bulk among <see cref="Eigenvalues"/> (the top ones, largest first), by
/// <see cref="SpectrumOutliers"/>.</summary>
public sealed record OutlierResult(int Count, IReadOnlyList<double> Eigenvalues, long Products);

/// <summary>A Monte-Carlo estimate: mean, standard error of the mean, and samples (probes) used.</summary>
public sealed record Estimate(double Mean, double StandardError, int Samples, long Products)
{
    public double RelativeStandardError => StandardError / Math.Abs(Mean);
}

/// <summary>
/// A spectral density by stochastic Lanczos quadrature: per run the Ritz values (nodes) and their weights
/// (squared first components of the tridiagonal's eigenvectors; each run's weights sum to 1), and the
/// density obtained by placing a Gaussian of standard deviation <see cref="Sigma"/> on every node, averaged
/// over runs, evaluated on <see cref="Grid"/>. It integrates to 1 up to the grid's resolution.
/// </summary>
public sealed record SpectralDensityResult(
    IReadOnlyList<IReadOnlyList<double>> Nodes,
    IReadOnlyList<IReadOnlyList<double>> Weights,
    IReadOnlyList<double> Grid,
    IReadOnlyList<double> Density,
    double Sigma,
    long Products)
{
    /// <summary>Mean of the quadrature distribution, Σ weight·node averaged over runs (an estimate of Tr(H)/n).</summary>
    public double Mean => Enumerable.Range(0, Nodes.Count).Average(r => Nodes[r].Zip(Weights[r], (x, w) => x * w).Sum());
}
