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
        CancellationToken ct = default, int? threads = null) => Execute(spec.Validated(), null, store, progress, ct, threads);

    /// <summary>
    /// Continues the pruning job that recorded the round run <paramref name="roundRun"/> (any of its rounds) after Ctrl+C, a
    /// kill or a failure: finished rounds are kept as recorded; the round that did not finish continues from its checkpoint
    /// (or starts again when it has none) in its own run; the rounds after it run as in a straight job. The state after the
    /// last finished round is rebuilt from the recorded masks and weights, so at the thread count of the interrupted job
    /// the masks, weights and figures equal those of a job never interrupted, bit for bit.
    /// </summary>
    public static PruneJobResult Resume(string roundRun, RunStore store, IProgress<TrainingEvent>? progress = null,
        CancellationToken ct = default, int? threads = null) => Execute(null, PruneSeries.Find(store, roundRun), store, progress, ct,
        threads);

    static PruneJobResult Execute(PruneSpec? newSpec, PruneSeries? resume, RunStore store, IProgress<TrainingEvent>? progress,
        CancellationToken ct, int? threads)
    {
        var spec = newSpec ?? resume!.Spec;
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
        // The series id is the id of round 1's run; its lock keeps a resume from running beside the job (or another resume).
        var series = resume?.Id ?? RunStore.NewRunId();
        var seriesLock = "prune:" + series;
        store.Lock(seriesLock, $"pruning series {series}");
        try
        {
            return Execute(spec, resume, series, store, sourceId, source, roundSpec, weightsPath, progress, ct, threads);
        }
        finally
        {
            store.Unlock(seriesLock);
        }
    }

    static PruneJobResult Execute(PruneSpec spec, PruneSeries? resume, string series, RunStore store, string sourceId,
        TrainJobSpec source, TrainJobSpec roundSpec, string weightsPath, IProgress<TrainingEvent>? progress, CancellationToken ct,
        int? threads)
    {
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
        int of = spec.Rounds ?? 1;
        progress?.Report(new PruneRoundDone(rounds[0], of));
        foreach (var kept in resume?.Finished ?? [])
        {
            rounds.Add(kept);
            progress?.Report(new PruneRoundDone(kept, of));
        }

        var context = new RoundContext(spec, source, roundSpec, recipe, store, sourceId, series, resume?.Unfinished, train, test, dnrData,
            probe, progress, ct, threads);
        if (spec.Iterative)
        {
            var settings = new IterativeSettings(spec.Rounds!.Value, spec.Rate, spec.Method == "imp+ap" ? spec.ApRate : null,
                spec.EffectiveRewind == "lr" ? Basin.Pruning.Rewind.LearningRate : Basin.Pruning.Rewind.Weights, spec.Layerwise);
            // Round k + 1 prunes from round k's trained weights and measures AP's movement from where round k started:
            // θ₀ and the dense mask for round 1 (the source run trained from θ₀), else rebuilt from round k's records.
            int done = rounds.Count - 1;
            using var last = done == 0 ? null : LastRound(context, model, rounds, rewindPoint ?? theta0, weightsPath);
            IterativePruning.Run(model, last?.Mask ?? dense, last?.Start ?? theta0, rewindPoint ?? theta0, settings,
                r => rounds.Add(TrainRound(context, model, r.Round, of, r.Mask, null, r.Ap)), ct, firstRound: done + 1);
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

    /// <summary>The mask of a finished round and the weights it started from; owns both.</summary>
    sealed record RoundState(PruningMask Mask, WeightSnapshot Start) : IDisposable
    {
        public void Dispose()
        {
            Mask.Dispose();
            Start.Dispose();
        }
    }

    /// <summary>
    /// The state after the last finished round k of <paramref name="rounds"/>, as a straight job held it: the model gets
    /// round k's trained weights; the result holds its mask and its start, the rewind point (or, rewinding the learning rate,
    /// round k − 1's trained weights) times that mask.
    /// </summary>
    static RoundState LastRound(RoundContext c, Classifier model, List<PruneRound> rounds, WeightSnapshot rewindPoint,
        string sourceWeights)
    {
        string Weights(int round) => round == 0 ? sourceWeights : Path.Combine(c.Store.RunFolder(rounds[round].RunId),
            TrainingJob.WeightsFile);
        int k = rounds.Count - 1;
        var mask = PruningMask.Load(Path.Combine(c.Store.RunFolder(rounds[k].RunId), MaskFile));
        try
        {
            if (c.Spec.EffectiveRewind == "lr") IO.Weights.Load(model, Weights(k - 1));
            else rewindPoint.CopyInto(model);
            mask.ApplyTo(model);
            var start = WeightSnapshot.OfState(model);
            IO.Weights.Load(model, Weights(k));
            return new RoundState(mask, start);
        }
        catch
        {
            mask.Dispose();
            throw;
        }
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
        string Series, UnfinishedRound? Unfinished, LabeledDataset Train, LabeledDataset Test, LabeledDataset DnrData, bool Probe,
        IProgress<TrainingEvent>? Progress, CancellationToken Ct, int? Threads);

    /// <summary>
    /// The stored config of a round: what was pruned how, and the training it ran (enough to repeat it); <see cref="Series"/>
    /// names the job's round-1 run, shared by all its rounds (<see cref="PruneSeries"/>).
    /// </summary>
    sealed record RoundConfig(string Method, string Source, string Series, int Round, int Rounds, PruneSpec Prune, TrainJobSpec Train)
    {
        public string? Name => Prune.Name;
        public IReadOnlyList<string>? Tags => Prune.Tags;
    }

    /// <summary>
    /// Records and trains one round, or continues the round a resume found unfinished in its own run: its recorded mask
    /// must equal the one computed again, and its training continues from its checkpoint (from the round's start without one).
    /// </summary>
    static PruneRound TrainRound(RoundContext c, Classifier model, int round, int of, PruningMask mask, NodeSparsity? nodes,
        ApRoundCounts? ap)
    {
        c.Ct.ThrowIfCancellationRequested();
        var spec = c.Spec;
        int epochs = spec.Epochs ?? c.Source.Epochs;
        var sparsity = mask.Sparsity();
        var again = c.Unfinished is { } u && u.Round == round ? u : null;
        var id = again?.RunId ?? (round == 1 ? c.Series : RunStore.NewRunId());
        var folder = c.Store.RunFolder(id);
        var checkpoint = Path.Combine(folder, TrainingJob.CheckpointFile);
        var recorded = new HashSet<int>();
        if (again is not null)
        {
            var maskPath = Path.Combine(folder, MaskFile);
            if (File.Exists(maskPath))
            {
                using var stored = PruningMask.Load(maskPath);
                if (!stored.SameAs(mask))
                    throw new BasinException($"the mask of round {round} computed again differs from the one run {id} recorded " +
                        "(were the rounds before it, or the rewind point, trained at another thread count?); it cannot be resumed");
            }
            c.Store.Reopen(id);
            AtomicFile.RemoveStale(folder);   // temporaries of checkpoint writes that a kill interrupted
            foreach (var e in c.Store.Get(id).Epochs) recorded.Add(e.GetProperty("epoch").GetInt32());
            if (!File.Exists(checkpoint)) recorded.Clear();
        }
        else
        {
            Directory.CreateDirectory(folder);
            var config = new RoundConfig(spec.Method, c.SourceId, c.Series, round, of, spec, c.RoundSpec with { Epochs = epochs });
            c.Store.Start(new RunRecord(id, Kind, DateTime.UtcNow, model.Spec, c.Source.Dataset, c.Source.Seed,
                JsonSerializer.Serialize(config, Json.Options), JsonSerializer.Serialize(LibraryVersions.Current(), Json.Options)));
        }
        c.Progress?.Report(new PruneRoundStarted(round, of, id, folder, sparsity.Global) { Resumed = again is not null });
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
                        CheckpointPath = checkpoint,
                        Resume = again is not null && File.Exists(checkpoint),
                        Threads = c.Threads,
                        Device = c.Source.Device,
                    });
                var recording = new EpochRecorder(c, id, model, recorded);
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
            var hint = $"resume with 'basin prune --resume {id}'";
            c.Store.Finish<object>(id, RunStatus.Cancelled, null, $"cancelled in round {round} of {of}; the rounds before it are " +
                $"recorded; {hint}");
            throw new OperationCanceledException($"{e.Message}; rounds before {round} are recorded; {hint}", e, e.CancellationToken);
        }
        catch (Exception e)
        {
            c.Store.RecordFailure(id, e);
            throw;
        }
    }

    /// <summary>
    /// Stores each epoch of a round with the dead-neuron rate at its end, then passes every event on. A resumed round
    /// stores the epochs its checkpoint finished that the run lacks (a kill between the checkpoint and the record),
    /// without the rate, which needs the weights of that epoch's end.
    /// </summary>
    sealed class EpochRecorder(RoundContext c, string runId, Classifier model, IReadOnlySet<int> recorded) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value)
        {
            if (value is EpochDone done) Store(done.Metrics, c.Probe ? DeadNeurons.Measure(model, c.DnrData) : null);
            if (value is Resumed resumed)
                foreach (var m in resumed.Finished.Where(m => !recorded.Contains(m.Epoch))) Store(m, null);
            c.Progress?.Report(value);
        }

        void Store(EpochMetrics m, DeadNeuronRate? dnr) =>
            c.Store.AddEpoch(runId, m.Epoch, new PruneEpochMetrics(m.Epoch, m.TrainLoss, m.TrainAccuracy, m.TestLoss, m.TestAccuracy,
                m.LearningRate, m.Seconds, m.Steps, dnr?.Overall, dnr?.OverallExcludingStructural));
    }
}
