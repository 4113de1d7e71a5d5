namespace Basin.Training;

/// <summary>Progress of a run, for a caller's IProgress. Epoch and batch numbers are 1-based.</summary>
public abstract record TrainingEvent;

/// <summary>Update <paramref name="Batch"/> of <paramref name="Of"/> in epoch <paramref name="Epoch"/> is done; <paramref name="Loss"/> is
/// its objective.</summary>
public sealed record BatchDone(int Epoch, int Batch, int Of, double Loss, long Step) : TrainingEvent;

public sealed record EpochDone(EpochMetrics Metrics) : TrainingEvent;

public sealed record CheckpointWritten(string Path, int Epoch, int Batch, long Step) : TrainingEvent;

/// <summary>
/// The run continues from a checkpoint, after <paramref name="Batch"/> batches of epoch <paramref name="Epoch"/>.
/// <see cref="Finished"/> holds the metrics of every epoch the checkpoint has done, so a recorder can write the ones it
/// missed (a kill between an epoch's checkpoint and its record).
/// </summary>
public sealed record Resumed(string Path, int Epoch, int Batch, long Step) : TrainingEvent
{
    public IReadOnlyList<EpochMetrics> Finished { get; init; } = Empty;

    static readonly EpochMetrics[] Empty = [];
}
