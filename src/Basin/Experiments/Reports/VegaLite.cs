using System.Text.Json.Nodes;

namespace Basin.Experiments.Reports;

/// <summary>The pieces of Vega-Lite specs the report's charts share: their parameters, field encodings and legend.</summary>
static class VegaLite
{
    /// <summary>Zoom and pan: an interval selection bound to the scales.</summary>
    public static JsonObject Zoom() => new() { ["name"] = "zoom", ["select"] = "interval", ["bind"] = "scales" };

    /// <summary>A legend that picks series: the point selection "toggle" on <paramref name="field"/>, bound to the legend.</summary>
    public static JsonObject LegendToggle(string field) => new()
    {
        ["name"] = "toggle", ["select"] = new JsonObject { ["type"] = "point", ["fields"] = new JsonArray(field) }, ["bind"] = "legend",
    };

    /// <summary>Opacity <paramref name="picked"/> for what the legend toggle holds, <paramref name="other"/> elsewhere.</summary>
    public static JsonObject ToggleOpacity(double picked, double other) => new()
    {
        ["condition"] = new JsonObject { ["param"] = "toggle", ["value"] = picked }, ["value"] = other,
    };

    /// <summary>
    /// A parameter <paramref name="name"/> picked from <paramref name="options"/> in a list labelled <paramref name="label"/>.
    /// </summary>
    public static JsonObject Select(string name, string value, IReadOnlyList<string> options, string label) => new()
    {
        ["name"] = name, ["value"] = value,
        ["bind"] = new JsonObject
        {
            ["input"] = "select", ["name"] = label, ["options"] = new JsonArray(options.Select(o => (JsonNode)o).ToArray()),
        },
    };

    public static JsonObject Field(string name, string type) => new() { ["field"] = name, ["type"] = type };

    /// <summary>A quantitative field shown with 6 significant digits (tooltips).</summary>
    public static JsonObject Number(string name) => new() { ["field"] = name, ["type"] = "quantitative", ["format"] = ".6g" };

    /// <summary>Legends below the plot, entries stacked: keeps each chart narrow enough for two side by side.</summary>
    public static JsonObject BottomLegend() => new() { ["legend"] = new JsonObject { ["orient"] = "bottom", ["direction"] = "vertical" } };
}
