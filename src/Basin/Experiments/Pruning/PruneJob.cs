using System.Text.Json;
using Basin.Data;
using Basin.Experiments.Training;
using Basin.IO;
using Basin.Models;
using Basin.Pruning;
using Basin.Training;

namespace Basin.Experiments.Pruning;

/// <summary>
/// Prunes a finished training run (docs/pruning.md): builds its model at the run's initialization θ₀, loads its trained
/// weights, and then, once (magnitude, random, node) or per round (imp, imp+ap), prunes, rewinds, trains with the run's
/// recipe and the mask kept applied (<see cref="MaskedUpdate"/>), and records the round as a run of kind "prune" with
/// its mask (mask.safetensors), weights, checkpoint, per-epoch metrics with the dead-neuron rate, and final figures.
/// Everything that can be checked is checked before the first round is recorded; a failed or cancelled round leaves
/// the rounds before it finished and recorded.
/// </summary>
public static class PruneJob
{
    public const string Kind = "prune";
    public const string MaskFile = "mask.safetensors";

    public static PruneJobResult Run(PruneSpec spec, RunStore store, IProgress<TrainingEvent>? progress = null,
        CancellationToken ct = default, int? threads = null)
    {
        spec = spec.Validated();
        var details = store.Get(spec.SourceRun);
        var sourceId = details.Summary.Id;
        if (details.Summary.Kind != "train")
            throw new BasinException($"run {sourceId} is a {details.Summary.Kind} run; prune works on a finished " +
                "training run ('basin train')");
        var weightsPath = Path.Combine(store.RunFolder(sourceId), TrainingJob.WeightsFile);
        if (details.Summary.Status != RunStatus.Finished || !File.Exists(weightsPath))
            throw new BasinException($"run {sourceId} has no trained weights to prune (status {details.Summary.Status})");
        var source = TrainJobSpec.FromStored(details.Config, sourceId);
        var roundSpec = source with { Epochs = spec.Epochs is > 0 ? spec.Epochs.Value : source.Epochs, CheckpointEveryBatches = 0 };

        var (train, test) = TrainingJob.LoadData(source);
        using var _train = train;
        using var _test = test;
        using var dnrData = train.Take(Math.Min(spec.DnrSamples, train.Count));
        var recipe = TrainingJob.RecipeFor(roundSpec, train.Count);
        using var model = ModelSpec.Create(source.Model, train.ExampleShape, train.ClassCount, source.Seed);
        using var theta0 = WeightSnapshot.OfState(model);
        if (PruneSpec.RewindEpoch(spec.Rewind) is { } k && k > source.Epochs)
            throw new BasinException($"--rewind epoch:{k}: run {sourceId} trained for {source.Epochs} epochs");
        // θ_K for "epoch:K": the source run's first K epochs again, from θ₀ with its own recipe, seed and data order.
        using var rewindPoint = PruneSpec.RewindEpoch(spec.Rewind) is { } epochs
            ? Replay(model, source, train, epochs, ct, threads) : null;
        theta0.CopyInto(model);
        Weights.Load(model, weightsPath);
        bool probe = ReluProbe.Supports(model);
        // Checked before anything is recorded: a model without prunable layers (or units, for node pruning) is refused here.
        using var dense = Prunable.DenseMask(model, spec.PruneHead);
        if (spec.Method == "node") NodePruning.Layout(model);

        var rounds = new List<PruneRound>();
        var dnr0 = probe ? DeadNeurons.Measure(model, dnrData) : null;
        var tr0 = Evaluation.Evaluate(model, train);
        var te0 = Evaluation.Evaluate(model, test);
        rounds.Add(new PruneRound(0, sourceId, 0, dense.Sparsity().Layers, tr0.Loss, tr0.Accuracy, te0.Loss, te0.Accuracy, dnr0, 0, 0, 0));
        progress?.Report(new PruneRoundDone(rounds[0], spec.Rounds ?? 1));

        var context = new RoundContext(spec, source, roundSpec, recipe, store, sourceId, train, test, dnrData, probe, progress, ct,
            threads);
        int of = spec.Rounds ?? 1;
        if (spec.Iterative)
        {
            var settings = new IterativeSettings(spec.Rounds!.Value, spec.Rate, spec.Method == "imp+ap" ? spec.ApRate : null,
                spec.EffectiveRewind == "lr" ? Basin.Pruning.Rewind.LearningRate : Basin.Pruning.Rewind.Weights, spec.Layerwise);
            // The source run trained from θ₀: that is where round 1's movement (for AP) is measured from.
            IterativePruning.Run(model, dense, theta0, rewindPoint ?? theta0, settings,
                r => rounds.Add(TrainRound(context, model, r.Round, of, r.Mask, null, r.Ap)), ct);
        }
        else
        {
            var (mask, nodes) = OneShot(spec, model, dense, source.Seed, store);
            using (mask)
            {
                if (spec.EffectiveRewind == "lr") mask.ApplyTo(model);
                else { (rewindPoint ?? theta0).CopyInto(model); mask.ApplyTo(model); }
                rounds.Add(TrainRound(context, model, 1, 1, mask, nodes, null));
            }
        }
        var result = new PruneJobResult(sourceId, spec.Method, model.Spec, source.Dataset, spec.EffectiveRewind, rounds);
        if (spec.Png is { } png) PrunePlot.Save(result, png);
        return result;
    }

    /// <summary>
    /// θ_K: trains <paramref name="model"/> (at θ₀) with the source run's recipe and configuration and stops after epoch
    /// <paramref name="epochs"/>, so the schedule is the run's own; equal to the run's θ_K bit for bit at the same thread count.
    /// </summary>
    static WeightSnapshot Replay(Classifier model, TrainJobSpec source, LabeledDataset train, int epochs, CancellationToken ct,
        int? threads)
    {
        var recipe = TrainingJob.RecipeFor(source, train.Count);
        var config = new TrainingConfig(source.Epochs, source.BatchSize, source.Seed) { EvaluateEveryEpoch = false, Threads = threads,
            Device = source.Device };
        if (epochs < source.Epochs)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var atEpoch = new Callback(e => { if (e is EpochDone d && d.Metrics.Epoch == epochs) stop.Cancel(); });
            try
            {
                new Trainer(recipe, config).Run(model, train, null, atEpoch, stop.Token);
                throw new InvalidOperationException($"the replay of the first {epochs} epochs did not stop");
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested) { }
        }
        else
        {
            new Trainer(recipe, config).Run(model, train, null, null, ct);
        }
        return WeightSnapshot.OfState(model);
    }

    /// <summary>The mask of a prune run, checked to cover every prunable weight of this model with the same sizes.</summary>
    static PruningMask ReferenceMask(RunStore store, string runId, PruningMask dense)
    {
        var details = store.Get(runId);
        var id = details.Summary.Id;
        if (details.Summary.Kind != Kind) throw new BasinException($"--like {id}: it is a {details.Summary.Kind} run, not a " +
            "prune run with a mask");
        var path = Path.Combine(store.RunFolder(id), MaskFile);
        if (!File.Exists(path)) throw new BasinException($"--like {id}: the run has no {MaskFile}");
        var mask = PruningMask.Load(path);
        try
        {
            var sizes = mask.Sparsity().Layers.ToDictionary(l => l.Name, l => l.Total);
            foreach (var layer in dense.Sparsity().Layers)
                if (!sizes.TryGetValue(layer.Name, out var total) || total != layer.Total)
                    throw new BasinException($"--like {id}: its mask does not fit this model ('{layer.Name}' has " +
                        $"{layer.Total} weights here, "
                        + (sizes.ContainsKey(layer.Name) ? $"{sizes[layer.Name]} there)" : "none there)"));
            return mask;
        }
        catch
        {
            mask.Dispose();
            throw;
        }
    }

    sealed class Callback(Action<TrainingEvent> action) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value) => action(value);
    }

    static (PruningMask Mask, NodeSparsity? Nodes) OneShot(PruneSpec spec, Classifier model, PruningMask dense, long sourceSeed,
        RunStore store)
    {
        if (spec.LikeRun is { } like)
        {
            using var reference = ReferenceMask(store, like, dense);
            return (RandomPruning.LikeLayers(dense, reference, spec.Seed ?? sourceSeed), null);
        }
        double s = spec.Sparsity!.Value;
        switch (spec.Method)
        {
            case "magnitude":
                return (MagnitudePruning.ToSparsity(dense, NamedParameter.Of(model), s, spec.Layerwise), null);
            case "random":
                return (RandomPruning.ToSparsity(dense, s, spec.Seed ?? sourceSeed), null);
            case "node":
                var (mask, nodes) = NodePruning.ToSparsity(model, s, spec.Seed);
                return (mask, nodes);
            default:
                throw new InvalidOperationException($"not a one-shot method: {spec.Method}");
        }
    }

    sealed record RoundContext(PruneSpec Spec, TrainJobSpec Source, TrainJobSpec RoundSpec, Recipe Recipe, RunStore Store, string SourceId,
        LabeledDataset Train, LabeledDataset Test, LabeledDataset DnrData, bool Probe, IProgress<TrainingEvent>? Progress,
        CancellationToken Ct, int? Threads);

    /// <summary>The stored config of a round: what was pruned how, and the training it ran (enough to repeat it).</summary>
    sealed record RoundConfig(string Method, string Source, int Round, int Rounds, PruneSpec Prune, TrainJobSpec Train)
    {
        public string? Name => Prune.Name;
        public IReadOnlyList<string>? Tags => Prune.Tags;
    }

    static PruneRound TrainRound(RoundContext c, Classifier model, int round, int of, PruningMask mask, NodeSparsity? nodes,
        ApRoundCounts? ap)
    {
        c.Ct.ThrowIfCancellationRequested();
        var spec = c.Spec;
        int epochs = spec.Epochs ?? c.Source.Epochs;
        var sparsity = mask.Sparsity();
        var id = RunStore.NewRunId();
        var folder = c.Store.RunFolder(id);
        Directory.CreateDirectory(folder);
        var config = new RoundConfig(spec.Method, c.SourceId, round, of, spec, c.RoundSpec with { Epochs = epochs });
        c.Store.Start(new RunRecord(id, Kind, DateTime.UtcNow, model.Spec, c.Source.Dataset, c.Source.Seed,
            JsonSerializer.Serialize(config, Json.Options), JsonSerializer.Serialize(LibraryVersions.Current(), Json.Options)));
        c.Progress?.Report(new PruneRoundStarted(round, of, id, folder, sparsity.Global));
        try
        {
            var metadata = new Dictionary<string, string> { ["basin.spec"] = model.Spec, ["basin.run"] = id };
            mask.Save(Path.Combine(folder, MaskFile), metadata);
            long steps = 0;
            double seconds = 0;
            if (epochs > 0)
            {
                var trainer = new Trainer(c.Recipe with { Update = new MaskedUpdate(c.Recipe.Update, mask) },
                    new TrainingConfig(epochs, c.RoundSpec.BatchSize, c.Source.Seed)
                    {
                        CheckpointPath = Path.Combine(folder, TrainingJob.CheckpointFile),
                        Threads = c.Threads,
                        Device = c.Source.Device,
                    });
                var recording = new EpochRecorder(c, id, model);
                var result = trainer.Run(model, c.Train, c.Test, recording, c.Ct);
                steps = result.Steps;
                seconds = result.Epochs.Sum(e => e.Seconds);
            }
            var tr = Evaluation.Evaluate(model, c.Train);
            var te = Evaluation.Evaluate(model, c.Test);
            var dnr = c.Probe ? DeadNeurons.Measure(model, c.DnrData) : null;
            Weights.Save(model, Path.Combine(folder, TrainingJob.WeightsFile), metadata);
            var figures = new PruneRound(round, id, sparsity.Global, sparsity.Layers, tr.Loss, tr.Accuracy, te.Loss, te.Accuracy, dnr,
                epochs, steps, seconds)
            {
                Nodes = nodes,
                Ap = ap,
            };
            c.Store.Finish(id, RunStatus.Finished, figures);
            c.Progress?.Report(new PruneRoundDone(figures, of));
            return figures;
        }
        catch (OperationCanceledException e)
        {
            c.Store.Finish<object>(id, RunStatus.Cancelled, null, $"cancelled in round {round} of {of}; the rounds before it are recorded");
            throw new OperationCanceledException($"{e.Message}; rounds before {round} are recorded", e, e.CancellationToken);
        }
        catch (Exception e)
        {
            c.Store.RecordFailure(id, e);
            throw;
        }
    }

    /// <summary>Stores each epoch of a round with the dead-neuron rate at its end, then passes every event on.</summary>
    sealed class EpochRecorder(RoundContext c, string runId, Classifier model) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value)
        {
            if (value is EpochDone done)
            {
                var m = done.Metrics;
                var dnr = c.Probe ? DeadNeurons.Measure(model, c.DnrData) : null;
                c.Store.AddEpoch(runId, m.Epoch, new PruneEpochMetrics(m.Epoch, m.TrainLoss, m.TrainAccuracy, m.TestLoss, m.TestAccuracy,
                    m.LearningRate, m.Seconds, m.Steps, dnr?.Overall, dnr?.OverallExcludingStructural));
            }
            c.Progress?.Report(value);
        }
    }
}
