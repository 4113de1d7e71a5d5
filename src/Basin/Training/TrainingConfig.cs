namespace Basin.Training;

/// <summary>
/// How long and how a recipe is run. Evaluation of the whole train (and test) set happens at every
/// epoch end when <see cref="EvaluateEveryEpoch"/> or <see cref="StopAtTrainLoss"/> is set, and always
/// after the last epoch. Checkpoints go to <see cref="CheckpointPath"/> at every epoch end and, when
/// <see cref="CheckpointEveryBatches"/> &gt; 0, every that many updates; <see cref="Resume"/> continues
/// from that file when it exists (and starts afresh when it does not).
/// </summary>
public sealed record TrainingConfig(int Epochs, int BatchSize, long Seed)
{
    public int Epochs { get; init; } = Check.AtLeast(Epochs, 1, "epochs");
    public int BatchSize { get; init; } = Check.AtLeast(BatchSize, 1, "batch size");

    /// <summary>Stop at the first epoch end whose evaluated train cross-entropy is at or below this.</summary>
    public double? StopAtTrainLoss
    {
        get;
        init => field = value is { } s && !(s >= 0)
            ? throw new OptionException("stopAtTrainLoss", $"the train-loss target must be ≥ 0, got {s}")
            : value;
    }
    public bool EvaluateEveryEpoch { get; init; } = true;
    public int EvaluationBatchSize { get; init => field = Check.AtLeast(value, 1, "evaluation batch size"); } = 1000;
    public bool Shuffle { get; init; } = true;
    public bool DropLast { get; init; }
    /// <summary>Where checkpoints go; <see cref="Resume"/> needs it.</summary>
    public string? CheckpointPath { get; init; }
    /// <summary>0: checkpoints only at epoch ends.</summary>
    public int CheckpointEveryBatches { get; init => field = Check.AtLeast(value, 0, "checkpoint interval"); }
    public bool Resume { get; init; }
    /// <summary>torch intra-op threads for the run (torch.set_num_threads); null leaves libtorch's setting.</summary>
    public int? Threads { get; init => field = value is { } t ? Check.AtLeast(t, 1, "threads") : null; }
    /// <summary>"cpu" or "cuda[:n]"; data stay on the CPU and each batch is moved.</summary>
    public string Device { get; init; } = "cpu";
}
