using Basin.Flatness;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Curvature;

/// <summary>
/// Spectral density by stochastic Lanczos quadrature (Ghorbani et al. 2019; PyHessian's density): per run,
/// Lanczos from a random unit vector gives T = VΛVᵀ; the nodes Λ with weights V[0,i]² are a quadrature rule
/// for vᵀ f(H) v, whose expectation is Tr f(H)/n. The density is the run-averaged Gaussian broadening of the nodes.
/// </summary>
public static class SpectralDensity
{
    /// <param name="runs">Independent start vectors (PyHessian's n_v).</param>
    /// <param name="steps">Lanczos steps per run (PyHessian's iter), at most the dimension.</param>
    /// <param name="gridPoints">Points of the evaluation grid.</param>
    /// <param name="variance">
    /// Broadening variance relative to the spectrum's width, as PyHessian's sigma_squared: σ² = variance·max(1, λ_max − λ_min).
    /// The grid extends 5σ beyond the extreme nodes so the density integrates to 1.
    /// </param>
    public static SpectralDensityResult Slq(ICurvatureProduct op, int runs = 1, int steps = 90, int gridPoints = 10_000,
        double variance = 1e-5, long seed = 0, CancellationToken cancellationToken = default)
    {
        if (runs < 1) throw new BasinException($"spectral density needs at least 1 run, got {runs}");
        if (steps < 1) throw new BasinException($"spectral density needs at least 1 Lanczos step, got {steps}");
        if (gridPoints < 2) throw new BasinException($"spectral density needs at least 2 grid points, got {gridPoints}");
        steps = (int)Math.Min(steps, op.Dimension);
        var nodes = new List<IReadOnlyList<double>>();
        var weights = new List<IReadOnlyList<double>>();
        long products = 0;
        for (int r = 0; r < runs; r++)
        {
            var run = Lanczos.Run(op, steps, seed + r, cancellationToken);
            products += run.Products;
            var (values, vectors) = Tridiagonal.Eigen(run.Alpha, run.Beta.Take(run.Alpha.Count - 1).ToArray());
            nodes.Add(values);
            weights.Add(Enumerable.Range(0, values.Length).Select(i => vectors[0, i] * vectors[0, i]).ToArray());
        }
        double lo = nodes.Min(n => n.Min()), hi = nodes.Max(n => n.Max());
        double sigma = Math.Sqrt(variance * Math.Max(1, hi - lo));
        using var scope = torch.NewDisposeScope();
        var grid = torch.linspace(lo - 5 * sigma - 0.01, hi + 5 * sigma + 0.01, gridPoints, ScalarType.Float64);
        var x = torch.tensor(nodes.SelectMany(n => n).ToArray(), ScalarType.Float64);
        var w = torch.tensor(weights.SelectMany(n => n).ToArray(), ScalarType.Float64);
        using var two = 2.ToScalar();
        using var minusTwoVariance = (-2 * sigma * sigma).ToScalar();
        using var norm = (Math.Sqrt(2 * Math.PI) * sigma).ToScalar();
        using var runCount = runs.ToScalar();
        var gauss = grid.unsqueeze(1).sub(x.unsqueeze(0)).pow_(two).div_(minusTwoVariance).exp_().div_(norm);
        var density = gauss.mv(w).div_(runCount);
        return new SpectralDensityResult(nodes, weights, grid.data<double>().ToArray(), density.data<double>().ToArray(), sigma, products);
    }
}
