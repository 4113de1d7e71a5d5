namespace Basin.Measures;

/// <summary>A named measure: its facts and the function computing it.</summary>
public sealed class Measure(MeasureFacts facts, Func<MeasureContext, double> compute)
{
    public MeasureFacts Facts { get; } = facts;
    public string Name => Facts.Name;

    /// <summary>
    /// The measure's value. A measure that does not apply to the model (e.g. path-norm of a ResNet, init
    /// distance without initial weights) throws <see cref="BasinException"/> naming the reason.
    /// </summary>
    public double Compute(MeasureContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Facts.NeedsInitialWeights && context.Initial is null)
            throw new BasinException($"measure '{Name}' needs the initial weights");
        context.CancellationToken.ThrowIfCancellationRequested();
        return compute(context);
    }
}
