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
    /// <summary>Stop at the first epoch end whose evaluated train cross-entropy is at or below this.</summary>
    public double? StopAtTrainLoss { get; init; }
    public bool EvaluateEveryEpoch { get; init; } = true;
    public int EvaluationBatchSize { get; init; } = 1000;
    public bool Shuffle { get; init; } = true;
    public bool DropLast { get; init; }
    public string? CheckpointPath { get; init; }
    /// <summary>0: checkpoints only at epoch ends.</summary>
    public int CheckpointEveryBatches { get; init; }
    public bool Resume { get; init; }
    /// <summary>torch intra-op threads for the run (torch.set_num_threads); null leaves libtorch's setting.</summary>
    public int? Threads { get; init; }
    /// <summary>"cpu" or "cuda[:n]"; data stay on the CPU and each batch is moved.</summary>
    public string Device { get; init; } = "cpu";

    public void Validate()
    {
        if (Epochs < 1) throw new BasinException($"epochs must be at least 1, got {Epochs}");
        if (BatchSize < 1) throw new BasinException($"batch size must be at least 1, got {BatchSize}");
        if (EvaluationBatchSize < 1) throw new BasinException($"evaluation batch size must be at least 1, got {EvaluationBatchSize}");
        if (CheckpointEveryBatches < 0) throw new BasinException("checkpoint interval must be ≥ 0 batches, got " +
            $"{CheckpointEveryBatches}");
        if (Threads is < 1) throw new BasinException($"threads must be at least 1, got {Threads}");
        if (Resume && CheckpointPath is null) throw new BasinException("resuming needs a checkpoint path");
        if (StopAtTrainLoss is { } s && !(s >= 0)) throw new BasinException($"the train-loss target must be ≥ 0, got {s}");
    }
}
