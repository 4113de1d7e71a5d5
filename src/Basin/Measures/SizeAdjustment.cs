namespace Basin.Measures;

/// <summary>
/// Turns a measure into a bound term at training-set size m, as Jiang et al. (2020) and the reimplementation of
/// Dziugaite et al. (2020) do before scoring: √(μ/m) for a complexity term, ½(μ − log m) for the logarithm of one
/// (<see cref="SizeScaling"/>). The adjusted measure is named NAME@m.
/// </summary>
public static class SizeAdjustment
{
    /// <summary>Appended to a measure's name for its size-adjusted form: "hessian-trace-all@m" is √(hessian-trace-all/m).</summary>
    public const string Suffix = "@m";

    public static string AdjustedName(string measure) => measure + Suffix;

    /// <summary>
    /// The bound term of <paramref name="value"/> with <paramref name="m"/> training examples. The square root is taken
    /// with the value's sign (a Hutchinson trace estimate can come out negative) so that the order of models with equal m
    /// is kept; NaN when m is unknown (NaN) or not positive, or the value is NaN (a measure that did not apply); +∞ stays
    /// +∞.
    /// </summary>
    public static double BoundTerm(SizeScaling scaling, double value, double m)
    {
        if (scaling == SizeScaling.None) return value;
        if (!(m > 0) || double.IsInfinity(m) || double.IsNaN(value)) return double.NaN;
        return scaling switch
        {
            SizeScaling.SquareRoot => Math.Sign(value) * Math.Sqrt(Math.Abs(value) / m),
            SizeScaling.HalfLog => 0.5 * (value - Math.Log(m)),
            _ => throw new ArgumentOutOfRangeException(nameof(scaling)),
        };
    }

    /// <summary>The size-adjusted form of a measure that scales with m (facts kept; the result is not adjusted again).</summary>
    public static DerivedMeasure Adjusted(MeasureFacts facts)
    {
        if (facts.Scaling == SizeScaling.None) throw new ArgumentException($"measure '{facts.Name}' is not adjusted for " +
            "the training-set size");
        var definition = facts.Scaling == SizeScaling.SquareRoot
            ? $"√({facts.Name}/m), m = the model's number of training examples"
            : $"½({facts.Name} − log m), m = the model's number of training examples";
        var adjusted = facts with
        {
            Name = AdjustedName(facts.Name),
            Definition = definition,
            Reads = facts.Name + ", training-set size",
            Scaling = SizeScaling.None,
            ScalingReason = "already a bound term at the model's training-set size",
            Scope = MeasureScope.Model,
        };
        return new DerivedMeasure(adjusted, [facts.Name], (v, m) => BoundTerm(facts.Scaling, v(facts.Name), m));
    }
}
