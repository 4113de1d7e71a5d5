namespace Basin.Runs;

/// <summary>
/// Everything that defines one training run, as the user states it (CLI flags or C#).
/// Stored as the run's config in the run database, and enough to resume or repeat the run.
/// </summary>
public sealed record TrainJobSpec
{
    /// <summary>Data set name: fashion-mnist, mnist, or a toy 2-D set (two-moons, spirals, 8gaussians, 25gaussians, swiss-roll).</summary>
    public string Dataset { get; init; } = "fashion-mnist";
    /// <summary>Folder holding the IDX files (else $BASIN_DATA, the Debian package, the user cache).</summary>
    public string? DataPath { get; init; }
    /// <summary>Training examples: the first N in file order (null = all).</summary>
    public long? Samples { get; init; }
    /// <summary>Test examples: the first N of the test split (null = all).</summary>
    public long? TestSamples { get; init; }
    /// <summary>Fraction of training examples given a different, random label.</summary>
    public double LabelNoise { get; init; }

    /// <summary>Model spec, e.g. lenet5, mlp:512,512, resnet:2.</summary>
    public string Model { get; init; } = "lenet5";

    public string Optimizer { get; init; } = "sgd";
    public double LearningRate { get; init; } = 0.05;
    public double Momentum { get; init; } = 0.9;
    public bool Nesterov { get; init; }
    public double WeightDecay { get; init; }
    /// <summary>constant, step, or cosine.</summary>
    public string Schedule { get; init; } = "constant";
    public int StepEpochs { get; init; } = 10;
    public double StepGamma { get; init; } = 0.1;
    public int WarmupSteps { get; init; }

    public int Epochs { get; init; } = 3;
    public int BatchSize { get; init; } = 128;
    public double? StopAtTrainLoss { get; init; }
    public long Seed { get; init; } = 1;
    /// <summary>Also write a checkpoint every this many batches (0: at the end of every epoch only).</summary>
    public int CheckpointEveryBatches { get; init; }
    /// <summary>cpu (CUDA builds of libtorch are not available here; the option is kept for them).</summary>
    public string Device { get; init; } = "cpu";
}
