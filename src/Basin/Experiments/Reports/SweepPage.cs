using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Basin.Experiments.Sweeps;
using Basin.Measures;

using static Basin.Experiments.Reports.VegaLite;

namespace Basin.Experiments.Reports;

/// <summary>
/// The report page of a sweep: what was scored, the ranking of the measures (τ, Ψ and ψ per axis, CMI, before and after
/// reparametrization) as a sortable table, τ before and after reparametrization as bars, one scatter of the gap against
/// a measure picked from a list and coloured by an axis picked from another, and the models' table.
/// </summary>
public sealed record SweepPage(string Title, string FileStem, string Html, IReadOnlyList<PageChart> Charts, IReadOnlyList<string> Notes,
    SweepReportResult Report) : IReportPage
{
    /// <summary>The variant names the page uses for a measure's value on the trained model and on its reparametrized copy.</summary>
    public const string Trained = "trained", Reparametrized = "reparametrized";

    public static SweepPage Build(SweepReportResult report, DateTime generatedUtc, string version, string fileStem)
    {
        if (report.Models.Count == 0)
            throw new BasinException($"sweep '{report.Sweep}' has no finished points to report ({report.Points} points: " +
                $"{report.Failed} failed, {report.Points - report.Failed} not run yet); run it with 'basin sweep run FILE'");
        var notes = new List<string>();
        if (report.Missing > 0)
            notes.Add($"{report.Missing} of {report.Points} points have no finished model ({report.Failed} failed): the ranking " +
                "scores only the models that finished");
        var charts = new List<PageChart> { TauChart(report) };
        if (Scatter(report) is { } scatter) charts.Add(scatter);
        var title = $"Basin sweep {report.Sweep}: {report.Models.Count} models, {report.Ranking.Count} measures";
        var h = new StringBuilder();
        Summary(h, report, notes);
        PageHtml.Charts(h, charts, "Measures against the gap", fileStem);
        Ranking(h, report);
        Models(h, report);
        return new SweepPage(title, fileStem, PageHtml.Document(title, h.ToString(), charts, generatedUtc, version), charts, notes, report);
    }

    static string GapTitle(SweepReportResult r) =>
        r.Gap == "accuracy" ? "acc gap (train − test accuracy)" : "loss gap (test − train loss, nats)";

    static string E(string s) => PageHtml.E(s);

    static void Summary(StringBuilder h, SweepReportResult r, List<string> notes)
    {
        PageHtml.Notes(h, notes);
        h.Append("<table class=\"summary\">\n");
        void Row(string name, string value) => h.Append($"<tr><th>{E(name)}</th><td data-field=\"{E(name)}\">{E(value)}</td></tr>\n");
        Row("sweep", r.Sweep);
        Row("points", r.Points.ToString(CultureInfo.InvariantCulture));
        Row("done", r.Done.ToString(CultureInfo.InvariantCulture));
        Row("failed", r.Failed.ToString(CultureInfo.InvariantCulture));
        Row("models scored", r.Models.Count.ToString(CultureInfo.InvariantCulture) +
            (r.ReachedTargetOnly ? " (those that reached the training-loss target)" : ""));
        Row("gap", GapTitle(r));
        Row("axes", r.Axes.Count == 0 ? "none (every point has the same settings)" : string.Join(", ", r.Axes));
        h.Append("</table>\n<p>τ is Kendall's τ-b between a measure and the gap over all models; Ψ averages τ within groups that ")
            .Append("differ in one axis only (ψ per axis); CMI is the conditional mutual information score. Each is shown for the ")
            .Append("trained models and for their function-preserving reparametrized copies; \"max change\" is the largest ")
            .Append("relative change of a model's value under reparametrization (0 for an invariant measure).</p>\n");
    }

    static void Ranking(StringBuilder h, SweepReportResult r)
    {
        h.Append("<h2>Ranking of the measures</h2>\n<p class=\"meta\">Click a column's header to sort by it.</p>\n")
            .Append("<div class=\"wide\"><table id=\"ranking\" class=\"sortable\">\n<tr><th>measure</th><th>invariance</th>")
            .Append("<th>cost</th><th>models</th><th>τ</th><th>Ψ</th>");
        foreach (var a in r.Axes) h.Append($"<th>ψ {E(a)}</th>");
        h.Append("<th>CMI</th><th>τ reparam.</th><th>Ψ reparam.</th><th>max change</th><th>s/model</th></tr>\n");
        foreach (var row in r.Ranking)
        {
            string C(string figure, double v) => Cell(row.Measure, figure, v);
            h.Append($"<tr><th>{E(row.Measure)}</th><td>{E(Invariance(row.Invariance))}</td><td>{E(row.Cost.ToString())}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td class=\"num\" data-value=\"{row.Original.Models}\">{row.Original.Models}</td>")
                .Append(C("tau", row.Original.Tau)).Append(C("psi", row.Original.Psi));
            foreach (var a in r.Axes) h.Append(C("psi " + a, row.Original.PsiPerAxis.GetValueOrDefault(a, double.NaN)));
            h.Append(C("cmi", row.Original.Cmi)).Append(C("tau reparametrized", row.Reparametrized.Tau))
                .Append(C("psi reparametrized", row.Reparametrized.Psi)).Append(C("max change", row.MaxRelativeChange))
                .Append(C("seconds", row.MeanSeconds)).Append("</tr>\n");
        }
        h.Append("</table></div>\n");
    }

    /// <summary>A score's cell: three decimals shown (seconds: two significant digits), the exact value in data-value.</summary>
    static string Cell(string measure, string figure, double v) => PageHtml.Fixed(measure, figure, v, figure == "seconds" ? "G2" : "0.000");

    static string Invariance(Invariance i) => i switch
    {
        Basin.Measures.Invariance.NeuronWise => "neuron-wise",
        Basin.Measures.Invariance.LayerWise => "layer-wise",
        _ => "none",
    };

    static void Models(StringBuilder h, SweepReportResult r)
    {
        var settings = r.Models.SelectMany(m => m.Settings.Keys).Distinct(StringComparer.Ordinal).ToList();
        h.Append("<details class=\"models\"><summary>Models</summary>\n<table id=\"models\" class=\"sortable\">\n<tr><th>point</th>")
            .Append("<th>run</th>");
        foreach (var s in settings) h.Append($"<th>{E(s)}</th>");
        h.Append("<th>gap</th><th>training examples</th></tr>\n");
        foreach (var m in r.Models)
        {
            h.Append($"<tr><td>{E(m.Key)}</td><td>{E(m.RunId)}</td>");
            foreach (var s in settings) h.Append($"<td>{E(m.Settings.GetValueOrDefault(s, ""))}</td>");
            h.Append(PageHtml.Num(m.RunId, "gap", double.IsFinite(m.Gap) ? m.Gap : null))
                .Append(PageHtml.Num(m.RunId, "training examples", double.IsFinite(m.TrainingExamples) ? m.TrainingExamples : null))
                .Append("</tr>\n");
        }
        h.Append("</table>\n</details>\n");
    }

    /// <summary>τ of every measure, trained and reparametrized side by side, measures in the ranking's order.</summary>
    static TableChart TauChart(SweepReportResult r)
    {
        var rows = r.Ranking.SelectMany(row => new object?[][]
        {
            [row.Measure, Trained, row.Original.Tau, row.Original.Psi],
            [row.Measure, Reparametrized, row.Reparametrized.Tau, row.Reparametrized.Psi],
        }).ToList();
        var layout = new JsonObject
        {
            ["title"] = "Kendall τ with the gap, before and after reparametrization",
            ["width"] = 420,
            ["height"] = new JsonObject { ["step"] = 9 },
            ["mark"] = "bar",
            ["params"] = new JsonArray(LegendToggle("variant")),
            ["encoding"] = new JsonObject
            {
                ["y"] = new JsonObject
                {
                    ["field"] = "measure", ["type"] = "nominal", ["title"] = null,
                    ["sort"] = new JsonArray(r.Ranking.Select(x => (JsonNode)x.Measure).ToArray()),
                },
                ["yOffset"] = new JsonObject { ["field"] = "variant", ["type"] = "nominal" },
                ["x"] = new JsonObject { ["field"] = "tau", ["type"] = "quantitative", ["title"] = "τ", ["scale"] = new JsonObject
                    { ["domain"] = new JsonArray(-1, 1) } },
                ["color"] = new JsonObject { ["field"] = "variant", ["type"] = "nominal" },
                ["opacity"] = ToggleOpacity(0.9, 0.1),
                ["tooltip"] = new JsonArray(Field("measure", "nominal"), Field("variant", "nominal"), Number("tau"), Number("psi")),
            },
            ["config"] = BottomLegend(),
        };
        return new TableChart("tau", "Kendall τ with the gap", ["measure", "variant", "tau", "psi"], rows, layout);
    }

    /// <summary>
    /// The gap against one measure for every model, trained (filled) and reparametrized (open) copies; the measure, the
    /// axis that colours the points and a log₁₀ of the measure are picked above the chart. Null when no value is finite.
    /// </summary>
    static TableChart? Scatter(SweepReportResult r)
    {
        var columns = new List<string> { "point", "run", "measure", "variant", "value", "gap" };
        columns.AddRange(r.Axes);
        var rows = new List<object?[]>();
        foreach (var row in r.Ranking)
            foreach (var m in r.Models)
                foreach (var (variant, values) in new[] { (Trained, m.Original), (Reparametrized, m.Reparametrized) })
                    if (values.GetValueOrDefault(row.Measure, double.NaN) is var v && double.IsFinite(v) && double.IsFinite(m.Gap))
                        rows.Add([m.Key, m.RunId, row.Measure, variant, v, m.Gap, .. r.Axes.Select(a => m.Settings.GetValueOrDefault(a))]);
        if (rows.Count == 0) return null;
        var measures = r.Ranking.Select(x => x.Measure).Where(n => rows.Any(row => (string)row[2]! == n)).ToList();
        var parameters = new JsonArray(
            Select("measure", measures[0], measures, "measure "),
            new JsonObject
            {
                ["name"] = "logScale", ["value"] = false,
                ["bind"] = new JsonObject { ["input"] = "checkbox", ["name"] = "log10 of the measure " },
            },
            Zoom(),
            LegendToggle("variant"));
        var transform = new JsonArray(
            new JsonObject { ["filter"] = "datum.measure == measure" },
            new JsonObject { ["calculate"] = "logScale ? (datum.value > 0 ? log(datum.value) / LN10 : null) : datum.value", ["as"] = "x" },
            new JsonObject { ["filter"] = "isValid(datum.x)" });
        JsonObject colour;
        if (r.Axes.Count > 0)
        {
            parameters.Insert(1, Select("colourBy", r.Axes[0], r.Axes, "colour by "));
            transform.Add(new JsonObject { ["calculate"] = "datum[colourBy]", ["as"] = "setting" });
            colour = new JsonObject { ["field"] = "setting", ["type"] = "nominal", ["title"] = "setting of the chosen axis" };
        }
        else colour = new JsonObject { ["field"] = "variant", ["type"] = "nominal" };
        var tooltip = new JsonArray(Field("point", "nominal"), Field("run", "nominal"), Field("measure", "nominal"),
            Field("variant", "nominal"), Number("value"), Number("gap"));
        foreach (var a in r.Axes) tooltip.Add(Field(a, "nominal"));
        var layout = new JsonObject
        {
            ["title"] = "The gap against a measure (pick it below the chart)",
            ["width"] = 440,
            ["height"] = 360,
            ["params"] = parameters,
            ["transform"] = transform,
            ["mark"] = new JsonObject { ["type"] = "point", ["size"] = 60 },
            ["encoding"] = new JsonObject
            {
                ["x"] = new JsonObject { ["field"] = "x", ["type"] = "quantitative", ["scale"] = new JsonObject { ["zero"] = false },
                    ["title"] = "the chosen measure (log10 when ticked)" },
                ["y"] = new JsonObject { ["field"] = "gap", ["type"] = "quantitative", ["scale"] = new JsonObject { ["zero"] = false },
                    ["title"] = GapTitle(r) },
                ["color"] = colour,
                ["shape"] = new JsonObject { ["field"] = "variant", ["type"] = "nominal" },
                ["fill"] = new JsonObject
                {
                    ["condition"] = new JsonObject
                    {
                        ["test"] = $"datum.variant == '{Trained}'", ["field"] = colour["field"]!.GetValue<string>(), ["type"] = "nominal",
                    },
                    ["value"] = "transparent",
                },
                ["opacity"] = ToggleOpacity(0.9, 0.1),
                ["tooltip"] = tooltip,
            },
            ["config"] = BottomLegend(),
        };
        return new TableChart("measure-vs-gap", "The gap against a measure", columns, rows, layout);
    }

}
