using Basin.Experiments;
using Basin.Experiments.Sweeps;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.IO;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Basin.Tests.Experiments;

public class SweepStoreTests
{
    static string TempFolder() => Path.Combine(Path.GetTempPath(), "basin-sweepstore-" + Guid.NewGuid().ToString("N")[..12]);

    static IReadOnlyList<SweepPoint> Points(int n) =>
        SweepPlan.Expand(SweepFile.Parse($$"""{ "base": { "dataset": "moons", "model": "mlp:4" }, "axes": { "seed": [{{string.Join(",", Enumerable.Range(1, n))}}] } }""", "s.json", "s"));

    [Fact]
    public void ConcurrentWorkersClaimEveryPointExactlyOnce()
    {
        var folder = TempFolder();
        using (var store = SweepStore.Open(folder)) store.Register("s", Points(40));
        var claimed = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 4, w =>
        {
            using var store = SweepStore.Open(folder);
            while (store.Claim("s", $"w{w}", SweepLease.Default) is { } c) claimed.Add(c.Key);
        });
        Assert.Equal(40, claimed.Count);
        Assert.Equal(40, claimed.Distinct().Count());
        using var check = SweepStore.Open(folder);
        Assert.All(check.Points("s"), p => Assert.Equal(PointStatus.Running, p.Status));
        Assert.Equal(0, check.ReleaseGoneWorkers("s"));   // "w0".."w3" name no process of this host: left to their leases
        Assert.Equal(40, check.Database.ReleaseRunningPoints("s"));
        Assert.All(check.Points("s"), p => Assert.Equal(PointStatus.Pending, p.Status));
    }

    [Fact]
    public void ChangedSweepUnderTheSameNameIsRefusedAndOlderDatabasesGainTheTables()
    {
        var folder = TempFolder();
        using (var runs = RunStore.Open(folder)) { }    // a database as the run store alone writes it
        using (var runs = RunStore.Open(folder))
        {
            var store = runs.Sweeps;
            store.Register("s", Points(2));
            store.Register("s", Points(3));             // same points plus one: fine
            var changed = SweepPlan.Expand(SweepFile.Parse("""{ "base": { "dataset": "moons", "model": "mlp:5" }, "axes": { "seed": [1] } }""", "s.json", "s"));
            Assert.Contains("already in this run database with other settings", Assert.Throws<BasinException>(() => store.Register("s", changed)).Message);
            Assert.Equal(3, store.Points("s").Count);
            runs.StoreMeasure("r1", RunStore.OriginalVariant, "params", double.PositiveInfinity, 0.5, null);
            runs.StoreMeasure("r1", RunStore.OriginalVariant, "path-norm", double.NaN, 0.5, "not defined");
            var m = runs.Measures("r1");
            Assert.Equal(double.PositiveInfinity, m.Single(x => x.Measure == "params").Value);
            Assert.Null(m.Single(x => x.Measure == "path-norm").Value);
        }
        using var reopened = RunStore.Open(folder);       // the run store reads it back
        Assert.Empty(reopened.List());
    }

    [Fact]
    public void DatabaseFromANewerBasinIsRefused()
    {
        var folder = TempFolder();
        Directory.CreateDirectory(folder);
        using (var db = new SqliteConnection($"Data Source={Path.Combine(folder, RunDatabase.FileName)};Pooling=False"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = $"PRAGMA user_version = {RunDatabase.SchemaVersion + 1};";
            cmd.ExecuteNonQuery();
        }
        var e = Assert.Throws<BasinException>(() => SweepStore.Open(folder));
        Assert.Contains("newer Basin", e.Message);
    }
}
