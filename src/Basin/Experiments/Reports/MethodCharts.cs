using System.Text.Json.Nodes;

using static Basin.Experiments.Reports.VegaLite;

namespace Basin.Experiments.Reports;

/// <summary>
/// The charts of what only some runs have: m-coherence over training steps, an SGLD run's collected samples against their
/// ensemble, and a prune run's series (accuracy against sparsity, dead-neuron rate per round). Ids start with
/// <c>prefix</c> (a run's id and a dot on pages of several runs).
/// </summary>
static class MethodCharts
{
    public static IEnumerable<TableChart> Of(RunReport r, string prefix)
    {
        if (r.Coherence.Count > 0) yield return Coherence(r, prefix);
        if (r.Ensemble is { Members.Count: > 0 }) yield return Ensemble(r, prefix);
        if (r.PruneSeries.Count > 0)
        {
            yield return Rounds(r, prefix);
            if (r.PruneSeries.Any(x => x.Dnr is not null)) yield return RoundsDnr(r, prefix);
        }
    }

    static TableChart Coherence(RunReport r, string prefix) => new(prefix + "m-coherence", "m-coherence",
        ["epoch", "step", "examples", "value"], r.Coherence.Select(c => new object?[] { c.Epoch, c.Step, c.Examples, c.Value }).ToList(),
        Line("m-coherence of per-example gradients over training", "step", "update step", "value", "m-coherence", null));

    static TableChart Ensemble(RunReport r, string prefix)
    {
        var e = r.Ensemble!;
        var rows = e.Members.Select((m, i) => new object?[] { i + 1, m.Name, "member", m.LogLoss, m.Accuracy }).ToList();
        rows.Add([null, e.Ensemble.Name, "ensemble", e.Ensemble.LogLoss, e.Ensemble.Accuracy]);
        var layout = new JsonObject
        {
            ["title"] = "SGLD: each collected sample against the posterior-predictive ensemble (test set)",
            ["width"] = 300,
            ["height"] = 260,
            ["layer"] = new JsonArray(
                new JsonObject
                {
                    ["transform"] = new JsonArray(new JsonObject { ["filter"] = "datum.kind == 'member'" }),
                    ["mark"] = new JsonObject { ["type"] = "point", ["filled"] = true },
                    ["encoding"] = new JsonObject
                    {
                        ["x"] = new JsonObject { ["field"] = "member", ["type"] = "quantitative", ["title"] = "sample" },
                        ["y"] = Y("logLoss", "log loss"),
                        ["tooltip"] = Tips("name", "logLoss", "accuracy"),
                    },
                },
                new JsonObject
                {
                    ["transform"] = new JsonArray(new JsonObject { ["filter"] = "datum.kind == 'ensemble'" }),
                    ["mark"] = new JsonObject { ["type"] = "rule", ["color"] = "#d62728", ["strokeWidth"] = 2 },
                    ["encoding"] = new JsonObject { ["y"] = Y("logLoss", "log loss"), ["tooltip"] = Tips("name", "logLoss", "accuracy") },
                }),
        };
        return new TableChart(prefix + "ensemble", "SGLD samples and their ensemble", ["member", "name", "kind", "logLoss", "accuracy"],
            rows, layout);
    }

    static TableChart Rounds(RunReport r, string prefix)
    {
        var rows = r.PruneSeries.SelectMany(x => new object?[][]
        {
            [x.Round, x.RunId, x.Sparsity, "train", x.TrainAccuracy], [x.Round, x.RunId, x.Sparsity, "test", x.TestAccuracy],
        }).Where(row => row[4] is not null).ToList();
        return new TableChart(prefix + "pruning-accuracy", "Accuracy against sparsity over the pruning series",
            ["round", "run", "sparsity", "series", "value"], rows,
            Line("Accuracy of each round of the pruning series (round 0: the dense source)", "sparsity", "weight sparsity", "value",
                "accuracy", "series"));
    }

    static TableChart RoundsDnr(RunReport r, string prefix) => new(prefix + "pruning-dnr", "Dead-neuron rate per round",
        ["round", "run", "sparsity", "dnr"],
        r.PruneSeries.Where(x => x.Dnr is not null).Select(x => new object?[] { x.Round, x.RunId, x.Sparsity, x.Dnr }).ToList(),
        Line("Dead-neuron rate at the end of each round", "round", "round", "dnr", "dead-neuron rate", null));

    static JsonObject Line(string title, string x, string xTitle, string y, string yTitle, string? colour)
    {
        var encoding = new JsonObject
        {
            ["x"] = new JsonObject { ["field"] = x, ["type"] = "quantitative", ["title"] = xTitle },
            ["y"] = Y(y, yTitle),
            ["tooltip"] = new JsonArray(new JsonObject { ["field"] = x, ["type"] = "quantitative" },
                Number(y)),
        };
        if (colour is not null) encoding["color"] = new JsonObject { ["field"] = colour, ["type"] = "nominal" };
        return new JsonObject
        {
            ["title"] = title,
            ["width"] = 300,
            ["height"] = 260,
            ["mark"] = new JsonObject { ["type"] = "line", ["point"] = true },
            ["params"] = new JsonArray(Zoom()),
            ["encoding"] = encoding,
            ["config"] = BottomLegend(),
        };
    }

    static JsonObject Y(string field, string title) => new()
    {
        ["field"] = field, ["type"] = "quantitative", ["title"] = title, ["scale"] = new JsonObject { ["zero"] = false },
    };

    static JsonArray Tips(params string[] fields) => new(fields.Select(f => (JsonNode)new JsonObject
        { ["field"] = f, ["type"] = f == "name" ? "nominal" : "quantitative" }).ToArray());
}
