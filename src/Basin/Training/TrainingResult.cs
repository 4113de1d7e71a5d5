namespace Basin.Training;

/// <summary>
/// One epoch's record (<see cref="Epoch"/> is 1-based). Train and test loss are the cross-entropy
/// of the whole set in eval mode; <see cref="Gap"/> = test loss − train loss and
/// <see cref="AccuracyGap"/> = train accuracy − test accuracy (the generalization gaps).
/// When the epoch was not evaluated (<see cref="Evaluated"/> false) the train loss and accuracy are NaN;
/// <see cref="MeanObjective"/>, the mean training objective over the epoch's batches, is always there.
/// <see cref="LearningRate"/> is the rate of the epoch's last update, <see cref="Seconds"/> its training
/// time (without evaluation), <see cref="Steps"/> the updates made since the run began.
/// </summary>
public sealed record EpochMetrics(
    int Epoch,
    double TrainLoss,
    double TrainAccuracy,
    double? TestLoss,
    double? TestAccuracy,
    double? Gap,
    double LearningRate,
    double Seconds,
    long Steps)
{
    public double? AccuracyGap { get; init; }
    public double MeanObjective { get; init; }
    public bool Evaluated { get; init; } = true;
}

public enum StopReason
{
    /// <summary>All epochs ran.</summary>
    Completed,
    /// <summary>The evaluated train loss reached <see cref="TrainingConfig.StopAtTrainLoss"/>.</summary>
    ReachedTrainLoss,
}

/// <summary>What a run did. Cancellation is not a result: it ends the run with OperationCanceledException.</summary>
public sealed record TrainingResult(IReadOnlyList<EpochMetrics> Epochs, StopReason StopReason, long Steps, string? CheckpointPath)
{
    public EpochMetrics Final => Epochs[^1];
}
