namespace Basin.Data.Corruptions;

/// <summary>
/// Corrupts one image in place: <paramref name="pixels"/> holds <paramref name="channels"/> planes of h×w values in [0, 1]
/// from <paramref name="offset"/>; <paramref name="c"/> is the severity's parameter; <paramref name="random"/> is seeded for
/// this (corruption, severity, sample).
/// </summary>
internal delegate void CorruptImage(float[] pixels, int offset, int channels, int h, int w, double c, Random random);

/// <summary>
/// One corruption of the MNIST-C family (Mu &amp; Gilmer, "MNIST-C: A Robustness Benchmark for Computer Vision", 2019):
/// its name, what it does, and its parameter at severities 1..5 (empty for a parameter-free corruption, which is the same
/// at every severity ≥ 1). Severity 0 is the identity for every corruption.
/// </summary>
public sealed record Corruption(string Name, string Operation, IReadOnlyList<double> Parameters)
{
    internal CorruptImage Apply { get; init; } = (_, _, _, _, _, _, _) => { };

    /// <summary>The parameter at <paramref name="severity"/> (1..5); NaN for a parameter-free corruption.</summary>
    public double Parameter(int severity) => Parameters.Count == 0 ? double.NaN : Parameters[severity - 1];
}
