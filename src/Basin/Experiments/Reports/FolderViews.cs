using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

using static Basin.Experiments.Reports.VegaLite;

namespace Basin.Experiments.Reports;

/// <summary>The HTML of one part of a page and the charts it draws into.</summary>
public sealed record PageSection(string Html, IReadOnlyList<PageChart> Charts)
{
    public static readonly PageSection Empty = new("", []);
}

/// <summary>
/// How a page shows <see cref="FolderContents"/>: images embedded as data URIs; interpolation scores as a table; a 1-D
/// landscape as train and test loss along the direction; a 2-D one as a heat map of the loss (one panel per split); a
/// connectivity result as the loss along the straight line and the trained curve, with their barriers.
/// </summary>
public static class FolderViews
{
    /// <summary>
    /// The part of run <paramref name="r"/>'s report below its curves: a GAN run's per-iteration table, then what other jobs
    /// left in its folder (<see cref="Build"/>).
    /// </summary>
    public static PageSection ForRun(RunReport r, string idPrefix, string fileStem)
    {
        var folder = Build(r.Contents, r.Id, idPrefix, fileStem);
        return folder with { Html = GanReport.Table(r) + folder.Html };
    }

    /// <summary>
    /// The section of <paramref name="contents"/>: its charts' ids start with <paramref name="idPrefix"/>, its number cells
    /// name <paramref name="owner"/> (a run id or a folder) in data-run, and its captions name the CSV files STEM.ID.csv.
    /// </summary>
    public static PageSection Build(FolderContents contents, string owner, string idPrefix, string fileStem)
    {
        if (contents.IsEmpty) return PageSection.Empty;
        var h = new StringBuilder();
        var charts = new List<PageChart>();
        if (contents.Images.Count > 0)
        {
            h.Append("<h3>Images</h3>\n");
            Images(h, contents.Images);
        }
        foreach (var i in contents.Interpolations)
        {
            h.Append($"<h3>Latent interpolation</h3>\n<p class=\"meta\">from {E(i.Folder)}</p>\n");
            if (i.Methods.Count > 0)
            {
                h.Append("<table class=\"interpolation sortable\">\n<tr><th>method</th><th>pairs</th><th>mean length</th>")
                    .Append("<th>mean energy</th><th>mean critic min</th><th>mean critic mean</th></tr>\n");
                foreach (var m in i.Methods)
                {
                    string C(string figure, double? v) => PageHtml.Num(owner, $"interpolation {m.Method} {figure}", v);
                    h.Append(CultureInfo.InvariantCulture, $"<tr><th>{E(m.Method)}</th><td class=\"num\">{m.Pairs}</td>")
                        .Append(C("meanLength", m.MeanLength)).Append(C("meanEnergy", m.MeanEnergy))
                        .Append(C("meanCriticMin", m.MeanCriticMin)).Append(C("meanCriticMean", m.MeanCriticMean)).Append("</tr>\n");
                }
                h.Append("</table>\n");
            }
            Images(h, i.Images);
        }
        for (int k = 0; k < contents.Landscapes.Count; k++)
        {
            var l = contents.Landscapes[k];
            var id = idPrefix + $"landscape-{k + 1}";
            long points = (long)l.Alphas.Count * (l.Betas?.Count ?? 1) * l.Splits.Count;
            var chart = points > MaxChartPoints ? null : l.Dims == 1 ? LandscapeLine(id, l) : LandscapeHeatMap(id, l);
            if (chart is not null) charts.Add(chart);
            h.Append($"<h3>{E(LandscapeTitle(l))}</h3>\n<p class=\"meta\">from {E(l.Folder)}</p>\n<table class=\"landscape\">\n");
            h.Append($"<tr><th>run</th><td>{E(l.Run)}</td></tr>\n");
            if (l.To is not null) h.Append($"<tr><th>towards</th><td>{E(l.To)}</td></tr>\n");
            foreach (var s in l.Splits)
                h.Append(CultureInfo.InvariantCulture, $"<tr><th>{E(s.Split)} examples</th><td class=\"num\">{s.Examples}</td></tr>\n");
            h.Append($"<tr><th>loss at the model</th>{PageHtml.Num(owner, $"{id} ownLoss", l.OwnLoss)}</tr>\n");
            if (l.Barrier is { } b)
                h.Append($"<tr><th>barrier (max over the line)</th>{PageHtml.Num(owner, $"{id} barrier max", b.Max)}</tr>\n")
                    .Append($"<tr><th>barrier (above the chord)</th>{PageHtml.Num(owner, $"{id} barrier chord", b.Chord)}</tr>\n");
            h.Append("</table>\n");
            if (chart is not null) PageHtml.Charts(h, [chart], "", fileStem);
            else
                h.Append(CultureInfo.InvariantCulture, $"<ul class=\"notes\"><li>This slice has {points:N0} points, too many to draw ")
                    .Append(CultureInfo.InvariantCulture, $"in a page (the most is {MaxChartPoints:N0}): its values are in ")
                    .Append($"landscape.csv in {E(l.Folder)}.</li></ul>\n");
        }
        for (int k = 0; k < contents.Connections.Count; k++)
        {
            var c = contents.Connections[k];
            var chart = ConnectChart(idPrefix + $"connect-{k + 1}", c);
            charts.Add(chart);
            h.Append($"<h3>Mode connectivity: {E(c.RunA)} to {E(c.RunB)}, {E(c.Curve)} curve{(c.Aligned ? ", B aligned to A" : "")}</h3>\n")
                .Append($"<p class=\"meta\">from {E(c.Folder)}</p>\n<table class=\"connect\">\n<tr><th>path</th><th>split</th>")
                .Append("<th>barrier (max)</th><th>barrier (above the chord)</th><th>peak at t</th></tr>\n");
            foreach (var p in c.Paths)
            {
                string C(string figure, double? v) => PageHtml.Num(owner, $"{chart.Id} {p.Path} {p.Split} {figure}", v);
                h.Append($"<tr><td>{E(p.Path)}</td><td>{E(p.Split)}</td>{C("barrier max", p.Barrier?.Max)}")
                    .Append($"{C("barrier chord", p.Barrier?.Chord)}{C("peak t", p.Barrier?.PeakT)}</tr>\n");
            }
            h.Append("</table>\n");
            PageHtml.Charts(h, [chart], "", fileStem);
        }
        return new PageSection(h.ToString(), charts);
    }

    /// <summary>The most points (grid points × splits) a landscape chart draws; a larger slice is named instead.</summary>
    public const long MaxChartPoints = 100_000;

    static string E(string s) => PageHtml.E(s);

    /// <summary>Figures of embedded images (data URIs), each captioned with its file and folder.</summary>
    public static void Images(StringBuilder h, IReadOnlyList<ReportImage> images)
    {
        if (images.Count == 0) return;
        h.Append("<div class=\"charts images\">\n");
        foreach (var i in images)
            h.Append($"<figure class=\"image\"><img style=\"max-width: 100%\" alt=\"{E(i.File)}\" src=\"{i.DataUri}\">")
                .Append($"<figcaption class=\"meta\">{E(i.File)} from {E(i.Folder)}</figcaption></figure>\n");
        h.Append("</div>\n");
    }

    /// <summary>"Landscape: 1-D slice, random directions (filter norm), seed 123" and the like.</summary>
    public static string LandscapeTitle(LandscapeSlice l) =>
        $"Landscape: {l.Dims}-D slice, " + (l.Directions == "to" ? $"towards run {l.To}" : $"{l.Directions} directions") +
        (l.Norm is "" or "none" ? "" : $" ({l.Norm} norm)") + (l.Directions == "eigen" ? "" : $", seed {l.Seed}");

    static string AlphaTitle(LandscapeSlice l) => l.Directions == "to" ? $"t (0: run {l.Run}, 1: run {l.To})" : "α (first direction)";

    /// <summary>A 1-D slice: loss against α, a line per split; accuracy in the data and tooltips.</summary>
    public static TableChart LandscapeLine(string id, LandscapeSlice l)
    {
        var rows = l.Splits.SelectMany(s => l.Alphas.Select((a, j) => new object?[] { s.Split, a, s.Loss[0][j], s.Accuracy[0][j] }))
            .ToList();
        var layout = new JsonObject
        {
            ["width"] = 420,
            ["height"] = 280,
            ["mark"] = new JsonObject { ["type"] = "line", ["point"] = true },
            ["params"] = new JsonArray(Zoom(), LegendToggle("split")),
            ["encoding"] = new JsonObject
            {
                ["x"] = new JsonObject { ["field"] = "alpha", ["type"] = "quantitative", ["title"] = AlphaTitle(l) },
                ["y"] = new JsonObject { ["field"] = "loss", ["type"] = "quantitative", ["title"] = "loss",
                    ["scale"] = new JsonObject { ["zero"] = false } },
                ["color"] = new JsonObject { ["field"] = "split", ["type"] = "nominal" },
                ["opacity"] = ToggleOpacity(1, 0.15),
                ["tooltip"] = new JsonArray(Field("split", "nominal"), Number("alpha"), Number("loss"), Number("accuracy")),
            },
            ["config"] = BottomLegend(),
        };
        return new TableChart(id, LandscapeTitle(l), ["split", "alpha", "loss", "accuracy"], rows, layout);
    }

    /// <summary>
    /// A 2-D slice: a heat map of the loss over (α, β), one panel per split, coloured by the loss or (ticked below the
    /// chart) its log10; accuracy in the data and tooltips.
    /// </summary>
    public static TableChart LandscapeHeatMap(string id, LandscapeSlice l)
    {
        var rows = new List<object?[]>();
        foreach (var s in l.Splits)
            for (int i = 0; i < l.Alphas.Count; i++)
                for (int j = 0; j < l.Betas!.Count; j++)
                    rows.Add([s.Split, l.Alphas[i], l.Betas[j], s.Loss[i][j], s.Accuracy[i][j]]);
        JsonObject Axis() => new() { ["format"] = ".3~g", ["formatType"] = "number", ["labelOverlap"] = true };
        var layout = new JsonObject
        {
            ["width"] = 260,
            ["height"] = 260,
            ["mark"] = "rect",
            // The loss grows by orders of magnitude away from the model: its log shows the basin's shape.
            ["params"] = new JsonArray(new JsonObject
            {
                ["name"] = "logLoss", ["value"] = false,
                ["bind"] = new JsonObject { ["input"] = "checkbox", ["name"] = "colour by log10 of the loss " },
            }),
            ["transform"] = new JsonArray(new JsonObject
            {
                ["calculate"] = "logLoss ? (datum.loss > 0 ? log(datum.loss) / LN10 : null) : datum.loss", ["as"] = "colour",
            }),
            ["encoding"] = new JsonObject
            {
                ["column"] = new JsonObject { ["field"] = "split", ["type"] = "nominal", ["title"] = null,
                    ["sort"] = new JsonArray(l.Splits.Select(s => (JsonNode)s.Split).ToArray()) },
                ["x"] = new JsonObject { ["field"] = "alpha", ["type"] = "ordinal", ["title"] = AlphaTitle(l), ["axis"] = Axis() },
                ["y"] = new JsonObject
                {
                    ["field"] = "beta", ["type"] = "ordinal", ["title"] = "β (second direction)", ["sort"] = "descending",
                    ["axis"] = Axis(),
                },
                ["color"] = new JsonObject { ["field"] = "colour", ["type"] = "quantitative", ["title"] = "loss (log10 when ticked)",
                    ["scale"] = new JsonObject { ["scheme"] = "viridis" } },
                ["tooltip"] = new JsonArray(Field("split", "nominal"), Number("alpha"), Number("beta"), Number("loss"), Number("accuracy")),
            },
        };
        return new TableChart(id, LandscapeTitle(l), ["split", "alpha", "beta", "loss", "accuracy"], rows, layout);
    }

    /// <summary>Loss against t along the straight line and the trained curve (colour: path; dash: split).</summary>
    public static TableChart ConnectChart(string id, Connection c)
    {
        var rows = c.Paths.SelectMany(p => p.Ts.Select((t, i) => new object?[] { p.Path, p.Split, t, p.Loss[i], p.Accuracy[i] })).ToList();
        var layout = new JsonObject
        {
            ["width"] = 420,
            ["height"] = 280,
            ["mark"] = new JsonObject { ["type"] = "line", ["point"] = true },
            ["params"] = new JsonArray(Zoom(), LegendToggle("path")),
            ["encoding"] = new JsonObject
            {
                ["x"] = new JsonObject { ["field"] = "t", ["type"] = "quantitative", ["title"] = $"t (0: run {c.RunA}, 1: run {c.RunB})" },
                ["y"] = new JsonObject { ["field"] = "loss", ["type"] = "quantitative", ["title"] = "loss",
                    ["scale"] = new JsonObject { ["zero"] = false } },
                ["color"] = new JsonObject { ["field"] = "path", ["type"] = "nominal" },
                ["strokeDash"] = new JsonObject { ["field"] = "split", ["type"] = "nominal" },
                ["opacity"] = ToggleOpacity(1, 0.15),
                ["tooltip"] = new JsonArray(Field("path", "nominal"), Field("split", "nominal"), Number("t"), Number("loss"),
                    Number("accuracy")),
            },
            ["config"] = BottomLegend(),
        };
        return new TableChart(id, $"Loss along the line and the {c.Curve} curve", ["path", "split", "t", "loss", "accuracy"], rows, layout);
    }

}
