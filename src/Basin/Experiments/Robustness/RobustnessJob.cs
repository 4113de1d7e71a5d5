using System.Globalization;
using System.Text;
using System.Text.Json;
using Basin.Data;
using Basin.Data.Corruptions;
using Basin.Experiments.Pruning;
using Basin.Experiments.Training;
using Basin.IO;
using Basin.Models;
using Basin.Pruning;
using Basin.Robustness;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Experiments.Robustness;

/// <summary>
/// Evaluates finished runs on their clean test set and on corrupted copies of it (<see cref="ImageCorruptions"/>; every
/// corrupted set is made once, so all runs see bit-identical images), and writes per run a CSV of the per-sample geometry
/// of the penultimate features (<see cref="FeatureGeometry"/>), a summary per (run, set), the method-similarity,
/// benchmark-redundancy and per-sample robustness tables, result.json and PNGs (<see cref="RobustnessPlot"/>), the sample
/// thumbnails among them (<see cref="ThumbnailGrid"/>).
/// Everything that can be checked (runs, data, names, severities) is checked before any file is written.
/// </summary>
public static class RobustnessJob
{
    const string Clean = "clean";

    sealed record Loaded(string Id, string Kind, TrainJobSpec Run, ModelSource Source);

    /// <summary>Per-sample outcomes of one run on one set, kept for the analyses.</summary>
    sealed record Outcomes(bool[] Correct, double[] ThetaY, double[] Norm, double[] GeoMargin);

    public static RobustnessResult Run(RobustnessSpec spec, RunStore store, IProgress<RobustnessProgress>? progress = null,
        CancellationToken ct = default)
    {
        var (corruptions, severities) = spec.Validated();
        var runs = spec.Runs.Select(r => Load(store, r)).ToArray();
        var first = runs[0];
        foreach (var r in runs.Skip(1))
            if (r.Run.Dataset != first.Run.Dataset || r.Run.DataPath != first.Run.DataPath || r.Run.TestSamples != first.Run.TestSamples
                || r.Run.TestData != first.Run.TestData)
                throw new BasinException($"runs {first.Id} and {r.Id} were tested on different data ({first.Run.Dataset}, " +
                    $"{r.Run.Dataset}); per-sample comparisons need one test set");
        long? samples = spec.Samples ?? first.Run.TestSamples;
        using var test = first.Source.LoadData(Split.Test, samples, atMost: spec.Samples is not null);
        if (test.Inputs.dim() != 4) throw new BasinException($"corruptions act on images; {first.Run.Dataset} has inputs " +
            $"[{string.Join(",", test.Inputs.shape)}]");
        var models = new List<Classifier>();
        try
        {
            foreach (var r in runs)
            {
                var model = r.Source.LoadModel(test);
                models.Add(model);
                model.eval();
            }
            return Evaluate(spec, runs, models, test, corruptions, severities, progress, ct);
        }
        finally
        {
            foreach (var m in models) m.Dispose();
        }
    }

    static Loaded Load(RunStore store, string idOrPrefix)
    {
        var details = store.Get(idOrPrefix);
        var id = details.Summary.Id;
        var kind = details.Summary.Kind;
        if (kind is not ("train" or PruneJob.Kind))
            throw new BasinException($"run {id} is a {kind} run; robustness evaluates training and prune runs");
        var weights = Path.Combine(store.RunFolder(id), TrainingJob.WeightsFile);
        if (details.Summary.Status != RunStatus.Finished || !File.Exists(weights))
            throw new BasinException($"run {id} has no trained weights (status {details.Summary.Status})");
        var config = kind == "train" ? details.Config
            : details.Config.TryGetProperty("train", out var t) ? t : throw new BasinException($"run {id} has no training config");
        var run = TrainJobSpec.FromStored(config, id);
        return new Loaded(id, kind, run, new ModelSource(weights, run.Model, run.Dataset, run.DataPath, run));
    }

    static RobustnessResult Evaluate(RobustnessSpec spec, Loaded[] runs, List<Classifier> models, LabeledDataset test,
        IReadOnlyList<Corruption> corruptions, IReadOnlyList<int> severities, IProgress<RobustnessProgress>? progress,
        CancellationToken ct)
    {
        Directory.CreateDirectory(spec.Out);
        int n = (int)test.Count;
        var cells = new List<(string Corruption, int Severity)> { (Clean, 0) };
        foreach (var c in corruptions) foreach (var s in Severities(c, severities)) cells.Add((c.Name, s));
        var heads = models.Select(FeatureGeometry.Head).ToArray();
        var outcomes = new Outcomes[runs.Length, cells.Count];
        var summaries = runs.Select(_ => new List<CellSummary>()).ToArray();
        var files = new List<string>();
        var csvPaths = runs.Select(r => Path.Combine(spec.Out, $"geometry-{r.Id}.csv")).ToArray();
        var writers = csvPaths.Select(p => new StreamWriter(p + ".tmp", false, new UTF8Encoding(false))).ToArray();
        int finished = 0;
        try
        {
            foreach (var w in writers) w.WriteLine(GeometryHeader);
            for (int k = 0; k < cells.Count; k++)
            {
                ct.ThrowIfCancellationRequested();
                var (name, severity) = cells[k];
                using var set = severity == 0 ? null : ImageCorruptions.Apply(test, ImageCorruptions.Get(name), severity, spec.Seed);
                var data = set ?? test;
                for (int r = 0; r < runs.Length; r++)
                {
                    var g = Geometry(models[r], data, heads[r], spec.BatchSize);
                    outcomes[r, k] = new Outcomes(g.Select(x => x.Correct).ToArray(), g.Select(x => x.ThetaY).ToArray(),
                        g.Select(x => x.FeatureNorm).ToArray(), g.Select(x => x.GeometricMargin).ToArray());
                    for (int i = 0; i < n; i++) writers[r].WriteLine(Row(name, severity, i, g[i]));
                    summaries[r].Add(Summarize(name, severity, g, k == 0 ? null : outcomes[r, 0]));
                }
                progress?.Report(new RobustnessProgress(k + 1, cells.Count, name, severity));
                finished++;
            }
        }
        catch (Exception e)
        {
            foreach (var w in writers) w.Dispose();
            foreach (var p in csvPaths) File.Delete(p + ".tmp");
            // Evaluation is cheap next to training and deterministic: nothing partial is kept, and a rerun is the way on.
            if (e is OperationCanceledException) throw new OperationCanceledException($"cancelled after {finished} of {cells.Count} " +
                $"sets; a robustness job writes its files at the end and keeps nothing partial (files already in {spec.Out} are " +
                "left as they were); run it again: it writes the same files, byte for byte", e);
            throw;
        }
        foreach (var w in writers) w.Dispose();
        foreach (var p in csvPaths) File.Move(p + ".tmp", p, overwrite: true);
        files.AddRange(csvPaths);

        var runResults = runs.Select((r, i) => RunFigures(r, models[i], heads[i], summaries[i], outcomes, i, cells.Count, csvPaths[i]))
            .ToArray();
        var similarity = Similarity(runs, outcomes, cells.Count);
        var redundancy = Redundancy(runs.Length, corruptions, severities, cells, outcomes, summaries);
        var ranks = Ranks(test, outcomes, runs.Length, cells.Count);
        var fragile = ranks.OrderBy(s => s.CorrectFraction).ThenBy(s => s.Sample).Take(spec.Extremes).ToArray();
        var robust = ranks.OrderByDescending(s => s.CorrectFraction).ThenBy(s => s.Sample).Take(spec.Extremes).ToArray();

        files.Add(WriteCsv(spec.Out, "summary.csv", "run,corruption,severity,accuracy,mean_loss,median_h_norm,median_theta_y_deg," +
            "median_geo_margin,zero_features,correct_to_wrong,wrong_to_correct", runResults.SelectMany(r => r.Cells.Select(c =>
            Join(r.RunId, c.Corruption, c.Severity, c.Accuracy, c.MeanLoss, c.MedianFeatureNorm, c.MedianThetaY,
                c.MedianGeometricMargin, c.ZeroFeatures, c.CorrectToWrong, c.WrongToCorrect)))));
        files.Add(WriteCsv(spec.Out, "similarity.csv", "run_a,run_b,clean_agreement,clean_kappa,corrupted_agreement,corrupted_kappa",
            similarity.Select(p => Join(p.A, p.B, p.Clean.Fraction, p.Clean.Kappa, p.Corrupted.Fraction, p.Corrupted.Kappa))));
        files.Add(WriteCsv(spec.Out, "redundancy.csv", "corruption_a,corruption_b,drop_correlation,failure_jaccard,redundant",
            redundancy.Select(p => Join(p.A, p.B, p.DropCorrelation, p.FailureJaccard, p.Redundant ? "true" : "false"))));
        files.Add(WriteCsv(spec.Out, "samples.csv", "sample,label,correct_fraction,clean_correct_runs",
            ranks.Select(s => Join(s.Sample, s.Label, s.CorrectFraction, s.CleanCorrectRuns))));
        for (int r = 0; r < runs.Length; r++)
        {
            var corrupted = Enumerable.Range(1, cells.Count - 1).Select(c => outcomes[r, c]).ToArray();
            files.AddRange(RobustnessPlot.Save(runResults[r], outcomes[r, 0].ThetaY, corrupted.SelectMany(o => o.ThetaY).ToArray(),
                outcomes[r, 0].Norm, corrupted.SelectMany(o => o.Norm).ToArray(), spec.Out));
        }
        files.Add(RobustnessPlot.SaveHeatmap(runResults, Path.Combine(spec.Out, "heatmap.png")));
        var thumbnails = ThumbnailGrid.Of(fragile, robust, corruptions.Select(c => (c.Name, (IReadOnlyList<int>)Severities(c, severities)
            .ToArray())).ToArray());
        files.Add(RobustnessPlot.SaveThumbnails(thumbnails, thumbnails.Images(test, spec.Seed), Path.Combine(spec.Out, "samples.png")));
        IReadOnlyList<DendrogramMerge>? tree = null;
        if (runs.Length >= 2)
        {
            bool corrupted = similarity.All(p => double.IsFinite(p.Corrupted.Fraction));
            tree = Dendrogram.Cluster(Distances(runs, similarity, corrupted));
            files.Add(RobustnessPlot.SaveDendrogram(runs.Select(r => r.Id).ToArray(), tree, corrupted ? "all corrupted sets"
                : "clean set", Path.Combine(spec.Out, "dendrogram.png")));
        }
        var path = Path.Combine(spec.Out, "result.json");
        files.Add(path);
        var result = new RobustnessResult(runs[0].Run.Dataset, n, spec.Seed, corruptions.Select(c => c.Name).ToArray(),
            severities, runResults, similarity, redundancy, fragile, robust, files) { MethodTree = tree, Thumbnails = thumbnails };
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(result, Json.Options));
        return result;
    }

    /// <summary>The severities a corruption is evaluated at: all of them, or the first alone for a parameter-free corruption
    /// (the same images at every severity).</summary>
    static IEnumerable<int> Severities(Corruption c, IReadOnlyList<int> severities) => c.Parameters.Count == 0 ? severities.Take(1)
        : severities;

    static SampleGeometry[] Geometry(Classifier model, LabeledDataset data, (double[] W, double[] B) head, int batchSize)
    {
        var all = new List<SampleGeometry>();
        using var _ = no_grad();
        foreach (var chunk in data.Chunks(batchSize))
        {
            using var scope = NewDisposeScope();
            var x = data.Inputs.narrow(0, chunk.Start, chunk.Count);
            var y = data.Labels.narrow(0, chunk.Start, chunk.Count);
            var (h, logits) = FeatureGeometry.Forward(model, x);
            all.AddRange(FeatureGeometry.Of(h, logits, y, head.W, head.B));
        }
        return all.ToArray();
    }

    const string GeometryHeader = "corruption,severity,sample,label,prediction,correct,h_norm,w_y_norm,theta_y_deg,theta_pred_deg," +
        "theta_other_min_deg,logit_margin,geo_margin,angular_margin,p_y,loss,zero_feature,bias_share";

    static string Row(string corruption, int severity, int sample, SampleGeometry g) => Join(corruption, severity, sample, g.Label,
        g.Prediction, g.Correct ? 1 : 0, g.FeatureNorm, g.WeightNormY, g.ThetaY, g.ThetaPred, g.ThetaOtherMin, g.LogitMargin,
        g.GeometricMargin, g.AngularMargin, g.ProbabilityY, g.Loss, g.ZeroFeature ? 1 : 0, g.BiasShare);

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

    static CellSummary Summarize(string corruption, int severity, SampleGeometry[] g, Outcomes? clean)
    {
        int toWrong = 0, toRight = 0;
        if (clean is not null)
            for (int i = 0; i < g.Length; i++)
            {
                if (clean.Correct[i] && !g[i].Correct) toWrong++;
                if (!clean.Correct[i] && g[i].Correct) toRight++;
            }
        return new CellSummary(corruption, severity, g.Count(x => x.Correct) / (double)g.Length, g.Average(x => x.Loss),
            RobustnessStatistics.Quantile(g.Select(x => x.FeatureNorm), 0.5), RobustnessStatistics.Quantile(g.Select(x => x.ThetaY), 0.5),
            RobustnessStatistics.Quantile(g.Select(x => x.GeometricMargin), 0.5), g.Count(x => x.ZeroFeature), toWrong, toRight);
    }

    static RunRobustness RunFigures(Loaded run, Classifier model, (double[] W, double[] B) head, List<CellSummary> cells,
        Outcomes[,] outcomes, int r, int cellCount, string csv)
    {
        int k = head.B.Length, m = head.W.Length / k;
        var norms = Enumerable.Range(0, k).Select(c => Math.Sqrt(Enumerable.Range(0, m).Sum(j => head.W[c * m + j] * head.W[c * m + j])))
            .ToArray();
        var clean = outcomes[r, 0];
        int n = clean.Correct.Length;
        var angle = new List<double>();
        var length = new List<double>();
        var flipped = new List<bool>();
        var wrongCount = new int[n];
        for (int c = 1; c < cellCount; c++)
        {
            var o = outcomes[r, c];
            for (int i = 0; i < n; i++)
            {
                if (!o.Correct[i]) wrongCount[i]++;
                if (!clean.Correct[i]) continue;
                angle.Add(o.ThetaY[i] - clean.ThetaY[i]);
                length.Add(-(o.Norm[i] - clean.Norm[i]));
                flipped.Add(!o.Correct[i]);
            }
        }
        var cleanCorrect = Enumerable.Range(0, n).Where(i => clean.Correct[i]).ToArray();
        double fragilityAuc = cellCount > 1
            ? RobustnessStatistics.Auc(cleanCorrect.Select(i => -clean.GeoMargin[i]).ToArray(),
                cleanCorrect.Select(i => 2 * wrongCount[i] > cellCount - 1).ToArray())
            : double.NaN;
        return new RunRobustness(run.Id, run.Kind, model.Spec, WeightSparsity(model), cells[0].Accuracy,
            cells.Count > 1 ? cells.Skip(1).Average(c => c.Accuracy) : double.NaN, norms, head.B, RobustnessStatistics.Auc(angle, flipped),
            RobustnessStatistics.Auc(length, flipped), fragilityAuc, csv, cells);
    }

    static double WeightSparsity(Classifier model)
    {
        long zeros = 0, total = 0;
        foreach (var p in Prunable.Weights(model))
        {
            using var zero = 0.ToScalar();
            using var isZero = p.Value.eq(zero);
            using var z = isZero.sum();
            zeros += z.item<long>();
            total += p.Value.numel();
        }
        return (double)zeros / total;
    }

    static RunPair[] Similarity(Loaded[] runs, Outcomes[,] outcomes, int cellCount)
    {
        var pairs = new List<RunPair>();
        for (int a = 0; a < runs.Length; a++)
            for (int b = a + 1; b < runs.Length; b++)
            {
                var clean = RobustnessStatistics.Agree(outcomes[a, 0].Correct, outcomes[b, 0].Correct);
                var ca = Enumerable.Range(1, cellCount - 1).SelectMany(c => outcomes[a, c].Correct).ToArray();
                var cb = Enumerable.Range(1, cellCount - 1).SelectMany(c => outcomes[b, c].Correct).ToArray();
                var corrupted = ca.Length == 0 ? new Agreement(double.NaN, double.NaN) : RobustnessStatistics.Agree(ca, cb);
                pairs.Add(new RunPair(runs[a].Id, runs[b].Id, clean, corrupted));
            }
        return pairs.ToArray();
    }

    /// <summary>1 − the per-sample agreement over all corrupted sets (or the clean set), per pair of runs in the order given.</summary>
    static double[,] Distances(Loaded[] runs, RunPair[] similarity, bool corrupted)
    {
        var index = runs.Select((r, i) => (r.Id, i)).ToDictionary(x => x.Id, x => x.i);
        var d = new double[runs.Length, runs.Length];
        foreach (var p in similarity)
            d[index[p.A], index[p.B]] = d[index[p.B], index[p.A]] = 1 - (corrupted ? p.Corrupted : p.Clean).Fraction;
        return d;
    }

    static CorruptionPair[] Redundancy(int runCount, IReadOnlyList<Corruption> corruptions, IReadOnlyList<int> severities,
        List<(string Corruption, int Severity)> cells, Outcomes[,] outcomes, List<CellSummary>[] summaries)
    {
        int Cell(Corruption c, int severity) => cells.IndexOf((c.Name, c.Parameters.Count == 0 ? severities[0] : severity));
        var pairs = new List<CorruptionPair>();
        for (int a = 0; a < corruptions.Count; a++)
            for (int b = a + 1; b < corruptions.Count; b++)
            {
                var da = new List<double>();
                var db = new List<double>();
                var fa = new List<bool>();
                var fb = new List<bool>();
                for (int r = 0; r < runCount; r++)
                    foreach (var s in severities)
                    {
                        int ka = Cell(corruptions[a], s), kb = Cell(corruptions[b], s);
                        da.Add(summaries[r][0].Accuracy - summaries[r][ka].Accuracy);
                        db.Add(summaries[r][0].Accuracy - summaries[r][kb].Accuracy);
                        fa.AddRange(outcomes[r, ka].Correct.Select(c => !c));
                        fb.AddRange(outcomes[r, kb].Correct.Select(c => !c));
                    }
                double rho = RobustnessStatistics.Pearson(da, db);
                pairs.Add(new CorruptionPair(corruptions[a].Name, corruptions[b].Name, rho, RobustnessStatistics.Jaccard(fa, fb),
                    rho > 0.9));
            }
        return pairs.ToArray();
    }

    static SampleRank[] Ranks(LabeledDataset test, Outcomes[,] outcomes, int runCount, int cellCount)
    {
        var labels = test.Labels.data<long>().ToArray();
        return Enumerable.Range(0, labels.Length).Select(i =>
        {
            int correct = 0, total = 0, clean = 0;
            for (int r = 0; r < runCount; r++)
            {
                if (outcomes[r, 0].Correct[i]) clean++;
                for (int c = 1; c < cellCount; c++)
                {
                    total++;
                    if (outcomes[r, c].Correct[i]) correct++;
                }
            }
            return new SampleRank(i, (int)labels[i], total == 0 ? double.NaN : (double)correct / total, clean);
        }).ToArray();
    }
}
