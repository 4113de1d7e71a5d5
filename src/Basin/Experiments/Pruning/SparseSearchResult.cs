using Basin.Pruning;

namespace Basin.Experiments.Pruning;

/// <summary>A scored search candidate: its mask seed and score.</summary>
public sealed record CandidateScore(int Index, long Seed, double Score);

/// <summary>
/// One network trained with the full budget: the dense parent, the search's pick, or a random control. Curves are per epoch;
/// EpochsToThreshold is null when the threshold was never reached.
/// </summary>
public sealed record TrainedNetwork(string Role, int Index, long? Seed, double TestAccuracy, double TestLoss, double TrainAccuracy,
    int? EpochsToThreshold, double MeanTrainLoss, IReadOnlyList<double> TrainLoss, IReadOnlyList<double> TrainAccuracyCurve,
    IReadOnlyList<double> TestAccuracyCurve);

/// <summary>
/// One node sparsity: the units kept and the weight sparsity that follows, the candidates' scores and the pick, the trained
/// networks, and the comparisons (differences of the pick, and of the dense parent, from the random controls' mean, with 95 %
/// bootstrap intervals over the controls). Epochs to threshold of a network that never reached it count as epochs + 1.
/// Diagnostic: candidates spread over the score ranking, trained fully, and Spearman's ρ between their scores and test
/// accuracies (NaN without a diagnostic).
/// </summary>
public sealed record SparsityComparison(double NodeSparsity, double WeightSparsity, IReadOnlyList<UnitsKept> Units,
    IReadOnlyList<CandidateScore> Candidates, int Best, TrainedNetwork Search, IReadOnlyList<TrainedNetwork> Random,
    Interval RandomAccuracy, Interval SearchMinusRandomAccuracy, Interval SearchMinusRandomEpochs, Interval DenseMinusRandomAccuracy,
    IReadOnlyList<TrainedNetwork> Diagnostic, double ScoreAccuracySpearman);

public sealed record SparseSearchResult(string SourceRun, string Model, string Dataset, int Epochs, string Score, int ScoreSteps,
    double ThresholdAccuracy, TrainedNetwork Dense, IReadOnlyList<SparsityComparison> Sparsities, IReadOnlyList<string> Files);

/// <summary>Progress: a candidate scored or a network trained (<see cref="Value"/>: its score or final test accuracy).</summary>
public sealed record SparseSearchProgress(double Sparsity, string Stage, int Index, int Of, double Value);
