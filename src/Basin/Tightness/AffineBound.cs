namespace Basin.Tightness;

/// <summary>
/// A bound B = <paramref name="Intercept"/> + <paramref name="Slope"/>·μ calibrated by least squares on (measure, loss)
/// pairs. When the measure does not vary (or is not finite) the slope is 0 and B is the mean loss.
/// </summary>
public sealed record AffineBound(double Intercept, double Slope)
{
    /// <summary>Least-squares fit of losses on measure values; pairs with a non-finite value are left out.</summary>
    public static AffineBound Fit(IReadOnlyList<double> measure, IReadOnlyList<double> loss)
    {
        if (measure.Count != loss.Count) throw new BasinException($"{measure.Count} measure values but {loss.Count} losses");
        var pairs = measure.Zip(loss).Where(p => double.IsFinite(p.First) && double.IsFinite(p.Second)).ToArray();
        if (pairs.Length == 0) throw new BasinException("no finite (measure, loss) pair to calibrate a bound on");
        double mx = pairs.Average(p => p.First), my = pairs.Average(p => p.Second);
        double sxx = pairs.Sum(p => (p.First - mx) * (p.First - mx));
        double sxy = pairs.Sum(p => (p.First - mx) * (p.Second - my));
        // A spread below rounding noise of the mean counts as no spread.
        if (!(sxx > 1e-24 * Math.Max(1, mx * mx) * pairs.Length)) return new AffineBound(my, 0);
        double slope = sxy / sxx;
        return new AffineBound(my - slope * mx, slope);
    }

    /// <summary>B(μ); a non-finite μ gives the intercept (the bound falls back to its constant part).</summary>
    public double At(double measure) => double.IsFinite(measure) ? Intercept + Slope * measure : Intercept;

    /// <summary>Mean |B(μ_i) − L_i|.</summary>
    public double MeanAbsoluteError(IReadOnlyList<double> measure, IReadOnlyList<double> loss)
    {
        if (measure.Count != loss.Count || measure.Count == 0)
            throw new BasinException($"{measure.Count} measure values but {loss.Count} losses");
        return measure.Zip(loss).Average(p => Math.Abs(At(p.First) - p.Second));
    }
}

/// <summary>
/// A structure-aware estimate of the population loss of h on natural data, used in the contrast experiment: with
/// dis the disagreement of h with a model trained on S only, on the unseen points U \ S, ê that model's held-out
/// error and K classes, it models h's errors off S as uniform label noise (which agrees with the S-only model 1/K of
/// the time): L̂ = ρ·(1 − 1/K)·clip((dis − ê)/((1 − 1/K) − ê), 0, 1). It is an estimate under that assumption, not a
/// bound: the impossibility says no function of (S, h) can be tight without assumptions on the distribution.
/// </summary>
public static class DisagreementEstimate
{
    public static double Of(double unseenFraction, double disagreement, double heldOutError, int classes)
    {
        if (classes < 2) throw new BasinException($"need at least 2 classes, got {classes}");
        double noise = 1 - 1.0 / classes;
        if (!(heldOutError < noise)) return double.NaN;
        double q = Math.Clamp((disagreement - heldOutError) / (noise - heldOutError), 0, 1);
        return unseenFraction * noise * q;
    }
}
