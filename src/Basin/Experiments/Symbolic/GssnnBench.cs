using Basin.Data;
using Basin.Symbolic;
using TorchSharp;

namespace Basin.Experiments.Symbolic;

/// <summary>
/// The few-shot task of a G-SSNN experiment, drawn once (the same examples for every arm), and the training of one
/// network on it: the encoder with a head or a graph's module, seeded, on the spec's schedule.
/// </summary>
internal sealed class GssnnBench : IDisposable
{
    readonly GssnnStudySpec spec;
    readonly CancellationToken cancellationToken;
    readonly LabeledDataset train, eval;
    readonly IReadOnlyDictionary<(string Arm, long Seed), FewShotResult> finished;

    public GssnnBench(GssnnStudySpec spec, CancellationToken cancellationToken,
        IReadOnlyDictionary<(string Arm, long Seed), FewShotResult>? finished = null)
    {
        this.spec = spec;
        this.cancellationToken = cancellationToken;
        this.finished = finished ?? new Dictionary<(string, long), FewShotResult>();
        if (spec.Threads is { } t) torch.set_num_threads(t);
        using var trainSource = ImageDatasets.Load("fashion-mnist", Split.Train, spec.DataPath);
        using var testSource = ImageDatasets.Load("fashion-mnist", Split.Test, spec.DataPath);
        var task = FewShotTasks.Get(spec.Task);
        train = FewShotTasks.Draw(task, trainSource, spec.TrainCount, spec.DataSeed);
        try { eval = FewShotTasks.Draw(task, testSource, spec.EvalCount, spec.DataSeed + 1); }
        catch { train.Dispose(); throw; }
    }

    /// <summary>
    /// Trains one network (the graph's module when <paramref name="graph"/> is given) from seed <paramref name="seed"/>, or
    /// takes the result of an earlier run for the same arm and seed (<c>Reused</c>).
    /// </summary>
    public (FewShotResult Result, bool Reused) Train(string arm, FewShotHead head, ElementGraph? graph, long seed)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (finished.TryGetValue((arm, seed), out var earlier)) return (earlier, true);
        return (Train(head, graph, seed), false);
    }

    FewShotResult Train(FewShotHead head, ElementGraph? graph, long seed)
    {
        if (graph is not null && graph.ElementCount > spec.Dimension)
            throw new BasinException($"a graph has {graph.ElementCount} elements, more than the dimension {spec.Dimension}");
        torch.manual_seed(seed);
        using var model = new FewShotNetwork(head, spec.Dimension, graph, spec.Module);
        return FewShotTraining.Train(model, train, eval, spec.Schedule, seed, cancellationToken);
    }

    public void Dispose()
    {
        train.Dispose();
        eval.Dispose();
    }
}
