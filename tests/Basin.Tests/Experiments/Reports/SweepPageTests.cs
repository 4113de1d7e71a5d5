using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Basin.Experiments.Reports;
using Basin.Experiments.Sweeps;
using Basin.Measures;
using Xunit;

namespace Basin.Tests.Experiments.Reports;

/// <summary>The sweep page from hand-made models whose ranking is known by hand (no training).</summary>
public partial class SweepPageTests
{
    static readonly DateTime Made = new(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    static ReportedModel Model(string key, string lr, string seed, double gap, double norm, double normReparam) =>
        new(key, new Dictionary<string, string> { ["learningRate"] = lr, ["seed"] = seed }, "run-" + key, gap,
            new Dictionary<string, double> { ["parameter-norm"] = norm },
            new Dictionary<string, double> { ["parameter-norm"] = normReparam });

    /// <summary>
    /// Four models: parameter-norm orders the gaps exactly (τ = 1) on the trained models; reparametrized, the order of the
    /// last two flips (τ = 4/6).
    /// </summary>
    static SweepReportResult Report(int points = 4, int failed = 0)
    {
        var models = new[]
        {
            Model("a", "0.1", "1", 0.1, 1, 1), Model("b", "0.1", "2", 0.2, 2, 2), Model("c", "0.01", "1", 0.3, 3, 5),
            Model("d", "0.01", "2", 0.4, 4, 3),
        };
        var axes = new[] { "learningRate", "seed" };
        return new SweepReportResult("tiny", "accuracy", axes, points, 4, failed, models,
            SweepReport.Rank(models, axes, new Dictionary<string, double> { ["parameter-norm"] = 0.5 }));
    }

    [GeneratedRegex("""data-run="parameter-norm" data-figure="([^"]+)" data-value="([^"]*)">([^<]*)<""")]
    private static partial Regex RankingCell();

    [Fact]
    public void TheRankingTableAndChartsHoldTheReportsNumbersExactly()
    {
        var report = Report();
        var row = report.Ranking.Single(r => r.Measure == "parameter-norm");
        Assert.Equal(1, row.Original.Tau, 12);
        Assert.Equal(4.0 / 6, row.Reparametrized.Tau, 12);
        var page = SweepPage.Build(report, Made, "9.9", "sweep-tiny");
        Assert.Empty(page.Notes);
        Assert.Equal("Basin sweep tiny: 4 models, 1 measures", page.Title);

        var cells = RankingCell().Matches(page.Html).ToDictionary(m => m.Groups[1].Value,
            m => (Value: m.Groups[2].Value, Shown: m.Groups[3].Value));
        Assert.Equal("1", cells["tau"].Value);
        Assert.Equal("1.000", cells["tau"].Shown);
        Assert.Equal((4.0 / 6).ToString("R", CultureInfo.InvariantCulture), cells["tau reparametrized"].Value);
        Assert.Equal("0.667", cells["tau reparametrized"].Shown);
        // ψ over learning rates: the pairs (a, c) and (b, d) differ in it only, and both are ordered alike by the norm.
        Assert.Equal(1, row.Original.PsiPerAxis["learningRate"]);
        Assert.Equal("1", cells["psi learningRate"].Value);
        Assert.Equal("0.5", cells["seconds"].Value);
        // Max relative change: model c's 3 → 5.
        Assert.Equal((2.0 / 3).ToString("R", CultureInfo.InvariantCulture), cells["max change"].Value);
        Assert.Contains("<table id=\"ranking\" class=\"sortable\">", page.Html);

        Assert.Equal(["tau", "measure-vs-gap"], page.Charts.Select(c => c.Id));
        Assert.Equal("measure,variant,tau,psi\nparameter-norm,trained,1," +
            row.Original.Psi.ToString("R", CultureInfo.InvariantCulture) + "\nparameter-norm,reparametrized," +
            (4.0 / 6).ToString("R", CultureInfo.InvariantCulture) + "," + row.Reparametrized.Psi.ToString("R", CultureInfo.InvariantCulture) +
            "\n", page.Charts[0].Csv());
        // One point per (model, variant), with the model's axis settings for colouring.
        var scatter = page.Charts[1].Csv().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("point,run,measure,variant,value,gap,learningRate,seed", scatter[0]);
        Assert.Equal(9, scatter.Length);
        Assert.Contains("c,run-c,parameter-norm,reparametrized,5,0.3,0.01,1", scatter);
        Assert.Contains("d,run-d,parameter-norm,trained,4,0.4,0.01,2", scatter);
        var spec = page.Charts[1].Spec();
        var bindings = spec["params"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()).ToList();
        Assert.Equal(["measure", "colourBy", "logScale", "zoom", "toggle"], bindings);
        Assert.Equal(["learningRate", "seed"], spec["params"]![1]!["bind"]!["options"]!.AsArray().Select(o => o!.GetValue<string>()));
        Assert.Equal(page.Charts[1].Csv(), spec["data"]!["values"]!.GetValue<string>());   // the CSV itself: 8 rows
        Assert.Equal("csv", spec["data"]!["format"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public void MissingPointsAreNotedAndASweepWithoutFinishedPointsIsAnError()
    {
        var page = SweepPage.Build(Report(points: 6, failed: 1), Made, "9.9", "s");
        Assert.Equal(["2 of 6 points have no finished model (1 failed): the ranking scores only the models that finished"], page.Notes);
        Assert.Contains("<li>2 of 6 points have no finished model", page.Html);

        var empty = new SweepReportResult("idle", "loss", [], 3, 0, 0, [], []);
        var e = Assert.Throws<BasinException>(() => SweepPage.Build(empty, Made, "9.9", "s"));
        Assert.Equal("sweep 'idle' has no finished points to report (3 points: 0 failed, 3 not run yet); run it with 'basin sweep run FILE'",
            e.Message);
    }

    [Fact]
    public void WithoutAxesThePointsAreColouredByVariant()
    {
        var models = Report().Models;
        var report = new SweepReportResult("one", "loss", [], 4, 4, 0, models,
            SweepReport.Rank(models, [], new Dictionary<string, double>()));
        var spec = SweepPage.Build(report, Made, "9.9", "s").Charts[1].Spec();
        Assert.Equal("variant", spec["encoding"]!["color"]!["field"]!.GetValue<string>());
        Assert.DoesNotContain(spec["params"]!.AsArray(), p => p!["name"]!.GetValue<string>() == "colourBy");
        Assert.Equal("loss gap (test − train loss, nats)", spec["encoding"]!["y"]!["title"]!.GetValue<string>());
    }
}
