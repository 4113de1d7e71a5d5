namespace Basin.Measures;

/// <summary>
/// A measure computed from other measures' stored values and the model's training-set size m, without the model:
/// the size-adjusted forms NAME@m and the PAC-Bayes bounds. Sweep reports add them to every model.
/// </summary>
public sealed class DerivedMeasure(MeasureFacts facts, IReadOnlyList<string> inputs, Func<Func<string, double>, double, double> compute)
{
    public MeasureFacts Facts { get; } = facts;
    public string Name => Facts.Name;

    /// <summary>The measures it is computed from.</summary>
    public IReadOnlyList<string> Inputs { get; } = inputs;

    /// <summary>The value from <paramref name="values"/> (by measure name) and m; null when an input is missing.</summary>
    public double? Compute(IReadOnlyDictionary<string, double> values, double m)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (Inputs.Any(i => !values.ContainsKey(i))) return null;
        return compute(name => values[name], m);
    }
}
