using Basin.Experiments;
using Basin.Experiments.Sweeps;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.IO;
using Xunit;

namespace Basin.Tests.Experiments;

public class RunStoreTests
{
    static string TempFolder() => Path.Combine(Path.GetTempPath(), "basin-store-" + Guid.NewGuid().ToString("N")[..12]);

    sealed record Metrics(int Epoch, double TestAccuracy, double AccuracyGap);

    [Fact]
    public void StoresConfigEpochsAndFinalFiguresAndReadsThemBack()
    {
        var folder = TempFolder();
        using (var store = RunStore.Open(folder))
        {
            store.Start(new RunRecord("20260101-000000-aaaa", "train", new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc), "lenet5", "fashion-mnist", 7,
                """{"epochs":2}""", """{"torchsharp":"0.107.0"}"""));
            store.AddEpoch("20260101-000000-aaaa", 1, new Metrics(1, 0.5, 0.01));
            store.AddEpoch("20260101-000000-aaaa", 2, new Metrics(2, 0.75, 0.02));
            store.AddEpoch("20260101-000000-aaaa", 2, new Metrics(2, 0.8, 0.03)); // resume rewrites an epoch, no duplicate
            store.Finish("20260101-000000-aaaa", RunStatus.Finished, new Metrics(2, 0.8, 0.03));
        }
        using (var store = RunStore.Open(folder))
        {
            var list = store.List();
            Assert.Single(list);
            Assert.Equal(RunStatus.Finished, list[0].Status);
            Assert.Equal(7, list[0].Seed);
            var run = store.Get("20260101");   // unique prefix
            Assert.Equal(2, run.Epochs.Count);
            Assert.Equal(0.8, run.Epochs[1].GetProperty("testAccuracy").GetDouble());
            Assert.Equal(2, run.Config.GetProperty("epochs").GetInt32());
            Assert.Equal("0.107.0", run.Versions.GetProperty("torchsharp").GetString());
            Assert.Equal(0.03, run.Summary.Final!.Value.GetProperty("accuracyGap").GetDouble());
        }
    }

    [Fact]
    public void AmbiguousPrefixAndUnknownIdAreClearErrors()
    {
        using var store = RunStore.Open(TempFolder());
        foreach (var id in new[] { "20260101-000000-aaaa", "20260101-000000-bbbb" })
            store.Start(new RunRecord(id, "train", DateTime.UtcNow, null, null, 1, "{}", "{}"));
        Assert.Contains("ambiguous", Assert.Throws<BasinException>(() => store.Get("20260101")).Message);
        Assert.Contains("no run 'zzz'", Assert.Throws<BasinException>(() => store.Get("zzz")).Message);
        Assert.Contains("no run with id", Assert.Throws<BasinException>(() => store.Finish<object>("zzz", RunStatus.Failed, null)).Message);
    }

    [Fact]
    public void DuplicateRunIdIsRejectedWithoutChangingTheFirst()
    {
        using var store = RunStore.Open(TempFolder());
        store.Start(new RunRecord("x1", "train", DateTime.UtcNow, "a", null, 1, "{}", "{}"));
        Assert.ThrowsAny<Exception>(() => store.Start(new RunRecord("x1", "train", DateTime.UtcNow, "b", null, 2, "{}", "{}")));
        Assert.Equal("a", store.Get("x1").Summary.Model);
    }
}
