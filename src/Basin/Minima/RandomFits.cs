using Basin.Data;
using Basin.Models;

namespace Basin.Minima;

/// <summary>Best of several Newton fits of one network from seeded random starts θ0 ~ Scale·N(0, I).</summary>
public sealed record RestartsResult(string Network, int Restarts, int Converged, double BestLoss, IReadOnlyList<double> Losses);

/// <summary>
/// The survey of B on random data: fits of Sizes (one hidden layer, squared error) to points uniform in [−2, 2]^d with
/// N(0, 1) targets, Newton to ‖∇L‖ ≤ 1e-10; a fit counts as a strict minimum when its Hessian is positive definite, no
/// parameter exceeds 30 in size and no hidden unit is saturated. For each hidden unit of each strict minimum: B positive
/// definite, negative definite or indefinite (or singular), and whether M ≠ 0.
/// </summary>
public sealed record SurveyResult(string Network, int Samples, int Fits, int Converged, int StrictMinima, int Units, int PositiveDefinite,
    int NegativeDefinite, int Indefinite, int Singular, int MNonzero, long Seed);

/// <summary>Options of <see cref="RandomFits.Survey"/>.</summary>
public sealed record SurveySpec
{
    public IReadOnlyList<int> Sizes { get; init; } = [2, 2, 1];
    public Activation Activation { get; init; } = Activation.Sigmoid;
    public int Samples { get; init; } = 12;
    public int Fits { get; init; } = 100;
    public long Seed { get; init; } = 1;
    /// <summary>Newton iterations per fit (fits heading for minima at infinity use them all).</summary>
    public int MaxIterations { get; init; } = 200;

    public void Check()
    {
        if (MaxIterations < 1) throw new BasinException($"the survey needs at least 1 Newton iteration per fit, got {MaxIterations}");
        if (Sizes.Count < 3) throw new BasinException($"the survey needs inputs, hidden widths and outputs, got {string.Join(",", Sizes)}");
        if (Samples < 1) throw new BasinException($"the survey needs at least 1 sample, got {Samples}");
        if (Fits < 1) throw new BasinException($"the survey needs at least 1 fit, got {Fits}");
    }
}

/// <summary>Random restarts and the survey of how often B is definite on random data.</summary>
public static class RandomFits
{
    public static RestartsResult BestOfRestarts(IReadOnlyList<int> sizes, Activation activation, FitData data, int restarts, long seed,
        double scale = 1, IProgress<string>? progress = null, CancellationToken ct = default)
    {
        if (restarts < 1) throw new BasinException($"give at least 1 restart, got {restarts}");
        var rng = SeededRandom.Create(seed);
        var losses = new List<double>();
        int converged = 0;
        double best = double.PositiveInfinity;
        for (int i = 0; i < restarts; i++)
        {
            ct.ThrowIfCancellationRequested();
            var start = new SmoothNet(sizes, activation, Enumerable.Range(0, (int)SmoothNet.ParameterCount(sizes)).Select(_ => scale * rng.NextGaussian()).ToArray());
            var r = NewtonSolver.Minimize(start, data, new NewtonOptions { MaxIterations = 200 }, ct);
            losses.Add(r.Loss);
            if (r.Converged) converged++;
            best = Math.Min(best, r.Loss);
            progress?.Report($"restart {i + 1}/{restarts}: loss {r.Loss:G6} (best {best:G6})");
        }
        return new RestartsResult(new SmoothNet(sizes, activation, new double[SmoothNet.ParameterCount(sizes)]).Describe(), restarts, converged, best, losses);
    }

    public static SurveyResult Survey(SurveySpec spec, IProgress<string>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Check();
        var rng = SeededRandom.Create(spec.Seed);
        var sizes = spec.Sizes.ToArray();
        int converged = 0, strict = 0, units = 0, pd = 0, nd = 0, indefinite = 0, singular = 0, mNonzero = 0;
        var options = new SplitOptions();
        for (int fit = 0; fit < spec.Fits; fit++)
        {
            ct.ThrowIfCancellationRequested();
            var x = new double[spec.Samples, sizes[0]];
            var y = new double[spec.Samples, sizes[^1]];
            for (int n = 0; n < spec.Samples; n++)
            {
                for (int j = 0; j < sizes[0]; j++) x[n, j] = rng.NextDouble() * 4 - 2;
                for (int j = 0; j < sizes[^1]; j++) y[n, j] = rng.NextGaussian();
            }
            using var data = FitData.Regression(x, y);
            var start = new SmoothNet(sizes, spec.Activation, Enumerable.Range(0, (int)SmoothNet.ParameterCount(sizes)).Select(_ => rng.NextGaussian()).ToArray());
            var r = NewtonSolver.Minimize(start, data, new NewtonOptions { MaxIterations = spec.MaxIterations }, ct);
            if (r.Converged) converged++;
            if (!r.IsStrictMinimum()) continue;
            var curvatures = Enumerable.Range(1, sizes.Length - 2)
                .SelectMany(l => Enumerable.Range(1, sizes[l]).Select(u => SplitCurvature.At(r.Net, data, l, u))).ToArray();
            if (curvatures.Any(c => c.MaxDerivativeRatio < options.SaturationFloor)) continue;
            strict++;
            foreach (var c in curvatures)
            {
                units++;
                var inertia = SymmetricEigen.Of(c.B).InertiaAt(options.ZeroTolerance);
                if (inertia.Zero > 0) singular++;
                else if (inertia.Negative == 0) pd++;
                else if (inertia.Positive == 0) nd++;
                else indefinite++;
                if (c.MOrthogonalNorm() > options.MZeroTolerance * c.MNorm()) mNonzero++;
            }
            progress?.Report($"fit {fit + 1}/{spec.Fits}: {strict} strict minima, {pd + nd} definite B of {units} units");
        }
        return new SurveyResult(new SmoothNet(sizes, spec.Activation, new double[SmoothNet.ParameterCount(sizes)]).Describe(), spec.Samples,
            spec.Fits, converged, strict, units, pd, nd, indefinite, singular, mNonzero, spec.Seed);
    }
}
