using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Basin.Experiments.Robustness;
using Basin.IO;

using static Basin.Experiments.Reports.VegaLite;

namespace Basin.Experiments.Reports;

/// <summary>
/// The report page of a `basin robustness` folder: the models with their clean and corrupted accuracy and flip AUCs;
/// accuracy and the medians of θ_y, ‖h‖ and the geometric margin against severity for a corruption picked from a list;
/// method similarity and benchmark redundancy as sortable tables; the most fragile and most robust samples; and the
/// per-sample geometry (θ_y against ‖h‖) of every model side by side with linked selection: samples dragged over in one
/// model's view are highlighted in every other's, on the clean set or a corrupted one picked from a list.
/// </summary>
public sealed record RobustnessPage(string Title, string FileStem, string Html, IReadOnlyList<PageChart> Charts,
    IReadOnlyList<string> Notes, RobustnessResult Result) : IReportPage
{
    /// <summary>The file the robustness job writes its result to.</summary>
    public const string ResultFile = "result.json";

    /// <summary>The most samples the linked per-sample views hold (the first ones of the test set).</summary>
    public const int SampleLimit = 500;

    /// <summary>Reads the result of the robustness job in <paramref name="folder"/>.</summary>
    public static RobustnessResult Read(string folder)
    {
        var path = Path.Combine(folder, ResultFile);
        if (!Directory.Exists(folder)) throw new BasinException($"no folder {Path.GetFullPath(folder)}");
        if (!File.Exists(path))
            throw new BasinException($"{Path.GetFullPath(folder)} has no {ResultFile}: name the --out folder of 'basin robustness'");
        try
        {
            return JsonSerializer.Deserialize<RobustnessResult>(File.ReadAllText(path), Json.Options) is { Runs.Count: > 0 } r
                ? r : throw new BasinException($"{path} holds no runs");
        }
        catch (JsonException e)
        {
            throw new BasinException($"{path} is not a robustness result: {e.Message}");
        }
    }

    /// <summary>
    /// The page of the result in <paramref name="folder"/>; <paramref name="labels"/> names runs (e.g. "imp s1"; else the id).
    /// The per-sample views show the clean set and every corruption at <paramref name="severity"/> (default: 3, or the
    /// nearest the result has).
    /// </summary>
    public static RobustnessPage Build(string folder, IReadOnlyDictionary<string, string> labels, DateTime generatedUtc, string version,
        string fileStem, int? severity = null) => Build(folder, Read(folder), labels, generatedUtc, version, fileStem, severity);

    /// <summary>The page of <paramref name="result"/>, already read from <paramref name="folder"/> (<see cref="Read"/>).</summary>
    public static RobustnessPage Build(string folder, RobustnessResult result, IReadOnlyDictionary<string, string> labels,
        DateTime generatedUtc, string version, string fileStem, int? severity = null)
    {
        int s = severity ?? result.Severities.OrderBy(x => Math.Abs(x - 3)).ThenBy(x => x).First();
        if (!result.Severities.Contains(s))
            throw new OptionException("severity",
                $"severity {s} was not evaluated (the result has {string.Join(", ", result.Severities)})");
        string Label(string id) => labels.GetValueOrDefault(id) is { } l ? $"{l} ({id})" : id;
        var notes = new List<string>();
        var charts = new List<PageChart> { Curves(result, Label) };
        if (RobustnessSampleViews.Samples(folder, result, s, Label, notes) is { } samples) charts.Add(samples);
        var figures = JobImages(folder, notes);
        var title = $"Basin robustness: {result.Runs.Count} models on {result.Corruptions.Count} corruptions of {result.Dataset}";
        var h = new StringBuilder();
        PageHtml.Notes(h, notes);
        Models(h, result, Label);
        PageHtml.Charts(h, charts.Take(1), "Accuracy and geometry against severity", fileStem);
        if (charts.Count > 1)
        {
            h.Append(CultureInfo.InvariantCulture, $"<h2>Per-sample geometry, side by side</h2>\n<p>One point per test sample (the first ")
                .Append(CultureInfo.InvariantCulture, $"{Math.Min(SampleLimit, result.Samples)}): the angle θ_y between its penultimate ")
                .Append("features h and its class's weights W_y, against the length ‖h‖. Drag over points in any model's view to ")
                .Append("select those samples: they are highlighted in every view (views with a selection intersect); click ")
                .Append(CultureInfo.InvariantCulture, $"elsewhere to clear. Pick the clean set or a corruption at severity {s} below ")
                .Append("the views. Values are kept to 6 significant digits here; the exact ones are in the geometry-RUN.csv files ")
                .Append("beside result.json.</p>\n");
            PageHtml.Charts(h, charts.Skip(1), "", fileStem);
        }
        JobFigures(h, figures);
        Similarity(h, result, Label);
        Redundancy(h, result);
        Extremes(h, result);
        return new RobustnessPage(title, fileStem, PageHtml.Document(title, h.ToString(), charts, generatedUtc, version), charts, notes,
            result);
    }

    /// <summary>The PNGs the robustness job draws over all models, where the folder has them, embedded.</summary>
    public static readonly string[] JobFigureFiles = ["heatmap.png", "dendrogram.png", "samples.png"];

    /// <summary>Those of <see cref="JobFigureFiles"/> the folder has (a result of an older version lacks some), read.</summary>
    static List<ReportImage> JobImages(string folder, List<string> notes) =>
        JobFigureFiles.Where(f => File.Exists(Path.Combine(folder, f))).Select(f => FolderContents.Image(folder, f, notes))
            .OfType<ReportImage>().ToList();

    static void JobFigures(StringBuilder h, IReadOnlyList<ReportImage> images)
    {
        if (images.Count == 0) return;
        h.Append("<h2>Figures of the job</h2>\n<p class=\"meta\">Accuracy per model and corruption (heat map), the methods ")
            .Append("clustered by per-sample agreement (dendrogram), and the most fragile and most robust test samples, clean ")
            .Append("and corrupted (thumbnails).</p>\n");
        FolderViews.Images(h, images);
    }

    static string E(string s) => PageHtml.E(s);

    static string Cell(string row, string figure, double v) => PageHtml.Fixed(row, figure, v);

    static void Models(StringBuilder h, RobustnessResult r, Func<string, string> label)
    {
        h.Append(CultureInfo.InvariantCulture, $"<p>{r.Samples} test samples of {E(r.Dataset)}; corruptions seeded with {r.Seed}: ")
            .Append($"{E(string.Join(", ", r.Corruptions))}; severities {E(string.Join(", ", r.Severities))}.</p>\n")
            .Append("<h2>Models</h2>\n<div class=\"wide\"><table id=\"models\" class=\"sortable\">\n<tr><th>model</th><th>kind</th>")
            .Append("<th>architecture</th>")
            .Append("<th>weight sparsity</th><th>clean accuracy</th><th>mean corrupted accuracy</th><th>flip AUC (angle)</th>")
            .Append("<th>flip AUC (length)</th><th>fragility AUC (margin)</th></tr>\n");
        foreach (var m in r.Runs)
            h.Append($"<tr><th>{E(label(m.RunId))}</th><td>{E(m.Kind)}</td><td>{E(m.Model)}</td>")
                .Append(Cell(m.RunId, "weightSparsity", m.WeightSparsity)).Append(Cell(m.RunId, "cleanAccuracy", m.CleanAccuracy))
                .Append(Cell(m.RunId, "meanCorruptedAccuracy", m.MeanCorruptedAccuracy))
                .Append(Cell(m.RunId, "flipAucAngle", m.FlipAucAngle)).Append(Cell(m.RunId, "flipAucLength", m.FlipAucLength))
                .Append(Cell(m.RunId, "fragilityAucMargin", m.FragilityAucMargin)).Append("</tr>\n");
        h.Append("</table></div>\n<p class=\"meta\">Flip AUC: among samples a model gets right on the clean set, how well the rise of ")
            .Append("θ_y (or the fall of ‖h‖) under a corruption predicts that the sample turns wrong. Fragility AUC: how well a ")
            .Append("small clean geometric margin predicts that a sample is wrong on most corrupted sets.</p>\n");
    }

    static void Similarity(StringBuilder h, RobustnessResult r, Func<string, string> label)
    {
        h.Append("<h2>Method similarity</h2>\n<p>How often two models are both right or both wrong on a sample (agreement) and ")
            .Append("Cohen's κ, on the clean set and over every corrupted set.</p>\n<div class=\"wide\"><table id=\"similarity\" ")
            .Append("class=\"sortable\">\n<tr><th>model A</th><th>model B</th><th>clean agreement</th><th>clean κ</th>")
            .Append("<th>corrupted agreement</th><th>corrupted κ</th></tr>\n");
        foreach (var p in r.Similarity)
        {
            var key = p.A + "|" + p.B;
            h.Append($"<tr><td>{E(label(p.A))}</td><td>{E(label(p.B))}</td>")
                .Append(Cell(key, "cleanAgreement", p.Clean.Fraction)).Append(Cell(key, "cleanKappa", p.Clean.Kappa))
                .Append(Cell(key, "corruptedAgreement", p.Corrupted.Fraction)).Append(Cell(key, "corruptedKappa", p.Corrupted.Kappa))
                .Append("</tr>\n");
        }
        h.Append("</table></div>\n");
    }

    static void Redundancy(StringBuilder h, RobustnessResult r)
    {
        h.Append("<h2>Benchmark redundancy</h2>\n<p>Pairs of corruptions: the correlation of their accuracy drops over (model, ")
            .Append("severity) and the overlap (Jaccard) of the samples they make fail; redundant when the correlation exceeds ")
            .Append("0.9.</p>\n<details><summary>All pairs</summary>\n<table id=\"redundancy\" class=\"sortable\">\n")
            .Append("<tr><th>corruption A</th>")
            .Append("<th>corruption B</th><th>drop correlation</th><th>failure Jaccard</th><th>redundant</th></tr>\n");
        foreach (var p in r.Redundancy)
            h.Append($"<tr><td>{E(p.A)}</td><td>{E(p.B)}</td>").Append(Cell(p.A + "|" + p.B, "dropCorrelation", p.DropCorrelation))
                .Append(Cell(p.A + "|" + p.B, "failureJaccard", p.FailureJaccard))
                .Append($"<td>{(p.Redundant ? "yes" : "no")}</td></tr>\n");
        h.Append("</table>\n</details>\n");
    }

    static void Extremes(StringBuilder h, RobustnessResult r)
    {
        h.Append("<h2>Most fragile and most robust samples</h2>\n<p>The fraction of (model, corrupted set) cells where the sample ")
            .Append("is classified correctly, and how many models get it right when clean.</p>\n<div class=\"charts\">\n");
        foreach (var (name, list) in new[] { ("most fragile", r.MostFragile), ("most robust", r.MostRobust) })
        {
            h.Append($"<table class=\"sortable samples\"><tr><th>{E(name)}: sample</th><th>label</th><th>correct fraction</th>")
                .Append("<th>clean correct models</th></tr>\n");
            foreach (var x in list)
                h.Append(CultureInfo.InvariantCulture, $"<tr><td class=\"num\" data-value=\"{x.Sample}\">{x.Sample}</td>")
                    .Append(CultureInfo.InvariantCulture, $"<td class=\"num\" data-value=\"{x.Label}\">{x.Label}</td>")
                    .Append(Cell("sample " + x.Sample, "correctFraction", x.CorrectFraction))
                    .Append(CultureInfo.InvariantCulture,
                        $"<td class=\"num\" data-value=\"{x.CleanCorrectRuns}\">{x.CleanCorrectRuns}</td></tr>\n");
            h.Append("</table>\n");
        }
        h.Append("</div>\n");
    }

    /// <summary>
    /// Per (model, corruption, severity): accuracy and the medians of θ_y, ‖h‖ and the geometric margin, with the clean set
    /// as severity 0 of every corruption; the corruption and the figure are picked below the chart.
    /// </summary>
    static TableChart Curves(RobustnessResult r, Func<string, string> label)
    {
        var figures = new (string Name, Func<CellSummary, double> Value)[]
        {
            ("accuracy", c => c.Accuracy), ("median θ_y (degrees)", c => c.MedianThetaY), ("median ‖h‖", c => c.MedianFeatureNorm),
            ("median geometric margin", c => c.MedianGeometricMargin),
        };
        var rows = new List<object?[]>();
        foreach (var m in r.Runs)
        {
            var clean = m.Cells.FirstOrDefault(c => c.Severity == 0);
            foreach (var corruption in r.Corruptions)
                foreach (var c in (clean is null ? [] : new[] { clean }).Concat(m.Cells.Where(c => c.Corruption == corruption)))
                    foreach (var (name, value) in figures)
                        rows.Add([label(m.RunId), corruption, c.Severity, name, value(c)]);
        }
        var layout = new JsonObject
        {
            ["title"] = "Against severity (0 = clean)",
            ["width"] = 440,
            ["height"] = 300,
            ["params"] = new JsonArray(
                Select("corruption", r.Corruptions[0], r.Corruptions, "corruption "),
                Select("figure", figures[0].Name, figures.Select(f => f.Name).ToList(), "figure "),
                Zoom(),
                LegendToggle("run")),
            ["transform"] = new JsonArray(new JsonObject { ["filter"] = "datum.corruption == corruption && datum.figure == figure" }),
            ["mark"] = new JsonObject { ["type"] = "line", ["point"] = true },
            ["encoding"] = new JsonObject
            {
                ["x"] = new JsonObject { ["field"] = "severity", ["type"] = "quantitative", ["axis"] = new JsonObject
                    { ["values"] = new JsonArray(r.Severities.Prepend(0).Select(v => (JsonNode)v).ToArray()) } },
                ["y"] = new JsonObject { ["field"] = "value", ["type"] = "quantitative", ["scale"] = new JsonObject { ["zero"] = false },
                    ["title"] = "the chosen figure" },
                ["color"] = new JsonObject { ["field"] = "run", ["type"] = "nominal", ["title"] = "model",
                    ["scale"] = new JsonObject { ["scheme"] = "tableau20" } },
                ["opacity"] = ToggleOpacity(1, 0.15),
                ["tooltip"] = new JsonArray(Field("run", "nominal"), Field("corruption", "nominal"), Field("severity", "quantitative"),
                    Field("figure", "nominal"), Number("value")),
            },
            ["config"] = BottomLegend(),
        };
        return new TableChart("severity", "Against severity", ["run", "corruption", "severity", "figure", "value"], rows, layout);
    }

}
