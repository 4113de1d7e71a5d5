using Basin.Experiments;
using Basin.Experiments.Sweeps;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.IO;
using System.Text.Json;
using Basin.Measures;
using Xunit;

namespace Basin.Tests.Experiments;

/// <summary>The report's ranking rows of derived measures, on hand-made models (no training).</summary>
public class SweepReportTests
{
    static ReportedModel Model(string key, double m, double trace, double gap)
    {
        var values = MeasureRegistry.WithDerived(new Dictionary<string, double> { ["hessian-trace-all"] = trace, ["gradient-noise"] = trace }, m);
        var settings = new Dictionary<string, string> { ["samples"] = m.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        return new ReportedModel(key, settings, "run-" + key, gap, values, values) { TrainingExamples = m };
    }

    [Fact]
    public void DividingByMChangesTheRankingAsComputedByHand()
    {
        // Raw trace 100 < 200 < 300 < 900 against gaps 0.2, 0.3, 0.1, 0.25: pairs C D C D D C, τ = 0.
        // √(trace/m) = 1, √2, √0.75, 1.5: pairs C C C C D C (only models 2 and 4 disagree), τ = 4/6.
        var models = new[] { Model("a", 100, 100, 0.2), Model("b", 100, 200, 0.3), Model("c", 400, 300, 0.1), Model("d", 400, 900, 0.25) };
        var rows = SweepReport.Rank(models, ["samples"], new Dictionary<string, double> { ["hessian-trace-all"] = 3, ["gradient-noise"] = 0.5 });
        var raw = rows.Single(r => r.Measure == "hessian-trace-all");
        var adjusted = rows.Single(r => r.Measure == "hessian-trace-all@m");
        Assert.Equal(0, raw.Original.Tau, 12);
        Assert.Equal(4.0 / 6, adjusted.Original.Tau, 12);
        Assert.Equal(4.0 / 6, adjusted.Reparametrized.Tau, 12);
        Assert.Equal(4.0 / 6, adjusted.Original.PsiPerAxis["samples"], 12);      // one group: ψ = τ
        Assert.Equal(3, adjusted.MeanSeconds);                                    // costs what its input cost
        Assert.Equal(Invariance.None, adjusted.Invariance);
        Assert.DoesNotContain(rows, r => r.Measure == "gradient-noise@m");        // not a bound term: no adjusted row
        Assert.Equal("hessian-trace-all@m", rows[0].Measure);                         // ranked by τ
    }

    [Fact]
    public void TrainingSetSizeComesFromTheRunsSamples()
    {
        using var known = JsonDocument.Parse("""{ "dataset": "fashion-mnist", "samples": 2000 }""");
        using var whole = JsonDocument.Parse("""{ "dataset": "fashion-mnist", "samples": null }""");
        Assert.Equal(2000, SweepReport.TrainingExamples(known.RootElement));
        Assert.True(double.IsNaN(SweepReport.TrainingExamples(whole.RootElement)));
        // Unknown m: the adjusted values are NaN and those models drop out of the adjusted measure's score.
        var models = new[] { Model("a", 100, 100, 0.2), Model("b", double.NaN, 200, 0.3), Model("c", 400, 900, 0.1) };
        var row = SweepReport.Rank(models, [], new Dictionary<string, double>()).Single(r => r.Measure == "hessian-trace-all@m");
        Assert.Equal(2, row.Original.Models);
    }
}
