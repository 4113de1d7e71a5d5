using Basin.Experiments;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using Basin.IO;
using System.Globalization;
using System.Text.Json;
using Basin.Data;
using Basin.Models;
using Basin.Training;
using Basin.Training.Catalog;
using Basin.Training.Methods;
using Basin.Training.PerExample;
using TorchSharp;

namespace Basin.Experiments.Training;

/// <summary>A run has been recorded in the run database and is about to train.</summary>
public sealed record RunStarted(string RunId, string RunFolder, bool Resumed) : TrainingEvent
{
    /// <summary>The model being trained, for a log that reads its weights after each epoch (<see cref="TensorBoardLog"/>); it
    /// belongs to the job and is disposed when the run ends.</summary>
    public torch.nn.Module? Model { get; init; }
}

/// <summary>The final figures of a training run, as stored in the run database and printed by the CLI.</summary>
public sealed record RunFigures(
    double TrainLoss, double TrainAccuracy, double? TestLoss, double? TestAccuracy,
    double? Gap, double? AccuracyGap, int Epochs, long Steps, double TrainSeconds, string StopReason)
{
    /// <summary>What a training method measured on top (SGLD's ensemble, the last logged m-coherence); null for most runs.</summary>
    public MethodFigures? Method { get; init; }

    /// <summary>Wall-clock seconds per update.</summary>
    public double SecondsPerStep => Steps > 0 ? TrainSeconds / Steps : double.NaN;
}

/// <summary>Method-specific final figures of a run.</summary>
public sealed record MethodFigures
{
    public EnsembleFigures? Ensemble { get; init; }
    public double? FinalCoherence { get; init; }
}

/// <summary>SGLD: the posterior-predictive ensemble on the test set against its members (mean over members).</summary>
/// <see cref="FlatnessWeightTau"/>: Kendall τ-b between the samples' relative flatness and their mixture weights
/// (<see cref="EnsembleFlatness"/>; negative: flatter samples weigh more).
public sealed record EnsembleFigures(int Samples, double EnsembleLogLoss, double EnsembleAccuracy, double MemberLogLoss,
    double MemberAccuracy)
{
    public double? FlatnessWeightTau { get; init; }
    /// <summary>Kendall τ-b between the samples' positions in the chain and their mixture weights (the control).</summary>
    public double? SampleOrderWeightTau { get; init; }

    public static EnsembleFigures Of(EnsembleEvaluation e, EnsembleFlatnessResult? flatness = null) =>
        new(e.Members.Count, e.Ensemble.LogLoss, e.Ensemble.Accuracy, e.MeanMemberLogLoss, e.MeanMemberAccuracy)
        { FlatnessWeightTau = flatness?.TauRelativeFlatness, SampleOrderWeightTau = flatness?.TauSampleOrder };
}

public sealed record TrainJobResult(string RunId, string RunFolder, string WeightsPath, string Model, string Dataset, RunFigures Figures,
    TrainingResult Training);

/// <summary>
/// One recorded training run: loads the data, builds the model and recipe from a <see cref="TrainJobSpec"/>,
/// trains with checkpoints in the run's folder, and records config, versions, per-epoch metrics and final
/// figures in the run database. Everything that can be checked (data, model, options) is checked before
/// the run is recorded, so a typo never leaves a run row behind.
/// </summary>
public static class TrainingJob
{
    public const string CheckpointFile = "checkpoint.safetensors";
    public const string WeightsFile = "weights.safetensors";
    /// <summary>SGLD's collected samples, one weights file each (sample-0000.safetensors, ...).</summary>
    public const string SamplesFolder = "samples";
    /// <summary>The posterior-predictive ensemble's scores on the test set (SGLD runs).</summary>
    public const string EnsembleFile = "ensemble.json";
    /// <summary>Each SGLD sample's mixture weight and head flatness, and their Kendall τ (<see cref="EnsembleFlatness"/>).</summary>
    public const string EnsembleFlatnessFile = "ensemble-flatness.json";
    /// <summary>Logged m-coherence per step (--coherence-every).</summary>
    public const string CoherenceFile = "coherence.csv";
    /// <summary>Each epoch's metrics as they come, one CSV row each (a resumed run appends the epochs it runs again).</summary>
    public const string EpochsFile = "epochs.csv";
    const string EpochsHeader =
        "epoch,train_loss,train_accuracy,test_loss,test_accuracy,gap,accuracy_gap,mean_objective,learning_rate,seconds,steps,evaluated\n";

    /// <summary>Starts a new run.</summary>
    public static TrainJobResult Run(TrainJobSpec spec, RunStore store, IProgress<TrainingEvent>? progress = null,
        CancellationToken cancellationToken = default, int? threads = null)
    {
        using var prepared = Prepare(spec);
        // The record states every setting the methods used, defaults included, so a resumed run never changes.
        spec = spec with { MethodSettings = Resolved(spec, prepared.Train.Count) };
        var id = RunStore.NewRunId();
        var folder = store.RunFolder(id);
        Directory.CreateDirectory(folder);
        store.Start(new RunRecord(id, "train", DateTime.UtcNow, prepared.Model.Spec, spec.Dataset, spec.Seed,
            JsonSerializer.Serialize(spec, Json.Options), JsonSerializer.Serialize(LibraryVersions.Current(), Json.Options)));
        progress?.Report(new RunStarted(id, folder, Resumed: false) { Model = prepared.Model });
        return Execute(id, folder, spec, prepared, store, resume: false, progress, cancellationToken, threads);
    }

    /// <summary>Continues a run from its last checkpoint (after a crash, a kill or Ctrl+C).</summary>
    public static TrainJobResult Resume(string runIdOrPrefix, RunStore store, IProgress<TrainingEvent>? progress = null,
        CancellationToken cancellationToken = default, int? threads = null)
    {
        var details = store.Get(runIdOrPrefix);
        var id = details.Summary.Id;
        if (details.Summary.Kind != "train") throw new BasinException($"run {id} is a {details.Summary.Kind} run, not a training run");
        if (details.Summary.Status == RunStatus.Finished) throw new BasinException($"run {id} has already finished; nothing to resume");
        store.LockRun(id);   // a second resume of a run in progress (or the training itself) is refused here
        var spec = TrainJobSpec.FromStored(details.Config, id);
        var folder = store.RunFolder(id);
        AtomicFile.RemoveStale(folder);   // temporaries of checkpoint writes that a kill interrupted
        if (!File.Exists(Path.Combine(folder, CheckpointFile)))
            throw new BasinException($"run {id} has no checkpoint in {folder}; it cannot be resumed (start it again with 'basin train')");
        using var prepared = Prepare(spec);
        store.Reopen(id);
        progress?.Report(new RunStarted(id, folder, Resumed: true) { Model = prepared.Model });
        return Execute(id, folder, spec, prepared, store, resume: true, progress, cancellationToken, threads);
    }

    static TrainJobResult Execute(string id, string folder, TrainJobSpec spec, Prepared prepared, RunStore store, bool resume,
        IProgress<TrainingEvent>? progress, CancellationToken ct, int? threads)
    {
        var config = LoopFor(spec) with
        {
            CheckpointPath = Path.Combine(folder, CheckpointFile),
            Resume = resume,
            Threads = threads,
            Device = spec.Device,
        };
        var recording = new RecordingProgress(store, id, progress, Path.Combine(folder, CoherenceFile), Path.Combine(folder, EpochsFile));
        var recipe = prepared.Recipe;
        var samples = Path.Combine(folder, SamplesFolder);
        if (recipe.Update is Sgld sgld)
        {
            Directory.CreateDirectory(samples);
            recipe = recipe with
            {
                Update = sgld with
                {
                    OnSample = s => Weights.Save(prepared.Model, Path.Combine(samples, $"sample-{s.Index:D4}.safetensors"),
                        new Dictionary<string, string> { ["basin.spec"] = prepared.Model.Spec, ["basin.run"] = id,
                            ["basin.sgld.step"] = s.Step.ToString(CultureInfo.InvariantCulture) }),
                },
            };
        }
        try
        {
            var result = new Trainer(recipe, config).Run(prepared.Model, prepared.Train, prepared.Test, recording, ct);
            var weights = Path.Combine(folder, WeightsFile);
            Weights.Save(prepared.Model, weights, new Dictionary<string, string> { ["basin.spec"] = prepared.Model.Spec,
                ["basin.run"] = id });
            var figures = Figures(result);
            if (recipe.Update is Sgld)
            {
                var files = Directory.GetFiles(samples, "sample-*.safetensors").Order(StringComparer.Ordinal).ToArray();
                var ensemble = files.Length == 0 ? null : PosteriorPredictive.Evaluate(prepared.Model, files, prepared.Test);
                EnsembleFlatnessResult? flatness = null;
                if (ensemble is not null)
                {
                    AtomicFile.Write(Path.Combine(folder, EnsembleFile), stream => JsonSerializer.Serialize(stream, ensemble,
                        Json.Options));
                    flatness = EnsembleFlatness.Analyze(prepared.Model, files, ensemble, prepared.Train, ct: ct);
                    AtomicFile.Write(Path.Combine(folder, EnsembleFlatnessFile), stream => JsonSerializer.Serialize(stream, flatness,
                        Json.Options));
                }
                figures = figures with
                {
                    Method = new MethodFigures { Ensemble = ensemble is null ? null : EnsembleFigures.Of(ensemble, flatness) },
                };
            }
            if (recording.Coherence.Count > 0)
                figures = figures with
                {
                    Method = (figures.Method ?? new MethodFigures()) with { FinalCoherence = recording.Coherence[^1].Value },
                };
            store.Finish(id, RunStatus.Finished, figures);
            return new TrainJobResult(id, folder, weights, prepared.Model.Spec, spec.Dataset, figures, result);
        }
        catch (OperationCanceledException e)
        {
            var hint = $"resume with 'basin train --resume {id}'";
            store.Finish<object>(id, RunStatus.Cancelled, null, $"cancelled; {hint}");
            throw new OperationCanceledException($"{e.Message}; {hint}", e, e.CancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Every other way a run can end (bad input, divergence, a full disk, a damaged database, a bug) marks it failed
            // with the reason; when the database itself is what failed, the run shows as interrupted (its lock is gone).
            store.RecordFailure(id, e);
            throw;
        }
    }

    static Dictionary<string, JsonElement> Resolved(TrainJobSpec spec, long trainCount)
    {
        var settings = new Dictionary<string, JsonElement>(spec.Settings);
        foreach (var (key, value) in MethodCatalog.Resolve(spec.Method, spec.Settings, MethodContextFor(spec, trainCount)))
            settings[key] = value;
        return settings;
    }

    static RunFigures Figures(TrainingResult r)
    {
        var f = r.Final;
        return new RunFigures(f.TrainLoss, f.TrainAccuracy, f.TestLoss, f.TestAccuracy, f.Gap, f.AccuracyGap,
            f.Epoch, r.Steps, r.Epochs.Sum(e => e.Seconds), r.StopReason.ToString());
    }

    /// <summary>
    /// The recipe a spec names: optimizer, learning rate, schedule, warm-up, weight decay, and the training method
    /// (one objective term, gradient procedure or update rule more; docs/methods.md). <paramref name="trainCount"/> is
    /// the number of training examples (SGLD's N and the defaults that depend on the number of steps); null while
    /// only validating, before the data are loaded.
    /// </summary>
    public static Recipe RecipeFor(TrainJobSpec spec, long? trainCount = null)
    {
        // Every setting is checked by the piece it builds (StepSchedule, Sgd, WeightDecay, Recipe, ...), naming the setting.
        ILearningRateSchedule schedule = spec.Schedule.ToLowerInvariant() switch
        {
            "constant" => new ConstantSchedule(),
            "step" => new StepSchedule(spec.StepGamma, spec.StepEpochs),
            "cosine" => new CosineSchedule(),
            _ => throw new OptionException("schedule", $"unknown schedule '{spec.Schedule}' (use constant, step or cosine)"),
        };
        schedule = new WarmupSchedule(spec.WarmupSteps, schedule) is { Steps: > 0 } warm ? warm : schedule;
        var recipe = spec.Optimizer.ToLowerInvariant() switch
        {
            "sgd" => Recipe.Sgd(spec.LearningRate, spec.Momentum, spec.Nesterov, spec.WeightDecay, schedule),
            "adam" => Recipe.Adam(spec.LearningRate, weightDecay: spec.WeightDecay, schedule: schedule),
            _ => throw new OptionException("optimizer", $"unknown optimizer '{spec.Optimizer}' (use sgd or adam)"),
        };
        Check.AtLeast(spec.CoherenceEvery, 0, "coherenceEvery");
        // Methods combine with '+' (e.g. sam+fam, sgld+saf): terms add up; at most one gradient procedure (MethodCatalog).
        recipe = MethodCatalog.Apply(recipe, spec.Method, spec.Settings, MethodContextFor(spec, trainCount));
        if (spec.CoherenceEvery > 0 && recipe.Gradient is not PerExampleAggregation)
            recipe = recipe.With(new CoherenceProbe(recipe.Gradient, spec.CoherenceEvery));
        return recipe;
    }

    /// <summary>The training loop a spec asks for (epochs, batches, stop and checkpoint settings), checked as it is built.</summary>
    public static TrainingConfig LoopFor(TrainJobSpec spec) => new(spec.Epochs, spec.BatchSize, spec.Seed)
    {
        StopAtTrainLoss = spec.StopAtTrainLoss,
        CheckpointEveryBatches = spec.CheckpointEveryBatches,
    };

    /// <summary>The run facts method defaults depend on; <paramref name="trainCount"/> null: the spec's samples, else 60,000.</summary>
    public static MethodContext MethodContextFor(TrainJobSpec spec, long? trainCount = null)
    {
        long n = trainCount ?? spec.Samples ?? 60_000;
        int batchesPerEpoch = (int)Math.Max(1, (n + spec.BatchSize - 1) / Math.Max(1, spec.BatchSize));
        return new MethodContext(n, batchesPerEpoch, (long)batchesPerEpoch * Math.Max(1, spec.Epochs), spec.Epochs, spec.CoherenceEvery);
    }

    /// <summary>The data sets a spec can name, for error messages.</summary>
    public static string KnownDatasets => string.Join(", ", ImageDatasets.Names.Concat(ToyDatasets.Names).Concat(DataSource.Forms));

    /// <summary>Train and test sets for a spec: first N examples in file order, then label noise on the train set.</summary>
    public static (LabeledDataset Train, LabeledDataset Test) LoadData(TrainJobSpec spec)
    {
        if (spec.Samples is < 1) throw new BasinException($"--samples must be at least 1, got {spec.Samples}");
        if (spec.TestSamples is < 1) throw new BasinException($"--test-samples must be at least 1, got {spec.TestSamples}");
        if (!(spec.LabelNoise >= 0 && spec.LabelNoise <= 1)) throw new BasinException("label noise must be a fraction in [0, 1], " +
            $"got {spec.LabelNoise}");
        LabeledDataset train, test;
        var name = spec.Dataset.ToLowerInvariant();
        if (ImageDatasets.Names.Contains(name))
        {
            train = ImageDatasets.Load(name, Split.Train, spec.DataPath, spec.Samples);
            test = ImageDatasets.Load(name, Split.Test, spec.DataPath, spec.TestSamples);
        }
        else if (ToyDatasets.Names.Contains(name))
        {
            foreach (var (option, count) in new[] { ("--samples", spec.Samples), ("--test-samples", spec.TestSamples) })
                if (count > ToyDatasets.MaxCount) throw new BasinException($"{option} {count:N0}: a toy data set has at most " +
                    $"{ToyDatasets.MaxCount:N0} points");
            train = ToyDatasets.Create(name, checked((int)(spec.Samples ?? 1000)), spec.Seed);
            test = ToyDatasets.Create(name, checked((int)(spec.TestSamples ?? 1000)), spec.Seed + 1_000_003);
        }
        else if (DataSource.TryParse(spec.Dataset, out var source))
        {
            (train, test) = DataSource.Load(source, spec.TestData is null ? null : DataSource.Parse(spec.TestData), spec.Samples,
                spec.TestSamples);
        }
        else
        {
            throw new BasinException($"unknown dataset '{spec.Dataset}' (known: {KnownDatasets})");
        }
        if (spec.TestData is not null && !DataSource.IsUserData(spec.Dataset))
        {
            train.Dispose();
            test.Dispose();
            throw new BasinException($"a test data source goes with the user's own data ({string.Join(", ", DataSource.Forms)}), " +
                $"not with {spec.Dataset}");
        }
        if (spec.LabelNoise > 0)
        {
            var noisy = LabelNoise.Apply(train, spec.LabelNoise, spec.Seed);
            train.Dispose();
            train = noisy.Dataset;
        }
        return (train, test);
    }

    static Prepared Prepare(TrainJobSpec spec)
    {
        spec.ValidateLabels();
        var recipe = RecipeFor(spec);
        Trainer.ParseDevice(spec.Device);   // before the run is recorded: a missing device leaves no run behind
        LoopFor(spec);   // checks the loop settings at construction
        var (train, test) = LoadData(spec);
        try
        {
            recipe = RecipeFor(spec, train.Count);
            var model = ModelSpec.Create(spec.Model, train.ExampleShape, train.ClassCount, spec.Seed);
            try
            {
                foreach (var term in recipe.Objective)
                    if (term is Fam fam) fam.Check(model);
            }
            catch
            {
                model.Dispose();
                throw;
            }
            return new Prepared(train, test, model, recipe);
        }
        catch
        {
            train.Dispose();
            test.Dispose();
            throw;
        }
    }

    sealed record Prepared(LabeledDataset Train, LabeledDataset Test, Classifier Model, Recipe Recipe) : IDisposable
    {
        public void Dispose()
        {
            Train.Dispose();
            Test.Dispose();
            Model.Dispose();
        }
    }

    /// <summary>Stores each epoch's metrics as it completes and appends logged m-coherence to a CSV, then passes every event on.</summary>
    sealed class RecordingProgress(RunStore store, string runId, IProgress<TrainingEvent>? inner, string coherencePath, string epochsPath)
        : IProgress<TrainingEvent>
    {
        public List<GradientCoherence> Coherence { get; } = [];

        public void Report(TrainingEvent value)
        {
            if (value is EpochDone done)
            {
                store.AddEpoch(runId, done.Metrics.Epoch, done.Metrics);
                if (!File.Exists(epochsPath)) File.WriteAllText(epochsPath, EpochsHeader);
                File.AppendAllText(epochsPath, CsvRow(done.Metrics));
            }
            if (value is Resumed resumed)
            {
                // The checkpoint is written before its epoch is recorded: a kill in between leaves an epoch that the
                // checkpoint has done but the run lacks. Record every finished epoch again (the store replaces), and
                // append to epochs.csv the ones after its last row.
                int last = LastCsvEpoch();
                foreach (var m in resumed.Finished)
                {
                    store.AddEpoch(runId, m.Epoch, m);
                    if (m.Epoch <= last) continue;
                    if (!File.Exists(epochsPath)) File.WriteAllText(epochsPath, EpochsHeader);
                    File.AppendAllText(epochsPath, CsvRow(m));
                }
            }
            if (value is GradientCoherence c)
            {
                if (!File.Exists(coherencePath)) File.WriteAllText(coherencePath, "epoch,step,examples,m_coherence\n");
                File.AppendAllText(coherencePath, string.Create(CultureInfo.InvariantCulture,
                    $"{c.Epoch},{c.Step},{c.Examples},{c.Value:R}\n"));
                Coherence.Add(c);
            }
            inner?.Report(value);
        }

        /// <summary>The epoch of epochs.csv's last row (0 when there is none).</summary>
        int LastCsvEpoch()
        {
            if (!File.Exists(epochsPath)) return 0;
            var last = File.ReadLines(epochsPath).Skip(1).LastOrDefault(l => l.Length > 0);
            return last is not null && int.TryParse(last.Split(',')[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var e)
                ? e : 0;
        }

        /// <summary>One epochs.csv row: numbers round-trip (R), an absent figure is an empty cell, NaN is written NaN.</summary>
        static string CsvRow(EpochMetrics m)
        {
            static string N(double? x) => x is { } v ? v.ToString("R", CultureInfo.InvariantCulture) : "";
            return string.Create(CultureInfo.InvariantCulture,
                $"{m.Epoch},{N(m.TrainLoss)},{N(m.TrainAccuracy)},{N(m.TestLoss)},{N(m.TestAccuracy)},{N(m.Gap)},{N(m.AccuracyGap)},"
                + $"{N(m.MeanObjective)},{N(m.LearningRate)},{N(m.Seconds)},{m.Steps},{(m.Evaluated ? "true" : "false")}\n");
        }
    }
}
