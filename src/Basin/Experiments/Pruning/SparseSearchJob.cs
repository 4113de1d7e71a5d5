using System.Globalization;
using System.Text.Json;
using Basin.Data;
using Basin.Experiments.Training;
using Basin.IO;
using Basin.Models;
using Basin.Pruning;
using Basin.Training;

namespace Basin.Experiments.Pruning;

/// <summary>
/// Node random search against random node masks and the dense parent (<see cref="SparseSearchSpec"/>). Every network starts
/// from the source run's initialization θ₀ (masked: θ₀ ⊙ m, the parent's own scale, not a re-initialized narrow network)
/// and trains with the source run's recipe, batch size, data order and seed; only the mask differs. The scoring budget is not
/// counted in epochs to threshold. With an output folder, the search records its settings (<see cref="SpecFile"/>) and
/// every score and trained network as it finishes (<see cref="JournalFile"/>, a <see cref="WorkJournal"/>), so a search
/// stopped by Ctrl+C or a kill continues with <see cref="Resume"/>; each piece is deterministic, so the result is the
/// same as a search never stopped.
/// </summary>
public static class SparseSearchJob
{
    public const string SpecFile = "search.json";
    public const string JournalFile = "search-journal.jsonl";
    const string Finished = "finished";

    sealed record Context(SparseSearchSpec Spec, TrainJobSpec Source, Recipe Recipe, int Epochs, Classifier Model,
        WeightSnapshot Theta0, LabeledDataset Train, LabeledDataset Test, LabeledDataset ScoreData, int? Threads, WorkJournal? Journal,
        IProgress<SparseSearchProgress>? Progress, CancellationToken Ct);

    public static SparseSearchResult Run(SparseSearchSpec spec, RunStore store, IProgress<SparseSearchProgress>? progress = null,
        CancellationToken ct = default, int? threads = null) => Execute(spec.Validated(), store, resume: false, progress, ct, threads);

    /// <summary>
    /// Continues the search whose output folder is <paramref name="folder"/> with its recorded settings: the scores and
    /// networks it finished are taken from its journal, the rest are computed.
    /// </summary>
    public static SparseSearchResult Resume(string folder, RunStore store, IProgress<SparseSearchProgress>? progress = null,
        CancellationToken ct = default, int? threads = null)
    {
        var path = Path.Combine(folder, SpecFile);
        if (!File.Exists(path)) throw new BasinException($"{folder} holds no sparse search to continue (no {SpecFile}; a search " +
            "keeps one in its --out folder)");
        SparseSearchSpec spec;
        try { spec = JsonSerializer.Deserialize<SparseSearchSpec>(File.ReadAllText(path), Json.Options)!; }
        catch (JsonException e) { throw new DataFormatException($"{path}: not the settings of a sparse search ({e.Message})"); }
        return Execute(spec.Validated() with { Out = folder }, store, resume: true, progress, ct, threads);
    }

    static SparseSearchResult Execute(SparseSearchSpec spec, RunStore store, bool resume, IProgress<SparseSearchProgress>? progress,
        CancellationToken ct, int? threads)
    {
        var details = store.Get(spec.SourceRun);
        var sourceId = details.Summary.Id;
        if (details.Summary.Kind != "train")
            throw new BasinException($"run {sourceId} is a {details.Summary.Kind} run; sparse-search works on a training run " +
                "('basin train'), the dense parent");
        var source = TrainJobSpec.FromStored(details.Config, sourceId);
        int epochs = spec.Epochs ?? source.Epochs;
        var (train, test) = TrainingJob.LoadData(source);
        using var _train = train;
        using var _test = test;
        using var scoreData = train.Take(Math.Min(spec.ScoreSamples, train.Count));
        var recipe = TrainingJob.RecipeFor(source with { Epochs = epochs, CheckpointEveryBatches = 0 }, train.Count);
        using var model = ModelSpec.Create(source.Model, train.ExampleShape, train.ClassCount, source.Seed);
        NodePruning.Layout(model);   // refuses a model without known hidden units before any training
        using var theta0 = WeightSnapshot.OfState(model);
        WorkJournal? journal = null;
        if (spec.Out is { } outFolder)
        {
            var journalPath = Path.Combine(outFolder, JournalFile);
            if (resume)
            {
                journal = WorkJournal.Continue(journalPath);
                if (journal.Contains(Finished)) throw new BasinException($"the sparse search in {outFolder} has finished; nothing to " +
                    "resume");
            }
            else
            {
                Directory.CreateDirectory(outFolder);
                AtomicFile.WriteAllText(Path.Combine(outFolder, SpecFile), JsonSerializer.Serialize(spec with { SourceRun = sourceId },
                    Json.Options));
                journal = WorkJournal.Start(journalPath);
            }
        }
        var c = new Context(spec, source, recipe, epochs, model, theta0, train, test, scoreData, threads, journal, progress, ct);
        try
        {
            var result = Search(c, sourceId);
            journal?.Add(Finished, true);
            return result;
        }
        catch (OperationCanceledException e)
        {
            var hint = spec.Out is { } o
                ? $"the finished scores and networks are kept in {o}; continue with 'basin sparse-search --resume {o}'"
                : "nothing is kept without --out (a search with --out DIR can be resumed)";
            throw new OperationCanceledException($"{e.Message}; {hint}", e, e.CancellationToken);
        }
    }

    static SparseSearchResult Search(Context c, string sourceId)
    {
        var (spec, source, model, epochs) = (c.Spec, c.Source, c.Model, c.Epochs);
        var progress = c.Progress;
        long seed = spec.Seed ?? source.Seed;

        var dense = Train(c, null, "dense", 0, null, 0);
        progress?.Report(new SparseSearchProgress(0, "dense", 1, 1, dense.TestAccuracy));
        double threshold = spec.Threshold * dense.TrainAccuracy;
        dense = WithThreshold(dense, threshold);
        var results = new List<SparsityComparison>();
        foreach (var s in spec.Sparsities)
        {
            var scores = new List<CandidateScore>();
            NodeSparsity? nodes = null;
            for (int j = 0; j < spec.Candidates; j++)
            {
                long maskSeed = NodeSearch.MaskSeed(seed, s, NodeSearch.Role.Candidate, j);
                var (mask, n) = NodePruning.ToSparsity(model, s, maskSeed);
                using (mask) scores.Add(new CandidateScore(j, maskSeed, Done(c, $"score {Key(s)} {j}", () => Score(c, mask))));
                nodes = n;
                progress?.Report(new SparseSearchProgress(s, "score", j + 1, spec.Candidates, scores[^1].Score));
            }
            int best = NodeSearch.Best(scores.Select(x => x.Score).ToArray(), higherIsBetter: spec.Score == "accuracy");
            var search = TrainMask(c, s, scores[best].Seed, "search", best, threshold);
            progress?.Report(new SparseSearchProgress(s, "search", 1, 1, search.TestAccuracy));
            var random = new List<TrainedNetwork>();
            for (int r = 0; r < spec.RandomMasks; r++)
            {
                random.Add(TrainMask(c, s, NodeSearch.MaskSeed(seed, s, NodeSearch.Role.Random, r), "random", r, threshold));
                progress?.Report(new SparseSearchProgress(s, "random", r + 1, spec.RandomMasks, random[^1].TestAccuracy));
            }
            var diagnostic = new List<TrainedNetwork>();
            if (spec.Diagnostic > 0)
            {
                var picks = NodeSearch.SpreadOverScores(scores.Select(x => x.Score).ToArray(), spec.Diagnostic,
                    spec.Score == "accuracy");
                foreach (var j in picks)
                {
                    diagnostic.Add(TrainMask(c, s, scores[j].Seed, "diagnostic", j, threshold));
                    progress?.Report(new SparseSearchProgress(s, "diagnostic", diagnostic.Count, picks.Length,
                        diagnostic[^1].TestAccuracy));
                }
            }
            double spearman = diagnostic.Count == 0 ? double.NaN
                : NodeSearch.Spearman(diagnostic.Select(x => scores[x.Index].Score).ToArray(),
                    diagnostic.Select(x => x.TestAccuracy).ToArray());
            var accuracies = random.Select(x => x.TestAccuracy).ToArray();
            double Epochs(TrainedNetwork t) => t.EpochsToThreshold ?? epochs + 1;
            long bootSeed = NodeSearch.MaskSeed(seed, s, NodeSearch.Role.Random, -1);
            results.Add(new SparsityComparison(s, nodes!.ParameterSparsity, nodes.Layers, scores, best, search, random,
                NodeSearch.Mean(accuracies, spec.Bootstrap, bootSeed),
                NodeSearch.MinusMean(search.TestAccuracy, accuracies, spec.Bootstrap, bootSeed),
                NodeSearch.MinusMean(Epochs(search), random.Select(Epochs).ToArray(), spec.Bootstrap, bootSeed),
                NodeSearch.MinusMean(dense.TestAccuracy, accuracies, spec.Bootstrap, bootSeed), diagnostic, spearman));
        }
        var files = new List<string>();
        var result = new SparseSearchResult(sourceId, model.Spec, source.Dataset, epochs, spec.Score, spec.ScoreSteps, threshold, dense,
            results, files);
        if (spec.Out is { } folder)
        {
            Directory.CreateDirectory(folder);
            files.Add(WriteCsv(folder, "networks.csv", "node_sparsity,weight_sparsity,role,index,seed,test_accuracy,test_loss," +
                "train_accuracy,epochs_to_threshold,mean_train_loss", Rows(result)));
            files.Add(WriteCsv(folder, "candidates.csv", "node_sparsity,index,seed,score,picked", results.SelectMany(r =>
                r.Candidates.Select(x => Join(r.NodeSparsity, x.Index, x.Seed, x.Score, x.Index == r.Best ? 1 : 0)))));
            var png = Path.Combine(folder, "sparse-search.png");
            SparseSearchPlot.Save(result, png);
            files.Add(png);
            var json = Path.Combine(folder, "result.json");
            files.Add(json);
            AtomicFile.WriteAllText(json, JsonSerializer.Serialize(result, Json.Options));
        }
        return result;
    }

    static IEnumerable<string> Rows(SparseSearchResult r)
    {
        yield return Row(0, 0, r.Dense);
        foreach (var s in r.Sparsities)
            foreach (var t in s.Random.Prepend(s.Search).Concat(s.Diagnostic)) yield return Row(s.NodeSparsity, s.WeightSparsity, t);
    }

    static string Row(double s, double w, TrainedNetwork t) => Join(s, w, t.Role, t.Index, t.Seed?.ToString(CultureInfo.InvariantCulture)
        ?? "", t.TestAccuracy, t.TestLoss, t.TrainAccuracy, t.EpochsToThreshold?.ToString(CultureInfo.InvariantCulture) ?? "",
        t.MeanTrainLoss);

    static string Join(params object[] values) => string.Join(",", values.Select(v => v switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString(),
    }));

    static string WriteCsv(string folder, string name, string header, IEnumerable<string> rows)
    {
        var path = Path.Combine(folder, name);
        AtomicFile.WriteAllText(path, header + "\n" + string.Concat(rows.Select(r => r + "\n")));
        return path;
    }

    static TrainedNetwork TrainMask(Context c, double sparsity, long maskSeed, string role, int index, double threshold)
    {
        var (mask, _) = NodePruning.ToSparsity(c.Model, sparsity, maskSeed);
        using (mask) return WithThreshold(Train(c, mask, role, index, maskSeed, sparsity), threshold);
    }

    /// <summary>A piece of the search from the journal when it is recorded there, else computed (and recorded).</summary>
    static T Done<T>(Context c, string key, Func<T> compute) => c.Journal is { } j ? j.GetOrAdd(key, compute) : compute();

    static string Key(double sparsity) => sparsity.ToString("R", CultureInfo.InvariantCulture);

    static TrainedNetwork WithThreshold(TrainedNetwork t, double threshold) =>
        t with { EpochsToThreshold = NodeSearch.EpochsToThreshold(t.TrainAccuracyCurve, threshold) };

    /// <summary>Full training from θ₀ (⊙ m when masked) with the source run's recipe and seed.</summary>
    static TrainedNetwork Train(Context c, PruningMask? mask, string role, int index, long? seed, double sparsity) =>
        Done(c, $"{role} {Key(sparsity)} {index}", () => Train(c, mask, role, index, seed));

    static TrainedNetwork Train(Context c, PruningMask? mask, string role, int index, long? seed)
    {
        c.Ct.ThrowIfCancellationRequested();
        c.Theta0.CopyInto(c.Model);
        var recipe = mask is null ? c.Recipe : c.Recipe with { Update = new MaskedUpdate(c.Recipe.Update, mask) };
        var config = new TrainingConfig(c.Epochs, c.Source.BatchSize, c.Source.Seed) { Threads = c.Threads, Device = c.Source.Device };
        var run = new Trainer(recipe, config).Run(c.Model, c.Train, c.Test, null, c.Ct);
        var test = Evaluation.Evaluate(c.Model, c.Test);
        return new TrainedNetwork(role, index, seed, test.Accuracy, test.Loss, run.Final.TrainAccuracy, null,
            run.Epochs.Average(e => e.TrainLoss), run.Epochs.Select(e => e.TrainLoss).ToArray(),
            run.Epochs.Select(e => e.TrainAccuracy).ToArray(), run.Epochs.Select(e => e.TestAccuracy ?? double.NaN).ToArray());
    }

    /// <summary>The candidate's score: the loss or accuracy on the scoring examples after ScoreSteps steps from θ₀ ⊙ m.</summary>
    static double Score(Context c, PruningMask mask)
    {
        c.Theta0.CopyInto(c.Model);
        if (c.Spec.ScoreSteps == 0)
        {
            mask.ApplyTo(c.Model);
        }
        else
        {
            var recipe = c.Recipe with { Update = new MaskedUpdate(c.Recipe.Update, mask) };
            var config = new TrainingConfig(c.Epochs, c.Source.BatchSize, c.Source.Seed)
            {
                Threads = c.Threads,
                Device = c.Source.Device,
                EvaluateEveryEpoch = false,
            };
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(c.Ct);
            var atStep = new Callback(e => { if (e is BatchDone b && b.Step >= c.Spec.ScoreSteps) stop.Cancel(); });
            try { new Trainer(recipe, config).Run(c.Model, c.Train, null, atStep, stop.Token); }
            catch (OperationCanceledException) when (!c.Ct.IsCancellationRequested) { }
        }
        var e = Evaluation.Evaluate(c.Model, c.ScoreData);
        return c.Spec.Score == "accuracy" ? e.Accuracy : e.Loss;
    }

    sealed class Callback(Action<TrainingEvent> action) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value) => action(value);
    }
}
