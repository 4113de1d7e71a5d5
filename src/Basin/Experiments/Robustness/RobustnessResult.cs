using Basin.Robustness;

namespace Basin.Experiments.Robustness;

/// <summary>
/// One model on one test set (corruption "clean" at severity 0, or a corruption at a severity): accuracy, mean loss,
/// medians of ‖h‖, θ_y (degrees) and the geometric margin, the count of zero features, and the flips against the clean set.
/// </summary>
public sealed record CellSummary(string Corruption, int Severity, double Accuracy, double MeanLoss, double MedianFeatureNorm,
    double MedianThetaY, double MedianGeometricMargin, int ZeroFeatures, int CorrectToWrong, int WrongToCorrect);

/// <summary>
/// One run: its weight sparsity (exact zeros among conv and linear weights), the head's class-weight norms and biases, and
/// its cells. FlipAucAngle / FlipAucLength: among clean-correct samples over every corrupted set, the AUC with which the
/// rise of θ_y (resp. the fall of ‖h‖) from clean to corrupted predicts that the sample turns wrong. FragilityAucMargin:
/// the AUC with which a small clean geometric margin predicts that a clean-correct sample is wrong on more than half the
/// corrupted sets.
/// </summary>
public sealed record RunRobustness(string RunId, string Kind, string Model, double WeightSparsity, double CleanAccuracy,
    double MeanCorruptedAccuracy, IReadOnlyList<double> ClassWeightNorms, IReadOnlyList<double> Biases, double FlipAucAngle,
    double FlipAucLength, double FragilityAucMargin, string GeometryCsv, IReadOnlyList<CellSummary> Cells);

/// <summary>Method similarity: two runs' per-sample correctness agreement on the clean set and on all corrupted sets.</summary>
public sealed record RunPair(string A, string B, Agreement Clean, Agreement Corrupted);

/// <summary>
/// Benchmark redundancy: the Pearson correlation of two corruptions' accuracy drops (clean minus corrupted) over
/// (run, severity), and the Jaccard overlap of their failure sets of (run, severity, sample); redundant when ρ &gt; 0.9.
/// </summary>
public sealed record CorruptionPair(string A, string B, double DropCorrelation, double FailureJaccard, bool Redundant);

/// <summary>A test sample and the fraction of (run, corrupted set) cells where it is classified correctly.</summary>
public sealed record SampleRank(int Sample, int Label, double CorrectFraction, int CleanCorrectRuns);

/// <summary>
/// A robustness job's figures; <see cref="MethodTree"/>: the average-linkage dendrogram of the runs (leaves in the order
/// given) on 1 − per-sample agreement over all corrupted sets (the clean set when there is none; null for one run);
/// <see cref="Thumbnails"/>: which samples and sets samples.png shows, in its order.
/// </summary>
public sealed record RobustnessResult(string Dataset, int Samples, long Seed, IReadOnlyList<string> Corruptions,
    IReadOnlyList<int> Severities, IReadOnlyList<RunRobustness> Runs, IReadOnlyList<RunPair> Similarity,
    IReadOnlyList<CorruptionPair> Redundancy, IReadOnlyList<SampleRank> MostFragile, IReadOnlyList<SampleRank> MostRobust,
    IReadOnlyList<string> Files)
{
    public IReadOnlyList<DendrogramMerge>? MethodTree { get; init; }
    public ThumbnailGrid? Thumbnails { get; init; }
}

/// <summary>Progress: set <see cref="Index"/> of <see cref="Of"/> (clean first) evaluated.</summary>
public sealed record RobustnessProgress(int Index, int Of, string Corruption, int Severity);
