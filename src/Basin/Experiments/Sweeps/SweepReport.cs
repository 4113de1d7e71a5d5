using Basin.Experiments;
using Basin.IO;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using System.Text.Json;
using Basin.Measures;

namespace Basin.Experiments.Sweeps;

/// <summary>
/// A finished model of a sweep: its settings, run, gap and measure values (trained and reparametrized), the derived
/// measures (<see cref="MeasureRegistry.Derived"/>) included.
/// </summary>
public sealed record ReportedModel(string Key, IReadOnlyDictionary<string, string> Settings, string RunId, double Gap,
    IReadOnlyDictionary<string, double> Original, IReadOnlyDictionary<string, double> Reparametrized)
{
    /// <summary>m, the number of examples the model was trained on (its run's "samples"); NaN when the run used the
    /// whole training set, whose size the report does not know.</summary>
    public double TrainingExamples { get; init; } = double.NaN;
}

/// <summary>Scores of one measure on one variant of the models: τ-b with the gap, Ψ and its per-axis ψ_i, and the CMI score.</summary>
public sealed record MeasureScore(double Tau, double Psi, IReadOnlyDictionary<string, double> PsiPerAxis, double Cmi, int Models);

/// <summary>
/// One row of the ranking: a measure's facts, its scores before and after reparametrization, and the largest relative
/// change of its value under reparametrization over all models (0 for a measure that is truly invariant).
/// </summary>
public sealed record RankingRow(string Measure, Invariance Invariance, CostClass Cost, MeasureScore Original, MeasureScore Reparametrized,
    double MaxRelativeChange, double MeanSeconds);

public sealed record SweepReportResult(string Sweep, string Gap, IReadOnlyList<string> Axes, int Points, int Done, int Failed,
    IReadOnlyList<ReportedModel> Models, IReadOnlyList<RankingRow> Ranking)
{
    /// <summary>True when only models whose run reached its training-loss target were scored.</summary>
    public bool ReachedTargetOnly { get; init; }

    /// <summary>Points without a finished model (failed or not yet run): the ranking leaves them out.</summary>
    public int Missing => Points - Done;
}

/// <summary>
/// Scores every stored measure of a sweep against the generalization gap (Jiang et al. 2020): Kendall τ-b over all
/// finished models, granulated Ψ over the axes that take at least two values, and the CMI score; once for the trained
/// models and once for their reparametrized copies. Rows are ranked by τ on the trained models. Besides the stored
/// measures it scores the derived ones, computed from the stored values and each model's training-set size m: the
/// PAC-Bayes bounds and the size-adjusted bound terms NAME@m (<see cref="SizeAdjustment"/>).
/// </summary>
public static class SweepReport
{
    /// <param name="reachedTargetOnly">Score only the models whose run stopped at its training-loss target (the protocol
    /// of Jiang et al.: every model at the same training loss), leaving out those that ran out of epochs first.</param>
    public static SweepReportResult Build(string runsFolder, string sweepName, string gap = "accuracy", bool reachedTargetOnly = false)
    {
        using var runs = RunStore.Open(runsFolder);
        return Build(runs, sweepName, gap, reachedTargetOnly);
    }

    /// <summary>The report of sweep <paramref name="sweepName"/> from a run store already open.</summary>
    public static SweepReportResult Build(RunStore runs, string sweepName, string gap = "accuracy", bool reachedTargetOnly = false)
    {
        if (gap is not ("accuracy" or "loss")) throw new BasinException($"unknown gap '{gap}' (use accuracy or loss)");
        var runsFolder = runs.Folder;
        var store = runs.Sweeps;
        var points = store.Points(sweepName);
        if (points.Count == 0)
        {
            var known = store.Sweeps();
            throw new BasinException($"no sweep '{sweepName}' in {Path.Combine(runsFolder, RunDatabase.FileName)}"
                + (known.Count > 0 ? $" (recorded: {string.Join(", ", known)})" : " (run it first with 'basin sweep run FILE')"));
        }
        var models = new List<ReportedModel>();
        var seconds = new Dictionary<string, List<double>>();
        foreach (var p in points.Where(p => p.Status == PointStatus.Done && p.RunId is not null))
        {
            var details = runs.Get(p.RunId!);
            var final = details.Summary.Final;
            if (final is not { ValueKind: JsonValueKind.Object } f) continue;
            if (reachedTargetOnly && !(f.TryGetProperty("stopReason", out var stop)
                && stop.GetString() == nameof(Basin.Training.StopReason.ReachedTrainLoss))) continue;
            double examples = TrainingExamples(details.Config);
            var g = f.TryGetProperty(gap == "accuracy" ? "accuracyGap" : "gap", out var v) && v.ValueKind == JsonValueKind.Number
                ? v.GetDouble() : double.NaN;
            var stored = runs.Measures(p.RunId!);
            foreach (var m in stored.Where(m => m.Variant == RunStore.OriginalVariant))
                (seconds.TryGetValue(m.Measure, out var list) ? list : seconds[m.Measure] = []).Add(m.Seconds);
            IReadOnlyDictionary<string, double> Values(string variant) =>
                MeasureRegistry.WithDerived(stored.Where(x => x.Variant == variant)
                    .ToDictionary(x => x.Measure, x => x.Value ?? double.NaN), examples);
            models.Add(new ReportedModel(p.Key, p.Settings, p.RunId!, g, Values(RunStore.OriginalVariant),
                Values(RunStore.ReparametrizedVariant)) { TrainingExamples = examples });
        }
        var axes = points.SelectMany(p => p.Settings.Keys).Distinct()
            .Where(a => models.Select(m => m.Settings.GetValueOrDefault(a)).Distinct().Count() > 1).ToArray();
        var meanSeconds = seconds.Where(kv => kv.Value.Count > 0).ToDictionary(kv => kv.Key, kv => kv.Value.Average());
        return new SweepReportResult(sweepName, gap, axes, points.Count, points.Count(p => p.Status == PointStatus.Done),
            points.Count(p => p.Status == PointStatus.Failed), models, Rank(models, axes, meanSeconds))
            { ReachedTargetOnly = reachedTargetOnly };
    }

    /// <summary>
    /// The ranking rows of every computed and derived measure some model has, best τ first. A derived measure's time is
    /// the sum of its inputs' (it costs nothing more).
    /// </summary>
    public static IReadOnlyList<RankingRow> Rank(IReadOnlyList<ReportedModel> models, IReadOnlyList<string> axes,
        IReadOnlyDictionary<string, double> meanSeconds)
    {
        var time = new Dictionary<string, double>(meanSeconds);
        foreach (var d in MeasureRegistry.Derived)
            time[d.Name] = d.Inputs.Sum(i => time.GetValueOrDefault(i, double.NaN));
        var names = MeasureRegistry.Names.Concat(MeasureRegistry.Derived.Select(d => d.Name))
            .Where(n => models.Any(m => m.Original.ContainsKey(n))).ToArray();
        return names.Select(n =>
        {
            var facts = MeasureRegistry.FactsOf(n);
            return new RankingRow(n, facts.Invariance, facts.Cost,
                Score(models, axes, m => m.Original.GetValueOrDefault(n, double.NaN)),
                Score(models, axes, m => m.Reparametrized.GetValueOrDefault(n, double.NaN)),
                MaxRelativeChange(models, n),
                time.GetValueOrDefault(n, double.NaN));
        }).OrderByDescending(r => double.IsNaN(r.Original.Tau) ? double.NegativeInfinity : r.Original.Tau).ToArray();
    }

    /// <summary>m from a run's config: its "samples" (the first N training examples); NaN when absent or null.</summary>
    public static double TrainingExamples(JsonElement config) =>
        config.ValueKind == JsonValueKind.Object && config.TryGetProperty("samples", out var s) && s.ValueKind == JsonValueKind.Number
            ? s.GetDouble() : double.NaN;

    static MeasureScore Score(IReadOnlyList<ReportedModel> models, IReadOnlyList<string> axes, Func<ReportedModel, double> value)
    {
        var scored = models.Select(m => new ScoredModel(m.Settings, value(m), m.Gap)).ToArray();
        var tau = KendallTau.TauB(scored.Select(s => s.Measure).ToArray(), scored.Select(s => s.Gap).ToArray());
        var psi = GranulatedKendall.Score(scored, axes);
        return new MeasureScore(tau, psi.Psi, psi.PerAxis, ConditionalMutualInformation.Score(scored, axes),
            scored.Count(s => !double.IsNaN(s.Measure)));
    }

    static double MaxRelativeChange(IReadOnlyList<ReportedModel> models, string measure)
    {
        double worst = 0;
        foreach (var m in models)
        {
            double a = m.Original.GetValueOrDefault(measure, double.NaN), b = m.Reparametrized.GetValueOrDefault(measure, double.NaN);
            if (double.IsNaN(a) || double.IsNaN(b)) continue;
            if (a == b) continue;   // includes equal infinities
            worst = Math.Max(worst, Math.Abs(a - b) / Math.Max(Math.Abs(a), 1e-300));
        }
        return worst;
    }
}
