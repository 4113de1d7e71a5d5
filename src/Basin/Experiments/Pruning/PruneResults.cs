using Basin.Pruning;
using Basin.Training;

namespace Basin.Experiments.Pruning;

/// <summary>
/// One round of a pruning job (round 0 is the dense source run): its run, the mask's sparsity (global and per masked
/// parameter; node sparsity for node pruning), the final figures, the dead-neuron rate on the fixed training subset
/// (null for networks the probe does not know), AP's counts for imp+ap.
/// </summary>
public sealed record PruneRound(int Round, string RunId, double Sparsity, IReadOnlyList<LayerSparsity> Layers,
    double TrainLoss, double TrainAccuracy, double TestLoss, double TestAccuracy, DeadNeuronRate? Dnr, int Epochs, long Steps,
    double Seconds)
{
    public NodeSparsity? Nodes { get; init; }
    public ApRoundCounts? Ap { get; init; }
}

/// <summary>What a pruning job did: the source run, then every round in order.</summary>
public sealed record PruneJobResult(string SourceRun, string Method, string Model, string Dataset, string Rewind,
    IReadOnlyList<PruneRound> Rounds);

/// <summary>A round starts: its run is recorded and its mask is set; <see cref="Resumed"/>: a resume continues its run.</summary>
public sealed record PruneRoundStarted(int Round, int Of, string RunId, string RunFolder, double Sparsity) : TrainingEvent
{
    public bool Resumed { get; init; }
}

/// <summary>A round is done and recorded.</summary>
public sealed record PruneRoundDone(PruneRound Result, int Of) : TrainingEvent;

/// <summary>An epoch's metrics of a pruning round with the dead-neuron rate at its end, as stored in the run database.</summary>
public sealed record PruneEpochMetrics(int Epoch, double TrainLoss, double TrainAccuracy, double? TestLoss, double? TestAccuracy,
    double LearningRate, double Seconds, long Steps, double? Dnr, double? DnrExcludingStructural);
