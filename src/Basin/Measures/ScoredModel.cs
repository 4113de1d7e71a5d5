namespace Basin.Measures;

/// <summary>
/// One trained model of a sweep as scoring sees it: its value on each hyper-parameter axis (as canonical text, so
/// equal settings compare equal), the measure's value and the generalization gap.
/// </summary>
public sealed record ScoredModel(IReadOnlyDictionary<string, string> Axes, double Measure, double Gap);
