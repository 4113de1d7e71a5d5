using Basin.Native;
using Basin.Data;
using Basin.Training;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Measures;

/// <summary>
/// The noise scale found by <see cref="PacBayesFlatness"/> and the accuracy drop measured at it. <see cref="Reached"/> is
/// false when the search hit its cap without bracketing the target (noise of any size, or of no size, gives the target
/// drop): then σ is only the last scale tried, not a measurement.
/// </summary>
public sealed record NoiseScale(double Sigma, double Drop, double BaseAccuracy, int Evaluations)
{
    public bool Reached { get; init; } = true;

    /// <summary>1/σ², the flatness measure; a BasinException saying "not reached" when the search did not reach its target.</summary>
    public double InverseSquare(double target) => Reached ? 1 / (Sigma * Sigma)
        : throw new BasinException($"not reached: the σ search stopped at σ = {Sigma:G3} with an accuracy drop of {Drop:G3} (target " +
            $"{target:G3}, base accuracy {BaseAccuracy:G3}); " +
            (Drop < target ? "no noise scale costs the target (a model at chance level?)" : "even the smallest scale costs the target"));
}

/// <summary>
/// PAC-Bayes flatness (Jiang et al. 2020, after Dziugaite &amp; Roy 2017): σ is the largest scale of Gaussian weight
/// noise u ~ N(0, σ²I) (every parameter, biases included) for which the mean training accuracy of θ + u is at most
/// <see cref="MeasureOptions.AccuracyDropTarget"/> below that of θ; the measure is 1/σ². The magnitude-aware variant
/// draws u_i ~ N(0, σ²θ_i²), i.e. multiplicative noise θ_i(1 + σz_i) (Jiang et al. add ε² = 10⁻⁶ to the variance;
/// Basin uses ε = 0 so that the measure is exactly unchanged by rescalings: a rescaled network with the same z is
/// the rescaled perturbed network).
/// The drop is a Monte-Carlo mean over <see cref="MeasureOptions.NoiseDraws"/> draws; the same draws z_k are used
/// for every σ (common random numbers), which makes the drop nearly monotone in σ. σ is bracketed by doubling or
/// halving from 0.01, then bisected in log σ until the drop is within the tolerance of the target.
/// </summary>
public static class PacBayesFlatness
{
    const double Start = 0.01;
    const int MaxBracketSteps = 40;

    public static NoiseScale Search(Classifier model, LabeledDataset data, bool magnitudeAware, MeasureOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new MeasureOptions();
        if (!(options.AccuracyDropTarget > 0 && options.AccuracyDropTarget < 1)) throw new BasinException("accuracy-drop target must be " +
            $"in (0, 1), got {options.AccuracyDropTarget}");
        if (options.NoiseDraws < 1) throw new BasinException($"noise draws must be at least 1, got {options.NoiseDraws}");
        double target = options.AccuracyDropTarget, tol = options.AccuracyDropTolerance;
        double baseAccuracy = Evaluation.Accuracy(model, data, options.ChunkSize);
        int evaluations = 0;
        double Drop(double sigma)
        {
            cancellationToken.ThrowIfCancellationRequested();
            evaluations++;
            return AccuracyDrop(model, data, sigma, magnitudeAware, options.NoiseDraws, options.Seed, baseAccuracy, options.ChunkSize);
        }

        // Bracket: lo has a drop below the target, hi at or above it.
        double lo = 0, hi = Start, dropHi = Drop(hi);
        var best = (Sigma: hi, Drop: dropHi);
        for (int i = 0; dropHi < target && i < MaxBracketSteps; i++)
        {
            lo = hi;
            hi *= 2;
            dropHi = Drop(hi);
            best = Closer(best, (hi, dropHi), target);
        }
        if (dropHi < target)   // noise this large never costs the target
            return new NoiseScale(hi, dropHi, baseAccuracy, evaluations) { Reached = false };
        if (lo == 0)
        {
            for (int i = 0; i < MaxBracketSteps; i++)
            {
                double s = hi / 2, d = Drop(s);
                best = Closer(best, (s, d), target);
                if (d < target) { lo = s; break; }
                hi = s;
            }
            if (lo == 0) return new NoiseScale(hi, dropHi, baseAccuracy, evaluations) { Reached = false };
        }
        for (int step = 0; step < options.BisectionSteps && Math.Abs(best.Drop - target) > tol; step++)
        {
            double mid = Math.Sqrt(lo * hi), d = Drop(mid);
            best = Closer(best, (mid, d), target);
            if (d < target) lo = mid; else hi = mid;
        }
        return new NoiseScale(best.Sigma, best.Drop, baseAccuracy, evaluations);
    }

    static (double Sigma, double Drop) Closer((double Sigma, double Drop) a, (double Sigma, double Drop) b, double target) =>
        Math.Abs(b.Drop - target) < Math.Abs(a.Drop - target) ? b : a;

    /// <summary>
    /// Base accuracy minus the mean accuracy over <paramref name="draws"/> noise draws at scale σ (draw k uses a
    /// generator seeded with seed·7919 + k, so equal seeds give equal draws). The weights are restored afterwards.
    /// </summary>
    public static double AccuracyDrop(Classifier model, LabeledDataset data, double sigma, bool magnitudeAware, int draws, long seed,
        double? baseAccuracy = null, int chunkSize = 1000)
    {
        double acc0 = baseAccuracy ?? Evaluation.Accuracy(model, data, chunkSize);
        using var snapshot = WeightSnapshot.OfParameters(model);
        try
        {
            double sum = 0;
            for (int k = 0; k < draws; k++)
            {
                using (var noGrad = torch.no_grad())
                using (var generator = new torch.Generator(unchecked((ulong)(seed * 7919 + k))))
                {
                    int i = 0;
                    foreach (var p in model.parameters())
                    {
                        using var scope = torch.NewDisposeScope();
                        var z = torch.randn(p.shape, p.dtype, generator: generator);
                        using var s = sigma.ToScalar();
                        var noise = magnitudeAware ? z.mul(snapshot.Values[i].abs()).mul(s) : z.mul(s);
                        p.copy_(snapshot.Values[i].add(noise, Scalars.One));
                        i++;
                    }
                }
                sum += Evaluation.Accuracy(model, data, chunkSize);
            }
            return acc0 - sum / draws;
        }
        finally
        {
            snapshot.Restore();
        }
    }
}
