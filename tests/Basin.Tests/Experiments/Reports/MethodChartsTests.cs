using System.Globalization;
using Basin.Experiments;
using Basin.Experiments.Reports;
using Basin.Experiments.Training;
using Basin.Training.Methods;
using Xunit;

namespace Basin.Tests.Experiments.Reports;

/// <summary>The charts only some runs have, from hand-made runs: a pruning series, dead-neuron rates, m-coherence, SGLD.</summary>
public class MethodChartsTests
{
    static readonly DateTime Start = new(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    static RunStore Store() => RunStore.Open(Path.Combine(Path.GetTempPath(), "basin-methodcharts-" + Guid.NewGuid().ToString("N")[..12]));

    static void PruneRun(RunStore store, string id, int round, string prune, double sparsity, double test, double? dnr, int minutes)
    {
        store.Start(new RunRecord(id, "prune", Start.AddMinutes(minutes), "mlp:4", "moons", 1,
            $$"""{"method":"imp","source":"dense","round":{{round}},"rounds":2,"prune":{{prune}}}""", "{}"));
        store.AddEpoch(id, 1, new { epoch = 1, trainLoss = 0.5, testLoss = 0.6, dnr = dnr ?? 0.3, dnrExcludingStructural = 0.1 });
        var d = dnr is null ? "null" : $$"""{"overall":{{dnr.Value.ToString("R", CultureInfo.InvariantCulture)}}}""";
        store.Finish(id, RunStatus.Finished, System.Text.Json.JsonDocument.Parse($$"""
            {"round":{{round}},"sparsity":{{sparsity}},"trainAccuracy":0.9,"testAccuracy":{{test}},"dnr":{{d}}}
            """).RootElement);
    }

    [Fact]
    public void APruneRunsReportDrawsItsWholeSeriesFromTheDenseSourceOn()
    {
        using var store = Store();
        store.Start(new RunRecord("dense", "train", Start, "mlp:4", "moons", 1, """{"method":"sgd"}""", "{}"));
        store.Finish("dense", RunStatus.Finished, new { trainAccuracy = 0.95, testAccuracy = 0.85 });
        const string series = """{"rate":0.2,"rounds":2}""";
        PruneRun(store, "r1", 1, series, 0.2, 0.84, 0.25, 1);
        PruneRun(store, "r2-old", 2, series, 0.36, 0.70, 0.4, 2);
        PruneRun(store, "r2", 2, series, 0.36, 0.83, 0.3, 3);                     // the latest run of round 2 wins
        PruneRun(store, "other", 1, """{"rate":0.5,"rounds":2}""", 0.5, 0.5, 0.5, 4);   // another series: left out

        var r = RunReport.Load(store, "r1");
        Assert.Equal([new PruneSeriesRound(0, "dense", 0, 0.95, 0.85, null), new PruneSeriesRound(1, "r1", 0.2, 0.9, 0.84, 0.25),
            new PruneSeriesRound(2, "r2", 0.36, 0.9, 0.83, 0.3)], r.PruneSeries);
        Assert.Equal(0.25, r.Epochs.Single().Dnr);
        Assert.Equal(0.1, r.Epochs.Single().DnrExcludingStructural);

        var page = ReportPage.Build([r], false, Start, "p");
        Assert.Contains(page.Charts, c => c.Id == "dnr");
        Assert.Equal(["pruning-accuracy", "pruning-dnr"], page.MethodCharts.Select(c => c.Id));
        Assert.Equal("round,run,sparsity,series,value\n0,dense,0,train,0.95\n0,dense,0,test,0.85\n1,r1,0.2,train,0.9\n" +
            "1,r1,0.2,test,0.84\n2,r2,0.36,train,0.9\n2,r2,0.36,test,0.83\n", page.MethodCharts[0].Csv());
        Assert.Equal("round,run,sparsity,dnr\n1,r1,0.2,0.25\n2,r2,0.36,0.3\n", page.MethodCharts[1].Csv());
        Assert.Contains("id=\"chart-pruning-accuracy\"", page.Html);

        // Rounds recorded with a series id match by it, whatever their settings say.
        store.Start(new RunRecord("s1", "prune", Start.AddMinutes(5), "mlp:4", "moons", 1,
            """{"method":"imp","source":"dense","series":"s1","round":1,"prune":{"rate":0.2}}""", "{}"));
        store.Finish("s1", RunStatus.Finished, new { sparsity = 0.2, trainAccuracy = 0.9, testAccuracy = 0.8 });
        store.Start(new RunRecord("s2", "prune", Start.AddMinutes(6), "mlp:4", "moons", 1,
            """{"method":"imp","source":"dense","series":"s1","round":2,"prune":{"rate":0.2,"resume":"s1"}}""", "{}"));
        store.Finish("s2", RunStatus.Finished, new { sparsity = 0.36, trainAccuracy = 0.9, testAccuracy = 0.7 });
        Assert.Equal(["dense", "s1", "s2"], RunReport.Load(store, "s2").PruneSeries.Select(x => x.RunId));
        // Per epoch only losses and dead-neuron rates were stored: the loss gap follows from the losses (test − train).
        Assert.Equal(0.6 - 0.5, r.Epochs.Single().Gap);
        Assert.Null(r.Epochs.Single().AccuracyGap);
        Assert.Equal(["loss", "gap", "dnr", "pruning-accuracy", "pruning-dnr"], ((IReportPage)page).Charts.Select(c => c.Id));
    }

    [Fact]
    public void CoherenceAndAnSgldEnsembleAreDrawnFromTheRunFolder()
    {
        using var store = Store();
        store.Start(new RunRecord("sgld", "train", Start, "mlp:4", "moons", 1, """{"method":"sgld"}""", "{}"));
        store.Finish("sgld", RunStatus.Finished, new { testAccuracy = 0.8 });
        var folder = store.RunFolder("sgld");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, TrainingJob.CoherenceFile), "epoch,step,examples,m_coherence\n1,10,64,1.5\n2,20,64,2.25\n");
        var ensemble = new EnsembleEvaluation([new PredictiveScore("sample-0000", 0.7, 0.75), new PredictiveScore("sample-0001", 0.6, 0.8)],
            new PredictiveScore("ensemble", 0.5, 0.85), 2);
        File.WriteAllText(Path.Combine(folder, TrainingJob.EnsembleFile), Basin.IO.Json.Serialize(ensemble));

        var r = RunReport.Load(store, "sgld");
        Assert.Equal([new CoherencePoint(1, 10, 64, 1.5), new CoherencePoint(2, 20, 64, 2.25)], r.Coherence);
        Assert.Equal(0.5, r.Ensemble!.Ensemble.LogLoss);
        var page = ReportPage.Build([r], false, Start, "s");
        Assert.Equal(["m-coherence", "ensemble"], page.MethodCharts.Select(c => c.Id));
        Assert.Equal("epoch,step,examples,value\n1,10,64,1.5\n2,20,64,2.25\n", page.MethodCharts[0].Csv());
        Assert.Equal("member,name,kind,logLoss,accuracy\n1,sample-0000,member,0.7,0.75\n2,sample-0001,member,0.6,0.8\n" +
            ",ensemble,ensemble,0.5,0.85\n", page.MethodCharts[1].Csv());

        File.WriteAllText(Path.Combine(folder, TrainingJob.CoherenceFile), "epoch,step,examples,m_coherence\n1,10,64,1.5\nbroken\n");
        r = RunReport.Load(store, "sgld");
        Assert.Single(r.Coherence);
        Assert.Contains(r.Notes, n => n.EndsWith("has a line that is not 'epoch,step,examples,m_coherence': the m-coherence curve " +
            "stops before it", StringComparison.Ordinal));
    }
}
