using System.Globalization;
using System.Text.Json.Nodes;
using Basin.Experiments.Robustness;

using static Basin.Experiments.Reports.VegaLite;

namespace Basin.Experiments.Reports;

/// <summary>
/// The robustness page's linked per-sample views: every model's θ_y against ‖h‖ for the first
/// <see cref="RobustnessPage.SampleLimit"/> test samples, side by side, from the job's geometry-RUN.csv files.
/// </summary>
static class RobustnessSampleViews
{
    /// <summary>
    /// The linked per-sample views: one row per (sample, set) with every model's θ_y (t0, t1, …), ‖h‖ (h0, …), geometric
    /// margin (g0, …) and outcome (o0, …: "right"/"wrong"); one view per model, each with its own brush, every point
    /// coloured by its model's outcome where it lies in every active brush and grey elsewhere. Null (with a note) when no
    /// model's per-sample file can be read.
    /// </summary>
    public static TableChart? Samples(string folder, RobustnessResult r, int severity, Func<string, string> label, List<string> notes)
    {
        var sets = new List<string> { "clean" };
        sets.AddRange(r.Corruptions.Select(c => $"{c} {severity}"));
        int n = Math.Min(RobustnessPage.SampleLimit, r.Samples);
        var models = new List<(RunRobustness Run, Dictionary<(string Set, int Sample), (int Label, double Theta, double Norm, double Margin,
            bool Right)> Rows)>();
        foreach (var m in r.Runs)
        {
            var path = Path.Combine(folder, Path.GetFileName(m.GeometryCsv));
            if (!File.Exists(path))
            {
                notes.Add($"{Path.GetFileName(path)} is missing from {Path.GetFullPath(folder)}: the per-sample view of {label(m.RunId)} " +
                    "is left out");
                continue;
            }
            models.Add((m, ReadGeometry(path, severity, n)));
        }
        if (models.Count == 0) return null;
        var columns = new List<string> { "sample", "label", "set" };
        for (int i = 0; i < models.Count; i++) columns.AddRange([$"t{i}", $"h{i}", $"g{i}", $"o{i}"]);
        var rows = new List<object?[]>();
        foreach (var set in sets)
            for (int s = 0; s < n; s++)
            {
                var row = new object?[columns.Count];
                (row[0], row[2]) = (s, set);
                for (int i = 0; i < models.Count; i++)
                    if (models[i].Rows.TryGetValue((set, s), out var g))
                    {
                        row[1] = g.Label;
                        (row[3 + 4 * i], row[4 + 4 * i], row[5 + 4 * i], row[6 + 4 * i]) =
                            (Short(g.Theta), Short(g.Norm), Short(g.Margin), g.Right ? "right" : "wrong");
                    }
                if (row[1] is not null) rows.Add(row);
            }
        var all = new JsonObject { ["and"] = new JsonArray(Enumerable.Range(0, models.Count).Select(i => (JsonNode)new JsonObject
            { ["param"] = $"brush{i}" }).ToArray()) };
        var views = new JsonArray();
        for (int i = 0; i < models.Count; i++)
        {
            // Axes fixed per model over all its sets: switching sets keeps them, and a set whose features are all zero (θ_y
            // undefined) leaves an empty view instead of an axis without extent.
            var thetas = models[i].Rows.Values.Select(g => g.Theta).Where(double.IsFinite).DefaultIfEmpty(double.NaN).ToArray();
            var norms = models[i].Rows.Values.Select(g => g.Norm).Where(double.IsFinite).DefaultIfEmpty(double.NaN).ToArray();
            if (double.IsNaN(thetas[0]))
                notes.Add($"every sample's features are zero for {label(models[i].Run.RunId)}: θ_y is undefined and its view is empty");
            JsonArray Domain(double[] v, double low, double high) => double.IsNaN(v[0]) ? new JsonArray(low, high) : new JsonArray(v.Min(),
                Math.Max(v.Max(), v.Min() + 1e-9));
            views.Add(new JsonObject
            {
                ["title"] = label(models[i].Run.RunId),
                ["width"] = 240,
                ["height"] = 200,
                ["params"] = new JsonArray(new JsonObject
                {
                    ["name"] = $"brush{i}", ["select"] = new JsonObject { ["type"] = "interval", ["clear"] = "dblclick" },
                }),
                ["mark"] = new JsonObject { ["type"] = "point", ["size"] = 14, ["filled"] = true },
                ["encoding"] = new JsonObject
                {
                    ["x"] = new JsonObject { ["field"] = $"t{i}", ["type"] = "quantitative", ["title"] = "θ_y (degrees)",
                        ["scale"] = new JsonObject { ["domain"] = Domain(thetas, 0, 180), ["nice"] = true } },
                    ["y"] = new JsonObject { ["field"] = $"h{i}", ["type"] = "quantitative", ["title"] = "‖h‖",
                        ["scale"] = new JsonObject { ["domain"] = Domain(norms, 0, 1), ["nice"] = true } },
                    ["color"] = new JsonObject
                    {
                        ["condition"] = new JsonObject
                        {
                            ["test"] = all.DeepClone(), ["field"] = $"o{i}", ["type"] = "nominal", ["title"] = "outcome",
                            ["scale"] = new JsonObject { ["domain"] = new JsonArray("right", "wrong"),
                                ["range"] = new JsonArray("#1f77b4", "#d62728") },
                        },
                        ["value"] = "#d9d9d9",
                    },
                    ["opacity"] = new JsonObject { ["condition"] = new JsonObject { ["test"] = all.DeepClone(), ["value"] = 0.8 },
                        ["value"] = 0.3 },
                    ["tooltip"] = new JsonArray(Field("sample", "quantitative"), Field("label", "quantitative"), Field("set", "nominal"),
                        Num($"t{i}", "θ_y"), Num($"h{i}", "‖h‖"), Num($"g{i}", "geometric margin"), Field($"o{i}", "nominal")),
                },
            });
        }
        var layout = new JsonObject
        {
            ["title"] = "θ_y against ‖h‖ per sample (drag to select; the selection is shown in every view)",
            ["params"] = new JsonArray(Select("set", "clean", sets, "set ")),
            ["transform"] = new JsonArray(new JsonObject { ["filter"] = "datum.set == set" }),
            ["columns"] = 3,
            ["concat"] = views,
            ["config"] = new JsonObject { ["legend"] = new JsonObject { ["orient"] = "bottom" } },
        };
        return new TableChart("samples", "Per-sample geometry", columns, rows, layout);
    }

    /// <summary>
    /// A per-sample value as the linked views hold it: 6 significant digits, which keeps a page of many models small (the
    /// exact values are in the robustness folder's geometry-RUN.csv files).
    /// </summary>
    static double Short(double v) => double.IsFinite(v) ? double.Parse(v.ToString("G6", CultureInfo.InvariantCulture),
        CultureInfo.InvariantCulture) : v;

    static JsonObject Num(string field, string title) => new()
    {
        ["field"] = field, ["type"] = "quantitative", ["title"] = title, ["format"] = ".4g",
    };

    /// <summary>
    /// The clean rows and those at <paramref name="severity"/> of samples below <paramref name="n"/> of a per-sample CSV.
    /// </summary>
    static Dictionary<(string, int), (int, double, double, double, bool)> ReadGeometry(string path, int severity, int n)
    {
        var rows = new Dictionary<(string, int), (int, double, double, double, bool)>();
        using var reader = new StreamReader(path);
        var header = (reader.ReadLine() ?? "").Split(',');
        int Col(string name) => Array.IndexOf(header, name) is var i and >= 0 ? i
            : throw new BasinException($"{path} has no column '{name}': not a per-sample geometry file of 'basin robustness'");
        int corruption = Col("corruption"), sev = Col("severity"), sample = Col("sample"), label = Col("label"), correct = Col("correct"),
            theta = Col("theta_y_deg"), norm = Col("h_norm"), margin = Col("geo_margin");
        double D(string s) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d
            : throw new BasinException($"{path}: '{s}' is not a number");
        int I(string s) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i
            : throw new BasinException($"{path}: '{s}' is not a whole number");
        for (string? line; (line = reader.ReadLine()) is not null;)
        {
            if (line.Length == 0) continue;
            var c = line.Split(',');
            if (c.Length < header.Length) throw new BasinException($"{path}: a row has {c.Length} cells, the header {header.Length}");
            int s = I(c[sample]), v = I(c[sev]);
            if (s >= n || (v != 0 && v != severity)) continue;
            var set = v == 0 ? "clean" : $"{c[corruption]} {v}";
            rows[(set, s)] = (I(c[label]), D(c[theta]), D(c[norm]), D(c[margin]), c[correct] == "1");
        }
        return rows;
    }

}
