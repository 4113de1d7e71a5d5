using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

using static Basin.Experiments.Reports.VegaLite;

namespace Basin.Experiments.Reports;

/// <summary>One point of a curve: run <see cref="Run"/>'s series (train, test, ...) at an epoch.</summary>
public sealed record CurvePoint(string Run, int Epoch, string Series, double Value);

/// <summary>
/// One chart of a report: its data (long form: run, epoch, series, value; also written as CSV beside the page) and the
/// Vega-Lite spec that draws it. <see cref="PageChart.Id"/> names the chart's element and its CSV file.
/// </summary>
public sealed record ReportChart(string Id, string Title, string YTitle, IReadOnlyList<CurvePoint> Points, bool Overlaid)
    : PageChart(Id, Title)
{
    /// <summary>Whether the value axis starts at zero (a learning rate); else it spans the data.</summary>
    public bool ZeroBased { get; init; }

    /// <summary>
    /// Every run of the page, in order, when overlaid: each run keeps its colour in every chart, even one it has no data in.
    /// </summary>
    public IReadOnlyList<string>? RunOrder { get; init; }

    /// <summary>What the x axis counts ("epoch"; "iteration" for a GAN): its title and the CSV's second column.</summary>
    public string XTitle { get; init; } = "epoch";

    int EpochSpan => Points.Count == 0 ? 1 : Points.Max(p => p.Epoch) - Points.Min(p => p.Epoch);

    /// <summary>The chart's data as CSV (header run,epoch,series,value, with <see cref="XTitle"/> for epoch; numbers round-trip).</summary>
    public override string Csv()
    {
        var sb = new StringBuilder($"run,{CsvCell(XTitle)},series,value\n");
        foreach (var p in Points)
            sb.Append(CultureInfo.InvariantCulture, $"{CsvCell(p.Run)},{p.Epoch},{CsvCell(p.Series)},{p.Value:R}\n");
        return sb.ToString();
    }

    /// <summary>
    /// The Vega-Lite spec: lines with points over epochs, hover tooltips, zoom and pan (an interval bound to the scales)
    /// and a legend that toggles series. Overlaid (a comparison): colour by run, dash by series; else colour by series.
    /// </summary>
    public override JsonObject Spec()
    {
        string colour = Overlaid ? "run" : "series";
        var values = new JsonArray(Points.Select(p => (JsonNode)new JsonObject
        {
            ["run"] = p.Run, ["epoch"] = p.Epoch, ["series"] = p.Series, ["value"] = p.Value,
        }).ToArray());
        var encoding = new JsonObject
        {
            // Whole epochs only: at most one tick per epoch (up to ten ticks).
            ["x"] = new JsonObject
            {
                ["field"] = "epoch", ["type"] = "quantitative", ["title"] = XTitle,
                ["axis"] = new JsonObject { ["tickMinStep"] = 1, ["tickCount"] = Math.Clamp(EpochSpan, 1, 10) },
            },
            ["y"] = new JsonObject
            {
                ["field"] = "value", ["type"] = "quantitative", ["title"] = YTitle, ["scale"] = new JsonObject { ["zero"] = ZeroBased },
            },
            ["color"] = new JsonObject { ["field"] = colour, ["type"] = "nominal" },
            ["opacity"] = ToggleOpacity(1, 0.15),
            ["tooltip"] = new JsonArray(
                Field("run", "nominal"),
                Field("series", "nominal"),
                new JsonObject { ["field"] = "epoch", ["type"] = "quantitative", ["title"] = XTitle },
                Number("value")),
        };
        if (Overlaid) encoding["strokeDash"] = new JsonObject { ["field"] = "series", ["type"] = "nominal" };
        if (Overlaid && RunOrder is { } order)
            encoding["color"]!["scale"] = new JsonObject { ["domain"] = new JsonArray(order.Select(r => (JsonNode)r!).ToArray()) };
        return new JsonObject
        {
            ["title"] = Title,
            ["width"] = 300,
            ["height"] = 260,
            ["data"] = new JsonObject { ["values"] = values },
            ["mark"] = new JsonObject { ["type"] = "line", ["point"] = true },
            ["params"] = new JsonArray(Zoom(), LegendToggle(colour)),
            ["encoding"] = encoding,
            ["config"] = BottomLegend(),
        };
    }
}
