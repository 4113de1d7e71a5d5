using System.Globalization;
using System.Text.Json;
using Basin.Experiments.Training;

namespace Basin.Experiments.Reports;

/// <summary>
/// One epoch as a report shows it; a figure that was not measured (or is NaN) is null. Besides the common figures: the
/// mean training objective over the epoch's batches (the method's own loss: SAM's perturbed loss, FAM's penalized one)
/// and, for pruning rounds, the dead-neuron rate (all units, and without the units the mask cut off).
/// </summary>
public sealed record ReportEpoch(int Epoch, double? TrainLoss, double? TrainAccuracy, double? TestLoss, double? TestAccuracy,
    double? Gap, double? AccuracyGap, double? LearningRate)
{
    public double? Objective { get; init; }
    public double? Dnr { get; init; }
    public double? DnrExcludingStructural { get; init; }
}

/// <summary>An m-coherence measurement of a training run (coherence.csv): at a step of an epoch, over some examples.</summary>
public sealed record CoherencePoint(int Epoch, long Step, long Examples, double Value);

/// <summary>A round of the pruning series a prune run belongs to: weight sparsity, accuracies and dead-neuron rate.</summary>
public sealed record PruneSeriesRound(int Round, string RunId, double Sparsity, double? TrainAccuracy, double? TestAccuracy,
    double? Dnr);

/// <summary>A named number of a run: a final figure ("testAccuracy") or a stored measure ("kappa-tr (original)").</summary>
public sealed record ReportFigure(string Name, double? Value);

/// <summary>
/// What a report shows of one run: its labels, config and versions, per-epoch metrics, final figures, stored measures,
/// and notes about what is missing (a run folder or file that is not there).
/// </summary>
public sealed record RunReport(string Id, string Kind, string Status, string Method, string? Model, string? Dataset, long Seed,
    DateTime CreatedUtc, DateTime? FinishedUtc, string? Message, string ConfigJson, IReadOnlyList<KeyValuePair<string, string>> Versions,
    IReadOnlyList<ReportEpoch> Epochs, IReadOnlyList<ReportFigure> Final, IReadOnlyList<StoredMeasure> Measures,
    IReadOnlyList<string> Notes)
{
    /// <summary>m-coherence over training (runs that measured it; from the run folder's coherence.csv).</summary>
    public IReadOnlyList<CoherencePoint> Coherence { get; init; } = [];

    /// <summary>An SGLD run's posterior-predictive ensemble and each collected sample's scores on the test set.</summary>
    public Basin.Training.Methods.EnsembleEvaluation? Ensemble { get; init; }

    /// <summary>
    /// For a prune run: every round of its series (the same source run, method and settings; round 0 is the dense source),
    /// the latest run of each round.
    /// </summary>
    public IReadOnlyList<PruneSeriesRound> PruneSeries { get; init; } = [];

    /// <summary>A GAN run's per-iteration states (empty for other kinds).</summary>
    public IReadOnlyList<GanIteration> Iterations { get; init; } = [];

    /// <summary>What other jobs left in the run folder: images, GAN interpolations, landscapes, connectivity.</summary>
    public FolderContents Contents { get; init; } = FolderContents.Empty;

    /// <summary>The final figures followed by the measures, each named "measure (variant)": the rows of a comparison table.</summary>
    public IReadOnlyList<ReportFigure> Figures =>
        Final.Concat(Measures.Select(m => new ReportFigure($"{m.Measure} ({m.Variant})", m.Value))).ToList();

    /// <summary>
    /// Reads run <paramref name="idOrPrefix"/> from <paramref name="store"/>: per-epoch metrics from the run database, or
    /// from the run folder's epochs.csv when the database has none. Files a training run leaves (its folder, epochs.csv,
    /// weights) that are missing are named in <see cref="Notes"/>.
    /// </summary>
    public static RunReport Load(RunStore store, string idOrPrefix)
    {
        var details = store.Get(idOrPrefix);
        var s = details.Summary;
        var notes = new List<string>();
        var epochs = details.Epochs.Select(FromJson).Where(e => e is not null).Select(e => e!).ToList();
        var folder = store.RunFolder(s.Id);
        if (!Directory.Exists(folder))
            notes.Add($"the run folder {folder} is missing: only what the run database holds is shown");
        else if (s.Kind == "train")
        {
            var csv = Path.Combine(folder, TrainingJob.EpochsFile);
            if (!File.Exists(csv)) notes.Add($"{TrainingJob.EpochsFile} is missing from {folder}");
            else if (epochs.Count == 0)
            {
                epochs = ReadEpochsCsv(csv);
                notes.Add($"the run database holds no per-epoch metrics: they were read from {csv}");
            }
            if (s.Status == RunStatus.Finished && !File.Exists(Path.Combine(folder, TrainingJob.WeightsFile)))
                notes.Add($"{TrainingJob.WeightsFile} is missing from {folder}");
        }
        var iterations = s.Kind == Gan.GanJob.Kind ? GanReport.Iterations(details.Epochs) : [];
        var contents = Directory.Exists(folder) ? FolderContents.Read(folder, notes) : FolderContents.Empty;
        if (epochs.Count == 0 && iterations.Count == 0) notes.Add("no per-epoch metrics are recorded for this run");
        var final = new List<ReportFigure>();
        if (s.Final is { ValueKind: JsonValueKind.Object } f)
            foreach (var p in f.EnumerateObject())
                if (p.Value.ValueKind == JsonValueKind.Number
                    || p.Value.ValueKind == JsonValueKind.String && p.Value.GetString() is "NaN" or "Infinity" or "-Infinity")
                    final.Add(new ReportFigure(p.Name, Number(p.Value)));
        if (s.Final is null) notes.Add("the run has no final figures" + (s.Status == RunStatus.Finished ? "" : $" (it is {s.Status})"));
        var versions = details.Versions.ValueKind == JsonValueKind.Object
            ? details.Versions.EnumerateObject().Select(p => KeyValuePair.Create(p.Name,
                p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() ?? "" : p.Value.GetRawText())).ToList()
            : [];
        return new RunReport(s.Id, s.Kind, s.Status, s.Method ?? s.Kind, s.Model, s.Dataset, s.Seed, s.CreatedUtc, s.FinishedUtc,
            s.Message, JsonSerializer.Serialize(details.Config, Indented), versions, epochs, final, store.Measures(s.Id), notes)
        {
            Coherence = ReadCoherence(Path.Combine(folder, TrainingJob.CoherenceFile), notes),
            Ensemble = ReadEnsemble(Path.Combine(folder, TrainingJob.EnsembleFile), notes),
            PruneSeries = s.Kind == Pruning.PruneJob.Kind ? Series(store, details) : [],
            Iterations = iterations,
            Contents = contents,
        };
    }

    static List<CoherencePoint> ReadCoherence(string path, List<string> notes)
    {
        if (!File.Exists(path)) return [];
        var points = new List<CoherencePoint>();
        foreach (var line in File.ReadLines(path).Skip(1).Where(l => l.Length > 0))
        {
            var c = line.Split(',');
            if (c.Length == 4 && int.TryParse(c[0], CultureInfo.InvariantCulture, out var epoch)
                && long.TryParse(c[1], CultureInfo.InvariantCulture, out var step) && long.TryParse(c[2], CultureInfo.InvariantCulture,
                    out var examples) && double.TryParse(c[3], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                points.Add(new CoherencePoint(epoch, step, examples, value));
            else
            {
                notes.Add($"{path} has a line that is not 'epoch,step,examples,m_coherence': the m-coherence curve stops before it");
                break;
            }
        }
        return points;
    }

    static Basin.Training.Methods.EnsembleEvaluation? ReadEnsemble(string path, List<string> notes)
    {
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<Basin.Training.Methods.EnsembleEvaluation>(File.ReadAllText(path), Basin.IO.Json.Options); }
        catch (JsonException e)
        {
            notes.Add($"{path} cannot be read ({e.Message}): the ensemble chart is left out");
            return null;
        }
    }

    /// <summary>
    /// The series of prune run <paramref name="run"/>: round 0 from its source run's final figures, then the latest finished
    /// prune run of each round of the same job (the same series id; for runs recorded without one, the same source and
    /// pruning settings).
    /// </summary>
    static List<PruneSeriesRound> Series(RunStore store, RunDetails run)
    {
        var c = run.Config;
        if (c.ValueKind != JsonValueKind.Object || !c.TryGetProperty("source", out var source) || !c.TryGetProperty("prune", out var prune))
            return [];
        // Rounds recorded with the job's series id (the id of its round-1 run) match by it exactly; older ones by settings.
        string? series = c.TryGetProperty("series", out var si) && si.ValueKind == JsonValueKind.String ? si.GetString() : null;
        var rounds = new SortedDictionary<int, PruneSeriesRound>();
        foreach (var s in store.List().Where(x => x.Kind == Pruning.PruneJob.Kind && x.Status == RunStatus.Finished)
                     .OrderBy(x => x.CreatedUtc))
        {
            var d = s.Id == run.Summary.Id ? run : store.Get(s.Id);
            bool same = series is not null
                ? d.Config.TryGetProperty("series", out var id) && id.ValueKind == JsonValueKind.String && id.GetString() == series
                : d.Config.TryGetProperty("source", out var src) && src.GetString() == source.GetString()
                  && d.Config.TryGetProperty("prune", out var p) && p.GetRawText() == prune.GetRawText();
            if (!same || !d.Config.TryGetProperty("round", out var round) || s.Final is not { ValueKind: JsonValueKind.Object } f) continue;
            rounds[round.GetInt32()] = Round(round.GetInt32(), s.Id, f);
        }
        if (rounds.Count > 0)
        {
            try
            {
                var dense = store.Get(source.GetString()!).Summary;
                if (dense.Final is { ValueKind: JsonValueKind.Object } f) rounds[0] = Round(0, dense.Id, f) with { Sparsity = 0 };
            }
            catch (BasinException) { }   // the source run was deleted: the series starts at round 1
        }
        return rounds.Values.ToList();
    }

    static PruneSeriesRound Round(int round, string id, JsonElement f)
    {
        double? N(string name) => f.TryGetProperty(name, out var v) ? Number(v) : null;
        double? dnr = f.TryGetProperty("dnr", out var d) && d.ValueKind == JsonValueKind.Object && d.TryGetProperty("overall", out var o)
            ? Number(o) : null;
        return new PruneSeriesRound(round, id, N("sparsity") ?? 0, N("trainAccuracy"), N("testAccuracy"), dnr);
    }

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>A finite number, or null (absent, null, NaN or infinite; Basin stores NaN as the string "NaN").</summary>
    internal static double? Number(JsonElement v)
    {
        double d;
        if (v.ValueKind == JsonValueKind.Number) d = v.GetDouble();
        else if (v.ValueKind != JsonValueKind.String || !double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture,
                     out d)) return null;
        return double.IsFinite(d) ? d : null;
    }

    static ReportEpoch? FromJson(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("epoch", out var ep) || !ep.TryGetInt32(out var epoch)) return null;
        double? N(string name) => e.TryGetProperty(name, out var v) ? Number(v) : null;
        bool evaluated = !e.TryGetProperty("evaluated", out var ev) || ev.ValueKind != JsonValueKind.False;
        double? trainLoss = evaluated ? N("trainLoss") : null, trainAccuracy = evaluated ? N("trainAccuracy") : null;
        double? testLoss = N("testLoss"), testAccuracy = N("testAccuracy");
        // Rows that store the four figures but not the gaps (pruning rounds): the gaps by their definitions.
        return new ReportEpoch(epoch, trainLoss, trainAccuracy, testLoss, testAccuracy, N("gap") ?? testLoss - trainLoss,
            N("accuracyGap") ?? trainAccuracy - testAccuracy, N("learningRate"))
        {
            Objective = N("meanObjective") is > 0 and var o ? o : null,   // 0: not recorded (a cross-entropy objective is positive)
            Dnr = N("dnr"),
            DnrExcludingStructural = N("dnrExcludingStructural"),
        };
    }

    static List<ReportEpoch> ReadEpochsCsv(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) return [];
        var header = lines[0].Split(',');
        int Col(string name) => Array.IndexOf(header, name);
        var byEpoch = new SortedDictionary<int, ReportEpoch>();   // a resumed run appends epochs it ran again: the last wins
        foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
        {
            var cells = line.Split(',');
            double? N(string name) => Col(name) is var i and >= 0 && i < cells.Length && double.TryParse(cells[i], NumberStyles.Float,
                CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d : null;
            if (!int.TryParse(cells[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var epoch)) continue;
            bool evaluated = !(Col("evaluated") is var ei and >= 0 && ei < cells.Length && cells[ei] == "false");
            byEpoch[epoch] = new ReportEpoch(epoch, evaluated ? N("train_loss") : null, evaluated ? N("train_accuracy") : null,
                N("test_loss"), N("test_accuracy"), N("gap"), N("accuracy_gap"), N("learning_rate"));
        }
        return byEpoch.Values.ToList();
    }
}
