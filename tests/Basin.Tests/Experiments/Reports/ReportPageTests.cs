using Basin.Experiments;
using Basin.Experiments.Reports;
using Basin.Experiments.Training;
using Basin.Training;
using Xunit;

namespace Basin.Tests.Experiments.Reports;

/// <summary>The report's page model and files, from hand-made runs whose every number is known.</summary>
public class ReportPageTests
{
    static string TempFolder() => Path.Combine(Path.GetTempPath(), "basin-report-" + Guid.NewGuid().ToString("N")[..12]);

    static readonly DateTime Start = new(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    /// <summary>A finished two-epoch training run (epoch 1 not evaluated on the train set) with a measure, and its folder.</summary>
    static void AddRun(RunStore store, string id, string method, double testAccuracy2, bool withFolder = true)
    {
        store.Start(new RunRecord(id, "train", Start, "mlp:4", "moons", 7, $$"""{"method":"{{method}}","epochs":2}""",
            """{"torchsharp":"0.107.0","basin":"0.1.0"}"""));
        store.AddEpoch(id, 1, new EpochMetrics(1, double.NaN, double.NaN, 0.9, 0.5, null, 0.1, 1.5, 4) { Evaluated = false });
        store.AddEpoch(id, 2, new EpochMetrics(2, 0.5, 0.875, 0.625, testAccuracy2, 0.125, 0.05, 1.25, 8)
            { AccuracyGap = 0.875 - testAccuracy2 });
        store.StoreMeasure(id, RunStore.OriginalVariant, "hessian-trace-all", 12.5, 0.25, null);
        store.StoreMeasure(id, RunStore.ReparametrizedVariant, "hessian-trace-all", null, 0.5, "failed: no convergence");
        store.Finish(id, RunStatus.Finished, new RunFigures(0.5, 0.875, 0.625, testAccuracy2, 0.125, 0.875 - testAccuracy2, 2, 8, 2.75,
            "completed"));
        if (withFolder)
        {
            Directory.CreateDirectory(store.RunFolder(id));
            File.WriteAllText(Path.Combine(store.RunFolder(id), TrainingJob.EpochsFile), "epoch\n");
            File.WriteAllText(Path.Combine(store.RunFolder(id), TrainingJob.WeightsFile), "");
        }
    }

    [Fact]
    public void ARunsReportHoldsItsEpochsFiguresAndMeasuresExactly()
    {
        using var store = RunStore.Open(TempFolder());
        AddRun(store, "run-a", "sgd", 0.75);
        var r = RunReport.Load(store, "run-a");
        Assert.Equal(("sgd", "mlp:4", "moons", 7L, RunStatus.Finished), (r.Method, r.Model, r.Dataset, r.Seed, r.Status));
        Assert.Empty(r.Notes);
        Assert.Equal([new ReportEpoch(1, null, null, 0.9, 0.5, null, null, 0.1), new ReportEpoch(2, 0.5, 0.875, 0.625, 0.75, 0.125, 0.125,
            0.05)], r.Epochs);
        Assert.Equal(["trainLoss", "trainAccuracy", "testLoss", "testAccuracy", "gap", "accuracyGap", "epochs", "steps", "trainSeconds",
            "secondsPerStep"], r.Final.Select(f => f.Name));
        Assert.Equal(0.75, r.Final.Single(f => f.Name == "testAccuracy").Value);
        Assert.Equal(2.75 / 8, r.Final.Single(f => f.Name == "secondsPerStep").Value);
        Assert.Contains(new KeyValuePair<string, string>("torchsharp", "0.107.0"), r.Versions);
        Assert.Equal([new ReportFigure("hessian-trace-all (original)", 12.5), new ReportFigure("hessian-trace-all (reparametrized)", null)],
            r.Figures.Skip(r.Final.Count));

        var page = ReportPage.Build([r], compare: false, Start, "report-run-a");
        Assert.Equal(["loss", "accuracy", "gap", "learning-rate"], page.Charts.Select(c => c.Id));
        // Epoch 1's train loss was not measured: only the test point is drawn.
        Assert.Equal([new CurvePoint("run-a", 1, "test", 0.9), new CurvePoint("run-a", 2, "train", 0.5), new CurvePoint("run-a", 2, "test",
            0.625)], page.Charts[0].Points.OrderBy(p => p.Epoch).ThenByDescending(p => p.Series));
        // Epoch 1 has no gaps (its train set was not evaluated).
        Assert.Equal("run,epoch,series,value\nrun-a,2,accuracy (train − test),0.125\nrun-a,2,loss (test − train),0.125\n",
            page.Charts[2].Csv());
        Assert.Equal("run,epoch,series,value\nrun-a,1,learning rate,0.1\nrun-a,2,learning rate,0.05\n", page.Charts[3].Csv());
        Assert.Empty(page.Comparison);
        Assert.Contains("data-run=\"run-a\" data-figure=\"testAccuracy\" data-value=\"0.75\">0.75</td>", page.Html);
        Assert.Contains("data-figure=\"secondsPerStep\" data-value=\"0.34375\">0.34375</td>", page.Html);
        Assert.Contains("data-figure=\"hessian-trace-all (reparametrized)\" data-value=\"\">–</td>", page.Html);
        Assert.Contains("failed: no convergence", page.Html);
        Assert.Contains("<span class=\"csv\">report-run-a.gap.csv</span>", page.Html);
    }

    [Fact]
    public void AComparisonOverlaysTheRunsAndTabulatesDifferencesFromTheFirst()
    {
        using var store = RunStore.Open(TempFolder());
        AddRun(store, "run-a", "sgd", 0.75);
        AddRun(store, "run-b", "sam", 0.8125);
        var page = ReportPage.Build([RunReport.Load(store, "run-a"), RunReport.Load(store, "run-b")], compare: true, Start, "cmp");
        Assert.All(page.Charts, c => Assert.True(c.Overlaid));
        Assert.Equal(["sgd run-a", "sam run-b"], page.Charts[1].Points.Select(p => p.Run).Distinct());
        var acc = page.Comparison.Single(c => c.Figure == "testAccuracy");
        Assert.Equal([0.75, 0.8125], acc.Values);
        Assert.Equal([null, 0.0625], acc.Differences);
        var gap = page.Comparison.Single(c => c.Figure == "accuracyGap");
        Assert.Equal([null, -0.0625], gap.Differences);
        Assert.Equal([null, null], page.Comparison.Single(c => c.Figure == "hessian-trace-all (reparametrized)").Differences);
        Assert.Contains("data-run=\"run-b\" data-figure=\"testAccuracy\" data-value=\"0.8125\">0.8125 "
            + "<span class=\"diff\">(+0.0625)</span>", page.Html);
        Assert.Contains("data-run=\"run-b\" data-figure=\"accuracyGap\" data-value=\"0.0625\">0.0625 <span class=\"diff\">(-0.0625)</span>",
            page.Html);
        var spec = page.Charts[0].Spec();
        Assert.Equal("run", spec["encoding"]!["color"]!["field"]!.GetValue<string>());
        Assert.Equal("series", spec["encoding"]!["strokeDash"]!["field"]!.GetValue<string>());
        // Each run keeps its colour in every chart, in the order the runs were named.
        Assert.All(page.Charts, c => Assert.Equal(["sgd run-a", "sam run-b"],
            c.Spec()["encoding"]!["color"]!["scale"]!["domain"]!.AsArray().Select(n => n!.GetValue<string>())));
        Assert.Equal(page.Charts[0].Points.Count, spec["data"]!["values"]!.AsArray().Count);
        Assert.Contains("--compare needs two or more runs",
            Assert.Throws<BasinException>(() => ReportPage.Build([RunReport.Load(store, "run-a")], true, Start)).Message);
    }

    [Fact]
    public void RunsShownOneAfterTheOtherHaveTheirOwnCharts()
    {
        using var store = RunStore.Open(TempFolder());
        AddRun(store, "run-a", "sgd", 0.75);
        AddRun(store, "run-b", "sam", 0.8125);
        var page = ReportPage.Build([RunReport.Load(store, "run-a"), RunReport.Load(store, "run-b")], compare: false, Start, "both");
        Assert.Equal(["run-a.loss", "run-a.accuracy", "run-a.gap", "run-a.learning-rate", "run-b.loss", "run-b.accuracy", "run-b.gap",
            "run-b.learning-rate"], page.Charts.Select(c => c.Id));
        Assert.All(page.Charts, c => Assert.Equal([c.Id[..5]], c.Points.Select(p => p.Run).Distinct()));
        Assert.Equal([0.75], page.Charts[1].Points.Where(p => p.Series == "test" && p.Epoch == 2).Select(p => p.Value));
        Assert.Equal([0.8125], page.Charts[5].Points.Where(p => p.Series == "test" && p.Epoch == 2).Select(p => p.Value));
        Assert.Equal("both.run-b.gap.csv", page.CsvName(page.Charts[6]));
        Assert.Empty(page.Comparison);
        Assert.DoesNotContain("id=\"final-figures\"", page.Html);
        // Each run's section holds its own charts.
        int b = page.Html.IndexOf("<section class=\"run\" id=\"run-run-b\">", StringComparison.Ordinal);
        Assert.True(page.Html.IndexOf("id=\"chart-run-a.loss\"", StringComparison.Ordinal) is var ia && ia > 0 && ia < b);
        Assert.True(page.Html.IndexOf("id=\"chart-run-b.loss\"", StringComparison.Ordinal) > b);
    }

    [Fact]
    public void MissingFilesAreNotedAndEpochsComeFromTheCsvWhenTheDatabaseHasNone()
    {
        using var store = RunStore.Open(TempFolder());
        AddRun(store, "gone", "sgd", 0.75, withFolder: false);
        Assert.Equal([$"the run folder {store.RunFolder("gone")} is missing: only what the run database holds is shown"],
            RunReport.Load(store, "gone").Notes);

        store.Start(new RunRecord("csv-only", "train", Start, "mlp:4", "moons", 1, "{}", "{}"));
        Directory.CreateDirectory(store.RunFolder("csv-only"));
        var csv = Path.Combine(store.RunFolder("csv-only"), TrainingJob.EpochsFile);
        File.WriteAllText(csv, "epoch,train_loss,train_accuracy,test_loss,test_accuracy,gap,accuracy_gap,mean_objective,learning_rate," +
            "seconds,steps,evaluated\n1,0.5,0.75,0.625,0.5,0.125,0.25,0.6,0.1,1,4,true\n"
            + "1,0.25,0.75,0.625,0.5,0.375,0.25,0.6,0.1,1,4,true\n");
        store.Finish<object>("csv-only", RunStatus.Cancelled, null);
        var r = RunReport.Load(store, "csv-only");
        // A resumed run appends the epochs it ran again: the last row wins.
        Assert.Equal([new ReportEpoch(1, 0.25, 0.75, 0.625, 0.5, 0.375, 0.25, 0.1)], r.Epochs);
        Assert.Equal([$"the run database holds no per-epoch metrics: they were read from {csv}",
            "the run has no final figures (it is cancelled)"], r.Notes);
        Assert.Contains("<li>the run has no final figures (it is cancelled)</li>", ReportPage.Build([r], false, Start).Html);
    }

    [Fact]
    public void TheJobWritesThePageAndOneCsvPerChartAndRefusesBadInput()
    {
        var folder = TempFolder();
        using var store = RunStore.Open(folder);
        AddRun(store, "run-a", "sgd", 0.75);
        AddRun(store, "run-b", "sam", 0.8125);
        var outDir = Path.Combine(folder, "out");
        var files = ReportJob.Write(store, ["run-a", "run-b"], compare: true, outDir);
        Assert.Equal(Path.Combine(outDir, "compare-run-a-run-b.html"), files.HtmlPath);
        Assert.Equal(["accuracy", "gap", "learning-rate", "loss"],
            Directory.GetFiles(outDir, "*.csv").Select(f => Path.GetFileName(f).Split('.')[1]).Order());
        Assert.Equal(files.Page.Charts[0].Csv(), File.ReadAllText(Path.Combine(outDir, "compare-run-a-run-b.loss.csv")));
        Assert.Equal(files.Page.Html, File.ReadAllText(files.HtmlPath));
        Assert.Empty(Directory.GetFiles(outDir, ".*.tmp"));
        Assert.Contains("no run 'nope'", Assert.Throws<BasinException>(() => ReportJob.Write(store, ["nope"], false, outDir)).Message);
        var file = Path.Combine(folder, "a-file");
        File.WriteAllText(file, "");
        Assert.Equal($"the output folder {file} is a file",
            Assert.Throws<BasinException>(() => ReportJob.Write(store, ["run-a"], false, file)).Message);
        Assert.Equal("run run-a is named twice",
            Assert.Throws<BasinException>(() => ReportJob.Write(store, ["run-a", "run-a"], true, outDir)).Message);
    }
}
