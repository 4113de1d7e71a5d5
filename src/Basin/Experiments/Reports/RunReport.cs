using System.Globalization;
using System.Text.Json;
using Basin.Experiments.Training;

namespace Basin.Experiments.Reports;

/// <summary>One epoch as a report shows it; a figure that was not measured (or is NaN) is null.</summary>
public sealed record ReportEpoch(int Epoch, double? TrainLoss, double? TrainAccuracy, double? TestLoss, double? TestAccuracy,
    double? Gap, double? AccuracyGap, double? LearningRate);

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
        if (epochs.Count == 0) notes.Add("no per-epoch metrics are recorded for this run");
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
            s.Message, JsonSerializer.Serialize(details.Config, Indented), versions, epochs, final, store.Measures(s.Id), notes);
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
        return new ReportEpoch(epoch, evaluated ? N("trainLoss") : null, evaluated ? N("trainAccuracy") : null, N("testLoss"),
            N("testAccuracy"), N("gap"), N("accuracyGap"), N("learningRate"));
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
