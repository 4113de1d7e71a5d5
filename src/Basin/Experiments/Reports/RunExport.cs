using System.Globalization;
using System.Text;
using System.Text.Json;
using Basin.IO;

namespace Basin.Experiments.Reports;

/// <summary>
/// A table of the run database: <see cref="Columns"/> and one row of cells per run or per epoch (an absent value is
/// null). Config and final figures are flattened to "config.KEY" and "final.KEY" columns (nested objects as KEY.SUB,
/// arrays as JSON text); numbers keep their stored text, so they round-trip.
/// </summary>
public sealed record ExportTable(IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string?>> Rows)
{
    /// <summary>The table as CSV (RFC 4180 quoting; an absent value is an empty cell).</summary>
    public string Csv()
    {
        var sb = new StringBuilder();
        sb.Append(string.Join(',', Columns.Select(Cell))).Append('\n');
        foreach (var row in Rows) sb.Append(string.Join(',', row.Select(c => Cell(c ?? "")))).Append('\n');
        return sb.ToString();
    }

    static string Cell(string s) =>
        s.IndexOfAny([',', '"', '\n', '\r']) < 0 ? s : "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>The rows as objects, column to cell, for JSON.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string?>> Objects() =>
        Rows.Select(r => (IReadOnlyDictionary<string, string?>)Columns.Select((c, i) => (c, r[i])).ToDictionary(x => x.c, x => x.Item2))
            .ToList();
}

/// <summary>The runs table (one row per run: labels, config, final figures) and the per-epoch table of an export.</summary>
public sealed record RunExport(ExportTable Runs, ExportTable Epochs)
{
    static readonly string[] Labels = ["id", "kind", "status", "method", "name", "model", "dataset", "seed", "createdUtc", "finishedUtc"];

    /// <summary>
    /// The export of runs <paramref name="ids"/> (unique prefixes accepted), or of every run (newest first) when none is
    /// named. An unknown id is an error.
    /// </summary>
    public static RunExport Of(RunStore store, IReadOnlyList<string> ids)
    {
        var runs = ids.Count == 0 ? store.List().Select(s => store.Get(s.Id)).ToList() : ids.Select(store.Get).ToList();
        var rows = runs.Select(r =>
        {
            var s = r.Summary;
            var cells = new Dictionary<string, string?>
            {
                ["id"] = s.Id, ["kind"] = s.Kind, ["status"] = s.Status, ["method"] = s.Method, ["name"] = s.Name, ["model"] = s.Model,
                ["dataset"] = s.Dataset, ["seed"] = s.Seed.ToString(CultureInfo.InvariantCulture),
                ["createdUtc"] = s.CreatedUtc.ToString("O", CultureInfo.InvariantCulture),
                ["finishedUtc"] = s.FinishedUtc?.ToString("O", CultureInfo.InvariantCulture),
            };
            Flatten(r.Config, "config.", cells);
            if (s.Final is { } f) Flatten(f, "final.", cells);
            return cells;
        }).ToList();
        var epochRows = runs.SelectMany(r => r.Epochs.Select(e =>
        {
            var cells = new Dictionary<string, string?> { ["run"] = r.Summary.Id };
            Flatten(e, "", cells);
            return cells;
        })).ToList();
        return new RunExport(Table(Labels, rows), Table(["run"], epochRows));
    }

    /// <summary>A table whose columns are <paramref name="first"/> then every other key in first-seen order.</summary>
    static ExportTable Table(IReadOnlyList<string> first, List<Dictionary<string, string?>> rows)
    {
        var columns = first.Concat(rows.SelectMany(r => r.Keys)).Distinct(StringComparer.Ordinal).ToList();
        return new ExportTable(columns, rows.Select(r => (IReadOnlyList<string?>)columns.Select(c => r.GetValueOrDefault(c)).ToList())
            .ToList());
    }

    /// <summary>The leaves of a JSON object as "key" / "outer.inner" → text (null values left out), in document order.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Settings(JsonElement e)
    {
        var cells = new Dictionary<string, string?>();
        Flatten(e, "", cells);
        return cells.Where(c => c.Value is not null && c.Key.Length > 0).Select(c => new KeyValuePair<string, string>(c.Key, c.Value!))
            .ToList();
    }

    /// <summary>Adds the leaves of <paramref name="e"/> as PREFIX.KEY cells (an object that is not one is PREFIX alone).</summary>
    internal static void Flatten(JsonElement e, string prefix, Dictionary<string, string?> cells)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            cells[prefix.TrimEnd('.')] = Text(e);
            return;
        }
        foreach (var p in e.EnumerateObject())
        {
            if (p.Value.ValueKind == JsonValueKind.Object) Flatten(p.Value, prefix + p.Name + ".", cells);
            else cells[prefix + p.Name] = Text(p.Value);
        }
    }

    static string? Text(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.String => v.GetString(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => v.GetRawText(),
    };

    /// <summary>Writes runs.csv and epochs.csv into <paramref name="folder"/> (atomically); returns their paths.</summary>
    public (string Runs, string Epochs) WriteCsv(string folder)
    {
        var full = Path.GetFullPath(folder);
        if (File.Exists(full)) throw new BasinException($"the output folder {full} is a file");
        var runs = Path.Combine(full, "runs.csv");
        var epochs = Path.Combine(full, "epochs.csv");
        AtomicFile.WriteAllText(runs, Runs.Csv());
        AtomicFile.WriteAllText(epochs, Epochs.Csv());
        return (runs, epochs);
    }
}
